//! What the benchmarks share: an application on a fresh database, a user connected to Demo, and
//! the process's peak memory.

// Each bench binary uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use allmetrics::configuration::{ConfigSources, ProviderSettings, Settings};
use allmetrics::db::{self, SharedRepository};
use allmetrics::domain::{AuthKind, Connection, NewConnection, NewUser, Role};
use allmetrics::startup::Application;
use secrecy::SecretString;

pub struct Bench {
    pub application: Application,
    pub repository: SharedRepository,
    pub connection: Connection,
    pub database_url: String,
    pub _folder: tempfile::TempDir,
}

/// Runs a bench on the database its command line names: `sqlite` (the default) or `postgres`.
pub fn run_on_database<F: std::future::Future<Output = ()>>(bench: impl FnOnce(String) -> F) {
    let database = std::env::args()
        .skip(1)
        .find(|arg| arg == "sqlite" || arg == "postgres")
        .unwrap_or_else(|| "sqlite".into());
    // As the server's binary does.
    allmetrics::allocator::share_arenas_between_threads();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench(database));
}

/// Stores every customer of `generator` on `connection` the way a finished backfill leaves them
/// (pages of 1,000, oldest first: only the end of the backfill matters here).
pub async fn store_customers_as_backfilled(
    repository: &SharedRepository,
    connection: &Connection,
    generator: &allmetrics_sandbox::Generator,
    now: i64,
) {
    store_as_backfilled(
        repository,
        connection,
        generator,
        (allmetrics_sandbox::ObjectKind::Customer, "Customer"),
        now,
    )
    .await
}

/// Stores every object of a kind of `generator` as the object `object_name` (`Charge`) the way
/// a finished backfill leaves them.
pub async fn store_as_backfilled(
    repository: &SharedRepository,
    connection: &Connection,
    generator: &allmetrics_sandbox::Generator,
    (kind, object_name): (allmetrics_sandbox::ObjectKind, &str),
    now: i64,
) {
    use allmetrics::domain::{PageCheckpoint, StoredObject};
    const DAY: i64 = 86_400;
    repository
        .ensure_sync_jobs(connection.id, &[object_name.to_string()], now)
        .await
        .unwrap();
    let job = repository
        .claim_due_jobs("bench", now, now + DAY, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.object_name == object_name)
        .unwrap();
    let mut window = repository
        .start_backfill(job.id, "bench", now, &[(None, now)])
        .await
        .unwrap()
        .unwrap()
        .remove(0);
    let count = generator.count(kind);
    let mut index = 0;
    while index < count {
        let end = (index + 1_000).min(count);
        let page: Vec<StoredObject> = (index..end)
            .map(|i| StoredObject {
                object_id: generator.id(kind, i),
                created: generator.created(kind, i),
                data: generator.object(kind, i),
            })
            .collect();
        window.cursor = page.last().map(|object| object.object_id.clone());
        let checkpoint = PageCheckpoint::Window {
            window: window.clone(),
            done: end == count,
            split_off: None,
        };
        repository
            .store_page(&job, "bench", &page, &checkpoint, now, now + DAY)
            .await
            .unwrap()
            .unwrap();
        index = end;
    }
    finish_run(repository, &job, "bench", now).await;
}

/// Ends a run that synced everything up to `now`; the next is due in a day.
async fn finish_run(
    repository: &SharedRepository,
    job: &allmetrics::domain::SyncJob,
    owner: &str,
    now: i64,
) {
    repository
        .finish_sync_run(
            job.id,
            owner,
            &allmetrics::domain::RunOutcome {
                next_run_at: now + 86_400,
                last_error: None,
                failures: 0,
                incremental_from: Some(now),
                last_synced_at: Some(now),
                progress: None,
            },
        )
        .await
        .unwrap();
}

/// Stores one page of objects as an incremental sync does (new data arrives).
pub async fn store_incremental(
    repository: &SharedRepository,
    connection: &Connection,
    object_name: &str,
    objects: &[allmetrics::domain::StoredObject],
) {
    use allmetrics::domain::PageCheckpoint;
    let now = chrono::Utc::now().timestamp();
    repository
        .schedule_sync_now(connection.id, now)
        .await
        .unwrap();
    let owner = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let jobs = repository
        .claim_due_jobs(&owner, now, now + 600, 100)
        .await
        .unwrap();
    let job = jobs
        .iter()
        .find(|job| job.object_name == object_name)
        .unwrap_or_else(|| panic!("no due {object_name} job among {jobs:?}"));
    repository
        .store_page(
            job,
            &owner,
            objects,
            &PageCheckpoint::Incremental,
            now,
            now + 600,
        )
        .await
        .unwrap()
        .unwrap();
    for job in &jobs {
        finish_run(repository, job, &owner, now).await;
    }
}

