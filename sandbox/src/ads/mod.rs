//! Facebook's Graph API login and Marketing API (v25.0), as the sandbox plays them, under `/v25.0`:
//!
//! - Login: `GET|POST /v25.0/oauth/access_token` (code exchange, then `fb_exchange_token`; see [`login`]), after
//!   the sandbox's consent page `/oauth/authorize` with the scope `ads_read`;
//! - `GET /v25.0/me`, `GET /v25.0/me/adaccounts`, `GET /v25.0/act_{id}`, `GET /v25.0/act_{id}/campaigns`;
//! - `GET /v25.0/act_{id}/insights` (see [`insights`]).
//!
//! Four fixed ad accounts (see [`accounts`]) report deterministic daily delivery (see [`generator`]). Requests go
//! through the same knobs as `/v1` (latency, authentication, rate limit, faults; see `crate::api::admit`); the
//! token may come as `?access_token=` or `Authorization: Bearer|OAuth`, and must carry `ads_read` (the API key
//! passes too). Every refusal is rendered in Facebook's error shape (see [`errors`]), and every answer carries
//! Facebook's usage headers, with throttling at 100% (see [`usage`]). Lists page with cursors (see [`paging`]).

mod accounts;
mod errors;
mod generator;
mod insights;
mod login;
mod nodes;
mod paging;
mod rows;
mod usage;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::api::auth::KeyStyle;
use crate::api::knobs::damage;
use crate::api::{admit, Admitted, Traffic};
use crate::generator::ids::base62_string;
use crate::oauth::ADS_READ;
use crate::rng::hash;
use crate::State;
use accounts::{Account, Accounts};
use errors::FacebookError;
use paging::Window;
use usage::{AccountCall, Snapshot, Throttled, Usage};

const TRACE_SALT: u64 = 0x0066_6274_7261_6365;

/// A Facebook ad account the sandbox serves, for tests that check what a client read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdAccount {
    /// The node id: `act_1001`.
    pub id: String,
    /// The bare number: `1001` (insights rows' `account_id`).
    pub account_id: String,
    pub name: String,
    /// ISO 4217: `USD`, `EUR`, `JPY` (no decimals), `KWD` (three decimals).
    pub currency: String,
    /// IANA name, as Facebook reports it (`America/New_York`).
    pub timezone_name: String,
    /// The fixed offset the sandbox computes local dates with (no daylight saving time): -18000 for New York,
    /// 3600 for Paris, 32400 for Tokyo, 10800 for Kuwait.
    pub utc_offset_seconds: i64,
    /// Unix seconds.
    pub created_time: i64,
    /// `YYYY-MM-DD`, in the account's time zone: the creation date, and "today" (the sandbox's `now`). Insights
    /// exist for dates in between; no other date has any.
    pub first_date: String,
    pub last_date: String,
    /// The business that owns it: the key of its `x-business-use-case-usage` header.
    pub business_id: String,
}

/// The Facebook state of a sandbox.
pub(crate) struct Ads {
    accounts: Accounts,
    traffic: Traffic,
    usage: Usage,
    /// Error codes the next insights calls answer with, in order.
    forced: Mutex<VecDeque<u32>>,
    /// Insights requests answered 200.
    answered: AtomicU64,
    /// Names each answer's `fbtrace_id`.
    traces: AtomicU64,
    seed: u64,
    max_range_days: u32,
}

impl Ads {
    /// The accounts of a sandbox whose data ends at `now` (unix seconds), and its knobs.
    pub(crate) fn new(
        seed: u64,
        now: i64,
        calls_per_hour: Option<u32>,
        max_range_days: u32,
    ) -> Self {
        let accounts = Accounts::new(seed, now);
        let usage = Usage::new(accounts.len(), calls_per_hour);
        Ads {
            accounts,
            traffic: Traffic::default(),
            usage,
            forced: Mutex::new(VecDeque::new()),
            answered: AtomicU64::new(0),
            traces: AtomicU64::new(0),
            seed,
            max_range_days: max_range_days.max(1),
        }
    }

