//! How users and accounts appear on the wire.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use shared::{
    auth::Role,
    db::{
        models::{Account, User},
        schema::accounts,
    },
};

#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            id: account.id,
            name: account.name,
            status: account.status,
            created_at: account.created_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    /// True while an invitation is waiting to be accepted.
    pub invited: bool,
    pub account_id: i64,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountView>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            email: user.email,
            role: user.role,
            first_name: user.first_name,
            last_name: user.last_name,
            is_active: user.is_active,
            invited: user.invite_token_hash.is_some(),
            account_id: user.account_id,
            last_login_at: user.last_login_at,
            created_at: user.created_at,
            updated_at: user.updated_at,
            account: None,
        }
    }
}

impl UserView {
    /// The view with its account embedded (login, register, me).
    pub fn with_account(user: User, conn: &mut PgConnection) -> shared::Result<Self> {
        let account: Account =
            accounts::table.find(user.account_id).select(Account::as_select()).first(conn)?;
        let mut view = UserView::from(user);
        view.account = Some(account.into());
        Ok(view)
    }
}
