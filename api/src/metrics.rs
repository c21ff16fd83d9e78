//! Prometheus metrics at `GET /metrics`, behind `METRICS_TOKEN` (a bearer token; without one
//! configured the endpoint does not exist). HTTP requests are counted in this process by
//! route pattern, method and status, with a latency histogram; everything else is read when
//! scraped, from where it is true for every process at once: tasks, attempts and durations by
//! kind from the tasks table, queue depths and consumers from the broker, the outbox backlog,
//! live workers from their heartbeats, this process's pool, and AI tokens and credits from
//! the usage log.

use std::fmt::Write as _;

use actix_web::{HttpRequest, HttpResponse, get, http::Method, web};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Double, Nullable, Text},
};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use shared::tasks::Queue;

use crate::{error::ApiError, state::AppState};

/// Upper bounds (seconds) of the task duration buckets.
const TASK_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];

/// This process's own counters.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("switchyard".to_owned()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route pattern, method and status."),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route pattern.")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["route", "method"],
        )
        .expect("valid metric");
        registry.register(Box::new(requests.clone())).expect("registered once");
        registry.register(Box::new(latency.clone())).expect("registered once");
        Self { registry, requests, latency }
    }

    /// Counts one answered request. Every label comes from a closed set, whatever the client
    /// sends: `route` is the matched pattern (`/api/v1/tasks/{id}`, or `unmatched`), never the
    /// raw path; the method is one of HTTP's own or `other`; the status is the answer's own.
    pub fn observe(&self, route: Option<&str>, method: &Method, status: u16, seconds: f64) {
        let route = route.unwrap_or("unmatched");
        let method = method_label(method);
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    fn encode(&self, out: &mut String) {
        let mut buffer = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut buffer).is_ok() {
            out.push_str(&String::from_utf8_lossy(&buffer));
        }
    }
}

/// The request method as a label: a client may send any token as a method.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::CONNECT, "CONNECT"),
    ];
    KNOWN.iter().find(|(known, _)| known == method).map_or("other", |(_, label)| label)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes families in Prometheus's text format.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP switchyard_{name} {help}\n# TYPE switchyard_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> =
            labels.iter().map(|(key, value)| format!("{key}=\"{}\"", escape(value))).collect();
        let _ = if labels.is_empty() {
            writeln!(self.0, "switchyard_{name} {value}")
        } else {
            writeln!(self.0, "switchyard_{name}{{{}}} {value}", labels.join(","))
        };
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[derive(QueryableByName)]
struct KindState {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    tasks: i64,
    #[diesel(sql_type = BigInt)]
    attempts: i64,
}

#[derive(QueryableByName)]
struct Durations {
    #[diesel(sql_type = Text)]
    kind: String,
    /// Cumulative counts per bucket of `TASK_BUCKETS`, then all.
    #[diesel(sql_type = diesel::sql_types::Array<BigInt>)]
    buckets: Vec<i64>,
    #[diesel(sql_type = Double)]
    total_seconds: f64,
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(QueryableByName)]
struct Usage {
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = BigInt)]
    tokens_input: i64,
    #[diesel(sql_type = BigInt)]
    tokens_output: i64,
    #[diesel(sql_type = BigInt)]
    credits: i64,
}

#[derive(QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = Nullable<Double>)]
    oldest_seconds: Option<f64>,
}

/// What the database knows, read in one go.
struct Stored {
    kinds: Vec<KindState>,
    durations: Vec<Durations>,
    backlog: Backlog,
    workers: Vec<Named>,
    usage: Vec<Usage>,
    dead_letters: Vec<Named>,
}

