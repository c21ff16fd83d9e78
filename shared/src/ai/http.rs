//! The HTTP client every AI provider sends through, built from its settings with the same
//! checks: an http(s) base URL, a key that is a valid header value, a positive timeout, and
//! for a base URL a tenant chose, the outbound guard.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::AiError;
use crate::net::{GuardedClient, OutboundGuard};

/// A provider's base URL (no trailing slash) and its client; sends nothing. An API answers
/// where it is asked: the client follows no redirect.
pub(crate) fn provider_client(
    base_url: &str,
    api_key: &SecretString,
    timeout: Duration,
    guard: Option<&OutboundGuard>,
) -> Result<(String, GuardedClient), AiError> {
    let base_url = base_url.trim().trim_end_matches('/').to_owned();
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(AiError::Config(format!("base URL `{base_url}` is not an http(s) URL")));
    }
    // A key that is not a valid header value must be refused here rather than fail (or, in
    // async-openai, panic) on the first call.
    if !api_key.expose_secret().bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(AiError::Config("the API key contains characters not allowed in a header".into()));
    }
    if timeout.is_zero() {
        return Err(AiError::Config("the timeout must be positive".into()));
    }
    let url = url::Url::parse(&base_url)
        .map_err(|error| AiError::Config(format!("base URL `{base_url}` is not a valid URL ({error})")))?;
    let configure = |builder: reqwest::ClientBuilder| {
        builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
    };
    let http = match guard {
        Some(guard) => {
            guard.check_url(&url).map_err(|refused| AiError::Config(refused.to_string()))?;
            GuardedClient::new(guard, configure)
        }
        None => GuardedClient::trusted(configure),
    }
    .map_err(|error| AiError::Config(format!("cannot build the HTTP client: {error}")))?;
    Ok((base_url, http))
}
