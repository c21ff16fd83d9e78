//! Fixed-window rate limits (seed 001): per authenticated user, or per client IP for
//! anonymous calls, with `X-RateLimit-*` headers on every response and 429 + `Retry-After`
//! when exceeded. The endpoints that take credentials (login, register, refresh, password
//! changes, invitations) are limited per client IP whatever token comes with them — a token of
//! one's own must not buy a guesser a bigger budget — and the handlers add a budget per target
//! email ([`Budget::Credentials`] under an `email:` key). Counters live in each API process;
//! with several replicas behind a load balancer, each enforces the limit for the traffic it
//! sees.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use actix_web::{
    Error, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use shared::auth::TokenType;

use crate::{error::ApiError, extract::bearer_token, state::AppState};

const WINDOW_SECS: u64 = 60;
/// Beyond this many tracked clients, expired windows are swept out.
const SWEEP_ABOVE: usize = 10_000;
/// Health probes are not counted.
const EXEMPT: &[&str] = &["/api/v1/system/status", "/api/v1/system/status/"];
/// Embedded pages and their files (the dashboard, Swagger UI): static, cheap, and a page load
/// is several anonymous requests that must not eat the API budget of everyone behind one IP.
const EXEMPT_PREFIXES: &[&str] = &["/dashboard", "/api/docs"];
/// Where a password, a refresh token or an invitation is tried (paths come trimmed).
const CREDENTIAL_PATHS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/refresh",
    "/api/v1/auth/change-password",
    "/api/v1/auth/accept-invite",
];

/// Whose budget a request spends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    User,
    Anonymous,
    /// Tries of credentials, per client IP and per target email.
    Credentials,
}

#[derive(Debug)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_at: u64,
}

#[derive(Debug)]
pub struct RateLimiter {
    user_limit: u32,
    anon_limit: u32,
    credentials_limit: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(user_limit: u32, anon_limit: u32, credentials_limit: u32) -> Self {
        Self { user_limit, anon_limit, credentials_limit, windows: Mutex::default() }
    }

    /// Counts one request for `key` at `now` (seconds since the epoch).
    pub fn hit(&self, key: &str, budget: Budget, now: u64) -> Decision {
        let limit = match budget {
            Budget::User => self.user_limit,
            Budget::Anonymous => self.anon_limit,
            Budget::Credentials => self.credentials_limit,
        };
        let window = now / WINDOW_SECS;
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (started, _)| *started == window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset_at: (window + 1) * WINDOW_SECS,
        }
    }
}

impl Decision {
    /// The 429 of a request this decision did not allow.
    pub fn refusal(&self, now: u64) -> ApiError {
        ApiError::RateLimited { retry_after: self.reset_at.saturating_sub(now).max(1) }
    }
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    if EXEMPT.contains(&path) || EXEMPT_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let ip = req.peer_addr().map(|addr| addr.ip().to_string()).unwrap_or_default();
    let (key, budget) = if CREDENTIAL_PATHS.contains(&path) {
        (format!("credentials:{ip}"), Budget::Credentials)
    } else {
        let user = bearer_token(req.request())
            .and_then(|token| state.jwt.verify(token, TokenType::Access).ok())
            .map(|claims| claims.user_id);
        match user {
            Some(user_id) => (format!("user:{user_id}"), Budget::User),
            None => (format!("ip:{ip}"), Budget::Anonymous),
        }
    };
    let now = state.clock.epoch_secs();
    let decision = state.limiter.hit(&key, budget, now);
    let mut response = if decision.allowed {
        next.call(req).await?.map_into_boxed_body()
    } else {
        req.into_response(decision.refusal(now).error_response())
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", decision.limit.to_string()),
        ("x-ratelimit-remaining", decision.remaining.to_string()),
        ("x-ratelimit-reset", decision.reset_at.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_resets_with_the_window() {
        let limiter = RateLimiter::new(2, 1, 1);
        assert!(limiter.hit("user:1", Budget::User, 60).allowed);
        let second = limiter.hit("user:1", Budget::User, 61);
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert!(!limiter.hit("user:1", Budget::User, 62).allowed);
        assert!(limiter.hit("user:2", Budget::User, 62).allowed);
        assert!(limiter.hit("ip:a", Budget::Anonymous, 62).allowed);
        assert!(!limiter.hit("ip:a", Budget::Anonymous, 63).allowed);
        assert!(limiter.hit("email:a@b.c", Budget::Credentials, 63).allowed);
        assert!(!limiter.hit("email:a@b.c", Budget::Credentials, 64).allowed);
        assert!(limiter.hit("user:1", Budget::User, 120).allowed, "a new window starts fresh");
    }
}
