//! A dashboard: the window controls and a responsive grid of metric cards that can be added
//! (link to the builder), removed and reordered (PATCH of the dashboard's `metric_ids`).

use allmetrics_common::{Dashboard, Metric, UpdateDashboardRequest};
use leptos::prelude::*;

use crate::api;
use crate::browser;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::metric_card::MetricCard;
use crate::components::period_control::PeriodControl;
use crate::components::status::Banner;
use frontend_logic::dashboard::moved;
use frontend_logic::window::Window;

#[component]
pub fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let tz = browser::time_zone();
    let today = browser::today(&tz);
    let default_days = if dashboard.default_total_days == 0 {
        30
    } else {
        dashboard.default_total_days
    };
    let window = RwSignal::new(Window::new(default_days, today, tz));
    let board = RwSignal::new(dashboard);
    let metrics = Fetch::new(|| Box::pin(api::metrics::list_metrics()));
    let failure = RwSignal::new(None::<String>);

    let save_ids = move |ids: Vec<i64>| {
        let (id, before) = board.with_untracked(|b| (b.id, b.metric_ids.clone()));
        board.update(|b| b.metric_ids = ids.clone());
        failure.set(None);
        leptos::task::spawn_local(async move {
            let request = UpdateDashboardRequest {
                metric_ids: Some(ids),
                ..Default::default()
            };
            match api::dashboards::update_dashboard(id, &request).await {
                Ok(saved) => board.set(saved),
                Err(error) => {
                    board.update(|b| b.metric_ids = before);
                    failure.set(Some(error.message));
                }
            }
        });
    };
    let on_move = Callback::new(move |(id, delta): (i64, i32)| {
        if let Some(ids) = board.with_untracked(|b| moved(&b.metric_ids, id, delta)) {
            save_ids(ids);
        }
    });
    let on_remove = Callback::new(move |id: i64| {
        let ids: Vec<i64> =
            board.with_untracked(|b| b.metric_ids.iter().copied().filter(|x| *x != id).collect());
        save_ids(ids);
    });

    let add_href = move || format!("/metrics/new?dashboard={}", board.with(|b| b.id));

    let grid = fetched(metrics, "Loading metrics…", move |all| {
        let all = std::sync::Arc::new(all);
        view! {
            <div class="metric-grid" data-testid="metric-grid">
                <For
                    each=move || board.with(|b| b.metric_ids.clone())
                    key=|id| *id
                    children=move |id| card(id, &all, board, window, on_move, on_remove)
                />
            </div>
            {dynamic(move || {
                board
                    .with(|b| b.metric_ids.is_empty())
                    .then(|| {
                        view! {
                            <div class="card empty-state" data-testid="dashboard-empty">
                                <h3>"No metrics yet"</h3>
                                <p class="muted">
                                    "Build a metric from a connected source and add it here."
                                </p>
                                <a href=add_href class="button">
                                    "Add a metric"
                                </a>
                            </div>
                        }
                    })
            })}
        }
    });

    view! {
        <section class="dashboard" data-testid="dashboard">
            <div class="page-head">
                <h1>{dynamic(move || board.with(|b| b.name.clone()))}</h1>
                <a href=add_href class="button" id="add-metric">
                    "+ Add metric"
                </a>
            </div>
            <PeriodControl window=window/>
            {dynamic(move || {
                failure
                    .get()
                    .map(|message| {
                        view! {
                            <Banner
                                message=message
                                tone="error"
                                on_close=Callback::new(move |_| failure.set(None))
                            />
                        }
                    })
            })}
            {grid}
        </section>
    }
}

fn card(
    id: i64,
    all: &[Metric],
    board: RwSignal<Dashboard>,
    window: RwSignal<Window>,
    on_move: Callback<(i64, i32)>,
    on_remove: Callback<i64>,
) -> AnyView {
    let position = Signal::derive(move || {
        board.with(|b| {
            (
                b.metric_ids.iter().position(|x| *x == id).unwrap_or(0),
                b.metric_ids.len(),
            )
        })
    });
    match all.iter().find(|m| m.id == id) {
        Some(metric) => view! {
            <MetricCard
                metric=metric.clone()
                window=window
                position=position
                on_move=on_move
                on_remove=on_remove
            />
        }
        .into_any(),
        None => view! {
            <article class="card metric-card missing">
                <p class="muted">{format!("Metric {id} no longer exists.")}</p>
                <button
                    type="button"
                    class="button small ghost"
                    on:click=move |_| on_remove.run(id)
                >
                    "Remove"
                </button>
            </article>
        }
        .into_any(),
    }
}
