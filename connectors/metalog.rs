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
    /// How a commit can be sure the manifest it replaces is the one it built on.
    fn begin_swap(&self) -> Result<Swap> {
        Ok(Swap::Unguarded)
    }
    /// A blob and the store's version tag of it (an ETag), where the store has them.
    fn get_tagged(&self, name: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        Ok(self.get_many(&[name.to_string()])?.pop().flatten().map(|b| (b, None)))
    }
    /// Puts `name` only if it is still at version `expect` (`None`: only if absent), for stores
    /// that said `Swap::Conditional`: `Ok(Err(()))` when it is not, else the new version's tag.
    fn put_if(&self, name: &str, bytes: Vec<u8>, _expect: Option<&str>) -> Result<std::result::Result<Option<String>, ()>> {
        self.put(name, bytes).map(|()| Ok(None))
    }
}

/// What keeps another writer from committing between a commit's look at the manifest and its
/// replacing it.
pub enum Swap {
    /// The store refuses a put whose precondition (If-Match / If-None-Match) fails.
    Conditional,
    /// A lock held while this value lives (a `dir` commit lock).
    Locked(Box<dyn std::any::Any>),
    /// Nothing: the manifest is read before and after the put, so a lost race is reported,
    /// except when another writer's put lands between this one's put and its read back.
    Unguarded,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    generation: u64,
    segments: Vec<String>,
    /// Which opener committed this generation (absent in manifests of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    writer: Option<String>,
}

/// The merged metadata of one file as last committed, so a commit need not read it back.
#[derive(Default)]
struct FileLog {
    generation: u64,
    segments: Vec<Segment>,
    header: Vec<u8>,
    records: BTreeMap<ObjId, Vec<u8>>,
    /// The manifest this log was read from or last committed (none for a new file): the next
    /// commit must replace exactly that one.
    base: Option<Base>,
    /// This opener's name in the manifests it commits.
    me: String,
    /// A commit failed part way: what is cached may not match the store, which is read back
    /// (and must still be at `base`, or at this opener's own commit) before the next one.
    stale: bool,
}

/// Which committed manifest a log stands on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Base {
    generation: u64,
    writer: Option<String>,
    /// The store's version tag of it, where the store has them.
    tag: Option<String>,
}

impl Base {
    fn same_commit(&self, other: &Option<Base>) -> bool {
        other.as_ref().is_some_and(|o| o.generation == self.generation && o.writer == self.writer)
    }
}

fn describe(b: &Option<Base>) -> String {
    match b {
        None => "no manifest".into(),
        Some(b) => format!("generation {} (by {})", b.generation, b.writer.as_deref().unwrap_or("an unnamed writer")),
    }
}

/// The manifest now committed, without the segments.
fn current_base(store: &dyn BlobStore) -> Result<Option<Base>> {
    let Some((m, tag)) = store.get_tagged(MANIFEST)? else { return Ok(None) };
    let m: Manifest = serde_json::from_slice(&m)
        .map_err(|e| VolError::new(Area::Storage, format!("{}: corrupt manifest: {e}", store.label())))?;
    Ok(Some(Base { generation: m.generation, writer: m.writer, tag }))
}

fn conflict(store: &dyn BlobStore, file: &str, base: &Option<Base>, now: &Option<Base>) -> VolError {
    VolError::new(
        Area::File,
        format!(
            "{}: commit of {file:?} refused: another writer committed to the file since this one read it (this writer built on {}, the store now holds {}); this writer's changes since its last commit are not stored, and nothing the other committed is lost",
            store.label(),
            describe(base),
            describe(now)
        ),
    )
}

/// A listed segment: its size, and the records it puts or deletes (what a merge must carry).
struct Segment {
    name: String,
    bytes: usize,
    ids: Vec<ObjId>,
}

/// Eight hex digits standing for a writer in its segments' names.
fn short_id(me: &str) -> String {
    let h = me.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3));
    format!("{:08x}", (h ^ (h >> 32)) as u32)
}

fn segment_blob(name: &str) -> String {
    format!("meta/{name}")
}

