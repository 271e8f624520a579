//! `/metrics/new`: source -> object -> operator -> value field and group-by (from the query's
//! `keys`) -> a live preview (`/connect/query/{slug}`, 30 days) -> name, save, and add to a
//! dashboard (default: home; `?dashboard=ID` preselects one).

use allmetrics_common::{CreateMetricRequest, Dashboard, ObjectResponse, Series, SourceResponse};
use leptos::prelude::*;

use crate::api;
use crate::api::query::QueryParams;
use crate::api::ApiFailure;
use crate::browser;
use crate::components::charts::stacked_bar::StackedBar;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::components::require_auth::RequireAuth;
use crate::components::series_notes::SeriesNotes;
use crate::components::subscription_metric_form::SubscriptionMetricForm;
use crate::router::{navigate, use_location};
use frontend_logic::format::series_kind;
use frontend_logic::metric_builder::{
    default_date_label, needs_value_field, source_label, suggested_name, OPERATORS,
};
use frontend_logic::summary::{describe, OTHER_GROUPS};

/// Days of the preview window.
const PREVIEW_DAYS: u32 = 30;

#[component]
pub fn MetricBuilderPage() -> impl IntoView {
    view! {
        <RequireAuth>
            <MetricBuilder/>
        </RequireAuth>
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choices {
    source: String,
    object: String,
    operator: String,
    value_field: String,
    group_by: String,
    date_field: String,
}

#[component]
fn MetricBuilder() -> impl IntoView {
    let location = use_location();
    let tz = browser::time_zone();

    let source = RwSignal::new(String::new());
    let object = RwSignal::new(String::new());
    let operator = RwSignal::new("count".to_string());
    let value_field = RwSignal::new(String::new());
    let group_by = RwSignal::new(String::new());
    let date_field = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let name_touched = RwSignal::new(false);
    let dashboard_choice = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let sources = Fetch::new(|| Box::pin(api::sources::list_sources()));
    let objects = Fetch::new(move || {
        let slug = source.get();
        Box::pin(async move {
            if slug.is_empty() {
                Ok(Vec::new())
            } else {
                api::sources::list_objects(&slug).await
            }
        })
    });
    let dashboards = Fetch::new(|| Box::pin(api::dashboards::list_dashboards()));

    // The object's fields: a count query answers with `keys`.
    let keys = {
        let tz = tz.clone();
        Fetch::new(move || {
            let (slug, object_name) = (source.get(), object.get());
            let tz = tz.clone();
            Box::pin(async move {
                if slug.is_empty() || object_name.is_empty() {
                    return Ok(Vec::new());
                }
                let params = QueryParams {
                    object_name,
                    operator: "count".into(),
                    total_days: 1,
                    tz,
                    ..Default::default()
                };
                api::query::query(&slug, &params).await.map(|s| s.keys)
            })
        })
    };

    let choices = Memo::new(move |_| Choices {
        source: source.get(),
        object: object.get(),
        operator: operator.get(),
        value_field: value_field.get(),
        group_by: group_by.get(),
        date_field: date_field.get(),
    });
    let complete = move || {
        choices.with(|c| {
            !c.source.is_empty()
                && !c.object.is_empty()
                && (!needs_value_field(&c.operator) || !c.value_field.is_empty())
        })
    };

    let preview = {
        let tz = tz.clone();
        Fetch::new(move || {
            let c = choices.get();
            let tz = tz.clone();
            Box::pin(async move {
                if c.source.is_empty()
                    || c.object.is_empty()
                    || (needs_value_field(&c.operator) && c.value_field.is_empty())
                {
                    return Ok(None::<(Choices, Series)>);
                }
                let chosen = c.clone();
                let params = QueryParams {
                    object_name: c.object,
                    value_field: if needs_value_field(&c.operator) {
                        c.value_field
                    } else {
                        String::new()
                    },
                    operator: c.operator,
                    field_name: c.group_by,
                    date_field: c.date_field,
                    total_days: PREVIEW_DAYS,
                    tz,
                    ..Default::default()
                };
                api::query::query(&c.source, &params)
                    .await
                    .map(|series| Some((chosen, series)))
            })
        })
    };

    let object_label = move || {
        let current = object.get();
        objects
            .ok()
            .and_then(|list| list.into_iter().find(|o| o.name == current))
            .map(|o| o.label)
            .unwrap_or(current)
    };
    let suggestion = move || {
        choices.with(|c| {
            let value = if needs_value_field(&c.operator) {
                c.value_field.as_str()
            } else {
                ""
            };
            suggested_name(&object_label(), &c.operator, value, &c.group_by)
        })
    };
    let effective_name = move || {
        if name_touched.get() {
            name.get()
        } else {
            suggestion()
        }
    };

    // The dashboard to add to: the query's, else home.
    let selected_dashboard = move || -> Option<i64> {
        match dashboard_choice.get() {
            Some(choice) => choice.parse().ok(),
            None => {
                let wanted = location
                    .query("dashboard")
                    .and_then(|d| d.parse::<i64>().ok());
                let list = dashboards.ok().unwrap_or_default();
                wanted
                    .filter(|id| list.iter().any(|d| d.id == *id))
                    .or_else(|| list.iter().find(|d| d.is_home).map(|d| d.id))
            }
        }
    };

    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let c = choices.get_untracked();
        let metric_name = effective_name().trim().to_string();
        if !complete() {
            failure.set(Some(
                "Choose a source, an object and, for this operator, a value field.".into(),
            ));
            return;
        }
        if metric_name.is_empty() {
            failure.set(Some("Give the metric a name.".into()));
            return;
        }
        let dashboard = selected_dashboard();
        let home = dashboards.value.with_untracked(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|list| list.iter().find(|d| d.is_home).map(|d| d.id))
        });
        let request = CreateMetricRequest {
            name: metric_name,
            source: c.source,
            kind: None,
            object_name: Some(c.object),
            value_field: needs_value_field(&c.operator)
                .then_some(c.value_field)
                .filter(|v| !v.is_empty()),
            operator: Some(c.operator),
            field_name: Some(c.group_by).filter(|v| !v.is_empty()),
            date_field: Some(c.date_field).filter(|v| !v.is_empty()),
        };
        saving.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let metric = api::metrics::create_metric(&request).await?;
                if let Some(dashboard) = dashboard {
                    api::dashboards::add_metric(dashboard, metric.id).await?;
                }
                Ok::<_, ApiFailure>(metric)
            }
            .await;
            saving.set(false);
            match (result, dashboard) {
                (Ok(_), Some(id)) if Some(id) == home => navigate("/"),
                (Ok(_), Some(id)) => navigate(&format!("/dashboards/{id}")),
                (Ok(_), None) => navigate("/dashboards"),
                (Err(error), _) => failure.set(Some(error.message)),
            }
        });
    };

    let source_options = fetched(sources, "Loading sources…", move |list| {
        source_select(list, source, object, value_field, group_by, date_field)
    });
    // Both lists answer empty until there is a choice to list for; nothing shows then.
    let object_options = fetched(objects, "Loading objects…", move |list| {
        if source.get_untracked().is_empty() {
            return ().into_any();
        }
        object_select(list, source, object, value_field, group_by).into_any()
    });
    let field_pickers = fetched(keys, "Reading the fields…", move |list| {
        if object.get_untracked().is_empty() {
            return ().into_any();
        }
        field_selects(list, operator, value_field, group_by, date_field).into_any()
    });
    let preview_view = fetched(preview, "Querying…", move |answer| match answer {
        None => {
            let c = choices.get_untracked();
            view! {
                <div class="preview-empty muted" data-testid="preview-empty">
                    {if c.source.is_empty() || c.object.is_empty() {
                        "Choose a source and an object to see a preview."
                    } else {
                        "Choose a value field for this operator to see a preview."
                    }}
                </div>
            }
            .into_any()
        }
        Some((c, series)) => {
            let value = Some(c.value_field.as_str()).filter(|v| !v.is_empty());
            let kind = series_kind(&c.operator, value, series.meta.currency.as_deref());
            let description = describe(&c.operator, value, &c.group_by);
            let meta = series.meta.clone();
            let summed_into_other = series.label_z.contains_key(OTHER_GROUPS);
            view! {
                <StackedBar
                    series=series
                    kind=kind
                    title="Preview"
                    description=format!("{description}, last {PREVIEW_DAYS} days")
                    chart_id="preview"
                    height=260.0
                />
                <p class="series-notes muted small">
                    <SeriesNotes meta=meta summed_into_other=summed_into_other/>
                </p>
            }
            .into_any()
        }
    });
    let dashboard_options = fetched(dashboards, "Loading dashboards…", move |list| {
        dashboard_select(list, dashboard_choice, selected_dashboard)
    });

    view! {
        <div class="page-head">
            <h1>"New metric"</h1>
        </div>
        <div class="builder">
            <form class="card builder-form" on:submit=save aria-label="Metric">
                {source_options}
                {object_options}
                <div class="field">
                    <label for="builder-operator">"Operator"</label>
                    <select
                        id="builder-operator"
                        on:change=move |ev| operator.set(event_target_value(&ev))
                    >
                        {OPERATORS
                            .iter()
                            .map(|(value, label)| {
                                view! {
                                    <option value=*value selected=move || operator.get() == *value>
                                        {*label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                {field_pickers}
                <div class="field">
                    <label for="builder-name">"Name"</label>
                    <input
                        id="builder-name"
                        type="text"
                        prop:value=effective_name
                        on:input=move |ev| {
                            name_touched.set(true);
                            name.set(event_target_value(&ev));
                        }
                    />
                </div>
                {dashboard_options}
                {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert" data-testid="builder-error">{m}</p> }))}
                <div class="actions">
                    <button
                        type="submit"
                        class="button"
                        id="builder-save"
                        disabled=move || saving.get() || !complete()
                    >
                        {dynamic(move || if saving.get() { "Saving…" } else { "Save metric" })}
                    </button>
                    <a href="/">"Cancel"</a>
                </div>
            </form>
            <section class="card builder-preview" aria-labelledby="preview-title" data-testid="preview">
                <h2 id="preview-title">"Preview " <span class="muted small">{format!("last {PREVIEW_DAYS} days")}</span></h2>
                <div class:reloading=move || preview.loading.get()>{preview_view}</div>
            </section>
            <SubscriptionMetricForm/>
        </div>
    }
}

fn source_select(
    list: Vec<SourceResponse>,
    source: RwSignal<String>,
    object: RwSignal<String>,
    value_field: RwSignal<String>,
    group_by: RwSignal<String>,
    date_field: RwSignal<String>,
) -> impl IntoView {
    if list.iter().all(|s| s.connection.is_none()) {
        return view! {
            <div class="notice">
                <p>"Connect a data source first: metrics read what it syncs."</p>
                <a href="/sources" class="button small">"Go to sources"</a>
            </div>
        }
        .into_any();
    }
    let options = list
        .into_iter()
        .map(|s| {
            let connected = s.connection.is_some();
            let slug = s.slug.clone();
            let selected = move || source.get() == slug;
            let label = source_label(&s);
            view! {
                <option value=s.slug.clone() disabled=!connected selected=selected>
                    {label}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="builder-source">"Source"</label>
            <select
                id="builder-source"
                on:change=move |ev| {
                    source.set(event_target_value(&ev));
                    object.set(String::new());
                    value_field.set(String::new());
                    group_by.set(String::new());
                    date_field.set(String::new());
                }
            >
                <option value="" selected=move || source.get().is_empty()>"Choose a source"</option>
                {options}
            </select>
        </div>
    }
    .into_any()
}

fn object_select(
    list: Vec<ObjectResponse>,
    source: RwSignal<String>,
    object: RwSignal<String>,
    value_field: RwSignal<String>,
    group_by: RwSignal<String>,
) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p class="muted small">
                {dynamic(move || format!("{} offers no objects yet. An administrator can add them.", source.get()))}
            </p>
        }
        .into_any();
    }
    let options = list
        .into_iter()
        .filter(|o| o.enabled)
        .map(|o| {
            let name = o.name.clone();
            let selected = move || object.get() == name;
            view! {
                <option value=o.name.clone() selected=selected>
                    {if o.label.is_empty() || o.label == o.name { o.name.clone() } else { format!("{} ({})", o.label, o.name) }}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="builder-object">"Object"</label>
            <select
                id="builder-object"
                on:change=move |ev| {
                    object.set(event_target_value(&ev));
                    value_field.set(String::new());
                    group_by.set(String::new());
                }
            >
                <option value="" selected=move || object.get().is_empty()>"Choose an object"</option>
                {options}
            </select>
        </div>
    }
    .into_any()
}

fn key_options(
    keys: &[String],
    current: RwSignal<String>,
    empty_label: &'static str,
) -> impl IntoView {
    let options = keys
        .iter()
        .map(|key| {
            let value = key.clone();
            let selected = move || current.get() == value;
            view! { <option value=key.clone() selected=selected>{key.clone()}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=move || current.get().is_empty()>{empty_label}</option>
        {options}
    }
}

fn field_selects(
    keys: Vec<String>,
    operator: RwSignal<String>,
    value_field: RwSignal<String>,
    group_by: RwSignal<String>,
    date_field: RwSignal<String>,
) -> impl IntoView {
    let value_keys = keys.clone();
    let value_picker = dynamic(move || {
        needs_value_field(&operator.get()).then(|| {
            view! {
                <div class="field">
                    <label for="builder-value-field">"Value field"</label>
                    <select
                        id="builder-value-field"
                        on:change=move |ev| value_field.set(event_target_value(&ev))
                    >
                        {key_options(&value_keys, value_field, "Choose a field")}
                    </select>
                    <p class="muted small">"Amounts are in the provider's minor units (cents)."</p>
                </div>
            }
        })
    });
    view! {
        {value_picker}
        <div class="field">
            <label for="builder-group-by">"Group by"</label>
            <select id="builder-group-by" on:change=move |ev| group_by.set(event_target_value(&ev))>
                {key_options(&keys, group_by, "No grouping")}
            </select>
        </div>
        <div class="field">
            <label for="builder-date-field">"Date"</label>
            <select id="builder-date-field" on:change=move |ev| date_field.set(event_target_value(&ev))>
                {key_options(&keys, date_field, default_date_label(&keys))}
            </select>
        </div>
    }
}

fn dashboard_select(
    list: Vec<Dashboard>,
    choice: RwSignal<Option<String>>,
    selected: impl Fn() -> Option<i64> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let options = list
        .into_iter()
        .map(|d| {
            let id = d.id;
            let label = if d.is_home { format!("{} (home)", d.name) } else { d.name };
            view! { <option value=id.to_string() selected=move || selected() == Some(id)>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="builder-dashboard">"Add to dashboard"</label>
            <select id="builder-dashboard" on:change=move |ev| choice.set(Some(event_target_value(&ev)))>
                {options}
                <option value="none" selected=move || selected().is_none()>"Don't add to a dashboard"</option>
            </select>
        </div>
    }
}
