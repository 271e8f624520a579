//! Schema upgrades keep data: a database at `20261125000007_backfill_windows`, filled the way the
//! code of that schema wrote it, is migrated to today's schema; every row is still there, the
//! columns added since have their defaults, and the server works on it.

use std::str::FromStr;

use allmetrics::db::migrations;
use allmetrics_common::{ConnectionResponse, Dashboard, Metric, Series, TokenResponse};
use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use crate::helpers::{
    spawn_app_on, test_settings, DbKind, TestDatabase, PASSWORD, TEST_TOKEN_KEYS,
};
use crate::on_both_databases;

on_both_databases!(upgrading_from_backfill_windows_keeps_every_row);

/// The last migration of the schema the data is written in.
const OLD_SCHEMA: i64 = 20261125000007;

/// The columns each table had at `OLD_SCHEMA`, and the order its rows are compared in.
const TABLES: &[(&str, &str)] = &[
    (
        "users",
        "id, email, email_normalized, password_hash, role, created_at",
    ),
    (
        "refresh_tokens",
        "id, user_id, family_id, token_hash, created_at, expires_at, used_at, revoked_at",
    ),
    (
        // Sources added since (the demos of Analytics and Ads) are checked apart.
        "data_sources WHERE slug NOT IN ('demo-analytics', 'demo-ads')",
        "id, slug, name, provider, enabled, created_at",
    ),
    (
        "connections",
        "id, user_id, data_source_id, auth_kind, account_id, access_token_enc, \
         refresh_token_enc, expires_at, scopes, token_response, status, refresh_lease_until, \
         created_at, updated_at",
    ),
    (
        "oauth_states",
        "state_hash, user_id, slug, pkce_verifier_enc, redirect_uri, expires_at",
    ),
    (
        "synced_objects",
        "connection_id, object_name, object_id, created, data, synced_at",
    ),
    (
        "sync_jobs",
        "id, connection_id, object_name, backfill_before, backfill_done, objects_synced, \
         incremental_from, last_synced_at, last_error, failures, next_run_at, lease_owner, \
         lease_until, data_version, covered_from",
    ),
    (
        "sync_windows",
        "id, job_id, created_gte, created_lt, cursor, cursor_created",
    ),
    (
        "metrics",
        "id, user_id, name, source, object_name, operator, field_name, value_field, date_field, \
         created_at, updated_at",
    ),
    (
        "dashboards",
        "id, user_id, name, default_total_days, is_home, created_at",
    ),
    ("dashboard_metrics", "dashboard_id, metric_id, position"),
];

/// Routing sources kept through the upgrade: Stripe's and the demo's (Google's `Report` and
/// Facebook's `Insights` were replaced by one object per report, checked apart).
const KEPT_ROUTING: &str = "SELECT CAST(id AS TEXT), CAST(data_source_id AS TEXT), object_name, \
     label, CAST(enabled AS TEXT), CAST(position AS TEXT), CAST(created_at AS TEXT) \
     FROM routing_sources WHERE data_source_id IN \
     (SELECT id FROM data_sources WHERE slug IN ('stripe', 'demo')) ORDER BY id";

type Rows = Vec<Vec<Option<String>>>;

fn snapshot_query(table: &str, columns: &str) -> String {
    let cast: Vec<String> = columns
        .split(',')
        .map(|column| format!("CAST({} AS TEXT)", column.trim()))
        .collect();
    let order: Vec<String> = (1..=cast.len()).map(|i| i.to_string()).collect();
    format!(
        "SELECT {} FROM {table} ORDER BY {}",
        cast.join(", "),
        order.join(", ")
    )
}

enum OldDatabase {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the pool of either backend (the SQL is the same).
macro_rules! with_pool {
    ($database:expr, |$pool:ident| $body:expr) => {
        match $database {
            OldDatabase::Sqlite($pool) => $body,
            OldDatabase::Postgres($pool) => $body,
        }
    };
}

impl OldDatabase {
    async fn open(database: &TestDatabase) -> Self {
        if database.url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(&database.url)
                .unwrap()
                .create_if_missing(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            OldDatabase::Sqlite(pool)
        } else {
            OldDatabase::Postgres(PgPool::connect(&database.url).await.unwrap())
        }
    }

