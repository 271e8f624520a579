//! Stripe list semantics over index-addressed objects.
//!
//! Objects are ordered by index (= created, then id), newest first. `created` bounds become an index range by
//! binary search; `starting_after` / `ending_before` ids decode to indices; a page generates only the objects
//! it returns (plus, with filters, those it skips). Nothing is materialized beyond one page.

use std::ops::Range;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::errors::StripeError;
use crate::generator::{Generator, ObjectKind};

const DEFAULT_LIMIT: u64 = 10;
const MAX_LIMIT: u64 = 100;

const SUBSCRIPTION_STATUSES: [&str; 10] = [
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
];

/// Equality filters Stripe's list endpoints take: (kind, parameter, JSON pointer into the object).
const FIELD_FILTERS: [(ObjectKind, &str, &str); 23] = [
    (ObjectKind::Customer, "email", "/email"),
    (ObjectKind::Charge, "customer", "/customer"),
    (ObjectKind::Charge, "payment_intent", "/payment_intent"),
    (ObjectKind::Invoice, "customer", "/customer"),
    (ObjectKind::Invoice, "status", "/status"),
    (ObjectKind::Invoice, "subscription", "/subscription"),
    (
        ObjectKind::Invoice,
        "collection_method",
        "/collection_method",
    ),
    (ObjectKind::Subscription, "customer", "/customer"),
    (ObjectKind::Subscription, "price", "/items/data/0/price/id"),
    (ObjectKind::PaymentIntent, "customer", "/customer"),
    (ObjectKind::Refund, "charge", "/charge"),
    (ObjectKind::Refund, "payment_intent", "/payment_intent"),
    (ObjectKind::BalanceTransaction, "type", "/type"),
    (ObjectKind::BalanceTransaction, "source", "/source"),
    (ObjectKind::BalanceTransaction, "currency", "/currency"),
    (ObjectKind::Dispute, "charge", "/charge"),
    (ObjectKind::Dispute, "payment_intent", "/payment_intent"),
    (ObjectKind::Payout, "status", "/status"),
    (ObjectKind::Product, "active", "/active"),
    (ObjectKind::Price, "product", "/product"),
    (ObjectKind::Price, "active", "/active"),
    (ObjectKind::Price, "type", "/type"),
    (ObjectKind::Price, "currency", "/currency"),
];

enum Filter {
    Field {
        pointer: &'static str,
        value: String,
    },
    /// Stripe omits canceled subscriptions unless `status` says otherwise.
    SubscriptionStatus(String),
}

impl Filter {
    fn accepts(&self, object: &Value) -> bool {
        match self {
            Filter::Field { pointer, value } => match object.pointer(pointer) {
                Some(Value::String(text)) => text == value,
                Some(Value::Bool(flag)) => value == if *flag { "true" } else { "false" },
                Some(Value::Number(number)) => number.to_string() == *value,
                _ => false,
            },
            Filter::SubscriptionStatus(wanted) => {
                let status = object["status"].as_str().unwrap_or_default();
                match wanted.as_str() {
                    "all" => true,
                    "ended" => matches!(status, "canceled" | "incomplete_expired"),
                    "" => status != "canceled",
                    wanted => status == wanted,
                }
            }
        }
    }
}

/// A parsed list request.
pub(crate) struct ListQuery {
    limit: u64,
    starting_after: Option<u64>,
    ending_before: Option<u64>,
    gte: Option<i64>,
    lt: Option<i64>,
    filters: Vec<Filter>,
}

fn parse_integer(value: &str, param: &str) -> Result<i64, StripeError> {
    value.trim().parse::<i64>().map_err(|_| {
        StripeError::invalid_request(format!("Invalid integer: {value}")).with_param(param)
    })
}

