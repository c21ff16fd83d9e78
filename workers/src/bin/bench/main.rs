//! `bench`: end-to-end throughput and latency of the task pipeline on this machine, next to
//! the raw limit of the broker measured in the same run. Run it through `scripts/bench`.
//!
//! `bench faults` runs the fault suite instead (see `faults`).
//!
//! Settings (environment): BENCH_TASKS (20000), BENCH_POLLERS (64), BENCH_POLL_SECS (10),
//! BENCH_WORKERS (worker processes, 1), BENCH_PREFETCH (per worker, 1024), DATABASE_URL's
//! server (a fresh `switchyard_bench` database is created on it), AMQP_URL.
#![expect(clippy::print_stdout, reason = "the report is the output of this tool")]

mod broker;
mod faults;
mod pipeline;
mod pollers;
mod processes;

use std::time::Duration;

use anyhow::Context;

pub struct Settings {
    pub tasks: usize,
    pub pollers: usize,
    pub poll_for: Duration,
    pub workers: usize,
    pub prefetch: u16,
    pub database_url: String,
    pub amqp_url: String,
    pub namespace: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let server = std::env::var("DATABASE_URL")
            .ok()
            .and_then(|url| shared::db::split_database_url(&url).ok().map(|(server, _)| server))
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned());
        Ok(Self {
            tasks: env_or("BENCH_TASKS", 20_000),
            pollers: env_or("BENCH_POLLERS", 64),
            poll_for: Duration::from_secs(env_or("BENCH_POLL_SECS", 10)),
            workers: env_or("BENCH_WORKERS", 1),
            prefetch: env_or("BENCH_PREFETCH", 1024),
            database_url: format!("{server}/switchyard_bench?sslmode=disable"),
            amqp_url: std::env::var("AMQP_URL")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            namespace: format!("bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("warn");
    let settings = Settings::from_env()?;
    if std::env::args().nth(1).as_deref() == Some("faults") {
        let passed = faults::run(&settings).await?;
        broker::delete_namespace(&settings).await;
        anyhow::ensure!(passed, "the pipeline lost, repeated or stranded work under faults");
        return Ok(());
    }
    println!(
        "bench: {} tasks, {} worker process(es) with prefetch {}, {} pollers for {}s",
        settings.tasks,
        settings.workers,
        settings.prefetch,
        settings.pollers,
        settings.poll_for.as_secs()
    );
    pipeline::prepare_database(&settings).await.context("preparing the bench database")?;

    let raw = broker::measure(&settings).await.context("measuring the raw broker")?;
    println!("raw broker (quorum queue, persistent, confirms, consume + ack): {:.0} msg/s", raw);

    let system = processes::System::start(&settings).await.context("starting the API and workers")?;
    let idle_rss = system.worker_rss_mib();
    println!("worker RSS idle: {}", format_mib(&idle_rss));

    let library = pipeline::run_library(&settings).await.context("library path")?;
    println!(
        "end to end, library enqueue: {:.0} tasks/s ({:.0}% of raw broker)",
        library,
        100.0 * library / raw
    );
    let (http, token, task_ids) = pipeline::run_http(&settings, &system).await.context("HTTP path")?;
    println!("end to end, HTTP enqueue:    {:.0} tasks/s ({:.0}% of raw broker)", http, 100.0 * http / raw);

    let latency = pollers::measure(&settings, &system, &token, &task_ids).await.context("pollers")?;
    println!(
        "GET /api/v1/tasks/{{id}} with {} pollers: p50 {:.2} ms, p99 {:.2} ms, {:.0} req/s",
        settings.pollers, latency.p50_ms, latency.p99_ms, latency.rate
    );
    println!("worker RSS after load: {}", format_mib(&system.worker_rss_mib()));
    println!("API RSS after load: {:.1} MiB", system.api_rss_mib());
    system.stop().await;
    broker::delete_namespace(&settings).await;
    Ok(())
}

fn format_mib(values: &[f64]) -> String {
    values.iter().map(|mib| format!("{mib:.1} MiB")).collect::<Vec<_>>().join(", ")
}
