//! The Stripe-compatible REST API: `GET /v1/{list_path}`, `GET /v1/{list_path}/{id}`, `GET /v1/account`,
//! `GET /v1/exchange_rates[/{currency}]`.
//!
//! Every request goes through the knobs in this order: latency, authentication, rate limit, then the faults
//! drawn for it (429 burst, 500, hang, damaged body). `/v1beta` (Google Analytics, `crate::analytics`) and
//! `/v25.0` (Facebook, `crate::ads`) go through the same [`admit`] and render its refusals in their own shapes.

pub(crate) mod auth;
mod errors;
pub(crate) mod events;
mod exchange_rates;
pub(crate) mod knobs;
pub(crate) mod list;

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::generator::ids::base62_string;
use crate::generator::ObjectKind;
use crate::oauth::store::has_scope;
use crate::rng::hash;
use crate::State;
use errors::StripeError;
use knobs::BodyFault;

pub(crate) fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // Other methods get Stripe's "Unrecognized request URL" 404 rather than a bare 405.
    web::scope("/v1")
        .wrap_fn(|req, service| {
            let state = req.app_data::<web::Data<State>>().cloned();
            let response = actix_web::dev::Service::call(service, req);
            async move {
                let mut response = response.await?;
                // The provider's clock, which clients judge staleness by.
                if let Some(state) = state {
                    let date = http_date(state.clock.unix_now());
                    if let Ok(value) = header::HeaderValue::from_str(&date) {
                        response.headers_mut().insert(header::DATE, value);
                    }
                }
                Ok(response)
            }
        })
        .service(
            web::resource("/account")
                .route(web::get().to(account))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/events")
                .route(web::get().to(list_events))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/events/{id}")
                .route(web::get().to(retrieve_event))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/webhook_endpoints")
                .route(web::get().to(webhook_endpoints::list))
                .route(web::post().to(webhook_endpoints::create))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/webhook_endpoints/{id}")
                .route(web::get().to(webhook_endpoints::retrieve))
                .route(web::post().to(webhook_endpoints::update))
                .route(web::delete().to(webhook_endpoints::delete))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/exchange_rates")
                .route(web::get().to(exchange_rates::list))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/exchange_rates/{currency}")
                .route(web::get().to(exchange_rates::retrieve))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/test_helpers/advance_clock")
                .route(web::post().to(advance_clock))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/{list_path}")
                .route(web::get().to(list_objects))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/{list_path}/{id}")
                .route(web::get().to(retrieve_object))
                .default_service(web::to(unrecognized)),
        )
        .default_service(web::to(unrecognized))
}

/// A request that may proceed, and what to do to its body.
pub(crate) struct Admitted {
    pub request_id: String,
    pub body_fault: BodyFault,
    /// The key or token it authenticated with.
    pub key: String,
    /// A restricted key (no events, no webhook endpoints).
    pub restricted: bool,
}

/// Request counters of one API (`/v1`, `/v1beta` or `/v25.0`). Each API keeps its own, so that one's traffic never shifts
/// the other's fault draws or request ids.
#[derive(Default)]
pub(crate) struct Traffic {
    /// Requests received (names their `Request-Id`).
    pub seen: AtomicU64,
    /// Requests past authentication and rate limit (the counter fault draws are keyed by).
    pub admitted: AtomicU64,
    /// Requests being answered now, and the most there ever were at once.
    pub in_flight: AtomicU64,
    pub peak_in_flight: AtomicU64,
}

/// Why [`admit`] turned a request away. Each API renders it in its own error shape.
pub(crate) enum Refusal {
    /// No, unknown, expired or revoked credential, or a `Stripe-Account` it cannot act on (why, and in
    /// Stripe's words).
    Credential(auth::CredentialError),
    /// An access token without the scope the API requires.
    Scope,
    /// The credential's token bucket is empty, or an injected 429 burst: retry after this many seconds.
    RateLimited(u64),
    /// An injected 500.
    ServerError,
}

pub(crate) struct Refused {
    pub request_id: String,
    pub refusal: Refusal,
}

impl Refused {
    fn new(request_id: &str, refusal: Refusal) -> Self {
        Refused {
            request_id: request_id.to_owned(),
            refusal,
        }
    }

    /// Stripe's rendering (`/v1`).
    fn response(&self) -> HttpResponse {
        let error = match &self.refusal {
            Refusal::Credential(error) => return error.stripe.response(&self.request_id),
            Refusal::Scope => StripeError::forbidden(
                "The provided key does not have the permissions required for this request.",
            ),
            Refusal::RateLimited(retry_after) => StripeError::rate_limited(*retry_after),
            Refusal::ServerError => StripeError::api_error(),
        };
        error.response(&self.request_id)
    }
}

