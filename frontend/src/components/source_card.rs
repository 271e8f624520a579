//! A data source on the sources page: connect (OAuth, a full page load), reconnect, disconnect
//! (confirmed), an API key where the provider takes one, the account id and the sync progress.
//! Sources that read one of several accounts (a GA4 property) show the account picker until one
//! is chosen, then the chosen account and a control to change it. A token that cannot be
//! refreshed (Facebook's) warns with its date while it is `expiring`, and says why once it
//! `needs_reconnect`; both offer the Reconnect link.

use allmetrics_common::{AccountResponse, SourceResponse};
use leptos::prelude::*;

use crate::api;
use crate::browser;
use crate::components::account_picker::AccountPicker;
use crate::components::dynamic::dynamic;
use crate::components::subscription_settings_form::SubscriptionSettingsForm;
use crate::components::sync_panel::SyncPanel;
use frontend_logic::access::{access_notice, access_owner};
use frontend_logic::accounts::{account_label, account_noun, connection_chip, currency_label};

#[component]
pub fn SourceCard(source: SourceResponse, on_change: Callback<()>) -> impl IntoView {
    let slug = source.slug.clone();
    let connection = source.connection.clone();
    let status = connection.as_ref().map(|c| c.status.clone());
    let needs_reconnect = status.as_deref() == Some("needs_reconnect");
    let needs_account = status.as_deref() == Some("needs_account");
    // A token that cannot be refreshed (Facebook's) expires soon: syncs go on, but only a
    // reconnect keeps them going.
    let expiring = status.as_deref() == Some("expiring");
    let noun = account_noun(&source.provider);
    let (chip_class, chip_text) = connection_chip(status.as_deref(), source.configured, noun);
    let chosen: Option<AccountResponse> = connection.as_ref().and_then(|c| c.account.clone());
    // Changing the chosen account opens the picker in place.
    let changing = RwSignal::new(false);
    let authorize = api::connections::authorize_url(&slug);

    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let disconnect = {
        let slug = slug.clone();
        move |_| {
            let slug = slug.clone();
            busy.set(true);
            failure.set(None);
            leptos::task::spawn_local(async move {
                match api::connections::disconnect(&slug).await {
                    Ok(()) => on_change.run(()),
                    Err(error) => failure.set(Some(error.message)),
                }
                busy.set(false);
                confirming.set(false);
            });
        }
    };

    let api_key = RwSignal::new(String::new());
    let submit_key = {
        let slug = slug.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let key = api_key.get_untracked().trim().to_string();
            if key.is_empty() {
                failure.set(Some("Paste a key first.".into()));
                return;
            }
            let slug = slug.clone();
            busy.set(true);
            failure.set(None);
            leptos::task::spawn_local(async move {
                match api::connections::connect_with_key(&slug, key).await {
                    Ok(_) => {
                        api_key.set(String::new());
                        on_change.run(());
                    }
                    Err(error) => failure.set(Some(error.message)),
                }
                busy.set(false);
            });
        }
    };

    let connect_button = if !source.configured {
        view! {
            <p class="muted small">
                "This server has no OAuth credentials for " {source.name.clone()} "."
            </p>
        }
        .into_any()
    } else if connection.is_none() {
        view! {
            <a class="button" href=authorize.clone() rel="external" id=format!("connect-{slug}")>
                "Connect"
            </a>
        }
        .into_any()
    } else if needs_reconnect || expiring {
        view! {
            <a class="button" href=authorize.clone() rel="external" id=format!("reconnect-{slug}")>
                "Reconnect"
            </a>
        }
        .into_any()
    } else {
        ().into_any()
    };

    let key_form = (source.api_key_supported && connection.is_none()).then(|| {
        let input_id = format!("api-key-{slug}");
        view! {
            <details class="api-key">
                <summary>"Connect with a restricted key"</summary>
                <form on:submit=submit_key class="inline-form">
                    <label for=input_id.clone()>"Restricted or secret key"</label>
                    <input
                        id=input_id
                        type="password"
                        autocomplete="off"
                        placeholder="rk_live_…"
                        prop:value=move || api_key.get()
                        on:input=move |ev| api_key.set(event_target_value(&ev))
                    />
                    <button type="submit" class="button small" disabled=move || busy.get()>
                        "Connect with key"
                    </button>
                </form>
                <p class="muted small">
                    "Read-only restricted keys are enough. The key is checked once, then stored encrypted."
                </p>
            </details>
        }
    });

    let details = connection.clone().map(|c| {
        let kind = if c.auth_kind == "api_key" {
            "API key"
        } else {
            "OAuth"
        };
        // A GA4 property (chosen below) says more than the provider's account id, which such
        // sources do not have.
        let show_account_id = c.account_id.is_some() || (c.account.is_none() && noun == "account");
        let account_id = show_account_id.then(|| {
            view! {
                <div>
                    <dt>"Account"</dt>
                    <dd data-testid="account-id">
                        {c.account_id.clone().unwrap_or_else(|| "—".into())}
                    </dd>
                </div>
            }
        });
        let account = c.account.as_ref().map(|account| {
            view! {
                <div>
                    <dt>{noun}</dt>
                    <dd data-testid="account-name" data-account-id=account.id.clone()>
                        {account_label(account)}
                    </dd>
                </div>
                <div>
                    <dt>"Time zone"</dt>
                    <dd data-testid="account-time-zone">
                        {account.time_zone.clone().unwrap_or_else(|| "—".into())}
                    </dd>
                </div>
                <div>
                    <dt>"Currency"</dt>
                    <dd data-testid="account-currency">
                        {currency_label(account.currency.as_deref())}
                    </dd>
                </div>
            }
        });
        view! {
            <dl class="facts">
                {account_id}
                {account}
                <div>
                    <dt>"Connected with"</dt>
                    <dd>{kind}</dd>
                </div>
            </dl>
        }
    });

    // Why a reconnect is wanted: the access expires soon, has expired, or was refused.
    let access_warning = connection.as_ref().and_then(|c| {
        let expires_at = c.expires_at.as_deref();
        let offset = expires_at.map_or(0, browser::utc_offset_seconds);
        let owner = access_owner(&source.provider, &source.name);
        let message = access_notice(
            Some(c.status.as_str()),
            &owner,
            expires_at,
            offset,
            browser::now_seconds(),
        )?;
        Some(view! {
            <p
                class="notice warn small"
                role=if needs_reconnect { "alert" } else { "status" }
                data-testid="access-warning"
                data-status=c.status.clone()
                data-expires-at=c.expires_at.clone()
            >
                {message}
            </p>
        })
    });

    // The picker: at once while no account is chosen, on demand to change it.
    let picker = if needs_account {
        Some(
            view! {
                <div class="account-section">
                    <p class="small">
                        {format!("Choose the {noun} to read. Nothing is synced until you do.")}
                    </p>
                    <AccountPicker slug=slug.clone() noun=noun current=None on_chosen=on_change/>
                </div>
            }
            .into_any(),
        )
    } else if chosen.is_some() && !needs_reconnect {
        let slug = slug.clone();
        let chosen = chosen.clone();
        Some(
            view! {
                {dynamic(move || {
                    changing
                        .get()
                        .then(|| {
                            view! {
                                <div class="account-section">
                                    <AccountPicker
                                        slug=slug.clone()
                                        noun=noun
                                        current=chosen.clone()
                                        on_chosen=on_change
                                        on_cancel=Callback::new(move |_| changing.set(false))
                                    />
                                </div>
                            }
                        })
                })}
            }
            .into_any(),
        )
    } else {
        None
    };
    let change_button = (chosen.is_some() && !needs_reconnect).then(|| {
        view! {
            <button
                type="button"
                class="button ghost"
                data-testid="change-account"
                aria-expanded=move || changing.get().to_string()
                disabled=move || changing.get()
                on:click=move |_| changing.set(true)
            >
                {format!("Change {noun}")}
            </button>
        }
    });

    let disconnect_controls = connection.is_some().then(|| {
        let disconnect = disconnect.clone();
        view! {
            {dynamic(move || {
                if confirming.get() {
                    let disconnect = disconnect.clone();
                    view! {
                        <div class="confirm" role="alertdialog" aria-label="Disconnect">
                            <span>"Disconnect and delete everything synced from this source?"</span>
                            <button
                                type="button"
                                class="button small danger"
                                data-testid="confirm-disconnect"
                                disabled=move || busy.get()
                                on:click=disconnect
                            >
                                "Disconnect"
                            </button>
                            <button
                                type="button"
                                class="button small ghost"
                                on:click=move |_| confirming.set(false)
                            >
                                "Cancel"
                            </button>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="button ghost"
                            data-testid="disconnect"
                            on:click=move |_| confirming.set(true)
                        >
                            "Disconnect"
                        </button>
                    }
                        .into_any()
                }
            })}
        }
    });

    let subscription_settings = connection
        .clone()
        .filter(|_| source.subscriptions_supported)
        .map(|c| view! { <SubscriptionSettingsForm slug=slug.clone() connection=c/> });

    // Nothing syncs before an account is chosen.
    let sync =
        (connection.is_some() && !needs_account).then(|| view! { <SyncPanel slug=slug.clone()/> });

    view! {
        <article class="card source-card" data-testid="source-card" data-slug=slug.clone()>
            <header class="card-head">
                <div>
                    <h2>{source.name.clone()}</h2>
                    <p class="muted small">{source.provider.clone()}</p>
                </div>
                <span class=chip_class data-testid="connection-state">{chip_text}</span>
            </header>
            {details}
            {access_warning}
            {picker}
            <div class="actions">{connect_button} {change_button} {disconnect_controls}</div>
            {key_form}
            {subscription_settings}
            {dynamic(move || {
                failure.get().map(|message| view! { <p class="status-error" role="alert">{message}</p> })
            })}
            {sync}
        </article>
    }
}
