//! The one enqueue path of every command endpoint: domain writes, the task row and its
//! outbox row commit together; the relay publishes after commit; the caller gets 202.

use actix_web::{HttpRequest, HttpResponse};
use diesel::{Connection, PgConnection};
use shared::tasks::{Enqueued, NewTask};

use crate::{
    error::ApiError,
    extract::{AuthUser, idempotency_key},
    response,
    state::AppState,
};

/// Enqueues `task` on behalf of the caller, honouring `Idempotency-Key`.
pub async fn enqueue(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    task: NewTask,
) -> Result<HttpResponse, ApiError> {
    enqueue_with(state, auth, req, move |_| Ok(task)).await
}

/// Like [`enqueue`], with `prepare` running first in the same transaction (domain writes that
/// must commit with the command, such as marking rows as queued).
pub async fn enqueue_with<F>(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    prepare: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut PgConnection) -> shared::Result<NewTask> + Send + 'static,
{
    let key = idempotency_key(req)?;
    let (account_id, user_id) = (auth.account_id, auth.user_id);
    let enqueued: Enqueued = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let mut task = prepare(conn)?;
                task.account_id = account_id;
                task.created_by = Some(user_id);
                task.idempotency_key = key;
                shared::tasks::enqueue(conn, task)
            })
        })
        .await?;
    Ok(answer(state, enqueued))
}

/// Hands the committed outbox row to the relay and answers 202.
fn answer(state: &AppState, enqueued: Enqueued) -> HttpResponse {
    if let Some(outbox_id) = enqueued.outbox_id {
        state.relay.notify([outbox_id]);
    }
    if !enqueued.created {
        tracing::info!(task_id = %enqueued.task.id, "idempotent replay; returning the existing task");
    }
    response::accepted(&enqueued.task)
}
