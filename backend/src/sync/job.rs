//! One run of one sync job: the backfill from its checkpoints (its time windows, page by page,
//! several at once), then an incremental pass; every page is stored together with the checkpoint
//! that follows it, so a crash or a restart resumes exactly where it stopped, with no duplicate
//! and no loss.

use super::pages::{Pages, Stop};
use super::{backfill, feed, now, SyncContext};
use crate::domain::{
    Connection, ConnectionStatus, FeedPosition, PageCheckpoint, ReadMode, RunOutcome, RunProgress,
    RunRead, SyncJob,
};
use crate::providers::reader::{ReadWindow, ReaderContext};
use crate::tokens::{self, RefreshError};

pub async fn run(context: &SyncContext, mut job: SyncJob) {
    let repository = &context.services.repository;
    let mut read_with = None;
    let mut result = run_pages(context, &mut job, &mut read_with).await;
    if let (Err(Stop::Unauthorized), Some(refused)) = (&result, read_with.take()) {
        // The token expired or was revoked earlier than its stated lifetime: a refreshed one
        // resumes from the checkpoints; without one, the user must reconnect. A refresh that
        // cannot be done now (another replica's is slow, the provider is down) is retried later:
        // it says nothing about the grant.
        result = match refreshed(context, &refused).await {
            Refreshed::Yes => run_pages(context, &mut job, &mut read_with).await,
            Refreshed::Refused => Err(Stop::Unauthorized),
            Refreshed::NotNow(message) => Err(Stop::Failed {
                message,
                retry_in: 60,
            }),
        };
    }
    if matches!(result, Err(Stop::Unauthorized)) {
        if let Err(error) = repository
            .set_connection_status(job.connection_id, ConnectionStatus::NeedsReconnect)
            .await
        {
            tracing::warn!(job = job.id.0, error = %error, "could not mark the connection for reconnection");
        }
        tracing::warn!(
            job = job.id.0,
            "the provider refused the token: needs reconnect"
        );
        result = Err(Stop::Failed {
            message: "the provider refused the connection's token: reconnect it".into(),
            retry_in: 86_400,
        });
    }
    let now = now();
    let interval = i64::try_from(context.services.settings.sync.interval_secs).unwrap_or(900);
    let outcome = match result {
        Err(Stop::LeaseLost) => return,
        Err(Stop::Unauthorized) => return,
        Err(Stop::RangeTooLarge(message)) => RunOutcome {
            next_run_at: now + interval,
            last_error: Some(message),
            failures: job.failures.saturating_add(1),
            incremental_from: None,
            last_synced_at: None,
            progress: None,
        },
        Ok((started_at, progress)) => RunOutcome {
            next_run_at: now + interval,
            last_error: None,
            failures: 0,
            incremental_from: Some(started_at),
            last_synced_at: Some(now),
            progress: Some(progress),
        },
        Err(Stop::Failed { message, retry_in }) => {
            tracing::warn!(job = job.id.0, object = %job.object_name, error = %message, "sync run failed");
            let failures = job.failures.saturating_add(1);
            RunOutcome {
                next_run_at: now + retry_in.min(interval),
                last_error: Some(message),
                failures,
                incremental_from: None,
                last_synced_at: None,
                progress: None,
            }
        }
    };
    if let Err(error) = repository
        .finish_sync_run(job.id, &context.owner, &outcome)
        .await
    {
        tracing::warn!(job = job.id.0, error = %error, "could not record the end of a sync run");
    }
}

enum Refreshed {
    /// A new token is stored (by this run, or by another that met the same refusal first).
    Yes,
    /// The provider refused the refresh, or there is nothing to refresh with.
    Refused,
    NotNow(String),
}

/// Replaces the token the provider refused, as `refused` holds it: when another run already
/// replaced it, that new token is used rather than refreshed once more.
async fn refreshed(context: &SyncContext, refused: &Connection) -> Refreshed {
    if refused.refresh_token_enc.is_none() {
        return Refreshed::Refused;
    }
    match tokens::refresh_connection(&context.services, refused).await {
        Ok(current) if current.status == ConnectionStatus::NeedsReconnect => Refreshed::Refused,
        Ok(_) => Refreshed::Yes,
        Err(RefreshError::NeedsReconnect) => Refreshed::Refused,
        Err(error) => Refreshed::NotNow(error.to_string()),
    }
}

