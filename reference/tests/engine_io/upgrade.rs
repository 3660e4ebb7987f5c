//! The upgrade from polling to WebSocket (behaviors UP): probe, noop, upgrade, the packets
//! queued meanwhile, the timeout, and every WebSocket the spec says to close.

use sio_reference::server::engine_io::TransportKind;

use crate::support::*;

#[tokio::test]
async fn probe_then_upgrade_moves_the_session_to_websocket() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    let pending = held_poll(address, &sid, &socket).await;

    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    // The pending GET is released with a noop.
    assert_eq!(payload(&within(pending).await.unwrap()), "6");
    // A GET during the upgrade is released at once too.
    assert_eq!(payload(&poll(address, &sid).await), "6");
    assert_eq!(socket.transport(), TransportKind::Polling);

    ws_send(&mut ws, "5").await;
    ws_send(&mut ws, "4over websocket").await;
    assert_eq!(recv(&mut socket).await, Some(text("over websocket")));
    assert_eq!(socket.transport(), TransportKind::WebSocket);
    socket.send(text("back")).unwrap();
    assert_eq!(next_text(&mut ws).await, "4back");

    // Polling is over for this session (UP-10).
    poll(address, &sid).await.assert_error(3, "Bad request");
    send(address, &sid, "4x")
        .await
        .assert_error(3, "Bad request");
}

#[tokio::test]
async fn packets_queued_during_the_upgrade_arrive_once_in_order_on_the_websocket() {
    let (address, sid, socket) = polling_session(quiet()).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    socket.send(text("one")).unwrap();
    socket.send(text("two")).unwrap();
    ws_send(&mut ws, "5").await;
    socket.send(text("three")).unwrap();
    assert_eq!(next_text(&mut ws).await, "4one");
    assert_eq!(next_text(&mut ws).await, "4two");
    assert_eq!(next_text(&mut ws).await, "4three");
}

#[tokio::test]
async fn without_an_upgrade_packet_the_probe_is_closed_after_upgrade_timeout() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert_closed(&mut ws).await;
    // The session carries on over polling (UP-07).
    assert_ok(&send(address, &sid, "4still polling").await);
    assert_eq!(payload(&poll(address, &sid).await), "4still polling");
}

#[tokio::test]
async fn an_upgrade_without_a_probe_is_refused() {
    // SPEC-FAITHFUL: the official server accepts `5` without `2probe` (UP-05).
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "5").await;
    assert_closed(&mut ws).await;
    assert_ok(&send(address, &sid, "4polling").await);
    assert_eq!(payload(&poll(address, &sid).await), "4polling");
}

#[tokio::test]
async fn any_other_first_packet_ends_the_probe() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    for first in ["4hello", "2", "abc"] {
        let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
        ws_send(&mut ws, first).await;
        assert_closed(&mut ws).await;
    }
    assert_ok(&send(address, &sid, "4polling").await);
    assert_eq!(payload(&poll(address, &sid).await), "4polling");
}

#[tokio::test]
async fn a_second_websocket_during_the_upgrade_is_accepted_then_closed() {
    // As on the official server (UP-08).
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    let mut second = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    assert_closed(&mut second).await;
    // The first one still upgrades.
    probe_and_upgrade(&mut ws).await;
    ws_send(&mut ws, "4done").await;
    assert_eq!(next_text(&mut ws).await, "4done");
}

#[tokio::test]
async fn a_second_websocket_after_the_upgrade_is_accepted_then_closed() {
    // As on the official server (UP-09), which the official test suite requires.
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    probe_and_upgrade(&mut ws).await;
    ws_send(&mut ws, "4upgraded").await;
    assert_eq!(next_text(&mut ws).await, "4upgraded");
    let mut second = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    assert_closed(&mut second).await;
    ws_send(&mut ws, "4still here").await;
    assert_eq!(next_text(&mut ws).await, "4still here");
}

#[tokio::test]
async fn a_second_websocket_for_a_websocket_session_is_accepted_then_closed() {
    // SPEC-FAITHFUL: the official server lets it take the session over (UP-11).
    let address = start(quiet()).await;
    let (mut ws, open) = ws_handshake(address).await;
    let sid = sid_of(&open);
    let mut second = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    assert_closed(&mut second).await;
    ws_send(&mut ws, "4first").await;
    assert_eq!(next_text(&mut ws).await, "4first");
}

#[tokio::test]
async fn no_upgrade_when_upgrades_are_not_allowed() {
    // SPEC-FAITHFUL: the official server probes and upgrades anyway (UP-12).
    let address = start(sio_reference::server::engine_io::Config {
        allow_upgrades: false,
        ..quiet()
    })
    .await;
    let sid = handshake(address).await;
    assert_eq!(
        ws_connect(address, &upgrade_query(&sid)).await.err(),
        Some(400)
    );
}
