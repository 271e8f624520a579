//! `/register`: create an account (the first one is the admin; on a production server, the one
//! registered with the setup token it printed at start), then sign in.

use allmetrics_common::Credentials;
use leptos::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::components::dynamic::dynamic;
use crate::router::{navigate, use_location};
use frontend_logic::register::{register_failure, register_request, RegisterFailure};
use frontend_logic::url::safe_next;

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
    let setup_token = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<RegisterFailure>);
    let busy = RwSignal::new(false);
    let form_failure = move || match failure.get() {
        Some(RegisterFailure::Form(message)) => Some(message),
        _ => None,
    };
    let token_failure = move || match failure.get() {
        Some(RegisterFailure::SetupToken(message)) => Some(message),
        _ => None,
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let request = register_request(
            &email.get_untracked(),
            &password.get_untracked(),
            &setup_token.get_untracked(),
        );
        if request.password.chars().count() < MIN_PASSWORD {
            failure.set(Some(RegisterFailure::Form(format!(
                "Choose a password of at least {MIN_PASSWORD} characters."
            ))));
            return;
        }
        if request.password != confirm.get_untracked() {
            failure.set(Some(RegisterFailure::Form(
                "The two passwords differ.".into(),
            )));
            return;
        }
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let sent_token = request.setup_token.is_some();
            let credentials = Credentials {
                email: request.email.clone(),
                password: request.password.clone(),
            };
            let result = async {
                api::auth::register(&request).await?;
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
                Err(error) => failure.set(Some(register_failure(
                    &error.code,
                    &error.message,
                    sent_token,
                ))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit aria-labelledby="register-title">
                <h1 id="register-title">"Create your account"</h1>
                <p class="muted small">
                    "The first account on a new server is its administrator (on a production \
                     server, the one registered with its setup token)."
                </p>
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
                <label for="setup-token">"Setup token (optional)"</label>
                <input
                    id="setup-token"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    aria-describedby="setup-token-hint setup-token-error"
                    aria-invalid=move || if token_failure().is_some() { "true" } else { "false" }
                    prop:value=move || setup_token.get()
                    on:input=move |ev| setup_token.set(event_target_value(&ev))
                />
                <p id="setup-token-hint" class="muted small">
                    "Only for the first administrator of a new server: it prints this one-time \
                     token at start while no administrator exists. Leave it empty otherwise."
                </p>
                <div id="setup-token-error">
                    {dynamic(move || {
                        token_failure()
                            .map(|message| {
                                view! {
                                    <p class="status-error" role="alert" data-testid="setup-token-error">
                                        {message}
                                    </p>
                                }
                            })
                    })}
                </div>
                {dynamic(move || {
                    form_failure()
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