/// Runs the backfill (if not done) and an incremental pass. Returns when the run started on the
/// provider's clock (the next incremental pass reads from there, as the reader decides) and how
/// it read.
/// `read_with` receives the connection as read, before its token is used.
async fn run_pages(
    context: &SyncContext,
    job: &mut SyncJob,
    read_with: &mut Option<Connection>,
) -> Result<(i64, RunProgress), Stop> {
    let services = &context.services;
    let started_at = now();
    let connection = services
        .repository
        .connection_by_id(job.connection_id)
        .await?
        .ok_or(Stop::LeaseLost)?;
    *read_with = Some(connection.clone());
    if connection.status == ConnectionStatus::NeedsReconnect {
        return Err(Stop::Failed {
            message: "the connection needs to be reconnected".into(),
            retry_in: 86_400,
        });
    }
    let source = services
        .repository
        .data_source_by_slug(&connection.slug)
        .await?
        .ok_or(Stop::LeaseLost)?;
    let unavailable = |message: &str| Stop::Failed {
        message: message.into(),
        retry_in: 86_400,
    };
    // An admin may have disabled the source or the object since the job was made.
    let object_enabled = services
        .repository
        .list_routing_sources(source.id, false)
        .await?
        .iter()
        .any(|object| object.object_name == job.object_name);
    if !source.enabled || !object_enabled {
        return Err(unavailable(
            "an administrator disabled this source or object",
        ));
    }
    let provider = services
        .resolve(&source)
        .ok_or_else(|| unavailable("this data source's provider is not available"))?;
    if provider.provider.chooses_account() && connection.account.is_none() {
        return Err(unavailable("choose which account to read first"));
    }
    let token = match tokens::access_token(services, &connection).await {
        Ok(token) => token,
        Err(RefreshError::NeedsReconnect) => {
            return Err(unavailable(
                "the provider refused the connection's token: reconnect it",
            ))
        }
        Err(error) => {
            return Err(Stop::Failed {
                message: error.to_string(),
                retry_in: 60,
            })
        }
    };
    let reader = provider
        .provider
        .reader(ReaderContext {
            http: &services.http,
            provider: &provider,
            connection: &connection,
            token: token.clone(),
            object_name: &job.object_name,
            settings: &services.settings.sync,
        })
        .ok_or_else(|| unavailable("this data source's data cannot be read"))?;
    let limits = reader.limits();
    let pages = Pages {
        context,
        provider_name: provider.provider.default_name(),
        budget: context.limiters.budget(
            connection.id,
            services
                .settings
                .sync
                .requests_per_sec
                .unwrap_or(limits.requests_per_sec),
            limits.concurrent_requests,
        ),
        reader,
        requests: Default::default(),
    };

    let first_backfill = !job.backfill_done;
    if !job.backfill_done {
        if pages.reader.change_retention().is_some() && job.feed.checked_at.is_none() {
            // Changes made while the backfill reads are read from the feed after it.
            job.feed = feed::position_before_backfill(&pages).await?;
        }
        let before = *job.backfill_before.get_or_insert(started_at);
        let first_windows = pages
            .reader
            .backfill_windows(before)
            .await
            .map_err(|error| Stop::Failed {
                message: error.to_string(),
                retry_in: 60,
            })?;
        let windows = services
            .repository
            .start_backfill(
                job.id,
                &context.owner,
                before,
                &first_windows
                    .iter()
                    .map(|window| (window.from, window.until))
                    .collect::<Vec<_>>(),
            )
            .await?
            .ok_or(Stop::LeaseLost)?;
        backfill::walk_all(&pages, job, windows).await?;
        job.backfill_done = true;
    }

    let caught_up = match pages.reader.change_retention() {
        Some(retention) if !first_backfill => {
            let caught = feed::catch_up(&pages, job, retention).await?;
            RunProgress {
                read: caught.read,
                feed: caught.feed,
                full_read_at: caught.full_read_at,
            }
        }
        // The backfill read everything to now: changes during it come with the next run.
        Some(_) => RunProgress {
            read: RunRead {
                mode: ReadMode::Backfill,
                requests: pages.requests(),
                note: None,
            },
            feed: job.feed.clone(),
            full_read_at: job.full_read_at,
        },
        None => {
            // What is new since the previous run, and changes to recent records.
            let previous_run = job
                .incremental_from
                .or(job.backfill_before)
                .unwrap_or(started_at);
            let window = pages.reader.incremental_window(previous_run, started_at);
            read_windows(&pages, job, vec![window], started_at).await?;
            RunProgress {
                read: RunRead {
                    mode: if first_backfill {
                        ReadMode::Backfill
                    } else {
                        ReadMode::RecentWindow
                    },
                    requests: pages.requests(),
                    note: None,
                },
                feed: FeedPosition::default(),
                full_read_at: job.full_read_at,
            }
        }
    };
    // The day's exchange rates, once the token proved good, within the connection's concurrency
    // like every request of its sync; a failure there is no failure of the object's sync.
    if crate::fx::daily::rides_on(&provider, &job.object_name) {
        let _slot = pages.budget.request_slot().await;
        crate::fx::daily::keep_daily_rates(services, &provider, &connection, &token).await;
    }
    // The next run's windows are on the provider's clock, which may not be the server's.
    let offset = pages
        .reader
        .provider_now()
        .map_or(0, |provider_now| provider_now - now());
    Ok((started_at.saturating_add(offset), caught_up))
}

/// Reads windows to their end (newest first, unbounded above when `until` is `i64::MAX`),
/// storing every page; a window the provider refuses as too long is read in two halves.
pub(super) async fn read_windows(
    pages: &Pages<'_>,
    job: &SyncJob,
    mut windows: Vec<ReadWindow>,
    started_at: i64,
) -> Result<(), Stop> {
    while let Some(mut window) = windows.pop() {
        loop {
            let page = match pages.fetch(&window).await {
                // Refused as too long a range: read it in two halves (a window open above ends
                // now).
                Err(Stop::RangeTooLarge(message)) if window.cursor.is_none() => {
                    let until = window.until.min(started_at.saturating_add(86_400));
                    let at = window
                        .from
                        .and_then(|from| backfill::halve(from, until))
                        .ok_or(Stop::Failed {
                            message,
                            retry_in: 3_600,
                        })?;
                    windows.push(ReadWindow {
                        from: window.from,
                        until: at,
                        cursor: None,
                    });
                    window.from = Some(at);
                    continue;
                }
                other => other?,
            };
            pages
                .store(job, &page.objects, &PageCheckpoint::Incremental)
                .await?;
            match page.next {
                Some(next) => window.cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(())
}
