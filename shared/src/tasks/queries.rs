//! Tenant-scoped reads and the cancel transition. Every query filters by the caller's
//! account: another tenant's task is indistinguishable from a missing one.

use diesel::{PgConnection, prelude::*};
use uuid::Uuid;

use crate::{
    db::{models::Task, schema::tasks},
    error::Result,
};

use super::TaskState;

pub fn find_for_account(conn: &mut PgConnection, account_id: i64, task_id: Uuid) -> Result<Option<Task>> {
    Ok(tasks::table
        .find(task_id)
        .filter(tasks::account_id.eq(account_id))
        .select(Task::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub state: Option<TaskState>,
    pub kind: Option<String>,
}

/// One page of the account's tasks, newest first, and the total count.
pub fn list_for_account(
    conn: &mut PgConnection,
    account_id: i64,
    filter: &TaskFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Task>, i64)> {
    let filtered = || {
        let mut query = tasks::table.filter(tasks::account_id.eq(account_id)).into_boxed();
        if let Some(state) = filter.state {
            query = query.filter(tasks::state.eq(state));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(tasks::kind.eq(kind.clone()));
        }
        query
    };
    let total = filtered().count().get_result(conn)?;
    let page = filtered()
        .order((tasks::created_at.desc(), tasks::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Task::as_select())
        .load(conn)?;
    Ok((page, total))
}

#[derive(Debug)]
pub enum CancelOutcome {
    /// The task was waiting and is now REVOKED.
    Revoked(Task),
    /// The task is running; it stops at its next progress step.
    Requested(Task),
    /// The task had already finished; nothing changed.
    AlreadyFinished(Task),
}

/// Requests cancellation: a task that has not started becomes REVOKED at once, a running one
/// is flagged and its worker stops at the next progress step.
pub fn cancel(conn: &mut PgConnection, account_id: i64, task_id: Uuid) -> Result<Option<CancelOutcome>> {
    conn.transaction(|conn| {
        let Some(task) = tasks::table
            .find(task_id)
            .filter(tasks::account_id.eq(account_id))
            .select(Task::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let now = diesel::dsl::now;
        let outcome = match task.state {
            state if state.is_terminal() => CancelOutcome::AlreadyFinished(task),
            TaskState::Pending | TaskState::Retry => {
                let revoked = revoke(conn, diesel::update(tasks::table.find(task_id)).into_boxed())?;
                CancelOutcome::Revoked(revoked.into_iter().next().ok_or(diesel::result::Error::NotFound)?)
            }
            _ => CancelOutcome::Requested(
                diesel::update(tasks::table.find(task_id))
                    .set((
                        tasks::cancel_requested.eq(true),
                        tasks::updated_at.eq(now),
                        tasks::revision.eq(tasks::revision + 1),
                    ))
                    .returning(Task::as_returning())
                    .get_result(conn)?,
            ),
        };
        Ok(Some(outcome))
    })
}

/// Cancels every unfinished task of `kind`, in one account or in all: waiting ones become
/// REVOKED at once (returned, for their events), running ones are flagged and stop at their
/// next progress step (counted).
pub fn cancel_kind(
    conn: &mut PgConnection,
    kind: &str,
    account_id: Option<i64>,
) -> Result<(Vec<Task>, usize)> {
    conn.transaction(|conn| {
        let now = diesel::dsl::now;
        let mut waiting = diesel::update(tasks::table)
            .filter(tasks::kind.eq(kind))
            .filter(tasks::state.eq_any([TaskState::Pending, TaskState::Retry]))
            .into_boxed();
        let mut running = diesel::update(tasks::table)
            .filter(tasks::kind.eq(kind))
            .filter(tasks::state.eq_any([TaskState::Started, TaskState::Progress]))
            .filter(tasks::cancel_requested.eq(false))
            .into_boxed();
        if let Some(account_id) = account_id {
            waiting = waiting.filter(tasks::account_id.eq(account_id));
            running = running.filter(tasks::account_id.eq(account_id));
        }
        let revoked = revoke(conn, waiting)?;
        let flagged = running
            .set((
                tasks::cancel_requested.eq(true),
                tasks::updated_at.eq(now),
                tasks::revision.eq(tasks::revision + 1),
            ))
            .execute(conn)?;
        Ok((revoked, flagged))
    })
}

/// REVOKES the waiting tasks `statement` selects, at once; the rows as they are now.
fn revoke<'a>(
    conn: &mut PgConnection,
    statement: diesel::query_builder::BoxedUpdateStatement<'a, diesel::pg::Pg, tasks::table>,
) -> Result<Vec<Task>> {
    let now = diesel::dsl::now;
    Ok(statement
        .set((
            tasks::state.eq(TaskState::Revoked),
            tasks::cancel_requested.eq(true),
            tasks::phase.eq("CANCELLED"),
            tasks::message.eq("Cancelled before it started"),
            tasks::finished_at.eq(now),
            tasks::updated_at.eq(now),
            tasks::revision.eq(tasks::revision + 1),
        ))
        .returning(Task::as_returning())
        .get_results(conn)?)
}