    pub(crate) fn accounts(&self) -> Vec<AdAccount> {
        self.accounts.all().iter().map(Account::public).collect()
    }

    pub(crate) fn requests_answered(&self) -> u64 {
        self.answered.load(Ordering::Acquire)
    }

    pub(crate) fn force_errors(&self, code: u32, count: u32) {
        let mut forced = self.forced.lock().unwrap_or_else(PoisonError::into_inner);
        forced.extend(std::iter::repeat_n(code, count as usize));
    }

    fn next_forced(&self) -> Option<u32> {
        self.forced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    fn trace_id(&self) -> String {
        let number = self.traces.fetch_add(1, Ordering::Relaxed) + 1;
        format!(
            "A{}",
            base62_string(hash(&[self.seed, TRACE_SALT, number]), 22)
        )
    }
}

pub(crate) fn scope() -> actix_web::Scope {
    // Other methods and paths get Facebook's "Unsupported ... request" (after authentication, as Facebook).
    web::scope("/v25.0")
        .service(
            web::resource("/oauth/access_token")
                .route(web::get().to(access_token))
                .route(web::post().to(access_token))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/me")
                .route(web::get().to(me))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/me/adaccounts")
                .route(web::get().to(ad_accounts))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/{node}")
                .route(web::get().to(node))
                .default_service(web::to(unrecognized)),
        )
        .service(
            web::resource("/{node}/{edge}")
                .route(web::get().to(edge))
                .default_service(web::to(unrecognized)),
        )
        .default_service(web::to(unrecognized))
}

/// A Graph call that was admitted and counted.
struct Call {
    admitted: Admitted,
    usage: Snapshot,
    trace: String,
}

impl Call {
    fn error(&self, error: &FacebookError) -> HttpResponse {
        error_response(error, &self.trace, &self.usage)
    }

    fn answer(&self, answer: Result<Value, FacebookError>) -> HttpResponse {
        match answer {
            Ok(value) => self.json(&value),
            Err(error) => self.error(&error),
        }
    }

    fn json(&self, value: &Value) -> HttpResponse {
        let body = serde_json::to_vec(value).unwrap_or_default();
        let mut response = HttpResponse::Ok()
            .content_type("application/json; charset=UTF-8")
            .insert_header(("x-fb-trace-id", self.trace.as_str()))
            .insert_header((
                header::CACHE_CONTROL,
                "private, no-cache, no-store, must-revalidate",
            ))
            .body(damage(body, self.admitted.body_fault));
        self.usage.apply(&mut response);
        response
    }
}

fn error_response(error: &FacebookError, trace: &str, usage: &Snapshot) -> HttpResponse {
    let mut response = error.response(trace);
    usage.apply(&mut response);
    response
}

/// Admission (latency, the token and its `ads_read` scope, rate limit, faults), then the hour's usage.
async fn begin(
    state: &State,
    req: &HttpRequest,
    account: Option<AccountCall>,
) -> Result<Call, HttpResponse> {
    let ads = &state.ads;
    let admitted = admit(state, &ads.traffic, req, KeyStyle::Graph, Some(ADS_READ)).await;
    let trace = ads.trace_id();
    let now = state.clock.unix_now();
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(refused) => {
            let error = FacebookError::from_refused(&refused);
            return Err(error_response(
                &error,
                &trace,
                &ads.usage.peek(account, now),
            ));
        }
    };
    match ads.usage.call(account, now) {
        Ok(usage) => Ok(Call {
            admitted,
            usage,
            trace,
        }),
        Err((throttled, usage)) => {
            let error = match throttled {
                Throttled::Account => FacebookError::account_throttled(),
                Throttled::App => FacebookError::app_throttled(),
            };
            Err(error_response(&error, &trace, &usage))
        }
    }
}

fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, FacebookError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| FacebookError::invalid_parameter("The query string is malformed"))
}

