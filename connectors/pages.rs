//! Format version 2's metadata segments (docs/FORMAT.md): records sorted by key, packed into
//! compressed pages, with an index of the pages' key ranges at the segment's end. A reader
//! fetches a segment's index, then only the pages that hold the keys it asks for, by ranged
//! reads, and keeps them for the next question; nothing it reads is trusted.
use crate::backend::{MetaSource, ObjId};
use crate::error::{Area, Result, VolError};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::Arc;

/// Bytes of records a page holds before the next starts (a record bigger than this is a page
/// of its own): one ranged read answers a few hundred small records.
pub const PAGE_TARGET: usize = 32 << 10;
/// An entry's fixed part: key, kind and a put's record length.
const ENTRY_HEAD: usize = 17;
/// Deflate's largest expansion: a 258-byte match from a 2-bit code, so a zlib stream of `n`
/// bytes inflates to at most `n * 1032`, however it was made.
const INFLATE_RATIO: u64 = 1032;
/// The smallest zlib stream (header, an empty final block, Adler-32): what each page listed in
/// an index takes at least.
const MIN_ZLIB: u64 = 8;
const SEGMENT_MAGIC: &[u8; 8] = b"RVSEG2\n\0";
const PAGE_MAGIC: &[u8; 4] = b"RVP2";
const INDEX_MAGIC: &[u8; 4] = b"RVI2";
/// Bytes of pages the reader keeps before it lets them all go.
const CACHE_BUDGET: usize = 64 << 20;

/// One entry of a segment: a record put, or (`None`) deleted.
pub type Entry = (ObjId, Option<Vec<u8>>);

/// A segment as the manifest lists it: enough to fetch its index without asking its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegInfo {
    pub name: String,
    pub bytes: u64,
    /// Where the index sits in the segment (offset, length).
    pub index: (u64, u64),
    /// Entries (puts and deletes).
    pub entries: u64,
}

/// One page of a segment, as the index lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRef {
    pub first: ObjId,
    pub last: ObjId,
    pub off: u64,
    pub len: u64,
}

fn zip(raw: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::with_capacity(raw.len() / 3 + 16), flate2::Compression::fast());
    z.write_all(raw).expect("writing to memory");
    z.finish().expect("writing to memory")
}

fn inflate_error(e: std::io::Error) -> String {
    format!("does not inflate: {e}")
}

/// Inflates a zlib stream (its Adler-32 checked by the decoder), refusing more than `limit`
/// bytes: what it holds grows with what actually inflates, never by a size it claims.
fn unzip(z: &[u8], limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(z).take(limit.saturating_add(1)).read_to_end(&mut out).map_err(inflate_error)?;
    if out.len() as u64 > limit {
        return Err(format!("inflates past the {limit} bytes its place in the segment allows"));
    }
    Ok(out)
}

/// One entry as a page holds it: key, then a put (1, length, record) or a delete (0); 17 bytes
/// and the record at most (`encoded_size_bounds` counts on it).
fn push_entry(raw: &mut Vec<u8>, k: ObjId, v: Option<&[u8]>) {
    raw.extend_from_slice(&k.to_le_bytes());
    match v {
        Some(r) => {
            raw.push(1);
            raw.extend_from_slice(&(r.len() as u64).to_le_bytes());
            raw.extend_from_slice(r);
        }
        None => raw.push(0),
    }
}

/// Bounds on the size `encode` gives `entries`, known without encoding them: at least what
/// DEFLATE's best ratio (1032:1) leaves of the entries, at most the entries stored as they are
/// plus every header and every stored-block overhead the pages and the index could add.
pub fn encoded_size_bounds(entries: &[(ObjId, Option<&[u8]>)]) -> (usize, usize) {
    let raw: usize = entries.iter().map(|(_, r)| 17 + r.map_or(0, |r| r.len())).sum();
    (raw / 1032, raw + raw / 64 + 128 * entries.len() + 4096)
}

