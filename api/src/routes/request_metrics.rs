//! `GET /api/v1/system/request-metrics/{request_id}/`: what one recent request cost this API
//! process (operators only); the id is the request's `X-Request-Id`. See
//! [`crate::request_metrics`] for what each figure means and how long they are kept.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::admin::require_operator;
use crate::{
    error::{ApiError, ErrorBody},
    extract::Admin,
    request_metrics::RequestMetrics,
    response::{self, Flat},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_metrics);
}

/// The CPU, memory and I/O figures of a request this API process served lately (operators
/// only), at the top level as IGNY8 shows them and under `data`. 404 when this process never
/// served the id, or no longer keeps it (`REQUEST_METRICS_MAX_ENTRIES`,
/// `REQUEST_METRICS_TTL_MINUTES`).
#[utoipa::path(
    tag = "system",
    params(("request_id" = Uuid, Path, description = "The request's `X-Request-Id`.")),
    responses(
        (status = 200, body = Flat<RequestMetrics>),
        (status = 403, description = "Owners and admins of a system account only.", body = ErrorBody),
    ),
)]
#[get("/request-metrics/{request_id}")]
async fn request_metrics(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let id: Uuid = path
        .parse()
        .map_err(|_| ApiError::field("request_id", "Must be a request id (a UUID) from `X-Request-Id`."))?;
    let metrics =
        state.request_metrics.get(id, state.clock.now()).ok_or(ApiError::NotFound { what: "request" })?;
    Ok(response::flat(metrics))
}
