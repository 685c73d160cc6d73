//! Moves dataset elements between a packed buffer of selected elements (in the file's datatype)
//! and stored chunks: one batched read of every chunk a selection touches, then one batched
//! write, so a backend can run the requests of one H5Dread/H5Dwrite concurrently.
//!
//! Chunks are copy-on-write across commits: a chunk written after the last commit goes to a new
//! version (the file's current write epoch), and the dataset's record says which version of each
//! chunk is current. A writer that dies before its next commit therefore leaves the committed
//! chunks untouched, and a chunk never written is known without asking the store.
//!
//! Chunks of fixed-size types hold raw elements. Chunks of types with variable-length parts
//! hold, per element, a little-endian u32 length followed by the element's encoding. Either
//! goes to the store through the dataset's filters (`filters.rs`); everything here but `fetch`,
//! `store` and the write-back cache's sending sees chunks as they are before filtering.
use super::chunks::{Geometry, Split};
use super::objects::{chunk_name, Dataset, ObjKind};
use super::open_file::OpenFile;
use super::direct_io;
use super::write_back;
use crate::backend::{ChunkKey, ObjId};
use crate::bail;
use crate::chunk_buf::ChunkBuf;
use crate::error::{Area, Result, VolError};
use super::filters;
use bytes::Bytes;
use std::collections::HashMap;

pub fn geometry(d: &Dataset) -> Geometry {
    Geometry::new(&d.extent.dims, &d.chunk)
}

/// The stored keys of chunks, from the dataset's live record (the caller's copy of the
/// record need not carry the chunk table).
fn stored_keys(file: &OpenFile, obj: ObjId, coords: &[Vec<u64>]) -> Result<Vec<Option<ChunkKey>>> {
    let m = file.meta.read();
    let ObjKind::Dataset(d) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
    Ok(coords
        .iter()
        .map(|c| d.chunks.get(&chunk_name(c)).map(|&version| ChunkKey { obj, coords: c.clone(), version }))
        .collect())
}

/// The dataset's chunk table as it is now.
fn chunk_table(file: &OpenFile, obj: ObjId) -> Result<Vec<ChunkKey>> {
    let m = file.meta.read();
    let ObjKind::Dataset(d) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
    d.chunks.iter().map(|(n, &version)| Ok(ChunkKey { obj, coords: parse_chunk_name(n)?, version })).collect()
}

/// A new chunk buffer for `file`'s backend: made to stay when the backend keeps it.
pub(super) fn new_chunk(file: &OpenFile, len: usize) -> ChunkBuf {
    if file.backend.keeps_chunks_in_process() {
        ChunkBuf::zeroed_resident(len)
    } else {
        ChunkBuf::zeroed(len)
    }
}

fn copy_chunk(file: &OpenFile, src: &[u8]) -> ChunkBuf {
    if file.backend.keeps_chunks_in_process() {
        ChunkBuf::copy_of_resident(src)
    } else {
        ChunkBuf::copy_of(src)
    }
}

fn filled(file: &OpenFile, n: u64, fill: &[u8], elem: usize) -> ChunkBuf {
    let mut b = new_chunk(file, n as usize * elem);
    if fill.len() == elem && fill.iter().any(|&b| b != 0) {
        fill_into(&mut b, fill, elem);
    }
    b
}

/// Reads the chunks among `keys` of dataset `d`, unfiltered; the answer has one entry per key,
/// `None` where the chunk was never written.
fn fetch(file: &OpenFile, d: &Dataset, keys: &[Option<ChunkKey>]) -> Result<Vec<Option<Bytes>>> {
    let got = fetch_raw(file, keys)?;
    if d.filters.is_empty() {
        return Ok(got);
    }
    let chunk_bytes = geometry(d).chunk_elems() as usize * d.elem_size;
    got.into_iter()
        .zip(keys)
        .map(|(b, k)| {
            let (Some(b), Some(k)) = (b, k) else { return Ok(None) };
            // Encoded elements have no fixed size; deflate expands at most about 1,032 times.
            let limit = if d.vlen { b.len().saturating_mul(1100) } else { chunk_bytes };
            filters::decode(&d.filters, &b, limit).map(|v| Some(Bytes::from(v))).map_err(|e| {
                VolError::new(Area::Storage, format!("chunk {:?} (version {}) of object {}: {}", k.coords, k.version, k.obj, e.msg))
            })
        })
        .collect()
}

