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
