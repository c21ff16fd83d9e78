//! The diagnostic `system.ping` task: walks `steps` progress steps, sleeping `sleep_ms`
//! before each, and fails its first `fail_times` attempts with a retryable error. Tests and
//! the benchmark drive the whole pipeline with it; every worker binary handles it.

use serde::{Deserialize, Serialize};

use super::{NewTask, Payload, Queue};
use crate::{net::OutboundGuard, problems::Problems};

pub const MAX_STEPS: u32 = 1_000;
pub const MAX_SLEEP_MS: u64 = 60_000;
pub const MAX_ATTEMPTS: i32 = 10;
pub const MAX_FAIL_TIMES: u32 = 1_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"steps": 5, "sleep_ms": 400, "queue": "clustering"}))]
pub struct PingPayload {
    #[serde(default = "default_steps")]
    #[schema(minimum = 1, maximum = 1000)]
    pub steps: u32,
    #[serde(default)]
    #[schema(maximum = 60000)]
    pub sleep_ms: u64,
    #[serde(default)]
    #[schema(maximum = 1000)]
    pub fail_times: u32,
    /// Which worker queue answers the ping (every worker binary handles it).
    #[serde(default = "default_queue")]
    pub queue: Queue,
    /// Attempt limit for this ping (the kind's default otherwise).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10)]
    pub max_attempts: Option<i32>,
}

fn default_steps() -> u32 {
    4
}

fn default_queue() -> Queue {
    Queue::Clustering
}

impl Payload for PingPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        if !(1..=MAX_STEPS).contains(&self.steps) {
            problems.push("steps", format!("must be between 1 and {MAX_STEPS}"));
        }
        if self.sleep_ms > MAX_SLEEP_MS {
            problems.push("sleep_ms", format!("must be at most {MAX_SLEEP_MS}"));
        }
        if self.fail_times > MAX_FAIL_TIMES {
            problems.push("fail_times", format!("must be at most {MAX_FAIL_TIMES}"));
        }
        if let Some(max) = self.max_attempts
            && !(1..=MAX_ATTEMPTS).contains(&max)
        {
            problems.push("max_attempts", format!("must be between 1 and {MAX_ATTEMPTS}"));
        }
        problems
    }

    /// A ping runs on the queue it names, with its own attempt limit.
    fn shape(&self, task: &mut NewTask) {
        task.queue = Some(self.queue);
        task.max_attempts = self.max_attempts;
    }
}
