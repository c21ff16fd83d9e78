//! A connected account as stored, and the adapter that speaks for it.

use std::time::Duration;

use diesel::prelude::*;

use super::{Adapter, Connection, Platform, SocialError, adapter_for, token_owner};
use crate::{crypto::SecretBox, db::schema::social_accounts, net::OutboundGuard};

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
