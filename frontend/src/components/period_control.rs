//! The dashboard-wide window: 7 / 30 / 90 days or a custom length (1..366), steps back and
//! forward by 7 and 30 days (moving `end`), and the time zone days are cut in.

use leptos::prelude::*;

use crate::browser;
use crate::components::dynamic::dynamic;
use frontend_logic::dates::range_label;
use frontend_logic::window::{parse_days, Window, MAX_DAYS, MIN_DAYS, PRESETS};

#[component]
pub fn PeriodControl(window: RwSignal<Window>) -> impl IntoView {
    let today = move || browser::today(&window.with(|w| w.tz.clone()));
    let step = move |days: i64| {
        let today = today();
        window.update(|w| *w = w.step(days, &today));
    };
    let at_today = move || window.with(|w| w.is_current(&today()));
    let custom = RwSignal::new(String::new());
    let apply_custom = move || {
        if let Some(days) = parse_days(&custom.get_untracked()) {
            window.update(|w| w.total_days = days);
            custom.set(days.to_string());
        }
    };
    let initial_zone = window.with_untracked(|w| w.tz.clone());
    let zones = {
        let mut zones = browser::all_time_zones();
        for zone in ["UTC".to_string(), initial_zone.clone()] {
            if !zones.contains(&zone) {
                zones.insert(0, zone);
            }
        }
        zones
    };
    let zone_options = zones
        .into_iter()
        .map(|zone| {
            // The select itself changes the zone, so the first selection is all the DOM needs.
            let selected = zone == initial_zone;
            view! {
                <option value=zone.clone() selected=selected>
                    {zone.clone()}
                </option>
            }
        })
        .collect_view();
    let presets = PRESETS
        .iter()
        .map(|&days| {
            let pressed = move || window.with(|w| w.total_days == days);
            view! {
                <button
                    type="button"
                    class="seg"
                    class:on=pressed
                    aria-pressed=move || pressed().to_string()
                    data-testid=format!("period-{days}")
                    on:click=move |_| {
                        window.update(|w| w.total_days = days);
                        custom.set(String::new());
                    }
                >
                    {format!("{days} days")}
                </button>
            }
        })
        .collect_view();
    view! {
        <div
            class="period-control"
            role="group"
            aria-label="Time window"
            data-testid="period-control"
            data-total-days=move || window.with(|w| w.total_days)
            data-end=move || window.with(|w| w.end.clone())
            data-tz=move || window.with(|w| w.tz.clone())
        >
            <div class="segmented" role="group" aria-label="Length">
                {presets}
                <label class="custom-days">
                    <span class="sr-only">"Custom number of days"</span>
                    <input
                        type="number"
                        id="custom-days"
                        min=MIN_DAYS
                        max=MAX_DAYS
                        placeholder="Custom"
                        prop:value=move || custom.get()
                        on:input=move |ev| custom.set(event_target_value(&ev))
                        on:change=move |_| apply_custom()
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                apply_custom();
                            }
                        }
                    />
                    <span aria-hidden="true" class="muted">"days"</span>
                </label>
            </div>
            <div class="stepper" role="group" aria-label="Move the window">
                <button
                    type="button"
                    class="button small ghost"
                    id="step-back-30"
                    aria-label="Back 30 days"
                    on:click=move |_| step(-30)
                >
                    "« 30d"
                </button>
                <button
                    type="button"
                    class="button small ghost"
                    id="step-back-7"
                    aria-label="Back 7 days"
                    on:click=move |_| step(-7)
                >
                    "‹ 7d"
                </button>
                <span class="range" data-testid="window-range" aria-live="polite">
                    {dynamic(move || window.with(|w| range_label(&w.start(), &w.end)))}
                </span>
                <button
                    type="button"
                    class="button small ghost"
                    id="step-forward-7"
                    aria-label="Forward 7 days"
                    disabled=at_today
                    on:click=move |_| step(7)
                >
                    "7d ›"
                </button>
                <button
                    type="button"
                    class="button small ghost"
                    id="step-forward-30"
                    aria-label="Forward 30 days"
                    disabled=at_today
                    on:click=move |_| step(30)
                >
                    "30d »"
                </button>
                <button
                    type="button"
                    class="button small ghost"
                    id="step-today"
                    disabled=at_today
                    on:click=move |_| {
                        let today = today();
                        window.update(|w| w.end = today);
                    }
                >
                    "Today"
                </button>
            </div>
            <label class="tz">
                <span class="muted">"Time zone"</span>
                <select
                    id="tz-select"
                    on:change=move |ev| {
                        let tz = event_target_value(&ev);
                        let was_current = window.with_untracked(|w| w.is_current(&today()));
                        let new_today = browser::today(&tz);
                        window.update(|w| {
                            w.tz = tz;
                            if was_current {
                                w.end = new_today;
                            }
                        });
                    }
                >
                    {zone_options}
                </select>
            </label>
        </div>
    }
}
