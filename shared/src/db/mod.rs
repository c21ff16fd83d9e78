//! PostgreSQL access: the diesel schema, the row models, the r2d2 pool and the embedded
//! migrations.
//!
//! Diesel is synchronous: call it through [`run`] (or `web::block` in the API), never
//! directly on an async executor thread.

pub mod models;
mod prepared;
pub mod schema;
pub mod text_enum;

use diesel::{
    PgConnection,
    prelude::*,
    r2d2::{ConnectionManager, Pool, PooledConnection},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Longest a single statement may run: no request or task waits on the database forever.
const STATEMENT_TIMEOUT_MS: u32 = 30_000;

/// Builds a pool. Connections are opened lazily, so a process can start while Postgres is
/// still coming up; `connection_timeout` bounds every checkout and every connection carries a
/// statement timeout.
pub fn pool(database_url: &str, max_size: u32) -> Result<PgPool> {
    let manager = ConnectionManager::<PgConnection>::new(database_url);
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(std::time::Duration::from_secs(5))
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings))
        .build(manager)
        .map_err(Error::Pool)
}

#[derive(Debug)]
struct SessionSettings;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> std::result::Result<(), diesel::r2d2::Error> {
        diesel::connection::SimpleConnection::batch_execute(
            conn,
            &format!("SET statement_timeout = {STATEMENT_TIMEOUT_MS}"),
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Every process applies migrations at start; this lock makes concurrent starts take turns.
const MIGRATION_LOCK: i64 = 0x5357_4954_4348; // "SWITCH"

/// Applies every pending embedded migration, serialised across processes.
pub fn run_migrations(conn: &mut PgConnection) -> Result<()> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(conn)?;
    let outcome = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|_| ())
        .map_err(|error| Error::Migration(error.to_string()));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(conn)?;
    outcome
}

/// A pool with every pending migration applied: what each process does at start.
pub async fn migrated_pool(database_url: &str, max_size: u32) -> Result<PgPool> {
    let pool = pool(database_url, max_size)?;
    run(&pool, run_migrations).await?;
    Ok(pool)
}

/// Runs a blocking diesel closure on a pooled connection off the async executor.
pub async fn run<T, F>(pool: &PgPool, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await?
}

/// Creates the database named in `database_url` when it does not exist yet (developer set-up;
/// production databases are provisioned outside the application).
pub fn create_database_if_missing(database_url: &str) -> Result<()> {
    let (server_url, name) = split_database_url(database_url)?;
    let mut conn = PgConnection::establish(&format!("{server_url}/postgres"))?;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = {})",
        quote_literal(&name)
    )))
    .get_result(&mut conn)?;
    if !exists {
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&name))).execute(&mut conn)?;
        tracing::info!(database = %name, "created database");
    }
    Ok(())
}

/// Splits `postgres://user@host:port/name?params` into the server part and the database name.
pub fn split_database_url(database_url: &str) -> Result<(String, String)> {
    let without_params = database_url.split('?').next().unwrap_or(database_url);
    match without_params.rsplit_once('/') {
        Some((server, name)) if server.contains("://") && !server.ends_with('/') && !name.is_empty() => {
            Ok((server.to_owned(), name.to_owned()))
        }
        _ => Err(Error::Config {
            name: "DATABASE_URL".into(),
            reason: "must name a database (postgres://user@host:port/name)".into(),
        }),
    }
}

pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Health probe used by the status endpoint.
pub fn ping(conn: &mut PgConnection) -> Result<()> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_database_urls() {
        let (server, name) =
            split_database_url("postgres://u@127.0.0.1:5432/app?sslmode=disable").expect("valid url");
        assert_eq!(server, "postgres://u@127.0.0.1:5432");
        assert_eq!(name, "app");
        assert!(split_database_url("postgres://u@host:5432").is_err());
    }
}
