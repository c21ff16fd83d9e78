//! `/api/v1/billing/credits/`: the account's balance, its usage log (with a summary and the
//! plan's limits) and its credit transactions. Read-only: credits change through sign-up,
//! purchases and the AI operations that charge them.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use diesel::{
    dsl::sql,
    pg::Pg,
    prelude::*,
    sql_types::{BigInt, Double, Nullable, Text, Timestamptz},
};
use serde::{Deserialize, Serialize};
use shared::{
    billing::Operation,
    db::{
        models::{CreditTransaction, CreditUsageLog},
        schema::{accounts, clusters, content_ideas, credit_transactions, credit_usage_logs, keywords},
    },
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    crud,
    error::ApiError,
    extract::{ApiQuery, AuthUser, PathId},
    response::{self, Data, Page, PageParams},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/billing/credits")
            .service(balance)
            .service(usage_summary)
            .service(usage_limits)
            .service(usage_list)
            .service(usage_detail)
            .service(transactions_list)
            .service(transaction_detail),
    );
}

/// From (inclusive) and until (exclusive), either open.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `start_date`..=`end_date` (calendar days, UTC) as a half-open timestamp range. An end
/// before the start is an empty range, as contradictory filters are in the seeds (Django).
pub fn day_bounds(start: Option<NaiveDate>, end: Option<NaiveDate>) -> TimeRange {
    let midnight = |date: NaiveDate| Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN));
    (start.map(midnight), end.and_then(|day| day.succ_opt()).map(midnight))
}

fn month_start() -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let first = today.with_day(1).unwrap_or(today);
    Utc.from_utc_datetime(&first.and_time(NaiveTime::MIN))
}

/// `SUM` over bigint is numeric in PostgreSQL; the cast keeps it an `i64`.
fn credits_sum() -> diesel::expression::SqlLiteral<BigInt> {
    sql::<BigInt>("coalesce(sum(credits_used), 0)::bigint")
}

/// `GET /balance/balance`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct CreditBalance {
    /// Credits the account has.
    credits: i64,
    /// What the plan grants each month.
    plan_credits_per_month: i32,
    /// Credits charged since the first of this month (UTC).
    credits_used_this_month: i64,
    /// The same as `credits`.
    credits_remaining: i64,
}

