//! CSV export of a series (RFC 4180: comma-separated, CRLF line ends, quoted when needed).

use std::collections::BTreeMap;

/// A text cell: quoted when it holds a comma, a quote, a line break or edge spaces; cells that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a leading `'`.
pub fn escape_text(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    let needs_quotes =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A number cell, as the API sent it (minor units stay minor units): `3`, `2.5`, `0` for
/// anything not finite.
pub fn number_cell(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "0".into()
    }
}

/// `date,<group>...,total` then one line per day. `groups` gives the column order; a group missing
/// from `label_z` or shorter than the window reads as 0.
pub fn series_csv(
    label_x: &[String],
    label_y: &[f64],
    label_z: &BTreeMap<String, Vec<f64>>,
    groups: &[String],
) -> String {
    let mut out = String::from("date");
    for group in groups {
        out.push(',');
        out.push_str(&escape_text(group));
    }
    out.push_str(",total\r\n");
    for (day, date) in label_x.iter().enumerate() {
        out.push_str(&escape_text(date));
        for group in groups {
            let value = label_z
                .get(group)
                .and_then(|values| values.get(day))
                .copied()
                .unwrap_or(0.0);
            out.push(',');
            out.push_str(&number_cell(value));
        }
        out.push(',');
        out.push_str(&number_cell(label_y.get(day).copied().unwrap_or(0.0)));
        out.push_str("\r\n");
    }
    out
}

/// A file name for a metric's export: `charges-by-currency-2026-10-26-2026-11-24.csv`.
pub fn file_name(title: &str, from: &str, to: &str) -> String {
    let mut slug = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "series" } else { slug };
    let dates: String = format!("{from}-{to}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{slug}-{dates}.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_cells() {
        assert_eq!(escape_text("usd"), "usd");
        assert_eq!(escape_text("a,b"), "\"a,b\"");
        assert_eq!(escape_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape_text("two\nlines"), "\"two\nlines\"");
        assert_eq!(escape_text("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(escape_text(" padded"), "\" padded\"");
        assert_eq!(escape_text(""), "");
        assert_eq!(escape_text("(none)"), "(none)");
        assert_eq!(escape_text("Zoë"), "Zoë");
    }

    #[test]
    fn defuses_formulas() {
        assert_eq!(escape_text("=1+1"), "'=1+1");
        assert_eq!(escape_text("+33"), "'+33");
        assert_eq!(escape_text("-x"), "'-x");
        assert_eq!(escape_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            escape_text("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
    }

    #[test]
    fn exports_a_series() {
        let label_x = vec!["2026-11-23".to_string(), "2026-11-24".to_string()];
        let label_y = vec![3.0, 2.5];
        let label_z = BTreeMap::from([
            ("usd".to_string(), vec![1.0, 2.5]),
            ("a,b".to_string(), vec![2.0]),
        ]);
        let groups = vec!["usd".to_string(), "a,b".to_string(), "gone".to_string()];
        assert_eq!(
            series_csv(&label_x, &label_y, &label_z, &groups),
            "date,usd,\"a,b\",gone,total\r\n2026-11-23,1,2,0,3\r\n2026-11-24,2.5,0,0,2.5\r\n"
        );
    }

    #[test]
    fn exports_an_empty_series() {
        assert_eq!(
            series_csv(&[], &[], &BTreeMap::new(), &[]),
            "date,total\r\n"
        );
        assert_eq!(number_cell(f64::NAN), "0");
        assert_eq!(number_cell(-1.5), "-1.5");
    }

    #[test]
    fn names_the_file() {
        assert_eq!(
            file_name(
                "Charges: sum of amount by currency",
                "2026-10-26",
                "2026-11-24"
            ),
            "charges-sum-of-amount-by-currency-2026-10-26-2026-11-24.csv"
        );
        assert_eq!(file_name("€€", "a/b", "c"), "series-ab-c.csv");
    }
}
