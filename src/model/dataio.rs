//! Moves dataset elements between a packed buffer of selected elements (in the file's datatype)
//! and stored chunks: one batched read of every chunk a selection touches, then one batched
//! write, so a backend can run the requests of one H5Dread/H5Dwrite concurrently.
//!
//! Chunks of fixed-size types hold raw elements. Chunks of types with variable-length parts
//! hold, per element, a little-endian u32 length followed by the element's encoding.
use super::chunks::{Geometry, Piece};
use super::objects::Dataset;
use super::open_file::OpenFile;
use crate::backend::{ChunkKey, ObjId};
use crate::bail;
use crate::error::{Area, Result};
use std::collections::{BTreeMap, HashMap};

pub fn geometry(d: &Dataset) -> Geometry {
    Geometry::new(&d.extent.dims, &d.chunk)
}

fn chunk_keys(obj: ObjId, pieces: &[Piece]) -> Vec<ChunkKey> {
    let mut set: BTreeMap<Vec<u64>, ()> = BTreeMap::new();
    for p in pieces {
        set.insert(p.chunk.clone(), ());
    }
    set.into_keys().map(|coords| ChunkKey { obj, coords }).collect()
}

fn filled(n: u64, fill: &[u8], elem: usize) -> Vec<u8> {
    if fill.iter().all(|&b| b == 0) || fill.len() != elem {
        vec![0u8; n as usize * elem]
    } else {
        fill.repeat(n as usize)
    }
}

/// Reads the selected elements (given as runs in dataset order) into one packed buffer.
pub fn read_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], out: &mut [u8]) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let pieces = g.pieces(runs);
    let keys = chunk_keys(obj, &pieces);
    let got = file.backend.read_chunks(&file.key, &keys)?;
    let chunk_bytes = g.chunk_elems() as usize * es;
    let mut chunks: HashMap<&[u64], Option<Vec<u8>>> = HashMap::with_capacity(keys.len());
    for (k, c) in keys.iter().zip(got) {
        if let Some(c) = &c {
            if c.len() != chunk_bytes {
                bail!(Area::Storage, "stored chunk {:?} of object {obj} has {} bytes, expected {chunk_bytes}", k.coords, c.len());
            }
        }
        chunks.insert(&k.coords, c);
    }
    for p in &pieces {
        let dst = &mut out[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es];
        match chunks.get(p.chunk.as_slice()).and_then(|c| c.as_ref()) {
            Some(c) => dst.copy_from_slice(&c[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]),
            None => dst.copy_from_slice(&filled(p.len, &d.fill, es)),
        }
    }
    Ok(())
}

/// Writes a packed buffer of elements to the selected places; a chunk written only in part
/// is read first so the rest of it is kept.
pub fn write_fixed(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], data: &[u8]) -> Result<()> {
    let g = geometry(d);
    let es = d.elem_size;
    let pieces = g.pieces(runs);
    let keys = chunk_keys(obj, &pieces);
    let per_chunk = g.chunk_elems();
    let mut covered: HashMap<&[u64], u64> = HashMap::new();
    for p in &pieces {
        *covered.entry(p.chunk.as_slice()).or_insert(0) += p.len;
    }
    let partial: Vec<ChunkKey> = keys.iter().filter(|k| covered[k.coords.as_slice()] < per_chunk).cloned().collect();
    let old = if partial.is_empty() { vec![] } else { file.backend.read_chunks(&file.key, &partial)? };
    let chunk_bytes = per_chunk as usize * es;
    let mut bufs: HashMap<Vec<u64>, Vec<u8>> = HashMap::with_capacity(keys.len());
    for (k, c) in partial.iter().zip(old) {
        let c = match c {
            Some(c) if c.len() == chunk_bytes => c,
            Some(c) => bail!(Area::Storage, "stored chunk {:?} of object {obj} has {} bytes, expected {chunk_bytes}", k.coords, c.len()),
            None => filled(per_chunk, &d.fill, es),
        };
        bufs.insert(k.coords.clone(), c);
    }
    for k in &keys {
        bufs.entry(k.coords.clone()).or_insert_with(|| vec![0u8; chunk_bytes]);
    }
    for p in &pieces {
        let c = bufs.get_mut(&p.chunk).expect("every piece's chunk has a buffer");
        c[p.chunk_off as usize * es..(p.chunk_off + p.len) as usize * es]
            .copy_from_slice(&data[p.buf_off as usize * es..(p.buf_off + p.len) as usize * es]);
    }
    let writes = bufs.into_iter().map(|(coords, b)| (ChunkKey { obj, coords }, b)).collect();
    file.backend.write_chunks(&file.key, writes)
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

fn load_vlen_chunks(
    file: &OpenFile,
    obj: ObjId,
    keys: &[ChunkKey],
    per_chunk: u64,
) -> Result<HashMap<Vec<u64>, Vec<Vec<u8>>>> {
    let got = if keys.is_empty() { vec![] } else { file.backend.read_chunks(&file.key, keys)? };
    let mut map = HashMap::with_capacity(keys.len());
    for (k, c) in keys.iter().zip(got) {
        let elems = match c {
            Some(b) => decode_vlen_chunk(obj, &k.coords, &b, per_chunk)?,
            None => vec![Vec::new(); per_chunk as usize],
        };
        map.insert(k.coords.clone(), elems);
    }
    Ok(map)
}

/// Reads encoded elements; an element never written is an empty encoding.
pub fn read_vlen(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)]) -> Result<Vec<Vec<u8>>> {
    let g = geometry(d);
    let pieces = g.pieces(runs);
    let keys = chunk_keys(obj, &pieces);
    let chunks = load_vlen_chunks(file, obj, &keys, g.chunk_elems())?;
    let total: u64 = pieces.iter().map(|p| p.len).sum();
    let mut out = vec![Vec::new(); total as usize];
    for p in &pieces {
        let c = &chunks[&p.chunk];
        for k in 0..p.len {
            out[(p.buf_off + k) as usize] = c[(p.chunk_off + k) as usize].clone();
        }
    }
    Ok(out)
}

