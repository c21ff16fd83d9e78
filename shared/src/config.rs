//! Typed configuration, read once from the environment (and `.env` when present) and passed
//! explicitly. Every value has a default that works on a developer machine.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};

use crate::{
    ai::AiConfig,
    crypto::SecretBox,
    error::{Error, Result},
};

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub database_pool_size: u32,
    pub amqp_url: String,
    /// Prefix of every exchange and queue name, so several deployments (or tests) can share
    /// one broker without seeing each other's messages.
    pub amqp_namespace: String,
    /// When set, every queue is deleted by the broker after this long unused (tests only).
    pub amqp_queue_expires: Option<Duration>,
    pub api_addr: SocketAddr,
    pub jwt_secret: SecretString,
    /// Encrypts integration secrets at rest (`ENCRYPTION_KEY`, 64 hex characters; derived
    /// from the JWT secret in development).
    pub secret_box: SecretBox,
    /// The server's own AI provider (`OPENAI_API_KEY` …); `None` inside means offline.
    pub ai: AiConfig,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub rate_limit_user_per_minute: u32,
    pub rate_limit_anon_per_minute: u32,
    /// Tries of credentials (login, register, refresh, password) per client IP and per email.
    pub rate_limit_auth_per_minute: u32,
    /// Messages a worker may hold unacknowledged; also how many tasks it runs at once.
    /// `None` uses the per-kind default.
    pub worker_prefetch: Option<u16>,
    /// How long a stopping worker waits for in-flight tasks before leaving them for
    /// redelivery.
    pub worker_shutdown_grace: Duration,
    pub heartbeat_interval: Duration,
    /// When set, workers touch this file on every heartbeat (container health checks).
    pub heartbeat_file: Option<PathBuf>,
    /// Delay before the first retry; each later retry level waits four times longer.
    pub retry_base_delay: Duration,
    /// Where generated files (images) live; rows store paths relative to it (`MEDIA_DIR`).
    pub media_dir: PathBuf,
    /// An HTTP proxy the SEO fetcher sends every request through (`OUTBOUND_PROXY`): an
    /// egress proxy in production, the loopback-only proxy in tests.
    pub outbound_proxy: Option<String>,
    /// Bearer token for `GET /metrics`; without one the endpoint does not exist.
    pub metrics_token: Option<String>,
    /// The signing secret of the platform's own payment account's webhook
    /// (`PAYMENTS_WEBHOOK_SECRET`, Stripe's `whsec_…`): only operators hold it, and only events
    /// it signs buy credits. Unset, the payments webhook answers 503.
    pub payments_webhook_secret: Option<SecretString>,
    /// Least time between two re-audits of one site that Gitea pushes start.
    pub push_audit_interval: Duration,
    /// Longest wait for the next piece of a request body before it is answered 408.
    pub body_idle_timeout: Duration,
    /// Longest time to receive a whole request body.
    pub body_total_timeout: Duration,
    /// Requests whose resource use the API keeps for `system/request-metrics/` (0: none are
    /// measured).
    pub request_metrics_capacity: usize,
    /// How long a request's resource use stays there.
    pub request_metrics_ttl: Duration,
    pub environment: Environment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

const DEV_JWT_SECRET_FILE: &str = ".switchyard/jwt_secret";

