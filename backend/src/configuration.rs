//! Settings, layered: built-in defaults, then `configuration/base.yaml`, then
//! `configuration/{local,production}.yaml` (picked by `APP_ENVIRONMENT`), then the seed's provider
//! variables (`STRIPE_CLIENT_ID`, ...), then `APP_*` variables with `__` nesting. `.env` is loaded
//! into the environment first without overriding what is already set, so the real environment wins.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Local,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Production => "production",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "local" => Ok(Environment::Local),
            "production" => Ok(Environment::Production),
            other => Err(format!(
                "`{other}` is not a supported environment: use `local` or `production`"
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub environment: Environment,
    pub application: ApplicationSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub security: SecuritySettings,
    pub http: HttpClientSettings,
    pub sandbox: SandboxSettings,
    pub sync: SyncSettings,
    pub query: QuerySettings,
    /// Keyed by data source slug (`stripe`, `google`, `facebook`, or any generic OAuth2 provider).
    pub providers: BTreeMap<String, ProviderSettings>,
}

/// What computing charts may cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct QuerySettings {
    /// Memory the series cache may hold, in MiB (keys and series, estimated); the rows read
    /// from rollups, shared by the metrics of one rollup, may hold half as much again.
    pub cache_mib: u64,
    /// Series one user may have computed at once (not counting cache hits); more get 429.
    pub computations_per_user: usize,
    /// Ad-hoc queries cut on another date field than `created` (no index: they read every
    /// object of the kind) are refused past this many objects (400 `date_field_unindexed`);
    /// saved metrics read their rollups.
    pub ad_hoc_date_field_limit: i64,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            cache_mib: 64,
            computations_per_user: 2,
            ad_hoc_date_field_limit: 100_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ApplicationSettings {
    pub host: String,
    /// 0 picks any free port; the bound address is logged.
    pub port: u16,
    /// The public URL, used for OAuth redirect URIs. Defaults to `http://HOST:PORT`.
    pub base_url: Option<String>,
    /// Where local state lives (the SQLite file by default, generated secrets in `local`).
    pub data_dir: PathBuf,
    /// The built web app (`build_frontend` in scripts/tools.sh) served at `/`.
    pub static_dir: PathBuf,
    /// Seconds that in-flight requests get to finish on SIGINT/SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Largest JSON body accepted, in bytes.
    pub json_limit_bytes: usize,
    /// Proxies in front of the server (addresses or networks, comma-separated): only a request
    /// from one of them has its client taken from `X-Forwarded-For`, as the right-most entry
    /// that is not a trusted proxy. Empty: the peer address is the client. It keys the login
    /// rate limits.
    pub trusted_proxies: String,
    /// Serve Prometheus metrics (`GET /metrics`) on a port of their own.
    pub metrics_enabled: bool,
    /// The metrics port's address: loopback by default (a scraper on the same host); `0.0.0.0`
    /// lets other hosts scrape.
    pub metrics_host: String,
    /// The metrics port (0 picks any free port; the bound address is logged).
    pub metrics_port: u16,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8000,
            base_url: None,
            data_dir: PathBuf::from("data"),
            static_dir: PathBuf::from("frontend/dist"),
            shutdown_timeout_secs: 30,
            json_limit_bytes: 256 * 1024,
            trusted_proxies: String::new(),
            metrics_enabled: true,
            metrics_host: "127.0.0.1".into(),
            metrics_port: 9464,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
    pub url: SecretString,
    pub max_connections: u32,
    /// Connections of a second, read-only pool for the reads of charts (a cached series costs one
    /// such read): writers, and requests waiting to write, never hold them.
    pub read_connections: u32,
    /// How long a request waits for a free connection before it fails.
    pub acquire_timeout_secs: u64,
    /// How long one statement computing a chart may run before it is stopped (503
    /// `query_timeout`), so that no request holds a connection and a core for long.
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://data/allmetrics.db"),
            max_connections: 10,
            read_connections: 4,
            acquire_timeout_secs: 5,
            statement_timeout_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// HMAC key of the access tokens. Required in `production`; in `local` one is generated
    /// once and kept in the data directory.
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// When false, only admins create users (the API or `allmetrics admin create-user`).
    pub registration_open: bool,
    /// Login and registration attempts allowed per client address, per minute.
    pub attempts_per_minute_per_ip: u32,
    /// Login and registration attempts allowed per client address and email pair, per minute
    /// (from all addresses, failures past 100 an hour at one email delay its answers instead).
    pub attempts_per_minute_per_email: u32,
    /// Requests each personal API token may make per minute (on each replica).
    pub api_token_requests_per_minute: u32,
    /// Provider API keys a user may have checked against the provider per minute.
    pub key_checks_per_minute: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            registration_open: true,
            attempts_per_minute_per_ip: 30,
            attempts_per_minute_per_email: 10,
            api_token_requests_per_minute: 600,
            key_checks_per_minute: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct SecuritySettings {
    /// Keys that encrypt provider tokens at rest: `id:base64(32 bytes)`, comma-separated, newest
    /// first (it encrypts; all decrypt). Required in `production`; generated in `local`.
    pub token_keys: Option<SecretString>,
}

/// Background work.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    /// Run syncs in this process (a replica that only serves requests can turn it off).
    pub enabled: bool,
    /// Seconds between incremental syncs of an object.
    pub interval_secs: u64,
    /// Incremental syncs re-read objects created this many seconds before the last sync, so that
    /// changed objects (refunds, status changes, cancellations) are updated.
    pub recent_window_secs: u64,
    /// How often the scheduler looks for due jobs, seconds.
    pub poll_interval_secs: u64,
    /// Jobs this process runs at once.
    pub max_concurrent_jobs: usize,
    /// How long a job's lease lasts without progress before another replica may take it.
    pub lease_secs: u64,
    /// Requests per second per connection; unset = the provider's limit (Stripe: 25 in test
    /// mode, 100 live).
    pub requests_per_sec: Option<u32>,
    /// Backfill windows walked at once per connection, at most. Windows split while the
    /// connection's rate has room (fewer walks than rate x latency), so that one large object is
    /// read by several requests at once.
    pub max_windows_per_connection: usize,
    /// Objects per page (Stripe allows 1..100).
    pub page_size: u32,
    /// Attempts per page before a run gives up (it resumes from its checkpoint later).
    pub max_attempts: u32,
    pub retry_base_ms: u64,
    pub retry_cap_ms: u64,
    /// How often expiring provider tokens are looked for, seconds (0 = never).
    pub token_refresh_interval_secs: u64,
    /// Tokens expiring within this many seconds are refreshed ahead of time.
    pub token_refresh_ahead_secs: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 15 * 60,
            recent_window_secs: 7 * 86_400,
            poll_interval_secs: 2,
            max_concurrent_jobs: 8,
            lease_secs: 60,
            requests_per_sec: None,
            max_windows_per_connection: 8,
            page_size: 100,
            max_attempts: 8,
            retry_base_ms: 250,
            retry_cap_ms: 20_000,
            token_refresh_interval_secs: 60,
            token_refresh_ahead_secs: 10 * 60,
        }
    }
}

