pub mod cache;
pub mod engine;
pub mod histories;
pub mod limit;
pub mod params;
pub mod reads;
pub mod rollup;
pub mod subscriptions;
pub mod sweeps;
pub mod tally;
pub mod window;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::providers::{ObjectSchema, Ratio, ReportSpec};
use crate::state::AppState;

/// What a series is of, before the window: the seed's query parameters.
#[derive(Debug, Clone, Default)]
pub struct SeriesQuery<'a> {
    pub object_name: Option<&'a str>,
    pub operator: Option<&'a str>,
    pub field_name: Option<&'a str>,
    pub value_field: Option<&'a str>,
    pub date_field: Option<&'a str>,
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// A query whose every parameter is valid, for an enabled object of an enabled source.
#[derive(Debug, Clone)]
pub struct ValidQuery {
    pub source: crate::domain::DataSource,
    pub object_name: String,
    /// How the provider's records of this object are charted.
    pub schema: ObjectSchema,
    pub operator: params::Operator,
    pub group: Vec<String>,
    pub value: Option<Vec<String>>,
    pub date: Option<Vec<String>>,
    /// A ratio of two additive fields (`value` names it): each cell is the sum of the first over
    /// the sum of the second.
    pub ratio: Option<Ratio>,
}

impl ValidQuery {
    /// The normalized parameters, as a metric stores them.
    pub fn definition(&self, name: &str) -> crate::domain::MetricDefinition {
        crate::domain::MetricDefinition {
            name: name.to_string(),
            source: self.source.slug.clone(),
            kind: crate::domain::OBJECTS_KIND.to_string(),
            object_name: self.object_name.clone(),
            operator: self.operator.as_str().to_string(),
            field_name: self.group.join("."),
            value_field: self.value.as_ref().map(|path| path.join(".")),
            date_field: self
                .date
                .as_ref()
                .map_or_else(|| "created".to_string(), |path| path.join(".")),
        }
    }
}

/// Checks every parameter (400 with its own code for each mistake) before anything runs.
pub async fn validate(
    state: &AppState,
    slug: &str,
    query: SeriesQuery<'_>,
) -> Result<ValidQuery, ApiError> {
    let (source, provider) = crate::lookup::enabled_source(state, slug).await?;
    let object_name = present(query.object_name).ok_or_else(|| {
        ApiError::bad_request(
            "object_name_required",
            "Say which object: `object_name=Charge`.",
        )
    })?;
    let enabled = state
        .repository
        .list_routing_sources(source.id, false)
        .await?
        .into_iter()
        .any(|object| object.object_name == object_name);
    if !enabled {
        return Err(ApiError::bad_request(
            "unknown_object",
            format!("`{object_name}` is not an object {} offers.", source.name),
        ));
    }
    let operator = params::Operator::parse(present(query.operator).unwrap_or("count"))?;
    let group = params::parse_path(present(query.field_name).unwrap_or("object"), "field_name")?;
    let value = match present(query.value_field) {
        Some(field) => Some(params::parse_path(field, "value_field")?),
        None if operator.needs_value() => {
            return Err(ApiError::bad_request(
                "value_field_required",
                format!("{} needs `value_field`, e.g. `amount`.", operator.as_str()),
            ))
        }
        None => None,
    };
    let date = match present(query.date_field) {
        None | Some("created") => None,
        Some(field) => Some(params::parse_path(field, "date_field")?),
    };
    let schema = provider.provider.object_schema(object_name);
    // A report row's own date is its `created`: naming it is the default, not another field.
    let date = match (schema, date) {
        (ObjectSchema::Report(_), Some(path)) if path == ["date"] => None,
        (_, date) => date,
    };
    let mut ratio = None;
    if let ObjectSchema::Report(report) = schema {
        check_additive(report, operator, &group, value.as_deref(), date.is_some())?;
        ratio = ratio_of(report, operator, value.as_deref())?;
    }
    Ok(ValidQuery {
        object_name: object_name.to_string(),
        ratio,
        schema,
        source,
        operator,
        group,
        value,
        date,
    })
}

