//! An account's subscriptions: which plan it pays for over which period. At most one is
//! current (trialing, active or past due; a unique index holds it), and the current one's plan
//! is the account's plan; when none is current the account falls back to the default plan.
//!
//! ```text
//! trialing ──▶ active ◀──▶ past_due
//!     │           │            │
//!     └───────────┴────────────┴──▶ cancelled
//! ```

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::Serialize;

use super::{DEFAULT_PLAN, by_slug};
use crate::{
    Result,
    db::schema::{accounts, subscriptions},
    ids::AccountId,
    tenant::Window,
};

crate::db::text_enum::text_enum! {
    /// Where a subscription is in its life.
    pub enum SubscriptionStatus {
        Trialing = "trialing",
        Active = "active",
        /// A renewal payment failed; the plan stays until it is cancelled.
        PastDue = "past_due",
        Cancelled = "cancelled",
    }
}

impl SubscriptionStatus {
    /// Whether this status makes the subscription the account's current one.
    pub fn is_current(self) -> bool {
        self != SubscriptionStatus::Cancelled
    }

    /// `Ok` when a subscription may move from `self` to `to` (staying is allowed).
    pub fn may_become(self, to: SubscriptionStatus) -> std::result::Result<(), IllegalMove> {
        use SubscriptionStatus::*;
        let allowed = self == to
            || matches!(
                (self, to),
                (Trialing, Active | Cancelled)
                    | (Active, PastDue | Cancelled)
                    | (PastDue, Active | Cancelled)
            );
        if allowed { Ok(()) } else { Err(IllegalMove { from: self, to }) }
    }
}

/// A move the lifecycle does not allow (answered 409).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {from} subscription cannot become {to}")]
pub struct IllegalMove {
    pub from: SubscriptionStatus,
    pub to: SubscriptionStatus,
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = subscriptions, check_for_backend(diesel::pg::Pg))]
pub struct Subscription {
    pub id: i64,
    pub account_id: i64,
    pub plan_id: i64,
    pub status: SubscriptionStatus,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new subscription, checked by the caller (the plan exists, the period is in order).
pub struct NewSubscription {
    pub account_id: i64,
    pub plan_id: i64,
    pub status: SubscriptionStatus,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
}

/// What a change sets; `None` keeps the column.
#[derive(AsChangeset, Default)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionChange {
    pub plan_id: Option<i64>,
    pub status: Option<SubscriptionStatus>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: Option<bool>,
}

/// Why a change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    Illegal(IllegalMove),
}

/// One page of subscriptions, newest first — every account's, or one account's — and how
/// many there are.
pub fn list(
    conn: &mut PgConnection,
    account: Option<AccountId>,
    window: Window,
) -> Result<(Vec<Subscription>, i64)> {
    let scoped = || {
        let mut query = subscriptions::table.into_boxed::<Pg>();
        if let Some(account) = account {
            query = query.filter(subscriptions::account_id.eq(account));
        }
        query
    };
    let count = scoped().count().get_result(conn)?;
    let rows = scoped()
        .order(subscriptions::id.desc())
        .offset(window.offset)
        .limit(window.limit)
        .select(Subscription::as_select())
        .load(conn)?;
    Ok((rows, count))
}

/// Subscription `id`, of `account` when one is given.
pub fn get(conn: &mut PgConnection, account: Option<AccountId>, id: i64) -> Result<Option<Subscription>> {
    let mut query = subscriptions::table.find(id).into_boxed::<Pg>();
    if let Some(account) = account {
        query = query.filter(subscriptions::account_id.eq(account));
    }
    Ok(query.select(Subscription::as_select()).first(conn).optional()?)
}

/// Stores a subscription; a current one moves the account onto its plan. A second current
/// subscription of one account is the unique violation of `subscriptions_one_current`.
pub fn create(conn: &mut PgConnection, new: NewSubscription) -> Result<Subscription> {
    use subscriptions as s;
    conn.transaction(|conn| {
        let row: Subscription = diesel::insert_into(s::table)
            .values((
                s::account_id.eq(new.account_id),
                s::plan_id.eq(new.plan_id),
                s::status.eq(new.status),
                s::current_period_start.eq(new.current_period_start),
                s::current_period_end.eq(new.current_period_end),
            ))
            .returning(Subscription::as_returning())
            .get_result(conn)?;
        follow(conn, &row)?;
        Ok(row)
    })
}

/// Applies `change` to subscription `id`, refusing the moves its lifecycle does not allow; the
/// account's plan follows.
pub fn change(
    conn: &mut PgConnection,
    id: i64,
    change: SubscriptionChange,
) -> Result<std::result::Result<Subscription, Refused>> {
    use subscriptions as s;
    conn.transaction(|conn| {
        let Some(status) =
            s::table.find(id).select(s::status).for_update().first::<SubscriptionStatus>(conn).optional()?
        else {
            return Ok(Err(Refused::NotFound));
        };
        if let Some(to) = change.status
            && let Err(illegal) = status.may_become(to)
        {
            return Ok(Err(Refused::Illegal(illegal)));
        }
        let row: Subscription = diesel::update(s::table.find(id))
            .set((change, s::updated_at.eq(diesel::dsl::now)))
            .returning(Subscription::as_returning())
            .get_result(conn)?;
        follow(conn, &row)?;
        Ok(Ok(row))
    })
}

/// Deletes subscription `id`; a current one leaves its account on the default plan. False when
/// there is no such subscription.
pub fn delete(conn: &mut PgConnection, id: i64) -> Result<bool> {
    conn.transaction(|conn| {
        let Some(row) = diesel::delete(subscriptions::table.find(id))
            .returning(Subscription::as_returning())
            .get_result::<Subscription>(conn)
            .optional()?
        else {
            return Ok(false);
        };
        if row.status.is_current() {
            let default = by_slug(conn, DEFAULT_PLAN)?;
            set_plan(conn, row.account_id, default.id)?;
        }
        Ok(true)
    })
}

/// The account's plan after `row` changed: its plan while current, else the default plan
/// (unless another subscription is current).
fn follow(conn: &mut PgConnection, row: &Subscription) -> Result<()> {
    if row.status.is_current() {
        return set_plan(conn, row.account_id, row.plan_id);
    }
    let other_current = subscriptions::table
        .filter(subscriptions::account_id.eq(row.account_id))
        .filter(subscriptions::status.ne(SubscriptionStatus::Cancelled))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !other_current {
        let default = by_slug(conn, DEFAULT_PLAN)?;
        set_plan(conn, row.account_id, default.id)?;
    }
    Ok(())
}

fn set_plan(conn: &mut PgConnection, account_id: i64, plan_id: i64) -> Result<()> {
    diesel::update(accounts::table.find(account_id))
        .set((accounts::plan_id.eq(plan_id), accounts::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SubscriptionStatus::*;

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        for (from, to) in [(Trialing, Active), (Active, PastDue), (PastDue, Active), (Active, Cancelled)] {
            assert!(from.may_become(to).is_ok(), "{from} → {to}");
        }
        for (from, to) in
            [(Cancelled, Active), (Cancelled, Trialing), (Active, Trialing), (PastDue, Trialing)]
        {
            let illegal = from.may_become(to).expect_err("illegal");
            assert_eq!((illegal.from, illegal.to), (from, to));
        }
    }
}
