//! A metric on a dashboard: its window's total, the change against the previous window (as many
//! days, weeks or months just before), records covered, freshness, and the stacked chart;
//! buttons move it up or down or take it off the dashboard.

use allmetrics_common::{Metric, Series};
use leptos::prelude::*;

use crate::api;
use crate::browser;
use crate::components::charts::stacked_bar::StackedBar;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::series_notes::SeriesNotes;
use frontend_logic::dates::parse_rfc3339;
use frontend_logic::format::{
    change, format_value, is_currency_code, plural, relative_time, series_kind, Trend, ValueKind,
};
use frontend_logic::interval::{count_phrase, Interval};
use frontend_logic::subscriptions::{describe_subscription, subscription_kind, summary_operator};
use frontend_logic::summary::{
    describe, single_currency, window_label, window_value, OTHER_GROUPS,
};
use frontend_logic::window::Window;

/// Seconds between reloads of a card whose data is still being backfilled.
const PARTIAL_RELOAD_SECS: u64 = 10;

#[component]
pub fn MetricCard(
    metric: Metric,
    window: RwSignal<Window>,
    /// This card's position and the number of cards, for the move buttons.
    #[prop(into)]
    position: Signal<(usize, usize)>,
    on_move: Callback<(i64, i32)>,
    on_remove: Callback<i64>,
) -> impl IntoView {
    let id = metric.id;
    let current = Fetch::new(move || {
        let window = window.get();
        Box::pin(async move { api::metrics::metric_series(id, &window).await })
    });
    let previous = Fetch::new(move || {
        let window = window.get().previous();
        Box::pin(async move { api::metrics::metric_series(id, &window).await })
    });

    // Counts still grow while the backfill runs: reload now and then.
    Effect::new(move |_| {
        let partial = current
            .value
            .with(|value| matches!(value, Some(Ok(series)) if series.meta.partial));
        if partial {
            leptos::prelude::set_timeout(
                move || current.refetch(),
                std::time::Duration::from_secs(PARTIAL_RELOAD_SECS),
            );
        }
    });

    // Money or plain numbers: a report source's series tells its currency.
    // A subscription metric (MRR...) or counts and sums of objects.
    let subscription = subscription_kind(&metric.kind);
    let operator = summary_operator(&metric.kind, metric.operator.as_deref()).to_string();
    let kind_of = {
        let (operator, value_field) = (operator.clone(), metric.value_field.clone());
        move |series: &Series| {
            series_kind(
                &operator,
                value_field.as_deref(),
                series.meta.currency.as_deref(),
            )
        }
    };
    let (description, subtitle) = match subscription {
        Some(kind) => {
            let description = describe_subscription(kind, &metric.field_name);
            let subtitle = format!("{} · subscriptions · {description}", metric.source);
            (description, subtitle)
        }
        None => {
            let description =
                describe(&operator, metric.value_field.as_deref(), &metric.field_name);
            let object = metric.object_name.clone().unwrap_or_default();
            let subtitle = format!("{} · {object} · {description}", metric.source);
            (description, subtitle)
        }
    };
    let confirming = RwSignal::new(false);
    let name = metric.name.clone();

    let stats = {
        let operator = operator.clone();
        let kind_of = kind_of.clone();
        dynamic(move || {
            current.ok().map(|series| {
                let previous = previous.ok();
                stats_view(&series, previous.as_ref(), &operator, kind_of(&series))
            })
        })
    };
    let chart = fetched(current, "Loading the series…", move |series| {
        let kind = kind_of(&series);
        view! {
            <StackedBar
                series=series
                kind=kind
                title=name.clone()
                description=description.clone()
                chart_id=format!("metric-{id}")
            />
        }
    });

    view! {
        <article class="card metric-card" data-testid="metric-card" data-metric-id=id>
            <header class="card-head">
                <div>
                    <h3>{metric.name.clone()}</h3>
                    <p class="muted small">{subtitle}</p>
                </div>
                <div class="card-actions">
                    <button
                        type="button"
                        class="icon-button"
                        aria-label=format!("Move {} up", metric.name)
                        data-testid="move-up"
                        disabled=move || position.get().0 == 0
                        on:click=move |_| on_move.run((id, -1))
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label=format!("Move {} down", metric.name)
                        data-testid="move-down"
                        disabled=move || {
                            let (index, count) = position.get();
                            index + 1 >= count
                        }
                        on:click=move |_| on_move.run((id, 1))
                    >
                        "↓"
                    </button>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label=format!("Remove {} from this dashboard", metric.name)
                        data-testid="remove-metric"
                        on:click=move |_| confirming.set(true)
                    >
                        "×"
                    </button>
                </div>
            </header>
            {dynamic(move || {
                confirming
                    .get()
                    .then(|| {
                        view! {
                            <div class="confirm" role="alertdialog" aria-label="Remove metric">
                                <span>"Remove this metric from the dashboard?"</span>
                                <button
                                    type="button"
                                    class="button small danger"
                                    data-testid="confirm-remove"
                                    on:click=move |_| {
                                        confirming.set(false);
                                        on_remove.run(id);
                                    }
                                >
                                    "Remove"
                                </button>
                                <button
                                    type="button"
                                    class="button small ghost"
                                    on:click=move |_| confirming.set(false)
                                >
                                    "Cancel"
                                </button>
                            </div>
                        }
                    })
            })}
            <div class="card-body" class:reloading=move || current.loading.get()>
                {stats}
                {chart}
            </div>
        </article>
    }
}

