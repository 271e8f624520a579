//! `/login`: sign in, then go to `next` (the page the user wanted) or home.

use allmetrics_common::Credentials;
use leptos::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::components::dynamic::dynamic;
use crate::router::{navigate, redirect, use_location};
use frontend_logic::url::{query_string, safe_next, url_path};

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    // Read once: once signed in, this page navigates away and the URL no longer has it.
    let next = StoredValue::new(safe_next(location.query_untracked("next").as_deref()));
    let submitted = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    Effect::new(move |_| {
        // Already signed in (a reload, or a link to /login): straight on.
        if auth.checked.get() && auth.signed_in() && !submitted.get_untracked() {
            redirect(&next.get_value());
        }
    });

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let credentials = Credentials {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        busy.set(true);
        submitted.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = match api::auth::login(&credentials).await {
                Ok(_) => api::auth::me().await,
                Err(error) => Err(error),
            };
            match result {
                Ok(user) => {
                    auth.user.set(Some(user));
                    auth.checked.set(true);
                    navigate(&next.get_value());
                }
                Err(error) => {
                    submitted.set(false);
                    failure.set(Some(error.message));
                }
            }
            busy.set(false);
        });
    };

    let register_href = move || {
        let next = next.get_value();
        if next == "/" {
            "/register".to_string()
        } else {
            format!("/register{}", query_string(&[("next", &next)]))
        }
    };

    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit aria-labelledby="login-title">
                <h1 id="login-title">"Sign in"</h1>
                {dynamic(move || {
                    (next.get_value() != "/")
                        .then(|| {
                            view! {
                                <p class="muted small" data-testid="login-next">
                                    "Sign in to continue to " <code>{url_path(&next.get_value())}</code>
                                </p>
                            }
                        })
                })}
                <label for="email">"Email"</label>
                <input
                    id="email"
                    type="email"
                    autocomplete="username"
                    required
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                {dynamic(move || {
                    failure
                        .get()
                        .map(|message| {
                            view! {
                                <p class="status-error" role="alert" data-testid="auth-error">
                                    {message}
                                </p>
                            }
                        })
                })}
                <button type="submit" class="button wide" id="login-submit" disabled=move || busy.get()>
                    {dynamic(move || if busy.get() { "Signing in…" } else { "Sign in" })}
                </button>
                <p class="muted small">
                    "No account yet? " <a href=register_href>"Create one"</a>
                </p>
            </form>
        </section>
    }
}
