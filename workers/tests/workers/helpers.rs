use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use diesel::prelude::*;
use serde_json::Value;
use shared::{
    Config,
    db::{PgPool, models::Task, schema::accounts},
    messaging::{Publisher, Topology, drain_outbox},
    tasks::{NewTask, PING, Queue},
};
use testkit::{DrainError, TaskRunner, TestDb, eventually};
use uuid::Uuid;

pub struct Harness {
    pub config: Config,
    pub pool: PgPool,
    pub account_id: i64,
    publisher: Arc<Publisher>,
    _db: TestDb,
}

impl Harness {
    pub async fn new() -> Self {
        shared::telemetry::init_for_tests();
        let db = tokio::task::spawn_blocking(TestDb::new).await.expect("test database");
        let config = testkit::config::config(&db);
        let pool = shared::db::pool(&config.database_url, 4).expect("pool");
        let account_id = shared::db::run(&pool, |conn| {
            Ok(diesel::insert_into(accounts::table)
                .values(accounts::name.eq("worker tests"))
                .returning(accounts::id)
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("account");
        let publisher = Arc::new(Publisher::new(&config.amqp_url, "test", Topology::from_config(&config)));
        Self { config, pool, account_id, publisher, _db: db }
    }

    /// Enqueues a ping through the library path and publishes it.
    pub async fn enqueue_ping(&self, queue: Queue, payload: Value) -> Uuid {
        let mut task = NewTask::new(self.account_id, PING, payload);
        task.queue = Some(queue);
        let enqueued = shared::db::run(&self.pool, move |conn| {
            conn.transaction(|conn| shared::tasks::enqueue(conn, task))
        })
        .await
        .expect("enqueue");
        drain_outbox(&self.pool, self.publisher.clone()).await.expect("publish");
        enqueued.task.id
    }

    pub async fn task(&self, task_id: Uuid) -> Task {
        shared::db::run(&self.pool, move |conn| {
            Ok(shared::db::schema::tasks::table.find(task_id).select(Task::as_select()).first(conn)?)
        })
        .await
        .expect("task row")
    }

    pub async fn wait_for(&self, task_id: Uuid, what: &str, done: impl Fn(&Task) -> bool) -> Task {
        eventually(Duration::from_secs(60), what, || async {
            let task = self.task(task_id).await;
            done(&task).then_some(task)
        })
        .await
    }

    /// Runs `worker`'s queue in this process until no task on it is left open (see
    /// `testkit::tasks`); `Err` names each task that failed.
    pub async fn run_pending(&self, worker: workers::runtime::Worker) -> Result<Vec<Task>, DrainError> {
        let runner = TaskRunner::with_workers(&self.config, &self.pool, vec![worker]).await;
        let outcome = runner.run_pending().await;
        runner.close().await;
        outcome
    }

    /// Starts a worker binary configured for this test's database and namespace.
    pub fn spawn_worker(&self, queue: Queue, grace_secs: u64) -> Child {
        let binary = match queue {
            Queue::Clustering => env!("CARGO_BIN_EXE_worker-clustering"),
            Queue::Content => env!("CARGO_BIN_EXE_worker-content"),
            Queue::Seo => env!("CARGO_BIN_EXE_worker-seo"),
            Queue::Odoo => env!("CARGO_BIN_EXE_worker-odoo"),
            Queue::Social => env!("CARGO_BIN_EXE_worker-social"),
        };
        self.command(binary)
            .env("RETRY_BASE_MS", "100")
            .env("WORKER_SHUTDOWN_GRACE_SECS", grace_secs.to_string())
            .spawn()
            .expect("worker binary starts")
    }

    /// A command for one of this crate's binaries, pointed at this test's database and
    /// namespace; logs show only with `TEST_LOG`.
    pub fn command(&self, binary: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .env("DATABASE_URL", &self.config.database_url)
            .env("AMQP_URL", &self.config.amqp_url)
            .env("AMQP_NAMESPACE", &self.config.amqp_namespace)
            .env("AMQP_QUEUE_EXPIRES_MS", "600000")
            .env("WORKER_HEARTBEAT_MS", "500")
            .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(if std::env::var_os("TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .stderr(Stdio::inherit());
        command
    }

    pub async fn live_workers(&self) -> i64 {
        shared::db::run(&self.pool, |conn| {
            use shared::db::schema::worker_heartbeats;
            Ok(worker_heartbeats::table.count().get_result(conn)?)
        })
        .await
        .expect("heartbeats")
    }

    /// How often the ping's effect row was written.
    pub async fn effect_writes(&self, task_id: Uuid) -> Option<i32> {
        shared::db::run(&self.pool, move |conn| {
            use shared::db::schema::diagnostic_pings;
            Ok(diagnostic_pings::table
                .find(task_id)
                .select(diagnostic_pings::writes)
                .first(conn)
                .optional()?)
        })
        .await
        .expect("effect row")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        testkit::config::delete_namespace(&self.config);
    }
}

/// Sends SIGTERM and waits for the process to exit.
pub async fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill runs");
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait().expect("worker exits")).await.expect("join")
}
