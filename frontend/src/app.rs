//! The layout every page shares and the routes; the auth and router contexts live here.

use leptos::prelude::*;

use crate::auth::provide_auth;
use crate::components::dynamic::dynamic;
use crate::components::nav::TopBar;
use crate::pages::admin::AdminPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::dashboards::DashboardsPage;
use crate::pages::home::HomePage;
use crate::pages::login::LoginPage;
use crate::pages::metric_builder::MetricBuilderPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::register::RegisterPage;
use crate::pages::sources::SourcesPage;
use crate::pages::tokens::TokensPage;
use crate::router::provide_router;
use frontend_logic::url::{route, Route};

#[component]
pub fn App() -> impl IntoView {
    let location = provide_router();
    provide_auth();
    // The page changes with the path only: query strings (`?connected=`) update within a page.
    let page = Memo::new(move |_| route(&location.path()));
    let content = dynamic(move || match page.get() {
        Route::Home => view! { <HomePage/> }.into_any(),
        Route::Login => view! { <LoginPage/> }.into_any(),
        Route::Register => view! { <RegisterPage/> }.into_any(),
        Route::Sources => view! { <SourcesPage/> }.into_any(),
        Route::NewMetric => view! { <MetricBuilderPage/> }.into_any(),
        Route::Dashboards => view! { <DashboardsPage/> }.into_any(),
        Route::Dashboard(id) => view! { <DashboardPage id=id/> }.into_any(),
        Route::Admin => view! { <AdminPage/> }.into_any(),
        Route::Tokens => view! { <TokensPage/> }.into_any(),
        Route::NotFound => view! { <NotFoundPage/> }.into_any(),
    });
    view! {
        <a class="skip-link" href="#content" rel="external">"Skip to content"</a>
        <TopBar/>
        <main id="content">{content}</main>
    }
}
