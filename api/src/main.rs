//! `api`: serves the HTTP API. `api migrate` creates the database if it is missing and
//! applies the embedded migrations, then exits (the run script calls it first).

use anyhow::Context;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let config = shared::Config::from_env().context("reading configuration")?;
    shared::telemetry::init("info");
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {
            let app = api::Application::build(config).await?;
            app.run_until_stopped().await.context("serving HTTP")
        }
        Some("migrate") => migrate(&config.database_url).await,
        Some(other) => anyhow::bail!("unknown command `{other}` (expected `serve` or `migrate`)"),
    }
}

async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        shared::db::create_database_if_missing(&url).context("creating the database")?;
        let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&url).context("connecting")?;
        shared::db::run_migrations(&mut conn).context("applying migrations")?;
        tracing::info!("database ready");
        Ok(())
    })
    .await?
}
