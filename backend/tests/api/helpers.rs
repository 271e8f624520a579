//! `spawn_app` starts the real server on port 0 with a fresh database (SQLite in a temporary
//! folder, or a new PostgreSQL database on `TEST_DATABASE_URL`), and `TestApp` has one method per
//! endpoint.

use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use allmetrics::configuration::{ConfigSources, Settings};
use allmetrics::db::{self, SharedRepository};
use allmetrics::startup::Application;
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

/// Runs the named `async fn(DbKind)` tests once on each backend:
/// `on_both_databases!(my_test)` makes `my_test::sqlite` and `my_test::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::helpers::DbKind::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$test($crate::helpers::DbKind::Postgres).await
            }
        }
    )*};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

pub fn postgres_server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A database that exists only for one test.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _folder: Option<TempDir>,
}

impl TestDatabase {
    pub async fn create(kind: DbKind) -> Self {
        match kind {
            DbKind::Sqlite => {
                let folder = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", folder.path().join("test.db").display());
                Self {
                    url,
                    postgres_name: None,
                    _folder: Some(folder),
                }
            }
            DbKind::Postgres => {
                let name = format!("allmetrics_test_{}", uuid::Uuid::new_v4().simple());
                let server = postgres_server_url();
                let mut connection = PgConnection::connect(&server)
                    .await
                    .unwrap_or_else(|error| {
                        panic!(
                            "cannot reach PostgreSQL at {server} ({error}); start it or set \
                         TEST_DATABASE_URL"
                        )
                    });
                connection
                    .execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
                    .await
                    .unwrap();
                let url = with_database_name(&server, &name);
                Self {
                    url,
                    postgres_name: Some(name),
                    _folder: None,
                }
            }
        }
    }

