//! The policy of HDF5's raw data chunk cache (`H5Dchunk.c`, HDF5 1.14.5), as pure Rust: which
//! chunks of an open dataset are held, unfiltered, and which a new chunk displaces. With a lossy
//! filter a program can see the difference: a chunk still held reads back the exact values
//! written, one evicted reads back what the filter kept. Only the decisions are modelled here;
//! what an entry holds (`T`) is up to the caller, and nothing is written anywhere.
//!
//! The rules, with the native source they follow:
//! - Size and slots (`H5D__chunk_init`): `nslots` hash slots and at most `nbytes` bytes of chunks;
//!   either 0 disables the cache. A chunk larger than `nbytes` is never held
//!   (`H5D__chunk_lock`: `rdcc->nslots > 0 && chunk_size <= rdcc->nbytes_max`).
//! - Slot of a chunk (`H5D__chunk_hash_val`): its scaled coordinates (chunk indices) folded
//!   `val = s[0]; val = (val << bits[u]) ^ s[u]` for u = 1.., then `val % nslots`, where
//!   `bits[u] = log2(power2up(ceil(dims[u] / chunk[u])))` is fixed at open and changed only by
//!   `H5Dset_extent` (which computes it from `floor(new / chunk)`: `H5D__set_extent`, H5Dint.c).
//!   A lookup hits only when the slot holds that very chunk.
//! - A miss (`H5D__chunk_lock`): the chunk is read (or made of the fill value), then the slot's
//!   occupant is evicted, then the cache is pruned to make room, then the chunk is appended at
//!   the tail of the list with "bytes left to read" and "bytes left to write" both the chunk
//!   size. A hit moves the entry one place towards the tail (HDF5's "LRU").
//! - After each access (`H5D__chunk_unlock`): a write marks the entry dirty and takes the bytes
//!   written (elements x file type size) off its write count, a read the bytes read off its read
//!   count (neither below 0).
//! - Pruning (`H5D__chunk_cache_prune`): two pointers walk from the head while the new chunk
//!   does not fit. The first evicts entries wholly read or wholly written (or untouched); the
//!   second starts at the head once the first has passed `(int)(nused * w0)` entries and evicts
//!   anything. Each step gives the first a chance, then the second.
//! - Flushing (`H5D__chunk_flush`, from H5Dflush and H5Fflush) writes dirty entries and keeps
//!   them; closing the dataset's last handle (`H5D__chunk_dest`) evicts them all. H5Drefresh
//!   does nothing to a file open for writing (`H5O_refresh_metadata`, H5Oflush.c); in a
//!   read-only one it closes and opens the dataset, emptying the cache (what another process
//!   wrote since is then read).
//! - `H5Dset_extent` rehashes when a dimension's bit count changes (`H5D__chunk_update_cache`):
//!   entries are moved head to tail to their new slots; one whose slot was taken by another is
//!   evicted afterwards unless it moved on to a free slot of its own.
use crate::backend::ObjId;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The cache's parameters, as `H5Pset_chunk_cache` (dataset access) or `H5Pset_cache` (file
/// access) give them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub nslots: usize,
    pub nbytes: usize,
    pub w0: f64,
}

impl Params {
    /// HDF5's defaults (`H5D_CHUNK_CACHE_NSLOTS_DEFAULT` etc. resolved through `H5F_ACS_*`).
    pub const NATIVE_DEFAULT: Params = Params { nslots: 521, nbytes: 1024 * 1024, w0: 0.75 };
}

/// Where a chunk being accessed lives for the length of the access.
#[derive(Debug, PartialEq, Eq)]
pub enum Held<T> {
    /// In the cache, entry `id` (use `get`/`get_mut`, then `unlock`).
    Cached(usize),
    /// Not held: the contents made for it, handed back (a write of it goes to the store at
    /// once, through the filters).
    Uncached(T),
}

