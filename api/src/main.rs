//! `api`: reads configuration, sets up tracing, builds and serves the application.

use anyhow::Context;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let config = shared::Config::from_env().context("reading configuration")?;
    shared::telemetry::init("info");
    let app = api::Application::build(config).await?;
    app.run_until_stopped().await.context("serving HTTP")
}
