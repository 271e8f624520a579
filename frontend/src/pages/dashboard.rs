//! `/dashboards/:id`.

use leptos::prelude::*;

use crate::api;
use crate::components::dashboard_view::DashboardView;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;

#[component]
pub fn DashboardPage(id: i64) -> impl IntoView {
    view! {
        <RequireAuth>
            <DashboardById id=id/>
        </RequireAuth>
    }
}

#[component]
fn DashboardById(id: i64) -> impl IntoView {
    let dashboard = Fetch::new(move || Box::pin(api::dashboards::get_dashboard(id)));
    fetched(dashboard, "Loading the dashboard…", |dashboard| {
        view! { <DashboardView dashboard=dashboard/> }
    })
}
