use super::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DashboardId(pub i64);

/// What a metric computes: the seed's query parameters (validated before they are stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDefinition {
    pub name: String,
    /// The data source's slug.
    pub source: String,
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

impl Metric {
    pub fn to_response(&self) -> allmetrics_common::Metric {
        let definition = &self.definition;
        allmetrics_common::Metric {
            id: self.id.0,
            name: definition.name.clone(),
            source: definition.source.clone(),
            object_name: definition.object_name.clone(),
            operator: definition.operator.clone(),
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
