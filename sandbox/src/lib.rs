//! The demo provider of allmetrics: it plays Stripe, Google Analytics 4 and Facebook Ads for people who have no
//! such account (and for tests).
//!
//! - An OAuth 2.0 authorization server shaped like Stripe Connect (`/oauth/authorize`, `/oauth/token`,
//!   `/oauth/deauthorize`, `/oauth/revoke`), with PKCE S256.
//! - A Stripe-compatible read API (`/v1/{customers,charges,...}` and `/v1/{...}/{id}`) over deterministic
//!   generated data: same seed and size, same objects, produced on demand so memory stays flat. The account
//!   settles in USD; customers pay in USD, EUR, GBP or CAD, and subscriptions are billed in their customer's
//!   currency with the catalog's prices in it (every price has USD, EUR and GBP versions; CAD customers have
//!   no subscriptions).
//! - A Stripe account that lives on the sandbox's clock (`config.now` at the start, then real time plus every
//!   [`Sandbox::advance_clock`]): objects keep being created at the recent rate for three years after the start,
//!   and change on fixed schedules (subscriptions renew, change plan, pause and resume, go past due, cancel at
//!   once or at period end, trials convert or lapse; invoices are finalized, then paid, voided or marked
//!   uncollectible; charges settle, are refunded and disputed; payouts arrive; customers change their email and
//!   a few are deleted, as are the legacy product and its prices 120 days after the start). History is fixed:
//!   what `/v1` answers about an instant never changes when asked later. `/v1` answers as of the clock and
//!   stamps it in `Date`; a deleted customer answers `{"id", "object": "customer", "deleted": true}`, deleted
//!   products and prices 404, lists leave deleted objects out.
//! - Stripe's change feed: `GET /v1/events` (newest first, `limit`, `starting_after`/`ending_before`, `type`
//!   with a trailing `*` wildcard, `types[]` up to 20, `created` and `created[gt|gte|lt|lte]`, the last 30 days
//!   only) and `GET /v1/events/{id}`; every creation and change is an event (balance transactions excepted, as
//!   at Stripe), `data.previous_attributes` on `*.updated`.
//! - Stripe's exchange rates: `GET /v1/exchange_rates` (by currency id, `limit`, `starting_after`,
//!   `ending_before`) and `GET /v1/exchange_rates/{currency}`, the rates of the clock's UTC day: deterministic
//!   from the seed and the day, a bounded random walk around realistic values for a dozen currencies.
//! - Webhook endpoints: `POST /v1/webhook_endpoints` (form: `url`, `enabled_events[]` or `*`, `description`,
//!   `metadata[...]`; the answer carries the `whsec_...` secret, shown only then), `GET /v1/webhook_endpoints`,
//!   `GET|POST|DELETE /v1/webhook_endpoints/{id}` (at most 16). Events after an endpoint's creation are
//!   POSTed to it signed as Stripe signs them (`Stripe-Signature: t=...,v1=...`), retried with exponential
//!   backoff ([`WebhookConfig`]), by a delivery thread of the sandbox's own.
//! - A restricted key (`config.restricted_api_key`, `rk_test_...`) that reads objects, but gets Stripe's 403
//!   on `/v1/events` and `/v1/webhook_endpoints`.
//! - A clock knob for demos: `POST /v1/test_helpers/advance_clock` with form field `seconds` moves the clock
//!   forward (as [`Sandbox::advance_clock`]) and answers `{"now": <unix seconds>}`.
//! - A Google Analytics 4 API (`/v1beta/accountSummaries`, `/v1beta/properties/{id}` and
//!   `/v1beta/properties/{id}:runReport`) over three fixed properties with deterministic daily data, GA's
//!   error shapes and its property quotas (tokens per hour and day, 10 concurrent requests). The OAuth server
//!   also grants Google's `https://www.googleapis.com/auth/analytics.readonly` scope, which `/v1beta` requires.
//! - Facebook's Graph API login and Marketing API v25.0 (`/v25.0/oauth/access_token`, `/v25.0/me/adaccounts`,
//!   `/v25.0/act_{id}/insights`, ...) over four fixed ad accounts with deterministic, exactly additive delivery,
//!   Facebook's error shapes, cursor paging, usage headers and throttling. The consent page is the same
//!   `/oauth/authorize`, which also grants Facebook's `ads_read` (comma- or space-separated scopes).
//! - Knobs to make it misbehave: latency, a rate limit, and deterministic fault injection (on `/v1`, `/v1beta`
//!   and `/v25.0` alike).
//!
//! The app mounts it with `web::scope("/sandbox").configure(|c| sandbox.configure(c))`; tests and benchmarks
//! run it alone with [`bind`] or the `allmetrics-sandbox` binary.
#![recursion_limit = "256"]