/// A segment of `entries` (sorted by key, each key once; `None`: a delete), named `name`.
pub fn encode(name: &str, entries: &[(ObjId, Option<&[u8]>)]) -> (Vec<u8>, SegInfo) {
    debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
    // Pages laid out first, then compressed on every core (a first commit of a big file is
    // mostly this), then put together.
    let mut raws: Vec<(ObjId, ObjId, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let mut raw = PAGE_MAGIC.to_vec();
        raw.extend_from_slice(&[0; 4]);
        let start = i;
        while i < entries.len() && (i == start || raw.len() < PAGE_TARGET) {
            push_entry(&mut raw, entries[i].0, entries[i].1);
            i += 1;
        }
        raw[4..8].copy_from_slice(&((i - start) as u32).to_le_bytes());
        raws.push((entries[start].0, entries[i - 1].0, raw));
    }
    let zipped = zip_all(&raws);
    let mut out = SEGMENT_MAGIC.to_vec();
    let mut pages: Vec<PageRef> = Vec::with_capacity(raws.len());
    for ((first, last, _), z) in raws.iter().zip(zipped) {
        pages.push(PageRef { first: *first, last: *last, off: out.len() as u64, len: z.len() as u64 });
        out.extend_from_slice(&z);
    }
    let mut raw = INDEX_MAGIC.to_vec();
    raw.extend_from_slice(&(pages.len() as u64).to_le_bytes());
    for p in &pages {
        for v in [p.first, p.last, p.off, p.len] {
            raw.extend_from_slice(&v.to_le_bytes());
        }
    }
    let z = zip(&raw);
    let index = (out.len() as u64, z.len() as u64);
    out.extend_from_slice(&z);
    let info = SegInfo { name: name.to_string(), bytes: out.len() as u64, index, entries: entries.len() as u64 };
    (out, info)
}

/// Each page compressed, in order, on up to as many threads as there are cores.
fn zip_all(raws: &[(ObjId, ObjId, Vec<u8>)]) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    if threads < 2 || raws.len() < 8 {
        return raws.iter().map(|r| zip(&r.2)).collect();
    }
    let per = raws.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = raws
            .chunks(per)
            .map(|part| std::thread::Builder::new().spawn_scoped(s, move || part.iter().map(|r| zip(&r.2)).collect::<Vec<_>>()).map_err(|_| part))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| match p {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(part) => part.iter().map(|r| zip(&r.2)).collect(),
            })
            .collect()
    })
}

/// Borrowed entries, to encode.
pub fn borrowed(entries: &[Entry]) -> Vec<(ObjId, Option<&[u8]>)> {
    entries.iter().map(|(k, v)| (*k, v.as_deref())).collect()
}

fn u64_at(b: &[u8], at: usize) -> std::result::Result<u64, String> {
    b.get(at..at + 8).map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes"))).ok_or_else(|| "is truncated".to_string())
}

/// A segment's index, checked against the segment's size as the manifest gives it.
pub fn decode_index(info: &SegInfo, z: &[u8]) -> std::result::Result<Vec<PageRef>, String> {
    // The pages before the index are zlib streams of `MIN_ZLIB` bytes at least, which bounds
    // how many an index can list, so a damaged one cannot inflate to more than that.
    let max_pages = info.index.0.saturating_sub(SEGMENT_MAGIC.len() as u64) / MIN_ZLIB;
    let raw = unzip(z, max_pages.saturating_mul(32).saturating_add(12))?;
    if raw.get(..4) != Some(INDEX_MAGIC) {
        return Err("does not start as an index".into());
    }
    let n = u64_at(&raw, 4)?;
    if n.checked_mul(32).and_then(|b| b.checked_add(12)) != Some(raw.len() as u64) {
        return Err(format!("has {} bytes for {n} pages", raw.len()));
    }
    let mut pages = Vec::with_capacity(n as usize);
    let mut end = SEGMENT_MAGIC.len() as u64;
    for i in 0..n as usize {
        let at = 12 + i * 32;
        let p = PageRef { first: u64_at(&raw, at)?, last: u64_at(&raw, at + 8)?, off: u64_at(&raw, at + 16)?, len: u64_at(&raw, at + 24)? };
        let prev_last = pages.last().map(|q: &PageRef| q.last);
        let page_end = p.off.checked_add(p.len).filter(|&e| e <= info.index.0);
        let Some(page_end) = page_end.filter(|_| p.first <= p.last && !prev_last.is_some_and(|l| p.first <= l) && p.off == end && p.len > 0) else {
            return Err(format!("lists page {i} out of order or outside the segment"));
        };
        end = page_end;
        pages.push(p);
    }
    if end != info.index.0 {
        return Err("does not account for every byte before it".into());
    }
    Ok(pages)
}

