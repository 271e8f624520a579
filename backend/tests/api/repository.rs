//! The repository's story, told once and run on both backends.

use allmetrics::db::{self, Backend, DbError};
use allmetrics::domain::{ConnectionId, NewUser, Role};

use crate::helpers::{test_settings, DbKind, TestDatabase};
use crate::on_both_databases;

on_both_databases!(
    repository_story,
    a_backfill_under_way_before_windows_goes_on_from_its_cursor
);

async fn repository_story(kind: DbKind) {
    let database = TestDatabase::create(kind).await;
    let settings = test_settings(&database.url, std::env::temp_dir());
    let repository = db::connect(&settings.database).await.unwrap();
    repository.migrate().await.unwrap();
    // Migrating again is a no-op.
    repository.migrate().await.unwrap();
    assert_eq!(
        repository.backend(),
        match kind {
            DbKind::Sqlite => Backend::Sqlite,
            DbKind::Postgres => Backend::Postgres,
        }
    );
    repository.ping().await.unwrap();
    assert!(repository.list_users().await.unwrap().is_empty());

    let new_user = |email: &str, role| NewUser {
        email: email.into(),
        password_hash: format!("hash-of-{email}"),
        role,
    };
    let first = repository
        .create_user(new_user("Ann@Example.com", None))
        .await
        .unwrap();
    assert_eq!(first.role, Role::Admin, "the first user is admin");
    assert_eq!(first.email, "Ann@Example.com");
    let second = repository
        .create_user(new_user("bob@example.com", None))
        .await
        .unwrap();
    assert_eq!(second.role, Role::User, "later users are not");
    let promoted = repository
        .create_user(new_user("carol@example.com", Some(Role::Admin)))
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Admin);

    let duplicate = repository
        .create_user(new_user(" ANN@example.COM ", None))
        .await;
    assert!(
        matches!(duplicate, Err(DbError::Conflict("email"))),
        "{duplicate:?}"
    );

    let found = repository
        .user_credentials_by_email("ann@EXAMPLE.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, first);
    assert_eq!(found.password_hash, "hash-of-Ann@Example.com");
    assert!(repository
        .user_credentials_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());

    assert_eq!(
        repository.user_by_id(second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        repository
            .user_by_id(allmetrics::domain::UserId(999_999))
            .await
            .unwrap(),
        None
    );
    let users = repository.list_users().await.unwrap();
    assert_eq!(users, vec![first, second, promoted]);
    repository.close().await;
}

/// A database whose backfills were single cursor walks (before windows) is upgraded in place: a
/// backfill under way becomes one window that resumes from its cursor.
async fn a_backfill_under_way_before_windows_goes_on_from_its_cursor(kind: DbKind) {
    const LAST_BEFORE_WINDOWS: i64 = 20261125000006;
    let database = TestDatabase::create(kind).await;
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(match kind {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        });
    let migrator = sqlx::migrate::Migrator::new(folder.as_path())
        .await
        .unwrap();
    let rows = [
        "INSERT INTO users (email, email_normalized, password_hash, role, created_at) \
         VALUES ('a@example.com', 'a@example.com', 'x', 'admin', CURRENT_TIMESTAMP)",
        "INSERT INTO connections \
         (user_id, data_source_id, auth_kind, access_token_enc, status, created_at, updated_at) \
         SELECT 1, id, 'api_key', 'x', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP \
         FROM data_sources WHERE slug = 'demo'",
        // Under way: 42 charges stored, down to one created at 500.
        "INSERT INTO sync_jobs (connection_id, object_name, backfill_before, backfill_cursor, \
         oldest_created, objects_synced, next_run_at) VALUES (1, 'Charge', 1000, 'ch_500', 500, 42, 0)",
        "INSERT INTO sync_jobs (connection_id, object_name, backfill_before, backfill_cursor, \
         backfill_done, oldest_created, next_run_at) VALUES (1, 'Customer', 900, 'cus_1', TRUE, 1, 0)",
        "INSERT INTO sync_jobs (connection_id, object_name, next_run_at) VALUES (1, 'Refund', 0)",
    ];
    match kind {
        DbKind::Sqlite => {
            let options =
                <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&database.url)
                    .unwrap()
                    .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run_to(LAST_BEFORE_WINDOWS, &pool).await.unwrap();
            for row in rows {
                sqlx::query(row).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        DbKind::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            migrator.run_to(LAST_BEFORE_WINDOWS, &pool).await.unwrap();
            for row in rows {
                sqlx::query(row).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
    }

    let settings = test_settings(&database.url, std::env::temp_dir());
    let repository = db::connect(&settings.database).await.unwrap();
    repository.migrate().await.unwrap();
    let jobs = repository.sync_jobs(ConnectionId(1)).await.unwrap();
    let job = |name: &str| jobs.iter().find(|job| job.object_name == name).unwrap();
    let charges = job("Charge");
    assert!(!charges.backfill_done);
    assert_eq!(charges.objects_synced, 42);
    assert_eq!(charges.covered_from, Some(501));
    let windows = repository.backfill_windows(charges.id).await.unwrap();
    assert_eq!(windows.len(), 1);
    let window = &windows[0];
    assert_eq!(
        (window.created_gte, window.created_lt),
        (None, 1000),
        "the whole history below the backfill's bound"
    );
    assert_eq!(
        (window.cursor.as_deref(), window.cursor_created),
        (Some("ch_500"), Some(500))
    );
    assert!(job("Customer").backfill_done);
    assert!(repository
        .backfill_windows(job("Customer").id)
        .await
        .unwrap()
        .is_empty());
    // Not started: its first window is made when it starts.
    let refunds = job("Refund");
    assert!(!refunds.backfill_done && refunds.covered_from.is_none());
    assert!(repository
        .backfill_windows(refunds.id)
        .await
        .unwrap()
        .is_empty());
    repository.close().await;
}
