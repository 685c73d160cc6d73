//! Chunks recently fetched from a store outside the process, so that a selection visiting a
//! chunk in several passes (strided reads, the read half of partial writes) fetches it once.
//!
//! Entries are keyed by chunk version. A committed version never changes, and a version of
//! the current write epoch changes only through this process, whose writes drop the entries
//! they replace (`forget`): an entry is never stale. Least recently used entries leave past
//! the budget; the queue that orders them is compacted as it grows, so every call costs the
//! same whatever the number of entries.
use crate::backend::ChunkKey;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// Bytes of chunks kept: the strided pattern's 32 MiB slabs, read in two passes, fit twice.
pub const BUDGET: usize = 64 << 20;

#[derive(Default)]
struct Inner {
    entries: HashMap<ChunkKey, (Bytes, u64)>,
    /// Keys by last use, oldest first; a key whose entry was used later is skipped.
    queue: VecDeque<(ChunkKey, u64)>,
    bytes: usize,
    tick: u64,
}

pub struct ReadCache {
    inner: Mutex<Inner>,
    budget: usize,
}

impl Default for ReadCache {
    fn default() -> ReadCache {
        ReadCache::with_budget(BUDGET)
    }
}

impl ReadCache {
    pub fn with_budget(budget: usize) -> ReadCache {
        ReadCache { inner: Mutex::new(Inner::default()), budget }
    }

    /// One answer per key: the cached bytes, or `None`.
    pub fn get(&self, keys: &[ChunkKey]) -> Vec<Option<Bytes>> {
        let mut g = self.inner.lock();
        if g.entries.is_empty() {
            return vec![None; keys.len()];
        }
        let got = keys
            .iter()
            .map(|k| {
                g.tick += 1;
                let tick = g.tick;
                let b = g.entries.get_mut(k).map(|e| {
                    e.1 = tick;
                    e.0.clone()
                })?;
                g.queue.push_back((k.clone(), tick));
                Some(b)
            })
            .collect();
        compact(&mut g);
        got
    }

    /// Keeps fetched chunks; chunks bigger than the whole budget are not kept.
    pub fn put(&self, fetched: impl IntoIterator<Item = (ChunkKey, Bytes)>) {
        let mut g = self.inner.lock();
        for (k, b) in fetched {
            if b.len() > self.budget {
                continue;
            }
            g.tick += 1;
            let tick = g.tick;
            g.bytes += b.len();
            g.queue.push_back((k.clone(), tick));
            if let Some((old, _)) = g.entries.insert(k, (b, tick)) {
                g.bytes -= old.len();
            }
        }
        while g.bytes > self.budget {
            let Some((k, tick)) = g.queue.pop_front() else { break };
            if g.entries.get(&k).is_some_and(|e| e.1 == tick) {
                let (b, _) = g.entries.remove(&k).expect("checked");
                g.bytes -= b.len();
            }
        }
        compact(&mut g);
    }

    /// Drops the entries of chunk versions being written.
    pub fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a ChunkKey>) {
        let mut g = self.inner.lock();
        if g.entries.is_empty() {
            return;
        }
        for k in keys {
            if let Some((b, _)) = g.entries.remove(k) {
                g.bytes -= b.len();
            }
        }
    }
}

/// Drops queue slots of entries used again or gone, once they outnumber the live ones.
fn compact(g: &mut Inner) {
    if g.queue.len() > 4 * g.entries.len() + 64 {
        let Inner { entries, queue, .. } = g;
        queue.retain(|(k, t)| entries.get(k).is_some_and(|e| e.1 == *t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: u64, v: u64) -> ChunkKey {
        ChunkKey { obj: 1, coords: vec![c], version: v }
    }

    fn bytes(n: usize, v: u8) -> Bytes {
        Bytes::from(vec![v; n])
    }

    #[test]
    fn keeps_the_recently_used_within_the_budget() {
        let c = ReadCache::with_budget(30);
        c.put([(key(0, 1), bytes(10, 0)), (key(1, 1), bytes(10, 1)), (key(2, 1), bytes(10, 2))]);
        // Chunk 0 is used again, so chunk 1 is the oldest when a fourth arrives.
        assert!(c.get(&[key(0, 1)])[0].is_some());
        c.put([(key(3, 1), bytes(10, 3))]);
        let got = c.get(&[key(0, 1), key(1, 1), key(2, 1), key(3, 1)]);
        assert_eq!(got.iter().map(|b| b.as_ref().map(|b| b[0])).collect::<Vec<_>>(), vec![Some(0), None, Some(2), Some(3)]);
        // Another version of a chunk is another entry; a chunk bigger than the budget is not kept.
        assert!(c.get(&[key(0, 2)])[0].is_none());
        c.put([(key(9, 1), bytes(31, 9))]);
        assert!(c.get(&[key(9, 1)])[0].is_none());
        assert_eq!(c.inner.lock().bytes, 30);
    }

    #[test]
    fn written_versions_are_forgotten() {
        let c = ReadCache::default();
        c.put([(key(0, 5), bytes(4, 1))]);
        c.forget([&key(0, 5)]);
        assert!(c.get(&[key(0, 5)])[0].is_none());
        assert_eq!(c.inner.lock().bytes, 0);
    }

    #[test]
    fn the_queue_stays_bounded_under_repeated_use() {
        let c = ReadCache::with_budget(1000);
        c.put([(key(0, 1), bytes(10, 0))]);
        for i in 0..10_000 {
            c.get(&[key(0, 1)]);
            if i % 100 == 0 {
                c.put([(key(1, 1), bytes(10, 1))]);
            }
        }
        assert!(c.inner.lock().queue.len() <= 4 * 2 + 64);
    }
}
