//! The subscriptions' histories of a connection, rebuilt from its stored subscriptions, invoices
//! and prices once per data version and shared by every subscription metric of the connection.
//! Rebuilding reads every invoice, so a dashboard of subscription metrics opened after a sync
//! reads and rebuilds once, not once per chart: concurrent charts wait for that one build.

use std::sync::Arc;

use allmetrics_subscriptions::SubscriptionHistory;

use crate::domain::ConnectionId;

pub type Histories = Arc<Vec<SubscriptionHistory>>;

pub struct SubscriptionHistories {
    entries: quick_cache::sync::Cache<String, Histories, HistoriesWeight>,
}

#[derive(Clone)]
pub struct HistoriesWeight;

impl quick_cache::Weighter<String, Histories> for HistoriesWeight {
    fn weight(&self, key: &String, histories: &Histories) -> u64 {
        let bytes = key.len() + histories.iter().map(approximate_bytes).sum::<usize>();
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

/// About what a history holds in memory: its strings and, per change, its items and discounts.
fn approximate_bytes(history: &SubscriptionHistory) -> usize {
    96 + history.id.len()
        + history.customer.len()
        + history
            .changes
            .iter()
            .map(|change| {
                64 + change
                    .state
                    .items
                    .iter()
                    .map(|item| 80 + item.price.len())
                    .sum::<usize>()
                    + change
                        .state
                        .discounts
                        .iter()
                        .map(|discount| 160 + discount.id.len())
                        .sum::<usize>()
            })
            .sum::<usize>()
}

/// What the histories depend on: the connection and the data versions of the objects read.
pub fn key(connection: ConnectionId, versions: &[(i64, i64)]) -> String {
    format!("{}|{versions:?}", connection.0)
}

impl SubscriptionHistories {
    pub fn new(bytes: u64) -> Self {
        Self {
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 1_048_576)
                    .unwrap_or(usize::MAX)
                    .max(4),
                bytes.max(1),
                HistoriesWeight,
            ),
        }
    }

    /// The kept histories of `key`, or a guard to fill it with; others asking for `key`
    /// meanwhile wait for the guard to be filled or dropped.
    pub async fn get_or_guard(&self, key: &str) -> Result<Histories, HistoriesGuard<'_>> {
        self.entries.get_value_or_guard_async(key).await
    }
}

pub type HistoriesGuard<'a> = quick_cache::sync::PlaceholderGuard<
    'a,
    String,
    Histories,
    HistoriesWeight,
    quick_cache::DefaultHashBuilder,
    quick_cache::sync::DefaultLifecycle<String, Histories>,
>;

#[cfg(test)]
mod tests {
    use super::*;

    fn history(id: &str) -> SubscriptionHistory {
        SubscriptionHistory {
            id: id.to_owned(),
            customer: "cus_1".to_owned(),
            changes: Vec::new(),
            canceled_at: None,
            trial: None,
        }
    }

    #[tokio::test]
    async fn a_build_is_kept_per_version_and_shared() {
        let cache = SubscriptionHistories::new(1 << 20);
        let first = key(ConnectionId(1), &[(7, 1)]);
        let Err(guard) = cache.get_or_guard(&first).await else {
            panic!("nothing is kept yet");
        };
        let _ = guard.insert(Arc::new(vec![history("sub_1")]));
        let kept = cache.get_or_guard(&first).await.ok().unwrap();
        assert_eq!(kept[0].id, "sub_1");
        // New data: another version, another build.
        let next = key(ConnectionId(1), &[(7, 2)]);
        assert!(cache.get_or_guard(&next).await.is_err());
        assert_ne!(first, key(ConnectionId(2), &[(7, 1)]));
    }

    #[test]
    fn weight_grows_with_changes() {
        let empty = approximate_bytes(&history("sub_1"));
        let mut changed = history("sub_1");
        changed.changes.push(allmetrics_subscriptions::Change {
            from: 0,
            state: allmetrics_subscriptions::SubscriptionState {
                items: Vec::new(),
                status: allmetrics_subscriptions::Status::Active,
                discounts: Vec::new(),
            },
        });
        assert!(approximate_bytes(&changed) > empty);
    }
}