/// An entry leaving the cache; a dirty one is the chunk native HDF5 writes at that moment.
#[derive(Debug, PartialEq)]
pub struct Evicted<T> {
    pub scaled: Vec<u64>,
    pub dirty: bool,
    pub value: T,
}

#[derive(Debug)]
struct Entry<T> {
    scaled: Vec<u64>,
    slot: usize,
    rd_left: u32,
    wr_left: u32,
    dirty: bool,
    prev: Option<usize>,
    next: Option<usize>,
    value: T,
}

/// One open dataset's chunk cache (shared by every handle of the dataset in the process).
#[derive(Debug)]
pub struct ChunkCache<T> {
    nslots: usize,
    nbytes_max: usize,
    w0: f64,
    chunk_size: usize,
    chunk_dims: Vec<u64>,
    scaled_dims: Vec<u64>,
    power2up: Vec<u64>,
    encode_bits: Vec<u32>,
    slots: Vec<Option<usize>>,
    entries: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    head: Option<usize>,
    tail: Option<usize>,
    nused: usize,
    nbytes_used: usize,
}

/// HDF5's `H5VM_power2up`: the least power of two not below `n` (1 for 0); 0 past 2^63.
fn power2up(n: u64) -> u64 {
    if n >= 1 << 63 {
        return 0;
    }
    n.max(1).next_power_of_two()
}

/// HDF5's `H5VM_log2_gen`: the index of the highest bit set (0 for 0).
fn log2(n: u64) -> u32 {
    if n == 0 {
        0
    } else {
        63 - n.leading_zeros()
    }
}

impl<T> ChunkCache<T> {
    /// The cache of a dataset opened with extent `dims`, chunks of `chunk_dims` elements and
    /// `chunk_size` bytes (elements x file type size, before filters).
    pub fn new(p: Params, dims: &[u64], chunk_dims: &[u64], chunk_size: usize) -> ChunkCache<T> {
        let (nslots, nbytes_max) = if p.nslots == 0 || p.nbytes == 0 { (0, 0) } else { (p.nslots, p.nbytes) };
        let rank = dims.len();
        let mut c = ChunkCache {
            nslots,
            nbytes_max,
            w0: p.w0,
            chunk_size,
            chunk_dims: chunk_dims.to_vec(),
            scaled_dims: vec![0; rank],
            power2up: vec![0; rank],
            encode_bits: vec![0; rank],
            slots: vec![None; nslots],
            entries: Vec::new(),
            free: Vec::new(),
            head: None,
            tail: None,
            nused: 0,
            nbytes_used: 0,
        };
        if rank > 1 {
            for u in 0..rank {
                let ch = chunk_dims[u].max(1);
                c.scaled_dims[u] = dims[u].div_ceil(ch);
                c.power2up[u] = power2up(c.scaled_dims[u]);
                c.encode_bits[u] = log2(c.power2up[u]);
            }
        }
        c
    }

    /// Whether a chunk can be held at all.
    pub fn holds_any(&self) -> bool {
        self.nslots > 0 && self.chunk_size <= self.nbytes_max
    }

    pub fn len(&self) -> usize {
        self.nused
    }

    pub fn is_empty(&self) -> bool {
        self.nused == 0
    }

    fn slot_of(&self, scaled: &[u64]) -> usize {
        let mut val = scaled.first().copied().unwrap_or(0);
        for u in 1..scaled.len() {
            // A shift of 63 bits or fewer, as hsize_t's in C: bits past 64 are lost.
            val = (val << self.encode_bits[u]) ^ scaled[u];
        }
        (val % self.nslots as u64) as usize
    }

    fn e(&self, id: usize) -> &Entry<T> {
        self.entries[id].as_ref().expect("live cache entry")
    }

    fn e_mut(&mut self, id: usize) -> &mut Entry<T> {
        self.entries[id].as_mut().expect("live cache entry")
    }

