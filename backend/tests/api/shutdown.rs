use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app, DbKind};

/// SIGINT/SIGTERM stop the server gracefully (actix's signal handling calls the same stop): a
/// response being streamed completes, new connections are refused, the pool is closed.
#[tokio::test]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    let mut app = spawn_app(DbKind::Sqlite).await;
    let size = 32 * 1024 * 1024;
    std::fs::write(app.static_dir.join("big.bin"), vec![7u8; size]).unwrap();

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 4096];
    let read = stream.read(&mut first).await.unwrap();
    assert!(read > 0 && first.starts_with(b"HTTP/1.1 200"));

    // The response is far larger than the socket buffers: it is still in flight.
    let stop = tokio::spawn({
        let handle = app.handle.clone();
        async move { handle.stop(true).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .is_err(),
        "a stopping server accepts no new connection"
    );

    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    let mut response = first[..read].to_vec();
    response.extend_from_slice(&rest);
    let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        response.len() - body_start,
        size,
        "the whole body was delivered"
    );

    stop.await.unwrap();
    let server = app.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server task ends after a graceful stop")
        .unwrap()
        .unwrap();
    assert!(app.repository.ping().await.is_err(), "the pool is closed");
}
