//! A fake provider on loopback: a token endpoint whose behaviour each test chooses (success,
//! RFC 6749 error, 500, hanging), a Stripe-like list API that accepts one key and serves the
//! objects a test puts (the sandbox's data is a fixed function of its seed; these can be added
//! and changed between syncs), and deauthorize/revoke endpoints that record their calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

pub const VALID_API_KEY: &str = "sk_test_valid_key";
/// A key of another Stripe account: it lists that account's objects.
pub const OTHER_ACCOUNT_API_KEY: &str = "sk_test_other_account_key";

/// The account a presented key reads (`None`: refused).
fn account_of(request: &HttpRequest) -> Option<&'static str> {
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())?;
    [
        (VALID_API_KEY, "acct_valid"),
        (OTHER_ACCOUNT_API_KEY, "acct_other"),
    ]
    .into_iter()
    .find(|(key, _)| presented == format!("Bearer {key}"))
    .map(|(_, account)| account)
}

fn invalid_key() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({
        "error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}
    }))
}

#[derive(Clone)]
pub enum TokenBehaviour {
    /// Answers this JSON with 200.
    Grant(serde_json::Value),
    /// Answers an RFC 6749 error with 400.
    Refuse(&'static str),
    /// Answers 500 with an HTML body.
    ServerError,
    /// Waits this long before answering (longer than the client's timeout).
    Hang(Duration),
}

#[derive(Default)]
pub struct Recorded {
    /// Form bodies received by the token endpoint.
    pub token_requests: Vec<Vec<(String, String)>>,
    /// `Authorization` headers received by the token endpoint.
    pub token_authorizations: Vec<Option<String>>,
    pub deauthorizations: Vec<Vec<(String, String)>>,
    pub revocations: Vec<Vec<(String, String)>>,
}

struct FakeState {
    behaviour: Mutex<TokenBehaviour>,
    recorded: Mutex<Recorded>,
    /// Listed objects by account and list name (`acct_valid/charges`), then by id.
    objects: Mutex<HashMap<String, BTreeMap<String, Value>>>,
    /// The offset-paged API: its items, the offsets asked for, and from which offset it fails.
    items: Mutex<Vec<Value>>,
    item_offsets: Mutex<Vec<usize>>,
    items_fail_from: Mutex<Option<usize>>,
    /// `/v1/events` answers 403, as to a key without that permission.
    refuse_events: std::sync::atomic::AtomicBool,
    /// Seconds the fake's clock (its `Date` header) runs ahead of the real one.
    clock_ahead: std::sync::atomic::AtomicI64,
    /// Single objects read by id (`GET /v1/{kind}/{id}`), in order.
    retrieved: Mutex<Vec<String>>,
    /// Requests to the Stripe-like API (`/v1/...`), answered or refused.
    api_requests: std::sync::atomic::AtomicU64,
}

pub struct FakeProvider {
    pub base_url: String,
    state: Arc<FakeState>,
    handle: ServerHandle,
}

fn form(body: &web::Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn token(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<FakeState>,
) -> HttpResponse {
    {
        let mut recorded = state.recorded.lock().unwrap();
        recorded.token_requests.push(form(&body));
        recorded.token_authorizations.push(
            request
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string()),
        );
    }
    let behaviour = state.behaviour.lock().unwrap().clone();
    match behaviour {
        TokenBehaviour::Grant(json) => HttpResponse::Ok().json(json),
        TokenBehaviour::Refuse(code) => HttpResponse::BadRequest()
            .json(json!({"error": code, "error_description": "refused by the fake"})),
        TokenBehaviour::ServerError => HttpResponse::InternalServerError()
            .content_type("text/html")
            .body("<html>oops</html>"),
        TokenBehaviour::Hang(duration) => {
            tokio::time::sleep(duration).await;
            HttpResponse::Ok().json(json!({"access_token": "late", "token_type": "bearer"}))
        }
    }
}

fn bound(query: &HashMap<String, String>, name: &str) -> Option<i64> {
    query.get(name).map(|value| value.parse().unwrap())
}

/// Stripe's list semantics: newest first, `limit`, `starting_after`, `created[gte]` /
/// `created[lt]`, and for events `types[]`.
async fn list(
    request: HttpRequest,
    kind: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    state.api_requests.fetch_add(1, Ordering::Relaxed);
    let Some(account) = account_of(&request) else {
        return invalid_key();
    };
    if kind.as_str() == "events" && state.refuse_events.load(Ordering::Relaxed) {
        return HttpResponse::Forbidden().json(json!({"error": {
            "type": "invalid_request_error",
            "message": "The provided key does not have the required permissions for this endpoint"
        }}));
    }
    let limit: usize = query
        .get("limit")
        .map_or(10, |limit| limit.parse().unwrap());
    let gte = bound(&query, "created[gte]").unwrap_or(i64::MIN);
    let lt = bound(&query, "created[lt]").unwrap_or(i64::MAX);
    // Repeated keys: the query map above keeps only one of them.
    let types: Vec<String> = url::form_urlencoded::parse(request.query_string().as_bytes())
        .filter(|(key, _)| key == "types[]")
        .map(|(_, value)| value.into_owned())
        .collect();
    let objects = state.objects.lock().unwrap();
    let mut listed: Vec<(i64, &str, &Value)> = objects
        .get(&format!("{account}/{kind}"))
        .into_iter()
        .flat_map(|by_id| by_id.values())
        .filter(|object| {
            types.is_empty() || types.iter().any(|kind| object["type"] == kind.as_str())
        })
        .map(|object| {
            (
                object["created"].as_i64().unwrap(),
                object["id"].as_str().unwrap(),
                object,
            )
        })
        .filter(|(created, _, _)| (gte..lt).contains(created))
        .collect();
    // Keys borrowed, not copied: benches list accounts of 100,000 objects.
    listed.sort_unstable_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)));
    let listed: Vec<&Value> = listed.into_iter().map(|(_, _, object)| object).collect();
    let start = match query.get("starting_after") {
        Some(cursor) => match listed.iter().position(|object| object["id"] == **cursor) {
            Some(position) => position + 1,
            None => {
                return HttpResponse::BadRequest().json(json!({"error": {
                    "type": "invalid_request_error",
                    "message": format!("No such object: '{cursor}'")
                }}))
            }
        },
        None => 0,
    };
    let page: Vec<&Value> = listed.iter().skip(start).take(limit).copied().collect();
    HttpResponse::Ok()
        .insert_header(date_header(&state))
        .json(json!({
            "object": "list",
            "url": format!("/v1/{kind}"),
            "has_more": start + page.len() < listed.len(),
            "data": page,
        }))
}