fn request_id(state: &State, counter: u64) -> String {
    format!(
        "req_{}",
        base62_string(hash(&[state.config.seed, 0x0072_6571, counter]), 14)
    )
}

/// Counts a request as in flight while it waits for admission (its latency, its hang).
struct InFlight<'a>(&'a Traffic);

impl<'a> InFlight<'a> {
    fn enter(traffic: &'a Traffic) -> Self {
        let now = traffic.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        traffic.peak_in_flight.fetch_max(now, Ordering::AcqRel);
        InFlight(traffic)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Latency, authentication (the credential found where `style` says, and the access token's scope when
/// `required_scope` names one), rate limit, then faults. The caller renders a refusal in its API's error shape.
pub(crate) async fn admit(
    state: &State,
    traffic: &Traffic,
    req: &HttpRequest,
    style: auth::KeyStyle,
    required_scope: Option<&str>,
) -> Result<Admitted, Refused> {
    let _in_flight = InFlight::enter(traffic);
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    let seen = traffic.seen.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = request_id(state, seen);
    let credential = auth::authenticate(state, req, style)
        .map_err(|error| Refused::new(&request_id, Refusal::Credential(error)))?;
    if let (Some(required), Some(granted)) = (required_scope, &credential.scope) {
        if !has_scope(granted, required) {
            return Err(Refused::new(&request_id, Refusal::Scope));
        }
    }
    state
        .limiter
        .check(&credential.key, std::time::Instant::now())
        .map_err(|retry_after| Refused::new(&request_id, Refusal::RateLimited(retry_after)))?;
    let number = traffic.admitted.fetch_add(1, Ordering::Relaxed) + 1;
    let plan = knobs::plan(&state.config.faults, state.config.seed, number);
    if plan.burst_429 {
        return Err(Refused::new(&request_id, Refusal::RateLimited(1)));
    }
    if plan.error_500 {
        return Err(Refused::new(&request_id, Refusal::ServerError));
    }
    if let Some(hang) = plan.hang {
        tokio::time::sleep(hang).await;
    }
    Ok(Admitted {
        request_id,
        body_fault: plan.body,
        key: credential.key,
        restricted: credential.restricted,
    })
}

/// [`admit`] for `/v1`: Stripe's errors, no scope required.
async fn admit_v1(state: &State, req: &HttpRequest) -> Result<Admitted, HttpResponse> {
    admit(
        state,
        &state.stripe_traffic,
        req,
        auth::KeyStyle::Header,
        None,
    )
    .await
    .map_err(|refused| refused.response())
}

fn json_response(admitted: &Admitted, value: &Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Request-Id", admitted.request_id.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache, no-store"))
        .body(knobs::damage(body, admitted.body_fault))
}

fn unrecognized_error(req: &HttpRequest) -> StripeError {
    StripeError::not_found(format!(
        "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        req.method(),
        req.path()
    ))
}

/// Anything else under `/v1` (and non-GET methods: the sandbox is read-only).
async fn unrecognized(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    match admit_v1(&state, &req).await {
        Ok(admitted) => unrecognized_error(&req).response(&admitted.request_id),
        Err(response) => response,
    }
}

/// `GET /v1/{list_path}`
async fn list_objects(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(kind) = ObjectKind::from_list_path(&path) else {
        return unrecognized_error(&req).response(&admitted.request_id);
    };
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(req.query_string()) {
        Ok(pairs) => pairs,
        Err(_) => {
            return StripeError::invalid_request("The query string is malformed.")
                .response(&admitted.request_id)
        }
    };
    match list::ListQuery::parse(&state.generator, kind, &pairs) {
        Ok(query) => {
            let page = list::page(&state.generator, kind, &query, state.clock.unix_now());
            json_response(&admitted, &list::envelope(kind, page))
        }
        Err(error) => error.response(&admitted.request_id),
    }
}

/// `GET /v1/{list_path}/{id}`
async fn retrieve_object(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let (list_path, id) = path.into_inner();
    let Some(kind) = ObjectKind::from_list_path(&list_path) else {
        return unrecognized_error(&req).response(&admitted.request_id);
    };
    let now = state.clock.unix_now();
    let object = state
        .generator
        .index_of(kind, &id)
        .map(|index| state.generator.object_at(kind, index, now))
        .filter(|object| !object.is_null());
    match object {
        // Stripe still answers a deleted customer (as `{"id", "object", "deleted": true}`); other deleted
        // objects are gone.
        Some(object) if object["deleted"] != true || kind == ObjectKind::Customer => {
            json_response(&admitted, &object)
        }
        _ => StripeError::no_such(StatusCode::NOT_FOUND, kind.object_name(), &id, "id")
            .response(&admitted.request_id),
    }
}

/// RFC 7231's date (`Tue, 01 Dec 2026 10:00:00 GMT`) of a unix time.
pub(crate) fn http_date(unix: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    header::HttpDate::from(at).to_string()
}

/// Stripe's 403 for a restricted key that lacks `permission`.
fn missing_permission(state: &State, admitted: &Admitted, permission: &str) -> HttpResponse {
    StripeError::forbidden(format!(
        "The provided key '{}' does not have the required permissions for this endpoint on account '{}'. Having the '{permission}' permission would allow this request to continue.",
        auth::mask(&admitted.key),
        state.account.id,
    ))
    .response(&admitted.request_id)
}

fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, StripeError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| StripeError::invalid_request("The query string is malformed."))
}

