use std::time::Duration;

/// Why an AI call failed. `is_retryable` decides whether the caller's bounded retry loop
/// tries again; authentication, bad requests and configuration mistakes never are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AiError {
    #[error("the AI provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the AI provider is rate limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the AI provider rejected the API key: {0}")]
    Auth(String),
    #[error("the AI provider rejected the request: {0}")]
    BadRequest(String),
    #[error("the AI provider failed with status {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the AI provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the AI provider's answer could not be used: {0}")]
    Malformed(String),
    /// The settings cannot work (an API key that is not a valid header value, a base URL
    /// that is not http(s), a client that cannot be built); found before any request.
    #[error("the AI provider is misconfigured: {0}")]
    Config(String),
}

impl AiError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AiError::Timeout(_)
                | AiError::RateLimited { .. }
                | AiError::Server { .. }
                | AiError::Unreachable(_)
        )
    }

    /// The stable code stored in a failed task's error.
    pub fn code(&self) -> &'static str {
        match self {
            AiError::Timeout(_) => "ai_timeout",
            AiError::RateLimited { .. } => "ai_rate_limited",
            AiError::Auth(_) => "ai_auth_failed",
            AiError::BadRequest(_) => "ai_bad_request",
            AiError::Server { .. } => "ai_provider_error",
            AiError::Unreachable(_) => "ai_unreachable",
            AiError::Malformed(_) => "ai_malformed_response",
            AiError::Config(_) => "ai_misconfigured",
        }
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AiError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}
