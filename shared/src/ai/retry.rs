//! Bounded retries with exponential backoff and jitter, honouring the provider's
//! `Retry-After`. Each attempt has its own timeout. When the attempts run out, or the provider
//! asks for a wait longer than we are willing to hold a worker for, the last error is returned
//! and the task runtime schedules a later retry from `AiError::retry_after`.

use std::{future::Future, time::Duration};

use rand::Rng;

use crate::ai::AiError;

/// The longest wait between two attempts of one call, whatever the provider asks for.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryPolicy {
    pub timeout: Duration,
    pub max_retries: u32,
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails for good, or the retries run out.
    pub(crate) async fn run<T, F, Fut>(&self, operation: &'static str, mut attempt: F) -> Result<T, AiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AiError>>,
    {
        let mut number = 0;
        loop {
            number += 1;
            let outcome = match tokio::time::timeout(self.timeout, attempt()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(AiError::Timeout(self.timeout)),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !error.is_retryable() || number > self.max_retries {
                tracing::warn!(operation, attempt = number, code = error.code(), %error, "AI call failed");
                return Err(error);
            }
            let Some(wait) = self.wait_before_retry(number, error.retry_after()) else {
                tracing::warn!(
                    operation,
                    attempt = number,
                    ?error,
                    "AI provider asked for a long wait; giving up"
                );
                return Err(error);
            };
            tracing::info!(
                operation,
                attempt = number,
                code = error.code(),
                wait_ms = wait.as_millis() as u64,
                "AI call failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// How long to wait after failed attempt `number` (1-based); `None` when the provider's
    /// `Retry-After` is beyond what we wait for in-process.
    fn wait_before_retry(&self, number: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let mut rng = rand::rng();
        match retry_after {
            Some(asked) if asked > MAX_WAIT => None,
            // At least what was asked, plus up to 10% so that many clients told the same
            // instant do not all come back at once.
            Some(asked) => Some(asked + asked.mul_f64(rng.random_range(0.0..=0.1))),
            None => {
                let exponential = self.base_delay.saturating_mul(1 << (number - 1).min(16)).min(MAX_WAIT);
                // "Equal jitter": half fixed, half random, so waits still grow per attempt.
                Some(exponential.mul_f64(rng.random_range(0.5..=1.0)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy { timeout: Duration::from_secs(1), max_retries, base_delay: Duration::from_millis(100) }
    }

    #[test]
    fn backoff_grows_with_jitter_and_respects_retry_after() {
        let policy = policy(5);
        for number in 1..=4 {
            let full = Duration::from_millis(100 * (1 << (number - 1)));
            let wait = policy.wait_before_retry(number, None).expect("a wait");
            assert!(wait >= full / 2 && wait <= full, "attempt {number}: {wait:?}");
        }
        assert!(policy.wait_before_retry(40, None).expect("a wait") <= MAX_WAIT);
        let asked = Duration::from_secs(2);
        let wait = policy.wait_before_retry(1, Some(asked)).expect("a wait");
        assert!(wait >= asked && wait <= asked.mul_f64(1.1));
        assert_eq!(policy.wait_before_retry(1, Some(Duration::from_secs(120))), None);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_after_max_retries_and_never_retries_permanent_errors() {
        let calls = AtomicU32::new(0);
        let outcome: Result<(), _> = policy(2)
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(AiError::Server { status: 500, message: String::new() })
            })
            .await;
        assert!(matches!(outcome, Err(AiError::Server { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        calls.store(0, Ordering::SeqCst);
        let outcome: Result<(), _> = policy(2)
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(AiError::Auth("no".into()))
            })
            .await;
        assert!(matches!(outcome, Err(AiError::Auth(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_attempt_times_out() {
        let outcome: Result<(), _> = policy(0)
            .run("test", || async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            })
            .await;
        assert!(matches!(outcome, Err(AiError::Timeout(_))));
    }
}
