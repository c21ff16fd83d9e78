//! Fixed-window rate limits (seed 001): per authenticated user, or per client IP for
//! anonymous calls, with `X-RateLimit-*` headers on every response and 429 + `Retry-After`
//! when exceeded. Counters live in each API process; with several replicas behind a load
//! balancer, each enforces the limit for the traffic it sees.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
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
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(user_limit: u32, anon_limit: u32) -> Self {
        Self { user_limit, anon_limit, windows: Mutex::default() }
    }

    /// Counts one request for `key` at `now` (seconds since the epoch).
    pub fn hit(&self, key: &str, authenticated: bool, now: u64) -> Decision {
        let limit = if authenticated { self.user_limit } else { self.anon_limit };
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
    let user = bearer_token(req.request())
        .and_then(|token| state.jwt.verify(token, TokenType::Access).ok())
        .map(|claims| claims.user_id);
    let key = match user {
        Some(user_id) => format!("user:{user_id}"),
        None => format!("ip:{}", req.peer_addr().map(|addr| addr.ip().to_string()).unwrap_or_default()),
    };
    let now =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default();
    let decision = state.limiter.hit(&key, user.is_some(), now);
    let mut response = if decision.allowed {
        next.call(req).await?.map_into_boxed_body()
    } else {
        let error = ApiError::RateLimited { retry_after: decision.reset_at.saturating_sub(now).max(1) };
        req.into_response(error.error_response())
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
        let limiter = RateLimiter::new(2, 1);
        assert!(limiter.hit("user:1", true, 60).allowed);
        let second = limiter.hit("user:1", true, 61);
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert!(!limiter.hit("user:1", true, 62).allowed);
        assert!(limiter.hit("user:2", true, 62).allowed);
        assert!(limiter.hit("ip:a", false, 62).allowed);
        assert!(!limiter.hit("ip:a", false, 63).allowed);
        assert!(limiter.hit("user:1", true, 120).allowed, "a new window starts fresh");
    }
}
