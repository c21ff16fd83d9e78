//! The configuration of a test: its database, a broker namespace of its own (so tests share
//! RabbitMQ without seeing each other's messages), quick retries, loopback allowed outbound.

use shared::Config;

use crate::db::TestDb;

/// The broker tests use (`TEST_AMQP_URL`).
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A broker namespace of this test's own. Its queues expire once unused.
pub fn namespace() -> String {
    format!("sy_test_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Deletes the broker objects of the test's namespace. Blocking, for `Drop`: it runs on a
/// thread of its own with a small runtime.
pub fn delete_namespace(config: &Config) {
    let (url, topology) = (config.amqp_url.clone(), shared::messaging::Topology::from_config(config));
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async {
            if let Ok(connection) = shared::messaging::connect(&url, "test-cleanup").await
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
