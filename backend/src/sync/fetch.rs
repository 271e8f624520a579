//! The Stripe list API, one page at a time: `limit`, `starting_after` paging, `created` bounds,
//! Bearer auth. The same fetcher serves the Demo source, which speaks Stripe's API.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::StoredObject;
use crate::providers::CatalogueObject;

/// One page request.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub starting_after: Option<String>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
}

#[derive(Debug)]
pub struct Page {
    pub objects: Vec<StoredObject>,
    pub has_more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// 429: wait (the provider may say how long) and try again.
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// 401: the token is revoked or expired.
    #[error("the provider refused the token")]
    Unauthorized,
    /// 400, 403, 404: this object cannot be read with this connection; retrying will not help.
    #[error("{provider} answered {status}: {message}")]
    Refused {
        provider: String,
        status: u16,
        message: String,
    },
    /// 5xx, timeouts, broken connections, malformed pages: worth retrying.
    #[error("{0}")]
    Transient(String),
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

fn stripe_error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| "no explanation given".into())
        .chars()
        .take(300)
        .collect()
}

fn parse_page(body: &[u8]) -> Result<Page, FetchError> {
    let malformed = |why: &str| FetchError::Transient(format!("malformed page: {why}"));
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| malformed("not JSON"))?;
    let data = json["data"]
        .as_array()
        .ok_or_else(|| malformed("no data"))?;
    let has_more = json["has_more"]
        .as_bool()
        .ok_or_else(|| malformed("no has_more"))?;
    let objects = data
        .iter()
        .map(|object| {
            Ok(StoredObject {
                object_id: object["id"]
                    .as_str()
                    .ok_or_else(|| malformed("an object has no id"))?
                    .to_string(),
                created: object["created"]
                    .as_i64()
                    .ok_or_else(|| malformed("an object has no created"))?,
                data: object.clone(),
            })
        })
        .collect::<Result<Vec<_>, FetchError>>()?;
    Ok(Page { objects, has_more })
}

/// Fetches one page of `path` from the API at `api_base`.
pub async fn fetch_page(
    http: &reqwest::Client,
    provider: &str,
    api_base: &str,
    path: &str,
    token: &SecretString,
    request: &PageRequest,
    page_size: u32,
) -> Result<Page, FetchError> {
    let mut query: Vec<(&str, String)> = vec![("limit", page_size.to_string())];
    if let Some(cursor) = &request.starting_after {
        query.push(("starting_after", cursor.clone()));
    }
    if let Some(gte) = request.created_gte {
        query.push(("created[gte]", gte.to_string()));
    }
    if let Some(lt) = request.created_lt {
        query.push(("created[lt]", lt.to_string()));
    }
    // Subscriptions omit canceled ones unless asked: churn needs them.
    if path.ends_with("/subscriptions") {
        query.push(("status", "all".into()));
    }
    let response = http
        .get(format!("{api_base}{path}"))
        .query(&query)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .map_err(|error| {
            FetchError::Transient(if error.is_timeout() {
                format!("{provider} did not answer in time")
            } else {
                format!("{provider} could not be reached")
            })
        })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|seconds| Duration::from_secs_f64(seconds.clamp(0.0, 300.0)));
    let body = response
        .bytes()
        .await
        .map_err(|_| FetchError::Transient(format!("{provider}'s answer was cut short")))?;
    match status {
        200..=299 => parse_page(&body),
        429 => Err(FetchError::RateLimited { retry_after }),
        401 => Err(FetchError::Unauthorized),
        400 | 403 | 404 => Err(FetchError::Refused {
            provider: provider.to_string(),
            status,
            message: stripe_error_message(&String::from_utf8_lossy(&body)),
        }),
        status => Err(FetchError::Transient(format!(
            "{provider} answered {status}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths_come_from_the_catalogue_or_stripes_naming() {
        let catalogue = crate::providers::stripe::CATALOGUE;
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
        assert!(page.has_more);
        assert!(parse_page(b"{\"data\": [").is_err());
        assert!(parse_page(br#"{"data":[{"id":"x"}],"has_more":false}"#).is_err());
    }
}