/// A page's entries, checked against what the index says of it and what the writer makes.
///
/// The writer starts no entry at or past `PAGE_TARGET`, so everything but the last entry's
/// record lies in the page's first `PAGE_TARGET + ENTRY_HEAD` bytes; only that record may be
/// larger (records have no size limit of their own: an attribute's value, a chunk map), and it
/// is inflated only after its length is checked against what the stream can inflate to.
pub fn decode_page(p: &PageRef, z: &[u8]) -> std::result::Result<Vec<Entry>, String> {
    let mut dec = flate2::bufread::ZlibDecoder::new(z);
    let head = (PAGE_TARGET + ENTRY_HEAD) as u64;
    let mut raw = Vec::new();
    (&mut dec).take(head).read_to_end(&mut raw).map_err(inflate_error)?;
    if raw.get(..4) != Some(PAGE_MAGIC) || raw.len() < 8 {
        return Err("does not start as a page".into());
    }
    let n = u32::from_le_bytes(raw[4..8].try_into().expect("4 bytes")) as u64;
    // Each entry takes 9 bytes at least and each key is in the index's range once.
    if n > (PAGE_TARGET as u64 - 8) / 9 + 1 || n > p.last.saturating_sub(p.first).saturating_add(1) {
        return Err(format!("counts {n} entries, more than a page or its key range {}..={} holds", p.first, p.last));
    }
    let mut out: Vec<Entry> = Vec::with_capacity(n as usize);
    let mut at = 8;
    for i in 0..n {
        if i > 0 && at >= PAGE_TARGET {
            return Err(format!("has entry {i} at byte {at}, past the {PAGE_TARGET} bytes after which its writer starts a new page"));
        }
        let k = u64_at(&raw, at)?;
        let op = *raw.get(at + 8).ok_or("is truncated")?;
        at += 9;
        let v = match op {
            0 => None,
            1 => {
                let len = u64_at(&raw, at)?;
                at += 8;
                let end = usize::try_from(len).ok().and_then(|l| at.checked_add(l)).ok_or("has an absurd record length")?;
                if end > raw.len() {
                    if (raw.len() as u64) < head {
                        return Err("is truncated".into());
                    }
                    if i + 1 != n {
                        return Err(format!("has entry {} after a record that runs past the {PAGE_TARGET} bytes of a page", i + 1));
                    }
                    let most = (z.len() as u64).saturating_mul(INFLATE_RATIO);
                    if end as u64 > most {
                        return Err(format!("gives a record of {len} bytes, more than its {} compressed bytes inflate to", z.len()));
                    }
                    let more = (end - raw.len()) as u64;
                    (&mut dec).take(more).read_to_end(&mut raw).map_err(inflate_error)?;
                    if raw.len() < end {
                        return Err("is truncated".into());
                    }
                }
                let r = if end == raw.len() && i + 1 == n { raw.split_off(at) } else { raw[at..end].to_vec() };
                at = end;
                Some(r)
            }
            x => return Err(format!("has an entry of unknown kind {x}")),
        };
        if out.last().is_some_and(|l| l.0 >= k) || k < p.first || k > p.last {
            return Err(format!("holds key {k} out of order or outside its range {}..={}", p.first, p.last));
        }
        out.push((k, v));
    }
    // Read to the stream's end: that is where the decoder checks the Adler-32.
    let mut rest = [0u8; 1];
    if at < raw.len() || dec.read(&mut rest).map_err(inflate_error)? != 0 {
        return Err("has bytes after its last entry".into());
    }
    if out.first().map(|e| e.0) != Some(p.first) || out.last().map(|e| e.0) != Some(p.last) {
        return Err("does not span the range its index gives".into());
    }
    Ok(out)
}

/// Ranged reads of one file's blobs.
pub trait RangeRead: Send + Sync {
    fn label(&self) -> String;
    /// Bytes `start..end` of each named blob, in order (fetched concurrently where the store
    /// can); a blob that is missing or shorter is an error.
    fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>>;
}

