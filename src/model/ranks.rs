//! A file a parallel program opened for writing on several ranks (a communicator of more than
//! one rank in the file access list). HDF5's collective model has every rank make the same
//! metadata calls (create, link, attribute, extent) with the same arguments, so each rank
//! builds the same model, with the same object tokens, by itself; rank 0 alone holds the
//! writer's lock and commits.
//!
//! Raw data: the chunk index is metadata only rank 0 commits, and several ranks may write
//! pieces of one chunk, which a store that replaces whole objects cannot take from each. So a
//! rank other than 0 stores the chunks a write covers whole itself (versions of its own write
//! epoch, which no other rank writes) and keeps the rest of its writes (in the file's element
//! type, as runs of elements) until the next collective flush (`H5Fflush`, the close); there
//! rank 0 gathers every rank's kept writes and stored chunk versions, applies them in rank
//! order after its own as if it had made them, and commits; every rank learns the outcome,
//! and the others then take up what rank 0 committed. A rank reads its own
//! kept writes over what the store has, and sees other ranks' data after the flush, as HDF5
//! promises. Writes racing on the same elements from different ranks between two flushes have
//! no defined order, as in MPI-IO.
//!
//! Natively a rank sees what another wrote to a dataset once the writer closed it and both
//! met at a barrier (parallel HDF5 allocates chunks at creation and MPI-IO writes them in
//! place), but `H5Dclose` is collective only when it closes the file's last identifier: one
//! rank may open and close a dataset alone. So a dataset's close waits for no other rank;
//! each rank publishes there in the store, as objects of its own, what others need to see its
//! writes (`Published`): a rank other than 0 its kept writes to the dataset not yet published,
//! rank 0 the dataset's chunk index (its writes are stored chunks already). A rank opening
//! the dataset reads what the others published since (a request per rank) and reads it over
//! the stored chunks, with its own writes in the order they happened there, until the next
//! flush makes it part of the file; the flush then removes the published objects. Rank 0
//! applies what it takes up at once, so its writes after that open win over it, as natively,
//! and not again at the flush; its published index says how many of each rank's writes it
//! holds, which the other ranks then read from the chunks, not over them. A collective `H5Dwrite`, which every
//! rank makes, is a smaller flush instead: rank 0 applies the others' writes to that dataset
//! and stores its chunks, and every rank takes up rank 0's chunk index of the dataset (not yet
//! committed: a killed job leaves the last flushed state).
use super::dataio;
use super::namespace::FileMeta;
use super::objects::ObjKind;
use super::open_file::OpenFile;
use crate::backend::ObjId;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::mpi::Comm;
use parking_lot::Mutex;

pub struct Ranks {
    pub comm: Comm,
    /// This rank's raw data writes since the last flush (ranks other than 0).
    kept: Mutex<Vec<Fragment>>,
    published: Mutex<Published>,
    clock: std::sync::atomic::AtomicU64,
    /// The first write epoch of the flush epoch (`enter_band`): rank `r` writes chunk
    /// versions `base + r` until the next flush, and no other.
    base: std::sync::atomic::AtomicU64,
}

impl Ranks {
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// One kept write: `runs` of (first element, count) in the dataset's row-major order and
/// their elements.
#[derive(Clone)]
struct Fragment {
    obj: ObjId,
    runs: Vec<(u64, u64)>,
    data: Payload,
    /// Already in the store for the other ranks (`publish`).
    published: bool,
    /// When this rank made or took it up (`Ranks::tick`), for reading its writes and the ones
    /// it took up in the order they happened here; never sent.
    at: u64,
}

/// A kept write's elements: packed fixed-size ones, or variable-length ones each in its
/// stored encoding (`vol::vlen`: the bytes and their payload, no pointers, references by
/// object id), which is the same on every rank.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Fixed(Vec<u8>),
    Vlen(Vec<Vec<u8>>),
    /// Chunks (grid position, version) this rank wrote whole and stored itself, as versions
    /// of its own write epoch (`store_owned`): rank 0 names them in the dataset's record.
    Stored(Vec<(Vec<u64>, u64)>),
}

/// What ranks published at dataset closes since the last flush. Each published object is a
/// chunk object of the dataset under a key no chunk has (`pub_key`): first coordinate
/// `u64::MAX`, then the job's session (rank 0's pick at the open, so a killed job's leftovers
/// never count), the flush epoch, the dataset's generation (collective syncs of it in this
/// epoch: what was published before one is in rank 0's chunks), the publishing rank and its
/// sequence number. Rank 0 publishes the dataset's chunk index, the others their writes.
#[derive(Default)]
struct Published {
    session: u64,
    epoch: u64,
    generation: std::collections::HashMap<ObjId, u64>,
    /// The sequence number of this rank's next publication for each dataset.
    next: std::collections::HashMap<ObjId, u64>,
    /// Rank 0: datasets written since their last publication.
    dirty: std::collections::HashSet<ObjId>,
    /// This rank's published objects, removed after the flush.
    mine: Vec<crate::backend::ChunkKey>,
    /// For each dataset and other rank: the next sequence number to look for.
    seen: std::collections::HashMap<(ObjId, usize), u64>,
    /// Other ranks' published writes (ranks other than 0), by dataset, in rank order.
    foreign: std::collections::HashMap<ObjId, std::collections::BTreeMap<usize, Vec<Fragment>>>,
    /// For each dataset and rank other than 0: how many of its kept writes to the dataset
    /// (counted from the start of its fragments since the last flush or sync of the dataset)
    /// rank 0 has applied already, at the open where it took them up. Rank 0 applies a
    /// published write there, not at the flush: a write it makes after that open must win
    /// over it, as natively (the writer closed the dataset before). The other ranks learn
    /// the counts from rank 0's published chunk index, which holds those writes.
    applied: std::collections::HashMap<(ObjId, usize), usize>,
}

/// What rank 0 publishes of a dataset at its close.
#[derive(serde::Serialize, serde::Deserialize)]
struct LeadIndex {
    chunks: std::collections::BTreeMap<String, u64>,
    /// `Published::applied` of the dataset: (rank, count).
    applied: Vec<(usize, usize)>,
}

