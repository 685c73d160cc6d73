//! Chunks written in part, kept in the process until the rest of them has been written, so
//! that interleaved writes (strided passes, quarter-chunk blocks) change one buffer instead of
//! reading and storing the whole chunk for every call. For backends that store chunks
//! elsewhere (a directory, S3, DAOS); the memory backend changes its own buffers instead.
//!
//! Every entry is a chunk version of the file's current write epoch, which the dataset's
//! record already names: readers look here before asking the backend. Entries go to the
//! backend when the cache grows past its budget (least recently used first), when a dataset
//! closes (its entries), and before every commit (all of them), so a commit never names a
//! version the store does not hold. Nothing here is durable before that, and need not be.
use super::filters::Filter;
use super::objects::{chunk_name, ObjKind};
use super::open_file::OpenFile;
use crate::backend::{ChunkKey, ObjId};
use crate::chunk_buf::ChunkBuf;
use crate::error::Result;
use parking_lot::Mutex;
use std::collections::HashMap;

/// Bytes of chunks held before the least recently used go to the backend: two slabs of the
/// strided pattern's 32 MiB calls, so a second pass finds the first pass's chunks.
pub const BUDGET: usize = 64 << 20;

struct Entry {
    buf: ChunkBuf,
    version: u64,
    used: u64,
}

#[derive(Default)]
struct Inner {
    chunks: HashMap<(ObjId, Vec<u64>), Entry>,
    bytes: usize,
    tick: u64,
}

pub struct WriteBack {
    inner: Mutex<Inner>,
    budget: usize,
}

impl Default for WriteBack {
    fn default() -> WriteBack {
        WriteBack::with_budget(BUDGET)
    }
}

impl WriteBack {
    pub fn with_budget(budget: usize) -> WriteBack {
        WriteBack { inner: Mutex::new(Inner::default()), budget }
    }

    pub fn is_empty(&self) -> bool {
        self.inner.lock().chunks.is_empty()
    }

    /// Calls `f(i, bytes)` for each `coords[i]` of `obj` held here; says which were.
    pub fn visit(&self, obj: ObjId, coords: &[Vec<u64>], mut f: impl FnMut(usize, &mut [u8])) -> Vec<bool> {
        let mut g = self.inner.lock();
        if g.chunks.is_empty() {
            return vec![false; coords.len()];
        }
        g.tick += 1;
        let tick = g.tick;
        coords
            .iter()
            .enumerate()
            .map(|(i, c)| match g.chunks.get_mut(&(obj, c.clone())) {
                Some(e) => {
                    e.used = tick;
                    f(i, &mut e.buf);
                    true
                }
                None => false,
            })
            .collect()
    }

    /// Holds new chunk contents (replacing any held for the same chunk) and answers what must
    /// leave to stay within the budget, least recently used first.
    fn insert(&self, obj: ObjId, chunks: Vec<(Vec<u64>, u64, ChunkBuf)>) -> Vec<(ChunkKey, ChunkBuf)> {
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        for (coords, version, buf) in chunks {
            g.bytes += buf.len();
            if let Some(old) = g.chunks.insert((obj, coords), Entry { buf, version, used: tick }) {
                g.bytes -= old.buf.len();
            }
        }
        if g.bytes <= self.budget {
            return Vec::new();
        }
        let mut by_age: Vec<(u64, (ObjId, Vec<u64>))> = g.chunks.iter().map(|(k, e)| (e.used, k.clone())).collect();
        by_age.sort_unstable();
        let mut out = Vec::new();
        for (_, k) in by_age {
            if g.bytes <= self.budget {
                break;
            }
            let e = g.chunks.remove(&k).expect("listed just now");
            g.bytes -= e.buf.len();
            out.push((ChunkKey { obj: k.0, coords: k.1, version: e.version }, e.buf));
        }
        out
    }

    /// Removes and answers the entries of `obj` (all entries for `None`).
    fn take(&self, obj: Option<ObjId>) -> Vec<(ChunkKey, ChunkBuf)> {
        let mut g = self.inner.lock();
        let keys: Vec<(ObjId, Vec<u64>)> = g.chunks.keys().filter(|k| obj.is_none_or(|o| k.0 == o)).cloned().collect();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let e = g.chunks.remove(&k).expect("listed just now");
            g.bytes -= e.buf.len();
            out.push((ChunkKey { obj: k.0, coords: k.1, version: e.version }, e.buf));
        }
        out
    }

    /// Puts back entries that could not be written, unless newer contents arrived meanwhile.
    fn restore(&self, entries: Vec<(ChunkKey, ChunkBuf)>) {
        let mut g = self.inner.lock();
        for (k, buf) in entries {
            let key = (k.obj, k.coords);
            if !g.chunks.contains_key(&key) {
                g.bytes += buf.len();
                g.chunks.insert(key, Entry { buf, version: k.version, used: 0 });
            }
        }
    }
}

