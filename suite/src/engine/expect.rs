//! The expectations: what must come next in an [`Inbox`] (a packet, a frame, a control frame,
//! the close, or nothing for a while), and what an HTTP message must look like. Every
//! expectation on an inbox reads it through [`next_item`], by a [`StepClock`]'s deadline, and
//! says what came instead in the same words.
//!
//! They judge what the engine received, whatever its role: the inbox of a session, of a raw
//! WebSocket, or of a connection the engine accepted.

use super::clock::StepClock;
use super::error::{millis, StepError};
use super::http::{self, HttpResponse};
use super::inbox::{Control, Inbox, Incoming, Next};
use super::matching::{match_body, match_data, MatchError};
use super::transcript::WireData;
use super::vars::Vars;
use crate::protocol::engine_io::PacketType;
use crate::protocol::socket_io;
use crate::scenario::{Data, Pattern, ResponseExpect, StatusExpect};

/// Headers expected by name; `None`: absent.
pub(crate) type HeaderExpect = std::collections::BTreeMap<String, Option<Pattern>>;

/// The next item of `inbox`, waiting until the clock's deadline; `None` when nothing came by
/// then.
pub(crate) async fn next_item(inbox: &mut Inbox, clock: &StepClock) -> Option<Incoming> {
    match inbox.next(clock.deadline()).await {
        Next::Item(item) => Some(item),
        Next::Timeout => None,
    }
}

/// What came, for messages: the packet or frame, the control frame, or how the peer closed.
pub(crate) fn describe(item: &Incoming) -> String {
    match item {
        Incoming::Data(data) => describe_data(data),
        Incoming::Control(control, payload) => describe_control(*control, payload),
        Incoming::Closed(closure) => closure.detail.clone(),
    }
}

/// A packet or frame, for messages.
pub(crate) fn describe_data(data: &Data) -> String {
    WireData::frame(data).to_string()
}

fn describe_control(control: Control, payload: &[u8]) -> String {
    format!(
        "a {} control frame {}",
        control.as_str(),
        WireData::body(payload)
    )
}

/// A match's outcome as a step's: a mismatch is unmet, with `actual` and why.
pub(crate) fn matched(
    result: Result<(), MatchError>,
    expected: String,
    actual: String,
) -> Result<(), StepError> {
    match result {
        Ok(()) => Ok(()),
        Err(MatchError::Mismatch(why)) => {
            Err(StepError::unmet(expected, format!("{actual}: {why}")))
        }
        Err(MatchError::Invalid(error)) => Err(error),
    }
}

/// The next item must be data matching `pattern` (`what` names it: `packet`, `frame`).
pub(crate) async fn expect_data(
    inbox: &mut Inbox,
    pattern: &Pattern,
    vars: &mut Vars,
    clock: &StepClock,
    what: &str,
) -> Result<(), StepError> {
    let expected = format!("a {what} {pattern}");
    match next_item(inbox, clock).await {
        Some(Incoming::Data(data)) => {
            let actual = describe_data(&data);
            matched(match_data(pattern, &data, vars), expected, actual)
        }
        Some(other) => Err(StepError::unmet(expected, describe(&other))),
        None => Err(clock.nothing(expected)),
    }
}

/// The next item must be a `control` frame whose application data matches `pattern`.
pub(crate) async fn expect_control(
    inbox: &mut Inbox,
    control: Control,
    pattern: &Pattern,
    vars: &mut Vars,
    clock: &StepClock,
) -> Result<(), StepError> {
    let expected = format!("a {} control frame {pattern}", control.as_str());
    match next_item(inbox, clock).await {
        Some(Incoming::Control(came, payload)) if came == control => matched(
            match_body(pattern, &payload, vars),
            expected,
            describe_control(came, &payload),
        ),
        Some(other) => Err(StepError::unmet(expected, describe(&other))),
        None => Err(clock.nothing(expected)),
    }
}

