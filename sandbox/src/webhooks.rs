//! Webhook endpoints and their deliveries, as Stripe does them.
//!
//! Endpoints live in memory (at most [`MAX_ENDPOINTS`]). A delivery thread of its own (so `/v1` answers never
//! wait on it) wakes when the clock is moved and every `poll_interval`, picks up for each endpoint the events
//! that happened since its cursor, a page at a time, and POSTs them signed with the endpoint's secret(s).
//! Failures are retried with exponential backoff. At most [`MAX_OUTSTANDING`] deliveries exist at once, so a
//! jump of the clock over a year of events is delivered at a steady pace in bounded memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use tokio::sync::{Notify, Semaphore};

use crate::generator::events::{EventKey, EventWindow};
use crate::State;

/// Stripe allows 16 webhook endpoints per account in test mode.
pub const MAX_ENDPOINTS: usize = 16;
/// Deliveries waiting, in flight or waiting for a retry, all endpoints together.
const MAX_OUTSTANDING: u64 = 256;
/// Events picked up per endpoint per round.
const PAGE: usize = 100;
const USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/// A webhook endpoint as the sandbox keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub enabled_events: Vec<String>,
    pub disabled: bool,
    /// Clock time of creation: events after it are delivered.
    pub created: i64,
    /// Signing secrets, the current one first; older ones with the clock time they stop being used.
    secrets: Vec<(String, Option<i64>)>,
    /// The last event picked up for delivery.
    cursor: Option<EventKey>,
}

impl Endpoint {
    /// The `webhook_endpoint` object (the secret only on creation, as Stripe).
    pub(crate) fn json(&self, with_secret: bool) -> Value {
        let mut object = json!({
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": null,
            "application": null,
            "created": self.created,
            "description": self.description,
            "enabled_events": self.enabled_events,
            "livemode": false,
            "metadata": Value::Object(self.metadata.clone()),
            "status": if self.disabled { "disabled" } else { "enabled" },
            "url": self.url,
        });
        if with_secret {
            if let (Value::Object(fields), Some((secret, _))) = (&mut object, self.secrets.first())
            {
                fields.insert("secret".into(), secret.clone().into());
            }
        }
        object
    }

    fn wants(&self, event_type: &str) -> bool {
        self.enabled_events
            .iter()
            .any(|wanted| wanted == "*" || wanted == event_type)
    }

    /// The secrets a delivery at `t` is signed with.
    fn secrets_at(&self, t: i64) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|(_, until)| until.is_none_or(|until| t < until))
            .map(|(secret, _)| secret.clone())
            .collect()
    }
}

/// What a test asks the next deliveries to do wrong.
#[derive(Default)]
struct DeliveryFaults {
    /// The next this many deliveries are sent twice.
    duplicate: u64,
    /// The next this many events picked up are sent in reverse order, one after another.
    reverse: u64,
}

/// Delivery counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub attempted: AtomicU64,
    pub succeeded: AtomicU64,
    pub given_up: AtomicU64,
    /// Deliveries picked up and not finished (waiting, in flight, or between retries).
    pub outstanding: AtomicU64,
}

#[derive(Default)]
pub(crate) struct Webhooks {
    endpoints: Mutex<Vec<Endpoint>>,
    faults: Mutex<DeliveryFaults>,
    pub counters: Counters,
    wake: Arc<Notify>,
    started: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why an endpoint cannot be created or changed, in words for Stripe's `invalid_request_error`.
#[derive(Debug)]
pub(crate) struct Invalid {
    pub message: String,
    pub param: Option<&'static str>,
}

/// What a create or update request asks for.
#[derive(Default)]
pub(crate) struct EndpointParams {
    pub url: Option<String>,
    pub enabled_events: Option<Vec<String>>,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub disabled: Option<bool>,
}

fn valid_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://")) && url.len() > 8
}

