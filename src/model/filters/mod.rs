//! The filter pipeline of stored chunks, in the order of the dataset's creation list on the
//! way to the store and the reverse on the way back. Deflate, shuffle and Fletcher-32 are
//! rustvol's own (`native.rs`, byte for byte as HDF5's); every other filter (scale-offset,
//! N-bit, szip, plugins) runs through HDF5's own filter class for it (`class.rs`).
//!
//! A pipeline with a stage of the second kind may skip a stage for some chunk, as HDF5 skips an
//! optional filter that fails or is not available; such chunks are stored behind a 4-byte
//! little-endian filter mask (bit `i` set: stage `i` was skipped), as HDF5 keeps one per chunk.
pub mod class;
pub mod native;

use crate::chunk_buf::ChunkBuf;
use crate::error::{Area, Result, VolError};
pub use class::ClassFilter;
use native::{fletcher32, shuffle, unshuffle};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// HDF5's filter ids (`H5Zpublic.h`).
pub const DEFLATE: i32 = 1;
pub const SHUFFLE: i32 = 2;
pub const FLETCHER32: i32 = 3;

/// One filter applied to every stored chunk of a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Filter {
    /// zlib stream at this level (0–9).
    Deflate(u32),
    /// Bytes regrouped by their position in elements of this many bytes.
    Shuffle(usize),
    /// Fletcher-32 of the bytes, appended little-endian, checked when read.
    Fletcher32,
    /// Run through HDF5's filter class for the id.
    Hdf5(ClassFilter),
}

impl Filter {
    /// rustvol's own filter for HDF5 filter `id` with client data `cd`, for elements of
    /// `elem_size` bytes; None for the filters run through HDF5's classes.
    pub fn of(id: i32, cd: &[u32], elem_size: usize) -> Option<Filter> {
        match id {
            DEFLATE => Some(Filter::Deflate(cd.first().copied().unwrap_or(6).min(9))),
            SHUFFLE => Some(Filter::Shuffle(elem_size)),
            FLETCHER32 => Some(Filter::Fletcher32),
            _ => None,
        }
    }
}

/// Whether chunks of this pipeline carry a filter mask.
pub fn has_mask(filters: &[Filter]) -> bool {
    filters.iter().any(|f| matches!(f, Filter::Hdf5(_)))
}

/// HDF5's limit on the stages of a pipeline (`H5Z_MAX_NFILTERS`): a filter mask has a bit each.
const MAX_STAGES: usize = 32;

/// The stages a chunk may have skipped: optional ones run through HDF5's classes. A mask with
/// any other bit set is corrupt (skipping a shuffle would give wrong data of the right size).
fn skippable(filters: &[Filter]) -> u32 {
    filters.iter().take(MAX_STAGES).enumerate().fold(0, |m, (i, f)| match f {
        Filter::Hdf5(c) if c.optional() => m | 1 << i,
        _ => m,
    })
}

/// Bytes of a stored chunk that are the chunk's data (HDF5 counts no mask in a dataset's
/// storage size).
pub fn data_len(filters: &[Filter], stored_len: usize) -> usize {
    if has_mask(filters) {
        stored_len.saturating_sub(4)
    } else {
        stored_len
    }
}

/// The stored form of a chunk's bytes. On HDF5's thread when the pipeline has HDF5 stages.
pub fn encode(filters: &[Filter], bytes: &[u8]) -> Result<Vec<u8>> {
    if filters.len() > MAX_STAGES {
        return Err(corrupt(format!("{} filters, more than HDF5's {MAX_STAGES}", filters.len())));
    }
    let mut cur = bytes.to_vec();
    let mut mask = 0u32;
    for (i, f) in filters.iter().enumerate() {
        cur = match f {
            Filter::Deflate(level) => {
                let mut z = flate2::write::ZlibEncoder::new(Vec::with_capacity(cur.len() / 2), flate2::Compression::new(*level));
                // Writing into a Vec cannot fail.
                z.write_all(&cur).and_then(|_| z.finish()).unwrap_or_default()
            }
            Filter::Shuffle(es) => shuffle(&cur, *es),
            Filter::Fletcher32 => {
                let sum = fletcher32(&cur);
                cur.extend_from_slice(&sum.to_le_bytes());
                cur
            }
            Filter::Hdf5(c) => match c.encode(&cur)? {
                Some(out) => out,
                None => {
                    mask |= 1 << i;
                    cur
                }
            },
        };
    }
    if has_mask(filters) {
        let mut out = Vec::with_capacity(cur.len() + 4);
        out.extend_from_slice(&mask.to_le_bytes());
        out.extend_from_slice(&cur);
        return Ok(out);
    }
    Ok(cur)
}

