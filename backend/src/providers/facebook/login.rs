//! Facebook Login's follow-up and the ad-account picker: the code exchange gives a short-lived
//! token, traded at once for a long-lived one (about 60 days, no refresh token); `/me/adaccounts`
//! lists the ad accounts the token can read, with their currency and time zone.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::providers::oauth::Grant;
use crate::providers::reader::error_message;
use crate::providers::{ProviderAccount, ProviderError, ResolvedProvider};

const PROVIDER: &str = "Facebook";
/// Pages of ad accounts followed at most.
const MAX_PAGES: usize = 20;

fn status_error(status: u16, body: &[u8]) -> ProviderError {
    let code = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json["error"]["code"].as_i64());
    if status == 401 || code == Some(190) {
        ProviderError::Unauthorized
    } else {
        ProviderError::Status {
            status,
            message: error_message(body),
        }
    }
}

async fn get_json(request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|error| ProviderError::from_reqwest(error, PROVIDER))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| ProviderError::BadResponse(error.without_url().to_string()))?;
    if !(200..300).contains(&status) {
        return Err(status_error(status, &body));
    }
    serde_json::from_slice(&body).map_err(|_| ProviderError::BadResponse("not JSON".into()))
}

/// Trades the short-lived token of the code exchange for a long-lived one.
pub async fn long_lived(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    grant: Grant,
) -> Result<Grant, ProviderError> {
    let (Some(client_id), Some(secret)) = (&provider.client_id, &provider.client_secret) else {
        return Ok(grant);
    };
    let answer = get_json(
        http.get(format!("{}/v25.0/oauth/access_token", provider.api_base))
            .query(&[
                ("grant_type", "fb_exchange_token"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.expose_secret()),
                ("fb_exchange_token", grant.access_token.expose_secret()),
            ]),
    )
    .await?;
    let token = answer["access_token"]
        .as_str()
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ProviderError::BadResponse("no long-lived access token".into()))?;
    let expires_in = answer["expires_in"].as_u64().map(Duration::from_secs);
    let mut response_without_secrets = grant.response_without_secrets;
    if let Some(fields) = response_without_secrets.as_object_mut() {
        fields.insert("expires_in".into(), answer["expires_in"].clone());
        fields.insert("long_lived".into(), Value::Bool(true));
    }
    Ok(Grant {
        access_token: SecretString::from(token.to_string()),
        expires_in: expires_in.or(grant.expires_in),
        response_without_secrets,
        ..grant
    })
}

/// The ad accounts the token can read.
pub async fn ad_accounts(
    http: &reqwest::Client,
    api_base: &str,
    token: &SecretString,
) -> Result<Vec<ProviderAccount>, ProviderError> {
    let mut accounts = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![
            (
                "fields",
                "id,name,currency,timezone_name,account_id".to_string(),
            ),
            ("limit", "100".to_string()),
        ];
        if let Some(after) = &after {
            query.push(("after", after.clone()));
        }
        let page = get_json(
            http.get(format!("{api_base}/v25.0/me/adaccounts"))
                .query(&query)
                .bearer_auth(token.expose_secret()),
        )
        .await?;
        for account in page["data"].as_array().into_iter().flatten() {
            let Some(id) = account["id"].as_str() else {
                continue;
            };
            let text = |field: &str| account[field].as_str().map(String::from);
            accounts.push(ProviderAccount {
                id: id.to_string(),
                name: text("name").unwrap_or_else(|| id.to_string()),
                parent: None,
                time_zone: text("timezone_name"),
                currency: text("currency"),
                created: account["created_time"]
                    .as_str()
                    .and_then(parse_time)
                    .map(|at| at.timestamp()),
            });
        }
        after = page["paging"]["next"]
            .as_str()
            .and(page["paging"]["cursors"]["after"].as_str())
            .map(String::from);
        if after.is_none() {
            break;
        }
    }
    Ok(accounts)
}

/// Facebook's times: `2023-06-01T12:34:56+0000` (or RFC 3339).
fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
}