/// The additive rule of report sources: a value that counts unique users is not the sum of its
/// groups. Its day total comes from the source's own totals report, and a group only from the
/// report at exactly that grouping; any other way of adding it up is refused.
fn check_additive(
    report: &ReportSpec,
    operator: params::Operator,
    group: &[String],
    value: Option<&[String]>,
    dated_elsewhere: bool,
) -> Result<(), ApiError> {
    let Some([field]) = value else {
        return Ok(());
    };
    if !report.non_additive.contains(&field.as_str())
        || matches!(
            operator,
            params::Operator::Count | params::Operator::CountDistinct
        )
    {
        return Ok(());
    }
    let exact_group = match group {
        [only] if only == "object" => report.dimensions.is_empty(),
        [only] => report.dimensions == [only.as_str()],
        _ => false,
    };
    if exact_group && !dated_elsewhere {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "non_additive",
        format!(
            "`{field}` counts unique users: it cannot be added up across {}. Group it by exactly \
             the dimension of its report ({}), or chart it from the totals report `{}`.",
            if dated_elsewhere {
                "another date field".to_string()
            } else {
                format!("`{}`", group.join("."))
            },
            if report.dimensions.is_empty() {
                "none: `field_name=object`".to_string()
            } else {
                report.dimensions.join(", ")
            },
            report.totals_object,
        ),
    ))
}

/// A ratio field (a rate, an average per session) is charted as the ratio of its parts' sums,
/// with `operator=average`; summing or bounding it would mislead, so those are refused.
fn ratio_of(
    report: &ReportSpec,
    operator: params::Operator,
    value: Option<&[String]>,
) -> Result<Option<Ratio>, ApiError> {
    let Some([field]) = value else {
        return Ok(None);
    };
    let Some(ratio) = report.ratios.iter().find(|ratio| ratio.name == field) else {
        return Ok(None);
    };
    match operator {
        params::Operator::Average => Ok(Some(*ratio)),
        params::Operator::Count | params::Operator::CountDistinct => Ok(None),
        other => Err(ApiError::bad_request(
            "ratio_needs_average",
            format!(
                "`{field}` is a ratio ({} over {}): chart it with `operator=average`, which \
                 divides their sums; {} of a ratio means nothing.",
                ratio.numerator,
                ratio.denominator,
                other.as_str()
            ),
        )),
    }
}

/// Who asks for a series: a saved metric reads its rollup; an ad-hoc query reads the objects
/// and is refused what would scan too many of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    AdHoc,
    SavedMetric,
}

/// A series, and whether the cache answered it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub series: allmetrics_common::Series,
    pub cached: bool,
    /// What a computed series was read from (`None` from the cache).
    pub read: Option<ComputedFrom>,
}

/// What a computed series was read from, for its `X-Computed-From` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputedFrom {
    /// The stored objects.
    Objects,
    /// A saved metric's pre-aggregated cells.
    Rollup,
    /// The subscriptions' histories (subscription metrics).
    Subscriptions,
}

/// The cache's key of a query: its parameters as given (trimmed: the same parameters always
/// validate the same way for the same provider), its window, and the version of the data.
fn cache_key(
    query: &SeriesQuery<'_>,
    window: &window::Window,
    groups: usize,
    version: &crate::db::versions::SeriesVersion,
) -> String {
    format!(
        "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}|{:?}",
        version.connection.0,
        version.provider,
        version.account,
        present(query.object_name),
        present(query.operator),
        present(query.field_name),
        present(query.value_field),
        present(query.date_field),
        window.start,
        window.end,
        window.tz.name(),
        window.interval.as_str(),
        groups,
        version.job.as_ref().map(|job| (job.id.0, job.data_version)),
    )
}