/// The answer to a CONNECT: the first CONNECT or CONNECT_ERROR packet for `namespace` must
/// match `pattern`. Packets before it (events the peer emits on connection ahead of its answer)
/// are kept, in order, for the next steps; whether the answer comes first is a scenario's own
/// check.
pub(crate) async fn expect_connect_answer(
    inbox: &mut Inbox,
    namespace: &str,
    pattern: &Pattern,
    vars: &mut Vars,
    clock: &StepClock,
) -> Result<(), StepError> {
    let expected = format!("a CONNECT answer {pattern}");
    let mut others = Vec::new();
    let result = loop {
        match next_item(inbox, clock).await {
            Some(Incoming::Data(data)) if is_connect_answer(&data, namespace) => {
                let actual = describe_data(&data);
                break matched(match_data(pattern, &data, vars), expected, actual);
            }
            Some(Incoming::Closed(closure)) => {
                let detail = closure.detail.clone();
                others.push(Incoming::Closed(closure));
                break Err(StepError::unmet(expected, detail));
            }
            Some(other) => others.push(other),
            None => break Err(clock.nothing(expected)),
        }
    };
    inbox.put_back(others);
    result
}

/// Whether `data` is a CONNECT or CONNECT_ERROR for `namespace`.
fn is_connect_answer(data: &Data, namespace: &str) -> bool {
    let Data::Text(text) = data else {
        return false;
    };
    socket_io::decode_message(text).is_ok_and(|packet| {
        matches!(
            packet.kind,
            socket_io::PacketType::Connect | socket_io::PacketType::ConnectError
        ) && packet.nsp == namespace
    })
}

