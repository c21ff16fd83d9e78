//! `/api/v1/system/admin/…`: what operators need when tasks die — dead letters per queue
//! (listed, requeued, purged) and cancelling every unfinished task of a kind. Operators are
//! owners and admins of a system account (`accounts.is_system`); everyone else gets 403.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use shared::{
    db::models::{Task, TaskAttempt},
    messaging::dead_letters::{self, DeadLetter, Requeued},
    tasks::{Queue, TaskState, kind_spec},
};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(summary)
        .service(letters)
        .service(requeue)
        .service(purge)
        .service(cancel_kind)
        .service(any_task)
        .service(any_task_attempts);
}

/// Whether the caller is an operator: an owner or admin of a system account.
pub async fn is_operator(state: &AppState, auth: &Admin) -> Result<bool, ApiError> {
    let account = auth.account();
    state.db(move |conn| shared::users::is_system_account(conn, account)).await
}

/// 403 unless the caller is an owner or admin of a system account.
pub async fn require_operator(state: &AppState, auth: &Admin) -> Result<(), ApiError> {
    if is_operator(state, auth).await? { Ok(()) } else { Err(not_operator()) }
}

/// The 403 of an operators-only action.
pub fn not_operator() -> ApiError {
    ApiError::Forbidden {
        code: "not_operator",
        message: "Only owners and admins of a system account may do this.".to_owned(),
    }
}

fn queue_of(name: &str) -> Result<Queue, ApiError> {
    name.parse().map_err(|_| ApiError::NotFound { what: "queue" })
}

/// Moves what waits in the broker's dead-letter queues into the table first, so that what is
/// listed is everything.
async fn drain(state: &AppState, queues: &[Queue]) -> Result<(), ApiError> {
    for queue in queues {
        dead_letters::drain(&state.publisher, &state.pool, *queue).await?;
    }
    Ok(())
}

/// One queue's dead letters and its work queue now.
#[derive(Serialize, ToSchema)]
struct QueueSummary {
    queue: Queue,
    /// Dead letters held for the queue.
    dead_letters: i64,
    /// Messages waiting in the work queue (null when the broker did not say).
    ready: Option<u32>,
    /// Consumers of the work queue (null when the broker did not say).
    consumers: Option<u32>,
}

/// Every queue: its dead letters, and its work queue's depth and consumers now (operators
/// only).
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, body = Data<Vec<QueueSummary>>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[get("/dead-letters")]
async fn summary(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    drain(&state, &Queue::ALL).await?;
    let counts = state.db(dead_letters::counts).await?;
    let names: Vec<String> =
        Queue::ALL.iter().map(|queue| state.publisher.topology().work_queue(*queue)).collect();
    let stats = state.publisher.queue_stats(&names).await.unwrap_or_default();
    let mut rows = Vec::with_capacity(Queue::ALL.len());
    for (index, queue) in Queue::ALL.into_iter().enumerate() {
        let dead = counts.iter().find(|(name, _)| name == queue.as_str()).map_or(0, |(_, count)| *count);
        let work = stats.get(index).copied().flatten();
        rows.push(QueueSummary {
            queue,
            dead_letters: dead,
            ready: work.map(|stats| stats.messages),
            consumers: work.map(|stats| stats.consumers),
        });
    }
    Ok(response::ok(rows))
}

/// One queue's dead letters, newest first: task, kind, account, attempts and last error
/// (operators only).
#[utoipa::path(
    tag = "admin",
    params(("queue" = Queue, Path, description = "The queue."), PageParams),
    responses(
        (status = 200, body = Page<DeadLetter>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[get("/dead-letters/{queue}")]
async fn letters(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let queue = queue_of(&path)?;
    drain(&state, &[queue]).await?;
    let (rows, count) =
        state.db(move |conn| dead_letters::list(conn, queue, page.size(), page.offset())).await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// `{"ids": [...]}` or `{"all": true}`: never all by accident.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RequeueInput {
    /// The dead letters to send back (1 to 1,000).
    #[schema(min_items = 1, max_items = 1000)]
    ids: Option<Vec<i64>>,
    /// Every dead letter of the queue (instead of `ids`).
    #[serde(default)]
    all: bool,
}

impl Validate for RequeueInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match (&self.ids, self.all) {
            (Some(ids), false) if (1..=1_000).contains(&ids.len()) => {}
            (Some(_), false) => validation::push(&mut errors, "ids", "Give 1 to 1,000 ids.".to_owned()),
            (None, true) => {}
            _ => validation::push(&mut errors, "ids", "Give either `ids` or `\"all\": true`.".to_owned()),
        }
        validation::finish(errors)
    }
}

