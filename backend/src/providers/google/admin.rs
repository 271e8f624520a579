//! The Analytics Admin API: which properties a grant can read (`accountSummaries`) and what
//! reading one needs (its time zone, currency and creation time).

use secrecy::{ExposeSecret, SecretString};

use crate::providers::{ProviderAccount, ProviderError};

/// Pages of account summaries followed at most (200 accounts each).
const MAX_PAGES: usize = 20;

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: &SecretString,
) -> Result<serde_json::Value, ProviderError> {
    let response = http
        .get(url)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "Google Analytics"))?;
    match response.status().as_u16() {
        200..=299 => response
            .json()
            .await
            .map_err(|error| ProviderError::BadResponse(error.without_url().to_string())),
        401 => Err(ProviderError::Unauthorized),
        status => {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            Err(ProviderError::Status {
                status,
                message: body["error"]["message"]
                    .as_str()
                    .unwrap_or("no explanation given")
                    .chars()
                    .take(300)
                    .collect(),
            })
        }
    }
}

/// The GA4 properties the grant can read, with their account's name.
pub async fn properties(
    http: &reqwest::Client,
    admin_api_base: &str,
    token: &SecretString,
) -> Result<Vec<ProviderAccount>, ProviderError> {
    let mut accounts = Vec::new();
    let mut page_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut url = format!("{admin_api_base}/v1beta/accountSummaries?pageSize=200");
        if let Some(page_token) = &page_token {
            url.push_str("&pageToken=");
            url.push_str(
                &url::form_urlencoded::byte_serialize(page_token.as_bytes()).collect::<String>(),
            );
        }
        let page = get_json(http, &url, token).await?;
        for summary in page["accountSummaries"].as_array().into_iter().flatten() {
            let parent = summary["displayName"].as_str().map(String::from);
            for property in summary["propertySummaries"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(id) = property["property"]
                    .as_str()
                    .and_then(|name| name.strip_prefix("properties/"))
                else {
                    continue;
                };
                accounts.push(ProviderAccount {
                    id: id.to_string(),
                    name: property["displayName"].as_str().unwrap_or(id).to_string(),
                    parent: parent.clone(),
                    time_zone: None,
                    currency: None,
                    created: None,
                });
            }
        }
        page_token = page["nextPageToken"]
            .as_str()
            .filter(|token| !token.is_empty())
            .map(String::from);
        if page_token.is_none() {
            break;
        }
    }
    Ok(accounts)
}

/// One property with its time zone, currency and creation time.
pub async fn property(
    http: &reqwest::Client,
    admin_api_base: &str,
    token: &SecretString,
    id: &str,
) -> Result<ProviderAccount, ProviderError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ProviderError::Status {
            status: 404,
            message: "a GA4 property id is a number".into(),
        });
    }
    let property = get_json(
        http,
        &format!("{admin_api_base}/v1beta/properties/{id}"),
        token,
    )
    .await?;
    let text = |field: &str| property[field].as_str().map(String::from);
    Ok(ProviderAccount {
        id: id.to_string(),
        name: text("displayName").unwrap_or_else(|| id.to_string()),
        parent: text("parent"),
        time_zone: text("timeZone"),
        currency: text("currencyCode"),
        created: property["createTime"]
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.timestamp()),
    })
}
