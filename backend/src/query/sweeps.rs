//! Every subscription metric of one window at once. The charts of a dashboard ask for the same
//! window of the same histories: one timeline and one sweep serve them all, kept until the data,
//! the rates or the settings change, and the charts asked for together wait for the first one's
//! computation instead of each doing it again. The rates to the reporting currency, which every
//! window converts with, are kept too, until the stored rates change.

use std::collections::BTreeMap;
use std::sync::Arc;

use allmetrics_subscriptions::{FxRates, MetricKind, Series};

pub type AllSeries = Arc<BTreeMap<MetricKind, Series>>;

pub struct SubscriptionSweeps {
    entries: quick_cache::sync::Cache<String, AllSeries, SweepWeight>,
    rates: quick_cache::sync::Cache<String, Arc<FxRates>, RatesWeight>,
}

#[derive(Clone)]
pub struct RatesWeight;

impl quick_cache::Weighter<String, Arc<FxRates>> for RatesWeight {
    fn weight(&self, key: &String, rates: &Arc<FxRates>) -> u64 {
        // A BTreeMap entry of (instant, rate) and its share of the nodes.
        u64::try_from(key.len() + 256 + 40 * rates.len()).unwrap_or(u64::MAX)
    }
}

#[derive(Clone)]
pub struct SweepWeight;

impl quick_cache::Weighter<String, AllSeries> for SweepWeight {
    fn weight(&self, key: &String, all: &AllSeries) -> u64 {
        let bytes = key.len()
            + all
                .values()
                .map(|series| {
                    24 * series.total.len()
                        + series
                            .groups
                            .iter()
                            .map(|(name, values)| 64 + name.len() + 24 * values.len())
                            .sum::<usize>()
                })
                .sum::<usize>();
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

pub type SweepGuard<'a> = quick_cache::sync::PlaceholderGuard<
    'a,
    String,
    AllSeries,
    SweepWeight,
    quick_cache::DefaultHashBuilder,
    quick_cache::sync::DefaultLifecycle<String, AllSeries>,
>;

impl SubscriptionSweeps {
    pub fn new(bytes: u64) -> Self {
        Self {
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 65_536).unwrap_or(usize::MAX).max(4),
                bytes.max(1),
                SweepWeight,
            ),
            rates: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 65_536).unwrap_or(usize::MAX).max(4),
                (bytes / 8).max(1),
                RatesWeight,
            ),
        }
    }

    /// The kept series of `key`, or a guard to fill it with; others asking for `key` meanwhile
    /// wait for the guard to be filled or dropped.
    pub async fn get_or_guard(&self, key: &str) -> Result<AllSeries, SweepGuard<'_>> {
        self.entries.get_value_or_guard_async(key).await
    }

    /// The kept rates of `key` (a connection, its rates' version, the reporting currency and
    /// the currencies converted), or `read`'s, then kept.
    pub async fn rates<E>(
        &self,
        key: &str,
        read: impl std::future::Future<Output = Result<FxRates, E>>,
    ) -> Result<Arc<FxRates>, E> {
        match self.rates.get_value_or_guard_async(key).await {
            Ok(rates) => Ok(rates),
            Err(guard) => {
                let rates = Arc::new(read.await?);
                let _ = guard.insert(rates.clone());
                Ok(rates)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sweep_is_computed_once_and_shared() {
        let sweeps = SubscriptionSweeps::new(1 << 20);
        let Err(guard) = sweeps.get_or_guard("a").await else {
            panic!("nothing is kept yet");
        };
        let mut all = BTreeMap::new();
        all.insert(
            MetricKind::Mrr,
            Series {
                total: vec![None; 3],
                groups: BTreeMap::new(),
            },
        );
        let _ = guard.insert(Arc::new(all));
        let kept = sweeps.get_or_guard("a").await.ok().unwrap();
        assert_eq!(kept[&MetricKind::Mrr].total.len(), 3);
        assert!(sweeps.get_or_guard("b").await.is_err());
    }
}
