//! `/api/v1/social/…`: connected platform accounts and posts. A post is checked against its
//! platform's rules when it is made (400 naming the limit), waits as `scheduled` until its
//! time, is queued by the scheduler and published by `worker-social`
//! (see `workers::handlers::social`).

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{
    auth::Role,
    billing::Operation,
    db::schema::{social_accounts, social_posts},
    social::{AccountStatus, Platform, PostStatus, SocialError, StoredAccount, token_owner},
    tasks::{
        Compose, NewTask, PullInsights,
        social::{ComposePayload, InsightsPayload},
    },
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{billing::day_bounds, commands};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(accounts)
        .service(connect)
        .service(disconnect_platform)
        .service(disconnect)
        .service(reconnect)
        .service(check)
        .service(account_insights)
        .service(compose)
        .service(analytics)
        .service(pull_insights)
        .service(create_post)
        .service(schedule)
        .service(posts)
        .service(calendar)
        .service(retrieve_post)
        .service(update_post)
        .service(cancel_post);
}

/// A connected platform account. The token itself is never shown, only its hint.
#[derive(Debug, Serialize, Queryable, ToSchema)]
#[schema(as = SocialAccount)]
struct AccountView {
    id: i64,
    #[schema(value_type = Platform)]
    platform: String,
    handle: String,
    /// The platform API's base URL (a Mastodon instance); empty for the platform's default.
    base_url: String,
    /// The first and last characters of the token.
    token_hint: String,
    status: AccountStatus,
    connected_at: DateTime<Utc>,
    /// The platform's id of the account (a Facebook Page id, an Instagram user id, a LinkedIn
    /// author URN); may be empty for X and the sandbox.
    platform_user_id: String,
}

fn account_columns() -> (
    social_accounts::id,
    social_accounts::platform,
    social_accounts::handle,
    social_accounts::base_url,
    social_accounts::token_hint,
    social_accounts::status,
    social_accounts::connected_at,
    social_accounts::platform_user_id,
) {
    use social_accounts as a;
    (
        a::id,
        a::platform,
        a::handle,
        a::base_url,
        a::token_hint,
        a::status,
        a::connected_at,
        a::platform_user_id,
    )
}

/// The account's connected platform accounts (not the disconnected ones).
#[utoipa::path(tag = "social", responses((status = 200, body = Data<Vec<AccountView>>)))]
#[get("/accounts")]
async fn accounts(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let rows: Vec<AccountView> = state
        .db(move |conn| {
            Ok(social_accounts::table
                .filter(social_accounts::account_id.eq(auth.account_id))
                .filter(social_accounts::status.ne(AccountStatus::Disconnected))
                .order(social_accounts::id)
                .select(account_columns())
                .load(conn)?)
        })
        .await?;
    Ok(response::ok(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialConnectInput)]
struct ConnectInput {
    #[schema(value_type = Platform)]
    platform: String,
    /// The account's handle on the platform (also read as `platform_username`).
    #[serde(alias = "platform_username")]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    handle: String,
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    access_token: String,
    /// The platform API's base URL (a Mastodon instance); the platform's default when empty.
    #[serde(default)]
    #[schema(max_length = 500)]
    base_url: String,
    /// The platform's id of the account: required where posting names it (a Facebook Page
    /// id, an Instagram user id, a LinkedIn author URN); optional for X.
    #[serde(default)]
    platform_user_id: String,
}

/// What `platform_user_id` must look like on `platform`, if it is wrong.
fn platform_user_id_problem(platform: Platform, id: &str) -> Option<&'static str> {
    let digits = !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit());
    match platform {
        Platform::Facebook if !digits => Some("The Facebook Page id (digits) is required."),
        Platform::Instagram if !digits => {
            Some("The Instagram professional account's user id (digits) is required.")
        }
        Platform::Linkedin
            if !(id.starts_with("urn:li:person:") || id.starts_with("urn:li:organization:"))
                || id.len() > 100 =>
        {
            Some("The LinkedIn author URN (urn:li:person:… or urn:li:organization:…) is required.")
        }
        Platform::X if !id.is_empty() && !digits => Some("The X user id is digits."),
        _ => None,
    }
}