/// Holds partly written chunks of `obj` in `file`'s cache, writing to the backend whatever
/// that pushes out.
pub fn hold(file: &OpenFile, obj: ObjId, chunks: Vec<(Vec<u64>, u64, ChunkBuf)>) -> Result<()> {
    let out = file.write_back.insert(obj, chunks);
    send(file, out)
}

/// Writes the held chunks of `obj` (of every object for `None`) to the backend.
pub fn write_back(file: &OpenFile, obj: Option<ObjId>) -> Result<()> {
    if file.write_back.is_empty() {
        return Ok(());
    }
    let out = file.write_back.take(obj);
    send(file, out)
}

/// Stores entries whose version the dataset's record still names (a dataset deleted or
/// shrunk since no longer needs them); on failure they stay held for a later attempt.
fn send(file: &OpenFile, entries: Vec<(ChunkKey, ChunkBuf)>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // With each, the filters its dataset stores chunks through.
    let live: Vec<(ChunkKey, ChunkBuf, Vec<Filter>)> = {
        let m = file.meta.read();
        entries
            .into_iter()
            .filter_map(|(k, b)| match m.objects.get(&k.obj).map(|o| &o.kind) {
                Some(ObjKind::Dataset(d)) if d.chunks.get(&chunk_name(&k.coords)) == Some(&k.version) => {
                    let f = d.filters.clone();
                    Some((k, b, f))
                }
                _ => None,
            })
            .collect()
    };
    if live.is_empty() {
        return Ok(());
    }
    // Shared bytes, so the entries can be held again (without a copy) if the write fails.
    let keep: Vec<(ChunkKey, bytes::Bytes, Vec<Filter>)> = live.into_iter().map(|(k, b, f)| (k, b.into_bytes(), f)).collect();
    let writes = match keep.iter().map(|(k, b, f)| Ok((k.clone(), super::filters::stored(f, ChunkBuf::shared(b.clone()))?))).collect::<Result<Vec<_>>>() {
        Ok(w) => w,
        Err(e) => {
            // A mandatory filter failed: the chunks stay held, as a failed store leaves them.
            file.write_back.restore(keep.into_iter().map(|(k, b, _)| (k, ChunkBuf::shared(b))).collect());
            return Err(e);
        }
    };
    let keep: Vec<(ChunkKey, bytes::Bytes)> = keep.into_iter().map(|(k, b, _)| (k, b)).collect();
    file.read_cache.forget(keep.iter().map(|(k, _)| k));
    match file.backend.write_chunks(&file.key, writes) {
        Ok(()) => Ok(()),
        Err(e) => {
            file.write_back.restore(keep.into_iter().map(|(k, b)| (k, ChunkBuf::shared(b))).collect());
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(n: usize, v: u8) -> ChunkBuf {
        vec![v; n].into()
    }

    #[test]
    fn least_recently_used_leave_first_and_only_past_the_budget() {
        let wb = WriteBack::with_budget(30);
        assert!(wb.insert(1, vec![(vec![0], 1, buf(10, 0)), (vec![1], 1, buf(10, 1))]).is_empty());
        assert!(wb.insert(1, vec![(vec![2], 1, buf(10, 2))]).is_empty());
        // Chunk 0 is used again, so chunk 1 is the oldest when a fourth arrives.
        assert_eq!(wb.visit(1, &[vec![0], vec![7]], |_, b| b[0] = 9), vec![true, false]);
        let out = wb.insert(1, vec![(vec![3], 1, buf(10, 3))]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0.coords, vec![1]);
        let mut seen = Vec::new();
        wb.visit(1, &[vec![0], vec![1], vec![2], vec![3]], |i, b| seen.push((i, b[0])));
        assert_eq!(seen, vec![(0, 9), (2, 2), (3, 3)]);
    }

    #[test]
    fn take_by_object_and_restore_keeps_newer_contents() {
        let wb = WriteBack::with_budget(1 << 20);
        assert!(wb.insert(1, vec![(vec![0], 4, buf(4, 1))]).is_empty());
        assert!(wb.insert(2, vec![(vec![0], 4, buf(4, 2))]).is_empty());
        let taken = wb.take(Some(1));
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0, ChunkKey { obj: 1, coords: vec![0], version: 4 });
        assert_eq!(wb.visit(1, &[vec![0]], |_, _| ()), vec![false]);
        assert_eq!(wb.visit(2, &[vec![0]], |_, _| ()), vec![true]);
        // Object 1's chunk was written again while the taken copy was away: the newer stays.
        assert!(wb.insert(1, vec![(vec![0], 4, buf(4, 7))]).is_empty());
        wb.restore(taken);
        wb.visit(1, &[vec![0]], |_, b| assert_eq!(b[0], 7));
        assert_eq!(wb.take(None).len(), 2);
        assert!(wb.is_empty());
    }
}
