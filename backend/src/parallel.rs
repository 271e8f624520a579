//! CPU work spread over the machine's cores, for the few computations that take seconds on
//! one: reading a backfill's invoices as JSON and rebuilding every subscription from them.
//! Inputs this large are mapped off the request threads (`spawn_blocking`); smaller ones stay
//! on the calling thread.

/// Fewer items than this per thread are not worth a thread.
const ITEMS_PER_THREAD: usize = 256;

/// `work` applied to every item, in order, on up to one thread per core.
pub fn map<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = cores.min(items.len() / ITEMS_PER_THREAD).max(1);
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
    std::thread::scope(|scope| {
        let running: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        running
            .into_iter()
            .flat_map(|thread| {
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
    }
}
