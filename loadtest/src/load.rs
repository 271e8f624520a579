//! Signed-in users reading dashboards, running queries, editing metrics and signing in, with an
//! optional outage of the database in the middle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use serde_json::{json, Value};

use crate::stats::{by_route, millis, Recorder, Sample};
use crate::PASSWORD;

#[derive(Args, Clone)]
pub struct LoadArgs {
    /// The server, e.g. http://127.0.0.1:8000.
    #[arg(long)]
    base: String,
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Each user waits this long between actions, on average (milliseconds; 0 = none).
    #[arg(long, default_value_t = 1000)]
    think_ms: u64,
    /// The source every user connects with `--api-key`.
    #[arg(long, default_value = "stripe")]
    slug: String,
    #[arg(long)]
    api_key: String,
    /// Emails are `user{i}@{email_domain}` (several runs against one server use several).
    #[arg(long, default_value = "load.test")]
    email_domain: String,
    /// The server's process, for its memory at the start and the end.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds into the load when `--outage-stop` runs.
    #[arg(long)]
    outage_at_secs: Option<u64>,
    /// Seconds between the end of `--outage-stop` and `--outage-start`.
    #[arg(long, default_value_t = 5)]
    outage_secs: u64,
    /// Shell command that takes the database down.
    #[arg(long)]
    outage_stop: Option<String>,
    /// Shell command that brings it back.
    #[arg(long)]
    outage_start: Option<String>,
    /// How long after the database is back the server may take to answer again.
    #[arg(long, default_value_t = 20)]
    recovery_grace_secs: u64,
    /// p99 of dashboard series reads answered from the server's cache must stay below this
    /// (milliseconds; 0 = not checked).
    #[arg(long, default_value_t = 100)]
    max_dashboard_p99_ms: u64,
    /// The server's memory may grow by this much over the load (MiB).
    #[arg(long, default_value_t = 50)]
    max_rss_growth_mib: u64,
}

pub struct User {
    pub email: String,
    pub token: String,
    pub metrics: Vec<i64>,
    pub home: i64,
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()?)
}

async fn expect_json(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("{what}: not JSON: {body}"))
}

/// Registers (or finds) the user and signs in.
pub async fn sign_up(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<User> {
    let credentials = json!({"email": email, "password": PASSWORD});
    let registered = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .await?;
    if !(registered.status().is_success() || registered.status().as_u16() == 409) {
        bail!(
            "registering {email}: {} {}",
            registered.status(),
            registered.text().await.unwrap_or_default()
        );
    }
    let session = expect_json(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&credentials)
            .send()
            .await?,
        "login",
    )
    .await?;
    let token = session["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("login gave no access token"))?
        .to_string();
    Ok(User {
        email: email.to_string(),
        token,
        metrics: Vec::new(),
        home: 0,
    })
}

/// Connects with an API key; the provider's faults can refuse the check: it is tried again.
pub async fn connect(
    client: &reqwest::Client,
    base: &str,
    user: &User,
    slug: &str,
    api_key: &str,
) -> anyhow::Result<()> {
    let mut last = String::new();
    for attempt in 0..30u64 {
        let response = client
            .post(format!("{base}/api/v1/connections/{slug}/key"))
            .bearer_auth(&user.token)
            .json(&json!({"api_key": api_key}))
            .send()
            .await?;
        let status = response.status().as_u16();
        if status == 201 || status == 200 {
            return Ok(());
        }
        last = format!("{status} {}", response.text().await.unwrap_or_default());
        if status != 502 && status != 503 && status != 429 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200 * (attempt + 1).min(10))).await;
    }
    bail!("connecting {} to {slug}: {last}", user.email)
}