impl ListQuery {
    /// Parses Stripe's list parameters from `(name, value)` pairs; unknown parameters are ignored.
    pub(crate) fn parse(
        generator: &Generator,
        kind: ObjectKind,
        pairs: &[(String, String)],
    ) -> Result<ListQuery, StripeError> {
        let mut query = ListQuery {
            limit: DEFAULT_LIMIT,
            starting_after: None,
            ending_before: None,
            gte: None,
            lt: None,
            filters: Vec::new(),
        };
        let mut subscription_status = String::new();
        for (name, value) in pairs {
            let name = name.as_str();
            match name {
                "limit" => {
                    let limit = parse_integer(value, "limit")?;
                    if limit < 1 {
                        return Err(StripeError::invalid_request(
                            "This value must be greater than or equal to 1.",
                        )
                        .with_param("limit"));
                    }
                    if limit > MAX_LIMIT as i64 {
                        return Err(StripeError::invalid_request(
                            "This value must be less than or equal to 100.",
                        )
                        .with_param("limit"));
                    }
                    query.limit = limit as u64;
                }
                "starting_after" | "ending_before" if !value.is_empty() => {
                    let index = generator.index_of(kind, value).ok_or_else(|| {
                        StripeError::no_such(
                            StatusCode::BAD_REQUEST,
                            kind.object_name(),
                            value,
                            name,
                        )
                    })?;
                    if name == "starting_after" {
                        query.starting_after = Some(index);
                    } else {
                        query.ending_before = Some(index);
                    }
                }
                "created" => {
                    let at = parse_integer(value, name)?;
                    query.narrow(Some(at), Some(at.saturating_add(1)));
                }
                "created[gte]" => query.narrow(Some(parse_integer(value, name)?), None),
                "created[gt]" => {
                    query.narrow(Some(parse_integer(value, name)?.saturating_add(1)), None)
                }
                "created[lt]" => query.narrow(None, Some(parse_integer(value, name)?)),
                "created[lte]" => {
                    query.narrow(None, Some(parse_integer(value, name)?.saturating_add(1)))
                }
                "status" if kind == ObjectKind::Subscription => {
                    if !SUBSCRIPTION_STATUSES.contains(&value.as_str()) {
                        return Err(StripeError::invalid_request(format!(
                            "Invalid status: must be one of {}",
                            SUBSCRIPTION_STATUSES.join(", ")
                        ))
                        .with_param("status"));
                    }
                    subscription_status = value.clone();
                }
                _ => {
                    if let Some((_, _, pointer)) = FIELD_FILTERS
                        .iter()
                        .find(|(filter_kind, param, _)| *filter_kind == kind && *param == name)
                    {
                        query.filters.push(Filter::Field {
                            pointer,
                            value: value.clone(),
                        });
                    }
                }
            }
        }
        if query.starting_after.is_some() && query.ending_before.is_some() {
            return Err(StripeError::invalid_request(
                "You may only specify one of these parameters: ending_before, starting_after.",
            ));
        }
        if kind == ObjectKind::Subscription {
            query
                .filters
                .push(Filter::SubscriptionStatus(subscription_status));
        }
        Ok(query)
    }

    /// Intersects the `created` window with `[gte, lt)`.
    fn narrow(&mut self, gte: Option<i64>, lt: Option<i64>) {
        if let Some(gte) = gte {
            self.gte = Some(self.gte.map_or(gte, |current| current.max(gte)));
        }
        if let Some(lt) = lt {
            self.lt = Some(self.lt.map_or(lt, |current| current.min(lt)));
        }
    }

    fn accepts(&self, object: &Value) -> bool {
        self.filters.iter().all(|filter| filter.accepts(object))
    }

    /// Whether any object in `range` exists at `at` and passes the filters (without generating any when there
    /// are none).
    fn any_match(
        &self,
        generator: &Generator,
        kind: ObjectKind,
        range: Range<u64>,
        at: i64,
    ) -> bool {
        range.into_iter().any(|i| {
            generator.exists_at(kind, i, at)
                && (self.filters.is_empty() || self.accepts(&generator.object_at(kind, i, at)))
        })
    }
}

/// One page of a list, newest first.
pub(crate) struct Page {
    pub data: Vec<Value>,
    pub has_more: bool,
}

