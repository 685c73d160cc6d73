//! A file's metadata as a log in any store of named blobs: `manifest.json` is the commit
//! point and lists the segments (`meta/<generation>.seg`) to apply in order. A commit writes
//! one new segment with the changed records, then replaces the manifest, so a writer that dies
//! before that leaves the previous commit intact; when many segments pile up, a commit writes
//! one holding every record instead. The merged state is kept per file, so a commit never
//! reads the store back. docs/FORMAT.md describes the bytes.
use crate::backend::{MetaCommit, MetaSnapshot, ObjId};
use crate::bail;
use crate::error::{Area, Result, VolError};
use crate::model::namespace::{FORMAT_NAME, FORMAT_VERSION};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const MANIFEST: &str = "manifest.json";

/// Segments listed at most; past this the newest are merged even when the sizes say not yet.
const MAX_SEGMENTS: usize = 24;
/// A segment is merged into the newer ones after it once they hold at least
/// 1/`MERGE_RATIO` of its bytes, so sizes fall geometrically from the oldest segment to the
/// newest: few segments, and each record is rewritten a logarithmic number of times rather
/// than at every few commits.
const MERGE_RATIO: usize = 2;

/// One file's named blobs in some store. A `put` replaces a blob whole and atomically.
pub trait BlobStore {
    /// Names the store in error messages.
    fn label(&self) -> String;
    /// One answer per name, in order (fetched concurrently where the store can).
    fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>>;
    fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()>;
    /// Missing blobs are no error.
    fn delete(&self, names: &[String]) -> Result<()>;
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    generation: u64,
    segments: Vec<String>,
}

/// The merged metadata of one file as last committed, so a commit need not read it back.
#[derive(Default)]
struct FileLog {
    generation: u64,
    segments: Vec<Segment>,
    header: Vec<u8>,
    records: BTreeMap<ObjId, Vec<u8>>,
}

/// A listed segment: its size, and the records it puts or deletes (what a merge must carry).
struct Segment {
    name: String,
    bytes: usize,
    ids: Vec<ObjId>,
}

fn segment_blob(name: &str) -> String {
    format!("meta/{name}")
}

/// Loads the committed log of `file`, checking everything it relies on.
fn load_log(store: &dyn BlobStore) -> Result<Option<FileLog>> {
    let label = store.label();
    let Some(m) = store.get_many(&[MANIFEST.to_string()])?.pop().flatten() else { return Ok(None) };
    let m: Manifest = serde_json::from_slice(&m)
        .map_err(|e| VolError::new(Area::Storage, format!("{label}: corrupt manifest: {e}")))?;
    if m.format != FORMAT_NAME || m.version != FORMAT_VERSION {
        bail!(Area::Storage, "{label}: the manifest is format {:?} version {}, not rustvol version {FORMAT_VERSION}", m.format, m.version);
    }
    let names: Vec<String> = m.segments.iter().map(|s| segment_blob(s)).collect();
    let segs = store.get_many(&names)?;
    let mut log = FileLog { generation: m.generation, ..Default::default() };
    for ((name, blob), s) in m.segments.iter().zip(&names).zip(segs) {
        let Some(s) = s else { bail!(Area::Storage, "{label}: segment {blob} named by the manifest is missing") };
        let ids = apply_segment(&mut log, &s)
            .map_err(|e| VolError::new(Area::Storage, format!("{label}: corrupt segment {blob}: {e}")))?;
        log.segments.push(Segment { name: name.clone(), bytes: s.len(), ids });
    }
    Ok(Some(log))
}

/// One segment: a first line `rustvol-segment <version> <generation>`, a `header <json>` line,
/// then `put <id> <json>` and `del <id>` lines, applied in order.
fn encode_segment(generation: u64, header: &[u8], upserts: &[(ObjId, Vec<u8>)], deletes: &[ObjId]) -> Vec<u8> {
    let mut out = format!("rustvol-segment {} {generation}\nheader ", crate::model::namespace::FORMAT_VERSION).into_bytes();
    out.extend_from_slice(header);
    out.push(b'\n');
    for id in deletes {
        out.extend_from_slice(format!("del {id}\n").as_bytes());
    }
    for (id, rec) in upserts {
        out.extend_from_slice(format!("put {id} ").as_bytes());
        out.extend_from_slice(rec);
        out.push(b'\n');
    }
    out
}

