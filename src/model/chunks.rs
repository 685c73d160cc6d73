//! Chunk geometry: which stored chunk holds which element, and how a selection (as runs of
//! consecutive elements in the dataset's row-major order) splits into per-chunk pieces.

/// Internal chunks of datasets stored without user chunking aim at this many bytes.
pub const INTERNAL_CHUNK_BYTES: u64 = 1 << 20;

/// A run of `len` elements: at `chunk_off` inside the chunk at grid position `chunk`, and at
/// `buf_off` in the packed buffer of selected elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub chunk: Vec<u64>,
    pub chunk_off: u64,
    pub buf_off: u64,
    pub len: u64,
}

#[derive(Debug, Clone)]
pub struct Geometry {
    pub dims: Vec<u64>,
    pub chunk: Vec<u64>,
}

/// A chunk shape for a dataset the user did not chunk: whole trailing dimensions, as many
/// leading rows as fit in about `INTERNAL_CHUNK_BYTES`. Unlimited or zero dims fall back to 1.
pub fn internal_chunk(dims: &[u64], elem_size: u64) -> Vec<u64> {
    let mut chunk = vec![1u64; dims.len()];
    let mut bytes = elem_size.max(1);
    for d in (0..dims.len()).rev() {
        let n = dims[d].max(1);
        let fit = (INTERNAL_CHUNK_BYTES / bytes).max(1);
        if n <= fit {
            chunk[d] = n;
            bytes *= n;
        } else {
            chunk[d] = fit;
            break;
        }
    }
    chunk
}

impl Geometry {
    /// A scalar dataspace is one element in a one-dimensional grid.
    pub fn new(dims: &[u64], chunk: &[u64]) -> Geometry {
        if dims.is_empty() {
            Geometry { dims: vec![1], chunk: vec![1] }
        } else {
            Geometry { dims: dims.to_vec(), chunk: chunk.to_vec() }
        }
    }

    pub fn chunk_elems(&self) -> u64 {
        self.chunk.iter().product()
    }

    /// Every trailing dimension is whole in a chunk, so chunk rows follow each other in
    /// both the dataset's and the chunk's layout.
    fn row_slabs(&self) -> bool {
        self.dims.iter().zip(&self.chunk).skip(1).all(|(d, c)| c == d)
    }

    /// Splits element runs (start, len) in dataset order into per-chunk pieces.
    pub fn pieces(&self, runs: &[(u64, u64)]) -> Vec<Piece> {
        let rank = self.dims.len();
        let mut out = Vec::new();
        let mut buf_off = 0u64;
        let mut coords = vec![0u64; rank];
        let row_len = self.dims[rank - 1];
        let slab = self.row_slabs();
        let inner: u64 = self.dims[1..].iter().product();
        for &(start, len) in runs {
            let mut pos = start;
            let mut left = len;
            while left > 0 {
                let mut rem = pos;
                for d in (0..rank).rev() {
                    coords[d] = rem % self.dims[d];
                    rem /= self.dims[d];
                }
                let chunk: Vec<u64> = coords.iter().zip(&self.chunk).map(|(c, k)| c / k).collect();
                let mut chunk_off = 0u64;
                for d in 0..rank {
                    chunk_off = chunk_off * self.chunk[d] + (coords[d] - chunk[d] * self.chunk[d]);
                }
                let take = if slab {
                    let end_row = ((chunk[0] + 1) * self.chunk[0]).min(self.dims[0]);
                    let room = (end_row - coords[0]) * inner - (pos % inner.max(1));
                    room.min(left)
                } else {
                    let in_chunk = self.chunk[rank - 1] - coords[rank - 1] % self.chunk[rank - 1];
                    let in_row = row_len - coords[rank - 1];
                    in_chunk.min(in_row).min(left)
                };
                out.push(Piece { chunk, chunk_off, buf_off, len: take });
                pos += take;
                left -= take;
                buf_off += take;
            }
        }
        out
    }

