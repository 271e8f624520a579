//! The backfill of one object, walked in windows of `created` time. Every window is listed newest
//! first with its own cursor; after each page, a walk that still has pages ahead gives the older
//! half of what is left to a new window while the connection has requests to spare (fewer walks
//! than `rate x latency`). One large object is then read by as many requests at once as its
//! rate allows, not one after the other. A split is stored in the transaction of the page it
//! follows, so a restart resumes every window exactly where it stopped.

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use super::fetch::PageRequest;
use super::limiter::WalkSlot;
use super::pages::{Pages, Stop};
use crate::domain::{BackfillWindow, PageCheckpoint, SyncJob};

/// A window split off by a walk, with the place it may run in.
type SplitOff = (BackfillWindow, WalkSlot);

/// Walks these windows, and those split off them, until every one is stored.
pub(super) async fn walk_all(
    pages: &Pages<'_>,
    job: &SyncJob,
    windows: Vec<BackfillWindow>,
) -> Result<(), Stop> {
    let (splits, mut split_off) = mpsc::unbounded_channel::<SplitOff>();
    let mut walks = FuturesUnordered::new();
    for window in windows {
        walks.push(walk(pages, job, window, pages.budget.walk(), &splits));
    }
    enum Event {
        Split(Option<SplitOff>),
        Finished(Option<Result<(), Stop>>),
    }
    loop {
        // A walk sends its split before it finishes: when none is left, none can come.
        while let Ok((window, slot)) = split_off.try_recv() {
            walks.push(walk(pages, job, window, slot, &splits));
        }
        let event = tokio::select! {
            split = split_off.recv() => Event::Split(split),
            finished = walks.next() => Event::Finished(finished),
        };
        match event {
            Event::Split(Some((window, slot))) => {
                walks.push(walk(pages, job, window, slot, &splits));
            }
            Event::Split(None) => {}
            Event::Finished(Some(result)) => result?,
            Event::Finished(None) => return Ok(()),
        }
    }
}

/// Walks one window to its end, storing every page with the window's new checkpoint.
async fn walk(
    pages: &Pages<'_>,
    job: &SyncJob,
    mut window: BackfillWindow,
    slot: WalkSlot,
    splits: &mpsc::UnboundedSender<SplitOff>,
) -> Result<(), Stop> {
    let _slot = slot;
    let max_walks = pages.context.state.settings.sync.max_windows_per_connection;
    let request = |window: &BackfillWindow| PageRequest {
        starting_after: window.cursor.clone(),
        created_gte: window.created_gte,
        created_lt: Some(window.created_lt),
    };
    let mut page = pages.fetch(&request(&window)).await?;
    loop {
        // A page that says "more" but holds nothing cannot move the cursor: it is the end.
        let more = page.has_more && !page.objects.is_empty();
        if let Some(last) = page.objects.last() {
            window.cursor = Some(last.object_id.clone());
            window.cursor_created = Some(last.created);
        }
        let mut split = None;
        if more {
            if let Some(at) = window
                .cursor_created
                .and_then(|cursor_created| split_point(window.created_gte, cursor_created))
            {
                if let Some(slot) = pages.budget.extra_walk(max_walks) {
                    split = Some(((window.created_gte, at), slot));
                    window.created_gte = Some(at);
                }
            }
        }
        let checkpoint = PageCheckpoint::Window {
            window: window.clone(),
            done: !more,
            split_off: split.as_ref().map(|(part, _)| *part),
        };
        // The next page is fetched while this one is stored (and checkpointed): the provider's
        // latency and the database's overlap, with at most two pages of this window in memory.
        let next_request = more.then(|| request(&window));
        let (stored, next) = tokio::join!(pages.store(job, &page.objects, &checkpoint), async {
            match &next_request {
                Some(next_request) => Some(pages.fetch(next_request).await),
                None => None,
            }
        });
        let stored = stored?;
        if let (Some(id), Some(((created_gte, created_lt), slot))) = (stored.split_off, split) {
            let window = BackfillWindow {
                id,
                created_gte,
                created_lt,
                cursor: None,
                cursor_created: None,
            };
            // The receiver lives as long as this walk's caller; were it gone, the window is
            // stored and the next run walks it.
            let _ = splits.send((window, slot));
        }
        match next {
            Some(next) => page = next?,
            None => return Ok(()),
        }
    }
}

/// Where to cut what is left of a window: objects created in `[created_gte, cursor_created]`
/// (`created_gte` `None`: unbounded below, halved towards 1970 as the first guess, so windows
/// that find nothing close in on the oldest objects in a few requests). The part below the cut
/// goes to a new window. `None` when there is nothing to cut.
fn split_point(created_gte: Option<i64>, cursor_created: i64) -> Option<i64> {
    let low = created_gte.unwrap_or(0);
    let span = cursor_created.checked_sub(low)?;
    (span >= 2).then(|| low + span / 2)
}

#[cfg(test)]
mod tests {
    use super::split_point;

    #[test]
    fn a_split_leaves_both_parts_something() {
        assert_eq!(split_point(Some(100), 200), Some(150));
        assert_eq!(split_point(Some(100), 102), Some(101));
        assert_eq!(split_point(None, 1_790_000_000), Some(895_000_000));
        for (low, high) in [(0, 2), (-50, 7), (1_700_000_000, 1_700_000_003)] {
            let cut = split_point(Some(low), high).unwrap();
            assert!(low < cut && cut < high, "{low} < {cut} < {high}");
        }
    }

    #[test]
    fn nothing_to_split_in_a_second() {
        assert_eq!(split_point(Some(100), 101), None);
        assert_eq!(split_point(Some(100), 100), None);
        assert_eq!(split_point(Some(100), 90), None);
        assert_eq!(split_point(None, 1), None);
        assert_eq!(split_point(Some(i64::MIN), i64::MAX), None);
    }
}
