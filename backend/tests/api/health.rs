use crate::helpers::{spawn_app, DbKind};
use crate::on_both_databases;

on_both_databases!(
    healthz_answers_ok,
    readyz_answers_ok_while_the_database_answers
);

async fn healthz_answers_ok(kind: DbKind) {
    let app = spawn_app(kind).await;
    let response = app.get_healthz().await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

async fn readyz_answers_ok_while_the_database_answers(kind: DbKind) {
    let app = spawn_app(kind).await;
    let response = app.get_readyz().await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
}

/// A server database can disappear under a running app; readiness must say so and recover by
/// itself. (An SQLite file is opened by the process itself and cannot go away like this.)
#[tokio::test]
async fn readyz_is_503_while_postgres_is_gone_and_recovers_when_it_is_back() {
    let app = spawn_app(DbKind::Postgres).await;
    assert_eq!(app.get_readyz().await.status().as_u16(), 200);

    app.database.drop_now().await;
    let response = app.get_readyz().await;
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
    // Liveness does not depend on the database.
    assert_eq!(app.get_healthz().await.status().as_u16(), 200);

    app.database.recreate().await;
    let mut status = 0;
    for _ in 0..50 {
        status = app.get_readyz().await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness recovers once the database is back");
}

/// A query cut off by the database going away (PostgreSQL stopping or restarting ends every
/// session with "terminating connection due to administrator command") is a 503 the client may
/// retry, not a 500; the next request gets a new connection.
#[tokio::test]
async fn a_query_cut_off_by_a_database_shutdown_is_a_503() {
    use sqlx::{Connection, Executor, PgConnection};

    let app = spawn_app(DbKind::Postgres).await;
    let session = app.sign_up("ann@example.com").await;
    let token = session.access_token.clone();
    assert_eq!(
        app.get_authed("/api/v1/metrics", &token)
            .await
            .status()
            .as_u16(),
        200
    );

    // Hold the metrics table so that the next listing waits inside its query.
    let mut holder = PgConnection::connect(&app.database.url).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/api/v1/metrics");
        let token = token.clone();
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    });
    let name = app.database.url.rsplit('/').next().unwrap().to_string();
    let mut observer = PgConnection::connect(&app.database.url).await.unwrap();
    let mut blocked = false;
    for _ in 0..100 {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&name)
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if count > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(blocked, "the listing waits for the lock");
    // What a shutdown does to every session (the lock's holder's too).
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .execute(&mut observer)
    .await
    .unwrap();
    let response = waiting.await.unwrap();
    crate::helpers::assert_error(response, 503, "database_unavailable").await;

    assert_eq!(
        app.get_authed("/api/v1/metrics", &token)
            .await
            .status()
            .as_u16(),
        200,
        "the next request works on a new connection"
    );
}
