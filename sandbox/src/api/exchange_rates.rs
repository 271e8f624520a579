//! `GET /v1/exchange_rates` and `GET /v1/exchange_rates/{currency}` (Stripe API 2023-09-12): the day's rates
//! as of the sandbox's clock. An exchange rate object `{"id": "usd", "object": "exchange_rate", "rates":
//! {"eur": 0.92, ...}}` says how many units of each currency one unit of its `id` buys. The list is ordered
//! by id and pages with `limit` (1..=100, default 10), `starting_after` and `ending_before` (currency ids).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::errors::StripeError;
use super::{admit_v1, json_response, query_pairs};
use crate::generator::fx;
use crate::State;

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

/// The exchange rate object of `base` on the sandbox's day `day`.
fn exchange_rate(seed: u64, base: &str, day: i64) -> Option<Value> {
    let rates: Map<String, Value> = fx::rates(seed, base, day)?
        .into_iter()
        .map(|(code, rate)| (code.to_owned(), json!(rate)))
        .collect();
    Some(json!({ "id": base, "object": "exchange_rate", "rates": rates }))
}

/// `GET /v1/exchange_rates/{currency}`
pub(super) async fn retrieve(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let currency = path.into_inner().to_ascii_lowercase();
    let day = fx::day_of(state.clock.unix_now());
    match exchange_rate(state.config.seed, &currency, day) {
        Some(object) => json_response(&admitted, &object),
        None => StripeError::no_such(StatusCode::NOT_FOUND, "exchange rate", &currency, "id")
            .response(&admitted.request_id),
    }
}

/// `GET /v1/exchange_rates`
pub(super) async fn list(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let admitted = match admit_v1(&state, &req).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let page = query_pairs(&req).and_then(|pairs| Page::parse(&pairs));
    let page = match page {
        Ok(page) => page,
        Err(error) => return error.response(&admitted.request_id),
    };
    let day = fx::day_of(state.clock.unix_now());
    let codes: Vec<&str> = fx::CURRENCIES.iter().map(|(code, _)| *code).collect();
    let (selected, has_more) = page.select(&codes);
    let data: Vec<Value> = selected
        .iter()
        .filter_map(|code| exchange_rate(state.config.seed, code, day))
        .collect();
    json_response(
        &admitted,
        &json!({ "object": "list", "data": data, "has_more": has_more, "url": "/v1/exchange_rates" }),
    )
}

/// A page of the list.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
}

impl Page {
    fn parse(pairs: &[(String, String)]) -> Result<Page, StripeError> {
        let mut page = Page {
            limit: DEFAULT_LIMIT,
            starting_after: None,
            ending_before: None,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => {
                    page.limit = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            StripeError::invalid_request(
                                "This value must be between 1 and 100 (inclusive).",
                            )
                            .with_param("limit")
                        })?;
                }
                "starting_after" | "ending_before" if !value.is_empty() => {
                    let currency = value.to_ascii_lowercase();
                    if !fx::is_supported(&currency) {
                        return Err(StripeError::no_such(
                            StatusCode::BAD_REQUEST,
                            "exchange rate",
                            value,
                            name,
                        ));
                    }
                    if name == "starting_after" {
                        page.starting_after = Some(currency);
                    } else {
                        page.ending_before = Some(currency);
                    }
                }
                _ => {}
            }
        }
        Ok(page)
    }

    /// The ids of the page among `codes` (ascending), and whether more follow in its direction.
    fn select<'a>(&self, codes: &[&'a str]) -> (Vec<&'a str>, bool) {
        if let Some(before) = &self.ending_before {
            let end = codes.iter().position(|code| code == before).unwrap_or(0);
            let start = end.saturating_sub(self.limit);
            return (codes[start..end].to_vec(), start > 0);
        }
        let start = self.starting_after.as_ref().map_or(0, |after| {
            codes
                .iter()
                .position(|code| code == after)
                .map_or(0, |at| at + 1)
        });
        let end = (start + self.limit).min(codes.len());
        (codes[start..end].to_vec(), end < codes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn pages_walk_the_currencies_by_id() {
        let codes: Vec<&str> = fx::CURRENCIES.iter().map(|(code, _)| *code).collect();
        let mut seen = Vec::new();
        let mut query = "limit=5".to_owned();
        loop {
            let page = Page::parse(&pairs(&query)).unwrap();
            let (ids, more) = page.select(&codes);
            seen.extend(ids.iter().copied());
            if !more {
                break;
            }
            query = format!("limit=5&starting_after={}", ids.last().unwrap());
        }
        assert_eq!(seen, codes);
        let back = Page::parse(&pairs("limit=2&ending_before=eur")).unwrap();
        assert_eq!(back.select(&codes), (vec!["cad", "chf"], true));
    }

    #[test]
    fn bad_pages_are_refused_as_stripe_does() {
        for query in ["limit=0", "limit=101", "limit=ten", "starting_after=xyz"] {
            let error = Page::parse(&pairs(query)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{query}");
        }
        assert_eq!(Page::parse(&pairs("")).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn an_exchange_rate_object_has_every_other_currency() {
        let object = exchange_rate(9, "usd", 20_700).unwrap();
        assert_eq!(object["object"], "exchange_rate");
        assert_eq!(object["id"], "usd");
        let rates = object["rates"].as_object().unwrap();
        assert_eq!(rates.len(), fx::CURRENCIES.len() - 1);
        assert!(rates["eur"].as_f64().unwrap() > 0.8 && rates["jpy"].as_f64().unwrap() > 100.0);
        assert!(exchange_rate(9, "xyz", 20_700).is_none());
    }
}
