use crate::helpers::{spawn_app, DbKind};

#[tokio::test]
async fn the_web_app_is_served_with_history_fallback_and_asset_caching() {
    let app = spawn_app(DbKind::Sqlite).await;
    std::fs::write(
        app.static_dir.join("frontend-0123456789abcdef_bg.wasm"),
        b"\0asm",
    )
    .unwrap();
    std::fs::write(
        app.static_dir.join("frontend-0123456789abcdef.js"),
        "export {}",
    )
    .unwrap();
    std::fs::write(app.static_dir.join("robots.txt"), "User-agent: *").unwrap();

    for path in [
        "/",
        "/dashboards/3",
        "/sources?connected=demo",
        "/metrics/new",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("<div id=app>"));
    }

    let wasm = app.get("/frontend-0123456789abcdef_bg.wasm").await;
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let script = app.get("/frontend-0123456789abcdef.js").await;
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));

    let unhashed = app.get("/robots.txt").await;
    assert_eq!(unhashed.headers()["cache-control"], "no-cache");

    // Escaping the folder finds nothing but the app.
    let escape = app.get("/..%2f..%2fetc/passwd").await;
    assert!(!escape.text().await.unwrap().contains("root:"));
}

#[tokio::test]
async fn a_missing_build_is_explained() {
    let app = spawn_app(DbKind::Sqlite).await;
    std::fs::remove_file(app.static_dir.join("index.html")).unwrap();
    let response = app.get("/").await;
    crate::helpers::assert_error(response, 503, "web_app_not_built").await;
}