/// Applies a segment and returns the ids of the records it puts or deletes.
fn apply_segment(log: &mut FileLog, bytes: &[u8]) -> std::result::Result<Vec<ObjId>, String> {
    let mut ids = Vec::new();
    let mut lines = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let first = lines.next().ok_or("empty segment")?;
    let first = std::str::from_utf8(first).map_err(|_| "first line is not text")?;
    let mut words = first.split(' ');
    if words.next() != Some("rustvol-segment") || words.next() != Some(&crate::model::namespace::FORMAT_VERSION.to_string()) {
        return Err(format!("bad first line {first:?}"));
    }
    for line in lines {
        let (word, rest) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => return Err("line without a field".into()),
        };
        let id_and = |rest: &[u8]| -> std::result::Result<(ObjId, Vec<u8>), String> {
            let i = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            let id = std::str::from_utf8(&rest[..i]).ok().and_then(|s| s.parse().ok()).ok_or("bad object id")?;
            Ok((id, rest.get(i + 1..).unwrap_or(&[]).to_vec()))
        };
        match word {
            b"header" => log.header = rest.to_vec(),
            b"put" => {
                let (id, rec) = id_and(rest)?;
                log.records.insert(id, rec);
                ids.push(id);
            }
            b"del" => {
                let (id, _) = id_and(rest)?;
                log.records.remove(&id);
                ids.push(id);
            }
            other => return Err(format!("unknown line kind {:?}", String::from_utf8_lossy(other))),
        }
    }
    Ok(ids)
}

/// How many of the newest segments (the new one included) the commit should write as one.
fn segments_to_merge(sizes: &[usize]) -> usize {
    let n = sizes.len();
    let mut k = 1;
    let mut tail: usize = sizes[n - 1];
    while k < n && (sizes[n - 1 - k] <= MERGE_RATIO * tail || n - k >= MAX_SEGMENTS) {
        tail += sizes[n - 1 - k];
        k += 1;
    }
    k
}

/// The metadata logs of the files of one backend.
#[derive(Default)]
pub struct MetaLog {
    logs: Mutex<HashMap<String, FileLog>>,
}

impl MetaLog {
    /// A new, empty file: its first commit needs nothing read.
    pub fn start(&self, file: &str) {
        self.logs.lock().insert(file.to_string(), FileLog::default());
    }

    pub fn forget(&self, file: &str) {
        self.logs.lock().remove(file);
    }

    pub fn load(&self, file: &str, store: &dyn BlobStore) -> Result<Option<MetaSnapshot>> {
        let Some(log) = load_log(store)? else { return Ok(None) };
        let snap = MetaSnapshot { header: log.header.clone(), records: log.records.iter().map(|(k, v)| (*k, v.clone())).collect() };
        self.logs.lock().insert(file.to_string(), log);
        Ok(Some(snap))
    }

    pub fn commit(&self, file: &str, store: &dyn BlobStore, commit: MetaCommit) -> Result<()> {
        let mut logs = self.logs.lock();
        // A failed commit drops the cached log (it no longer matches the store); the next one
        // reads it back.
        let mut log = match logs.remove(file) {
            Some(l) => l,
            None => load_log(store)?.unwrap_or_default(),
        };
        let generation = log.generation + 1;
        for id in &commit.deletes {
            log.records.remove(id);
        }
        for (id, rec) in &commit.upserts {
            log.records.insert(*id, rec.clone());
        }
        log.header = commit.header.clone();
        let mut ids: Vec<ObjId> = commit.deletes.iter().chain(commit.upserts.iter().map(|(id, _)| id)).copied().collect();
        let mut seg = encode_segment(generation, &commit.header, &commit.upserts, &commit.deletes);
        let mut sizes: Vec<usize> = log.segments.iter().map(|s| s.bytes).collect();
        sizes.push(seg.len());
        let merge = segments_to_merge(&sizes) - 1;
        let old: Vec<Segment> = log.segments.split_off(log.segments.len() - merge);
        if !old.is_empty() {
            // The merged segment carries the current state of every record the merged ones
            // touched; merging into the oldest makes it the whole state, with no deletes left.
            if log.segments.is_empty() {
                ids = log.records.keys().copied().collect();
            } else {
                ids.extend(old.iter().flat_map(|s| s.ids.iter().copied()));
                ids.sort_unstable();
                ids.dedup();
            }
            let (puts, dels): (Vec<ObjId>, Vec<ObjId>) = ids.iter().partition(|id| log.records.contains_key(id));
            let puts: Vec<(ObjId, Vec<u8>)> = puts.into_iter().map(|id| (id, log.records[&id].clone())).collect();
            seg = encode_segment(generation, &log.header, &puts, &dels);
        }
        let seg_name = format!("{generation:016}.seg");
        let seg_bytes = seg.len();
        let mut names: Vec<String> = log.segments.iter().map(|s| s.name.clone()).collect();
        names.push(seg_name.clone());
        let manifest = Manifest { format: FORMAT_NAME.into(), version: FORMAT_VERSION, generation, segments: names };
        let manifest = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| VolError::new(Area::Storage, format!("{}: encoding the manifest: {e}", store.label())))?;
        store.put(&segment_blob(&seg_name), seg)?;
        store.put(MANIFEST, manifest)?;
        // Merged segments are no longer named by the manifest; failing to remove them loses nothing.
        if let Err(e) = store.delete(&old.iter().map(|s| segment_blob(&s.name)).collect::<Vec<_>>()) {
            log::warn!("{}: could not remove merged segments: {}", store.label(), e.msg);
        }
        log.segments.push(Segment { name: seg_name, bytes: seg_bytes, ids });
        log.generation = generation;
        logs.insert(file.to_string(), log);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_reject_garbage() {
        let seg = encode_segment(3, b"{\"h\":1}", &[(5, b"{\"a\":2}".to_vec())], &[7]);
        let mut log = FileLog::default();
        log.records.insert(7, b"old".to_vec());
        apply_segment(&mut log, &seg).unwrap();
        assert_eq!(log.header, b"{\"h\":1}");
        assert_eq!(log.records.get(&5).unwrap(), b"{\"a\":2}");
        assert!(!log.records.contains_key(&7));
        assert!(apply_segment(&mut FileLog::default(), b"garbage\n").is_err());
        assert!(apply_segment(&mut FileLog::default(), b"rustvol-segment 1 1\nput x {}\n").is_err());
    }