/// Loads the committed log of `file`, checking everything it relies on.
fn load_log(store: &dyn BlobStore) -> Result<Option<FileLog>> {
    let label = store.label();
    let Some((m, tag)) = store.get_tagged(MANIFEST)? else { return Ok(None) };
    let m: Manifest = serde_json::from_slice(&m)
        .map_err(|e| VolError::new(Area::Storage, format!("{label}: corrupt manifest: {e}")))?;
    if m.format != FORMAT_NAME || m.version != FORMAT_VERSION {
        bail!(Area::Storage, "{label}: the manifest is format {:?} version {}, not rustvol version {FORMAT_VERSION}", m.format, m.version);
    }
    let names: Vec<String> = m.segments.iter().map(|s| segment_blob(s)).collect();
    let segs = store.get_many(&names)?;
    let base = Some(Base { generation: m.generation, writer: m.writer.clone(), tag });
    let mut log = FileLog { generation: m.generation, base, me: super::lock::holder_id(), ..Default::default() };
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

/// Replaces the manifest if it is still `base`, the commit this writer built on; returns the new
/// one's version tag. Whichever way the store allows, a manifest another writer committed in
/// the meantime is never replaced silently.
fn swap_manifest(file: &str, store: &dyn BlobStore, base: &Option<Base>, me: &str, generation: u64, manifest: Vec<u8>) -> Result<Option<String>> {
    let guard = store.begin_swap()?;
    if let Swap::Conditional = guard {
        if let Some(b) = base {
            if b.tag.is_none() {
                // Read without a tag (a log from before the store was known to take conditions).
                let now = current_base(store)?;
                if !b.same_commit(&now) {
                    return Err(conflict(store, file, base, &now));
                }
                return swap_manifest_tagged(file, store, base, &now, manifest);
            }
        }
        return swap_manifest_tagged(file, store, base, base, manifest);
    }
    let now = current_base(store)?;
    let unchanged = match base {
        None => now.is_none(),
        Some(b) => b.same_commit(&now),
    };
    if !unchanged {
        return Err(conflict(store, file, base, &now));
    }
    store.put(MANIFEST, manifest)?;
    if let Swap::Unguarded = guard {
        // Another writer that looked before this put landed may have put its own after it.
        let after = current_base(store)?;
        if !after.as_ref().is_some_and(|a| a.generation == generation && a.writer.as_deref() == Some(me)) {
            return Err(conflict(store, file, base, &after));
        }
        return Ok(after.and_then(|a| a.tag));
    }
    drop(guard);
    Ok(None)
}

fn swap_manifest_tagged(file: &str, store: &dyn BlobStore, base: &Option<Base>, at: &Option<Base>, manifest: Vec<u8>) -> Result<Option<String>> {
    match store.put_if(MANIFEST, manifest, at.as_ref().and_then(|b| b.tag.as_deref()))? {
        Ok(tag) => Ok(tag),
        Err(()) => Err(conflict(store, file, base, &current_base(store)?)),
    }
}

/// The metadata logs of the files of one backend.
#[derive(Default)]
pub struct MetaLog {
    logs: Mutex<HashMap<String, FileLog>>,
}

impl MetaLog {
    /// A new, empty file: its first commit needs nothing read.
    pub fn start(&self, file: &str) {
        self.logs.lock().insert(file.to_string(), FileLog { me: super::lock::holder_id(), ..Default::default() });
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
            Some(l) if l.stale => {
                let fresh = load_log(store)?;
                let now = fresh.as_ref().and_then(|f| f.base.clone());
                let ours = now.as_ref().is_some_and(|n| n.writer.as_deref() == Some(l.me.as_str()));
                let unchanged = match &l.base {
                    None => now.is_none(),
                    Some(b) => b.same_commit(&now),
                };
                if !unchanged && !ours {
                    let e = conflict(store, file, &l.base, &now);
                    logs.insert(file.to_string(), l);
                    return Err(e);
                }
                FileLog { me: l.me, ..fresh.unwrap_or_default() }
            }
            Some(l) => l,
            None => load_log(store)?.unwrap_or_else(|| FileLog { me: super::lock::holder_id(), ..Default::default() }),
        };
        match self.commit_on(file, store, &mut log, commit) {
            Ok(()) => {
                logs.insert(file.to_string(), log);
                Ok(())
            }
            Err(e) => {
                logs.insert(file.to_string(), FileLog { base: log.base, me: log.me, stale: true, ..Default::default() });
                Err(e)
            }
        }
    }

    /// One commit on top of `log`, which it brings up to date when it succeeds.
    fn commit_on(&self, file: &str, store: &dyn BlobStore, log: &mut FileLog, commit: MetaCommit) -> Result<()> {
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
        // Named by its writer too: two writers building on the same generation must never
        // overwrite each other's segment (the loser's commit is refused, the winner's must stay
        // as written).
        let seg_name = format!("{generation:016}-{}.seg", short_id(&log.me));
        let seg_bytes = seg.len();
        let mut names: Vec<String> = log.segments.iter().map(|s| s.name.clone()).collect();
        names.push(seg_name.clone());
        let manifest = Manifest { format: FORMAT_NAME.into(), version: FORMAT_VERSION, generation, segments: names, writer: Some(log.me.clone()) };
        let manifest = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| VolError::new(Area::Storage, format!("{}: encoding the manifest: {e}", store.label())))?;
        // Another writer's segment of this generation is never overwritten: segments not named by
        // the manifest are leftovers, and a segment this commit names it writes itself.
        store.put(&segment_blob(&seg_name), seg)?;
        let tag = swap_manifest(file, store, &log.base, &log.me, generation, manifest)?;
        // Merged segments are no longer named by the manifest; failing to remove them loses nothing.
        if let Err(e) = store.delete(&old.iter().map(|s| segment_blob(&s.name)).collect::<Vec<_>>()) {
            log::warn!("{}: could not remove merged segments: {}", store.label(), e.msg);
        }
        log.segments.push(Segment { name: seg_name, bytes: seg_bytes, ids });
        log.generation = generation;
        log.base = Some(Base { generation, writer: Some(log.me.clone()), tag });
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

    /// A map that honours conditions, as AWS S3 or MinIO do: each put gets a new tag.
    #[derive(Default)]
    struct TaggedStore(Mutex<HashMap<String, (Vec<u8>, u64)>>, Mutex<u64>);

    impl BlobStore for TaggedStore {
        fn label(&self) -> String {
            "tagged".into()
        }
        fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
            Ok(names.iter().map(|n| self.0.lock().get(n).map(|v| v.0.clone())).collect())
        }
        fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
            let mut n = self.1.lock();
            *n += 1;
            self.0.lock().insert(name.to_string(), (bytes, *n));
            Ok(())
        }
        fn delete(&self, names: &[String]) -> Result<()> {
            names.iter().for_each(|n| drop(self.0.lock().remove(n)));
            Ok(())
        }
        fn begin_swap(&self) -> Result<Swap> {
            Ok(Swap::Conditional)
        }
        fn get_tagged(&self, name: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
            Ok(self.0.lock().get(name).map(|(b, t)| (b.clone(), Some(t.to_string()))))
        }
        fn put_if(&self, name: &str, bytes: Vec<u8>, expect: Option<&str>) -> Result<std::result::Result<Option<String>, ()>> {
            let now = self.0.lock().get(name).map(|v| v.1.to_string());
            if now.as_deref() != expect {
                return Ok(Err(()));
            }
            self.put(name, bytes)?;
            Ok(Ok(self.0.lock().get(name).map(|v| v.1.to_string())))
        }
    }

    fn put_one(id: ObjId) -> MetaCommit {
        MetaCommit { header: b"{}".to_vec(), upserts: vec![(id, format!("{{\"v\":{id}}}").into_bytes())], deletes: vec![] }
    }

    /// Two writers that opened the same generation: the second commit is refused naming the
    /// conflict, every later one of it too, and the store keeps exactly the first writer's.
    fn second_writer_is_refused(store: &dyn BlobStore) {
        let setup = MetaLog::default();
        setup.start("f");
        setup.commit("f", store, put_one(1)).unwrap();
        let (a, b) = (MetaLog::default(), MetaLog::default());
        a.load("f", store).unwrap().unwrap();
        b.load("f", store).unwrap().unwrap();
        a.commit("f", store, put_one(2)).unwrap();
        let e = b.commit("f", store, put_one(3)).unwrap_err();
        assert!(e.msg.contains("another writer committed to the file"), "{}", e.msg);
        assert!(b.commit("f", store, put_one(4)).is_err(), "a refused writer stays refused");
        a.commit("f", store, put_one(5)).unwrap();
        let ids: Vec<ObjId> = MetaLog::default().load("f", store).unwrap().unwrap().records.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![1, 2, 5]);
    }

    #[test]
    fn a_commit_on_a_replaced_generation_is_refused_without_conditions() {
        second_writer_is_refused(&MapStore::default());
    }

    #[test]
    fn a_commit_on_a_replaced_generation_is_refused_with_conditions() {
        second_writer_is_refused(&TaggedStore::default());
    }

    #[test]
    fn a_new_file_replaced_by_another_create_is_refused() {
        let store = TaggedStore::default();
        let (a, b) = (MetaLog::default(), MetaLog::default());
        a.start("f");
        b.start("f");
        a.commit("f", &store, put_one(1)).unwrap();
        assert!(b.commit("f", &store, put_one(2)).is_err());
        let store = MapStore::default();
        a.start("f");
        b.start("f");
        a.commit("f", &store, put_one(1)).unwrap();
        assert!(b.commit("f", &store, put_one(2)).is_err());
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