impl Config {
    /// Reads `.env` (if any) and the process environment.
    pub fn from_env() -> Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let environment = match var("APP_ENV", "development").as_str() {
            "production" => Environment::Production,
            "development" | "test" => Environment::Development,
            other => return Err(config_error("APP_ENV", format!("unknown environment `{other}`"))),
        };
        let jwt_secret = match lookup("JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => SecretString::from(secret),
            Some(_) => return Err(config_error("JWT_SECRET", "must be at least 32 characters")),
            None if environment == Environment::Production => {
                return Err(config_error("JWT_SECRET", "is required in production"));
            }
            None => dev_jwt_secret()?,
        };
        let secret_box = match lookup("ENCRYPTION_KEY") {
            Some(hex_key) => SecretBox::from_hex(&hex_key)
                .ok_or_else(|| config_error("ENCRYPTION_KEY", "must be 64 hexadecimal characters"))?,
            None if environment == Environment::Production => {
                return Err(config_error("ENCRYPTION_KEY", "is required in production"));
            }
            None => SecretBox::derived_from(jwt_secret.expose_secret().as_bytes()),
        };
        Ok(Self {
            // TLS to a database on loopback only costs CPU; remote URLs set their own sslmode.
            database_url: var(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/switchyard?sslmode=disable",
            ),
            database_pool_size: parse(&lookup, "DATABASE_POOL_SIZE", 16)?,
            amqp_url: var("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            amqp_namespace: var("AMQP_NAMESPACE", "switchyard"),
            amqp_queue_expires: lookup("AMQP_QUEUE_EXPIRES_MS")
                .map(|ms| parse_value::<u64>("AMQP_QUEUE_EXPIRES_MS", &ms))
                .transpose()?
                .map(Duration::from_millis),
            api_addr: parse(&lookup, "API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            jwt_secret,
            secret_box,
            ai: AiConfig::from_lookup(&lookup)?,
            access_token_ttl: Duration::from_secs(parse(&lookup, "ACCESS_TOKEN_TTL_SECS", 15 * 60)?),
            refresh_token_ttl: Duration::from_secs(parse(&lookup, "REFRESH_TOKEN_TTL_SECS", 7 * 24 * 3600)?),
            cors_origins: var("CORS_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000")
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            rate_limit_user_per_minute: parse(&lookup, "RATE_LIMIT_USER_PER_MINUTE", 100)?,
            rate_limit_anon_per_minute: parse(&lookup, "RATE_LIMIT_ANON_PER_MINUTE", 20)?,
            rate_limit_auth_per_minute: parse(&lookup, "RATE_LIMIT_AUTH_PER_MINUTE", 10)?,
            worker_prefetch: lookup("WORKER_PREFETCH")
                .map(|v| parse_value::<u16>("WORKER_PREFETCH", &v))
                .transpose()?
                .filter(|&prefetch| prefetch > 0),
            worker_shutdown_grace: Duration::from_secs(parse(&lookup, "WORKER_SHUTDOWN_GRACE_SECS", 30)?),
            heartbeat_interval: Duration::from_millis(parse(&lookup, "WORKER_HEARTBEAT_MS", 5_000)?),
            heartbeat_file: lookup("WORKER_HEARTBEAT_FILE")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
            retry_base_delay: Duration::from_millis(parse(&lookup, "RETRY_BASE_MS", 1_000)?),
            media_dir: PathBuf::from(var("MEDIA_DIR", ".switchyard/media")),
            outbound_proxy: lookup("OUTBOUND_PROXY")
                .map(|proxy| proxy.trim().to_owned())
                .filter(|p| !p.is_empty()),
            metrics_token: lookup("METRICS_TOKEN")
                .map(|token| token.trim().to_owned())
                .filter(|t| !t.is_empty()),
            payments_webhook_secret: lookup("PAYMENTS_WEBHOOK_SECRET")
                .map(|secret| secret.trim().to_owned())
                .filter(|secret| !secret.is_empty())
                .map(SecretString::from),
            push_audit_interval: Duration::from_secs(parse(&lookup, "PUSH_AUDIT_INTERVAL_SECS", 600)?),
            body_idle_timeout: Duration::from_secs(parse(&lookup, "HTTP_BODY_IDLE_TIMEOUT_SECS", 15)?),
            body_total_timeout: Duration::from_secs(parse(&lookup, "HTTP_BODY_TIMEOUT_SECS", 120)?),
            request_metrics_capacity: parse(&lookup, "REQUEST_METRICS_MAX_ENTRIES", 10_000)?,
            request_metrics_ttl: Duration::from_secs(
                60 * parse(&lookup, "REQUEST_METRICS_TTL_MINUTES", 15u64)?,
            ),
            environment,
        })
    }

    /// The payments webhook's signing secret as bytes, when payments are configured.
    pub fn payments_webhook_secret_bytes(&self) -> Option<&[u8]> {
        self.payments_webhook_secret.as_ref().map(|secret| secret.expose_secret().as_bytes())
    }

    /// The JWT signing secret as bytes (kept wrapped everywhere else so it never prints).
    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

fn parse<T: FromStr>(lookup: &impl Fn(&str) -> Option<String>, name: &str, default: T) -> Result<T> {
    match lookup(name) {
        Some(raw) => parse_value(name, &raw),
        None => Ok(default),
    }
}

fn parse_value<T: FromStr>(name: &str, raw: &str) -> Result<T> {
    raw.trim().parse().map_err(|_| config_error(name, format!("cannot parse `{raw}`")))
}

fn config_error(name: &str, reason: impl Into<String>) -> Error {
    Error::Config { name: name.to_owned(), reason: reason.into() }
}

/// Development convenience: a random secret persisted under `.switchyard/` so tokens survive
/// restarts. Production refuses to start without `JWT_SECRET`.
fn dev_jwt_secret() -> Result<SecretString> {
    let path = PathBuf::from(DEV_JWT_SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    let secret = crate::auth::random_token(48);
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &secret)
    };
    if let Err(error) = write() {
        tracing::warn!(%error, "could not persist the development JWT secret; tokens will not survive a restart");
    }
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_without_any_variable_but_the_secret() {
        let config = Config::from_lookup(|name| (name == "JWT_SECRET").then(|| "x".repeat(32)))
            .expect("defaults are valid");
        assert_eq!(config.api_addr.port(), 8080);
        assert_eq!(config.rate_limit_user_per_minute, 100);
        assert_eq!(config.amqp_namespace, "switchyard");
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let error = Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some("x".repeat(32)),
            "DATABASE_POOL_SIZE" => Some("many".into()),
            _ => None,
        })
        .expect_err("must fail");
        assert!(error.to_string().contains("DATABASE_POOL_SIZE"), "{error}");
    }

    #[test]
    fn production_requires_a_secret() {
        let error = Config::from_lookup(|name| (name == "APP_ENV").then(|| "production".into()))
            .expect_err("must fail");
        assert!(error.to_string().contains("JWT_SECRET"));
    }
}
