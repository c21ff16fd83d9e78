//! `POST …/settings/integrations/{type}/test`: calls the provider, or logs in to Odoo, for real
//! with the stored settings.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use serde_json::Value;
use shared::{
    ai::{ConnectionCheck, OpenAiProvider, resolve},
    integrations,
};
use utoipa::ToSchema;

use super::{IntegrationTypePath, integration_type};
use crate::{
    error::{ApiError, ErrorBody},
    extract::Admin,
    response::{self, DataWithMessage},
    state::AppState,
};

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
pub(super) async fn test(
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
    if kind != resolve::OPENAI {
        // Runware has no free call to check a key with; a test image is the check.
        return Err(ApiError::field(
            "integration_type",
            format!(
                "{kind} has no connection test; POST …/integrations/{kind}/generate/ to draw a test image."
            ),
        ));
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
