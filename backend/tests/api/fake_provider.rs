//! A fake provider on loopback: a token endpoint whose behaviour each test chooses (success,
//! RFC 6749 error, 500, hanging), a Stripe-like `/v1/customers` that accepts one key, and
//! deauthorize/revoke endpoints that record their calls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

pub const VALID_API_KEY: &str = "sk_test_valid_key";

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
            .json(serde_json::json!({"error": code, "error_description": "refused by the fake"})),
        TokenBehaviour::ServerError => HttpResponse::InternalServerError()
            .content_type("text/html")
            .body("<html>oops</html>"),
        TokenBehaviour::Hang(duration) => {
            tokio::time::sleep(duration).await;
            HttpResponse::Ok()
                .json(serde_json::json!({"access_token": "late", "token_type": "bearer"}))
        }
    }
}

async fn customers(request: HttpRequest) -> HttpResponse {
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {VALID_API_KEY}"));
    if authorized {
        HttpResponse::Ok().json(serde_json::json!({
            "object": "list", "data": [], "has_more": false, "url": "/v1/customers"
        }))
    } else {
        HttpResponse::Unauthorized().json(serde_json::json!({
            "error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}
        }))
    }
}

async fn deauthorize(body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let form = form(&body);
    let account = form
        .iter()
        .find(|(k, _)| k == "stripe_user_id")
        .map(|(_, v)| v.clone());
    state.recorded.lock().unwrap().deauthorizations.push(form);
    HttpResponse::Ok().json(serde_json::json!({"stripe_user_id": account}))
}

async fn revoke(body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    state.recorded.lock().unwrap().revocations.push(form(&body));
    HttpResponse::Ok().finish()
}

/// Serves these routes on a free loopback port (one worker); returns the base URL and the handle
/// that stops the server.
pub fn serve_on_loopback(
    configure: impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
) -> (String, ServerHandle) {
    let server = HttpServer::new(move || App::new().configure(configure.clone()))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

impl FakeProvider {
    pub async fn start(behaviour: TokenBehaviour) -> Self {
        let state = Arc::new(FakeState {
            behaviour: Mutex::new(behaviour),
            recorded: Mutex::new(Recorded::default()),
        });
        let data = web::Data::from(state.clone());
        let (base_url, handle) = serve_on_loopback(move |config| {
            config
                .app_data(data.clone())
                .route("/oauth/token", web::post().to(token))
                .route("/oauth/deauthorize", web::post().to(deauthorize))
                .route("/oauth/revoke", web::post().to(revoke))
                .route("/v1/customers", web::get().to(customers));
        });
        Self {
            base_url,
            state,
            handle,
        }
    }

    pub fn set(&self, behaviour: TokenBehaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
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
    serde_json::json!({
        "access_token": "sk_test_connected_access",
        "livemode": false,
        "refresh_token": "rt_connected_refresh",
        "token_type": "bearer",
        "stripe_publishable_key": "pk_test_connected",
        "stripe_user_id": "acct_1Fake",
        "scope": "read_write"
    })
}
