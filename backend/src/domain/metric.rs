use super::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DashboardId(pub i64);

/// The kind of the seed's metrics: counts and sums of stored objects.
pub const OBJECTS_KIND: &str = "objects";

/// What a metric computes: the seed's query parameters (validated before they are stored), or a
/// subscription metric (`kind` other than `objects`; `object_name` and `operator` are empty,
/// `field_name` is empty, `currency` or `plan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDefinition {
    pub name: String,
    /// The data source's slug.
    pub source: String,
    pub kind: String,
    pub object_name: String,
    pub operator: String,
    pub field_name: String,
    pub value_field: Option<String>,
    pub date_field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    pub id: MetricId,
    pub user_id: UserId,
    pub definition: MetricDefinition,
}

impl MetricDefinition {
    /// A subscription metric: computed from the subscriptions' histories, grouped by
    /// `field_name` (empty, `currency` or `plan`); nothing of an objects query.
    pub fn subscription(
        name: &str,
        source: &str,
        kind: allmetrics_subscriptions::MetricKind,
        field_name: &str,
    ) -> Self {
        MetricDefinition {
            name: name.to_string(),
            source: source.to_string(),
            kind: kind.as_str().to_string(),
            object_name: String::new(),
            operator: String::new(),
            field_name: field_name.to_string(),
            value_field: None,
            date_field: "created".to_string(),
        }
    }

    /// The subscription metric this is, if it is one.
    pub fn subscription_kind(&self) -> Option<allmetrics_subscriptions::MetricKind> {
        self.kind.parse().ok()
    }
}

impl Metric {
    pub fn to_response(&self) -> allmetrics_common::Metric {
        let definition = &self.definition;
        let of_objects = definition.kind == OBJECTS_KIND;
        allmetrics_common::Metric {
            id: self.id.0,
            name: definition.name.clone(),
            source: definition.source.clone(),
            kind: definition.kind.clone(),
            object_name: of_objects.then(|| definition.object_name.clone()),
            operator: of_objects.then(|| definition.operator.clone()),
            field_name: definition.field_name.clone(),
            value_field: definition.value_field.clone(),
            date_field: definition.date_field.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub id: DashboardId,
    pub user_id: UserId,
    pub name: String,
    /// In display order.
    pub metric_ids: Vec<MetricId>,
    pub default_total_days: u32,
    pub is_home: bool,
}

impl Dashboard {
    pub fn to_response(&self) -> allmetrics_common::Dashboard {
        allmetrics_common::Dashboard {
            id: self.id.0,
            name: self.name.clone(),
            metric_ids: self.metric_ids.iter().map(|id| id.0).collect(),
            default_total_days: self.default_total_days,
            is_home: self.is_home,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DashboardPatch {
    pub name: Option<String>,
    pub metric_ids: Option<Vec<MetricId>>,
    pub default_total_days: Option<u32>,
}