/// Two metrics on the user's home dashboard.
async fn prepare(
    client: &reqwest::Client,
    base: &str,
    slug: &str,
    user: &mut User,
) -> anyhow::Result<()> {
    for body in [
        json!({"name": "Revenue", "source": slug, "object_name": "Charge", "operator": "sum",
               "field_name": "currency", "value_field": "amount"}),
        json!({"name": "Customers", "source": slug, "object_name": "Customer",
               "operator": "count"}),
    ] {
        let metric = expect_json(
            client
                .post(format!("{base}/api/v1/metrics"))
                .bearer_auth(&user.token)
                .json(&body)
                .send()
                .await?,
            "creating a metric",
        )
        .await?;
        user.metrics.push(
            metric["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("a metric without id"))?,
        );
    }
    let dashboards = expect_json(
        client
            .get(format!("{base}/api/v1/dashboards"))
            .bearer_auth(&user.token)
            .send()
            .await?,
        "listing dashboards",
    )
    .await?;
    user.home = dashboards
        .as_array()
        .and_then(|all| all.iter().find(|dashboard| dashboard["is_home"] == true))
        .and_then(|home| home["id"].as_i64())
        .ok_or_else(|| anyhow!("no home dashboard"))?;
    expect_json(
        client
            .patch(format!("{base}/api/v1/dashboards/{}", user.home))
            .bearer_auth(&user.token)
            .json(&json!({"metric_ids": user.metrics}))
            .send()
            .await?,
        "filling the home dashboard",
    )
    .await?;
    Ok(())
}

/// A small deterministic generator (xorshift), one per user.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const OBJECTS: &[(&str, &[&str], &[&str])] = &[
    (
        "Charge",
        &["currency", "status", "paid", "object"],
        &["amount", "amount_refunded"],
    ),
    (
        "Customer",
        &["object", "currency", "delinquent"],
        &["balance"],
    ),
    (
        "Invoice",
        &["status", "currency", "billing_reason"],
        &["amount_due", "amount_paid"],
    ),
    ("Subscription", &["status", "object"], &["quantity"]),
    ("PaymentIntent", &["status", "currency"], &["amount"]),
    ("Refund", &["status", "reason"], &["amount"]),
];
const OPERATORS: &[&str] = &["count", "sum", "average", "max"];
const WINDOWS: &[u32] = &[7, 30, 90, 365];

struct Shared {
    client: reqwest::Client,
    base: String,
    slug: String,
    recorder: Recorder,
    deadline: Instant,
    think_ms: u64,
    edits: AtomicU64,
}

/// A dashboard's series read answered from the server's series cache (`X-Cache: hit`): what the
/// latency limit is about.
const CACHED_SERIES: &str = "GET /api/v1/metrics/{id}/series (dashboard, cached)";
/// A dashboard's series read computed (its data changed since, or first read).
const COMPUTED_SERIES: &str = "GET /api/v1/metrics/{id}/series (dashboard, computed)";

async fn timed(
    shared: &Shared,
    route: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Value> {
    timed_as(shared, |_| route, request).await
}

/// Times a request, recorded under the route `route_of` names from the response.
async fn timed_as(
    shared: &Shared,
    route_of: impl Fn(Option<&reqwest::Response>) -> &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Value> {
    let started = Instant::now();
    let result = request.send().await;
    let (status, route, body) = match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let route = route_of(Some(&response));
            (status, route, response.bytes().await.ok())
        }
        Err(_) => (0, route_of(None), None),
    };
    shared
        .recorder
        .record(route, status, started, started.elapsed());
    if (200..300).contains(&status) {
        body.and_then(|bytes| serde_json::from_slice(&bytes).ok())
    } else {
        None
    }
}

