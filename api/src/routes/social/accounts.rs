//! Connected platform accounts: connect (the token sealed, only its hint shown), reconnect,
//! check the token with the platform, disconnect (its scheduled posts cancelled).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use shared::{
    ids::AccountId,
    social::{
        AccountStatus, Platform, SocialAccount, SocialError, StoredAccount,
        account::{self, Disconnecting, NewSocialAccount},
        token_owner,
    },
};
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, AuthUser, Editor, PathId, Validate},
    response::{self, Data},
    state::AppState,
    validation,
};

/// The account's connected platform accounts (not the disconnected ones).
#[utoipa::path(tag = "social", responses((status = 200, body = Data<Vec<SocialAccount>>)))]
#[get("/accounts")]
pub(super) async fn accounts(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let rows = state.db(move |conn| account::connected(conn, auth.account())).await?;
    Ok(response::ok(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialConnectInput)]
struct ConnectInput {
    #[schema(value_type = Platform)]
    platform: String,
    /// The account's handle on the platform (also read as `platform_username`).
    #[serde(alias = "platform_username")]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    handle: String,
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    access_token: String,
    /// The platform API's base URL (a Mastodon instance); the platform's default when empty.
    #[serde(default)]
    #[schema(max_length = 500)]
    base_url: String,
    /// The platform's id of the account: required where posting names it (a Facebook Page
    /// id, an Instagram user id, a LinkedIn author URN); optional for X.
    #[serde(default)]
    platform_user_id: String,
}

impl Validate for ConnectInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if Platform::parse(&self.platform).is_none() {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
            validation::push(&mut errors, "platform", format!("Must be one of {}.", known.join(", ")));
        }
        validation::text(&mut errors, "handle", &self.handle, 200);
        validation::text(&mut errors, "access_token", &self.access_token, 4_000);
        validation::optional_text(&mut errors, "base_url", Some(&self.base_url), 500);
        if let Some(problem) = Platform::parse(&self.platform)
            .and_then(|platform| platform.user_id_problem(self.platform_user_id.trim()))
        {
            validation::push(&mut errors, "platform_user_id", problem.to_owned());
        }
        validation::finish(errors)
    }
}

/// Connects an account; the token is sealed and only its hint is ever shown.
#[utoipa::path(
    tag = "social",
    request_body = ConnectInput,
    responses(
        (status = 201, body = Data<SocialAccount>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts")]
pub(super) async fn connect(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<ConnectInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let base_url = input.base_url.trim().trim_end_matches('/').to_owned();
    if !base_url.is_empty() {
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ApiError::field("base_url", "Must be an http(s) URL."));
        }
        state
            .config
            .ai
            .outbound
            .check_str(&base_url)
            .map_err(|refused| ApiError::field("base_url", refused.to_string()))?;
    }
    let platform =
        Platform::parse(&input.platform).ok_or_else(|| ApiError::field("platform", "Not a platform."))?;
    let handle = input.handle.trim().to_owned();
    let token = input.access_token.trim().to_owned();
    let sealed_token = state
        .config
        .secret_box
        .seal(&token, &token_owner(auth.account_id, platform.as_str(), &handle))
        .map_err(ApiError::internal)?;
    let new = NewSocialAccount {
        platform,
        handle,
        base_url,
        sealed_token,
        token_hint: shared::crypto::mask(&token),
        platform_user_id: input.platform_user_id.trim().to_owned(),
    };
    Ok(response::created(state.db(move |conn| account::connect(conn, auth.account(), new)).await?))
}

/// The caller's account `id` unless disconnected; 404 otherwise.
async fn connected_account(state: &AppState, account_id: i64, id: i64) -> Result<StoredAccount, ApiError> {
    state
        .db(move |conn| Ok(StoredAccount::find(conn, account_id, id)?))
        .await?
        .filter(|stored| stored.status != AccountStatus::Disconnected)
        .ok_or(ApiError::NotFound { what: "social account" })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialReconnectInput)]
struct ReconnectInput {
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    access_token: String,
}

impl Validate for ReconnectInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::text(&mut errors, "access_token", &self.access_token, 4_000);
        validation::finish(errors)
    }
}

