//! The runtime's guard rails around handlers: time limits and panics.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use serde_json::json;
use shared::tasks::{PING, Queue, TaskState};
use workers::runtime::{Completion, TaskContext, TaskError, TaskHandler, Worker};

use crate::helpers::Harness;

/// Answers `system.ping` by sleeping far longer than its time limit.
struct Sleeper;

#[async_trait::async_trait]
impl TaskHandler for Sleeper {
    fn kind(&self) -> &'static str {
        PING
    }

    fn time_limit(&self) -> Duration {
        Duration::from_millis(300)
    }

    async fn run(&self, ctx: &TaskContext) -> Result<Completion, TaskError> {
        ctx.progress("SLEEP", 10, "going to sleep")?;
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(Completion::new(json!({})))
    }
}

#[tokio::test]
async fn a_task_over_its_time_limit_fails_without_retry() {
    let harness = Harness::new().await;
    let worker = Worker::new(Queue::Seo, harness.config.clone(), harness.pool.clone()).with_handler(Sleeper);
    let task_id = harness.enqueue_ping(Queue::Seo, json!({ "queue": "seo" })).await;
    let failure = harness.run_pending(worker).await.expect_err("the task fails");
    let [task] = failure.failed() else { panic!("one failed task: {failure}") };
    assert_eq!(task.id, task_id);
    assert_eq!(task.state, TaskState::Failure);
    assert_eq!(task.attempts, 1, "a time limit is not retried");
    let error = task.error.as_ref().expect("error recorded");
    assert_eq!(error["code"], "time_limit_exceeded");
    assert_eq!(error["retryable"], false);
}

/// Panics on its first attempt, succeeds on the next.
struct PanicsOnce {
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl TaskHandler for PanicsOnce {
    fn kind(&self) -> &'static str {
        PING
    }

    async fn run(&self, ctx: &TaskContext) -> Result<Completion, TaskError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("a bug in a handler");
        }
        Ok(Completion::new(json!({ "attempt": ctx.attempt() })))
    }
}

#[tokio::test]
async fn a_panicking_handler_is_caught_and_the_task_retried() {
    let harness = Harness::new().await;
    let worker = Worker::new(Queue::Content, harness.config.clone(), harness.pool.clone())
        .with_handler(PanicsOnce { calls: AtomicU32::new(0) });
    let task_id = harness.enqueue_ping(Queue::Content, json!({ "queue": "content" })).await;
    let finished = harness.run_pending(worker).await.expect("the retry succeeds");
    let [task] = finished.as_slice() else { panic!("one task ran: {finished:?}") };
    assert_eq!(task.id, task_id);
    assert_eq!(task.state, TaskState::Success, "the worker survived the panic");
    assert_eq!(task.attempts, 2);
    assert_eq!(task.result.as_ref().expect("result")["attempt"], 2);
}
