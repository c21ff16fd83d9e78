//! The task row's transitions as a worker drives them. Every write is guarded by the state it
//! expects and by ownership (`worker_id`), so a duplicate delivery or a late writer changes
//! nothing.

use std::time::Duration;

use diesel::{
    prelude::*,
    sql_types::{Double, Jsonb, Text, Uuid as SqlUuid},
};
use serde_json::{Value, json};
use shared::{
    db::{models::Task, schema::tasks},
    tasks::TaskState,
};
use uuid::Uuid;

use super::handler::{Completion, TaskError};

/// What the claim of a delivered task found.
#[derive(Debug)]
pub enum Claim {
    /// This worker now runs the task.
    Claimed(Task),
    /// No such task (never committed, or deleted with its account).
    Missing,
    /// Already terminal: a duplicate delivery.
    Finished,
    /// Cancelled before it started; now REVOKED.
    Revoked(Task),
    /// No attempts left (the previous attempt died with its worker); now FAILURE.
    Exhausted(Task),
    /// Another live worker is running it; come back later.
    Busy,
}

/// Takes ownership of a task for one attempt.
pub fn claim(
    conn: &mut PgConnection,
    task_id: Uuid,
    worker_id: Uuid,
    stale_after: Duration,
) -> shared::Result<Claim> {
    let claimed: Option<Task> = diesel::sql_query(
        "UPDATE tasks SET state = 'STARTED', phase = 'STARTED', attempts = attempts + 1, worker_id = $2, \
                message = CASE WHEN attempts = 0 THEN 'Started' ELSE 'Attempt ' || (attempts + 1) END, \
                started_at = COALESCE(started_at, now()), updated_at = now(), revision = revision + 1 \
         WHERE id = $1 AND state IN ('PENDING', 'RETRY', 'STARTED', 'PROGRESS') \
           AND NOT cancel_requested AND attempts < max_attempts \
           AND (worker_id IS NULL OR worker_id = $2 OR NOT EXISTS ( \
                SELECT 1 FROM worker_heartbeats h \
                WHERE h.id = tasks.worker_id AND h.last_seen_at > now() - make_interval(secs => $3))) \
         RETURNING *",
    )
    .bind::<SqlUuid, _>(task_id)
    .bind::<SqlUuid, _>(worker_id)
    .bind::<Double, _>(stale_after.as_secs_f64())
    .get_result(conn)
    .optional()?;
    if let Some(task) = claimed {
        return Ok(Claim::Claimed(task));
    }
    let Some(task) = tasks::table.find(task_id).select(Task::as_select()).first(conn).optional()? else {
        return Ok(Claim::Missing);
    };
    Ok(match task.state {
        state if state.is_terminal() => Claim::Finished,
        _ if task.cancel_requested => {
            match terminate(conn, task_id, None, TaskState::Revoked, cancelled_fields())? {
                Some(task) => Claim::Revoked(task),
                None => Claim::Finished,
            }
        }
        _ if task.attempts >= task.max_attempts => {
            let error = TaskError::fatal(
                "max_attempts_exceeded",
                format!("gave up after {} attempts; the last one did not finish", task.attempts),
            );
            match terminate(conn, task_id, None, TaskState::Failure, failure_fields(&error))? {
                Some(task) => Claim::Exhausted(task),
                None => Claim::Finished,
            }
        }
        _ => Claim::Busy,
    })
}

/// Marks the task SUCCESS and writes the handler's effects in one transaction. Returns
/// `None` (and writes nothing) when this worker no longer owns a running task.
pub fn succeed(
    conn: &mut PgConnection,
    task_id: Uuid,
    worker_id: Uuid,
    completion: Completion,
) -> shared::Result<Option<Task>> {
    conn.transaction(|conn| {
        let fields = Fields {
            phase: "DONE",
            message: "Completed".to_owned(),
            percentage: Some(100),
            result: Some(completion.result),
            error: None,
        };
        let Some(task) = terminate(conn, task_id, Some(worker_id), TaskState::Success, fields)? else {
            return Ok(None);
        };
        if let Some(effects) = completion.effects {
            effects(conn)?;
        }
        Ok(Some(task))
    })
}