pub fn segment_blob(name: &str) -> String {
    format!("meta/{name}")
}

struct Seg {
    info: SegInfo,
    index: Mutex<Option<Arc<Vec<PageRef>>>>,
    pages: Mutex<HashMap<usize, Arc<Vec<Entry>>>>,
}

/// The committed records of one file, read on demand from its segments (oldest first).
pub struct Reader {
    store: Arc<dyn RangeRead>,
    segs: Mutex<Vec<Arc<Seg>>>,
    cached: Mutex<usize>,
}

impl Reader {
    pub fn new(store: Arc<dyn RangeRead>, segs: &[SegInfo]) -> Reader {
        let r = Reader { store, segs: Mutex::new(Vec::new()), cached: Mutex::new(0) };
        r.set_segments(segs);
        r
    }

    /// The segments of a new commit: what is cached of ones still listed stays.
    pub fn set_segments(&self, infos: &[SegInfo]) {
        let mut segs = self.segs.lock();
        let old: HashMap<String, Arc<Seg>> = segs.drain(..).map(|s| (s.info.name.clone(), s)).collect();
        *segs = infos
            .iter()
            .map(|i| match old.get(&i.name) {
                Some(s) if s.info == *i => s.clone(),
                _ => Arc::new(Seg { info: i.clone(), index: Mutex::new(None), pages: Mutex::new(HashMap::new()) }),
            })
            .collect();
    }

    fn damage(&self, s: &SegInfo, what: &str, e: String) -> VolError {
        VolError::new(Area::Storage, format!("{}: corrupt metadata segment {}: {what} {e}", self.store.label(), segment_blob(&s.name)))
    }

    fn indexes(&self, segs: &[Arc<Seg>]) -> Result<Vec<Arc<Vec<PageRef>>>> {
        let missing: Vec<&Arc<Seg>> = segs.iter().filter(|s| s.index.lock().is_none()).collect();
        if !missing.is_empty() {
            let mut reqs: Vec<(String, u64, u64)> = Vec::with_capacity(missing.len());
            for s in &missing {
                let (off, len) = s.info.index;
                match off.checked_add(len).filter(|&e| len > 0 && e <= s.info.bytes) {
                    Some(end) => reqs.push((segment_blob(&s.info.name), off, end)),
                    None => return Err(self.damage(&s.info, "its index", format!("is listed at bytes {off}+{len}, outside the segment's {} bytes", s.info.bytes))),
                }
            }
            for (s, z) in missing.iter().zip(self.store.get_ranges(&reqs)?) {
                let idx = decode_index(&s.info, &z).map_err(|e| self.damage(&s.info, "its index", e))?;
                *s.index.lock() = Some(Arc::new(idx));
            }
        }
        Ok(segs.iter().map(|s| s.index.lock().clone().expect("fetched above")).collect())
    }

    /// The pages (segment, page number) needed, fetched where not cached.
    fn pages(&self, segs: &[Arc<Seg>], want: &[(usize, usize)]) -> Result<HashMap<(usize, usize), Arc<Vec<Entry>>>> {
        let idx = self.indexes(segs)?;
        let mut got = HashMap::new();
        let mut fetch = Vec::new();
        for &(s, p) in want {
            match segs[s].pages.lock().get(&p) {
                Some(e) => drop(got.insert((s, p), e.clone())),
                None => fetch.push((s, p)),
            }
        }
        if fetch.is_empty() {
            return Ok(got);
        }
        let reqs: Vec<(String, u64, u64)> = fetch
            .iter()
            .map(|&(s, p)| {
                let r = idx[s][p];
                (segment_blob(&segs[s].info.name), r.off, r.off + r.len)
            })
            .collect();
        let blobs = self.store.get_ranges(&reqs)?;
        let mut added = 0;
        for (&(s, p), z) in fetch.iter().zip(blobs) {
            let entries = decode_page(&idx[s][p], &z).map_err(|e| self.damage(&segs[s].info, &format!("page {p}"), e))?;
            added += entries.iter().map(|e| 9 + e.1.as_ref().map_or(0, |r| r.len() + 8)).sum::<usize>();
            let entries = Arc::new(entries);
            segs[s].pages.lock().insert(p, entries.clone());
            got.insert((s, p), entries);
        }
        let mut cached = self.cached.lock();
        *cached += added;
        if *cached > CACHE_BUDGET {
            // Everything the model needs it has decoded already; pages are only kept for
            // neighbours of what was asked, so dropping them all costs a refetch at most.
            segs.iter().for_each(|s| s.pages.lock().clear());
            *cached = 0;
        }
        Ok(got)
    }