/// Gives an account a new token (after `needs_reauth`): sealed like the first, the account
/// active again; its posts still scheduled keep their place.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    request_body = ReconnectInput,
    responses(
        (status = 200, body = Data<SocialAccount>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/reconnect")]
pub(super) async fn reconnect(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
    body: ApiJson<ReconnectInput>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, social_account_id) = (auth.account_id, id.0);
    let stored = connected_account(&state, account_id, social_account_id).await?;
    let token = body.0.access_token.trim().to_owned();
    let sealed = state
        .config
        .secret_box
        .seal(&token, &token_owner(account_id, &stored.platform, &stored.handle))
        .map_err(ApiError::internal)?;
    let hint = shared::crypto::mask(&token);
    let account = auth.account();
    let reconnected = state
        .db(move |conn| account::reconnect(conn, account, social_account_id, sealed, hint))
        .await?
        .ok_or(ApiError::NotFound { what: "social account" })?;
    Ok(response::ok(reconnected))
}

/// [`account::disconnect`]; 404 when there was nothing to disconnect.
async fn disconnect_or_404(
    state: &AppState,
    account: AccountId,
    which: Disconnecting,
) -> Result<(usize, usize), ApiError> {
    let (disconnected, cancelled) = state.db(move |conn| account::disconnect(conn, account, which)).await?;
    if disconnected == 0 {
        return Err(ApiError::NotFound { what: "social account" });
    }
    Ok((disconnected, cancelled))
}

/// `POST /accounts/{id}/disconnect`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountDisconnected)]
struct Disconnected {
    /// Always true.
    disconnected: bool,
    /// Scheduled posts of the account that were cancelled.
    posts_cancelled: usize,
}

/// Disconnects an account: its token is dropped and its scheduled posts are cancelled.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    responses(
        (status = 200, body = Data<Disconnected>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/disconnect")]
pub(super) async fn disconnect(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (_, cancelled) = disconnect_or_404(&state, auth.account(), Disconnecting::One(id.0)).await?;
    Ok(response::ok(Disconnected { disconnected: true, posts_cancelled: cancelled }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialDisconnectPlatformInput)]
struct DisconnectPlatformInput {
    #[schema(value_type = Platform)]
    platform: String,
}

/// `POST /accounts/disconnect`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialPlatformDisconnected)]
struct PlatformDisconnected {
    /// How many accounts of the platform were disconnected.
    disconnected: usize,
    /// Scheduled posts of those accounts that were cancelled.
    posts_cancelled: usize,
}

impl Validate for DisconnectPlatformInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if Platform::parse(&self.platform).is_none() {
            validation::push(&mut errors, "platform", "Not a platform.".to_owned());
        }
        validation::finish(errors)
    }
}

/// The seed's form: disconnects every account of a platform (`{platform}`); 404 when it has
/// none connected.
#[utoipa::path(
    tag = "social",
    request_body = DisconnectPlatformInput,
    responses(
        (status = 200, body = Data<PlatformDisconnected>),
        (status = 403, description = "Admins only.", body = ErrorBody),
        (status = 404, description = "No connected account of that platform.", body = ErrorBody),
    ),
)]
#[post("/accounts/disconnect")]
pub(super) async fn disconnect_platform(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<DisconnectPlatformInput>,
) -> Result<HttpResponse, ApiError> {
    let platform =
        Platform::parse(&body.0.platform).ok_or_else(|| ApiError::field("platform", "Not a platform."))?;
    let (disconnected, cancelled) =
        disconnect_or_404(&state, auth.account(), Disconnecting::Platform(platform)).await?;
    Ok(response::ok(PlatformDisconnected { disconnected, posts_cancelled: cancelled }))
}

/// Asks the platform who the token belongs to: `{ok, handle}`, or 502 with `needs_reauth`
/// (the account is marked so), `platform_unreachable`…; a working token clears
/// `needs_reauth`.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    responses(
        (status = 200, body = Data<CheckView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (
            status = 502, body = ErrorBody,
            description = "The platform refused the token (`needs_reauth`) or could not be reached.",
        ),
        (status = 409, description = "This deployment may not connect to the account's address (`address_refused`).", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/check")]
pub(super) async fn check(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, social_account_id) = (auth.account_id, id.0);
    let stored = connected_account(&state, account_id, social_account_id).await?;
    let outcome = match stored.adapter(
        &state.config.secret_box,
        &state.config.ai.outbound,
        std::time::Duration::from_secs(10),
    ) {
        Ok(adapter) => adapter.check().await,
        Err(error) => Err(error),
    };
    let status = match &outcome {
        Ok(_) => Some(AccountStatus::Active),
        Err(SocialError::Auth(_)) => Some(AccountStatus::NeedsReauth),
        Err(_) => None,
    };
    if let Some(status) = status {
        let account = auth.account();
        state.db(move |conn| account::set_status(conn, account, social_account_id, status)).await?;
    }
    match outcome {
        Ok(handle) => Ok(response::ok(CheckView { ok: true, handle, status: AccountStatus::Active })),
        // Our outbound policy, not the platform, stands in the way: nothing to retry.
        Err(error @ SocialError::Refused(_)) => {
            Err(ApiError::conflict(error.code(), "base_url", error.to_string()))
        }
        Err(error) => Err(ApiError::BadGateway { code: error.code(), message: error.to_string() }),
    }
}

/// `POST /accounts/{id}/check`'s answer when the token works.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountCheck)]
struct CheckView {
    /// Always true.
    ok: bool,
    /// Who the platform says the token belongs to.
    handle: String,
    /// The account's status now: `active`.
    status: AccountStatus,
}
