//! Worker binaries and their shared runtime. Each binary (`worker-clustering`,
//! `worker-content`, `worker-seo`, `worker-odoo`, `worker-social`) consumes one queue with
//! [`runtime::Worker`] and the handlers [`handlers::register`] assigns to it.

pub mod clustering;
pub mod handlers;
pub mod runtime;
pub mod scheduler;
pub mod seo;

use anyhow::Context;
use shared::{Config, tasks::Queue};
use tokio_util::sync::CancellationToken;

/// Builds the worker for `queue` with its handlers.
pub fn worker(queue: Queue, config: Config, pool: shared::db::PgPool) -> runtime::Worker {
    let handlers_config = config.clone();
    handlers::register(runtime::Worker::new(queue, config, pool), queue, &handlers_config)
}

/// The whole life of a worker binary: configuration, tracing, migrations, then consume until
/// SIGTERM or Ctrl-C.
pub async fn main_for(queue: Queue) -> anyhow::Result<()> {
    let config = Config::from_env().context("reading configuration")?;
    shared::telemetry::init("info");
    let pool = connect_and_migrate(&config).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    worker(queue, config, pool).run(shutdown).await
}

/// A pool for a worker-side process (at most 8 connections), with migrations applied.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<shared::db::PgPool> {
    shared::db::migrated_pool(&config.database_url, config.database_pool_size.min(8))
        .await
        .context("connecting to Postgres and applying migrations")
}

/// Cancels `token` on SIGTERM or Ctrl-C.
pub async fn shutdown_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = ctrl_c.await;
                token.cancel();
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
    token.cancel();
}

/// Peak resident set size of this process in MiB (`VmHWM` in `/proc/self/status`), for the
/// benchmarks' reports.
pub fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