pub fn fail(
    conn: &mut PgConnection,
    task_id: Uuid,
    worker_id: Uuid,
    error: &TaskError,
) -> shared::Result<Option<Task>> {
    terminate(conn, task_id, Some(worker_id), TaskState::Failure, failure_fields(error))
}

pub fn revoke(conn: &mut PgConnection, task_id: Uuid, worker_id: Uuid) -> shared::Result<Option<Task>> {
    terminate(conn, task_id, Some(worker_id), TaskState::Revoked, cancelled_fields())
}

/// Hands the task back for a later attempt: state RETRY, ownership released.
pub fn schedule_retry(
    conn: &mut PgConnection,
    task_id: Uuid,
    worker_id: Uuid,
    error: &TaskError,
    delay: Duration,
) -> shared::Result<Option<Task>> {
    Ok(diesel::update(
        tasks::table
            .find(task_id)
            .filter(tasks::worker_id.eq(worker_id))
            .filter(tasks::state.eq_any([TaskState::Started, TaskState::Progress])),
    )
    .set((
        tasks::state.eq(TaskState::Retry),
        tasks::phase.eq("RETRY"),
        tasks::message.eq(format!("{error}; retrying in {:.1}s", delay.as_secs_f64())),
        tasks::error.eq(Some(error_json(error))),
        tasks::worker_id.eq(None::<Uuid>),
        tasks::updated_at.eq(diesel::dsl::now),
        tasks::revision.eq(tasks::revision + 1),
    ))
    .returning(Task::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Gives up ownership of every task this worker still runs (shutdown past its grace period),
/// so their redelivered messages are picked up at once.
pub fn release_all(conn: &mut PgConnection, worker_id: Uuid) -> shared::Result<usize> {
    Ok(diesel::update(
        tasks::table
            .filter(tasks::worker_id.eq(worker_id))
            .filter(tasks::state.eq_any([TaskState::Started, TaskState::Progress])),
    )
    .set(tasks::worker_id.eq(None::<Uuid>))
    .execute(conn)?)
}

struct Fields {
    phase: &'static str,
    message: String,
    percentage: Option<i16>,
    result: Option<Value>,
    error: Option<Value>,
}

fn cancelled_fields() -> Fields {
    Fields { phase: "CANCELLED", message: "Cancelled".into(), percentage: None, result: None, error: None }
}

fn failure_fields(error: &TaskError) -> Fields {
    Fields {
        phase: "FAILED",
        message: error.to_string(),
        percentage: None,
        result: None,
        error: Some(error_json(error)),
    }
}

pub fn error_json(error: &TaskError) -> Value {
    let (code, message, retryable) = match error {
        TaskError::Retryable { code, message, .. } => (code.as_str(), message.as_str(), true),
        TaskError::Fatal { code, message } => (code.as_str(), message.as_str(), false),
        TaskError::Cancelled => ("cancelled", "the task was cancelled", false),
    };
    json!({ "code": code, "message": message, "retryable": retryable })
}

/// Moves a non-terminal task to a terminal state; `owner` restricts it to that worker's task.
fn terminate(
    conn: &mut PgConnection,
    task_id: Uuid,
    owner: Option<Uuid>,
    state: TaskState,
    fields: Fields,
) -> shared::Result<Option<Task>> {
    Ok(diesel::sql_query(
        "UPDATE tasks SET state = $2, phase = $3, message = $4, \
                percentage = COALESCE($5, percentage), result = COALESCE($6, result), error = $7, \
                finished_at = now(), updated_at = now(), revision = revision + 1 \
         WHERE id = $1 AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED') \
           AND ($8::uuid IS NULL OR worker_id = $8) \
         RETURNING *",
    )
    .bind::<SqlUuid, _>(task_id)
    .bind::<Text, _>(state.as_str())
    .bind::<Text, _>(fields.phase)
    .bind::<Text, _>(fields.message)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Int2>, _>(fields.percentage)
    .bind::<diesel::sql_types::Nullable<Jsonb>, _>(fields.result)
    .bind::<diesel::sql_types::Nullable<Jsonb>, _>(fields.error)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(owner)
    .get_result(conn)
    .optional()?)
}
