//! The metric builder's second form: a subscription metric (MRR, its movements, churn, ARPU...)
//! of a connected Stripe-compatible source, grouped by nothing, currency or plan, saved to the
//! home dashboard.

use allmetrics_common::{CreateMetricRequest, SourceResponse};
use leptos::prelude::*;

use crate::api;
use crate::api::ApiFailure;
use crate::components::dynamic::dynamic;
use crate::components::fetch::{fetched, Fetch};
use crate::router::navigate;
use frontend_logic::metric_builder::source_label;
use frontend_logic::subscriptions::{describe_subscription, subscription_kind, SUBSCRIPTION_KINDS};

/// The groupings a subscription metric offers: value and label.
const GROUPINGS: [(&str, &str); 3] = [
    ("", "Nothing (in the reporting currency)"),
    ("currency", "Currency"),
    ("plan", "Plan (price)"),
];

#[component]
pub fn SubscriptionMetricForm() -> impl IntoView {
    let sources = Fetch::new(|| Box::pin(api::sources::list_sources()));
    let source = RwSignal::new(String::new());
    let kind = RwSignal::new("mrr".to_string());
    let grouping = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (slug, chosen, field) = (
            source.get_untracked(),
            kind.get_untracked(),
            grouping.get_untracked(),
        );
        let Some(found) = subscription_kind(&chosen) else {
            return;
        };
        if slug.is_empty() {
            failure.set(Some("Choose a source.".into()));
            return;
        }
        let request = CreateMetricRequest {
            name: describe_subscription(found, &field),
            source: slug,
            kind: Some(chosen),
            object_name: None,
            operator: None,
            field_name: Some(field).filter(|f| !f.is_empty()),
            value_field: None,
            date_field: None,
        };
        saving.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let metric = api::metrics::create_metric(&request).await?;
                let dashboards = api::dashboards::list_dashboards().await?;
                if let Some(home) = dashboards.iter().find(|d| d.is_home) {
                    api::dashboards::add_metric(home.id, metric.id).await?;
                }
                Ok::<_, ApiFailure>(())
            }
            .await;
            saving.set(false);
            match result {
                Ok(()) => navigate("/"),
                Err(error) => failure.set(Some(error.message)),
            }
        });
    };

    let source_options = fetched(sources, "Loading sources…", move |list| {
        source_select(list, source)
    });
    view! {
        <form class="card builder-form" on:submit=save aria-label="Subscription metric" data-testid="subscription-form">
            <h2>"Subscription metric"</h2>
            <p class="muted small">"MRR, its movements, churn, ARPU and LTV of a Stripe account, day by day."</p>
            {source_options}
            <div class="field">
                <label for="subscription-kind">"Metric"</label>
                <select id="subscription-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    {SUBSCRIPTION_KINDS
                        .iter()
                        .map(|k| view! { <option value=k.kind selected=move || kind.get() == k.kind>{k.label}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="subscription-group">"Group by"</label>
                <select id="subscription-group" on:change=move |ev| grouping.set(event_target_value(&ev))>
                    {GROUPINGS
                        .iter()
                        .map(|(value, label)| view! { <option value=*value selected=move || grouping.get() == *value>{*label}</option> })
                        .collect_view()}
                </select>
            </div>
            {dynamic(move || failure.get().map(|m| view! { <p class="status-error" role="alert">{m}</p> }))}
            <div class="actions">
                <button
                    type="submit"
                    class="button"
                    id="subscription-save"
                    disabled=move || saving.get() || source.get().is_empty()
                >
                    {dynamic(move || if saving.get() { "Saving…" } else { "Add to home" })}
                </button>
            </div>
        </form>
    }
}

/// The connected sources that bill subscriptions.
fn source_select(list: Vec<SourceResponse>, source: RwSignal<String>) -> AnyView {
    let billing: Vec<SourceResponse> = list
        .into_iter()
        .filter(|s| s.subscriptions_supported && s.connection.is_some())
        .collect();
    if billing.is_empty() {
        return view! {
            <p class="notice">"Connect Stripe (or Demo) first: subscription metrics read its subscriptions."</p>
        }
        .into_any();
    }
    if source.get_untracked().is_empty() {
        source.set(billing[0].slug.clone());
    }
    let options = billing
        .into_iter()
        .map(|s| {
            let slug = s.slug.clone();
            let label = source_label(&s);
            view! { <option value=s.slug.clone() selected=move || source.get() == slug>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="subscription-source">"Source"</label>
            <select id="subscription-source" on:change=move |ev| source.set(event_target_value(&ev))>
                {options}
            </select>
        </div>
    }
    .into_any()
}