/// A chunk buffer in its stored form (the buffer itself when there is no filter).
pub fn stored(filters: &[Filter], buf: ChunkBuf) -> Result<ChunkBuf> {
    if filters.is_empty() {
        return Ok(buf);
    }
    Ok(encode(filters, &buf)?.into())
}

/// A chunk's bytes from their stored form, which must come to at most `limit` bytes.
pub fn decode(filters: &[Filter], stored: &[u8], limit: usize) -> Result<Vec<u8>> {
    if filters.len() > MAX_STAGES {
        return Err(corrupt(format!("{} filters, more than HDF5's {MAX_STAGES}", filters.len())));
    }
    let (mask, body) = if has_mask(filters) {
        let Some(m) = stored.get(..4) else { return Err(corrupt("too short for its filter mask".into())) };
        (u32::from_le_bytes(m.try_into().expect("4 bytes")), &stored[4..])
    } else {
        (0, stored)
    };
    if mask & !skippable(filters) != 0 {
        return Err(corrupt(format!("filter mask {mask:#x} skips a stage that cannot be skipped")));
    }
    let mut cur = body.to_vec();
    for (i, f) in filters.iter().enumerate().rev() {
        if mask & (1 << i) != 0 {
            continue;
        }
        // What stage `i` gives back is the chunk as the stages before it left it: a little
        // longer than the chunk (checksums, deflate's overhead on data that does not shrink).
        let limit = if i == 0 { limit } else { limit + limit / 64 + 1024 };
        cur = match f {
            Filter::Deflate(_) => {
                let mut out = Vec::with_capacity(limit.min(1 << 30));
                flate2::read::ZlibDecoder::new(&cur[..])
                    .take(limit as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| corrupt(format!("deflate stream does not decode: {e}")))?;
                if out.len() > limit {
                    return Err(corrupt(format!("deflate stream decodes to more than the chunk's {limit} bytes")));
                }
                out
            }
            Filter::Shuffle(es) => unshuffle(&cur, *es),
            Filter::Fletcher32 => {
                let Some(n) = cur.len().checked_sub(4) else { return Err(corrupt("too short for its Fletcher-32 checksum".into())) };
                let stored_sum = u32::from_le_bytes(cur[n..].try_into().expect("4 bytes"));
                if fletcher32(&cur[..n]) != stored_sum {
                    return Err(corrupt("Fletcher-32 checksum does not match: the stored chunk is damaged".into()));
                }
                cur.truncate(n);
                cur
            }
            Filter::Hdf5(c) => {
                let out = c.decode(&cur)?;
                if out.len() > limit {
                    return Err(corrupt(format!("filter {} decodes to more than the chunk's {limit} bytes", c.id)));
                }
                out
            }
        };
    }
    Ok(cur)
}

