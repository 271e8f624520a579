//! One number for a whole window: what a metric card shows next to its chart.

use crate::interval::Interval;

/// The window's headline value, from its bars (days, weeks or months). Counts and sums add up
/// over the bars; averages average the bars that had records; minima and maxima take the extreme
/// of those bars (bars without records are zero-filled by the API, so zeros are left out of the
/// average, min and max).
pub fn window_value(operator: &str, label_y: &[f64]) -> f64 {
    let values = label_y.iter().copied().filter(|v| v.is_finite());
    match operator {
        "average" => {
            let days: Vec<f64> = values.filter(|v| *v != 0.0).collect();
            if days.is_empty() {
                0.0
            } else {
                days.iter().sum::<f64>() / days.len() as f64
            }
        }
        "min" => values
            .filter(|v| *v != 0.0)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.min(v)))
            })
            .unwrap_or(0.0),
        "max" => values
            .filter(|v| *v != 0.0)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            })
            .unwrap_or(0.0),
        // A state (MRR, active customers): the latest bar that has a value.
        "last" => label_y
            .iter()
            .copied()
            .rfind(|v| v.is_finite())
            .unwrap_or(0.0),
        _ => values.sum(),
    }
}

/// What [`window_value`] is called on the card: the average, lowest and highest are of the
/// bars, so they name the bar (`Weekly average`, `Lowest month`).
pub fn window_label(operator: &str, interval: Interval) -> String {
    let adjective = match interval {
        Interval::Day => "Daily",
        Interval::Week => "Weekly",
        Interval::Month => "Monthly",
    };
    let noun = interval.noun();
    match operator {
        "average" => format!("{adjective} average"),
        "min" => format!("Lowest {noun}"),
        "max" => format!("Highest {noun}"),
        "last" => "Latest".to_string(),
        _ => "Total".to_string(),
    }
}

/// The group the API sums the smaller groups into, past the `groups` it keeps.
pub const OTHER_GROUPS: &str = "(other groups)";

/// What `meta.groups_folded` means for the reader: the smaller groups were summed into
/// [`OTHER_GROUPS`] (`summed`: the series has that group) or, for values that do not add up
/// across groups, left out. `None` when no group was folded.
pub fn folded_note(groups_folded: u64, summed: bool) -> Option<String> {
    let groups = match groups_folded {
        0 => return None,
        1 => "1 smaller group is".to_string(),
        count => format!(
            "{} smaller groups are",
            crate::format::format_fixed(count as f64, 0)
        ),
    };
    Some(if summed {
        format!("{groups} summed in {OTHER_GROUPS}")
    } else {
        format!("{groups} left out")
    })
}

/// The longer explanation of [`folded_note`], for its tooltip.
pub fn folded_title(summed: bool) -> &'static str {
    if summed {
        "Only the largest groups are shown one by one; the others are added up in one group."
    } else {
        "Only the largest groups are shown: these values do not add up across groups, so the others cannot be summed into one."
    }
}

/// How an operator reads in a sentence: `Sum of amount`, `Count`.
pub fn describe(operator: &str, value_field: Option<&str>, field_name: &str) -> String {
    let verb = match operator {
        "count" => "Count",
        "sum" => "Sum",
        "average" => "Average",
        "min" => "Minimum",
        "max" => "Maximum",
        "count_distinct" => "Distinct count",
        other => other,
    };
    let mut text = match value_field.filter(|f| !f.is_empty() && operator != "count") {
        Some(field) => format!("{verb} of {field}"),
        None => verb.to_string(),
    };
    if !field_name.is_empty() && field_name != "object" {
        text.push_str(" by ");
        text.push_str(field_name);
    }
    text
}

/// The single currency of a series' groups, when every group is the same currency code
/// (the total can then carry the symbol).
pub fn single_currency<'a>(groups: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut found: Option<&'a str> = None;
    for group in groups {
        if !crate::format::is_currency_code(group) {
            return None;
        }
        match found {
            Some(existing) if !existing.eq_ignore_ascii_case(group) => return None,
            Some(_) => {}
            None => found = Some(group),
        }
    }
    found
}

