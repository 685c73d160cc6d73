//! Space allocation as HDF5 reports it (`H5Dget_space_status`, `H5Dget_storage_size`;
//! `H5D__get_space_status`, `H5D__alloc_storage`, `H5D__chunk_allocate` in HDF5's source).
//! rustvol stores only chunks that were written, so "allocated" is bookkeeping: the record's
//! `allocated` extent is what early allocation (at create and each extension) or late
//! allocation (at the first write) gave all at once; chunks written count one by one. A chunk
//! allocated but never written reads as the fill value, as natively.
use super::dataio;
use super::filters;
use super::objects::{AllocTime, Dataset, Layout, ObjKind};
use super::open_file::OpenFile;
use crate::backend::ObjId;
use crate::error::Result;

/// `H5D_space_status_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceStatus {
    NotAllocated,
    PartAllocated,
    Allocated,
}

/// What a new dataset has allocated at create, for its alloc time.
pub fn at_create(layout: Layout, alloc_time: AllocTime, dims: &[u64]) -> Option<Vec<u64>> {
    let empty = dims.iter().any(|&n| n == 0);
    // Compact data lives in the object header: always there, as natively.
    (!empty && (layout == Layout::Compact || alloc_time == AllocTime::Early)).then(|| dims.to_vec())
}

/// Before the first write of elements: late allocation (and any allocation of a dataset that
/// is not chunked) takes the whole extent now.
pub fn on_write(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<()> {
    if d.allocated.is_some() || (d.layout == Layout::Chunked && d.alloc_time != AllocTime::Late) {
        return Ok(());
    }
    let mut m = file.meta.write();
    if let ObjKind::Dataset(x) = &mut m.obj_mut(obj)?.kind {
        if x.allocated.is_none() {
            x.allocated = Some(x.extent.dims.clone());
        }
    }
    m.touch(obj)
}

/// After the extent changed to `d.extent`: early allocation covers the new extent; chunks of
/// the allocated extent outside it are gone.
pub fn on_extent(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<()> {
    let dims = &d.extent.dims;
    let new = if d.alloc_time == AllocTime::Early {
        at_create(d.layout, d.alloc_time, dims)
    } else {
        d.allocated.as_ref().map(|a| a.iter().zip(dims).map(|(a, n)| *a.min(n)).collect())
    };
    if new == d.allocated {
        return Ok(());
    }
    let mut m = file.meta.write();
    if let ObjKind::Dataset(x) = &mut m.obj_mut(obj)?.kind {
        x.allocated = new;
    }
    m.touch(obj)
}

/// Whether the chunk at grid position `coords` is in the extent allocated all at once.
pub fn in_allocated(d: &Dataset, coords: &[u64]) -> bool {
    d.allocated.as_ref().is_some_and(|a| coords.iter().zip(a).zip(&d.chunk).all(|((&c, &n), &k)| c * k < n))
}

/// The chunk grid positions `dims` spans with chunks of shape `chunk`.
fn grid(dims: &[u64], chunk: &[u64]) -> Vec<u64> {
    dims.iter().zip(chunk).map(|(&n, &c)| n.div_ceil(c.max(1))).collect()
}

/// (chunks of the extent, chunks in the allocated extent, written chunks outside it, written
/// chunks inside it).
fn counts(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<(u64, u64, u64, u64)> {
    let total: u64 = grid(&d.extent.dims, &d.chunk).iter().product();
    let region = d.allocated.as_ref().map(|a| grid(a, &d.chunk));
    let in_region: u64 = region.as_ref().map_or(0, |r| r.iter().product());
    let m = file.meta.read();
    let ObjKind::Dataset(live) = &m.obj(obj)?.kind else { return Ok((total, 0, 0, 0)) };
    let (mut outside, mut inside) = (0, 0);
    for name in live.chunks.keys() {
        let c = dataio::parse_chunk_name(name)?;
        if c.len() != d.chunk.len() {
            return Err(corrupt_chunks(format!("chunk '{name}' has {} coordinates, the dataset {} dimensions", c.len(), d.chunk.len())));
        }
        match &region {
            Some(r) if c.iter().zip(r).all(|(c, r)| c < r) => inside += 1,
            _ => outside += 1,
        }
    }
    Ok((total, in_region, outside, inside))
}

pub fn space_status(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<SpaceStatus> {
    let (total, in_region, outside, _) = counts(file, obj, d)?;
    let any = in_region + outside;
    Ok(match d.layout {
        Layout::Chunked if any == 0 => SpaceStatus::NotAllocated,
        Layout::Chunked if any >= total => SpaceStatus::Allocated,
        Layout::Chunked => SpaceStatus::PartAllocated,
        _ if any > 0 => SpaceStatus::Allocated,
        _ => SpaceStatus::NotAllocated,
    })
}

/// Bytes the dataset's data takes in storage, as HDF5 counts them: the whole extent for
/// contiguous and compact data once allocated; for chunked data, each allocated chunk's stored
/// size (a chunk allocated but not written counts as the fill value's chunk through the
/// filters, as HDF5 writes it at allocation).
pub fn storage_size(file: &OpenFile, obj: ObjId, d: &Dataset) -> Result<u64> {
    if d.vlen {
        // Elements are stored in rustvol's encoding, not HDF5's: count what is stored.
        return dataio::storage_size(file, obj, d);
    }
    let (_, in_region, outside, inside) = counts(file, obj, d)?;
    let full = d.extent.npoints() * d.elem_size as u64;
    match d.layout {
        Layout::Compact => Ok(full),
        Layout::Contiguous => Ok(if in_region + outside > 0 { full } else { 0 }),
        Layout::Chunked => {
            let written = dataio::storage_size(file, obj, d)?;
            // More written chunks inside than there are places means two names for one chunk.
            let Some(unwritten) = in_region.checked_sub(inside) else {
                return Err(corrupt_chunks(format!("{inside} chunks stored where {in_region} fit")));
            };
            if unwritten == 0 {
                return Ok(written);
            }
            let chunk_bytes = dataio::geometry(d).chunk_elems() as usize * d.elem_size;
            let per = if d.filters.is_empty() {
                chunk_bytes
            } else {
                let mut fill = vec![0u8; chunk_bytes];
                let f = d.unwritten_fill();
                if f.len() == d.elem_size && f.iter().any(|&b| b != 0) {
                    fill.chunks_exact_mut(d.elem_size).for_each(|e| e.copy_from_slice(f));
                }
                filters::data_len(&d.filters, filters::encode(&d.filters, &fill)?.len())
            };
            Ok(written + unwritten * per as u64)
        }
    }
}

fn corrupt_chunks(what: String) -> crate::error::VolError {
    crate::error::VolError::new(crate::error::Area::Storage, format!("dataset record: {what}"))
}
