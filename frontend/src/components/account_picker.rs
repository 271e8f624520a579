//! The account picker of a connection that can read several accounts (a Google Analytics
//! connection's GA4 properties): lists `GET /api/v1/connections/{slug}/accounts`, and
//! `PUT .../account` the one chosen. When changing an account already chosen it warns that the
//! data read from the previous one is deleted.

use allmetrics_common::AccountResponse;
use leptos::prelude::*;

use crate::api;
use crate::components::dynamic::FailureText;
use crate::components::fetch::{fetched, Fetch};
use frontend_logic::accounts::{account_label, initial_choice};

#[component]
pub fn AccountPicker(
    #[prop(into)] slug: String,
    /// `property` or `account`: how the provider calls what is chosen.
    noun: &'static str,
    /// The account read now, when changing it.
    current: Option<AccountResponse>,
    /// Runs once an account is chosen (by the user, or by the server when there is only one).
    on_chosen: Callback<()>,
    /// Shows a Cancel button.
    #[prop(optional)]
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let root_slug = slug.clone();
    let accounts = {
        let slug = slug.clone();
        Fetch::new(move || {
            let slug = slug.clone();
            Box::pin(async move { api::connections::list_accounts(&slug).await })
        })
    };
    let current_id = current.as_ref().map(|a| a.id.clone());

    // With a single account and none chosen, listing it chose it: show the connection as it is now.
    if current.is_none() {
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            let only_one = accounts
                .value
                .with(|value| matches!(value, Some(Ok(list)) if list.len() == 1));
            if only_one {
                on_chosen.run(());
            }
            only_one
        });
    }

    let choice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let select_id = format!("account-select-{slug}");

    let body = fetched(accounts, "Reading the accounts…", move |list| {
        if list.is_empty() {
            return view! {
                <p class="muted small" data-testid="no-accounts">
                    {format!(
                        "This connection cannot read any {noun}. Check its access at the provider, then connect again."
                    )}
                </p>
            }
            .into_any();
        }
        let first = initial_choice(&list, current_id.as_deref());
        let selected = move || choice.get().or_else(|| first.clone());
        let unchanged = {
            let current_id = current_id.clone();
            let selected = selected.clone();
            move || selected().is_none() || selected() == current_id
        };
        let options = list
            .iter()
            .map(|account| {
                let id = account.id.clone();
                let selected = selected.clone();
                view! {
                    <option value=account.id.clone() selected=move || selected().as_deref() == Some(id.as_str())>
                        {account_label(account)}
                    </option>
                }
            })
            .collect_view();
        let slug = slug.clone();
        let submit = move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let Some(id) = selected() else {
                return;
            };
            let slug = slug.clone();
            busy.set(true);
            failure.set(None);
            leptos::task::spawn_local(async move {
                match api::connections::choose_account(&slug, id).await {
                    Ok(_) => on_chosen.run(()),
                    Err(error) => failure.set(Some(error.message)),
                }
                busy.set(false);
            });
        };
        view! {
            <form class="account-form" on:submit=submit>
                <label for=select_id.clone()>{format!("The {noun} to chart")}</label>
                <select
                    id=select_id.clone()
                    data-testid="account-select"
                    on:change=move |ev| choice.set(Some(event_target_value(&ev)))
                >
                    {options}
                </select>
                <div class="actions">
                    <button
                        type="submit"
                        class="button small"
                        data-testid="choose-account"
                        disabled=move || busy.get() || unchanged()
                    >
                        {format!("Use this {noun}")}
                    </button>
                    {on_cancel
                        .map(|cancel| {
                            view! {
                                <button
                                    type="button"
                                    class="button small ghost"
                                    data-testid="cancel-account"
                                    on:click=move |_| cancel.run(())
                                >
                                    "Cancel"
                                </button>
                            }
                        })}
                </div>
            </form>
        }
        .into_any()
    });

    let warning = current.as_ref().map(|account| {
        view! {
            <p class="notice warn small" role="note" data-testid="account-change-warning">
                {format!(
                    "Changing the {noun} deletes everything read from {}; the new {noun} is then read from the start.",
                    account_label(account)
                )}
            </p>
        }
    });

    view! {
        <div class="account-picker" data-testid="account-picker" data-slug=root_slug>
            {warning}
            {body}
            <FailureText message=failure testid="account-error"/>
        </div>
    }
}
