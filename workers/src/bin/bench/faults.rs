//! `bench faults`: the pipeline under faults. Enqueues FAULT_TASKS pings (each writes its
//! effect once into `diagnostic_pings`, counting every write) for FAULT_WORKERS worker
//! processes, then, while they run: SIGKILLs a random worker every FAULT_KILL_EVERY_SECS and
//! starts a new one, restarts RabbitMQ once and PostgreSQL once. When the faults stop it waits
//! for every task to settle and reports tasks lost (not SUCCESS), effects written more than
//! once, tasks stuck non-terminal, and the time to recover. Restarting the services needs
//! `rabbitmqctl` and `pg_ctlcluster` on this machine (and the right to use them).

use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use diesel::prelude::*;
use serde_json::json;
use shared::{
    db::schema::tasks,
    messaging::{Relay, Topology},
    tasks::{NewTask, PING, Queue},
};
use tokio_util::sync::CancellationToken;

use crate::{Settings, env_or, processes};

struct Plan {
    tasks: usize,
    workers: usize,
    kill_every: Duration,
    rabbitmq_at: Duration,
    postgres_at: Duration,
    faults_for: Duration,
    recover_within: Duration,
}

impl Plan {
    fn from_env() -> Self {
        Self {
            tasks: env_or("FAULT_TASKS", 20_000),
            workers: env_or("FAULT_WORKERS", 3),
            kill_every: Duration::from_secs(env_or("FAULT_KILL_EVERY_SECS", 3)),
            rabbitmq_at: Duration::from_secs(6),
            postgres_at: Duration::from_secs(16),
            faults_for: Duration::from_secs(env_or("FAULT_SECS", 26)),
            recover_within: Duration::from_secs(env_or("FAULT_RECOVER_SECS", 600)),
        }
    }
}

/// What the run found.
#[derive(Debug, Default)]
struct Tally {
    succeeded: i64,
    failed: i64,
    revoked: i64,
    unfinished: i64,
    effects_twice: i64,
    effects_missing: i64,
}

/// The worker processes, kept at their number: a killed or exited one is replaced.
struct Fleet {
    workers: Vec<Child>,
    kills: usize,
    restarts: usize,
}

impl Fleet {
    fn start(settings: &Settings, count: usize) -> anyhow::Result<Self> {
        let mut fleet = Self { workers: Vec::new(), kills: 0, restarts: 0 };
        for _ in 0..count {
            fleet.workers.push(spawn_worker(settings)?);
        }
        Ok(fleet)
    }

    /// SIGKILLs one worker, chosen by the clock.
    fn kill_one(&mut self) {
        if self.workers.is_empty() {
            return;
        }
        // The wall clock's nanoseconds are random enough to pick a victim.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let index = nanos.subsec_nanos() as usize % self.workers.len();
        let _ = self.workers[index].kill();
        let _ = self.workers[index].wait();
        self.kills += 1;
    }

    /// Starts a new worker in the place of every one that is gone.
    fn replace_the_dead(&mut self, settings: &Settings) {
        for worker in &mut self.workers {
            if matches!(worker.try_wait(), Ok(Some(_)))
                && let Ok(fresh) = spawn_worker(settings)
            {
                *worker = fresh;
                self.restarts += 1;
            }
        }
    }

    fn stop(mut self) {
        for worker in &mut self.workers {
            let _ = Command::new("kill").arg("-TERM").arg(worker.id().to_string()).status();
        }
        for worker in &mut self.workers {
            let _ = worker.wait();
        }
    }
}

fn spawn_worker(settings: &Settings) -> anyhow::Result<Child> {
    Ok(processes::command(settings, "worker-clustering")?
        .env("WORKER_PREFETCH", "32")
        .env("DATABASE_POOL_SIZE", "8")
        // A killed worker's tasks are taken over once its heartbeat is 3 periods old.
        .env("WORKER_HEARTBEAT_MS", "1000")
        .env("RETRY_BASE_MS", "250")
        .spawn()?)
}