fn valid_events(events: &[String]) -> Result<(), Invalid> {
    if events.is_empty() {
        return Err(Invalid {
            message: "Missing required param: enabled_events.".into(),
            param: Some("enabled_events"),
        });
    }
    match events
        .iter()
        .find(|event| event.as_str() != "*" && !event.contains('.'))
    {
        Some(bad) => Err(Invalid {
            message: format!("Invalid value for enabled_events: {bad}"),
            param: Some("enabled_events"),
        }),
        None => Ok(()),
    }
}

impl Webhooks {
    pub(crate) fn create(&self, params: EndpointParams, now: i64) -> Result<Endpoint, Invalid> {
        let url = params.url.filter(|url| valid_url(url)).ok_or(Invalid {
            message: "Missing required param: url.".into(),
            param: Some("url"),
        })?;
        let enabled_events = params.enabled_events.unwrap_or_default();
        valid_events(&enabled_events)?;
        let secret = random("whsec_", 32);
        let endpoint = Endpoint {
            id: random("we_", 24),
            url,
            description: params.description,
            metadata: params.metadata,
            enabled_events,
            disabled: params.disabled.unwrap_or(false),
            created: now,
            secrets: vec![(secret, None)],
            cursor: None,
        };
        let mut endpoints = lock(&self.endpoints);
        if endpoints.len() >= MAX_ENDPOINTS {
            return Err(Invalid {
                message: format!(
                    "You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints."
                ),
                param: None,
            });
        }
        endpoints.push(endpoint.clone());
        drop(endpoints);
        self.wake.notify_one();
        Ok(endpoint)
    }

    pub(crate) fn list(&self) -> Vec<Endpoint> {
        lock(&self.endpoints).clone()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Endpoint> {
        lock(&self.endpoints)
            .iter()
            .find(|endpoint| endpoint.id == id)
            .cloned()
    }

    /// `None` when there is no such endpoint.
    pub(crate) fn update(
        &self,
        id: &str,
        params: EndpointParams,
    ) -> Option<Result<Endpoint, Invalid>> {
        let mut endpoints = lock(&self.endpoints);
        let endpoint = endpoints.iter_mut().find(|endpoint| endpoint.id == id)?;
        if let Some(url) = params.url {
            if !valid_url(&url) {
                return Some(Err(Invalid {
                    message: format!("Invalid URL: {url}"),
                    param: Some("url"),
                }));
            }
            endpoint.url = url;
        }
        if let Some(events) = params.enabled_events {
            if let Err(invalid) = valid_events(&events) {
                return Some(Err(invalid));
            }
            endpoint.enabled_events = events;
        }
        if params.description.is_some() {
            endpoint.description = params.description;
        }
        endpoint.metadata.extend(params.metadata);
        if let Some(disabled) = params.disabled {
            endpoint.disabled = disabled;
        }
        let updated = endpoint.clone();
        drop(endpoints);
        self.wake.notify_one();
        Some(Ok(updated))
    }

    pub(crate) fn delete(&self, id: &str) -> bool {
        let mut endpoints = lock(&self.endpoints);
        let before = endpoints.len();
        endpoints.retain(|endpoint| endpoint.id != id);
        endpoints.len() != before
    }

    /// A new secret for the endpoint; the old ones keep signing until `until` (clock time).
    pub(crate) fn roll_secret(&self, id: &str, until: i64) -> Option<String> {
        let mut endpoints = lock(&self.endpoints);
        let endpoint = endpoints.iter_mut().find(|endpoint| endpoint.id == id)?;
        for (_, expires) in &mut endpoint.secrets {
            if expires.is_none_or(|expires| expires > until) {
                *expires = Some(until);
            }
        }
        let secret = random("whsec_", 32);
        endpoint.secrets.insert(0, (secret.clone(), None));
        Some(secret)
    }

    pub(crate) fn set_faults(&self, duplicate: u64, reverse: u64) {
        let mut faults = lock(&self.faults);
        faults.duplicate += duplicate;
        faults.reverse += reverse;
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the delivery thread once (on the first endpoint).
    pub(crate) fn start(&self, state: Weak<State>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("sandbox-webhooks".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(deliver_forever(state));
            });
        if spawned.is_err() {
            self.started.store(false, Ordering::Release);
        }
    }
}

/// `prefix` + `length` base62 characters from the OS CSPRNG.
fn random(prefix: &str, length: usize) -> String {
    crate::oauth::random_secret(prefix, length).unwrap_or_else(|_| {
        // No OS randomness: fall back on the clock (still unique within a sandbox).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        format!(
            "{prefix}{}",
            crate::generator::ids::base62_string(nanos, length)
        )
    })
}