    async fn migrate_to_old_schema(&self) {
        match self {
            OldDatabase::Sqlite(pool) => {
                migrations::sqlite().run_to(OLD_SCHEMA, pool).await.unwrap()
            }
            OldDatabase::Postgres(pool) => migrations::postgres()
                .run_to(OLD_SCHEMA, pool)
                .await
                .unwrap(),
        }
    }

    async fn rows(&self, query: &str) -> Rows {
        let query = sqlx::AssertSqlSafe(query.to_string());
        with_pool!(self, |pool| {
            let rows = sqlx::query(query).fetch_all(pool).await.unwrap();
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    (0..row.len())
                        .map(|i| row.get::<Option<String>, _>(i))
                        .collect()
                })
                .collect()
        })
    }

    async fn snapshot(&self) -> Vec<(&'static str, Rows)> {
        let mut tables = Vec::new();
        for (table, columns) in TABLES {
            tables.push((*table, self.rows(&snapshot_query(table, columns)).await));
        }
        tables.push(("routing_sources", self.rows(KEPT_ROUTING).await));
        tables
    }

    async fn close(self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

/// What the old schema held, as its code wrote it: argon2 hashes, tokens encrypted under
/// `user/slug/field`, objects as JSON, jobs with their checkpoints and backfill windows, metrics
/// and dashboards.
struct OldData {
    ann_id: i64,
    ann_key: &'static str,
    bob_refresh_token: &'static str,
    revenue_id: i64,
    count_id: i64,
    home_id: i64,
    payments_id: i64,
}

macro_rules! fill_old_schema {
    ($pool:ident, $cipher:expr, $hash:expr) => {{
        let cipher: &allmetrics::crypto::TokenCipher = $cipher;
        let hash: &str = $hash;
        let user = |email: &'static str, role: &'static str, created: DateTime<Utc>| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (email, email_normalized, password_hash, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(email)
            .bind(email.trim().to_lowercase())
            .bind(hash)
            .bind(role)
            .bind(created)
        };
        let ann_id = user("Ann@Example.com", "admin", at(1, 9))
            .fetch_one($pool)
            .await
            .unwrap();
        let bob_id = user("bob@example.com", "user", at(2, 9))
            .fetch_one($pool)
            .await
            .unwrap();

        sqlx::query(
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at, \
             used_at, revoked_at) VALUES ($1, 'family-1', 'hash-1', $2, $3, NULL, NULL), \
             ($1, 'family-1', 'hash-0', $2, $3, $4, NULL)",
        )
        .bind(ann_id)
        .bind(at(20, 8))
        .bind(at(20, 8).timestamp() + 30 * 86_400)
        .bind(at(20, 9).timestamp())
        .execute($pool)
        .await
        .unwrap();

        let demo: i64 = sqlx::query_scalar("SELECT id FROM data_sources WHERE slug = 'demo'")
            .fetch_one($pool)
            .await
            .unwrap();
        let ann_key = "sk_test_allmetrics_demo";
        let connection = |user: i64,
                          kind: &'static str,
                          account: Option<&'static str>,
                          access: String,
                          refresh: Option<String>,
                          expires_at: Option<i64>,
                          scopes: &'static str,
                          response: serde_json::Value| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO connections (user_id, data_source_id, auth_kind, account_id, \
                 access_token_enc, refresh_token_enc, expires_at, scopes, token_response, \
                 status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10) RETURNING id",
            )
            .bind(user)
            .bind(demo)
            .bind(kind)
            .bind(account)
            .bind(access)
            .bind(refresh)
            .bind(expires_at)
            .bind(scopes)
            .bind(sqlx::types::Json(response))
            .bind(at(3, 10))
        };
        let ann_connection = connection(
            ann_id,
            "api_key",
            None,
            cipher
                .encrypt(ann_key, &format!("{ann_id}/demo/access"))
                .unwrap(),
            None,
            None,
            "",
            serde_json::json!({}),
        )
        .fetch_one($pool)
        .await
        .unwrap();
        let bob_refresh_token = "rt_bob_refresh";
        let bob_connection = connection(
            bob_id,
            "oauth",
            Some("acct_bob"),
            cipher
                .encrypt("at_bob_access", &format!("{bob_id}/demo/access"))
                .unwrap(),
            Some(
                cipher
                    .encrypt(bob_refresh_token, &format!("{bob_id}/demo/refresh"))
                    .unwrap(),
            ),
            Some(4_102_444_800),
            "read_only",
            serde_json::json!({"token_type": "bearer", "scope": "read_only",
                               "stripe_user_id": "acct_bob", "livemode": false}),
        )
        .fetch_one($pool)
        .await
        .unwrap();

        sqlx::query(
            "INSERT INTO oauth_states (state_hash, user_id, slug, pkce_verifier_enc, \
             redirect_uri, expires_at) VALUES ('state-hash', $1, 'google', $2, \
             'http://127.0.0.1:8000/connect/oauth/callback/google/', $3)",
        )
        .bind(bob_id)
        .bind(cipher.encrypt("verifier", "oauth_state/state-hash").unwrap())
        .bind(at(20, 10).timestamp())
        .execute($pool)
        .await
        .unwrap();

        // Thirty charges, one a day at noon: 100, 200, ... 3000 cents, in usd and eur by turns.
        for day in 1..=30u32 {
            let created = at(day, 12).timestamp();
            let data = serde_json::json!({
                "id": format!("ch_{day:04}"), "object": "charge", "created": created,
                "amount": 100 * i64::from(day), "currency": if day % 2 == 0 { "eur" } else { "usd" },
                "status": "succeeded", "customer": format!("cus_{:04}", day % 5),
                "metadata": {"order": day}
            });
            sqlx::query(
                "INSERT INTO synced_objects (connection_id, object_name, object_id, created, \
                 data, synced_at) VALUES ($1, 'Charge', $2, $3, $4, $5)",
            )
            .bind(ann_connection)
            .bind(format!("ch_{day:04}"))
            .bind(created)
            .bind(sqlx::types::Json(data))
            .bind(at(30, 23).timestamp())
            .execute($pool)
            .await
            .unwrap();
        }
        for (connection, count) in [(ann_connection, 5u32), (bob_connection, 3)] {
            for i in 0..count {
                let created = at(10 + i, 8).timestamp();
                sqlx::query(
                    "INSERT INTO synced_objects (connection_id, object_name, object_id, created, \
                     data, synced_at) VALUES ($1, 'Customer', $2, $3, $4, $5)",
                )
                .bind(connection)
                .bind(format!("cus_{i:04}"))
                .bind(created)
                .bind(sqlx::types::Json(serde_json::json!({
                    "id": format!("cus_{i:04}"), "object": "customer", "created": created,
                    "email": format!("customer{i}@example.com"), "delinquent": false
                })))
                .bind(at(30, 23).timestamp())
                .execute($pool)
                .await
                .unwrap();
            }
        }

        // Ann's charges are backfilled and kept up to date; her customers' backfill is under way
        // in two windows; Bob's last run failed twice.
        let job = |connection: i64,
                   object: &'static str,
                   backfill_before: Option<i64>,
                   done: bool,
                   synced: i64,
                   incremental_from: Option<i64>,
                   error: Option<&'static str>,
                   failures: i32,
                   version: i64,
                   covered_from: Option<i64>| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO sync_jobs (connection_id, object_name, backfill_before, \
                 backfill_done, objects_synced, incremental_from, last_synced_at, last_error, \
                 failures, next_run_at, lease_owner, lease_until, data_version, covered_from) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11, $12) \
                 RETURNING id",
            )
            .bind(connection)
            .bind(object)
            .bind(backfill_before)
            .bind(done)
            .bind(synced)
            .bind(incremental_from)
            .bind(at(30, 23).timestamp())
            .bind(error)
            .bind(failures)
            .bind(4_102_444_800i64)
            .bind(version)
            .bind(covered_from)
        };
        job(
            ann_connection,
            "Charge",
            Some(at(1, 0).timestamp()),
            true,
            30,
            Some(at(30, 22).timestamp()),
            None,
            0,
            7,
            None,
        )
        .fetch_one($pool)
        .await
        .unwrap();
        let customers = job(
            ann_connection,
            "Customer",
            Some(at(20, 0).timestamp()),
            false,
            5,
            None,
            None,
            0,
            3,
            Some(at(10, 8).timestamp()),
        )
        .fetch_one($pool)
        .await
        .unwrap();
        job(
            bob_connection,
            "Customer",
            Some(at(20, 0).timestamp()),
            true,
            3,
            Some(at(30, 22).timestamp()),
            Some("the provider answered 500"),
            2,
            1,
            None,
        )
        .fetch_one($pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sync_windows (job_id, created_gte, created_lt, cursor, cursor_created) \
             VALUES ($1, NULL, $2, 'cus_0000', $3), ($1, $3, $4, NULL, NULL)",
        )
        .bind(customers)
        .bind(at(5, 0).timestamp())
        .bind(at(10, 8).timestamp() - 1)
        .bind(at(20, 0).timestamp())
        .execute($pool)
        .await
        .unwrap();

        let metric = |name: &'static str,
                      operator: &'static str,
                      field: &'static str,
                      value: Option<&'static str>| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO metrics (user_id, name, source, object_name, operator, field_name, \
                 value_field, date_field, created_at, updated_at) \
                 VALUES ($1, $2, 'demo', 'Charge', $3, $4, $5, 'created', $6, $7) RETURNING id",
            )
            .bind(ann_id)
            .bind(name)
            .bind(operator)
            .bind(field)
            .bind(value)
            .bind(at(4, 10))
            .bind(at(5, 10))
        };
        let revenue_id = metric("Revenue by currency", "sum", "currency", Some("amount"))
            .fetch_one($pool)
            .await
            .unwrap();
        let count_id = metric("Charges", "count", "object", None)
            .fetch_one($pool)
            .await
            .unwrap();
        let dashboard = |name: &'static str, days: i32, home: bool| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO dashboards (user_id, name, default_total_days, is_home, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(ann_id)
            .bind(name)
            .bind(days)
            .bind(home)
            .bind(at(4, 11))
        };
        let home_id = dashboard("Home", 30, true)
            .fetch_one($pool)
            .await
            .unwrap();
        let payments_id = dashboard("Payments", 7, false)
            .fetch_one($pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO dashboard_metrics (dashboard_id, metric_id, position) \
             VALUES ($1, $3, 0), ($1, $4, 1), ($2, $4, 0)",
        )
        .bind(home_id)
        .bind(payments_id)
        .bind(count_id)
        .bind(revenue_id)
        .execute($pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO dashboards (user_id, name, default_total_days, is_home, created_at) \
             VALUES ($1, 'Home', 30, $2, $3)",
        )
        .bind(bob_id)
        .bind(true)
        .bind(at(2, 9))
        .execute($pool)
        .await
        .unwrap();

        OldData {
            ann_id,
            ann_key,
            bob_refresh_token,
            revenue_id,
            count_id,
            home_id,
            payments_id,
        }
    }};
}

