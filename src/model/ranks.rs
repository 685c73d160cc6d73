//! A file a parallel program opened for writing on several ranks (a communicator of more than
//! one rank in the file access list). HDF5's collective model has every rank make the same
//! metadata calls (create, link, attribute, extent) with the same arguments, so each rank
//! builds the same model, with the same object tokens, by itself; rank 0 alone holds the
//! writer's lock and commits.
//!
//! Raw data: the chunk index is metadata only rank 0 commits, and several ranks may write
//! pieces of one chunk, which a store that replaces whole objects cannot take from each. So a
//! rank other than 0 keeps its writes (in the file's element type, as runs of elements) until
//! the next collective flush (`H5Fflush`, the close); there rank 0 gathers every rank's writes,
//! applies them in rank order after its own as if it had made them, and commits; every rank
//! learns the outcome, and the others then take up what rank 0 committed. A rank reads its own
//! kept writes over what the store has, and sees other ranks' data after the flush, as HDF5
//! promises. Writes racing on the same elements from different ranks between two flushes have
//! no defined order, as in MPI-IO.
//!
//! `H5Dclose` is collective too, and natively a rank sees what another wrote to a dataset once
//! both closed it and met at a barrier (parallel HDF5 allocates chunks at creation and MPI-IO
//! writes them in place). So a dataset's close is a smaller flush: rank 0 applies the others'
//! writes to that dataset and stores its chunks, and every rank takes up rank 0's chunk index
//! of the dataset (not yet committed: a killed job leaves the last flushed state).
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
}

/// One kept write: `runs` of (first element, count) in the dataset's row-major order and
/// their elements, packed.
struct Fragment {
    obj: ObjId,
    runs: Vec<(u64, u64)>,
    data: Vec<u8>,
}

impl Ranks {
    pub fn new(comm: Comm) -> Ranks {
        Ranks { comm, kept: Mutex::new(Vec::new()) }
    }
}

/// The collective flush: every rank's kept writes to rank 0, which applies them and commits;
/// then the others load that commit.
pub fn flush(file: &OpenFile, ranks: &Ranks) -> Result<()> {
    let comm = &ranks.comm;
    let lead = comm.rank() == 0;
    let mine = if lead { Vec::new() } else { encode(&ranks.kept.lock()) };
    let gathered = comm.agree(comm.gather_bytes(&mine, 0))?;
    let committed = match gathered {
        Some(all) if lead => apply(file, &all).and_then(|()| file.commit()),
        _ => Ok(()),
    };
    comm.agree(committed)?;
    // Only once rank 0 has committed them: a flush that failed keeps them for the next one.
    ranks.kept.lock().clear();
    let loaded = if lead { Ok(()) } else { take_up_commit(file) };
    comm.agree(loaded)
}

/// The collective part of a dataset's close (see above).
pub fn close_dataset(file: &OpenFile, ranks: &Ranks, obj: ObjId) -> Result<()> {
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
        Some(all) if lead => publish(file, obj, &all),
        _ => Ok(Vec::new()),
    };
    let mut bytes = comm.agree(published)?;
    let mut len = (bytes.len() as u64).to_le_bytes();
    comm.bcast(&mut len, 0)?;
    bytes.resize(u64::from_le_bytes(len) as usize, 0);
    comm.bcast(&mut bytes, 0)?;
    let taken = if lead { Ok(()) } else { take_up_dataset(file, obj, &bytes) };
    comm.agree(taken)
}