/// The next items must be data matching `patterns`, in any order.
pub(crate) async fn expect_unordered(
    inbox: &mut Inbox,
    patterns: &[Pattern],
    vars: &mut Vars,
    clock: &StepClock,
) -> Result<(), StepError> {
    let mut remaining: Vec<&Pattern> = patterns.iter().collect();
    while !remaining.is_empty() {
        let expected = format!(
            "packets, in any order: {}",
            remaining
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let data = match next_item(inbox, clock).await {
            Some(Incoming::Data(data)) => data,
            Some(other) => return Err(StepError::unmet(expected, describe(&other))),
            None => return Err(clock.nothing(expected)),
        };
        let position = remaining
            .iter()
            .position(|pattern| match_data(pattern, &data, vars).is_ok());
        match position {
            Some(index) => {
                remaining.remove(index);
            }
            None => return Err(StepError::unmet(expected, describe_data(&data))),
        }
    }
    Ok(())
}

/// Nothing may arrive for `duration` (`what` names what may not: `packet`, `frame`).
pub(crate) async fn expect_silence(
    inbox: &mut Inbox,
    duration: std::time::Duration,
    what: &str,
) -> Result<(), StepError> {
    let clock = StepClock::lasting(duration);
    let expected = format!("no {what} for {}", millis(duration));
    let actual = match next_item(inbox, &clock).await {
        None => return Ok(()),
        Some(Incoming::Closed(closure)) => format!(
            "closed after {}: {}",
            millis(clock.waited()),
            closure.detail
        ),
        Some(other) => format!("{} after {}", describe(&other), millis(clock.waited())),
    };
    Err(StepError::unmet(expected, actual))
}

/// The next item must be the close (any close: a close frame, a close packet, the end of the
/// connection).
pub(crate) async fn expect_closed(
    inbox: &mut Inbox,
    clock: &StepClock,
    expected: &str,
) -> Result<(), StepError> {
    match next_item(inbox, clock).await {
        Some(Incoming::Closed(_)) => clock.check_min(),
        Some(other) => Err(StepError::unmet(
            expected,
            format!("{} first", describe(&other)),
        )),
        None => Err(clock.nothing(expected)),
    }
}

/// The next item must be a close frame with `code` (1005: a close frame without a code): a
/// close without a close frame does not meet it.
pub(crate) async fn expect_close_frame(
    inbox: &mut Inbox,
    clock: &StepClock,
    code: u16,
) -> Result<(), StepError> {
    let expected = format!("the WebSocket closed by a close frame with code {code}");
    match next_item(inbox, clock).await {
        Some(Incoming::Closed(closure)) if closure.code == Some(code) => clock.check_min(),
        Some(Incoming::Closed(closure)) => Err(StepError::unmet(expected, closure.detail)),
        Some(other) => Err(StepError::unmet(
            expected,
            format!("{} first", describe(&other)),
        )),
        None => Err(clock.nothing(expected)),
    }
}

/// Lets the noop packets `6` at the front of `inbox` pass, waiting until the clock's deadline
/// for the first other item, which stays in the inbox.
pub(crate) async fn skip_noops(inbox: &mut Inbox, clock: &StepClock) {
    while let Some(item) = next_item(inbox, clock).await {
        if !matches!(&item, Incoming::Data(packet) if PacketType::Noop.is_bare(packet)) {
            inbox.put_back(vec![item]);
            return;
        }
    }
}

/// Lets one close packet `1` at the front of `inbox` pass, waiting until the clock's deadline
/// for the first item; anything else stays in the inbox.
pub(crate) async fn skip_close_packet(inbox: &mut Inbox, clock: &StepClock) {
    match next_item(inbox, clock).await {
        Some(Incoming::Data(packet)) if PacketType::Close.is_bare(&packet) => {}
        Some(other) => inbox.put_back(vec![other]),
        None => {}
    }
}

/// An HTTP response must meet `expect`: its status, its headers, its body.
pub(crate) fn check_response(
    expect: &ResponseExpect,
    response: &HttpResponse,
    vars: &mut Vars,
) -> Result<(), StepError> {
    if let Some(status) = &expect.status {
        if !status.accepts(response.status) {
            return Err(StepError::unmet(
                format!("status {}", describe_expected_status(status)),
                response.describe(),
            ));
        }
    }
    check_headers(&expect.headers, &response.headers, vars)?;
    if let Some(pattern) = &expect.body {
        matched(
            match_body(pattern, &response.body, vars),
            format!("a body {pattern}"),
            response.describe(),
        )?;
    }
    Ok(())
}

/// Each expected header present and matching, or absent where `None`; names are
/// case-insensitive.
pub(crate) fn check_headers(
    expected: &HeaderExpect,
    headers: &[(String, String)],
    vars: &mut Vars,
) -> Result<(), StepError> {
    for (name, pattern) in expected {
        match (pattern, http::header(headers, name)) {
            (None, None) => {}
            (None, Some(value)) => {
                return Err(StepError::unmet(
                    format!("no {name} header"),
                    format!("{name}: {value}"),
                ))
            }
            (Some(pattern), None) => {
                return Err(StepError::unmet(
                    format!("a {name} header {pattern}"),
                    "no such header",
                ))
            }
            (Some(pattern), Some(value)) => matched(
                match_body(pattern, value.as_bytes(), vars),
                format!("a {name} header {pattern}"),
                format!("{name}: {value}"),
            )?,
        }
    }
    Ok(())
}

fn describe_expected_status(status: &StatusExpect) -> String {
    match status {
        StatusExpect::One(status) => status.to_string(),
        StatusExpect::AnyOf(statuses) => format!("one of {statuses:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    /// An inbox holding `items`, whose sender stays open.
    fn inbox(items: &[Incoming]) -> (tokio::sync::mpsc::UnboundedSender<Incoming>, Inbox) {
        let (sender, inbox) = Inbox::new();
        for item in items {
            sender.send(item.clone()).expect("the inbox is open");
        }
        (sender, inbox)
    }

    fn soon() -> StepClock {
        StepClock::lasting(Duration::from_millis(20))
    }

    #[tokio::test]
    async fn data_is_matched_and_anything_else_described() {
        let (_sender, mut inbox) = inbox(&[
            Incoming::Data(text("4hello")),
            Incoming::Control(Control::Ping, b"beat".to_vec()),
            Incoming::closed("a close packet 1"),
        ]);
        let mut vars = Vars::default();
        let hello = Pattern::Text("4hello".to_owned());
        let clock = soon();
        assert_eq!(
            expect_data(&mut inbox, &hello, &mut vars, &clock, "packet").await,
            Ok(())
        );
        let failure = expect_data(&mut inbox, &hello, &mut vars, &clock, "packet").await;
        assert_eq!(
            failure,
            Err(StepError::unmet(
                "a packet \"4hello\"",
                "a ping control frame \"beat\""
            ))
        );
        let failure = expect_data(&mut inbox, &hello, &mut vars, &clock, "packet").await;
        assert_eq!(
            failure,
            Err(StepError::unmet("a packet \"4hello\"", "a close packet 1"))
        );
    }

    #[tokio::test]
    async fn nothing_by_the_deadline_says_how_long_it_waited() {
        let (_sender, mut inbox) = inbox(&[]);
        let failure = expect_closed(&mut inbox, &soon(), "the session closed").await;
        let Err(StepError::Unmet { expected, actual }) = failure else {
            panic!("{failure:?}");
        };
        assert_eq!(expected, "the session closed");
        assert!(actual.starts_with("nothing within"), "{actual}");
    }

    #[tokio::test]
    async fn a_silence_holds_until_something_comes() {
        let (sender, mut inbox) = inbox(&[]);
        let silence = Duration::from_millis(10);
        assert_eq!(expect_silence(&mut inbox, silence, "frame").await, Ok(()));
        sender.send(Incoming::Data(text("4x"))).expect("open");
        let failure = expect_silence(&mut inbox, silence, "frame").await;
        let Err(StepError::Unmet { expected, actual }) = failure else {
            panic!("{failure:?}");
        };
        assert_eq!(expected, "no frame for 10 ms");
        assert!(actual.starts_with("\"4x\" after"), "{actual}");
    }

    #[tokio::test]
    async fn the_connect_answer_leaves_what_came_before_it_in_order() {
        let (_sender, mut inbox) = inbox(&[
            Incoming::Data(text(r#"42["welcome"]"#)),
            Incoming::Data(text(r#"40/other,{"sid":"x"}"#)),
            Incoming::Data(text(r#"40{"sid":"abc"}"#)),
            Incoming::Data(text("4after")),
        ]);
        let mut vars = Vars::default();
        let pattern = Pattern::Sio(serde_json::json!({
            "type": 0, "nsp": "/", "data": {"sid": {"$capture": "sid"}}
        }));
        let clock = soon();
        let answer = expect_connect_answer(&mut inbox, "/", &pattern, &mut vars, &clock).await;
        assert_eq!(answer, Ok(()));
        assert_eq!(vars.get("sid"), Ok(&serde_json::Value::from("abc")));
        for kept in [r#"42["welcome"]"#, r#"40/other,{"sid":"x"}"#, "4after"] {
            let pattern = Pattern::Text(kept.to_owned());
            assert_eq!(
                expect_data(&mut inbox, &pattern, &mut vars, &clock, "packet").await,
                Ok(()),
                "{kept}"
            );
        }
    }

    #[tokio::test]
    async fn unordered_packets_match_in_any_order() {
        let (_sender, mut inbox) = inbox(&[Incoming::Data(text("4b")), Incoming::Data(text("4a"))]);
        let patterns = [
            Pattern::Text("4a".to_owned()),
            Pattern::Text("4b".to_owned()),
        ];
        let mut vars = Vars::default();
        assert_eq!(
            expect_unordered(&mut inbox, &patterns, &mut vars, &soon()).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn skipping_lets_noops_and_one_close_packet_pass_and_keeps_the_rest() {
        let (_sender, mut inbox) = inbox(&[
            Incoming::Data(text("6")),
            Incoming::Data(text("6")),
            Incoming::Data(text("1")),
            Incoming::Data(text("1")),
        ]);
        let clock = soon();
        skip_noops(&mut inbox, &clock).await;
        skip_close_packet(&mut inbox, &clock).await;
        skip_noops(&mut inbox, &clock).await;
        let mut vars = Vars::default();
        let close = Pattern::Text("1".to_owned());
        assert_eq!(
            expect_data(&mut inbox, &close, &mut vars, &clock, "frame").await,
            Ok(())
        );
    }

    #[test]
    fn headers_are_present_and_matching_or_absent() {
        let headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
        let mut vars = Vars::default();
        let mut expected = HeaderExpect::new();
        expected.insert(
            "content-type".to_owned(),
            Some(Pattern::Regex("text/.*".to_owned())),
        );
        assert_eq!(check_headers(&expected, &headers, &mut vars), Ok(()));
        expected.insert("set-cookie".to_owned(), None);
        assert_eq!(check_headers(&expected, &headers, &mut vars), Ok(()));
        expected.insert("x-missing".to_owned(), Some(Pattern::Any));
        assert_eq!(
            check_headers(&expected, &headers, &mut vars),
            Err(StepError::unmet(
                "a x-missing header anything",
                "no such header"
            ))
        );
    }
}
