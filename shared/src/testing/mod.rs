//! Test support: every test gets its own database, cloned from a template that is migrated
//! once per migration set, and its own broker namespace, so tests run in parallel against the
//! real Postgres and RabbitMQ without seeing each other.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    time::Duration,
};

use diesel::{Connection, PgConnection, RunQueryDsl};

pub mod proxy;
pub mod site;

use crate::{
    config::Config,
    db::{self, quote_ident},
};

const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");

/// The server tests create their databases on (`TEST_DATABASE_URL`, any database on it).
pub fn server_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    db::split_database_url(&url).map(|(server, _)| server).unwrap_or(url)
}

pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
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

/// A broker namespace of this test's own. Its queues expire once unused.
pub fn namespace() -> String {
    format!("sy_test_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Deletes the broker objects of the test's namespace. Blocking, for `Drop`: it runs on a
/// thread of its own with a small runtime.
pub fn delete_namespace(config: &Config) {
    let (url, topology) = (config.amqp_url.clone(), crate::messaging::Topology::from_config(config));
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async {
            if let Ok(connection) = crate::messaging::connect(&url, "test-cleanup").await
                && let Ok(channel) = connection.create_channel().await
            {
                let _ = topology.delete(&channel).await;
                let _ = connection.close(200, "done".into()).await;
            }
        });
    })
    .join();
}

/// The platform payment account's webhook secret in tests (an operator's, never a tenant's).
pub const PAYMENTS_WEBHOOK_SECRET: &str = "whsec_platform_test_secret";

/// A configuration pointing at `db`, a fresh namespace and a media directory of its own under
/// the system's temporary directory, with quick retries.
pub fn config(db: &TestDb) -> Config {
    let namespace = namespace();
    let amqp = amqp_url();
    let url = db.url.clone();
    let media = std::env::temp_dir().join(format!("switchyard-media-{namespace}")).display().to_string();
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "DATABASE_POOL_SIZE" => Some("8".into()),
        "AMQP_URL" => Some(amqp.clone()),
        "AMQP_NAMESPACE" => Some(namespace.clone()),
        "MEDIA_DIR" => Some(media.clone()),
        "AMQP_QUEUE_EXPIRES_MS" => Some("600000".into()),
        "JWT_SECRET" => Some("test-secret-test-secret-test-secret-0123".into()),
        "API_ADDR" => Some("127.0.0.1:0".into()),
        "RETRY_BASE_MS" => Some("100".into()),
        "WORKER_HEARTBEAT_MS" => Some("500".into()),
        "WORKER_SHUTDOWN_GRACE_SECS" => Some("5".into()),
        "RATE_LIMIT_USER_PER_MINUTE" => Some("1000".into()),
        "RATE_LIMIT_ANON_PER_MINUTE" => Some("1000".into()),
        "RATE_LIMIT_AUTH_PER_MINUTE" => Some("1000".into()),
        "PAYMENTS_WEBHOOK_SECRET" => Some(PAYMENTS_WEBHOOK_SECRET.into()),
        // Fake outside services listen on loopback.
        "OUTBOUND_ALLOWED_HOSTS" => Some("127.0.0.1".into()),
        _ => None,
    })
    .expect("test configuration is valid")
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

/// Polls `check` until it returns `Some` or `timeout` passes (tests never sleep blindly).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A TCP proxy in front of a real service that a test can take down and bring back, to see
/// how the system behaves while the service is unreachable (without stopping the service
/// other tests share).
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on 127.0.0.1 and forwards to `target` while up.
    pub async fn start(target: std::net::SocketAddr, up: bool) -> Self {
        use std::sync::{Arc, atomic::AtomicBool};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(up));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (flag, generations) = (up.clone(), generation.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = generations.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, generation, task }
    }

    /// Refuses new connections and cuts the open ones.
    pub fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.generation.send_modify(|generation| *generation += 1);
    }

    pub fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// An AMQP URL that goes through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback listener on a free port, for a fake outside service; with its port.
pub fn loopback_listener() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// Serves every request on `listener` with `handler` in the background (one worker, no
/// signal handling, 64 MiB bodies), `state` as its `web::Data`. Stop it with the handle.
pub fn serve_fake<T, F, Args>(
    listener: std::net::TcpListener,
    state: std::sync::Arc<T>,
    handler: F,
) -> actix_web::dev::ServerHandle
where
    T: Send + Sync + 'static,
    F: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    use actix_web::{App, HttpServer, web};
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}
