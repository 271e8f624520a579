//! Facebook Ads end to end against the built-in sandbox's Marketing API (Demo Ads): Facebook
//! Login with the long-lived exchange, the ad-account picker, insights synced page by page, and
//! charts whose money is exact to the minor unit; the additive rule for reach; expiry, 190,
//! throttling (usage headers and error codes), and ranges Facebook calls too large.

use std::collections::BTreeMap;
use std::time::Duration;

use allmetrics::sync;
use allmetrics_common::{AccountResponse, ConnectionResponse, Series};
use serde_json::{json, Value};

use crate::demo::{consent, follow_callback};
use crate::helpers::{assert_error, spawn_app_with, whole_days, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    demo_ads_charts_spend_exactly_by_campaign_and_by_country,
    an_expiring_token_warns_and_an_expired_or_refused_one_needs_a_reconnect,
    throttling_waits_and_resumes_with_nothing_lost,
    a_range_facebook_calls_too_large_is_split,
);

const SLUG: &str = "demo-ads";
/// Demo Kuwait: KWD (three decimals), Asia/Kuwait, 90 days.
const KUWAIT: &str = "act_1004";
/// Demo Tokyo Ads: JPY (no decimals), 120 days.
const TOKYO: &str = "act_1003";

async fn spawn(
    kind: DbKind,
    configure: impl FnOnce(&mut allmetrics::configuration::Settings),
) -> TestApp {
    spawn_app_with(kind, |settings| {
        settings.sync.page_size = 50;
        configure(settings);
    })
    .await
}