impl Validate for ConnectInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if Platform::parse(&self.platform).is_none() {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
            validation::push(&mut errors, "platform", format!("Must be one of {}.", known.join(", ")));
        }
        validation::text(&mut errors, "handle", &self.handle, 200);
        validation::text(&mut errors, "access_token", &self.access_token, 4_000);
        validation::optional_text(&mut errors, "base_url", Some(&self.base_url), 500);
        if let Some(problem) = Platform::parse(&self.platform)
            .and_then(|platform| platform_user_id_problem(platform, self.platform_user_id.trim()))
        {
            validation::push(&mut errors, "platform_user_id", problem.to_owned());
        }
        validation::finish(errors)
    }
}

/// Connects an account; the token is sealed and only its hint is ever shown.
#[utoipa::path(
    tag = "social",
    request_body = ConnectInput,
    responses(
        (status = 201, body = Data<AccountView>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts")]
async fn connect(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<ConnectInput>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let input = body.0;
    let base_url = input.base_url.trim().trim_end_matches('/').to_owned();
    if !base_url.is_empty() {
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ApiError::field("base_url", "Must be an http(s) URL."));
        }
        state
            .config
            .ai
            .outbound
            .check_str(&base_url)
            .map_err(|refused| ApiError::field("base_url", refused.to_string()))?;
    }
    let account_id = auth.account_id;
    let handle = input.handle.trim().to_owned();
    let token = input.access_token.trim().to_owned();
    let sealed = state
        .config
        .secret_box
        .seal(&token, &token_owner(account_id, &input.platform, &handle))
        .map_err(ApiError::internal)?;
    let hint = shared::crypto::mask(&token);
    let view: AccountView = state
        .db(move |conn| {
            use social_accounts as a;
            conn.transaction(|conn| {
                let view = diesel::insert_into(a::table)
                    .values((
                        a::account_id.eq(account_id),
                        a::platform.eq(&input.platform),
                        a::handle.eq(&handle),
                        a::base_url.eq(&base_url),
                        a::token.eq(sealed),
                        a::token_hint.eq(hint),
                        a::platform_user_id.eq(input.platform_user_id.trim()),
                    ))
                    .returning(account_columns())
                    .get_result(conn)?;
                shared::schedules::builtin::keep_social_insights(conn, account_id, true)?;
                Ok(view)
            })
        })
        .await?;
    Ok(response::created(view))
}

/// The caller's account `id` unless disconnected; 404 otherwise.
async fn connected_account(state: &AppState, account_id: i64, id: i64) -> Result<StoredAccount, ApiError> {
    state
        .db(move |conn| Ok(StoredAccount::find(conn, account_id, id)?))
        .await?
        .filter(|stored| stored.status != AccountStatus::Disconnected)
        .ok_or(ApiError::NotFound { what: "social account" })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialReconnectInput)]
struct ReconnectInput {
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    access_token: String,
}

impl Validate for ReconnectInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::text(&mut errors, "access_token", &self.access_token, 4_000);
        validation::finish(errors)
    }
}

