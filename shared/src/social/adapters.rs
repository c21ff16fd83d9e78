//! One adapter per platform.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use super::{Platform, SocialError};
use crate::net::OutboundGuard;

/// A post the platform accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub remote_id: String,
    pub url: String,
}

/// What a platform reports about a post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Insights {
    pub likes: i32,
    pub shares: i32,
    pub replies: i32,
    pub impressions: Option<i32>,
}

/// What goes out.
pub struct Outgoing<'a> {
    pub content: &'a str,
    /// Unique per post, set before the first call: the platform's idempotency key where it
    /// has one.
    pub marker: &'a str,
}

#[async_trait]
pub trait Adapter: Send + Sync {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError>;

    /// Who the token belongs to (the platform's handle), or why it does not work.
    async fn check(&self) -> Result<String, SocialError>;

    /// The post's counts as the platform reports them now.
    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError>;
}

/// The adapter for an account of `platform` at `base_url` with `token`.
pub fn adapter_for(
    platform: Platform,
    base_url: &str,
    token: &str,
    guard: &OutboundGuard,
    timeout: Duration,
) -> Result<Box<dyn Adapter>, SocialError> {
    let base = if base_url.trim().is_empty() { platform.default_base_url() } else { base_url.trim() };
    let base = base.trim_end_matches('/').to_owned();
    let http = || -> Result<reqwest::Client, SocialError> {
        guard.check_url(&base).map_err(SocialError::Unreachable)?;
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(guard.resolver())
            .timeout(timeout)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SocialError::Unreachable(error.to_string()))
    };
    Ok(match platform {
        Platform::Sandbox => Box::new(Sandbox),
        Platform::Mastodon => Box::new(Mastodon { http: http()?, base, token: token.to_owned(), timeout }),
        Platform::X => Box::new(XTweets { http: http()?, base, token: token.to_owned(), timeout }),
        Platform::Linkedin | Platform::Facebook | Platform::Instagram => {
            return Err(SocialError::Unsupported(platform.as_str()));
        }
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

/// `POST {instance}/api/v1/statuses`.
struct Mastodon {
    http: reqwest::Client,
    base: String,
    token: String,
    timeout: Duration,
}

#[async_trait]
impl Adapter for Mastodon {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let response = self
            .http
            .post(format!("{}/api/v1/statuses", self.base))
            .bearer_auth(&self.token)
            // Mastodon keeps the key for an hour: the same key never makes a second status.
            .header("Idempotency-Key", post.marker)
            .json(&json!({ "status": post.content, "visibility": "public" }))
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        Ok(Published {
            remote_id: body["id"]
                .as_str()
                .ok_or_else(|| SocialError::Malformed("no status id".into()))?
                .to_owned(),
            url: body["url"].as_str().unwrap_or_default().to_owned(),
        })
    }

    async fn check(&self) -> Result<String, SocialError> {
        let response = self
            .http
            .get(format!("{}/api/v1/accounts/verify_credentials", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        Ok(format!("@{}", body["acct"].as_str().unwrap_or_default()))
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let response = self
            .http
            .get(format!("{}/api/v1/statuses/{remote_id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        Ok(Insights {
            likes: i32::try_from(body["favourites_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            shares: i32::try_from(body["reblogs_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            replies: i32::try_from(body["replies_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            impressions: None,
        })
    }
}

/// `POST {api}/2/tweets`.
struct XTweets {
    http: reqwest::Client,
    base: String,
    token: String,
    timeout: Duration,
}

#[async_trait]
impl Adapter for XTweets {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let response = self
            .http
            .post(format!("{}/2/tweets", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "text": post.content }))
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        let id = body["data"]["id"]
            .as_str()
            .ok_or_else(|| SocialError::Malformed("no tweet id".into()))?
            .to_owned();
        Ok(Published { url: format!("https://x.com/i/web/status/{id}"), remote_id: id })
    }

    async fn check(&self) -> Result<String, SocialError> {
        let response = self
            .http
            .get(format!("{}/2/users/me", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        Ok(format!("@{}", body["data"]["username"].as_str().unwrap_or_default()))
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let response = self
            .http
            .get(format!("{}/2/tweets/{remote_id}?tweet.fields=public_metrics", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| transport(&error, self.timeout))?;
        let body = answer(response).await?;
        let metrics = &body["data"]["public_metrics"];
        Ok(Insights {
            likes: i32::try_from(metrics["like_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            shares: i32::try_from(metrics["retweet_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            replies: i32::try_from(metrics["reply_count"].as_i64().unwrap_or(0)).unwrap_or(i32::MAX),
            impressions: metrics["impression_count"].as_i64().and_then(|n| i32::try_from(n).ok()),
        })
    }
}

fn transport(error: &reqwest::Error, timeout: Duration) -> SocialError {
    if error.is_timeout() {
        SocialError::Timeout(timeout)
    } else {
        SocialError::Unreachable(error.to_string())
    }
}

/// The JSON of a 2xx, or the error the status means, with rate-limit headers read.
async fn answer(response: reqwest::Response) -> Result<Value, SocialError> {
    let status = response.status();
    let retry_after = rate_limit_wait(response.headers());
    let text = response.text().await.map_err(|error| SocialError::Unreachable(error.to_string()))?;
    let message = || text.chars().take(300).collect::<String>();
    match status {
        s if s.is_success() => serde_json::from_str(&text).map_err(|e| SocialError::Malformed(e.to_string())),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(SocialError::Auth(message())),
        StatusCode::TOO_MANY_REQUESTS => Err(SocialError::RateLimited { retry_after }),
        s if s.is_server_error() => Err(SocialError::Server { status: s.as_u16(), message: message() }),
        _ => Err(SocialError::Rejected(message())),
    }
}

/// How long the platform asked us to wait: `Retry-After` (seconds), X's `x-rate-limit-reset`
/// (epoch seconds) or Mastodon's `X-RateLimit-Reset` (an ISO 8601 time).
fn rate_limit_wait(headers: &header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(seconds) = text("retry-after").and_then(|value| value.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let now = chrono::Utc::now();
    let reset = text("x-rate-limit-reset")
        .and_then(|value| value.parse::<i64>().ok())
        .and_then(|epoch| chrono::DateTime::from_timestamp(epoch, 0))
        .or_else(|| {
            text("x-ratelimit-reset")
                .and_then(|value| chrono::DateTime::parse_from_rfc3339(value).ok())
                .map(|at| at.with_timezone(&chrono::Utc))
        })?;
    (reset - now).to_std().ok().or(Some(Duration::ZERO))
}
