use crate::helpers::{spawn_app, DbKind};

#[tokio::test]
async fn the_web_app_is_served_with_history_fallback_and_asset_caching() {
    let app = spawn_app(DbKind::Sqlite).await;
    let wasm_bytes = [b"\0asm".as_slice(), &[0u8; 64 * 1024]].concat();
    std::fs::write(
        app.static_dir.join("frontend-0123456789abcdef_bg.wasm"),
        &wasm_bytes,
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

    assert_eq!(wasm.bytes().await.unwrap(), wasm_bytes);

    // Browsers ask for gzip and get it: the web app downloads at its gzipped size.
    let gzipped = reqwest::Client::new()
        .get(format!("{}/frontend-0123456789abcdef_bg.wasm", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert!(gzipped.bytes().await.unwrap().len() < wasm_bytes.len() / 10);

    let script = app.get("/frontend-0123456789abcdef.js").await;
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));

    let unhashed = app.get("/robots.txt").await;
    assert_eq!(unhashed.headers()["cache-control"], "no-cache");

    // Escaping the folder finds nothing but the app: a file beside it is never served, whether
    // the path climbs out plainly (sent raw: clients would resolve the `..`) or encoded.
    let beside = format!("outside-{}.txt", uuid::Uuid::new_v4().simple());
    let outside = app.static_dir.parent().unwrap().join(&beside);
    std::fs::write(&outside, "SECRET-OUTSIDE-THE-APP").unwrap();
    for path in [format!("/../{beside}"), format!("/..%2f{beside}")] {
        let (status, body) = raw_get(app.port, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("<div id=app>"), "{path}: {body}");
        assert!(!body.contains("SECRET-OUTSIDE-THE-APP"), "{path}");
    }
    std::fs::remove_file(&outside).unwrap();
}

/// A GET sent as written, without the client normalising the path.
async fn raw_get(port: u16, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_missing_build_is_explained() {
    let app = spawn_app(DbKind::Sqlite).await;
    std::fs::remove_file(app.static_dir.join("index.html")).unwrap();
    let response = app.get("/").await;
    crate::helpers::assert_error(response, 503, "web_app_not_built").await;
}
