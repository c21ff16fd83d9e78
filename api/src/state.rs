//! What every handler can reach: the pool, configuration, JWT keys, the outbox relay, the
//! broker publisher (for the status probe), the live event hub, the media store and the clock
//! the throttles read, and the recent requests' resource use.

use std::sync::Arc;

use shared::{
    Config,
    auth::JwtKeys,
    db::PgPool,
    media::MediaStore,
    messaging::{Publisher, RelayHandle},
};

use crate::{clock::Clock, events::EventHub, middleware::RateLimiter};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    pub relay: RelayHandle,
    pub publisher: Arc<Publisher>,
    pub events: EventHub,
    pub limiter: Arc<RateLimiter>,
    pub media: Arc<dyn MediaStore>,
    pub metrics: crate::metrics::Metrics,
    /// Each recent request's resource use, by its `X-Request-Id` (this process only).
    pub request_metrics: Arc<crate::request_metrics::RequestMetricsStore>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Runs a blocking diesel closure on the pool and maps its error for HTTP.
    pub async fn db<T, F>(&self, work: F) -> Result<T, crate::error::ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut diesel::PgConnection) -> shared::Result<T> + Send + 'static,
    {
        Ok(shared::db::run(&self.pool, work).await?)
    }
}
