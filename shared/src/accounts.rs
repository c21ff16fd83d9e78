//! Accounts as operators manage them (IGNY8's `auth/accounts/`): listed, opened on a plan,
//! renamed, suspended and deleted. An account's owners see and rename only their own; a
//! system account (its owners and admins are the operators) is never deleted.

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::Serialize;

use crate::{
    Result,
    db::schema::accounts,
    ids::AccountId,
    tenant::{Window, contains},
};

crate::db::text_enum::text_enum! {
    /// Whether an account may work.
    pub enum AccountStatus {
        Active = "active",
        /// Kept, but its users are refused and no monthly credits are granted.
        Suspended = "suspended",
    }
}

/// An account with its plan and balance.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
#[schema(as = AccountDetail)]
pub struct AccountDetail {
    pub id: i64,
    pub name: String,
    pub status: AccountStatus,
    pub plan_id: i64,
    pub credits: i64,
    pub is_system: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a change sets; `None` keeps the column.
#[derive(AsChangeset, Default)]
#[diesel(table_name = accounts)]
pub struct AccountChange {
    pub name: Option<String>,
    pub status: Option<AccountStatus>,
}

/// One page of accounts by id — all of them, or only `only` — whose name contains `search`,
/// and how many match.
pub fn list(
    conn: &mut PgConnection,
    only: Option<AccountId>,
    search: Option<&str>,
    window: Window,
) -> Result<(Vec<AccountDetail>, i64)> {
    let pattern = contains(search);
    let filtered = || {
        let mut query = accounts::table.into_boxed::<Pg>();
        if let Some(account) = only {
            query = query.filter(accounts::id.eq(account));
        }
        if let Some(pattern) = &pattern {
            query = query.filter(accounts::name.ilike(pattern.clone()));
        }
        query
    };
    let count = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(accounts::id)
        .offset(window.offset)
        .limit(window.limit)
        .select(AccountDetail::as_select())
        .load(conn)?;
    Ok((rows, count))
}

pub fn get(conn: &mut PgConnection, id: i64) -> Result<Option<AccountDetail>> {
    Ok(accounts::table.find(id).select(AccountDetail::as_select()).first(conn).optional()?)
}

pub fn change(conn: &mut PgConnection, id: i64, change: AccountChange) -> Result<Option<AccountDetail>> {
    Ok(diesel::update(accounts::table.find(id))
        .set((change, accounts::updated_at.eq(diesel::dsl::now)))
        .returning(AccountDetail::as_returning())
        .get_result(conn)
        .optional()?)
}

/// Why a deletion was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    /// System accounts hold the operators.
    System,
}

/// Deletes account `id` and everything it owns.
pub fn delete(conn: &mut PgConnection, id: i64) -> Result<std::result::Result<(), Refused>> {
    conn.transaction(|conn| {
        let Some(is_system) = accounts::table
            .find(id)
            .select(accounts::is_system)
            .for_update()
            .first::<bool>(conn)
            .optional()?
        else {
            return Ok(Err(Refused::NotFound));
        };
        if is_system {
            return Ok(Err(Refused::System));
        }
        diesel::delete(accounts::table.find(id)).execute(conn)?;
        Ok(Ok(()))
    })
}
