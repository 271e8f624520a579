//! Sync: every object of every connection kept in the local store. A backfill reads the whole
//! history right after connecting, in windows of creation time read at once up to the
//! connection's rate (each checkpointed after every page); incremental syncs then read what is
//! new on a schedule and re-read a recent window. Jobs are leased in the database, each to one
//! worker, and the lease is renewed while the run lasts (waits included), so several workers and
//! replicas on one database never run the same job at once, and a dead replica's job is taken
//! over when its lease expires.

mod backfill;
mod feed;
mod job;
mod lease;
pub mod limiter;
mod pages;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use crate::db::{DbError, Repository};
use crate::domain::Connection;
use crate::services::Services;

/// What every job run of this process shares, and the name its leases are taken in.
pub struct SyncContext {
    pub services: Services,
    /// The name on the leases taken through this context: the scheduler's own, or one worker's
    /// (every claim of a job is made in a new worker name, so that one lease is one worker).
    pub owner: String,
    pub limiters: Arc<limiter::ConnectionLimiters>,
    pub retry: retry::RetryPolicy,
    /// Jobs running in this process: a job whose lease ran out while it ran (and that this
    /// process claims again) is not started a second time beside itself.
    running: Arc<std::sync::Mutex<std::collections::HashSet<crate::domain::SyncJobId>>>,
    /// Workers named so far.
    workers: Arc<std::sync::atomic::AtomicU64>,
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
            limiters: Default::default(),
            running: Default::default(),
            workers: Default::default(),
            retry,
        })
    }

    /// A worker of this process: the same shared parts, a lease name of its own.
    fn worker(&self) -> Arc<Self> {
        let number = self
            .workers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Arc::new(Self {
            services: self.services.clone(),
            owner: format!("{}-{number}", self.owner),
            limiters: self.limiters.clone(),
            retry: self.retry,
            running: self.running.clone(),
            workers: self.workers.clone(),
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

/// What one look for due jobs did.
#[derive(Default)]
struct Claims {
    /// Jobs started.
    started: usize,
    /// Jobs claimed again while they ran here (their lease had run out between two renewals):
    /// not started twice; the running worker stops at its next page, and the job can be taken
    /// again once this claim expires.
    held: usize,
}

/// Claims the due jobs this process has room for, one per worker, and runs them.
async fn run_due(
    context: &Arc<SyncContext>,
    room: usize,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Claims {
    let lease = i64::try_from(context.services.settings.sync.lease_secs).unwrap_or(60);
    let mut claims = Claims::default();
    for _ in 0..room {
        let worker = context.worker();
        let now = now();
        let claimed = match context
            .services
            .repository
            .claim_due_jobs(&worker.owner, now, now + lease, 1)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %error, "could not look for due sync jobs");
                break;
            }
        };
        let Some(sync_job) = claimed.into_iter().next() else {
            break;
        };
        if !context.start_running(sync_job.id) {
            claims.held += 1;
            continue;
        }
        claims.started += 1;
        tasks.spawn(async move {
            let id = sync_job.id;
            lease::hold(&worker, id, job::run(&worker, sync_job)).await;
            worker.stop_running(id);
        });
    }
    claims
}

/// The scheduler of this process: runs due jobs, at most `max_concurrent_jobs` at a time.
pub async fn run_forever(context: Arc<SyncContext>) {
    let settings = &context.services.settings.sync;
    let poll = Duration::from_secs(settings.poll_interval_secs.max(1));
    let limit = settings.max_concurrent_jobs.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let claims = run_due(&context, limit.saturating_sub(tasks.len()), &mut tasks).await;
        if claims.started == 0 {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}

/// Runs jobs until none is due (tests and tools drive syncs with it).
pub async fn run_until_idle(context: &Arc<SyncContext>) {
    let settings = &context.services.settings.sync;
    let limit = settings.max_concurrent_jobs.max(1);
    let lease = Duration::from_secs(settings.lease_secs.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    let mut held = false;
    loop {
        let claims = run_due(context, limit.saturating_sub(tasks.len()), &mut tasks).await;
        held |= claims.held > 0;
        if claims.started == 0 && tasks.join_next().await.is_none() {
            if !held {
                return;
            }
            // A job claimed again while it ran here may have stopped since, its claim not yet
            // expired: it is due again once the claim runs out, not idle.
            held = false;
            tokio::time::sleep(lease + Duration::from_millis(100)).await;
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