fn stats_view(
    series: &Series,
    previous: Option<&Series>,
    operator: &str,
    kind: ValueKind,
) -> impl IntoView {
    let currency = series
        .meta
        .currency
        .as_deref()
        .or_else(|| single_currency(series.label_z.keys().map(String::as_str)));
    // The series says what its bars are: a card still showing the last window's series while
    // the new one loads must not name the new interval.
    let interval = Interval::of_series(&series.meta.interval);
    let total = window_value(operator, &series.label_y);
    let total_text = format_value(total, kind, currency);
    let mixed = kind == ValueKind::MinorUnits
        && currency.is_none()
        && series
            .label_z
            .keys()
            .filter(|g| is_currency_code(g))
            .count()
            > 1;
    let label = if mixed {
        format!("{} · mixed currencies", window_label(operator, interval))
    } else {
        window_label(operator, interval)
    };
    let change_view = previous.map(|previous| {
        let before = window_value(operator, &previous.label_y);
        let delta = change(total, before);
        let (class, arrow) = match delta.trend {
            Trend::Up => ("change up", "▲ "),
            Trend::Down => ("change down", "▼ "),
            Trend::Flat => ("change flat", ""),
        };
        let title = format!(
            "Previous {}: {}",
            count_phrase(
                previous.label_x.len(),
                Interval::of_series(&previous.meta.interval)
            ),
            format_value(before, kind, currency)
        );
        view! {
            <span class=class title=title data-testid="metric-change">
                {format!("{arrow}{}", delta.text)}
                <span class="muted">" vs previous period"</span>
            </span>
        }
    });
    let freshness = match (&series.meta.synced_at, series.meta.partial) {
        (_, true) => Some(("partial", "partial: backfill running".to_string())),
        (Some(at), false) => parse_rfc3339(at).map(|then| {
            (
                "fresh",
                format!("synced {}", relative_time(browser::now_seconds(), then)),
            )
        }),
        (None, false) => Some(("stale", "not synced yet".to_string())),
    };
    let synced_title = series
        .meta
        .synced_at
        .as_deref()
        .map(browser::local_time)
        .unwrap_or_default();
    view! {
        <div class="stats">
            <div class="stat-main">
                <span class="muted small">{label}</span>
                <strong class="stat-value" data-testid="metric-total" data-value=total>
                    {total_text}
                </strong>
                {change_view}
            </div>
            <div class="stat-meta muted small">
                <span data-testid="metric-records">
                    {plural(series.meta.records, "record", "records")}
                </span>
                {freshness
                    .map(|(class, text)| {
                        view! {
                            <span class=format!("freshness {class}") title=synced_title data-testid="metric-freshness">
                                {text}
                            </span>
                        }
                    })}
                <SeriesNotes
                    meta=series.meta.clone()
                    summed_into_other=series.label_z.contains_key(OTHER_GROUPS)
                />
            </div>
        </div>
    }
}