/// The caller's series of `slug`: from the cache while the data under it is unchanged, computed
/// from the local store otherwise. `version` is the data's version, read (in one statement)
/// before anything is computed, so that a series is never kept under a version newer than the
/// data it was computed from; `None` (no such source, object or connection) leaves validation to
/// say what is wrong.
pub async fn series(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
    query: SeriesQuery<'_>,
    (window, groups): (window::Window, usize),
    version: Option<crate::db::versions::SeriesVersion>,
    purpose: Purpose,
) -> Result<Answer, ApiError> {
    // Saved metrics and ad-hoc queries read different things (rollups, objects): each keeps its
    // own answers.
    let key = version.as_ref().map(|version| {
        format!(
            "{purpose:?}|{}",
            cache_key(&query, &window, groups, version)
        )
    });
    if let (Some(key), Some(version)) = (&key, &version) {
        if let Some(cached) = state.series_cache.get(key) {
            return Ok(Answer {
                series: cached.as_of(version.job.as_ref()),
                cached: true,
                read: None,
            });
        }
    }
    let query = validate(state, slug, query).await?;
    let connection = state
        .repository
        .connection(user.id, query.source.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "not_connected",
                format!("Connect {} first.", query.source.name),
            )
        })?;
    let rollup = match purpose {
        Purpose::SavedMetric => {
            // The widest buckets the window's days fall on.
            let bucket_seconds =
                crate::db::rollups::bucket_seconds_of(window.start, window.end, &window.offsets);
            let definition = query.definition("");
            rollup::prepare(
                state,
                &connection,
                (query.schema, &definition),
                bucket_seconds,
            )
            .await?
        }
        Purpose::AdHoc => {
            // Another date field than `created` has no index: every object is read.
            let limit = state.settings.query.ad_hoc_date_field_limit;
            if query.date.is_some() && matches!(query.schema, ObjectSchema::Records) {
                let stored = state
                    .repository
                    .count_objects(connection.id, &query.object_name, limit.saturating_add(1))
                    .await?;
                if stored > limit {
                    return Err(ApiError::bad_request(
                        "date_field_unindexed",
                        format!(
                            "{} has more than {limit} records: cutting days on \
                             another field than `created` reads them all. Save this query as a \
                             metric: saved metrics keep it pre-aggregated.",
                            query.object_name
                        ),
                    ));
                }
            }
            None
        }
    };
    let preparing = rollup.as_ref().is_some_and(|rollup| !rollup.ready);
    // Reading the objects is what costs: a built rollup is read in a few milliseconds, so a
    // dashboard's charts are not held back by the limit.
    let _computing = match &rollup {
        Some(rollup) if rollup.ready => None,
        _ => Some(state.computations.start(user.id)?),
    };
    let spec = engine::SeriesSpec {
        object_name: query.object_name,
        schema: query.schema,
        ratio: query.ratio,
        operator: query.operator,
        group: query.group,
        value: query.value,
        date: query.date,
        window,
        groups,
        rollup,
        data_version: version
            .as_ref()
            .and_then(|version| version.job.as_ref())
            .map(|job| (job.id.0, job.data_version)),
    };
    let (computed, read) = engine::compute(state, &connection, &spec).await?;
    let computed = cache::CachedSeries::new(computed, engine::coverage(&spec));
    let job = match version {
        Some(version) => version.job,
        // Validated all the same: the source, the object or the connection came meanwhile.
        None => state
            .repository
            .sync_jobs(connection.id)
            .await?
            .iter()
            .find(|job| job.object_name == spec.object_name)
            .map(Into::into),
    };
    let mut series = computed.as_of(job.as_ref());
    if preparing {
        // Computed from the objects while the rollup is built: not kept, so that the next
        // read takes the rollup.
        series.meta.partial = true;
    } else if let Some(key) = key {
        state.series_cache.put(key, computed);
    }
    Ok(Answer {
        series,
        cached: false,
        read: Some(match read {
            engine::Read::Objects => ComputedFrom::Objects,
            engine::Read::Rollup(_) => ComputedFrom::Rollup,
        }),
    })
}

/// The `X-Cache` header of a series: `hit` when the cache answered, `miss` when computed.
pub fn cache_header(answer: &Answer) -> (&'static str, &'static str) {
    ("X-Cache", if answer.cached { "hit" } else { "miss" })
}

/// The `X-Computed-From` header of a computed series: `rollup`, `objects` or `subscriptions`.
pub fn source_header(answer: &Answer) -> Option<(&'static str, &'static str)> {
    answer.read.map(|read| {
        (
            "X-Computed-From",
            match read {
                ComputedFrom::Rollup => "rollup",
                ComputedFrom::Objects => "objects",
                ComputedFrom::Subscriptions => "subscriptions",
            },
        )
    })
}

/// A series answer with its headers.
pub fn respond(answer: Answer) -> actix_web::HttpResponse {
    let mut response = actix_web::HttpResponse::Ok();
    response.insert_header(cache_header(&answer));
    if let Some(header) = source_header(&answer) {
        response.insert_header(header);
    }
    response.json(answer.series)
}
