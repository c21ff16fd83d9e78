//! login, refresh, logout.

use actix_web::{HttpResponse, post, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use shared::{
    auth::{
        JwtError, TokenType,
        sessions::{self, Rotation},
        verify_password, verify_password_against_dummy,
    },
    db::models::User,
    users,
};

use super::{
    throttle,
    tokens::sign,
    views::{LoginAnswer, LoginData, RefreshAnswer, UserView},
};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, AuthUser, Validate, current_holder, jwt_error},
    state::AppState,
    validation,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    email: String,
    #[schema(min_length = 1)]
    password: String,
}

impl Validate for LoginRequest {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.email.trim().is_empty() {
            validation::push(&mut errors, "email", "This field may not be blank.");
        }
        if self.password.is_empty() {
            validation::push(&mut errors, "password", "This field may not be blank.");
        }
        validation::finish(errors)
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "Invalid email or password.")
}

/// Opens a session: the user and a token pair (no token needed). Same answer, and about the
/// same time, whether the email is unknown or the password wrong.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginAnswer),
        (status = 401, description = "Wrong email or password, or an inactive user (`invalid_credentials`).", body = ErrorBody),
        (status = 429, description = "Too many tries from this client or on this email (`rate_limited`, with `Retry-After`); after 4 failures in a row an email is locked for 1 s, then 2 s, 4 s… up to 15 minutes, whatever password comes.", body = ErrorBody),
    ),
)]
#[post("/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    let email = email.trim().to_lowercase();
    throttle::spend(&state, &email)?;
    let (lookup, now) = (email.clone(), state.clock.now());
    let user: Result<Option<User>, u64> = state
        .db(move |conn| {
            if let Some(retry_after) = throttle::locked_for(conn, &lookup, now)? {
                return Ok(Err(retry_after));
            }
            Ok(Ok(users::by_email(conn, &lookup)?))
        })
        .await?;
    let user = user.map_err(throttle::locked)?;
    let verified = web::block(move || match user {
        Some(user) => {
            let ok = user.password_hash.as_deref().is_some_and(|hash| verify_password(&password, hash));
            (ok && user.is_active).then_some(user)
        }
        None => {
            verify_password_against_dummy(&password);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = verified else {
        let now = state.clock.now();
        state.db(move |conn| throttle::record_failure(conn, &email, now)).await?;
        return Err(invalid_credentials());
    };

    let ttl = state.config.refresh_token_ttl;
    let (user, view, refresh, failed_sign_ins) = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let refresh = sessions::open(conn, user.id, ttl)?;
                let user = users::signed_in(conn, user.id)?;
                let failed_sign_ins = throttle::clear(conn, &email)?;
                let view = UserView::with_account(user.clone(), conn)?;
                Ok((user, view, refresh, failed_sign_ins))
            })
        })
        .await?;
    let tokens = sign(&state.jwt, &state, &user, &refresh)?;
    Ok(HttpResponse::Ok().json(LoginAnswer {
        success: true,
        message: "Login successful".to_owned(),
        access: tokens.access.clone(),
        refresh: tokens.refresh.clone(),
        user: view.clone(),
        tokens: tokens.clone(),
        data: LoginData { user: view, tokens },
        failed_sign_ins,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// The `refresh` token of the current pair.
    refresh: String,
}

impl Validate for RefreshRequest {}

/// Rotates the refresh token: the presented one is spent, a new pair comes back. Presenting a
/// spent token again revokes its whole session. No access token needed.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, body = RefreshAnswer),
        (status = 401, description = "The refresh token is invalid, expired or not a refresh token (`token_invalid`, `token_expired`, `token_type_invalid`), already used (`refresh_token_reused`: its session is now revoked) or of a logged-out session (`session_revoked`).", body = ErrorBody),
    ),
)]
#[post("/refresh")]
pub async fn rotate(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    rotated(&state, &body.refresh).await
}

/// OmniSell's path for `auth/refresh/`: the same rotation, the same answer.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, body = RefreshAnswer),
        (status = 401, description = "As `auth/refresh/`.", body = ErrorBody),
    ),
)]
#[post("/token/refresh")]
pub async fn rotate_token(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    rotated(&state, &body.refresh).await
}

async fn rotated(state: &AppState, refresh: &str) -> Result<HttpResponse, ApiError> {
    let claims = state.jwt.verify(refresh, TokenType::Refresh).map_err(jwt_error)?;
    let ttl = state.config.refresh_token_ttl;
    let rotation = state.db(move |conn| sessions::rotate(conn, claims.jti, claims.sid, ttl)).await?;
    match rotation {
        Rotation::Rotated(user, next) => {
            let tokens = sign(&state.jwt, state, &user, &next)?;
            Ok(HttpResponse::Ok().json(RefreshAnswer::new(tokens)))
        }
        Rotation::Reused => Err(ApiError::unauthorized(
            "refresh_token_reused",
            "This refresh token was already used; the session has been revoked.",
        )),
        Rotation::Revoked => {
            Err(ApiError::unauthorized("session_revoked", "This session has been logged out."))
        }
        Rotation::Unknown => Err(ApiError::unauthorized("token_invalid", "The token is invalid.")),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    /// An access or refresh token.
    #[schema(min_length = 1)]
    token: String,
}

impl Validate for VerifyRequest {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.token.trim().is_empty() {
            validation::push(&mut errors, "token", "This field may not be blank.");
        }
        validation::finish(errors)
    }
}

/// What a valid token is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifiedToken {
    pub valid: bool,
    pub token_type: TokenType,
    pub user_id: i64,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Whether a token (access or refresh) would be accepted now: signed by us, unexpired, its
/// user active and its session not logged out. No access token needed.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = VerifyRequest,
    responses(
        (status = 200, body = crate::response::Data<VerifiedToken>),
        (status = 401, description = "The token is invalid or expired (`token_invalid`, `token_expired`), its user gone or deactivated (`user_not_found`, `user_inactive`) or its session logged out (`session_revoked`).", body = ErrorBody),
        (status = 403, description = "The account is suspended (`account_suspended`).", body = ErrorBody),
    ),
)]
#[post("/token/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    body: ApiJson<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.token.trim();
    let claims = match state.jwt.verify(token, TokenType::Access) {
        Err(JwtError::WrongType { .. }) => state.jwt.verify(token, TokenType::Refresh),
        checked => checked,
    }
    .map_err(jwt_error)?;
    let (user_id, session_id) = (claims.user_id, claims.sid);
    current_holder(&state, user_id, session_id).await?;
    Ok(crate::response::ok(VerifiedToken {
        valid: true,
        token_type: claims.token_type,
        user_id,
        expires_at: claims.expires_at(),
    }))
}

/// Ends the caller's session: its refresh tokens and access tokens stop working at once.
#[utoipa::path(tag = "auth", responses((status = 200, body = crate::response::Message)))]
#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let session_id = auth.session_id;
    state.db(move |conn| sessions::revoke(conn, session_id, "logout")).await?;
    Ok(crate::response::message("Logged out"))
}
