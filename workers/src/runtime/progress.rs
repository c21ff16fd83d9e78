//! Coalesced progress. Handlers report as often as they like; every ~100 ms the latest report
//! of each running task is written in one statement for all of them and published as an
//! event. The same statement reads `cancel_requested`, which is how a running task learns it
//! was cancelled.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use diesel::{
    prelude::*,
    sql_types::{Array, Int2, Text, Uuid as SqlUuid},
};
use shared::{
    db::{PgPool, models::Task},
    messaging::{Publisher, TaskEvent},
    tasks::TaskState,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::TaskError;

const FLUSH_EVERY: Duration = Duration::from_millis(100);

#[derive(Clone, Debug)]
struct Report {
    phase: String,
    percentage: i16,
    message: String,
}

pub struct ProgressHub {
    worker_id: Uuid,
    pending: Mutex<HashMap<Uuid, Report>>,
    cancelled: Mutex<HashSet<Uuid>>,
}

impl ProgressHub {
    pub fn new(worker_id: Uuid) -> Self {
        Self { worker_id, pending: Mutex::default(), cancelled: Mutex::default() }
    }

    pub fn report(&self, task: &Task, phase: &str, percentage: u8, message: String) -> Result<(), TaskError> {
        if lock(&self.cancelled).contains(&task.id) {
            return Err(TaskError::Cancelled);
        }
        lock(&self.pending)
            .insert(task.id, Report { phase: phase.to_owned(), percentage: i16::from(percentage), message });
        Ok(())
    }

    /// Drops what is known about a finished task.
    pub fn forget(&self, task_id: Uuid) {
        lock(&self.pending).remove(&task_id);
        lock(&self.cancelled).remove(&task_id);
    }

    /// Flushes until `shutdown`, then once more.
    pub async fn run(self: Arc<Self>, pool: PgPool, publisher: Arc<Publisher>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(FLUSH_EVERY) => self.flush(&pool, &publisher).await,
            }
        }
        self.flush(&pool, &publisher).await;
    }

    async fn flush(&self, pool: &PgPool, publisher: &Publisher) {
        let batch: Vec<(Uuid, Report)> = lock(&self.pending).drain().collect();
        if batch.is_empty() {
            return;
        }
        let worker_id = self.worker_id;
        let written = shared::db::run(pool, move |conn| write_batch(conn, worker_id, batch)).await;
        match written {
            Ok(rows) => {
                let mut events = Vec::with_capacity(rows.len());
                for row in rows {
                    if row.cancel_requested {
                        lock(&self.cancelled).insert(row.id);
                    }
                    events.push(row.into_event());
                }
                publisher.publish_events(&events).await;
            }
            Err(error) => tracing::warn!(%error, "progress not written; the next report will be"),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    account_id: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    cancel_requested: bool,
    #[diesel(sql_type = Text)]
    phase: String,
    #[diesel(sql_type = Int2)]
    percentage: i16,
    #[diesel(sql_type = Text)]
    message: String,
}

impl Written {
    fn into_event(self) -> TaskEvent {
        TaskEvent {
            task_id: self.id,
            account_id: self.account_id,
            state: TaskState::Progress,
            phase: self.phase,
            percentage: self.percentage,
            message: self.message,
        }
    }
}

shared::prepared_statement! {
    struct WriteProgress {
        ids: Vec<Uuid>,
        phases: Vec<String>,
        percentages: Vec<i16>,
        messages: Vec<String>,
        worker_id: Uuid,
    }
    sql = [
        "UPDATE tasks AS t SET state = 'PROGRESS', phase = u.phase, percentage = u.percentage, \
                message = u.message, updated_at = now(), revision = t.revision + 1 \
         FROM unnest(", (ids as Array<SqlUuid>), ", ", (phases as Array<Text>), ", ",
        (percentages as Array<Int2>), ", ", (messages as Array<Text>),
        ") AS u(id, phase, percentage, message) \
         WHERE t.id = u.id AND t.worker_id = ", (worker_id as SqlUuid),
        " AND t.state IN ('STARTED', 'PROGRESS') \
         RETURNING t.id, t.account_id, t.cancel_requested, t.phase, t.percentage, t.message",
    ];
}

/// One UPDATE for every task in the batch. Only tasks this worker still owns and that are
/// still running are touched, so a late flush never overwrites a terminal state.
fn write_batch(
    conn: &mut PgConnection,
    worker_id: Uuid,
    batch: Vec<(Uuid, Report)>,
) -> shared::Result<Vec<Written>> {
    let mut ids = Vec::with_capacity(batch.len());
    let mut phases = Vec::with_capacity(batch.len());
    let mut percentages = Vec::with_capacity(batch.len());
    let mut messages = Vec::with_capacity(batch.len());
    for (id, report) in batch {
        ids.push(id);
        phases.push(report.phase);
        percentages.push(report.percentage);
        messages.push(report.message);
    }
    conn.transaction(|conn| {
        // Progress is advisory: losing the last 100 ms of it in a database crash is fine, and
        // not waiting for the WAL flush keeps these writes off the commit path of results.
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
        Ok(WriteProgress { ids, phases, percentages, messages, worker_id }.load(conn)?)
    })
}
