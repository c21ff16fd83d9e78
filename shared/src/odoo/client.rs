use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{OdooError, fault};
use crate::net::{GuardedClient, OutboundGuard, SendError};

/// Where and as whom to reach an Odoo.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The instance, e.g. `https://erp.example.com` (JSON-RPC is at `/jsonrpc`).
    pub url: String,
    pub database: String,
    pub login: String,
    /// An API key (or the password).
    pub api_key: SecretString,
}

/// One page of a `search_read`.
#[derive(Clone, Debug)]
pub struct PageQuery<'a> {
    pub domain: Value,
    pub fields: &'a [&'a str],
    pub order: &'a str,
    pub limit: usize,
    pub offset: usize,
    pub context: Value,
}

/// One account's Odoo, logged in lazily.
#[derive(Debug)]
pub struct OdooClient {
    http: GuardedClient,
    endpoint: String,
    connection: Connection,
    uid: tokio::sync::OnceCell<i64>,
    timeout: Duration,
    max_retries: u32,
    next_id: AtomicU64,
}

impl OdooClient {
    /// Checks the URL against the guard and builds the HTTP client; sends nothing.
    pub fn new(
        connection: Connection,
        guard: &OutboundGuard,
        timeout: Duration,
        max_retries: u32,
    ) -> Result<Self, OdooError> {
        let base = connection.url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(OdooError::Config(format!("`{base}` is not an http(s) URL")));
        }
        guard.check_str(&base).map_err(|refused| OdooError::Config(refused.to_string()))?;
        let http = GuardedClient::new(guard, |builder| {
            builder
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION"), " (Odoo sync)"))
        })
        .map_err(|error| OdooError::Config(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            http,
            endpoint: format!("{base}/jsonrpc"),
            connection,
            uid: tokio::sync::OnceCell::new(),
            timeout,
            max_retries,
            next_id: AtomicU64::new(1),
        })
    }

    /// `common.version`: the server's version info.
    pub async fn version(&self) -> Result<Value, OdooError> {
        self.call("common", "version", json!([])).await
    }

    /// Logs in (once per client) and returns the user id.
    pub async fn uid(&self) -> Result<i64, OdooError> {
        self.uid
            .get_or_try_init(|| async {
                let answer = self
                    .call(
                        "common",
                        "login",
                        json!([
                            self.connection.database,
                            self.connection.login,
                            self.connection.api_key.expose_secret()
                        ]),
                    )
                    .await?;
                // A refused login answers `false`, not a fault.
                answer.as_i64().filter(|uid| *uid > 0).ok_or_else(|| {
                    OdooError::Auth(format!(
                        "login `{}` on database `{}` was refused",
                        self.connection.login, self.connection.database
                    ))
                })
            })
            .await
            .copied()
    }

    /// `object.execute_kw(db, uid, key, model, method, args, kwargs)`.
    pub async fn execute_kw(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
    ) -> Result<Value, OdooError> {
        let uid = self.uid().await?;
        self.call(
            "object",
            "execute_kw",
            json!([
                self.connection.database,
                uid,
                self.connection.api_key.expose_secret(),
                model,
                method,
                args,
                kwargs
            ]),
        )
        .await
    }

    /// `search_read` of one page.
    pub async fn search_read(&self, model: &str, page: &PageQuery<'_>) -> Result<Vec<Value>, OdooError> {
        let kwargs = json!({
            "fields": page.fields, "order": page.order, "limit": page.limit, "offset": page.offset,
            "context": page.context,
        });
        match self.execute_kw(model, "search_read", json!([page.domain]), kwargs).await? {
            Value::Array(records) => Ok(records),
            other => Err(OdooError::Malformed(format!("search_read answered {other}"))),
        }
    }

    /// The ids matching a domain (`search`).
    pub async fn search(&self, model: &str, domain: Value, context: Value) -> Result<Vec<i64>, OdooError> {
        let answer = self.execute_kw(model, "search", json!([domain]), json!({ "context": context })).await?;
        answer
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .ok_or_else(|| OdooError::Malformed(format!("search answered {answer}")))
    }

    /// Creates a record and returns its id.
    pub async fn create(&self, model: &str, values: Value) -> Result<i64, OdooError> {
        let answer = self.execute_kw(model, "create", json!([values]), json!({})).await?;
        answer
            .as_i64()
            .or_else(|| answer.as_array().and_then(|ids| ids.first()).and_then(Value::as_i64))
            .ok_or_else(|| OdooError::Malformed(format!("create answered {answer}")))
    }

    async fn call(&self, service: &str, method: &str, args: Value) -> Result<Value, OdooError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({
            "jsonrpc": "2.0",
            "method": "call",
            "params": { "service": service, "method": method, "args": args },
            "id": id,
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send(&body).await {
                Err(error) if error.is_retryable() && attempt <= self.max_retries => {
                    let base = Duration::from_millis(200).saturating_mul(1 << (attempt - 1).min(8));
                    let wait = base.mul_f64(rand::rng().random_range(0.5..=1.0));
                    tracing::info!(service, method, attempt, code = error.code(), %error, "Odoo call failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                outcome => return outcome,
            }
        }
    }

    async fn send(&self, body: &Value) -> Result<Value, OdooError> {
        let response =
            self.http.send(self.http.post(&self.endpoint).json(body)).await.map_err(|error| match error {
                SendError::Refused(refused) => OdooError::Config(refused.to_string()),
                SendError::Http(error) if error.is_timeout() => OdooError::Timeout(self.timeout),
                SendError::Http(error) => {
                    let mut message = error.to_string();
                    let mut source = std::error::Error::source(&error);
                    while let Some(cause) = source {
                        message = format!("{message}: {cause}");
                        source = cause.source();
                    }
                    OdooError::Unreachable(message)
                }
            })?;
        let status = response.status();
        let text = response.text().await.map_err(|error| OdooError::Unreachable(error.to_string()))?;
        if status.is_server_error() {
            return Err(OdooError::Server {
                status: status.as_u16(),
                message: text.chars().take(200).collect(),
            });
        }
        if !status.is_success() {
            return Err(OdooError::Config(format!("{} answered {status}; is it an Odoo?", self.endpoint)));
        }
        let answer: Value = serde_json::from_str(&text)
            .map_err(|error| OdooError::Malformed(format!("not JSON-RPC ({error})")))?;
        if let Some(error) = answer.get("error") {
            let data = &error["data"];
            let message = data["message"]
                .as_str()
                .or_else(|| error["message"].as_str())
                .unwrap_or("unknown fault")
                .to_owned();
            return Err(fault(data["name"].as_str().unwrap_or_default(), message));
        }
        answer.get("result").cloned().ok_or_else(|| OdooError::Malformed("no result in the answer".into()))
    }
}
