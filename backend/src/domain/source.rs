use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataSourceId(pub i64);

/// A data source users can connect (the seed's DataSource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    pub id: DataSourceId,
    pub slug: String,
    pub name: String,
    /// The provider implementation, a key of the registry.
    pub provider: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewDataSource {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DataSourcePatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

/// An object a data source offers to metrics (the seed's RoutingSource), e.g. Stripe's `Charge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingSource {
    pub data_source_id: DataSourceId,
    pub object_name: String,
    pub label: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RoutingSourcePatch {
    pub label: Option<String>,
    pub enabled: Option<bool>,
}

/// What deleting a data source found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Users are connected to it; nothing was deleted.
    InUse {
        connections: i64,
    },
}