/// The stored forms of the chunks among `keys`, filtered as they are in the store.
fn fetch_raw(file: &OpenFile, keys: &[Option<ChunkKey>]) -> Result<Vec<Option<Bytes>>> {
    let wanted: Vec<ChunkKey> = keys.iter().flatten().cloned().collect();
    let mut got = if wanted.is_empty() { Vec::new() } else { fetch_stored(file, &wanted)? }.into_iter();
    keys.iter()
        .map(|k| match k {
            None => Ok(None),
            Some(k) => match got.next().flatten() {
                Some(c) => Ok(Some(c)),
                None => bail!(Area::Storage, "chunk {:?} (version {}) of object {} is missing from {}", k.coords, k.version, k.obj, file.backend.describe()),
            },
        })
        .collect()
}

/// Reads stored chunk versions, through the file's read cache for backends that keep chunks
/// outside the process (the memory backend's chunks are already here).
fn fetch_stored(file: &OpenFile, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>> {
    if file.backend.keeps_chunks_in_process() {
        return file.backend.read_chunks(&file.key, keys);
    }
    let mut got = file.read_cache.get(keys);
    let missing: Vec<ChunkKey> = keys.iter().zip(&got).filter(|(_, g)| g.is_none()).map(|(k, _)| k.clone()).collect();
    if missing.is_empty() {
        return Ok(got);
    }
    let fetched = file.backend.read_chunks(&file.key, &missing)?;
    file.read_cache.put(missing.iter().cloned().zip(&fetched).filter_map(|(k, b)| Some((k, b.clone()?))));
    let mut fetched = fetched.into_iter();
    for g in got.iter_mut().filter(|g| g.is_none()) {
        *g = fetched.next().flatten();
    }
    Ok(got)
}

/// Stores new contents of chunks of dataset `d` through its filters: each goes to the file's
/// current write epoch, and the dataset's record then names that version; versions it
/// replaces are dropped after the next commit.
pub(super) fn store(file: &OpenFile, obj: ObjId, d: &Dataset, chunks: Vec<(Vec<u64>, ChunkBuf)>) -> Result<()> {
    let stored = chunks.into_iter().map(|(c, b)| Ok((c, filters::stored(&d.filters, b)?))).collect::<Result<_>>()?;
    store_raw(file, obj, stored)
}

/// `store` for chunks already in their stored form.
fn store_raw(file: &OpenFile, obj: ObjId, chunks: Vec<(Vec<u64>, ChunkBuf)>) -> Result<()> {
    if chunks.is_empty() {
        return Ok(());
    }
    let epoch = file.meta.read().write_epoch;
    let names: Vec<Vec<u64>> = chunks.iter().map(|(c, _)| c.clone()).collect();
    let writes = chunks.into_iter().map(|(coords, b)| (ChunkKey { obj, coords, version: epoch }, b)).collect::<Vec<_>>();
    file.read_cache.forget(writes.iter().map(|(k, _)| k));
    file.backend.write_chunks(&file.key, writes)?;
    name_versions(file, obj, names)?;
    Ok(())
}

/// Makes the dataset's record name the current write epoch's version of each chunk; answers
/// that epoch. Replaced versions become garbage of the next commit.
pub(super) fn name_versions(file: &OpenFile, obj: ObjId, coords: Vec<Vec<u64>>) -> Result<u64> {
    let mut m = file.meta.write();
    let epoch = m.write_epoch;
    let mut replaced = Vec::new();
    if let ObjKind::Dataset(d) = &mut m.obj_mut(obj)?.kind {
        for c in coords {
            if let Some(old) = d.chunks.insert(chunk_name(&c), epoch) {
                if old != epoch {
                    replaced.push(ChunkKey { obj, coords: c, version: old });
                }
            }
        }
    }
    m.garbage.extend(replaced);
    Ok(epoch)
}

/// Copies the pieces of chunk `c` between the packed buffer and the chunk's bytes.
fn copy_pieces(split: &Split, order: &[usize], start: &[usize], c: usize, es: usize, chunk: &mut [u8], data: &[u8]) {
    for &i in &order[start[c]..start[c + 1]] {
        let p = &split.pieces[i];
        chunk[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]
            .copy_from_slice(&data[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]);
    }
}

fn check_size(obj: ObjId, coords: &[u64], c: &[u8], want: usize) -> Result<()> {
    if c.len() != want {
        bail!(Area::Storage, "stored chunk {coords:?} of object {obj} has {} bytes, expected {want}", c.len());
    }
    Ok(())
}

/// Fills `dst` with copies of the fill value (zeros when there is none).
fn fill_into(dst: &mut [u8], fill: &[u8], elem: usize) {
    if fill.len() != elem || fill.iter().all(|&b| b == 0) {
        dst.fill(0);
    } else {
        for e in dst.chunks_exact_mut(elem) {
            e.copy_from_slice(fill);
        }
    }
}

/// Reads the selected elements (given as runs in dataset order) into one packed buffer.
/// Native's chunk cache is emulated for lossy pipelines in files of one process; ranks of an MPI
/// program share their writes through rank 0 instead (native's parallel filtered I/O does not
/// keep chunks across calls either).
pub fn cache_applies(file: &OpenFile, d: &Dataset) -> bool {
    cached::applies(d) && file.ranks.get().is_none()
}

pub fn read_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    if cache_applies(file, d) {
        return cached::read_fixed(file, obj, d, runs, out);
    }
    read_fixed_plain(file, obj, d, runs, out)
}

