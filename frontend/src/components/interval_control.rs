//! What one bar covers: day, week or month. Choosing a window length picks one (see
//! [`frontend_logic::interval::default_interval`]); the user may switch among those the API
//! serves for that length, the others stay visible but disabled, with the reason as their title.

use leptos::prelude::*;

use frontend_logic::interval::{unavailable_reason, Interval};
use frontend_logic::window::Window;

#[component]
pub fn IntervalControl(window: RwSignal<Window>) -> impl IntoView {
    let buttons = Interval::ALL
        .into_iter()
        .map(|interval| {
            let pressed = move || window.with(|w| w.interval == interval);
            let reason = move || window.with(|w| unavailable_reason(w.total_days, interval));
            view! {
                <button
                    type="button"
                    class="seg"
                    class:on=pressed
                    aria-pressed=move || pressed().to_string()
                    data-testid=format!("interval-{}", interval.as_str())
                    disabled=move || reason().is_some()
                    title=reason
                    on:click=move |_| window.update(|w| *w = w.with_interval(interval))
                >
                    {interval.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div
            class="segmented interval-control"
            role="group"
            aria-label="One bar per"
            data-testid="interval-control"
            data-interval=move || window.with(|w| w.interval.as_str())
        >
            <span class="muted small" aria-hidden="true">
                "Bars:"
            </span>
            {buttons}
        </div>
    }
}
