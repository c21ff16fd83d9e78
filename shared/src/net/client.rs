//! [`GuardedClient`]: the one way our outbound HTTP clients are built and send.
//!
//! Each request's parsed URL is checked by the guard just before it is sent, whatever built
//! it (a base URL and a path, an upload URL a platform answered with, a media URL a tenant
//! wrote, async-openai's own requests); names resolve through the guard; redirects are never
//! followed (a caller that follows them does so by hand, and each hop is sent, so checked,
//! again). The request builders it hands out belong to a client that cannot connect, so a
//! request sent past [`GuardedClient::send`] fails instead of skipping the check.

use std::{
    future::Ready,
    marker::PhantomData,
    sync::OnceLock,
    task::{Context, Poll},
};

use reqwest::{ClientBuilder, IntoUrl, Method, Request, RequestBuilder, Response};

use super::{OutboundGuard, Refused};

/// Why a guarded request failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The guard refused the address (the URL's, or one its name resolved to); nothing was
    /// sent.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Anything else: a timeout, a refused connection, a TLS failure...
    #[error(transparent)]
    Http(reqwest::Error),
}

/// An HTTP client whose every request passes the guard first.
#[derive(Clone, Debug)]
pub struct GuardedClient {
    http: reqwest::Client,
    /// Builds requests only; see the module docs.
    builder: reqwest::Client,
    /// `None` only for `trusted`.
    guard: Option<OutboundGuard>,
}

impl GuardedClient {
    /// `configure` sets timeouts, the user agent, a proxy and the like; redirects are off and
    /// the resolver is the guard's whatever it sets. The environment's `HTTP_PROXY` and the like
    /// are not read: a proxy resolves names itself, out of the guard's sight, so only a proxy
    /// `configure` names explicitly (the operator's egress proxy) is used.
    pub fn new(
        guard: &OutboundGuard,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<Self, reqwest::Error> {
        let http = configure(reqwest::Client::builder().no_proxy())
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(guard.resolver())
            .build()?;
        Ok(Self { http, builder: inert()?, guard: Some(guard.clone()) })
    }

    /// A client for an address the operator configured (the server's own AI base URL), which
    /// is trusted and not checked. Never for an address a tenant chose.
    pub fn trusted(configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Result<Self, reqwest::Error> {
        let http =
            configure(reqwest::Client::builder()).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self { http, builder: inert()?, guard: None })
    }

    /// The guard, `None` for a trusted client.
    pub fn guard(&self) -> Option<&OutboundGuard> {
        self.guard.as_ref()
    }

    /// A request to fill in and hand to [`send`](Self::send).
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        self.builder.request(method, url)
    }

    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    pub fn put(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    pub async fn send(&self, request: RequestBuilder) -> Result<Response, SendError> {
        self.execute(request.build().map_err(SendError::Http)?).await
    }

    /// Checks the request's URL, then sends it; a name that resolves inside fails as
    /// `Refused` too.
    pub async fn execute(&self, request: Request) -> Result<Response, SendError> {
        if let Some(guard) = &self.guard {
            guard.check_url(request.url())?;
        }
        self.http.execute(request).await.map_err(|error| match refusal_in(&error) {
            Some(refused) => SendError::Refused(refused),
            None => SendError::Http(error),
        })
    }
}

/// The guard's refusal, when the resolver is why `error` happened.
fn refusal_in(error: &reqwest::Error) -> Option<Refused> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        source = cause.source();
    }
    None
}

/// The client request builders come from: its connector fails every connection.
fn inert() -> Result<reqwest::Client, reqwest::Error> {
    static INERT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = INERT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder().no_proxy().connector_layer(NoConnections).build()?;
    Ok(INERT.get_or_init(|| client).clone())
}

#[derive(Clone, Copy)]
struct NoConnections;

impl<S> tower::Layer<S> for NoConnections {
    type Service = NoConnection<S>;

    fn layer(&self, _inner: S) -> Self::Service {
        NoConnection(PhantomData)
    }
}

/// Fails at once, never calling the connector it replaced.
struct NoConnection<S>(PhantomData<fn() -> S>);

impl<S> Clone for NoConnection<S> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

impl<S, R> tower::Service<R> for NoConnection<S>
where
    S: tower::Service<R>,
    S::Error: From<&'static str>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Ready<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: R) -> Self::Future {
        std::future::ready(Err("a guarded request must be sent with GuardedClient::send".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A loopback listener, and a way to count the connections it accepted.
    fn listener() -> (std::net::TcpListener, u16) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        (listener, port)
    }

    fn accepted(listener: &std::net::TcpListener) -> usize {
        std::iter::from_fn(|| listener.accept().ok()).count()
    }

    fn client(guard: &OutboundGuard) -> GuardedClient {
        GuardedClient::new(guard, |builder| builder.timeout(Duration::from_secs(2))).expect("client")
    }

    #[tokio::test]
    async fn spellings_of_loopback_and_names_that_resolve_to_it_never_connect() {
        let (listener, port) = listener();
        let guarded = client(&OutboundGuard::default());
        for host in ["2130706433", "127.1", "0x7f000001", "0", "[::ffff:127.0.0.1]", "localhost"] {
            let url = format!("http://{host}:{port}/");
            let outcome = guarded.send(guarded.get(&url)).await;
            assert!(matches!(outcome, Err(SendError::Refused(_))), "{url}: {outcome:?}");
        }
        assert_eq!(accepted(&listener), 0);
    }

    #[tokio::test]
    async fn a_request_sent_past_the_guard_does_not_connect() {
        let (listener, port) = listener();
        let guarded = client(&OutboundGuard::default());
        let bypass = guarded.get(format!("http://2130706433:{port}/")).send().await;
        assert!(bypass.is_err(), "{bypass:?}");
        assert_eq!(accepted(&listener), 0);
    }

    #[tokio::test]
    async fn an_allowed_address_is_reached() {
        let (listener, port) = listener();
        let guarded = client(&OutboundGuard::from_list("127.0.0.1"));
        let server = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let answer = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = server.accept().await.expect("accept");
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            socket.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.expect("write");
        });
        let response = guarded.send(guarded.get(format!("http://127.1:{port}/"))).await.expect("sent");
        assert_eq!(response.status(), 204);
        answer.await.expect("served");
    }
}
