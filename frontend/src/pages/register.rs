//! `/register`: create an account (the first one is the admin), then sign in.

use allmetrics_common::Credentials;
use leptos::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::components::dynamic::dynamic;
use crate::logic::url::safe_next;
use crate::router::{navigate, use_location};

/// The API's rule, checked early for a friendlier message.
const MIN_PASSWORD: usize = 10;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let next = StoredValue::new(safe_next(location.query_untracked("next").as_deref()));
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let credentials = Credentials {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if credentials.password.chars().count() < MIN_PASSWORD {
            failure.set(Some(format!(
                "Choose a password of at least {MIN_PASSWORD} characters."
            )));
            return;
        }
        if credentials.password != confirm.get_untracked() {
            failure.set(Some("The two passwords differ.".into()));
            return;
        }
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                api::auth::register(&credentials).await?;
                api::auth::login(&credentials).await?;
                api::auth::me().await
            }
            .await;
            match result {
                Ok(user) => {
                    auth.user.set(Some(user));
                    auth.checked.set(true);
                    navigate(&next.get_value());
                }
                Err(error) => failure.set(Some(error.message)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit aria-labelledby="register-title">
                <h1 id="register-title">"Create your account"</h1>
                <p class="muted small">"The first account on a new server is its administrator."</p>
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
                    autocomplete="new-password"
                    required
                    minlength=MIN_PASSWORD
                    aria-describedby="password-hint"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <p id="password-hint" class="muted small">
                    "At least 10 characters, and not a common password."
                </p>
                <label for="password-confirm">"Repeat the password"</label>
                <input
                    id="password-confirm"
                    type="password"
                    autocomplete="new-password"
                    required
                    prop:value=move || confirm.get()
                    on:input=move |ev| confirm.set(event_target_value(&ev))
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
                <button type="submit" class="button wide" id="register-submit" disabled=move || busy.get()>
                    {dynamic(move || if busy.get() { "Creating…" } else { "Create account" })}
                </button>
                <p class="muted small">"Already registered? " <a href="/login">"Sign in"</a></p>
            </form>
        </section>
    }
}
