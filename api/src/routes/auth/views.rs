//! How users and accounts appear on the wire.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use shared::{
    auth::Role,
    db::models::{Account, User},
    user_profiles::{self, Profile},
};
use utoipa::ToSchema;

use super::tokens::Tokens;

#[derive(Clone, Debug, Serialize, ToSchema)]
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

/// A user of the account.
#[derive(Clone, Debug, Serialize, ToSchema)]
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
    /// The user's account (answers of register, login and `me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountView>,
    /// The user's profile, flattened in (answers of register, login and `me`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
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
            profile: None,
        }
    }
}

impl UserView {
    /// The view with its account and profile (login, register, me).
    pub fn with_account(user: User, conn: &mut PgConnection) -> shared::Result<Self> {
        let account = shared::users::account_of(conn, &user)?;
        let profile = user_profiles::of(conn, user.id)?;
        let mut view = UserView::from(user);
        view.account = Some(account.into());
        view.profile = Some(profile);
        Ok(view)
    }
}

/// A site the caller can work on, as `me` lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccessibleSite {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub is_active: bool,
}

/// The caller as `me` shows them: the user with their account, and their sites.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: UserView,
    pub accessible_sites: Vec<AccessibleSite>,
}

/// `{"user"}`, the `data` of the user answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserData<U> {
    pub user: U,
}

/// The answer of register and accept-invite: the user at the top level and in `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserAnswer {
    pub success: bool,
    pub message: String,
    pub user: UserView,
    pub data: UserData<UserView>,
}

impl UserAnswer {
    pub fn new(user: UserView, message: &str) -> Self {
        UserAnswer { success: true, message: message.to_owned(), user: user.clone(), data: UserData { user } }
    }
}

/// The answer of `me`: the caller at the top level and in `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeAnswer {
    pub success: bool,
    pub user: Me,
    pub data: UserData<Me>,
}

/// `{"user", "tokens"}`, the `data` of login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginData {
    pub user: UserView,
    pub tokens: Tokens,
}

/// The answer of login: the user and a token pair, at the top level and in `data`; the pair's
/// `access` and `refresh` also on their own at the top level (OmniSell's clients read them
/// there).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    pub success: bool,
    pub message: String,
    pub access: String,
    pub refresh: String,
    pub user: UserView,
    pub tokens: Tokens,
    pub data: LoginData,
    /// Failed attempts on this email since the last sign-in: a count the user did not make
    /// means someone is guessing their password.
    pub failed_sign_ins: super::throttle::FailedSignIns,
}

/// `{"tokens"}`, the `data` of refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensData {
    pub tokens: Tokens,
}

/// The answer of refresh: the new token pair, at the top level and in `data`, and its
/// `access` and `refresh` on their own at the top level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshAnswer {
    pub success: bool,
    pub access: String,
    pub refresh: String,
    pub tokens: Tokens,
    pub data: TokensData,
}

impl RefreshAnswer {
    pub fn new(tokens: Tokens) -> Self {
        RefreshAnswer {
            success: true,
            access: tokens.access.clone(),
            refresh: tokens.refresh.clone(),
            tokens: tokens.clone(),
            data: TokensData { tokens },
        }
    }
}