mod ads;
mod analytics;
mod api;
mod clock;
mod config;
mod generator;
mod oauth;
mod rng;
mod server;
mod webhooks;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::web;

pub use ads::AdAccount;
pub use analytics::AnalyticsProperty;
pub use config::{Faults, SandboxConfig, WebhookConfig};
pub use generator::events::{EventKey, API_VERSION as EVENTS_API_VERSION};
pub use generator::{Generator, ObjectKind, MAX_SIZE};
pub use server::{bind, run};
pub use webhooks::{
    signature_header as webhook_signature_header, MAX_ENDPOINTS as MAX_WEBHOOK_ENDPOINTS,
};

/// The Stripe account the sandbox's data belongs to.
pub(crate) struct Account {
    /// `acct_...`, derived from the seed.
    pub id: String,
    /// `pk_test_...`, derived from the seed.
    pub publishable_key: String,
}

/// Everything the handlers share.
pub(crate) struct State {
    pub config: SandboxConfig,
    pub generator: Generator,
    pub account: Account,
    pub clock: clock::Clock,
    pub tokens: oauth::store::TokenStore,
    pub limiter: api::knobs::RateLimiter,
    /// `/v1` request counters (`/v1beta` keeps its own in `analytics`).
    pub stripe_traffic: api::Traffic,
    pub analytics: analytics::Analytics,
    pub ads: ads::Ads,
    pub webhooks: webhooks::Webhooks,
}

