//! Posts: made and edited against their platform's rules (400 naming the limit), listed,
//! cancelled while scheduled (the calendar is `super::calendar`); their lifecycle is `shared::social::PostStatus`.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::social::{
    self, AccountStatus, Platform, Post, PostStatus,
    posts::{NewPost, PostEdit, PostFilter},
};
use utoipa::{IntoParams, ToSchema};

use super::super::billing::day_bounds;
use crate::{
    crud,
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
    /// The connected account to post as; may be left out when `platform` names a platform
    /// the account has exactly one connected account on.
    social_account_id: Option<i64>,
    /// The platform to post on (seed 001): picks the account's connected account there.
    #[schema(value_type = Option<Platform>)]
    platform: Option<String>,
    /// The text, checked against the platform's limits.
    content: String,
    /// URLs of the pictures or video to attach.
    #[serde(default)]
    media: Vec<String>,
    /// ISO 8601 with an offset, in the future; now when absent.
    #[schema(format = DateTime)]
    scheduled_time: Option<String>,
    /// Who the post is for: a JSON object (`{"age": "25-34", "interests": […]}`); a text is
    /// kept as its `description`.
    #[serde(default)]
    #[schema(value_type = Object)]
    target_audience: Value,
}

impl Validate for PostInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_audience(&mut errors, &self.target_audience);
        validation::finish(errors)
    }
}

/// The most a `target_audience` may take, as JSON.
const AUDIENCE_LIMIT: usize = 5_000;

/// `target_audience` as stored: an object (a text becomes its `description`, nothing `{}`),
/// or what is wrong with it.
fn audience(value: &Value) -> Result<Value, String> {
    let stored = match value {
        Value::Null => json!({}),
        Value::String(text) if text.trim().is_empty() => json!({}),
        Value::String(text) => json!({ "description": text.trim() }),
        Value::Object(_) => value.clone(),
        _ => return Err("Must be a JSON object.".to_owned()),
    };
    if stored.to_string().len() > AUDIENCE_LIMIT {
        return Err(format!("Must be at most {AUDIENCE_LIMIT} bytes as JSON."));
    }
    Ok(stored)
}

fn check_audience(errors: &mut FieldErrors, value: &Value) {
    if let Err(problem) = audience(value) {
        validation::push(errors, "target_audience", problem);
    }
}

fn stored_audience(value: &Value) -> Result<Value, ApiError> {
    audience(value).map_err(|problem| ApiError::field("target_audience", problem))
}

/// The connected account a new post goes out on: `social_account_id`, or the one connected
/// account on `platform`.
async fn poster(
    state: &AppState,
    auth: &Editor,
    social_account_id: Option<i64>,
    platform: Option<&str>,
) -> Result<i64, ApiError> {
    let platform = match platform.map(str::trim).filter(|name| !name.is_empty()) {
        None => None,
        Some(name) => Some(Platform::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Platform::ALL.iter().map(|platform| platform.as_str()).collect();
            ApiError::field("platform", format!("Must be one of {}.", known.join(", ")))
        })?),
    };
    if let Some(id) = social_account_id {
        return Ok(id);
    }
    let Some(platform) = platform else {
        return Err(ApiError::field("social_account_id", "Give social_account_id or platform."));
    };
    let account = auth.account();
    let connected = state.db(move |conn| social::account::connected(conn, account)).await?;
    let mut on_platform = connected.iter().filter(|candidate| candidate.platform == platform.as_str());
    match (on_platform.next(), on_platform.next()) {
        (Some(only), None) => Ok(only.id),
        (None, _) => Err(ApiError::field(
            "platform",
            format!("The account has no connected {} account; connect one first.", platform.as_str()),
        )),
        (Some(_), Some(_)) => Err(ApiError::field(
            "platform",
            format!(
                "The account has several connected {} accounts; say which with social_account_id.",
                platform.as_str()
            ),
        )),
    }
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
    let social_account_id = poster(state, auth, input.social_account_id, input.platform.as_deref()).await?;
    let account = auth.account();
    let (platform, status) = state
        .db(move |conn| social::posts::poster(conn, account, social_account_id))
        .await?
        .ok_or_else(|| ApiError::missing("social_account_id", "Social account not found."))?;
    if status == AccountStatus::Disconnected {
        return Err(ApiError::field("social_account_id", "The account is disconnected."));
    }
    let platform =
        Platform::parse(&platform).ok_or_else(|| ApiError::internal("unknown platform in the database"))?;
    if input.platform.as_deref().is_some_and(|named| named.trim() != platform.as_str()) {
        return Err(ApiError::field("platform", format!("The social account is on {}.", platform.as_str())));
    }
    check_rules(platform, &input.content, &input.media)?;
    let new = NewPost {
        social_account_id,
        platform,
        content: input.content,
        media: input.media,
        target_audience: stored_audience(&input.target_audience)?,
        scheduled_at: at,
    };
    Ok(response::created(state.db(move |conn| social::posts::create(conn, account, new)).await?))
}