/// Only these objects sync (the others would only make the test longer).
async fn keep_objects(app: &TestApp, keep: &[&str]) {
    let source = app
        .repository
        .data_source_by_slug(SLUG)
        .await
        .unwrap()
        .unwrap();
    for object in app
        .repository
        .list_routing_sources(source.id, true)
        .await
        .unwrap()
    {
        if !keep.contains(&object.object_name.as_str()) {
            app.repository
                .update_routing_source(
                    source.id,
                    &object.object_name,
                    allmetrics::domain::RoutingSourcePatch {
                        enabled: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
    }
}

async fn connect(app: &TestApp, user: &str) {
    let callback = consent(app, user, SLUG, "approve").await;
    let done = follow_callback(app, user, &callback).await;
    assert_eq!(done.status().as_u16(), 302, "{:?}", done.headers());
    assert_eq!(
        done.headers()["location"],
        format!("/sources?connected={SLUG}")
    );
}

async fn choose(app: &TestApp, user: &str, id: &str) -> ConnectionResponse {
    let answer = app.put_account(user, SLUG, id).await;
    assert_eq!(answer.status().as_u16(), 200);
    answer.json().await.unwrap()
}

async fn sync_now(app: &TestApp) {
    app.run_syncs().await;
}

fn account(app: &TestApp, id: &str) -> allmetrics_sandbox::AdAccount {
    app.state
        .sandbox
        .as_ref()
        .unwrap()
        .ad_accounts()
        .into_iter()
        .find(|account| account.id == id)
        .unwrap()
}

fn whole_history(account: &allmetrics_sandbox::AdAccount) -> String {
    whole_days(&account.first_date, &account.last_date)
}

/// Every insights row the sandbox serves for the account's history, at a level and breakdown,
/// following `paging.next`, read in 10-day ranges.
async fn sandbox_rows(
    app: &TestApp,
    id: &str,
    level: &str,
    breakdowns: &str,
    fields: &str,
) -> Vec<Value> {
    let account = account(app, id);
    let key = app.state.settings.sandbox.api_key.clone().unwrap();
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let (mut since, last) = (day(&account.first_date), day(&account.last_date));
    let mut rows = Vec::new();
    while since <= last {
        let until = (since + chrono::Duration::days(9)).min(last);
        let mut url = url::Url::parse(&app.url(&format!("/sandbox/v25.0/{id}/insights"))).unwrap();
        url.query_pairs_mut()
            .append_pair("fields", fields)
            .append_pair("level", level)
            .append_pair("time_increment", "1")
            .append_pair(
                "time_range",
                &json!({"since": since.to_string(), "until": until.to_string()}).to_string(),
            )
            .append_pair("limit", "500");
        if !breakdowns.is_empty() {
            url.query_pairs_mut().append_pair("breakdowns", breakdowns);
        }
        let mut next = Some(url.to_string());
        while let Some(page_url) = next {
            let page: Value = app
                .client
                .get(page_url)
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            rows.extend(page["data"].as_array().unwrap().iter().cloned());
            next = page["paging"]["next"].as_str().map(String::from);
        }
        since = until + chrono::Duration::days(1);
    }
    rows
}

/// Decimal text in minor units, computed apart from the server's code.
fn minor(text: &str, digits: u32) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(digits as usize)
        .collect();
    format!("{whole}{fraction}").parse().unwrap()
}

async fn query(app: &TestApp, user: &str, query: &str) -> reqwest::Response {
    app.get_authed(&format!("/connect/query/{SLUG}?{query}"), user)
        .await
}

async fn demo_ads_charts_spend_exactly_by_campaign_and_by_country(kind: DbKind) {
    let app = spawn(kind, |_| {}).await;
    keep_objects(&app, &["campaigns", "account", "country"]).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect(&app, &user).await;

    // The long-lived token (about 60 days) is stored; four ad accounts wait for a choice.
    let connection: ConnectionResponse = app.get_connections(&user).await.remove(0);
    assert_eq!(connection.status, "needs_account");
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    let lifetime = stored.expires_at.unwrap() - chrono::Utc::now().timestamp();
    assert!(
        (59 * 86_400..=61 * 86_400).contains(&lifetime),
        "{lifetime}"
    );
    assert!(stored.refresh_token_enc.is_none());
    let accounts: Vec<AccountResponse> = app.get_accounts(&user, SLUG).await.json().await.unwrap();
    assert_eq!(accounts.len(), 4);
    let kuwait = accounts.iter().find(|a| a.id == KUWAIT).unwrap();
    assert_eq!(kuwait.currency.as_deref(), Some("KWD"));
    let chosen = choose(&app, &user, KUWAIT).await;
    assert_eq!(chosen.status, "active");
    sync_now(&app).await;

    let history = whole_history(&account(&app, KUWAIT));
    // Spend by campaign: every day, every campaign, to the fils, under its current name.
    let fields = "campaign_id,campaign_name,spend,impressions,clicks,reach";
    let rows = sandbox_rows(&app, KUWAIT, "campaign", "", fields).await;
    let mut current_names: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut expected: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for row in &rows {
        let id = row["campaign_id"].as_str().unwrap().to_string();
        let date = row["date_start"].as_str().unwrap().to_string();
        let name = row["campaign_name"].as_str().unwrap().to_string();
        let newest = current_names
            .entry(id.clone())
            .or_insert((date.clone(), name.clone()));
        if date >= newest.0 {
            *newest = (date.clone(), name);
        }
        let cell = expected.entry((date, id)).or_default();
        cell.0 += minor(row["spend"].as_str().unwrap(), 3);
        cell.1 += row["clicks"].as_str().unwrap().parse::<i64>().unwrap();
    }
    let renamed = rows.iter().any(|row| {
        let id = row["campaign_id"].as_str().unwrap();
        row["campaign_name"].as_str().unwrap() != current_names[id].1
    });
    assert!(renamed, "the sandbox renamed a campaign");
    let spend: Series = query(
        &app,
        &user,
        &format!(
            "object_name=campaigns&operator=sum&value_field=spend&field_name=campaign_id&{history}"
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(spend.meta.currency.as_deref(), Some("kwd"));
    assert!(
        ["ctr", "cpc", "cpm", "frequency", "roas", "campaign_name"]
            .iter()
            .all(|key| spend.keys.iter().any(|known| known == key)),
        "ratios are offered with the stored fields: {:?}",
        spend.keys
    );
    assert_eq!(spend.meta.source_tz.as_deref(), Some("Asia/Kuwait"));
    for (index, date) in spend.label_x.iter().enumerate() {
        let mut day_total = 0;
        for (id, (_, name)) in &current_names {
            let value = expected
                .get(&(date.clone(), id.clone()))
                .map_or(0, |cell| cell.0);
            day_total += value;
            assert_eq!(spend.label_z[name][index], value as f64, "{name} on {date}");
        }
        assert_eq!(spend.label_y[index], day_total as f64, "spend on {date}");
    }
    assert_eq!(
        spend.label_z.len(),
        current_names.len(),
        "one group per campaign id"
    );

    // Clicks by country, from the country breakdown.
    let rows = sandbox_rows(
        &app,
        KUWAIT,
        "account",
        "country",
        "clicks,impressions,spend",
    )
    .await;
    let clicks: Series = query(
        &app,
        &user,
        &format!(
            "object_name=country&operator=sum&value_field=clicks&field_name=country&{history}"
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    let mut by_country: BTreeMap<(String, String), f64> = BTreeMap::new();
    for row in &rows {
        *by_country
            .entry((
                row["date_start"].as_str().unwrap().into(),
                row["country"].as_str().unwrap().into(),
            ))
            .or_default() += row["clicks"].as_str().unwrap().parse::<f64>().unwrap();
    }
    for ((date, country), value) in &by_country {
        let index = clicks.label_x.iter().position(|day| day == date).unwrap();
        assert_eq!(
            clicks.label_z[country][index], *value,
            "{country} on {date}"
        );
    }
    assert_eq!(
        clicks.label_y.iter().sum::<f64>(),
        by_country.values().sum::<f64>()
    );

    // Reach counts people: summed across campaigns it is refused; the account's own is exact.
    assert_error(
        query(
            &app,
            &user,
            "object_name=campaigns&operator=sum&value_field=reach",
        )
        .await,
        400,
        "non_additive",
    )
    .await;
    let totals = sandbox_rows(
        &app,
        KUWAIT,
        "account",
        "",
        "reach,impressions,clicks,spend",
    )
    .await;
    let reach: Series = query(
        &app,
        &user,
        &format!("object_name=account&operator=sum&value_field=reach&{history}"),
    )
    .await
    .json()
    .await
    .unwrap();
    for row in &totals {
        let index = reach
            .label_x
            .iter()
            .position(|day| day == row["date_start"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            reach.label_y[index],
            row["reach"].as_str().unwrap().parse::<f64>().unwrap()
        );
    }
    // Reach by campaign: each campaign's own reach, the day's from the account.
    let by_campaign: Series = query(
        &app,
        &user,
        &format!(
            "object_name=campaigns&operator=sum&value_field=reach&field_name=campaign_id&{history}"
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(by_campaign.label_y, reach.label_y);
    // CTR from its parts: clicks over impressions, in percent.
    let ctr: Series = query(
        &app,
        &user,
        &format!("object_name=account&operator=average&value_field=ctr&{history}"),
    )
    .await
    .json()
    .await
    .unwrap();
    for row in &totals {
        let index = ctr
            .label_x
            .iter()
            .position(|day| day == row["date_start"].as_str().unwrap())
            .unwrap();
        let clicks: f64 = row["clicks"].as_str().unwrap().parse().unwrap();
        let impressions: f64 = row["impressions"].as_str().unwrap().parse().unwrap();
        assert!((ctr.label_y[index] - 100.0 * clicks / impressions).abs() < 1e-9);
    }

    // A reconnect keeps the ad account and every row.
    let before = app
        .repository
        .count_synced_objects(stored.id, "campaigns")
        .await
        .unwrap();
    connect(&app, &user).await;
    let connection: ConnectionResponse = app.get_connections(&user).await.remove(0);
    assert_eq!(connection.status, "active");
    assert_eq!(connection.account.unwrap().id, KUWAIT);
    assert_eq!(
        app.repository
            .count_synced_objects(stored.id, "campaigns")
            .await
            .unwrap(),
        before
    );
}

async fn an_expiring_token_warns_and_an_expired_or_refused_one_needs_a_reconnect(kind: DbKind) {
    let app = spawn(kind, |_| {}).await;
    keep_objects(&app, &["account"]).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect(&app, &user).await;
    choose(&app, &user, TOKYO).await;
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    let set_expiry = |at: i64| {
        let stored = stored.clone();
        let repository = app.repository.clone();
        async move {
            repository
                .update_connection_tokens(
                    stored.id,
                    allmetrics::domain::ConnectionTokens {
                        access_token_enc: stored.access_token_enc.clone(),
                        refresh_token_enc: None,
                        expires_at: Some(at),
                    },
                )
                .await
                .unwrap();
        }
    };
    let now = chrono::Utc::now().timestamp();
    // Three days left: a warning, and syncs go on.
    set_expiry(now + 3 * 86_400).await;
    assert_eq!(app.get_connections(&user).await[0].status, "expiring");
    sync_now(&app).await;
    let jobs = app.repository.sync_jobs(stored.id).await.unwrap();
    assert!(
        jobs.iter()
            .all(|job| job.backfill_done && job.last_error.is_none()),
        "{jobs:?}"
    );

    // Facebook answers 190 (the token was invalidated): needs a reconnect at once.
    app.state.sandbox.as_ref().unwrap().force_ads_errors(190, 1);
    sync::schedule(&app.state.services(), &stored)
        .await
        .unwrap();
    sync_now(&app).await;
    assert_eq!(
        app.get_connections(&user).await[0].status,
        "needs_reconnect"
    );

    // A reconnect brings it back, with the ad account and its rows; then it expires.
    let rows = app
        .repository
        .count_synced_objects(stored.id, "account")
        .await
        .unwrap();
    connect(&app, &user).await;
    assert_eq!(app.get_connections(&user).await[0].status, "active");
    assert_eq!(
        app.repository
            .count_synced_objects(stored.id, "account")
            .await
            .unwrap(),
        rows
    );
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    set_expiry(now - 60).await;
    assert_eq!(
        app.get_connections(&user).await[0].status,
        "needs_reconnect"
    );
    let served = app.state.sandbox.as_ref().unwrap().ads_requests();
    sync::schedule(&app.state.services(), &stored)
        .await
        .unwrap();
    sync_now(&app).await;
    assert_eq!(
        app.state.sandbox.as_ref().unwrap().ads_requests(),
        served,
        "an expired token is not sent"
    );
}

async fn throttling_waits_and_resumes_with_nothing_lost(kind: DbKind) {
    let app = spawn(kind, |settings| {
        settings.sandbox.ads_calls_per_hour = Some(40);
    })
    .await;
    keep_objects(&app, &["account", "campaigns"]).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect(&app, &user).await;
    choose(&app, &user, TOKYO).await;
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    let sandbox = app.state.sandbox.as_ref().unwrap();
    // Throttling error codes, also on error answers, wait and resume.
    for code in [4, 17, 613, 80_000] {
        sandbox.force_ads_errors(code, 1);
    }
    let mut hours = 0;
    loop {
        sync_now(&app).await;
        let jobs = app.repository.sync_jobs(stored.id).await.unwrap();
        if jobs
            .iter()
            .all(|job| job.backfill_done && job.last_error.is_none())
        {
            break;
        }
        hours += 1;
        assert!(hours < 60, "never finished: {jobs:?}");
        sandbox.advance_clock(Duration::from_secs(3_600));
        sync::schedule(&app.state.services(), &stored)
            .await
            .unwrap();
    }
    assert!(hours >= 2, "the budget ran out at least once: {hours}");
    sandbox.advance_clock(Duration::from_secs(86_400));
    for (object, level) in [("account", "account"), ("campaigns", "campaign")] {
        let rows = sandbox_rows(&app, TOKYO, level, "", "spend,impressions").await;
        assert_eq!(
            app.repository
                .count_synced_objects(stored.id, object)
                .await
                .unwrap() as usize,
            rows.len(),
            "{object}"
        );
    }
}

async fn a_range_facebook_calls_too_large_is_split(kind: DbKind) {
    let app = spawn(kind, |settings| {
        settings.sandbox.ads_max_range_days = Some(10);
    })
    .await;
    keep_objects(&app, &["ads_country"]).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect(&app, &user).await;
    choose(&app, &user, KUWAIT).await;
    sync_now(&app).await;
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    let jobs = app.repository.sync_jobs(stored.id).await.unwrap();
    assert!(
        jobs.iter()
            .all(|job| job.backfill_done && job.last_error.is_none()),
        "{jobs:?}"
    );
    let rows = sandbox_rows(&app, KUWAIT, "ad", "country", "spend").await;
    let ids = app
        .repository
        .synced_object_ids(stored.id, "ads_country")
        .await
        .unwrap();
    assert_eq!(ids.len(), rows.len());
    let expected: i64 = rows
        .iter()
        .map(|row| minor(row["spend"].as_str().unwrap(), 3))
        .sum();
    let history = whole_history(&account(&app, KUWAIT));
    let spend: Series = query(
        &app,
        &user,
        &format!("object_name=ads_country&operator=sum&value_field=spend&{history}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(spend.label_y.iter().sum::<f64>(), expected as f64);
}

/// Facebook's recorded insights answer goes through the project's own parser, when the shared
/// provider material is beside the checkout.
#[test]
fn the_recorded_insights_answer_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/providers/facebook/insights.example.airbyte-unit-test.json");
    let Ok(body) = std::fs::read(&path) else {
        eprintln!("skipped: {} is not here", path.display());
        return;
    };
    let insights = allmetrics::providers::facebook::catalogue::insights_named("ads").unwrap();
    let page =
        allmetrics::providers::facebook::reader::parse_insights(&body, insights, "USD").unwrap();
    let recorded: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        page.objects.len(),
        recorded["data"].as_array().unwrap().len()
    );
    let first = &page.objects[0].data;
    assert_eq!(first["spend"], 1435, "14.35 USD in cents");
    assert_eq!(first["clicks"], 9);
    assert_eq!(first["impressions"], 185);
    assert_eq!(first["date"], "2023-06-01");
    assert_eq!(first["campaign_id"], "23854404676180548");
}
