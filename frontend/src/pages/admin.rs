//! `/admin`: data sources and their objects, users.

use leptos::prelude::*;

use crate::components::admin_sources::AdminSources;
use crate::components::admin_users::AdminUsers;
use crate::components::require_auth::RequireAdmin;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <RequireAdmin>
            <div class="page-head">
                <h1>"Administration"</h1>
            </div>
            <AdminSources/>
            <AdminUsers/>
        </RequireAdmin>
    }
}