    /// The entry holding chunk `scaled`, if any (`H5D__chunk_lookup`).
    pub fn lookup(&self, scaled: &[u64]) -> Option<usize> {
        if self.nslots == 0 {
            return None;
        }
        let id = self.slots[self.slot_of(scaled)]?;
        (self.e(id).scaled == scaled).then_some(id)
    }

    pub fn get(&self, id: usize) -> &T {
        &self.e(id).value
    }

    pub fn get_mut(&mut self, id: usize) -> &mut T {
        &mut self.e_mut(id).value
    }

    /// Begins an access to chunk `scaled` (`H5D__chunk_lock`). On a miss `make` gives the
    /// chunk's contents (read and unfiltered, or made of the fill value, or anything for a chunk
    /// about to be written whole); they are held when the chunk can be, and handed back
    /// otherwise. Answers where the chunk is and the entries evicted to make room, in the order
    /// native evicts them.
    pub fn lock<E>(&mut self, scaled: &[u64], make: impl FnOnce() -> Result<T, E>) -> Result<(Held<T>, Vec<Evicted<T>>), E> {
        if let Some(id) = self.lookup(scaled) {
            self.move_back(id);
            return Ok((Held::Cached(id), Vec::new()));
        }
        let value = make()?;
        if !self.holds_any() {
            return Ok((Held::Uncached(value), Vec::new()));
        }
        let slot = self.slot_of(scaled);
        let mut out = Vec::new();
        if let Some(old) = self.slots[slot] {
            out.push(self.evict(old));
        }
        self.prune(self.chunk_size, &mut out);
        let size = u32::try_from(self.chunk_size).unwrap_or(u32::MAX);
        let ent = Entry { scaled: scaled.to_vec(), slot, rd_left: size, wr_left: size, dirty: false, prev: self.tail, next: None, value };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id] = Some(ent);
                id
            }
            None => {
                self.entries.push(Some(ent));
                self.entries.len() - 1
            }
        };
        match self.tail {
            Some(t) => self.e_mut(t).next = Some(id),
            None => self.head = Some(id),
        }
        self.tail = Some(id);
        self.slots[slot] = Some(id);
        self.nbytes_used += self.chunk_size;
        self.nused += 1;
        Ok((Held::Cached(id), out))
    }

    /// Ends an access (`H5D__chunk_unlock`): `accessed` bytes were written (`dirty`) or read.
    pub fn unlock(&mut self, id: usize, dirty: bool, accessed: u32) {
        let e = self.e_mut(id);
        if dirty {
            e.dirty = true;
            e.wr_left -= e.wr_left.min(accessed);
        } else {
            e.rd_left -= e.rd_left.min(accessed);
        }
    }

    /// A hit moves the entry one place towards the tail.
    fn move_back(&mut self, id: usize) {
        let Some(next) = self.e(id).next else { return };
        let prev = self.e(id).prev;
        let after = self.e(next).next;
        match after {
            Some(a) => self.e_mut(a).prev = Some(id),
            None => self.tail = Some(id),
        }
        self.e_mut(next).prev = prev;
        match prev {
            Some(p) => self.e_mut(p).next = Some(next),
            None => self.head = Some(next),
        }
        let e = self.e_mut(id);
        e.prev = Some(next);
        e.next = after;
        self.e_mut(next).next = Some(id);
    }

    /// Takes entry `id` out of the list and the slot it occupies (`H5D__chunk_cache_evict`).
    fn evict(&mut self, id: usize) -> Evicted<T> {
        let e = self.entries[id].take().expect("live cache entry");
        match e.prev {
            Some(p) => self.e_mut(p).next = e.next,
            None => self.head = e.next,
        }
        match e.next {
            Some(n) => self.e_mut(n).prev = e.prev,
            None => self.tail = e.prev,
        }
        if self.slots[e.slot] == Some(id) {
            self.slots[e.slot] = None;
        }
        self.free.push(id);
        self.nbytes_used -= self.chunk_size;
        self.nused -= 1;
        Evicted { scaled: e.scaled, dirty: e.dirty, value: e.value }
    }

    /// `H5D__chunk_cache_prune`: evicts until `size` more bytes fit or the list is walked.
    fn prune(&mut self, size: usize, out: &mut Vec<Evicted<T>>) {
        let total = self.nbytes_max;
        let full = self.chunk_size as u32;
        // C's `(int)(nused * w0)`: the product in double, truncated.
        let mut w = (self.nused as f64 * self.w0) as i64;
        let mut p: [Option<usize>; 2] = [self.head, None];
        while (p[0].is_some() || p[1].is_some()) && self.nbytes_used + size > total {
            if w == 0 {
                p[1] = self.head;
            }
            let mut n = [p[0].and_then(|i| self.e(i).next), p[1].and_then(|i| self.e(i).next)];
            for i in 0..2 {
                if self.nbytes_used + size <= total {
                    break;
                }
                let cur = match (i, p[i]) {
                    (0, Some(c)) => {
                        let e = self.e(c);
                        let whole = (e.rd_left == 0 && e.wr_left == 0) || (e.rd_left == 0 && e.wr_left == full) || (e.rd_left == full && e.wr_left == 0);
                        whole.then_some(c)
                    }
                    (1, Some(c)) => Some(c),
                    _ => None,
                };
                if let Some(c) = cur {
                    for j in 0..2 {
                        if p[j] == Some(c) {
                            p[j] = None;
                        }
                        if n[j] == Some(c) {
                            n[j] = self.e(c).next;
                        }
                    }
                    out.push(self.evict(c));
                }
            }
            p = n;
            w -= 1;
        }
    }

    /// H5Dflush / H5Fflush: dirty entries are written and stay. Answers the ids written.
    pub fn flush(&mut self) -> Vec<usize> {
        let mut written = Vec::new();
        let mut cur = self.head;
        while let Some(id) = cur {
            let e = self.e_mut(id);
            if e.dirty {
                e.dirty = false;
                written.push(id);
            }
            cur = e.next;
        }
        written
    }

    /// Closing the last handle, H5Drefresh in a read-only file: every entry leaves, head first.
    pub fn evict_all(&mut self) -> Vec<Evicted<T>> {
        let mut out = Vec::new();
        while let Some(h) = self.head {
            out.push(self.evict(h));
        }
        out
    }

    /// The chunks held, head first.
    pub fn held(&self) -> Vec<Vec<u64>> {
        let mut v = Vec::with_capacity(self.nused);
        let mut cur = self.head;
        while let Some(id) = cur {
            v.push(self.e(id).scaled.clone());
            cur = self.e(id).next;
        }
        v
    }

    /// Drops the entry of chunk `scaled` without writing it (a chunk deleted by a shrinking
    /// H5Dset_extent, or replaced by a direct chunk write).
    pub fn discard(&mut self, scaled: &[u64]) -> Option<Evicted<T>> {
        self.lookup(scaled).map(|id| self.evict(id))
    }

    /// The extent changed to `dims` (`H5D__set_extent`, then `H5D__chunk_update_cache`):
    /// answers the entries evicted because rehashing put another in their slot.
    pub fn set_extent(&mut self, dims: &[u64]) -> Vec<Evicted<T>> {
        let rank = self.scaled_dims.len();
        if rank <= 1 {
            return Vec::new();
        }
        let mut update = false;
        for u in 0..rank {
            let scaled = dims[u] / self.chunk_dims[u].max(1);
            if scaled != self.scaled_dims[u] {
                self.scaled_dims[u] = scaled;
                let p2 = power2up(scaled);
                if p2 != self.power2up[u] {
                    self.power2up[u] = p2;
                    self.encode_bits[u] = log2(p2);
                    update = true;
                }
            }
        }
        if !update || self.nslots == 0 {
            return Vec::new();
        }
        let mut displaced: VecDeque<usize> = VecDeque::new();
        let mut cur = self.head;
        while let Some(id) = cur {
            cur = self.e(id).next;
            let old = self.e(id).slot;
            let new = self.slot_of(&self.e(id).scaled.clone());
            if old == new {
                continue;
            }
            self.e_mut(id).slot = new;
            if let Some(other) = self.slots[new] {
                displaced.push_back(other);
            }
            self.slots[new] = Some(id);
            if let Some(pos) = displaced.iter().position(|&d| d == id) {
                displaced.remove(pos);
            } else {
                self.slots[old] = None;
            }
        }
        let mut out = Vec::new();
        while let Some(id) = displaced.pop_front() {
            // Its slot belongs to another entry now: only the list and the counts change.
            let slot = self.e(id).slot;
            let keep = self.slots[slot];
            out.push(self.evict(id));
            self.slots[slot] = keep.filter(|&k| k != id);
        }
        out
    }
}


