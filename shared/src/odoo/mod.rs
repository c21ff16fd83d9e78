//! Odoo's external API over JSON-RPC (`POST {url}/jsonrpc`): `common.version`,
//! `common.login`, and `object.execute_kw` (`search_read`, `search`, `read`, `create`,
//! `write` with domains, fields, limit/offset, order and context). Odoo's faults become typed
//! errors; only transient failures (timeouts, 5xx, refused connections) are retried, a bounded
//! number of times with backoff.

mod client;
pub mod mirror;

use std::time::Duration;

pub use client::{Connection, OdooClient, PageQuery};

use crate::integrations::Integration;

/// The integration type Odoo settings are stored under.
pub const INTEGRATION: &str = "odoo";

/// The connection an `odoo` integration describes; `None` when a part is missing.
pub fn connection_from(integration: &Integration) -> Option<(Connection, Duration)> {
    let connection = Connection {
        url: integration.text("url")?.to_owned(),
        database: integration.text("database")?.to_owned(),
        login: integration.text("login")?.to_owned(),
        api_key: integration.api_key.clone()?,
    };
    let timeout =
        integration.number("timeout_secs").filter(|secs| *secs >= 1.0).map_or(30.0, |secs| secs.min(600.0));
    Some((connection, Duration::from_secs_f64(timeout)))
}

/// Why an Odoo call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OdooError {
    /// Wrong database, login or API key.
    #[error("Odoo refused the credentials: {0}")]
    Auth(String),
    #[error("Odoo denied access: {0}")]
    AccessDenied(String),
    #[error("the record does not exist in Odoo: {0}")]
    MissingRecord(String),
    #[error("Odoo refused the values: {0}")]
    Validation(String),
    /// Any other fault Odoo answered with (`odoo.exceptions.*`, a server error).
    #[error("Odoo failed: {0}")]
    Fault(String),
    #[error("Odoo answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("Odoo did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Odoo could not be reached: {0}")]
    Unreachable(String),
    #[error("Odoo's answer could not be used: {0}")]
    Malformed(String),
    #[error("the Odoo connection is misconfigured: {0}")]
    Config(String),
}

impl OdooError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, OdooError::Server { .. } | OdooError::Timeout(_) | OdooError::Unreachable(_))
    }

    /// The task error code: `odoo_auth_failed` for refused credentials, `odoo_unreachable`
    /// when Odoo cannot be reached or is down, otherwise what Odoo said.
    pub fn code(&self) -> &'static str {
        match self {
            OdooError::Auth(_) => "odoo_auth_failed",
            OdooError::AccessDenied(_) => "odoo_access_denied",
            OdooError::MissingRecord(_) => "odoo_missing_record",
            OdooError::Validation(_) => "odoo_validation_error",
            OdooError::Fault(_) => "odoo_fault",
            OdooError::Server { .. } | OdooError::Timeout(_) | OdooError::Unreachable(_) => {
                "odoo_unreachable"
            }
            OdooError::Malformed(_) => "odoo_malformed_response",
            OdooError::Config(_) => "odoo_misconfigured",
        }
    }
}

/// The Odoo exception class in a fault, mapped to our error.
pub(crate) fn fault(name: &str, message: String) -> OdooError {
    match name.rsplit('.').next().unwrap_or(name) {
        "AccessDenied" => OdooError::Auth(message),
        "AccessError" => OdooError::AccessDenied(message),
        "MissingError" => OdooError::MissingRecord(message),
        "ValidationError" | "UserError" => OdooError::Validation(message),
        _ => OdooError::Fault(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_typed_errors() {
        assert_eq!(fault("odoo.exceptions.AccessDenied", "x".into()).code(), "odoo_auth_failed");
        assert_eq!(fault("odoo.exceptions.MissingError", "x".into()).code(), "odoo_missing_record");
        assert_eq!(fault("odoo.exceptions.ValidationError", "x".into()).code(), "odoo_validation_error");
        assert_eq!(fault("builtins.KeyError", "x".into()).code(), "odoo_fault");
        assert!(OdooError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(!OdooError::Auth("no".into()).is_retryable());
    }
}
