//! What posts did: counts pulled from the platforms, per account and in totals, and AI
//! variants composed for each platform.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    social::{
        Platform, SocialAccount,
        posts::{self, PostInsights, PublishedCounts},
    },
    tasks::{
        Compose, NewTask, PullInsights,
        social::{ComposePayload, InsightsPayload},
    },
};
use utoipa::{IntoParams, ToSchema};

use super::super::{billing::day_bounds, commands};
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
    let platforms = body.0.platforms.len() as u64;
    commands::enqueue_paid::<Compose>(&state, &auth, &req, &body.0, platforms).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InsightsQuery {
    /// How many days back (1 to 365, default 7).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// `GET /accounts/{id}/insights`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountInsights)]
struct AccountInsights {
    account: SocialAccount,
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
    let (account, social_account_id) = (auth.account(), id.0);
    let since = Utc::now() - chrono::Duration::days(i64::from(days));
    let (account, posts) = state
        .db(move |conn| posts::account_insights(conn, account, social_account_id, since))
        .await?
        .ok_or(ApiError::NotFound { what: "social account" })?;
    let mut totals = Totals::default();
    for post in &posts {
        totals.add(post.likes, post.shares, post.replies, post.impressions);
    }
    Ok(response::ok(AccountInsights { account, days, totals: totals.shown(), posts }))
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
    let platform = match platform.as_deref() {
        Some(name) => {
            Some(Platform::parse(name).ok_or_else(|| ApiError::field("platform", "Not a platform."))?)
        }
        None => None,
    };
    let (from, until) = day_bounds(start_date, end_date);
    let account = auth.account();
    let rows = state.db(move |conn| posts::published_counts(conn, account, platform, from, until)).await?;
    let mut platforms: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut per_account: std::collections::BTreeMap<i64, (String, Totals)> = Default::default();
    for PublishedCounts { platform, social_account_id, likes, shares, replies, impressions } in rows {
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
