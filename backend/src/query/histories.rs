//! The subscriptions' histories of a connection, rebuilt from its stored subscriptions, invoices
//! and prices and kept per connection, with the revision of every object they were built from.
//! After new data, the objects written since are learnt from their jobs' last writes (or, when
//! those are no longer kept, from every id and revision, read from their index); those objects
//! are read again, and only the subscriptions they touch are rebuilt: a sync's page of ten
//! subscriptions costs ten rebuilds, not a read of every invoice. Prices changing, or a large
//! share of the objects, rebuild everything. One build at a time per connection: the charts of
//! a dashboard opened together wait for the first one's.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use allmetrics_subscriptions::SubscriptionHistory;

use crate::db::SharedRepository;
use crate::domain::{ConnectionId, RevisedObject};
use crate::error::ApiError;
use crate::providers::{Provider, StoredSubscriptions, SubscriptionObjects};

pub type Histories = Arc<Vec<SubscriptionHistory>>;

/// The sync job (id, data version) of each object the histories are built from (subscriptions,
/// invoices, prices), when it has one: every write of an object moves its job's version.
pub type Versions = [Option<(i64, i64)>; 3];

/// Above this share of changed objects, everything is read again at once.
const INCREMENTAL_SHARE: usize = 4;

/// Up to this many histories added by an update are put in place one by one (each moves the
/// histories after it); more are appended and sorted in.
const FEW_ADDED: usize = 32;

pub struct SubscriptionHistories {
    entries: quick_cache::sync::Cache<ConnectionId, Weighed, EntryWeight>,
}

/// One connection's kept histories; its lock makes builds of one connection take turns.
#[derive(Default)]
pub struct Entry {
    kept: tokio::sync::Mutex<Option<Kept>>,
}

/// An entry with its size when it was put in the cache (a weight must not change in place).
#[derive(Clone)]
pub struct Weighed {
    entry: Arc<Entry>,
    bytes: u64,
}

#[derive(Clone)]
pub struct EntryWeight;

impl quick_cache::Weighter<ConnectionId, Weighed> for EntryWeight {
    fn weight(&self, _key: &ConnectionId, weighed: &Weighed) -> u64 {
        weighed.bytes.max(1)
    }
}

/// What a connection's histories were built from, to bring them up to date.
struct Kept {
    /// The data versions of the objects' sync jobs when they were last brought up to date.
    versions: Versions,
    /// The revision of every object read, per object: subscriptions, invoices, prices.
    revisions: [HashMap<String, i64>; 3],
    /// The subscriptions each invoice bills, and the invoices of each subscription.
    billed: HashMap<String, Vec<String>>,
    invoices_of: HashMap<String, BTreeSet<String>>,
    /// Every price: each rebuild needs them.
    prices: Vec<serde_json::Value>,
    histories: Histories,
    /// The estimated bytes of the prices and histories, kept as they change (summing 10,000
    /// histories again after every sync's page took longer than rebuilding its subscriptions).
    held_bytes: usize,
}

const SUBSCRIPTIONS: usize = 0;
const INVOICES: usize = 1;
const PRICES: usize = 2;

impl SubscriptionHistories {
    pub fn new(bytes: u64) -> Self {
        Self {
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 1_048_576)
                    .unwrap_or(usize::MAX)
                    .max(4),
                bytes.max(1),
                EntryWeight,
            ),
        }
    }

    /// The connection's histories at these data versions of its objects: the kept ones, or
    /// brought up to date from the store.
    pub async fn histories(
        &self,
        repository: &SharedRepository,
        provider: &'static dyn Provider,
        connection: ConnectionId,
        objects: SubscriptionObjects,
        versions: &Versions,
    ) -> Result<Histories, ApiError> {
        // One entry per connection, even for requests that arrive together.
        let entry = self
            .entries
            .get_or_insert_with(&connection, || {
                Ok::<_, std::convert::Infallible>(Weighed {
                    entry: Arc::default(),
                    bytes: 1,
                })
            })
            .map_or_else(|never| match never {}, |weighed| weighed.entry);
        let mut kept = entry.kept.lock().await;
        if let Some(kept) = kept.as_ref().filter(|kept| kept.versions == *versions) {
            return Ok(kept.histories.clone());
        }
        let reader = Reader {
            repository,
            provider,
            connection,
            names: objects.names(),
        };
        let updated = reader.update(kept.take(), *versions).await?;
        let histories = updated.histories.clone();
        let bytes = updated.bytes();
        *kept = Some(updated);
        drop(kept);
        // Weighed again at its new size.
        self.entries.insert(
            connection,
            Weighed {
                entry: entry.clone(),
                bytes,
            },
        );
        Ok(histories)
    }
}