const PUB_MARK: u64 = u64::MAX;

impl Published {
    fn key(&self, obj: ObjId, rank: usize, seq: u64) -> crate::backend::ChunkKey {
        let generation = self.generation.get(&obj).copied().unwrap_or(0);
        crate::backend::ChunkKey { obj, coords: vec![PUB_MARK, self.session, self.epoch, generation, rank as u64, seq], version: 0 }
    }

    /// Forgets what was published about `obj` (a collective point made it rank 0's).
    fn settle(&mut self, obj: ObjId) {
        *self.generation.entry(obj).or_default() += 1;
        self.next.remove(&obj);
        self.dirty.remove(&obj);
        self.foreign.remove(&obj);
        self.seen.retain(|k, _| k.0 != obj);
        self.applied.retain(|k, _| k.0 != obj);
    }
}

impl Ranks {
    /// Collective (every rank of `comm` calls it, right after the file's open or create).
    pub fn join(comm: Comm, file: &OpenFile) -> Result<Ranks> {
        let mut msg = [0u8; 16];
        if comm.rank() == 0 {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
            msg[..8].copy_from_slice(&(t ^ ((std::process::id() as u64) << 32)).to_le_bytes());
            // Rank 0's epoch carries its opener's salt (`open_file::epoch_salt`), so a killed
            // job's late writes never land on this job's versions.
            msg[8..].copy_from_slice(&file.meta.read().write_epoch.to_le_bytes());
        }
        comm.bcast(&mut msg, 0)?;
        let word = |i: usize| u64::from_le_bytes(msg[i..i + 8].try_into().expect("8 bytes"));
        let published = Published { session: word(0), ..Default::default() };
        let r = Ranks { comm, kept: Mutex::new(Vec::new()), published: Mutex::new(published), clock: Default::default(), base: Default::default() };
        r.enter_band(file, word(8));
        Ok(r)
    }

    /// Starts a flush epoch at write epoch `base`: each rank writes the versions of its own
    /// epoch `base + rank`, so two ranks never store the same version of a chunk, no rank
    /// changes a version another named, and rank 0 can tell a version that is not the sending
    /// rank's (`check_stored`). Every version of an earlier flush epoch is below `base`.
    fn enter_band(&self, file: &OpenFile, base: u64) {
        self.base.store(base, std::sync::atomic::Ordering::Relaxed);
        file.meta.write().write_epoch = base + self.comm.rank() as u64;
    }

