//! Sync: every object of every connection kept in the local store. A backfill reads the whole
//! history right after connecting, in windows of creation time read at once up to the
//! connection's rate (each checkpointed after every page); incremental syncs then read what is
//! new on a schedule and re-read a recent window. Jobs are leased in the database, so
//! several replicas on one PostgreSQL never run the same job at once, and a dead replica's job is
//! taken over when its lease expires.

mod backfill;
mod feed;
mod job;
pub mod limiter;
mod pages;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use crate::db::{DbError, Repository};
use crate::domain::Connection;
use crate::services::Services;

/// What every job run of this process shares.
pub struct SyncContext {
    pub services: Services,
    /// This process's name on the leases it takes.
    pub owner: String,
    pub limiters: limiter::ConnectionLimiters,
    pub retry: retry::RetryPolicy,
    /// Jobs running in this process: a job whose lease ran out while it ran (and that this
    /// process claims again) is not started a second time beside itself.
    running: std::sync::Mutex<std::collections::HashSet<crate::domain::SyncJobId>>,
}

impl SyncContext {
    /// Marks the job as running here; `false` when it already is.
    fn start_running(&self, job: crate::domain::SyncJobId) -> bool {
        match self.running.lock() {
            Ok(mut running) => running.insert(job),
            Err(poisoned) => poisoned.into_inner().insert(job),
        }
    }

    fn stop_running(&self, job: crate::domain::SyncJobId) {
        match self.running.lock() {
            Ok(mut running) => running.remove(&job),
            Err(poisoned) => poisoned.into_inner().remove(&job),
        };
    }
}

impl SyncContext {
    pub fn new(services: Services) -> Arc<Self> {
        let settings = &services.settings.sync;
        let retry = retry::RetryPolicy {
            max_attempts: settings.max_attempts.max(1),
            base: Duration::from_millis(settings.retry_base_ms),
            cap: Duration::from_millis(settings.retry_cap_ms),
        };
        Arc::new(Self {
            owner: format!("allmetrics-{}", uuid::Uuid::new_v4().simple()),
            services,
            limiters: limiter::ConnectionLimiters::default(),
            running: Default::default(),
            retry,
        })
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Creates the jobs of the connection's enabled objects (for providers whose data can be read)
/// and makes them all due now: after a connect, after an account is chosen, and for a manual
/// sync. A connection that must choose an account first gets none yet.
pub async fn schedule(services: &Services, connection: &Connection) -> Result<u64, DbError> {
    let Some(source) = services
        .repository
        .data_source_by_slug(&connection.slug)
        .await?
    else {
        return Ok(0);
    };
    let syncs = services.resolve(&source).is_some_and(|provider| {
        provider.provider.reads_data()
            && !(provider.provider.chooses_account() && connection.account.is_none())
    });
    if !syncs {
        return Ok(0);
    }
    let objects: Vec<String> = services
        .repository
        .list_routing_sources(source.id, false)
        .await?
        .into_iter()
        .map(|object| object.object_name)
        .collect();
    services
        .repository
        .ensure_sync_jobs(connection.id, &objects, now())
        .await?;
    services
        .repository
        .schedule_sync_now(connection.id, now())
        .await
}

/// Claims the due jobs this process has room for and runs them; returns how many it started.
async fn run_due(
    context: &Arc<SyncContext>,
    room: usize,
    tasks: &mut tokio::task::JoinSet<()>,
) -> usize {
    if room == 0 {
        return 0;
    }
    let lease = i64::try_from(context.services.settings.sync.lease_secs).unwrap_or(60);
    let now = now();
    let jobs = match context
        .services
        .repository
        .claim_due_jobs(
            &context.owner,
            now,
            now + lease,
            i64::try_from(room).unwrap_or(1),
        )
        .await
    {
        Ok(jobs) => jobs,
        Err(error) => {
            tracing::warn!(error = %error, "could not look for due sync jobs");
            return 0;
        }
    };
    let mut started = 0;
    for sync_job in jobs {
        if !context.start_running(sync_job.id) {
            // Claimed again while it runs: the running task goes on (its lease was extended).
            continue;
        }
        started += 1;
        let context = context.clone();
        tasks.spawn(async move {
            let id = sync_job.id;
            job::run(&context, sync_job).await;
            context.stop_running(id);
        });
    }
    started
}

/// The scheduler of this process: runs due jobs, at most `max_concurrent_jobs` at a time.
pub async fn run_forever(context: Arc<SyncContext>) {
    let settings = &context.services.settings.sync;
    let poll = Duration::from_secs(settings.poll_interval_secs.max(1));
    let limit = settings.max_concurrent_jobs.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let started = run_due(&context, limit.saturating_sub(tasks.len()), &mut tasks).await;
        if started == 0 {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}

/// Runs jobs until none is due (tests and tools drive syncs with it).
pub async fn run_until_idle(context: &Arc<SyncContext>) {
    let limit = context.services.settings.sync.max_concurrent_jobs.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let started = run_due(context, limit.saturating_sub(tasks.len()), &mut tasks).await;
        if started == 0 && tasks.join_next().await.is_none() {
            return;
        }
    }
}

/// The sync progress of a connection, for `GET /api/v1/connections/{slug}/sync`.
pub async fn status(
    repository: &dyn Repository,
    connection: &Connection,
) -> Result<allmetrics_common::SyncStatus, DbError> {
    use allmetrics_common::{ObjectSyncStatus, SyncStatus};
    let jobs = repository.sync_jobs(connection.id).await?;
    let to_rfc3339 =
        |at: i64| chrono::DateTime::<chrono::Utc>::from_timestamp(at, 0).map(|at| at.to_rfc3339());
    let running = jobs.iter().any(|job| !job.backfill_done);
    let state_name = if connection.status == crate::domain::ConnectionStatus::NeedsReconnect {
        "needs_reconnect"
    } else if running {
        "backfilling"
    } else if jobs.is_empty() {
        "not_synced"
    } else {
        "idle"
    };
    Ok(SyncStatus {
        state: state_name.into(),
        objects: jobs
            .iter()
            .map(|job| {
                (
                    job.object_name.clone(),
                    ObjectSyncStatus {
                        synced: job.objects_synced,
                        done: job.backfill_done,
                        last_error: job.last_error.clone(),
                        last_synced_at: job.last_synced_at.and_then(to_rfc3339),
                        read_mode: job
                            .last_read
                            .as_ref()
                            .map(|read| read.mode.as_str().to_string()),
                        requests: job.last_read.as_ref().map(|read| read.requests),
                        note: job.last_read.as_ref().and_then(|read| read.note.clone()),
                    },
                )
            })
            .collect(),
        last_synced_at: jobs
            .iter()
            .filter_map(|job| job.last_synced_at)
            .max()
            .and_then(to_rfc3339),
        last_error: jobs.iter().find_map(|job| job.last_error.clone()),
    })
}
