//! The users of an account (its team): listed, changed, activated and removed by owners and
//! admins. The rule kept here is that an account never loses its last active owner: the
//! owners' rows are locked while a demotion or removal checks for another one, so two at once
//! cannot both pass.

use diesel::{pg::Pg, prelude::*};

use chrono::{DateTime, Utc};

use crate::{
    Result,
    auth::{Role, sessions},
    db::{
        models::{Account, NewUser, User},
        schema::{accounts, users},
    },
    ids::AccountId,
    plans,
    tenant::{ListFilter, contains},
};

crate::owned_table! { User { table: users, what: "user", filter: UserFilter } }

/// Which users a listing covers; by id.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    /// Found in the email, first or last name.
    pub search: Option<String>,
}

type Query = users::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for UserFilter {
    fn narrow(&self, mut query: Query) -> Query {
        if let Some(role) = self.role {
            query = query.filter(users::role.eq(role));
        }
        if let Some(active) = self.is_active {
            query = query.filter(users::is_active.eq(active));
        }
        if let Some(pattern) = contains(self.search.as_deref()) {
            query = query.filter(
                users::email
                    .ilike(pattern.clone())
                    .or(users::first_name.ilike(pattern.clone()))
                    .or(users::last_name.ilike(pattern)),
            );
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        query.order(users::id)
    }
}

/// Adds a user (invited or with a password) to the account `new_user` names, within its
/// plan's limit of users.
pub fn add(conn: &mut PgConnection, new_user: NewUser) -> Result<User> {
    plans::limited(conn, AccountId(new_user.account_id), plans::Limited::Users, |conn| {
        Ok(diesel::insert_into(users::table)
            .values(new_user)
            .returning(User::as_returning())
            .get_result(conn)?)
    })
}

/// What a change of a user sets; `None` keeps the column.
#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
pub struct UserChange {
    pub role: Option<Role>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
}

/// Why a change of the team was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The account would have no active owner left.
    LastOwner,
    /// The account has no such user.
    NotFound,
}

/// Applies `change` to the account's user `id`. `demotes_owner`: the change takes an owner's
/// role or activity away, so another active owner must remain.
pub fn change(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    change: UserChange,
    demotes_owner: bool,
) -> Result<std::result::Result<User, Refused>> {
    conn.transaction(|conn| {
        if demotes_owner && !has_another_owner(conn, account, id)? {
            return Ok(Err(Refused::LastOwner));
        }
        let changed = diesel::update(users::table.find(id).filter(users::account_id.eq(account)))
            .set((change, users::updated_at.eq(diesel::dsl::now)))
            .returning(User::as_returning())
            .get_result(conn)
            .optional()?;
        Ok(changed.ok_or(Refused::NotFound))
    })
}

/// Changes a user's own name (`change`'s names; its role and activity are not the user's to
/// change).
pub fn rename(conn: &mut PgConnection, user_id: i64, change: UserChange) -> Result<User> {
    let names =
        UserChange { first_name: change.first_name, last_name: change.last_name, ..UserChange::default() };
    Ok(diesel::update(users::table.find(user_id))
        .set((names, users::updated_at.eq(diesel::dsl::now)))
        .returning(User::as_returning())
        .get_result(conn)?)
}

/// Removes the account's user `id`; an owner only while another active owner remains.
pub fn remove(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    is_owner: bool,
) -> Result<std::result::Result<(), Refused>> {
    conn.transaction(|conn| {
        if is_owner && !has_another_owner(conn, account, id)? {
            return Ok(Err(Refused::LastOwner));
        }
        let removed =
            diesel::delete(users::table.find(id).filter(users::account_id.eq(account))).execute(conn)?;
        Ok(if removed == 0 { Err(Refused::NotFound) } else { Ok(()) })
    })
}

