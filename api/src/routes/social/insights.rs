//! What posts did: counts pulled from the platforms, per account and in totals, and AI
//! variants composed for each platform.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use shared::{
    billing::Operation,
    db::schema::{social_accounts, social_posts},
    social::{Platform, PostStatus},
    tasks::{
        Compose, NewTask, PullInsights,
        social::{ComposePayload, InsightsPayload},
    },
};
use utoipa::{IntoParams, ToSchema};

use super::super::{billing::day_bounds, commands};
use super::accounts::{AccountView, account_columns};
use crate::{
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data},
    state::AppState,
};

impl Validate for ComposePayload {}

/// Platform-fitted variants and hashtags for a text or a content item: 202 with the
/// `social.compose` task (402 when the account cannot pay a credit per platform).
#[utoipa::path(
    tag = "social",
    params(IdempotencyKey),
    request_body = ComposePayload,
    responses(
        (status = 202, body = Accepted),
        (status = 402, description = "Not enough credits.", body = ErrorBody),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/compose")]
pub(super) async fn compose(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<ComposePayload>,
) -> Result<HttpResponse, ApiError> {
    let task = commands::task_of::<Compose>(&state, auth.account_id, &body.0)?;
    let credits = Operation::Social.cost(body.0.platforms.len() as u64);
    commands::enqueue_paid(&state, &auth, &req, task, credits).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InsightsQuery {
    /// How many days back (1 to 365, default 7).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// A published post and the counts last pulled for it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialPostInsights)]
struct PostInsights {
    id: i64,
    content: String,
    published_at: Option<DateTime<Utc>>,
    remote_url: Option<String>,
    likes: i32,
    shares: i32,
    replies: i32,
    /// Null where the platform does not count them.
    impressions: Option<i32>,
    /// When the counts were pulled; null before the first pull.
    insights_at: Option<DateTime<Utc>>,
}

/// `GET /accounts/{id}/insights`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountInsights)]
struct AccountInsights {
    account: AccountView,
    days: u32,
    totals: TotalsView,
    /// Newest first.
    posts: Vec<PostInsights>,
}

/// One account's posts published in the last `days` (7 by default, at most 365) with the
/// counts last pulled from the platform, newest first, and their totals.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id."), InsightsQuery),
    responses((status = 200, body = Data<AccountInsights>)),
)]
#[get("/accounts/{id}/insights")]
pub(super) async fn account_insights(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    query: ApiQuery<InsightsQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = query.0.days.unwrap_or(7);
    if !(1..=365).contains(&days) {
        return Err(ApiError::field("days", "Must be between 1 and 365."));
    }
    let (account_id, social_account_id) = (auth.account_id, id.0);
    let since = Utc::now() - chrono::Duration::days(i64::from(days));
    type Row = (
        i64,
        String,
        Option<DateTime<Utc>>,
        Option<String>,
        i32,
        i32,
        i32,
        Option<i32>,
        Option<DateTime<Utc>>,
    );
    let (account, rows): (AccountView, Vec<Row>) = state
        .db(move |conn| {
            let account = social_accounts::table
                .find(social_account_id)
                .filter(social_accounts::account_id.eq(account_id))
                .select(account_columns())
                .first(conn)
                .optional()?;
            let Some(account) = account else { return Ok(None) };
            use social_posts as p;
            let rows = p::table
                .filter(p::account_id.eq(account_id))
                .filter(p::social_account_id.eq(social_account_id))
                .filter(p::status.eq(PostStatus::Published))
                .filter(p::published_at.ge(since))
                .order(p::published_at.desc())
                .select((
                    p::id,
                    p::content,
                    p::published_at,
                    p::remote_url,
                    p::likes,
                    p::shares,
                    p::replies,
                    p::impressions,
                    p::insights_at,
                ))
                .load(conn)?;
            Ok(Some((account, rows)))
        })
        .await?
        .ok_or(ApiError::NotFound { what: "social account" })?;
    let mut totals = Totals::default();
    let recent: Vec<PostInsights> = rows
        .into_iter()
        .map(|(id, content, published_at, remote_url, likes, shares, replies, impressions, insights_at)| {
            totals.add(likes, shares, replies, impressions);
            PostInsights {
                id,
                content,
                published_at,
                remote_url,
                likes,
                shares,
                replies,
                impressions,
                insights_at,
            }
        })
        .collect();
    Ok(response::ok(AccountInsights { account, days, totals: totals.shown(), posts: recent }))
}

/// Pulls the platforms' counts for recent posts now (also a built-in daily schedule): 202
/// with the `social.pull_insights` task.
#[utoipa::path(
    tag = "social",
    params(IdempotencyKey),
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/insights/pull")]
pub(super) async fn pull_insights(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let task = NewTask::of::<PullInsights>(auth.account_id, &InsightsPayload::default());
    commands::enqueue(&state, &auth, &req, task).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AnalyticsQuery {
    /// Only posts on this platform.
    #[param(inline, value_type = Option<Platform>)]
    platform: Option<String>,
    /// Only posts published on or after this day (UTC).
    start_date: Option<NaiveDate>,
    /// Only posts published on or before this day (UTC).
    end_date: Option<NaiveDate>,
}

/// Totals: posts, likes, shares, replies, impressions.
#[derive(Clone, Copy, Debug, Default)]
struct Totals([i64; 5]);

impl Totals {
    fn add(&mut self, likes: i32, shares: i32, replies: i32, impressions: Option<i32>) {
        let totals = &mut self.0;
        totals[0] += 1;
        totals[1] += i64::from(likes);
        totals[2] += i64::from(shares);
        totals[3] += i64::from(replies);
        totals[4] += i64::from(impressions.unwrap_or(0));
    }

    fn shown(self) -> TotalsView {
        let [count, likes, shares, replies, impressions] = self.0;
        let engagement_per_post = if count > 0 {
            ((likes + shares + replies) as f64 / count as f64 * 100.0).round() / 100.0
        } else {
            0.0
        };
        TotalsView { posts: count, likes, shares, replies, impressions, engagement_per_post }
    }
}

/// Published posts and the sums of their pulled counts.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[schema(as = SocialTotals)]
struct TotalsView {
    posts: i64,
    likes: i64,
    shares: i64,
    replies: i64,
    /// Impressions where the platform counts them.
    impressions: i64,
    /// (likes + shares + replies) per post, to two decimals.
    engagement_per_post: f64,
}

/// One platform's totals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialPlatformTotals)]
struct PlatformTotals {
    #[serde(flatten)]
    totals: TotalsView,
    #[schema(value_type = Platform)]
    platform: String,
}

/// One connected account's totals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountTotals)]
struct AccountTotals {
    #[serde(flatten)]
    totals: TotalsView,
    social_account_id: i64,
    #[schema(value_type = Platform)]
    platform: String,
}

/// `GET /analytics`'s answer: the range asked for (null where open) and the totals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAnalytics)]
struct Analytics {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    /// By platform name.
    platforms: Vec<PlatformTotals>,
    /// By social account id.
    accounts: Vec<AccountTotals>,
}

/// Published posts and their pulled counts per platform and per account, by publication date.
#[utoipa::path(
    tag = "social",
    params(AnalyticsQuery),
    responses((status = 200, body = Data<Analytics>)),
)]
#[get("/analytics")]
pub(super) async fn analytics(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let AnalyticsQuery { platform, start_date, end_date } = query.0;
    if platform.as_deref().is_some_and(|platform| Platform::parse(platform).is_none()) {
        return Err(ApiError::field("platform", "Not a platform."));
    }
    let (from, until) = day_bounds(start_date, end_date);
    let account_id = auth.account_id;
    type Row = (String, i64, i32, i32, i32, Option<i32>);
    let rows: Vec<Row> = state
        .db(move |conn| {
            let mut q = social_posts::table
                .filter(social_posts::account_id.eq(account_id))
                .filter(social_posts::status.eq(PostStatus::Published))
                .into_boxed();
            if let Some(platform) = platform {
                q = q.filter(social_posts::platform.eq(platform));
            }
            if let Some(from) = from {
                q = q.filter(social_posts::published_at.ge(from));
            }
            if let Some(until) = until {
                q = q.filter(social_posts::published_at.lt(until));
            }
            Ok(q.select((
                social_posts::platform,
                social_posts::social_account_id,
                social_posts::likes,
                social_posts::shares,
                social_posts::replies,
                social_posts::impressions,
            ))
            .load(conn)?)
        })
        .await?;
    let mut platforms: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut per_account: std::collections::BTreeMap<i64, (String, Totals)> = Default::default();
    for (platform, social_account_id, likes, shares, replies, impressions) in rows {
        platforms.entry(platform.clone()).or_default().add(likes, shares, replies, impressions);
        per_account.entry(social_account_id).or_insert_with(|| (platform, Totals::default())).1.add(
            likes,
            shares,
            replies,
            impressions,
        );
    }
    let by_platform: Vec<PlatformTotals> = platforms
        .into_iter()
        .map(|(platform, totals)| PlatformTotals { totals: totals.shown(), platform })
        .collect();
    let by_account: Vec<AccountTotals> = per_account
        .into_iter()
        .map(|(social_account_id, (platform, totals))| AccountTotals {
            totals: totals.shown(),
            social_account_id,
            platform,
        })
        .collect();
    Ok(response::ok(Analytics { start_date, end_date, platforms: by_platform, accounts: by_account }))
}
