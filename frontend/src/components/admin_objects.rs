//! Admin: the routing sources (objects) of one data source: add, remove, enable, disable.

use allmetrics_common::{CreateObjectRequest, ObjectResponse, UpdateObjectRequest};
use leptos::prelude::*;

use crate::api;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};

/// One admin change, run by the list (which reloads after it).
type Task = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), api::ApiFailure>>>>;

#[component]
pub fn AdminObjects(#[prop(into)] slug: String) -> impl IntoView {
    let objects = {
        let slug = slug.clone();
        Fetch::new(move || {
            let slug = slug.clone();
            Box::pin(async move { api::admin::list_objects(&slug).await })
        })
    };
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    let new_label = RwSignal::new(String::new());

    let run = move |task: Task| {
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            match task.await {
                Ok(()) => objects.refetch(),
                Err(error) => failure.set(Some(error.message)),
            }
            busy.set(false);
        });
    };

    let add = {
        let slug = slug.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let name = new_name.get_untracked().trim().to_string();
            if name.is_empty() {
                return;
            }
            let label =
                Some(new_label.get_untracked().trim().to_string()).filter(|l| !l.is_empty());
            let slug = slug.clone();
            new_name.set(String::new());
            new_label.set(String::new());
            run(Box::pin(async move {
                api::admin::create_object(
                    &slug,
                    &CreateObjectRequest {
                        name,
                        label,
                        enabled: true,
                    },
                )
                .await
                .map(|_| ())
            }));
        }
    };

    let rows = {
        let slug = slug.clone();
        fetched(objects, "Loading objects…", move |list| {
            rows_view(list, slug.clone(), run)
        })
    };

    let name_id = format!("new-object-{slug}");
    let label_id = format!("new-object-label-{slug}");
    view! {
        <div class="admin-objects" data-testid="admin-objects">
            {rows}
            <form class="inline-form" on:submit=add>
                <label for=name_id.clone()>"Object"</label>
                <input
                    id=name_id
                    type="text"
                    placeholder="Charge"
                    prop:value=move || new_name.get()
                    on:input=move |ev| new_name.set(event_target_value(&ev))
                />
                <label for=label_id.clone()>"Label"</label>
                <input
                    id=label_id
                    type="text"
                    placeholder="Charges"
                    prop:value=move || new_label.get()
                    on:input=move |ev| new_label.set(event_target_value(&ev))
                />
                <button type="submit" class="button small" disabled=move || busy.get()>
                    "Add object"
                </button>
            </form>
            {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
        </div>
    }
}

fn rows_view(
    list: Vec<ObjectResponse>,
    slug: String,
    run: impl Fn(Task) + Clone + 'static,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted small">"No objects yet."</p> }.into_any();
    }
    let rows = list
        .into_iter()
        .map(|object| {
            let toggle = {
                let (slug, name, run) = (slug.clone(), object.name.clone(), run.clone());
                let enabled = object.enabled;
                move |_| {
                    let (slug, name) = (slug.clone(), name.clone());
                    run(Box::pin(async move {
                        api::admin::update_object(
                            &slug,
                            &name,
                            &UpdateObjectRequest {
                                label: None,
                                enabled: Some(!enabled),
                            },
                        )
                        .await
                        .map(|_| ())
                    }))
                }
            };
            let remove = {
                let (slug, name, run) = (slug.clone(), object.name.clone(), run.clone());
                move |_| {
                    let (slug, name) = (slug.clone(), name.clone());
                    run(Box::pin(async move { api::admin::delete_object(&slug, &name).await }))
                }
            };
            view! {
                <tr data-testid="admin-object" data-object=object.name.clone()>
                    <td>
                        <code>{object.name.clone()}</code>
                    </td>
                    <td>{object.label.clone()}</td>
                    <td>
                        <span class=if object.enabled { "badge state-idle" } else { "badge muted" }>
                            {if object.enabled { "Enabled" } else { "Disabled" }}
                        </span>
                    </td>
                    <td class="row-actions">
                        <button type="button" class="button small ghost" on:click=toggle>
                            {if object.enabled { "Disable" } else { "Enable" }}
                        </button>
                        <button type="button" class="button small ghost danger-text" on:click=remove>
                            "Remove"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Label"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">
                        <span class="sr-only">"Actions"</span>
                    </th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
