//! Login sessions and their refresh tokens. A session is one login; each refresh rotates its
//! refresh token, and presenting a rotated one again revokes the whole session (token theft).

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Text, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::{
    Result,
    db::{
        models::{AuthSession, RefreshToken, User},
        schema::{auth_sessions, refresh_tokens, users},
    },
};

/// A refresh token's row identity, minted before it is stored.
#[derive(Debug, Clone)]
pub struct NewRefresh {
    pub session_id: Uuid,
    pub jti: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl NewRefresh {
    /// A token of `session_id` that expires `ttl` from now.
    pub fn mint(session_id: Uuid, ttl: std::time::Duration) -> Self {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7));
        NewRefresh { session_id, jti: Uuid::new_v4(), expires_at: Utc::now() + ttl }
    }

    fn store(&self, conn: &mut PgConnection) -> Result<()> {
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
pub fn open(conn: &mut PgConnection, user_id: i64, ttl: std::time::Duration) -> Result<NewRefresh> {
    let session_id = Uuid::new_v4();
    diesel::insert_into(auth_sessions::table)
        .values((auth_sessions::id.eq(session_id), auth_sessions::user_id.eq(user_id)))
        .execute(conn)?;
    let refresh = NewRefresh::mint(session_id, ttl);
    refresh.store(conn)?;
    Ok(refresh)
}

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Rotation {
    /// Spent; here is the user and the session's next token.
    Rotated(Box<User>, NewRefresh),
    /// Spent before: the session is now revoked.
    Reused,
    /// The session was logged out, or its user deactivated.
    Revoked,
    Unknown,
}

/// Spends the refresh token `jti` of session `sid` and mints the next one, under a row lock so
/// that two presentations of one token cannot both rotate it.
pub fn rotate(conn: &mut PgConnection, jti: Uuid, sid: Uuid, ttl: std::time::Duration) -> Result<Rotation> {
    conn.transaction(|conn| {
        let found: Option<(RefreshToken, AuthSession)> = refresh_tokens::table
            .inner_join(auth_sessions::table)
            .filter(refresh_tokens::id.eq(jti))
            .filter(auth_sessions::id.eq(sid))
            .select((RefreshToken::as_select(), AuthSession::as_select()))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((token, session)) = found else { return Ok(Rotation::Unknown) };
        if session.revoked_at.is_some() {
            return Ok(Rotation::Revoked);
        }
        if token.used_at.is_some() {
            revoke(conn, session.id, "refresh_token_reused")?;
            return Ok(Rotation::Reused);
        }
        diesel::update(refresh_tokens::table.find(token.id))
            .set(refresh_tokens::used_at.eq(diesel::dsl::now))
            .execute(conn)?;
        diesel::update(auth_sessions::table.find(session.id))
            .set(auth_sessions::last_used_at.eq(diesel::dsl::now))
            .execute(conn)?;
        let Some(user) =
            users::table.find(session.user_id).select(User::as_select()).first(conn).optional()?
        else {
            return Ok(Rotation::Unknown);
        };
        if !user.is_active {
            return Ok(Rotation::Revoked);
        }
        let next = NewRefresh::mint(session.id, ttl);
        next.store(conn)?;
        Ok(Rotation::Rotated(Box::new(user), next))
    })
}

/// Logs a session out; how many sessions that ended (0 when it already was).
pub fn revoke(conn: &mut PgConnection, session_id: Uuid, reason: &str) -> Result<usize> {
    Ok(diesel::update(auth_sessions::table.find(session_id).filter(auth_sessions::revoked_at.is_null()))
        .set((auth_sessions::revoked_at.eq(diesel::dsl::now), auth_sessions::revoked_reason.eq(reason)))
        .execute(conn)?)
}

/// Logs out every open session of the user but `keep`.
pub fn revoke_others(conn: &mut PgConnection, user_id: i64, keep: Uuid, reason: &str) -> Result<usize> {
    Ok(diesel::update(
        auth_sessions::table
            .filter(auth_sessions::user_id.eq(user_id))
            .filter(auth_sessions::id.ne(keep))
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((auth_sessions::revoked_at.eq(diesel::dsl::now), auth_sessions::revoked_reason.eq(reason)))
    .execute(conn)?)
}

/// Who holds an access token: its user's account, role, email and state, and whether its
/// session is still open.
#[derive(Debug, QueryableByName)]
pub struct Holder {
    #[diesel(sql_type = BigInt)]
    pub account_id: i64,
    #[diesel(sql_type = Text)]
    pub role: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Bool)]
    pub is_active: bool,
    /// False while the user's account is suspended.
    #[diesel(sql_type = Bool)]
    pub account_active: bool,
    #[diesel(sql_type = Bool)]
    pub session_active: bool,
    /// The sites granted to the user, by id ([`crate::site_access::reach`] tells what they
    /// mean for its role).
    #[diesel(sql_type = diesel::sql_types::Array<BigInt>)]
    pub granted_sites: Vec<i64>,
}

crate::prepared_statement! {
    /// The user behind a token and whether its session is still open: one round trip per
    /// authenticated request, prepared once per connection.
    struct HolderLookup { user_id: i64, session_id: Uuid }
    sql = [
        "SELECT u.account_id, u.role, u.email, u.is_active, a.status = 'active' AS account_active, \
                (s.id IS NOT NULL AND s.revoked_at IS NULL) AS session_active, \
                ARRAY(SELECT g.site_id FROM site_user_access g WHERE g.user_id = u.id ORDER BY g.site_id) \
                    AS granted_sites \
         FROM users u JOIN accounts a ON a.id = u.account_id \
         LEFT JOIN auth_sessions s ON s.id = ", (session_id as SqlUuid),
        " AND s.user_id = u.id WHERE u.id = ", (user_id as BigInt),
    ];
}

/// The holder of a token naming `user_id` and `session_id`; `None` when the user is gone.
pub fn holder(conn: &mut PgConnection, user_id: i64, session_id: Uuid) -> Result<Option<Holder>> {
    Ok(HolderLookup { user_id, session_id }.get_result(conn).optional()?)
}
