//! One adapter per platform, behind [`Adapter`]; the HTTP plumbing they share is [`Api`].
//!
//! Every call has the account's timeout, goes through the outbound guard (`GuardedClient`: each
//! request's URL checked as it is sent, the platform's base, an upload URL it answered with or
//! a media URL alike; no redirects; the guard's resolver) — a refusal is
//! [`SocialError::Refused`], never retried — and reads the platform's error answers in its own dialect: a refused
//! token is [`SocialError::Auth`] (never retried), a rate limit carries the wait the platform
//! asked for, a 5xx or timeout is retryable, anything else is a rejection with the platform's
//! message.

mod graph;
mod linkedin;
mod mastodon;
mod x;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, StatusCode, header::HeaderMap};
use serde_json::Value;

use super::{MediaKind, Platform, SocialError};
use crate::net::{GuardedClient, OutboundGuard, SendError};

/// A post the platform accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub remote_id: String,
    pub url: String,
}

/// What a platform reports about a post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Insights {
    pub likes: i32,
    pub shares: i32,
    pub replies: i32,
    pub impressions: Option<i32>,
}

/// What goes out.
pub struct Outgoing<'a> {
    pub content: &'a str,
    /// Public URLs of the images and videos to attach, in order.
    pub media: &'a [String],
    /// Unique per post, set before the first call: the platform's idempotency key where it
    /// has one.
    pub marker: &'a str,
    /// When the first attempt began: a post found on the platform from before this is not ours.
    pub since: DateTime<Utc>,
}

/// A connected account, as an adapter needs it.
pub struct Connection<'a> {
    pub platform: Platform,
    /// Empty for the platform's public API.
    pub base_url: &'a str,
    pub token: &'a str,
    /// The platform's id of the account: the Facebook Page id, the Instagram user id, the
    /// LinkedIn author URN, the X user id (looked up when empty).
    pub platform_user_id: &'a str,
}

#[async_trait]
pub trait Adapter: Send + Sync {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError>;

    /// The post, if an earlier attempt already made it: asked before publishing again after
    /// an attempt whose outcome is unknown. Platforms with an idempotency key answer `None`
    /// and let the key do the work; the others look through the account's recent posts.
    async fn find_published(&self, _post: &Outgoing<'_>) -> Result<Option<Published>, SocialError> {
        Ok(None)
    }

    /// Who the token belongs to (the platform's handle), or why it does not work.
    async fn check(&self) -> Result<String, SocialError>;

    /// The post's counts as the platform reports them now.
    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError>;
}

/// The adapter for `connection`, its calls bounded by `timeout`.
pub fn adapter_for(
    connection: &Connection<'_>,
    guard: &OutboundGuard,
    timeout: Duration,
) -> Result<Box<dyn Adapter>, SocialError> {
    let platform = connection.platform;
    if platform == Platform::Sandbox {
        return Ok(Box::new(Sandbox));
    }
    let base = connection.base_url.trim();
    let base = if base.is_empty() { platform.default_base_url() } else { base };
    let api = Api::new(platform, base.trim_end_matches('/'), connection.token, guard, timeout)?;
    let user_id = connection.platform_user_id.trim().to_owned();
    let needs_id = |what: &str| {
        if user_id.is_empty() {
            Err(SocialError::Rejected(format!("the account has no {what} (platform_user_id)")))
        } else {
            Ok(user_id.clone())
        }
    };
    Ok(match platform {
        Platform::Sandbox => Box::new(Sandbox),
        Platform::Mastodon => Box::new(mastodon::Mastodon::new(api)),
        Platform::X => Box::new(x::XTweets::new(api, user_id.clone())),
        Platform::Facebook => Box::new(graph::FacebookPage::new(api, needs_id("Facebook Page id")?)),
        Platform::Instagram => Box::new(graph::Instagram::new(api, needs_id("Instagram user id")?)),
        Platform::Linkedin => Box::new(linkedin::LinkedIn::new(api, needs_id("LinkedIn author URN")?)),
    })
}

/// Records the post locally: the marker is the remote id.
struct Sandbox;

