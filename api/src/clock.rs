//! The time the API's throttles read: the rate limiter's windows and the sign-in locks. The
//! application runs on [`SystemClock`]; a test builds it with a [`ManualClock`]
//! (`Application::build_with_clock`) and moves time forward instead of sleeping through a
//! window or a lock.

use std::{
    fmt,
    sync::{Mutex, PoisonError},
};

use chrono::{DateTime, Utc};

/// Where the throttles get the current time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Whole seconds since the epoch (the rate limiter's unit).
    fn epoch_secs(&self) -> u64 {
        u64::try_from(self.now().timestamp()).unwrap_or_default()
    }
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is moved.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(start) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC);
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::<Utc>::from_timestamp(120, 0).expect("a time");
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.epoch_secs(), 120);
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.epoch_secs(), 181);
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
