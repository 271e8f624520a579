//! What a series' meta says beyond its numbers, for report sources: the time zone the source's
//! days are in (`meta.source_tz`) and whether the provider sampled the rows (`meta.sampled`).

use allmetrics_common::SeriesMeta;
use leptos::prelude::*;

use frontend_logic::summary::{days_note, SAMPLED_NOTE, SAMPLED_TITLE};

#[component]
pub fn SeriesNotes(meta: SeriesMeta) -> impl IntoView {
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
    view! {
        {days}
        {sampled}
    }
}
