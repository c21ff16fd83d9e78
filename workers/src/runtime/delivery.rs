//! One delivered message, from claim to acknowledgement. The message is acknowledged only
//! after the task's outcome is committed (or handed to a delay or dead-letter queue with a
//! publisher confirm), so a worker killed at any point loses nothing.

use std::{sync::atomic::Ordering, time::Duration};

use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicNackOptions},
};
use shared::{
    db::models::Task,
    messaging::{CommandMessage, Outgoing, TaskEvent},
};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    Shared,
    handler::{Completion, TaskContext, TaskError},
    lifecycle::{self, Claim},
    retry::backoff,
};

pub async fn process(shared: std::sync::Arc<Shared>, delivery: Delivery) {
    let message = match serde_json::from_slice::<CommandMessage>(&delivery.data) {
        Ok(message) => message,
        Err(error) => {
            tracing::error!(%error, "malformed command message; dead-lettering it");
            let headers = vec![("x-error-code".to_owned(), "malformed_message".to_owned())];
            dead_letter(&shared, &delivery, None, headers).await;
            return;
        }
    };
    let CommandMessage::V1 { task_id, kind, .. } = &message;
    let trace_id = trace_id_of(&delivery).unwrap_or_default();
    let span = tracing::info_span!("task", task_id = %task_id, kind = %kind, queue = %shared.queue, trace_id = %trace_id);
    let task_id = *task_id;
    async move {
        shared.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        handle(&shared, &delivery, task_id).await;
        shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        shared.counters.processed.fetch_add(1, Ordering::Relaxed);
    }
    .instrument(span)
    .await;
}

async fn handle(shared: &Shared, delivery: &Delivery, task_id: Uuid) {
    // A duplicate of a task this process is running right now waits its turn.
    let Some(_running) = shared.start_running(task_id) else {
        defer(shared, delivery, "already running here").await;
        return;
    };
    let claim = shared.claims.submit(task_id).await.unwrap_or_else(|| Err("worker shutting down".to_owned()));
    match claim {
        Ok(Claim::Claimed(task)) => execute(shared, delivery, task).await,
        Ok(Claim::Missing) => {
            tracing::warn!("no task row for this message; dropping it");
            ack(delivery).await;
        }
        Ok(Claim::Finished) => {
            tracing::debug!("already finished; duplicate delivery acknowledged");
            ack(delivery).await;
        }
        Ok(Claim::Revoked(task)) => {
            shared.publisher.publish_event(&TaskEvent::from(&task)).await;
            ack(delivery).await;
        }
        Ok(Claim::Exhausted(task)) => {
            tracing::warn!(attempts = task.attempts, "no attempts left");
            shared.publisher.publish_event(&TaskEvent::from(&task)).await;
            dead_letter(shared, delivery, Some(&task), error_headers(&task)).await;
        }
        Ok(Claim::Busy) => defer(shared, delivery, "running on another live worker").await,
        Err(error) => {
            tracing::warn!(%error, "could not claim the task; trying again later");
            defer(shared, delivery, "database unavailable").await;
        }
    }
}

async fn execute(shared: &Shared, delivery: &Delivery, task: Task) {
    tracing::info!(attempt = task.attempts, "started");
    let outcome = run_handler(shared, &task).await;
    shared.progress.forget(task.id);
    let (task_id, worker_id) = (task.id, shared.worker_id);
    match outcome {
        Ok(completion) => {
            let written = shared
                .successes
                .submit((task_id, completion))
                .await
                .unwrap_or_else(|| Err("worker shutting down".to_owned()));
            settle(shared, delivery, written, "succeeded", Announce::Done).await;
        }
        Err(TaskError::Cancelled) => {
            let written =
                shared::db::run(&shared.pool, move |conn| lifecycle::revoke(conn, task_id, worker_id)).await;
            settle(shared, delivery, as_event(written), "cancelled", Announce::Publish).await;
        }
        Err(error @ TaskError::Retryable { .. }) if task.attempts < task.max_attempts => {
            retry(shared, delivery, &task, error).await;
        }
        Err(error) => {
            tracing::warn!(%error, attempts = task.attempts, "failed");
            let failure = error.clone();
            let written = shared::db::run(&shared.pool, move |conn| {
                lifecycle::fail(conn, task_id, worker_id, &failure)
            })
            .await;
            match written {
                // The tenant's own reason: FAILURE with its code is the whole answer; the
                // operators' dead letters are kept for what they can act on.
                Ok(Some(_)) if error.is_tenants_own() => {
                    settle(shared, delivery, as_event(written), "failed", Announce::Publish).await;
                }
                Ok(Some(task)) => {
                    shared.publisher.publish_event(&TaskEvent::from(&task)).await;
                    dead_letter(shared, delivery, Some(&task), error_headers(&task)).await;
                }
                other => settle(shared, delivery, as_event(other), "failed", Announce::Publish).await,
            }
        }
    }
}

/// Runs the handler on its own task so a panic is caught, within the kind's time limit.
async fn run_handler(shared: &Shared, task: &Task) -> Result<Completion, TaskError> {
    let Some(handler) = shared.handlers.get(task.kind.as_str()).cloned() else {
        return Err(TaskError::fatal(
            "unknown_kind",
            format!("no handler for `{}` on this queue", task.kind),
        ));
    };
    let limit = handler.time_limit();
    let ctx = TaskContext::new(task.clone(), shared.pool.clone(), shared.progress.clone());
    let running = tokio::spawn(async move { handler.run(&ctx).await }.in_current_span());
    let abort = running.abort_handle();
    match tokio::time::timeout(limit, running).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join_error)) => {
            tracing::error!(error = %join_error, "handler panicked");
            Err(TaskError::retryable("handler_panicked", "the handler panicked"))
        }
        Err(_) => {
            abort.abort();
            Err(TaskError::fatal(
                "time_limit_exceeded",
                format!("exceeded the time limit of {}s", limit.as_secs()),
            ))
        }
    }
}

