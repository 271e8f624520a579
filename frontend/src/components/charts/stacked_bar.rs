//! The stacked bar chart, one bar per day, week or month (the series' `meta.interval`): SVG drawn
//! by Leptos from the pure geometry in [`frontend_logic::chart_layout`].
//!
//! Accessibility: the SVG has a `<title>` and `<desc>`; each bar is one focus stop of a roving
//! tabindex (arrow keys, Home and End move between bars) and focusing a bar shows its tooltip;
//! a visually hidden table carries the same numbers for screen readers. The legend's buttons
//! toggle series (`aria-pressed`).

use std::sync::Arc;

use allmetrics_common::Series;
use leptos::ev;
use leptos::prelude::*;

use crate::components::dynamic::dynamic;

use crate::browser;
use frontend_logic::chart_layout::{
    all_integral, chart_groups, layout, stack, ChartGroup, ChartLayout, Dims,
};
use frontend_logic::csv;
use frontend_logic::format::{format_axis, format_value, ValueKind};
use frontend_logic::interval::{axis_label, bucket_label, Interval};
use frontend_logic::summary::single_currency;

/// Tooltip rows beyond this many are summarised as "N more".
const TOOLTIP_ROWS: usize = 12;

struct Model {
    id: String,
    title: String,
    series: Series,
    groups: Vec<ChartGroup>,
    kind: ValueKind,
    /// What one bar covers: labels read `Nov 24`, `Week of Nov 23, 2026` or `Nov 2026`.
    interval: Interval,
    /// The series' currency (`meta.currency`), else the one currency of every group, if so:
    /// totals then carry its symbol.
    currency: Option<String>,
    /// Whether `currency` is the series' own: then it applies to every group, whatever the
    /// groups are called (a GA4 `operatingSystem` group `iOS` is not a currency).
    series_currency: bool,
}

impl Model {
    fn value(&self, value: f64, group: Option<&str>) -> String {
        let currency = if self.series_currency {
            self.currency.as_deref()
        } else {
            group.or(self.currency.as_deref())
        };
        format_value(value, self.kind, currency)
    }

    fn total(&self, day: usize) -> f64 {
        self.series.label_y.get(day).copied().unwrap_or(0.0)
    }

