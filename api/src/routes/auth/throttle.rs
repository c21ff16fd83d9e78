//! Password guessing, per target email: the middleware limits credential endpoints per client
//! IP; here each email gets its own budget too (a guesser with many addresses still tries one
//! account at a time). The lock after a run of failures is `shared::auth::throttle`'s.

pub use shared::auth::throttle::{FailedSignIns, clear, locked_for, record_failure};

use crate::{error::ApiError, middleware::Budget, state::AppState};

/// Spends one try of `email`'s budget: 429 when it is used up.
pub fn spend(state: &AppState, email: &str) -> Result<(), ApiError> {
    let now = state.clock.epoch_secs();
    let decision = state.limiter.hit(&format!("email:{email}"), Budget::Credentials, now);
    if decision.allowed { Ok(()) } else { Err(decision.refusal(now)) }
}

/// The 429 of a locked email.
pub fn locked(retry_after: u64) -> ApiError {
    ApiError::RateLimited { retry_after }
}
