//! Stripe's exchange rates (API 2023-09-12): `GET /v1/exchange_rates/{base}` answers
//! `{"id": "usd", "object": "exchange_rate", "rates": {"eur": 0.92, ...}}`, the units of each
//! currency one unit of `id` buys. Stripe serves only the current rates; the sync keeps them day
//! by day. The base is the account's default currency (`GET /v1/account`), else USD.

use secrecy::{ExposeSecret, SecretString};

use crate::domain::fx::{currency_code, valid_rate};
use crate::providers::{ExchangeRates, ProviderError};

/// The account's default currency and today's rates against it.
pub async fn fetch(
    http: &reqwest::Client,
    api_base: &str,
    token: &SecretString,
) -> Result<ExchangeRates, ProviderError> {
    let api_base = api_base.trim_end_matches('/');
    // A restricted key may not read the account: the rates are then stated against USD.
    let account_currency = get(http, &format!("{api_base}/v1/account"), token)
        .await
        .ok()
        .and_then(|(account, _)| account["default_currency"].as_str().and_then(currency_code));
    let base = account_currency.clone().unwrap_or_else(|| "usd".into());
    let (answer, at) = get(http, &format!("{api_base}/v1/exchange_rates/{base}"), token).await?;
    Ok(ExchangeRates {
        at,
        base: base.clone(),
        account_currency,
        rates: rates_of(&answer, &base)?,
    })
}

/// The rates of an exchange rate object, leaving out what is not a currency code with a
/// sensible rate.
fn rates_of(answer: &serde_json::Value, base: &str) -> Result<Vec<(String, f64)>, ProviderError> {
    let rates = answer["rates"]
        .as_object()
        .ok_or_else(|| ProviderError::BadResponse("an exchange rate without `rates`".into()))?;
    Ok(rates
        .iter()
        .filter_map(|(currency, rate)| Some((currency_code(currency)?, rate.as_f64()?)))
        .filter(|(currency, rate)| currency != base && valid_rate(*rate))
        .collect())
}

/// A JSON answer and the provider's time it was given at (its `Date`, else ours).
async fn get(
    http: &reqwest::Client,
    url: &str,
    token: &SecretString,
) -> Result<(serde_json::Value, i64), ProviderError> {
    let response = http
        .get(url)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "Stripe"))?;
    let at = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| chrono::DateTime::parse_from_rfc2822(value).ok())
        .map_or_else(|| chrono::Utc::now().timestamp(), |date| date.timestamp());
    match response.status().as_u16() {
        200..=299 => {}
        401 => return Err(ProviderError::Unauthorized),
        status => {
            return Err(ProviderError::Status {
                status,
                message: "the exchange rates could not be read".into(),
            })
        }
    }
    let body = response
        .json()
        .await
        .map_err(|error| ProviderError::BadResponse(error.without_url().to_string()))?;
    Ok((body, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_rates_that_make_sense() {
        let answer = serde_json::json!({
            "id": "usd", "object": "exchange_rate",
            "rates": {"eur": 0.92, "GBP": 0.79, "usd": 1.0, "xx": 2.0, "jpy": -1.0, "chf": "0.9"}
        });
        let mut rates = rates_of(&answer, "usd").unwrap();
        rates.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(rates, vec![("eur".into(), 0.92), ("gbp".into(), 0.79)]);
        assert!(rates_of(&serde_json::json!({"id": "usd"}), "usd").is_err());
    }
}
