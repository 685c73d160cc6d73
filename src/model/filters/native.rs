//! The filters rustvol implements itself, byte for byte as HDF5's: shuffle and Fletcher-32
//! (deflate is flate2's zlib stream, in `mod.rs`).

/// Byte `j` of every element together, for each `j`, then any bytes past the last whole
/// element (HDF5's shuffle filter).
pub fn shuffle(src: &[u8], es: usize) -> Vec<u8> {
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

pub fn unshuffle(src: &[u8], es: usize) -> Vec<u8> {
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
