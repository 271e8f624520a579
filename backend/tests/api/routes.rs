//! The routes the server registers and the operations the spec documents are the same, both
//! ways; every operation has a unique id, a tag and the errors it can answer.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{spawn_app, DbKind};
use crate::on_both_databases;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

fn spec() -> Value {
    serde_json::to_value(allmetrics::openapi::spec()).unwrap()
}

/// Every `(METHOD, path)` the spec documents.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(*method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Every `(METHOD, path)` the server routes, but the docs UI's redirect (`/docs` -> `/docs/`,
/// an HTML page for people).
fn registered() -> BTreeSet<(String, String)> {
    allmetrics::startup::routes()
        .into_iter()
        .filter(|(_, path)| *path != "/docs")
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect()
}

fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                all.push((method.to_string(), path.clone(), operation));
            }
        }
    }
    all
}

#[test]
fn every_route_is_documented_and_every_operation_is_routed() {
    let spec = spec();
    let documented = documented(&spec);
    let registered = registered();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the spec: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "in the spec but not routed: {unrouted:?}"
    );
    assert!(registered.len() >= 47, "{registered:?}");
}

#[test]
fn operation_ids_are_unique_and_every_operation_is_tagged() {
    let spec = spec();
    let declared_tags: BTreeSet<&str> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{method} {path}: operationId `{id}` is not snake_case"
        );
        assert!(
            ids.insert(id.to_string()),
            "operationId `{id}` is used twice"
        );
        let tags = operation["tags"].as_array().cloned().unwrap_or_default();
        assert!(!tags.is_empty(), "{method} {path} has no tag");
        for tag in tags {
            assert!(
                declared_tags.contains(tag.as_str().unwrap()),
                "{method} {path}: tag {tag} is not declared"
            );
        }
    }
}

fn schemes(operation: &Value) -> BTreeSet<String> {
    operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|requirement| requirement.as_object().unwrap().keys().cloned())
        .collect()
}

/// The error statuses an operation documents; each answers `ErrorBody` (but the readiness
/// probe's 503, which says what is not ready).
fn error_statuses(path: &str, operation: &Value) -> BTreeSet<String> {
    operation["responses"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
        .map(|(status, response)| {
            if path != "/readyz" {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{path} {status}: errors answer ErrorBody"
                );
            }
            status.clone()
        })
        .collect()
}

#[test]
fn protected_operations_name_their_credentials_and_document_their_errors() {
    let spec = spec();
    let declared: BTreeSet<&str> = spec["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for scheme in ["bearer", "api_token", "session_cookie", "refresh_cookie"] {
        assert!(declared.contains(scheme), "security scheme {scheme}");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["api_token"]["bearerFormat"],
        "am_pat_..."
    );
    for (method, path, operation) in operations(&spec) {
        let what = format!("{method} {path}");
        let schemes = schemes(operation);
        for scheme in &schemes {
            assert!(declared.contains(scheme.as_str()), "{what}: {scheme}");
        }
        let errors = error_statuses(&path, operation);
        if schemes.contains("bearer") {
            assert!(schemes.contains("session_cookie"), "{what}: {schemes:?}");
            assert!(errors.contains("401"), "{what} documents 401");
            // Tokens are managed by a signed-in session only.
            let api = (path.starts_with("/api/v1/")
                && !path.starts_with("/api/v1/auth/")
                && !path.starts_with("/api/v1/tokens"))
                || path.starts_with("/connect/query/");
            assert_eq!(schemes.contains("api_token"), api, "{what}: {schemes:?}");
            if api {
                assert!(
                    errors.contains("429"),
                    "{what} documents a token's rate limit"
                );
            }
            if method != "get" {
                assert!(errors.contains("403"), "{what} documents 403 csrf_failed");
            }
        } else {
            // Public operations: sign-up and sign-in, the probes, this document, webhooks
            // (signed), and the OAuth callback's own checks.
            assert!(
                path.starts_with("/api/v1/auth/")
                    || path.starts_with("/webhooks/")
                    || [
                        "/healthz",
                        "/readyz",
                        "/api/openapi.json",
                        "/api/openapi.yaml"
                    ]
                    .contains(&path.as_str()),
                "{what} is public"
            );
        }
        if path.starts_with("/api/v1/admin/") {
            assert!(errors.contains("403"), "{what} documents 403 forbidden");
        }
        if let Some(body) = operation.get("requestBody") {
            assert!(errors.contains("413"), "{what} documents 413");
            if body["content"].get("application/json").is_some()
                && !path.starts_with("/webhooks/")
                && path != "/api/v1/auth/refresh"
            {
                assert!(errors.contains("415"), "{what} documents 415");
                assert!(errors.contains("400"), "{what} documents 400");
            }
        }
        if path.contains('{') {
            assert!(
                errors.contains("404") || errors.contains("400"),
                "{what} documents what an unknown {{parameter}} answers"
            );
        }
    }
}

#[test]
fn the_series_and_the_errors_have_examples() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    assert!(schemas["Series"]["example"]["labelX"].is_array());
    assert!(schemas["ErrorBody"]["example"]["error"].is_string());
}

on_both_databases!(every_route_answers_and_other_methods_get_405_with_allow);

/// Each path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{slug}", "nosuchsource")
        .replace("{object_name}", "Charge")
        .replace("{webhook_id}", "nosuchwebhook")
}

/// The live server routes every registered method of every path (it answers something other
/// than the router's 404 or a 405), and any other method gets 405 with `Allow` naming exactly
/// the methods the spec documents for the path.
async fn every_route_answers_and_other_methods_get_405_with_allow(kind: DbKind) {
    let app = spawn_app(kind).await;
    let spec = spec();
    let documented = documented(&spec);
    let mut paths: BTreeSet<&str> = BTreeSet::new();
    for (_, path) in allmetrics::startup::routes() {
        paths.insert(path);
    }
    for path in paths {
        let url = app.url(&concrete(path));
        let accepted: BTreeSet<String> = allmetrics::startup::routes()
            .into_iter()
            .filter(|(_, p)| *p == path)
            .map(|(method, _)| method.to_string())
            .collect();
        if path != "/docs" {
            let in_spec: BTreeSet<String> = documented
                .iter()
                .filter(|(_, p)| p == path)
                .map(|(method, _)| method.clone())
                .collect();
            assert_eq!(accepted, in_spec, "{path}");
        }
        for method in &accepted {
            let response = app
                .client
                .request(method.parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !(status == 404 && body["error"] == "not_found"),
                "{method} {path} is not routed"
            );
        }
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
            if accepted.contains(method) {
                continue;
            }
            let response = app
                .client
                .request(method.parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 405, "{method} {path}");
            let allow: BTreeSet<String> = response.headers()["allow"]
                .to_str()
                .unwrap()
                .split(',')
                .map(|method| method.trim().to_string())
                .collect();
            assert_eq!(allow, accepted, "Allow of {method} {path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "method_not_allowed");
        }
    }
}
