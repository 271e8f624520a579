//! What the services behind the HTTP edge share: the store, the HTTP client that calls
//! providers, the token cipher and the settings. Connect, token upkeep, sync and the CLI take
//! this (or the part of it they use), never the HTTP layer's state.

use std::sync::Arc;

use crate::configuration::Settings;
use crate::crypto::TokenCipher;
use crate::db::SharedRepository;
use crate::domain::DataSource;
use crate::providers::{registry, ResolvedProvider};

/// Cheap to clone: every part is shared.
#[derive(Clone)]
pub struct Services {
    pub repository: SharedRepository,
    /// Calls providers: no redirects, bounded time.
    pub http: reqwest::Client,
    /// Encrypts provider tokens at rest.
    pub cipher: Arc<TokenCipher>,
    pub settings: Arc<Settings>,
    /// The public URL of this server (redirect URIs and the sandbox are under it).
    pub base_url: Arc<str>,
    /// What the server measures of itself (the sync engine's requests and objects).
    pub metrics: Arc<crate::monitoring::Metrics>,
}

impl Services {
    /// The provider of `source` with this server's configuration applied.
    pub fn resolve(&self, source: &DataSource) -> Option<ResolvedProvider> {
        registry::resolve(&self.settings, &self.base_url, source)
    }
}
