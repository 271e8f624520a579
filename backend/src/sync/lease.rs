//! A job's lease, held as long as its run lasts: renewed every third of its length (while the run
//! waits on a provider's `Retry-After`, backs off, or reads a long page), so that no other worker
//! or replica takes a job that is running. A run whose lease was taken over anyway (its worker was
//! cut off from the database for longer than the lease) is stopped where it is: its last stored
//! page is its checkpoint, and the new holder resumes from there.

use std::future::Future;
use std::time::Duration;

use super::SyncContext;
use crate::domain::SyncJobId;

/// Runs `run` while renewing the lease of `job` held by `context.owner`.
pub(super) async fn hold(context: &SyncContext, job: SyncJobId, run: impl Future<Output = ()>) {
    let lease_secs = context.services.settings.sync.lease_secs.max(1);
    let lease = i64::try_from(lease_secs).unwrap_or(60);
    let every = Duration::from_millis(lease_secs.saturating_mul(1000) / 3);
    let renew = async {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = super::now();
            match context
                .services
                .repository
                .renew_lease(job, &context.owner, now + lease)
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                // Tried again at the next tick; every stored page checks the lease anyway.
                Err(error) => {
                    tracing::warn!(job = job.0, error = %error, "could not renew a sync job's lease")
                }
            }
        }
    };
    tokio::select! {
        () = run => {}
        () = renew => {
            tracing::warn!(job = job.0, "another worker holds this sync job now: this run stops");
        }
    }
}
