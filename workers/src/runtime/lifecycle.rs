//! The task row's transitions as a worker drives them. Every write is guarded by the state it
//! expects and by ownership (`worker_id`), so a duplicate delivery or a late writer changes
//! nothing.

use std::time::Duration;

use std::collections::HashMap;

use diesel::{
    prelude::*,
    sql_types::{Array, Double, Jsonb, Text, Uuid as SqlUuid},
};
use serde_json::{Value, json};
use shared::{
    db::{models::Task, schema::tasks},
    messaging::TaskEvent,
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

shared::prepared_statement! {
    /// Claims every listed task this worker may run: waiting ones, and running ones whose
    /// owner is this worker or a worker whose heartbeat went stale.
    struct ClaimTasks { ids: Vec<Uuid>, worker_id: Uuid, stale_secs: f64 }
    sql = [
        "UPDATE tasks SET state = 'STARTED', phase = 'STARTED', attempts = attempts + 1, worker_id = ",
        (worker_id as SqlUuid),
        ", message = CASE WHEN attempts = 0 THEN 'Started' ELSE 'Attempt ' || (attempts + 1) END, \
           started_at = COALESCE(started_at, now()), updated_at = now(), revision = revision + 1 \
         WHERE id = ANY(", (ids as Array<SqlUuid>), ") AND state IN ('PENDING', 'RETRY', 'STARTED', 'PROGRESS') \
           AND NOT cancel_requested AND attempts < max_attempts \
           AND (worker_id IS NULL OR worker_id = ", (worker_id as SqlUuid), " OR NOT EXISTS ( \
                SELECT 1 FROM worker_heartbeats h \
                WHERE h.id = tasks.worker_id AND h.last_seen_at > now() - make_interval(secs => ",
        (stale_secs as Double), "))) RETURNING *",
    ];
}

shared::prepared_statement! {
    /// Marks the listed tasks SUCCESS with their results, where this worker still owns them.
    struct SucceedTasks { ids: Vec<Uuid>, results: Vec<Value>, worker_id: Uuid }
    sql = [
        "UPDATE tasks AS t SET state = 'SUCCESS', phase = 'DONE', message = 'Completed', percentage = 100, \
                result = u.result, error = NULL, finished_at = now(), updated_at = now(), \
                revision = t.revision + 1 \
         FROM unnest(", (ids as Array<SqlUuid>), ", ", (results as Array<Jsonb>), ") AS u(id, result) \
         WHERE t.id = u.id AND t.worker_id = ", (worker_id as SqlUuid),
        " AND t.state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED') \
         RETURNING t.id AS task_id, t.account_id, t.state, t.phase, t.percentage, t.message",
    ];
}

/// Takes ownership of tasks for one attempt each, in one statement; answers in the order of
/// `task_ids`. Tasks that cannot be claimed are looked at one by one to say why.
pub fn claim_many(
    conn: &mut PgConnection,
    task_ids: &[Uuid],
    worker_id: Uuid,
    stale_after: Duration,
) -> shared::Result<Vec<Claim>> {
    let claimed: Vec<Task> =
        ClaimTasks { ids: task_ids.to_vec(), worker_id, stale_secs: stale_after.as_secs_f64() }.load(conn)?;
    let mut claimed: HashMap<Uuid, Task> = claimed.into_iter().map(|task| (task.id, task)).collect();
    task_ids
        .iter()
        .map(|id| match claimed.remove(id) {
            Some(task) => Ok(Claim::Claimed(task)),
            None => explain_unclaimed(conn, *id),
        })
        .collect()
}

/// Why a task could not be claimed, settling the cases that end it.
fn explain_unclaimed(conn: &mut PgConnection, task_id: Uuid) -> shared::Result<Claim> {
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

/// Commits many successes at once: one UPDATE for all tasks this worker still owns, then
/// each handler's effects, in one transaction. If any effect fails, the batch is rolled back
/// and every task is committed on its own, so one bad effect cannot sink the others.
pub fn succeed_many(
    conn: &mut PgConnection,
    worker_id: Uuid,
    completions: Vec<(Uuid, Completion)>,
) -> Vec<shared::Result<Option<TaskEvent>>> {
    let ids: Vec<Uuid> = completions.iter().map(|(id, _)| *id).collect();
    let results: Vec<Value> = completions.iter().map(|(_, completion)| completion.result.clone()).collect();
    let with_effects: Vec<bool> =
        completions.iter().map(|(_, completion)| completion.effects.is_some()).collect();
    let mut completions: HashMap<Uuid, Completion> = completions.into_iter().collect();
    let batch = conn.transaction(|conn| {
        // Only what the events need comes back: the results are known here already.
        let updated: Vec<TaskEvent> =
            SucceedTasks { ids: ids.clone(), results: results.clone(), worker_id }.load(conn)?;
        let mut done = HashMap::with_capacity(updated.len());
        for event in updated {
            if let Some(effects) =
                completions.get_mut(&event.task_id).and_then(|completion| completion.effects.take())
            {
                effects(conn)?;
            }
            done.insert(event.task_id, event);
        }
        Ok::<_, shared::Error>(done)
    });
    match batch {
        Ok(mut done) => ids.iter().map(|id| Ok(done.remove(id))).collect(),
        Err(error) if ids.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(%error, tasks = ids.len(), "batched commit failed; committing one by one");
            ids.iter()
                .zip(with_effects)
                .map(|(id, had_effects)| match completions.remove(id) {
                    // The failed batch consumed these effects: the task runs again instead.
                    Some(completion) if had_effects && completion.effects.is_none() => Err(error_for_retry()),
                    Some(completion) => succeed(conn, *id, worker_id, completion)
                        .map(|task| task.as_ref().map(TaskEvent::from)),
                    None => Err(error_for_retry()),
                })
                .collect()
        }
    }
}

/// An effect consumed by a failed batch cannot run again in this attempt; the message is
/// requeued and the task runs once more.
fn error_for_retry() -> shared::Error {
    shared::Error::Database(diesel::result::Error::RollbackTransaction)
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

fn error_json(error: &TaskError) -> Value {
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
