//! Admin: data sources (enable, disable, rename), each with its routing sources.

use allmetrics_common::{AdminSourceResponse, UpdateSourceRequest};
use leptos::prelude::*;

use crate::api;
use crate::components::admin_objects::AdminObjects;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};

#[component]
pub fn AdminSources() -> impl IntoView {
    let sources = Fetch::new(|| Box::pin(api::admin::list_sources()));
    let body = fetched(sources, "Loading sources…", move |list| {
        if list.is_empty() {
            return view! { <p class="muted">"No data sources."</p> }.into_any();
        }
        list.into_iter()
            .map(|source| {
                view! {
                    <AdminSourceRow source=source on_change=sources.retry()/>
                }
            })
            .collect_view()
            .into_any()
    });
    view! {
        <section aria-labelledby="admin-sources-title">
            <h2 id="admin-sources-title">"Data sources"</h2>
            {body}
        </section>
    }
}

#[component]
fn AdminSourceRow(source: AdminSourceResponse, on_change: Callback<()>) -> impl IntoView {
    let slug = source.slug.clone();
    let name = RwSignal::new(source.name.clone());
    let saved_name = source.name.clone();
    let enabled = source.enabled;
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let show_objects = RwSignal::new(false);

    let save = {
        let slug = slug.clone();
        move |request: UpdateSourceRequest| {
            let slug = slug.clone();
            busy.set(true);
            failure.set(None);
            leptos::task::spawn_local(async move {
                match api::admin::update_source(&slug, &request).await {
                    Ok(_) => on_change.run(()),
                    Err(error) => failure.set(Some(error.message)),
                }
                busy.set(false);
            });
        }
    };
    let rename = {
        let save = save.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let new_name = name.get_untracked().trim().to_string();
            if new_name.is_empty() || new_name == saved_name {
                return;
            }
            save(UpdateSourceRequest {
                name: Some(new_name),
                enabled: None,
            });
        }
    };
    let toggle = move |_| {
        save(UpdateSourceRequest {
            name: None,
            enabled: Some(!enabled),
        })
    };
    let input_id = format!("source-name-{slug}");
    let objects_slug = slug.clone();

    view! {
        <article class="card admin-source" data-testid="admin-source" data-slug=slug.clone()>
            <header class="card-head">
                <form class="inline-form" on:submit=rename>
                    <label class="sr-only" for=input_id.clone()>"Name"</label>
                    <input
                        id=input_id
                        type="text"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <button type="submit" class="button small ghost" disabled=move || busy.get()>
                        "Rename"
                    </button>
                </form>
                <span class=if enabled { "badge state-idle" } else { "badge muted" }>
                    {if enabled { "Enabled" } else { "Disabled" }}
                </span>
            </header>
            <p class="muted small">
                {format!(
                    "{} · provider {} · {} · {} connected",
                    source.slug,
                    source.provider,
                    if source.configured { "configured" } else { "no credentials" },
                    source.connections,
                )}
            </p>
            <div class="actions">
                <button
                    type="button"
                    class=if enabled { "button small ghost" } else { "button small" }
                    data-testid="toggle-source"
                    disabled=move || busy.get()
                    on:click=toggle
                >
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
                <button
                    type="button"
                    class="button small ghost"
                    aria-expanded=move || show_objects.get().to_string()
                    on:click=move |_| show_objects.update(|v| *v = !*v)
                >
                    {dynamic(move || if show_objects.get() { "Hide objects" } else { "Objects" })}
                </button>
            </div>
            {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
            {dynamic(move || {
                show_objects.get().then(|| view! { <AdminObjects slug=objects_slug.clone()/> })
            })}
        </article>
    }
}