/// The fake's clock, as Stripe gives its own: the `Date` of every answer.
fn date_header(state: &FakeState) -> (actix_web::http::header::HeaderName, String) {
    let now =
        chrono::Utc::now() + chrono::Duration::seconds(state.clock_ahead.load(Ordering::Relaxed));
    (
        actix_web::http::header::DATE,
        now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    )
}

/// `GET /v1/exchange_rates/{currency}`: fixed rates against the dollar, as Stripe states them
/// (not counted among the requests for objects).
async fn exchange_rate(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    if account_of(&request).is_none() {
        return invalid_key();
    }
    match path.as_str() {
        "usd" => HttpResponse::Ok()
            .insert_header(date_header(&state))
            .json(json!({
                "id": "usd", "object": "exchange_rate", "rates": {"eur": 0.9, "gbp": 0.8}
            })),
        other => HttpResponse::NotFound().json(json!({"error": {
            "type": "invalid_request_error", "code": "resource_missing",
            "message": format!("No such exchange rate: '{other}'")
        }})),
    }
}

/// `GET /v1/{kind}/{id}`: one object of the key's account, or Stripe's 404.
async fn retrieve(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let Some(account) = account_of(&request) else {
        return invalid_key();
    };
    state.api_requests.fetch_add(1, Ordering::Relaxed);
    let (kind, id) = path.into_inner();
    state.retrieved.lock().unwrap().push(id.clone());
    let objects = state.objects.lock().unwrap();
    match objects
        .get(&format!("{account}/{kind}"))
        .and_then(|by_id| by_id.get(&id))
    {
        Some(object) => HttpResponse::Ok()
            .insert_header(date_header(&state))
            .json(object),
        None => HttpResponse::NotFound().json(json!({"error": {
            "type": "invalid_request_error", "code": "resource_missing",
            "message": format!("No such object: '{id}'")
        }})),
    }
}

/// `GET /v1/account`: the account of the key.
async fn account(request: HttpRequest) -> HttpResponse {
    match account_of(&request) {
        Some(account) => HttpResponse::Ok().json(json!({"id": account, "object": "account"})),
        None => invalid_key(),
    }
}

/// An API of another shape: `GET /items?offset=&limit=` -> `{"items": [...], "total": n}`, in a
/// fixed order, with no cursors and no time filter.
async fn items(
    request: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    if account_of(&request).is_none() {
        return invalid_key();
    }
    let number = |name: &str| query.get(name).map_or(0, |v| v.parse::<usize>().unwrap());
    let (offset, limit) = (number("offset"), number("limit"));
    state.item_offsets.lock().unwrap().push(offset);
    if state
        .items_fail_from
        .lock()
        .unwrap()
        .is_some_and(|from| offset >= from)
    {
        return HttpResponse::InternalServerError().finish();
    }
    let items = state.items.lock().unwrap();
    let page: Vec<&Value> = items.iter().skip(offset).take(limit).collect();
    HttpResponse::Ok().json(json!({"items": page, "total": items.len()}))
}

async fn deauthorize(body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let form = form(&body);
    let account = form
        .iter()
        .find(|(k, _)| k == "stripe_user_id")
        .map(|(_, v)| v.clone());
    state.recorded.lock().unwrap().deauthorizations.push(form);
    HttpResponse::Ok().json(json!({"stripe_user_id": account}))
}

async fn revoke(body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    state.recorded.lock().unwrap().revocations.push(form(&body));
    HttpResponse::Ok().finish()
}

