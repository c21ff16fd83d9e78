//! The HTTP transport we hand to async-openai, and the mapping of its failures onto
//! `AiError`.
//!
//! async-openai turns an error response into `OpenAIError::ApiError`, which keeps the status
//! and the error JSON but drops the headers, so `Retry-After` would be lost. Its default
//! executor also retries on its own. Installing our own tower service (`with_http_service`)
//! fixes both: the service sends the request once, and turns any non-2xx answer into an
//! `HttpFailure` that carries the status, the provider's message and the parsed
//! `Retry-After`, boxed into `OpenAIError::Boxed` for us to downcast. Retrying is ours
//! (`crate::ai::retry`). The service sends through the `GuardedClient`, so each request async-openai
//! builds passes the outbound guard; a refusal is boxed the same way and is never retried.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use async_openai::{error::OpenAIError, middleware::HttpRequestFactory};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::{
    ai::AiError,
    net::{GuardedClient, Refused, SendError},
};

/// Longest provider message we keep in an error (they end up in task rows and logs).
const MAX_MESSAGE_CHARS: usize = 300;

/// Sends each request exactly once; a non-2xx answer becomes an `HttpFailure`.
#[derive(Clone, Debug)]
pub(super) struct Transport {
    http: GuardedClient,
}

impl Transport {
    pub(super) fn new(http: GuardedClient) -> Self {
        Self { http }
    }
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = http.execute(request).await.map_err(|error| match error {
                SendError::Refused(refused) => OpenAIError::Boxed(Box::new(refused)),
                SendError::Http(error) => OpenAIError::Reqwest(error),
            })?;
            if response.status().is_success() {
                return Ok(response);
            }
            Err(OpenAIError::Boxed(Box::new(HttpFailure::read(response).await)))
        })
    }
}

/// An error answer, with what async-openai would otherwise drop.
#[derive(Debug, thiserror::Error)]
#[error("status {status}: {message}")]
pub(crate) struct HttpFailure {
    pub status: u16,
    pub message: String,
    /// OpenAI's machine-readable `error.code`, e.g. `insufficient_quota`.
    pub code: Option<String>,
    pub retry_after: Option<Duration>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl HttpFailure {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers(), SystemTime::now());
        // A body we cannot read (the connection dropped) still leaves the status to go on.
        let body = response.text().await.unwrap_or_default();
        let (message, code) = match serde_json::from_str::<ErrorBody>(&body) {
            Ok(parsed) => {
                let code = parsed.error.code.map(|code| match code {
                    serde_json::Value::String(code) => code,
                    other => other.to_string(),
                });
                (parsed.error.message, code)
            }
            Err(_) => (body, None),
        };
        Self { status, message: truncate(message.trim()), code, retry_after }
    }

    pub(crate) fn into_ai_error(self, timeout: Duration) -> AiError {
        let HttpFailure { status, message, code, retry_after } = self;
        let message = if message.is_empty() { format!("HTTP {status}") } else { message };
        match status {
            // 402: out of credit at the provider; a person has to act.
            401..=403 => AiError::Auth(message),
            // Out of credit is not a rate limit: waiting does not help, a person has to act.
            429 if code.as_deref() == Some("insufficient_quota") => AiError::Auth(message),
            429 => AiError::RateLimited { retry_after },
            408 => AiError::Timeout(timeout),
            400..=499 => AiError::BadRequest(message),
            _ => AiError::Server { status, message },
        }
    }
}

/// How long the provider asked us to wait: OpenAI's and Azure's `retry-after-ms` first (it is
/// more precise), then the standard `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|ms| ms.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(at.with_timezone(&chrono::Utc));
    // A date already past means "now".
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Maps whatever async-openai returned onto our error kinds.
pub(super) fn classify(error: OpenAIError, timeout: Duration) -> AiError {
    match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpFailure>() {
            Ok(failure) => failure.into_ai_error(timeout),
            Err(other) => match other.downcast::<Refused>() {
                Ok(refused) => AiError::Config(refused.to_string()),
                Err(other) => AiError::Unreachable(truncate(&other.to_string())),
            },
        },
        OpenAIError::Reqwest(error) => classify_reqwest(&error, timeout),
        // Our transport answers error statuses itself; this arm only covers a future
        // async-openai that checks statuses before the transport sees them.
        OpenAIError::ApiError(response) => HttpFailure {
            status: response.status_code.as_u16(),
            message: truncate(&response.api_error.message),
            code: response.api_error.code,
            retry_after: None,
        }
        .into_ai_error(timeout),
        OpenAIError::JSONDeserialize(error, content) => {
            AiError::Malformed(truncate(&format!("{error}; body starts with: {content}")))
        }
        OpenAIError::InvalidArgument(message) => AiError::BadRequest(message),
        other => AiError::Malformed(truncate(&other.to_string())),
    }
}

pub(crate) fn classify_reqwest(error: &reqwest::Error, timeout: Duration) -> AiError {
    if error.is_timeout() {
        AiError::Timeout(timeout)
    } else if error.is_decode() {
        AiError::Malformed(truncate(&error_chain(error)))
    } else if error.is_builder() {
        AiError::Config(truncate(&error_chain(error)))
    } else {
        // Connection refused, DNS, TLS, a connection dropped mid-answer: the provider could
        // not be reached, and a later attempt may do better.
        AiError::Unreachable(truncate(&error_chain(error)))
    }
}

/// reqwest's own message is just "error sending request"; the cause says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50 GMT
        assert_eq!(parse_retry_after(&headers(&[("retry-after", "2")]), now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "9"), ("retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(parse_retry_after(&headers(&[]), now), None);
    }

    #[test]
    fn statuses_map_onto_error_kinds() {
        let kind = |status: u16, code: Option<&str>| {
            HttpFailure {
                status,
                message: String::new(),
                code: code.map(str::to_owned),
                retry_after: Some(Duration::from_secs(1)),
            }
            .into_ai_error(Duration::from_secs(5))
            .code()
        };
        assert_eq!(kind(401, None), "ai_auth_failed");
        assert_eq!(kind(403, None), "ai_auth_failed");
        assert_eq!(kind(400, None), "ai_bad_request");
        assert_eq!(kind(404, None), "ai_bad_request");
        assert_eq!(kind(422, None), "ai_bad_request");
        assert_eq!(kind(429, None), "ai_rate_limited");
        assert_eq!(kind(429, Some("insufficient_quota")), "ai_auth_failed");
        assert_eq!(kind(500, None), "ai_provider_error");
        assert_eq!(kind(503, None), "ai_provider_error");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_MESSAGE_CHARS + 10);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
