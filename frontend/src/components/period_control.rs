//! The dashboard-wide window: 7 / 30 / 90 days, 1 / 2 / 5 / 10 years or a custom length
//! (1..3660 days), the bars' interval (day, week or month), steps back and forward (by the
//! window's length, or by about one bar), and the time zone days are cut in.

use leptos::prelude::*;

use crate::browser;
use crate::components::dynamic::dynamic;
use crate::components::interval_control::IntervalControl;
use frontend_logic::dates::range_label;
use frontend_logic::window::{
    length_label, parse_days, Stride, Window, MAX_DAYS, MIN_DAYS, PRESETS,
};

#[component]
pub fn PeriodControl(window: RwSignal<Window>) -> impl IntoView {
    let today = move || browser::today(&window.with(|w| w.tz.clone()));
    let at_today = move || window.with(|w| w.is_current(&today()));
    let custom = RwSignal::new(String::new());
    let apply_custom = move || {
        if let Some(days) = parse_days(&custom.get_untracked()) {
            window.update(|w| *w = w.with_days(days));
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
                        window.update(|w| *w = w.with_days(days));
                        custom.set(String::new());
                    }
                >
                    {length_label(days)}
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
            <IntervalControl window=window/>
            <div class="stepper" role="group" aria-label="Move the window">
                {stride_button(window, Stride::Length, false, "step-back-30")}
                {stride_button(window, Stride::Bar, false, "step-back-7")}
                // What the series covers: whole weeks or months once widened.
                <span class="range" data-testid="window-range" aria-live="polite">
                    {dynamic(move || {
                        window
                            .with(|w| {
                                let (from, to) = w.covered();
                                range_label(&from, &to)
                            })
                    })}
                </span>
                {stride_button(window, Stride::Bar, true, "step-forward-7")}
                {stride_button(window, Stride::Length, true, "step-forward-30")}
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

/// A button moving the window back or forward by a stride (its text follows the window: `« 30d`,
/// `« 1y`, `‹ 1mo`). The ids are those of the first fixed 30- and 7-day steps, which a 30-day
/// window still takes; they stay as they were so that scripts and tests keep finding them.
fn stride_button(
    window: RwSignal<Window>,
    stride: Stride,
    forward: bool,
    id: &'static str,
) -> impl IntoView {
    let today = move || browser::today(&window.with(|w| w.tz.clone()));
    let labels = move || window.with(|w| w.stride_labels(stride));
    let text = move || {
        let (short, _) = labels();
        match (stride, forward) {
            (Stride::Length, false) => format!("« {short}"),
            (Stride::Bar, false) => format!("‹ {short}"),
            (Stride::Bar, true) => format!("{short} ›"),
            (Stride::Length, true) => format!("{short} »"),
        }
    };
    let aria_label = move || {
        let (_, long) = labels();
        if forward {
            format!("Forward {long}")
        } else {
            format!("Back {long}")
        }
    };
    let disabled = move || forward && window.with(|w| w.is_current(&today()));
    view! {
        <button
            type="button"
            class="button small ghost"
            id=id
            aria-label=aria_label
            disabled=disabled
            on:click=move |_| {
                let today = today();
                window.update(|w| *w = w.moved(stride, forward, &today));
            }
        >
            {text}
        </button>
    }
}
