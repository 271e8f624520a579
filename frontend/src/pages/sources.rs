//! `/sources`: every enabled data source as a card, and the result of an OAuth callback
//! (`?connected={slug}` or `?error={code}&source={slug}`).

use leptos::prelude::*;

use crate::api;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;
use crate::components::source_card::SourceCard;
use crate::components::status::Banner;
use crate::router::{redirect, use_location};
use frontend_logic::accounts::account_noun;
use frontend_logic::sources::{callback_error, connected_banner};

#[component]
pub fn SourcesPage() -> impl IntoView {
    view! {
        <RequireAuth>
            <Sources/>
        </RequireAuth>
    }
}

#[component]
fn Sources() -> impl IntoView {
    let location = use_location();
    let sources = Fetch::new(|| Box::pin(api::sources::list_sources()));

    let banner = dynamic(move || {
        let (connected, error, source) = (
            location.query("connected"),
            location.query("error"),
            location.query("source"),
        );
        let close = Callback::new(move |_| redirect("/sources"));
        // The source's name when the list has loaded, else its slug.
        let name_of = |slug: &str| {
            sources
                .ok()
                .and_then(|list| list.into_iter().find(|s| s.slug == slug))
                .map_or_else(|| slug.to_string(), |s| s.name)
        };
        let connected_message = |slug: &str| {
            let source = sources
                .ok()
                .and_then(|list| list.into_iter().find(|s| s.slug == slug));
            let needs_account = source.as_ref().and_then(|s| {
                s.connection
                    .as_ref()
                    .filter(|c| c.status == "needs_account")
                    .map(|_| account_noun(&s.provider))
            });
            connected_banner(&name_of(slug), needs_account)
        };
        match (connected, error) {
            (_, Some(code)) => Some(
                view! {
                    <Banner
                        message=callback_error(&code, &source.as_deref().map(name_of).unwrap_or_default())
                        tone="error"
                        on_close=close
                    />
                }
                .into_any(),
            ),
            (Some(slug), None) => Some(
                view! {
                    <Banner
                        message=connected_message(&slug)
                        tone="ok"
                        on_close=close
                    />
                }
                .into_any(),
            ),
            (None, None) => None,
        }
    });

    let cards = fetched(sources, "Loading sources…", move |list| {
        if list.is_empty() {
            return view! {
                <div class="card empty-state">
                    <p class="muted">"No data source is enabled. An administrator can enable one."</p>
                </div>
            }
            .into_any();
        }
        view! {
            <div class="source-grid">
                {list
                    .into_iter()
                    .map(|source| view! { <SourceCard source=source on_change=sources.retry()/> })
                    .collect_view()}
            </div>
        }
        .into_any()
    });

    view! {
        <div class="page-head">
            <h1>"Data sources"</h1>
        </div>
        <p class="muted">
            "Connect an account to sync its objects. Syncing reads the whole history once, then keeps it up to date."
        </p>
        {banner}
        {cards}
    }
}