/// The stored elements a write converts against (the other members of a compound): what a read
/// gives, but not counted as an access of native's chunk cache, as native gathers them from
/// the chunk it holds for the write itself.
pub fn read_background(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    if cache_applies(file, d) {
        return cached::peek_fixed(file, obj, d, runs, out);
    }
    read_fixed_plain(file, obj, d, runs, out)
}

fn read_fixed_plain(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let chunk_bytes = g.chunk_elems() as usize * es;
    let split = g.split(runs);
    let held = if file.write_back.is_empty() {
        vec![false; split.chunks.len()]
    } else {
        let (order, start) = split.by_chunk();
        file.write_back.visit(obj, &split.chunks, |c, chunk| {
            for &i in &order[start[c]..start[c + 1]] {
                let p = &split.pieces[i];
                out[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]
                    .copy_from_slice(&chunk[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]);
            }
        })
    };
    let mut keys: Vec<Option<ChunkKey>> =
        stored_keys(file, obj, &split.chunks)?.into_iter().zip(&held).map(|(k, &h)| if h { None } else { k }).collect();
    let mut done = held;
    if direct_io::applies(file, d) {
        let (order, start) = split.by_chunk();
        let by = direct_io::ByChunk { split: &split, order: &order, start: &start, es };
        direct_io::read(file, &by, &split.covered(), chunk_bytes, &mut keys, &mut done, out)?;
    }
    let chunks = fetch(file, d, &keys)?;
    for (coords, c) in split.chunks.iter().zip(&chunks) {
        if let Some(c) = c {
            check_size(obj, coords, c, chunk_bytes)?;
        }
    }
    for p in &split.pieces {
        if done[p.chunk] {
            continue;
        }
        let dst = &mut out[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es];
        match &chunks[p.chunk] {
            Some(c) => dst.copy_from_slice(&c[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]),
            // With fill time "never", elements of space never allocated are left as the
            // caller's buffer had them, as natively.
            None if d.fill_never && !super::allocation::in_allocated(d, &split.chunks[p.chunk]) => {}
            None => fill_into(dst, d.unwritten_fill(), es),
        }
    }
    super::ranks::overlay(file, obj, es, runs, out);
    Ok(())
}

/// Writes a packed buffer of elements to the selected places. A chunk written only in part
/// keeps the rest of its contents; where it lives decides the cost:
/// - written since the last commit and held in process memory by the backend: changed there;
/// - held in the file's write-back cache: changed there;
/// - otherwise read (or made from the fill value), changed, and then held in the write-back
///   cache, or stored at once by backends that keep chunks in process memory.
/// Chunks written whole are stored at once.
pub fn write_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<()> {
    if super::ranks::keep_for_rank0(file, obj, d, runs, data)? {
        return Ok(());
    }
    if cache_applies(file, d) {
        return cached::write_fixed(file, obj, d, runs, data);
    }
    write_fixed_plain(file, obj, d, runs, data)
}

