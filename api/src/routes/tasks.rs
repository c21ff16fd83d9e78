//! `/api/v1/tasks`: progress polling, listing and cancellation. Unknown and foreign ids are
//! 404 — never PENDING.

use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{self, HeaderValue},
    post, web,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    db::models::{Task, TaskAttempt},
    tasks::{CancelOutcome, TaskFilter, TaskState, Throughput},
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiError, ErrorBody},
    extract::{ApiQuery, AuthUser, Editor, PathId},
    response::{self, Data, DataWithMessage, Page, PageParams},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    // `stats` before `{id}`: it is not a task id.
    cfg.service(list)
        .service(stats)
        .service(retrieve)
        .service(attempts)
        .service(cancel)
        .service(super::task_events::events);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only tasks in this state.
    state: Option<TaskState>,
    /// Only tasks of this kind (`system.ping`, `planner.cluster_keywords`, …).
    kind: Option<String>,
}

/// The account's tasks, newest first.
#[utoipa::path(
    tag = "tasks",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Task>)),
)]
#[get("/tasks")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { state: task_state, kind } = query.0;
    let filter = TaskFilter { state: task_state, kind };
    let (rows, count) = state
        .db(move |conn| {
            shared::tasks::list_for_account(conn, auth.account_id, &filter, page.offset(), page.size())
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// The window, in minutes up to now (1–1440, default 60).
    #[param(minimum = 1, maximum = 1440)]
    minutes: Option<i64>,
}

/// Buckets per window: a minute each for the last hour, wider for longer windows.
const STATS_BUCKETS: i64 = 60;

/// Throughput of the account's tasks: finished (succeeded, failed) and retried attempts per
/// bucket over the window, and what waits or runs now.
#[utoipa::path(tag = "tasks", params(StatsQuery), responses((status = 200, body = Data<Throughput>)))]
#[get("/tasks/stats")]
async fn stats(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let minutes = query.0.minutes.unwrap_or(60);
    if !(1..=1440).contains(&minutes) {
        return Err(ApiError::field("minutes", "Must be between 1 and 1440."));
    }
    let bucket_seconds = ((minutes * 60 + STATS_BUCKETS - 1) / STATS_BUCKETS).max(60);
    // Aligned to whole buckets, so the same minute is the same bucket on every poll.
    let now = Utc::now().timestamp();
    let start = (now - minutes * 60).div_euclid(bucket_seconds) * bucket_seconds;
    let since = DateTime::from_timestamp(start, 0).ok_or_else(|| ApiError::internal("clock out of range"))?;
    let throughput =
        state.db(move |conn| shared::tasks::throughput(conn, auth.account_id, since, bucket_seconds)).await?;
    Ok(response::ok(throughput))
}

/// Every attempt of the task: its worker, start and end, outcome and error.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses((status = 200, body = Data<Vec<TaskAttempt>>)),
)]
#[get("/tasks/{id}/attempts")]
async fn attempts(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, task_id) = (auth.account_id, id.0);
    let attempts = state
        .db(move |conn| shared::tasks::attempts_for_account(conn, account_id, task_id))
        .await?
        .ok_or(ApiError::NotFound { what: "task" })?;
    Ok(response::ok(attempts))
}

/// The caller's task, or 404.
pub async fn load(state: &AppState, account_id: i64, task_id: Uuid) -> Result<Task, ApiError> {
    state
        .db(move |conn| shared::tasks::find_for_account(conn, account_id, task_id))
        .await?
        .ok_or(ApiError::NotFound { what: "task" })
}

/// Answers 304 when the client's `If-None-Match` matches the task's revision; otherwise the
/// `body`, with the ETag.
pub fn conditional(req: &HttpRequest, task: &Task, body: impl Serialize) -> HttpResponse {
    let etag = task.etag();
    let fresh = response::client_has(req, &etag);
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.insert_header((header::ETAG, value));
    }
    response.insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh { response.finish() } else { response.json(body) }
}

/// One task: state, progress, payload, result or error. Send the `ETag` back as
/// `If-None-Match` to get 304 while nothing changed.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses(
        (status = 200, body = Data<Task>, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
    ),
)]
#[get("/tasks/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let task = load(&state, auth.account_id, id.0).await?;
    Ok(conditional(&req, &task, Data { success: true, data: &task }))
}

/// A waiting task is REVOKED at once; a running one stops at its next progress step.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses(
        (status = 200, body = DataWithMessage<Task>),
        (status = 409, description = "The task already finished (`task_finished`).", body = ErrorBody),
    ),
)]
#[post("/tasks/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, task_id) = (auth.account_id, id.0);
    let outcome = state
        .db(move |conn| shared::tasks::cancel(conn, account_id, task_id))
        .await?
        .ok_or(ApiError::NotFound { what: "task" })?;
    match outcome {
        CancelOutcome::Revoked(task) => {
            state.publisher.publish_event(&(&task).into()).await;
            Ok(response::ok_with_message(task, "Task cancelled"))
        }
        CancelOutcome::Requested(task) => Ok(response::ok_with_message(task, "Cancellation requested")),
        CancelOutcome::AlreadyFinished(task) if task.state == TaskState::Revoked => {
            Ok(response::ok_with_message(task, "Task already cancelled"))
        }
        CancelOutcome::AlreadyFinished(task) => Err(ApiError::Conflict {
            code: "task_finished",
            message: format!("The task already finished with {}.", task.state),
            errors: Default::default(),
        }),
    }
}

/// A task's progress in the seed's shape: `{"state", "meta"}` (and the task id in events).
#[derive(Serialize, ToSchema)]
pub struct TaskProgress {
    /// Set in Server-Sent Events, which are not otherwise tied to their task.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub task_id: Option<Uuid>,
    pub state: TaskState,
    pub meta: ProgressMeta,
}

/// A task's progress, and its result or error once it has one.
#[derive(Serialize, ToSchema)]
pub struct ProgressMeta {
    pub phase: String,
    pub percentage: i16,
    pub message: String,
    pub attempts: i32,
    pub kind: String,
    /// The task's result, once it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub result: Option<Value>,
    /// The task's error, once it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub error: Option<Value>,
}

impl From<&Task> for TaskProgress {
    fn from(task: &Task) -> Self {
        TaskProgress {
            task_id: None,
            state: task.state,
            meta: ProgressMeta {
                phase: task.phase.clone(),
                percentage: task.percentage,
                message: task.message.clone(),
                attempts: task.attempts,
                kind: task.kind.clone(),
                result: task.result.clone(),
                error: task.error.clone(),
            },
        }
    }
}
