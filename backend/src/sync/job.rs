//! One run of one sync job: the backfill from its checkpoint, page by page, then an incremental
//! pass; every page is stored together with the checkpoint that follows it, so a crash or a
//! restart resumes exactly where it stopped, with no duplicate and no loss.

use secrecy::SecretString;

use super::fetch::{fetch_page, list_path, FetchError, PageRequest};
use super::SyncContext;
use crate::connect::{self, RefreshError};
use crate::domain::{Connection, ConnectionStatus, PageCheckpoint, RunOutcome, SyncJob};
use crate::providers::registry;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Why a run stopped before completing.
enum Stop {
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
        bucket: context
            .limiters
            .bucket(connection.id, requests_per_sec(context, &connection)),
    };

    if !job.backfill_done {
        let before = *job.backfill_before.get_or_insert(started_at);
        let request = |cursor: Option<String>| PageRequest {
            starting_after: cursor,
            created_lt: Some(before),
            created_gte: None,
        };
        let mut page = pages.fetch(&request(job.backfill_cursor.clone())).await?;
        loop {
            let last_id = page.objects.last().map(|object| object.object_id.clone());
            // A page that says "more" but holds nothing cannot move the cursor: it is the end.
            let more = page.has_more && last_id.is_some();
            let checkpoint = PageCheckpoint {
                backfill_before: Some(before),
                backfill_cursor: last_id.or_else(|| job.backfill_cursor.clone()),
                backfill_done: !more,
            };
            // The next page is fetched while this one is stored (and checkpointed): the provider's
            // latency and the database's overlap, with at most two pages in memory.
            let next_request = more.then(|| request(checkpoint.backfill_cursor.clone()));
            let (stored, next) =
                tokio::join!(pages.store(job, &page.objects, &checkpoint), async {
                    match &next_request {
                        Some(next_request) => Some(pages.fetch(next_request).await),
                        None => None,
                    }
                });
            stored?;
            job.backfill_cursor = checkpoint.backfill_cursor;
            match next {
                Some(next) => page = next?,
                None => {
                    job.backfill_done = true;
                    break;
                }
            }
        }
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
            .store(job, &page.objects, &PageCheckpoint::default())
            .await?;
        cursor = page.objects.last().map(|object| object.object_id.clone());
        if !page.has_more || cursor.is_none() {
            break;
        }
    }
    Ok(started_at)
}

struct Pages<'a> {
    context: &'a SyncContext,
    connection: &'a Connection,
    provider_name: &'static str,
    api_base: &'a str,
    path: String,
    token: SecretString,
    bucket: std::sync::Arc<governor::DefaultDirectRateLimiter>,
}

impl Pages<'_> {
    /// One page, within the connection's rate, retried with backoff on 429, 5xx, timeouts and
    /// malformed pages.
    async fn fetch(&self, request: &PageRequest) -> Result<super::fetch::Page, Stop> {
        let settings = &self.context.state.settings.sync;
        let policy = self.context.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.bucket.until_ready().await;
            let result = fetch_page(
                &self.context.state.http,
                self.provider_name,
                self.api_base,
                &self.path,
                &self.token,
                request,
                settings.page_size.clamp(1, 100),
            )
            .await;
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

    async fn store(
        &self,
        job: &SyncJob,
        objects: &[crate::domain::StoredObject],
        checkpoint: &PageCheckpoint,
    ) -> Result<u64, Stop> {
        let now = now();
        let lease = i64::try_from(self.context.state.settings.sync.lease_secs).unwrap_or(60);
        self.context
            .state
            .repository
            .store_page(
                job.id,
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