/// The built-in demo provider, mounted at `/sandbox`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SandboxSettings {
    /// Default: on in `local`, off in `production`.
    pub enabled: Option<bool>,
    /// The generated data: same seed, same data.
    pub seed: u64,
    /// Number of customers; the other objects scale with it.
    pub size: u64,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Added to every request of its API, milliseconds.
    pub latency_ms: u64,
    /// Requests per second per token (Stripe: 25 in test mode, 100 live); unset = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// A secret key its API accepts, like Stripe's `sk_test_...` (for API-key connections).
    pub api_key: Option<String>,
    /// Seconds access tokens live; unset = they never expire (as Stripe Connect's).
    pub access_token_ttl_secs: Option<u64>,
    /// Google Analytics tokens per property and hour; unset = Google's standard 40,000.
    pub analytics_tokens_per_hour: Option<u32>,
    /// Facebook insights calls per ad account and hour before throttling; unset = unlimited.
    pub ads_calls_per_hour: Option<u32>,
    /// The longest insights range (days) at the ad level with a breakdown; unset = 31.
    pub ads_max_range_days: Option<u32>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            enabled: None,
            seed: 42,
            size: 2000,
            client_id: "allmetrics_demo".into(),
            client_secret: SecretString::from("allmetrics_demo_secret"),
            latency_ms: 0,
            rate_limit_per_sec: None,
            api_key: Some("sk_test_allmetrics_demo".into()),
            access_token_ttl_secs: None,
            analytics_tokens_per_hour: None,
            ads_calls_per_hour: None,
            ads_max_range_days: None,
        }
    }
}

impl SandboxSettings {
    pub fn enabled_in(&self, environment: Environment) -> bool {
        self.enabled.unwrap_or(environment == Environment::Local)
    }
}

/// The client that calls providers (token endpoints, APIs).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpClientSettings {
    /// Whole-request timeout, seconds.
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
}

impl Default for HttpClientSettings {
    fn default() -> Self {
        Self {
            timeout_secs: 20,
            connect_timeout_secs: 5,
        }
    }
}