/// 400 naming each platform limit the post breaks.
fn check_rules(platform: Platform, content: &str, media: &[String]) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    for (field, problem) in platform.problems(content, media) {
        errors.entry(field.to_owned()).or_default().push(problem);
    }
    validation::finish(errors).map_err(ApiError::invalid)
}

/// Schedules a post (now when `scheduled_time` is absent), checked against its platform's
/// rules.
#[utoipa::path(
    tag = "social",
    request_body = PostInput,
    responses(
        (status = 201, body = Data<Post>),
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
        (status = 201, body = Data<Post>),
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

impl PostQuery {
    /// The filter this query asks for, or 400 naming the bad field.
    fn filter(self) -> Result<PostFilter, ApiError> {
        let (from, until) = day_bounds(self.start_date, self.end_date);
        let mut errors = FieldErrors::new();
        let platform = self.platform.as_deref().map(Platform::parse);
        if platform.is_some_and(|parsed| parsed.is_none()) {
            let known: Vec<&str> = Platform::ALL.iter().map(|platform| platform.as_str()).collect();
            validation::push(&mut errors, "platform", format!("Must be one of {}.", known.join(", ")));
        }
        let status = self.status.as_deref().map(PostStatus::parse);
        if status.is_some_and(|parsed| parsed.is_none()) {
            validation::push(&mut errors, "status", format!("Must be one of {}.", PostStatus::words()));
        }
        validation::finish(errors).map_err(ApiError::invalid)?;
        Ok(PostFilter { platform: platform.flatten(), status: status.flatten(), from, until })
    }
}

/// The account's posts, latest scheduled first.
#[utoipa::path(
    tag = "social",
    params(PageParams, PostQuery),
    responses((status = 200, body = Page<Post>)),
)]
#[get("/posts")]
pub(super) async fn posts(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<PostQuery>,
) -> Result<HttpResponse, ApiError> {
    crud::list::<Post>(&state, auth.scope(), query.0.filter()?, &req, page).await
}

/// One post, with its platform's answer once published or failed.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    responses((status = 200, body = Data<Post>)),
)]
#[get("/posts/{id}")]
pub(super) async fn retrieve_post(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<Post>(&state, auth.scope(), id.0).await
}

/// Cancels a post that has not gone out yet; 409 once it is being published.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    responses(
        (status = 200, body = Data<Post>),
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
    let (account, post_id) = (auth.account(), id.0);
    let current = crud::find::<Post>(&state, account.into(), post_id).await?;
    let not_cancellable = |status: PostStatus| ApiError::Conflict {
        code: "not_cancellable",
        message: format!("The post is {status}; only scheduled posts can be cancelled."),
        errors: FieldErrors::new(),
    };
    current.status.become_(PostStatus::Cancelled).map_err(|illegal| not_cancellable(illegal.from))?;
    let cancelled = state.db(move |conn| social::posts::cancel(conn, account, post_id)).await?;
    // `None`: queued by the scheduler between the read and the write.
    Ok(response::ok(cancelled.ok_or(not_cancellable(PostStatus::Queued))?))
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
    /// A JSON object (a text is kept as its `description`).
    #[schema(value_type = Option<Object>)]
    target_audience: Option<Value>,
}

impl Validate for PostChange {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(value) = &self.target_audience {
            check_audience(&mut errors, value);
        }
        validation::finish(errors)
    }
}

/// PUT and PATCH change a post that is still scheduled (checked against its platform again);
/// 409 once it has been queued.
#[utoipa::path(
    tag = "social",
    params(("id" = i64, Path, description = "The post id.")),
    request_body = PostChange,
    responses(
        (status = 200, body = Data<Post>),
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
    let (account, post_id, change) = (auth.account(), id.0, body.0);
    let current = crud::find::<Post>(&state, account.into(), post_id).await?;
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
    let media = change.media.unwrap_or_else(|| current.media_urls());
    let content = change.content.unwrap_or(current.content);
    let platform = Platform::parse(&current.platform)
        .ok_or_else(|| ApiError::internal("unknown platform in the database"))?;
    check_rules(platform, &content, &media)?;
    let edit = PostEdit {
        content,
        media: json!(media),
        scheduled_at: at,
        target_audience: change.target_audience.as_ref().map(stored_audience).transpose()?,
    };
    let updated = state.db(move |conn| social::posts::edit(conn, account, post_id, edit)).await?;
    let updated = updated.ok_or_else(|| {
        ApiError::conflict("not_editable", "status", "The post was queued in the meantime.")
    })?;
    Ok(response::ok(updated))
}