/// A running sandbox's state: configuration, data generator, issued codes and tokens, rate limiter.
/// Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Sandbox {
    state: Arc<State>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        let now = config.now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs() as i64)
        });
        let account_hash = rng::hash(&[config.seed, generator::ACCOUNT_SALT]);
        let account = Account {
            id: format!("acct_{}", generator::ids::base62_string(account_hash, 16)),
            publishable_key: format!(
                "pk_test_{}",
                generator::ids::base62_string(rng::mix64(account_hash), 24)
            ),
        };
        Sandbox {
            state: Arc::new(State {
                generator: Generator::new(config.seed, config.size, now),
                account,
                clock: clock::Clock::new(now),
                tokens: oauth::store::TokenStore::default(),
                limiter: api::knobs::RateLimiter::new(config.rate_limit_per_sec),
                stripe_traffic: api::Traffic::default(),
                analytics: analytics::Analytics::new(now, config.analytics_tokens_per_hour),
                ads: ads::Ads::new(
                    config.seed,
                    now,
                    config.ads_calls_per_hour,
                    config.ads_max_range_days,
                ),
                webhooks: webhooks::Webhooks::default(),
                config,
            }),
        }
    }

    /// Registers every route relative to where it is mounted: `/oauth/...`, `/v1/...`, `/v1beta/...` and
    /// `/v25.0/...`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::from(Arc::clone(&self.state)))
            .service(oauth::scope())
            .service(api::scope())
            .service(analytics::scope())
            .service(ads::scope());
    }

    pub fn generator(&self) -> &Generator {
        &self.state.generator
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.state.config
    }

    /// The connected account's id (`stripe_user_id` in token responses).
    pub fn account_id(&self) -> &str {
        &self.state.account.id
    }

    /// The account's publishable key (`stripe_publishable_key` in token responses).
    pub fn publishable_key(&self) -> &str {
        &self.state.account.publishable_key
    }

    /// How many `/v1` requests it has received.
    pub fn requests_seen(&self) -> u64 {
        self.state
            .stripe_traffic
            .seen
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The most `/v1` requests it was answering at once (how parallel a client was).
    pub fn peak_concurrent_requests(&self) -> u64 {
        self.state
            .stripe_traffic
            .peak_in_flight
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The Google Analytics properties `/v1beta` serves, in id order: `250001` "Demo Web Store" and `250002`
    /// "Demo Mobile App" of account `1000`, `250003` "Demo Tokyo Shop" of account `1001`.
    pub fn analytics_properties(&self) -> Vec<AnalyticsProperty> {
        self.state.analytics.properties()
    }

    /// The most `runReport` requests in flight at once on any one property, latency included (GA allows 10;
    /// an 11th is counted here, then refused with 429).
    pub fn analytics_peak_concurrent_requests(&self) -> u64 {
        self.state.analytics.peak_concurrent_requests()
    }

    /// How many `runReport` requests were answered 200 (damaged bodies included).
    pub fn analytics_requests(&self) -> u64 {
        self.state.analytics.requests_answered()
    }

    /// The Facebook ad accounts `/v25.0` serves, in id order: `act_1001` "Demo Shoes US" (USD,
    /// America/New_York), `act_1002` "Demo Lunettes FR" (EUR, Europe/Paris), `act_1003` "Demo Tokyo Ads" (JPY,
    /// Asia/Tokyo), `act_1004` "Demo Kuwait" (KWD, Asia/Kuwait), created 1100, 400, 120 and 90 days before now.
    pub fn ad_accounts(&self) -> Vec<AdAccount> {
        self.state.ads.accounts()
    }

    /// How many `/v25.0/act_{id}/insights` requests were answered 200 (damaged bodies included).
    pub fn ads_requests(&self) -> u64 {
        self.state.ads.requests_answered()
    }

    /// Makes the next `count` insights requests (after authentication and the usage count) fail with the
    /// Graph API error `code`, in Facebook's words and status: 1 and 2 (500), 4, 17, 32, 613, 80000
    /// (throttling, 400), 100 (invalid parameter, 400), 190 (expired token, subcode 463, 400), 200 (permission,
    /// 403); any other code answers 400 with that code. Calls add to the queue: `force_ads_errors(17, 2)` then
    /// `force_ads_errors(190, 1)` fails the next three.
    pub fn force_ads_errors(&self, code: u32, count: u32) {
        self.state.ads.force_errors(code, count);
    }

    /// Revokes every access and refresh token, Facebook's included (for tests of "revoked token -> 401";
    /// `/v25.0` then answers code 190, subcode 460).
    pub fn revoke_all(&self) {
        self.state.tokens.revoke_all();
    }

    /// Moves the sandbox's clock forward, so tests need not sleep: authorization codes (5 minutes) and access
    /// tokens (`access_token_ttl`; Facebook's 5,400 s and 60 days) expire by it, Google Analytics quota hours
    /// and days and Facebook usage hours are counted on it, and the Stripe account lives on it: objects are
    /// created and change, events happen and webhooks go out as the clock passes (a jump delivers every event
    /// it passes over). Google Analytics' and Facebook's data (and their "today") and the rate limiter are
    /// unaffected. Over HTTP: `POST /v1/test_helpers/advance_clock` with `seconds`.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
        self.state.webhooks.wake();
    }

    /// The sandbox clock's time (unix seconds): the start (`config.now`), plus the time elapsed since, plus
    /// every [`Sandbox::advance_clock`]. `/v1` answers as of this instant and stamps it in `Date`.
    pub fn now_unix(&self) -> i64 {
        self.state.clock.unix_now()
    }

    /// The rates `GET /v1/exchange_rates/{base}` serves now (the clock's UTC day): units of each
    /// currency one unit of `base` buys; `None` for a currency it does not serve.
    pub fn exchange_rates(&self, base: &str) -> Option<Vec<(&'static str, f64)>> {
        let day = generator::fx::day_of(self.state.clock.unix_now());
        generator::fx::rates(self.state.config.seed, base, day)
    }

    /// Every object of a kind that exists at the clock's now (created by then, deleted ones left out), oldest
    /// first, exactly as `/v1/{kind}/{id}` serves each (canceled subscriptions included: they exist, `/v1`
    /// lists them with `status=all`).
    pub fn stripe_objects_now(
        &self,
        kind: ObjectKind,
    ) -> impl Iterator<Item = serde_json::Value> + '_ {
        let at = self.now_unix();
        let generator = &self.state.generator;
        (0..generator.count_at(kind, at))
            .filter(move |&index| generator.exists_at(kind, index, at))
            .map(move |index| generator.object_at(kind, index, at))
    }

    /// The object with this id as `/v1` serves it now; `None` when it does not exist yet, or is deleted.
    pub fn stripe_object_now(&self, kind: ObjectKind, id: &str) -> Option<serde_json::Value> {
        let at = self.now_unix();
        let generator = &self.state.generator;
        let index = generator.index_of(kind, id)?;
        generator
            .exists_at(kind, index, at)
            .then(|| generator.object_at(kind, index, at))
    }

    /// How many events (of every type) happen with `from <= created <= to`, whether `/v1/events` still keeps
    /// them or not. Counts without building them, but walks every candidate: meant for tests.
    pub fn events_count_between(&self, from: i64, to: i64) -> u64 {
        self.state.generator.events_count_between(from, to)
    }

    /// Registers a webhook endpoint (as `POST /v1/webhook_endpoints` does) for `enabled_events` (Stripe's type
    /// names, or `*`); returns its id and its signing secret. Events that happen from now on are delivered
    /// to `url`.
    pub fn create_webhook_endpoint(
        &self,
        url: &str,
        enabled_events: &[&str],
    ) -> Result<(String, String), String> {
        let params = webhooks::EndpointParams {
            url: Some(url.to_owned()),
            enabled_events: Some(
                enabled_events
                    .iter()
                    .map(|event| (*event).to_owned())
                    .collect(),
            ),
            ..webhooks::EndpointParams::default()
        };
        let endpoint = self
            .state
            .webhooks
            .create(params, self.now_unix())
            .map_err(|invalid| invalid.message)?;
        self.state.webhooks.start(Arc::downgrade(&self.state));
        let secret = endpoint.json(true)["secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((endpoint.id, secret))
    }

    /// Gives an endpoint a new secret; the old one keeps signing (deliveries carry one `v1` per secret) for
    /// `keep_old_for` of the sandbox's clock, as Stripe's "roll secret" with an expiry does. `None` when there
    /// is no such endpoint.
    pub fn roll_webhook_secret(&self, id: &str, keep_old_for: Duration) -> Option<String> {
        let until = self
            .now_unix()
            .saturating_add(i64::try_from(keep_old_for.as_secs()).unwrap_or(i64::MAX));
        self.state.webhooks.roll_secret(id, until)
    }

    /// Makes the next `duplicate` deliveries arrive twice each, and the next `reverse` events picked up be
    /// delivered newest first, one after another (adds to what is already asked).
    pub fn webhook_delivery_faults(&self, duplicate: u32, reverse: u32) {
        self.state
            .webhooks
            .set_faults(u64::from(duplicate), u64::from(reverse));
        self.state.webhooks.wake();
    }

    /// 0 once every event up to the clock's now is delivered to every enabled endpoint (or given up after
    /// its retries); otherwise the deliveries waiting, in flight or between retries, or when there are none,
    /// the number of endpoints that have events not picked up yet.
    pub fn pending_webhook_deliveries(&self) -> u64 {
        let outstanding = self
            .state
            .webhooks
            .counters
            .outstanding
            .load(std::sync::atomic::Ordering::Acquire);
        if outstanding > 0 {
            return outstanding;
        }
        webhooks::behind(&self.state)
    }

    /// Waits until [`Sandbox::pending_webhook_deliveries`] is 0.
    pub async fn webhooks_idle(&self) {
        while self.pending_webhook_deliveries() > 0 {
            tokio::time::sleep(webhooks::IDLE_CHECK).await;
        }
    }

    /// Webhook POSTs sent (retries and duplicates included).
    pub fn webhook_deliveries_attempted(&self) -> u64 {
        self.state
            .webhooks
            .counters
            .attempted
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Webhook POSTs answered 2xx.
    pub fn webhook_deliveries_succeeded(&self) -> u64 {
        self.state
            .webhooks
            .counters
            .succeeded
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Deliveries given up after their last attempt failed.
    pub fn webhook_deliveries_given_up(&self) -> u64 {
        self.state
            .webhooks
            .counters
            .given_up
            .load(std::sync::atomic::Ordering::Acquire)
    }
}
