//! `/api/v1/auth/sites/{id}/wordpress/`: a site's WordPress connection and the author profile
//! and strategy its content is written with. The application password is sealed at rest
//! (bound to the site) and never returned; reads show a masked hint. `test/` logs in for real.

use std::time::{Duration, Instant};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpResponse, get, post, route, web};
use serde::{Deserialize, Serialize};
use shared::{
    db::models::{AuthorProfile, Strategy},
    ids::AccountId,
    tenant::Scoped,
    wordpress::{self, ClientSettings, Connection, ConnectionUpdate, WordPressClient},
};
use utoipa::ToSchema;

use super::planner::nullable;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, AuthUser, Editor, PathId, Validate},
    response::{self, Data},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(test).service(retrieve).service(update);
}

async fn view(state: &AppState, account: AccountId, site_id: i64) -> Result<Connection, ApiError> {
    state
        .db(move |conn| wordpress::connection(conn, account, site_id))
        .await?
        .ok_or(ApiError::NotFound { what: "site" })
}

/// The site's WordPress URL, username, masked application password, author profile and
/// strategy.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    responses((status = 200, body = Data<Connection>)),
)]
#[get("/sites/{id}/wordpress")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require_site(id.0)?;
    Ok(response::ok(view(&state, auth.account(), id.0).await?))
}

/// Every field optional; `null` clears the URL, username, password, profile or strategy.
#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct WordpressInput {
    /// The site's http(s) URL.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^https?://", max_length = 2000)]
    wp_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"\S")]
    wp_username: Option<Option<String>>,
    /// An application password of that user; stored sealed, never returned.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"\S")]
    wp_app_password: Option<Option<String>>,
    /// One of the account's author profiles.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    author_profile_id: Option<Option<i64>>,
    /// One of the account's strategies.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    strategy_id: Option<Option<i64>>,
}

impl Validate for WordpressInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(Some(url)) = &self.wp_url {
            let url = url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2_000 {
                validation::push(&mut errors, "wp_url", "Enter an http(s) URL.");
            }
        }
        if let Some(Some(username)) = &self.wp_username {
            validation::text(&mut errors, "wp_username", username, 200);
        }
        if let Some(Some(password)) = &self.wp_app_password {
            validation::text(&mut errors, "wp_app_password", password, 200);
        }
        validation::finish(errors)
    }
}

/// 404 naming the field when the profile or strategy is not the caller's.
async fn check_links(state: &AppState, account: AccountId, input: &WordpressInput) -> Result<(), ApiError> {
    let (profile, strategy) = (input.author_profile_id.flatten(), input.strategy_id.flatten());
    let errors = state
        .db(move |conn| {
            let mut errors = FieldErrors::new();
            if let Some(profile) = profile
                && AuthorProfile::find(conn, &account.into(), profile)?.is_none()
            {
                validation::push(&mut errors, "author_profile_id", "Author profile not found.");
            }
            if let Some(strategy) = strategy
                && Strategy::find(conn, &account.into(), strategy)?.is_none()
            {
                validation::push(&mut errors, "strategy_id", "Strategy not found.");
            }
            Ok(errors)
        })
        .await?;
    validation::finish(errors).map_err(ApiError::missing_all)
}

/// PUT and PATCH both apply the fields sent. The URL must pass the outbound guard: a tenant
/// may not point the publisher at our own network.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    request_body = WordpressInput,
    responses(
        (status = 200, body = Data<Connection>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[route("/sites/{id}/wordpress", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<WordpressInput>,
) -> Result<HttpResponse, ApiError> {
    let (account, site_id, input) = (auth.account(), id.0, body.0);
    auth.require_site(site_id)?;
    view(&state, account, site_id).await?;
    let wp_url = input.wp_url.clone().map(|url| url.map(|url| url.trim().trim_end_matches('/').to_owned()));
    if let Some(Some(url)) = &wp_url {
        state
            .config
            .ai
            .outbound
            .check_str(url)
            .map_err(|refused| ApiError::field("wp_url", refused.to_string()))?;
    }
    check_links(&state, account, &input).await?;
    let (sealed, hint) = match input.wp_app_password {
        Some(Some(password)) => {
            let password = password.trim().to_owned();
            let sealed = state
                .config
                .secret_box
                .seal(&password, &shared::wordpress::password_owner(site_id))
                .map_err(ApiError::internal)?;
            (Some(Some(sealed)), Some(Some(shared::crypto::mask(&password))))
        }
        Some(None) => (Some(None), Some(None)),
        None => (None, None),
    };
    let update = ConnectionUpdate {
        wp_url,
        wp_username: input.wp_username.map(|name| name.map(|name| name.trim().to_owned())),
        wp_app_password: sealed,
        wp_app_password_hint: hint,
        author_profile_id: input.author_profile_id,
        strategy_id: input.strategy_id,
    };
    let saved = state.db(move |conn| wordpress::save_connection(conn, account, site_id, update)).await?;
    Ok(response::ok(saved.ok_or(ApiError::NotFound { what: "site" })?))
}

/// A successful connection test: who the credentials belong to, and how long it took.
#[derive(Serialize, ToSchema)]
struct WordpressCheck {
    ok: bool,
    user: wordpress::User,
    latency_ms: u64,
}

/// Asks the site who the saved credentials belong to: `{ok, user, latency_ms}`, or 502 with
/// `wordpress_auth_failed`, `wordpress_unreachable`... Not retried: the person testing wants
/// the answer now.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    responses(
        (status = 200, body = Data<WordpressCheck>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
        (status = 502, description = "WordPress refused the credentials or could not be reached (`wordpress_auth_failed`, `wordpress_unreachable`, …).", body = ErrorBody),
    ),
)]
#[post("/sites/{id}/wordpress/test")]
async fn test(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let (account_id, site_id) = (auth.account_id, id.0);
    auth.require_site(site_id)?;
    view(&state, auth.account(), site_id).await?;
    let secret_box = state.config.secret_box.clone();
    let credentials = state
        .db(move |conn| shared::wordpress::site_credentials(conn, &secret_box, account_id, site_id))
        .await?
        .ok_or_else(|| {
            ApiError::field("wp_url", "Save the WordPress URL, username and application password first.")
        })?;
    let settings = ClientSettings {
        timeout: Duration::from_secs(10),
        max_retries: 0,
        guard: state.config.ai.outbound.clone(),
        ..ClientSettings::default()
    };
    let started = Instant::now();
    let outcome = match WordPressClient::new(&credentials, settings) {
        Ok(client) => client.me().await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(user) => Ok(response::ok(WordpressCheck {
            ok: true,
            user,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })),
        Err(error) => {
            tracing::info!(%error, site_id, "WordPress connection test failed");
            Err(ApiError::BadGateway { code: error.code(), message: error.to_string() })
        }
    }
}
