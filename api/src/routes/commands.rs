//! The one enqueue path of every command endpoint: the task row and its outbox row commit
//! together (an endpoint with domain writes calls `shared::tasks::enqueue` inside its own
//! transaction), the relay publishes after commit, and the caller gets 202.

use actix_web::{HttpRequest, HttpResponse};
use shared::tasks::{Enqueued, NewTask, Payload, TaskKind};

use crate::{
    error::ApiError,
    extract::{AuthUser, idempotency_key},
    response,
    state::AppState,
};

/// The task of kind `K` for a payload the caller sent: 400 naming each field that breaks the
/// kind's rules (the ones its worker checks again).
pub fn task_of<K: TaskKind>(
    state: &AppState,
    account_id: i64,
    payload: &K::Payload,
) -> Result<NewTask, ApiError> {
    payload.problems(&state.config.ai.outbound).or_ok(())?;
    Ok(NewTask::of::<K>(account_id, payload))
}

/// Enqueues `task` on behalf of the caller, honouring `Idempotency-Key`. The enqueue is a
/// single atomic statement, so no explicit transaction is needed.
pub async fn enqueue(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    mut task: NewTask,
) -> Result<HttpResponse, ApiError> {
    stamp(&mut task, auth, req)?;
    let enqueued = state.db(move |conn| shared::tasks::enqueue(conn, task)).await?;
    Ok(answer(state, enqueued))
}

/// Enqueues kind `K` for `payload` on behalf of the caller, charging `units` of the kind's
/// credit operation: 400 naming the fields the kind refuses, 402 when the account cannot pay
/// now — unless the request repeats an accepted one (its `Idempotency-Key`), which answers
/// that task again whatever the balance is since.
pub async fn enqueue_paid<K: TaskKind>(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    payload: &K::Payload,
    units: u64,
) -> Result<HttpResponse, ApiError> {
    // A kind without a credit operation does not compile into a paid command.
    let operation = const {
        match K::OPERATION {
            Some(operation) => operation,
            None => panic!("enqueue_paid needs a task kind with a credit operation"),
        }
    };
    let credits = operation.cost(units);
    let mut task = task_of::<K>(state, auth.account_id, payload)?;
    stamp(&mut task, auth, req)?;
    let enqueued = state
        .db(move |conn| {
            let repeat = match &task.idempotency_key {
                Some(key) => shared::tasks::find_by_idempotency_key(conn, task.account_id, key)?.is_some(),
                None => false,
            };
            if !repeat {
                shared::billing::ensure_affordable(conn, task.account_id, credits)?;
                let account = shared::ids::AccountId(task.account_id);
                shared::plans::ensure_room(conn, account, shared::plans::Limited::AiRequests, 1)?;
            }
            shared::tasks::enqueue(conn, task)
        })
        .await?;
    Ok(answer(state, enqueued))
}

/// The caller's account, user and `Idempotency-Key` on the task.
fn stamp(task: &mut NewTask, auth: &AuthUser, req: &HttpRequest) -> Result<(), ApiError> {
    task.account_id = auth.account_id;
    task.created_by = Some(auth.user_id);
    task.idempotency_key = idempotency_key(req)?;
    Ok(())
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