async fn act(shared: &Shared, user: &User, dice: &mut Dice) {
    let base = &shared.base;
    let client = &shared.client;
    let roll = dice.below(100);
    if roll < 45 {
        // A dashboard: its definition, then every metric's series in its default window.
        let started = Instant::now();
        let dashboard = timed(
            shared,
            "GET /api/v1/dashboards/{id}",
            client
                .get(format!("{base}/api/v1/dashboards/{}", user.home))
                .bearer_auth(&user.token),
        )
        .await;
        let mut all_ok = dashboard.is_some();
        let ids: Vec<i64> = dashboard
            .as_ref()
            .and_then(|dashboard| dashboard["metric_ids"].as_array())
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let reads = ids.iter().map(|id| {
            timed_as(
                shared,
                |response| {
                    let cached = response
                        .and_then(|response| response.headers().get("x-cache"))
                        .is_some_and(|value| value == "hit");
                    if cached {
                        CACHED_SERIES
                    } else {
                        COMPUTED_SERIES
                    }
                },
                client
                    .get(format!("{base}/api/v1/metrics/{id}/series?total_days=30"))
                    .bearer_auth(&user.token),
            )
        });
        for series in futures_join(reads).await {
            all_ok &= series.is_some();
        }
        shared.recorder.record(
            "dashboard read (definition + series)",
            if all_ok { 200 } else { 599 },
            started,
            started.elapsed(),
        );
    } else if roll < 70 {
        let (object, groups, values) = OBJECTS[dice.below(OBJECTS.len() as u64) as usize];
        let operator = OPERATORS[dice.below(OPERATORS.len() as u64) as usize];
        let group = groups[dice.below(groups.len() as u64) as usize];
        let value = values[dice.below(values.len() as u64) as usize];
        let days = WINDOWS[dice.below(WINDOWS.len() as u64) as usize];
        let mut url = format!(
            "{base}/connect/query/{}?object_name={object}&operator={operator}&field_name={group}&total_days={days}",
            shared.slug
        );
        if operator != "count" {
            url.push_str(&format!("&value_field={value}"));
        }
        timed(
            shared,
            "GET /connect/query/{slug}",
            client.get(url).bearer_auth(&user.token),
        )
        .await;
    } else if roll < 82 {
        // An edit: the revenue metric's name, or its grouping.
        let edit = shared.edits.fetch_add(1, Ordering::Relaxed);
        let body = if dice.below(2) == 0 {
            json!({"name": format!("Revenue {edit}")})
        } else {
            json!({"field_name": if edit.is_multiple_of(2) { "status" } else { "currency" }})
        };
        if let Some(metric) = user.metrics.first() {
            timed(
                shared,
                "PATCH /api/v1/metrics/{id}",
                client
                    .patch(format!("{base}/api/v1/metrics/{metric}"))
                    .bearer_auth(&user.token)
                    .json(&body),
            )
            .await;
        }
    } else if roll < 90 {
        timed(
            shared,
            "GET /api/v1/metrics",
            client
                .get(format!("{base}/api/v1/metrics"))
                .bearer_auth(&user.token),
        )
        .await;
    } else if roll < 95 {
        timed(
            shared,
            "GET /api/v1/connections/{slug}/sync",
            client
                .get(format!("{base}/api/v1/connections/{}/sync", shared.slug))
                .bearer_auth(&user.token),
        )
        .await;
    } else {
        timed(
            shared,
            "POST /api/v1/auth/login",
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": user.email, "password": PASSWORD})),
        )
        .await;
    }
}

/// Awaits every future, polled together (a dashboard's few metrics are read at once).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => *slot = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn shell(command: &str) -> anyhow::Result<()> {
    let command = command.to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .status()
    })
    .await??;
    if !status.success() {
        bail!("the outage command failed: {status}");
    }
    Ok(())
}

/// When the database went down and came back, in time since the load started.
struct Outage {
    down_from: Duration,
    back_at: Duration,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let client = http_client()?;
    let base = args.base.trim_end_matches('/').to_string();

    // Setup: sign-ups, connections (their backfills start now), metrics and dashboards.
    let setup_started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.users {
        let client = client.clone();
        let base = base.clone();
        let args = args.clone();
        tasks.spawn(async move {
            let email = format!("user{i}@{}", args.email_domain);
            let mut user = sign_up(&client, &base, &email).await?;
            connect(&client, &base, &user, &args.slug, &args.api_key).await?;
            prepare(&client, &base, &args.slug, &mut user).await?;
            anyhow::Ok(user)
        });
    }
    let mut users = Vec::new();
    while let Some(result) = tasks.join_next().await {
        users.push(result??);
    }
    println!(
        "setup: {} users signed up, connected to {} and given a dashboard in {:.1}s",
        users.len(),
        args.slug,
        setup_started.elapsed().as_secs_f64()
    );

