//! After the backfill, an object whose provider keeps a feed of changes is kept true by it: each
//! run applies the changes webhooks delivered, then reads the feed from the newest change applied,
//! and stores what changed (re-reading an object whose change does not say enough). Every change
//! is applied on the provider's clock: never over a newer one, so repeated, late or out-of-order
//! changes cannot take the store back in time. When the position is older than the provider keeps
//! changes, or the feed cannot be read at all (then at most once a day), the object is re-read in
//! full, and what the re-read did not find again is gone at the provider: a tombstone.

use std::collections::HashMap;
use std::time::Duration;

use super::pages::{Pages, Stop};
use crate::domain::{FeedPosition, ObjectChange, ReadMode, RunRead, SyncJob};
use crate::providers::reader::{Change, ChangePage, Current, FetchError, ReadWindow};

/// Reading changes from this long before the last complete read: changes that became visible
/// late, and clocks a little apart, are not missed (applying one twice changes nothing).
const OVERLAP_SECS: i64 = 300;
/// A position this close to the end of what the provider keeps is already too old to trust.
const RETENTION_MARGIN_SECS: i64 = 3_600;
/// Without a readable feed, everything is re-read at most this often.
const FULL_REREAD_EVERY_SECS: i64 = 86_400;
/// Delivered changes applied per transaction.
const QUEUED_BATCH: i64 = 500;

/// What a run after the backfill did.
pub(super) struct CaughtUp {
    pub read: RunRead,
    pub feed: FeedPosition,
    pub full_read_at: Option<i64>,
}

/// A page of changes, or the provider's refusal to show them (a key without the permission).
async fn changes_or_refusal(
    pages: &Pages<'_>,
    since: i64,
    cursor: Option<&str>,
) -> Result<Result<ChangePage, String>, Stop> {
    pages
        .call(|| async {
            match pages.reader.changes(since, cursor).await {
                Ok(page) => Ok(Ok(page)),
                Err(refused @ FetchError::Refused { .. }) => Ok(Err(refused.to_string())),
                Err(other) => Err(other),
            }
        })
        .await
}

/// Where changes start for a backfill that starts now: the provider's time, read from one
/// request to its feed (no position when the feed cannot be read).
pub(super) async fn position_before_backfill(pages: &Pages<'_>) -> Result<FeedPosition, Stop> {
    let now = super::now();
    let answered = changes_or_refusal(pages, now, None).await?;
    Ok(FeedPosition {
        created: None,
        event_id: None,
        checked_at: answered
            .ok()
            .map(|_| pages.reader.provider_now().unwrap_or(now)),
    })
}

/// Brings the object up to date after its backfill.
pub(super) async fn catch_up(
    pages: &Pages<'_>,
    job: &SyncJob,
    retention: Duration,
) -> Result<CaughtUp, Stop> {
    let delivered = apply_queued(pages, job).await?;
    let since = job
        .feed
        .created
        .or(job
            .feed
            .checked_at
            .map(|at| at.saturating_sub(OVERLAP_SECS)))
        .unwrap_or_else(|| super::now().saturating_sub(OVERLAP_SECS));
    let first = match changes_or_refusal(pages, since, None).await? {
        Ok(page) => page,
        Err(refusal) => return without_feed(pages, job, &refusal).await,
    };
    let read_at = pages.reader.provider_now().unwrap_or_else(super::now);
    let retention_secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    let kept_from = read_at.saturating_sub(retention_secs.saturating_sub(RETENTION_MARGIN_SECS));
    if job
        .feed
        .checked_at
        .is_none_or(|checked| checked < kept_from)
    {
        let note = match job.feed.checked_at {
            Some(checked) => format!(
                "changes were last read {} days ago, longer than the {} days {} keeps them: \
                 everything was read again",
                (read_at - checked) / 86_400,
                retention_secs / 86_400,
                pages.provider_name
            ),
            None => "where changes were read to was not known: everything was read again".into(),
        };
        return full_reread(pages, job, Some(note)).await;
    }

    let mut feed = FeedPosition {
        checked_at: Some(read_at),
        ..job.feed.clone()
    };
    let mut applied = 0u64;
    let mut page = first;
    let mut head = None;
    loop {
        // Pages come newest first: the first change read is the new position.
        if head.is_none() {
            head = page
                .changes
                .first()
                .map(|change| (change.at, change.id.clone()));
        }
        applied += apply(pages, job, page.changes).await?;
        let Some(cursor) = page.next else { break };
        page = match changes_or_refusal(pages, since, Some(&cursor)).await? {
            Ok(page) => page,
            Err(refusal) => {
                return Err(Stop::Failed {
                    message: refusal,
                    retry_in: 900,
                })
            }
        };
    }
    if let Some((created, event_id)) = head {
        feed.created = Some(created);
        feed.event_id = Some(event_id);
    }
    let mode = if delivered > 0 && applied == 0 {
        ReadMode::Webhook
    } else {
        ReadMode::Events
    };
    Ok(CaughtUp {
        read: RunRead {
            mode,
            requests: pages.requests(),
            note: None,
        },
        feed,
        full_read_at: job.full_read_at,
    })
}

