use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::pages::home::HomePage;
use crate::pages::not_found::NotFoundPage;

/// The router and the layout every page shares.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"allmetrics"</A>
                <nav aria-label="Main">
                    <A href="/">"Home"</A>
                    <a href="/docs/" rel="external">"API docs"</a>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <NotFoundPage/> }>
                    <Route path=path!("/") view=HomePage/>
                </Routes>
            </main>
        </Router>
    }
}