/// `t=<t>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 of `"<t>.<body>"` with each secret.
pub fn signature_header(secrets: &[String], t: i64, body: &[u8]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            continue;
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

/// One event to send to one endpoint.
struct Delivery {
    endpoint: String,
    key: EventKey,
    duplicate: bool,
}

async fn deliver_forever(state: Weak<State>) {
    let Ok(http) = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        return;
    };
    let Some((concurrency, wake)) = state.upgrade().map(|state| {
        (
            state.config.webhooks.concurrency.max(1),
            Arc::clone(&state.webhooks.wake),
        )
    }) else {
        return;
    };
    let permits = Arc::new(Semaphore::new(concurrency));
    loop {
        let Some(strong) = state.upgrade() else {
            return;
        };
        let poll = strong.config.webhooks.poll_interval;
        // Pages are computed on the blocking pool: deliveries in flight keep going meanwhile.
        let batches = tokio::task::spawn_blocking(move || pick_up(&strong))
            .await
            .unwrap_or_default();
        for batch in batches {
            let state = state.clone();
            let http = http.clone();
            let permits = Arc::clone(&permits);
            tokio::spawn(async move {
                // A batch with reversed events goes out one by one; other batches hold one delivery.
                for delivery in batch {
                    deliver(&state, &http, &permits, delivery).await;
                }
            });
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Picks up, for every enabled endpoint, the events since its cursor up to the clock's now, as long as the
/// outstanding deliveries stay under [`MAX_OUTSTANDING`]. Returns batches to send. Pages are computed on a
/// copy of the endpoints, outside their lock, so requests to `/v1/webhook_endpoints` never wait on them.
fn pick_up(state: &State) -> Vec<Vec<Delivery>> {
    let webhooks = &state.webhooks;
    let now = state.clock.unix_now();
    let generator = &state.generator;
    let mut batches = Vec::new();
    for endpoint in webhooks.list().iter().filter(|endpoint| !endpoint.disabled) {
        let outstanding = webhooks.counters.outstanding.load(Ordering::Acquire);
        let room = MAX_OUTSTANDING.saturating_sub(outstanding);
        // Whole pages only (a page costs about the same whatever its length), unless nothing is on its way.
        if room < PAGE as u64 && outstanding > 0 {
            break;
        }
        let streams = generator.streams_of_types(&|event_type| endpoint.wants(event_type));
        let window = EventWindow {
            streams: &streams,
            from: endpoint.created.saturating_add(1),
            to: now,
            after: endpoint.cursor,
            before: None,
        };
        let (keys, _) = generator.events_page(&window, PAGE.min(room as usize), false);
        let Some(last) = keys.last() else {
            continue;
        };
        // Only if nobody changed the endpoint meanwhile (its events or its cursor).
        {
            let mut endpoints = lock(&webhooks.endpoints);
            let Some(current) = endpoints
                .iter_mut()
                .find(|current| current.id == endpoint.id)
            else {
                continue;
            };
            if current.cursor != endpoint.cursor
                || current.enabled_events != endpoint.enabled_events
            {
                continue;
            }
            current.cursor = Some(*last);
            webhooks
                .counters
                .outstanding
                .fetch_add(keys.len() as u64, Ordering::AcqRel);
        }
        let mut faults = lock(&webhooks.faults);
        let reversed = (faults.reverse.min(keys.len() as u64)) as usize;
        faults.reverse -= reversed as u64;
        let mut deliveries: VecDeque<Delivery> = keys
            .iter()
            .map(|&key| {
                let duplicate = faults.duplicate > 0;
                faults.duplicate = faults.duplicate.saturating_sub(1);
                Delivery {
                    endpoint: endpoint.id.clone(),
                    key,
                    duplicate,
                }
            })
            .collect();
        drop(faults);
        if reversed > 0 {
            // The reversed events, then the rest of the page, one after another: out of order for sure.
            let mut batch: Vec<Delivery> = deliveries.drain(..reversed).collect();
            batch.reverse();
            batch.extend(deliveries);
            batches.push(batch);
        } else {
            batches.extend(deliveries.into_iter().map(|delivery| vec![delivery]));
        }
    }
    batches
}

/// Sends one event to one endpoint until it is accepted or the attempts run out.
async fn deliver(
    state: &Weak<State>,
    http: &reqwest::Client,
    permits: &Semaphore,
    delivery: Delivery,
) {
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let Some(strong) = state.upgrade() else {
            return;
        };
        let config = strong.config.webhooks.clone();
        let endpoint = strong.webhooks.get(&delivery.endpoint);
        let Some(endpoint) = endpoint else {
            // Deleted meanwhile: nothing to deliver to.
            strong
                .webhooks
                .counters
                .outstanding
                .fetch_sub(1, Ordering::AcqRel);
            return;
        };
        // Rendering is CPU work: off the thread that drives the deliveries in flight.
        let key = delivery.key;
        let rendered = tokio::task::spawn_blocking(move || {
            let body = serde_json::to_vec(&strong.generator.event_json(key)).unwrap_or_default();
            (body, strong.clock.unix_now())
        })
        .await;
        let Ok((body, t)) = rendered else {
            return;
        };
        // Stripe signs with the time of the delivery, which receivers compare with their own
        // clocks (5 minutes' tolerance): wall time, whatever the data's clock says.
        let signed_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(t, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(t));
        let signature = signature_header(&endpoint.secrets_at(t), signed_at, &body);
        let sends = if delivery.duplicate { 2 } else { 1 };
        let mut accepted = false;
        for _ in 0..sends {
            let Ok(_permit) = permits.acquire().await else {
                return;
            };
            if let Some(strong) = state.upgrade() {
                strong
                    .webhooks
                    .counters
                    .attempted
                    .fetch_add(1, Ordering::AcqRel);
            }
            let sent = http
                .post(&endpoint.url)
                .timeout(config.timeout)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", USER_AGENT)
                .header("Stripe-Signature", &signature)
                .body(body.clone())
                .send()
                .await;
            let ok = sent.is_ok_and(|response| response.status().is_success());
            if ok {
                if let Some(strong) = state.upgrade() {
                    strong
                        .webhooks
                        .counters
                        .succeeded
                        .fetch_add(1, Ordering::AcqRel);
                }
            }
            accepted |= ok;
        }
        let Some(strong) = state.upgrade() else {
            return;
        };
        if accepted || attempt >= config.max_attempts {
            if !accepted {
                strong
                    .webhooks
                    .counters
                    .given_up
                    .fetch_add(1, Ordering::AcqRel);
            }
            strong
                .webhooks
                .counters
                .outstanding
                .fetch_sub(1, Ordering::AcqRel);
            return;
        }
        drop(strong);
        let backoff = config
            .first_backoff
            .saturating_mul(1u32 << (attempt - 1).min(20))
            .min(config.max_backoff);
        tokio::time::sleep(backoff).await;
    }
}

/// Whether some endpoint has events up to `now` it has not picked up yet.
pub(crate) fn behind(state: &State) -> u64 {
    let now = state.clock.unix_now();
    state
        .webhooks
        .list()
        .iter()
        .filter(|endpoint| !endpoint.disabled)
        .filter(|endpoint| {
            let streams = state
                .generator
                .streams_of_types(&|event_type| endpoint.wants(event_type));
            let window = EventWindow {
                streams: &streams,
                from: endpoint.created.saturating_add(1),
                to: now,
                after: endpoint.cursor,
                before: None,
            };
            let (keys, _) = state.generator.events_page(&window, 1, false);
            !keys.is_empty()
        })
        .count() as u64
}

/// How long to wait between checks of [`behind`] when a test waits for deliveries to finish.
pub(crate) const IDLE_CHECK: Duration = Duration::from_millis(50);