fn corrupt(what: String) -> VolError {
    VolError::new(Area::Storage, format!("stored chunk: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_round_trip_and_compress() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| (i / 7).to_le_bytes()).collect();
        for pipeline in [
            vec![],
            vec![Filter::Shuffle(4)],
            vec![Filter::Deflate(6)],
            vec![Filter::Shuffle(4), Filter::Deflate(9), Filter::Fletcher32],
            vec![Filter::Fletcher32, Filter::Shuffle(8)],
            // HDF5 takes filters in the order they were set: a checksum may come first.
            vec![Filter::Fletcher32, Filter::Deflate(6)],
            vec![Filter::Deflate(1), Filter::Deflate(1)],
        ] {
            let stored = encode(&pipeline, &data).unwrap();
            assert_eq!(decode(&pipeline, &stored, data.len()).unwrap(), data, "{pipeline:?}");
            if pipeline.contains(&Filter::Deflate(6)) {
                assert!(stored.len() < data.len() / 4, "{} bytes", stored.len());
            }
        }
        // Odd sizes: the bytes past the last whole element stay at the end.
        let odd: Vec<u8> = (0..11).collect();
        assert_eq!(shuffle(&odd, 4), vec![0, 4, 1, 5, 2, 6, 3, 7, 8, 9, 10]);
        assert_eq!(unshuffle(&shuffle(&odd, 4), 4), odd);
    }

    #[test]
    fn damage_is_reported_not_returned() {
        let data = vec![7u8; 4096];
        let p = [Filter::Deflate(6), Filter::Fletcher32];
        let mut stored = encode(&p, &data).unwrap();
        stored[3] ^= 1;
        assert!(decode(&p, &stored, data.len()).unwrap_err().msg.contains("Fletcher-32"));
        let z = encode(&[Filter::Deflate(1)], &data).unwrap();
        assert!(decode(&[Filter::Deflate(1)], &z[..z.len() / 2], data.len()).is_err());
        // A stream that inflates past the chunk is refused, not followed.
        assert!(decode(&[Filter::Deflate(1)], &z, 100).unwrap_err().msg.contains("more than"));
    }

    #[test]
    fn skipped_stages_are_masked_and_required_ones_refuse() {
        // Filter 32999 is not registered with HDF5 and no plugin provides it.
        let absent = |flags| Filter::Hdf5(ClassFilter { id: 32999, name: "absent".into(), flags, cd: vec![1] });
        let data: Vec<u8> = (0..4000u32).flat_map(|i| (i / 9).to_le_bytes()).collect();
        let p = [Filter::Shuffle(4), absent(1), Filter::Deflate(6)];
        let stored = encode(&p, &data).unwrap();
        assert_eq!(stored[..4], 2u32.to_le_bytes(), "stage 1 skipped");
        assert!(data_len(&p, stored.len()) < data.len() / 4);
        assert_eq!(decode(&p, &stored, data.len()).unwrap(), data);
        assert!(encode(&[absent(0)], &data).unwrap_err().msg.contains("required filter 32999 ('absent') is not registered"));
        // A chunk that went through the stage cannot be read without it.
        let mut through = 0u32.to_le_bytes().to_vec();
        through.extend_from_slice(&data);
        assert!(decode(&[absent(1)], &through, data.len()).unwrap_err().msg.contains("not registered"));
        assert!(decode(&[absent(1)], &through[..2], data.len()).unwrap_err().msg.contains("filter mask"));
    }

    #[test]
    fn a_mask_skipping_a_stage_that_cannot_be_skipped_is_corrupt() {
        let optional = Filter::Hdf5(ClassFilter { id: 32999, name: "absent".into(), flags: 1, cd: vec![] });
        let data: Vec<u8> = (0..1000u32).flat_map(|i| i.to_le_bytes()).collect();
        let p = [Filter::Shuffle(4), optional];
        let stored = encode(&p, &data).unwrap();
        assert_eq!(decode(&p, &stored, data.len()).unwrap(), data);
        // Bit 0 would skip the shuffle: bytes of the right length, in the wrong order.
        let mut forged = stored.clone();
        forged[..4].copy_from_slice(&3u32.to_le_bytes());
        assert!(decode(&p, &forged, data.len()).unwrap_err().msg.contains("cannot be skipped"));
        // A bit past the pipeline's stages.
        forged[..4].copy_from_slice(&(1u32 << 31 | 2).to_le_bytes());
        assert!(decode(&p, &forged, data.len()).unwrap_err().msg.contains("cannot be skipped"));
        let too_many = vec![Filter::Fletcher32; 33];
        assert!(decode(&too_many, &stored, data.len()).unwrap_err().msg.contains("more than HDF5's 32"));
    }

    #[test]
    fn fletcher32_matches_hdf5() {
        // What native HDF5 1.14.5 stores after a chunk of these bytes with H5Pset_fletcher32
        // (read with H5Dread_chunk): c7 29 f0 4f and 2d 2a 56 50, little-endian.
        assert_eq!(fletcher32(b"abcde").to_le_bytes(), [0xc7, 0x29, 0xf0, 0x4f]);
        assert_eq!(fletcher32(b"abcdef").to_le_bytes(), [0x2d, 0x2a, 0x56, 0x50]);
    }
}