    fn date(&self, day: usize) -> &str {
        self.series
            .label_x
            .get(day)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The bar's date for a tooltip or an accessible name.
    fn bar_label(&self, day: usize) -> String {
        bucket_label(self.date(day), self.interval)
    }

    fn hit_id(&self, day: usize) -> String {
        format!("{}-day-{day}", self.id)
    }
}

#[component]
pub fn StackedBar(
    series: Series,
    /// How the values read (money in minor units, or plain numbers).
    kind: ValueKind,
    /// The chart's accessible name (also the CSV file's name).
    #[prop(into)]
    title: String,
    /// A sentence about what the chart shows.
    #[prop(into)]
    description: String,
    /// Unique in the page: prefixes the ids of the chart's elements.
    #[prop(into)]
    chart_id: String,
    #[prop(optional)] height: Option<f64>,
) -> impl IntoView {
    let height = height.unwrap_or(220.0);
    let days = series.label_x.len();
    let groups = chart_groups(days, &series.label_y, &series.label_z);
    let integral = all_integral(&groups);
    let has_data = groups.iter().any(|g| g.values.iter().any(|v| *v != 0.0));
    let series_currency = series.meta.currency.is_some();
    let interval = Interval::of_series(&series.meta.interval);
    let currency =
        series.meta.currency.clone().or_else(|| {
            single_currency(groups.iter().map(|g| g.name.as_str())).map(str::to_string)
        });
    let group_count = groups.len();
    let model = Arc::new(Model {
        id: chart_id,
        title,
        series,
        groups,
        kind,
        interval,
        currency,
        series_currency,
    });

    let hidden = RwSignal::new(vec![false; group_count]);
    let active = RwSignal::new(None::<usize>);
    let focus_day = RwSignal::new(days.saturating_sub(1));
    let width = RwSignal::new(640.0);

    let wrap_id = format!("{}-wrap", model.id);
    {
        let wrap_id = wrap_id.clone();
        Effect::new(move |_| {
            let measured = browser::width_of(&wrap_id);
            if measured > 0.0 {
                width.set(measured);
            }
        });
    }
    {
        let wrap_id = wrap_id.clone();
        let handle = window_event_listener(ev::resize, move |_| {
            let measured = browser::width_of(&wrap_id);
            if measured > 0.0 && (measured - width.get_untracked()).abs() >= 1.0 {
                width.set(measured);
            }
        });
        on_cleanup(move || handle.remove());
    }

    let chart = {
        let model = model.clone();
        Memo::new(move |_| {
            let visible: Vec<bool> = hidden.get().iter().map(|h| !h).collect();
            let stacks = stack(&model.groups, &visible, days);
            layout(&stacks, days, Dims::new(width.get(), height), integral)
        })
    };

    let on_key = {
        let model = model.clone();
        move |event: ev::KeyboardEvent| {
            if days == 0 {
                return;
            }
            let current = focus_day.get_untracked().min(days - 1);
            let next = match event.key().as_str() {
                "ArrowRight" | "ArrowUp" => (current + 1).min(days - 1),
                "ArrowLeft" | "ArrowDown" => current.saturating_sub(1),
                "Home" => 0,
                "End" => days - 1,
                "Escape" => {
                    active.set(None);
                    return;
                }
                _ => return,
            };
            event.prevent_default();
            focus_day.set(next);
            active.set(Some(next));
            browser::focus(&model.hit_id(next));
        }
    };

    let title_id = format!("{}-title", model.id);
    let desc_id = format!("{}-desc", model.id);
    let labelled_by = format!("{title_id} {desc_id}");
    let svg_title = model.title.clone();
    let svg_desc = description.clone();

    let axes = {
        let model = model.clone();
        dynamic(move || chart.with(|c| axes_view(c, &model)))
    };
    let bars = {
        let model = model.clone();
        dynamic(move || chart.with(|c| bars_view(c, &model, active, focus_day)))
    };
    let tooltip = {
        let model = model.clone();
        dynamic(move || {
            let day = active.get()?;
            Some(chart.with(|c| tooltip_view(c, &model, day, &hidden.get())))
        })
    };
    let view_box = move || {
        format!(
            "0 0 {} {}",
            width.get().max(120.0).round() as i64,
            height.round() as i64
        )
    };

    view! {
        <div class="chart" data-testid="chart">
            <div class="chart-wrap" id=wrap_id>
                <svg
                    class="chart-svg"
                    width="100%"
                    height=(height.round() as i64).to_string()
                    viewBox=view_box
                    role="group"
                    aria-labelledby=labelled_by
                    on:keydown=on_key
                    on:mouseleave=move |_| active.set(None)
                >
                    <title id=title_id>{svg_title}</title>
                    <desc id=desc_id>{svg_desc}</desc>
                    {axes}
                    {bars}
                </svg>
                {tooltip}
                {(!has_data)
                    .then(|| {
                        view! {
                            <p class="chart-empty" data-testid="chart-empty">
                                "No records in this window"
                            </p>
                        }
                    })}
            </div>
            {legend_view(&model, hidden)}
            {data_table(&model, description)}
        </div>
    }
}

fn axes_view(chart: &ChartLayout, model: &Model) -> impl IntoView {
    let left = chart.plot_left;
    let right = chart.plot_right;
    let grid = chart
        .y_ticks
        .iter()
        .map(|tick| {
            view! {
                <line class="grid" x1=left x2=right y1=tick.y y2=tick.y></line>
                <text class="tick y-tick" x=left - 6.0 y=tick.y dy="0.32em" text-anchor="end">
                    {format_axis(tick.value, model.kind, model.currency.as_deref())}
                </text>
            }
        })
        .collect_view();
    let x_labels = chart
        .x_ticks
        .iter()
        .map(|tick| {
            view! {
                <text
                    class="tick x-tick"
                    x=tick.x
                    y=chart.plot_bottom + 16.0
                    text-anchor="middle"
                >
                    {axis_label(model.date(tick.day), model.interval, model.series.label_x.len())}
                </text>
            }
        })
        .collect_view();
    view! {
        <g class="axes" aria-hidden="true">
            {grid}
            <line class="baseline" x1=left x2=right y1=chart.zero_y y2=chart.zero_y></line>
            {x_labels}
        </g>
    }
}

fn bars_view(
    chart: &ChartLayout,
    model: &Arc<Model>,
    active: RwSignal<Option<usize>>,
    focus_day: RwSignal<usize>,
) -> impl IntoView {
    let plot_top = chart.plot_top;
    let plot_height = chart.plot_bottom - chart.plot_top;
    chart
        .bars
        .iter()
        .map(|bar| {
            let day = bar.day;
            let date = model.date(day).to_string();
            let total = model.total(day);
            let label = format!("{}: {}", model.bar_label(day), model.value(total, None));
            let rects = bar
                .rects
                .iter()
                .map(|rect| {
                    let group = model.groups.get(rect.group);
                    let name = group.map(|g| g.name.clone()).unwrap_or_default();
                    let (colour, opacity) = group
                        .map(|g| (g.swatch.colour, g.swatch.opacity))
                        .unwrap_or(("#999999", 1.0));
                    view! {
                        <rect
                            class="segment"
                            x=bar.x
                            y=rect.y
                            width=bar.width
                            height=rect.height
                            fill=colour
                            fill-opacity=opacity
                            data-group=name
                            data-value=rect.value
                        ></rect>
                    }
                })
                .collect_view();
            let hit_id = model.hit_id(day);
            let is_active = move || active.get() == Some(day);
            view! {
                <g
                    class="bar"
                    class:active=is_active
                    data-testid="bar"
                    data-day=day
                    data-date=date
                    data-total=total
                >
                    <rect
                        class="slot"
                        x=bar.slot_x
                        y=plot_top
                        width=bar.slot_width
                        height=plot_height
                    ></rect>
                    {rects}
                    <rect
                        class="hit"
                        id=hit_id
                        x=bar.slot_x
                        y=plot_top
                        width=bar.slot_width
                        height=plot_height
                        role="img"
                        aria-label=label
                        tabindex=move || if focus_day.get() == day { "0" } else { "-1" }
                        on:focus=move |_| {
                            focus_day.set(day);
                            active.set(Some(day));
                        }
                        on:blur=move |_| active.set(None)
                        on:mouseenter=move |_| active.set(Some(day))
                        on:click=move |_| active.set(Some(day))
                    ></rect>
                </g>
            }
        })
        .collect_view()
}

fn tooltip_view(chart: &ChartLayout, model: &Model, day: usize, hidden: &[bool]) -> impl IntoView {
    // Beside the bar, on the side with more room, so the bar itself stays visible.
    let (slot_x, slot_width) = chart
        .bars
        .get(day)
        .map(|b| (b.slot_x, b.slot_width))
        .unwrap_or((0.0, 0.0));
    let (left, shift) = if slot_x + slot_width / 2.0 < chart.dims.width / 2.0 {
        (slot_x + slot_width + 6.0, "0%")
    } else {
        (slot_x - 6.0, "-100%")
    };
    let style = format!(
        "left:{}px;top:{}px;transform:translate({shift},0)",
        left.round() as i64,
        chart.plot_top.round() as i64
    );
    // Top of the stack first, as the bar reads.
    let rows: Vec<(usize, &ChartGroup, f64)> = model
        .groups
        .iter()
        .enumerate()
        .rev()
        .filter(|(index, _)| !hidden.get(*index).copied().unwrap_or(false))
        .filter_map(|(index, group)| {
            let value = group.values.get(day).copied().unwrap_or(0.0);
            (value != 0.0).then_some((index, group, value))
        })
        .collect();
    let more = rows.len().saturating_sub(TOOLTIP_ROWS);
    let row_views = rows
        .iter()
        .take(TOOLTIP_ROWS)
        .map(|(_, group, value)| {
            let swatch = format!(
                "background:{};opacity:{}",
                group.swatch.colour, group.swatch.opacity
            );
            view! {
                <tr data-testid="tooltip-row" data-group=group.name.clone() data-value=*value>
                    <th scope="row">
                        <span class="swatch" style=swatch></span>
                        {group.name.clone()}
                    </th>
                    <td>{model.value(*value, Some(&group.name))}</td>
                </tr>
            }
        })
        .collect_view();
    let total = model.total(day);
    view! {
        <div class="chart-tooltip" data-testid="chart-tooltip" role="status" style=style>
            <p class="tooltip-date">{model.bar_label(day)}</p>
            <table>
                <tbody>
                    {row_views}
                    {(more > 0)
                        .then(|| {
                            view! {
                                <tr class="muted">
                                    <td colspan="2">{format!("{more} more")}</td>
                                </tr>
                            }
                        })}
                    <tr class="tooltip-total" data-testid="tooltip-total" data-value=total>
                        <th scope="row">"Total"</th>
                        <td>{model.value(total, None)}</td>
                    </tr>
                </tbody>
            </table>
        </div>
    }
}

fn legend_view(model: &Arc<Model>, hidden: RwSignal<Vec<bool>>) -> impl IntoView {
    let items = model
        .groups
        .iter()
        .enumerate()
        .map(|(index, group)| {
            let swatch = format!(
                "background:{};opacity:{}",
                group.swatch.colour, group.swatch.opacity
            );
            let shown = move || !hidden.with(|h| h.get(index).copied().unwrap_or(false));
            let toggle = move |_| {
                hidden.update(|h| {
                    if let Some(flag) = h.get_mut(index) {
                        *flag = !*flag;
                    }
                })
            };
            view! {
                <li>
                    <button
                        type="button"
                        class="legend-item"
                        class:off=move || !shown()
                        aria-pressed=move || shown().to_string()
                        data-testid="legend-item"
                        data-group=group.name.clone()
                        title="Show or hide this series"
                        on:click=toggle
                    >
                        <span class="swatch" style=swatch></span>
                        {group.name.clone()}
                    </button>
                </li>
            }
        })
        .collect_view();
    let export = {
        let model = model.clone();
        move |_| {
            let groups: Vec<String> = model.groups.iter().map(|g| g.name.clone()).collect();
            let text = csv::series_csv(
                &model.series.label_x,
                &model.series.label_y,
                &model.series.label_z,
                &groups,
            );
            let name = csv::file_name(&model.title, &model.series.meta.from, &model.series.meta.to);
            browser::download(&name, &text, "text/csv;charset=utf-8");
        }
    };
    view! {
        <div class="chart-footer">
            <ul class="legend" aria-label="Series (select to show or hide)">
                {items}
            </ul>
            <button
                type="button"
                class="button small ghost"
                data-testid="export-csv"
                on:click=export
            >
                "Export CSV"
            </button>
        </div>
    }
}

fn data_table(model: &Arc<Model>, description: String) -> impl IntoView {
    let headers = model
        .groups
        .iter()
        .map(|g| view! { <th scope="col">{g.name.clone()}</th> })
        .collect_view();
    let rows = (0..model.series.label_x.len())
        .map(|day| {
            let cells = model
                .groups
                .iter()
                .map(|g| {
                    let value = g.values.get(day).copied().unwrap_or(0.0);
                    view! { <td>{model.value(value, Some(&g.name))}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{model.date(day).to_string()}</th>
                    {cells}
                    <td>{model.value(model.total(day), None)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="sr-only">
        <table>
            <caption>{format!("{}: {description}", model.title)}</caption>
            <thead>
                <tr>
                    <th scope="col">{model.interval.column_title()}</th>
                    {headers}
                    <th scope="col">"Total"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
    }
}
