//! `/api/v1/system/settings/integrations/{type}/`: an account's AI provider settings. The API
//! key is sealed with the server key on the way in and only ever shown masked; `test/` calls
//! the provider for real with the stored settings, `generate/` draws a test image
//! (`image_generation`, with the providers' catalogue at `system/integrations/image_generation/`).

mod connection_test;
mod image_generation;

use actix_web::{HttpResponse, get, post, route, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::{
    ai::image_providers::{self, ImageProvider},
    crypto,
    db::models::IntegrationSetting,
    integrations::{self, Change, KeyChange},
    net::OutboundGuard,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, Validate},
    response::{self, Data},
    state::AppState,
    validation,
};

const API_KEY: &str = "apiKey";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(image_generation::catalogue)
        .service(retrieve)
        .service(save)
        .service(update)
        .service(connection_test::test)
        .service(image_generation::generate);
}

/// The `{integration_type}` of every route here, as the OpenAPI document shows it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by `integration_type`; this type only describes it
struct IntegrationTypePath {
    /// `openai`, `odoo`, `runware` or `image_generation`.
    #[param(pattern = "^(openai|odoo|runware|image_generation)$")]
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
    /// `database`, `login`, `timeout_secs`; runware: `model`, `base_url`, `timeout_secs`;
    /// image_generation, which has no `apiKey`: `provider`, `model`, `image_type`,
    /// `max_in_article_images`).
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

    /// Whose models a saved `model` must be: Runware's for `runware`, the chosen provider's
    /// for `image_generation` (when this save names one); `None` for the others.
    fn image_provider(&self, integration_type: &str) -> Option<ImageProvider> {
        match integration_type {
            image_providers::RUNWARE => Some(ImageProvider::Runware),
            image_providers::IMAGE_GENERATION => {
                self.config.get("provider").and_then(Value::as_str).and_then(ImageProvider::parse)
            }
            _ => None,
        }
    }

    fn check(&self, integration_type: &str, outbound: &OutboundGuard) -> Result<(), ApiError> {
        let mut errors = FieldErrors::new();
        let allowed = integrations::allowed_fields(integration_type);
        let image_provider = self.image_provider(integration_type);
        for (field, value) in &self.config {
            let name = format!("config.{field}");
            if field == "model"
                && let Some(provider) = image_provider
            {
                if !value.as_str().is_some_and(|model| provider.accepts_model(model)) {
                    validation::push(&mut errors, &name, format!("Must be {}.", provider.model_rule()));
                }
                continue;
            }
            match field.as_str() {
                API_KEY if !integrations::has_api_key(integration_type) => validation::push(
                    &mut errors,
                    &name,
                    "This integration has no API key; save it with its provider's integration.",
                ),
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
                "max_in_article_images" => bounded(
                    &mut errors,
                    &name,
                    value,
                    0.0,
                    f64::from(image_providers::MAX_IN_ARTICLE_IMAGES),
                    true,
                ),
                "provider" if integration_type == image_providers::IMAGE_GENERATION => {
                    if value.as_str().and_then(ImageProvider::parse).is_none() {
                        validation::push(&mut errors, &name, "Must be one of openai, runware, offline.");
                    }
                }
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
    let key = match input.new_api_key() {
        Some(key) => KeyChange::Set {
            sealed: state.config.secret_box.seal(key, &integrations::owner(account_id, &kind))?,
            hint: crypto::mask(key),
        },
        None if input.config.get(API_KEY).is_some_and(Value::is_null) => KeyChange::Clear,
        None => KeyChange::Keep,
    };
    let mut config = input.config;
    config.remove(API_KEY);
    let change = Change { config, key, is_active: input.is_active };
    let lookup = kind.clone();
    let row = state.db(move |conn| integrations::save(conn, account_id, &lookup, change)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_integration_types_are_the_known_ones() {
        let names: Vec<&str> = integrations::KINDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(format!("^({})$", names.join("|")), "^(openai|odoo|runware|image_generation)$");
    }
}