/// The object a path under `/v25.0` names (its first segment), for error messages.
fn object_of(req: &HttpRequest) -> String {
    let path = req.path();
    let rest = path
        .rfind("/v25.0/")
        .map_or("", |at| &path[at + "/v25.0/".len()..]);
    rest.split('/').next().unwrap_or_default().to_owned()
}

/// Anything else under `/v25.0`.
async fn unrecognized(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    match begin(&state, &req, None).await {
        Ok(call) => call.error(&FacebookError::unsupported_request(
            req.method().as_str(),
            &object_of(&req),
        )),
        Err(response) => response,
    }
}

/// `GET|POST /v25.0/oauth/access_token` (no knobs, as the other token endpoints; usage is shown, not counted).
async fn access_token(state: web::Data<State>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ads = &state.ads;
    let trace = ads.trace_id();
    let usage = ads.usage.peek(None, state.clock.unix_now());
    let mut response = match login::access_token(&state, &req, &body) {
        Ok(response) => response,
        Err(error) => error.response(&trace),
    };
    usage.apply(&mut response);
    response
}

/// `GET /v25.0/me`: the user the tokens belong to.
async fn me(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let call = match begin(&state, &req, None).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    let answer = query_pairs(&req).and_then(|pairs| nodes::me(&pairs));
    call.answer(answer)
}

/// `GET /v25.0/me/adaccounts?fields=...&limit=&after=`: the four accounts, in id order.
async fn ad_accounts(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let call = match begin(&state, &req, None).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    let answer = query_pairs(&req)
        .and_then(|pairs| nodes::ad_accounts(&req, &pairs, state.ads.accounts.all()));
    call.answer(answer)
}

/// The usage entry of a call on `/act_{id}/...`.
fn account_call(account: Option<&Account>, use_case: &'static str) -> Option<AccountCall> {
    account.map(|account| AccountCall {
        index: account.index,
        business_id: account.business_id,
        use_case,
    })
}

/// `GET /v25.0/act_{id}`
async fn node(state: web::Data<State>, req: HttpRequest, node: web::Path<String>) -> HttpResponse {
    let account = state.ads.accounts.find(&node);
    let call = match begin(&state, &req, account_call(account, "ads_management")).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    let Some(account) = account else {
        return call.error(&FacebookError::unsupported_request("GET", &node));
    };
    let answer = query_pairs(&req).and_then(|pairs| nodes::account(&pairs, account));
    call.answer(answer)
}

/// `GET /v25.0/act_{id}/{edge}`: `insights` or `campaigns`.
async fn edge(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (node, edge) = path.into_inner();
    let account = state.ads.accounts.find(&node);
    let use_case = if edge == "insights" {
        "ads_insights"
    } else {
        "ads_management"
    };
    let call = match begin(&state, &req, account_call(account, use_case)).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    let Some(account) = account else {
        return call.error(&FacebookError::unsupported_request("GET", &node));
    };
    let answer = match edge.as_str() {
        "insights" => {
            if let Some(code) = state.ads.next_forced() {
                return call.error(&FacebookError::forced(code));
            }
            let answer = report(&state, &req, account);
            if answer.is_ok() {
                state.ads.answered.fetch_add(1, Ordering::AcqRel);
            }
            answer
        }
        "campaigns" => query_pairs(&req).and_then(|pairs| nodes::campaigns(&req, &pairs, account)),
        other => Err(FacebookError::invalid_parameter(format!(
            "Tried accessing nonexisting field ({other}) on node type (AdAccount)"
        ))),
    };
    call.answer(answer)
}

/// The insights of `account`: parse, check the range, aggregate, page.
fn report(state: &State, req: &HttpRequest, account: &Account) -> Result<Value, FacebookError> {
    let pairs = query_pairs(req)?;
    let request = insights::parse(&pairs, account)?;
    if request.until - request.since + 1 > request.max_days(state.ads.max_range_days) {
        return Err(FacebookError::range_too_large());
    }
    let window = Window::parse(&pairs)?;
    let found = rows::run(state.ads.seed, account, &request);
    Ok(paging::page(req, &pairs, window, &found, |row| {
        rows::render(account, &request, row)
    }))
}
