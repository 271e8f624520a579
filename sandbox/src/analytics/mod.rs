//! Google Analytics 4, as the sandbox plays it, under `/v1beta`:
//!
//! - Admin API: `GET /v1beta/accountSummaries` and `GET /v1beta/properties/{id}`;
//! - Data API: `POST /v1beta/properties/{id}:runReport`.
//!
//! Three fixed properties (see [`properties`]) report deterministic daily data (see [`generator`], [`report`]).
//! Requests go through the same knobs as `/v1` (latency, authentication, rate limit, faults; see
//! `crate::api::admit`), and an access token must carry Google's Analytics scope; every refusal is rendered in
//! Google's error shape. `runReport` also enforces GA's property quotas (see [`quota`]).

mod errors;
mod generator;
pub(crate) mod properties;
mod quota;
mod report;

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::auth::KeyStyle;
use crate::api::knobs::damage;
use crate::api::{admit, Admitted, Traffic};
use crate::oauth::ANALYTICS_READONLY;
use crate::State;
use errors::GoogleError;
use properties::Properties;
use quota::{Concurrency, Quota, CONCURRENT_REQUESTS};

/// A Google Analytics 4 property the sandbox serves, for tests that check what a client read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsProperty {
    /// The numeric id: `250001` (the resource is `properties/250001`).
    pub id: String,
    pub display_name: String,
    /// The numeric account id: `1000` (the resource is `accounts/1000`).
    pub account_id: String,
    pub account_name: String,
    /// IANA name, as GA reports it (`America/Los_Angeles`).
    pub time_zone: String,
    /// The fixed offset the sandbox computes local dates with (no daylight saving time): -28800 for Los
    /// Angeles, 3600 for Paris, 32400 for Tokyo.
    pub utc_offset_seconds: i64,
    /// ISO 4217 (`USD`, `EUR`, `JPY`).
    pub currency: String,
    /// Unix seconds.
    pub create_time: i64,
    /// `YYYY-MM-DD`, in the property's time zone: the creation date, and "today" (the sandbox's `now`). Every
    /// date in between has data; no other date has.
    pub first_date: String,
    pub last_date: String,
}

/// The Google Analytics state of a sandbox.
pub(crate) struct Analytics {
    properties: Properties,
    traffic: Traffic,
    quota: Quota,
    concurrency: Concurrency,
    /// `runReport` requests answered 200.
    answered: AtomicU64,
}

impl Analytics {
    /// The properties of a sandbox whose data ends at `now` (unix seconds).
    pub(crate) fn new(now: i64, tokens_per_hour: Option<u32>) -> Self {
        let properties = Properties::new(now);
        let count = properties.len();
        Analytics {
            properties,
            traffic: Traffic::default(),
            quota: Quota::new(count, tokens_per_hour),
            concurrency: Concurrency::new(count),
            answered: AtomicU64::new(0),
        }
    }

    pub(crate) fn properties(&self) -> Vec<AnalyticsProperty> {
        self.properties.all().iter().map(|p| p.public()).collect()
    }

    pub(crate) fn peak_concurrent_requests(&self) -> u64 {
        self.concurrency.peak()
    }

    pub(crate) fn requests_answered(&self) -> u64 {
        self.answered.load(Ordering::Acquire)
    }
}

pub(crate) fn scope() -> actix_web::Scope {
    web::scope("/v1beta")
        .service(
            web::resource("/accountSummaries")
                .route(web::get().to(account_summaries))
                .default_service(web::to(unrecognized)),
        )
        // `{tail}` is `250001` (Admin API, GET) or `250001:runReport` (Data API, POST).
        .service(
            web::resource("/properties/{tail}")
                .route(web::get().to(get_property))
                .route(web::post().to(run_report))
                .default_service(web::to(unrecognized)),
        )
        .default_service(web::to(unrecognized))
}

/// `admit` with the Analytics scope required and Google's error shape.
async fn admit_google(state: &State, req: &HttpRequest) -> Result<Admitted, HttpResponse> {
    admit(
        state,
        &state.analytics.traffic,
        req,
        KeyStyle::Header,
        Some(ANALYTICS_READONLY),
    )
    .await
    .map_err(|refused| GoogleError::from_refused(&refused).response())
}

fn json_response(admitted: &Admitted, value: &Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .insert_header((header::CACHE_CONTROL, "private"))
        .body(damage(body, admitted.body_fault))
}

fn not_found(req: &HttpRequest) -> GoogleError {
    GoogleError::not_found(format!(
        "The requested URL {} was not found on this server ({} is not supported).",
        req.path(),
        req.method()
    ))
}

