use crate::helpers::{assert_error, spawn_app, DbKind};
use crate::on_both_databases;

on_both_databases!(
    unknown_api_routes_get_a_json_404_with_the_request_id,
    a_wrong_method_on_a_known_path_gets_a_json_405,
    a_trailing_slash_reaches_the_same_route
);

async fn unknown_api_routes_get_a_json_404_with_the_request_id(kind: DbKind) {
    let app = spawn_app(kind).await;
    for path in ["/api/v1/nothing-here", "/connect/nothing", "/api"] {
        let body = assert_error(app.get(path).await, 404, "not_found").await;
        assert!(!body.request_id.is_empty());
    }
    let response = app
        .client
        .delete(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
}

async fn a_wrong_method_on_a_known_path_gets_a_json_405(kind: DbKind) {
    let app = spawn_app(kind).await;
    for path in ["/healthz", "/readyz", "/api/openapi.yaml"] {
        let response = app.client.post(app.url(path)).send().await.unwrap();
        assert_error(response, 405, "method_not_allowed").await;
    }
}

async fn a_trailing_slash_reaches_the_same_route(kind: DbKind) {
    let app = spawn_app(kind).await;
    assert_eq!(app.get("/healthz/").await.status().as_u16(), 200);
    assert_eq!(app.get("/readyz/?x=1").await.status().as_u16(), 200);
}

#[tokio::test]
async fn every_request_gets_its_own_id() {
    let app = spawn_app(DbKind::Sqlite).await;
    let first = app.get_healthz().await;
    let second = app.get_healthz().await;
    assert_ne!(
        first.headers().get("x-request-id").unwrap(),
        second.headers().get("x-request-id").unwrap()
    );
}
