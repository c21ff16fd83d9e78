//! `/api/v1/billing/credits/`: the account's balance, its usage log (with a summary and the
//! plan's limits) and its credit transactions. Read-only: credits change through sign-up,
//! purchases and the AI operations that charge them.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    billing::{
        Operation, TransactionType,
        ledger::{self, CurrentUsage, TransactionFilter, UsageFilter},
    },
    db::models::{CreditTransaction, CreditUsageLog},
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

/// `GET /balance/balance`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct CreditBalance {
    /// Credits the account has.
    credits: i64,
    /// What the account's plan grants each month.
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
    let balance = state.db(move |conn| ledger::balance(conn, auth.account())).await?;
    Ok(response::ok(CreditBalance {
        credits: balance.credits,
        plan_credits_per_month: balance.plan_credits_per_month,
        credits_used_this_month: balance.used_this_month,
        credits_remaining: balance.credits,
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

impl UsageQuery {
    /// The rows this query covers, or 400 naming `operation_type`.
    fn filter(&self) -> Result<UsageFilter, ApiError> {
        let operation = self
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
        let (from, until) = day_bounds(self.start_date, self.end_date);
        Ok(UsageFilter { operation, from, until })
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
    crud::list::<CreditUsageLog>(&state, auth.scope(), query.filter()?, &req, page).await
}

/// `GET /usage/summary`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct CreditUsageSummary {
    total_credits_used: i64,
    /// In US dollars, a decimal string to six places.
    #[schema(value_type = String, example = "25.500000")]
    total_cost_usd: rust_decimal::Decimal,
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
    let (account, filter) = (auth.account(), query.filter()?);
    let rows = state.db(move |conn| ledger::totals(conn, account, filter)).await?;
    let by_operation: BTreeMap<String, i64> =
        rows.iter().map(|row| (row.operation_type.clone(), row.credits)).collect();
    Ok(response::ok(CreditUsageSummary {
        total_credits_used: rows.iter().map(|row| row.credits).sum::<i64>(),
        total_cost_usd: rows.iter().map(|row| row.cost_usd).sum::<rust_decimal::Decimal>().round_dp(6),
        total_tokens: rows.iter().map(|row| row.tokens).sum::<i64>(),
        by_operation,
    }))
}

/// What the account's plan allows.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[schema(as = CreditPlanLimits)]
struct PlanLimits {
    max_sites: i32,
    max_users: i32,
    max_keywords: i32,
    max_clusters: i32,
    max_ideas: i32,
    /// AI requests a month.
    max_ai_requests: i32,
}

impl From<&shared::plans::Plan> for PlanLimits {
    fn from(plan: &shared::plans::Plan) -> Self {
        PlanLimits {
            max_sites: plan.max_sites,
            max_users: plan.max_users,
            max_keywords: plan.max_keywords,
            max_clusters: plan.max_clusters,
            max_ideas: plan.max_ideas,
            max_ai_requests: plan.max_ai_requests,
        }
    }
}

/// `GET /usage/limits`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreditUsageLimits)]
struct UsageLimits {
    /// The account's plan (`free`, `starter`…).
    plan: String,
    plan_limits: PlanLimits,
    current_usage: CurrentUsage,
}

/// The account's plan's limits next to its sites, users, keywords, clusters, ideas and this
/// month's AI requests. A create that would pass a limit is refused with 402
/// `plan_limit_reached` naming it.
#[utoipa::path(tag = "billing", responses((status = 200, body = Data<UsageLimits>)))]
#[get("/usage/limits")]
async fn usage_limits(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let account = auth.account();
    let (plan, current_usage) = state
        .db(move |conn| {
            Ok((shared::plans::of_account(conn, account)?, ledger::current_usage(conn, account)?))
        })
        .await?;
    Ok(response::ok(UsageLimits {
        plan: plan.slug.clone(),
        plan_limits: PlanLimits::from(&plan),
        current_usage,
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
    crud::retrieve::<CreditUsageLog>(&state, auth.scope(), id.0).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TransactionQuery {
    /// Only transactions of this type.
    #[param(inline)]
    transaction_type: Option<TransactionType>,
    /// Only transactions on or after this day (UTC).
    start_date: Option<NaiveDate>,
    /// Only transactions on or before this day (UTC).
    end_date: Option<NaiveDate>,
}

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
    let (from, until) = day_bounds(start_date, end_date);
    let filter = TransactionFilter { transaction_type, from, until };
    crud::list::<CreditTransaction>(&state, auth.scope(), filter, &req, page).await
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
    crud::retrieve::<CreditTransaction>(&state, auth.scope(), id.0).await
}
