//! Whether a host served over plain HTTP also has an https version: a TCP connection to its
//! https port (`FetchSettings::https_port`, 443 outside tests), vetted by the outbound guard
//! like every fetch and made through the proxy's `CONNECT` when there is one. Nothing is sent
//! over the connection: an answer on the port is the sign that "redirect to https" is the fix,
//! where its absence means the site first needs a certificate.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use url::Url;

use super::fetch::{FetchError, Fetcher};

/// The probe gives up after this long (or the fetch timeout, if shorter).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of the proxy's answer read at most.
const MAX_PROXY_ANSWER: usize = 4096;

impl Fetcher {
    /// Whether `url`'s host accepts connections on the https port.
    pub async fn answers_on_https(&self, url: &Url) -> bool {
        let Some(target) = https_target(url, self.settings().https_port) else { return false };
        let limit = PROBE_TIMEOUT.min(self.settings().timeout);
        let outcome = tokio::time::timeout(limit, self.probe(&target)).await;
        let answered = matches!(outcome, Ok(Ok(true)));
        tracing::debug!(url = %target, answered, ?outcome, "https probe");
        answered
    }

    async fn probe(&self, target: &Url) -> Result<bool, FetchError> {
        self.vet(target).await?;
        let host = target.host_str().unwrap_or_default();
        let port = target.port_or_known_default().unwrap_or(443);
        match &self.settings().proxy {
            Some(proxy) => through_proxy(proxy, &format!("{host}:{port}")).await,
            None => direct(self, target, host, port).await,
        }
    }
}

/// `url` with https and the probe's port.
fn https_target(url: &Url, port: u16) -> Option<Url> {
    let mut target = url.join("/").ok()?;
    target.set_scheme("https").ok()?;
    target.set_port(Some(port)).ok()?;
    Some(target)
}

/// A connection to the addresses the host resolves to, each checked by the guard.
async fn direct(fetcher: &Fetcher, target: &Url, host: &str, port: u16) -> Result<bool, FetchError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|error| FetchError::Unreachable(format!("{host} does not resolve: {error}")))?
        .collect();
    let guard = &fetcher.settings().guard;
    if let Some(url::Host::Domain(name)) = target.host() {
        guard
            .check_resolved(name, addresses.iter().map(SocketAddr::ip))
            .map_err(|refused| FetchError::Refused(refused.to_string()))?;
    }
    Ok(TcpStream::connect(addresses.as_slice()).await.is_ok())
}

/// Asks the HTTP proxy to `CONNECT` to `authority`; a 2xx answer means it could.
async fn through_proxy(proxy: &str, authority: &str) -> Result<bool, FetchError> {
    let unreachable = |error: std::io::Error| FetchError::Unreachable(format!("proxy {proxy}: {error}"));
    let proxy_url =
        Url::parse(proxy).map_err(|error| FetchError::Unreachable(format!("bad proxy: {error}")))?;
    let proxy_host = proxy_url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let proxy_port = proxy_url.port_or_known_default().unwrap_or(80);
    let mut stream = TcpStream::connect((proxy_host, proxy_port)).await.map_err(unreachable)?;
    let request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(unreachable)?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 512];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() < MAX_PROXY_ANSWER {
        let read = stream.read(&mut buffer).await.map_err(unreachable)?;
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
    }
    Ok(connect_succeeded(&answer))
}

/// The status line of a proxy's answer to `CONNECT` says 2xx.
fn connect_succeeded(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let mut status_line = text.lines().next().unwrap_or_default().split_whitespace();
    status_line.next().is_some_and(|version| version.starts_with("HTTP/"))
        && status_line.next().is_some_and(|code| code.starts_with('2') && code.len() == 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_targets_the_https_port_of_the_host() {
        let url = Url::parse("http://shop.test:8080/a/b?c").expect("url");
        assert_eq!(https_target(&url, 443).map(String::from).as_deref(), Some("https://shop.test/"));
        assert_eq!(https_target(&url, 9443).map(String::from).as_deref(), Some("https://shop.test:9443/"));
        assert!(connect_succeeded(b"HTTP/1.1 200 Connection established\r\n\r\n"));
        assert!(!connect_succeeded(b"HTTP/1.1 502 Bad Gateway\r\n\r\n"));
        assert!(!connect_succeeded(b""));
    }
}
