//! Connected platform accounts: as their owner sees them (the token only as a hint), as the
//! workers use them (the token sealed, and the adapter that speaks for it), and the queries of
//! their life — connect, reconnect, check, disconnect (their scheduled posts cancelled).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{Connection as _, prelude::*};
use serde::Serialize;

use super::{
    AccountStatus, Adapter, Connection, Platform, PostStatus, SocialError, adapter_for, token_owner,
};
use crate::{
    crypto::SecretBox,
    db::schema::{social_accounts, social_posts},
    ids::AccountId,
    net::OutboundGuard,
    schedules::builtin::keep_social_insights,
};

/// A connected platform account. The token itself is never shown, only its hint.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = social_accounts, check_for_backend(diesel::pg::Pg))]
#[schema(as = SocialAccount)]
pub struct SocialAccount {
    pub id: i64,
    #[schema(value_type = Platform)]
    pub platform: String,
    pub handle: String,
    /// The platform API's base URL (a Mastodon instance); empty for the platform's default.
    pub base_url: String,
    /// The first and last characters of the token.
    pub token_hint: String,
    pub status: AccountStatus,
    pub connected_at: DateTime<Utc>,
    /// The platform's id of the account (a Facebook Page id, an Instagram user id, a LinkedIn
    /// author URN); may be empty for X and the sandbox.
    pub platform_user_id: String,
}

/// The account's connected platform accounts (not the disconnected ones), by id.
pub fn connected(conn: &mut PgConnection, account: AccountId) -> crate::Result<Vec<SocialAccount>> {
    Ok(social_accounts::table
        .filter(social_accounts::account_id.eq(account))
        .filter(social_accounts::status.ne(AccountStatus::Disconnected))
        .order(social_accounts::id)
        .select(SocialAccount::as_select())
        .load(conn)?)
}

/// A platform account to connect; its token already sealed for [`token_owner`].
pub struct NewSocialAccount {
    pub platform: Platform,
    pub handle: String,
    pub base_url: String,
    pub sealed_token: Vec<u8>,
    pub token_hint: String,
    pub platform_user_id: String,
}

/// Connects a platform account; the daily insights pull starts with the first one.
pub fn connect(
    conn: &mut PgConnection,
    account: AccountId,
    new: NewSocialAccount,
) -> crate::Result<SocialAccount> {
    use social_accounts as a;
    conn.transaction(|conn| {
        let connected = diesel::insert_into(a::table)
            .values((
                a::account_id.eq(account),
                a::platform.eq(new.platform.as_str()),
                a::handle.eq(&new.handle),
                a::base_url.eq(&new.base_url),
                a::token.eq(new.sealed_token),
                a::token_hint.eq(new.token_hint),
                a::platform_user_id.eq(new.platform_user_id),
            ))
            .returning(SocialAccount::as_returning())
            .get_result(conn)?;
        keep_social_insights(conn, account.0, true)?;
        Ok(connected)
    })
}

/// Gives the account's social account `id` a new (sealed) token and makes it active again.
pub fn reconnect(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    sealed_token: Vec<u8>,
    token_hint: String,
) -> crate::Result<Option<SocialAccount>> {
    use social_accounts as a;
    Ok(diesel::update(a::table.find(id).filter(a::account_id.eq(account)))
        .set((a::token.eq(sealed_token), a::token_hint.eq(token_hint), a::status.eq(AccountStatus::Active)))
        .returning(SocialAccount::as_returning())
        .get_result(conn)
        .optional()?)
}

/// Records what the platform said of the token of the account's social account `id`.
pub fn set_status(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    status: AccountStatus,
) -> crate::Result<()> {
    diesel::update(social_accounts::table.find(id).filter(social_accounts::account_id.eq(account)))
        .set(social_accounts::status.eq(status))
        .execute(conn)?;
    Ok(())
}

/// Which of an account's connected platform accounts to disconnect.
pub enum Disconnecting {
    One(i64),
    Platform(Platform),
}

/// Disconnects accounts: their tokens are dropped and their scheduled posts cancelled; the
/// daily insights pull stops with the last account. `(accounts, posts cancelled)`.
pub fn disconnect(
    conn: &mut PgConnection,
    account: AccountId,
    which: Disconnecting,
) -> crate::Result<(usize, usize)> {
    conn.transaction(|conn| {
        let connected = || {
            social_accounts::table
                .filter(social_accounts::account_id.eq(account))
                .filter(social_accounts::status.ne(AccountStatus::Disconnected))
                .into_boxed()
        };
        let targets = match which {
            Disconnecting::One(id) => connected().filter(social_accounts::id.eq(id)),
            Disconnecting::Platform(platform) => {
                connected().filter(social_accounts::platform.eq(platform.as_str()))
            }
        };
        let ids: Vec<i64> = targets.select(social_accounts::id).load(conn)?;
        diesel::update(social_accounts::table.filter(social_accounts::id.eq_any(&ids)))
            .set((
                social_accounts::status.eq(AccountStatus::Disconnected),
                social_accounts::token.eq(Vec::<u8>::new()),
            ))
            .execute(conn)?;
        let cancelled = diesel::update(social_posts::table)
            .filter(social_posts::social_account_id.eq_any(&ids))
            .filter(social_posts::status.eq(PostStatus::Scheduled))
            .set((
                social_posts::status.eq(PostStatus::Cancelled),
                social_posts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let remaining: i64 = connected().count().get_result(conn)?;
        keep_social_insights(conn, account.0, remaining > 0)?;
        Ok((ids.len(), cancelled))
    })
}

/// A connected account's row; its token still sealed.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = social_accounts)]
pub struct StoredAccount {
    pub id: i64,
    pub account_id: i64,
    pub platform: String,
    pub handle: String,
    pub base_url: String,
    pub token: Vec<u8>,
    pub status: super::AccountStatus,
    pub platform_user_id: String,
}

impl StoredAccount {
    /// The account's social account `id`, disconnected or not.
    pub fn find(conn: &mut PgConnection, account_id: i64, id: i64) -> QueryResult<Option<Self>> {
        social_accounts::table
            .find(id)
            .filter(social_accounts::account_id.eq(account_id))
            .select(StoredAccount::as_select())
            .first(conn)
            .optional()
    }

    pub fn platform(&self) -> Platform {
        Platform::parse(&self.platform).unwrap_or(Platform::Sandbox)
    }

    /// The adapter for this account, its calls bounded by `timeout`. A token that no longer
    /// opens (the server key changed) is as good as revoked: the account must be connected
    /// again.
    pub fn adapter(
        &self,
        secret_box: &SecretBox,
        guard: &OutboundGuard,
        timeout: Duration,
    ) -> Result<Box<dyn Adapter>, SocialError> {
        let token = secret_box
            .open(&self.token, &token_owner(self.account_id, &self.platform, &self.handle))
            .map_err(|error| SocialError::Auth(format!("the stored token cannot be used: {error}")))?;
        let connection = Connection {
            platform: self.platform(),
            base_url: &self.base_url,
            token: &token,
            platform_user_id: &self.platform_user_id,
        };
        adapter_for(&connection, guard, timeout)
    }
}

/// Marks the social accounts `ids` as needing to be connected again (the platform refused
/// their tokens).
pub fn mark_needs_reauth(conn: &mut PgConnection, ids: &[i64]) -> crate::Result<()> {
    diesel::update(social_accounts::table.filter(social_accounts::id.eq_any(ids)))
        .set(social_accounts::status.eq(super::AccountStatus::NeedsReauth))
        .execute(conn)?;
    Ok(())
}
