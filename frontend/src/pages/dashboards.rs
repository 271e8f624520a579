//! `/dashboards`: every dashboard of the user; create and delete (the home one stays).

use allmetrics_common::{CreateDashboardRequest, Dashboard};
use leptos::prelude::*;

use crate::api;
use crate::components::confirm_action::ConfirmAction;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;
use crate::router::navigate;
use frontend_logic::format::plural;

#[component]
pub fn DashboardsPage() -> impl IntoView {
    view! {
        <RequireAuth>
            <DashboardList/>
        </RequireAuth>
    }
}

#[component]
fn DashboardList() -> impl IntoView {
    let dashboards = Fetch::new(|| Box::pin(api::dashboards::list_dashboards()));
    let name = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let new_name = name.get_untracked().trim().to_string();
        if new_name.is_empty() {
            failure.set(Some("Give the dashboard a name.".into()));
            return;
        }
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let request = CreateDashboardRequest {
                name: new_name,
                metric_ids: Vec::new(),
                default_total_days: Some(30),
            };
            match api::dashboards::create_dashboard(&request).await {
                Ok(created) => {
                    name.set(String::new());
                    navigate(&format!("/dashboards/{}", created.id));
                }
                Err(error) => failure.set(Some(error.message)),
            }
            busy.set(false);
        });
    };

    let list = fetched(dashboards, "Loading dashboards…", move |list| {
        list.into_iter()
            .map(|dashboard| {
                view! { <DashboardRow dashboard=dashboard on_deleted=dashboards.retry()/> }
            })
            .collect_view()
    });

    view! {
        <div class="page-head">
            <h1>"Dashboards"</h1>
        </div>
        <form class="card inline-form" on:submit=create>
            <label for="new-dashboard">"New dashboard"</label>
            <input
                id="new-dashboard"
                type="text"
                placeholder="Revenue"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <button type="submit" class="button" disabled=move || busy.get()>
                "Create"
            </button>
        </form>
        {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
        <div class="list" data-testid="dashboard-list">
            {list}
        </div>
    }
}

#[component]
fn DashboardRow(dashboard: Dashboard, on_deleted: Callback<()>) -> impl IntoView {
    let id = dashboard.id;
    let href = if dashboard.is_home {
        "/".to_string()
    } else {
        format!("/dashboards/{id}")
    };
    let failure = RwSignal::new(None::<String>);
    let delete = move |()| {
        leptos::task::spawn_local(async move {
            match api::dashboards::delete_dashboard(id).await {
                Ok(()) => on_deleted.run(()),
                Err(error) => failure.set(Some(error.message)),
            }
        });
    };
    view! {
        <article class="card list-row" data-testid="dashboard-row">
            <div>
                <h2>
                    <a href=href>{dashboard.name.clone()}</a>
                    {dashboard.is_home.then(|| view! { <span class="badge">"Home"</span> })}
                </h2>
                <p class="muted small">
                    {format!(
                        "{} · {} days by default",
                        plural(dashboard.metric_ids.len() as u64, "metric", "metrics"),
                        dashboard.default_total_days,
                    )}
                </p>
            </div>
            {(!dashboard.is_home)
                .then(|| {
                    view! {
                        <ConfirmAction
                            question="Delete this dashboard?"
                            label="Delete"
                            on_confirm=Callback::new(delete)
                        />
                    }
                })}
            {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
        </article>
    }
}
