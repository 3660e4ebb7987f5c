//! HTML: one self-contained page (inline CSS, no script, nothing fetched) to keep with a run.
//!
//! The page holds the run's target, baseline, jobs, time scale, summary and result; the counts
//! per verdict; a table of areas by verdict whose counts link to the areas' sections; then every
//! case in case order, grouped by area, as a `<details>` that is open when the case is not a
//! plain pass: its verdict, title, level and time, how it compares with the baseline, the
//! failing step with what was expected, what arrived and the quoted requirement, and the whole
//! wire transcript (every HTTP request and response with headers and body, every frame, every
//! close, the steps and notes, with their times). Baseline entries that match no case close it.
//!
//! Everything printed is escaped; control characters are shown as `\u{1e}`, and binary data as
//! hex. The same report always renders the same page.

use std::fmt::Write as _;

use sio_suite::engine::{Event, EventKind, Failure, Verdict, WireData};

use super::{expectation_note, visible, Report, ReportedCase};
use crate::baseline::Outcome;

/// The page's style sheet: light, with a colour per verdict.
const STYLE: &str = "\
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; background: #fff;
  max-width: 90rem; margin: 0 auto; padding: 1rem 1.5rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
th, td { padding: .15rem .5rem; text-align: left; vertical-align: top; }
a { color: inherit; }
.run th { font-weight: normal; color: #59636e; }
.areas td { text-align: right; min-width: 4.5rem; }
.areas tr > * { border-bottom: 1px solid #eaeef2; }
.areas .total > * { font-weight: bold; border-top: 2px solid #d0d7de; }
.v { display: inline-block; min-width: 8.5em; padding: 0 .4em; border-radius: 3px;
  font: bold 11px/1.7 ui-monospace, monospace; text-align: center; }
.v.pass, td.pass { background: #dafbe1; color: #116329; }
.v.fail, td.fail { background: #ffebe9; color: #a40e26; }
.v.non-strict, td.non-strict { background: #fff8c5; color: #7d4e00; }
.v.informational, td.informational { background: #ddf4ff; color: #0550ae; }
.v.unsupported, td.unsupported { background: #eaeef2; color: #424a53; }
.v.error, td.error { background: #fbefff; color: #6e40c9; }
.counts .v { margin-right: .2rem; }
.counts span + span { margin-left: 1rem; }
.exit-0 { color: #1a7f37; font-weight: bold; }
.exit-1 { color: #cf222e; font-weight: bold; }
.exit-2 { color: #8250df; font-weight: bold; }
.flag { font-size: 12px; font-weight: 600; }
.bad { color: #cf222e; }
.muted, .level, .ms { color: #59636e; }
.level, .ms { font-size: 12px; }
details.case { border: 1px solid #d0d7de; border-radius: 4px; margin: .3rem 0; }
details.case > summary { cursor: pointer; padding: .25rem .5rem; }
details.case[open] > summary { background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
details.case > :not(summary) { margin: .5rem .75rem; }
.failure { border-left: 3px solid #cf222e; background: #fffbfa; padding: .3rem .6rem; }
.failure.non-strict { border-color: #d4a72c; background: #fffdf0; }
.failure.informational { border-color: #54aeff; background: #f6fbff; }
.failure.unsupported { border-color: #8c959f; background: #f6f8fa; }
.failure.error { border-color: #8250df; background: #fcf8ff; }
.failure th { color: #59636e; font-weight: normal; width: 5rem; }
blockquote { margin: .4rem 0; padding: .2rem .6rem; border-left: 3px solid #8c959f;
  background: #f6f8fa; color: #424a53; }
.transcript { width: 100%; font-size: 12px; }
.transcript th { border-bottom: 1px solid #d0d7de; color: #59636e; font-weight: normal; }
.transcript td { border-bottom: 1px solid #f0f2f4; }
.transcript td:first-child { text-align: right; white-space: nowrap; color: #59636e; }
.transcript td:nth-child(2), .transcript td:nth-child(3) { white-space: nowrap; }
.transcript tr.step td { background: #f6f8fa; font-weight: 600; }
.transcript tr.failing td { background: #fff8c5; }
.transcript .note td:last-child { font-style: italic; color: #59636e; }
.dir { display: inline-block; width: 1.2em; font-weight: bold; }
.out .dir { color: #0969da; }
.in .dir { color: #1a7f37; }
.hd { color: #59636e; }
.c { color: #cf222e; background: #fff0f0; }
";

/// Renders the HTML report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    head(&mut out, report);
    header(&mut out, report);
    let areas = report.areas();
    area_table(&mut out, report, &areas);
    for area in areas {
        area_section(&mut out, report, area);
    }
    unused_baseline(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

fn head(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Conformance report: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>",
        text(&report.target)
    );
}

fn header(out: &mut String, report: &Report) {
    let baseline = match &report.baseline {
        Some(file) => format!("<code>{}</code>", text(file)),
        None => "none".to_owned(),
    };
    let status = report.status();
    out.push_str("<h1>Conformance report</h1>\n<table class=\"run\">\n");
    for (name, value) in [
        ("target", text(&report.target)),
        ("baseline", baseline),
        ("jobs", report.jobs.to_string()),
        ("time scale", report.time_scale.to_string()),
        ("summary", text(&report.summary_line())),
        (
            "result",
            format!(
                "<span class=\"exit-{}\">{}</span>",
                status.code(),
                text(&report.status_line())
            ),
        ),
    ] {
        let _ = writeln!(out, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    out.push_str("</table>\n<p class=\"counts\">");
    for (verdict, count) in report.counts() {
        let _ = write!(out, "<span>{} {count}</span>", badge(verdict));
    }
    out.push_str("</p>\n");
}

fn area_table(out: &mut String, report: &Report, areas: &[&str]) {
    out.push_str("<h2>Areas</h2>\n<table class=\"areas\">\n<tr><th>area</th>");
    for verdict in Verdict::ALL {
        let _ = write!(out, "<th>{}</th>", badge(verdict));
    }
    out.push_str("</tr>\n");
    for area in areas {
        let link = href(&area_anchor(area));
        let _ = write!(
            out,
            "<tr><th><a href=\"{link}\"><code>{}</code></a></th>",
            text(area)
        );
        for verdict in Verdict::ALL {
            let count = report
                .cases
                .iter()
                .filter(|case| case.area() == *area && case.verdict() == verdict)
                .count();
            count_cell(out, verdict, count, &link);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("<tr class=\"total\"><th>total</th>");
    for (_, count) in report.counts() {
        let _ = write!(out, "<td>{count}</td>");
    }
    out.push_str("</tr>\n</table>\n");
}

fn count_cell(out: &mut String, verdict: Verdict, count: usize, link: &str) {
    if count == 0 {
        out.push_str("<td></td>");
    } else {
        let _ = write!(
            out,
            "<td class=\"{}\"><a href=\"{link}\">{count}</a></td>",
            verdict_class(verdict)
        );
    }
}

fn area_section(out: &mut String, report: &Report, area: &str) {
    let cases: Vec<&ReportedCase> = report
        .cases
        .iter()
        .filter(|case| case.area() == area)
        .collect();
    let _ = writeln!(
        out,
        "<section id=\"{}\">\n<h2><code>{}</code> <span class=\"muted\">{} case{}</span></h2>",
        text(&area_anchor(area)),
        text(area),
        cases.len(),
        if cases.len() == 1 { "" } else { "s" }
    );
    for case in cases {
        case_details(out, case, report.replay_command(&case.result.id));
    }
    out.push_str("</section>\n");
}

fn case_details(out: &mut String, case: &ReportedCase, replay: Option<String>) {
    let anchor = case_anchor(&case.result.id);
    let open = case.verdict() != Verdict::Pass || case.outcome != Outcome::AsExpected;
    let _ = writeln!(
        out,
        "<details class=\"case\" id=\"{}\"{}>",
        text(&anchor),
        if open { " open" } else { "" }
    );
    case_summary(out, case);
    if let Some(line) = outcome_line(case) {
        let _ = writeln!(out, "<p>{line}</p>");
    }
    if let Some(failure) = &case.result.failure {
        failure_box(out, case, &anchor, failure);
    }
    if let Some(replay) = replay.filter(|_| open && case.verdict() != Verdict::Unsupported) {
        let _ = writeln!(
            out,
            "<p class=\"replay\">replay: <code>{}</code></p>",
            text(&replay)
        );
    }
    transcript(out, case, &anchor);
    out.push_str("</details>\n");
}

fn case_summary(out: &mut String, case: &ReportedCase) {
    let flag = match case.outcome {
        Outcome::AsExpected if case.expected.is_some() => {
            " <span class=\"flag muted\">baseline</span>"
        }
        Outcome::AsExpected => "",
        Outcome::Regression => " <span class=\"flag bad\">regression</span>",
        Outcome::UnexpectedPass => " <span class=\"flag bad\">unexpected pass</span>",
        Outcome::Unjudged => " <span class=\"flag bad\">unjudged</span>",
    };
    let _ = writeln!(
        out,
        "<summary>{} <code>{}</code> {} <span class=\"level\">{}</span> \
         <span class=\"ms\">{:.1} ms</span>{flag}</summary>",
        badge(case.verdict()),
        text(&case.result.id),
        text(&case.title),
        case.level.as_str(),
        case.result.elapsed.as_secs_f64() * 1000.0,
    );
}

/// How the case compares with the baseline, when there is something to say.
fn outcome_line(case: &ReportedCase) -> Option<String> {
    let note = expectation_note(case);
    let (class, label, detail) = match case.outcome {
        Outcome::AsExpected => {
            let entry = case.expected.as_ref()?;
            ("muted", "as the baseline expects", entry.reason.clone())
        }
        Outcome::Regression => (
            "bad",
            "regression",
            note.unwrap_or_else(|| "the baseline does not expect it".to_owned()),
        ),
        Outcome::UnexpectedPass => ("bad", "unexpected pass", note.unwrap_or_default()),
        Outcome::Unjudged => (
            "bad",
            "unexpected ERROR",
            note.unwrap_or_else(|| "the baseline does not expect it".to_owned()),
        ),
    };
    Some(format!(
        "<strong class=\"{class}\">{label}</strong>: {}",
        text(&detail)
    ))
}

/// The failing step, what was expected and what arrived, and the requirement quoted beside.
fn failure_box(out: &mut String, case: &ReportedCase, anchor: &str, failure: &Failure) {
    let _ = writeln!(
        out,
        "<div class=\"failure {}\">",
        verdict_class(case.verdict())
    );
    if let (Some(step), Some(keyword)) = (failure.step, &failure.keyword) {
        let actor = failure
            .actor
            .as_deref()
            .map(|actor| format!(", {}", text(actor)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<p>at {} (<code>{}</code>{actor})</p>",
            step_link(case, anchor, step),
            text(keyword)
        );
    }
    let _ = writeln!(
        out,
        "<table>\n<tr><th>expected</th><td>{}</td></tr>\n\
         <tr><th>actual</th><td>{}</td></tr>\n</table>",
        pre("", &wire_text(&failure.expected)),
        pre("", &wire_text(&failure.actual))
    );
    if let Some(requirement) = &failure.requirement {
        let _ = writeln!(
            out,
            "<blockquote>requirement: {}</blockquote>",
            text(requirement)
        );
    }
    out.push_str("</div>\n");
}

/// `step 4`, linked to its row of the transcript when the transcript has it.
fn step_link(case: &ReportedCase, anchor: &str, step: usize) -> String {
    let recorded = case
        .result
        .transcript
        .events
        .iter()
        .any(|event| matches!(event.kind, EventKind::Step { number, .. } if number == step));
    if recorded {
        format!(
            "<a href=\"{}\">step {step}</a>",
            href(&step_anchor(anchor, step))
        )
    } else {
        format!("step {step}")
    }
}

fn transcript(out: &mut String, case: &ReportedCase, anchor: &str) {
    let events = &case.result.transcript.events;
    if events.is_empty() {
        out.push_str("<p class=\"muted\">no wire events</p>\n");
        return;
    }
    let failing = case
        .result
        .failure
        .as_ref()
        .and_then(|failure| failure.step)
        .map(|step| (step, case.verdict()));
    out.push_str(
        "<table class=\"transcript\">\n\
         <tr><th>ms</th><th>actor</th><th>channel</th>\
         <th>event (→ sent by the suite, ← from the target)</th></tr>\n",
    );
    for event in events {
        event_row(out, event, anchor, failing);
    }
    out.push_str("</table>\n");
}

/// A transcript's row; the failing step's (`failing`: its number and the case's verdict) is
/// highlighted and carries the verdict.
fn event_row(out: &mut String, event: &Event, anchor: &str, failing: Option<(usize, Verdict)>) {
    let mut class = row_class(&event.kind);
    let mut id = String::new();
    let mut verdict = None;
    if let EventKind::Step { number, .. } = event.kind {
        id = format!(" id=\"{}\"", text(&step_anchor(anchor, number)));
        if let Some((_, case_verdict)) = failing.filter(|(step, _)| *step == number) {
            class = "step failing";
            verdict = Some(case_verdict);
        }
    }
    let _ = write!(
        out,
        "<tr class=\"{class}\"{id}><td>{:.1}</td><td>{}</td><td>{}</td><td>",
        event.at.as_secs_f64() * 1000.0,
        text(&event.actor),
        text(&event.channel)
    );
    event_cell(out, &event.kind);
    if let Some(verdict) = verdict {
        let _ = write!(out, " {}", badge(verdict));
    }
    out.push_str("</td></tr>\n");
}

/// `out` for what the suite sent, `in` for what came back from the target.
fn row_class(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Step { .. } => "step",
        EventKind::HttpRequest { .. }
        | EventKind::RawRequest { .. }
        | EventKind::WsRequest { .. }
        | EventKind::FrameSent { .. }
        | EventKind::PingSent { .. }
        | EventKind::PongSent { .. }
        | EventKind::CloseSent { .. }
        | EventKind::ResponseSent { .. }
        | EventKind::Cue { .. } => "out",
        EventKind::HttpResponse { .. }
        | EventKind::HttpFailed { .. }
        | EventKind::WsAccepted
        | EventKind::WsRefused { .. }
        | EventKind::FrameReceived { .. }
        | EventKind::PingReceived { .. }
        | EventKind::PongReceived { .. }
        | EventKind::CloseReceived { .. }
        | EventKind::Ended { .. }
        | EventKind::RequestReceived { .. }
        | EventKind::WsRequestReceived { .. }
        | EventKind::Report { .. }
        | EventKind::Output { .. } => "in",
        EventKind::Note { .. }
        | EventKind::ProgramStarted { .. }
        | EventKind::ProgramEnded { .. } => "note",
    }
}

const SENT: &str = "<span class=\"dir\">→</span>";
const RECEIVED: &str = "<span class=\"dir\">←</span>";

fn event_cell(out: &mut String, kind: &EventKind) {
    match kind {
        EventKind::Step { number, keyword } => {
            let _ = write!(out, "step {number}: <code>{}</code>", text(keyword));
        }
        EventKind::HttpRequest {
            method,
            target,
            headers,
            body,
        } => {
            let _ = write!(out, "{SENT}{} <code>{}</code>", text(method), text(target));
            http_parts(out, headers, body);
        }
        EventKind::RawRequest { data } => {
            let _ = write!(out, "{SENT}raw request");
            data_block(out, data);
        }
        EventKind::HttpResponse {
            status,
            headers,
            body,
        } => {
            let _ = write!(out, "{RECEIVED}{status}");
            http_parts(out, headers, body);
        }
        EventKind::HttpFailed { error } => {
            let _ = write!(out, "{RECEIVED}no response: {}", text(error));
        }
        EventKind::RequestReceived {
            method,
            target,
            headers,
            body,
        } => {
            let _ = write!(
                out,
                "{RECEIVED}{} <code>{}</code>",
                text(method),
                text(target)
            );
            http_parts(out, headers, body);
        }
        EventKind::ResponseSent {
            status,
            headers,
            body,
        } => {
            let _ = write!(out, "{SENT}{status}");
            http_parts(out, headers, body);
        }
        _ => socket_cell(out, kind),
    }
}

fn socket_cell(out: &mut String, kind: &EventKind) {
    let _ = match kind {
        EventKind::WsRequest { target } => {
            write!(out, "{SENT}WebSocket <code>{}</code>", text(target))
        }
        EventKind::WsAccepted => write!(out, "{RECEIVED}101 WebSocket accepted"),
        EventKind::WsRefused { status, detail } => match status {
            Some(status) => write!(
                out,
                "{RECEIVED}WebSocket refused: {status} {}",
                text(detail)
            ),
            None => write!(out, "{RECEIVED}WebSocket refused: {}", text(detail)),
        },
        EventKind::FrameSent { frame } => frame_cell(out, SENT, frame),
        EventKind::FrameReceived { frame } => frame_cell(out, RECEIVED, frame),
        EventKind::PingSent { payload } => control_cell(out, SENT, "ping", payload),
        EventKind::PingReceived { payload } => control_cell(out, RECEIVED, "ping", payload),
        EventKind::PongSent { payload } => control_cell(out, SENT, "pong", payload),
        EventKind::PongReceived { payload } => control_cell(out, RECEIVED, "pong", payload),
        EventKind::CloseSent { code } => write!(out, "{SENT}close frame, {}", close_code(*code)),
        EventKind::CloseReceived { code } => {
            write!(out, "{RECEIVED}close frame, {}", close_code(*code))
        }
        EventKind::Ended { detail } => write!(out, "{RECEIVED}ended: {}", text(detail)),
        EventKind::Note { text: note } => write!(out, "{}", text(note)),
        EventKind::WsRequestReceived { target, .. } => {
            write!(out, "{RECEIVED}WebSocket <code>{}</code>", text(target))
        }
        EventKind::ProgramStarted { command } => {
            write!(out, "client started: <code>{}</code>", text(command))
        }
        EventKind::ProgramEnded { status } => write!(out, "client ended: {}", text(status)),
        EventKind::Cue { line } => write!(out, "{SENT}cue <code>{}</code>", text(line)),
        EventKind::Report { line } => write!(out, "{RECEIVED}report <code>{}</code>", text(line)),
        EventKind::Output { stream, line } => {
            write!(
                out,
                "{RECEIVED}{}: <code>{}</code>",
                text(stream),
                text(line)
            )
        }
        EventKind::Step { .. }
        | EventKind::RequestReceived { .. }
        | EventKind::ResponseSent { .. }
        | EventKind::HttpRequest { .. }
        | EventKind::RawRequest { .. }
        | EventKind::HttpResponse { .. }
        | EventKind::HttpFailed { .. } => Ok(()),
    };
}

/// A page of observed exchanges, as `sio-conformance proxy --html` writes it: a title, a table
/// of facts, then one section per session with its transcript (the same rows as a case's, `→`
/// from the client, `←` from the server, decoded packets and violations as notes; a note
/// that names a `VIOLATION` is highlighted).
pub fn render_exchange(
    title: &str,
    facts: &[(&str, String)],
    sections: &[(String, Vec<Event>)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<table class=\"run\">",
        text(title),
        text(title)
    );
    for (name, value) in facts {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            text(name),
            text(value)
        );
    }
    out.push_str("</table>\n");
    for (index, (heading, events)) in sections.iter().enumerate() {
        let anchor = anchor("session-", &index.to_string());
        let _ = writeln!(out, "<h2 id=\"{}\">{}</h2>", text(&anchor), text(heading));
        out.push_str(
            "<table class=\"transcript\">\n\
             <tr><th>ms</th><th>session</th><th>channel</th>\
             <th>event (→ from the client, ← from the server)</th></tr>\n",
        );
        for event in events {
            let violation =
                matches!(&event.kind, EventKind::Note { text } if text.contains("VIOLATION "));
            let mut row = String::new();
            event_row(&mut row, event, &anchor, None);
            if violation {
                row = row.replacen("<tr class=\"note\"", "<tr class=\"step failing\"", 1);
            }
            out.push_str(&row);
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn frame_cell(out: &mut String, direction: &str, frame: &WireData) -> std::fmt::Result {
    match frame {
        WireData::Text(_) => write!(out, "{direction}text frame")?,
        WireData::Binary(bytes) => write!(out, "{direction}binary frame, {} bytes", bytes.len())?,
    }
    data_block(out, frame);
    Ok(())
}

fn control_cell(
    out: &mut String,
    direction: &str,
    control: &str,
    payload: &WireData,
) -> std::fmt::Result {
    write!(out, "{direction}{control} control frame")?;
    data_block(out, payload);
    Ok(())
}

fn close_code(code: Option<u16>) -> String {
    match code {
        Some(code) => format!("code {code}"),
        None => "no code".to_owned(),
    }
}

/// An HTTP message's headers, one a line, then its body when it has one.
fn http_parts(out: &mut String, headers: &[(String, String)], body: &WireData) {
    if !headers.is_empty() {
        let lines: Vec<String> = headers
            .iter()
            .map(|(name, value)| format!("{}: {}", wire_text(name), wire_text(value)))
            .collect();
        out.push_str(&pre("hd", &lines.join("\n")));
    }
    match body {
        WireData::Text(body) if body.is_empty() => {}
        WireData::Text(_) => data_block(out, body),
        WireData::Binary(bytes) => {
            let _ = write!(out, "binary body, {} bytes", bytes.len());
            data_block(out, body);
        }
    }
}

/// Data in full: text with its control characters visible, binary as hex.
fn data_block(out: &mut String, data: &WireData) {
    let content = match data {
        WireData::Text(text) => wire_text(text),
        WireData::Binary(bytes) => hex(bytes),
    };
    out.push_str(&pre("", &content));
}

/// A `<pre>` of HTML text (with a class when `class` is not empty); a newline that starts the
/// text is doubled, since HTML drops the first.
fn pre(class: &str, html: &str) -> String {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    let newline = if html.starts_with('\n') { "\n" } else { "" };
    format!("<pre{class}>{newline}{html}</pre>")
}

/// `00010203 04050607 …`, 32 bytes a line.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 9 / 4 + 1);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 && index % 32 == 0 {
            out.push('\n');
        } else if index > 0 && index % 4 == 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn badge(verdict: Verdict) -> String {
    format!(
        "<span class=\"v {}\">{}</span>",
        verdict_class(verdict),
        verdict.as_str()
    )
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::NonStrict => "non-strict",
        Verdict::Informational => "informational",
        Verdict::Unsupported => "unsupported",
        Verdict::Error => "error",
    }
}

fn unused_baseline(out: &mut String, report: &Report) {
    if report.unused_baseline.is_empty() {
        return;
    }
    out.push_str("<h2>Baseline entries that match no case of this run</h2>\n<ul>\n");
    for entry in &report.unused_baseline {
        let _ = writeln!(
            out,
            "<li><code>{}</code> {}: {}</li>",
            text(&entry.case),
            badge(entry.verdict),
            text(&entry.reason)
        );
    }
    out.push_str("</ul>\n");
}

/// The `id` of an area's section.
fn area_anchor(area: &str) -> String {
    anchor("area-", area)
}

/// The `id` of a case's `<details>`.
fn case_anchor(id: &str) -> String {
    anchor("case-", id)
}

/// The `id` of a step's row in a case's transcript.
fn step_anchor(case_anchor: &str, step: usize) -> String {
    format!("{case_anchor}:step-{step}")
}

/// An `id`: the prefix and the name, with whitespace and control characters (which an `id`
/// cannot hold) replaced by `_`.
fn anchor(prefix: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{prefix}{name}")
}

/// A link to an `id`: `#` and the `id`, percent-encoded but for letters, digits and `-._~/:`.
fn href(id: &str) -> String {
    let mut out = String::from("#");
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || "-._~/:".contains(c) {
            out.push(c);
        } else {
            let mut buffer = [0; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// Prose and names: control characters visible as `\u{1e}`, then escaped.
fn text(text: &str) -> String {
    let visible = visible(text);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// Bytes from the wire, for a `<pre>`: escaped, each control character (but newline and tab)
/// shown as `\u{1e}` in a highlighted span, so that it stands apart from the same text sent
/// literally.
fn wire_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            let _ = write!(out, "<span class=\"c\">{}</span>", c.escape_unicode());
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

/// A character as HTML text or attribute value; noncharacters, which HTML forbids, are written
/// as `\u{fffe}`.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c if is_noncharacter(c) => {
            let _ = write!(out, "{}", c.escape_unicode());
        }
        c => out.push(c),
    }
}

/// U+FDD0 to U+FDEF, and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_shows_control_characters() {
        assert_eq!(text("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(text("6\u{1e}4"), "6\\u{1e}4");
        assert_eq!(
            wire_text("6\u{1e}<x>"),
            "6<span class=\"c\">\\u{1e}</span>&lt;x&gt;"
        );
        assert_eq!(text("\u{fffe}\u{fdd0}é"), "\\u{fffe}\\u{fdd0}é");
    }

    #[test]
    fn anchors_and_links() {
        assert_eq!(anchor("case-", "a b\u{1}"), "case-a_b_");
        assert_eq!(href("case-x/y[z]:step-1"), "#case-x/y%5Bz%5D:step-1");
        assert_eq!(href("é"), "#%C3%A9");
    }

    #[test]
    fn hex_groups_four_bytes_and_breaks_every_32() {
        assert_eq!(hex(&[1, 2, 3, 4, 255]), "01020304 ff");
        let line = hex(&[0; 33]);
        assert_eq!(line.lines().count(), 2);
        assert!(line.ends_with("\n00"));
    }
}
