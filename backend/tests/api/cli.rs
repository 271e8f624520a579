//! `allmetrics admin create-user` for headless installs: the account it creates can sign in.

use std::io::Write;
use std::process::{Command, Stdio};

use allmetrics_common::UserResponse;

use crate::helpers::{spawn_app, DbKind, PASSWORD};
use crate::on_both_databases;

on_both_databases!(the_cli_creates_an_admin_who_can_sign_in);

fn create_user(
    database_url: &str,
    email: &str,
    password: &str,
    admin: bool,
) -> std::process::Output {
    let work_dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_allmetrics"));
    command
        .args(["admin", "create-user", "--email", email])
        .current_dir(work_dir.path())
        .env_clear()
        .env("APP_DATABASE__URL", database_url)
        .env("APP_APPLICATION__DATA_DIR", work_dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if admin {
        command.arg("--admin");
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn the_cli_creates_an_admin_who_can_sign_in(kind: DbKind) {
    let app = spawn_app(kind).await;
    // Someone registered first: without --admin the CLI would make a plain user.
    app.sign_up("first@example.com").await;

    let url = app.database.url.clone();
    let output =
        tokio::task::spawn_blocking(move || create_user(&url, "ops@example.com", PASSWORD, true))
            .await
            .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin user ops@example.com"));

    let session = app.sign_up("ops@example.com").await;
    let me: UserResponse = app
        .get_me(&session.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.role.as_str(), "admin");
    assert_eq!(
        app.get_admin_users(&session.access_token)
            .await
            .status()
            .as_u16(),
        200
    );

    let url = app.database.url.clone();
    let weak =
        tokio::task::spawn_blocking(move || create_user(&url, "weak@example.com", "short", false))
            .await
            .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("weak_password"));
}
