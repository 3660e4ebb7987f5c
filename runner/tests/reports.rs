//! The report formats, pinned by snapshots of one small fixed run: a case of every verdict,
//! a regression, a non-pass the baseline expects, an unexpected pass and an unused baseline
//! entry, with text that needs escaping. Everything is built by hand, so nothing varies
//! (no ports, sids, timestamps or timings).

use std::time::Duration;

use sio_runner::baseline::{judge, Expectation};
use sio_runner::report::{self, Format, Report, ReportedCase};
use sio_suite::engine::{CaseResult, Event, EventKind, Failure, Transcript, Verdict, WireData};
use sio_suite::scenario::Level;

fn event(at_ms: u64, channel: &str, kind: EventKind) -> Event {
    Event {
        at: Duration::from_micros(at_ms * 100),
        actor: "client".to_owned(),
        channel: channel.to_owned(),
        kind,
    }
}

fn step(at_ms: u64, number: usize, keyword: &str) -> Event {
    event(
        at_ms,
        "step",
        EventKind::Step {
            number,
            keyword: keyword.to_owned(),
        },
    )
}

fn get(at_ms: u64, channel: &str, target: &str) -> Event {
    event(
        at_ms,
        channel,
        EventKind::HttpRequest {
            method: "GET".to_owned(),
            target: target.to_owned(),
            headers: vec![("Host".to_owned(), "127.0.0.1:PORT".to_owned())],
            body: WireData::Text(String::new()),
        },
    )
}

fn response(at_ms: u64, channel: &str, status: u16, body: &str) -> Event {
    event(
        at_ms,
        channel,
        EventKind::HttpResponse {
            status,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: WireData::Text(body.to_owned()),
        },
    )
}

fn result(
    id: &str,
    verdict: Verdict,
    failure: Option<Failure>,
    events: Vec<Event>,
    ms: u64,
) -> CaseResult {
    CaseResult {
        id: id.to_owned(),
        verdict,
        failure,
        transcript: Transcript { events },
        elapsed: Duration::from_millis(ms),
    }
}

fn failure(step: Option<usize>, keyword: Option<&str>, expected: &str, actual: &str) -> Failure {
    Failure {
        step,
        keyword: keyword.map(str::to_owned),
        actor: keyword.map(|_| "client".to_owned()),
        expected: expected.to_owned(),
        actual: actual.to_owned(),
        requirement: None,
    }
}

fn reported(
    result: CaseResult,
    title: &str,
    level: Level,
    expected: Option<Expectation>,
) -> ReportedCase {
    ReportedCase {
        outcome: judge(result.verdict, expected.as_ref()),
        result,
        title: title.to_owned(),
        level,
        expected,
    }
}

fn expectation(case: &str, verdict: Verdict, reason: &str) -> Expectation {
    Expectation {
        case: case.to_owned(),
        verdict,
        also: Vec::new(),
        reason: reason.to_owned(),
    }
}