fn write_fixed_plain(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let per_chunk = g.chunk_elems();
    let chunk_bytes = per_chunk as usize * es;
    let split = g.split(runs);
    let covered = split.covered();
    let (order, start) = split.by_chunk();
    let (stored, mut done) = patch_uncommitted(file, obj, &split, (&order, &start), chunk_bytes, es, data)?;
    if !file.write_back.is_empty() {
        let rest: Vec<usize> = (0..done.len()).filter(|&i| !done[i]).collect();
        let coords: Vec<Vec<u64>> = rest.iter().map(|&i| split.chunks[i].clone()).collect();
        let mut wrong_size = None;
        let held = file.write_back.visit(obj, &coords, |j, chunk| {
            if chunk.len() == chunk_bytes {
                copy_pieces(&split, &order, &start, rest[j], es, chunk, data);
            } else {
                wrong_size = Some((rest[j], chunk.len()));
            }
        });
        if let Some((c, len)) = wrong_size {
            bail!(Area::Storage, "held chunk {:?} of object {obj} has {len} bytes, expected {chunk_bytes}", split.chunks[c]);
        }
        for (j, h) in held.into_iter().enumerate() {
            done[rest[j]] = h;
        }
    }
    if direct_io::applies(file, d) {
        let by = direct_io::ByChunk { split: &split, order: &order, start: &start, es };
        direct_io::write(file, obj, &by, &covered, per_chunk, data, &mut done)?;
    }
    let keys: Vec<Option<ChunkKey>> = stored
        .into_iter()
        .zip(&covered)
        .zip(&done)
        .map(|((k, &n), &done)| if !done && n < per_chunk { k } else { None })
        .collect();
    let hold = !file.backend.keeps_chunks_in_process();
    let (mut whole, mut partial) = (Vec::new(), Vec::new());
    for (c, ((old, &n), &done)) in fetch(file, d, &keys)?.into_iter().zip(&covered).zip(&done).enumerate() {
        if done {
            continue;
        }
        // A chunk written whole by one piece is copied once, without zeroing a buffer first.
        let one_piece = (n == per_chunk && start[c + 1] - start[c] == 1).then(|| &split.pieces[order[start[c]]]);
        if let Some(p) = one_piece {
            let buf = copy_chunk(file, &data[p.buf_off as usize * es..p.buf_off as usize * es + chunk_bytes]);
            whole.push((split.chunks[c].clone(), buf));
            continue;
        }
        let mut buf = match old {
            Some(b) => {
                check_size(obj, &split.chunks[c], &b, chunk_bytes)?;
                copy_chunk(file, &b)
            }
            None if n < per_chunk => filled(file, per_chunk, d.unwritten_fill(), es),
            None => new_chunk(file, chunk_bytes),
        };
        copy_pieces(&split, &order, &start, c, es, &mut buf, data);
        if hold && n < per_chunk {
            partial.push((split.chunks[c].clone(), buf));
        } else {
            whole.push((split.chunks[c].clone(), buf));
        }
    }
    store(file, obj, d, whole)?;
    if !partial.is_empty() {
        let epoch = name_versions(file, obj, partial.iter().map(|(c, _)| c.clone()).collect())?;
        write_back::hold(file, obj, partial.into_iter().map(|(c, b)| (c, epoch, b)).collect())?;
    }
    Ok(())
}

/// Writes the pieces of chunks whose stored version is the current write epoch into the
/// backend's buffers where it allows that. Answers the stored key of every chunk of the split
/// and which chunks are done. The metadata lock is held throughout, so no commit can make the
/// epoch's versions committed while they are being changed.
fn patch_uncommitted(
    file: &OpenFile,
    obj: ObjId,
    split: &Split,
    (order, start): (&[usize], &[usize]),
    chunk_bytes: usize,
    es: usize,
    data: &[u8],
) -> Result<(Vec<Option<ChunkKey>>, Vec<bool>)> {
    let m = file.meta.read();
    let ObjKind::Dataset(d) = &m.obj(obj)?.kind else { bail!(Area::Dataset, "object {obj} is not a dataset") };
    let stored: Vec<Option<ChunkKey>> = split
        .chunks
        .iter()
        .map(|c| d.chunks.get(&chunk_name(c)).map(|&version| ChunkKey { obj, coords: c.clone(), version }))
        .collect();
    let mut patched = vec![false; stored.len()];
    // Filtered chunks are not stored as elements, so they cannot be changed in place.
    if !file.backend.keeps_chunks_in_process() || !d.filters.is_empty() {
        return Ok((stored, patched));
    }
    let which: Vec<usize> = (0..stored.len()).filter(|&i| stored[i].as_ref().is_some_and(|k| k.version == m.write_epoch)).collect();
    if which.is_empty() {
        return Ok((stored, patched));
    }
    let keys: Vec<ChunkKey> = which.iter().filter_map(|&i| stored[i].clone()).collect();
    let mut wrong_size = None;
    let done = file.backend.patch_chunks(&file.key, &keys, &mut |j, buf| {
        if buf.len() == chunk_bytes {
            copy_pieces(split, order, start, which[j], es, buf, data);
        } else {
            wrong_size = Some((which[j], buf.len()));
        }
    })?;
    if let Some((c, len)) = wrong_size {
        bail!(Area::Storage, "stored chunk {:?} of object {obj} has {len} bytes, expected {chunk_bytes}", split.chunks[c]);
    }
    for (j, ok) in done.into_iter().enumerate() {
        patched[which[j]] = ok;
    }
    Ok((stored, patched))
}

