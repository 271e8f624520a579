//! Pages of one object: fetched within the connection's rate and retried, stored with their
//! checkpoint under the job's lease.

use std::sync::Arc;
use std::time::Instant;

use secrecy::SecretString;

use super::fetch::{fetch_page, FetchError, Page, PageRequest};
use super::limiter::ConnectionBudget;
use super::SyncContext;
use crate::domain::{
    Connection, ConnectionStatus, PageCheckpoint, StoredObject, StoredPage, SyncJob,
};

/// Why a run stopped before completing.
pub(super) enum Stop {
    /// Another process holds the job now: leave it alone.
    LeaseLost,
    /// Record this error; try again on the schedule (after a backoff).
    Failed { message: String, retry_in: i64 },
}

impl From<crate::db::DbError> for Stop {
    fn from(error: crate::db::DbError) -> Self {
        Stop::Failed {
            message: format!("storing failed: {error}"),
            retry_in: 60,
        }
    }
}

/// How to read and store the pages of one object of one connection.
pub(super) struct Pages<'a> {
    pub context: &'a SyncContext,
    pub connection: &'a Connection,
    pub provider_name: &'static str,
    pub api_base: &'a str,
    pub path: String,
    pub token: SecretString,
    pub budget: Arc<ConnectionBudget>,
}

impl Pages<'_> {
    /// One page, within the connection's rate, retried with backoff on 429, 5xx, timeouts and
    /// malformed pages.
    pub async fn fetch(&self, request: &PageRequest) -> Result<Page, Stop> {
        let settings = &self.context.state.settings.sync;
        let policy = self.context.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.budget.bucket.until_ready().await;
            let sent = Instant::now();
            let result = fetch_page(
                &self.context.state.http,
                self.provider_name,
                self.api_base,
                &self.path,
                &self.token,
                request,
                self.page_size(),
            )
            .await;
            self.budget.record_latency(sent.elapsed());
            let wait = match result {
                Ok(page) => return Ok(page),
                Err(FetchError::Unauthorized) => {
                    self.context
                        .state
                        .repository
                        .set_connection_status(self.connection.id, ConnectionStatus::NeedsReconnect)
                        .await?;
                    tracing::warn!(slug = %self.connection.slug, "the provider refused the token: needs reconnect");
                    return Err(Stop::Failed {
                        message: format!(
                            "{} refused the connection's token: reconnect it",
                            self.provider_name
                        ),
                        retry_in: 86_400,
                    });
                }
                Err(refused @ FetchError::Refused { .. }) => {
                    return Err(Stop::Failed {
                        message: refused.to_string(),
                        retry_in: i64::try_from(settings.interval_secs).unwrap_or(900),
                    })
                }
                Err(FetchError::RateLimited { retry_after }) => {
                    policy.wait_after_rate_limit(attempt, retry_after)
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

    /// Objects per request (Stripe allows 1 to 100).
    pub fn page_size(&self) -> u32 {
        self.context.state.settings.sync.page_size.clamp(1, 100)
    }

    /// Stores a page with its checkpoint; `LeaseLost` when another process holds the job now.
    pub async fn store(
        &self,
        job: &SyncJob,
        objects: &[StoredObject],
        checkpoint: &PageCheckpoint,
    ) -> Result<StoredPage, Stop> {
        let now = super::now();
        let lease = i64::try_from(self.context.state.settings.sync.lease_secs).unwrap_or(60);
        self.context
            .state
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
            .ok_or(Stop::LeaseLost)
    }
}
