//! Token pairs: a signed access token and the refresh token of a stored session row
//! (`shared::auth::sessions`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::{
    auth::{JwtKeys, Subject, TokenType, sessions::NewRefresh},
    db::models::User,
};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// A token pair: send `access` as `Authorization: Bearer …`; trade `refresh` at
/// `auth/refresh` for a new pair (once).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Signs the access and refresh tokens for a stored refresh row.
pub fn sign(jwt: &JwtKeys, state: &AppState, user: &User, refresh: &NewRefresh) -> Result<Tokens, ApiError> {
    let subject =
        Subject { user_id: user.id, account_id: user.account_id, role: user.role, sid: refresh.session_id };
    let (access, access_claims) = jwt
        .issue(TokenType::Access, subject, Uuid::new_v4(), state.config.access_token_ttl)
        .map_err(ApiError::internal)?;
    let ttl = (refresh.expires_at - Utc::now()).to_std().unwrap_or_default();
    let (refresh_token, _) =
        jwt.issue(TokenType::Refresh, subject, refresh.jti, ttl).map_err(ApiError::internal)?;
    Ok(Tokens {
        access,
        refresh: refresh_token,
        access_expires_at: access_claims.expires_at(),
        refresh_expires_at: refresh.expires_at,
    })
}
