//! CPU work spread over the machine's cores: parsing invoices' JSON and rebuilding
//! subscriptions (seconds for a backfill's, milliseconds for a sync's page), and sweeping a
//! window's subscription metrics. Callers run it off the request threads (`spawn_blocking`);
//! inputs too small to be worth a thread stay on the calling thread.

/// Fewer items than this per thread are not worth a thread.
const ITEMS_PER_THREAD: usize = 256;

/// The machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// How many threads `items` items are worth: one per core, at least `ITEMS_PER_THREAD` each.
pub fn threads_for(items: usize) -> usize {
    threads_with_at_least(ITEMS_PER_THREAD, items)
}

fn threads_with_at_least(per_thread: usize, items: usize) -> usize {
    cores().min(items / per_thread.max(1)).max(1)
}

/// `work` applied to every item, in order, on up to one thread per core.
pub fn map<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_at_least(ITEMS_PER_THREAD, items, work)
}

/// [`map`] for items that each take tens of microseconds or more (a large JSON document to
/// parse, a subscription to rebuild): a thread is worth `per_thread` of them.
pub fn map_at_least<T: Send, R: Send>(
    per_thread: usize,
    items: Vec<T>,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = threads_with_at_least(per_thread, items.len());
    if threads == 1 {
        return items.into_iter().map(work).collect();
    }
    let per_thread = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<T> = items.by_ref().take(per_thread).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let work = &work;
    map_each(chunks, |chunk| {
        chunk.into_iter().map(work).collect::<Vec<R>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// `work` applied to each of a few large items, each on a thread of its own, in order.
pub fn map_each<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.into_iter().map(work).collect();
    }
    let work = &work;
    std::thread::scope(|scope| {
        let running: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(move || work(item)))
            .collect();
        running
            .into_iter()
            .map(|thread| {
                // A panic in `work` goes on in the caller, as it would have without threads.
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_mapped_once_in_order() {
        for count in [0, 1, 255, 512, 513, 10_001] {
            let items: Vec<usize> = (0..count).collect();
            let mapped = map(items, |item| item * 2);
            assert_eq!(mapped, (0..count).map(|item| item * 2).collect::<Vec<_>>());
        }
        for count in [0, 1, 7, 8, 9, 100] {
            let items: Vec<usize> = (0..count).collect();
            let mapped = map_at_least(4, items, |item| item + 1);
            assert_eq!(mapped, (1..=count).collect::<Vec<_>>());
        }
        let parts: Vec<Vec<usize>> = vec![vec![1, 2], vec![], vec![3]];
        assert_eq!(map_each(parts, |part| part.len()), vec![2, 0, 1]);
    }
}