    /// The current records with keys in each range, newest segment first (a delete hides
    /// what older segments hold), in key order; deletes are left out.
    pub fn ranges_entries(&self, ranges: &[(ObjId, ObjId)], keep_deletes: bool) -> Result<Vec<Entry>> {
        let segs = self.segs.lock().clone();
        self.scan(&segs, ranges, keep_deletes)
    }

    fn scan(&self, segs: &[Arc<Seg>], ranges: &[(ObjId, ObjId)], keep_deletes: bool) -> Result<Vec<Entry>> {
        let idx = self.indexes(segs)?;
        let mut want = Vec::new();
        for (s, pages) in idx.iter().enumerate() {
            for &(lo, hi) in ranges {
                let from = pages.partition_point(|p| p.last < lo);
                want.extend((from..pages.len()).take_while(|&p| pages[p].first <= hi).map(|p| (s, p)));
            }
        }
        want.sort_unstable();
        want.dedup();
        let got = self.pages(segs, &want)?;
        let mut out: BTreeMap<ObjId, Option<Vec<u8>>> = BTreeMap::new();
        for &(s, p) in want.iter().rev() {
            // `want` is sorted by segment, so walking it backwards visits newer ones first.
            for (k, v) in got[&(s, p)].iter() {
                if ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(k)) {
                    out.entry(*k).or_insert_with(|| v.clone());
                }
            }
        }
        Ok(out.into_iter().filter(|e| keep_deletes || e.1.is_some()).collect())
    }

    /// Every entry of the named segments merged, newest first (for a commit that merges them).
    pub fn merged(&self, infos: &[SegInfo], keep_deletes: bool) -> Result<Vec<Entry>> {
        let segs: Vec<Arc<Seg>> = {
            let all = self.segs.lock();
            infos.iter().map(|i| all.iter().find(|s| s.info == *i).cloned().unwrap_or_else(|| Arc::new(Seg { info: i.clone(), index: Mutex::new(None), pages: Mutex::new(HashMap::new()) }))).collect()
        };
        self.scan(&segs, &[(0, u64::MAX)], keep_deletes)
    }
}

impl MetaSource for Reader {
    fn ranges(&self, ranges: &[(ObjId, ObjId)]) -> Result<Vec<(ObjId, Vec<u8>)>> {
        Ok(self.ranges_entries(ranges, false)?.into_iter().map(|(k, v)| (k, v.expect("deletes left out"))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_sizes_lie_within_their_bounds() {
        // Pseudo-random bytes (incompressible), zeros (as compressible as it gets), a mix, one
        // entry alone, a record bigger than a page, and deletes.
        let mut x = 12345u64;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u8 }).collect()
        };
        let cases: Vec<Vec<(ObjId, Option<Vec<u8>>)>> = vec![
            (0..5000).map(|i| (i, Some(noise(100)))).collect(),
            (0..5000).map(|i| (i, Some(vec![0; 300]))).collect(),
            (0..3000).map(|i| (i, if i % 3 == 0 { None } else { Some(noise(i as usize % 700)) })).collect(),
            vec![(7, Some(noise(10)))],
            vec![(1, Some(noise(200_000))), (2, Some(vec![0; 1 << 20]))],
            (0..100).map(|i| (i, None)).collect(),
        ];
        for (n, c) in cases.iter().enumerate() {
            let entries: Vec<(ObjId, Option<&[u8]>)> = c.iter().map(|(k, v)| (*k, v.as_deref())).collect();
            let (lo, hi) = encoded_size_bounds(&entries);
            let (seg, _) = encode("s", &entries);
            assert!(lo <= seg.len() && seg.len() <= hi, "case {n}: {lo} <= {} <= {hi}", seg.len());
        }
    }

