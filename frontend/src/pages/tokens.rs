//! `/tokens`: personal API tokens for scripts and integrations. A new token is shown once, here;
//! the list shows what each may do and when it was last used; revoking takes effect at once.

use allmetrics_common::{ApiTokenResponse, ApiTokenScope, CreateApiTokenRequest};
use leptos::prelude::*;

use crate::api;
use crate::components::confirm_action::ConfirmAction;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;
use frontend_logic::tokens::{
    lifetime_from_option, lifetime_option_value, token_summary, LIFETIMES,
};

#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <RequireAuth>
            <Tokens/>
        </RequireAuth>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let tokens = Fetch::new(|| Box::pin(api::tokens::list_tokens()));
    let name = RwSignal::new(String::new());
    let write = RwSignal::new(false);
    let lifetime = RwSignal::new(Some(90u32));
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // The token just made: shown until the page is left, never again.
    let created = RwSignal::new(None::<String>);

    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let new_name = name.get_untracked().trim().to_string();
        if new_name.is_empty() {
            failure.set(Some("Say what the token is for.".into()));
            return;
        }
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let request = CreateApiTokenRequest {
                name: new_name,
                scope: if write.get_untracked() {
                    ApiTokenScope::Write
                } else {
                    ApiTokenScope::Read
                },
                expires_in_days: lifetime.get_untracked(),
            };
            match api::tokens::create_token(&request).await {
                Ok(made) => {
                    name.set(String::new());
                    created.set(Some(made.token));
                    tokens.retry().run(());
                }
                Err(error) => failure.set(Some(error.message)),
            }
            busy.set(false);
        });
    };

    let list = fetched(tokens, "Loading tokens…", move |list| {
        if list.is_empty() {
            return view! { <p class="muted">"No tokens yet."</p> }.into_any();
        }
        list.into_iter()
            .map(|token| view! { <TokenRow token=token on_revoked=tokens.retry()/> })
            .collect_view()
            .into_any()
    });

    view! {
        <div class="page-head">
            <h1>"API tokens"</h1>
        </div>
        <p class="muted">
            "Scripts and integrations send a token as " <code>"Authorization: Bearer am_pat_…"</code>
            ". A read-only token can only read; no token can manage tokens."
        </p>
        <form class="card inline-form" on:submit=create aria-label="New API token">
            <label for="token-name">"Name"</label>
            <input
                id="token-name"
                type="text"
                placeholder="Nightly export"
                maxlength="100"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <label for="token-lifetime">"Expires"</label>
            <select
                id="token-lifetime"
                on:change=move |ev| lifetime.set(lifetime_from_option(&event_target_value(&ev)))
            >
                {LIFETIMES
                    .iter()
                    .map(|(days, label)| {
                        let value = lifetime_option_value(*days);
                        let days = *days;
                        view! {
                            <option value=value selected=move || lifetime.get() == days>
                                {*label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || write.get()
                    on:change=move |ev| write.set(event_target_checked(&ev))
                />
                "Can write"
            </label>
            <button type="submit" class="button" disabled=move || busy.get()>
                "Create token"
            </button>
        </form>
        {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
        {dynamic(move || {
            created
                .get()
                .map(|token| {
                    view! {
                        <div class="card" role="status" data-testid="new-token">
                            <p>"Copy this token now: it will not be shown again."</p>
                            <input
                                type="text"
                                readonly
                                class="token-value"
                                aria-label="New API token"
                                prop:value=token
                            />
                        </div>
                    }
                })
        })}
        <div class="list" data-testid="token-list">
            {list}
        </div>
    }
}

#[component]
fn TokenRow(token: ApiTokenResponse, on_revoked: Callback<()>) -> impl IntoView {
    let id = token.id;
    let failure = RwSignal::new(None::<String>);
    let revoke = move |()| {
        leptos::task::spawn_local(async move {
            match api::tokens::delete_token(id).await {
                Ok(()) => on_revoked.run(()),
                Err(error) => failure.set(Some(error.message)),
            }
        });
    };
    let summary = token_summary(&token);
    view! {
        <article class="card list-row" data-testid="token-row">
            <div>
                <h2>
                    {token.name.clone()} " " <code class="muted small">{format!("{}…", token.prefix)}</code>
                </h2>
                <p class="muted small">{summary}</p>
            </div>
            <ConfirmAction
                question="Revoke this token? Scripts using it stop at once."
                label="Revoke"
                on_confirm=Callback::new(revoke)
            />
            {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
        </article>
    }
}
