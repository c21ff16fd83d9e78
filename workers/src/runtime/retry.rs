//! Backoff: exponential levels (each a delay queue) with jitter, honouring a service's
//! `Retry-After` when it gave one.

use std::time::Duration;

use rand::Rng;

/// Chooses the delay queue (by its level delay) and the message's own TTL for the retry that
/// follows `attempt` (1-based).
pub fn backoff(levels: &[Duration], attempt: i32, retry_after: Option<Duration>) -> (Duration, Duration) {
    let Some(&longest) = levels.last() else {
        return (Duration::ZERO, Duration::ZERO);
    };
    if let Some(wanted) = retry_after {
        let level = levels.iter().copied().find(|level| *level >= wanted).unwrap_or(longest);
        return (level, wanted.min(level));
    }
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(levels.len() - 1);
    let level = levels[index];
    // Full delay minus up to 25%: spreads a burst of failures without overshooting the level.
    let jitter = rand::rng().random_range(0.75..=1.0);
    (level, level.mul_f64(jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> Vec<Duration> {
        [1, 4, 16].map(Duration::from_secs).to_vec()
    }

    #[test]
    fn grows_with_attempts_and_stays_within_its_level() {
        let (level, ttl) = backoff(&levels(), 1, None);
        assert_eq!(level, Duration::from_secs(1));
        assert!(ttl >= Duration::from_millis(750) && ttl <= level);
        assert_eq!(backoff(&levels(), 2, None).0, Duration::from_secs(4));
        assert_eq!(backoff(&levels(), 9, None).0, Duration::from_secs(16));
    }

    #[test]
    fn honours_retry_after_within_the_longest_level() {
        assert_eq!(
            backoff(&levels(), 1, Some(Duration::from_secs(3))),
            (Duration::from_secs(4), Duration::from_secs(3))
        );
        assert_eq!(
            backoff(&levels(), 1, Some(Duration::from_secs(60))),
            (Duration::from_secs(16), Duration::from_secs(16))
        );
    }
}
