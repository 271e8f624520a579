//! `GET /v1/events` and `GET /v1/events/{id}`: Stripe's change feed over the generated account, 30 days of it.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::errors::StripeError;
use crate::generator::events::{EventKey, EventWindow, RETENTION};
use crate::generator::Generator;

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
/// Stripe accepts up to 20 `types[]`.
const MAX_TYPES: usize = 20;

/// Whether an event type matches a `type` filter (`*` ending a prefix, as in `invoice.*`).
pub(crate) fn type_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// A parsed `GET /v1/events`.
pub(crate) struct EventsQuery {
    limit: usize,
    starting_after: Option<EventKey>,
    ending_before: Option<EventKey>,
    gte: Option<i64>,
    lte: Option<i64>,
    types: Vec<String>,
}

fn integer(value: &str, param: &str) -> Result<i64, StripeError> {
    value.trim().parse::<i64>().map_err(|_| {
        StripeError::invalid_request(format!("Invalid integer: {value}")).with_param(param)
    })
}

impl EventsQuery {
    pub(crate) fn parse(
        generator: &Generator,
        pairs: &[(String, String)],
    ) -> Result<EventsQuery, StripeError> {
        let mut query = EventsQuery {
            limit: DEFAULT_LIMIT,
            starting_after: None,
            ending_before: None,
            gte: None,
            lte: None,
            types: Vec::new(),
        };
        let mut single_type = None;
        for (name, value) in pairs {
            let name = name.as_str();
            match name {
                "limit" => {
                    let limit = integer(value, name)?;
                    if !(1..=MAX_LIMIT as i64).contains(&limit) {
                        return Err(StripeError::invalid_request(format!(
                            "This value must be greater than or equal to 1 and less than or equal to {MAX_LIMIT}."
                        ))
                        .with_param("limit"));
                    }
                    query.limit = limit as usize;
                }
                "starting_after" | "ending_before" if !value.is_empty() => {
                    let key = generator.event_key(value).ok_or_else(|| {
                        StripeError::no_such(StatusCode::BAD_REQUEST, "event", value, name)
                    })?;
                    if name == "starting_after" {
                        query.starting_after = Some(key);
                    } else {
                        query.ending_before = Some(key);
                    }
                }
                "created" => {
                    let at = integer(value, name)?;
                    query.narrow(Some(at), Some(at));
                }
                "created[gte]" => query.narrow(Some(integer(value, name)?), None),
                "created[gt]" => query.narrow(Some(integer(value, name)?.saturating_add(1)), None),
                "created[lte]" => query.narrow(None, Some(integer(value, name)?)),
                "created[lt]" => query.narrow(None, Some(integer(value, name)?.saturating_sub(1))),
                "type" => single_type = Some(value.clone()),
                _ if name == "types[]" || (name.starts_with("types[") && name.ends_with(']')) => {
                    query.types.push(value.clone());
                }
                _ => {}
            }
        }
        if query.starting_after.is_some() && query.ending_before.is_some() {
            return Err(StripeError::invalid_request(
                "You may only specify one of these parameters: ending_before, starting_after.",
            ));
        }
        if let Some(single) = single_type {
            if !query.types.is_empty() {
                return Err(StripeError::invalid_request(
                    "You may only specify one of these parameters: type, types.",
                ));
            }
            query.types.push(single);
        }
        if query.types.len() > MAX_TYPES {
            return Err(StripeError::invalid_request(format!(
                "You may specify at most {MAX_TYPES} event types."
            ))
            .with_param("types"));
        }
        Ok(query)
    }

    fn narrow(&mut self, gte: Option<i64>, lte: Option<i64>) {
        if let Some(gte) = gte {
            self.gte = Some(self.gte.map_or(gte, |current| current.max(gte)));
        }
        if let Some(lte) = lte {
            self.lte = Some(self.lte.map_or(lte, |current| current.min(lte)));
        }
    }
}

/// The list envelope of the events matching `query` at clock time `now`.
pub(crate) fn list(generator: &Generator, query: &EventsQuery, now: i64) -> Value {
    let streams = generator.streams_of_types(&|event_type| {
        query.types.is_empty()
            || query
                .types
                .iter()
                .any(|pattern| type_matches(pattern, event_type))
    });
    let from = query
        .gte
        .map_or(now - RETENTION, |gte| gte.max(now - RETENTION));
    let to = query.lte.map_or(now, |lte| lte.min(now));
    let window = EventWindow {
        streams: &streams,
        from,
        to,
        after: query.ending_before,
        before: query.starting_after,
    };
    let (keys, has_more) = if query.ending_before.is_some() {
        let (mut keys, has_more) = generator.events_page(&window, query.limit, false);
        keys.reverse();
        (keys, has_more)
    } else {
        generator.events_page(&window, query.limit, true)
    };
    let data: Vec<Value> = keys
        .into_iter()
        .map(|key| generator.event_json(key))
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": has_more,
        "url": "/v1/events",
    })
}

/// The event with this id, if it happened and is still kept at clock time `now`.
pub(crate) fn retrieve(generator: &Generator, id: &str, now: i64) -> Option<Value> {
    let key = generator.event_key(id)?;
    let kept = (now - RETENTION..=now).contains(&key.created);
    (kept && generator.event_happens(key)).then(|| generator.event_json(key))
}

#[cfg(test)]
mod tests {
    use super::type_matches;

    #[test]
    fn wildcards_match_prefixes() {
        assert!(type_matches("invoice.*", "invoice.paid"));
        assert!(type_matches("customer.*", "customer.subscription.updated"));
        assert!(!type_matches("invoice.*", "invoiceitem.created"));
        assert!(type_matches("*", "charge.refunded"));
        assert!(type_matches("charge.refunded", "charge.refunded"));
        assert!(!type_matches("charge.refunded", "charge.refunded.updated"));
    }
}