/// For report sources (`meta.source_tz`): the days are the source's own, in its time zone,
/// whatever time zone the window asked for.
pub fn days_note(source_tz: Option<&str>) -> Option<String> {
    source_tz
        .map(str::trim)
        .filter(|tz| !tz.is_empty())
        .map(|tz| format!("days in {tz}"))
}

/// What a `sampled` series means for the reader.
pub const SAMPLED_NOTE: &str = "sampled";
pub const SAMPLED_TITLE: &str =
    "The provider sampled or thresholded some of these rows: the figures are estimates.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_the_days_of_report_sources() {
        assert_eq!(
            days_note(Some("America/Los_Angeles")).as_deref(),
            Some("days in America/Los_Angeles")
        );
        assert_eq!(days_note(Some(" ")), None);
        assert_eq!(days_note(None), None);
    }

    #[test]
    fn a_state_shows_its_latest_value() {
        assert_eq!(window_value("last", &[5.0, 7.0, f64::NAN]), 7.0);
        assert_eq!(window_value("last", &[]), 0.0);
        assert_eq!(window_label("last", Interval::Week), "Latest");
    }

    #[test]
    fn sums_counts_and_sums() {
        assert_eq!(window_value("count", &[1.0, 2.0, 0.0, 3.0]), 6.0);
        assert_eq!(window_value("sum", &[150.0, 50.0]), 200.0);
        assert_eq!(window_value("count_distinct", &[]), 0.0);
        assert_eq!(window_value("sum", &[f64::NAN, 1.0]), 1.0);
    }

    #[test]
    fn averages_minima_and_maxima_skip_empty_days() {
        assert_eq!(window_value("average", &[0.0, 10.0, 20.0]), 15.0);
        assert_eq!(window_value("average", &[0.0, 0.0]), 0.0);
        assert_eq!(window_value("min", &[0.0, 10.0, 5.0]), 5.0);
        assert_eq!(window_value("max", &[0.0, 10.0, 5.0]), 10.0);
        assert_eq!(window_value("min", &[]), 0.0);
        assert_eq!(window_label("average", Interval::Day), "Daily average");
        assert_eq!(window_label("sum", Interval::Day), "Total");
    }

    #[test]
    fn names_the_bars_the_figures_are_of() {
        assert_eq!(window_label("average", Interval::Week), "Weekly average");
        assert_eq!(window_label("average", Interval::Month), "Monthly average");
        assert_eq!(window_label("min", Interval::Day), "Lowest day");
        assert_eq!(window_label("min", Interval::Month), "Lowest month");
        assert_eq!(window_label("max", Interval::Week), "Highest week");
        assert_eq!(window_label("count", Interval::Month), "Total");
        // A total is the same sum whatever the bars.
        assert_eq!(
            window_value("sum", &[1.0, 2.0, 3.0, 4.0]),
            window_value("sum", &[3.0, 7.0])
        );
    }

    #[test]
    fn notes_folded_groups() {
        assert_eq!(folded_note(0, true), None);
        assert_eq!(
            folded_note(1, true).as_deref(),
            Some("1 smaller group is summed in (other groups)")
        );
        assert_eq!(
            folded_note(12, true).as_deref(),
            Some("12 smaller groups are summed in (other groups)")
        );
        assert_eq!(
            folded_note(1234, false).as_deref(),
            Some("1,234 smaller groups are left out")
        );
        assert!(folded_title(true).contains("added up"));
        assert!(folded_title(false).contains("do not add up"));
    }

    #[test]
    fn describes_metrics() {
        assert_eq!(
            describe("sum", Some("amount"), "currency"),
            "Sum of amount by currency"
        );
        assert_eq!(describe("count", Some("amount"), "object"), "Count");
        assert_eq!(
            describe("count_distinct", Some("customer"), ""),
            "Distinct count of customer"
        );
    }

    #[test]
    fn finds_a_single_currency() {
        assert_eq!(single_currency(["usd"]), Some("usd"));
        assert_eq!(single_currency(["usd", "USD"]), Some("usd"));
        assert_eq!(single_currency(["usd", "eur"]), None);
        assert_eq!(single_currency(["(none)"]), None);
        assert_eq!(single_currency(Vec::<&str>::new()), None);
    }
}
