//! What every handler reaches through `web::Data<AppState>`: the services, the session
//! machinery, the series cache and the mounted sandbox.

use std::sync::Arc;

use crate::auth::AuthState;
use crate::configuration::Settings;
use crate::crypto::TokenCipher;
use crate::db::SharedRepository;
use crate::services::Services;

pub struct AppState {
    pub repository: SharedRepository,
    pub auth: AuthState,
    /// Encrypts provider tokens at rest.
    pub cipher: Arc<TokenCipher>,
    /// Calls providers: no redirects, bounded time.
    pub http: reqwest::Client,
    /// Computed series, until their data changes.
    pub series_cache: crate::query::cache::SeriesCache,
    /// Uncached series under way, per user.
    pub computations: crate::query::limit::ComputationLimiter,
    /// The field names of each object, per data version (the group-by picker's `keys`).
    pub object_keys: quick_cache::sync::Cache<String, Arc<Vec<String>>>,
    /// Rows read from rollups, shared by the metrics that read the same rollup and window.
    pub rollup_reads: crate::query::reads::RollupReads,
    /// Each connection's rebuilt subscription histories, shared by its subscription metrics.
    pub subscription_histories: crate::query::histories::SubscriptionHistories,
    /// Every subscription metric of a window, swept at once for a dashboard's charts.
    pub subscription_sweeps: crate::query::sweeps::SubscriptionSweeps,
    /// Rollups of saved metrics being built by this process.
    pub rollup_builds: Arc<crate::query::rollup::RollupBuilds>,
    /// The built-in demo provider, when enabled (mounted at `/sandbox`).
    pub sandbox: Option<allmetrics_sandbox::Sandbox>,
    pub settings: Arc<Settings>,
    /// The public URL of this server (redirect URIs are built from it).
    pub base_url: Arc<str>,
    /// What the server measures of itself, served on the metrics port.
    pub metrics: Arc<crate::monitoring::Metrics>,
}

impl AppState {
    /// The parts the services behind the edge use.
    pub fn services(&self) -> Services {
        Services {
            repository: self.repository.clone(),
            http: self.http.clone(),
            cipher: self.cipher.clone(),
            settings: self.settings.clone(),
            base_url: self.base_url.clone(),
            metrics: self.metrics.clone(),
        }
    }
}
