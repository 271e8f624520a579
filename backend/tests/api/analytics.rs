//! Google Analytics 4 end to end against the built-in sandbox's GA4 API (Demo Analytics): connect
//! through OAuth with PKCE, pick a property, sync its reports page by page, and chart numbers
//! that equal what the sandbox served; the additive rule; failures: an expired token, an
//! exhausted quota, switching properties.

use std::collections::BTreeMap;
use std::time::Duration;

use allmetrics::sync;
use allmetrics_common::{AccountResponse, ConnectionResponse, Series};
use serde_json::{json, Value};

use crate::demo::{consent, follow_callback};
use crate::helpers::{assert_error, spawn_app_with, whole_days, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    demo_analytics_charts_exactly_what_the_reports_say,
    switching_properties_leaves_no_row_of_the_previous_one,
    an_expired_token_is_refreshed_before_reading,
    an_exhausted_quota_pauses_the_sync_which_resumes_with_nothing_lost,
);

const SLUG: &str = "demo-analytics";
/// Demo Mobile App: Europe/Paris, EUR, 120 days of history.
const PARIS: &str = "250002";
/// Demo Tokyo Shop: Asia/Tokyo, JPY, 60 days.
const TOKYO: &str = "250003";

async fn spawn(
    kind: DbKind,
    configure: impl FnOnce(&mut allmetrics::configuration::Settings),
) -> TestApp {
    spawn_app_with(kind, |settings| {
        // Several pages per month of a report.
        settings.sync.page_size = 40;
        configure(settings);
    })
    .await
}

/// Signs up and connects Demo Analytics through the sandbox's consent page.
async fn connect(app: &TestApp) -> String {
    let user = app.sign_up("ann@example.com").await.access_token;
    let callback = consent(app, &user, SLUG, "approve").await;
    let done = follow_callback(app, &user, &callback).await;
    assert_eq!(done.status().as_u16(), 302);
    assert_eq!(
        done.headers()["location"],
        format!("/sources?connected={SLUG}")
    );
    user
}

async fn choose(app: &TestApp, user: &str, id: &str) -> reqwest::Response {
    app.put_account(user, SLUG, id).await
}

async fn sync_now(app: &TestApp) {
    app.run_syncs().await;
}

async fn series(app: &TestApp, user: &str, query: &str) -> reqwest::Response {
    app.get_authed(&format!("/connect/query/{SLUG}?{query}"), user)
        .await
}

/// `total_days=..&end=..`: the property's whole history.
fn whole_history(property: &allmetrics_sandbox::AnalyticsProperty) -> String {
    whole_days(&property.first_date, &property.last_date)
}

fn property(app: &TestApp, id: &str) -> allmetrics_sandbox::AnalyticsProperty {
    let sandbox = app.state.sandbox.as_ref().unwrap();
    sandbox
        .analytics_properties()
        .into_iter()
        .find(|property| property.id == id)
        .unwrap()
}

