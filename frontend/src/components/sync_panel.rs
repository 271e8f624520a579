//! A connection's sync progress: polls `GET /api/v1/connections/{slug}/sync` every 1.5 s while
//! the backfill runs and shows a progress bar per object, the last sync time and errors.

use std::time::Duration;

use allmetrics_common::{ObjectSyncStatus, SyncStatus};
use leptos::prelude::*;

use crate::api;
use crate::browser;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use frontend_logic::dates::parse_rfc3339;
use frontend_logic::format::{format_fixed, relative_time};

const POLL: Duration = Duration::from_millis(1500);
/// How many polls a `not_synced` connection gets (a fresh connection's first sync starts soon).
const NOT_SYNCED_POLLS: u32 = 20;

fn state_label(state: &str) -> &'static str {
    match state {
        "backfilling" => "Syncing history…",
        "idle" => "Up to date",
        "needs_reconnect" => "Needs reconnect",
        "not_synced" => "Not synced yet",
        _ => "Unknown state",
    }
}

fn ago(at: &Option<String>) -> Option<String> {
    at.as_deref()
        .and_then(parse_rfc3339)
        .map(|then| relative_time(browser::now_seconds(), then))
}

#[component]
pub fn SyncPanel(#[prop(into)] slug: String) -> impl IntoView {
    let status = {
        let slug = slug.clone();
        Fetch::new(move || {
            let slug = slug.clone();
            Box::pin(async move { api::connections::sync_status(&slug).await })
        })
    };
    let idle_polls = StoredValue::new(0u32);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let state = status.value.with_untracked(|value| {
                value
                    .as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map(|s| s.state.clone())
            });
            match state.as_deref() {
                Some("backfilling") => status.refetch(),
                Some("not_synced") if idle_polls.get_value() < NOT_SYNCED_POLLS => {
                    idle_polls.update_value(|n| *n += 1);
                    status.refetch();
                }
                _ => {}
            }
        },
        POLL,
    ) {
        on_cleanup(move || handle.clear());
    }

    let starting = RwSignal::new(false);
    let start_failure = RwSignal::new(None::<String>);
    let sync_now = {
        let slug = slug.clone();
        move |_| {
            let slug = slug.clone();
            starting.set(true);
            start_failure.set(None);
            leptos::task::spawn_local(async move {
                match api::connections::start_sync(&slug).await {
                    Ok(_) => {
                        idle_polls.set_value(0);
                        status.refetch();
                    }
                    Err(error) => start_failure.set(Some(error.message)),
                }
                starting.set(false);
            });
        }
    };

    let body = fetched(status, "Reading the sync status…", move |status| {
        status_view(status, starting, sync_now.clone())
    });

    view! {
        <div class="sync-panel" data-testid=format!("sync-{slug}")>
            {body}
            {dynamic(move || {
                start_failure
                    .get()
                    .map(|message| view! { <p class="status-error" role="alert">{message}</p> })
            })}
        </div>
    }
}

fn status_view(
    status: SyncStatus,
    starting: RwSignal<bool>,
    sync_now: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let running = status.state == "backfilling";
    let last = ago(&status.last_synced_at);
    let last_title = status
        .last_synced_at
        .as_deref()
        .map(browser::local_time)
        .unwrap_or_default();
    let objects = status
        .objects
        .iter()
        .map(|(name, object)| object_view(name, object))
        .collect_view();
    view! {
        <div class="sync-head">
            <span
                class=format!("badge state-{}", status.state)
                data-testid="sync-state"
                data-state=status.state.clone()
            >
                {state_label(&status.state)}
            </span>
            <span class="muted small" title=last_title>
                {match last {
                    Some(ago) => format!("Last synced {ago}"),
                    None => "Never synced".to_string(),
                }}
            </span>
            <button
                type="button"
                class="button small ghost"
                data-testid="sync-now"
                disabled=move || running || starting.get()
                on:click=sync_now
            >
                "Sync now"
            </button>
        </div>
        {status
            .last_error
            .clone()
            .map(|error| {
                view! {
                    <p class="status-error small" role="alert" data-testid="sync-error">
                        {error}
                    </p>
                }
            })}
        <ul class="sync-objects">{objects}</ul>
    }
}

fn object_view(name: &str, object: &ObjectSyncStatus) -> impl IntoView {
    let count = format_fixed(object.synced as f64, 0);
    let label = if object.done {
        format!("{name}: {count} synced, complete")
    } else {
        format!("{name}: {count} synced so far")
    };
    let fill_class = if object.done {
        "progress-fill done"
    } else {
        "progress-fill running"
    };
    view! {
        <li class="sync-object" data-testid="sync-object" data-object=name.to_string() data-done=object.done.to_string()>
            <div class="sync-object-head">
                <span class="object-name">{name.to_string()}</span>
                <span class="muted small">
                    {if object.done { format!("{count} · complete") } else { format!("{count} so far") }}
                </span>
            </div>
            <div
                class="progress"
                role="progressbar"
                aria-label=label
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=object.done.then_some("100")
                aria-valuetext=if object.done { "complete".to_string() } else { format!("{count} synced") }
            >
                <div class=fill_class></div>
            </div>
            {object
                .read_mode
                .as_deref()
                .map(|mode| {
                    let requests = object.requests.unwrap_or(0);
                    view! {
                        <p class="muted small" data-testid="sync-read-mode" data-mode=mode.to_string()>
                            {format!("Last run: {} · {requests} requests", read_mode_label(mode))}
                        </p>
                    }
                })}
            {object
                .note
                .clone()
                .map(|note| view! { <p class="muted small" data-testid="sync-note">{note}</p> })}
            {object
                .last_error
                .clone()
                .map(|error| view! { <p class="status-error small">{error}</p> })}
        </li>
    }
}

/// How a run read an object, in words.
fn read_mode_label(mode: &str) -> &'static str {
    match mode {
        "backfill" => "whole history",
        "events" => "changes from the event feed",
        "webhook" => "changes pushed by webhooks",
        "full_reread" => "everything read again",
        "recent_window" => "recent objects read again",
        _ => "read",
    }
}
