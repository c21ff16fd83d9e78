//! Fake social platforms for tests, each speaking its platform's real
//! HTTP API on 127.0.0.1: bearer tokens that can be revoked, and scripted failures for writes
//! in the platform's own shapes — its rate-limit answer with its reset header, a 500, or an
//! answer that comes too late (the work is still done, as when a client times out on a
//! platform that accepted the post).
//!
//! Every fake is a [`FakePlatform`] over its own state: the common part (address, token,
//! failures, request count) lives here once.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use actix_web::dev::ServerHandle;

pub mod graph;
pub mod linkedin;
pub mod mastodon;
pub mod x;

pub use graph::{FakeGraph, GraphState};
pub use linkedin::{FakeLinkedIn, LinkedInState};
pub use mastodon::{FakeMastodon, MastodonState};
pub use x::{FakeX, XState};

#[derive(Clone, Debug)]
pub enum Failure {
    /// The platform's rate-limit answer, its reset this far ahead.
    RateLimited(Duration),
    /// A 500 in the platform's error shape.
    ServerError,
    /// The request is carried out, but answered only after this long.
    Slow(Duration),
}

/// What a fake decides before it looks at a request.
pub enum Gate {
    Pass,
    /// The bearer token is not the valid one.
    Unauthorized,
    /// A scripted failure to answer with (never `Slow`: the fake waits for that itself).
    Fail(Failure),
}

/// The part of a fake platform's state every platform has.
pub struct Script {
    pub token: String,
    failures: VecDeque<Failure>,
    pub requests: usize,
}

impl Script {
    /// Counts the request and checks its token; a write takes the next scripted failure.
    pub fn gate(&mut self, presented_token: Option<&str>, write: bool) -> Gate {
        self.requests += 1;
        if presented_token != Some(self.token.as_str()) {
            return Gate::Unauthorized;
        }
        match write.then(|| self.failures.pop_front()).flatten() {
            Some(failure) => Gate::Fail(failure),
            None => Gate::Pass,
        }
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(request: &actix_web::HttpRequest) -> Option<String> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

/// A fake platform's shared state: where it listens, its script and its own data.
pub struct Platform<S> {
    pub base: String,
    state: Mutex<(Script, S)>,
}

impl<S> Platform<S> {
    pub fn lock(&self) -> MutexGuard<'_, (Script, S)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`Script::gate`], waiting out a `Slow` failure before letting the request through.
    pub async fn gate(&self, presented_token: Option<&str>, write: bool) -> Gate {
        let gate = self.lock().0.gate(presented_token, write);
        match gate {
            Gate::Fail(Failure::Slow(delay)) => {
                tokio::time::sleep(delay).await;
                Gate::Pass
            }
            other => other,
        }
    }
}

/// A running fake platform; stopped when dropped.
pub struct FakePlatform<S> {
    inner: Arc<Platform<S>>,
    handle: ServerHandle,
}

impl<S: Send + 'static> FakePlatform<S> {
    /// Serves `handler` on a fresh loopback port with `data`; tokens look like `{prefix}-…`.
    pub fn serve<F, Args>(token_prefix: &str, data: S, handler: F) -> Self
    where
        F: actix_web::Handler<Args> + Clone + Send + 'static,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let (listener, port) = crate::serve::loopback_listener();
        let script = Script {
            token: format!("{token_prefix}-{}", uuid::Uuid::new_v4().simple()),
            failures: VecDeque::new(),
            requests: 0,
        };
        let inner = Arc::new(Platform {
            base: format!("http://127.0.0.1:{port}"),
            state: Mutex::new((script, data)),
        });
        let handle = crate::serve::serve_fake(listener, inner.clone(), handler);
        Self { inner, handle }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub fn token(&self) -> String {
        self.inner.lock().0.token.clone()
    }

    /// The token stops working, as when the user revokes the app.
    pub fn revoke(&self) {
        self.inner.lock().0.token = "revoked".to_owned();
    }

    /// A new valid token, as when the user authorizes the app again.
    pub fn reissue(&self) -> String {
        let token = format!("reissued-{}", uuid::Uuid::new_v4().simple());
        self.inner.lock().0.token = token.clone();
        token
    }

    /// The next write answers with `failure`.
    pub fn push_failure(&self, failure: Failure) {
        self.inner.lock().0.failures.push_back(failure);
    }

    pub fn requests(&self) -> usize {
        self.inner.lock().0.requests
    }

    /// Reads the platform's own data.
    pub fn with<T>(&self, read: impl FnOnce(&mut S) -> T) -> T {
        read(&mut self.inner.lock().1)
    }
}

impl<S> Drop for FakePlatform<S> {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
pub struct Part {
    pub name: String,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body, as uploads send them; empty when it is not one.
pub fn multipart_parts(request: &actix_web::HttpRequest, body: &[u8]) -> Vec<Part> {
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(boundary) = content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"')) else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in split_bytes(body, delimiter.as_bytes()).into_iter().skip(1) {
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let Some(split) = chunk.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&chunk[..split]).to_string();
        let data = &chunk[split + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let header = |name: &str| {
            head.lines()
                .find(|line| line.to_ascii_lowercase().starts_with(name))
                .map(|line| line[name.len()..].trim().to_owned())
        };
        let Some(disposition) = header("content-disposition:") else { continue };
        let Some(name) = disposition.split("name=\"").nth(1).and_then(|rest| rest.split('"').next()) else {
            continue;
        };
        parts.push(Part {
            name: name.to_owned(),
            content_type: header("content-type:"),
            data: data.to_vec(),
        });
    }
    parts
}

fn split_bytes<'a>(haystack: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        if &haystack[at..at + needle.len()] == needle {
            pieces.push(&haystack[start..at]);
            at += needle.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(&haystack[start..]);
    pieces
}
