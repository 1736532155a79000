//! What every handler can reach: the store, the settings, the clock and the rate limiter.

use crate::clock::Clock;
use crate::config::ApiConfig;
use crate::ratelimit::RateLimiter;
use carebook_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ApiConfig>,
    pub clock: Arc<dyn Clock>,
    pub limiter: Arc<RateLimiter>,
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    pub fn new(
        store: Store,
        config: ApiConfig,
        clock: Arc<dyn Clock>,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let limiter = Arc::new(RateLimiter::new(config.auth_rate_per_minute));
        Self {
            store,
            config: Arc::new(config),
            clock,
            limiter,
            metrics,
        }
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}
