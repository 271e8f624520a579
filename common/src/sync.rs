use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /api/v1/connections/{slug}/sync`: what the sync has stored so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncStatus {
    /// `backfilling` (history still being read), `idle`, `needs_reconnect`, or `not_synced`.
    pub state: String,
    /// Progress per object name.
    pub objects: BTreeMap<String, ObjectSyncStatus>,
    /// RFC 3339.
    pub last_synced_at: Option<String>,
    /// The first error of any object, in words.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectSyncStatus {
    /// Objects stored.
    pub synced: i64,
    /// Whether the whole history has been read.
    pub done: bool,
    pub last_error: Option<String>,
    pub last_synced_at: Option<String>,
    /// How the last complete run read: `backfill`, `events` (the provider's change feed),
    /// `webhook` (only changes webhooks delivered), `full_reread` or `recent_window` (objects
    /// without a change feed re-read what was created lately).
    #[serde(default)]
    pub read_mode: Option<String>,
    /// Requests the last complete run made to the provider, retries included.
    #[serde(default)]
    pub requests: Option<i64>,
    /// What to know about how this object is kept up to date (why everything was read again,
    /// why the change feed is not used).
    #[serde(default)]
    pub note: Option<String>,
}

/// `GET|PUT /api/v1/connections/{slug}/webhook`: where Stripe delivers this connection's
/// events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointResponse {
    /// The endpoint to give Stripe (`/webhooks/stripe/{id}` on this server).
    pub url: String,
    /// Whether the endpoint's signing secret is known (deliveries are refused until it is).
    pub secret_set: bool,
    /// Whether allmetrics created the endpoint at Stripe itself.
    pub created_at_provider: bool,
}

/// `PUT /api/v1/connections/{slug}/webhook`: the signing secret Stripe shows for the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSecretRequest {
    /// `whsec_...`; two, comma-separated, while Stripe rolls it.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "whsec_0123456789abcdef0123456789abcdef")
    )]
    pub secret: String,
}

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookReceipt {
    pub received: bool,
    /// Connections whose sync applies it (0: an object not kept, or delivered before).
    pub queued: u32,
}