    struct Blobs(HashMap<String, Vec<u8>>, Mutex<usize>);

    impl RangeRead for Blobs {
        fn label(&self) -> String {
            "test".into()
        }
        fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>> {
            *self.1.lock() += reqs.len();
            reqs.iter()
                .map(|(n, a, b)| {
                    self.0.get(n).and_then(|v| v.get(*a as usize..*b as usize)).map(|s| s.to_vec()).ok_or_else(|| VolError::new(Area::Storage, format!("no {n}")))
                })
                .collect()
        }
    }

    fn entries(ids: impl Iterator<Item = u64>) -> Vec<Entry> {
        ids.map(|i| (i, if i % 7 == 3 { None } else { Some(format!("{{\"rec\":{i},\"pad\":\"{}\"}}", "x".repeat((i % 50) as usize)).into_bytes()) })).collect()
    }

    #[test]
    fn pages_round_trip_and_answer_ranges_from_few_reads() {
        let old = entries(0..20_000);
        let new: Vec<Entry> = vec![(5, Some(b"new5".to_vec())), (6, None), (30_000, Some(b"far".to_vec()))];
        let (a, ia) = encode("a", &borrowed(&old));
        let (b, ib) = encode("b", &borrowed(&new));
        let blobs = Blobs([(segment_blob("a"), a), (segment_blob("b"), b)].into_iter().collect(), Mutex::new(0));
        let r = Reader::new(Arc::new(blobs), &[ia.clone(), ib.clone()]);
        let got = r.ranges(&[(0, 10)]).unwrap();
        let keys: Vec<u64> = got.iter().map(|e| e.0).collect();
        assert_eq!(keys, vec![0, 1, 2, 4, 5, 7, 8, 9], "3 and 10 deleted in a, 6 in b");
        assert_eq!(got[4].1, b"new5");
        let all = r.merged(&[ia, ib], false).unwrap();
        assert_eq!(all.len(), old.iter().filter(|e| e.1.is_some()).count());
    }

    #[test]
    fn damaged_pages_and_indexes_are_errors() {
        let (seg, info) = encode("a", &borrowed(&entries(0..5000)));
        let idx = decode_index(&info, &seg[info.index.0 as usize..]).unwrap();
        assert!(idx.len() > 3);
        let p = idx[1];
        let page = &seg[p.off as usize..(p.off + p.len) as usize];
        assert!(decode_page(&p, page).is_ok());
        for i in [0, 3, page.len() / 2, page.len() - 1] {
            let mut bad = page.to_vec();
            bad[i] ^= 0x40;
            assert!(decode_page(&p, &bad).is_err(), "flipped byte {i}");
        }
        assert!(decode_page(&PageRef { first: p.first + 1, ..p }, page).unwrap_err().contains("range"));
        assert!(decode_page(&p, &page[..page.len() - 3]).is_err());
        let mut bad = seg[info.index.0 as usize..].to_vec();
        bad[5] ^= 1;
        assert!(decode_index(&info, &bad).is_err());
        assert!(decode_index(&SegInfo { index: (info.index.0 + 1, info.index.1), ..info.clone() }, &seg[info.index.0 as usize..]).is_err());
        // An index whose page lengths wrap around past the end of the address space.
        let mut raw = INDEX_MAGIC.to_vec();
        raw.extend_from_slice(&2u64.to_le_bytes());
        for v in [1, 1, 8, u64::MAX - 7, 2, 2, 0, info.index.0] {
            raw.extend_from_slice(&v.to_le_bytes());
        }
        assert!(decode_index(&info, &zip(&raw)).is_err());
        // Raw bytes that inflate but lie about their content.
        let lie = zip(b"RVP2\x02\0\0\0\x05\0\0\0\0\0\0\0\x01\xff\xff\xff\xff\xff\xff\xff\xff");
        assert!(decode_page(&PageRef { first: 5, last: 5, off: 0, len: 1 }, &lie).is_err());
    }

    fn page_of(entries: &[(u64, Option<Vec<u8>>)]) -> Vec<u8> {
        let mut raw = PAGE_MAGIC.to_vec();
        raw.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (k, v) in entries {
            push_entry(&mut raw, *k, v.as_deref());
        }
        raw
    }

