//! `/api/v1/system/`: health, the diagnostic ping command and the seed's task-progress view.

use std::{collections::BTreeMap, time::Duration};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Double, Text},
};
use serde_json::json;
use shared::{
    auth::Role,
    tasks::{NewTask, Queue, ping::PingPayload},
};
use uuid::Uuid;

use super::{commands, tasks};
use crate::{
    error::{ApiError, FieldErrors},
    extract::{ApiJson, AuthUser, PathId, Validate},
    state::AppState,
    validation,
};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.map(|cfg| cfg.service(status).service(ping).service(task_progress));
}

#[derive(QueryableByName)]
struct LiveWorkers {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    processes: i64,
}

/// No authentication: database, broker, live worker processes per kind (from heartbeats) and
/// the version. 503 when Postgres or RabbitMQ is unreachable.
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
    let mut workers: BTreeMap<&str, i64> = Queue::ALL.iter().map(|queue| (queue.as_str(), 0)).collect();
    for row in &live {
        if let Some(count) = workers.get_mut(row.kind.as_str()) {
            *count = row.processes;
        }
    }
    let schedulers = live.iter().find(|row| row.kind == "scheduler").map_or(0, |row| row.processes);
    let healthy = database_up && broker_up;
    let body = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "database": if database_up { "connected" } else { "unreachable" },
        "broker": if broker_up { "connected" } else { "unreachable" },
        "workers": workers,
        "schedulers": schedulers,
        "version": shared::VERSION,
    });
    if healthy { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

impl Validate for PingPayload {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, problem) in self.problems() {
            validation::push(&mut errors, field, problem);
        }
        validation::finish(errors)
    }
}

/// Enqueues a diagnostic `system.ping` on the chosen worker queue.
#[post("/ping")]
async fn ping(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: ApiJson<PingPayload>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    commands::enqueue(&state, &auth, &req, NewTask::ping(auth.account_id, &body)).await
}

#[get("/settings/task_progress/{id}")]
async fn task_progress(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::load(&state, auth.account_id, id.0).await?;
    Ok(tasks::conditional(&req, &task, tasks::progress_shape))
}
