//! A provider whose API has another shape than Stripe's: `GET /items?offset=&limit=` over a
//! fixed order, no cursors, no time filter (the fake provider serves it). It lives only here: it
//! shows that a provider of any paging style syncs through the unchanged engine, with
//! checkpoints and resumption, by touching nothing but its own code and the registry.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use allmetrics::providers::reader::{
    FetchError, Page, ReadLimits, ReadWindow, Reader, ReaderContext,
};
use allmetrics::providers::{CatalogueObject, ClientAuth, OAuthSpec, Provider};

pub struct OffsetProvider;

pub const KIND: &str = "offset-test";

#[async_trait]
impl Provider for OffsetProvider {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn default_name(&self) -> &'static str {
        "Offset-paged test provider"
    }

    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: String::new(),
            token_url: String::new(),
            scopes: Vec::new(),
            extra_authorize_params: Vec::new(),
            client_auth: ClientAuth::RequestBody,
            pkce: false,
            user_key: None,
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        String::new()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        &[CatalogueObject {
            name: "Item",
            label: "Items",
            list_path: "/items",
        }]
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        Some(Box::new(OffsetReader {
            http: context.http.clone(),
            url: format!("{}/items", context.provider.api_base),
            token: context.token,
            page_size: context.settings.page_size,
        }))
    }
}

struct OffsetReader {
    http: reqwest::Client,
    url: String,
    token: SecretString,
    page_size: u32,
}

#[async_trait]
impl Reader for OffsetReader {
    fn limits(&self) -> ReadLimits {
        ReadLimits {
            requests_per_sec: 50,
            concurrent_requests: 1,
            page_size: self.page_size,
        }
    }

    async fn backfill_windows(&self, before: i64) -> Result<Vec<ReadWindow>, FetchError> {
        // No time filter: one window, read from offset 0.
        Ok(vec![ReadWindow {
            from: None,
            until: before,
            cursor: None,
        }])
    }

    fn incremental_window(&self, _previous_run: i64, _now: i64) -> ReadWindow {
        ReadWindow {
            from: None,
            until: i64::MAX,
            cursor: None,
        }
    }

    async fn page(&self, window: &ReadWindow) -> Result<Page, FetchError> {
        let offset: usize = window.cursor.as_deref().map_or(0, |c| c.parse().unwrap());
        let response = self
            .http
            .get(&self.url)
            .query(&[("offset", offset), ("limit", self.page_size as usize)])
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(|error| FetchError::from_reqwest("the offset provider", &error))?;
        match response.status().as_u16() {
            200 => {}
            401 => return Err(FetchError::Unauthorized),
            status => return Err(FetchError::Transient(format!("answered {status}"))),
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|_| FetchError::malformed("not JSON"))?;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        let total = body["total"].as_u64().unwrap() as usize;
        let read = offset + items.len();
        Ok(Page {
            objects: items
                .into_iter()
                .map(|item| allmetrics::domain::StoredObject {
                    object_id: item["id"].as_str().unwrap().to_string(),
                    created: item["created"].as_i64().unwrap(),
                    data: item,
                })
                .collect(),
            next: (read < total).then(|| read.to_string()),
            reached: None,
            slow_down: None,
        })
    }
}