/// One OAuth2 provider's credentials and endpoints. Every endpoint can be overridden so that
/// tests, proxies and the sandbox can stand in for the real hosts.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ProviderSettings {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub publishable_key: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub api_base: Option<String>,
    /// Where the provider's account API lives when it is apart (Google's Admin API).
    pub admin_api_base: Option<String>,
    /// Space- or comma-separated.
    pub scopes: Option<String>,
    /// An absolute URL, or a path appended to the base URL (the seed's `STRIPE_REDIRECT_URI`).
    pub redirect_uri: Option<String>,
    pub revoke_url: Option<String>,
    /// For a generic OAuth2 provider declared entirely here: `oauth2`.
    pub kind: Option<String>,
    /// Display name of a generic provider's data source.
    pub name: Option<String>,
    /// Field of the token response that holds the account id (Stripe: `stripe_user_id`).
    pub user_key: Option<String>,
    /// Field of the token response that holds the access token (default `access_token`).
    pub access_token_key: Option<String>,
    /// How the client authenticates at the token endpoint: `body` or `basic`.
    pub client_auth: Option<String>,
    /// Whether to use PKCE (S256).
    pub pkce: Option<bool>,
    /// Extra authorize parameters, `name=value&name=value`.
    pub authorize_params: Option<String>,
    /// The signing secret of the platform's webhook endpoint (Stripe Connect), several
    /// comma-separated while it is rolled.
    pub webhook_secret: Option<SecretString>,
}

/// The seed's variable names and the provider setting each one fills.
const SEED_PROVIDER_VARIABLES: &[(&str, &str)] = &[
    ("CLIENT_ID", "client_id"),
    ("API_SECRET_KEY", "client_secret"),
    ("API_PUBLISHABLE_KEY", "publishable_key"),
    ("AUTHORIZE_URL", "authorize_url"),
    ("REQUEST_TOKEN_URL", "token_url"),
    ("REDIRECT_URI", "redirect_uri"),
];
const SEED_PROVIDERS: &[&str] = &["stripe", "google", "facebook"];

/// Where settings come from. `environment_variables: None` reads the process environment.
pub struct ConfigSources {
    pub directory: PathBuf,
    pub environment_variables: Option<HashMap<String, String>>,
}

impl ConfigSources {
    /// The process environment and the first configuration folder that exists: `APP_CONFIG_DIR`,
    /// `./configuration` (an installed app), or `./backend/configuration` (a checkout).
    pub fn from_process() -> Self {
        let directory = std::env::var("APP_CONFIG_DIR")
            .map(PathBuf::from)
            .ok()
            .or_else(|| {
                ["configuration", "backend/configuration"]
                    .iter()
                    .map(PathBuf::from)
                    .find(|candidate| candidate.is_dir())
            })
            .unwrap_or_else(|| PathBuf::from("configuration"));
        Self {
            directory,
            environment_variables: None,
        }
    }
}

/// Reads `.env` (if present) into the environment, then loads the settings.
pub fn get_configuration() -> Result<Settings, config::ConfigError> {
    // A missing .env is normal; a malformed one is worth a warning but not a refusal to start.
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            eprintln!("warning: ignoring .env: {error}");
        }
    }
    load(&ConfigSources::from_process())
}

pub fn load(sources: &ConfigSources) -> Result<Settings, config::ConfigError> {
    let variables: HashMap<String, String> = match &sources.environment_variables {
        Some(map) => map.clone(),
        None => std::env::vars().collect(),
    };
    let environment: Environment = variables
        .get("APP_ENVIRONMENT")
        .map(|value| value.parse())
        .transpose()
        .map_err(config::ConfigError::Message)?
        .unwrap_or_default();

    let file = |name: &str| config::File::from(sources.directory.join(name)).required(false);
    let builder = config::Config::builder()
        .add_source(file("base.yaml"))
        .add_source(file(&format!("{}.yaml", environment.as_str())));
    let settings = builder
        // A layer of its own (not an override, which would beat everything) so that `APP_*`,
        // added next, wins over it.
        .add_source(config::File::from_str(
            &seed_provider_layer(&variables).to_string(),
            // JSON is YAML, and the yaml format is the one compiled in.
            config::FileFormat::Yaml,
        ))
        .add_source(
            config::Environment::with_prefix("APP")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(variables.into_iter().collect())),
        )
        .build()?;
    let mut settings: Settings = settings.try_deserialize()?;
    settings.environment = environment;
    Ok(settings)
}

