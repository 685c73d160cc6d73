//! Chunk I/O straight between the application's buffer and stores whose chunk versions are
//! local files (dir), for datasets stored unfiltered: what native HDF5's sec2 driver pays, one
//! system call per run of bytes, and no copy of the chunk in between.
//!
//! - Reads: each chunk a selection reaches in runs of `MIN_RUN` bytes or more (on average) is
//!   read into place, its runs only; others are fetched whole once, through the read cache,
//!   which serves the next pass of a strided selection.
//! - Writes: a chunk written whole goes from the buffer to a new version (staged, then
//!   renamed, as every whole chunk is); a chunk whose version is of the current write
//!   epoch, written in runs of `MIN_RUN` or more, is changed where it is. Such a version is
//!   named by no commit (a commit ends the epoch, and the metadata lock held across the change
//!   keeps one from starting), so a killed writer still leaves exactly its last commit. The
//!   rest (new chunks written in part, small runs, committed versions written in part) goes
//!   through the write-back cache as before.
use super::chunks::Split;
use super::objects::{chunk_name, Dataset, ObjKind};
use super::open_file::OpenFile;
use crate::backend::{ChunkKey, ChunkPart, ObjId};
use crate::bail;
use crate::error::{Area, Result};

/// Below this mean run length one system call per run costs more than fetching the chunk once
/// (4 KiB runs through `pread` on tmpfs: about 6 GB/s; 512-byte runs: under 1 GB/s).
const MIN_RUN: usize = 4096;

/// Whether dataset `d` of `file` moves its chunks in place.
pub fn applies(file: &OpenFile, d: &Dataset) -> bool {
    !d.vlen && d.filters.is_empty() && file.backend.chunks_in_local_files()
}

/// Pieces of a split grouped by chunk (`Split::by_chunk`).
pub struct ByChunk<'a> {
    pub split: &'a Split,
    pub order: &'a [usize],
    pub start: &'a [usize],
    pub es: usize,
}

impl ByChunk<'_> {
    /// The runs of chunk `c`, those that follow each other in both the chunk and the buffer
    /// joined (a block of whole chunk rows is one run, as native HDF5 joins its sequences),
    /// when they are long enough to move in place: `None` otherwise.
    fn long_runs(&self, c: usize, covered: u64) -> Option<Vec<ChunkPart>> {
        let es = self.es;
        // More runs than this and the mean is too short: stop counting (strided selections
        // reach a chunk in thousands of runs).
        let most = covered as usize * es / MIN_RUN;
        let mut parts: Vec<ChunkPart> = Vec::new();
        for &i in &self.order[self.start[c]..self.start[c + 1]] {
            let p = &self.split.pieces[i];
            let q = ChunkPart { chunk: p.chunk_off as usize * es, buf: p.buf_off as usize * es, len: p.len as usize * es };
            let n = parts.len();
            match parts.last_mut() {
                Some(l) if l.chunk + l.len == q.chunk && l.buf + l.len == q.buf => l.len += q.len,
                _ if n == most => return None,
                _ => parts.push(q),
            }
        }
        (!parts.is_empty()).then_some(parts)
    }
}

/// Reads in place the chunks among `keys` reached in long runs and not in the read cache;
/// marks them `done` and takes their keys, so the caller fetches only the others.
pub fn read(file: &OpenFile, by: &ByChunk, covered: &[u64], chunk_bytes: usize, keys: &mut [Option<ChunkKey>], done: &mut [bool], out: &mut [u8]) -> Result<()> {
    let wanted: Vec<(usize, Vec<ChunkPart>)> =
        (0..keys.len()).filter(|&c| keys[c].is_some()).filter_map(|c| Some((c, by.long_runs(c, covered[c])?))).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let cached = file.read_cache.get(&wanted.iter().map(|(c, _)| keys[*c].clone().expect("wanted")).collect::<Vec<_>>());
    for ((c, parts), cached) in wanted.into_iter().zip(cached) {
        if cached.is_some() {
            continue;
        }
        let k = keys[c].take().expect("wanted");
        if !file.backend.read_chunk_parts(&file.key, &k, chunk_bytes, &parts, out)? {
            bail!(Area::Storage, "chunk {:?} (version {}) of object {} is missing from {}", k.coords, k.version, k.obj, file.backend.describe());
        }
        done[c] = true;
    }
    Ok(())
}

/// Writes in place what it can of a write of `data` to dataset `obj` (see the module's text);
/// marks those chunks `done`.
pub fn write(file: &OpenFile, obj: ObjId, by: &ByChunk, covered: &[u64], per_chunk: u64, data: &[u8], done: &mut [bool]) -> Result<()> {
    let chunk_bytes = per_chunk as usize * by.es;
    let mut whole = Vec::new();
    {
        let m = file.meta.read();
        let ObjKind::Dataset(d) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
        let epoch = m.write_epoch;
        for c in 0..done.len() {
            if done[c] {
                continue;
            }
            let Some(parts) = by.long_runs(c, covered[c]) else { continue };
            let coords = &by.split.chunks[c];
            if covered[c] == per_chunk {
                whole.push((c, parts));
                continue;
            }
            let Some(&version) = d.chunks.get(&chunk_name(coords)) else { continue };
            if version != epoch {
                continue;
            }
            let k = ChunkKey { obj, coords: coords.clone(), version };
            file.read_cache.forget(std::iter::once(&k));
            done[c] = file.backend.patch_chunk_parts(&file.key, &k, chunk_bytes, &parts, data)?;
        }
    }
    if whole.is_empty() {
        return Ok(());
    }
    let epoch = file.meta.read().write_epoch;
    for (c, parts) in &whole {
        let k = ChunkKey { obj, coords: by.split.chunks[*c].clone(), version: epoch };
        file.read_cache.forget(std::iter::once(&k));
        file.backend.write_chunk_from(&file.key, &k, chunk_bytes, parts, data)?;
        done[*c] = true;
    }
    super::dataio::name_versions(file, obj, whole.iter().map(|(c, _)| by.split.chunks[*c].clone()).collect())?;
    Ok(())
}
