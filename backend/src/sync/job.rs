//! One run of one sync job: the backfill from its checkpoints (its time windows, page by page,
//! several at once), then an incremental pass; every page is stored together with the checkpoint
//! that follows it, so a crash or a restart resumes exactly where it stopped, with no duplicate
//! and no loss.

use super::fetch::{list_path, PageRequest};
use super::pages::{Pages, Stop};
use super::{backfill, now, SyncContext};
use crate::connect::{self, RefreshError};
use crate::domain::{Connection, ConnectionStatus, PageCheckpoint, RunOutcome, SyncJob};
use crate::providers::registry;

/// The provider's request rate for this connection: configured, or Stripe's (100/s live, 25/s
/// in test mode).
fn requests_per_sec(context: &SyncContext, connection: &Connection) -> u32 {
    if let Some(rate) = context.state.settings.sync.requests_per_sec {
        return rate;
    }
    if connection.token_response["livemode"].as_bool() == Some(true) {
        100
    } else {
        25
    }
}

pub async fn run(context: &SyncContext, mut job: SyncJob) {
    let repository = &context.state.repository;
    let result = run_pages(context, &mut job).await;
    let now = now();
    let interval = i64::try_from(context.state.settings.sync.interval_secs).unwrap_or(900);
    let outcome = match result {
        Err(Stop::LeaseLost) => return,
        Ok(started_at) => RunOutcome {
            next_run_at: now + interval,
            last_error: None,
            failures: 0,
            incremental_from: Some(started_at),
            last_synced_at: Some(now),
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

/// Runs the backfill (if not done) and an incremental pass. Returns when the run started (the
/// next incremental pass reads from there, less the recent window).
async fn run_pages(context: &SyncContext, job: &mut SyncJob) -> Result<i64, Stop> {
    let state = &context.state;
    let started_at = now();
    let connection = state
        .repository
        .connection_by_id(job.connection_id)
        .await?
        .ok_or(Stop::LeaseLost)?;
    if connection.status == ConnectionStatus::NeedsReconnect {
        return Err(Stop::Failed {
            message: "the connection needs to be reconnected".into(),
            retry_in: 86_400,
        });
    }
    let source = state
        .repository
        .data_source_by_slug(&connection.slug)
        .await?
        .ok_or(Stop::LeaseLost)?;
    let provider =
        registry::resolve(&state.settings, &state.base_url, &source).ok_or_else(|| {
            Stop::Failed {
                message: "this data source's provider is not available".into(),
                retry_in: 86_400,
            }
        })?;
    let token = match connect::access_token(state, &connection).await {
        Ok(token) => token,
        Err(RefreshError::NeedsReconnect) => {
            return Err(Stop::Failed {
                message: "the provider refused the connection's token: reconnect it".into(),
                retry_in: 86_400,
            })
        }
        Err(error) => {
            return Err(Stop::Failed {
                message: error.to_string(),
                retry_in: 60,
            })
        }
    };
    let pages = Pages {
        context,
        connection: &connection,
        provider_name: provider.provider.default_name(),
        api_base: &provider.api_base,
        path: list_path(provider.provider.catalogue(), &job.object_name),
        token,
        budget: context
            .limiters
            .budget(connection.id, requests_per_sec(context, &connection)),
    };

    if !job.backfill_done {
        job.backfill_before.get_or_insert(started_at);
        let windows = state
            .repository
            .start_backfill(job.id, &context.owner, started_at)
            .await?
            .ok_or(Stop::LeaseLost)?;
        backfill::walk_all(&pages, job, windows).await?;
        job.backfill_done = true;
    }

    // Objects created since the backfill began, and changes to recent ones.
    let window = i64::try_from(state.settings.sync.recent_window_secs).unwrap_or(0);
    let from = job
        .incremental_from
        .or(job.backfill_before)
        .unwrap_or(started_at)
        .saturating_sub(window);
    let mut cursor: Option<String> = None;
    loop {
        let page = pages
            .fetch(&PageRequest {
                starting_after: cursor.clone(),
                created_gte: Some(from),
                created_lt: None,
            })
            .await?;
        pages
            .store(job, &page.objects, &PageCheckpoint::Incremental)
            .await?;
        cursor = page.objects.last().map(|object| object.object_id.clone());
        if !page.has_more || cursor.is_none() {
            break;
        }
    }
    Ok(started_at)
}
