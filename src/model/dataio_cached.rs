//! Reads and writes of datasets whose values native HDF5's chunk cache can change: those with a
//! stage run through HDF5's filter classes (scale-offset, N-bit, plugins), which may be lossy.
//! Native serves an open dataset's chunks from its cache, unfiltered, until they are evicted;
//! here each access goes through the dataset's `ChunkCache` in native's order (chunks by
//! increasing index, `H5D__chunk_read`/`H5D__chunk_write`), so a read sees the exact values
//! written exactly while native would. The store still receives every written chunk at once,
//! filtered from the exact values (what native writes when it evicts or flushes the chunk), so
//! commits and what other processes see do not change.
//!
//! Chunks of elements with variable-length parts keep the plain path: no filter that reads
//! elements applies to them, and a byte-stream filter is lossless for all rustvol can tell.
use crate::model::chunk_cache::{ChunkCache, Held, Params};
use super::*;
use std::sync::Arc;

/// Whether reads and writes of `d` go through its chunk cache.
pub fn applies(d: &Dataset) -> bool {
    !d.vlen && filters::has_mask(&d.filters)
}

/// The dataset's cache, made with `params` if it has none yet (None: no open handle keeps one,
/// as for a dataset written through a handle closed meanwhile).
pub fn open(file: &OpenFile, obj: ObjId, d: &Dataset, params: Params) -> Option<Arc<parking_lot::Mutex<ChunkCache<Vec<u8>>>>> {
    if !applies(d) {
        return None;
    }
    let chunk_size = geometry(d).chunk_elems() as usize * d.elem_size;
    file.chunk_caches.get_or_make(obj, || ChunkCache::new(params, &d.extent.dims, &d.chunk, chunk_size))
}

fn cache_of(file: &OpenFile, obj: ObjId, d: &Dataset) -> Option<Arc<parking_lot::Mutex<ChunkCache<Vec<u8>>>>> {
    file.chunk_caches.get(obj).or_else(|| open(file, obj, d, Params::NATIVE_DEFAULT))
}

/// The chunks of a split in the order native visits them: by increasing chunk index.
fn native_order(split: &Split) -> Vec<usize> {
    let mut seq: Vec<usize> = (0..split.chunks.len()).collect();
    seq.sort_by(|&a, &b| split.chunks[a].cmp(&split.chunks[b]));
    seq
}

/// The unfiltered contents of stored chunks, fetched together before the accesses begin for
/// those the cache does not hold; a chunk evicted during the accesses is fetched alone.
struct Loader<'a> {
    file: &'a OpenFile,
    d: &'a Dataset,
    obj: ObjId,
    chunk_bytes: usize,
    keys: Vec<Option<ChunkKey>>,
    fetched: Vec<Option<Bytes>>,
}

impl<'a> Loader<'a> {
    fn new(file: &'a OpenFile, obj: ObjId, d: &'a Dataset, split: &Split, want: impl Fn(usize) -> bool) -> Result<Loader<'a>> {
        let keys = stored_keys(file, obj, &split.chunks)?;
        let ask: Vec<Option<ChunkKey>> = keys.iter().enumerate().map(|(i, k)| if want(i) { k.clone() } else { None }).collect();
        let fetched = fetch(file, d, &ask)?;
        Ok(Loader { file, d, obj, chunk_bytes: geometry(d).chunk_elems() as usize * d.elem_size, keys, fetched })
    }

    /// Chunk `i` as a read gives it: its stored contents, or the fill value where never written.
    fn load(&mut self, i: usize, coords: &[u64]) -> Result<Vec<u8>> {
        let got = match self.fetched[i].take() {
            Some(b) => Some(b),
            None => match &self.keys[i] {
                Some(k) => fetch(self.file, self.d, std::slice::from_ref(&Some(k.clone())))?.pop().flatten(),
                None => None,
            },
        };
        match got {
            Some(b) => {
                check_size(self.obj, coords, &b, self.chunk_bytes)?;
                Ok(b.to_vec())
            }
            None => {
                let mut v = vec![0u8; self.chunk_bytes];
                fill_into(&mut v, self.d.unwritten_fill(), self.d.elem_size);
                Ok(v)
            }
        }
    }
}

pub(super) fn read_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    let es = d.elem_size;
    let split = geometry(d).split(runs);
    let (order, start) = split.by_chunk();
    let covered = split.covered();
    let Some(cache) = cache_of(file, obj, d) else { return super::read_fixed_plain(file, obj, d, runs, out) };
    let mut cache = cache.lock();
    let mut loader = Loader::new(file, obj, d, &split, |i| cache.lookup(&split.chunks[i]).is_none())?;
    for c in native_order(&split) {
        let coords = &split.chunks[c];
        // As natively with fill time "never": a chunk neither stored nor held is not read.
        if d.fill_never && loader.keys[c].is_none() && cache.lookup(coords).is_none() && !crate::model::allocation::in_allocated(d, coords) {
            continue;
        }
        let (held, _) = cache.lock(coords, || loader.load(c, coords))?;
        let img: &[u8] = match &held {
            Held::Cached(id) => cache.get(*id),
            Held::Uncached(m) => m,
        };
        for &i in &order[start[c]..start[c + 1]] {
            let p = &split.pieces[i];
            out[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]
                .copy_from_slice(&img[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]);
        }
        if let Held::Cached(id) = held {
            cache.unlock(id, false, accessed(covered[c], es));
        }
    }
    Ok(())
}

