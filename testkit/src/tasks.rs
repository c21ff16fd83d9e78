//! Queued tasks run in the test's own process, when the test says so. A [`TaskRunner`] holds a
//! [`Drain`] per queue; [`TaskRunner::run_pending`] publishes what waits in the outbox, runs
//! every ready message through the real worker path, and repeats (waiting out retry delays)
//! until no task of its queues is open. Then it fails if any task it ran failed, naming the
//! task, its kind and its error: a broken handler is a failed assertion, not a timeout.

use std::{fmt, sync::Arc, time::Duration};

use diesel::prelude::*;
use shared::{
    Config,
    db::{PgPool, models::Task, schema::tasks},
    messaging::{Publisher, Topology, drain_outbox},
    tasks::{Queue, TaskState},
};
use uuid::Uuid;
use workers::runtime::{Drain, Worker};

/// How long `run_pending` waits for open tasks (retries in their delay queues, a message the
/// API's relay is publishing) before it gives up.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Between looks while only delayed messages are left.
const PAUSE: Duration = Duration::from_millis(20);

/// Why [`TaskRunner::run_pending`] did not end with every task done. Its `Debug` is its
/// summary, so `.expect(..)` in a test prints each failed task's id, kind and error.
#[non_exhaustive]
pub enum DrainError {
    /// Tasks it ran ended in FAILURE. `finished` holds every task it ran, failed or not.
    Failed { failed: Vec<Task>, finished: Vec<Task> },
    /// Tasks were still open when the timeout passed.
    Stuck { open: Vec<Task>, timeout: Duration },
    /// The broker or the database could not be used.
    Unavailable(String),
}

impl DrainError {
    /// The failed tasks (empty unless `Failed`).
    pub fn failed(&self) -> &[Task] {
        match self {
            DrainError::Failed { failed, .. } => failed,
            _ => &[],
        }
    }
}

impl fmt::Display for DrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrainError::Failed { failed, .. } => {
                write!(f, "{} task(s) failed:", failed.len())?;
                for task in failed {
                    let error = task.error.clone().unwrap_or_default();
                    let field = |name: &str| error[name].as_str().unwrap_or_default().to_owned();
                    write!(
                        f,
                        "\n  task {} ({}) after {} attempt(s): {}: {}",
                        task.id,
                        task.kind,
                        task.attempts,
                        field("code"),
                        field("message")
                    )?;
                }
                Ok(())
            }
            DrainError::Stuck { open, timeout } => {
                write!(f, "{} task(s) still open after {timeout:?}:", open.len())?;
                for task in open {
                    write!(
                        f,
                        "\n  task {} ({}) {} after {} attempt(s)",
                        task.id, task.kind, task.state, task.attempts
                    )?;
                }
                Ok(())
            }
            DrainError::Unavailable(error) => write!(f, "cannot run tasks: {error}"),
        }
    }
}

impl fmt::Debug for DrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for DrainError {}

/// Workers for some queues that run only when asked.
pub struct TaskRunner {
    drains: Vec<Drain>,
    pool: PgPool,
    publisher: Arc<Publisher>,
    timeout: Duration,
}

impl TaskRunner {
    /// A runner for every queue, each with the handlers its worker binary has.
    pub async fn new(config: &Config, pool: &PgPool) -> Self {
        Self::for_queues(config, pool, &Queue::ALL).await
    }

    /// A runner for `queues` with their production handlers.
    pub async fn for_queues(config: &Config, pool: &PgPool, queues: &[Queue]) -> Self {
        let workers =
            queues.iter().map(|&queue| workers::worker(queue, config.clone(), pool.clone())).collect();
        Self::with_workers(config, pool, workers).await
    }

    /// A runner for the given workers (handlers of the test's own, say). Panics when the
    /// broker cannot be reached, like the rest of a test's setup.
    pub async fn with_workers(config: &Config, pool: &PgPool, workers: Vec<Worker>) -> Self {
        let mut drains = Vec::with_capacity(workers.len());
        for worker in workers {
            drains.push(worker.into_drain().await.expect("a drain connects to the broker"));
        }
        let publisher =
            Arc::new(Publisher::new(&config.amqp_url, "test-drain", Topology::from_config(config)));
        Self { drains, pool: pool.clone(), publisher, timeout: DEFAULT_TIMEOUT }
    }

    /// Waits at most `timeout` for open tasks (60 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs until no task of the runner's queues is open; returns the final rows of the
    /// tasks it ran, in the order they first ran, or why not all of them succeeded.
    pub async fn run_pending(&self) -> Result<Vec<Task>, DrainError> {
        let unavailable = |error: &dyn fmt::Display| DrainError::Unavailable(error.to_string());
        let queues: Vec<String> = self.drains.iter().map(|drain| drain.queue().as_str().to_owned()).collect();
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut ran: Vec<Uuid> = Vec::new();
        loop {
            drain_outbox(&self.pool, self.publisher.clone()).await.map_err(|e| unavailable(&e))?;
            let mut progressed = false;
            for drain in &self.drains {
                let taken = drain.run_ready().await.map_err(|e| unavailable(&e))?;
                progressed |= !taken.is_empty();
                for id in taken {
                    if !ran.contains(&id) {
                        ran.push(id);
                    }
                }
            }
            if progressed {
                continue;
            }
            let open = self.open_tasks(queues.clone()).await.map_err(|e| unavailable(&e))?;
            if open.is_empty() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DrainError::Stuck { open, timeout: self.timeout });
            }
            tokio::time::sleep(PAUSE).await;
        }
        let finished = self.rows(ran).await.map_err(|e| unavailable(&e))?;
        let failed: Vec<Task> =
            finished.iter().filter(|task| task.state == TaskState::Failure).cloned().collect();
        if failed.is_empty() { Ok(finished) } else { Err(DrainError::Failed { failed, finished }) }
    }

    /// Closes every drain's broker connection.
    pub async fn close(self) {
        for drain in self.drains {
            drain.close().await;
        }
        self.publisher.close().await;
    }

    async fn open_tasks(&self, queues: Vec<String>) -> shared::Result<Vec<Task>> {
        shared::db::run(&self.pool, move |conn| {
            Ok(tasks::table
                .filter(tasks::queue.eq_any(queues))
                .filter(tasks::state.ne_all(TaskState::TERMINAL))
                .order(tasks::created_at)
                .select(Task::as_select())
                .load(conn)?)
        })
        .await
    }

    async fn rows(&self, ids: Vec<Uuid>) -> shared::Result<Vec<Task>> {
        shared::db::run(&self.pool, move |conn| {
            let mut rows: Vec<Task> =
                tasks::table.filter(tasks::id.eq_any(&ids)).select(Task::as_select()).load(conn)?;
            rows.sort_by_key(|task| ids.iter().position(|id| *id == task.id));
            Ok(rows)
        })
        .await
    }
}

/// Runs every queued task of every queue in this process until none is left open, failing
/// on a failed task (see [`TaskRunner::run_pending`]). A test that drains more than once
/// keeps a [`TaskRunner`] instead of connecting anew each time.
pub async fn run_pending_tasks(config: &Config, pool: &PgPool) -> Result<Vec<Task>, DrainError> {
    let runner = TaskRunner::new(config, pool).await;
    let outcome = runner.run_pending().await;
    runner.close().await;
    outcome
}
