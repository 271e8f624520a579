//! Loading, error and notice blocks used around every fetch.

use leptos::prelude::*;

use crate::api::ApiFailure;

#[component]
pub fn Loading(#[prop(into, optional)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading…".into());
    view! {
        <p class="loading muted" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </p>
    }
}

/// An API failure in words (the API's own message), with an optional retry.
#[component]
pub fn ErrorMessage(
    failure: ApiFailure,
    #[prop(optional)] retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="notice error" role="alert" data-testid="error">
            <p>{failure.message}</p>
            {retry
                .map(|retry| {
                    view! {
                        <button type="button" class="button small" on:click=move |_| retry.run(())>
                            "Try again"
                        </button>
                    }
                })}
        </div>
    }
}

/// A success or error banner that can be dismissed.
#[component]
pub fn Banner(
    #[prop(into)] message: String,
    /// `ok` or `error`.
    #[prop(into)]
    tone: String,
    #[prop(optional)] on_close: Option<Callback<()>>,
) -> impl IntoView {
    let role = if tone == "error" { "alert" } else { "status" };
    view! {
        <div class=format!("notice {tone}") role=role data-testid=format!("banner-{tone}")>
            <p>{message}</p>
            {on_close
                .map(|close| {
                    view! {
                        <button
                            type="button"
                            class="icon-button"
                            aria-label="Dismiss"
                            on:click=move |_| close.run(())
                        >
                            "×"
                        </button>
                    }
                })}
        </div>
    }
}