/// Gives an account a new token (after `needs_reauth`): sealed like the first, the account
/// active again; its posts still scheduled keep their place.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    request_body = ReconnectInput,
    responses(
        (status = 200, body = Data<AccountView>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/reconnect")]
async fn reconnect(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    body: ApiJson<ReconnectInput>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let (account_id, social_account_id) = (auth.account_id, id.0);
    let stored = connected_account(&state, account_id, social_account_id).await?;
    let token = body.0.access_token.trim().to_owned();
    let sealed = state
        .config
        .secret_box
        .seal(&token, &token_owner(account_id, &stored.platform, &stored.handle))
        .map_err(ApiError::internal)?;
    let hint = shared::crypto::mask(&token);
    let view: AccountView = state
        .db(move |conn| {
            Ok(diesel::update(social_accounts::table.find(social_account_id))
                .set((
                    social_accounts::token.eq(sealed),
                    social_accounts::token_hint.eq(hint),
                    social_accounts::status.eq(AccountStatus::Active),
                ))
                .returning(account_columns())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::ok(view))
}

/// Which of the caller's connected accounts to disconnect.
enum Disconnecting {
    One(i64),
    Platform(String),
}

/// Disconnects accounts: their tokens are dropped and their scheduled posts cancelled; the
/// daily insights pull stops with the last account. `(accounts, posts cancelled)`.
fn disconnect_accounts(
    conn: &mut diesel::PgConnection,
    account_id: i64,
    which: Disconnecting,
) -> shared::Result<(usize, usize)> {
    conn.transaction(|conn| {
        let mut targets = social_accounts::table
            .filter(social_accounts::account_id.eq(account_id))
            .filter(social_accounts::status.ne(AccountStatus::Disconnected))
            .select(social_accounts::id)
            .into_boxed();
        targets = match which {
            Disconnecting::One(id) => targets.filter(social_accounts::id.eq(id)),
            Disconnecting::Platform(platform) => targets.filter(social_accounts::platform.eq(platform)),
        };
        let ids: Vec<i64> = targets.load(conn)?;
        diesel::update(social_accounts::table.filter(social_accounts::id.eq_any(&ids)))
            .set((
                social_accounts::status.eq(AccountStatus::Disconnected),
                social_accounts::token.eq(Vec::<u8>::new()),
            ))
            .execute(conn)?;
        let cancelled = diesel::update(social_posts::table)
            .filter(social_posts::social_account_id.eq_any(&ids))
            .filter(social_posts::status.eq(PostStatus::Scheduled))
            .set((
                social_posts::status.eq(PostStatus::Cancelled),
                social_posts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let remaining: i64 = social_accounts::table
            .filter(social_accounts::account_id.eq(account_id))
            .filter(social_accounts::status.ne(AccountStatus::Disconnected))
            .count()
            .get_result(conn)?;
        shared::schedules::builtin::keep_social_insights(conn, account_id, remaining > 0)?;
        Ok((ids.len(), cancelled))
    })
}

/// [`disconnect_accounts`]; 404 when there was nothing to disconnect.
async fn disconnect_or_404(
    state: &AppState,
    account_id: i64,
    which: Disconnecting,
) -> Result<(usize, usize), ApiError> {
    let (disconnected, cancelled) =
        state.db(move |conn| disconnect_accounts(conn, account_id, which)).await?;
    if disconnected == 0 {
        return Err(ApiError::NotFound { what: "social account" });
    }
    Ok((disconnected, cancelled))
}

/// `POST /accounts/{id}/disconnect`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountDisconnected)]
struct Disconnected {
    /// Always true.
    disconnected: bool,
    /// Scheduled posts of the account that were cancelled.
    posts_cancelled: usize,
}

/// Disconnects an account: its token is dropped and its scheduled posts are cancelled.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    responses(
        (status = 200, body = Data<Disconnected>),
        (status = 403, description = "Admins only.", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/disconnect")]
async fn disconnect(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let (account_id, which) = (auth.account_id, Disconnecting::One(id.0));
    let (_, cancelled) = disconnect_or_404(&state, account_id, which).await?;
    Ok(response::ok(Disconnected { disconnected: true, posts_cancelled: cancelled }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialDisconnectPlatformInput)]
struct DisconnectPlatformInput {
    #[schema(value_type = Platform)]
    platform: String,
}

/// `POST /accounts/disconnect`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialPlatformDisconnected)]
struct PlatformDisconnected {
    /// How many accounts of the platform were disconnected.
    disconnected: usize,
    /// Scheduled posts of those accounts that were cancelled.
    posts_cancelled: usize,
}

impl Validate for DisconnectPlatformInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if Platform::parse(&self.platform).is_none() {
            validation::push(&mut errors, "platform", "Not a platform.".to_owned());
        }
        validation::finish(errors)
    }
}

/// The seed's form: disconnects every account of a platform (`{platform}`); 404 when it has
/// none connected.
#[utoipa::path(
    tag = "social",
    request_body = DisconnectPlatformInput,
    responses(
        (status = 200, body = Data<PlatformDisconnected>),
        (status = 403, description = "Admins only.", body = ErrorBody),
        (status = 404, description = "No connected account of that platform.", body = ErrorBody),
    ),
)]
#[post("/accounts/disconnect")]
async fn disconnect_platform(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<DisconnectPlatformInput>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let (account_id, which) = (auth.account_id, Disconnecting::Platform(body.0.platform));
    let (disconnected, cancelled) = disconnect_or_404(&state, account_id, which).await?;
    Ok(response::ok(PlatformDisconnected { disconnected, posts_cancelled: cancelled }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialPostInput)]
struct PostInput {
    /// The connected account to post as.
    social_account_id: i64,
    /// The text, checked against the platform's limits.
    content: String,
    /// URLs of the pictures or video to attach.
    #[serde(default)]
    media: Vec<String>,
    /// ISO 8601 with an offset, in the future; now when absent.
    #[schema(format = DateTime)]
    scheduled_time: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    target_audience: String,
}

impl Validate for PostInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::optional_text(&mut errors, "target_audience", Some(&self.target_audience), 500);
        validation::finish(errors)
    }
}

/// A post: `scheduled` until its time, then `queued`, `publishing` and `published` or
/// `failed`; or `cancelled`.
#[derive(Debug, Serialize, Queryable, ToSchema)]
#[schema(as = SocialPost)]
struct PostView {
    id: i64,
    social_account_id: i64,
    #[schema(value_type = Platform)]
    platform: String,
    content: String,
    /// The attachments' URLs.
    #[schema(value_type = Vec<String>)]
    media: serde_json::Value,
    target_audience: String,
    scheduled_at: DateTime<Utc>,
    status: PostStatus,
    remote_id: Option<String>,
    remote_url: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    task_id: Option<uuid::Uuid>,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

type PostColumns = (
    social_posts::id,
    social_posts::social_account_id,
    social_posts::platform,
    social_posts::content,
    social_posts::media,
    social_posts::target_audience,
    social_posts::scheduled_at,
    social_posts::status,
    social_posts::remote_id,
    social_posts::remote_url,
    social_posts::error_code,
    social_posts::error_message,
    social_posts::task_id,
    social_posts::published_at,
    social_posts::created_at,
);

fn post_columns() -> PostColumns {
    use social_posts as p;
    (
        p::id,
        p::social_account_id,
        p::platform,
        p::content,
        p::media,
        p::target_audience,
        p::scheduled_at,
        p::status,
        p::remote_id,
        p::remote_url,
        p::error_code,
        p::error_message,
        p::task_id,
        p::published_at,
        p::created_at,
    )
}

/// When the post goes out: the given time (future, with an offset) or now.
fn scheduled_at(raw: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else { return Ok(Utc::now()) };
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            ApiError::field(
                "scheduled_time",
                "Must be ISO 8601 with an offset, e.g. 2026-12-01T09:00:00+01:00.",
            )
        })?
        .with_timezone(&Utc);
    if at <= Utc::now() {
        return Err(ApiError::field("scheduled_time", "Must be in the future."));
    }
    Ok(at)
}

async fn make_post(state: &AppState, auth: &AuthUser, input: PostInput) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let at = scheduled_at(input.scheduled_time.as_deref())?;
    let (account_id, social_account_id) = (auth.account_id, input.social_account_id);
    let found: Option<(String, AccountStatus)> = state
        .db(move |conn| {
            Ok(social_accounts::table
                .find(social_account_id)
                .filter(social_accounts::account_id.eq(account_id))
                .select((social_accounts::platform, social_accounts::status))
                .first(conn)
                .optional()?)
        })
        .await?;
    let (platform_name, status) =
        found.ok_or_else(|| ApiError::missing("social_account_id", "Social account not found."))?;
    if status == AccountStatus::Disconnected {
        return Err(ApiError::field("social_account_id", "The account is disconnected."));
    }
    let platform = Platform::parse(&platform_name)
        .ok_or_else(|| ApiError::internal("unknown platform in the database"))?;
    let mut errors = FieldErrors::new();
    for (field, problem) in platform.problems(&input.content, &input.media) {
        errors.entry(field.to_owned()).or_default().push(problem);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let view: PostView = state
        .db(move |conn| {
            use social_posts as p;
            Ok(diesel::insert_into(p::table)
                .values((
                    p::account_id.eq(account_id),
                    p::social_account_id.eq(social_account_id),
                    p::platform.eq(platform_name),
                    p::content.eq(input.content),
                    p::media.eq(json!(input.media)),
                    p::target_audience.eq(input.target_audience.trim().to_owned()),
                    p::scheduled_at.eq(at),
                ))
                .returning(post_columns())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(view))
}

/// Schedules a post (now when `scheduled_time` is absent), checked against its platform's
/// rules.
#[utoipa::path(
    tag = "social",
    request_body = PostInput,
    responses(
        (status = 201, body = Data<PostView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/posts")]
async fn create_post(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PostInput>,
) -> Result<HttpResponse, ApiError> {
    make_post(&state, &auth, body.0).await
}

/// The seeds' `POST /social/schedule/`: the same as `POST /social/posts/`.
#[utoipa::path(
    tag = "social",
    request_body = PostInput,
    responses(
        (status = 201, body = Data<PostView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/schedule")]
async fn schedule(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PostInput>,
) -> Result<HttpResponse, ApiError> {
    make_post(&state, &auth, body.0).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PostQuery {
    /// Only posts on this platform.
    #[param(inline, value_type = Option<Platform>)]
    platform: Option<String>,
    /// Only posts in this status.
    #[param(inline, value_type = Option<PostStatus>)]
    status: Option<String>,
    /// Only posts scheduled on or after this day (UTC).
    start_date: Option<NaiveDate>,
    /// Only posts scheduled on or before this day (UTC).
    end_date: Option<NaiveDate>,
}

/// The posts a listing covers, validated.
#[derive(Clone, Debug)]
struct PostFilter {
    account_id: i64,
    platform: Option<String>,
    status: Option<PostStatus>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl PostFilter {
    fn new(account_id: i64, query: PostQuery) -> Result<Self, ApiError> {
        let (from, until) = day_bounds(query.start_date, query.end_date);
        let mut errors = FieldErrors::new();
        if query.platform.as_deref().is_some_and(|platform| Platform::parse(platform).is_none()) {
            let known: Vec<&str> = Platform::ALL.iter().map(|platform| platform.as_str()).collect();
            validation::push(&mut errors, "platform", format!("Must be one of {}.", known.join(", ")));
        }
        let status = query.status.as_deref().map(PostStatus::parse);
        if status.is_some_and(|parsed| parsed.is_none()) {
            validation::push(&mut errors, "status", format!("Must be one of {}.", PostStatus::words()));
        }
        validation::finish(errors).map_err(ApiError::invalid)?;
        Ok(Self { account_id, platform: query.platform, status: status.flatten(), from, until })
    }

    fn query(&self) -> social_posts::BoxedQuery<'static, Pg> {
        let mut q = social_posts::table.filter(social_posts::account_id.eq(self.account_id)).into_boxed();
        if let Some(platform) = &self.platform {
            q = q.filter(social_posts::platform.eq(platform.clone()));
        }
        if let Some(status) = self.status {
            q = q.filter(social_posts::status.eq(status));
        }
        if let Some(from) = self.from {
            q = q.filter(social_posts::scheduled_at.ge(from));
        }
        if let Some(until) = self.until {
            q = q.filter(social_posts::scheduled_at.lt(until));
        }
        q
    }
}

/// The account's posts, latest scheduled first.
#[utoipa::path(
    tag = "social",
    params(PageParams, PostQuery),
    responses((status = 200, body = Page<PostView>)),
)]
#[get("/posts")]
async fn posts(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<PostQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = PostFilter::new(auth.account_id, query.0)?;
    let (rows, count) = state
        .db(move |conn| {
            let count: i64 = filter.query().count().get_result(conn)?;
            let rows: Vec<PostView> = filter
                .query()
                .order((social_posts::scheduled_at.desc(), social_posts::id.desc()))
                .offset(page.offset())
                .limit(page.size())
                .select(post_columns())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CalendarQuery {
    /// The first day (UTC); today by default.
    from: Option<NaiveDate>,
    /// The last day (UTC); 31 days after `from` by default.
    to: Option<NaiveDate>,
}

/// The posts of one day of the calendar.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialCalendarDay)]
struct CalendarDay {
    date: NaiveDate,
    posts: Vec<PostView>,
}

/// `GET /calendar`'s answer: the days that have posts, in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialCalendar)]
struct Calendar {
    from: NaiveDate,
    to: NaiveDate,
    days: Vec<CalendarDay>,
}

/// Posts by day (UTC) between `from` and `to` (31 days from today by default).
#[utoipa::path(
    tag = "social",
    params(CalendarQuery),
    responses((status = 200, body = Data<Calendar>)),
)]
#[get("/calendar")]
async fn calendar(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<CalendarQuery>,
) -> Result<HttpResponse, ApiError> {
    let today = Utc::now().date_naive();
    let from = query.0.from.unwrap_or(today);
    let to = query.0.to.unwrap_or(from + chrono::Days::new(31));
    let (Some(start), Some(end)) = day_bounds(Some(from), Some(to)) else {
        return Err(ApiError::field("to", "Give both from and to."));
    };
    let account_id = auth.account_id;
    let rows: Vec<PostView> = state
        .db(move |conn| {
            Ok(social_posts::table
                .filter(social_posts::account_id.eq(account_id))
                .filter(social_posts::scheduled_at.ge(start))
                .filter(social_posts::scheduled_at.lt(end))
                .order(social_posts::scheduled_at)
                .limit(5_000)
                .select(post_columns())
                .load(conn)?)
        })
        .await?;
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<PostView>> = std::collections::BTreeMap::new();
    for row in rows {
        days.entry(row.scheduled_at.date_naive()).or_default().push(row);
    }
    let days: Vec<CalendarDay> =
        days.into_iter().map(|(date, day_posts)| CalendarDay { date, posts: day_posts }).collect();
    Ok(response::ok(Calendar { from, to, days }))
}

async fn load_post(state: &AppState, account_id: i64, id: i64) -> Result<PostView, ApiError> {
    state
        .db(move |conn| {
            Ok(social_posts::table
                .find(id)
                .filter(social_posts::account_id.eq(account_id))
                .select(post_columns())
                .first(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "post" })
}

/// One post, with its platform's answer once published or failed.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    responses((status = 200, body = Data<PostView>)),
)]
#[get("/posts/{id}")]
async fn retrieve_post(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(load_post(&state, auth.account_id, id.0).await?))
}

/// Cancels a post that has not gone out yet; 409 once it is being published.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    responses(
        (status = 200, body = Data<PostView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 409, description = "The post is no longer scheduled.", body = ErrorBody),
    ),
)]
#[post("/posts/{id}/cancel")]
async fn cancel_post(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let (account_id, post_id) = (auth.account_id, id.0);
    let current = load_post(&state, account_id, post_id).await?;
    let not_cancellable = |status: PostStatus| ApiError::Conflict {
        code: "not_cancellable",
        message: format!("The post is {status}; only scheduled posts can be cancelled."),
        errors: FieldErrors::new(),
    };
    current.status.become_(PostStatus::Cancelled).map_err(|illegal| not_cancellable(illegal.from))?;
    let cancelled = state
        .db(move |conn| {
            Ok(diesel::update(
                social_posts::table.find(post_id).filter(social_posts::account_id.eq(account_id)),
            )
            .filter(social_posts::status.eq_any(PostStatus::cancellable()))
            .set((
                social_posts::status.eq(PostStatus::Cancelled),
                social_posts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?)
        })
        .await?;
    if cancelled == 0 {
        // Queued by the scheduler between the read and the write.
        return Err(not_cancellable(PostStatus::Queued));
    }
    Ok(response::ok(load_post(&state, account_id, post_id).await?))
}

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
async fn compose(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: ApiJson<ComposePayload>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let task = commands::task_of::<Compose>(&state, auth.account_id, &body.0)?;
    let credits = Operation::Social.cost(body.0.platforms.len() as u64);
    commands::enqueue_paid(&state, &auth, &req, task, credits).await
}

/// Asks the platform who the token belongs to: `{ok, handle}`, or 502 with `needs_reauth`
/// (the account is marked so), `platform_unreachable`…; a working token clears
/// `needs_reauth`.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The social account id.")),
    responses(
        (status = 200, body = Data<CheckView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (
            status = 502, body = ErrorBody,
            description = "The platform refused the token (`needs_reauth`) or could not be reached.",
        ),
        (status = 409, description = "This deployment may not connect to the account's address (`address_refused`).", body = ErrorBody),
    ),
)]
#[post("/accounts/{id}/check")]
async fn check(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let (account_id, social_account_id) = (auth.account_id, id.0);
    let stored = connected_account(&state, account_id, social_account_id).await?;
    let outcome = match stored.adapter(
        &state.config.secret_box,
        &state.config.ai.outbound,
        std::time::Duration::from_secs(10),
    ) {
        Ok(adapter) => adapter.check().await,
        Err(error) => Err(error),
    };
    let status = match &outcome {
        Ok(_) => Some(AccountStatus::Active),
        Err(SocialError::Auth(_)) => Some(AccountStatus::NeedsReauth),
        Err(_) => None,
    };
    if let Some(status) = status {
        state
            .db(move |conn| {
                diesel::update(social_accounts::table.find(social_account_id))
                    .set(social_accounts::status.eq(status))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
    }
    match outcome {
        Ok(handle) => Ok(response::ok(CheckView { ok: true, handle, status: AccountStatus::Active })),
        // Our outbound policy, not the platform, stands in the way: nothing to retry.
        Err(error @ SocialError::Refused(_)) => {
            Err(ApiError::conflict(error.code(), "base_url", error.to_string()))
        }
        Err(error) => Err(ApiError::BadGateway { code: error.code(), message: error.to_string() }),
    }
}

/// `POST /accounts/{id}/check`'s answer when the token works.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialAccountCheck)]
struct CheckView {
    /// Always true.
    ok: bool,
    /// Who the platform says the token belongs to.
    handle: String,
    /// The account's status now: `active`.
    status: AccountStatus,
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
async fn account_insights(
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

/// The fields to change; the others stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SocialPostChange)]
struct PostChange {
    content: Option<String>,
    /// URLs of the pictures or video to attach.
    media: Option<Vec<String>>,
    /// ISO 8601 with an offset, in the future.
    #[schema(format = DateTime)]
    scheduled_time: Option<String>,
    target_audience: Option<String>,
}

impl Validate for PostChange {}

/// PUT and PATCH change a post that is still scheduled (checked against its platform again);
/// 409 once it has been queued.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    request_body = PostChange,
    responses(
        (status = 200, body = Data<PostView>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 409, description = "The post is no longer scheduled.", body = ErrorBody),
    ),
)]
#[route("/posts/{id}", method = "PUT", method = "PATCH")]
async fn update_post(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    body: ApiJson<PostChange>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let (account_id, post_id, change) = (auth.account_id, id.0, body.0);
    let current = load_post(&state, account_id, post_id).await?;
    if let Err(illegal) = current.status.become_(PostStatus::Scheduled) {
        return Err(ApiError::conflict(
            "not_editable",
            "status",
            format!("The post is {}; only scheduled posts change.", illegal.from),
        ));
    }
    let at = match change.scheduled_time.as_deref() {
        Some(raw) => Some(scheduled_at(Some(raw))?),
        None => None,
    };
    let content = change.content.unwrap_or(current.content);
    let media: Vec<String> = match change.media {
        Some(media) => media,
        None => serde_json::from_value(current.media).unwrap_or_default(),
    };
    let platform = Platform::parse(&current.platform)
        .ok_or_else(|| ApiError::internal("unknown platform in the database"))?;
    let mut errors = FieldErrors::new();
    for (field, problem) in platform.problems(&content, &media) {
        errors.entry(field.to_owned()).or_default().push(problem);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let updated = state
        .db(move |conn| {
            use social_posts as p;
            Ok(diesel::update(p::table.find(post_id).filter(p::account_id.eq(account_id)))
                .filter(p::status.eq(PostStatus::Scheduled))
                .set((
                    p::content.eq(content),
                    p::media.eq(json!(media)),
                    at.map(|at| p::scheduled_at.eq(at)),
                    change.target_audience.map(|audience| p::target_audience.eq(audience.trim().to_owned())),
                    p::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?)
        })
        .await?;
    if updated == 0 {
        return Err(ApiError::conflict("not_editable", "status", "The post was queued in the meantime."));
    }
    Ok(response::ok(load_post(&state, account_id, post_id).await?))
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
async fn pull_insights(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
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
async fn analytics(
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