/// `read_fixed` without changing the cache: held chunks as held, others as stored.
pub(super) fn peek_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    let es = d.elem_size;
    let split = geometry(d).split(runs);
    let (order, start) = split.by_chunk();
    let Some(cache) = file.chunk_caches.get(obj) else { return super::read_fixed_plain(file, obj, d, runs, out) };
    let cache = cache.lock();
    let mut loader = Loader::new(file, obj, d, &split, |i| cache.lookup(&split.chunks[i]).is_none())?;
    for c in 0..split.chunks.len() {
        let coords = &split.chunks[c];
        let loaded;
        let img: &[u8] = match cache.lookup(coords) {
            Some(id) => cache.get(id),
            None => {
                loaded = loader.load(c, coords)?;
                &loaded
            }
        };
        for &i in &order[start[c]..start[c + 1]] {
            let p = &split.pieces[i];
            out[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]
                .copy_from_slice(&img[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]);
        }
    }
    Ok(())
}

/// Bytes of a chunk an access touched, as HDF5 counts them (u32, elements x file type size).
fn accessed(elems: u64, es: usize) -> u32 {
    u32::try_from(elems.saturating_mul(es as u64)).unwrap_or(u32::MAX)
}

pub(super) fn write_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let per_chunk = g.chunk_elems();
    let split = g.split(runs);
    let (order, start) = split.by_chunk();
    let covered = split.covered();
    let Some(cache) = cache_of(file, obj, d) else { return super::write_fixed_plain(file, obj, d, runs, data) };
    let mut cache = cache.lock();
    let mut loader = Loader::new(file, obj, d, &split, |i| covered[i] < per_chunk && cache.lookup(&split.chunks[i]).is_none())?;
    let mut writes = Vec::with_capacity(split.chunks.len());
    for c in native_order(&split) {
        let coords = &split.chunks[c];
        let whole = covered[c] == per_chunk;
        let (mut held, _) = cache.lock(coords, || if whole { Ok(vec![0u8; per_chunk as usize * es]) } else { loader.load(c, coords) })?;
        let img: &mut Vec<u8> = match &mut held {
            Held::Cached(id) => cache.get_mut(*id),
            Held::Uncached(m) => m,
        };
        copy_pieces(&split, &order, &start, c, es, img, data);
        writes.push((coords.clone(), copy_chunk(file, img)));
        if let Held::Cached(id) = held {
            cache.unlock(id, true, accessed(covered[c], es));
        }
    }
    drop(cache);
    store(file, obj, d, writes)
}

/// After the extent changed: HDF5 rehashes the held chunks when a dimension needs more or fewer
/// bits (`H5D__set_extent`).
pub fn extent_changed(file: &OpenFile, obj: ObjId, d: &Dataset) {
    if !applies(d) {
        return;
    }
    if let Some(cache) = file.chunk_caches.get(obj) {
        cache.lock().set_extent(&d.extent.dims);
    }
}

/// A shrinking extent (`H5D__chunk_prune_by_extent`): chunks wholly outside leave the cache
/// unwritten; edge chunks stored or held get the fill value outside the extent through the
/// cache, as a write of those elements, and go to the store.
pub(super) fn trim_edges(file: &OpenFile, obj: ObjId, d: &Dataset, stored_edge: Vec<Vec<u64>>) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let Some(cache) = cache_of(file, obj, d) else { return super::trim_edges_plain(file, obj, d, stored_edge) };
    let mut cache = cache.lock();
    let held = cache.held();
    for s in held.iter().filter(|s| g.beyond(s)) {
        cache.discard(s);
    }
    let mut edge = stored_edge;
    edge.extend(held.into_iter().filter(|s| !g.beyond(s) && g.reaches_outside(s)));
    edge.sort();
    edge.dedup();
    let split = Split { chunks: edge, pieces: Vec::new() };
    let mut loader = Loader::new(file, obj, d, &split, |i| cache.lookup(&split.chunks[i]).is_none())?;
    let fill = filled(file, 1, d.unwritten_fill(), es);
    let mut writes = Vec::new();
    for (c, coords) in split.chunks.iter().enumerate() {
        let outside = g.outside(coords);
        let (mut held, _) = cache.lock(coords, || loader.load(c, coords))?;
        let img: &mut Vec<u8> = match &mut held {
            Held::Cached(id) => cache.get_mut(*id),
            Held::Uncached(m) => m,
        };
        for &i in &outside {
            img[i as usize * es..(i as usize + 1) * es].copy_from_slice(&fill);
        }
        writes.push((coords.clone(), copy_chunk(file, img)));
        if let Held::Cached(id) = held {
            cache.unlock(id, true, accessed(outside.len() as u64, es));
        }
    }
    drop(cache);
    store(file, obj, d, writes)
}

/// H5Drefresh of a dataset in a file open read-only: natively the dataset is closed and opened
/// again, its cache emptied (chunks written by another process since are then read anew).
pub fn refresh(file: &OpenFile, obj: ObjId) {
    if let Some(cache) = file.chunk_caches.get(obj) {
        cache.lock().evict_all();
    }
}
