//! The Stripe-compatible REST API: `GET /v1/{list_path}`, `GET /v1/{list_path}/{id}`, `GET /v1/account`.
//!
//! Every request goes through the knobs in this order: latency, authentication, rate limit, then the faults
//! drawn for it (429 burst, 500, hang, damaged body). `/v1beta` (Google Analytics, `crate::analytics`) and
//! `/v25.0` (Facebook, `crate::ads`) go through the same [`admit`] and render its refusals in their own shapes.

pub(crate) mod auth;
mod errors;
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

pub(crate) fn scope() -> actix_web::Scope {
    // Other methods get Stripe's "Unrecognized request URL" 404 rather than a bare 405.
    web::scope("/v1")
        .service(
            web::resource("/account")
                .route(web::get().to(account))
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
            let page = list::page(&state.generator, kind, &query);
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
    match state.generator.index_of(kind, &id) {
        Some(index) => json_response(&admitted, &state.generator.object(kind, index)),
        None => StripeError::no_such(StatusCode::NOT_FOUND, kind.object_name(), &id, "id")
            .response(&admitted.request_id),
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
