//! The deployment files are for users (there is no Docker engine here): they are checked for the
//! shape and the settings the app needs, so that `docker compose up` works as documented.

use serde_norway::Value;

fn repository_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn docker_compose_runs_the_app_on_postgres_16_with_a_healthcheck_and_volumes() {
    let compose: Value = serde_norway::from_str(&repository_file("docker-compose.yml")).unwrap();
    let services = &compose["services"];

    let postgres = &services["postgres"];
    assert!(postgres["image"]
        .as_str()
        .unwrap()
        .starts_with("postgres:16"));
    assert!(postgres["healthcheck"]["test"].is_sequence());
    let volume = postgres["volumes"][0].as_str().unwrap();
    assert!(volume.ends_with(":/var/lib/postgresql/data"));
    let volume_name = volume.split(':').next().unwrap();
    assert!(
        compose["volumes"].get(volume_name).is_some(),
        "the volume is declared"
    );

    let app = &services["app"];
    assert_eq!(app["build"].as_str(), Some("."));
    assert_eq!(
        app["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy"),
        "the app waits for a healthy database"
    );
    let environment = &app["environment"];
    assert_eq!(environment["APP_ENVIRONMENT"].as_str(), Some("production"));
    assert!(environment["APP_DATABASE__URL"]
        .as_str()
        .unwrap()
        .starts_with("postgres://"));
    assert!(app["ports"][0].as_str().unwrap().ends_with(":8000"));
    assert!(app["healthcheck"]["test"].is_sequence());
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged() {
    let dockerfile = repository_file("Dockerfile");
    assert!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM")) >= 2
    );
    assert!(dockerfile.contains(" AS build") && dockerfile.contains("COPY --from=build"));
    assert!(
        dockerfile.contains("\nUSER "),
        "the app does not run as root"
    );
    assert!(dockerfile.contains("APP_APPLICATION__STATIC_DIR"));
}

#[test]
fn env_example_lists_every_documented_setting() {
    let example = repository_file(".env.example");
    for name in [
        "APP_ENVIRONMENT",
        "APP_APPLICATION__HOST",
        "APP_APPLICATION__PORT",
        "APP_APPLICATION__BASE_URL",
        "APP_DATABASE__URL",
        "APP_AUTH__JWT_SECRET",
        "APP_SECURITY__TOKEN_KEYS",
        "STRIPE_CLIENT_ID",
        "STRIPE_API_SECRET_KEY",
        "STRIPE_API_PUBLISHABLE_KEY",
        "STRIPE_AUTHORIZE_URL",
        "STRIPE_REQUEST_TOKEN_URL",
        "STRIPE_REDIRECT_URI",
        "GOOGLE_CLIENT_ID",
        "FACEBOOK_CLIENT_ID",
        "APP_SANDBOX__ENABLED",
    ] {
        assert!(
            example.contains(name),
            ".env.example does not mention {name}"
        );
    }
}

/// The README's compose section starts with `allmetrics admin init-env`: `production` refuses to
/// start without the secrets it writes, and starts with them.
#[tokio::test]
async fn production_starts_with_the_env_file_that_admin_init_env_writes() {
    let folder = tempfile::tempdir().unwrap();
    let mut refused = production_server(folder.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut exited = None;
    for _ in 0..300 {
        exited = refused.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if exited.is_none() {
        refused.kill().unwrap();
    }
    let refused = refused.wait_with_output().unwrap();
    assert!(
        exited.is_some_and(|status| !status.success()),
        "production started without secrets"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(said.contains("APP_AUTH__JWT_SECRET"), "{said}");

    let init = std::process::Command::new(env!("CARGO_BIN_EXE_allmetrics"))
        .args(["admin", "init-env"])
        .current_dir(folder.path())
        .env_clear()
        .env("APP_CONFIG_DIR", config_dir())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let env_file = std::fs::read_to_string(folder.path().join(".env")).unwrap();
    let printed = String::from_utf8_lossy(&init.stdout);
    for name in ["APP_AUTH__JWT_SECRET", "APP_SECURITY__TOKEN_KEYS"] {
        assert!(printed.contains(name), "{printed}");
        let value = env_file
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap();
        assert!(value.len() >= 32, "{name}");
        assert!(
            !printed.contains(value),
            "init-env printed the value of {name}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(folder.path().join(".env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = production_server(folder.path())
        .env("APP_APPLICATION__PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..300 {
        if let Some(status) = server.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("production exited ({status}) with the written .env: {stderr}");
        }
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            healthy = response.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(healthy, "production did not answer /healthz");
}

fn config_dir() -> String {
    format!("{}/configuration", env!("CARGO_MANIFEST_DIR"))
}

/// `allmetrics serve` in `production` on SQLite in `folder`, which is its working directory (where
/// it reads `.env`), and nothing else from this process's environment.
fn production_server(folder: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_allmetrics"));
    command
        .arg("serve")
        .current_dir(folder)
        .env_clear()
        .env("APP_CONFIG_DIR", config_dir())
        .env("APP_ENVIRONMENT", "production")
        .env("APP_APPLICATION__HOST", "127.0.0.1")
        .env("APP_APPLICATION__PORT", "0")
        .env("APP_APPLICATION__DATA_DIR", folder.join("data"))
        .env("APP_APPLICATION__STATIC_DIR", folder.join("web"))
        .env(
            "APP_DATABASE__URL",
            format!("sqlite://{}/allmetrics.db", folder.display()),
        )
        .env("RUST_LOG", "warn");
    command
}