struct Reader<'a> {
    repository: &'a SharedRepository,
    provider: &'static dyn Provider,
    connection: ConnectionId,
    names: [&'static str; 3],
}

impl Reader<'_> {
    async fn update(&self, previous: Option<Kept>, versions: Versions) -> Result<Kept, ApiError> {
        let Some(previous) = previous else {
            return self.rebuild_all(versions).await;
        };
        // Only the objects whose job's version moved were written since: the job's last writes
        // name them; further back, or for another job, every id and revision is compared.
        let mut changes: [Changes; 3] = Default::default();
        let mut total = 0;
        for (kind, name) in self.names.iter().enumerate() {
            if previous.versions[kind] == versions[kind] {
                total += previous.revisions[kind].len();
                continue;
            }
            let written = match (previous.versions[kind], versions[kind]) {
                (Some((job, before)), Some((now_job, _))) if job == now_job => {
                    self.repository
                        .objects_written_since(crate::domain::SyncJobId(job), before)
                        .await?
                }
                _ => None,
            };
            if let Some(written) = written {
                total += previous.revisions[kind].len();
                changes[kind] = Changes::written(written);
                continue;
            }
            let stored: HashMap<String, i64> = self
                .repository
                .object_revisions(self.connection, name)
                .await?
                .into_iter()
                .collect();
            total += stored.len();
            changes[kind] = Changes::between(&previous.revisions[kind], &stored);
        }
        let changed: usize = changes.iter().map(Changes::len).sum();
        if !changes[PRICES].is_empty() || changed * INCREMENTAL_SHARE > total {
            return self.rebuild_all(versions).await;
        }
        if changed == 0 {
            return Ok(Kept {
                versions,
                ..previous
            });
        }
        self.rebuild_some(previous, versions, &changes).await
    }

    /// Reads every object and rebuilds every history.
    async fn rebuild_all(&self, versions: Versions) -> Result<Kept, ApiError> {
        let mut read: [Vec<RevisedObject>; 3] = Default::default();
        for (kind, name) in self.names.iter().enumerate() {
            read[kind] = self
                .repository
                .stored_objects(self.connection, name)
                .await?;
        }
        let provider = self.provider;
        let kept = tokio::task::spawn_blocking(move || {
            let [subscriptions, invoices, prices] = read.map(parse_all);
            let mut kept = Kept {
                versions,
                revisions: Default::default(),
                billed: HashMap::new(),
                invoices_of: HashMap::new(),
                prices: Vec::new(),
                histories: Arc::default(),
                held_bytes: 0,
            };
            for invoice in &invoices {
                kept.bill(invoice, provider.billed_subscriptions(&invoice.data));
            }
            let stored = StoredSubscriptions {
                subscriptions: kept.take_in(SUBSCRIPTIONS, subscriptions),
                invoices: kept.take_in(INVOICES, invoices),
                prices: kept.take_in(PRICES, prices),
            };
            kept.prices = stored.prices.clone();
            kept.histories = Arc::new(provider.subscription_histories(stored));
            kept.held_bytes = kept
                .prices
                .iter()
                .map(|price| 512 + price.to_string().len())
                .chain(kept.histories.iter().map(approximate_bytes))
                .sum();
            kept
        })
        .await
        .map_err(ApiError::internal)?;
        Ok(kept)
    }

    /// Rebuilds the subscriptions that changed or whose invoices did.
    async fn rebuild_some(
        &self,
        mut kept: Kept,
        versions: Versions,
        changes: &[Changes; 3],
    ) -> Result<Kept, ApiError> {
        let mut touched: BTreeSet<String> = BTreeSet::new();
        touched.extend(changes[SUBSCRIPTIONS].changed.iter().cloned());
        touched.extend(changes[SUBSCRIPTIONS].removed.iter().cloned());
        for removed in &changes[INVOICES].removed {
            touched.extend(kept.unbill(removed));
            kept.revisions[INVOICES].remove(removed);
        }
        for removed in &changes[SUBSCRIPTIONS].removed {
            kept.revisions[SUBSCRIPTIONS].remove(removed);
        }
        let invoices = parse_all(
            self.repository
                .stored_objects_by_id(
                    self.connection,
                    self.names[INVOICES],
                    &changes[INVOICES].changed,
                )
                .await?,
        );
        for invoice in &invoices {
            kept.revisions[INVOICES].insert(invoice.object_id.clone(), invoice.revision);
            touched.extend(kept.unbill(&invoice.object_id));
            let billed = self.provider.billed_subscriptions(&invoice.data);
            touched.extend(billed.iter().cloned());
            kept.bill(invoice, billed);
        }
        let touched: Vec<String> = touched.into_iter().collect();
        let subscriptions = self
            .repository
            .stored_objects_by_id(self.connection, self.names[SUBSCRIPTIONS], &touched)
            .await?;
        let their_invoices: Vec<String> = touched
            .iter()
            .filter_map(|subscription| kept.invoices_of.get(subscription))
            .flatten()
            .cloned()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        let invoices = self
            .repository
            .stored_objects_by_id(self.connection, self.names[INVOICES], &their_invoices)
            .await?;
        let provider = self.provider;
        let kept = tokio::task::spawn_blocking(move || {
            let [subscriptions, invoices] = [subscriptions, invoices].map(parse_all);
            let stored = StoredSubscriptions {
                subscriptions: kept.take_in(SUBSCRIPTIONS, subscriptions),
                invoices: kept.take_in(INVOICES, invoices),
                prices: kept.prices.clone(),
            };
            let rebuilt: HashMap<String, SubscriptionHistory> = provider
                .subscription_histories(stored)
                .into_iter()
                .map(|history| (history.id.clone(), history))
                .collect();
            // In place when no chart holds the previous histories any more (copied otherwise).
            let histories = Arc::make_mut(&mut kept.histories);
            let touched: BTreeSet<String> =
                touched.into_iter().chain(rebuilt.keys().cloned()).collect();
            kept.held_bytes = replace_touched(histories, kept.held_bytes, touched, rebuilt);
            Kept { versions, ..kept }
        })
        .await
        .map_err(ApiError::internal)?;
        Ok(kept)
    }
}