pub fn write_vlen(file: &OpenFile, obj: ObjId, d: &Dataset, runs: &[(u64, u64)], elems: Vec<Vec<u8>>) -> Result<()> {
    let g = geometry(d);
    let pieces = g.pieces(runs);
    let keys = chunk_keys(obj, &pieces);
    let mut chunks = load_vlen_chunks(file, obj, &keys, g.chunk_elems())?;
    for p in &pieces {
        let c = chunks.get_mut(&p.chunk).expect("loaded");
        for k in 0..p.len {
            c[(p.chunk_off + k) as usize] = elems[(p.buf_off + k) as usize].clone();
        }
    }
    let writes = chunks.into_iter().map(|(coords, e)| (ChunkKey { obj, coords }, encode_vlen_chunk(&e))).collect();
    file.backend.write_chunks(&file.key, writes)
}

/// After the extent changed: drops chunks wholly outside it and resets the parts of edge
/// chunks that fell outside, so growing again shows the fill value as HDF5 does.
pub fn trim_to_extent(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<()> {
    let g = geometry(d);
    let keys = file.backend.list_chunks(&file.key, obj)?;
    let (gone, keep): (Vec<ChunkKey>, Vec<ChunkKey>) = keys.into_iter().partition(|k| g.beyond(&k.coords));
    if !gone.is_empty() {
        file.backend.delete_chunks(&file.key, &gone)?;
    }
    let edge: Vec<(ChunkKey, Vec<u64>)> = keep
        .into_iter()
        .map(|k| {
            let out = g.outside(&k.coords);
            (k, out)
        })
        .filter(|(_, out)| !out.is_empty())
        .collect();
    if edge.is_empty() {
        return Ok(());
    }
    let keys: Vec<ChunkKey> = edge.iter().map(|(k, _)| k.clone()).collect();
    let es = d.elem_size;
    let mut writes = Vec::new();
    if d.vlen {
        let mut chunks = load_vlen_chunks(file, obj, &keys, g.chunk_elems())?;
        for (k, out) in &edge {
            let c = chunks.get_mut(&k.coords).expect("loaded");
            for &i in out {
                c[i as usize] = Vec::new();
            }
            writes.push((k.clone(), encode_vlen_chunk(c)));
        }
    } else {
        let got = file.backend.read_chunks(&file.key, &keys)?;
        let fill = filled(1, &d.fill, es);
        for ((k, out), c) in edge.iter().zip(got) {
            let Some(mut c) = c else { continue };
            if c.len() != g.chunk_elems() as usize * es {
                bail!(Area::Storage, "stored chunk {:?} of object {obj} has the wrong size", k.coords);
            }
            for &i in out {
                c[i as usize * es..(i as usize + 1) * es].copy_from_slice(&fill);
            }
            writes.push((k.clone(), c));
        }
    }
    file.backend.write_chunks(&file.key, writes)
}

/// Bytes stored for a dataset's elements.
pub fn storage_size(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<u64> {
    let keys = file.backend.list_chunks(&file.key, obj)?;
    if d.vlen {
        let got = file.backend.read_chunks(&file.key, &keys)?;
        return Ok(got.iter().flatten().map(|c| c.len() as u64).sum());
    }
    let g = geometry(d);
    Ok(keys.len() as u64 * g.chunk_elems() * d.elem_size as u64)
}

/// Copies every stored chunk of one dataset to another object, possibly in another file.
pub fn copy_chunks(src: &OpenFile, src_obj: ObjId, dst: &OpenFile, dst_obj: ObjId) -> Result<()> {
    let keys = src.backend.list_chunks(&src.key, src_obj)?;
    if keys.is_empty() {
        return Ok(());
    }
    let got = src.backend.read_chunks(&src.key, &keys)?;
    let writes = keys
        .into_iter()
        .zip(got)
        .filter_map(|(k, c)| c.map(|c| (ChunkKey { obj: dst_obj, coords: k.coords }, c)))
        .collect();
    dst.backend.write_chunks(&dst.key, writes)
}
