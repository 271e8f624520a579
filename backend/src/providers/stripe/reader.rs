//! Stripe's list API, one page at a time: newest first, `limit` and `starting_after` paging,
//! `created` bounds, Bearer auth. A backfill starts as one window over the whole history that the
//! engine cuts by time while it walks it. After it, the object's events (`/v1/events`, kept 30
//! days) say what changed; objects without events (balance transactions) re-read the objects
//! created in a recent window instead. The Demo source speaks the same API.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::events;
use crate::domain::StoredObject;
use crate::providers::reader::{
    send, Answer, Change, ChangePage, Current, FetchError, Page, ProviderClock, ReadLimits,
    ReadWindow, Reader, ReaderContext,
};
use crate::providers::CatalogueObject;

/// Stripe allows 1 to 100 objects per list request.
const MAX_PAGE_SIZE: u32 = 100;

pub struct ListReader {
    http: reqwest::Client,
    provider_name: &'static str,
    url: String,
    events_url: String,
    event_types: &'static [&'static str],
    object_name: String,
    token: SecretString,
    clock: ProviderClock,
    page_size: u32,
    requests_per_sec: u32,
    recent_window_secs: i64,
}

impl ListReader {
    pub fn new(context: ReaderContext<'_>) -> Self {
        let provider = context.provider;
        let path = list_path(provider.provider.catalogue(), context.object_name);
        Self {
            http: context.http.clone(),
            provider_name: provider.provider.default_name(),
            url: format!("{}{path}", provider.api_base),
            events_url: format!("{}/v1/events", provider.api_base),
            event_types: events::event_types(context.object_name),
            object_name: context.object_name.to_string(),
            token: context.token,
            clock: ProviderClock::default(),
            page_size: context.settings.page_size.clamp(1, MAX_PAGE_SIZE),
            // Stripe: 100 read requests/s in live mode, 25 in test mode.
            requests_per_sec: if context.connection.token_response["livemode"].as_bool()
                == Some(true)
            {
                100
            } else {
                25
            },
            recent_window_secs: i64::try_from(context.settings.recent_window_secs)
                .unwrap_or(i64::MAX),
        }
    }

    async fn get(&self, url: &str, query: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = self
            .http
            .get(url)
            .query(query)
            .bearer_auth(self.token.expose_secret());
        let answer = send(self.provider_name, request).await?;
        self.clock.observe(&answer.headers);
        Ok(answer)
    }
}

#[async_trait]
impl Reader for ListReader {
    fn limits(&self) -> ReadLimits {
        ReadLimits {
            requests_per_sec: self.requests_per_sec,
            concurrent_requests: usize::try_from(self.requests_per_sec).unwrap_or(usize::MAX),
            page_size: self.page_size,
        }
    }

    async fn backfill_windows(&self, before: i64) -> Result<Vec<ReadWindow>, FetchError> {
        Ok(vec![ReadWindow {
            from: None,
            until: before,
            cursor: None,
        }])
    }

    fn incremental_window(&self, previous_run: i64, _now: i64) -> ReadWindow {
        ReadWindow {
            from: Some(previous_run.saturating_sub(self.recent_window_secs)),
            until: i64::MAX,
            cursor: None,
        }
    }

    async fn page(&self, window: &ReadWindow) -> Result<Page, FetchError> {
        let mut query: Vec<(&str, String)> = vec![("limit", self.page_size.to_string())];
        if let Some(cursor) = &window.cursor {
            query.push(("starting_after", cursor.clone()));
        }
        if let Some(from) = window.from {
            query.push(("created[gte]", from.to_string()));
        }
        if window.until != i64::MAX {
            query.push(("created[lt]", window.until.to_string()));
        }
        // Subscriptions omit canceled ones unless asked: churn needs them.
        if self.url.ends_with("/subscriptions") {
            query.push(("status", "all".into()));
        }
        let answer = self.get(&self.url, &query).await?;
        if answer.is_success() {
            parse_page(&answer.body)
        } else {
            Err(answer.failure(self.provider_name))
        }
    }

    fn change_retention(&self) -> Option<std::time::Duration> {
        (!self.event_types.is_empty()).then_some(events::RETENTION)
    }

    async fn changes(&self, since: i64, cursor: Option<&str>) -> Result<ChangePage, FetchError> {
        let mut query: Vec<(&str, String)> = vec![
            ("limit", MAX_PAGE_SIZE.to_string()),
            ("created[gte]", since.to_string()),
        ];
        if let Some(cursor) = cursor {
            query.push(("starting_after", cursor.to_string()));
        }
        for kind in self.event_types {
            query.push(("types[]", (*kind).to_string()));
        }
        let answer = self.get(&self.events_url, &query).await?;
        if answer.is_success() {
            parse_events(&answer.body, &self.object_name)
        } else {
            Err(answer.failure(self.provider_name))
        }
    }