/// True when the account has an active owner other than `user_id`; the owners' rows are
/// locked until the transaction ends.
fn has_another_owner(conn: &mut PgConnection, account: AccountId, user_id: i64) -> Result<bool> {
    let others: Vec<i64> = users::table
        .filter(users::account_id.eq(account))
        .filter(users::role.eq(Role::Owner))
        .filter(users::is_active.eq(true))
        .filter(users::id.ne(user_id))
        .select(users::id)
        .for_update()
        .load(conn)?;
    Ok(!others.is_empty())
}

/// Opens a new account named `account_name` with `owner` as its owner, in one transaction.
/// A taken email is the unique violation of `users.email`.
pub fn register(conn: &mut PgConnection, account_name: &str, owner: NewUser) -> Result<User> {
    conn.transaction(|conn| {
        let account = open_account(conn, account_name, None)?;
        add(conn, NewUser { account_id: account.id, ..owner })
    })
}

/// Opens an account on `plan_id` (the default plan when `None`) with its first month's plan
/// credits.
pub fn open_account(conn: &mut PgConnection, name: &str, plan_id: Option<i64>) -> Result<Account> {
    conn.transaction(|conn| {
        let plan_id = match plan_id {
            Some(id) => id,
            None => plans::by_slug(conn, plans::DEFAULT_PLAN)?.id,
        };
        let account: Account = diesel::insert_into(accounts::table)
            .values((accounts::name.eq(name), accounts::plan_id.eq(plan_id)))
            .returning(Account::as_returning())
            .get_result(conn)?;
        plans::grant_month(conn, AccountId(account.id), chrono::Utc::now())?;
        Ok(account)
    })
}

/// The account a user belongs to.
pub fn account_of(conn: &mut PgConnection, user: &User) -> Result<Account> {
    Ok(accounts::table.find(user.account_id).select(Account::as_select()).first(conn)?)
}

/// Whether the account is a system account (its owners and admins are operators).
pub fn is_system_account(conn: &mut PgConnection, account: AccountId) -> Result<bool> {
    Ok(accounts::table.find(account.0).select(accounts::is_system).first(conn)?)
}

/// A user by id, whatever the account (the caller's own, from its token).
pub fn get(conn: &mut PgConnection, user_id: i64) -> Result<User> {
    Ok(users::table.find(user_id).select(User::as_select()).first(conn)?)
}

/// The user with this email, compared case-insensitively.
pub fn by_email(conn: &mut PgConnection, email: &str) -> Result<Option<User>> {
    Ok(users::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                .bind::<diesel::sql_types::Text, _>(email.to_lowercase()),
        )
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Stamps a successful sign-in.
pub fn signed_in(conn: &mut PgConnection, user_id: i64) -> Result<User> {
    Ok(diesel::update(users::table.find(user_id))
        .set(users::last_login_at.eq(diesel::dsl::now))
        .returning(User::as_returning())
        .get_result(conn)?)
}

/// Sets a user's password hash and logs out their other sessions (all but `keep`).
pub fn set_password(conn: &mut PgConnection, user_id: i64, hash: String, keep: uuid::Uuid) -> Result<()> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(user_id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        sessions::revoke_others(conn, user_id, keep, "password_changed")?;
        Ok(())
    })
}

/// The invited user whose unexpired invitation hashes to `token_hash`, now active with the
/// password `hash`; `None` for an invalid or expired invitation (spent once accepted).
pub fn accept_invite(conn: &mut PgConnection, token_hash: &str, hash: String) -> Result<Option<User>> {
    Ok(diesel::update(
        users::table
            .filter(users::invite_token_hash.eq(token_hash))
            .filter(users::invite_expires_at.gt(diesel::dsl::now)),
    )
    .set((
        users::password_hash.eq(Some(hash)),
        users::is_active.eq(true),
        users::invite_token_hash.eq(None::<String>),
        users::invite_expires_at.eq(None::<DateTime<Utc>>),
        users::updated_at.eq(diesel::dsl::now),
    ))
    .returning(User::as_returning())
    .get_result(conn)
    .optional()?)
}