    /// The same database for another server (a second replica): it is dropped with this one
    /// only.
    pub fn shared(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            postgres_name: None,
            _folder: None,
        }
    }

    /// PostgreSQL only: drops the database under the running app (connections are terminated).
    pub async fn drop_now(&self) {
        let name = self
            .postgres_name
            .as_ref()
            .expect("only PostgreSQL databases can be dropped");
        let mut connection = PgConnection::connect(&postgres_server_url()).await.unwrap();
        connection
            .execute(sqlx::AssertSqlSafe(format!(
                r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
            )))
            .await
            .unwrap();
    }

    /// PostgreSQL only: creates the database again (empty) after `drop_now`.
    pub async fn recreate(&self) {
        let name = self
            .postgres_name
            .as_ref()
            .expect("only PostgreSQL databases can be made");
        let mut connection = PgConnection::connect(&postgres_server_url()).await.unwrap();
        connection
            .execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await
            .unwrap();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(mut connection) = PgConnection::connect(&postgres_server_url()).await {
                    let _ = connection
                        .execute(sqlx::AssertSqlSafe(format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

fn with_database_name(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let base = match base.rsplit_once('/') {
        Some((prefix, _)) if prefix.contains("//") && !prefix.ends_with('/') => prefix,
        _ => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The JWT secret of test servers (tests forge tokens with it).
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// The token-encryption key of test servers: 32 bytes of 0x07.
pub const TEST_TOKEN_KEYS: &str = "test1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// `http://127.0.0.1:PORT` of the metrics, unless they are turned off.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    pub repository: SharedRepository,
    pub static_dir: PathBuf,
    pub handle: ServerHandle,
    pub state: actix_web::web::Data<allmetrics::state::AppState>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _static_folder: TempDir,
    _data_folder: TempDir,
}

/// Settings for a test: defaults only (no files, no process environment), port 0, the given
/// database, a throwaway static folder.
pub fn test_settings(database_url: &str, static_dir: PathBuf) -> Settings {
    let mut settings = allmetrics::configuration::load(&ConfigSources {
        directory: PathBuf::from("/nonexistent"),
        environment_variables: Some(Default::default()),
    })
    .unwrap();
    settings.application.port = 0;
    settings.application.metrics_port = 0;
    settings.application.static_dir = static_dir;
    settings.database.url = SecretString::from(database_url.to_string());
    settings.auth.jwt_secret = Some(SecretString::from(TEST_JWT_SECRET.to_string()));
    settings.security.token_keys = Some(SecretString::from(TEST_TOKEN_KEYS.to_string()));
    settings.http.timeout_secs = 2;
    settings.sync.token_refresh_interval_secs = 0;
    // Tests run syncs themselves (sync::run_until_idle), so that they are deterministic.
    settings.sync.enabled = false;
    settings.sync.retry_base_ms = 20;
    settings.sync.retry_cap_ms = 200;
    settings
}

pub async fn spawn_app(kind: DbKind) -> TestApp {
    spawn_app_with(kind, |_| {}).await
}

pub async fn spawn_app_with(kind: DbKind, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDatabase::create(kind).await, configure).await
}

/// Starts the server on a database that already holds data (it is migrated first).
pub async fn spawn_app_on(
    database: TestDatabase,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let static_folder = tempfile::tempdir().unwrap();
    let static_dir = static_folder.path().to_path_buf();
    std::fs::write(
        static_dir.join("index.html"),
        "<!doctype html><title>allmetrics</title><div id=app></div>",
    )
    .unwrap();
    let mut settings = test_settings(&database.url, static_dir.clone());
    let data_folder = tempfile::tempdir().unwrap();
    settings.application.data_dir = data_folder.path().to_path_buf();
    configure(&mut settings);

    let repository = db::connect(&settings.database).await.unwrap();
    let demo_slugs = allmetrics::startup::prepare_database(&settings, repository.as_ref())
        .await
        .unwrap();
    let application =
        Application::build_with_repository(settings.clone(), repository.clone(), &demo_slugs)
            .unwrap();
    let port = application.port();
    let metrics_port = application.metrics_port();
    let handle = application.handle();
    let state = application.state();
    let server = tokio::spawn(application.run_until_stopped());

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_address: metrics_port.map(|port| format!("http://127.0.0.1:{port}")),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
        database,
        repository,
        static_dir,
        handle,
        state,
        server: Some(server),
        _static_folder: static_folder,
        _data_folder: data_folder,
    }
}

/// A write transaction of another process, still open.
pub enum HeldWrite {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl HeldWrite {
    pub async fn commit(self) {
        match self {
            HeldWrite::Sqlite(transaction) => transaction.commit().await.unwrap(),
            HeldWrite::Postgres(transaction) => transaction.commit().await.unwrap(),
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_healthz(&self) -> reqwest::Response {
        self.get("/healthz").await
    }

    pub async fn get_readyz(&self) -> reqwest::Response {
        self.get("/readyz").await
    }

    pub async fn get_openapi_json(&self) -> reqwest::Response {
        self.get("/api/openapi.json").await
    }

    pub async fn get_openapi_yaml(&self) -> reqwest::Response {
        self.get("/api/openapi.yaml").await
    }

    /// A client of its own (own cookie jar), as a second browser would be.
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_register(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/register",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn post_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// A login through a proxy that says the client is `forwarded_for`.
    pub async fn post_login_via(
        &self,
        forwarded_for: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({"refresh_token": refresh_token}),
        )
        .await
    }

    pub async fn post_logout(&self, access_token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/logout"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_me(&self, access_token: &str) -> reqwest::Response {
        self.get_authed("/api/v1/me", access_token).await
    }

    pub async fn get_admin_users(&self, access_token: &str) -> reqwest::Response {
        self.get_authed("/api/v1/admin/users", access_token).await
    }

    pub async fn post_admin_user(
        &self,
        access_token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/admin/users"))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_authed(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/metrics/{id}/series` with these query parameters.
    pub async fn get_metric_series(
        &self,
        access_token: &str,
        id: i64,
        params: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/v1/metrics/{id}/series")))
            .query(params)
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// Any call with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        access_token: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(access_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get_sources(&self, access_token: &str) -> Vec<allmetrics_common::SourceResponse> {
        let response = self.get_authed("/api/v1/sources", access_token).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    pub async fn get_source_objects(&self, access_token: &str, slug: &str) -> reqwest::Response {
        self.get_authed(&format!("/api/v1/sources/{slug}/objects"), access_token)
            .await
    }

    pub async fn get_connections(
        &self,
        access_token: &str,
    ) -> Vec<allmetrics_common::ConnectionResponse> {
        let response = self.get_authed("/api/v1/connections", access_token).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// `GET /connect/authorize/{slug}` as an API client (JSON answer).
    pub async fn get_authorize_json(&self, access_token: &str, slug: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/connect/authorize/{slug}")))
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
    }

    /// Starts connecting and returns the provider URL it redirects to.
    pub async fn authorize_url(&self, access_token: &str, slug: &str) -> url::Url {
        let response = self
            .client
            .get(self.url(&format!("/connect/authorize/{slug}/")))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            302,
            "{:?}",
            response.text().await
        );
        url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
    }

    pub async fn get_callback(
        &self,
        access_token: &str,
        slug: &str,
        query: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/connect/oauth/callback/{slug}/")))
            .query(query)
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_connection(&self, access_token: &str, slug: &str) -> reqwest::Response {
        self.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/connections/{slug}"),
            access_token,
            None,
        )
        .await
    }

    pub async fn get_accounts(&self, access_token: &str, slug: &str) -> reqwest::Response {
        self.get_authed(
            &format!("/api/v1/connections/{slug}/accounts"),
            access_token,
        )
        .await
    }

    pub async fn put_account(&self, access_token: &str, slug: &str, id: &str) -> reqwest::Response {
        self.call(
            reqwest::Method::PUT,
            &format!("/api/v1/connections/{slug}/account"),
            access_token,
            Some(serde_json::json!({ "id": id })),
        )
        .await
    }

    /// Runs every due sync job to its end, as a freshly started process would.
    pub async fn run_syncs(&self) {
        allmetrics::sync::run_until_idle(&allmetrics::sync::SyncContext::new(
            self.state.services(),
        ))
        .await;
    }

    pub async fn post_api_key(
        &self,
        access_token: &str,
        slug: &str,
        key: &str,
    ) -> reqwest::Response {
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{slug}/key"),
            access_token,
            Some(serde_json::json!({"api_key": key})),
        )
        .await
    }

    /// Registers (if needed) and signs in; returns the session.
    pub async fn sign_up(&self, email: &str) -> allmetrics_common::TokenResponse {
        let registered = self.post_register(email, PASSWORD).await;
        assert!(
            registered.status().as_u16() == 201 || registered.status().as_u16() == 409,
            "registration failed: {}",
            registered.text().await.unwrap()
        );
        let login = self.post_login(email, PASSWORD).await;
        assert_eq!(login.status().as_u16(), 200);
        login.json().await.unwrap()
    }
}

/// Asserts the contract's error body and that its request id matches the header; returns it.
pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> allmetrics_common::ErrorBody {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let header = response
        .headers()
        .get("x-request-id")
        .expect("every response has an x-request-id")
        .to_str()
        .unwrap()
        .to_string();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "error bodies are JSON, got {content_type}"
    );
    let body: allmetrics_common::ErrorBody = response.json().await.unwrap();
    assert_eq!(body.error, code, "unexpected error code: {body:?}");
    assert!(!body.message.is_empty());
    assert_eq!(
        body.request_id, header,
        "the body's request id is the header's"
    );
    body
}

impl TestDatabase {
    /// Every stored value of the connection and pending-authorization tables, as one text, read
    /// with plain SQL (not through the repository).
    pub async fn raw_secrets_text(&self) -> String {
        let connections =
            "SELECT access_token_enc || ' ' || COALESCE(refresh_token_enc, '') || ' ' \
             || CAST(token_response AS TEXT) || ' ' || COALESCE(account_id, '') FROM connections";
        let states =
            "SELECT state_hash || ' ' || COALESCE(pkce_verifier_enc, '') FROM oauth_states";
        let mut text = self.texts(connections).await;
        text.extend(self.texts(states).await);
        text.join("\n")
    }

    /// The first column of every row `query` selects, as text, read with plain SQL.
    pub async fn texts(&self, query: &str) -> Vec<String> {
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            let rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(query.to_owned()))
                .fetch_all(&pool)
                .await
                .unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            let rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(query.to_owned()))
                .fetch_all(&pool)
                .await
                .unwrap();
            pool.close().await;
            rows
        }
    }

    /// Begins a write transaction from outside the server, runs `statement` in it and keeps it
    /// open (on SQLite, holding the database's write lock) until [`HeldWrite::commit`]. It is
    /// another process's transaction, not the server's: PostgreSQL's is a plain `BEGIN`.
    #[allow(clippy::disallowed_methods)]
    pub async fn hold_write(&self, statement: &str) -> HeldWrite {
        let statement = sqlx::AssertSqlSafe(statement.to_owned());
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            sqlx::query(statement)
                .execute(&mut *transaction)
                .await
                .unwrap();
            HeldWrite::Sqlite(transaction)
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            let mut transaction = pool.begin().await.unwrap();
            sqlx::query(statement)
                .execute(&mut *transaction)
                .await
                .unwrap();
            HeldWrite::Postgres(transaction)
        }
    }

    /// Runs a statement with plain SQL (what another process, or time, would have done).
    pub async fn execute(&self, statement: &str) {
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

impl TestApp {
    /// Signs a user up and connects them to Demo with `api_key`, stored directly (no call to the
    /// provider: tests that need none, or whose provider is set to fail).
    pub async fn sign_up_connected(
        &self,
        email: &str,
        api_key: &str,
    ) -> (String, allmetrics::domain::Connection) {
        let session = self.sign_up(email).await;
        let connection = self
            .connect_demo_directly(&session.access_token, api_key)
            .await;
        (session.access_token, connection)
    }

    /// Connects the signed-in user to Demo with `api_key`, stored directly.
    pub async fn connect_demo_directly(
        &self,
        access_token: &str,
        api_key: &str,
    ) -> allmetrics::domain::Connection {
        use allmetrics::domain::{AuthKind, NewConnection, UserId};
        let me: allmetrics_common::UserResponse =
            self.get_me(access_token).await.json().await.unwrap();
        let source = self
            .repository
            .data_source_by_slug("demo")
            .await
            .unwrap()
            .unwrap();
        let user = UserId(me.id);
        self.repository
            .upsert_connection(NewConnection {
                user_id: user,
                data_source_id: source.id,
                auth_kind: AuthKind::ApiKey,
                account_id: None,
                access_token_enc: self
                    .state
                    .cipher
                    .encrypt(
                        api_key,
                        &allmetrics::tokens::token_context(user, "demo", "access"),
                    )
                    .unwrap(),
                refresh_token_enc: None,
                expires_at: None,
                scopes: String::new(),
                token_response: serde_json::json!({}),
            })
            .await
            .unwrap()
    }
}

/// `total_days=..&end=..`: the window of whole days from `first` to `last` (ISO dates).
pub fn whole_days(first: &str, last: &str) -> String {
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let days = (day(last) - day(first)).num_days() + 1;
    format!("total_days={days}&end={last}")
}
