//! Login sessions and token pairs. A session is one login; each refresh rotates its refresh
//! token, and presenting a rotated one again revokes the whole session (token theft).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use shared::{
    auth::{JwtKeys, Subject, TokenType},
    db::{
        models::User,
        schema::{auth_sessions, refresh_tokens},
    },
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

/// A refresh token's row identity, minted before it is stored.
pub struct NewRefresh {
    pub session_id: Uuid,
    pub jti: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl NewRefresh {
    pub fn mint(state: &AppState, session_id: Uuid) -> Self {
        let ttl =
            chrono::Duration::from_std(state.config.refresh_token_ttl).unwrap_or(chrono::Duration::days(7));
        NewRefresh { session_id, jti: Uuid::new_v4(), expires_at: Utc::now() + ttl }
    }

    pub fn store(&self, conn: &mut PgConnection) -> shared::Result<()> {
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::id.eq(self.jti),
                refresh_tokens::session_id.eq(self.session_id),
                refresh_tokens::expires_at.eq(self.expires_at),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Opens a new login session for `user_id` with its first refresh token.
pub fn open_session(state: &AppState, conn: &mut PgConnection, user_id: i64) -> shared::Result<NewRefresh> {
    let session_id = Uuid::new_v4();
    diesel::insert_into(auth_sessions::table)
        .values((auth_sessions::id.eq(session_id), auth_sessions::user_id.eq(user_id)))
        .execute(conn)?;
    let refresh = NewRefresh::mint(state, session_id);
    refresh.store(conn)?;
    Ok(refresh)
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

pub fn revoke_session(conn: &mut PgConnection, session_id: Uuid, reason: &str) -> shared::Result<usize> {
    Ok(diesel::update(auth_sessions::table.find(session_id).filter(auth_sessions::revoked_at.is_null()))
        .set((auth_sessions::revoked_at.eq(diesel::dsl::now), auth_sessions::revoked_reason.eq(reason)))
        .execute(conn)?)
}