    #[test]
    fn a_page_is_bounded_by_what_its_writer_makes() {
        // One record far bigger than a page is a page of its own, and reads back.
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (seg, info) = encode("a", &[(1, Some(&b"small"[..])), (2, Some(&big[..])), (3, Some(&b"after"[..]))]);
        let idx = decode_index(&info, &seg[info.index.0 as usize..]).unwrap();
        let got: Vec<Entry> =
            idx.iter().flat_map(|p| decode_page(p, &seg[p.off as usize..(p.off + p.len) as usize]).unwrap()).collect();
        assert_eq!(got[1].1.as_deref(), Some(&big[..]));
        assert_eq!(got.len(), 3);
        // An entry after a record that ends past the page target: the writer would have
        // started a new page there.
        let p = PageRef { first: 1, last: 2, off: 0, len: 1 };
        let z = zip(&page_of(&[(1, Some(vec![b'x'; PAGE_TARGET + 10])), (2, None)]));
        assert!(decode_page(&p, &z).unwrap_err().contains("past the"), "{:?}", decode_page(&p, &z));
        let z = zip(&page_of(&[(1, Some(vec![b'x'; PAGE_TARGET - 100])), (2, Some(vec![b'y'; 200]))]));
        assert!(decode_page(&p, &z).is_ok(), "the last record may cross the target");
        // More entries than a page (or its key range) has room for.
        let mut raw = page_of(&[(1, None)]);
        raw[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_page(&PageRef { first: 1, last: u64::MAX, off: 0, len: 1 }, &zip(&raw)).unwrap_err().contains("more than a page or its key range"));
        // A record length more than the stream can inflate to (1 GiB claimed, 64 MiB of zeros
        // behind it) is refused before anything is read for it.
        let mut raw = page_of(&[]);
        raw[4..8].copy_from_slice(&1u32.to_le_bytes());
        raw.extend_from_slice(&7u64.to_le_bytes());
        raw.push(1);
        raw.extend_from_slice(&(1u64 << 30).to_le_bytes());
        raw.resize(raw.len() + (64 << 20), 0);
        let z = zip(&raw);
        let e = decode_page(&PageRef { first: 7, last: 7, off: 0, len: 1 }, &z).unwrap_err();
        assert!(e.contains("more than its"), "{e}");
        // Bytes that inflate far past any page and are no page at all stop at the head.
        let z = zip(&vec![0u8; 64 << 20]);
        assert!(decode_page(&PageRef { first: 7, last: 7, off: 0, len: 1 }, &z).unwrap_err().contains("does not start as a page"));
    }

    #[test]
    fn an_index_cannot_inflate_past_what_its_segment_can_list() {
        let (seg, info) = encode("a", &borrowed(&entries(0..50)));
        let z = &seg[info.index.0 as usize..];
        assert!(decode_index(&info, z).is_ok());
        // A segment of so few page bytes lists few pages: a stream of 10 MB is not its index.
        let bomb = zip(&vec![0u8; 10 << 20]);
        let e = decode_index(&info, &bomb).unwrap_err();
        assert!(e.contains("inflates past"), "{e}");
    }

    #[test]
    fn an_index_place_outside_its_segment_is_damage_without_a_read() {
        let (seg, info) = encode("a", &borrowed(&entries(0..50)));
        let bad = [
            (u64::MAX - 3, 10),           // offset plus length wraps
            (info.index.0, u64::MAX),     // so does this
            (info.bytes, 10),             // past the segment's end
            (info.index.0, 0),            // empty
        ];
        for index in bad {
            let blobs = Arc::new(Blobs([(segment_blob("a"), seg.clone())].into_iter().collect(), Mutex::new(0)));
            let r = Reader::new(blobs.clone(), &[SegInfo { index, ..info.clone() }]);
            let e = r.ranges(&[(0, 10)]).unwrap_err();
            assert!(e.msg.contains("corrupt metadata segment meta/a: its index"), "{index:?}: {}", e.msg);
            assert_eq!(*blobs.1.lock(), 0, "{index:?}: nothing is asked of the store");
        }
    }
}
