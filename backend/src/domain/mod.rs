//! Domain types: what the repository stores and the routes speak about.

pub mod api_token;
pub mod connection;
pub mod fx;
pub mod metric;
pub mod session;
pub mod source;
pub mod sync;
pub mod user;

pub use api_token::{ApiToken, ApiTokenId, ApiTokenOwner, ApiTokenScope, NewApiToken};
pub use connection::{
    AuthKind, Connection, ConnectionId, ConnectionStatus, ConnectionTokens, NewConnection,
    OAuthState, ProviderAccount,
};
pub use fx::{DailyRate, RatesSummary, RatesVersion, StoredRates};
pub use metric::{
    Dashboard, DashboardId, DashboardPatch, Metric, MetricDefinition, MetricId, OBJECTS_KIND,
};
pub use session::{NewRefreshToken, RefreshTokenRecord};
pub use source::{
    DataSource, DataSourceId, DataSourcePatch, DeleteOutcome, NewDataSource, RoutingSource,
    RoutingSourcePatch,
};
pub use sync::{
    BackfillWindow, BackfillWindowId, FeedPosition, ObjectChange, PageCheckpoint, ReadMode,
    RevisedObject, RunOutcome, RunProgress, RunRead, StoredObject, StoredPage, SyncJob, SyncJobId,
};
pub use user::{NewUser, Role, User, UserCredentials, UserId};
