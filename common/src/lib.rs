//! Types shared by the allmetrics API (`backend`) and its web app (`frontend`).
//!
//! Everything here is plain serde data so that it builds for wasm32. The backend enables the
//! `openapi` feature to derive the OpenAPI schemas from the very same types it serves.

pub mod auth;
pub mod error;
pub mod fx;
pub mod health;
pub mod metrics;
pub mod sources;
pub mod subscription_settings;
pub mod sync;
pub mod tokens;

pub use auth::{
    CreateUserRequest, Credentials, RefreshRequest, RegisterRequest, Role, TokenResponse,
    UserResponse,
};
pub use error::ErrorBody;
pub use fx::FxRatesSummary;
pub use health::{HealthStatus, ReadinessStatus};
pub use metrics::{
    CreateDashboardRequest, CreateMetricRequest, Dashboard, Metric, Series, SeriesMeta,
    UpdateDashboardRequest, UpdateMetricRequest, SUBSCRIPTION_KINDS,
};
pub use sources::{
    AccountResponse, AdminSourceResponse, ApiKeyRequest, AuthorizeUrlResponse,
    ChooseAccountRequest, ConnectionResponse, CreateObjectRequest, CreateSourceRequest,
    ObjectResponse, SourceResponse, UpdateConnectionRequest, UpdateObjectRequest,
    UpdateSourceRequest,
};
pub use subscription_settings::{
    ChurnAt, SubscriptionSettings, SubscriptionSettingsChange, MAX_CHURN_WINDOW_DAYS,
};
pub use sync::{
    ObjectSyncStatus, SyncStatus, WebhookEndpointResponse, WebhookReceipt, WebhookSecretRequest,
};
pub use tokens::{ApiTokenResponse, ApiTokenScope, CreateApiTokenRequest, CreatedApiTokenResponse};