impl Kept {
    /// Notes the revisions of objects read and hands over their data.
    fn take_in(&mut self, kind: usize, objects: Vec<ParsedObject>) -> Vec<serde_json::Value> {
        objects
            .into_iter()
            .map(|object| {
                self.revisions[kind].insert(object.object_id, object.revision);
                object.data
            })
            .collect()
    }

    /// Notes which subscriptions an invoice bills.
    fn bill(&mut self, invoice: &ParsedObject, subscriptions: Vec<String>) {
        for subscription in &subscriptions {
            self.invoices_of
                .entry(subscription.clone())
                .or_default()
                .insert(invoice.object_id.clone());
        }
        self.billed.insert(invoice.object_id.clone(), subscriptions);
    }

    /// Forgets what an invoice billed; the subscriptions it billed.
    fn unbill(&mut self, invoice: &str) -> Vec<String> {
        let billed = self.billed.remove(invoice).unwrap_or_default();
        for subscription in &billed {
            if let Some(invoices) = self.invoices_of.get_mut(subscription) {
                invoices.remove(invoice);
                if invoices.is_empty() {
                    self.invoices_of.remove(subscription);
                }
            }
        }
        billed
    }

    /// About what it holds in memory, counted by entries of ids of about `ID_BYTES` (measuring
    /// every id of a hundred thousand invoices after each sync's page took milliseconds).
    fn bytes(&self) -> u64 {
        const ID_BYTES: usize = 32;
        let ids: usize = self.revisions.iter().map(HashMap::len).sum::<usize>() * (64 + ID_BYTES);
        // An invoice bills one subscription, mostly: its entry, and its place in the
        // subscription's set.
        let billed = self.billed.len() * (2 * (64 + ID_BYTES) + 2 * (32 + ID_BYTES));
        u64::try_from(ids + billed + self.held_bytes).unwrap_or(u64::MAX)
    }
}

