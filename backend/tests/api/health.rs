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
