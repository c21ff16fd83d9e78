//! `/api/v1/system/settings/integrations/{type}/`: an account's AI provider settings. The API
//! key is sealed with the server key on the way in and only ever shown masked; `test/` calls
//! the provider for real with the stored settings.

use actix_web::{HttpResponse, get, post, route, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::{
    ai::{ConnectionCheck, OpenAiProvider, resolve},
    crypto,
    db::{models::IntegrationSetting, schema::integration_settings},
    integrations,
    net::OutboundGuard,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, Validate},
    response::{self, Data, DataWithMessage},
    state::AppState,
    validation,
};

const API_KEY: &str = "apiKey";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(retrieve).service(save).service(update).service(test);
}

/// The `{integration_type}` of every route here, as the OpenAPI document shows it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by `integration_type`; this type only describes it
struct IntegrationTypePath {
    /// `openai` or `odoo`.
    #[param(pattern = "^(openai|odoo)$")]
    integration_type: String,
}

fn integration_type(path: &str) -> Result<String, ApiError> {
    if integrations::is_known(path) {
        Ok(path.to_owned())
    } else {
        let known: Vec<&str> = integrations::KINDS.iter().map(|(name, _)| *name).collect();
        Err(ApiError::field(
            "integration_type",
            format!("Unknown integration; use one of {}.", known.join(", ")),
        ))
    }
}

/// An integration's settings: the plain config with the API key masked (`apiKey`, null when
/// none is stored).
#[derive(Serialize, ToSchema)]
struct IntegrationView {
    integration_type: String,
    /// The stored fields and `apiKey` (masked, or null).
    #[schema(value_type = Object)]
    config: Map<String, Value>,
    has_api_key: bool,
    /// False until saved (and when switched off).
    is_active: bool,
    /// When last saved; null until saved.
    updated_at: Option<DateTime<Utc>>,
}

/// The answer for a stored (or not yet stored) integration: plain config plus the masked key.
fn view(integration_type: &str, row: Option<&IntegrationSetting>) -> IntegrationView {
    let mut config = match row.map(|row| &row.config) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let hint = row.and_then(|row| row.secret_hint.clone());
    config.insert(API_KEY.to_owned(), hint.clone().map_or(Value::Null, Value::String));
    IntegrationView {
        integration_type: integration_type.to_owned(),
        config,
        has_api_key: hint.is_some(),
        is_active: row.is_some_and(|row| row.is_active),
        updated_at: row.map(|row| row.updated_at),
    }
}

/// `{"success", "integration"}`: the answer of save and update.
#[derive(Serialize, ToSchema)]
struct SavedIntegration {
    success: bool,
    integration: IntegrationView,
}