/// The chunk caches of a file's open datasets: one per dataset, made when a handle of it first
/// needs one and dropped when its last handle closes (`H5D_close` of the shared dataset).
#[derive(Default)]
pub struct Caches {
    inner: Mutex<HashMap<ObjId, Open>>,
}

#[derive(Default)]
struct Open {
    handles: usize,
    cache: Option<Arc<Mutex<ChunkCache<Vec<u8>>>>>,
}

impl Caches {
    /// A dataset handle of `obj` was made.
    pub fn attach(&self, obj: ObjId) {
        self.inner.lock().entry(obj).or_default().handles += 1;
    }

    /// A dataset handle of `obj` closed: the last one takes the cache with it.
    pub fn detach(&self, obj: ObjId) {
        let mut m = self.inner.lock();
        if let Some(o) = m.get_mut(&obj) {
            o.handles = o.handles.saturating_sub(1);
            if o.handles == 0 {
                m.remove(&obj);
            }
        }
    }

    /// The cache of `obj`, made by `make` if the dataset has none yet (None without an open
    /// handle: nothing then keeps a cache).
    pub fn get_or_make(&self, obj: ObjId, make: impl FnOnce() -> ChunkCache<Vec<u8>>) -> Option<Arc<Mutex<ChunkCache<Vec<u8>>>>> {
        let mut m = self.inner.lock();
        let o = m.get_mut(&obj)?;
        Some(o.cache.get_or_insert_with(|| Arc::new(Mutex::new(make()))).clone())
    }