/// Puts the rebuilt histories of the `touched` subscriptions in `histories` (in id order),
/// and takes out those touched but not rebuilt (gone, or not rebuilt); the bytes they hold,
/// from `held`. Each touched one is found by id, without going through the ten thousand
/// others; those that leave go in one pass, the new ones one by one when they are a few.
fn replace_touched(
    histories: &mut Vec<SubscriptionHistory>,
    mut held: usize,
    touched: BTreeSet<String>,
    mut rebuilt: HashMap<String, SubscriptionHistory>,
) -> usize {
    let mut added: Vec<SubscriptionHistory> = Vec::new();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for id in touched {
        let found = histories.binary_search_by(|history| history.id.cmp(&id));
        match (found, rebuilt.remove(&id)) {
            (Ok(at), Some(history)) => {
                held = held.saturating_sub(approximate_bytes(&histories[at]));
                held += approximate_bytes(&history);
                histories[at] = history;
            }
            (Ok(_), None) => {
                gone.insert(id);
            }
            (Err(_), Some(history)) => added.push(history),
            (Err(_), None) => {}
        }
    }
    if !gone.is_empty() {
        histories.retain(|history| {
            let leaves = gone.contains(&history.id);
            if leaves {
                held = held.saturating_sub(approximate_bytes(history));
            }
            !leaves
        });
    }
    held += added.iter().map(approximate_bytes).sum::<usize>();
    if added.len() <= FEW_ADDED {
        for history in added {
            let at = histories.partition_point(|kept| kept.id < history.id);
            histories.insert(at, history);
        }
    } else {
        histories.extend(added);
        histories.sort_by(|a, b| a.id.cmp(&b.id));
    }
    held
}

/// A stored object read, its data parsed.
struct ParsedObject {
    object_id: String,
    revision: i64,
    data: serde_json::Value,
}

/// Parses the objects' JSON on every core: most of a first build's time, for a backfill's
/// tens of thousands of invoices.
fn parse_all(objects: Vec<RevisedObject>) -> Vec<ParsedObject> {
    // An invoice of a few kilobytes takes tens of microseconds: the invoices of a sync's page of
    // subscriptions are worth every core too.
    crate::parallel::map_at_least(32, objects, |object| ParsedObject {
        data: object.value(),
        object_id: object.object_id,
        revision: object.revision,
    })
}

/// The objects of one name added or changed, and removed, since they were last read.
#[derive(Debug, Default, PartialEq)]
struct Changes {
    changed: Vec<String>,
    removed: Vec<String>,
}

impl Changes {
    /// The objects written since they were last read (in id order; no object of a job is
    /// removed while the job lasts).
    fn written(object_ids: Vec<String>) -> Changes {
        Changes {
            changed: object_ids,
            removed: Vec::new(),
        }
    }