pub fn decode_vlen_chunk(obj: ObjId, coords: &[u64], bytes: &[u8], n: u64) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(n as usize);
    let mut pos = 0usize;
    for _ in 0..n {
        let Some(len) = bytes.get(pos..pos + 4) else {
            bail!(Area::Storage, "stored chunk {coords:?} of object {obj} is truncated");
        };
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        pos += 4;
        let Some(e) = bytes.get(pos..pos + len) else {
            bail!(Area::Storage, "stored chunk {coords:?} of object {obj} is truncated");
        };
        out.push(e.to_vec());
        pos += len;
    }
    if pos != bytes.len() {
        bail!(Area::Storage, "stored chunk {coords:?} of object {obj} has {} trailing bytes", bytes.len() - pos);
    }
    Ok(out)
}

pub fn encode_vlen_chunk(elems: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(elems.iter().map(|e| e.len() + 4).sum());
    for e in elems {
        out.extend_from_slice(&(e.len() as u32).to_le_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// The encoded elements of the chunks at `coords` (empty encodings where never written).
fn load_vlen_chunks(file: &OpenFile, obj: ObjId, d: &Dataset, coords: &[Vec<u64>]) -> Result<HashMap<Vec<u64>, Vec<Vec<u8>>>> {
    let per_chunk = geometry(d).chunk_elems();
    let keys = stored_keys(file, obj, coords)?;
    let mut map = HashMap::with_capacity(coords.len());
    for (c, b) in coords.iter().zip(fetch(file, d, &keys)?) {
        let elems = match b {
            Some(b) => decode_vlen_chunk(obj, c, &b, per_chunk)?,
            // `fill` is the fill value's encoding (empty: zeros, as HDF5's default).
            None => vec![d.fill.clone(); per_chunk as usize],
        };
        map.insert(c.clone(), elems);
    }
    Ok(map)
}

/// Reads encoded elements; an element never written is an empty encoding.
pub fn read_vlen(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)]) -> Result<Vec<Vec<u8>>> {
    let split = geometry(d).split(runs);
    let chunks = load_vlen_chunks(file, obj, d, &split.chunks)?;
    let total: u64 = split.pieces.iter().map(|p| p.len).sum();
    let mut out = vec![Vec::new(); total as usize];
    for p in &split.pieces {
        let c = &chunks[&split.chunks[p.chunk]];
        for k in 0..p.len {
            out[(p.buf_off + k) as usize] = c[(p.chunk_off + k) as usize].clone();
        }
    }
    super::ranks::overlay_vlen(file, obj, runs, &mut out);
    Ok(out)
}

pub fn write_vlen(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], elems: Vec<Vec<u8>>) -> Result<()> {
    let Some(elems) = super::ranks::keep_vlen_for_rank0(file, obj, runs, elems) else {
        return Ok(());
    };
    let split = geometry(d).split(runs);
    let mut chunks = load_vlen_chunks(file, obj, d, &split.chunks)?;
    for p in &split.pieces {
        let c = chunks.get_mut(&split.chunks[p.chunk]).expect("loaded");
        for k in 0..p.len {
            c[(p.chunk_off + k) as usize] = elems[(p.buf_off + k) as usize].clone();
        }
    }
    store(file, obj, d, chunks.into_iter().map(|(c, e)| (c, encode_vlen_chunk(&e).into())).collect())
}