/// The feed cannot be read: re-read the recent window, and everything once a day.
async fn without_feed(pages: &Pages<'_>, job: &SyncJob, refusal: &str) -> Result<CaughtUp, Stop> {
    let note = format!(
        "{} does not show this connection's events ({refusal}): changes to older objects are \
         found by reading everything again once a day",
        pages.provider_name
    );
    let now = pages.reader.provider_now().unwrap_or_else(super::now);
    let due = job
        .full_read_at
        .is_none_or(|at| now.saturating_sub(at) >= FULL_REREAD_EVERY_SECS);
    if due {
        let mut caught = full_reread(pages, job, Some(note)).await?;
        caught.feed = FeedPosition::default();
        return Ok(caught);
    }
    let previous_run = job.incremental_from.or(job.backfill_before).unwrap_or(now);
    let window = pages.reader.incremental_window(previous_run, now);
    super::job::read_windows(pages, job, vec![window], now).await?;
    Ok(CaughtUp {
        read: RunRead {
            mode: ReadMode::RecentWindow,
            requests: pages.requests(),
            note: Some(note),
        },
        feed: FeedPosition::default(),
        full_read_at: job.full_read_at,
    })
}

/// Reads every object again, then marks what it did not find as deleted.
async fn full_reread(
    pages: &Pages<'_>,
    job: &SyncJob,
    note: Option<String>,
) -> Result<CaughtUp, Stop> {
    // Pages stored from the next second on are this re-read's: whatever was stored before and
    // is not stored again is gone at the provider.
    let seen_since = super::now() + 1;
    let to_next_second = 1_000 - u64::from(chrono::Utc::now().timestamp_subsec_millis().min(999));
    tokio::time::sleep(Duration::from_millis(to_next_second)).await;
    let started = pages.reader.provider_now().unwrap_or(seen_since);
    let everything = ReadWindow {
        from: None,
        until: i64::MAX,
        cursor: None,
    };
    super::job::read_windows(pages, job, vec![everything], started).await?;
    pages
        .context
        .services
        .repository
        .tombstone_unseen(job, &pages.context.owner, seen_since, started, started)
        .await?
        .ok_or(Stop::LeaseLost)?;
    Ok(CaughtUp {
        read: RunRead {
            mode: ReadMode::FullReread,
            requests: pages.requests(),
            note,
        },
        feed: FeedPosition {
            created: None,
            event_id: None,
            checked_at: Some(started),
        },
        full_read_at: Some(started),
    })
}

/// Applies the changes webhooks delivered for this object; how many there were.
async fn apply_queued(pages: &Pages<'_>, job: &SyncJob) -> Result<u64, Stop> {
    let repository = &pages.context.services.repository;
    let mut delivered = 0;
    loop {
        let queued = repository
            .queued_changes(job.connection_id, &job.object_name, QUEUED_BATCH)
            .await?;
        if queued.is_empty() {
            return Ok(delivered);
        }
        let changes: Vec<Change> = queued
            .iter()
            .filter_map(|queued| pages.reader.pushed_change(&queued.payload))
            .collect();
        delivered += changes.len() as u64;
        apply(pages, job, changes).await?;
        let ids: Vec<i64> = queued.iter().map(|queued| queued.id).collect();
        repository.delete_queued_changes(&ids).await?;
    }
}

/// Applies a batch of changes (in any order): the newest of each object, unless the store holds
/// a newer one; an object whose newest change is as recent as the stored one (or as another
/// change of the batch) is read again, since the order within one second is unknown.
async fn apply(pages: &Pages<'_>, job: &SyncJob, changes: Vec<Change>) -> Result<u64, Stop> {
    if changes.is_empty() {
        return Ok(0);
    }
    let mut newest: HashMap<String, (Change, bool)> = HashMap::new();
    for change in changes {
        match newest.get_mut(&change.object_id) {
            Some((kept, tie)) => {
                if change.at > kept.at {
                    *kept = change;
                    *tie = false;
                } else if change.at == kept.at && change.id != kept.id {
                    *tie = true;
                }
            }
            None => {
                newest.insert(change.object_id.clone(), (change, false));
            }
        }
    }
    let ids: Vec<String> = newest.keys().cloned().collect();
    let stored = pages
        .context
        .services
        .repository
        .stored_change_times(job.connection_id, &job.object_name, &ids)
        .await?;
    let mut to_apply = Vec::with_capacity(newest.len());
    let mut to_reread = Vec::new();
    for (id, (change, tie)) in newest {
        let applied = stored.get(&id).cloned().unwrap_or_default();
        match applied.at {
            Some(at) if at > change.at => {}
            // The very change applied already (delivered, then listed): nothing to do.
            Some(at) if at == change.at && applied.id.as_deref() == Some(change.id.as_str()) => {}
            Some(at) if at == change.at => to_reread.push(id),
            _ if tie || (change.object.is_none() && !change.deleted) => to_reread.push(id),
            _ => to_apply.push(ObjectChange {
                object_id: change.object_id,
                at: change.at,
                change_id: Some(change.id),
                object: change.object,
                deleted: change.deleted,
            }),
        }
    }
    for id in to_reread {
        let current = pages.call(|| pages.reader.current(&id)).await?;
        // What the provider says now is newer than every change it listed before.
        let at = pages.reader.provider_now().unwrap_or_else(super::now);
        to_apply.push(match current {
            Current::Live(object) => ObjectChange {
                object_id: id,
                at,
                change_id: None,
                object: Some(object),
                deleted: false,
            },
            Current::Deleted => ObjectChange {
                object_id: id,
                at,
                change_id: None,
                object: None,
                deleted: true,
            },
        });
    }
    let now = super::now();
    let lease = i64::try_from(pages.context.services.settings.sync.lease_secs).unwrap_or(60);
    pages
        .context
        .services
        .repository
        .apply_changes(job, &pages.context.owner, &to_apply, now, now + lease)
        .await?
        .ok_or(Stop::LeaseLost)
}