    fn base(&self) -> u64 {
        self.base.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The collective flush: every rank's kept writes to rank 0, which applies them and commits;
/// then the others load that commit.
pub fn flush(file: &OpenFile, ranks: &Ranks) -> Result<()> {
    let comm = &ranks.comm;
    let lead = comm.rank() == 0;
    let mine = if lead { Vec::new() } else { encode(&ranks.kept.lock()) };
    let gathered = comm.agree(comm.gather_bytes(&mine, 0))?;
    let band_end = ranks.base() + comm.size() as u64;
    let committed = match gathered {
        Some(all) if lead => apply(file, ranks, &all).and_then(|()| {
            // The commit's epoch is at or past every version of the flush epoch's ranks, so
            // every later epoch of every rank is above the versions this commit names; a
            // commit that fails leaves rank 0 past them too, outside every rank's band.
            {
                let mut m = file.meta.write();
                m.write_epoch = m.write_epoch.max(band_end - 1);
            }
            file.commit()
        }),
        _ => Ok(()),
    };
    comm.agree(committed)?;
    // Only once rank 0 has committed them: a flush that failed keeps them for the next one.
    ranks.kept.lock().clear();
    end_epoch(file, ranks);
    let loaded = if lead { Ok(()) } else { take_up_commit(file) };
    comm.agree(loaded)?;
    // The next flush epoch starts past this one's versions, committed or not (a commit with
    // no changes moves no epoch).
    let mut next = if lead { file.meta.read().write_epoch.max(band_end).to_le_bytes() } else { [0u8; 8] };
    comm.bcast(&mut next, 0)?;
    ranks.enter_band(file, u64::from_le_bytes(next));
    Ok(())
}

/// After a flush every rank made: what was published is in the file; its objects go.
fn end_epoch(file: &OpenFile, ranks: &Ranks) {
    let mine = {
        let mut p = ranks.published.lock();
        let session = p.session;
        let mine = std::mem::take(&mut p.mine);
        *p = Published { session, epoch: p.epoch + 1, ..Default::default() };
        mine
    };
    if !mine.is_empty() {
        if let Err(e) = file.backend.delete_chunks(&file.key, &mine) {
            log::warn!("{:?}: could not remove {} objects published before the flush: {}", file.name, mine.len(), e.msg);
        }
    }
}

/// A collective write's synchronisation point of a dataset (see above).
pub fn sync_dataset(file: &OpenFile, ranks: &Ranks, obj: ObjId) -> Result<()> {
    let comm = &ranks.comm;
    let lead = comm.rank() == 0;
    let mine = if lead {
        Vec::new()
    } else {
        let mut kept = ranks.kept.lock();
        let (this, rest): (Vec<Fragment>, Vec<Fragment>) = std::mem::take(&mut *kept).into_iter().partition(|f| f.obj == obj);
        *kept = rest;
        encode(&this)
    };
    let gathered = comm.agree(comm.gather_bytes(&mine, 0))?;
    let published = match gathered {
        Some(all) if lead => apply_and_store(file, ranks, obj, &all),
        _ => Ok(Vec::new()),
    };
    let mut bytes = comm.agree(published)?;
    let mut len = (bytes.len() as u64).to_le_bytes();
    comm.bcast(&mut len, 0)?;
    bytes.resize(u64::from_le_bytes(len) as usize, 0);
    comm.bcast(&mut bytes, 0)?;
    let taken = if lead { Ok(()) } else { take_up_dataset(file, obj, &bytes) };
    ranks.published.lock().settle(obj);
    comm.agree(taken)
}

/// This rank's part of a dataset's close (see above): no other rank waits for it.
pub fn publish(file: &OpenFile, ranks: &Ranks, obj: ObjId) -> Result<()> {
    let me = ranks.comm.rank();
    let bytes = if me == 0 {
        if !ranks.published.lock().dirty.remove(&obj) {
            return Ok(());
        }
        let applied: Vec<(usize, usize)> = ranks.published.lock().applied.iter().filter(|(k, _)| k.0 == obj).map(|(k, &n)| (k.1, n)).collect();
        let m = file.meta.read();
        match &m.obj(obj)?.kind {
            ObjKind::Dataset(d) => serde_json::to_vec(&LeadIndex { chunks: d.chunks.clone(), applied }).map_err(|e| crate::error::VolError::new(Area::Dataset, format!("encode the chunk index of {obj}: {e}")))?,
            _ => bail!(Area::Dataset, "object {obj} is not a dataset"),
        }
    } else {
        let mut kept = ranks.kept.lock();
        let fresh: Vec<Fragment> = kept.iter().filter(|f| f.obj == obj && !f.published).cloned().collect();
        if fresh.is_empty() {
            return Ok(());
        }
        for f in kept.iter_mut().filter(|f| f.obj == obj) {
            f.published = true;
        }
        encode(&fresh)
    };
    let key = {
        let mut p = ranks.published.lock();
        let seq = p.next.entry(obj).or_default();
        let n = *seq;
        *seq += 1;
        let key = p.key(obj, me, n);
        p.mine.push(key.clone());
        key
    };
    file.backend.write_chunks(&file.key, vec![(key, bytes.into())])
}

/// At a dataset's open: what the other ranks published about it since this rank last looked
/// (rank 0's chunk index taken up, the others' writes kept for reads).
pub fn take_up_published(file: &OpenFile, ranks: &Ranks, obj: ObjId) -> Result<()> {
    let me = ranks.comm.rank();
    for rank in (0..ranks.comm.size()).filter(|&r| r != me) {
        loop {
            let (key, seq) = {
                let p = ranks.published.lock();
                let seq = p.seen.get(&(obj, rank)).copied().unwrap_or(0);
                (p.key(obj, rank, seq), seq)
            };
            let Some(bytes) = file.backend.read_chunks(&file.key, std::slice::from_ref(&key))?.pop().flatten() else { break };
            if rank == 0 {
                let index: LeadIndex =
                    serde_json::from_slice(&bytes).map_err(|e| crate::error::VolError::new(Area::Dataset, format!("rank 0's chunk index of dataset {obj}: {e}")))?;
                {
                    let mut m = file.meta.write();
                    if let ObjKind::Dataset(d) = &mut m.obj_mut(obj)?.kind {
                        forget_cached(file, obj, d);
                        d.chunks = index.chunks;
                        forget_cached(file, obj, d);
                    }
                }
                // Chunks stored by ranks since, which rank 0 has not named yet (its index
                // holds the writes it applied, and its own later writes over them), in rank order.
                let stored: Vec<(usize, Vec<(Vec<u64>, u64)>)> = {
                    let kept = ranks.kept.lock();
                    let mut p = ranks.published.lock();
                    p.applied.retain(|k, _| k.0 != obj);
                    p.applied.extend(index.applied.iter().map(|&(q, n)| ((obj, q), n)));
                    let foreign = p.foreign.get(&obj);
                    let mut all = Vec::new();
                    for q in 1..ranks.comm.size() {
                        let frags: Vec<&Fragment> = if q == me { kept.iter().filter(|f| f.obj == obj).collect() } else { foreign.and_then(|f| f.get(&q)).map(|v| v.iter().collect()).unwrap_or_default() };
                        let done = p.applied.get(&(obj, q)).copied().unwrap_or(0);
                        all.extend(frags.into_iter().skip(done).filter_map(|f| match &f.data {
                            Payload::Stored(s) => Some((q, s.clone())),
                            _ => None,
                        }));
                    }
                    all
                };
                for (q, s) in stored {
                    name_stored(file, obj, &s, q, &|| format!("the chunks rank {q} stored"), false)?;
                }
            } else {
                let es = match &file.meta.read().obj(obj)?.kind {
                    ObjKind::Dataset(d) => d.elem_size,
                    _ => bail!(Area::Dataset, "object {obj} is not a dataset"),
                };
                let mut frags = decode(&bytes)
                    .and_then(|f| check_published(&f, obj, es).map(|()| f))
                    .map_err(|e| crate::error::VolError::new(Area::Dataset, format!("the writes rank {rank} published: {}", e.msg)))?;
                let source = || format!("the writes rank {rank} published as object {} of dataset {obj}", super::objects::chunk_name(&key.coords));
                if me == 0 {
                    // Applied now, as if rank 0 made them here: its later writes come after.
                    let n = frags.len();
                    for f in frags {
                        apply_fragment(file, rank, f, &source)?;
                    }
                    *ranks.published.lock().applied.entry((obj, rank)).or_default() += n;
                } else {
                    let at = ranks.tick();
                    for f in &mut frags {
                        f.at = at;
                        if let Payload::Stored(s) = &f.data {
                            name_stored(file, obj, s, rank, &source, false)?;
                        }
                    }
                    ranks.published.lock().foreign.entry(obj).or_default().entry(rank).or_default().extend(frags);
                }
            }
            ranks.published.lock().seen.insert((obj, rank), seq + 1);
        }
    }
    Ok(())
}

/// Rank 0's part of `sync_dataset`: the others' writes applied and every chunk stored;
/// answers the dataset's record as rank 0 now has it.
fn apply_and_store(file: &OpenFile, ranks: &Ranks, obj: ObjId, all: &[Vec<u8>]) -> Result<Vec<u8>> {
    apply(file, ranks, all)?;
    super::write_back::write_back(file, Some(obj))?;
    let m = file.meta.read();
    match &m.obj(obj)?.kind {
        ObjKind::Dataset(d) => serde_json::to_vec(d).map_err(|e| crate::error::VolError::new(Area::Dataset, format!("encode dataset {obj}: {e}"))),
        _ => bail!(Area::Dataset, "object {obj} is not a dataset"),
    }
}

fn take_up_dataset(file: &OpenFile, obj: ObjId, bytes: &[u8]) -> Result<()> {
    let d: super::objects::Dataset =
        serde_json::from_slice(bytes).map_err(|e| crate::error::VolError::new(Area::Dataset, format!("rank 0's record of dataset {obj}: {e}")))?;
    let mut m = file.meta.write();
    let o = m.obj_mut(obj)?;
    if let ObjKind::Dataset(old) = &o.kind {
        forget_cached(file, obj, old);
    }
    forget_cached(file, obj, &d);
    o.kind = ObjKind::Dataset(Box::new(d));
    Ok(())
}

/// Chunks rank 0 has not committed yet keep their version when it writes them again, so what
/// this rank fetched of them before may be out of date: dropped from the read cache.
fn forget_cached(file: &OpenFile, obj: ObjId, d: &super::objects::Dataset) {
    let keys: Vec<crate::backend::ChunkKey> = d
        .chunks
        .iter()
        .filter_map(|(name, &version)| dataio::parse_chunk_name(name).ok().map(|coords| crate::backend::ChunkKey { obj, coords, version }))
        .collect();
    file.read_cache.forget(keys.iter());
}

/// Rank 0's part: every other rank's writes, in rank order, through the ordinary write path,
/// but for those it applied already where it took them up (`Published::applied`): applied
/// again, they would undo what rank 0 wrote over them since.
fn apply(file: &OpenFile, ranks: &Ranks, all: &[Vec<u8>]) -> Result<()> {
    for (rank, bytes) in all.iter().enumerate().skip(1) {
        let mut done: std::collections::HashMap<ObjId, usize> =
            ranks.published.lock().applied.iter().filter(|(k, _)| k.1 == rank).map(|(k, &n)| (k.0, n)).collect();
        for f in decode(bytes).map_err(|e| crate::error::VolError::new(Area::File, format!("the writes of rank {rank}: {}", e.msg)))? {
            if let Some(n) = done.get_mut(&f.obj).filter(|n| **n > 0) {
                *n -= 1;
                continue;
            }
            apply_fragment(file, rank, f, &|| format!("the writes rank {rank} sent"))?;
        }
    }
    Ok(())
}

/// Rank 0: one write of another rank, as if rank 0 made it.
fn apply_fragment(file: &OpenFile, rank: usize, f: Fragment, source: &dyn Fn() -> String) -> Result<()> {
    let d = match &file.meta.read().obj(f.obj)?.kind {
        ObjKind::Dataset(d) => d.clone(),
        _ => bail!(Area::Dataset, "rank {rank} wrote to object {}, which is not a dataset", f.obj),
    };
    super::allocation::on_write(file, f.obj, &d)?;
    match f.data {
        Payload::Fixed(data) => dataio::write_fixed(file, f.obj, &d, &f.runs, &data)?,
        Payload::Vlen(elems) => dataio::write_vlen(file, f.obj, &d, &f.runs, elems)?,
        Payload::Stored(stored) => {
            name_stored(file, f.obj, &stored, rank, source, true)?;
            ranks_dirty(file, f.obj);
        }
    }
    Ok(())
}

/// Rank 0: the dataset's chunk index changed (published at its next close).
fn ranks_dirty(file: &OpenFile, obj: ObjId) {
    if let Some(r) = file.ranks.get() {
        r.published.lock().dirty.insert(obj);
    }
}

/// Replaces this rank's model by the one rank 0 committed, keeping what is this process's
/// own: its open handles and the format choice of its fapl.
fn take_up_commit(file: &OpenFile) -> Result<()> {
    let Some(snap) = file.backend.load_meta(&file.key)? else {
        bail!(Area::File, "file {:?} is gone from {}", file.name, file.backend.describe());
    };
    let mut fresh = FileMeta::from_records(&snap.header, snap.records)?;
    let mut m = file.meta.write();
    for o in m.objects.values() {
        if let ObjKind::Dataset(d) = &o.kind {
            forget_cached(file, o.id, d);
        }
    }
    fresh.open = std::mem::take(&mut m.open);
    fresh.new_style_groups = m.new_style_groups;
    // The write epoch is the next flush epoch's band (`flush`), past every version committed.
    fresh.write_epoch = m.write_epoch;
    *m = fresh;
    Ok(())
}

/// On a rank other than 0, keeps a write for rank 0 (see above) and answers true.
pub fn keep_for_rank0(file: &OpenFile, obj: ObjId, d: &super::objects::Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<bool> {
    let Some(r) = file.ranks.get().filter(|r| r.comm.rank() != 0) else {
        return Ok(keep(file, obj, runs, || Payload::Fixed(data.to_vec())));
    };
    // Chunks this write covers whole go to the store at once, so only the rest travels to
    // rank 0. Not while an earlier kept write of this rank touches the dataset: rank 0 would
    // apply that one after, over the whole chunk.
    let earlier = r.kept.lock().iter().any(|f| f.obj == obj);
    if !earlier && !d.vlen && !file.backend.keeps_chunks_in_process() {
        if let Some((stored, rest_runs, rest)) = store_owned(file, obj, d, runs, data)? {
            let mut kept = r.kept.lock();
            if rest_runs.iter().any(|r| r.1 > 0) {
                kept.push(Fragment { obj, runs: rest_runs, data: Payload::Fixed(rest), published: false, at: r.tick() });
            }
            kept.push(Fragment { obj, runs: Vec::new(), data: Payload::Stored(stored), published: false, at: r.tick() });
            return Ok(true);
        }
    }
    Ok(keep(file, obj, runs, || Payload::Fixed(data.to_vec())))
}

/// Stores the chunks of `obj` that the write of `data` to `runs` covers whole (edge chunks,
/// which reach past the extent, never), as this rank's own versions; answers them and the
/// write's other elements (runs and data), or `None` when it covers no chunk whole.
fn store_owned(file: &OpenFile, obj: ObjId, d: &super::objects::Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<Option<StoredSplit>> {
    let es = d.elem_size;
    let g = dataio::geometry(d);
    let per_chunk = g.chunk_elems();
    let split = g.split(runs);
    let (order, start) = split.by_chunk();
    let mut whole = vec![false; split.chunks.len()];
    for (c, w) in whole.iter_mut().enumerate() {
        let mut ps: Vec<&super::chunks::Piece> = order[start[c]..start[c + 1]].iter().map(|&i| &split.pieces[i]).collect();
        ps.sort_unstable_by_key(|p| p.chunk_off);
        let mut next = 0u64;
        let tiled = ps.iter().all(|p| {
            let ok = p.chunk_off == next;
            next = p.chunk_off + p.len;
            ok
        });
        *w = tiled && next == per_chunk && !g.reaches_outside(&split.chunks[c]);
    }
    if !whole.iter().any(|&w| w) {
        return Ok(None);
    }
    // Straight from the application's buffer into new chunk files where the store's chunks
    // are local files (dir), as rank 0's own writes go (`direct_io`): no chunk buffer to fault
    // in and fill, and no copy of it through the object store's writer.
    let mut done: Vec<bool> = whole.iter().map(|w| !w).collect();
    if super::direct_io::applies(file, d) {
        let by = super::direct_io::ByChunk { split: &split, order: &order, start: &start, es };
        super::direct_io::write(file, obj, &by, &split.covered(), per_chunk, data, &mut done)?;
    }
    let mut chunks = Vec::new();
    for (c, _) in whole.iter().enumerate().filter(|&(c, &w)| w && !done[c]) {
        let mut b = dataio::new_chunk(file, per_chunk as usize * es);
        for &i in &order[start[c]..start[c + 1]] {
            let p = &split.pieces[i];
            b[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es].copy_from_slice(&data[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]);
        }
        chunks.push((split.chunks[c].clone(), b));
    }
    dataio::store(file, obj, d, chunks)?;
    let coords: Vec<Vec<u64>> = whole.iter().enumerate().filter(|(_, &w)| w).map(|(c, _)| split.chunks[c].clone()).collect();
    let stored = {
        let m = file.meta.read();
        let ObjKind::Dataset(rec) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
        coords.into_iter().map(|c| rec.chunks.get(&super::objects::chunk_name(&c)).copied().map(|v| (c, v))).collect::<Option<Vec<_>>>()
    };
    let Some(stored) = stored else { bail!(Area::Dataset, "dataset {obj}: a chunk just stored is not in its record") };
    // The other pieces, back in the order of the selection, with their places in the dataset:
    // a piece lies within one run (a run's stretch inside one chunk).
    let mut run_at = Vec::with_capacity(runs.len());
    let mut off = 0u64;
    for &(s, n) in runs {
        run_at.push((off, s));
        off += n;
    }
    let mut rest: Vec<&super::chunks::Piece> = split.pieces.iter().filter(|p| !whole[p.chunk]).collect();
    rest.sort_unstable_by_key(|p| p.buf_off);
    let mut rest_runs: Vec<(u64, u64)> = Vec::with_capacity(rest.len());
    let mut rest_data = Vec::with_capacity(rest.iter().map(|p| p.len as usize * es).sum());
    for p in rest {
        let i = run_at.partition_point(|r| r.0 <= p.buf_off) - 1;
        let first = run_at[i].1 + (p.buf_off - run_at[i].0);
        match rest_runs.last_mut() {
            Some(last) if last.0 + last.1 == first => last.1 += p.len,
            _ => rest_runs.push((first, p.len)),
        }
        rest_data.extend_from_slice(&data[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]);
    }
    Ok(Some((stored, rest_runs, rest_data)))
}

type StoredSplit = (Vec<(Vec<u64>, u64)>, Vec<(u64, u64)>, Vec<u8>);

/// Chunks another rank says it stored whole: positions inside the chunk grid `g` and versions of that rank's epoch (`epoch`, its place in the band).
fn check_stored(g: &super::chunks::Geometry, stored: &[(Vec<u64>, u64)], epoch: u64) -> Result<()> {
    for (c, v) in stored {
        let inside = c.len() == g.dims.len() && c.iter().zip(&g.chunk).zip(&g.dims).all(|((&p, &k), &n)| p.checked_mul(k).is_some_and(|at| at < n));
        if !inside {
            bail!(Area::Storage, "chunk {c:?} is outside the dataset's chunk grid (extent {:?}, chunks {:?})", g.dims, g.chunk);
        }
        if *v != epoch {
            bail!(Area::Storage, "chunk {c:?} is named at version {v}, which is not the storing rank's write epoch {epoch}");
        }
    }
    Ok(())
}

/// Rank 0, or a rank reading what another published: names `stored` chunk versions, which
/// rank `from` stored, in the dataset's record (rank 0's own held chunks of the dataset stored
/// first, so none of them later takes a chunk's place again). Rank 0 drops replaced versions
/// at the next commit, so each named one is checked first: a damaged message or published
/// object (`source` says which) could otherwise name a version that does not hold the chunk
/// and have the committed one deleted.
fn name_stored(file: &OpenFile, obj: ObjId, stored: &[(Vec<u64>, u64)], from: usize, source: &dyn Fn() -> String, lead: bool) -> Result<()> {
    let band = file.ranks.get().map_or(0, |r| r.base()) + from as u64;
    {
        let m = file.meta.read();
        let ObjKind::Dataset(rec) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
        check_stored(&dataio::geometry(rec), stored, band).map_err(|e| crate::error::VolError::new(Area::Storage, format!("{}: {}", source(), e.msg)))?;
    }
    if lead {
        super::write_back::write_back(file, Some(obj))?;
    }
    let mut m = file.meta.write();
    let mut replaced = Vec::new();
    if let ObjKind::Dataset(rec) = &mut m.obj_mut(obj)?.kind {
        for (c, v) in stored {
            if let Some(old) = rec.chunks.insert(super::objects::chunk_name(c), *v) {
                if old != *v {
                    replaced.push(crate::backend::ChunkKey { obj, coords: c.clone(), version: old });
                }
            }
        }
    }
    // No rank's epoch moves here: another rank's versions are of its own epoch in the band
    // (`Ranks::enter_band`), never this rank's, so this rank never changes one in place.
    file.read_cache.forget(replaced.iter());
    if lead {
        m.garbage.extend(replaced);
    }
    Ok(())
}

/// `keep_for_rank0` for variable-length elements; hands them back when this rank writes
/// them itself.
pub fn keep_vlen_for_rank0(file: &OpenFile, obj: ObjId, runs: &[(u64, u64)], elems: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut elems = Some(elems);
    if keep(file, obj, runs, || Payload::Vlen(elems.take().expect("taken once"))) {
        None
    } else {
        elems
    }
}

/// Every rank changes a dataset's extent alike (`H5Dset_extent` is collective): this rank's
/// kept writes to it, runs of the old shape's row-major order, re-expressed in the new one's
/// (elements cut off are gone, as natively); else rank 0 would apply them, and this rank read
/// them back, at the elements the same linear indices name in the new shape. Chunks stored
/// whole keep their grid positions, which no extent change moves, but those wholly cut off
/// are gone (rank 0 would name them at the flush, and growing back would show them).
pub fn extent_changed(file: &OpenFile, obj: ObjId, old: &[u64], new: &[u64], es: usize, chunk: &[u64]) {
    let Some(r) = file.ranks.get() else { return };
    for f in r.kept.lock().iter_mut().filter(|f| f.obj == obj) {
        reshape_fragment(f, old, new, es, chunk);
    }
    // Other ranks' writes taken up at an open are read over the chunks too, by the same runs.
    r.published.lock().reshape(obj, old, new, es, chunk);
}

/// After a shrink trimmed the edge chunks of `obj` (`dataio::trim_to_extent`): a chunk this
/// rank stored whole that is an edge chunk now was stored again, trimmed; rank 0 must name
/// what the record names now, not the untrimmed version this rank stored first.
pub fn trimmed(file: &OpenFile, obj: ObjId) -> Result<()> {
    let Some(r) = file.ranks.get().filter(|r| r.comm.rank() != 0) else { return Ok(()) };
    let m = file.meta.read();
    let ObjKind::Dataset(rec) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
    let mine = r.base() + r.comm.rank() as u64;
    for f in r.kept.lock().iter_mut().filter(|f| f.obj == obj) {
        if let Payload::Stored(stored) = &mut f.data {
            for (c, v) in stored.iter_mut() {
                // Only a version of this rank's own: one taken up from another rank since
                // replaced this rank's write there, and is that rank's to name.
                match rec.chunks.get(&super::objects::chunk_name(c)) {
                    Some(&now) if now == mine => *v = now,
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

impl Published {
    fn reshape(&mut self, obj: ObjId, old: &[u64], new: &[u64], es: usize, chunk: &[u64]) {
        for f in self.foreign.get_mut(&obj).into_iter().flat_map(|by_rank| by_rank.values_mut()).flatten() {
            reshape_fragment(f, old, new, es, chunk);
        }
    }
}

fn reshape_fragment(f: &mut Fragment, old: &[u64], new: &[u64], es: usize, chunk: &[u64]) {
    match &mut f.data {
        Payload::Fixed(data) => (f.runs, *data) = super::reshape_runs::reshape(&f.runs, data, es, old, new),
        Payload::Vlen(elems) => {
            // Reshaped as the elements' indices, then the elements taken in that order.
            let idx: Vec<u8> = (0..elems.len() as u64).flat_map(u64::to_le_bytes).collect();
            let (runs, kept) = super::reshape_runs::reshape(&f.runs, &idx, 8, old, new);
            let mut taken: Vec<Option<Vec<u8>>> = std::mem::take(elems).into_iter().map(Some).collect();
            *elems = kept
                .chunks_exact(8)
                .filter_map(|b| taken[u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize].take())
                .collect();
            f.runs = runs;
        }
        // The fragment stays (rank 0 counts fragments it applied already), maybe empty.
        Payload::Stored(stored) => stored.retain(|(c, _)| !c.iter().zip(chunk).zip(new).any(|((&p, &n), &d)| p.saturating_mul(n) >= d)),
    }
}

fn keep(file: &OpenFile, obj: ObjId, runs: &[(u64, u64)], data: impl FnOnce() -> Payload) -> bool {
    match file.ranks.get() {
        Some(r) if r.comm.rank() != 0 => {
            if runs.iter().any(|r| r.1 > 0) {
                r.kept.lock().push(Fragment { obj, runs: runs.to_vec(), data: data(), published: false, at: r.tick() });
            }
            true
        }
        Some(r) => {
            r.published.lock().dirty.insert(obj);
            false
        }
        None => false,
    }
}

/// This rank's kept writes to `obj` over `out`, the packed elements of `runs` just read.
pub fn overlay(file: &OpenFile, obj: ObjId, es: usize, runs: &[(u64, u64)], out: &mut [u8]) {
    overlay_with(file, obj, runs, |p, dst, src, n| {
        if let Payload::Fixed(data) = p {
            out[dst as usize * es..(dst + n) as usize * es].copy_from_slice(&data[src as usize * es..(src + n) as usize * es]);
        }
    });
}

/// `overlay` for variable-length elements (`out`: one encoding per element of `runs`).
pub fn overlay_vlen(file: &OpenFile, obj: ObjId, runs: &[(u64, u64)], out: &mut [Vec<u8>]) {
    overlay_with(file, obj, runs, |p, dst, src, n| {
        if let Payload::Vlen(elems) = p {
            out[dst as usize..(dst + n) as usize].clone_from_slice(&elems[src as usize..(src + n) as usize]);
        }
    });
}

/// Calls `put(payload, first element in the read, first element in the payload, count)` for
/// every piece of this rank's kept writes to `obj` that `runs` cover, oldest write first.
fn overlay_with(file: &OpenFile, obj: ObjId, runs: &[(u64, u64)], mut put: impl FnMut(&Payload, u64, u64, u64)) {
    let Some(r) = file.ranks.get() else { return };
    let kept = r.kept.lock();
    let published = r.published.lock();
    let foreign = published.foreign.get(&obj);
    let mine = kept.iter().filter(|f| f.obj == obj);
    if mine.clone().next().is_none() && foreign.is_none() {
        return;
    }
    // In the order they happened here: another rank's write taken up at an open came before
    // this rank's writes after it. Those rank 0's chunk index holds already are left out:
    // they are in what was read, maybe under rank 0's later writes.
    let me = r.comm.rank();
    let done = |rank: usize| published.applied.get(&(obj, rank)).copied().unwrap_or(0);
    let mut ordered: Vec<(u64, usize, &Fragment)> = Vec::new();
    for rank in 1..r.comm.size() {
        if rank == me {
            ordered.extend(mine.clone().skip(done(rank)).map(|f| (f.at, rank, f)));
        } else if let Some(f) = foreign.and_then(|f| f.get(&rank)) {
            ordered.extend(f.iter().skip(done(rank)).map(|f| (f.at, rank, f)));
        }
    }
    ordered.sort_by_key(|&(at, rank, _)| (at, rank));
    let ordered = ordered.into_iter().map(|(_, _, f)| f);
    // The read's runs sorted by first element, with where each starts in `out`.
    let mut read: Vec<(u64, u64, u64)> = Vec::with_capacity(runs.len());
    let mut off = 0u64;
    for &(s, n) in runs {
        read.push((s, n, off));
        off += n;
    }
    read.sort_unstable_by_key(|r| r.0);
    for f in ordered {
        let mut foff = 0u64;
        for &(fs, fl) in &f.runs {
            let fe = fs + fl;
            // The read runs that can overlap [fs, fe): from the last one starting at or before fs.
            let mut i = read.partition_point(|r| r.0 <= fs).saturating_sub(1);
            while i < read.len() && read[i].0 < fe {
                let (rs, rl, roff) = read[i];
                let (lo, hi) = (fs.max(rs), fe.min(rs + rl));
                if lo < hi {
                    put(&f.data, roff + lo - rs, foff + lo - fs, hi - lo);
                }
                i += 1;
            }
            foff += fl;
        }
    }
}

/// Published writes come back from the store: before `overlay` slices their elements by
/// their runs, each must be about `obj` and hold exactly the elements its runs name.
fn check_published(frags: &[Fragment], obj: ObjId, es: usize) -> Result<()> {
    for f in frags {
        if f.obj != obj {
            bail!(Area::Dataset, "a write to object {} among those of object {obj}", f.obj);
        }
        let mut elems = 0u64;
        for &(s, n) in &f.runs {
            elems = s.checked_add(n).and(elems.checked_add(n)).ok_or_else(|| crate::error::VolError::new(Area::Dataset, format!("a run of {n} elements at {s}")))?;
        }
        let held = match &f.data {
            Payload::Fixed(data) => (data.len() as u64).checked_div(es as u64).filter(|_| data.len() % es.max(1) == 0),
            Payload::Vlen(v) => Some(v.len() as u64),
            Payload::Stored(_) => Some(0),
        };
        if held != Some(elems) {
            bail!(Area::Dataset, "{} runs of {elems} elements with data that does not hold them", f.runs.len());
        }
    }
    Ok(())
}

const FIXED: u64 = 0;
const VLEN: u64 = 1;
const STORED: u64 = 2;

fn encode(kept: &[Fragment]) -> Vec<u8> {
    let mut b = Vec::new();
    let word = |b: &mut Vec<u8>, w: u64| b.extend_from_slice(&w.to_le_bytes());
    for f in kept {
        word(&mut b, f.obj);
        word(&mut b, f.runs.len() as u64);
        for &(s, n) in &f.runs {
            word(&mut b, s);
            word(&mut b, n);
        }
        match &f.data {
            Payload::Fixed(data) => {
                word(&mut b, FIXED);
                word(&mut b, data.len() as u64);
                b.extend_from_slice(data);
            }
            Payload::Vlen(elems) => {
                word(&mut b, VLEN);
                word(&mut b, elems.len() as u64);
                for e in elems {
                    word(&mut b, e.len() as u64);
                    b.extend_from_slice(e);
                }
            }
            Payload::Stored(stored) => {
                word(&mut b, STORED);
                word(&mut b, stored.len() as u64);
                for (c, v) in stored {
                    word(&mut b, c.len() as u64);
                    for &x in c {
                        word(&mut b, x);
                    }
                    word(&mut b, *v);
                }
            }
        }
    }
    b
}

fn decode(mut b: &[u8]) -> Result<Vec<Fragment>> {
    fn word(b: &mut &[u8]) -> Result<u64> {
        let Some((w, rest)) = b.split_first_chunk::<8>() else { bail!(Area::File, "truncated message") };
        *b = rest;
        Ok(u64::from_le_bytes(*w))
    }
    fn bytes(b: &mut &[u8]) -> Result<Vec<u8>> {
        let len = word(b)? as usize;
        if len > b.len() {
            bail!(Area::File, "truncated message");
        }
        let (data, rest) = b.split_at(len);
        *b = rest;
        Ok(data.to_vec())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let obj = word(&mut b)?;
        let n = word(&mut b)? as usize;
        if n > b.len() / 16 {
            bail!(Area::File, "truncated message");
        }
        let mut runs = Vec::with_capacity(n);
        for _ in 0..n {
            runs.push((word(&mut b)?, word(&mut b)?));
        }
        let data = match word(&mut b)? {
            FIXED => Payload::Fixed(bytes(&mut b)?),
            VLEN => {
                let n = word(&mut b)? as usize;
                if n > b.len() / 8 {
                    bail!(Area::File, "truncated message");
                }
                Payload::Vlen((0..n).map(|_| bytes(&mut b)).collect::<Result<_>>()?)
            }
            STORED => {
                let n = word(&mut b)? as usize;
                if n > b.len() / 16 {
                    bail!(Area::File, "truncated message");
                }
                let mut stored = Vec::with_capacity(n);
                for _ in 0..n {
                    let dims = word(&mut b)? as usize;
                    if dims > b.len() / 8 {
                        bail!(Area::File, "truncated message");
                    }
                    let c = (0..dims).map(|_| word(&mut b)).collect::<Result<Vec<u64>>>()?;
                    stored.push((c, word(&mut b)?));
                }
                Payload::Stored(stored)
            }
            k => bail!(Area::File, "unknown kind {k} of kept write"),
        };
        out.push(Fragment { obj, runs, data, published: false, at: 0 });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_survive_the_wire() {
        let kept = vec![
            Fragment { obj: 7, runs: vec![(0, 2), (10, 1)], data: Payload::Fixed(vec![1, 2, 3, 4, 5, 6]), published: false, at: 0 },
            Fragment { obj: 9, runs: vec![], data: Payload::Fixed(vec![]), published: true, at: 0 },
            Fragment { obj: 3, runs: vec![(4, 2)], data: Payload::Vlen(vec![b"ab".to_vec(), vec![]]), published: false, at: 0 },
            Fragment { obj: 5, runs: vec![], data: Payload::Stored(vec![(vec![1, 2], 77), (vec![3, 0], 78)]), published: false, at: 0 },
        ];
        let back = decode(&encode(&kept)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back[3].data, Payload::Stored(vec![(vec![1, 2], 77), (vec![3, 0], 78)]));
        assert_eq!((back[0].obj, back[0].runs.clone(), back[0].data.clone()), (7, vec![(0, 2), (10, 1)], Payload::Fixed(vec![1, 2, 3, 4, 5, 6])));
        assert_eq!((back[1].obj, back[1].runs.len()), (9, 0));
        assert_eq!((back[2].obj, back[2].runs.clone(), back[2].data.clone()), (3, vec![(4, 2)], Payload::Vlen(vec![b"ab".to_vec(), vec![]])));
        assert!(decode(&encode(&kept)[..20]).is_err());
        assert!(check_published(&back[..1], 7, 2).is_ok());
        assert!(check_published(&back[2..3], 3, 4).is_ok());
        assert!(check_published(&back[3..], 5, 4).is_ok());
        assert!(decode(&encode(&kept)[..encode(&kept).len() - 1]).is_err());
    }

    #[test]
    fn published_writes_that_do_not_hold_their_runs_are_refused() {
        let frag = |obj, runs: Vec<(u64, u64)>, data| Fragment { obj, runs, data, published: false, at: 0 };
        let bad = [
            frag(7, vec![(0, 100)], Payload::Fixed(vec![0; 8])),
            frag(7, vec![(0, 1)], Payload::Fixed(vec![0; 3])),
            frag(7, vec![(u64::MAX, 2)], Payload::Fixed(vec![0; 8])),
            frag(7, vec![(0, u64::MAX), (5, 2)], Payload::Fixed(vec![0; 4])),
            frag(7, vec![(0, 3)], Payload::Vlen(vec![vec![1]])),
            frag(7, vec![(0, 1)], Payload::Stored(vec![(vec![0], 1)])),
            frag(8, vec![(0, 1)], Payload::Fixed(vec![0; 4])),
        ];
        for (i, f) in bad.iter().enumerate() {
            let back = decode(&encode(std::slice::from_ref(f))).unwrap();
            assert!(check_published(&back, 7, 4).is_err(), "fragment {i}");
        }
        assert!(check_published(&[frag(7, vec![(0, 1), (9, 1)], Payload::Fixed(vec![0; 8]))], 7, 4).is_ok());
    }

    #[test]
    fn writes_taken_up_from_other_ranks_follow_an_extent_change() {
        let mut p = Published::default();
        // Rank 2's write of row 1 of a 2 x 3 dataset, taken up; the rows grow to 5 wide.
        let f = Fragment { obj: 4, runs: vec![(3, 3)], data: Payload::Fixed(vec![1, 2, 3]), published: false, at: 0 };
        p.foreign.entry(4).or_default().entry(2).or_default().push(f);
        p.reshape(4, &[2, 3], &[2, 5], 1, &[2, 8]);
        let back = &p.foreign[&4][&2][0];
        assert_eq!((back.runs.clone(), back.data.clone()), (vec![(5, 3)], Payload::Fixed(vec![1, 2, 3])));
    }

    #[test]
    fn chunks_stored_whole_and_cut_off_by_a_shrink_are_not_named_later() {
        // A 4 x 8 dataset of 2 x 4 chunks, shrunk to 3 x 4: chunks (2, _) and (_, 1) are gone,
        // (1, 0) is an edge chunk now and stays.
        let stored = vec![(vec![0, 0], 7), (vec![0, 1], 7), (vec![1, 0], 7), (vec![1, 1], 8)];
        let mut f = Fragment { obj: 4, runs: vec![], data: Payload::Stored(stored), published: false, at: 0 };
        reshape_fragment(&mut f, &[4, 8], &[3, 4], 4, &[2, 4]);
        assert_eq!(f.data, Payload::Stored(vec![(vec![0, 0], 7), (vec![1, 0], 7)]));
    }

    #[test]
    fn chunks_another_rank_names_must_be_in_the_grid_and_of_its_epoch() {
        // A 4 x 8 dataset of 2 x 4 chunks: a 2 x 2 grid; the sending rank's epoch is 17.
        let g = super::super::chunks::Geometry::new(&[4, 8], &[2, 4]);
        assert!(check_stored(&g, &[(vec![0, 0], 17), (vec![1, 1], 17)], 17).is_ok());
        let bad: [Vec<(Vec<u64>, u64)>; 6] = [
            vec![(vec![2, 0], 17)],
            vec![(vec![0, 2], 17)],
            vec![(vec![0], 17)],
            vec![(vec![u64::MAX, 0], 17)],
            vec![(vec![0, 0], 17), (vec![1, 1], 16)],
            vec![(vec![1, 0], 18)],
        ];
        for (i, stored) in bad.iter().enumerate() {
            let e = check_stored(&g, stored, 17).expect_err(&format!("case {i}"));
            assert_eq!(e.area, Area::Storage, "case {i}");
        }
    }
}
