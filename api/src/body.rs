//! Request bodies that end. actix-web bounds the time to read a request's head, not its body:
//! a client that sends the head and then trickles (or stops sending) the body would hold its
//! connection and a handler forever. Every body is read through [`Deadline`], installed for
//! every request by [`body_deadline`]: a body that sends nothing for `HTTP_BODY_IDLE_TIMEOUT_SECS`,
//! or is not complete after `HTTP_BODY_TIMEOUT_SECS`, fails its read with a timeout, which the
//! extractors answer 408.
//!
//! A multipart body that is complete on the wire but lacks its closing boundary is a second
//! way to wait forever: actix-multipart then answers `Pending` after the payload has ended,
//! with nothing left to wake it. [`until_stuck`] turns that into an error at once.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    middleware::Next,
    web::{self, Bytes, BytesMut},
};
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::{error::ApiError, state::AppState};

/// Whether a request's body has been read to its end; kept in the request's extensions.
#[derive(Clone, Debug, Default)]
pub struct BodyEnded(Arc<AtomicBool>);

impl BodyEnded {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A body stream that fails when its client stalls, and records when it ends.
pub struct Deadline<S> {
    inner: S,
    idle: Duration,
    total_at: Instant,
    /// Armed on the first wait: most bodies (and every empty one) never wait at all.
    timer: Option<Pin<Box<Sleep>>>,
    ended: BodyEnded,
    failed: bool,
}

impl<S> Deadline<S> {
    pub fn new(inner: S, idle: Duration, total: Duration, ended: BodyEnded) -> Self {
        Self { inner, idle, total_at: Instant::now() + total, timer: None, ended, failed: false }
    }

    fn next_deadline(&self) -> Instant {
        (Instant::now() + self.idle).min(self.total_at)
    }
}

impl<S> Stream for Deadline<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let next = self.next_deadline();
                if let Some(timer) = self.timer.as_mut() {
                    timer.as_mut().reset(next);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                self.ended.0.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                self.failed = true;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => {
                let next = self.next_deadline();
                let timer = self.timer.get_or_insert_with(|| Box::pin(sleep_until(next)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.failed = true;
                        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "the request body stalled");
                        Poll::Ready(Some(Err(PayloadError::Io(timed_out))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// Middleware: every request's body is read through a [`Deadline`].
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(config) = req.app_data::<web::Data<AppState>>().map(|state| state.config.clone()) else {
        return next.call(req).await;
    };
    let (idle, total) = (config.body_idle_timeout, config.body_total_timeout);
    let ended = BodyEnded::default();
    let payload = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Deadline::new(payload, idle, total, ended.clone()));
    req.set_payload(Payload::from(stream));
    req.extensions_mut().insert(ended);
    next.call(req).await
}

/// An error reading a body or one part of it.
pub trait ReadError: std::fmt::Display {
    /// The body stalled past its [`Deadline`].
    fn timed_out(&self) -> bool;
}

impl ReadError for PayloadError {
    fn timed_out(&self) -> bool {
        matches!(self, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
    }
}

impl ReadError for actix_multipart::MultipartError {
    fn timed_out(&self) -> bool {
        matches!(self, actix_multipart::MultipartError::Payload(payload) if payload.timed_out())
    }
}

/// The answer to a body that could not be read: 408 when it stalled, else 400 on `field`.
pub fn unreadable(field: &str, error: &impl ReadError) -> ApiError {
    if error.timed_out() {
        ApiError::RequestTimeout
    } else {
        tracing::debug!(%error, "request body could not be read");
        ApiError::field(field, "The body could not be read.")
    }
}

/// Collects a body (or a multipart field) stream: 413 past `limit` bytes, 408 when it
/// stalls, 400 on `field` when it cannot be read.
pub async fn read_limited<S, E>(stream: S, limit: usize, field: &str) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: ReadError,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| unreadable(field, &error))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Runs `reading` (a future driven only by the request body) and fails it with `stuck` as
/// soon as it waits although the body has ended: nothing could ever wake it.
pub async fn until_stuck<F, T>(
    reading: F,
    ended: BodyEnded,
    stuck: impl FnOnce() -> ApiError,
) -> Result<T, ApiError>
where
    F: Future<Output = Result<T, ApiError>>,
{
    let mut reading = std::pin::pin!(reading);
    let mut stuck = Some(stuck);
    std::future::poll_fn(|cx| match reading.as_mut().poll(cx) {
        Poll::Ready(outcome) => Poll::Ready(outcome),
        Poll::Pending if ended.get() => match stuck.take() {
            Some(stuck) => Poll::Ready(Err(stuck())),
            None => Poll::Pending,
        },
        Poll::Pending => Poll::Pending,
    })
    .await
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    const IDLE: Duration = Duration::from_secs(15);
    const TOTAL: Duration = Duration::from_secs(120);

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out_and_a_finished_one_is_marked_ended() {
        let stalled = stream::iter([Ok(Bytes::from_static(b"{"))]).chain(stream::pending());
        let mut body = Deadline::new(stalled, IDLE, TOTAL, BodyEnded::default());
        assert!(body.next().await.is_some_and(|chunk| chunk.is_ok()));
        let error = body.next().await.and_then(Result::err).expect("times out");
        assert!(error.timed_out());

        let ended = BodyEnded::default();
        let mut whole =
            Deadline::new(stream::iter([Ok(Bytes::from_static(b"{}"))]), IDLE, TOTAL, ended.clone());
        assert!(whole.next().await.is_some());
        assert!(!ended.get());
        assert!(whole.next().await.is_none());
        assert!(ended.get());
    }

    #[tokio::test]
    async fn waiting_after_the_end_is_stuck() {
        let ended = BodyEnded::default();
        ended.0.store(true, Ordering::Release);
        let outcome: Result<(), ApiError> =
            until_stuck(std::future::pending(), ended, || ApiError::field("file", "truncated")).await;
        assert!(matches!(outcome, Err(ApiError::Validation { .. })));
    }
}