/// Anything else under `/v1beta`.
async fn unrecognized(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    match admit_google(&state, &req).await {
        Ok(_) => not_found(&req).response(),
        Err(response) => response,
    }
}

/// Accounts per page of `accountSummaries` when `pageSize` is unset or 0; at most 200, as the Admin API.
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 200;

/// `GET /v1beta/accountSummaries?pageSize=&pageToken=`: page tokens are the index of the page's first account.
async fn account_summaries(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let admitted = match admit_google(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(req.query_string()) {
        Ok(pairs) => pairs,
        Err(_) => {
            return GoogleError::invalid_argument("The query string is malformed.").response()
        }
    };
    let mut page_size = DEFAULT_PAGE_SIZE;
    let mut start = 0;
    for (name, value) in &pairs {
        match (name.as_str(), value.parse::<usize>()) {
            ("pageSize", Ok(0)) => {}
            ("pageSize", Ok(size)) => page_size = size.min(MAX_PAGE_SIZE),
            ("pageToken", _) if value.is_empty() => {}
            ("pageToken", Ok(index)) => start = index,
            ("pageSize", Err(_)) => {
                return GoogleError::invalid_argument(format!(
                    "Invalid value at 'page_size' (TYPE_INT32), \"{value}\""
                ))
                .response()
            }
            ("pageToken", Err(_)) => {
                return GoogleError::invalid_argument("The page token is invalid.").response()
            }
            _ => {}
        }
    }
    let summaries = state.analytics.properties.account_summaries();
    if start > summaries.len() {
        return GoogleError::invalid_argument("The page token is invalid.").response();
    }
    let end = start.saturating_add(page_size).min(summaries.len());
    let mut body = json!({ "accountSummaries": summaries[start..end] });
    if end < summaries.len() {
        body["nextPageToken"] = end.to_string().into();
    }
    json_response(&admitted, &body)
}

/// `GET /v1beta/properties/{id}` (Admin API).
async fn get_property(
    state: web::Data<State>,
    req: HttpRequest,
    tail: web::Path<String>,
) -> HttpResponse {
    let admitted = match admit_google(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if tail.contains(':') {
        return not_found(&req).response();
    }
    match state.analytics.properties.find(&tail) {
        Some(property) => json_response(&admitted, &property.admin_json()),
        None => GoogleError::not_found(format!("Property properties/{tail} not found.")).response(),
    }
}

/// `POST /v1beta/properties/{id}:runReport` (Data API).
async fn run_report(
    state: web::Data<State>,
    req: HttpRequest,
    tail: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let analytics = &state.analytics;
    let Some(id) = tail.strip_suffix(":runReport") else {
        return unrecognized(state.clone(), req).await;
    };
    let property = analytics.properties.find(id);
    // In flight from arrival, latency included: that is when GA counts a request as concurrent.
    let slot = property.and_then(|property| analytics.concurrency.enter(property.index));
    let admitted = match admit_google(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(property) = property else {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return GoogleError::invalid_argument(format!(
                "Invalid property: properties/{id}. A property is specified as properties/<numeric id>."
            ))
            .response();
        }
        return GoogleError::permission_denied(
            "User does not have sufficient permissions for this property. To learn more about Property ID, \
             see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.",
        )
        .response();
    };
    if slot
        .as_ref()
        .is_some_and(|slot| slot.count > CONCURRENT_REQUESTS)
    {
        return GoogleError::resource_exhausted(
            "Exhausted concurrent requests quota for this property. Limit concurrent requests to 10 per property.",
        )
        .response();
    }
    let request = match report::parse(&body, property) {
        Ok(request) => request,
        Err(error) => return error.response(),
    };
    let config = &state.config;
    let groups = report::run(config.seed, config.size, property, &request);
    let start = usize::try_from(request.offset)
        .unwrap_or(usize::MAX)
        .min(groups.len());
    let end = start
        .saturating_add(usize::try_from(request.limit).unwrap_or(usize::MAX))
        .min(groups.len());
    let page = &groups[start..end];
    let quota = match analytics.quota.charge(
        property.index,
        state.clock.unix_now(),
        quota::cost(page.len()),
        request.subject_to_thresholding(),
    ) {
        Ok(quota) => quota,
        Err(exhausted) => return GoogleError::resource_exhausted(exhausted.message()).response(),
    };
    let body = report::response(
        property,
        &request,
        page,
        groups.len(),
        request.return_property_quota.then_some(quota),
    );
    analytics.answered.fetch_add(1, Ordering::AcqRel);
    json_response(&admitted, &body)
}
