//! Per-account integration settings (`integration_settings`): a JSON config of plain fields
//! and one secret (the API key), sealed with the server key and bound to its account and
//! integration type.

use diesel::prelude::*;
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::{
    Result,
    crypto::SecretBox,
    db::{models::IntegrationSetting, schema::integration_settings},
};

/// The integrations an account can configure, and the config fields each accepts besides
/// its `apiKey`.
pub const KINDS: &[(&str, &[&str])] = &[
    (
        "openai",
        &["model", "embedding_model", "image_model", "base_url", "max_tokens", "temperature", "timeout_secs"],
    ),
    ("odoo", &["url", "database", "login", "timeout_secs"]),
];

pub fn is_known(integration_type: &str) -> bool {
    KINDS.iter().any(|(name, _)| *name == integration_type)
}

pub fn allowed_fields(integration_type: &str) -> &'static [&'static str] {
    KINDS.iter().find(|(name, _)| *name == integration_type).map_or(&[], |(_, fields)| fields)
}

/// The associated data a secret is sealed with.
pub fn owner(account_id: i64, integration_type: &str) -> String {
    format!("account:{account_id}:{integration_type}")
}

/// A stored integration with its secret opened.
#[derive(Clone, Debug)]
pub struct Integration {
    pub integration_type: String,
    pub config: Map<String, Value>,
    pub api_key: Option<SecretString>,
    pub is_active: bool,
}

impl Integration {
    pub fn text(&self, field: &str) -> Option<&str> {
        self.config.get(field).and_then(Value::as_str).filter(|value| !value.trim().is_empty())
    }

    pub fn number(&self, field: &str) -> Option<f64> {
        self.config.get(field).and_then(Value::as_f64)
    }
}

pub fn find(
    conn: &mut PgConnection,
    account_id: i64,
    integration_type: &str,
) -> Result<Option<IntegrationSetting>> {
    Ok(integration_settings::table
        .filter(integration_settings::account_id.eq(account_id))
        .filter(integration_settings::integration_type.eq(integration_type))
        .select(IntegrationSetting::as_select())
        .first(conn)
        .optional()?)
}

/// The account's active integration of this type, secret opened; `None` when there is none or
/// it is switched off.
pub fn load_active(
    conn: &mut PgConnection,
    secret_box: &SecretBox,
    account_id: i64,
    integration_type: &str,
) -> Result<Option<Integration>> {
    match find(conn, account_id, integration_type)? {
        Some(row) if row.is_active => open(secret_box, row).map(Some),
        _ => Ok(None),
    }
}

pub fn open(secret_box: &SecretBox, row: IntegrationSetting) -> Result<Integration> {
    let api_key = row
        .secret
        .as_deref()
        .map(|sealed| secret_box.open(sealed, &owner(row.account_id, &row.integration_type)))
        .transpose()?
        .map(SecretString::from);
    let config = match row.config {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Integration { integration_type: row.integration_type, config, api_key, is_active: row.is_active })
}