    #[test]
    fn merges_keep_segments_few_and_leave_big_ones_alone() {
        // A big segment followed by small commits: the big one is not rewritten.
        assert_eq!(segments_to_merge(&[1_000_000, 100]), 1);
        assert_eq!(segments_to_merge(&[1_000_000, 100, 100]), 2);
        assert_eq!(segments_to_merge(&[1_000_000, 300, 100]), 1);
        assert_eq!(segments_to_merge(&[1_000_000, 300, 100, 100]), 3);
        // A commit as big as what is there rewrites everything.
        assert_eq!(segments_to_merge(&[100, 100]), 2);
        // Equal commits forever: the count stays logarithmic.
        let mut sizes: Vec<usize> = Vec::new();
        let mut rewritten = 0;
        for _ in 0..10_000 {
            sizes.push(10);
            let k = segments_to_merge(&sizes);
            let merged: usize = sizes.split_off(sizes.len() - k).iter().sum();
            if k > 1 {
                rewritten += merged;
            }
            sizes.push(merged);
            assert!(sizes.len() <= 16, "{sizes:?}");
        }
        assert!(rewritten < 10 * 10_000 * 20, "each byte is rewritten O(log n) times: {rewritten}");
    }

    /// Blobs in a map, as a store keeps them.
    #[derive(Default)]
    struct MapStore(Mutex<HashMap<String, Vec<u8>>>);

    impl BlobStore for MapStore {
        fn label(&self) -> String {
            "map".into()
        }
        fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
            Ok(names.iter().map(|n| self.0.lock().get(n).cloned()).collect())
        }
        fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
            self.0.lock().insert(name.to_string(), bytes);
            Ok(())
        }
        fn delete(&self, names: &[String]) -> Result<()> {
            names.iter().for_each(|n| drop(self.0.lock().remove(n)));
            Ok(())
        }
    }

    #[test]
    fn merged_segments_load_as_the_state_they_replace() {
        let store = MapStore::default();
        let log = MetaLog::default();
        log.start("f");
        let mut want: BTreeMap<ObjId, Vec<u8>> = BTreeMap::new();
        let mut rng = 7u64;
        for round in 0..300u64 {
            // Commits of varied size: puts of new and old ids, deletes of some existing ones.
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let n = 1 + (rng >> 59) as u64 * if round % 50 == 0 { 40 } else { 1 };
            let upserts: Vec<(ObjId, Vec<u8>)> = (0..n).map(|i| ((rng >> 20) % 200 + i, format!("{{\"r\":{round}}}").into_bytes())).collect();
            let deletes: Vec<ObjId> = want.keys().copied().filter(|id| (id + round) % 23 == 0).take(2).collect();
            for d in &deletes {
                want.remove(d);
            }
            want.extend(upserts.iter().cloned());
            let header = format!("{{\"g\":{round}}}").into_bytes();
            log.commit("f", &store, MetaCommit { header: header.clone(), upserts, deletes }).unwrap();
            let names = store.0.lock().keys().filter(|k| k.starts_with("meta/")).count();
            assert!(names <= MAX_SEGMENTS, "{names} segments after commit {round}");
            // What a fresh reader sees equals what was committed.
            let snap = MetaLog::default().load("f", &store).unwrap().unwrap();
            assert_eq!(snap.header, header);
            assert_eq!(snap.records.into_iter().collect::<BTreeMap<_, _>>(), want, "after commit {round}");
        }
    }
}