/// The middle of some timings.
pub fn median(samples: &mut [std::time::Duration]) -> std::time::Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A timing in milliseconds, for printing.
pub fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Resets the process's peak resident memory to its current one (Linux `clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Resident memory of this process now (VmRSS), in MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// Signs in the user `start` made and returns the access token.
pub async fn login(client: &reqwest::Client, base: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "bench@example.com", "password": "bench password 1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_string()
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// A memory figure of this process's `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The database to use: SQLite in a temporary folder, or a new PostgreSQL database when
/// `database` is `postgres` (on TEST_DATABASE_URL's server).
pub async fn database_url(database: &str, folder: &std::path::Path) -> String {
    if database == "postgres" {
        use sqlx::{Connection as _, Executor};
        let server = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("allmetrics_bench_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(&server).await.unwrap();
        connection
            .execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await
            .unwrap();
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        format!("{base}/{name}")
    } else {
        format!("sqlite://{}", folder.join("bench.db").display())
    }
}

pub async fn start(database: &str, api_base: &str, configure: impl FnOnce(&mut Settings)) -> Bench {
    start_with_key(database, api_base, "sk_test_bench", configure).await
}

/// The same, connected with `api_key` (a provider of the bench's own may accept another key).
pub async fn start_with_key(
    database: &str,
    api_base: &str,
    api_key: &str,
    configure: impl FnOnce(&mut Settings),
) -> Bench {
    let folder = tempfile::tempdir().unwrap();
    let mut settings = allmetrics::configuration::load(&ConfigSources {
        directory: PathBuf::from("/nonexistent"),
        environment_variables: Some(Default::default()),
    })
    .unwrap();
    settings.application.port = 0;
    settings.application.metrics_port = 0;
    settings.application.data_dir = folder.path().to_path_buf();
    settings.application.static_dir = folder.path().to_path_buf();
    let url = database_url(database, folder.path()).await;
    settings.database.url = SecretString::from(url.clone());
    // A run outlasts an access token's default 15 minutes (a login is all a bench does).
    settings.auth.access_token_ttl_secs = 24 * 3600;
    settings.auth.jwt_secret = Some(SecretString::from(
        "bench-secret-bench-secret-bench-secret-00".to_string(),
    ));
    settings.security.token_keys = Some(SecretString::from(
        "bench:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=".to_string(),
    ));
    settings.sync.enabled = false;
    settings.sync.token_refresh_interval_secs = 0;
    settings.providers.insert(
        "demo".into(),
        ProviderSettings {
            api_base: Some(api_base.to_string()),
            ..Default::default()
        },
    );
    configure(&mut settings);
    let repository = db::connect(&settings.database).await.unwrap();
    let demo = allmetrics::startup::prepare_database(&settings, repository.as_ref())
        .await
        .unwrap();
    let application =
        Application::build_with_repository(settings, repository.clone(), &demo).unwrap();
    let user = repository
        .create_user(NewUser {
            email: "bench@example.com".into(),
            password_hash: allmetrics::auth::password::hash(SecretString::from(
                "bench password 1234".to_string(),
            ))
            .await
            .unwrap(),
            role: Some(Role::Admin),
        })
        .await
        .unwrap();
    let source = repository
        .data_source_by_slug("demo")
        .await
        .unwrap()
        .unwrap();
    let state = application.state();
    let connection = repository
        .upsert_connection(NewConnection {
            user_id: user.id,
            data_source_id: source.id,
            auth_kind: AuthKind::ApiKey,
            account_id: None,
            access_token_enc: state
                .cipher
                .encrypt(
                    api_key,
                    &allmetrics::tokens::token_context(user.id, "demo", "access"),
                )
                .unwrap(),
            refresh_token_enc: None,
            expires_at: None,
            scopes: String::new(),
            token_response: serde_json::json!({}),
        })
        .await
        .unwrap();
    Bench {
        application,
        repository,
        connection,
        database_url: url,
        _folder: folder,
    }
}

/// Syncs only this object of the Demo source.
pub async fn only(bench: &Bench, object_name: &str) {
    let source = bench
        .repository
        .data_source_by_slug("demo")
        .await
        .unwrap()
        .unwrap();
    for object in bench
        .repository
        .list_routing_sources(source.id, true)
        .await
        .unwrap()
    {
        if object.object_name != object_name {
            bench
                .repository
                .update_routing_source(
                    source.id,
                    &object.object_name,
                    allmetrics::domain::RoutingSourcePatch {
                        enabled: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
    }
}

/// A PostgreSQL database made for a bench run is dropped at the end of it.
pub fn drop_postgres_database(url: &str) {
    if !url.starts_with("postgres") {
        return;
    }
    let Some((server, name)) = url.rsplit_once('/') else {
        return;
    };
    let (server, name) = (format!("{server}/postgres"), name.to_string());
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            use sqlx::{Connection as _, Executor};
            if let Ok(mut connection) = sqlx::PgConnection::connect(&server).await {
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