/// The sandbox's own answer for the whole history of `id`: date -> dimension value -> metrics.
async fn sandbox_report(
    app: &TestApp,
    id: &str,
    dimension: Option<&str>,
    metrics: &[&str],
) -> BTreeMap<String, BTreeMap<String, Vec<f64>>> {
    let property = property(app, id);
    let key = app.state.settings.sandbox.api_key.clone().unwrap();
    let dimensions: Vec<Value> = std::iter::once("date")
        .chain(dimension)
        .map(|name| json!({ "name": name }))
        .collect();
    let answer: Value = app
        .client
        .post(app.url(&format!("/sandbox/v1beta/properties/{id}:runReport")))
        .bearer_auth(key)
        .json(&json!({
            "dateRanges": [{"startDate": property.first_date, "endDate": property.last_date}],
            "dimensions": dimensions,
            "metrics": metrics.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
            "limit": 250000,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut report: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for row in answer["rows"].as_array().unwrap() {
        let date = row["dimensionValues"][0]["value"].as_str().unwrap();
        let date = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
        let group = row["dimensionValues"]
            .get(1)
            .map_or("total".to_string(), |value| {
                value["value"].as_str().unwrap().to_string()
            });
        let values = row["metricValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value["value"].as_str().unwrap().parse::<f64>().unwrap())
            .collect();
        report.entry(date).or_default().insert(group, values);
    }
    report
}

async fn demo_analytics_charts_exactly_what_the_reports_say(kind: DbKind) {
    let app = spawn(kind, |_| {}).await;
    let user = connect(&app).await;

    // Several properties: the connection waits for the choice, and reads nothing meanwhile.
    let connection: ConnectionResponse = app.get_connections(&user).await.remove(0);
    assert_eq!(connection.status, "needs_account");
    assert!(connection
        .scopes
        .contains("https://www.googleapis.com/auth/analytics.readonly"));
    sync_now(&app).await;
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    assert!(app
        .repository
        .sync_jobs(stored.id)
        .await
        .unwrap()
        .is_empty());

    let accounts: Vec<AccountResponse> = app.get_accounts(&user, SLUG).await.json().await.unwrap();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["Demo Web Store", "Demo Mobile App", "Demo Tokyo Shop"]
    );
    assert_eq!(accounts[1].parent.as_deref(), Some("Demo Company"));

    assert_error(choose(&app, &user, "999999").await, 404, "unknown_account").await;
    assert_error(choose(&app, &user, " ").await, 400, "invalid_account").await;
    let chosen: ConnectionResponse = choose(&app, &user, PARIS).await.json().await.unwrap();
    assert_eq!(chosen.status, "active");
    let account = chosen.account.unwrap();
    assert_eq!(
        (account.time_zone.as_deref(), account.currency.as_deref()),
        (Some("Europe/Paris"), Some("EUR"))
    );
    sync_now(&app).await;
    let sandbox = app.state.sandbox.as_ref().unwrap();
    assert!(
        sandbox.analytics_peak_concurrent_requests() <= 10,
        "at most 10 requests at once per property"
    );

    let paris = property(&app, PARIS);
    let window = whole_history(&paris);
    // Sessions by device, on a chart asked in Tokyo: every row keeps its Paris date.
    let body: Series = series(
        &app,
        &user,
        &format!("object_name=device&operator=sum&value_field=sessions&field_name=deviceCategory&{window}&tz=Asia/Tokyo"),
    )
    .await
    .json()
    .await
    .unwrap();
    let by_device = sandbox_report(
        &app,
        PARIS,
        Some("deviceCategory"),
        &["sessions", "activeUsers"],
    )
    .await;
    let daily = sandbox_report(&app, PARIS, None, &["activeUsers", "totalRevenue"]).await;
    assert_eq!(body.meta.tz, "Asia/Tokyo");
    assert_eq!(body.meta.source_tz.as_deref(), Some("Europe/Paris"));
    assert_eq!(body.meta.sampled, Some(false));
    assert!(!body.meta.partial);
    assert_eq!(body.label_x.last(), Some(&paris.last_date));
    assert!(body.label_x.contains(&paris.first_date));
    let mut days_with_data = 0;
    for (index, date) in body.label_x.iter().enumerate() {
        let expected = by_device.get(date).cloned().unwrap_or_default();
        days_with_data += usize::from(!expected.is_empty());
        let total: f64 = expected.values().map(|values| values[0]).sum();
        assert_eq!(body.label_y[index], total, "sessions on {date}");
        for (device, values) in &expected {
            assert_eq!(body.label_z[device][index], values[0], "{device} on {date}");
        }
    }
    assert_eq!(days_with_data, by_device.len(), "every day of the history");
    assert_eq!(
        body.meta.records as usize,
        by_device.values().map(BTreeMap::len).sum::<usize>()
    );

    // Users by device: each group from its exact report, the day from the totals report.
    let users: Series = series(
        &app,
        &user,
        &format!("object_name=device&operator=sum&value_field=activeUsers&field_name=deviceCategory&{window}"),
    )
    .await
    .json()
    .await
    .unwrap();
    let mut double_counted = 0;
    for (index, date) in users.label_x.iter().enumerate() {
        let Some(expected) = by_device.get(date) else {
            continue;
        };
        for (device, values) in expected {
            assert_eq!(
                users.label_z[device][index], values[1],
                "{device} users on {date}"
            );
        }
        assert_eq!(
            users.label_y[index], daily[date]["total"][0],
            "users on {date}"
        );
        let summed: f64 = expected.values().map(|values| values[1]).sum();
        double_counted += usize::from(summed > users.label_y[index]);
    }
    assert!(
        double_counted > 0,
        "the sum over devices counts people twice"
    );

    // Users added up any other way: refused.
    for query in [
        "object_name=device&operator=sum&value_field=activeUsers",
        "object_name=device&operator=sum&value_field=totalUsers&field_name=date",
        "object_name=country&operator=sum&value_field=activeUsers&field_name=deviceCategory",
    ] {
        assert_error(series(&app, &user, query).await, 400, "non_additive").await;
    }
    // Naming the report's own date is the default, not another date field.
    let dated = series(
        &app,
        &user,
        &format!("object_name=device&operator=sum&value_field=activeUsers&field_name=deviceCategory&date_field=date&{window}"),
    )
    .await;
    assert_eq!(dated.status().as_u16(), 200);
    let dated: Series = dated.json().await.unwrap();
    assert_eq!(dated.label_y, users.label_y);

    // From the totals report, grouped by nothing, users are exact.
    let totals: Series = series(
        &app,
        &user,
        &format!("object_name=daily&operator=sum&value_field=activeUsers&{window}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(totals.label_y, users.label_y);

    // Revenue in the property's currency, in cents, exactly.
    let revenue: Series = series(
        &app,
        &user,
        &format!("object_name=daily&operator=sum&value_field=totalRevenue&{window}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(revenue.meta.currency.as_deref(), Some("eur"));
    for (index, date) in revenue.label_x.iter().enumerate() {
        let expected = daily
            .get(date)
            .map_or(0.0, |day| (day["total"][1] * 100.0).round());
        assert_eq!(revenue.label_y[index], expected, "revenue on {date}");
    }

    // A rate is the ratio of its parts' sums, per device and per day; never summed.
    let bounce: Series = series(
        &app,
        &user,
        &format!("object_name=device&operator=average&value_field=bounceRate&field_name=deviceCategory&{window}"),
    )
    .await
    .json()
    .await
    .unwrap();
    let engagement = sandbox_report(
        &app,
        PARIS,
        Some("deviceCategory"),
        &["sessions", "engagedSessions"],
    )
    .await;
    for (index, date) in bounce.label_x.iter().enumerate() {
        let Some(devices) = engagement.get(date) else {
            continue;
        };
        let (mut bounces, mut sessions) = (0.0, 0.0);
        for (device, values) in devices {
            let rate = (values[0] - values[1]) / values[0];
            assert!(
                (bounce.label_z[device][index] - rate).abs() < 1e-12,
                "{device} {date}"
            );
            bounces += values[0] - values[1];
            sessions += values[0];
        }
        assert!(
            (bounce.label_y[index] - bounces / sessions).abs() < 1e-12,
            "{date}"
        );
    }
    assert_error(
        series(
            &app,
            &user,
            "object_name=daily&operator=sum&value_field=bounceRate",
        )
        .await,
        400,
        "ratio_needs_average",
    )
    .await;

    // Users by country are thresholded by Google: the chart says so.
    let countries: Series = series(
        &app,
        &user,
        &format!(
            "object_name=country&operator=sum&value_field=activeUsers&field_name=country&{window}"
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(countries.meta.sampled, Some(true));
}

async fn switching_properties_leaves_no_row_of_the_previous_one(kind: DbKind) {
    let app = spawn(kind, |_| {}).await;
    let user = connect(&app).await;
    assert_eq!(choose(&app, &user, PARIS).await.status().as_u16(), 200);
    sync_now(&app).await;
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let paris_days = sandbox_report(&app, PARIS, None, &["sessions"]).await.len();
    assert_eq!(
        app.repository
            .count_synced_objects(connection.id, "daily")
            .await
            .unwrap() as usize,
        paris_days
    );

    // Choosing the same property again keeps every row.
    assert_eq!(choose(&app, &user, PARIS).await.status().as_u16(), 200);
    assert_eq!(
        app.repository
            .count_synced_objects(connection.id, "daily")
            .await
            .unwrap() as usize,
        paris_days
    );

    // Another property: the previous one's rows are gone at once, before anything is read.
    assert_eq!(choose(&app, &user, TOKYO).await.status().as_u16(), 200);
    for object in ["daily", "device", "country", "platform"] {
        assert_eq!(
            app.repository
                .count_synced_objects(connection.id, object)
                .await
                .unwrap(),
            0
        );
    }
    sync_now(&app).await;
    let tokyo = sandbox_report(&app, TOKYO, None, &["sessions"]).await;
    let ids = app
        .repository
        .synced_object_ids(connection.id, "daily")
        .await
        .unwrap();
    let expected: Vec<String> = tokyo
        .keys()
        .map(|date| format!("[\"{}\"]", date.replace('-', "")))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(ids, expected, "exactly the Tokyo property's days");

    // A reconnect (a new grant of the same Google login) keeps the choice and every row.
    let callback = consent(&app, &user, SLUG, "approve").await;
    follow_callback(&app, &user, &callback).await;
    let connection: ConnectionResponse = app.get_connections(&user).await.remove(0);
    assert_eq!(connection.status, "active");
    assert_eq!(connection.account.unwrap().id, TOKYO);
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    assert_eq!(
        app.repository
            .synced_object_ids(stored.id, "daily")
            .await
            .unwrap(),
        ids
    );
}

async fn an_expired_token_is_refreshed_before_reading(kind: DbKind) {
    // Tokens live an hour, as Google's do.
    let app = spawn(kind, |settings| {
        settings.sandbox.access_token_ttl_secs = Some(3_600);
    })
    .await;
    let user = connect(&app).await;
    assert_eq!(choose(&app, &user, TOKYO).await.status().as_u16(), 200);
    let before = app.repository.all_connections().await.unwrap().remove(0);
    // The token has expired at the provider, earlier than this server expected (a clock ahead,
    // a revocation of the access token alone): the provider's 401 makes it refresh and go on.
    app.state
        .sandbox
        .as_ref()
        .unwrap()
        .advance_clock(Duration::from_secs(3_700));
    sync_now(&app).await;
    let after = app.repository.all_connections().await.unwrap().remove(0);
    assert_ne!(after.access_token_enc, before.access_token_enc, "refreshed");
    let jobs = app.repository.sync_jobs(after.id).await.unwrap();
    assert!(!jobs.is_empty());
    for job in &jobs {
        assert!(
            job.backfill_done,
            "{}: {:?}",
            job.object_name, job.last_error
        );
        assert_eq!(job.last_error, None);
    }
    let days = sandbox_report(&app, TOKYO, None, &["sessions"]).await.len();
    assert_eq!(
        app.repository
            .count_synced_objects(after.id, "daily")
            .await
            .unwrap() as usize,
        days
    );
}

async fn an_exhausted_quota_pauses_the_sync_which_resumes_with_nothing_lost(kind: DbKind) {
    let app = spawn(kind, |settings| {
        settings.sandbox.analytics_tokens_per_hour = Some(12);
    })
    .await;
    // Two reports keep the test short.
    let source = app
        .repository
        .data_source_by_slug(SLUG)
        .await
        .unwrap()
        .unwrap();
    for object in ["country", "channel", "source", "page", "platform"] {
        app.repository
            .update_routing_source(
                source.id,
                object,
                allmetrics::domain::RoutingSourcePatch {
                    enabled: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let user = connect(&app).await;
    assert_eq!(choose(&app, &user, PARIS).await.status().as_u16(), 200);
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let sandbox = app.state.sandbox.as_ref().unwrap();

    // The first hour's tokens run out long before the history is read: the sync stops and says
    // why, keeping what it read.
    sync_now(&app).await;
    let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
    assert!(jobs.iter().any(|job| !job.backfill_done));
    assert!(jobs.iter().any(|job| job.last_error.is_some()));
    let served_in_the_first_hour = sandbox.analytics_requests();
    assert!(served_in_the_first_hour <= 12, "{served_in_the_first_hour}");

    // Hour after hour (a restarted process each time), it resumes where it stopped.
    let mut hours = 0;
    loop {
        let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
        if jobs
            .iter()
            .all(|job| job.backfill_done && job.last_error.is_none())
        {
            break;
        }
        hours += 1;
        assert!(hours < 100, "the sync never finished: {jobs:?}");
        sandbox.advance_clock(Duration::from_secs(3_600));
        sync::schedule(&app.state.services(), &connection)
            .await
            .unwrap();
        sync_now(&app).await;
    }
    assert!(hours >= 2, "it took several hours of quota");
    // The checks below read the sandbox too: a fresh day of quota for them.
    sandbox.advance_clock(Duration::from_secs(86_400));

    // Nothing lost, nothing twice.
    for (object, dimension) in [("daily", None), ("device", Some("deviceCategory"))] {
        let expected = sandbox_report(&app, PARIS, dimension, &["sessions"]).await;
        let rows: usize = expected.values().map(BTreeMap::len).sum();
        assert_eq!(
            app.repository
                .count_synced_objects(connection.id, object)
                .await
                .unwrap() as usize,
            rows,
            "{object}"
        );
    }
    let paris = property(&app, PARIS);
    let body: Series = series(
        &app,
        &user,
        &format!(
            "object_name=daily&operator=sum&value_field=sessions&{}",
            whole_history(&paris)
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    let expected = sandbox_report(&app, PARIS, None, &["sessions"]).await;
    let total: f64 = expected.values().map(|day| day["total"][0]).sum();
    assert_eq!(body.label_y.iter().sum::<f64>(), total);
}

/// Google's recorded `runReport` answer goes through the project's own parser, when the shared
/// provider material is beside the checkout.
#[test]
fn the_recorded_google_answer_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/providers/google/runReport.example.airbyte-unit-test.json");
    let Ok(body) = std::fs::read(&path) else {
        eprintln!("skipped: {} is not here", path.display());
        return;
    };
    let report = allmetrics::providers::google::catalogue::report_named("platform").unwrap();
    let page =
        allmetrics::providers::google::reader::parse_report(&body, report, "USD", 0).unwrap();
    let recorded: Value = serde_json::from_slice(&body).unwrap();
    let rows = recorded["rows"].as_array().unwrap();
    assert_eq!(page.objects.len(), rows.len());
    let first = &page.objects[0];
    assert_eq!(first.data["date"], "2022-07-31");
    assert_eq!(first.data["deviceCategory"], "desktop");
    assert_eq!(first.data["operatingSystem"], "Macintosh");
    assert_eq!(first.data["browser"], "Chrome");
    assert_eq!(first.data["sessions"], 420);
    assert_eq!(first.data["totalUsers"], 344);
    assert!(
        (first.data["averageSessionDuration"].as_f64().unwrap() - 194.763_137_664_285_72).abs()
            < 1e-9
    );
    // 54 rows in all: more pages follow this one.
    assert_eq!(page.next.as_deref(), Some(rows.len().to_string().as_str()));
}
