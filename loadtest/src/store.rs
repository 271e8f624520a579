//! What the server stored, read from its database, against what the provider holds.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

/// Stripe's objects and where the provider lists them (as the server reads them).
const STRIPE_OBJECTS: &[(&str, &str)] = &[
    ("Customer", "/v1/customers"),
    ("Charge", "/v1/charges"),
    ("Invoice", "/v1/invoices"),
    ("Subscription", "/v1/subscriptions?status=all"),
    ("PaymentIntent", "/v1/payment_intents"),
    ("Refund", "/v1/refunds"),
    ("BalanceTransaction", "/v1/balance_transactions"),
    ("Payout", "/v1/payouts"),
    ("Dispute", "/v1/disputes"),
    ("Product", "/v1/products"),
    ("Price", "/v1/prices"),
];

#[derive(Args)]
pub struct VerifyArgs {
    #[arg(long)]
    database_url: String,
    /// The provider's API, e.g. http://127.0.0.1:8010.
    #[arg(long)]
    sandbox: String,
    #[arg(long)]
    api_key: String,
    #[arg(long, default_value = "stripe")]
    slug: String,
    /// How long the backfills may take to end.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to either backend's pool (the SQL is the same).
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

const PENDING: &str =
    "SELECT COUNT(*) FROM sync_jobs j JOIN connections c ON c.id = j.connection_id \
     JOIN data_sources d ON d.id = c.data_source_id WHERE d.slug = $1 \
     AND (NOT j.backfill_done OR EXISTS (SELECT 1 FROM sync_windows w WHERE w.job_id = j.id))";
const JOBS: &str = "SELECT COUNT(*) FROM sync_jobs j JOIN connections c ON c.id = j.connection_id \
     JOIN data_sources d ON d.id = c.data_source_id WHERE d.slug = $1";
const CONNECTIONS: &str = "SELECT c.id FROM connections c JOIN data_sources d \
     ON d.id = c.data_source_id WHERE d.slug = $1 ORDER BY c.id";
const USER_STORED: &str = "SELECT COUNT(*) FROM synced_objects o JOIN connections c \
     ON c.id = o.connection_id JOIN users u ON u.id = c.user_id WHERE u.email_normalized = $1";
const USER_PENDING: &str = "SELECT COUNT(*) FROM sync_jobs j JOIN connections c \
     ON c.id = j.connection_id JOIN users u ON u.id = c.user_id WHERE u.email_normalized = $1 \
     AND (NOT j.backfill_done OR EXISTS (SELECT 1 FROM sync_windows w WHERE w.job_id = j.id))";
const STORED_IDS: &str = "SELECT object_id FROM synced_objects \
     WHERE connection_id = $1 AND object_name = $2";
const COUNTED: &str = "SELECT COALESCE(MAX(objects_synced), 0) FROM sync_jobs \
     WHERE connection_id = $1 AND object_name = $2";

impl Store {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?;
            let pool = SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            Ok(Store::Sqlite(pool))
        } else {
            Ok(Store::Postgres(
                PgPool::connect(url)
                    .await
                    .context("connecting to PostgreSQL")?,
            ))
        }
    }

    async fn count(&self, query: &'static str, text: &str) -> anyhow::Result<i64> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar::<_, i64>(query)
            .bind(text)
            .fetch_one(pool)
            .await?))
    }

    /// Objects stored for the user's connections, and their objects still backfilling.
    pub async fn backfill_of(&self, email: &str) -> anyhow::Result<(i64, i64)> {
        let email = email.trim().to_lowercase();
        Ok((
            self.count(USER_STORED, &email).await?,
            self.count(USER_PENDING, &email).await?,
        ))
    }

    async fn connections(&self, slug: &str) -> anyhow::Result<Vec<i64>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            CONNECTIONS
        )
        .bind(slug)
        .fetch_all(pool)
        .await?))
    }

    async fn stored(&self, connection: i64, object: &str) -> anyhow::Result<(Vec<String>, i64)> {
        Ok(with_pool!(self, |pool| {
            let ids = sqlx::query_scalar::<_, String>(STORED_IDS)
                .bind(connection)
                .bind(object)
                .fetch_all(pool)
                .await?;
            let counted = sqlx::query_scalar::<_, i64>(COUNTED)
                .bind(connection)
                .bind(object)
                .fetch_one(pool)
                .await?;
            (ids, counted)
        }))
    }
}

