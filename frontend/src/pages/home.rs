//! `/`: the user's home dashboard.

use leptos::prelude::*;

use crate::api;
use crate::components::dashboard_view::DashboardView;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <RequireAuth>
            <HomeDashboard/>
        </RequireAuth>
    }
}

#[component]
fn HomeDashboard() -> impl IntoView {
    let home = Fetch::new(|| Box::pin(api::dashboards::home_dashboard()));
    fetched(home, "Loading your dashboard…", |dashboard| {
        view! { <DashboardView dashboard=dashboard/> }
    })
}