fn read_stored(conn: &mut diesel::PgConnection, stale_after: f64) -> shared::Result<Stored> {
    use diesel::RunQueryDsl;
    let bounds: Vec<String> =
        TASK_BUCKETS.iter().map(|bound| format!("count(*) FILTER (WHERE d <= {bound})")).collect();
    let kinds = diesel::sql_query(
        "SELECT kind, state, count(*) AS tasks, coalesce(sum(attempts), 0)::int8 AS attempts \
         FROM tasks GROUP BY kind, state",
    )
    .load(conn)?;
    let durations = diesel::sql_query(format!(
        "SELECT kind, ARRAY[{}, count(*)] AS buckets, coalesce(sum(d), 0)::float8 AS total_seconds FROM ( \
             SELECT kind, extract(epoch FROM finished_at - started_at)::float8 AS d FROM tasks \
             WHERE state = 'SUCCESS' AND started_at IS NOT NULL AND finished_at IS NOT NULL) finished \
         GROUP BY kind",
        bounds.join(", ")
    ))
    .load(conn)?;
    let backlog = diesel::sql_query(
        "SELECT count(*) AS rows, extract(epoch FROM now() - min(created_at))::float8 AS oldest_seconds FROM outbox",
    )
    .get_result(conn)?;
    let workers = diesel::sql_query(
        "SELECT kind AS name, count(*) AS value FROM worker_heartbeats \
         WHERE last_seen_at > now() - make_interval(secs => $1) GROUP BY kind",
    )
    .bind::<Double, _>(stale_after)
    .load(conn)?;
    let usage = diesel::sql_query(
        "SELECT operation_type AS operation, coalesce(sum(tokens_input), 0)::int8 AS tokens_input, \
                coalesce(sum(tokens_output), 0)::int8 AS tokens_output, \
                coalesce(sum(credits_used), 0)::int8 AS credits \
         FROM credit_usage_logs GROUP BY operation_type",
    )
    .load(conn)?;
    let dead_letters =
        diesel::sql_query("SELECT queue AS name, count(*) AS value FROM dead_letters GROUP BY queue")
            .load(conn)?;
    Ok(Stored { kinds, durations, backlog, workers, usage, dead_letters })
}