/// Rank 0's part of a dataset's close: the others' writes applied and every chunk stored;
/// answers the dataset's record as rank 0 now has it.
fn publish(file: &OpenFile, obj: ObjId, all: &[Vec<u8>]) -> Result<Vec<u8>> {
    apply(file, all)?;
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

/// Rank 0's part: every other rank's writes, in rank order, through the ordinary write path.
fn apply(file: &OpenFile, all: &[Vec<u8>]) -> Result<()> {
    for (rank, bytes) in all.iter().enumerate().skip(1) {
        for f in decode(bytes).map_err(|e| crate::error::VolError::new(Area::File, format!("the writes of rank {rank}: {}", e.msg)))? {
            let d = match &file.meta.read().obj(f.obj)?.kind {
                ObjKind::Dataset(d) => d.clone(),
                _ => bail!(Area::Dataset, "rank {rank} wrote to object {}, which is not a dataset", f.obj),
            };
            super::allocation::on_write(file, f.obj, &d)?;
            dataio::write_fixed(file, f.obj, &d, &f.runs, &f.data)?;
        }
    }
    Ok(())
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
    fresh.write_epoch = fresh.write_epoch.max(m.write_epoch);
    *m = fresh;
    Ok(())
}

/// On a rank other than 0, keeps a write for rank 0 (see above) and answers true.
pub fn keep_for_rank0(file: &OpenFile, obj: ObjId, runs: &[(u64, u64)], data: &[u8]) -> bool {
    match file.ranks.get() {
        Some(r) if r.comm.rank() != 0 => {
            if runs.iter().any(|r| r.1 > 0) {
                r.kept.lock().push(Fragment { obj, runs: runs.to_vec(), data: data.to_vec() });
            }
            true
        }
        _ => false,
    }
}

/// Every rank changes a dataset's extent alike (`H5Dset_extent` is collective): this rank's
/// kept writes to it, runs of the old shape's row-major order, re-expressed in the new one's
/// (elements cut off are gone, as natively); else rank 0 would apply them, and this rank read
/// them back, at the elements the same linear indices name in the new shape.
pub fn extent_changed(file: &OpenFile, obj: ObjId, old: &[u64], new: &[u64], es: usize) {
    let Some(r) = file.ranks.get() else { return };
    for f in r.kept.lock().iter_mut().filter(|f| f.obj == obj) {
        (f.runs, f.data) = super::reshape_runs::reshape(&f.runs, &f.data, es, old, new);
    }
}

/// Variable-length elements point into a rank's own heap blocks: a rank other than 0 cannot
/// hand them on at the flush, so such a write fails there with an error.
pub fn may_write_vlen(file: &OpenFile) -> Result<()> {
    match file.ranks.get() {
        Some(r) if r.comm.rank() != 0 => bail!(
            Area::Dataset,
            "rank {} of {} cannot write variable-length data to {:?}: in a file several ranks write, only rank 0 writes variable-length data",
            r.comm.rank(),
            r.comm.size(),
            file.name
        ),
        _ => Ok(()),
    }
}

/// This rank's kept writes to `obj` over `out`, the packed elements of `runs` just read.
pub fn overlay(file: &OpenFile, obj: ObjId, es: usize, runs: &[(u64, u64)], out: &mut [u8]) {
    let Some(r) = file.ranks.get() else { return };
    let kept = r.kept.lock();
    if !kept.iter().any(|f| f.obj == obj) {
        return;
    }
    // The read's runs sorted by first element, with where each starts in `out`.
    let mut read: Vec<(u64, u64, u64)> = Vec::with_capacity(runs.len());
    let mut off = 0u64;
    for &(s, n) in runs {
        read.push((s, n, off));
        off += n;
    }
    read.sort_unstable_by_key(|r| r.0);
    for f in kept.iter().filter(|f| f.obj == obj) {
        let mut foff = 0u64;
        for &(fs, fl) in &f.runs {
            let fe = fs + fl;
            // The read runs that can overlap [fs, fe): from the last one starting at or before fs.
            let mut i = read.partition_point(|r| r.0 <= fs).saturating_sub(1);
            while i < read.len() && read[i].0 < fe {
                let (rs, rl, roff) = read[i];
                let (lo, hi) = (fs.max(rs), fe.min(rs + rl));
                if lo < hi {
                    let src = ((foff + lo - fs) as usize * es)..((foff + hi - fs) as usize * es);
                    let dst = ((roff + lo - rs) as usize * es)..((roff + hi - rs) as usize * es);
                    out[dst].copy_from_slice(&f.data[src]);
                }
                i += 1;
            }
            foff += fl;
        }
    }
}

fn encode(kept: &[Fragment]) -> Vec<u8> {
    let mut b = Vec::new();
    for f in kept {
        b.extend_from_slice(&f.obj.to_le_bytes());
        b.extend_from_slice(&(f.runs.len() as u64).to_le_bytes());
        for &(s, n) in &f.runs {
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(&n.to_le_bytes());
        }
        b.extend_from_slice(&(f.data.len() as u64).to_le_bytes());
        b.extend_from_slice(&f.data);
    }
    b
}

fn decode(mut b: &[u8]) -> Result<Vec<Fragment>> {
    fn word(b: &mut &[u8]) -> Result<u64> {
        let Some((w, rest)) = b.split_first_chunk::<8>() else { bail!(Area::File, "truncated message") };
        *b = rest;
        Ok(u64::from_le_bytes(*w))
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
        let len = word(&mut b)? as usize;
        if len > b.len() {
            bail!(Area::File, "truncated message");
        }
        let (data, rest) = b.split_at(len);
        b = rest;
        out.push(Fragment { obj, runs, data: data.to_vec() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_survive_the_wire() {
        let kept = vec![
            Fragment { obj: 7, runs: vec![(0, 2), (10, 1)], data: vec![1, 2, 3, 4, 5, 6] },
            Fragment { obj: 9, runs: vec![], data: vec![] },
        ];
        let back = decode(&encode(&kept)).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].obj, back[0].runs.clone(), back[0].data.clone()), (7, vec![(0, 2), (10, 1)], vec![1, 2, 3, 4, 5, 6]));
        assert_eq!((back[1].obj, back[1].runs.len()), (9, 0));
        assert!(decode(&encode(&kept)[..20]).is_err());
    }
}
