//! Cross-cutting HTTP behaviour: rate limits, security headers, caching headers, undeclared
//! methods.

mod caching;
mod rate_limit;
mod security_headers;
mod undeclared_method;

pub use caching::caching;
pub use rate_limit::{Budget, RateLimiter, rate_limit};
pub use security_headers::security_headers;
pub use undeclared_method::undeclared_method;