impl FakeProvider {
    pub async fn start(behaviour: TokenBehaviour) -> Self {
        let state = Arc::new(FakeState {
            behaviour: Mutex::new(behaviour),
            recorded: Mutex::new(Recorded::default()),
            objects: Mutex::default(),
            items: Mutex::default(),
            item_offsets: Mutex::default(),
            items_fail_from: Mutex::default(),
            refuse_events: Default::default(),
            clock_ahead: Default::default(),
            retrieved: Mutex::default(),
            api_requests: Default::default(),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth/token", web::post().to(token))
                .route("/oauth/deauthorize", web::post().to(deauthorize))
                .route("/oauth/revoke", web::post().to(revoke))
                .route("/v1/account", web::get().to(account))
                .route(
                    "/v1/exchange_rates/{currency}",
                    web::get().to(exchange_rate),
                )
                .route("/v1/{kind}", web::get().to(list))
                .route("/v1/{kind}/{id}", web::get().to(retrieve))
                .route("/items", web::get().to(items))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    pub fn set(&self, behaviour: TokenBehaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// Adds the object to the list `kind` (`charges`) of the valid key's account, or replaces
    /// the one with its id.
    pub fn put(&self, kind: &str, object: Value) {
        self.put_for("acct_valid", kind, object);
    }

    /// The same, for the account `acct_valid` or `acct_other`.
    pub fn put_for(&self, account: &str, kind: &str, object: Value) {
        let id = object["id"].as_str().unwrap().to_string();
        self.state
            .objects
            .lock()
            .unwrap()
            .entry(format!("{account}/{kind}"))
            .or_default()
            .insert(id, object);
    }

    /// Removes the object from the list `kind` of the valid key's account (deleted at the
    /// provider: listed no more, and `GET` by id answers 404).
    pub fn remove(&self, kind: &str, id: &str) {
        if let Some(by_id) = self
            .state
            .objects
            .lock()
            .unwrap()
            .get_mut(&format!("acct_valid/{kind}"))
        {
            by_id.remove(id);
        }
    }

    /// Records an event on the valid key's account (listed by `/v1/events`, newest first).
    pub fn event(&self, id: &str, created: i64, kind: &str, object: Value) {
        self.put(
            "events",
            json!({
                "id": id, "object": "event", "created": created, "type": kind,
                "api_version": "2023-08-16", "livemode": false, "pending_webhooks": 0,
                "request": {"id": null, "idempotency_key": null},
                "data": {"object": object},
            }),
        );
    }

    /// `/v1/events` answers 403 from now on (`false`: it answers again).
    pub fn refuse_events(&self, refuse: bool) {
        self.state.refuse_events.store(refuse, Ordering::Relaxed);
    }

    /// Moves the fake's clock (its `Date` header) this many seconds ahead of the real one.
    pub fn set_clock_ahead(&self, seconds: i64) {
        self.state.clock_ahead.store(seconds, Ordering::Relaxed);
    }

    /// The ids read one by one since the last call.
    pub fn take_retrieved(&self) -> Vec<String> {
        std::mem::take(&mut *self.state.retrieved.lock().unwrap())
    }

    /// Requests to the Stripe-like API (lists, events and single objects) so far.
    pub fn api_requests(&self) -> u64 {
        self.state.api_requests.load(Ordering::Relaxed)
    }

    /// The items of the offset-paged API.
    pub fn set_items(&self, items: Vec<Value>) {
        *self.state.items.lock().unwrap() = items;
    }

    /// From this offset on, `/items` answers 500 (`None`: never).
    pub fn fail_items_from(&self, offset: Option<usize>) {
        *self.state.items_fail_from.lock().unwrap() = offset;
    }

    /// The offsets `/items` was asked for, in order, since the last call.
    pub fn take_item_offsets(&self) -> Vec<usize> {
        std::mem::take(&mut *self.state.item_offsets.lock().unwrap())
    }

    pub fn recorded<T>(&self, read: impl FnOnce(&Recorded) -> T) -> T {
        read(&self.state.recorded.lock().unwrap())
    }

    /// Provider settings pointing the given slug at this fake.
    pub fn settings(&self) -> allmetrics::configuration::ProviderSettings {
        allmetrics::configuration::ProviderSettings {
            client_id: Some("ca_fake_client".into()),
            client_secret: Some(secrecy::SecretString::from("sk_fake_platform_secret")),
            authorize_url: Some(format!("{}/oauth/authorize", self.base_url)),
            token_url: Some(format!("{}/oauth/token", self.base_url)),
            api_base: Some(self.base_url.clone()),
            revoke_url: Some(format!("{}/oauth/revoke", self.base_url)),
            ..Default::default()
        }
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop without waiting: the runtime may be shutting down.
        drop(handle.stop(false));
    }
}

/// A Stripe Connect token response, as in Stripe's documentation.
pub fn stripe_grant() -> serde_json::Value {
    json!({
        "access_token": "sk_test_connected_access",
        "livemode": false,
        "refresh_token": "rt_connected_refresh",
        "token_type": "bearer",
        "stripe_publishable_key": "pk_test_connected",
        "stripe_user_id": "acct_1Fake",
        "scope": "read_write"
    })
}