    async fn current(&self, object_id: &str) -> Result<Current, FetchError> {
        // Ids are Stripe's (`cus_...`): nothing to escape, but never let one change the path.
        if !object_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(FetchError::malformed(
                "an object id with unexpected characters",
            ));
        }
        let answer = self.get(&format!("{}/{object_id}", self.url), &[]).await?;
        match answer.status {
            404 => Ok(Current::Deleted),
            _ if answer.is_success() => {
                let object: serde_json::Value = serde_json::from_slice(&answer.body)
                    .map_err(|_| FetchError::malformed("not JSON"))?;
                if object["deleted"] == true {
                    return Ok(Current::Deleted);
                }
                Ok(Current::Live(stored_object(object)?))
            }
            _ => Err(answer.failure(self.provider_name)),
        }
    }

    fn provider_now(&self) -> Option<i64> {
        self.clock.now()
    }

    fn pushed_change(&self, payload: &serde_json::Value) -> Option<Change> {
        events::change_of(payload)
            .filter(|(name, _)| *name == self.object_name)
            .map(|(_, change)| change)
    }
}

fn stored_object(object: serde_json::Value) -> Result<StoredObject, FetchError> {
    Ok(StoredObject {
        object_id: object["id"]
            .as_str()
            .ok_or_else(|| FetchError::malformed("an object has no id"))?
            .to_string(),
        created: object["created"]
            .as_i64()
            .ok_or_else(|| FetchError::malformed("an object has no created"))?,
        data: object,
    })
}

/// A page of `/v1/events`: the changes to objects of `object_name` (others are ignored).
fn parse_events(body: &[u8], object_name: &str) -> Result<ChangePage, FetchError> {
    let (data, has_more) = list_envelope(body)?;
    let last_id = data.last().and_then(|event| event["id"].as_str());
    if has_more && last_id.is_none() {
        return Err(FetchError::malformed("has_more with no data"));
    }
    let changes: Vec<Change> = data
        .iter()
        .filter_map(events::change_of)
        .filter(|(name, _)| *name == object_name)
        .map(|(_, change)| change)
        .collect();
    Ok(ChangePage {
        changes,
        next: last_id.filter(|_| has_more).map(String::from),
    })
}

/// Stripe's list path for an object name: from the catalogue, or by Stripe's own naming
/// (`CreditNote` -> `/v1/credit_notes`) for objects an admin added.
pub fn list_path(catalogue: &[CatalogueObject], object_name: &str) -> String {
    if let Some(object) = catalogue.iter().find(|object| object.name == object_name) {
        return object.list_path.to_string();
    }
    let mut snake = String::new();
    for (index, c) in object_name.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    format!("/v1/{snake}s")
}

/// A list answer's `data` and `has_more`, strictly.
fn list_envelope(body: &[u8]) -> Result<(Vec<serde_json::Value>, bool), FetchError> {
    let mut json: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| FetchError::malformed("not JSON"))?;
    let has_more = json["has_more"]
        .as_bool()
        .ok_or_else(|| FetchError::malformed("no has_more"))?;
    match json["data"].take() {
        serde_json::Value::Array(data) => Ok((data, has_more)),
        _ => Err(FetchError::malformed("no data")),
    }
}

fn parse_page(body: &[u8]) -> Result<Page, FetchError> {
    let (data, has_more) = list_envelope(body)?;
    let objects = data
        .into_iter()
        .map(stored_object)
        .collect::<Result<Vec<_>, FetchError>>()?;
    let last = objects.last();
    // "More" with nothing to move the cursor past is a broken page, not the end of the list:
    // it is retried, and the run fails (to resume later) rather than lose the rest.
    if has_more && last.is_none() {
        return Err(FetchError::malformed("has_more with no data"));
    }
    let next = last
        .filter(|_| has_more)
        .map(|object| object.object_id.clone());
    let reached = next.as_ref().and(last.map(|object| object.created));
    Ok(Page {
        objects,
        next,
        reached,
        slow_down: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths_come_from_the_catalogue_or_stripes_naming() {
        let catalogue = super::super::CATALOGUE;
        assert_eq!(
            list_path(catalogue, "BalanceTransaction"),
            "/v1/balance_transactions"
        );
        assert_eq!(list_path(catalogue, "CreditNote"), "/v1/credit_notes");
    }

    #[test]
    fn pages_are_parsed_strictly() {
        let page =
            parse_page(br#"{"object":"list","data":[{"id":"cus_1","created":5}],"has_more":true}"#)
                .unwrap();
        assert_eq!(page.objects[0].object_id, "cus_1");
        assert_eq!(page.next.as_deref(), Some("cus_1"));
        assert_eq!(page.reached, Some(5));
        let last =
            parse_page(br#"{"data":[{"id":"cus_1","created":5}],"has_more":false}"#).unwrap();
        assert_eq!((last.next, last.reached), (None, None));
        assert!(
            parse_page(br#"{"data":[],"has_more":true}"#).is_err(),
            "more, but nothing to move the cursor past: a broken page"
        );
        let done = parse_page(br#"{"data":[],"has_more":false}"#).unwrap();
        assert!(done.objects.is_empty() && done.next.is_none());
        assert!(parse_page(b"{\"data\": [").is_err());
        assert!(parse_page(br#"{"data":[{"id":"x"}],"has_more":false}"#).is_err());
    }
}
