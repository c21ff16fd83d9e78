//! Posts: made and edited against their platform's rules (400 naming the limit), listed,
//! shown by day, cancelled while scheduled; their lifecycle is `shared::social::PostStatus`.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{
    db::schema::{social_accounts, social_posts},
    social::{AccountStatus, Platform, PostStatus},
};
use utoipa::{IntoParams, ToSchema};

use super::super::billing::day_bounds;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

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
pub(super) struct PostView {
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

pub(super) type PostColumns = (
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

pub(super) fn post_columns() -> PostColumns {
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

async fn make_post(state: &AppState, auth: &Editor, input: PostInput) -> Result<HttpResponse, ApiError> {
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
pub(super) async fn create_post(
    state: web::Data<AppState>,
    auth: Editor,
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
pub(super) async fn schedule(
    state: web::Data<AppState>,
    auth: Editor,
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
pub(super) async fn posts(
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
pub(super) async fn calendar(
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
pub(super) async fn retrieve_post(
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
pub(super) async fn cancel_post(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
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
pub(super) async fn update_post(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<PostChange>,
) -> Result<HttpResponse, ApiError> {
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