    /// Grid positions of every chunk that holds at least one element of `dims`.
    pub fn all_chunks(&self) -> Vec<Vec<u64>> {
        let counts: Vec<u64> = self.dims.iter().zip(&self.chunk).map(|(d, c)| d.div_ceil(*c)).collect();
        if counts.iter().any(|&c| c == 0) {
            return vec![];
        }
        let total: u64 = counts.iter().product();
        (0..total)
            .map(|mut i| {
                let mut v = vec![0; counts.len()];
                for d in (0..counts.len()).rev() {
                    v[d] = i % counts[d];
                    i /= counts[d];
                }
                v
            })
            .collect()
    }

    /// Element offsets, inside chunk `pos`, that lie outside `dims` (after a shrink).
    pub fn outside(&self, pos: &[u64]) -> Vec<u64> {
        let rank = self.dims.len();
        let n = self.chunk_elems();
        let mut out = Vec::new();
        let mut c = vec![0u64; rank];
        for i in 0..n {
            let mut r = i;
            for d in (0..rank).rev() {
                c[d] = r % self.chunk[d];
                r /= self.chunk[d];
            }
            if (0..rank).any(|d| pos[d] * self.chunk[d] + c[d] >= self.dims[d]) {
                out.push(i);
            }
        }
        out
    }

    /// Whether chunk `pos` lies wholly outside `dims`.
    pub fn beyond(&self, pos: &[u64]) -> bool {
        pos.iter().zip(&self.chunk).zip(&self.dims).any(|((p, c), d)| p * c >= *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element (r, c) of a chunk is at r * chunk_cols + c.
    fn locate(g: &Geometry, e: u64) -> (Vec<u64>, u64) {
        let p = g.pieces(&[(e, 1)]);
        assert_eq!(p.len(), 1);
        (p[0].chunk.clone(), p[0].chunk_off)
    }

    #[test]
    fn pieces_cover_every_element_once() {
        for (dims, chunk) in [
            (vec![10u64, 7], vec![3u64, 4]),
            (vec![10, 7], vec![4, 7]),
            (vec![5, 4, 3], vec![2, 3, 2]),
            (vec![9], vec![4]),
        ] {
            let g = Geometry::new(&dims, &chunk);
            let n: u64 = dims.iter().product();
            let pieces = g.pieces(&[(0, n)]);
            let total: u64 = pieces.iter().map(|p| p.len).sum();
            assert_eq!(total, n);
            for e in 0..n {
                let (ch, off) = locate(&g, e);
                let mut rem = e;
                let mut coords = vec![0; dims.len()];
                for d in (0..dims.len()).rev() {
                    coords[d] = rem % dims[d];
                    rem /= dims[d];
                }
                let want_ch: Vec<u64> = coords.iter().zip(&chunk).map(|(c, k)| c / k).collect();
                let mut want_off = 0;
                for d in 0..dims.len() {
                    want_off = want_off * chunk[d] + coords[d] % chunk[d];
                }
                assert_eq!((ch, off), (want_ch, want_off), "dims {dims:?} chunk {chunk:?} elem {e}");
            }
            // Each piece maps consecutive elements to consecutive chunk offsets.
            let mut seen = std::collections::HashSet::new();
            for p in &pieces {
                for k in 0..p.len {
                    assert!(seen.insert((p.chunk.clone(), p.chunk_off + k)));
                }
            }
        }
    }

    #[test]
    fn internal_chunks_are_row_slabs_near_one_mib() {
        assert_eq!(internal_chunk(&[1000, 1000], 8), vec![131, 1000]);
        assert_eq!(internal_chunk(&[10], 4), vec![10]);
        assert_eq!(internal_chunk(&[2, 1 << 20], 8), vec![1, 131072]);
        let g = Geometry::new(&[1000, 1000], &[131, 1000]);
        assert_eq!(g.pieces(&[(0, 1_000_000)]).len(), 8);
    }

    #[test]
    fn shrink_helpers() {
        let g = Geometry::new(&[3, 3], &[2, 2]);
        assert_eq!(g.outside(&[1, 1]), vec![1, 2, 3]);
        assert!(!g.beyond(&[1, 1]));
        assert!(g.beyond(&[2, 0]));
        assert_eq!(g.all_chunks().len(), 4);
    }
}
