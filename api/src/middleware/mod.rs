//! Cross-cutting HTTP behaviour: rate limits and security headers.

mod rate_limit;
mod security_headers;

pub use rate_limit::{Budget, RateLimiter, now, rate_limit};
pub use security_headers::security_headers;
