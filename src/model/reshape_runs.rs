//! Runs of elements (first element, count) in a dataset's row-major order, with their packed
//! elements, re-expressed for a new extent. A linear index names a different element once
//! any dimension but the first changes size, so runs kept across an `H5Dset_extent` must be
//! translated through coordinates; elements outside the new extent are dropped, as the
//! extent change drops them natively.

/// `runs` of `old`'s row-major order and their elements (`es` bytes each, packed in `data`),
/// as runs of `new`'s row-major order over the elements still inside it (adjacent runs joined).
pub fn reshape(runs: &[(u64, u64)], data: &[u8], es: usize, old: &[u64], new: &[u64]) -> (Vec<(u64, u64)>, Vec<u8>) {
    if old == new || old.len() != new.len() || old.is_empty() {
        return (runs.to_vec(), data.to_vec());
    }
    let n = old.len();
    let (old_last, new_last) = (old[n - 1], new[n - 1]);
    let mut out_runs: Vec<(u64, u64)> = Vec::new();
    let mut out = Vec::new();
    if old_last == 0 || new_last == 0 {
        return (out_runs, out);
    }
    let mut lead = vec![0u64; n - 1];
    let mut off = 0usize; // into `data`, in elements
    for &(start, count) in runs {
        let (mut s, end) = (start, start + count);
        while s < end {
            // One row of the last dimension at a time: its leading coordinates are fixed.
            let (row, j0) = (s / old_last, s % old_last);
            let seg = (old_last - j0).min(end - s);
            let mut r = row;
            for i in (0..n - 1).rev() {
                lead[i] = r % old[i];
                r /= old[i];
            }
            let inside = r == 0 && lead.iter().zip(new).all(|(&c, &d)| c < d) && j0 < new_last;
            if inside {
                let keep = seg.min(new_last - j0);
                let new_row = lead.iter().zip(new).fold(0u64, |acc, (&c, &d)| acc * d + c);
                let ns = new_row * new_last + j0;
                match out_runs.last_mut() {
                    Some(last) if last.0 + last.1 == ns => last.1 += keep,
                    _ => out_runs.push((ns, keep)),
                }
                out.extend_from_slice(&data[off * es..(off + keep as usize) * es]);
            }
            off += seg as usize;
            s += seg;
        }
    }
    (out_runs, out)
}

#[cfg(test)]
mod tests {
    use super::reshape;

    /// Element values are their old coordinates, (i, j) as i*100 + j, one byte each.
    fn grid(rows: u64, cols: u64) -> (Vec<(u64, u64)>, Vec<u8>) {
        (vec![(0, rows * cols)], (0..rows).flat_map(|i| (0..cols).map(move |j| (i * 10 + j) as u8)).collect())
    }

    #[test]
    fn wider_moves_rows_apart() {
        let (runs, data) = grid(2, 3);
        let (r, d) = reshape(&runs, &data, 1, &[2, 3], &[3, 5]);
        assert_eq!(r, vec![(0, 3), (5, 3)]);
        assert_eq!(d, vec![0, 1, 2, 10, 11, 12]);
    }

    #[test]
    fn narrower_and_shorter_drop_what_is_cut_off() {
        let (runs, data) = grid(3, 4);
        let (r, d) = reshape(&runs, &data, 1, &[3, 4], &[2, 2]);
        assert_eq!(r, vec![(0, 4)]);
        assert_eq!(d, vec![0, 1, 10, 11]);
    }

    #[test]
    fn partial_runs_and_wide_elements() {
        // Elements 2..7 of a 2 x 4 grid (row 0 cols 2-3, row 1 cols 0-2), 2 bytes each.
        let data: Vec<u8> = [2u8, 3, 10, 11, 12].iter().flat_map(|&v| [v, 0xEE]).collect();
        let (r, d) = reshape(&[(2, 5)], &data, 2, &[2, 4], &[2, 6]);
        assert_eq!(r, vec![(2, 2), (6, 3)]);
        assert_eq!(d, data);
        let (r, d) = reshape(&[(2, 5)], &data, 2, &[2, 4], &[2, 3]);
        assert_eq!(r, vec![(2, 4)]);
        assert_eq!(d, [2u8, 0xEE, 10, 0xEE, 11, 0xEE, 12, 0xEE].to_vec());
    }

    #[test]
    fn three_dimensions_and_one() {
        let data: Vec<u8> = (0..8).collect();
        // 2 x 2 x 2 into 2 x 3 x 2: the second plane's rows start at 6.
        let (r, d) = reshape(&[(0, 8)], &data, 1, &[2, 2, 2], &[2, 3, 2]);
        assert_eq!(r, vec![(0, 4), (6, 4)]);
        assert_eq!(d, data);
        // 1-D: growing changes nothing, shrinking drops the tail.
        assert_eq!(reshape(&[(1, 4)], &data[..4], 1, &[5], &[9]).0, vec![(1, 4)]);
        assert_eq!(reshape(&[(1, 4)], &data[..4], 1, &[5], &[3]), (vec![(1, 2)], vec![0, 1]));
    }
}
