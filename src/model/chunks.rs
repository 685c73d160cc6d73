//! Chunk geometry: which stored chunk holds which element, and how a selection (as runs of
//! consecutive elements in the dataset's row-major order) splits into per-chunk pieces.

/// Internal chunks of datasets stored without user chunking aim at this many bytes.
pub const INTERNAL_CHUNK_BYTES: u64 = 1 << 20;

/// A run of `len` elements: at `chunk_off` inside chunk number `chunk` of its `Split`, and at
/// `buf_off` in the packed buffer of selected elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub chunk: usize,
    pub chunk_off: u64,
    pub buf_off: u64,
    pub len: u64,
}

/// A selection split into per-chunk pieces. Chunks are listed once each, in the order the
/// selection first reaches them, so callers index them instead of hashing coordinates per run
/// (strided selections have one run per few hundred bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Grid positions of the chunks the selection touches.
    pub chunks: Vec<Vec<u64>>,
    pub pieces: Vec<Piece>,
}

impl Split {
    /// Piece indices grouped by chunk: the pieces of chunk `c` are
    /// `order[start[c]..start[c + 1]]`, in selection order.
    pub fn by_chunk(&self) -> (Vec<usize>, Vec<usize>) {
        let mut start = vec![0usize; self.chunks.len() + 1];
        for p in &self.pieces {
            start[p.chunk + 1] += 1;
        }
        for c in 0..self.chunks.len() {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut order = vec![0usize; self.pieces.len()];
        for (i, p) in self.pieces.iter().enumerate() {
            order[next[p.chunk]] = i;
            next[p.chunk] += 1;
        }
        (order, start)
    }

    /// Elements of each chunk the selection covers.
    pub fn covered(&self) -> Vec<u64> {
        let mut n = vec![0u64; self.chunks.len()];
        for p in &self.pieces {
            n[p.chunk] += p.len;
        }
        n
    }
}

/// Numbers chunks in the order they are first seen; the chunk of the previous piece is checked
/// first, since consecutive runs mostly stay in one chunk.
#[derive(Default)]
struct ChunkIndex {
    by_coords: std::collections::HashMap<Vec<u64>, usize>,
    chunks: Vec<Vec<u64>>,
    last: Option<usize>,
}

impl ChunkIndex {
    fn get(&mut self, coords: &[u64]) -> usize {
        if let Some(i) = self.last {
            if self.chunks[i] == coords {
                return i;
            }
        }
        let i = match self.by_coords.get(coords) {
            Some(&i) => i,
            None => {
                let i = self.chunks.len();
                self.chunks.push(coords.to_vec());
                self.by_coords.insert(coords.to_vec(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }
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
    pub fn split(&self, runs: &[(u64, u64)]) -> Split {
        if self.row_slabs() {
            self.split_slabs(runs)
        } else {
            self.split_general(runs)
        }
    }

    /// Chunks that hold whole rows are consecutive ranges of the dataset's elements: a run
    /// maps to chunk offsets by subtraction, with one division when it enters a new chunk.
    fn split_slabs(&self, runs: &[(u64, u64)]) -> Split {
        let rank = self.dims.len();
        let inner: u64 = self.dims[1..].iter().product();
        let per_chunk = self.chunk[0] * inner;
        let mut index = ChunkIndex::default();
        let mut pieces = Vec::with_capacity(runs.len());
        let mut coords = vec![0u64; rank];
        // The element range [lo, hi) of the current chunk, and its number in `index`.
        let (mut lo, mut hi, mut cur) = (0u64, 0u64, 0usize);
        let mut buf_off = 0u64;
        for &(start, len) in runs {
            let (mut pos, mut left) = (start, len);
            while left > 0 {
                if pos < lo || pos >= hi {
                    let k = pos / per_chunk;
                    lo = k * per_chunk;
                    hi = lo + per_chunk;
                    coords[0] = k;
                    cur = index.get(&coords);
                }
                let take = (hi - pos).min(left);
                pieces.push(Piece { chunk: cur, chunk_off: pos - lo, buf_off, len: take });
                pos += take;
                left -= take;
                buf_off += take;
            }
        }
        Split { chunks: index.chunks, pieces }
    }

    fn split_general(&self, runs: &[(u64, u64)]) -> Split {
        let rank = self.dims.len();
        let mut index = ChunkIndex::default();
        let mut pieces = Vec::with_capacity(runs.len());
        let mut buf_off = 0u64;
        let mut coords = vec![0u64; rank];
        let mut chunk = vec![0u64; rank];
        let row_len = self.dims[rank - 1];
        for &(start, len) in runs {
            let mut pos = start;
            let mut left = len;
            while left > 0 {
                let mut rem = pos;
                for d in (0..rank).rev() {
                    coords[d] = rem % self.dims[d];
                    rem /= self.dims[d];
                }
                let mut chunk_off = 0u64;
                for d in 0..rank {
                    chunk[d] = coords[d] / self.chunk[d];
                    chunk_off = chunk_off * self.chunk[d] + (coords[d] - chunk[d] * self.chunk[d]);
                }
                let in_chunk = self.chunk[rank - 1] - coords[rank - 1] % self.chunk[rank - 1];
                let in_row = row_len - coords[rank - 1];
                let take = in_chunk.min(in_row).min(left);
                pieces.push(Piece { chunk: index.get(&chunk), chunk_off, buf_off, len: take });
                pos += take;
                left -= take;
                buf_off += take;
            }
        }
        Split { chunks: index.chunks, pieces }
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

    /// Whether chunk `pos` reaches past `dims` (an edge chunk, or one wholly outside): what
    /// `outside` answers non-empty for, without visiting each of the chunk's elements.
    pub fn reaches_outside(&self, pos: &[u64]) -> bool {
        pos.iter().zip(&self.chunk).zip(&self.dims).any(|((&p, &c), &d)| p.saturating_add(1).saturating_mul(c) > d)
    }

    /// Whether chunk `pos` lies wholly outside `dims`.
    pub fn beyond(&self, pos: &[u64]) -> bool {
        pos.iter().zip(&self.chunk).zip(&self.dims).any(|((p, c), d)| p * c >= *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaching_outside_is_having_elements_outside() {
        for dims in [vec![0u64], vec![7], vec![8], vec![5, 6], vec![4, 8], vec![3, 1, 9]] {
            let chunk: Vec<u64> = dims.iter().map(|&n| (n / 2).max(1) + 1).collect();
            let g = Geometry::new(&dims, &chunk);
            for a in 0..4u64 {
                for b in 0..4u64 {
                    let pos: Vec<u64> = [a, b, a].iter().take(dims.len()).copied().collect();
                    assert_eq!(g.reaches_outside(&pos), !g.outside(&pos).is_empty(), "{dims:?} {chunk:?} {pos:?}");
                }
            }
        }
    }

    /// Element (r, c) of a chunk is at r * chunk_cols + c.
    fn locate(g: &Geometry, e: u64) -> (Vec<u64>, u64) {
        let s = g.split(&[(e, 1)]);
        assert_eq!(s.pieces.len(), 1);
        (s.chunks[s.pieces[0].chunk].clone(), s.pieces[0].chunk_off)
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
            let split = g.split(&[(0, n)]);
            let pieces = &split.pieces;
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
            for p in pieces {
                for k in 0..p.len {
                    assert!(seen.insert((split.chunks[p.chunk].clone(), p.chunk_off + k)));
                }
            }
        }
    }

    /// Every selected element as (chunk number, offset in chunk, offset in buffer).
    fn elements(s: &Split) -> Vec<(usize, u64, u64)> {
        s.pieces.iter().flat_map(|p| (0..p.len).map(move |k| (p.chunk, p.chunk_off + k, p.buf_off + k))).collect()
    }

    /// Strided runs over row-slab chunks take the subtraction path; it must agree with the
    /// general one, chunk numbering included.
    #[test]
    fn slab_split_matches_general_split() {
        for (dims, chunk) in [(vec![10u64, 7], vec![4u64, 7]), (vec![9], vec![4]), (vec![5, 4, 3], vec![2, 4, 3]), (vec![7, 2, 2], vec![7, 2, 2])] {
            let g = Geometry::new(&dims, &chunk);
            let n: u64 = dims.iter().product();
            for (block, gap) in [(1u64, 1u64), (3, 2), (5, 9), (n, 0)] {
                let mut runs = Vec::new();
                let mut pos = 1.min(n - 1);
                while pos < n {
                    runs.push((pos, block.min(n - pos)));
                    pos += block + gap;
                }
                // Backwards too: chunks are revisited out of order.
                let back: Vec<(u64, u64)> = runs.iter().rev().cloned().collect();
                for r in [runs, back] {
                    let (a, b) = (g.split_slabs(&r), g.split_general(&r));
                    assert_eq!(a.chunks, b.chunks);
                    assert_eq!(elements(&a), elements(&b), "dims {dims:?} chunk {chunk:?} runs {r:?}");
                }
            }
        }
    }

    #[test]
    fn by_chunk_groups_pieces_in_order() {
        let g = Geometry::new(&[4, 4], &[2, 2]);
        let s = g.split(&[(0, 16)]);
        let (order, start) = s.by_chunk();
        assert_eq!(start.len(), s.chunks.len() + 1);
        for c in 0..s.chunks.len() {
            let idx = &order[start[c]..start[c + 1]];
            assert!(idx.windows(2).all(|w| w[0] < w[1]));
            assert!(idx.iter().all(|&i| s.pieces[i].chunk == c));
            assert_eq!(idx.iter().map(|&i| s.pieces[i].len).sum::<u64>(), 4);
        }
        assert_eq!(s.covered(), vec![4, 4, 4, 4]);
    }

    #[test]
    fn internal_chunks_are_row_slabs_near_one_mib() {
        assert_eq!(internal_chunk(&[1000, 1000], 8), vec![131, 1000]);
        assert_eq!(internal_chunk(&[10], 4), vec![10]);
        assert_eq!(internal_chunk(&[2, 1 << 20], 8), vec![1, 131072]);
        let g = Geometry::new(&[1000, 1000], &[131, 1000]);
        assert_eq!(g.split(&[(0, 1_000_000)]).pieces.len(), 8);
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
