//! The stacked bar chart's geometry, as plain arithmetic: groups and their colours, stacking,
//! "nice" axis ticks, scales and the position of every rectangle. No browser APIs, so all of it
//! is unit-tested on the host.

use std::collections::BTreeMap;

/// Okabe & Ito's colour-blind safe palette (black swapped for grey so stacks stay readable).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
];

/// Opacities of the palette's successive cycles: group 9 is the first colour, lighter.
const CYCLE_OPACITY: [f64; 3] = [1.0, 0.6, 0.35];

/// The fill of a group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Swatch {
    pub colour: &'static str,
    pub opacity: f64,
}

/// The swatch of the `index`-th group: the palette in order, then again lighter, cycling for
/// any number of groups.
pub fn swatch(index: usize) -> Swatch {
    let cycle = (index / PALETTE.len()) % CYCLE_OPACITY.len();
    Swatch {
        colour: PALETTE[index % PALETTE.len()],
        opacity: CYCLE_OPACITY[cycle],
    }
}

/// The group the chart draws when a series has totals but no groups.
pub const TOTAL_GROUP: &str = "Total";

/// One series of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartGroup {
    pub name: String,
    /// One value per day (missing days and non-finite values read as 0).
    pub values: Vec<f64>,
    /// Sum over the window.
    pub total: f64,
    pub swatch: Swatch,
}

fn clean(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

/// The groups in stacking order: largest total first (drawn at the bottom), ties by name. Colours
/// follow the names' alphabetical order instead, so a group keeps its colour from one window to
/// the next and across cards (`usd` stays blue whether or not it is the largest). Every group gets
/// exactly `days` values. When `label_z` is empty but `label_y` is not all zero, the day totals
/// form one group.
pub fn chart_groups(
    days: usize,
    label_y: &[f64],
    label_z: &BTreeMap<String, Vec<f64>>,
) -> Vec<ChartGroup> {
    let fit = |values: &[f64]| -> Vec<f64> {
        (0..days)
            .map(|day| clean(values.get(day).copied().unwrap_or(0.0)))
            .collect()
    };
    // A BTreeMap iterates in name order: the position is the colour.
    let mut groups: Vec<ChartGroup> = label_z
        .iter()
        .enumerate()
        .map(|(rank, (name, values))| {
            let values = fit(values);
            ChartGroup {
                name: name.clone(),
                total: values.iter().sum(),
                values,
                swatch: swatch(rank),
            }
        })
        .collect();
    if groups.is_empty() {
        let values = fit(label_y);
        if values.iter().any(|v| *v != 0.0) {
            groups.push(ChartGroup {
                name: TOTAL_GROUP.to_string(),
                total: values.iter().sum(),
                values,
                swatch: swatch(0),
            });
        }
    }
    groups.sort_by(|a, b| {
        b.total
            .abs()
            .partial_cmp(&a.total.abs())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.name.cmp(&b.name))
    });
    groups
}

/// A piece of a day's stack, in data units: from `y0` to `y1` (`y1 > y0` for positive values,
/// `y1 < y0` for negative ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub group: usize,
    pub value: f64,
    pub y0: f64,
    pub y1: f64,
}

/// A day's stack: positive values pile up from zero, negative ones hang down from zero, zeros
/// take no room.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stack {
    pub segments: Vec<Segment>,
    /// Top of the positive pile (>= 0).
    pub positive: f64,
    /// Bottom of the negative pile (<= 0).
    pub negative: f64,
}

/// Stacks every day of the visible groups (`visible[i]` for `groups[i]`; missing entries are
/// visible).
pub fn stack(groups: &[ChartGroup], visible: &[bool], days: usize) -> Vec<Stack> {
    (0..days)
        .map(|day| {
            let mut stack = Stack::default();
            for (index, group) in groups.iter().enumerate() {
                if !visible.get(index).copied().unwrap_or(true) {
                    continue;
                }
                let value = clean(group.values.get(day).copied().unwrap_or(0.0));
                if value > 0.0 {
                    let y0 = stack.positive;
                    stack.positive += value;
                    stack.segments.push(Segment {
                        group: index,
                        value,
                        y0,
                        y1: stack.positive,
                    });
                } else if value < 0.0 {
                    let y0 = stack.negative;
                    stack.negative += value;
                    stack.segments.push(Segment {
                        group: index,
                        value,
                        y0,
                        y1: stack.negative,
                    });
                }
            }
            stack
        })
        .collect()
}

