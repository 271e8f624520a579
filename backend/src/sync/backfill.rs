//! The backfill of one object, walked in windows of time that the reader chose, each with its own
//! cursor. Windows are walked at once while the connection has requests to spare (fewer walks
//! than `rate x latency`). When the reader walks a window newest first by time, a walk that still
//! has pages ahead gives the older half of what is left to a new window: one large object is then
//! read by as many requests at once as its rate allows, not one after the other. A split is
//! stored in the transaction of the page it follows, so a restart resumes every window exactly
//! where it stopped.

use std::collections::VecDeque;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use super::limiter::WalkSlot;
use super::pages::{Pages, Stop};
use crate::domain::{BackfillWindow, PageCheckpoint, SyncJob};
use crate::providers::reader::ReadWindow;

/// A window split off by a walk, with the place it may run in.
type SplitOff = (BackfillWindow, WalkSlot);

/// Walks these windows, and those split off them, until every one is stored: as many at once as
/// the connection's rate keeps busy (at least one), the others queued.
pub(super) async fn walk_all(
    pages: &Pages<'_>,
    job: &SyncJob,
    windows: Vec<BackfillWindow>,
) -> Result<(), Stop> {
    let max_walks = pages.max_walks();
    let (splits, mut split_off) = mpsc::unbounded_channel::<SplitOff>();
    let mut queued: VecDeque<BackfillWindow> = windows.into();
    let mut walks = FuturesUnordered::new();
    enum Event {
        Split(Option<SplitOff>),
        Finished(Option<Result<(), Stop>>),
    }
    loop {
        // Queued windows start while the rate has room; one always runs while any is left.
        while let Some(window) = queued.pop_front() {
            let slot = if walks.is_empty() {
                Some(pages.budget.walk())
            } else {
                pages.budget.extra_walk(max_walks)
            };
            match slot {
                Some(slot) => walks.push(walk(pages, job, window, slot, &splits)),
                None => {
                    queued.push_front(window);
                    break;
                }
            }
        }
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
            Event::Finished(None) if queued.is_empty() => return Ok(()),
            Event::Finished(None) => {}
        }
    }
}

