//! Spreads CPU-bound work over a file's records (parsing them at open, encoding them at
//! commit) across the machine's cores. Small batches stay on the calling thread, where a
//! thread's start would cost more than it saves.
use once_cell::sync::Lazy;

/// Items below this count are done on the calling thread.
const MIN_PARALLEL: usize = 2048;

static THREADS: Lazy<usize> = Lazy::new(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(16));

/// `f` of every item, in order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = *THREADS;
    if threads < 2 || items.len() < MIN_PARALLEL {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        // A part whose thread cannot start (a limit on threads, memory) is done here instead.
        let parts: Vec<_> = items
            .chunks(per)
            .map(|part| std::thread::Builder::new().spawn_scoped(s, move || part.iter().map(f).collect::<Vec<R>>()).map_err(|_| part))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| match p {
                // A panic in a part is raised again here, on the caller's thread.
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(part) => part.iter().map(f).collect(),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_at_every_size() {
        for n in [0, 1, 100, super::MIN_PARALLEL, 10_007] {
            let items: Vec<u64> = (0..n as u64).collect();
            assert_eq!(super::map(&items, |x| x * 3), items.iter().map(|x| x * 3).collect::<Vec<_>>());
        }
    }
}
