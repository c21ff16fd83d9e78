//! Builds the HTTP application. `Application::build` binds the listener first, so tests can
//! start the real app on port 0 and read the port back.

use std::{net::TcpListener, sync::Arc, time::Instant};

use actix_cors::Cors;
use actix_web::{
    App, Error, HttpServer,
    body::MessageBody,
    dev::{Server, ServiceRequest, ServiceResponse},
    http::{Method, header},
    middleware::{Compress, Next, NormalizePath, from_fn},
    web,
};
use anyhow::Context;
use shared::{
    Config,
    auth::JwtKeys,
    messaging::{Publisher, Relay, Topology},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    body::body_deadline,
    clock::{Clock, SystemClock},
    events::EventHub,
    extract::JSON_LIMIT,
    middleware::{RateLimiter, caching, rate_limit, security_headers, undeclared_method},
    request_metrics::{self, RequestMetricsStore},
    routes,
    state::AppState,
};

pub struct Application {
    port: u16,
    server: Server,
    background: CancellationToken,
}

impl Application {
    /// Connects to Postgres (applying migrations) and, if it can, to RabbitMQ — a broker that
    /// is down does not stop the API: commands wait in the outbox.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// `build` with the clock the rate limiter and the sign-in locks read (a test's
    /// `ManualClock`, say).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let pool = shared::db::migrated_pool(&config.database_url, config.database_pool_size)
            .await
            .context("connecting to Postgres and applying migrations")?;
        let publisher = Arc::new(Publisher::new(&config.amqp_url, "api", Topology::from_config(&config)));
        if let Err(error) = publisher.ensure_connected().await {
            tracing::warn!(%error, "broker unavailable at start; commands wait in the outbox");
        }
        let background = CancellationToken::new();
        let relay = Relay::spawn(pool.clone(), publisher.clone(), background.clone());
        let events = EventHub::spawn(&config, background.clone());
        let state = AppState {
            jwt: JwtKeys::new(config.jwt_secret_bytes()),
            limiter: Arc::new(RateLimiter::new(
                config.rate_limit_user_per_minute,
                config.rate_limit_anon_per_minute,
                config.rate_limit_auth_per_minute,
            )),
            media: shared::media::store_for(&config),
            metrics: crate::metrics::Metrics::new(),
            request_metrics: Arc::new(RequestMetricsStore::new(
                config.request_metrics_capacity,
                config.request_metrics_ttl,
            )),
            config: Arc::new(config.clone()),
            pool,
            relay,
            publisher,
            events,
            clock,
        };
        let listener =
            TcpListener::bind(config.api_addr).with_context(|| format!("binding {}", config.api_addr))?;
        let port = listener.local_addr()?.port();
        let origins = config.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(JSON_LIMIT))
                .wrap(from_fn(caching))
                .wrap(from_fn(undeclared_method))
                .wrap(from_fn(body_deadline))
                .wrap(from_fn(rate_limit))
                .wrap(from_fn(security_headers))
                .wrap(cors(&origins))
                .wrap(from_fn(request_log))
                .wrap(NormalizePath::trim())
                // Outermost: it compresses what every other layer wrote.
                .wrap(Compress::default())
                .configure(routes::configure)
        })
        // Every body read ends within its deadline, so a graceful stop need not wait long.
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        tracing::info!(port, "API listening");
        Ok(Self { port, server, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM (actix handles both gracefully), then stops the relay and
    /// event consumer.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let outcome = self.server.await;
        self.background.cancel();
        outcome
    }
}

fn cors(origins: &[String]) -> Cors {
    let cors = origins.iter().fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    cors.allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_NONE_MATCH, header::ACCEPT])
        .allowed_header("idempotency-key")
        .allowed_header("traceparent")
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .expose_headers(["x-trace-id", "x-request-id"])
        .expose_headers(["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
        .max_age(3600)
}

/// One span per request, counted in the metrics and answered with its `X-Request-Id` (and, when
/// request metrics are on, its resource use kept under that id: `crate::request_metrics`);
/// errors and slow requests logged at info, the rest at debug.
async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // The caller's trace continues here (W3C `traceparent`), or one starts.
    let trace_id = req
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(shared::telemetry::trace_id_of)
        .unwrap_or_else(shared::telemetry::new_trace_id);
    // Every answer names its request, whose resource use an operator can then look up.
    let request_id = Uuid::new_v4();
    let span = tracing::info_span!(
        "http", method = %req.method(), path = %req.path(), trace_id = %trace_id, request_id = %request_id
    );
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let measured = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.request_metrics.enabled())
        .then(request_metrics::Sample::start);
    let mut response =
        shared::telemetry::with_trace_id(trace_id.clone(), next.call(req).instrument(span.clone())).await?;
    if let Ok(value) = header::HeaderValue::from_str(&trace_id) {
        response.headers_mut().insert(header::HeaderName::from_static("x-trace-id"), value);
    }
    if let Ok(value) = header::HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(header::HeaderName::from_static("x-request-id"), value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let elapsed_ms = elapsed * 1_000.0;
    if let Some(state) = response.request().app_data::<web::Data<AppState>>() {
        let route = response.request().match_pattern();
        state.metrics.observe(route.as_deref(), &method, status, elapsed);
        if let Some(sample) = measured {
            let now = state.clock.now();
            let usage = sample.finish(request_id, method.as_str(), &path, status, now);
            state.request_metrics.insert(usage, now);
        }
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else if status >= 400 || elapsed_ms > 500.0 {
            tracing::info!(status, elapsed_ms, "request");
        } else {
            tracing::debug!(status, elapsed_ms, "request");
        }
    });
    Ok(response)
}