#[async_trait]
impl Adapter for Sandbox {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        Ok(Published {
            remote_id: format!("sandbox-{}", post.marker),
            url: format!("sandbox://posts/{}", post.marker),
        })
    }

    async fn check(&self) -> Result<String, SocialError> {
        Ok("sandbox".to_owned())
    }

    async fn insights(&self, _remote_id: &str) -> Result<Insights, SocialError> {
        Ok(Insights::default())
    }
}

/// How a platform's error answers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Mastodon,
    X,
    Graph,
    LinkedIn,
}

/// A 2xx answer: its headers and its JSON (`Null` when the body is empty).
struct Reply {
    headers: HeaderMap,
    body: Value,
}

/// An image or video fetched for uploading.
struct MediaFile {
    bytes: Vec<u8>,
    mime: String,
    kind: MediaKind,
}

/// How often, and how many times, media the platform is still processing is looked at again.
const PROCESSING_POLL: Duration = Duration::from_millis(500);
const PROCESSING_POLLS: u32 = 240;

/// The largest file fetched for an upload.
const MAX_MEDIA_BYTES: usize = 40 * 1024 * 1024;

/// One account's connection to its platform's API.
struct Api {
    http: GuardedClient,
    base: String,
    token: String,
    timeout: Duration,
    dialect: Dialect,
}

impl Api {
    fn new(
        platform: Platform,
        base: &str,
        token: &str,
        guard: &OutboundGuard,
        timeout: Duration,
    ) -> Result<Self, SocialError> {
        guard.check_str(base).map_err(|refused| SocialError::Refused(refused.to_string()))?;
        let http = GuardedClient::new(guard, |builder| {
            builder.timeout(timeout).user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
        })
        .map_err(|error| SocialError::Unreachable(error.to_string()))?;
        let dialect = match platform {
            Platform::X => Dialect::X,
            Platform::Facebook | Platform::Instagram => Dialect::Graph,
            Platform::Linkedin => Dialect::LinkedIn,
            Platform::Mastodon | Platform::Sandbox => Dialect::Mastodon,
        };
        Ok(Self { http, base: base.to_owned(), token: token.to_owned(), timeout, dialect })
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    /// Sends `request` through the guard.
    async fn send(&self, request: RequestBuilder) -> Result<reqwest::Response, SocialError> {
        self.http.send(request).await.map_err(|error| match error {
            SendError::Refused(refused) => SocialError::Refused(refused.to_string()),
            SendError::Http(error) => transport(&error, self.timeout),
        })
    }

    async fn call(&self, request: RequestBuilder) -> Result<Reply, SocialError> {
        let response = self.send(request).await?;
        read(response, self.dialect).await
    }

    async fn json(&self, request: RequestBuilder) -> Result<Value, SocialError> {
        Ok(self.call(request).await?.body)
    }

    /// Fetches media item `index` for uploading, through the guard; its type is read from the
    /// bytes (images) or the server's content type (videos).
    async fn fetch_media(&self, index: usize, url: &str) -> Result<MediaFile, SocialError> {
        let refused = |why: String| SocialError::Rejected(format!("media item {index}: {why}"));
        let mut response = self.send(self.http.get(url)).await.map_err(|error| match error {
            SocialError::Refused(why) => SocialError::Refused(format!("media item {index}: {why}")),
            other => other,
        })?;
        if !response.status().is_success() {
            return Err(refused(format!("fetching it answered {}", response.status())));
        }
        let declared = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| transport(&error, self.timeout))? {
            if bytes.len() + chunk.len() > MAX_MEDIA_BYTES {
                return Err(refused(format!("larger than {} MiB", MAX_MEDIA_BYTES / 1024 / 1024)));
            }
            bytes.extend_from_slice(&chunk);
        }
        if let Some((format, ..)) = crate::ai::images::sniff(&bytes) {
            return Ok(MediaFile { bytes, mime: format.mime_type().to_owned(), kind: MediaKind::Image });
        }
        if declared.starts_with("video/") {
            let mime = declared.split(';').next().unwrap_or_default().trim().to_owned();
            return Ok(MediaFile { bytes, mime, kind: MediaKind::Video });
        }
        Err(refused("is neither a PNG, JPEG, GIF or WebP image nor a video".to_owned()))
    }
}