    let rss_start = rss_kib(args.server_pid);
    let shared = Arc::new(Shared {
        client,
        base,
        slug: args.slug.clone(),
        recorder: Recorder::new(),
        deadline: Instant::now() + Duration::from_secs(args.duration_secs),
        think_ms: args.think_ms,
        edits: AtomicU64::new(0),
    });

    let outage = match (&args.outage_at_secs, &args.outage_stop, &args.outage_start) {
        (Some(at), Some(stop), Some(start)) => {
            let shared = shared.clone();
            let (at, stop, start, pause) = (*at, stop.clone(), start.clone(), args.outage_secs);
            Some(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(at)).await;
                let down_from = shared.recorder.now();
                println!(
                    "outage: taking the database down at {:.1}s",
                    down_from.as_secs_f64()
                );
                shell(&stop).await?;
                tokio::time::sleep(Duration::from_secs(pause)).await;
                shell(&start).await?;
                let back_at = shared.recorder.now();
                println!(
                    "outage: the database is back at {:.1}s",
                    back_at.as_secs_f64()
                );
                anyhow::Ok(Outage { down_from, back_at })
            }))
        }
        _ => None,
    };

    let mut workers = tokio::task::JoinSet::new();
    for (i, user) in users.into_iter().enumerate() {
        let shared = shared.clone();
        workers.spawn(async move {
            let mut dice =
                Dice(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
            // Spread the first actions over one think time.
            if shared.think_ms > 0 {
                tokio::time::sleep(Duration::from_millis(dice.below(shared.think_ms * 2))).await;
            }
            while Instant::now() < shared.deadline {
                act(&shared, &user, &mut dice).await;
                if shared.think_ms > 0 {
                    let pause = shared.think_ms / 2 + dice.below(shared.think_ms + 1);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let rss_end = rss_kib(args.server_pid);
    let outage = match outage {
        Some(task) => Some(task.await??),
        None => None,
    };

    report(
        &args,
        &shared.recorder.samples(),
        outage.as_ref(),
        rss_start,
        rss_end,
    )
}

fn report(
    args: &LoadArgs,
    samples: &[Sample],
    outage: Option<&Outage>,
    rss_start: Option<u64>,
    rss_end: Option<u64>,
) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    // The planned outage lasts from the stop until the server answers again after the database
    // is back (at most the grace period): requests in it must fail with 503 only.
    let recovered_at = outage.map(|outage| {
        let limit = outage.back_at + Duration::from_secs(args.recovery_grace_secs);
        samples
            .iter()
            .filter(|sample| sample.route != "dashboard read (definition + series)")
            .filter(|sample| !sample.ok() && sample.started + sample.latency <= limit)
            .map(|sample| sample.started + sample.latency)
            .max()
            .unwrap_or(outage.back_at)
            .max(outage.back_at)
    });
    let in_outage = |sample: &Sample| match (outage, recovered_at) {
        (Some(outage), Some(recovered)) => {
            sample.started + sample.latency >= outage.down_from && sample.started <= recovered
        }
        _ => false,
    };
    let outside = |sample: &Sample| !in_outage(sample);
    let routes = by_route(samples, outside);

    let total = samples.len();
    let composite = |sample: &Sample| sample.route == "dashboard read (definition + series)";
    let requests = samples.iter().filter(|sample| !composite(sample)).count();
    let errors_outside: Vec<&Sample> = samples
        .iter()
        .filter(|sample| !composite(sample) && outside(sample) && !sample.ok())
        .collect();
    let outage_samples: Vec<&Sample> = samples
        .iter()
        .filter(|sample| !composite(sample) && in_outage(sample))
        .collect();
    let outage_503 = outage_samples
        .iter()
        .filter(|sample| sample.status == 503)
        .count();
    let outage_wrong: Vec<&&Sample> = outage_samples
        .iter()
        .filter(|sample| !sample.ok() && sample.status != 503)
        .collect();

    println!();
    println!(
        "load: {} users for {}s, {} requests ({:.0}/s), {} errors outside the planned outage",
        args.users,
        args.duration_secs,
        requests,
        requests as f64 / args.duration_secs.max(1) as f64,
        errors_outside.len()
    );
    let _ = total;
    println!(
        "{:<54} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "route (outside the outage)", "requests", "errors", "p50 ms", "p99 ms", "max ms"
    );
    for (route, summary) in &routes {
        println!(
            "{:<54} {:>8} {:>7} {:>9} {:>9} {:>9}",
            route,
            summary.requests,
            summary.errors,
            millis(summary.p50),
            millis(summary.p99),
            millis(summary.max)
        );
    }
    if !errors_outside.is_empty() {
        let mut by_status = std::collections::BTreeMap::<(u16, &str), usize>::new();
        for sample in &errors_outside {
            *by_status.entry((sample.status, sample.route)).or_default() += 1;
        }
        for ((status, route), count) in by_status {
            println!("  error {status} on {route}: {count}");
        }
        failures.push(format!(
            "{} errors outside the planned outage",
            errors_outside.len()
        ));
    }
    if let (Some(outage), Some(recovered)) = (outage, recovered_at) {
        println!(
            "outage: database down from {:.1}s to {:.1}s; {} requests in it: {} answered 503, {} other errors; the server answered again {:.1}s after the database was back (no restart)",
            outage.down_from.as_secs_f64(),
            outage.back_at.as_secs_f64(),
            outage_samples.len(),
            outage_503,
            outage_wrong.len(),
            (recovered - outage.back_at).as_secs_f64()
        );
        if !outage_wrong.is_empty() {
            let mut by_status = std::collections::BTreeMap::<(u16, &str), usize>::new();
            for sample in &outage_wrong {
                *by_status.entry((sample.status, sample.route)).or_default() += 1;
            }
            for ((status, route), count) in by_status {
                println!("  outage answer {status} on {route}: {count}");
            }
            failures.push(format!(
                "{} answers other than 503 during the outage",
                outage_wrong.len()
            ));
        }
        if outage_503 == 0 {
            failures.push("no 503 during the outage: it was not seen".to_string());
        }
        if recovered >= outage.back_at + Duration::from_secs(args.recovery_grace_secs) {
            failures.push("the server did not recover within the grace period".to_string());
        }
    }
    if let Some(dashboard) = routes.get(CACHED_SERIES) {
        if args.max_dashboard_p99_ms > 0
            && dashboard.p99 > Duration::from_millis(args.max_dashboard_p99_ms)
        {
            failures.push(format!(
                "p99 of cached dashboard series reads is {} ms (limit {})",
                millis(dashboard.p99),
                args.max_dashboard_p99_ms
            ));
        }
    }
    match (rss_start, rss_end) {
        (Some(start), Some(end)) => {
            println!(
                "server RSS: {:.1} MiB at the start of the load, {:.1} MiB at the end ({:+.1} MiB)",
                start as f64 / 1024.0,
                end as f64 / 1024.0,
                (end as f64 - start as f64) / 1024.0
            );
            if end > start + args.max_rss_growth_mib * 1024 {
                failures.push(format!(
                    "the server's memory grew by more than {} MiB",
                    args.max_rss_growth_mib
                ));
            }
        }
        _ => println!("server RSS: unknown (no --server-pid)"),
    }
    if failures.is_empty() {
        println!("load: passed");
        Ok(())
    } else {
        for failure in &failures {
            println!("FAILED: {failure}");
        }
        bail!("the load run failed: {}", failures.join("; "))
    }
}
