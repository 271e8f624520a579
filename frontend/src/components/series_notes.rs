//! What a series' meta says beyond its numbers: for report sources, the time zone the source's
//! days are in (`meta.source_tz`) and whether the provider sampled the rows (`meta.sampled`);
//! for any source, how many smaller groups were folded (`meta.groups_folded`).

use allmetrics_common::SeriesMeta;
use leptos::prelude::*;

use frontend_logic::summary::{days_note, folded_note, folded_title, SAMPLED_NOTE, SAMPLED_TITLE};

#[component]
pub fn SeriesNotes(
    meta: SeriesMeta,
    /// Whether the series has the group `(other groups)`: the folded groups were summed there.
    /// Without it they were left out (values that do not add up across groups).
    summed_into_other: bool,
) -> impl IntoView {
    let days = days_note(meta.source_tz.as_deref()).map(|text| {
        let title = format!(
            "The source reports whole days in its own time zone; the window's time zone ({}) does not move them.",
            meta.tz
        );
        view! {
            <span
                class="series-note"
                title=title
                data-testid="series-source-tz"
                data-tz=meta.source_tz.clone().unwrap_or_default()
            >
                {text}
            </span>
        }
    });
    let sampled = (meta.sampled == Some(true)).then(|| {
        view! {
            <span class="series-note sampled" title=SAMPLED_TITLE data-testid="series-sampled">
                {SAMPLED_NOTE}
            </span>
        }
    });
    let folded = folded_note(meta.groups_folded, summed_into_other).map(|text| {
        view! {
            <span
                class="series-note"
                title=folded_title(summed_into_other)
                data-testid="series-groups-folded"
                data-count=meta.groups_folded
            >
                {text}
            </span>
        }
    });
    view! {
        {days}
        {sampled}
        {folded}
    }
}