fn fixed_report() -> Report {
    let duplicate_get = {
        let mut failure = failure(
            Some(4),
            Some("request"),
            "status 400",
            "200 \"6\u{1e}4<b>&amp;\"",
        );
        failure.requirement = Some(
            "engine.io-protocol, Receiving data: \"Should it happen, the server MUST return an \
             HTTP 400 error status and close the session.\""
                .to_owned(),
        );
        result(
            "eio4/polling/duplicate-get",
            Verdict::Fail,
            Some(failure),
            vec![
                step(1, 1, "request"),
                get(2, "http#1", "/engine.io/?EIO=4&transport=polling"),
                response(9, "http#1", 200, "0{\"sid\":\"SID\",\"pingInterval\":300}"),
                step(10, 4, "request"),
                get(11, "http#2", "/engine.io/?EIO=4&transport=polling&sid=SID"),
                response(15, "http#2", 200, "6\u{1e}4<b>&amp;"),
            ],
            62,
        )
    };
    let pong_timeout = {
        let mut failure = failure(
            Some(3),
            Some("closed"),
            "the session closed within pingTimeout + 100ms",
            "still open after 300 ms",
        );
        failure.requirement = Some(
            "engine.io-protocol, Heartbeat: \"… the server SHOULD close the session\"".to_owned(),
        );
        result(
            "eio4/heartbeat/pong-timeout[websocket]",
            Verdict::NonStrict,
            Some(failure),
            vec![
                event(
                    5,
                    "ws",
                    EventKind::WsRequest {
                        target: "/engine.io/?EIO=4&transport=websocket".to_owned(),
                    },
                ),
                event(8, "ws", EventKind::WsAccepted),
                event(
                    3001,
                    "ws",
                    EventKind::FrameReceived {
                        frame: WireData::Text("2".to_owned()),
                    },
                ),
            ],
            812,
        )
    };
    let close_packet = result(
        "eio4/close/close-packet[polling]",
        Verdict::Informational,
        Some(failure(Some(3), Some("request"), "status 400", "200 \"1\"")),
        vec![event(
            3,
            "session",
            EventKind::Note {
                text: "the official server answers 400 here".to_owned(),
            },
        )],
        7,
    );
    let probe = result(
        "eio4/upgrade/probe",
        Verdict::Unsupported,
        Some(failure(
            None,
            None,
            "the features the case needs",
            "the target does not declare the feature Upgrade",
        )),
        Vec::new(),
        0,
    );
    let echo_polling = result(
        "eio4/message/echo-text[polling]",
        Verdict::Error,
        Some(failure(
            Some(1),
            Some("open"),
            "a reachable target",
            "connection refused",
        )),
        vec![
            step(0, 1, "open"),
            event(
                1,
                "http#1",
                EventKind::HttpFailed {
                    error: "connection refused".to_owned(),
                },
            ),
        ],
        1,
    );
    let echo_websocket = result(
        "eio4/message/echo-text[websocket]",
        Verdict::Pass,
        None,
        vec![
            event(
                4,
                "ws",
                EventKind::FrameSent {
                    frame: WireData::Text("4hello".to_owned()),
                },
            ),
            event(
                6,
                "ws",
                EventKind::FrameReceived {
                    frame: WireData::Binary(vec![1, 2, 3, 4]),
                },
            ),
        ],
        3,
    );
    let polling_open = result(
        "eio4/handshake/polling-open",
        Verdict::Pass,
        None,
        vec![get(1, "http#1", "/engine.io/?EIO=4&transport=polling")],
        4,
    );
    let cases = vec![
        reported(
            polling_open,
            "A polling handshake is answered with an open packet",
            Level::Must,
            None,
        ),
        reported(
            duplicate_get,
            "A second GET while one is pending gets 400 and closes the session",
            Level::Must,
            None,
        ),
        reported(
            pong_timeout,
            "A session whose ping is not answered is closed after pingTimeout",
            Level::Should,
            Some(expectation(
                "eio4/heartbeat/pong-timeout",
                Verdict::NonStrict,
                "closes on the next ping instead (issue #12)",
            )),
        ),
        reported(
            close_packet,
            "A close packet from the client closes the session",
            Level::Implementation,
            None,
        ),
        reported(probe, "The upgrade probe is answered", Level::Must, None),
        reported(
            echo_polling,
            "A text message's echo comes back",
            Level::Must,
            None,
        ),
        reported(
            echo_websocket,
            "A text message's echo comes back",
            Level::Must,
            Some(expectation(
                "eio4/message/echo-text[websocket]",
                Verdict::Fail,
                "fixed | in 2.0 <maybe>",
            )),
        ),
    ];
    Report {
        target: "http://127.0.0.1:PORT (a server under test)".to_owned(),
        time_scale: 1.5,
        jobs: 4,
        wall: Duration::from_millis(1234),
        baseline: Some("profiles/example.baseline.yaml".to_owned()),
        cases,
        unused_baseline: vec![expectation("eio3/*", Verdict::Unsupported, "no allowEIO3")],
        replay: Some("sio-conformance run --target http://127.0.0.1:PORT".to_owned()),
    }
}

#[test]
fn the_fixed_run_fails_on_its_unexpected_error() {
    let report = fixed_report();
    assert_eq!(report.status().code(), 2);
}

#[test]
fn pretty() {
    insta::assert_snapshot!(report::render(&fixed_report(), Format::Pretty, false));
}

#[test]
fn pretty_in_colour_only_wraps_in_ansi_codes() {
    let report = fixed_report();
    let coloured = report::render(&report, Format::Pretty, true);
    assert!(coloured.contains("\x1b[1;31mFAIL"));
    let stripped = strip_ansi(&coloured);
    assert_eq!(stripped, report::render(&report, Format::Pretty, false));
}