/// `STRIPE_CLIENT_ID=ca_1` becomes `{"providers": {"stripe": {"client_id": "ca_1"}}}`.
fn seed_provider_layer(variables: &HashMap<String, String>) -> serde_json::Value {
    let mut providers = serde_json::Map::new();
    for provider in SEED_PROVIDERS {
        let mut settings = serde_json::Map::new();
        for (suffix, setting) in SEED_PROVIDER_VARIABLES {
            let name = format!("{}_{suffix}", provider.to_ascii_uppercase());
            if let Some(value) = variables.get(&name).filter(|value| !value.is_empty()) {
                settings.insert(setting.to_string(), value.clone().into());
            }
        }
        if !settings.is_empty() {
            providers.insert(provider.to_string(), settings.into());
        }
    }
    serde_json::json!({ "providers": providers })
}

impl Settings {
    /// The public URL of this server for a given bound port.
    pub fn base_url(&self, bound_port: u16) -> String {
        match &self.application.base_url {
            Some(url) if !url.is_empty() => url.trim_end_matches('/').to_string(),
            _ => format!("http://{}:{bound_port}", self.application.host),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.application.data_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load_with(files: &[(&str, &str)], variables: &[(&str, &str)]) -> Settings {
        let directory = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(directory.path().join(name), text).unwrap();
        }
        let sources = ConfigSources {
            directory: directory.path().to_path_buf(),
            environment_variables: Some(
                variables
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        };
        load(&sources).unwrap()
    }

    #[test]
    fn defaults_apply_without_any_file_or_variable() {
        let settings = load_with(&[], &[]);
        assert_eq!(settings.environment, Environment::Local);
        assert_eq!(settings.application.host, "127.0.0.1");
        assert_eq!(settings.application.port, 8000);
        assert_eq!(
            settings.database.url.expose_secret(),
            "sqlite://data/allmetrics.db"
        );
        assert_eq!(settings.base_url(8000), "http://127.0.0.1:8000");
        assert!(settings.application.metrics_enabled);
        assert_eq!(settings.application.metrics_host, "127.0.0.1");
        assert_eq!(settings.application.metrics_port, 9464);
    }

    #[test]
    fn environment_file_overrides_base_and_variables_override_files() {
        let files = [
            ("base.yaml", "application:\n  port: 1000\n  host: 0.0.0.0\n"),
            ("production.yaml", "application:\n  port: 2000\n"),
            ("local.yaml", "application:\n  port: 3000\n"),
        ];
        let local = load_with(&files, &[]);
        assert_eq!(local.application.port, 3000);
        assert_eq!(local.application.host, "0.0.0.0");

        let production = load_with(&files, &[("APP_ENVIRONMENT", "production")]);
        assert_eq!(production.environment, Environment::Production);
        assert_eq!(production.application.port, 2000);

        let overridden = load_with(
            &files,
            &[
                ("APP_ENVIRONMENT", "production"),
                ("APP_APPLICATION__PORT", "4000"),
                ("APP_DATABASE__URL", "postgres://db/x"),
                ("APP_APPLICATION__METRICS_PORT", "9100"),
                ("APP_APPLICATION__METRICS_ENABLED", "false"),
            ],
        );
        assert_eq!(overridden.application.port, 4000);
        assert_eq!(overridden.application.metrics_port, 9100);
        assert!(!overridden.application.metrics_enabled);
        // The API listens everywhere in production; the metrics stay on loopback.
        assert_eq!(production.application.metrics_host, "127.0.0.1");
        assert_eq!(overridden.database.url.expose_secret(), "postgres://db/x");
    }

    #[test]
    fn seed_variable_names_fill_provider_settings_and_app_variables_win() {
        let settings = load_with(
            &[],
            &[
                ("STRIPE_CLIENT_ID", "ca_seed"),
                ("STRIPE_API_SECRET_KEY", "sk_test_seed"),
                ("STRIPE_AUTHORIZE_URL", "https://connect.example/authorize"),
                ("GOOGLE_REQUEST_TOKEN_URL", "https://token.example"),
                ("APP_PROVIDERS__STRIPE__CLIENT_ID", "ca_app"),
            ],
        );
        let stripe = &settings.providers["stripe"];
        assert_eq!(stripe.client_id.as_deref(), Some("ca_app"));
        assert_eq!(
            stripe.client_secret.as_ref().unwrap().expose_secret(),
            "sk_test_seed"
        );
        assert_eq!(
            stripe.authorize_url.as_deref(),
            Some("https://connect.example/authorize")
        );
        assert_eq!(
            settings.providers["google"].token_url.as_deref(),
            Some("https://token.example")
        );
    }

    #[test]
    fn an_unknown_environment_is_refused_with_a_clear_message() {
        let sources = ConfigSources {
            directory: PathBuf::from("/nonexistent"),
            environment_variables: Some(HashMap::from([(
                "APP_ENVIRONMENT".to_string(),
                "staging".to_string(),
            )])),
        };
        let error = load(&sources).unwrap_err().to_string();
        assert!(error.contains("staging"), "{error}");
    }
}
