//! Plans: what an account pays for, the credits it is granted each month and the limits its
//! creates are held to. Every account is on one plan (`accounts.plan_id`, `free` until a
//! subscription says otherwise); its subscriptions are in [`subscriptions`].
//!
//! A create that a limit holds locks the account's row first ([`ensure_room`]), so two
//! creates racing for the last unit are served one after the other and only one fits.

pub mod subscriptions;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::{
    Error, Result, billing,
    db::schema::{
        accounts, clusters, content_ideas, credit_usage_logs, keywords, plan_credit_grants, plans, sites,
        users,
    },
    ids::AccountId,
};

/// The plan every new account starts on.
pub const DEFAULT_PLAN: &str = "free";

#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct Plan {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// Per `billing_period`, a decimal string.
    #[schema(value_type = String, example = "29.00")]
    pub price: Decimal,
    pub currency: String,
    /// `month` or `year`.
    pub billing_period: String,
    /// Credits granted on the first of each month (UTC).
    pub monthly_credits: i32,
    pub max_sites: i32,
    pub max_users: i32,
    pub max_keywords: i32,
    pub max_clusters: i32,
    pub max_ideas: i32,
    /// AI operations a month.
    pub max_ai_requests: i32,
    #[schema(value_type = Vec<String>)]
    pub features: Value,
    pub is_active: bool,
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
}

/// What a plan limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limited {
    Sites,
    Users,
    Keywords,
    Clusters,
    Ideas,
    /// AI operations charged since the first of this month (UTC).
    AiRequests,
}

impl Limited {
    /// The field a refusal names.
    pub fn as_str(self) -> &'static str {
        match self {
            Limited::Sites => "sites",
            Limited::Users => "users",
            Limited::Keywords => "keywords",
            Limited::Clusters => "clusters",
            Limited::Ideas => "ideas",
            Limited::AiRequests => "ai_requests",
        }
    }

    pub fn limit(self, plan: &Plan) -> i64 {
        i64::from(match self {
            Limited::Sites => plan.max_sites,
            Limited::Users => plan.max_users,
            Limited::Keywords => plan.max_keywords,
            Limited::Clusters => plan.max_clusters,
            Limited::Ideas => plan.max_ideas,
            Limited::AiRequests => plan.max_ai_requests,
        })
    }

    /// How many the account has now.
    pub fn current(self, conn: &mut PgConnection, account: AccountId) -> Result<i64> {
        Ok(match self {
            Limited::Sites => sites::table.filter(sites::account_id.eq(account)).count().get_result(conn)?,
            Limited::Users => users::table.filter(users::account_id.eq(account)).count().get_result(conn)?,
            Limited::Keywords => {
                keywords::table.filter(keywords::account_id.eq(account)).count().get_result(conn)?
            }
            Limited::Clusters => {
                clusters::table.filter(clusters::account_id.eq(account)).count().get_result(conn)?
            }
            Limited::Ideas => {
                content_ideas::table.filter(content_ideas::account_id.eq(account)).count().get_result(conn)?
            }
            Limited::AiRequests => credit_usage_logs::table
                .filter(credit_usage_logs::account_id.eq(account))
                .filter(credit_usage_logs::created_at.ge(month_start(Utc::now())))
                .count()
                .get_result(conn)?,
        })
    }
}

/// The active plans, cheapest first.
pub fn list(conn: &mut PgConnection) -> Result<Vec<Plan>> {
    Ok(plans::table
        .filter(plans::is_active.eq(true))
        .order((plans::sort_order, plans::id))
        .select(Plan::as_select())
        .load(conn)?)
}

/// An active plan.
pub fn get(conn: &mut PgConnection, id: i64) -> Result<Option<Plan>> {
    Ok(plans::table
        .find(id)
        .filter(plans::is_active.eq(true))
        .select(Plan::as_select())
        .first(conn)
        .optional()?)
}

/// The plan with this slug (active or not).
pub fn by_slug(conn: &mut PgConnection, slug: &str) -> Result<Plan> {
    Ok(plans::table.filter(plans::slug.eq(slug)).select(Plan::as_select()).first(conn)?)
}