/// The data range the stacks need: always includes 0; `(0, 1)` when everything is zero.
pub fn extent(stacks: &[Stack]) -> (f64, f64) {
    let min = stacks.iter().map(|s| s.negative).fold(0.0, f64::min);
    let max = stacks.iter().map(|s| s.positive).fold(0.0, f64::max);
    if min == 0.0 && max == 0.0 {
        (0.0, 1.0)
    } else {
        (min, max)
    }
}

/// Heckbert's nice numbers: 1, 2, 5 or 10 times a power of ten, near `x` (rounded) or at least
/// `x` (not rounded).
pub fn nice_number(x: f64, round: bool) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return 1.0;
    }
    let exponent = x.log10().floor();
    let power = 10f64.powf(exponent);
    let fraction = x / power;
    let nice = if round {
        if fraction < 1.5 {
            1.0
        } else if fraction < 3.0 {
            2.0
        } else if fraction < 7.0 {
            5.0
        } else {
            10.0
        }
    } else if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// Axis ticks: a nice step and the values from the nice minimum to the nice maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub values: Vec<f64>,
}

/// About `target` nice ticks covering `[min, max]`. With `integer`, the step is a whole number
/// (counts are never drawn at 0.5).
pub fn nice_ticks(min: f64, max: f64, target: usize, integer: bool) -> Ticks {
    let (mut min, mut max) = (clean(min), clean(max));
    if min > max {
        std::mem::swap(&mut min, &mut max);
    }
    if min == max {
        if min == 0.0 {
            max = 1.0;
        } else if min > 0.0 {
            min = 0.0;
        } else {
            max = 0.0;
        }
    }
    let target = target.max(2);
    // The step from the data's own range keeps the top tick close to the tallest bar.
    let mut step = nice_number((max - min) / (target - 1) as f64, true);
    if integer && step < 1.0 {
        step = 1.0;
    }
    let first = (min / step).floor();
    let last = (max / step).ceil();
    let count = ((last - first) as usize).min(1000);
    let values: Vec<f64> = (0..=count)
        .map(|i| {
            let value = (first + i as f64) * step;
            // Snap away floating noise such as 0.30000000000000004.
            let digits = (-step.log10().floor()).max(0.0) as i32 + 2;
            let scale = 10f64.powi(digits);
            let snapped = (value * scale).round() / scale;
            if snapped == 0.0 {
                0.0
            } else {
                snapped
            }
        })
        .collect();
    Ticks {
        min: first * step,
        max: last * step,
        step,
        values,
    }
}

/// A linear map from a data domain to a pixel range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Linear {
    pub fn map(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            return r0;
        }
        r0 + (clean(value) - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Which days get an x-axis label: at most `max_labels`, evenly spaced, always the last day.
pub fn x_tick_days(days: usize, max_labels: usize) -> Vec<usize> {
    if days == 0 {
        return Vec::new();
    }
    let max_labels = max_labels.max(1);
    let step = days.div_ceil(max_labels).max(1);
    let mut ticks: Vec<usize> = (0..days).rev().step_by(step).collect();
    ticks.reverse();
    ticks
}

/// The chart's size and margins, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dims {
    pub width: f64,
    pub height: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub left: f64,
}

impl Dims {
    pub fn new(width: f64, height: f64) -> Self {
        Dims {
            width: clean(width).max(120.0),
            height: clean(height).max(80.0),
            top: 12.0,
            right: 12.0,
            bottom: 26.0,
            left: 52.0,
        }
    }
}

/// One rectangle of a bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RectLayout {
    pub group: usize,
    pub value: f64,
    pub y: f64,
    pub height: f64,
}

/// A day's column: its slot (the hover/focus target spans it) and its bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BarLayout {
    pub day: usize,
    pub slot_x: f64,
    pub slot_width: f64,
    pub x: f64,
    pub width: f64,
    pub rects: Vec<RectLayout>,
}