fn run_quietly(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Stops and starts the RabbitMQ application (the node keeps running); how long it was down.
fn restart_rabbitmq() -> Option<Duration> {
    let started = Instant::now();
    (run_quietly("rabbitmqctl", &["stop_app"]) && run_quietly("rabbitmqctl", &["start_app"]))
        .then(|| started.elapsed())
}

/// Restarts the newest local PostgreSQL cluster; how long it took.
fn restart_postgres() -> Option<Duration> {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .max_by_key(|name| name.parse::<u32>().unwrap_or(0))?;
    let started = Instant::now();
    run_quietly("pg_ctlcluster", &["--skip-systemctl-redirect", &version, "main", "restart"])
        .then(|| started.elapsed())
}

async fn enqueue_all(
    pool: &shared::db::PgPool,
    relay: &shared::messaging::RelayHandle,
    tasks: usize,
) -> anyhow::Result<i64> {
    let account_id: i64 = shared::db::run(pool, |conn| {
        use shared::db::schema::accounts;
        Ok(diesel::insert_into(accounts::table)
            .values(accounts::name.eq("faults"))
            .returning(accounts::id)
            .get_result(conn)?)
    })
    .await?;
    let mut remaining = tasks;
    while remaining > 0 {
        let batch: Vec<NewTask> = (0..remaining.min(1_000))
            .map(|_| {
                let mut task = NewTask::new(account_id, PING, json!({ "steps": 3, "sleep_ms": 50 }));
                task.queue = Some(Queue::Clustering);
                task
            })
            .collect();
        remaining -= batch.len();
        let ids = shared::db::run(pool, move |conn| {
            conn.transaction(|conn| shared::tasks::enqueue_many(conn, batch))
        })
        .await?;
        relay.notify(ids.into_iter().map(|(_, outbox_id)| outbox_id));
    }
    Ok(account_id)
}

async fn tally(pool: &shared::db::PgPool, account_id: i64) -> anyhow::Result<Tally> {
    Ok(shared::db::run(pool, move |conn| {
        use diesel::dsl::sql;
        use diesel::sql_types::BigInt;
        let (succeeded, failed, revoked, unfinished): (i64, i64, i64, i64) = tasks::table
            .filter(tasks::account_id.eq(account_id))
            .select((
                sql::<BigInt>("count(*) FILTER (WHERE state = 'SUCCESS')"),
                sql::<BigInt>("count(*) FILTER (WHERE state = 'FAILURE')"),
                sql::<BigInt>("count(*) FILTER (WHERE state = 'REVOKED')"),
                sql::<BigInt>("count(*) FILTER (WHERE state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED'))"),
            ))
            .first(conn)?;
        let (effects_twice, effects_missing): (i64, i64) = diesel::sql_query(
            "SELECT (SELECT count(*) FROM diagnostic_pings p JOIN tasks t ON t.id = p.task_id \
                     WHERE t.account_id = $1 AND p.writes > 1) AS twice, \
                    (SELECT count(*) FROM tasks t WHERE t.account_id = $1 AND t.state = 'SUCCESS' \
                     AND NOT EXISTS (SELECT 1 FROM diagnostic_pings p WHERE p.task_id = t.id)) AS missing",
        )
        .bind::<BigInt, _>(account_id)
        .get_result::<EffectCounts>(conn)
        .map(|counts| (counts.twice, counts.missing))?;
        Ok(Tally { succeeded, failed, revoked, unfinished, effects_twice, effects_missing })
    })
    .await?)
}

#[derive(QueryableByName)]
struct EffectCounts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    twice: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    missing: i64,
}

pub async fn run(settings: &Settings) -> anyhow::Result<bool> {
    let plan = Plan::from_env();
    println!(
        "faults: {} tasks, {} workers, a worker SIGKILLed every {}s for {}s, RabbitMQ restarted at {}s, PostgreSQL at {}s",
        plan.tasks,
        plan.workers,
        plan.kill_every.as_secs(),
        plan.faults_for.as_secs(),
        plan.rabbitmq_at.as_secs(),
        plan.postgres_at.as_secs()
    );
    crate::pipeline::prepare_database(settings).await?;
    let pool = shared::db::pool(&settings.database_url, 4)?;
    let topology = Topology::new(&settings.namespace, None, Duration::from_millis(250));
    let publisher =
        std::sync::Arc::new(shared::messaging::Publisher::new(&settings.amqp_url, "faults-relay", topology));
    publisher.ensure_connected().await?;
    let stop = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), publisher, stop.clone());
    let mut fleet = Fleet::start(settings, plan.workers)?;

    let started = Instant::now();
    let account_id = enqueue_all(&pool, &relay, plan.tasks).await?;
    println!("enqueued in {:.1}s", started.elapsed().as_secs_f64());

    let (mut rabbitmq, mut postgres) = (None, None);
    let mut next_kill = started + plan.kill_every;
    while started.elapsed() < plan.faults_for {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if Instant::now() >= next_kill {
            fleet.kill_one();
            next_kill += plan.kill_every;
        }
        if rabbitmq.is_none() && started.elapsed() >= plan.rabbitmq_at {
            rabbitmq = Some(tokio::task::spawn_blocking(restart_rabbitmq).await?);
            println!("RabbitMQ restarted: {}", describe(rabbitmq.flatten()));
        }
        if postgres.is_none() && started.elapsed() >= plan.postgres_at {
            postgres = Some(tokio::task::spawn_blocking(restart_postgres).await?);
            println!("PostgreSQL restarted: {}", describe(postgres.flatten()));
        }
        fleet.replace_the_dead(settings);
    }
    let faults_over = Instant::now();
    println!(
        "faults over after {:.1}s: {} workers killed, {} started again",
        started.elapsed().as_secs_f64(),
        fleet.kills,
        fleet.restarts
    );

    let mut last = Tally::default();
    while faults_over.elapsed() < plan.recover_within {
        fleet.replace_the_dead(settings);
        match tally(&pool, account_id).await {
            Ok(now) if now.unfinished == 0 => {
                last = now;
                break;
            }
            Ok(now) => last = now,
            Err(error) => println!("(waiting for the database: {error})"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recovered = faults_over.elapsed();
    fleet.stop();
    stop.cancel();

    let lost = plan.tasks as i64 - last.succeeded;
    println!(
        "tasks: {} succeeded, {} failed, {} revoked, {} not finished",
        last.succeeded, last.failed, last.revoked, last.unfinished
    );
    println!("tasks lost (not SUCCESS): {lost}");
    println!("effects written twice: {}", last.effects_twice);
    println!("successes without their effect: {}", last.effects_missing);
    println!("tasks stuck non-terminal: {}", last.unfinished);
    println!("time to recover (faults over → every task settled): {:.1}s", recovered.as_secs_f64());
    Ok(lost == 0 && last.effects_twice == 0 && last.effects_missing == 0 && last.unfinished == 0)
}

fn describe(outage: Option<Duration>) -> String {
    outage.map_or_else(
        || "could not (rabbitmqctl / pg_ctlcluster missing or refused)".to_owned(),
        |took| format!("took {:.1}s", took.as_secs_f64()),
    )
}
