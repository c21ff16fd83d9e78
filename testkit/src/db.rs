//! A database per test, cloned from a template that is migrated once per migration set, so
//! tests run in parallel against the real Postgres without seeing each other.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    time::Duration,
};

use diesel::{Connection, PgConnection, RunQueryDsl};

use shared::db::{self, quote_ident};

const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");

/// The server tests create their databases on (`TEST_DATABASE_URL`, any database on it).
pub fn server_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    db::split_database_url(&url).map(|(server, _)| server).unwrap_or(url)
}

/// A database of this test's own, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> Self {
        let server = server_url();
        let template = ensure_template(&server);
        let name = format!("sy_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(&server);
        let create = format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(&template));
        let mut attempt = 0;
        // Cloning fails while another session is connected to the template; that only happens
        // for the instant another test clones it, so a short retry is enough.
        while let Err(error) = diesel::sql_query(&create).execute(&mut admin) {
            attempt += 1;
            assert!(attempt < 50, "cannot clone the template database: {error}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { url: format!("{server}/{name}?sslmode=disable"), name }
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let server = server_url();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name));
        // A plain thread: Drop may run inside an async runtime, which must not block on I/O.
        let _ = std::thread::spawn(move || {
            if let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres")) {
                let _ = diesel::sql_query(drop).execute(&mut admin);
            }
        })
        .join();
    }
}

fn admin_connection(server: &str) -> PgConnection {
    PgConnection::establish(&format!("{server}/postgres"))
        .unwrap_or_else(|error| panic!("cannot reach Postgres at {server}: {error}"))
}

/// Returns the name of a migrated template for the current migrations, creating it under an
/// advisory lock when no test process has yet.
fn ensure_template(server: &str) -> String {
    let digest = migrations_digest();
    let name = format!("sy_template_{digest:016x}");
    let mut admin = admin_connection(server);
    let lock = (digest & 0x7fff_ffff_ffff_ffff) as i64;
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})")).execute(&mut admin).expect("advisory lock");
    let exists = diesel::sql_query(format!(
        "SELECT 1 AS one FROM pg_database WHERE datname = {}",
        db::quote_literal(&name)
    ))
    .execute(&mut admin)
    .expect("query pg_database")
        > 0;
    if !exists {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building)))
            .execute(&mut admin)
            .expect("drop a stale template build");
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&building)))
            .execute(&mut admin)
            .expect("create template");
        {
            let mut conn =
                PgConnection::establish(&format!("{server}/{building}")).expect("connect to template");
            db::run_migrations(&mut conn).expect("migrate template");
        }
        diesel::sql_query(format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&building),
            quote_ident(&name)
        ))
        .execute(&mut admin)
        .expect("publish template");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})"))
        .execute(&mut admin)
        .expect("advisory unlock");
    name
}

fn migrations_digest() -> u64 {
    let mut files: Vec<_> = walk(std::path::Path::new(MIGRATIONS_DIR));
    files.sort();
    let mut hasher = DefaultHasher::new();
    for path in files {
        path.file_name().hash(&mut hasher);
        std::fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() { walk(&path) } else { vec![path] }
        })
        .collect()
}