impl BarLayout {
    pub fn centre(&self) -> f64 {
        self.slot_x + self.slot_width / 2.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YTick {
    pub value: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XTick {
    pub day: usize,
    pub x: f64,
}

/// Everything the SVG draws.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLayout {
    pub dims: Dims,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
    pub zero_y: f64,
    pub y_ticks: Vec<YTick>,
    pub x_ticks: Vec<XTick>,
    pub bars: Vec<BarLayout>,
}

/// Lays out the stacks of `days` days in `dims`. `integer` keeps y ticks whole.
pub fn layout(stacks: &[Stack], days: usize, dims: Dims, integer: bool) -> ChartLayout {
    let plot_left = dims.left;
    let plot_right = (dims.width - dims.right).max(plot_left + 1.0);
    let plot_top = dims.top;
    let plot_bottom = (dims.height - dims.bottom).max(plot_top + 1.0);
    let (min, max) = extent(stacks);
    let target = (((plot_bottom - plot_top) / 36.0).floor() as usize).clamp(2, 6);
    let ticks = nice_ticks(min, max, target, integer);
    let y = Linear {
        domain: (ticks.min, ticks.max),
        range: (plot_bottom, plot_top),
    };
    let slot_width = if days == 0 {
        0.0
    } else {
        (plot_right - plot_left) / days as f64
    };
    // Gaps between bars while there is room for them; touching bars for long windows.
    let gap = if slot_width >= 6.0 {
        (slot_width * 0.2).min(8.0)
    } else if slot_width >= 3.0 {
        1.0
    } else {
        0.0
    };
    let bars = (0..days)
        .map(|day| {
            let slot_x = plot_left + slot_width * day as f64;
            let rects = stacks
                .get(day)
                .map(|stack| {
                    stack
                        .segments
                        .iter()
                        .map(|segment| {
                            let (a, b) = (y.map(segment.y0), y.map(segment.y1));
                            RectLayout {
                                group: segment.group,
                                value: segment.value,
                                y: a.min(b),
                                height: (a - b).abs(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            BarLayout {
                day,
                slot_x,
                slot_width,
                x: slot_x + gap / 2.0,
                width: (slot_width - gap).max(0.0),
                rects,
            }
        })
        .collect();
    let max_labels = (((plot_right - plot_left) / 64.0).floor() as usize).max(1);
    let x_ticks = x_tick_days(days, max_labels)
        .into_iter()
        .map(|day| XTick {
            day,
            x: plot_left + slot_width * (day as f64 + 0.5),
        })
        .collect();
    ChartLayout {
        dims,
        plot_left,
        plot_right,
        plot_top,
        plot_bottom,
        zero_y: y.map(0.0),
        y_ticks: ticks
            .values
            .iter()
            .map(|value| YTick {
                value: *value,
                y: y.map(*value),
            })
            .collect(),
        x_ticks,
        bars,
    }
}

/// Whether every value of the series is a whole number (then the y axis ticks are too).
pub fn all_integral(groups: &[ChartGroup]) -> bool {
    groups
        .iter()
        .flat_map(|g| g.values.iter())
        .all(|v| (v - v.round()).abs() < 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_map(entries: &[(&str, &[f64])]) -> BTreeMap<String, Vec<f64>> {
        entries
            .iter()
            .map(|(name, values)| (name.to_string(), values.to_vec()))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn nice_numbers_are_one_two_five_times_a_power_of_ten() {
        assert_eq!(nice_number(0.7, true), 0.5);
        assert_eq!(nice_number(1.4, true), 1.0);
        assert_eq!(nice_number(2.9, true), 2.0);
        assert_eq!(nice_number(6.9, true), 5.0);
        assert_eq!(nice_number(7.0, true), 10.0);
        assert_eq!(nice_number(123.0, false), 200.0);
        assert_eq!(nice_number(1000.0, false), 1000.0);
        assert_eq!(nice_number(0.0, true), 1.0);
        assert_eq!(nice_number(f64::NAN, false), 1.0);
    }

    #[test]
    fn nice_ticks_cover_the_data_with_round_steps() {
        let ticks = nice_ticks(0.0, 1234.0, 5, false);
        assert_eq!(ticks.step, 500.0);
        assert_eq!(ticks.values, vec![0.0, 500.0, 1000.0, 1500.0]);
        assert!(ticks.max >= 1234.0);

        let ticks = nice_ticks(0.0, 0.3, 4, false);
        assert_eq!(ticks.values, vec![0.0, 0.1, 0.2, 0.3]);

        // No empty top half: 6,500 gets 0..8,000, not 0..10,000.
        let ticks = nice_ticks(0.0, 6500.0, 4, false);
        assert_eq!(ticks.values, vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0]);

        let ticks = nice_ticks(0.0, 0.3, 5, false);
        assert_eq!(ticks.values, vec![0.0, 0.1, 0.2, 0.3]);

        let ticks = nice_ticks(-45.0, 120.0, 5, false);
        assert_eq!(ticks.step, 50.0);
        assert_eq!(ticks.values.first(), Some(&-50.0));
        assert_eq!(ticks.values.last(), Some(&150.0));
        assert!(ticks.values.contains(&0.0));
    }

    #[test]
    fn integer_ticks_never_split_a_count() {
        let ticks = nice_ticks(0.0, 2.0, 5, true);
        assert_eq!(ticks.values, vec![0.0, 1.0, 2.0]);
        let ticks = nice_ticks(0.0, 2.0, 5, false);
        assert_eq!(ticks.values, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    }

    #[test]
    fn degenerate_ranges_still_get_ticks() {
        assert_eq!(nice_ticks(0.0, 0.0, 5, true).values, vec![0.0, 1.0]);
        let ticks = nice_ticks(7.0, 7.0, 5, false);
        assert_eq!(ticks.min, 0.0);
        assert!(ticks.max >= 7.0);
        let ticks = nice_ticks(f64::NAN, f64::INFINITY, 5, false);
        assert_eq!(ticks.values, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let ticks = nice_ticks(10.0, 0.0, 1, false);
        assert_eq!(ticks.values, vec![0.0, 10.0]);
        let ticks = nice_ticks(0.0, 1e15, 5, false);
        assert!(ticks.values.len() <= 7);
    }

    #[test]
    fn linear_scales_map_and_survive_empty_domains() {
        let scale = Linear {
            domain: (0.0, 100.0),
            range: (200.0, 0.0),
        };
        assert_eq!(scale.map(0.0), 200.0);
        assert_eq!(scale.map(100.0), 0.0);
        assert_eq!(scale.map(25.0), 150.0);
        let flat = Linear {
            domain: (5.0, 5.0),
            range: (10.0, 0.0),
        };
        assert_eq!(flat.map(5.0), 10.0);
    }

    #[test]
    fn groups_are_ordered_by_size_and_padded_to_the_window() {
        let z = group_map(&[
            ("eur", &[1.0, 1.0]),
            ("usd", &[5.0]),
            ("gbp", &[1.0, 1.0, 9.0]),
        ]);
        let groups = chart_groups(3, &[7.0, 2.0, 9.0], &z);
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["gbp", "usd", "eur"]);
        assert_eq!(groups[1].values, vec![5.0, 0.0, 0.0]);
        assert_eq!(groups[2].values, vec![1.0, 1.0, 0.0]);
        assert_eq!(groups[0].total, 11.0);
        // Colours by name: eur, gbp, usd.
        assert_eq!(groups[0].swatch, swatch(1));
        assert_eq!(groups[1].swatch, swatch(2));
        assert_eq!(groups[2].swatch, swatch(0));
    }

    #[test]
    fn totals_without_groups_form_one_group() {
        let groups = chart_groups(2, &[3.0, 4.0], &BTreeMap::new());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, TOTAL_GROUP);
        assert!(chart_groups(2, &[0.0, 0.0], &BTreeMap::new()).is_empty());
        assert!(chart_groups(0, &[], &BTreeMap::new()).is_empty());
    }

    #[test]
    fn a_group_keeps_its_colour_whatever_its_size() {
        let small_usd = chart_groups(1, &[0.0], &group_map(&[("eur", &[9.0]), ("usd", &[1.0])]));
        let large_usd = chart_groups(1, &[0.0], &group_map(&[("eur", &[1.0]), ("usd", &[9.0])]));
        let colour = |groups: &[ChartGroup], name: &str| {
            groups.iter().find(|g| g.name == name).map(|g| g.swatch)
        };
        assert_eq!(colour(&small_usd, "usd"), colour(&large_usd, "usd"));
        assert_eq!(colour(&small_usd, "eur"), colour(&large_usd, "eur"));
        assert_ne!(colour(&small_usd, "usd"), colour(&small_usd, "eur"));
    }

    #[test]
    fn stacks_positive_values_from_zero_without_gaps() {
        let z = group_map(&[("a", &[3.0, 0.0]), ("b", &[2.0, 4.0])]);
        let groups = chart_groups(2, &[5.0, 4.0], &z);
        let stacks = stack(&groups, &[], 2);
        // a (total 3) < b (total 6): b is first.
        assert_eq!(groups[0].name, "b");
        assert_eq!(
            stacks[0].segments,
            vec![
                Segment {
                    group: 0,
                    value: 2.0,
                    y0: 0.0,
                    y1: 2.0
                },
                Segment {
                    group: 1,
                    value: 3.0,
                    y0: 2.0,
                    y1: 5.0
                },
            ]
        );
        assert_eq!(stacks[0].positive, 5.0);
        assert_eq!(stacks[0].negative, 0.0);
        // A zero takes no room.
        assert_eq!(stacks[1].segments.len(), 1);
        for stack in &stacks {
            for pair in stack.segments.windows(2) {
                assert_eq!(pair[0].y1, pair[1].y0);
            }
            assert!(stack.segments.iter().all(|s| s.y0 >= 0.0 && s.y1 >= s.y0));
        }
        assert_eq!(extent(&stacks), (0.0, 5.0));
    }

    #[test]
    fn negative_values_hang_below_zero() {
        let z = group_map(&[("refunds", &[-2.0]), ("sales", &[5.0]), ("fees", &[-1.0])]);
        let groups = chart_groups(1, &[2.0], &z);
        let stacks = stack(&groups, &[], 1);
        assert_eq!(stacks[0].positive, 5.0);
        assert_eq!(stacks[0].negative, -3.0);
        let negatives: Vec<&Segment> = stacks[0]
            .segments
            .iter()
            .filter(|s| s.value < 0.0)
            .collect();
        assert_eq!(negatives[0].y0, 0.0);
        assert_eq!(negatives[1].y0, negatives[0].y1);
        assert_eq!(extent(&stacks), (-3.0, 5.0));
        let chart = layout(&stacks, 1, Dims::new(300.0, 200.0), true);
        assert!(chart.zero_y < chart.plot_bottom && chart.zero_y > chart.plot_top);
        for rect in &chart.bars[0].rects {
            if rect.value < 0.0 {
                assert!(close(rect.y, chart.zero_y) || rect.y > chart.zero_y);
            } else {
                assert!(rect.y + rect.height <= chart.zero_y + 1e-6);
            }
        }
    }

    #[test]
    fn all_zero_days_draw_nothing_and_keep_a_scale() {
        let z = group_map(&[("usd", &[0.0, 0.0, 0.0])]);
        let groups = chart_groups(3, &[0.0, 0.0, 0.0], &z);
        let stacks = stack(&groups, &[], 3);
        assert!(stacks.iter().all(|s| s.segments.is_empty()));
        assert_eq!(extent(&stacks), (0.0, 1.0));
        let chart = layout(&stacks, 3, Dims::new(400.0, 200.0), true);
        assert_eq!(chart.bars.len(), 3);
        assert!(chart.bars.iter().all(|b| b.rects.is_empty()));
        assert_eq!(chart.zero_y, chart.plot_bottom);
        assert!(chart.y_ticks.iter().all(|t| t.y.is_finite()));
    }

    #[test]
    fn hidden_groups_leave_the_stack() {
        let z = group_map(&[("a", &[1.0]), ("b", &[2.0])]);
        let groups = chart_groups(1, &[3.0], &z);
        let stacks = stack(&groups, &[false, true], 1);
        assert_eq!(stacks[0].segments.len(), 1);
        assert_eq!(stacks[0].segments[0].group, 1);
        assert_eq!(stacks[0].positive, 1.0);
    }

    #[test]
    fn odd_values_do_not_break_the_stack() {
        let z = group_map(&[("a", &[f64::NAN, f64::INFINITY, 1.0])]);
        let groups = chart_groups(3, &[0.0], &z);
        let stacks = stack(&groups, &[], 3);
        assert_eq!(stacks[0].positive, 0.0);
        assert_eq!(stacks[1].positive, 0.0);
        assert_eq!(stacks[2].positive, 1.0);
    }

    #[test]
    fn colours_cycle_for_many_groups() {
        assert_eq!(swatch(0).colour, PALETTE[0]);
        assert_eq!(swatch(0).opacity, 1.0);
        assert_eq!(swatch(7).colour, PALETTE[7]);
        assert_eq!(swatch(8).colour, PALETTE[0]);
        assert!(swatch(8).opacity < swatch(0).opacity);
        assert_eq!(swatch(24), swatch(0));
        // The first 24 groups are all distinguishable.
        let mut seen: Vec<(&str, u64)> = Vec::new();
        for index in 0..24 {
            let s = swatch(index);
            let key = (s.colour, (s.opacity * 100.0) as u64);
            assert!(!seen.contains(&key), "{index}");
            seen.push(key);
        }
        // 50 groups: every one coloured, none panics.
        let z: BTreeMap<String, Vec<f64>> = (0..50)
            .map(|i| (format!("g{i:02}"), vec![f64::from(i) + 1.0]))
            .collect();
        let groups = chart_groups(1, &[0.0], &z);
        assert_eq!(groups.len(), 50);
        assert_eq!(groups[0].name, "g49");
        assert_eq!(groups[0].swatch, swatch(49));
        assert_eq!(groups[49].swatch, swatch(0));
        let stacks = stack(&groups, &[], 1);
        assert_eq!(stacks[0].segments.len(), 50);
        assert_eq!(stacks[0].positive, (1..=50).sum::<i32>() as f64);
    }

    #[test]
    fn x_labels_are_spread_and_end_on_the_last_day() {
        assert_eq!(x_tick_days(0, 5), Vec::<usize>::new());
        assert_eq!(x_tick_days(1, 5), vec![0]);
        assert_eq!(x_tick_days(5, 10), vec![0, 1, 2, 3, 4]);
        assert_eq!(x_tick_days(30, 6), vec![4, 9, 14, 19, 24, 29]);
        let long = x_tick_days(366, 8);
        assert!(long.len() <= 8);
        assert_eq!(long.last(), Some(&365));
        assert_eq!(x_tick_days(7, 0), vec![6]);
    }

    #[test]
    fn bars_fill_the_plot_for_one_and_for_366_days() {
        let one = chart_groups(1, &[4.0], &group_map(&[("usd", &[4.0])]));
        let chart = layout(&stack(&one, &[], 1), 1, Dims::new(600.0, 240.0), true);
        assert_eq!(chart.bars.len(), 1);
        let bar = &chart.bars[0];
        assert!(close(bar.slot_x, chart.plot_left));
        assert!(close(bar.slot_x + bar.slot_width, chart.plot_right));
        assert!(bar.width > 0.0 && bar.width <= bar.slot_width);
        let rect = bar.rects[0];
        assert!(close(rect.y + rect.height, chart.zero_y));
        assert!(rect.y >= chart.plot_top - 1e-6);

        let values: Vec<f64> = (0..366).map(|d| f64::from(d % 7)).collect();
        let long = chart_groups(366, &values, &group_map(&[("x", &values)]));
        let chart = layout(&stack(&long, &[], 366), 366, Dims::new(600.0, 240.0), true);
        assert_eq!(chart.bars.len(), 366);
        let last = &chart.bars[365];
        assert!(close(last.slot_x + last.slot_width, chart.plot_right));
        assert!(chart.bars.iter().all(|b| b.width > 0.0));
        assert!(chart.x_ticks.len() <= 9);
        for bar in &chart.bars {
            for rect in &bar.rects {
                assert!(rect.y >= chart.plot_top - 1e-6);
                assert!(rect.y + rect.height <= chart.plot_bottom + 1e-6);
            }
        }
    }

    #[test]
    fn tallest_bar_reaches_the_top_tick() {
        let groups = chart_groups(2, &[10.0, 5.0], &group_map(&[("a", &[10.0, 5.0])]));
        let chart = layout(&stack(&groups, &[], 2), 2, Dims::new(300.0, 200.0), true);
        let top = chart.y_ticks.last().map(|t| t.value).unwrap_or(0.0);
        assert!(top >= 10.0);
        let rect = chart.bars[0].rects[0];
        let expected = chart.plot_bottom - (chart.plot_bottom - chart.plot_top) * 10.0 / top;
        assert!(close(rect.y, expected));
    }

    #[test]
    fn empty_windows_lay_out_without_bars() {
        let chart = layout(&[], 0, Dims::new(10.0, 10.0), true);
        assert!(chart.bars.is_empty());
        assert!(chart.x_ticks.is_empty());
        assert!(chart.dims.width >= 120.0);
    }

    #[test]
    fn integral_detection() {
        let groups = chart_groups(2, &[1.0, 2.0], &group_map(&[("a", &[1.0, 2.0])]));
        assert!(all_integral(&groups));
        let groups = chart_groups(1, &[1.5], &group_map(&[("a", &[1.5])]));
        assert!(!all_integral(&groups));
    }
}