/// The page of objects that exist at `at` (created by then, not deleted).
pub(crate) fn page(generator: &Generator, kind: ObjectKind, query: &ListQuery, at: i64) -> Page {
    let existing = generator.count_at(kind, at);
    let low = query
        .gte
        .map_or(0, |t| generator.first_index_at_or_after(kind, t))
        .min(existing);
    let high = query
        .lt
        .map_or(existing, |t| generator.first_index_at_or_after(kind, t))
        .clamp(low, existing);
    let limit = query.limit as usize;
    let mut data = Vec::with_capacity(limit);
    if let Some(cursor) = query.ending_before {
        // The objects just newer than the cursor: walk up from it, then present them newest first.
        let mut index = low.max(cursor.saturating_add(1));
        while index < high && data.len() < limit {
            let current = index;
            index += 1;
            if !generator.exists_at(kind, current, at) {
                continue;
            }
            let object = generator.object_at(kind, current, at);
            if query.accepts(&object) {
                data.push(object);
            }
        }
        let has_more = query.any_match(generator, kind, index..high, at);
        data.reverse();
        Page { data, has_more }
    } else {
        let mut index = query.starting_after.map_or(high, |cursor| cursor.min(high));
        while index > low && data.len() < limit {
            index -= 1;
            if !generator.exists_at(kind, index, at) {
                continue;
            }
            let object = generator.object_at(kind, index, at);
            if query.accepts(&object) {
                data.push(object);
            }
        }
        let has_more = query.any_match(generator, kind, low..index, at);
        Page { data, has_more }
    }
}

/// The list envelope: `{"object":"list","data":[...],"has_more":...,"url":"/v1/<path>"}`.
pub(crate) fn envelope(kind: ObjectKind, page: Page) -> Value {
    json!({
        "object": "list",
        "data": page.data,
        "has_more": page.has_more,
        "url": format!("/v1/{}", kind.list_path()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap()
    }

    fn ids(page: &Page) -> Vec<String> {
        page.data
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn pages_walk_down_then_back_up() {
        let generator = Generator::new(1, 25, NOW);
        let kind = ObjectKind::Customer;
        let first = page(
            &generator,
            kind,
            &ListQuery::parse(&generator, kind, &pairs("limit=10")).unwrap(),
            NOW,
        );
        assert!(first.has_more);
        assert_eq!(ids(&first)[0], generator.id(kind, 24));
        let cursor = ids(&first)[9].clone();
        let second = page(
            &generator,
            kind,
            &ListQuery::parse(
                &generator,
                kind,
                &pairs(&format!("limit=10&starting_after={cursor}")),
            )
            .unwrap(),
            NOW,
        );
        assert_eq!(ids(&second)[0], generator.id(kind, 14));
        let back = page(
            &generator,
            kind,
            &ListQuery::parse(
                &generator,
                kind,
                &pairs(&format!("limit=3&ending_before={}", ids(&second)[0])),
            )
            .unwrap(),
            NOW,
        );
        assert_eq!(
            ids(&back),
            vec![
                generator.id(kind, 17),
                generator.id(kind, 16),
                generator.id(kind, 15)
            ]
        );
        assert!(back.has_more);
    }

    #[test]
    fn rejects_bad_parameters() {
        let generator = Generator::new(1, 25, NOW);
        let kind = ObjectKind::Customer;
        for (query, param) in [
            ("limit=0", Some("limit")),
            ("limit=101", Some("limit")),
            ("limit=ten", Some("limit")),
            ("created[gte]=soon", Some("created[gte]")),
            ("starting_after=cus_nope", Some("starting_after")),
        ] {
            let error = ListQuery::parse(&generator, kind, &pairs(query))
                .err()
                .unwrap();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(error.param.as_deref(), param, "{query}");
        }
        let a = generator.id(kind, 1);
        let both = format!("starting_after={a}&ending_before={a}");
        assert!(ListQuery::parse(&generator, kind, &pairs(&both)).is_err());
        let status = ListQuery::parse(&generator, ObjectKind::Subscription, &pairs("status=bogus"));
        assert!(status.is_err());
    }
}