/// `GET /v1/events`
async fn list_events(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if admitted.restricted {
        return missing_permission(&state, &admitted, "rak_event_read");
    }
    let parsed =
        query_pairs(&req).and_then(|pairs| events::EventsQuery::parse(&state.generator, &pairs));
    match parsed {
        Ok(query) => json_response(
            &admitted,
            &events::list(&state.generator, &query, state.clock.unix_now()),
        ),
        Err(error) => error.response(&admitted.request_id),
    }
}

/// `GET /v1/events/{id}`
async fn retrieve_event(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if admitted.restricted {
        return missing_permission(&state, &admitted, "rak_event_read");
    }
    let id = path.into_inner();
    match events::retrieve(&state.generator, &id, state.clock.unix_now()) {
        Some(event) => json_response(&admitted, &event),
        None => StripeError::no_such(StatusCode::NOT_FOUND, "event", &id, "id")
            .response(&admitted.request_id),
    }
}

/// `POST /v1/test_helpers/advance_clock` with `seconds`: moves the sandbox's clock forward (the account's
/// data and events unfold, webhooks go out) and answers the new time.
async fn advance_clock(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let seconds = pairs
        .iter()
        .find(|(name, _)| name == "seconds")
        .and_then(|(_, value)| value.trim().parse::<u64>().ok());
    let Some(seconds) = seconds else {
        return StripeError::invalid_request(
            "Missing required param: seconds (a whole number of seconds, 0 or more).",
        )
        .with_param("seconds")
        .response(&admitted.request_id);
    };
    state.clock.advance(std::time::Duration::from_secs(seconds));
    state.webhooks.wake();
    json_response(
        &admitted,
        &json!({ "object": "test_helpers.advance_clock", "now": state.clock.unix_now() }),
    )
}

mod webhook_endpoints {
    //! `/v1/webhook_endpoints`: create (the secret shown once), list, retrieve, update, delete.

    use std::sync::Arc;

    use actix_web::http::StatusCode;
    use actix_web::{web, HttpRequest, HttpResponse};
    use serde_json::{json, Value};

    use super::errors::StripeError;
    use super::{admit_v1, json_response, missing_permission, Admitted};
    use crate::webhooks::EndpointParams;
    use crate::State;

    async fn admit_writer(state: &State, req: &HttpRequest) -> Result<Admitted, HttpResponse> {
        let admitted = admit_v1(state, req).await?;
        if admitted.restricted {
            return Err(missing_permission(state, &admitted, "rak_webhook_write"));
        }
        Ok(admitted)
    }

