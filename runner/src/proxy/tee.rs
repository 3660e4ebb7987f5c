//! A body that passes another through as it comes, frame by frame, and keeps a copy of its
//! bytes (at most a limit) for the monitor, handed over once when the body ends, fails, or is
//! dropped before its end. So the proxy never holds a request or response back: a POST whose
//! body is still coming reaches the server as it would without the proxy, and a client that
//! gives up on a request makes the upstream's end as well.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// What a [`Tee`] saw of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The bytes kept: all of them, or the first [`Tee`] limit's worth.
    pub bytes: Vec<u8>,
    /// How many bytes passed in all.
    pub total: usize,
    /// Whether the body reached its end (not an error, not dropped before).
    pub complete: bool,
}

impl Copied {
    /// Whether every byte is in [`Copied::bytes`].
    pub fn whole(&self) -> bool {
        self.complete && self.bytes.len() == self.total
    }
}

/// What a [`Tee`] calls with its copy.
pub type OnDone = Box<dyn FnOnce(Copied) + Send>;

/// A body passed through with a copy kept.
pub struct Tee<B> {
    inner: B,
    copy: Vec<u8>,
    total: usize,
    limit: usize,
    done: Option<OnDone>,
}

impl<B: Body> Tee<B> {
    /// Passes `inner` through, keeping up to `limit` bytes, then calls `done`. An empty body
    /// (one that says it is at its end already) is handed over at once: hyper may never poll
    /// it.
    pub fn new(inner: B, limit: usize, done: OnDone) -> Tee<B> {
        let mut tee = Tee {
            inner,
            copy: Vec::new(),
            total: 0,
            limit,
            done: Some(done),
        };
        if tee.inner.is_end_stream() {
            tee.finish(true);
        }
        tee
    }

    fn finish(&mut self, complete: bool) {
        if let Some(done) = self.done.take() {
            done(Copied {
                bytes: std::mem::take(&mut self.copy),
                total: self.total,
                complete,
            });
        }
    }
}

impl<B> std::fmt::Debug for Tee<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tee")
            .field("total", &self.total)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<B> Body for Tee<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.total = self.total.saturating_add(data.len());
                    let room = self.limit.saturating_sub(self.copy.len());
                    let kept = data.len().min(room);
                    self.copy.extend_from_slice(&data[..kept]);
                }
                if self.inner.is_end_stream() {
                    self.finish(true);
                }
            }
            Poll::Ready(Some(Err(_))) => self.finish(false),
            Poll::Ready(None) => self.finish(true),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Tee<B> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(Copied {
                bytes: std::mem::take(&mut self.copy),
                total: self.total,
                complete: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_body_util::{BodyExt, Full};

    use super::*;

    #[tokio::test]
    async fn passes_the_body_and_keeps_a_bounded_copy() {
        let seen = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&seen);
        let tee = Tee::new(
            Full::new(Bytes::from_static(b"4hello")),
            3,
            Box::new(move |copied| *sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(copied)),
        );
        let passed = tee.collect().await.map(|body| body.to_bytes());
        assert_eq!(passed.ok(), Some(Bytes::from_static(b"4hello")));
        let copied = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(
            copied,
            Some(Copied {
                bytes: b"4he".to_vec(),
                total: 6,
                complete: true
            })
        );
    }
}