/// November 2026, the month the old data lies in.
async fn series(app: &crate::helpers::TestApp, token: &str, id: i64) -> Series {
    let path = format!("/api/v1/metrics/{id}/series?end=2026-11-30&total_days=30");
    let response = app.get_authed(&path, token).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn upgrading_from_backfill_windows_keeps_every_row(kind: DbKind) {
    let database = TestDatabase::create(kind).await;
    let old = OldDatabase::open(&database).await;
    old.migrate_to_old_schema().await;
    let cipher = allmetrics::crypto::TokenCipher::from_spec(TEST_TOKEN_KEYS).unwrap();
    let hash = allmetrics::auth::password::hash(SecretString::from(PASSWORD.to_string()))
        .await
        .unwrap();
    let data = with_pool!(&old, |pool| fill_old_schema!(pool, &cipher, &hash));
    let before = old.snapshot().await;
    old.close().await;

    // The rest of the migrations, as the server applies them when it starts.
    let settings = test_settings(&database.url, std::env::temp_dir());
    let repository = allmetrics::db::connect(&settings.database).await.unwrap();
    repository.migrate().await.unwrap();
    repository.close().await;

    let upgraded = OldDatabase::open(&database).await;
    let after = upgraded.snapshot().await;
    assert_eq!(before.len(), after.len());
    for ((table, rows_before), (_, rows_after)) in before.iter().zip(&after) {
        assert!(!rows_before.is_empty(), "{table} was filled");
        assert_eq!(rows_before, rows_after, "{table} kept its rows");
    }
    // Columns and rows added since: no connection has chosen an account; the reports replaced
    // the old single objects; the demos of Analytics and Ads exist.
    assert_eq!(
        upgraded
            .rows("SELECT CAST(id AS TEXT) FROM connections WHERE account IS NOT NULL")
            .await,
        Rows::new()
    );
    let objects = |slug: &str| {
        format!(
            "SELECT object_name FROM routing_sources r JOIN data_sources d \
             ON d.id = r.data_source_id WHERE d.slug = '{slug}' ORDER BY r.position"
        )
    };
    let names = |rows: Rows| -> Vec<String> {
        rows.into_iter()
            .map(|row| row[0].clone().unwrap())
            .collect()
    };
    for slug in ["google", "demo-analytics"] {
        assert_eq!(
            names(upgraded.rows(&objects(slug)).await),
            ["daily", "device", "country", "channel", "source", "page", "platform"],
            "{slug}"
        );
    }
    for slug in ["facebook", "demo-ads"] {
        assert_eq!(
            names(upgraded.rows(&objects(slug)).await),
            [
                "ads",
                "campaigns",
                "account",
                "country",
                "age_gender",
                "platform",
                "ads_country"
            ],
            "{slug}"
        );
    }
    upgraded.close().await;

    // The server works on it: the old user signs in, sees the connection, charts the metrics.
    let app = spawn_app_on(database, |_| {}).await;
    let login = app.post_login("ann@example.com", PASSWORD).await;
    assert_eq!(login.status().as_u16(), 200);
    let ann: TokenResponse = login.json().await.unwrap();
    let token = ann.access_token.as_str();

    let connections: Vec<ConnectionResponse> = app.get_connections(token).await;
    assert_eq!(connections.len(), 1);
    assert_eq!(
        (
            connections[0].source.as_str(),
            connections[0].auth_kind.as_str(),
            connections[0].status.as_str()
        ),
        ("demo", "api_key", "active")
    );
    assert!(connections[0].account.is_none());
    // The tokens still decrypt where they belong, with the same keys.
    let stored = app
        .repository
        .connection_by_id(allmetrics::domain::ConnectionId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id.0, data.ann_id);
    let key = app
        .state
        .cipher
        .decrypt(
            &stored.access_token_enc,
            &allmetrics::tokens::token_context(stored.user_id, "demo", "access"),
        )
        .unwrap();
    assert_eq!(key.expose_secret(), data.ann_key);
    let bob_stored = app
        .repository
        .connection_by_id(allmetrics::domain::ConnectionId(2))
        .await
        .unwrap()
        .unwrap();
    let refresh = app
        .state
        .cipher
        .decrypt(
            bob_stored.refresh_token_enc.as_deref().unwrap(),
            &allmetrics::tokens::token_context(bob_stored.user_id, "demo", "refresh"),
        )
        .unwrap();
    assert_eq!(refresh.expose_secret(), data.bob_refresh_token);

    let metrics: Vec<Metric> = app
        .get_authed("/api/v1/metrics", token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = metrics.iter().map(|metric| metric.id).collect();
    assert!(ids.contains(&data.revenue_id) && ids.contains(&data.count_id));
    let revenue = series(&app, token, data.revenue_id).await;
    assert_eq!(revenue.label_y.iter().sum::<f64>(), 46_500.0);
    assert_eq!(revenue.label_y[0], 100.0);
    assert_eq!(revenue.label_z["usd"].iter().sum::<f64>(), 22_500.0);
    assert_eq!(revenue.label_z["eur"].iter().sum::<f64>(), 24_000.0);
    let count = series(&app, token, data.count_id).await;
    assert_eq!(count.label_y, vec![1.0; 30]);

    let dashboards: Vec<Dashboard> = app
        .get_authed("/api/v1/dashboards", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dashboards.len(), 2);
    let home: Dashboard = app
        .get_authed(&format!("/api/v1/dashboards/{}", data.home_id), token)
        .await
        .json()
        .await
        .unwrap();
    assert!(home.is_home);
    assert_eq!(home.metric_ids, vec![data.count_id, data.revenue_id]);
    let payments: Dashboard = app
        .get_authed(&format!("/api/v1/dashboards/{}", data.payments_id), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (payments.default_total_days, payments.metric_ids.clone()),
        (7, vec![data.revenue_id])
    );

    // Bob signs in with his old password too.
    assert_eq!(
        app.post_login("bob@example.com", PASSWORD)
            .await
            .status()
            .as_u16(),
        200
    );
}
