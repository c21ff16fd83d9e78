//! What the account's credits did: its usage log (one row per charged operation) and its
//! transactions (every balance change), listed, summed and counted for the billing pages.

use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    pg::Pg,
    prelude::*,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};

use super::{Operation, TransactionType};
use crate::{
    Result,
    db::{
        models::{CreditTransaction, CreditUsageLog},
        schema::{accounts, credit_transactions, credit_usage_logs, plans},
    },
    ids::AccountId,
    tenant::ListFilter,
};

crate::owned_table! { CreditUsageLog { table: credit_usage_logs, what: "usage log", filter: UsageFilter } }
crate::owned_table! {
    CreditTransaction { table: credit_transactions, what: "transaction", filter: TransactionFilter }
}

/// The first instant of this month (UTC).
fn month_start() -> DateTime<Utc> {
    crate::plans::month_start(Utc::now())
}

/// Which usage rows a list or summary covers; newest first.
#[derive(Clone, Copy, Debug, Default)]
pub struct UsageFilter {
    pub operation: Option<Operation>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

impl ListFilter<credit_usage_logs::BoxedQuery<'static, Pg>> for UsageFilter {
    fn narrow(
        &self,
        mut query: credit_usage_logs::BoxedQuery<'static, Pg>,
    ) -> credit_usage_logs::BoxedQuery<'static, Pg> {
        if let Some(operation) = self.operation {
            query = query.filter(credit_usage_logs::operation_type.eq(operation.as_str()));
        }
        if let Some(from) = self.from {
            query = query.filter(credit_usage_logs::created_at.ge(from));
        }
        if let Some(until) = self.until {
            query = query.filter(credit_usage_logs::created_at.lt(until));
        }
        query
    }

    fn order(
        &self,
        query: credit_usage_logs::BoxedQuery<'static, Pg>,
    ) -> credit_usage_logs::BoxedQuery<'static, Pg> {
        query.order((credit_usage_logs::created_at.desc(), credit_usage_logs::id.desc()))
    }
}

/// Which transactions a list covers; newest first.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransactionFilter {
    pub transaction_type: Option<TransactionType>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl ListFilter<credit_transactions::BoxedQuery<'static, Pg>> for TransactionFilter {
    fn narrow(
        &self,
        mut query: credit_transactions::BoxedQuery<'static, Pg>,
    ) -> credit_transactions::BoxedQuery<'static, Pg> {
        if let Some(kind) = self.transaction_type {
            query = query.filter(credit_transactions::transaction_type.eq(kind));
        }
        if let Some(from) = self.from {
            query = query.filter(credit_transactions::created_at.ge(from));
        }
        if let Some(until) = self.until {
            query = query.filter(credit_transactions::created_at.lt(until));
        }
        query
    }

    fn order(
        &self,
        query: credit_transactions::BoxedQuery<'static, Pg>,
    ) -> credit_transactions::BoxedQuery<'static, Pg> {
        query.order((credit_transactions::created_at.desc(), credit_transactions::id.desc()))
    }
}

/// The account's balance, its plan's monthly credits and the credits charged this month.
pub struct Balance {
    pub credits: i64,
    pub plan_credits_per_month: i32,
    pub used_this_month: i64,
}

pub fn balance(conn: &mut PgConnection, account: AccountId) -> Result<Balance> {
    let (credits, plan_credits_per_month): (i64, i32) = accounts::table
        .find(account)
        .inner_join(plans::table)
        .select((accounts::credits, plans::monthly_credits))
        .first(conn)?;
    // `SUM` over bigint is numeric in PostgreSQL; the cast keeps it an `i64`.
    let used_this_month: i64 = credit_usage_logs::table
        .filter(credit_usage_logs::account_id.eq(account))
        .filter(credit_usage_logs::created_at.ge(month_start()))
        .select(sql::<BigInt>("coalesce(sum(credits_used), 0)::bigint"))
        .first(conn)?;
    Ok(Balance { credits, plan_credits_per_month, used_this_month })
}

/// One operation's share of the usage a summary covers.
#[derive(QueryableByName)]
pub struct OperationTotal {
    #[diesel(sql_type = Text)]
    pub operation_type: String,
    #[diesel(sql_type = BigInt)]
    pub credits: i64,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    pub cost_usd: rust_decimal::Decimal,
    #[diesel(sql_type = BigInt)]
    pub tokens: i64,
}

/// Credits, cost and tokens of the account's usage that `filter` covers, by operation.
pub fn totals(
    conn: &mut PgConnection,
    account: AccountId,
    filter: UsageFilter,
) -> Result<Vec<OperationTotal>> {
    Ok(diesel::sql_query(
        "SELECT operation_type, coalesce(sum(credits_used), 0)::bigint AS credits, \
                coalesce(sum(cost_usd), 0) AS cost_usd, \
                coalesce(sum(tokens_input + tokens_output), 0)::bigint AS tokens \
         FROM credit_usage_logs \
         WHERE account_id = $1 AND ($2::text IS NULL OR operation_type = $2) \
           AND ($3::timestamptz IS NULL OR created_at >= $3) \
           AND ($4::timestamptz IS NULL OR created_at < $4) \
         GROUP BY operation_type ORDER BY operation_type",
    )
    .bind::<BigInt, _>(account.0)
    .bind::<Nullable<Text>, _>(filter.operation.map(Operation::as_str))
    .bind::<Nullable<Timestamptz>, _>(filter.from)
    .bind::<Nullable<Timestamptz>, _>(filter.until)
    .load(conn)?)
}

/// What the account has, to compare with its plan's limits.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = CreditCurrentUsage)]
pub struct CurrentUsage {
    pub sites: i64,
    pub users: i64,
    pub keywords: i64,
    pub clusters: i64,
    pub ideas: i64,
    /// Charged AI operations since the first of this month (UTC).
    pub ai_requests: i64,
}

pub fn current_usage(conn: &mut PgConnection, account: AccountId) -> Result<CurrentUsage> {
    use crate::plans::Limited;
    Ok(CurrentUsage {
        sites: Limited::Sites.current(conn, account)?,
        users: Limited::Users.current(conn, account)?,
        keywords: Limited::Keywords.current(conn, account)?,
        clusters: Limited::Clusters.current(conn, account)?,
        ideas: Limited::Ideas.current(conn, account)?,
        ai_requests: Limited::AiRequests.current(conn, account)?,
    })
}