fn read_window(window: &BackfillWindow) -> ReadWindow {
    ReadWindow {
        from: window.created_gte,
        until: window.created_lt,
        cursor: window.cursor.clone(),
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
    let max_walks = pages.max_walks();
    let page_size = pages.reader.limits().page_size;
    // The newest record this walk has read and how many: how dense the history is here.
    let mut newest: Option<i64> = None;
    let mut walked = 0u64;
    let mut page = loop {
        match pages.fetch(&read_window(&window)).await {
            // Refused as too long a range: the older half goes to a window of its own.
            Err(Stop::RangeTooLarge(message)) if window.cursor.is_none() => {
                let Some(at) = window
                    .created_gte
                    .and_then(|from| halve(from, window.created_lt))
                else {
                    return Err(Stop::Failed {
                        message,
                        retry_in: 3_600,
                    });
                };
                let older = (window.created_gte, at);
                window.created_gte = Some(at);
                let checkpoint = PageCheckpoint::Window {
                    window: window.clone(),
                    done: false,
                    split_off: Some(older),
                };
                if let Some(id) = pages.store(job, &[], &checkpoint).await?.split_off {
                    let split = BackfillWindow {
                        id,
                        created_gte: older.0,
                        created_lt: older.1,
                        cursor: None,
                        cursor_created: None,
                    };
                    let _ = splits.send((split, pages.budget.walk()));
                }
            }
            other => break other?,
        }
    };
    loop {
        let more = page.next.is_some();
        window.cursor = page.next.clone();
        if page.reached.is_some() {
            window.cursor_created = page.reached;
        }
        newest = newest.or(page.objects.first().map(|object| object.created));
        walked += page.objects.len() as u64;
        let mut split = None;
        // Only a reader that walks newest first by time says how far it reached: what is left
        // can then be cut by time.
        if let (true, Some(reached), Some(newest)) = (more, page.reached, newest) {
            let left = Left {
                created_gte: window.created_gte,
                cursor_created: reached,
                history_start: pages.budget.history_start(),
                per_second: walked as f64 / (newest - reached).max(1) as f64,
                page_size,
            };
            if let Some(at) = split_point(&left) {
                if let Some(slot) = pages.budget.extra_walk(max_walks) {
                    split = Some(((window.created_gte, at), slot));
                    window.created_gte = Some(at);
                }
            }
        }
        if let (false, None, Some(oldest)) = (
            more,
            window.created_gte,
            page.objects.iter().map(|object| object.created).min(),
        ) {
            // This walk read down to the first record of its kind.
            pages.budget.note_history_start(oldest);
        }
        let checkpoint = PageCheckpoint::Window {
            window: window.clone(),
            done: !more,
            split_off: split.as_ref().map(|(part, _)| *part),
        };
        // The next page is fetched while this one is stored (and checkpointed): the provider's
        // latency and the database's overlap, with at most two pages of this window in memory.
        let next_window = more.then(|| read_window(&window));
        let (stored, next) = tokio::join!(pages.store(job, &page.objects, &checkpoint), async {
            match &next_window {
                Some(next_window) => Some(pages.fetch(next_window).await),
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

/// Where to cut a window of whole days `[from, until)` in two: on a day boundary, so that report
/// readers keep asking for whole days; `None` for a window of one day.
pub(super) fn halve(from: i64, until: i64) -> Option<i64> {
    const DAY: i64 = 86_400;
    let days = until.checked_sub(from)? / DAY;
    (days >= 2).then(|| from + days / 2 * DAY)
}

/// What is left of a window after a page: objects created in `[created_gte, cursor_created]`.
struct Left {
    /// `None`: unbounded below.
    created_gte: Option<i64>,
    cursor_created: i64,
    /// The oldest object of this connection known so far (another kind's history, read to its
    /// start): a better guess of where this kind's history starts than 1970.
    history_start: Option<i64>,
    /// Objects per second where the walk has been.
    per_second: f64,
    page_size: u32,
}

/// Where to cut what is left of a window: the part below the cut goes to a new window. The cut
/// halves the span from the window's lower bound, or from the best guess of where the history
/// starts (the new window still takes everything below, so a wrong guess costs a request, not an
/// object). `None` when there is nothing to cut, or when the halves would hold fewer than two
/// pages each at the density seen so far: each window ends with a partial page.
fn split_point(left: &Left) -> Option<i64> {
    let guess = left
        .history_start
        .filter(|start| *start < left.cursor_created);
    let low = match (left.created_gte, guess) {
        (Some(bound), Some(start)) => bound.max(start),
        (Some(bound), None) => bound,
        (None, Some(start)) => start,
        (None, None) => 0,
    };
    let span = left.cursor_created.checked_sub(low)?;
    let expected = left.per_second * span as f64;
    (span >= 2 && expected >= 4.0 * f64::from(left.page_size)).then(|| low + span / 2)
}

#[cfg(test)]
mod tests {
    use super::{halve, split_point, Left};

    /// Dense enough that any span is worth cutting.
    fn left(created_gte: Option<i64>, cursor_created: i64) -> Left {
        Left {
            created_gte,
            cursor_created,
            history_start: None,
            per_second: 1_000.0,
            page_size: 100,
        }
    }

    #[test]
    fn a_split_leaves_both_parts_something() {
        assert_eq!(split_point(&left(Some(100), 200)), Some(150));
        assert_eq!(split_point(&left(Some(100), 102)), Some(101));
        assert_eq!(split_point(&left(None, 1_790_000_000)), Some(895_000_000));
        for (low, high) in [(0, 2), (-50, 7), (1_700_000_000, 1_700_000_003)] {
            let cut = split_point(&left(Some(low), high)).unwrap();
            assert!(low < cut && cut < high, "{low} < {cut} < {high}");
        }
    }

    #[test]
    fn windows_refused_as_too_long_are_halved_on_days() {
        const DAY: i64 = 86_400;
        assert_eq!(halve(0, 31 * DAY), Some(15 * DAY));
        assert_eq!(halve(10 * DAY, 12 * DAY), Some(11 * DAY));
        assert_eq!(halve(0, DAY), None);
        assert_eq!(halve(0, i64::MAX), Some(i64::MAX / DAY / 2 * DAY));
        assert_eq!(halve(5, 0), None);
    }

    #[test]
    fn nothing_to_split_in_a_second() {
        assert_eq!(split_point(&left(Some(100), 101)), None);
        assert_eq!(split_point(&left(Some(100), 100)), None);
        assert_eq!(split_point(&left(Some(100), 90)), None);
        assert_eq!(split_point(&left(None, 1)), None);
        assert_eq!(split_point(&left(Some(i64::MIN), i64::MAX)), None);
    }

    #[test]
    fn the_known_start_of_the_history_is_the_first_guess() {
        let guessed = Left {
            history_start: Some(1_700_000_000),
            ..left(None, 1_790_000_000)
        };
        assert_eq!(split_point(&guessed), Some(1_745_000_000));
        // Within a bounded window too; a start above the cursor tells nothing.
        let bounded = Left {
            history_start: Some(1_700_000_000),
            ..left(Some(1_600_000_000), 1_790_000_000)
        };
        assert_eq!(split_point(&bounded), Some(1_745_000_000));
        let above = Left {
            history_start: Some(1_795_000_000),
            ..left(Some(1_600_000_000), 1_790_000_000)
        };
        assert_eq!(split_point(&above), Some(1_695_000_000));
    }

    #[test]
    fn sparse_rests_are_left_to_one_walk() {
        // 1 object per 100 s: 5,000 objects left over 500,000 s, fifty pages: cut.
        let sparse = Left {
            per_second: 0.01,
            ..left(Some(1_000_000), 1_500_000)
        };
        assert_eq!(split_point(&sparse), Some(1_250_000));
        // 300 objects left: three pages, not worth a second tail.
        let thin = Left {
            per_second: 0.01,
            ..left(Some(1_000_000), 1_030_000)
        };
        assert_eq!(split_point(&thin), None);
    }
}
