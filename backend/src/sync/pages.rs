//! Pages of one object: read through the provider's reader within the connection's rate, retried,
//! and stored with their checkpoint under the job's lease.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::limiter::ConnectionBudget;
use super::SyncContext;
use crate::domain::{PageCheckpoint, StoredObject, StoredPage, SyncJob};
use crate::providers::reader::{FetchError, Page, ReadWindow, Reader};

/// Waits longer than this end the run instead: it resumes from its checkpoint when they are over,
/// without holding a lease meanwhile.
const LONGEST_WAIT_IN_RUN: Duration = Duration::from_secs(30);

/// Why a run stopped before completing.
pub(super) enum Stop {
    /// Another process holds the job now: leave it alone.
    LeaseLost,
    /// Record this error; try again on the schedule (after a backoff).
    Failed { message: String, retry_in: i64 },
    /// The provider refused the token: refresh it, or the user must reconnect.
    Unauthorized,
    /// The provider refuses so long a time range: cut the window.
    RangeTooLarge(String),
}

impl From<crate::db::DbError> for Stop {
    fn from(error: crate::db::DbError) -> Self {
        Stop::Failed {
            message: format!("storing failed: {error}"),
            retry_in: 60,
        }
    }
}

/// Ends the run until `wait` is over (seconds, rounded up).
fn pause(provider: &str, wait: Duration) -> Stop {
    let seconds = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2) + 1;
    Stop::Failed {
        message: format!("{provider} asked to wait: the sync resumes in {seconds} s"),
        retry_in: seconds,
    }
}

/// How to read and store the pages of one object of one connection.
pub(super) struct Pages<'a> {
    pub context: &'a SyncContext,
    pub provider_name: &'static str,
    pub reader: Box<dyn Reader>,
    pub budget: Arc<ConnectionBudget>,
    pub requests: AtomicU64,
}

impl Pages<'_> {
    /// One page, within the connection's rate and concurrency, retried with backoff on 429, 5xx,
    /// timeouts and malformed pages.
    pub async fn fetch(&self, window: &ReadWindow) -> Result<Page, Stop> {
        let page = self.call(|| self.reader.page(window)).await?;
        if let Some(wait) = page.slow_down {
            self.budget.pause(wait);
        }
        Ok(page)
    }

    /// One request of the reader's, within the connection's rate and concurrency, retried with
    /// backoff on 429, 5xx, timeouts and malformed answers.
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T, Stop>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, FetchError>>,
    {
        let settings = &self.context.services.settings.sync;
        let policy = self.context.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(wait) = self.budget.paused_for() {
                if wait > LONGEST_WAIT_IN_RUN {
                    return Err(pause(self.provider_name, wait));
                }
                tokio::time::sleep(wait).await;
            }
            self.budget.bucket.until_ready().await;
            let result = {
                let _in_flight = self.budget.request_slot().await;
                let sent = Instant::now();
                self.requests.fetch_add(1, Ordering::Relaxed);
                let result = request().await;
                self.budget.record_latency(sent.elapsed());
                let metrics = &self.context.services.metrics;
                metrics.sync_request(self.provider_name, result.as_ref().err());
                result
            };
            let wait = match result {
                Ok(answer) => return Ok(answer),
                Err(FetchError::Unauthorized) => return Err(Stop::Unauthorized),
                Err(FetchError::RangeTooLarge(message)) => {
                    return Err(Stop::RangeTooLarge(message))
                }
                Err(refused @ FetchError::Refused { .. }) => {
                    return Err(Stop::Failed {
                        message: refused.to_string(),
                        retry_in: i64::try_from(settings.interval_secs).unwrap_or(900),
                    })
                }
                Err(FetchError::RateLimited { retry_after }) => {
                    let wait = policy.wait_after_rate_limit(attempt, retry_after);
                    if wait > LONGEST_WAIT_IN_RUN {
                        self.budget.pause(wait);
                        return Err(pause(self.provider_name, wait));
                    }
                    wait
                }
                Err(FetchError::Transient(message)) => {
                    if attempt >= policy.max_attempts {
                        return Err(Stop::Failed {
                            message,
                            retry_in: 60,
                        });
                    }
                    policy.backoff(attempt)
                }
            };
            if attempt >= policy.max_attempts {
                return Err(Stop::Failed {
                    message: format!("{} kept answering 429", self.provider_name),
                    retry_in: 60,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Requests made to the provider so far in this run, retries included.
    pub fn requests(&self) -> i64 {
        i64::try_from(self.requests.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
    }

    /// Backfill windows walked at once for the connection, at most.
    pub fn max_walks(&self) -> usize {
        self.context
            .services
            .settings
            .sync
            .max_windows_per_connection
    }

    /// Stores a page with its checkpoint; `LeaseLost` when another process holds the job now.
    pub async fn store(
        &self,
        job: &SyncJob,
        objects: &[StoredObject],
        checkpoint: &PageCheckpoint,
    ) -> Result<StoredPage, Stop> {
        let now = super::now();
        let lease = i64::try_from(self.context.services.settings.sync.lease_secs).unwrap_or(60);
        let stored = self
            .context
            .services
            .repository
            .store_page(
                job,
                &self.context.owner,
                objects,
                checkpoint,
                now,
                now + lease,
            )
            .await?
            .ok_or(Stop::LeaseLost)?;
        let metrics = &self.context.services.metrics;
        metrics.objects_stored(self.provider_name, objects.len());
        Ok(stored)
    }
}