/// The account's plan.
pub fn of_account(conn: &mut PgConnection, account: AccountId) -> Result<Plan> {
    Ok(accounts::table.find(account).inner_join(plans::table).select(Plan::as_select()).first(conn)?)
}

/// Runs `create` unless what it makes takes the account past its plan's limit of `what`:
/// then nothing it wrote is kept and the answer is [`Error::PlanLimit`]. The account's row is
/// locked first, so the creates of one account are counted one after the other and two
/// racing for the last unit cannot both fit.
pub fn limited<T>(
    conn: &mut PgConnection,
    account: AccountId,
    what: Limited,
    create: impl FnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    conn.transaction(|conn| {
        let limit = locked_limit(conn, account, what)?;
        let before = what.current(conn, account)?;
        if before >= limit {
            return Err(Error::PlanLimit { resource: what.as_str(), limit, current: before });
        }
        let created = create(conn)?;
        if what.current(conn, account)? > limit {
            return Err(Error::PlanLimit { resource: what.as_str(), limit, current: before });
        }
        Ok(created)
    })
}

/// Fails with [`Error::PlanLimit`] unless `adding` more of `what` fit the account's plan.
/// Call it inside the transaction that makes them: it locks the account's row like
/// [`limited`].
pub fn ensure_room(conn: &mut PgConnection, account: AccountId, what: Limited, adding: i64) -> Result<()> {
    let limit = locked_limit(conn, account, what)?;
    let current = what.current(conn, account)?;
    if current + adding > limit {
        return Err(Error::PlanLimit { resource: what.as_str(), limit, current });
    }
    Ok(())
}

fn locked_limit(conn: &mut PgConnection, account: AccountId, what: Limited) -> Result<i64> {
    let plan_id: i64 = accounts::table.find(account).select(accounts::plan_id).for_update().first(conn)?;
    let plan: Plan = plans::table.find(plan_id).select(Plan::as_select()).first(conn)?;
    Ok(what.limit(&plan))
}

/// The first day of `now`'s month (UTC).
pub fn month_of(now: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(now.year(), now.month(), 1).expect("the first of a month exists")
}

/// The first instant of `now`'s month (UTC).
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    month_of(now).and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// Grants `account` its plan's credits for `now`'s month unless it already had them: the
/// grant's key `(account, month)` makes it happen once however often it is asked. Returns the
/// credits granted (`None`: already granted).
pub fn grant_month(conn: &mut PgConnection, account: AccountId, now: DateTime<Utc>) -> Result<Option<i32>> {
    conn.transaction(|conn| {
        let plan = of_account(conn, account)?;
        let month = month_of(now);
        let inserted = diesel::insert_into(plan_credit_grants::table)
            .values((
                plan_credit_grants::account_id.eq(account.0),
                plan_credit_grants::month.eq(month),
                plan_credit_grants::plan_id.eq(plan.id),
                plan_credit_grants::credits.eq(plan.monthly_credits),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            return Ok(None);
        }
        let description = format!("{} plan credits for {}", plan.name, month.format("%Y-%m"));
        billing::grant(
            conn,
            account.0,
            i64::from(plan.monthly_credits),
            billing::TransactionType::Subscription,
            &description,
        )?;
        Ok(Some(plan.monthly_credits))
    })
}

/// The built-in monthly schedule: every active account without its plan credits for `now`'s
/// month gets them, each exactly once. Returns how many accounts were granted.
pub fn grant_due_months(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize> {
    let month = month_of(now);
    let due: Vec<i64> = accounts::table
        .filter(accounts::status.eq("active"))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            plan_credit_grants::table
                .filter(plan_credit_grants::account_id.eq(accounts::id))
                .filter(plan_credit_grants::month.eq(month)),
        )))
        .order(accounts::id)
        .select(accounts::id)
        .load(conn)?;
    let mut granted = 0;
    for account in due {
        if grant_month(conn, AccountId(account), now)?.is_some() {
            granted += 1;
        }
    }
    Ok(granted)
}
