//! `/api/v1/system/admin/…`: what operators need when tasks die — dead letters per queue
//! (listed, requeued, purged) and cancelling every unfinished task of a kind. Operators are
//! owners and admins of a system account (`accounts.is_system`); everyone else gets 403.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use shared::{
    auth::Role,
    db::schema::accounts,
    messaging::dead_letters::{self, Requeued},
    tasks::{Queue, TaskState, kind_spec},
};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, FieldErrors},
    extract::{ApiJson, AuthUser, Validate},
    response::{self, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.map(|cfg| cfg.service(summary).service(letters).service(requeue).service(purge).service(cancel_kind));
}

/// 403 unless the caller is an owner or admin of a system account.
pub async fn require_operator(state: &AppState, auth: &AuthUser) -> Result<(), ApiError> {
    auth.require(Role::Admin)?;
    let account_id = auth.account_id;
    let is_system: bool = state
        .db(move |conn| Ok(accounts::table.find(account_id).select(accounts::is_system).first(conn)?))
        .await?;
    if is_system {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "not_operator",
            message: "Only owners and admins of a system account may do this.".to_owned(),
        })
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

/// Every queue: its dead letters, and its work queue's depth and consumers now.
#[get("/dead-letters")]
async fn summary(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
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
        rows.push(json!({
            "queue": queue,
            "dead_letters": dead,
            "ready": work.map(|stats| stats.messages),
            "consumers": work.map(|stats| stats.consumers),
        }));
    }
    Ok(response::ok(rows))
}

/// One queue's dead letters, newest first: task, kind, account, attempts and last error.
#[get("/dead-letters/{queue}")]
async fn letters(
    state: web::Data<AppState>,
    auth: AuthUser,
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
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequeueInput {
    ids: Option<Vec<i64>>,
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
/// each.
#[post("/dead-letters/{queue}/requeue")]
async fn requeue(
    state: web::Data<AppState>,
    auth: AuthUser,
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
        outcomes.push(match outcome {
            Some(outcome) => json!({ "id": id, "result": outcome }),
            None => json!({ "id": id, "result": { "outcome": "not_found" } }),
        });
    }
    let requeued = outcomes.iter().filter(|o| o["result"]["outcome"] == "requeued").count();
    tracing::info!(queue = %queue, requeued, operator = auth.user_id, "dead letters requeued");
    Ok(response::ok(json!({ "requeued": requeued, "letters": outcomes })))
}

/// Deletes a queue's dead letters, in the broker and in the table.
#[post("/dead-letters/{queue}/purge")]
async fn purge(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let queue = queue_of(&path)?;
    drain(&state, &[queue]).await?;
    let purged = state.db(move |conn| dead_letters::purge(conn, queue)).await?;
    tracing::info!(queue = %queue, purged, operator = auth.user_id, "dead letters purged");
    Ok(response::ok(json!({ "purged": purged })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelKindInput {
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
/// stop at their next progress step.
#[post("/tasks/cancel")]
async fn cancel_kind(
    state: web::Data<AppState>,
    auth: AuthUser,
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
    Ok(response::ok(json!({ "kind": kind, "revoked": revoked.len(), "cancel_requested": flagged })))
}