/// An integration's settings (admin or owner); an integration never saved shows its defaults.
#[utoipa::path(
    tag = "integrations",
    params(IntegrationTypePath),
    responses(
        (status = 200, body = Data<IntegrationView>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[get("/settings/integrations/{integration_type}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = integration_type(&path)?;
    let (account_id, lookup) = (auth.account_id, kind.clone());
    let row = state.db(move |conn| integrations::find(conn, account_id, &lookup)).await?;
    Ok(response::ok(view(&kind, row.as_ref())))
}

/// Fields of `config` not sent keep their stored value; `apiKey` is sealed (send the masked
/// value back, or leave it out, to keep the stored key; null clears it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IntegrationInput)]
struct SaveInput {
    /// `apiKey` and the integration's own fields (openai: `model`, `embedding_model`,
    /// `image_model`, `base_url`, `max_tokens`, `temperature`, `timeout_secs`; odoo: `url`,
    /// `database`, `login`, `timeout_secs`).
    #[serde(default)]
    #[schema(value_type = Object)]
    config: Map<String, Value>,
    is_active: Option<bool>,
}

impl SaveInput {
    /// The new API key, unless the client sent back the masked one (or none).
    fn new_api_key(&self) -> Option<&str> {
        self.config.get(API_KEY).and_then(Value::as_str).map(str::trim).filter(|key| !key.contains('…'))
    }

    fn check(&self, integration_type: &str, outbound: &OutboundGuard) -> Result<(), ApiError> {
        let mut errors = FieldErrors::new();
        let allowed = integrations::allowed_fields(integration_type);
        for (field, value) in &self.config {
            let name = format!("config.{field}");
            match field.as_str() {
                API_KEY => match value {
                    Value::String(key) if key.trim().is_empty() || key.len() > 500 => {
                        validation::push(&mut errors, &name, "Must be 1 to 500 characters.");
                    }
                    Value::String(_) | Value::Null => {}
                    _ => validation::push(&mut errors, &name, "Must be a string."),
                },
                "base_url" | "url" => match value.as_str() {
                    Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                        if let Err(refused) = outbound.check_str(url) {
                            validation::push(&mut errors, &name, refused.to_string());
                        }
                    }
                    _ => validation::push(&mut errors, &name, "Must be an http(s) URL."),
                },
                "max_tokens" => bounded(&mut errors, &name, value, 1.0, 128_000.0, true),
                "temperature" => bounded(&mut errors, &name, value, 0.0, 2.0, false),
                "timeout_secs" => bounded(&mut errors, &name, value, 1.0, 600.0, true),
                other if allowed.contains(&other) => match value.as_str() {
                    Some(text) if !text.trim().is_empty() && text.len() <= 200 => {}
                    _ => validation::push(
                        &mut errors,
                        &name,
                        "Must be a non-empty string of at most 200 characters.",
                    ),
                },
                _ => validation::push(
                    &mut errors,
                    &name,
                    format!("Unknown field; allowed: {API_KEY}, {}.", allowed.join(", ")),
                ),
            }
        }
        validation::finish(errors).map_err(ApiError::invalid)
    }
}

fn bounded(errors: &mut FieldErrors, field: &str, value: &Value, min: f64, max: f64, integer: bool) {
    let ok = value.as_f64().is_some_and(|n| n >= min && n <= max && (!integer || n.fract() == 0.0));
    if !ok {
        let kind = if integer { "an integer" } else { "a number" };
        validation::push(errors, field, format!("Must be {kind} between {min} and {max}."));
    }
}

impl Validate for SaveInput {}

async fn store(
    state: &AppState,
    auth: &Admin,
    kind: String,
    input: SaveInput,
) -> Result<HttpResponse, ApiError> {
    input.check(&kind, &state.config.ai.outbound)?;
    let account_id = auth.account_id;
    let sealed = match input.new_api_key() {
        Some(key) => Some((
            state.config.secret_box.seal(key, &integrations::owner(account_id, &kind))?,
            crypto::mask(key),
        )),
        None => None,
    };
    let clear_key = input.config.get(API_KEY).is_some_and(Value::is_null);
    let mut plain = input.config;
    plain.remove(API_KEY);
    let is_active = input.is_active;
    let lookup = kind.clone();
    let row = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let existing = integrations::find(conn, account_id, &lookup)?;
                // Fields not sent keep their stored value.
                let mut config = match existing.as_ref().map(|row| &row.config) {
                    Some(Value::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                config.extend(plain);
                let (secret, hint) = match (&sealed, clear_key, &existing) {
                    (Some((secret, hint)), _, _) => (Some(secret.clone()), Some(hint.clone())),
                    (None, true, _) | (None, false, None) => (None, None),
                    (None, false, Some(row)) => (row.secret.clone(), row.secret_hint.clone()),
                };
                let active = is_active.unwrap_or_else(|| existing.as_ref().is_none_or(|row| row.is_active));
                let row: IntegrationSetting = diesel::insert_into(integration_settings::table)
                    .values((
                        integration_settings::account_id.eq(account_id),
                        integration_settings::integration_type.eq(&lookup),
                        integration_settings::config.eq(Value::Object(config.clone())),
                        integration_settings::secret.eq(secret.clone()),
                        integration_settings::secret_hint.eq(hint.clone()),
                        integration_settings::is_active.eq(active),
                    ))
                    .on_conflict((integration_settings::account_id, integration_settings::integration_type))
                    .do_update()
                    .set((
                        integration_settings::config.eq(Value::Object(config)),
                        integration_settings::secret.eq(secret),
                        integration_settings::secret_hint.eq(hint),
                        integration_settings::is_active.eq(active),
                        integration_settings::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(IntegrationSetting::as_returning())
                    .get_result(conn)?;
                if lookup == shared::odoo::INTEGRATION {
                    shared::schedules::builtin::keep_odoo_sync(conn, account_id, row.is_active)?;
                }
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(SavedIntegration { success: true, integration: view(&kind, Some(&row)) }))
}

/// Saves an integration's settings (admin or owner), creating them on first save.
#[utoipa::path(
    tag = "integrations",
    params(IntegrationTypePath),
    request_body = SaveInput,
    responses(
        (status = 200, body = SavedIntegration),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[post("/settings/integrations/{integration_type}/save")]
async fn save(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
    body: ApiJson<SaveInput>,
) -> Result<HttpResponse, ApiError> {
    store(&state, &auth, integration_type(&path)?, body.0).await
}

/// Saves an integration's settings, as `save/` does.
#[utoipa::path(
    tag = "integrations",
    params(IntegrationTypePath),
    request_body = SaveInput,
    responses(
        (status = 200, body = SavedIntegration),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[route("/settings/integrations/{integration_type}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
    body: ApiJson<SaveInput>,
) -> Result<HttpResponse, ApiError> {
    store(&state, &auth, integration_type(&path)?, body.0).await
}

/// Calls the provider for real with the stored settings (saved but switched off counts too:
/// testing comes before switching on): the provider's model check, or for Odoo its version
/// and the user id. A 400 names what to save first.
#[utoipa::path(
    tag = "integrations",
    params(IntegrationTypePath),
    responses(
        (status = 200, body = DataWithMessage<ConnectionTest>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
        (status = 502, description = "The provider or Odoo refused or could not be reached.", body = ErrorBody),
    ),
)]
#[post("/settings/integrations/{integration_type}/test")]
async fn test(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = integration_type(&path)?;
    let (account_id, secret_box, lookup) = (auth.account_id, state.config.secret_box.clone(), kind.clone());
    let stored = state
        .db(move |conn| {
            integrations::find(conn, account_id, &lookup)?
                .map(|row| integrations::open(&secret_box, row))
                .transpose()
        })
        .await?;
    if kind == shared::odoo::INTEGRATION {
        return test_odoo(&state, stored.as_ref()).await;
    }
    let settings = stored
        .as_ref()
        .and_then(|integration| resolve::settings_from(integration, &state.config.ai))
        .ok_or_else(|| {
            ApiError::conflict(
                "integration_not_connected",
                "config.apiKey",
                "Save an API key before testing the connection.",
            )
        })?;
    let provider =
        OpenAiProvider::new(settings).map_err(|error| ApiError::field("config", error.to_string()))?;
    match provider.check().await {
        Ok(check) => Ok(response::ok_with_message(ConnectionTest::Ai(check), "Connection successful")),
        Err(error) => {
            tracing::info!(%error, "integration test failed");
            Err(ApiError::BadGateway { code: error.code(), message: error.to_string() })
        }
    }
}

/// A successful connection test: the AI provider's check, or Odoo's.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum ConnectionTest {
    Ai(ConnectionCheck),
    Odoo(OdooCheck),
}

/// Odoo answered: its version and the user id the credentials log in as.
#[derive(Serialize, ToSchema)]
struct OdooCheck {
    /// Odoo's `server_version` (`17.0`, …).
    #[schema(value_type = Option<String>)]
    server_version: Value,
    uid: i64,
    latency_ms: u64,
}

/// Logs in to the account's Odoo for real: its version and the user id, or 502 with
/// `odoo_auth_failed`, `odoo_unreachable`…
async fn test_odoo(
    state: &AppState,
    stored: Option<&integrations::Integration>,
) -> Result<HttpResponse, ApiError> {
    let (connection, timeout) = stored.and_then(shared::odoo::connection_from).ok_or_else(|| {
        ApiError::conflict(
            "integration_not_connected",
            "config",
            "Save url, database, login and apiKey before testing the connection.",
        )
    })?;
    let started = std::time::Instant::now();
    let client = shared::odoo::OdooClient::new(
        connection,
        &state.config.ai.outbound,
        timeout.min(std::time::Duration::from_secs(15)),
        0,
    )
    .map_err(|error| ApiError::field("config.url", error.to_string()))?;
    let checked = async {
        let version = client.version().await?;
        let uid = client.uid().await?;
        Ok::<_, shared::odoo::OdooError>((version, uid))
    }
    .await;
    match checked {
        Ok((version, uid)) => Ok(response::ok_with_message(
            ConnectionTest::Odoo(OdooCheck {
                server_version: version["server_version"].clone(),
                uid,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }),
            "Connection successful",
        )),
        Err(error) => {
            tracing::info!(%error, "Odoo connection test failed");
            Err(ApiError::BadGateway { code: error.code(), message: error.to_string() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_integration_types_are_the_known_ones() {
        let names: Vec<&str> = integrations::KINDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(format!("^({})$", names.join("|")), "^(openai|odoo)$");
    }
}