    fn between(read: &HashMap<String, i64>, stored: &HashMap<String, i64>) -> Changes {
        let mut changes = Changes {
            changed: stored
                .iter()
                .filter(|(id, revision)| read.get(*id) != Some(revision))
                .map(|(id, _)| id.clone())
                .collect(),
            removed: read
                .keys()
                .filter(|id| !stored.contains_key(*id))
                .cloned()
                .collect(),
        };
        changes.changed.sort_unstable();
        changes.removed.sort_unstable();
        changes
    }

    fn len(&self) -> usize {
        self.changed.len() + self.removed.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn changes_are_revisions_that_moved_and_ids_that_left() {
        let read: HashMap<String, i64> = [("a", 1), ("b", 1), ("c", 2)]
            .into_iter()
            .map(|(id, revision)| (id.to_owned(), revision))
            .collect();
        let stored: HashMap<String, i64> = [("a", 1), ("b", 2), ("d", 1)]
            .into_iter()
            .map(|(id, revision)| (id.to_owned(), revision))
            .collect();
        assert_eq!(
            Changes::between(&read, &stored),
            Changes {
                changed: vec!["b".into(), "d".into()],
                removed: vec!["c".into()],
            }
        );
        assert!(Changes::between(&stored, &stored).is_empty());
    }

    #[test]
    fn touched_histories_are_replaced_removed_and_added_in_id_order() {
        let ids = |histories: &[SubscriptionHistory]| -> Vec<String> {
            histories.iter().map(|history| history.id.clone()).collect()
        };
        let kept: Vec<SubscriptionHistory> =
            (0..100).map(|i| history(&format!("sub_{i:03}"))).collect();
        // A few added, then more than are put in one by one.
        for added in [3, FEW_ADDED + 5] {
            let mut histories = kept.clone();
            let held: usize = histories.iter().map(approximate_bytes).sum();
            let mut rebuilt: HashMap<String, SubscriptionHistory> = HashMap::new();
            let mut expected: BTreeSet<String> = ids(&kept).into_iter().collect();
            // Replaced (another customer), gone (touched, not rebuilt), added.
            let mut replaced = history("sub_010");
            replaced.customer = "cus_2".to_owned();
            rebuilt.insert(replaced.id.clone(), replaced);
            expected.remove("sub_020");
            expected.remove("sub_099");
            for i in 0..added {
                let id = format!("sub_{:03}x", i * 3);
                expected.insert(id.clone());
                rebuilt.insert(id.clone(), history(&id));
            }
            let touched: BTreeSet<String> = ["sub_010", "sub_020", "sub_099", "sub_zzz"]
                .into_iter()
                .map(str::to_owned)
                .chain(rebuilt.keys().cloned())
                .collect();
            let held = replace_touched(&mut histories, held, touched, rebuilt);
            assert_eq!(ids(&histories), expected.into_iter().collect::<Vec<_>>());
            let replaced = histories.iter().find(|history| history.id == "sub_010");
            assert_eq!(
                replaced.map(|history| history.customer.as_str()),
                Some("cus_2")
            );
            assert_eq!(held, histories.iter().map(approximate_bytes).sum::<usize>());
        }
    }

    #[test]
    fn an_invoice_is_unbilled_from_every_subscription_it_billed() {
        let mut kept = Kept {
            versions: Versions::default(),
            revisions: Default::default(),
            billed: HashMap::new(),
            invoices_of: HashMap::new(),
            prices: Vec::new(),
            histories: Arc::default(),
            held_bytes: 0,
        };
        let invoice = |id: &str| ParsedObject {
            object_id: id.to_owned(),
            revision: 1,
            data: serde_json::Value::Null,
        };
        kept.bill(&invoice("in_1"), vec!["sub_1".into(), "sub_2".into()]);
        kept.bill(&invoice("in_2"), vec!["sub_1".into()]);
        assert_eq!(kept.unbill("in_1"), vec!["sub_1", "sub_2"]);
        assert_eq!(kept.invoices_of.get("sub_1").map(|set| set.len()), Some(1));
        assert!(!kept.invoices_of.contains_key("sub_2"));
        assert!(kept.unbill("in_1").is_empty());
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