fn as_event(written: shared::Result<Option<Task>>) -> shared::Result<Option<TaskEvent>> {
    written.map(|task| task.as_ref().map(TaskEvent::from))
}

/// Whether `settle` still has to publish the task's event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Announce {
    Publish,
    /// The batched commit already published it.
    Done,
}

/// Publishes the new state and acknowledges; when the write did not happen (ownership lost)
/// the message is acknowledged anyway: whoever owns the task now will finish it.
async fn settle(
    shared: &Shared,
    delivery: &Delivery,
    written: Result<Option<TaskEvent>, impl std::fmt::Display>,
    what: &str,
    announce: Announce,
) {
    match written {
        Ok(Some(event)) => {
            tracing::info!(state = %event.state, "{what}");
            if announce == Announce::Publish {
                shared.publisher.publish_event(&event).await;
            }
            ack(delivery).await;
        }
        Ok(None) => {
            tracing::info!("the task moved on without this worker; acknowledging");
            ack(delivery).await;
        }
        Err(error) => {
            // The outcome is not committed: let the message come back and run again.
            tracing::error!(%error, "could not record the outcome; requeueing");
            nack(delivery, true).await;
        }
    }
}

async fn retry(shared: &Shared, delivery: &Delivery, task: &Task, error: TaskError) {
    let retry_after = match &error {
        TaskError::Retryable { retry_after, .. } => *retry_after,
        _ => None,
    };
    let (level, ttl) = backoff(&shared.delay_levels, task.attempts, retry_after);
    tracing::info!(%error, attempt = task.attempts, delay_ms = ttl.as_millis() as u64, "retrying later");
    let (task_id, worker_id) = (task.id, shared.worker_id);
    let written = shared::db::run(&shared.pool, move |conn| {
        lifecycle::schedule_retry(conn, task_id, worker_id, &error, ttl)
    })
    .await;
    match written {
        Ok(Some(task)) => {
            shared.publisher.publish_event(&TaskEvent::from(&task)).await;
            requeue_after(shared, delivery, level, ttl).await;
        }
        other => settle(shared, delivery, as_event(other), "retry", Announce::Publish).await,
    }
}

/// Puts the message back after a short wait without counting an attempt.
async fn defer(shared: &Shared, delivery: &Delivery, why: &str) {
    tracing::debug!(why, "deferring");
    let level = shared.delay_levels.first().copied().unwrap_or(Duration::from_secs(1));
    requeue_after(shared, delivery, level, level).await;
}

async fn requeue_after(shared: &Shared, delivery: &Delivery, level: Duration, ttl: Duration) {
    let outgoing = Outgoing {
        exchange: String::new(),
        routing_key: shared.topology.delay_queue(shared.queue, level),
        body: delivery.data.clone(),
        message_id: message_id(delivery),
        expiration: Some(ttl),
        headers: Vec::new(),
    };
    match shared.publisher.publish_confirmed(std::slice::from_ref(&outgoing)).await {
        Ok(()) => ack(delivery).await,
        Err(error) => {
            // Without the delay queue, the broker's own redelivery is the fallback.
            tracing::warn!(%error, "delay queue unavailable; requeueing directly");
            tokio::time::sleep(level.min(Duration::from_secs(1))).await;
            nack(delivery, true).await;
        }
    }
}

/// Copies the message, annotated with why it died, to the queue's dead-letter queue. If that
/// publish fails the broker dead-letters the original instead (reject without requeue).
async fn dead_letter(
    shared: &Shared,
    delivery: &Delivery,
    task: Option<&Task>,
    headers: Vec<(String, String)>,
) {
    let mut headers = headers;
    if let Some(task) = task {
        headers.push(("x-task-id".to_owned(), task.id.to_string()));
        headers.push(("x-attempts".to_owned(), task.attempts.to_string()));
    }
    let outgoing = Outgoing {
        exchange: shared.topology.dead_exchange(),
        routing_key: shared.queue.as_str().to_owned(),
        body: delivery.data.clone(),
        message_id: message_id(delivery),
        expiration: None,
        headers,
    };
    match shared.publisher.publish_confirmed(std::slice::from_ref(&outgoing)).await {
        Ok(()) => ack(delivery).await,
        Err(error) => {
            tracing::warn!(%error, "dead-letter publish failed; rejecting to the broker's dead-letter exchange");
            nack(delivery, false).await;
        }
    }
}

fn error_headers(task: &Task) -> Vec<(String, String)> {
    let field = |name: &str| {
        task.error
            .as_ref()
            .and_then(|error| error.get(name))
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    vec![("x-error-code".to_owned(), field("code")), ("x-error-message".to_owned(), field("message"))]
}

/// The trace the command belongs to, from the message's `traceparent`.
fn trace_id_of(delivery: &Delivery) -> Option<String> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get("traceparent")? {
        lapin::types::AMQPValue::LongString(value) => shared::telemetry::trace_id_of(&value.to_string()),
        _ => None,
    }
}

fn message_id(delivery: &Delivery) -> Option<String> {
    delivery.properties.message_id().as_ref().map(|id| id.as_str().to_owned())
}

async fn ack(delivery: &Delivery) {
    if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
        // The channel is gone; the broker redelivers and the claim sees the committed state.
        tracing::warn!(%error, "ack failed");
    }
}

async fn nack(delivery: &Delivery, requeue: bool) {
    if let Err(error) = delivery.nack(BasicNackOptions { requeue, ..Default::default() }).await {
        tracing::warn!(%error, "nack failed");
    }
}