/// The account's credits, its plan's monthly credits and what it used this month.
#[utoipa::path(tag = "billing", responses((status = 200, body = Data<CreditBalance>)))]
#[get("/balance/balance")]
async fn balance(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let account_id = auth.account_id;
    let (credits, plan, used) = state
        .db(move |conn| {
            let (credits, plan): (i64, i32) = accounts::table
                .find(account_id)
                .select((accounts::credits, accounts::plan_credits_per_month))
                .first(conn)?;
            let used: i64 = credit_usage_logs::table
                .filter(credit_usage_logs::account_id.eq(account_id))
                .filter(credit_usage_logs::created_at.ge(month_start()))
                .select(credits_sum())
                .first(conn)?;
            Ok((credits, plan, used))
        })
        .await?;
    Ok(response::ok(CreditBalance {
        credits,
        plan_credits_per_month: plan,
        credits_used_this_month: used,
        credits_remaining: credits,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UsageQuery {
    /// Only usage of this operation.
    #[param(inline, value_type = Option<Operation>)]
    operation_type: Option<String>,
    /// Only usage on or after this day (UTC).
    start_date: Option<NaiveDate>,
    /// Only usage on or before this day (UTC).
    end_date: Option<NaiveDate>,
}

/// The usage rows a list or summary covers, validated.
#[derive(Clone, Copy, Debug)]
struct UsageFilter {
    account_id: i64,
    operation: Option<Operation>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl UsageFilter {
    fn new(account_id: i64, query: &UsageQuery) -> Result<Self, ApiError> {
        let operation = query
            .operation_type
            .as_deref()
            .map(|value| {
                Operation::parse(value).ok_or_else(|| {
                    ApiError::field(
                        "operation_type",
                        "Must be one of clustering, ideas, content, images, seo, social.",
                    )
                })
            })
            .transpose()?;
        let (from, until) = day_bounds(query.start_date, query.end_date);
        Ok(Self { account_id, operation, from, until })
    }

    fn query(self) -> credit_usage_logs::BoxedQuery<'static, Pg> {
        let mut query =
            credit_usage_logs::table.filter(credit_usage_logs::account_id.eq(self.account_id)).into_boxed();
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
}

/// The account's credit usage log, newest first.
#[utoipa::path(
    tag = "billing",
    params(PageParams, UsageQuery),
    responses((status = 200, body = Page<CreditUsageLog>)),
)]
#[get("/usage")]
async fn usage_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = UsageFilter::new(auth.account_id, &query)?;
    let (rows, count) = state
        .db(move |conn| {
            let count: i64 = filter.query().count().get_result(conn)?;
            let rows: Vec<CreditUsageLog> = filter
                .query()
                .order((credit_usage_logs::created_at.desc(), credit_usage_logs::id.desc()))
                .offset(page.offset())
                .limit(page.size())
                .select(CreditUsageLog::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

#[derive(QueryableByName)]
struct OperationTotal {
    #[diesel(sql_type = Text)]
    operation_type: String,
    #[diesel(sql_type = BigInt)]
    credits: i64,
    #[diesel(sql_type = Double)]
    cost_usd: f64,
    #[diesel(sql_type = BigInt)]
    tokens: i64,
}

/// `GET /usage/summary`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct CreditUsageSummary {
    total_credits_used: i64,
    /// In US dollars, to four decimals.
    total_cost_usd: f64,
    /// Input and output tokens.
    total_tokens: i64,
    /// Credits by operation type (only the operations used).
    by_operation: BTreeMap<String, i64>,
}

/// Credits, cost and tokens of the usage the filters cover, in all and by operation.
#[utoipa::path(
    tag = "billing",
    params(UsageQuery),
    responses((status = 200, body = Data<CreditUsageSummary>)),
)]
#[get("/usage/summary")]
async fn usage_summary(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = UsageFilter::new(auth.account_id, &query)?;
    let rows: Vec<OperationTotal> = state
        .db(move |conn| {
            Ok(diesel::sql_query(
                "SELECT operation_type, coalesce(sum(credits_used), 0)::bigint AS credits, \
                        coalesce(sum(cost_usd), 0)::float8 AS cost_usd, \
                        coalesce(sum(tokens_input + tokens_output), 0)::bigint AS tokens \
                 FROM credit_usage_logs \
                 WHERE account_id = $1 AND ($2::text IS NULL OR operation_type = $2) \
                   AND ($3::timestamptz IS NULL OR created_at >= $3) \
                   AND ($4::timestamptz IS NULL OR created_at < $4) \
                 GROUP BY operation_type ORDER BY operation_type",
            )
            .bind::<BigInt, _>(filter.account_id)
            .bind::<Nullable<Text>, _>(filter.operation.map(Operation::as_str))
            .bind::<Nullable<Timestamptz>, _>(filter.from)
            .bind::<Nullable<Timestamptz>, _>(filter.until)
            .load(conn)?)
        })
        .await?;
    let by_operation: BTreeMap<String, i64> =
        rows.iter().map(|row| (row.operation_type.clone(), row.credits)).collect();
    Ok(response::ok(CreditUsageSummary {
        total_credits_used: rows.iter().map(|row| row.credits).sum::<i64>(),
        total_cost_usd: (rows.iter().map(|row| row.cost_usd).sum::<f64>() * 10_000.0).round() / 10_000.0,
        total_tokens: rows.iter().map(|row| row.tokens).sum::<i64>(),
        by_operation,
    }))
}

/// What one plan allows.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[schema(as = CreditPlanLimits)]
struct PlanLimits {
    max_keywords: i64,
    max_clusters: i64,
    max_ideas: i64,
    /// AI requests a month.
    max_ai_requests: i64,
}

/// One plan for now; the numbers are the seed's.
const PLAN_LIMITS: PlanLimits =
    PlanLimits { max_keywords: 10_000, max_clusters: 1_000, max_ideas: 5_000, max_ai_requests: 10_000 };

/// What the account has, to compare with its plan's limits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreditCurrentUsage)]
struct CurrentUsage {
    keywords: i64,
    clusters: i64,
    ideas: i64,
    /// Charged AI operations since the first of this month (UTC).
    ai_requests: i64,
}

/// `GET /usage/limits`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreditUsageLimits)]
struct UsageLimits {
    plan_limits: PlanLimits,
    current_usage: CurrentUsage,
}

/// The plan's limits next to the account's keywords, clusters, ideas and this month's AI
/// requests.
#[utoipa::path(tag = "billing", responses((status = 200, body = Data<UsageLimits>)))]
#[get("/usage/limits")]
async fn usage_limits(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let account_id = auth.account_id;
    let (keywords, clusters, ideas, ai_requests) = state
        .db(move |conn| {
            let keywords: i64 =
                keywords::table.filter(keywords::account_id.eq(account_id)).count().get_result(conn)?;
            let clusters: i64 =
                clusters::table.filter(clusters::account_id.eq(account_id)).count().get_result(conn)?;
            let ideas: i64 = content_ideas::table
                .filter(content_ideas::account_id.eq(account_id))
                .count()
                .get_result(conn)?;
            let ai_requests: i64 = credit_usage_logs::table
                .filter(credit_usage_logs::account_id.eq(account_id))
                .filter(credit_usage_logs::created_at.ge(month_start()))
                .count()
                .get_result(conn)?;
            Ok((keywords, clusters, ideas, ai_requests))
        })
        .await?;
    Ok(response::ok(UsageLimits {
        plan_limits: PLAN_LIMITS,
        current_usage: CurrentUsage { keywords, clusters, ideas, ai_requests },
    }))
}

/// One row of the usage log.
#[utoipa::path(
    tag = "billing",
    params(("id" = i64, Path, description = "The usage log id.")),
    responses((status = 200, body = Data<CreditUsageLog>)),
)]
#[get("/usage/{id}")]
async fn usage_detail(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<CreditUsageLog>(&state, auth.account(), id.0).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TransactionQuery {
    /// Only transactions of this type (`purchase`, `subscription`, `refund`, `deduction`,
    /// `adjustment`).
    #[param(pattern = "^(purchase|subscription|refund|deduction|adjustment)$")]
    transaction_type: Option<String>,
    /// Only transactions on or after this day (UTC).
    start_date: Option<NaiveDate>,
    /// Only transactions on or before this day (UTC).
    end_date: Option<NaiveDate>,
}

const TRANSACTION_TYPES: [&str; 5] = ["purchase", "subscription", "refund", "deduction", "adjustment"];

/// The account's credit transactions, newest first.
#[utoipa::path(
    tag = "billing",
    params(PageParams, TransactionQuery),
    responses((status = 200, body = Page<CreditTransaction>)),
)]
#[get("/transactions")]
async fn transactions_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<TransactionQuery>,
) -> Result<HttpResponse, ApiError> {
    let TransactionQuery { transaction_type, start_date, end_date } = query.0;
    if let Some(kind) = &transaction_type
        && !TRANSACTION_TYPES.contains(&kind.as_str())
    {
        return Err(ApiError::field(
            "transaction_type",
            "Must be one of purchase, subscription, refund, deduction, adjustment.",
        ));
    }
    let (from, until) = day_bounds(start_date, end_date);
    let account_id = auth.account_id;
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q = credit_transactions::table
                    .filter(credit_transactions::account_id.eq(account_id))
                    .into_boxed();
                if let Some(kind) = &transaction_type {
                    q = q.filter(credit_transactions::transaction_type.eq(kind.clone()));
                }
                if let Some(from) = from {
                    q = q.filter(credit_transactions::created_at.ge(from));
                }
                if let Some(until) = until {
                    q = q.filter(credit_transactions::created_at.lt(until));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<CreditTransaction> = filtered()
                .order((credit_transactions::created_at.desc(), credit_transactions::id.desc()))
                .offset(page.offset())
                .limit(page.size())
                .select(CreditTransaction::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// One credit transaction.
#[utoipa::path(
    tag = "billing",
    params(("id" = i64, Path, description = "The transaction id.")),
    responses((status = 200, body = Data<CreditTransaction>)),
)]
#[get("/transactions/{id}")]
async fn transaction_detail(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<CreditTransaction>(&state, auth.account(), id.0).await
}
