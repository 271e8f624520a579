//! Starting a sandbox on a free loopback port for a test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use allmetrics_sandbox::{Sandbox, SandboxConfig};
use reqwest::redirect::Policy;
use serde_json::Value;

/// 2026-01-01T00:00:00Z: tests pin the data's "now".
pub const NOW: i64 = 1_767_225_600;
pub const API_KEY: &str = "sk_test_sandbox_key_for_tests";
pub const REDIRECT_URI: &str = "http://localhost:8000/connect/oauth/callback/stripe";

pub struct Running {
    pub sandbox: Sandbox,
    pub base: String,
    pub http: reqwest::Client,
}

/// A config with the test API key, the test redirect URI and pinned data.
pub fn config(size: u64) -> SandboxConfig {
    SandboxConfig {
        size,
        api_key: Some(API_KEY.to_owned()),
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        now: Some(NOW),
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> Running {
    let sandbox = Sandbox::new(config);
    let (server, port) = sandbox.bind("127.0.0.1", 0).expect("bind");
    tokio::spawn(server);
    Running {
        sandbox,
        base: format!("http://127.0.0.1:{port}"),
        // Redirects are what the OAuth tests look at: never follow them.
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client"),
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the API key; the status and the parsed body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(path, API_KEY).await
    }

    pub async fn get_with(&self, path: &str, key: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.json().await.expect("json body");
        (status, body)
    }

    /// Follows `starting_after` from the newest object; returns every object seen, in order.
    pub async fn list_all(&self, path: &str, limit: u32) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut objects: Vec<Value> = Vec::new();
        loop {
            let mut url = format!("{path}{separator}limit={limit}");
            if let Some(last) = objects.last() {
                url.push_str(&format!("&starting_after={}", last["id"].as_str().unwrap()));
            }
            let (status, body) = self.get(&url).await;
            assert_eq!(status, 200, "{url}: {body}");
            let page = body["data"].as_array().unwrap();
            assert!(page.len() <= limit as usize);
            objects.extend(page.iter().cloned());
            if !body["has_more"].as_bool().unwrap() {
                return objects;
            }
            assert!(!page.is_empty(), "has_more with an empty page");
        }
    }
}

pub fn ids(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|object| object["id"].as_str().unwrap().to_owned())
        .collect()
}
