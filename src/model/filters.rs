//! The filters rustvol applies to stored chunks: HDF5's deflate, shuffle and Fletcher-32, in
//! the order of the dataset's pipeline on the way to the store, the reverse on the way back.
//! Other filters of a pipeline (szip, n-bit, scale-offset, third-party ones) stay recorded in
//! the creation list and are not applied, so their data is stored exactly as written.
use crate::error::{Area, Result, VolError};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// HDF5's filter ids (`H5Zpublic.h`).
pub const DEFLATE: i32 = 1;
pub const SHUFFLE: i32 = 2;
pub const FLETCHER32: i32 = 3;

/// One filter applied to every stored chunk of a dataset.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Filter {
    /// zlib stream at this level (0–9).
    Deflate(u32),
    /// Bytes regrouped by their position in elements of this many bytes.
    Shuffle(usize),
    /// Fletcher-32 of the bytes, appended little-endian, checked when read.
    Fletcher32,
}

impl Filter {
    /// The filter for HDF5 filter `id` with client data `cd`, for elements of `elem_size`
    /// bytes; None for filters rustvol does not apply.
    pub fn of(id: i32, cd: &[u32], elem_size: usize) -> Option<Filter> {
        match id {
            DEFLATE => Some(Filter::Deflate(cd.first().copied().unwrap_or(6).min(9))),
            SHUFFLE => Some(Filter::Shuffle(elem_size)),
            FLETCHER32 => Some(Filter::Fletcher32),
            _ => None,
        }
    }
}

/// The stored form of a chunk's bytes.
pub fn encode(filters: &[Filter], bytes: &[u8]) -> Vec<u8> {
    let mut cur = bytes.to_vec();
    for f in filters {
        cur = match *f {
            Filter::Deflate(level) => {
                let mut z = flate2::write::ZlibEncoder::new(Vec::with_capacity(cur.len() / 2), flate2::Compression::new(level));
                // Writing into a Vec cannot fail.
                z.write_all(&cur).and_then(|_| z.finish()).unwrap_or_default()
            }
            Filter::Shuffle(es) => shuffle(&cur, es),
            Filter::Fletcher32 => {
                let sum = fletcher32(&cur);
                cur.extend_from_slice(&sum.to_le_bytes());
                cur
            }
        };
    }
    cur
}

/// A chunk buffer in its stored form (the buffer itself when there is no filter).
pub fn stored(filters: &[Filter], buf: crate::chunk_buf::ChunkBuf) -> crate::chunk_buf::ChunkBuf {
    if filters.is_empty() {
        return buf;
    }
    encode(filters, &buf).into()
}

/// A chunk's bytes from their stored form, which must come to at most `limit` bytes.
pub fn decode(filters: &[Filter], stored: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut cur = stored.to_vec();
    for (i, f) in filters.iter().enumerate().rev() {
        // What stage `i` gives back is the chunk as the stages before it left it: a little
        // longer than the chunk (checksums, deflate's overhead on data that does not shrink).
        let limit = if i == 0 { limit } else { limit + limit / 64 + 1024 };
        cur = match *f {
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
            Filter::Shuffle(es) => unshuffle(&cur, es),
            Filter::Fletcher32 => {
                let Some(n) = cur.len().checked_sub(4) else { return Err(corrupt("too short for its Fletcher-32 checksum".into())) };
                let stored_sum = u32::from_le_bytes(cur[n..].try_into().expect("4 bytes"));
                if fletcher32(&cur[..n]) != stored_sum {
                    return Err(corrupt("Fletcher-32 checksum does not match: the stored chunk is damaged".into()));
                }
                cur.truncate(n);
                cur
            }
        };
    }
    Ok(cur)
}

fn corrupt(what: String) -> VolError {
    VolError::new(Area::Storage, format!("stored chunk: {what}"))
}

/// Byte `j` of every element together, for each `j`, then any bytes past the last whole
/// element (HDF5's shuffle filter).
fn shuffle(src: &[u8], es: usize) -> Vec<u8> {
    if es <= 1 || src.len() < es {
        return src.to_vec();
    }
    let n = src.len() / es;
    let mut out = vec![0u8; src.len()];
    for j in 0..es {
        let dst = &mut out[j * n..(j + 1) * n];
        for (i, d) in dst.iter_mut().enumerate() {
            *d = src[i * es + j];
        }
    }
    out[n * es..].copy_from_slice(&src[n * es..]);
    out
}

fn unshuffle(src: &[u8], es: usize) -> Vec<u8> {
    if es <= 1 || src.len() < es {
        return src.to_vec();
    }
    let n = src.len() / es;
    let mut out = vec![0u8; src.len()];
    for j in 0..es {
        for (i, s) in src[j * n..(j + 1) * n].iter().enumerate() {
            out[i * es + j] = *s;
        }
    }
    out[n * es..].copy_from_slice(&src[n * es..]);
    out
}

/// Fletcher-32 as HDF5 computes it: over big-endian 16-bit words (a last odd byte is the high
/// half of a word), sums folded to 16 bits every 360 words.
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let fold = |s: u32| (s & 0xffff) + (s >> 16);
    for block in data.chunks(720) {
        for w in block.chunks(2) {
            sum1 += (w[0] as u32) << 8 | w.get(1).copied().unwrap_or(0) as u32;
            sum2 += sum1;
        }
        sum1 = fold(sum1);
        sum2 = fold(sum2);
    }
    sum1 = fold(sum1);
    sum2 = fold(sum2);
    sum2 << 16 | sum1
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
            let stored = encode(&pipeline, &data);
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
        let mut stored = encode(&p, &data);
        stored[3] ^= 1;
        assert!(decode(&p, &stored, data.len()).unwrap_err().msg.contains("Fletcher-32"));
        let z = encode(&[Filter::Deflate(1)], &data);
        assert!(decode(&[Filter::Deflate(1)], &z[..z.len() / 2], data.len()).is_err());
        // A stream that inflates past the chunk is refused, not followed.
        assert!(decode(&[Filter::Deflate(1)], &z, 100).unwrap_err().msg.contains("more than"));
    }

    #[test]
    fn fletcher32_matches_hdf5() {
        // What native HDF5 1.14.5 stores after a chunk of these bytes with H5Pset_fletcher32
        // (read with H5Dread_chunk): c7 29 f0 4f and 2d 2a 56 50, little-endian.
        assert_eq!(fletcher32(b"abcde").to_le_bytes(), [0xc7, 0x29, 0xf0, 0x4f]);
        assert_eq!(fletcher32(b"abcdef").to_le_bytes(), [0x2d, 0x2a, 0x56, 0x50]);
    }
}
