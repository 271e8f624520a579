use crate::helpers::{spawn_app, DbKind};

/// The committed `openapi.yaml` is what clients generate SDKs from: it must be exactly the spec
/// the server serves. Regenerate it with `make openapi`.
#[tokio::test]
async fn committed_openapi_yaml_matches_the_served_spec() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
            .expect("openapi.yaml at the repository root");
    let generated = allmetrics::openapi::spec_yaml().unwrap();
    assert!(
        committed == generated,
        "openapi.yaml is out of date: run `make openapi` and commit the result"
    );

    let app = spawn_app(DbKind::Sqlite).await;
    let served_yaml = app.get_openapi_yaml().await;
    assert_eq!(served_yaml.status().as_u16(), 200);
    assert_eq!(served_yaml.text().await.unwrap(), committed);

    let served_json: serde_json::Value = app.get_openapi_json().await.json().await.unwrap();
    let from_yaml: serde_json::Value = serde_norway::from_str(&committed).unwrap();
    assert_eq!(served_json, from_yaml);
    assert!(served_json["paths"]["/healthz"]["get"].is_object());
}

#[tokio::test]
async fn the_docs_ui_is_served_without_internet() {
    let app = spawn_app(DbKind::Sqlite).await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status().as_u16(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.get("/docs/").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The UI's own assets come from this server, not a CDN.
    assert!(
        !html.contains("https://"),
        "the docs page loads nothing from the internet"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status().as_u16(), 200);
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/api/openapi.json"), "{initializer}");
}
