use std::time::Duration;

use base64::Engine;
use rand::Rng;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Credentials, Media, Post, PostInput, User, WordPressError};
use crate::net::{GuardedClient, OutboundGuard, SendError};

/// Answers larger than this are not read (a post echoes its content; 8 MiB is generous).
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// The longest wait between two attempts, whatever the site asks for.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Per attempt, connection to last byte.
    pub timeout: Duration,
    /// Attempts after the first for a failure worth retrying.
    pub max_retries: u32,
    /// Backoff before the first retry when the site gives no `Retry-After`; doubles after.
    pub retry_base_delay: Duration,
    /// Which non-public hosts may be reached (tests allow 127.0.0.1).
    pub guard: OutboundGuard,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(500),
            guard: OutboundGuard::default(),
        }
    }
}

/// One site's REST API.
#[derive(Clone, Debug)]
pub struct WordPressClient {
    http: GuardedClient,
    api: String,
    authorization: String,
    settings: ClientSettings,
}

impl WordPressClient {
    /// Checks the URL and builds the HTTP client; sends nothing.
    pub fn new(credentials: &Credentials, settings: ClientSettings) -> Result<Self, WordPressError> {
        let base = credentials.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(WordPressError::Config(format!("`{base}` is not an http(s) URL")));
        }
        settings.guard.check_str(base).map_err(|refused| WordPressError::Config(refused.to_string()))?;
        if credentials.username.trim().is_empty() {
            return Err(WordPressError::Config("the username is empty".into()));
        }
        // WordPress shows application passwords in groups of four; the spaces are optional.
        let password: String =
            credentials.app_password.expose_secret().chars().filter(|c| !c.is_whitespace()).collect();
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", credentials.username.trim()));
        let http = GuardedClient::new(&settings.guard, |builder| {
            builder
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION"), " (WordPress publisher)"))
        })
        .map_err(|error| WordPressError::Config(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            http,
            api: format!("{base}/wp-json/wp/v2"),
            authorization: format!("Basic {token}"),
            settings,
        })
    }

    /// Who the credentials belong to; fails with `Auth` when WordPress refuses them.
    pub async fn me(&self) -> Result<User, WordPressError> {
        self.call(Method::GET, "/users/me?context=edit", Idempotent::Yes, |request| request).await
    }

    /// Uploads a file to the media library with its alt text.
    pub async fn upload_media(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        mime_type: &str,
        alt_text: &str,
    ) -> Result<Media, WordPressError> {
        let filename: String =
            filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
        // Fields other than the file go in the query string; WordPress merges them in.
        let query = serde_urlencoded::to_string([("alt_text", alt_text)]).unwrap_or_default();
        let path = format!("/media?{query}");
        let disposition = format!("attachment; filename=\"{filename}\"");
        let mime_type = mime_type.to_owned();
        self.call(Method::POST, &path, Idempotent::No, move |request| {
            request
                .header(header::CONTENT_TYPE, mime_type.as_str())
                .header(header::CONTENT_DISPOSITION, disposition.as_str())
                .body(bytes.clone())
        })
        .await
    }

    pub async fn create_post(&self, post: &PostInput) -> Result<Post, WordPressError> {
        self.call(Method::POST, "/posts?context=edit", Idempotent::No, |request| request.json(post)).await
    }

    /// Updates post `id`; `NotFound` when it was deleted on the site.
    pub async fn update_post(&self, id: i64, post: &PostInput) -> Result<Post, WordPressError> {
        let path = format!("/posts/{id}?context=edit");
        self.call(Method::POST, &path, Idempotent::Yes, |request| request.json(post)).await
    }

    /// Posts in any state with exactly this slug (WordPress makes slugs unique, so at most a
    /// few).
    pub async fn posts_with_slug(&self, slug: &str) -> Result<Vec<Post>, WordPressError> {
        let query = serde_urlencoded::to_string([
            ("slug", slug),
            ("status", "publish,future,draft,pending,private"),
            ("context", "edit"),
        ])
        .unwrap_or_default();
        self.call(Method::GET, &format!("/posts?{query}"), Idempotent::Yes, |request| request).await
    }

    /// Sends a request (built by `build`, once per attempt) and parses the answer, retrying
    /// what is worth retrying within the bound.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        idempotent: Idempotent,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, WordPressError> {
        let url = format!("{}{path}", self.api);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = build(
                self.http.request(method.clone(), &url).header(header::AUTHORIZATION, &self.authorization),
            );
            let outcome = match self.http.send(request).await {
                Ok(response) => self.answer(response).await,
                Err(SendError::Refused(refused)) => Err(WordPressError::Config(refused.to_string())),
                Err(SendError::Http(error)) => Err(self.transport_error(&error)),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let worth_retrying = match &error {
                WordPressError::Server { status, .. } => {
                    matches!(status, 429 | 502 | 503 | 504) || idempotent == Idempotent::Yes
                }
                WordPressError::Unreachable(_) => true,
                WordPressError::Timeout(_) => idempotent == Idempotent::Yes,
                _ => false,
            };
            if !worth_retrying || attempt > self.settings.max_retries {
                tracing::warn!(%method, path, attempt, code = error.code(), %error, "WordPress call failed");
                return Err(error);
            }
            let wait = self.wait_before_retry(attempt, error.retry_after());
            tracing::info!(%method, path, attempt, code = error.code(), wait_ms = wait.as_millis() as u64, "WordPress call failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn answer<T: DeserializeOwned>(&self, mut response: Response) -> Result<T, WordPressError> {
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok());
            return Err(WordPressError::Config(format!(
                "the site redirects ({status}) to {}; save that address as the WordPress URL",
                location.unwrap_or("another address")
            )));
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| self.transport_error(&error))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(WordPressError::Malformed(format!(
                    "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|error| {
                WordPressError::Malformed(format!(
                    "the site did not answer with WordPress REST JSON ({error}); is /wp-json/ reachable?"
                ))
            });
        }
        Err(failure(status, &body, retry_after))
    }

    fn transport_error(&self, error: &reqwest::Error) -> WordPressError {
        if error.is_timeout() {
            return WordPressError::Timeout(self.settings.timeout);
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        WordPressError::Unreachable(message)
    }

    fn wait_before_retry(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self.settings.retry_base_delay.saturating_mul(1 << (attempt - 1).min(16));
        let jittered = exponential.mul_f64(rand::rng().random_range(0.5..=1.0));
        retry_after.unwrap_or(jittered).min(MAX_WAIT)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idempotent {
    Yes,
    No,
}

/// A WordPress error answer: `{"code": "...", "message": "...", "data": {"status": 401}}`.
fn failure(status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> WordPressError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = parsed["code"].as_str().unwrap_or_default().to_owned();
    let message = match parsed["message"].as_str() {
        Some(message) => message.to_owned(),
        None => String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned(),
    };
    let number = status.as_u16();
    match number {
        401 | 403 => WordPressError::Auth { status: number, message },
        404 if code == "rest_no_route" => WordPressError::Config(format!(
            "the site has no such REST route ({message}); is the WordPress REST API enabled?"
        )),
        404 => WordPressError::NotFound(if code.starts_with("rest_post") { "post" } else { "resource" }),
        429 | 500..=599 => WordPressError::Server { status: number, message, retry_after },
        _ => WordPressError::Rejected { status: number, code, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_classified() {
        let body = br#"{"code":"incorrect_password","message":"The provided password is an invalid application password.","data":{"status":401}}"#;
        assert!(matches!(
            failure(StatusCode::UNAUTHORIZED, body, None),
            WordPressError::Auth { status: 401, .. }
        ));
        let body = br#"{"code":"rest_post_invalid_id","message":"Invalid post ID.","data":{"status":404}}"#;
        assert!(matches!(failure(StatusCode::NOT_FOUND, body, None), WordPressError::NotFound("post")));
        let body = br#"{"code":"rest_no_route","message":"No route was found","data":{"status":404}}"#;
        assert!(matches!(failure(StatusCode::NOT_FOUND, body, None), WordPressError::Config(_)));
        let error =
            failure(StatusCode::SERVICE_UNAVAILABLE, b"<html>busy</html>", Some(Duration::from_secs(2)));
        assert!(error.is_retryable());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
        let body = br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): status","data":{"status":400}}"#;
        assert_eq!(failure(StatusCode::BAD_REQUEST, body, None).code(), "wordpress_rejected");
    }

    #[test]
    fn inside_addresses_are_refused_before_sending() {
        let credentials = Credentials {
            base_url: "http://169.254.169.254".into(),
            username: "admin".into(),
            app_password: "abcd efgh".to_owned().into(),
        };
        let error = WordPressClient::new(&credentials, ClientSettings::default()).expect_err("refused");
        assert_eq!(error.code(), "wordpress_misconfigured");
        let credentials = Credentials { base_url: "ftp://blog.example.com".into(), ..credentials };
        assert!(WordPressClient::new(&credentials, ClientSettings::default()).is_err());
    }
}
