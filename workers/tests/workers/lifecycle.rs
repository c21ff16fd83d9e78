use serde_json::json;
use shared::tasks::{Queue, TaskState};

use crate::helpers::{Harness, terminate};

#[tokio::test]
async fn a_worker_killed_mid_task_loses_nothing_and_the_task_succeeds_exactly_once() {
    let harness = Harness::new().await;
    let task_id = harness.enqueue_ping(Queue::Clustering, json!({ "steps": 20, "sleep_ms": 100 })).await;

    let mut first = harness.spawn_worker(Queue::Clustering, 5);
    harness
        .wait_for(task_id, "progress past 20%", |task| {
            task.state == TaskState::Progress && task.percentage >= 20
        })
        .await;
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let after_kill = harness.task(task_id).await;
    assert!(!after_kill.state.is_terminal(), "killed before it could finish");

    let second = harness.spawn_worker(Queue::Clustering, 5);
    let task = harness.wait_for(task_id, "success", |task| task.state.is_terminal()).await;
    assert_eq!(task.state, TaskState::Success);
    assert_eq!(task.attempts, 2, "the second worker ran it once more");
    assert_eq!(task.result.as_ref().map(|result| result["attempt"].clone()), Some(json!(2)));
    assert_eq!(harness.effect_writes(task_id).await, Some(1), "its effect is written exactly once");

    assert!(terminate(second).await.success());
}

#[tokio::test]
async fn sigterm_lets_the_running_task_finish_and_removes_the_heartbeat() {
    let harness = Harness::new().await;
    let task_id =
        harness.enqueue_ping(Queue::Odoo, json!({ "steps": 10, "sleep_ms": 100, "queue": "odoo" })).await;
    let worker = harness.spawn_worker(Queue::Odoo, 10);
    harness.wait_for(task_id, "the task to start", |task| task.state == TaskState::Progress).await;
    assert_eq!(harness.live_workers().await, 1);

    let status = terminate(worker).await;
    assert!(status.success(), "clean exit: {status}");
    let task = harness.task(task_id).await;
    assert_eq!(task.state, TaskState::Success, "finished within the grace period");
    assert_eq!(task.attempts, 1);
    assert_eq!(harness.live_workers().await, 0, "heartbeat row removed on exit");
}

#[tokio::test]
async fn a_task_outliving_the_grace_period_is_handed_to_the_next_worker() {
    let harness = Harness::new().await;
    let task_id =
        harness.enqueue_ping(Queue::Social, json!({ "steps": 30, "sleep_ms": 100, "queue": "social" })).await;
    let worker = harness.spawn_worker(Queue::Social, 1);
    harness.wait_for(task_id, "the task to start", |task| task.state == TaskState::Progress).await;
    assert!(terminate(worker).await.success());
    let left = harness.task(task_id).await;
    assert!(!left.state.is_terminal());
    assert_eq!(left.worker_id, None, "ownership released on the way out");

    let next = harness.spawn_worker(Queue::Social, 5);
    let task = harness.wait_for(task_id, "success", |task| task.state.is_terminal()).await;
    assert_eq!(task.state, TaskState::Success);
    assert_eq!(task.attempts, 2);
    assert_eq!(harness.effect_writes(task_id).await, Some(1));
    assert!(terminate(next).await.success());
}
