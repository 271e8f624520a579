//! The top bar: brand, main navigation, the user and sign out.

use leptos::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::components::dynamic::dynamic;
use crate::router::{navigate, use_location};

/// A navigation link marked `aria-current="page"` on its page (and the pages below it).
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.path();
        let here = if href == "/" {
            path == "/"
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        };
        here.then_some("page")
    };
    view! {
        <a href=href aria-current=current>
            {label}
        </a>
    }
}

#[component]
pub fn TopBar() -> impl IntoView {
    let auth = use_auth();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        signing_out.set(true);
        leptos::task::spawn_local(async move {
            // Signed out locally even when the server could not be reached.
            let _ = api::auth::logout().await;
            auth.user.set(None);
            signing_out.set(false);
            navigate("/login");
        });
    };
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                <span class="logo" aria-hidden="true"></span>
                "allmetrics"
            </a>
            <nav aria-label="Main" class="mainnav">
                {dynamic(move || {
                    auth.signed_in()
                        .then(|| {
                            view! {
                                <NavLink href="/" label="Home"/>
                                <NavLink href="/dashboards" label="Dashboards"/>
                                <NavLink href="/metrics/new" label="New metric"/>
                                <NavLink href="/sources" label="Sources"/>
                                <NavLink href="/tokens" label="API tokens"/>
                            }
                        })
                })}
                {dynamic(move || auth.is_admin().then(|| view! { <NavLink href="/admin" label="Admin"/> }))}
                <a href="/docs/" rel="external">"API docs"</a>
            </nav>
            <div class="session">
                {dynamic(move || match auth.user.get() {
                    Some(user) => {
                        view! {
                            <span class="muted user-email" data-testid="user-email">
                                {user.email}
                            </span>
                            <button
                                type="button"
                                class="button small ghost"
                                id="sign-out"
                                disabled=move || signing_out.get()
                                on:click=sign_out
                            >
                                "Sign out"
                            </button>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <NavLink href="/login" label="Sign in"/>
                            <NavLink href="/register" label="Create account"/>
                        }
                            .into_any()
                    }
                })}
            </div>
        </header>
    }
}