    /// The cache of `obj` if it has one.
    pub fn get(&self, obj: ObjId) -> Option<Arc<Mutex<ChunkCache<Vec<u8>>>>> {
        self.inner.lock().get(&obj).and_then(|o| o.cache.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(nslots: usize, nbytes: usize, w0: f64, dims: &[u64], chunk: &[u64], size: usize) -> ChunkCache<u32> {
        ChunkCache::new(Params { nslots, nbytes, w0 }, dims, chunk, size)
    }

    fn ok(v: u32) -> impl FnOnce() -> Result<u32, ()> {
        move || Ok(v)
    }

    /// Locks, then unlocks as a read of `n` bytes; answers the evicted chunks' first coordinate.
    fn read(c: &mut ChunkCache<u32>, s: &[u64], n: u32) -> Vec<u64> {
        let (h, ev) = c.lock(s, ok(s[0] as u32)).unwrap();
        if let Held::Cached(id) = h {
            c.unlock(id, false, n);
        }
        ev.iter().map(|e| e.scaled[0]).collect()
    }

    fn write(c: &mut ChunkCache<u32>, s: &[u64], n: u32) -> Vec<u64> {
        let (h, ev) = c.lock(s, ok(s[0] as u32)).unwrap();
        if let Held::Cached(id) = h {
            c.unlock(id, true, n);
        }
        ev.iter().map(|e| e.scaled[0]).collect()
    }

    fn order(c: &ChunkCache<u32>) -> Vec<u64> {
        let mut v = Vec::new();
        let mut cur = c.head;
        while let Some(id) = cur {
            v.push(c.e(id).scaled[0]);
            cur = c.e(id).next;
        }
        v
    }

    #[test]
    fn zero_slots_or_bytes_disable_it() {
        let mut c = cache(0, 1 << 20, 0.75, &[100], &[10], 40);
        assert_eq!(c.lock(&[0], ok(7)).unwrap(), (Held::Uncached(7), vec![]));
        let mut c = cache(521, 0, 0.75, &[100], &[10], 40);
        assert!(!c.holds_any());
        assert_eq!(c.lock(&[0], ok(7)).unwrap().0, Held::Uncached(7));
    }

    #[test]
    fn a_chunk_larger_than_the_cache_is_not_held() {
        let mut c = cache(521, 100, 0.75, &[100], &[50], 200);
        assert_eq!(c.lock(&[0], ok(1)).unwrap().0, Held::Uncached(1));
        let mut c = cache(521, 200, 0.75, &[100], &[50], 200);
        assert!(matches!(c.lock(&[0], ok(1)).unwrap().0, Held::Cached(_)));
    }

    #[test]
    fn a_hit_keeps_the_value_and_make_is_not_called() {
        let mut c = cache(521, 1 << 20, 0.75, &[100], &[10], 40);
        let (Held::Cached(id), ..) = c.lock(&[3], ok(5)).unwrap() else { panic!() };
        *c.get_mut(id) = 9;
        c.unlock(id, true, 40);
        let (h, ev) = c.lock(&[3], || -> Result<u32, ()> { panic!("loaded again") }).unwrap();
        assert_eq!((h, ev), (Held::Cached(id), vec![]));
        assert_eq!(*c.get(id), 9);
    }

    #[test]
    fn slots_of_one_dimension_are_the_index_modulo_nslots() {
        let c = cache(521, 1 << 20, 0.75, &[10_000], &[1], 4);
        assert_eq!(c.slot_of(&[0]), 0);
        assert_eq!(c.slot_of(&[521]), 0);
        assert_eq!(c.slot_of(&[1000]), 479);
    }

    #[test]
    fn slots_of_more_dimensions_fold_the_indices_by_bits_of_the_extent() {
        // 10 x 7 chunks: the second dimension needs log2(8) = 3 bits; the first's bits unused.
        let c = cache(521, 1 << 20, 0.75, &[100, 70], &[10, 10], 400);
        assert_eq!(c.encode_bits, vec![4, 3]);
        assert_eq!(c.slot_of(&[2, 5]), (2 << 3) ^ 5);
        let c = cache(7, 1 << 20, 0.75, &[100, 70], &[10, 10], 400);
        assert_eq!(c.slot_of(&[2, 5]), ((2 << 3) ^ 5) % 7);
        // Exactly a power of two: 8 chunks still 3 bits; 9 need 4.
        assert_eq!(cache(5, 1, 0.0, &[8, 8], &[1, 1], 1).encode_bits[1], 3);
        assert_eq!(cache(5, 1, 0.0, &[9, 9], &[1, 1], 1).encode_bits[1], 4);
        assert_eq!(cache(5, 1, 0.0, &[1, 1], &[1, 1], 1).encode_bits[1], 0);
    }

    #[test]
    fn a_collision_evicts_the_occupant() {
        let mut c = cache(1, 1 << 20, 0.75, &[100], &[10], 40);
        assert_eq!(write(&mut c, &[0], 40), Vec::<u64>::new());
        assert_eq!(read(&mut c, &[1], 40), vec![0]);
        assert!(c.lookup(&[0]).is_none());
        assert!(c.lookup(&[1]).is_some());
        let mut c = cache(521, 1 << 20, 0.75, &[10_000], &[1], 4);
        write(&mut c, &[1], 4);
        write(&mut c, &[2], 4);
        assert_eq!(write(&mut c, &[522], 4), vec![1]);
        assert_eq!(order(&c), vec![2, 522]);
    }

    #[test]
    fn evicted_entries_say_whether_native_writes_them() {
        let mut c = cache(1, 1 << 20, 0.75, &[100], &[10], 40);
        write(&mut c, &[0], 40);
        let (_, ev) = c.lock(&[1], ok(1)).unwrap();
        assert_eq!(ev, vec![Evicted { scaled: vec![0], dirty: true, value: 0 }]);
    }

    #[test]
    fn a_hit_moves_the_entry_one_place_back() {
        let mut c = cache(521, 1 << 20, 0.75, &[100], &[10], 40);
        for i in 0..4 {
            read(&mut c, &[i], 40);
        }
        read(&mut c, &[0], 40);
        assert_eq!(order(&c), vec![1, 0, 2, 3]);
        read(&mut c, &[3], 40);
        assert_eq!(order(&c), vec![1, 0, 2, 3]);
        read(&mut c, &[2], 40);
        assert_eq!(order(&c), vec![1, 0, 3, 2]);
    }

    #[test]
    fn pruning_prefers_wholly_used_entries_from_the_head() {
        // Room for 3 chunks of 40 bytes. w0 = 1: the second method never starts before the
        // first pointer has walked the whole list.
        let mut c = cache(521, 120, 1.0, &[100], &[10], 40);
        read(&mut c, &[0], 20); // partly read: kept by method 0
        read(&mut c, &[1], 40); // wholly read
        read(&mut c, &[2], 20);
        assert_eq!(read(&mut c, &[3], 40), vec![1]);
        assert_eq!(order(&c), vec![0, 2, 3]);
        // Entries untouched or wholly written count as wholly used too.
        let mut c = cache(521, 120, 1.0, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        write(&mut c, &[1], 40);
        read(&mut c, &[2], 10);
        assert_eq!(read(&mut c, &[3], 1), vec![1]);
    }

    #[test]
    fn an_entry_both_read_and_written_in_part_is_only_taken_by_the_second_method() {
        let mut c = cache(521, 80, 0.5, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        write(&mut c, &[0], 40); // read 20 of 40, written whole: not "whole" for method 0
        read(&mut c, &[1], 20);
        // w = (int)(2 * 0.5) = 1: method 0 passes 0, then method 1 starts at the head.
        assert_eq!(read(&mut c, &[2], 40), vec![0]);
    }

    #[test]
    fn w0_zero_lets_the_second_method_take_the_head_at_once() {
        let mut c = cache(521, 80, 0.0, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        read(&mut c, &[1], 40);
        // Step 1: method 0 skips 0 (partly read), method 1 takes 0.
        assert_eq!(read(&mut c, &[2], 40), vec![0]);
        let mut c = cache(521, 80, 0.75, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        read(&mut c, &[1], 40);
        // w = (int)(2 * 0.75) = 1: method 0 walks on to 1 and takes it first.
        assert_eq!(read(&mut c, &[2], 40), vec![1]);
    }

    #[test]
    fn the_walk_can_end_with_the_cache_over_its_size() {
        // Method 1 starts only after (int)(nused * w0) steps; with w0 = 1 the first pointer
        // has walked off the list by then, so partly used entries all stay, as natively.
        let mut c = cache(521, 40, 1.0, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        assert_eq!(read(&mut c, &[1], 20), Vec::<u64>::new());
        assert_eq!(c.len(), 2);
        let mut c = cache(521, 80, 1.0, &[100], &[10], 40);
        read(&mut c, &[0], 20);
        read(&mut c, &[1], 20);
        assert_eq!(read(&mut c, &[2], 40), Vec::<u64>::new());
        assert_eq!(order(&c), vec![0, 1, 2]);
        // With w0 = 0.5 the same misses evict: (int)(2 * 0.5) = 1 step, then method 1.
        let mut c2 = cache(521, 80, 0.5, &[100], &[10], 40);
        read(&mut c2, &[0], 20);
        read(&mut c2, &[1], 20);
        assert_eq!(read(&mut c2, &[2], 40), vec![0]);
    }

    #[test]
    fn flush_keeps_entries_and_clears_dirt() {
        let mut c = cache(521, 1 << 20, 0.75, &[100], &[10], 40);
        write(&mut c, &[0], 40);
        read(&mut c, &[1], 40);
        assert_eq!(c.flush().len(), 1);
        assert_eq!(c.flush().len(), 0);
        assert_eq!(c.len(), 2);
        let ev = c.evict_all();
        assert_eq!(ev.iter().map(|e| (e.scaled[0], e.dirty)).collect::<Vec<_>>(), vec![(0, false), (1, false)]);
        assert!(c.is_empty());
        assert!(c.lookup(&[0]).is_none());
    }

    #[test]
    fn set_extent_rehashes_when_bits_change() {
        // 2 x 2 chunks: 1 bit for dimension 1. Slots (nslots 8): [0,0]=0 [0,1]=1 [1,0]=2 [1,1]=3.
        let mut c = cache(8, 1 << 20, 0.75, &[2, 2], &[1, 1], 4);
        for s in [[0u64, 1], [1, 0], [1, 1]] {
            read(&mut c, &s, 4);
        }
        // Growing to 2 x 5 chunks: 3 bits; [1,0] -> 8 % 8 = 0, [1,1] -> 9 % 8 = 1 takes
        // [0,1]'s slot: [0,1] moved first (to 1, unchanged), so it is evicted.
        let ev = c.set_extent(&[2, 5]);
        assert_eq!(ev.iter().map(|e| e.scaled.clone()).collect::<Vec<_>>(), vec![vec![0, 1]]);
        assert!(c.lookup(&[1, 0]).is_some());
        assert!(c.lookup(&[1, 1]).is_some());
        assert!(c.lookup(&[0, 1]).is_none());
        assert_eq!(c.len(), 2);
        // Unchanged bit counts: nothing moves (set_extent uses floor, 5/1 = 5 -> still 8).
        assert!(c.set_extent(&[2, 6]).is_empty());
    }

    #[test]
    fn set_extent_keeps_an_entry_that_moved_on_to_a_free_slot() {
        // nslots 4, 2 x 2 chunks: 1 bit. y = [1,2] in slot (1<<1)^2 = 0, x = [1,0] in slot 2.
        // At 2 x 4 chunks (2 bits): y -> (4^2)%4 = 2, displacing x; x -> 4%4 = 0, y's old slot.
        let mut c = cache(4, 1 << 20, 0.75, &[2, 2], &[1, 1], 4);
        read(&mut c, &[1, 2], 4);
        read(&mut c, &[1, 0], 4);
        assert!(c.set_extent(&[2, 4]).is_empty());
        assert_eq!((c.lookup(&[1, 2]), c.lookup(&[1, 0])), (Some(0), Some(1)));
        assert_eq!((c.slots[2], c.slots[0]), (Some(0), Some(1)));
    }

    #[test]
    fn discard_drops_without_writing() {
        let mut c = cache(521, 1 << 20, 0.75, &[100], &[10], 40);
        write(&mut c, &[4], 40);
        assert!(c.discard(&[4]).is_some_and(|e| e.dirty));
        assert!(c.discard(&[4]).is_none());
    }

    #[test]
    fn power_and_log_as_hdf5() {
        assert_eq!((power2up(0), power2up(1), power2up(5), power2up(8)), (1, 1, 8, 8));
        assert_eq!((log2(0), log2(1), log2(8), log2(9)), (0, 0, 3, 3));
    }
}