/// Every id the provider lists at `path`, page after page (failed pages are asked again: the
/// provider's faults are on).
async fn provider_ids(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    api_key: &str,
) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let separator = if path.contains('?') { '&' } else { '?' };
    loop {
        let mut url = format!("{base}{path}{separator}limit=100");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&starting_after={cursor}"));
        }
        let mut page = None;
        for _ in 0..100 {
            let answer = client.get(&url).bearer_auth(api_key).send().await;
            if let Ok(response) = answer {
                if response.status().is_success() {
                    if let Ok(body) = response.json::<serde_json::Value>().await {
                        page = Some(body);
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = page.ok_or_else(|| anyhow!("the provider did not list {path}"))?;
        let data = page["data"]
            .as_array()
            .ok_or_else(|| anyhow!("{path}: a page without data"))?;
        for object in data {
            if let Some(id) = object["id"].as_str() {
                ids.push(id.to_string());
            }
        }
        if page["has_more"] != true || data.is_empty() {
            return Ok(ids);
        }
        cursor = ids.last().cloned();
    }
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.database_url).await?;
    let connections = store.connections(&args.slug).await?;
    if connections.is_empty() {
        bail!("no connection to {}", args.slug);
    }
    let expected_jobs = (connections.len() * STRIPE_OBJECTS.len()) as i64;
    let started = std::time::Instant::now();
    loop {
        let pending = store.count(PENDING, &args.slug).await?;
        let jobs = store.count(JOBS, &args.slug).await?;
        if pending == 0 && jobs >= expected_jobs {
            break;
        }
        if started.elapsed() > Duration::from_secs(args.timeout_secs) {
            bail!(
                "{pending} of {jobs} objects still backfilling after {}s",
                args.timeout_secs
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "verify: every backfill of {} connections ended {:.1}s after the check began",
        connections.len(),
        started.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let base = args.sandbox.trim_end_matches('/');
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (object, path) in STRIPE_OBJECTS {
        let ids = provider_ids(&client, base, path, &args.api_key).await?;
        expected.insert(object, ids.into_iter().collect());
    }
    let per_connection: usize = expected.values().map(BTreeSet::len).sum();

    let (mut stored_total, mut lost, mut duplicated, mut unexpected, mut counted_twice) =
        (0usize, 0usize, 0usize, 0usize, 0i64);
    for connection in &connections {
        for (object, ids) in &expected {
            let (stored, counted) = store.stored(*connection, object).await?;
            let distinct: BTreeSet<String> = stored.iter().cloned().collect();
            stored_total += stored.len();
            duplicated += stored.len() - distinct.len();
            lost += ids.difference(&distinct).count();
            unexpected += distinct.difference(ids).count();
            counted_twice += (counted - stored.len() as i64).max(0);
            if distinct != *ids {
                println!(
                    "  connection {connection} {object}: {} stored, {} at the provider",
                    distinct.len(),
                    ids.len()
                );
            }
        }
    }
    println!(
        "verify: {} connections x {} objects at the provider; {} stored; lost {}, duplicated {}, \
         not at the provider {}, counted twice {}",
        connections.len(),
        per_connection,
        stored_total,
        lost,
        duplicated,
        unexpected,
        counted_twice
    );
    if lost + duplicated + unexpected > 0 || counted_twice > 0 {
        bail!("the stored objects differ from the provider's");
    }
    println!("verify: passed");
    Ok(())
}
