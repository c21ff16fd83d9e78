//! Fetching pages as a careful crawler does: a clear user agent, a timeout per request, a cap
//! on the body, compressed transfer, and redirects followed by hand (at most five, each
//! recorded) so that every hop is checked against the outbound guard before it is requested:
//! the parsed URL's literal address at once, names by resolving them first (any non-public
//! address refuses the hop, judged by `OutboundGuard::check_resolved` as the guard's resolver
//! judges it). Each hop is sent through the `GuardedClient`, which checks its URL again and
//! resolves through the guard, so a name that changes its answer between the check and the
//! connection is still refused before connecting.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use shared::net::{GuardedClient, OutboundGuard, SendError};
use url::Url;

/// The product token robots.txt groups are matched against.
pub const BOT_TOKEN: &str = "SwitchyardBot";
pub const USER_AGENT: &str =
    concat!("Mozilla/5.0 (compatible; SwitchyardBot/", env!("CARGO_PKG_VERSION"), "; SEO audit)");

#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// Per request, connection to last byte.
    pub timeout: Duration,
    /// Bytes of body read at most (after decompression); the rest is not downloaded.
    pub max_bytes: usize,
    pub max_redirects: usize,
    pub guard: OutboundGuard,
    /// Sends every request through this HTTP proxy. Tests point it at a proxy that dials only
    /// loopback, so a guard that let something through fails the test instead of reaching out.
    pub proxy: Option<String>,
    /// Where `Fetcher::answers_on_https` looks for a plain-http host's https version: 443, or
    /// in tests a loopback port standing in for it.
    pub https_port: u16,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            max_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            guard: OutboundGuard::default(),
            proxy: None,
            https_port: 443,
        }
    }
}

/// One redirect on the way to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub url: String,
    pub status: u16,
    pub location: String,
}

/// A fetched document.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// Where the redirects ended.
    pub url: Url,
    pub status: u16,
    pub redirects: Vec<Hop>,
    pub content_type: String,
    pub x_robots_tag: Option<String>,
    pub body: Vec<u8>,
    /// More than `max_bytes` were on offer.
    pub truncated: bool,
    /// From the first request to the last byte, redirects included.
    pub elapsed: Duration,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_html(&self) -> bool {
        self.content_type.is_empty() || self.content_type.contains("html")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The address is one we may not reach (private, loopback, link-local, metadata...).
    #[error("refused: {0}")]
    Refused(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize, hops: Vec<Hop> },
    #[error("a redirect to `{0}`, which is not an http(s) URL")]
    BadRedirect(String),
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Refused(_) => "address_refused",
            FetchError::Timeout(_) => "timeout",
            FetchError::Unreachable(_) => "unreachable",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::BadRedirect(_) => "bad_redirect",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Fetcher {
    client: GuardedClient,
    settings: FetchSettings,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let proxy = match &settings.proxy {
            Some(proxy) => Some(
                reqwest::Proxy::all(proxy.as_str())
                    .map_err(|error| FetchError::Unreachable(format!("bad proxy `{proxy}`: {error}")))?,
            ),
            None => None,
        };
        let client = GuardedClient::new(&settings.guard, |builder| {
            let builder = match proxy {
                Some(proxy) => builder.proxy(proxy),
                None => builder,
            };
            builder
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                .user_agent(USER_AGENT)
                .gzip(true)
                .brotli(true)
                .deflate(true)
        })
        .map_err(|error| FetchError::Unreachable(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GETs `url`, following redirects.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        self.fetch(Method::GET, url, true).await
    }

    /// The final status of `url` for a link check: HEAD, or GET when the server does not
    /// answer HEAD; the body is not read.
    pub async fn status_of(&self, url: &Url) -> Result<u16, FetchError> {
        let head = self.fetch(Method::HEAD, url, false).await?;
        if matches!(head.status, 405 | 501) {
            return Ok(self.fetch(Method::GET, url, false).await?.status);
        }
        Ok(head.status)
    }

    async fn fetch(&self, method: Method, url: &Url, read_body: bool) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        let mut current = url.clone();
        let mut redirects = Vec::new();
        loop {
            self.vet(&current).await?;
            let request = self
                .client
                .request(method.clone(), current.clone())
                .header(header::ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
            let response = self.client.send(request).await.map_err(|error| match error {
                SendError::Refused(refused) => FetchError::Refused(refused.to_string()),
                SendError::Http(error) => self.transport_error(&error),
            })?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let next = current.join(&location).map_err(|_| FetchError::BadRedirect(location.clone()))?;
                redirects.push(Hop {
                    url: current.to_string(),
                    status: status.as_u16(),
                    location: next.to_string(),
                });
                if redirects.len() > self.settings.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        limit: self.settings.max_redirects,
                        hops: redirects,
                    });
                }
                current = next;
                continue;
            }
            let header_text = |name: header::HeaderName| {
                response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
            };
            let content_type = header_text(header::CONTENT_TYPE).unwrap_or_default().to_lowercase();
            let x_robots_tag = response
                .headers()
                .get_all("x-robots-tag")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            let (body, truncated) = if read_body { self.read(response).await? } else { (Vec::new(), false) };
            return Ok(Fetched {
                url: current,
                status: status.as_u16(),
                redirects,
                content_type,
                x_robots_tag: (!x_robots_tag.is_empty()).then_some(x_robots_tag),
                body,
                truncated,
                elapsed: started.elapsed(),
            });
        }
    }

    /// Refuses what is not http(s), a literal address we may not reach, or a name that
    /// resolves to one (unless the host is on the allow-list).
    pub(super) async fn vet(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadRedirect(url.to_string()));
        }
        let guard = &self.settings.guard;
        guard.check_url(url).map_err(|refused| FetchError::Refused(refused.to_string()))?;
        let Some(url::Host::Domain(name)) = url.host() else { return Ok(()) };
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses = tokio::time::timeout(self.settings.timeout, tokio::net::lookup_host((name, port)))
            .await
            .map_err(|_| FetchError::Timeout(self.settings.timeout))?
            .map_err(|error| FetchError::Unreachable(format!("{name} does not resolve: {error}")))?;
        guard
            .check_resolved(name, addresses.map(|address| address.ip()))
            .map_err(|refused| FetchError::Refused(refused.to_string()))
    }

    async fn read(&self, mut response: reqwest::Response) -> Result<(Vec<u8>, bool), FetchError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| self.transport_error(&error))? {
            let room = self.settings.max_bytes - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, false))
    }

    fn transport_error(&self, error: &reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout(self.settings.timeout);
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        FetchError::Unreachable(message)
    }
}
