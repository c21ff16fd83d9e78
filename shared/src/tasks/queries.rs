//! Tenant-scoped reads and the cancel transition. Every query filters by the caller's
//! account: another tenant's task is indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use diesel::{
    PgConnection,
    prelude::*,
    sql_types::{BigInt, Double, Timestamptz},
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    db::{
        models::{Task, TaskAttempt},
        schema::{task_attempts, tasks},
    },
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

/// The attempts of the caller's task, first to last; `None` when the account has no such task.
pub fn attempts_for_account(
    conn: &mut PgConnection,
    account_id: i64,
    task_id: Uuid,
) -> Result<Option<Vec<TaskAttempt>>> {
    let owned: i64 =
        tasks::table.find(task_id).filter(tasks::account_id.eq(account_id)).count().get_result(conn)?;
    if owned == 0 {
        return Ok(None);
    }
    attempts(conn, task_id).map(Some)
}

/// Any account's task: for operators.
pub fn find_any(conn: &mut PgConnection, task_id: Uuid) -> Result<Option<Task>> {
    Ok(tasks::table.find(task_id).select(Task::as_select()).first(conn).optional()?)
}

/// A task's attempts, first to last, whoever's task it is.
pub fn attempts(conn: &mut PgConnection, task_id: Uuid) -> Result<Vec<TaskAttempt>> {
    Ok(task_attempts::table
        .filter(task_attempts::task_id.eq(task_id))
        .order(task_attempts::attempt)
        .select(TaskAttempt::as_select())
        .load(conn)?)
}

/// Tasks finished and attempts retried in one bucket of time.
#[derive(Clone, Debug, Default, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct ThroughputBucket {
    /// The start of the bucket.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub succeeded: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub retried: i64,
}

/// An account's tasks over a window: what finished and retried per bucket, and what waits
/// or runs now.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Throughput {
    pub since: DateTime<Utc>,
    pub bucket_seconds: i64,
    /// Every bucket of the window, oldest first (empty ones included).
    pub buckets: Vec<ThroughputBucket>,
    pub totals: ThroughputTotals,
}

#[derive(Clone, Debug, Default, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct ThroughputTotals {
    #[diesel(sql_type = BigInt)]
    pub succeeded: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub retried: i64,
    /// Running now (STARTED or PROGRESS).
    #[diesel(sql_type = BigInt)]
    pub running: i64,
    /// Waiting now (PENDING or RETRY).
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

/// Throughput of the account's tasks since `since`, in buckets of `bucket_seconds`.
pub fn throughput(
    conn: &mut PgConnection,
    account_id: i64,
    since: DateTime<Utc>,
    bucket_seconds: i64,
) -> Result<Throughput> {
    let counted: Vec<ThroughputBucket> = diesel::sql_query(
        "WITH finished AS ( \
             SELECT date_bin(make_interval(secs => $3), finished_at, $2) AS at, \
                    count(*) FILTER (WHERE state = 'SUCCESS') AS succeeded, \
                    count(*) FILTER (WHERE state = 'FAILURE') AS failed \
               FROM tasks WHERE account_id = $1 AND finished_at >= $2 GROUP BY 1), \
         retried AS ( \
             SELECT date_bin(make_interval(secs => $3), a.finished_at, $2) AS at, count(*) AS retried \
               FROM task_attempts a JOIN tasks t ON t.id = a.task_id \
              WHERE t.account_id = $1 AND a.outcome = 'retry' AND a.finished_at >= $2 GROUP BY 1) \
         SELECT COALESCE(f.at, r.at) AS at, COALESCE(f.succeeded, 0) AS succeeded, \
                COALESCE(f.failed, 0) AS failed, COALESCE(r.retried, 0) AS retried \
           FROM finished f FULL JOIN retried r ON r.at = f.at ORDER BY 1",
    )
    .bind::<BigInt, _>(account_id)
    .bind::<Timestamptz, _>(since)
    .bind::<Double, _>(bucket_seconds as f64)
    .load(conn)?;
    let now: ThroughputTotals = diesel::sql_query(
        "SELECT 0::bigint AS succeeded, 0::bigint AS failed, 0::bigint AS retried, \
                count(*) FILTER (WHERE state IN ('STARTED', 'PROGRESS')) AS running, \
                count(*) FILTER (WHERE state IN ('PENDING', 'RETRY')) AS pending \
           FROM tasks WHERE account_id = $1 AND state IN ('PENDING', 'RETRY', 'STARTED', 'PROGRESS')",
    )
    .bind::<BigInt, _>(account_id)
    .get_result(conn)?;
    let buckets = every_bucket(since, bucket_seconds, Utc::now(), counted);
    let totals = buckets.iter().fold(now, |mut totals, bucket| {
        totals.succeeded += bucket.succeeded;
        totals.failed += bucket.failed;
        totals.retried += bucket.retried;
        totals
    });
    Ok(Throughput { since, bucket_seconds, buckets, totals })
}

/// The counted buckets with the empty ones between them filled in, from `since` to `until`.
fn every_bucket(
    since: DateTime<Utc>,
    bucket_seconds: i64,
    until: DateTime<Utc>,
    counted: Vec<ThroughputBucket>,
) -> Vec<ThroughputBucket> {
    let step = chrono::Duration::seconds(bucket_seconds.max(1));
    let mut counted = counted.into_iter().peekable();
    let mut buckets = Vec::new();
    let mut at = since;
    while at <= until {
        match counted.next_if(|bucket| bucket.at == at) {
            Some(bucket) => buckets.push(bucket),
            None => buckets.push(ThroughputBucket { at, ..Default::default() }),
        }
        at += step;
    }
    buckets
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
