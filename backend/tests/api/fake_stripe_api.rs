//! A Stripe-like list API on loopback whose objects a test can add and change between syncs
//! (the sandbox's data is a fixed function of its seed). Lists follow Stripe's rules: newest
//! first, `limit`, `starting_after`, `created[gte]` / `created[lt]`, Bearer auth with any token.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::fake_provider::serve_on_loopback;

/// Objects by list name (`charges`), then by id.
type Objects = Mutex<HashMap<String, BTreeMap<String, Value>>>;

pub struct FakeStripeApi {
    pub base_url: String,
    objects: Arc<Objects>,
    handle: ServerHandle,
}

fn bound(query: &HashMap<String, String>, name: &str) -> Option<i64> {
    query.get(name).map(|value| value.parse().unwrap())
}

async fn list(
    request: HttpRequest,
    kind: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    objects: web::Data<Objects>,
) -> HttpResponse {
    if request.headers().get("authorization").is_none() {
        return HttpResponse::Unauthorized().json(
            json!({"error": {"type": "invalid_request_error", "message": "No API key provided"}}),
        );
    }
    let limit: usize = query
        .get("limit")
        .map_or(10, |limit| limit.parse().unwrap());
    let gte = bound(&query, "created[gte]").unwrap_or(i64::MIN);
    let lt = bound(&query, "created[lt]").unwrap_or(i64::MAX);
    let objects = objects.lock().unwrap();
    let mut listed: Vec<&Value> = objects
        .get(kind.as_str())
        .into_iter()
        .flat_map(|by_id| by_id.values())
        .filter(|object| (gte..lt).contains(&object["created"].as_i64().unwrap()))
        .collect();
    listed.sort_by_key(|object| {
        std::cmp::Reverse((
            object["created"].as_i64().unwrap(),
            object["id"].as_str().unwrap().to_string(),
        ))
    });
    let start = match query.get("starting_after") {
        Some(cursor) => match listed.iter().position(|object| object["id"] == **cursor) {
            Some(position) => position + 1,
            None => {
                return HttpResponse::BadRequest().json(json!({"error": {
                    "type": "invalid_request_error",
                    "message": format!("No such object: '{cursor}'")
                }}))
            }
        },
        None => 0,
    };
    let page: Vec<&Value> = listed.iter().skip(start).take(limit).copied().collect();
    HttpResponse::Ok().json(json!({
        "object": "list",
        "url": format!("/v1/{kind}"),
        "has_more": start + page.len() < listed.len(),
        "data": page,
    }))
}

impl FakeStripeApi {
    pub async fn start() -> Self {
        let objects: Arc<Objects> = Arc::default();
        let data = web::Data::from(objects.clone());
        let (base_url, handle) = serve_on_loopback(move |config| {
            config
                .app_data(data.clone())
                .route("/v1/{kind}", web::get().to(list));
        });
        Self {
            base_url,
            objects,
            handle,
        }
    }

    /// Adds the object to the list `kind` (`charges`), or replaces the one with its id.
    pub fn put(&self, kind: &str, object: Value) {
        let id = object["id"].as_str().unwrap().to_string();
        self.objects
            .lock()
            .unwrap()
            .entry(kind.to_string())
            .or_default()
            .insert(id, object);
    }
}

impl Drop for FakeStripeApi {
    fn drop(&mut self) {
        // Stop without waiting: the runtime may be shutting down.
        drop(self.handle.stop(false));
    }
}