/// Sends dead letters back: each task is `PENDING` again with its attempts kept (and a fresh
/// budget of its kind's attempts), its command through the outbox. Answers what became of
/// each (operators only).
#[utoipa::path(
    tag = "admin",
    params(("queue" = Queue, Path, description = "The queue.")),
    request_body = RequeueInput,
    responses(
        (status = 200, body = Data<RequeueResult>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[post("/dead-letters/{queue}/requeue")]
async fn requeue(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
    body: ApiJson<RequeueInput>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let queue = queue_of(&path)?;
    drain(&state, &[queue]).await?;
    let ids = match body.0.ids {
        Some(ids) => ids,
        None => state.db(move |conn| dead_letters::ids(conn, queue)).await?,
    };
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = state.db(move |conn| dead_letters::requeue(conn, queue, id)).await?;
        if let Some(Requeued::Requeued { outbox_id, .. }) = &outcome {
            state.relay.notify([*outbox_id]);
        }
        let result = match outcome {
            Some(outcome) => LetterResult::Found(outcome),
            None => LetterResult::Missing(Missing::NotFound),
        };
        outcomes.push(LetterOutcome { id, result });
    }
    let requeued = outcomes
        .iter()
        .filter(|o| matches!(o.result, LetterResult::Found(Requeued::Requeued { .. })))
        .count();
    tracing::info!(queue = %queue, requeued, operator = auth.user_id, "dead letters requeued");
    Ok(response::ok(RequeueResult { requeued, letters: outcomes }))
}

/// What a requeue did: how many went back, and each letter's outcome.
#[derive(Serialize, ToSchema)]
struct RequeueResult {
    requeued: usize,
    letters: Vec<LetterOutcome>,
}

/// One letter's outcome (`result.outcome`: `requeued`, `stale`, `unreadable` or `not_found`).
#[derive(Serialize, ToSchema)]
struct LetterOutcome {
    id: i64,
    result: LetterResult,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum LetterResult {
    Found(Requeued),
    Missing(Missing),
}

/// No dead letter with this id in the queue.
#[derive(Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[schema(as = DeadLetterMissing)]
enum Missing {
    NotFound,
}

/// `purged`: how many dead letters were deleted.
#[derive(Serialize, ToSchema)]
struct DeadLettersPurged {
    purged: usize,
}

/// Deletes a queue's dead letters, in the broker and in the table (operators only).
#[utoipa::path(
    tag = "admin",
    params(("queue" = Queue, Path, description = "The queue.")),
    responses(
        (status = 200, body = Data<DeadLettersPurged>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[post("/dead-letters/{queue}/purge")]
async fn purge(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let queue = queue_of(&path)?;
    drain(&state, &[queue]).await?;
    let purged = state.db(move |conn| dead_letters::purge(conn, queue)).await?;
    tracing::info!(queue = %queue, purged, operator = auth.user_id, "dead letters purged");
    Ok(response::ok(DeadLettersPurged { purged }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelKindInput {
    /// A task kind (`system.ping`, `seo.audit`, …).
    #[schema(schema_with = crate::openapi::task_kind)]
    kind: String,
    /// Only this account's tasks; every account's when absent.
    account_id: Option<i64>,
}

impl Validate for CancelKindInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if kind_spec(&self.kind).is_none() {
            validation::push(&mut errors, "kind", format!("`{}` is not a task kind.", self.kind));
        }
        validation::finish(errors)
    }
}

/// Cancels every unfinished task of a kind: waiting ones are REVOKED at once, running ones
/// stop at their next progress step (operators only).
#[utoipa::path(
    tag = "admin",
    request_body = CancelKindInput,
    responses(
        (status = 200, body = Data<CancelledKind>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[post("/tasks/cancel")]
async fn cancel_kind(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<CancelKindInput>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let CancelKindInput { kind, account_id } = body.0;
    let filter_kind = kind.clone();
    let (revoked, flagged) =
        state.db(move |conn| shared::tasks::cancel_kind(conn, &filter_kind, account_id)).await?;
    let events: Vec<_> =
        revoked.iter().filter(|task| task.state == TaskState::Revoked).map(Into::into).collect();
    state.publisher.publish_events(&events).await;
    tracing::info!(
        kind,
        revoked = revoked.len(),
        flagged,
        operator = auth.user_id,
        "tasks cancelled by kind"
    );
    Ok(response::ok(CancelledKind { revoked: revoked.len(), kind, cancel_requested: flagged }))
}

/// What cancelling a kind did.
#[derive(Serialize, ToSchema)]
struct CancelledKind {
    kind: String,
    /// Waiting tasks revoked at once.
    revoked: usize,
    /// Running tasks asked to stop.
    cancel_requested: usize,
}

/// Any account's task (a dead letter's, say): the same view its owner gets.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses(
        (status = 200, body = Data<Task>),
        (status = 403, description = "Operators only.", body = ErrorBody),
    ),
)]
#[get("/tasks/{id}")]
async fn any_task(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let task_id = id.0;
    let task = state
        .db(move |conn| shared::tasks::find_any(conn, task_id))
        .await?
        .ok_or(ApiError::NotFound { what: "task" })?;
    Ok(response::ok(task))
}

/// Any account's task's attempts, first to last.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses(
        (status = 200, body = Data<Vec<TaskAttempt>>),
        (status = 403, description = "Operators only.", body = ErrorBody),
    ),
)]
#[get("/tasks/{id}/attempts")]
async fn any_task_attempts(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let task_id = id.0;
    let attempts = state
        .db(move |conn| {
            shared::tasks::find_any(conn, task_id)?
                .map(|_| shared::tasks::attempts(conn, task_id))
                .transpose()
        })
        .await?
        .ok_or(ApiError::NotFound { what: "task" })?;
    Ok(response::ok(attempts))
}
