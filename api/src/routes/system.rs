//! `/api/v1/system/`: health, the diagnostic ping command and the seed's task-progress view.

use std::{collections::BTreeMap, time::Duration};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Double, Text},
};
use serde::Serialize;
use shared::tasks::{Ping, Queue, ping::PingPayload};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{commands, tasks};
use crate::{
    error::{ApiError, ErrorBody},
    extract::{ApiJson, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::Accepted,
    state::AppState,
};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(status).service(ping).service(task_progress);
}

#[derive(QueryableByName)]
struct LiveWorkers {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    processes: i64,
}

/// `healthy` when the database and the broker are both reachable.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum SystemHealth {
    Healthy,
    Unhealthy,
}

/// Whether a dependency answered its probe.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Reachability {
    Connected,
    Unreachable,
}

/// The service's health.
#[derive(Serialize, ToSchema)]
struct SystemStatus {
    status: SystemHealth,
    database: Reachability,
    broker: Reachability,
    /// Live worker processes per queue (from heartbeats).
    workers: BTreeMap<String, i64>,
    /// Live scheduler processes.
    schedulers: i64,
    version: &'static str,
}

/// No authentication: database, broker, live worker processes per kind (from heartbeats) and
/// the version. 503 when Postgres or RabbitMQ is unreachable.
#[utoipa::path(
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "Healthy.", body = SystemStatus),
        (status = 503, description = "The database or the broker is unreachable.", body = SystemStatus),
    ),
)]
#[get("/status")]
async fn status(state: web::Data<AppState>) -> HttpResponse {
    let stale_after = state.config.heartbeat_interval.as_secs_f64() * 3.0;
    let database = tokio::time::timeout(
        PROBE_TIMEOUT,
        shared::db::run(&state.pool, move |conn| {
            Ok(diesel::sql_query(
                "SELECT kind, count(*) AS processes FROM worker_heartbeats \
                 WHERE last_seen_at > now() - make_interval(secs => $1) GROUP BY kind",
            )
            .bind::<Double, _>(stale_after)
            .load::<LiveWorkers>(conn)?)
        }),
    )
    .await;
    let broker_up = tokio::time::timeout(PROBE_TIMEOUT, state.publisher.check()).await.unwrap_or(false);
    let (database_up, live) = match database {
        Ok(Ok(rows)) => (true, rows),
        _ => (false, Vec::new()),
    };
    let mut workers: BTreeMap<String, i64> =
        Queue::ALL.iter().map(|queue| (queue.as_str().to_owned(), 0)).collect();
    for row in &live {
        if let Some(count) = workers.get_mut(row.kind.as_str()) {
            *count = row.processes;
        }
    }
    let schedulers = live.iter().find(|row| row.kind == "scheduler").map_or(0, |row| row.processes);
    let healthy = database_up && broker_up;
    let reachability = |up: bool| if up { Reachability::Connected } else { Reachability::Unreachable };
    let body = SystemStatus {
        status: if healthy { SystemHealth::Healthy } else { SystemHealth::Unhealthy },
        database: reachability(database_up),
        broker: reachability(broker_up),
        workers,
        schedulers,
        version: shared::VERSION,
    };
    if healthy { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Checked by the kind's own rules when the task is made.
impl Validate for PingPayload {}

/// Enqueues a diagnostic `system.ping` on the chosen worker queue.
#[utoipa::path(
    tag = "system",
    params(IdempotencyKey),
    request_body = PingPayload,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/ping")]
async fn ping(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<PingPayload>,
) -> Result<HttpResponse, ApiError> {
    let task = commands::task_of::<Ping>(&state, auth.account_id, &body.0)?;
    commands::enqueue(&state, &auth, &req, task).await
}

/// A task's progress in the seed's shape: `{"state", "meta": {"phase", "percentage",
/// "message", "attempts", "kind", "result"?, "error"?}}`. Send the `ETag` back as
/// `If-None-Match` to get 304 while nothing changed.
#[utoipa::path(
    tag = "system",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses(
        (status = 200, body = tasks::TaskProgress, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
    ),
)]
#[get("/settings/task_progress/{id}")]
async fn task_progress(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::load(&state, auth.account_id, id.0).await?;
    Ok(tasks::conditional(&req, &task, tasks::TaskProgress::from(&task)))
}