fn write_tasks(out: &mut Exposition, stored: &Stored) {
    out.family("tasks", "gauge", "Tasks by kind and state.");
    for row in &stored.kinds {
        out.sample("tasks", &[("kind", &row.kind), ("state", &row.state)], row.tasks as f64);
    }
    let mut kinds: Vec<&str> = stored.kinds.iter().map(|row| row.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let per_kind: Vec<(&str, i64, i64)> = kinds
        .into_iter()
        .map(|kind| {
            let rows = stored.kinds.iter().filter(|row| row.kind == kind);
            let (attempts, tasks) = rows.fold((0, 0), |(a, t), row| (a + row.attempts, t + row.tasks));
            (kind, attempts, tasks)
        })
        .collect();
    // A family's samples stand together under its HELP and TYPE lines.
    out.family("task_attempts_total", "counter", "Attempts made (started), by kind.");
    for (kind, attempts, _) in &per_kind {
        out.sample("task_attempts_total", &[("kind", kind)], *attempts as f64);
    }
    out.family("task_retries_total", "counter", "Attempts beyond each task's first, by kind.");
    for (kind, attempts, tasks) in &per_kind {
        out.sample("task_retries_total", &[("kind", kind)], (attempts - tasks).max(0) as f64);
    }
    out.family("task_duration_seconds", "histogram", "Run time of succeeded tasks (last attempt), by kind.");
    for row in &stored.durations {
        for (bound, count) in TASK_BUCKETS.iter().zip(&row.buckets) {
            out.sample(
                "task_duration_seconds_bucket",
                &[("kind", &row.kind), ("le", &bound.to_string())],
                *count as f64,
            );
        }
        let all = row.buckets.last().copied().unwrap_or(0) as f64;
        out.sample("task_duration_seconds_bucket", &[("kind", &row.kind), ("le", "+Inf")], all);
        out.sample("task_duration_seconds_sum", &[("kind", &row.kind)], row.total_seconds);
        out.sample("task_duration_seconds_count", &[("kind", &row.kind)], all);
    }
}

fn write_stored(out: &mut Exposition, stored: &Stored) {
    write_tasks(out, stored);
    out.family("outbox_backlog", "gauge", "Committed commands not yet published to the broker.");
    out.sample("outbox_backlog", &[], stored.backlog.rows as f64);
    out.family("outbox_oldest_seconds", "gauge", "Age of the oldest unpublished command.");
    out.sample("outbox_oldest_seconds", &[], stored.backlog.oldest_seconds.unwrap_or(0.0));
    out.family("workers_alive", "gauge", "Worker processes with a fresh heartbeat, by kind.");
    for row in &stored.workers {
        out.sample("workers_alive", &[("kind", &row.name)], row.value as f64);
    }
    out.family("dead_letters", "gauge", "Dead letters drained and kept for operators, by queue.");
    for row in &stored.dead_letters {
        out.sample("dead_letters", &[("queue", &row.name)], row.value as f64);
    }
    out.family("ai_tokens_total", "counter", "AI tokens used, by operation and direction.");
    for row in &stored.usage {
        out.sample(
            "ai_tokens_total",
            &[("operation", &row.operation), ("direction", "input")],
            row.tokens_input as f64,
        );
        out.sample(
            "ai_tokens_total",
            &[("operation", &row.operation), ("direction", "output")],
            row.tokens_output as f64,
        );
    }
    out.family("credits_spent_total", "counter", "Credits charged, by operation.");
    for row in &stored.usage {
        out.sample("credits_spent_total", &[("operation", &row.operation)], row.credits as f64);
    }
}

async fn write_queues(out: &mut Exposition, state: &AppState) {
    out.family("queue_messages", "gauge", "Messages ready in a queue (work or dead-letter).");
    let topology = state.publisher.topology();
    let queues: Vec<(Queue, &str, String)> = Queue::ALL
        .into_iter()
        .flat_map(|queue| {
            [(queue, "work", topology.work_queue(queue)), (queue, "dead", topology.dead_queue(queue))]
        })
        .collect();
    let names: Vec<String> = queues.iter().map(|(_, _, name)| name.clone()).collect();
    let stats = state.publisher.queue_stats(&names).await.unwrap_or_default();
    let mut consumers = Vec::new();
    for ((queue, role, _), stats) in queues.iter().zip(stats) {
        let Some(stats) = stats else { continue };
        out.sample("queue_messages", &[("queue", queue.as_str()), ("role", role)], f64::from(stats.messages));
        if *role == "work" {
            consumers.push((*queue, stats.consumers));
        }
    }
    out.family("queue_consumers", "gauge", "Consumers attached to a work queue.");
    for (queue, count) in consumers {
        out.sample("queue_consumers", &[("queue", queue.as_str())], f64::from(count));
    }
}

fn write_pool(out: &mut Exposition, state: &AppState) {
    let pool = state.pool.state();
    out.family("db_pool_connections", "gauge", "This process's database pool, by use.");
    out.sample("db_pool_connections", &[("use", "idle")], f64::from(pool.idle_connections));
    out.sample(
        "db_pool_connections",
        &[("use", "busy")],
        f64::from(pool.connections - pool.idle_connections),
    );
    out.sample("db_pool_connections", &[("use", "max")], f64::from(state.pool.max_size()));
}

/// The scrape: 404 when no token is configured, 401 without the right one.
#[utoipa::path(
    tag = "system",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format.", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "Missing or wrong metrics token.", body = crate::error::ErrorBody),
        (status = 404, description = "No `METRICS_TOKEN` configured.", body = crate::error::ErrorBody),
    ),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::NotFound { what: "page" });
    };
    let presented = crate::extract::bearer_token(&req).unwrap_or_default();
    if !shared::crypto::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthorized("invalid_metrics_token", "A valid metrics token is required."));
    }
    let stale_after = state.config.heartbeat_interval.as_secs_f64() * 3.0;
    let stored = state.db(move |conn| read_stored(conn, stale_after)).await?;
    let mut out = Exposition(String::with_capacity(16 * 1024));
    state.metrics.encode(&mut out.0);
    write_stored(&mut out, &stored);
    write_queues(&mut out, &state).await;
    write_pool(&mut out, &state);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out.0))
}