    /// Stripe's form encoding: `url`, `enabled_events[]` (or `enabled_events[0]`...), `description`,
    /// `metadata[key]`, `disabled`.
    fn params(body: &[u8]) -> Result<EndpointParams, StripeError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| StripeError::invalid_request("The request body is malformed."))?;
        let mut params = EndpointParams::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => params.url = Some(value),
                "description" => params.description = Some(value),
                "disabled" => params.disabled = Some(value == "true"),
                "enabled_events" => params
                    .enabled_events
                    .get_or_insert_with(Vec::new)
                    .push(value),
                _ if name.starts_with("enabled_events[") => {
                    params
                        .enabled_events
                        .get_or_insert_with(Vec::new)
                        .push(value);
                }
                _ => {
                    if let Some(key) = name
                        .strip_prefix("metadata[")
                        .and_then(|rest| rest.strip_suffix(']'))
                    {
                        params.metadata.insert(key.to_owned(), Value::String(value));
                    }
                }
            }
        }
        Ok(params)
    }

    fn invalid(invalid: crate::webhooks::Invalid) -> StripeError {
        let error = StripeError::invalid_request(invalid.message);
        match invalid.param {
            Some(param) => error.with_param(param),
            None => error,
        }
    }

    fn missing(id: &str) -> StripeError {
        StripeError::no_such(StatusCode::NOT_FOUND, "webhook_endpoint", id, "id")
    }

    pub(super) async fn create(
        state: web::Data<State>,
        req: HttpRequest,
        body: web::Bytes,
    ) -> HttpResponse {
        let admitted = match admit_writer(&state, &req).await {
            Ok(admitted) => admitted,
            Err(response) => return response,
        };
        let created = params(&body).and_then(|params| {
            state
                .webhooks
                .create(params, state.clock.unix_now())
                .map_err(invalid)
        });
        match created {
            Ok(endpoint) => {
                state
                    .webhooks
                    .start(Arc::downgrade(&state.clone().into_inner()));
                json_response(&admitted, &endpoint.json(true))
            }
            Err(error) => error.response(&admitted.request_id),
        }
    }

    pub(super) async fn list(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
        let admitted = match admit_writer(&state, &req).await {
            Ok(admitted) => admitted,
            Err(response) => return response,
        };
        // Newest first, like every Stripe list (16 at most: one page).
        let data: Vec<Value> = state
            .webhooks
            .list()
            .iter()
            .rev()
            .map(|endpoint| endpoint.json(false))
            .collect();
        json_response(
            &admitted,
            &json!({ "object": "list", "data": data, "has_more": false, "url": "/v1/webhook_endpoints" }),
        )
    }

    pub(super) async fn retrieve(
        state: web::Data<State>,
        req: HttpRequest,
        path: web::Path<String>,
    ) -> HttpResponse {
        let admitted = match admit_writer(&state, &req).await {
            Ok(admitted) => admitted,
            Err(response) => return response,
        };
        match state.webhooks.get(&path) {
            Some(endpoint) => json_response(&admitted, &endpoint.json(false)),
            None => missing(&path).response(&admitted.request_id),
        }
    }

    pub(super) async fn update(
        state: web::Data<State>,
        req: HttpRequest,
        path: web::Path<String>,
        body: web::Bytes,
    ) -> HttpResponse {
        let admitted = match admit_writer(&state, &req).await {
            Ok(admitted) => admitted,
            Err(response) => return response,
        };
        let params = match params(&body) {
            Ok(params) => params,
            Err(error) => return error.response(&admitted.request_id),
        };
        match state.webhooks.update(&path, params) {
            Some(Ok(endpoint)) => json_response(&admitted, &endpoint.json(false)),
            Some(Err(error)) => invalid(error).response(&admitted.request_id),
            None => missing(&path).response(&admitted.request_id),
        }
    }

    pub(super) async fn delete(
        state: web::Data<State>,
        req: HttpRequest,
        path: web::Path<String>,
    ) -> HttpResponse {
        let admitted = match admit_writer(&state, &req).await {
            Ok(admitted) => admitted,
            Err(response) => return response,
        };
        if state.webhooks.delete(&path) {
            json_response(
                &admitted,
                &json!({ "id": path.as_str(), "object": "webhook_endpoint", "deleted": true }),
            )
        } else {
            missing(&path).response(&admitted.request_id)
        }
    }
}

/// `GET /v1/account`: the connected account the tokens act on.
async fn account(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let generator = &state.generator;
    let body = json!({
        "id": state.account.id,
        "object": "account",
        "business_profile": {
            "mcc": "5734",
            "name": "Sandbox Demo Co",
            "product_description": "Demo data generated by the allmetrics sandbox",
            "support_email": "support@example.com",
            "support_phone": null,
            "support_url": null,
            "url": "https://example.com",
        },
        "business_type": "company",
        "capabilities": { "card_payments": "active", "transfers": "active" },
        "charges_enabled": true,
        "controller": { "type": "account" },
        "country": "US",
        "created": generator.start(),
        "default_currency": "usd",
        "details_submitted": true,
        "email": "owner@example.com",
        "metadata": {},
        "payouts_enabled": true,
        "settings": {
            "dashboard": { "display_name": "Sandbox Demo Co", "timezone": "Etc/UTC" },
        },
        "type": "standard",
    });
    json_response(&admitted, &body)
}
