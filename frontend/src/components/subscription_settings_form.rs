//! The subscription settings of a connected Stripe-compatible source: the reporting currency its
//! MRR is converted to, and the definitions where the leading tools differ (when a cancellation
//! churns, which statuses and discounts count, the churn window). Saved with one `PATCH`.

use allmetrics_common::ConnectionResponse;
use leptos::prelude::*;

use crate::api;
use frontend_logic::subscription_settings::{
    churn_at_of, churn_at_value, set_switch, settings_request, switch, SWITCHES,
};

#[component]
pub fn SubscriptionSettingsForm(slug: String, connection: ConnectionResponse) -> impl IntoView {
    let currency = RwSignal::new(connection.reporting_currency.clone().unwrap_or_default());
    let settings = RwSignal::new(connection.subscription_settings.clone());
    let churn_window = RwSignal::new(
        connection
            .subscription_settings
            .churn_window_days
            .to_string(),
    );
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        saved.set(false);
        let request = match settings_request(
            &currency.get_untracked(),
            &settings.get_untracked(),
            &churn_window.get_untracked(),
        ) {
            Ok(request) => request,
            Err(message) => {
                failure.set(Some(message));
                return;
            }
        };
        let slug = slug.clone();
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            match api::connections::update_connection(&slug, &request).await {
                Ok(connection) => {
                    currency.set(connection.reporting_currency.unwrap_or_default());
                    churn_window.set(
                        connection
                            .subscription_settings
                            .churn_window_days
                            .to_string(),
                    );
                    settings.set(connection.subscription_settings);
                    saved.set(true);
                }
                Err(error) => failure.set(Some(error.message)),
            }
            busy.set(false);
        });
    };

    let switches = SWITCHES
        .into_iter()
        .map(|(name, label)| {
            view! {
                <label class="checkbox">
                    <input
                        type="checkbox"
                        data-setting=name
                        prop:checked=move || settings.with(|s| switch(s, name))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            settings.update(|s| set_switch(s, name, on));
                        }
                    />
                    {label}
                </label>
            }
        })
        .collect_view();

    view! {
        <details class="subscription-settings" data-testid="subscription-settings">
            <summary>"Subscription metrics settings"</summary>
            <form on:submit=submit class="stacked-form">
                <label>
                    "Reporting currency"
                    <input
                        type="text"
                        name="reporting_currency"
                        maxlength="3"
                        placeholder="the account's"
                        prop:value=move || currency.get()
                        on:input=move |ev| currency.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "A cancelled subscription churns"
                    <select
                        name="churn_at"
                        prop:value=move || settings.with(|s| churn_at_value(s.churn_at))
                        on:change=move |ev| {
                            let churn_at = churn_at_of(&event_target_value(&ev));
                            settings.update(|s| s.churn_at = churn_at);
                        }
                    >
                        <option value="period_end">"when its service ends"</option>
                        <option value="cancellation">"when the customer cancels"</option>
                    </select>
                </label>
                <label>
                    "Churn window (days)"
                    <input
                        type="number"
                        name="churn_window_days"
                        min="1"
                        max="365"
                        prop:value=move || churn_window.get()
                        on:input=move |ev| churn_window.set(event_target_value(&ev))
                    />
                </label>
                {switches}
                <button type="submit" class="button small" disabled=move || busy.get()>
                    "Save settings"
                </button>
                {move || failure.get().map(|message| view! { <p class="notice error small" role="alert">{message}</p> })}
                {move || saved.get().then(|| view! { <p class="muted small" role="status" data-testid="settings-saved">"Saved: the charts use them from now on."</p> })}
            </form>
        </details>
    }
}