fn transport(error: &reqwest::Error, timeout: Duration) -> SocialError {
    if error.is_timeout() {
        SocialError::Timeout(timeout)
    } else {
        SocialError::Unreachable(error.to_string())
    }
}

/// The reply to a 2xx, or the error the answer means in `dialect`.
async fn read(response: reqwest::Response, dialect: Dialect) -> Result<Reply, SocialError> {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.map_err(|error| SocialError::Unreachable(error.to_string()))?;
    let body: Value =
        if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    if status.is_success() {
        if body.is_null() && !text.trim().is_empty() {
            return Err(SocialError::Malformed("the answer is not JSON".to_owned()));
        }
        return Ok(Reply { headers, body });
    }
    let message = error_message(&body).unwrap_or_else(|| text.chars().take(300).collect());
    if dialect == Dialect::Graph
        && let Some(error) = graph::classify(&body["error"], &headers, status, &message)
    {
        return Err(error);
    }
    Err(match status {
        StatusCode::UNAUTHORIZED => SocialError::Auth(message),
        // Mastodon answers 403 for a token without the scope; X and LinkedIn for refusals of
        // the post itself (duplicate content, an author the member may not post as).
        StatusCode::FORBIDDEN if dialect == Dialect::Mastodon => SocialError::Auth(message),
        StatusCode::TOO_MANY_REQUESTS => SocialError::RateLimited { retry_after: rate_limit_wait(&headers) },
        s if s.is_server_error() => SocialError::Server { status: s.as_u16(), message },
        _ => SocialError::Rejected(message),
    })
}

/// The human part of a platform's error body.
fn error_message(body: &Value) -> Option<String> {
    [&body["error"]["message"], &body["error"], &body["detail"], &body["message"]]
        .into_iter()
        .find_map(|value| value.as_str())
        .map(|message| message.chars().take(300).collect())
}

/// How long the platform asked us to wait: `Retry-After` (seconds), X's `x-rate-limit-reset`
/// (epoch seconds) or Mastodon's `X-RateLimit-Reset` (an ISO 8601 time).
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(seconds) = text("retry-after").and_then(|value| value.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let reset = text("x-rate-limit-reset")
        .and_then(|value| value.parse::<i64>().ok())
        .and_then(|epoch| DateTime::from_timestamp(epoch, 0))
        .or_else(|| {
            text("x-ratelimit-reset")
                .and_then(|value| DateTime::parse_from_rfc3339(value).ok())
                .map(|at| at.with_timezone(&Utc))
        })?;
    (reset - Utc::now()).to_std().ok().or(Some(Duration::ZERO))
}

/// A platform's count as stored.
fn count(value: &Value) -> i32 {
    value.as_i64().map_or(0, |n| i32::try_from(n.max(0)).unwrap_or(i32::MAX))
}

/// Whether a post found on the platform has the text we sent: platforms shorten links and
/// trim whitespace, so links and spacing are not compared.
fn same_text(sent: &str, found: &str) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(|word| {
                if word.starts_with("http://") || word.starts_with("https://") {
                    "<link>".to_owned()
                } else {
                    word.to_owned()
                }
            })
            .collect()
    };
    words(sent) == words(found)
}

/// Five minutes before the first attempt: the platforms' clocks are not ours.
fn lookup_since(post: &Outgoing<'_>) -> DateTime<Utc> {
    post.since - chrono::Duration::minutes(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_text_matches_with_links_shortened() {
        assert!(same_text("Read https://example.com/a  now", "Read https://t.co/xyz now"));
        assert!(!same_text("Read this", "Read that"));
    }

    #[test]
    fn waits_come_from_each_platforms_header() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().expect("header"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::from_secs(7)));
        let mut headers = HeaderMap::new();
        let reset = (Utc::now() + chrono::Duration::seconds(30)).timestamp().to_string();
        headers.insert("x-rate-limit-reset", reset.parse().expect("header"));
        let wait = rate_limit_wait(&headers).expect("wait");
        assert!(wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28), "{wait:?}");
    }
}
