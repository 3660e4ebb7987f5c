//! Lines of a program's output, bounded: what the engine reads from a client program and the
//! runner from a target it started. A program that prints megabytes without an end of line
//! must not grow the reader by as much.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The most of one line that is kept; the rest of a longer line is read and dropped, and the
/// line is marked as cut.
pub const MOST_LINE_BYTES: usize = 64 * 1024;

/// The next line, without its end of line (`\n` or `\r\n`), cut at [`MOST_LINE_BYTES`] and then
/// marked ` [cut at 65536 bytes]`; `None` at the end of the stream or on a read error.
pub async fn read_bounded_line(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<String> {
    let mut line = Vec::new();
    let mut cut = false;
    loop {
        let buffer = reader.fill_buf().await.ok()?;
        if buffer.is_empty() {
            return (!line.is_empty() || cut).then(|| finish_line(line, cut));
        }
        let end = buffer.iter().position(|&byte| byte == b'\n');
        let content = &buffer[..end.unwrap_or(buffer.len())];
        let room = MOST_LINE_BYTES - line.len();
        cut |= content.len() > room;
        line.extend_from_slice(&content[..content.len().min(room)]);
        let consumed = end.map_or(buffer.len(), |end| end + 1);
        reader.consume(consumed);
        if end.is_some() {
            return Some(finish_line(line, cut));
        }
    }
}

fn finish_line(mut line: Vec<u8>, cut: bool) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(&line).into_owned();
    if cut {
        text.push_str(&format!(" [cut at {MOST_LINE_BYTES} bytes]"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, BufReader};

    #[tokio::test]
    async fn lines_are_cut_at_the_limit_and_the_rest_read_on() {
        let long = tokio::io::repeat(b'a').take(10 * 1024 * 1024);
        let rest = &b"\r\n{\"event\":\"connect\"}\r\nlast"[..];
        let mut reader = BufReader::new(long.chain(rest));
        let cut = read_bounded_line(&mut reader).await.expect("the long line");
        assert_eq!(cut.len(), MOST_LINE_BYTES + " [cut at 65536 bytes]".len());
        assert!(cut.ends_with(" [cut at 65536 bytes]"));
        assert_eq!(
            read_bounded_line(&mut reader).await.as_deref(),
            Some("{\"event\":\"connect\"}")
        );
        assert_eq!(
            read_bounded_line(&mut reader).await.as_deref(),
            Some("last")
        );
        assert_eq!(read_bounded_line(&mut reader).await, None);
    }
}
