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
    ("runware", &["model", "base_url", "timeout_secs"]),
    // The account's image choices; it has no API key (each provider keeps its own).
    ("image_generation", &["provider", "model", "image_type", "max_in_article_images"]),
];

/// Whether the integration keeps an API key (`image_generation` does not).
pub fn has_api_key(integration_type: &str) -> bool {
    integration_type != crate::ai::image_providers::IMAGE_GENERATION
}

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

/// What a save does to the stored API key.
#[derive(Debug, Clone)]
pub enum KeyChange {
    /// Keep the stored key (none was sent, or the masked one was sent back).
    Keep,
    Clear,
    /// A new key, sealed with [`owner`], and its masked hint.
    Set {
        sealed: Vec<u8>,
        hint: String,
    },
}

/// A save of an integration's settings.
#[derive(Debug, Clone)]
pub struct Change {
    /// Plain fields to set; the fields not sent keep their stored value.
    pub config: Map<String, Value>,
    pub key: KeyChange,
    /// `None` keeps the stored switch (on for a first save).
    pub is_active: Option<bool>,
}

/// Creates or updates the account's settings of a type, in one transaction that also keeps
/// the integration's built-in schedules in step (Odoo's sync).
pub fn save(
    conn: &mut PgConnection,
    account_id: i64,
    integration_type: &str,
    change: Change,
) -> Result<IntegrationSetting> {
    use integration_settings as s;
    conn.transaction(|conn| {
        let existing = find(conn, account_id, integration_type)?;
        let mut config = match existing.as_ref().map(|row| &row.config) {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        config.extend(change.config);
        let config = Value::Object(config);
        let (secret, hint) = match (change.key, &existing) {
            (KeyChange::Set { sealed, hint }, _) => (Some(sealed), Some(hint)),
            (KeyChange::Clear, _) | (KeyChange::Keep, None) => (None, None),
            (KeyChange::Keep, Some(row)) => (row.secret.clone(), row.secret_hint.clone()),
        };
        let active = change.is_active.unwrap_or_else(|| existing.as_ref().is_none_or(|row| row.is_active));
        let row: IntegrationSetting = diesel::insert_into(s::table)
            .values((
                s::account_id.eq(account_id),
                s::integration_type.eq(integration_type),
                s::config.eq(&config),
                s::secret.eq(&secret),
                s::secret_hint.eq(&hint),
                s::is_active.eq(active),
            ))
            .on_conflict((s::account_id, s::integration_type))
            .do_update()
            .set((
                s::config.eq(&config),
                s::secret.eq(&secret),
                s::secret_hint.eq(&hint),
                s::is_active.eq(active),
                s::updated_at.eq(diesel::dsl::now),
            ))
            .returning(IntegrationSetting::as_returning())
            .get_result(conn)?;
        if integration_type == crate::odoo::INTEGRATION {
            crate::schedules::builtin::keep_odoo_sync(conn, account_id, row.is_active)?;
        }
        Ok(row)
    })
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