/// After the extent changed: forgets chunks wholly outside it and resets the parts of edge
/// chunks that fell outside, so growing again shows the fill value as HDF5 does.
pub fn trim_to_extent(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<()> {
    // Edge chunks are read from the backend below, and chunks beyond the extent forgotten.
    write_back::write_back(file, Some(obj))?;
    let g = geometry(d);
    let mut gone = Vec::new();
    let mut edge = Vec::new();
    for k in chunk_table(file, obj)? {
        if g.beyond(&k.coords) {
            gone.push(k);
        } else if g.reaches_outside(&k.coords) {
            edge.push(k.coords);
        }
    }
    {
        let mut m = file.meta.write();
        if let ObjKind::Dataset(rec) = &mut m.obj_mut(obj)?.kind {
            for k in &gone {
                rec.chunks.remove(&chunk_name(&k.coords));
            }
        }
        m.garbage.extend(gone);
    }
    if !d.vlen && cache_applies(file, d) {
        return cached::trim_edges(file, obj, d, edge);
    }
    if edge.is_empty() {
        return Ok(());
    }
    if !d.vlen {
        return trim_edges_plain(file, obj, d, edge);
    }
    let mut chunks = load_vlen_chunks(file, obj, d, &edge)?;
    let writes = edge
        .iter()
        .map(|c| {
            let mut e = chunks.remove(c).expect("loaded");
            for i in g.outside(c) {
                e[i as usize] = d.fill.clone();
            }
            (c.clone(), encode_vlen_chunk(&e).into())
        })
        .collect();
    store(file, obj, d, writes)
}

/// Resets the parts of stored edge chunks of fixed-size elements outside the extent.
fn trim_edges_plain(file: &OpenFile, obj: ObjId, d: &Dataset, edge: Vec<Vec<u64>>) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let keys = stored_keys(file, obj, &edge)?;
    let fill = filled(file, 1, d.unwritten_fill(), es);
    let mut writes = Vec::new();
    for (c, b) in edge.iter().zip(fetch(file, d, &keys)?) {
        let Some(b) = b else { continue };
        check_size(obj, c, &b, g.chunk_elems() as usize * es)?;
        let mut b = copy_chunk(file, &b);
        for i in g.outside(c) {
            b[i as usize * es..(i as usize + 1) * es].copy_from_slice(&fill);
        }
        writes.push((c.clone(), b));
    }
    store(file, obj, d, writes)
}

pub fn parse_chunk_name(name: &str) -> Result<Vec<u64>> {
    name.split('_')
        .map(|s| s.parse::<u64>())
        .collect::<std::result::Result<Vec<u64>, _>>()
        .map_err(|_| crate::error::VolError::new(Area::Storage, format!("bad chunk name {name:?} in a dataset record")))
}

/// Bytes stored for a dataset's elements (after its filters, as HDF5 counts them).
pub fn storage_size(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<u64> {
    if d.vlen || !d.filters.is_empty() {
        // Sizes vary: the stored chunks are read, so held ones go to the store first.
        write_back::write_back(file, Some(obj))?;
        let keys: Vec<Option<ChunkKey>> = chunk_table(file, obj)?.into_iter().map(Some).collect();
        return Ok(fetch_raw(file, &keys)?.iter().flatten().map(|c| filters::data_len(&d.filters, c.len()) as u64).sum());
    }
    let table = chunk_table(file, obj)?;
    Ok(table.len() as u64 * geometry(d).chunk_elems() * d.elem_size as u64)
}

/// Copies every stored chunk of dataset `src_obj` (described by `d`) to dataset `dst_obj`,
/// possibly in another file, as stored: the copy has the same filters.
pub fn copy_chunks(src: &OpenFile, src_obj: ObjId, d: &Dataset, dst: &OpenFile, dst_obj: ObjId) -> Result<()> {
    write_back::write_back(src, Some(src_obj))?;
    let coords: Vec<Vec<u64>> = d.chunks.keys().map(|n| parse_chunk_name(n)).collect::<Result<_>>()?;
    let keys: Vec<Option<ChunkKey>> = d
        .chunks
        .values()
        .zip(&coords)
        .map(|(&version, c)| Some(ChunkKey { obj: src_obj, coords: c.clone(), version }))
        .collect();
    let data = fetch_raw(src, &keys)?;
    store_raw(dst, dst_obj, coords.into_iter().zip(data).filter_map(|(c, b)| b.map(|b| (c, copy_chunk(dst, &b)))).collect())
}

#[path = "dataio_cached.rs"]
mod cached;
pub use cached::{extent_changed, open as open_cache, refresh as refresh_cache};

#[cfg(test)]
#[path = "dataio_tests.rs"]
mod tests;