#[test]
fn json_lines() {
    let text = report::render(&fixed_report(), Format::Json, false);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        assert!(value["type"] == "case" || value["type"] == "summary");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn junit() {
    insta::assert_snapshot!(report::render(&fixed_report(), Format::Junit, false));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(report::render(&fixed_report(), Format::Markdown, false));
}

#[test]
fn html() {
    let text = report::render(&fixed_report(), Format::Html, false);
    assert_only_our_markup(&text);
    insta::assert_snapshot!(text);
}

#[test]
fn html_escapes_ids_and_wire_bytes() {
    let mut report = fixed_report();
    let id = "eio4/polling/<script>alert(\"x\")</script>";
    let body = "6\u{1e}4a & b\u{1e}<i>";
    let case = result(
        id,
        Verdict::Fail,
        Some(failure(Some(1), Some("request"), "status 400", body)),
        vec![step(1, 1, "request"), response(2, "http#1", 200, body)],
        5,
    );
    report
        .cases
        .push(reported(case, "<b>bold</b> & co", Level::Must, None));
    let text = report::render(&report, Format::Html, false);
    assert_only_our_markup(&text);
    assert!(!text.contains("<script"), "{text}");
    assert!(!text.contains("<i>") && !text.contains("<b>bold"));
    assert!(text
        .contains("<code>eio4/polling/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</code>"));
    assert!(text.contains("&lt;b&gt;bold&lt;/b&gt; &amp; co"));
    assert!(text.contains(
        "<pre>6<span class=\"c\">\\u{1e}</span>4a &amp; b<span class=\"c\">\\u{1e}</span>&lt;i&gt;</pre>"
    ));
    assert!(
        !text.contains('\u{1e}'),
        "the record separator is shown, not written"
    );
    assert!(
        text.contains("id=\"case-eio4/polling/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\"")
    );
    assert!(text.contains(
        "href=\"#case-eio4/polling/%3Cscript%3Ealert%28%22x%22%29%3C/script%3E:step-1\""
    ));
}

/// Every `<` of the page opens or closes an element the HTML format writes, every link goes to
/// an `id` of the page, and no control character but newline and tab is written: nothing from
/// the run reaches the page as markup, and nothing is fetched.
fn assert_only_our_markup(text: &str) {
    let elements = "!DOCTYPE html head meta title style body h1 h2 table tr th td p span code a \
                    section details summary strong div pre blockquote ul li";
    let elements: Vec<&str> = elements.split_whitespace().collect();
    for (index, _) in text.match_indices('<') {
        let rest = &text[index + 1..];
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        let context: String = rest.chars().take(40).collect();
        assert!(
            elements.contains(&name.as_str()),
            "unexpected markup: <{context}"
        );
    }
    let ids: Vec<String> = attributes(text, "id").into_iter().map(unescape).collect();
    for link in attributes(text, "href") {
        let target = link.strip_prefix('#').expect("links stay in the page");
        assert!(
            ids.contains(&percent_decode(target)),
            "no id for the link {link}"
        );
    }
    assert!(!text.contains(" src="), "nothing is fetched");
    assert!(
        text.chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control()),
        "a control character is written"
    );
}

/// The values of an attribute, as written (`name="…"`).
fn attributes<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!(" {name}=\"");
    text.match_indices(&start)
        .map(|(index, _)| {
            let value = &text[index + start.len()..];
            &value[..value.find('"').expect("attributes are closed")]
        })
        .collect()
}

/// The text of an attribute value with the character references the HTML format writes.
fn unescape(value: &str) -> String {
    value
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn percent_decode(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).expect("ASCII");
            bytes.push(u8::from_str_radix(hex, 16).expect("a percent escape"));
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).expect("UTF-8")
}

#[test]
fn a_clean_run_is_as_expected() {
    let mut report = fixed_report();
    report
        .cases
        .retain(|case| case.verdict() == Verdict::Pass && case.expected.is_none());
    report.unused_baseline.clear();
    assert_eq!(report.status().code(), 0);
    let text = report::render(&report, Format::Pretty, false);
    assert!(text.ends_with("result: as expected (exit 0)\n"), "{text}");
}

#[test]
fn a_regression_or_an_unexpected_pass_fails_the_run() {
    let mut report = fixed_report();
    report.cases.retain(|case| case.verdict() != Verdict::Error);
    assert_eq!(report.status().code(), 1);
    report.cases.retain(|case| case.verdict() != Verdict::Fail);
    assert_eq!(
        report.status().code(),
        1,
        "the unexpected pass alone fails it"
    );
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
