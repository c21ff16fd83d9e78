//! `scheduler`: fires cron schedules (see `workers::scheduler`).

use anyhow::Context;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = shared::Config::from_env().context("reading configuration")?;
    shared::telemetry::init("info");
    let pool = workers::connect_and_migrate(&config).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(workers::shutdown_on_signal(shutdown.clone()));
    workers::scheduler::run(config, pool, shutdown).await
}
