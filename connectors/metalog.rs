//! A file's metadata as a log in any store of named blobs: `manifest.json` is the commit
//! point and lists the segments (`meta/<generation>.seg`) to apply in order. A commit writes
//! one new segment with the changed records, then replaces the manifest, so a writer that dies
//! before that leaves the previous commit intact; when many segments pile up, a commit writes
//! one holding every record instead. The merged state is kept per file, so a commit never
//! reads the store back. docs/FORMAT.md describes the bytes.
use super::pages::{self, segment_blob, Reader, SegInfo};
use crate::backend::{MetaCommit, MetaOpen, MetaSnapshot, ObjId};
use crate::bail;
use crate::error::{Area, Result, VolError};
use crate::model::namespace::FORMAT_NAME;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The store format commits write (docs/FORMAT.md); version 1 files are still read.
pub const STORE_VERSION: u32 = 2;

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
    /// Ranged reads of the same blobs, for a reader that outlives this call.
    fn ranged(&self) -> Arc<dyn pages::RangeRead>;
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

/// What every manifest version has: enough to tell which commit it is.
#[derive(Debug, Deserialize)]
struct ManifestBase {
    format: String,
    version: u32,
    generation: u64,
    /// Which opener committed this generation (absent in manifests of earlier versions).
    #[serde(default)]
    writer: Option<String>,
}

/// A version 1 manifest: segment names, every record in the segments as text.
#[derive(Debug, Deserialize)]
struct ManifestV1 {
    segments: Vec<String>,
}

/// A version 2 manifest: the header inline, segments with where their index is.
#[derive(Debug, Serialize, Deserialize)]
struct ManifestV2 {
    format: String,
    version: u32,
    generation: u64,
    writer: Option<String>,
    header: String,
    segments: Vec<SegInfo>,
    /// Segments the last commit merged away, which the next commit removes: an opener that
    /// read the manifest before that commit (with locking disabled) still finds its pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired: Vec<String>,
}

/// A version 1 file, read whole: what its first commit rewrites as version 2.
struct V1 {
    records: BTreeMap<ObjId, Vec<u8>>,
    segments: Vec<String>,
}

/// One file as last committed: its segments, read through `reader` on demand, so a commit
/// never reads back what it can avoid.
#[derive(Default)]
struct FileLog {
    generation: u64,
    segments: Vec<SegInfo>,
    header: Vec<u8>,
    v1: Option<V1>,
    /// Blobs the last commit merged away (the manifest's `retired`).
    retired: Vec<String>,
    reader: Option<Arc<Reader>>,
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
    let m: ManifestBase = serde_json::from_slice(&m)
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

/// Eight hex digits standing for a writer in its segments' names.
fn short_id(me: &str) -> String {
    let h = me.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3));
    format!("{:08x}", (h ^ (h >> 32)) as u32)
}

/// Loads the committed log of `file`: the manifest alone for version 2, every segment for
/// version 1; checking everything it relies on.
fn load_log(store: &dyn BlobStore) -> Result<Option<FileLog>> {
    let label = store.label();
    let Some((m, tag)) = store.get_tagged(MANIFEST)? else { return Ok(None) };
    let corrupt = |e: serde_json::Error| VolError::new(Area::Storage, format!("{label}: corrupt manifest: {e}"));
    let mb: ManifestBase = serde_json::from_slice(&m).map_err(corrupt)?;
    if mb.format != FORMAT_NAME || !(1..=STORE_VERSION).contains(&mb.version) {
        bail!(Area::Storage, "{label}: the manifest is format {:?} version {}, not rustvol version 1 or {STORE_VERSION}", mb.format, mb.version);
    }
    let base = Some(Base { generation: mb.generation, writer: mb.writer.clone(), tag });
    let mut log = FileLog { generation: mb.generation, base, me: super::lock::holder_id(), ..Default::default() };
    if mb.version == STORE_VERSION {
        let m: ManifestV2 = serde_json::from_slice(&m).map_err(corrupt)?;
        log.header = m.header.into_bytes();
        log.reader = Some(Arc::new(Reader::new(store.ranged(), &m.segments)));
        log.segments = m.segments;
        log.retired = m.retired;
        return Ok(Some(log));
    }
    let m: ManifestV1 = serde_json::from_slice(&m).map_err(corrupt)?;
    let names: Vec<String> = m.segments.iter().map(|s| segment_blob(s)).collect();
    let segs = store.get_many(&names)?;
    let mut v1 = V1 { records: BTreeMap::new(), segments: m.segments.clone() };
    for (blob, s) in names.iter().zip(segs) {
        let Some(s) = s else { bail!(Area::Storage, "{label}: segment {blob} named by the manifest is missing") };
        apply_segment(&mut log.header, &mut v1.records, &s)
            .map_err(|e| VolError::new(Area::Storage, format!("{label}: corrupt segment {blob}: {e}")))?;
    }
    log.v1 = Some(v1);
    log.reader = Some(Arc::new(Reader::new(store.ranged(), &[])));
    Ok(Some(log))
}

/// One segment: a first line `rustvol-segment <version> <generation>`, a `header <json>` line,
/// then `put <id> <json>` and `del <id>` lines, applied in order: what version 1 writers wrote
/// (kept to write version 1 files for tests).
pub fn encode_segment_v1(generation: u64, header: &[u8], upserts: &[(ObjId, Vec<u8>)], deletes: &[ObjId]) -> Vec<u8> {
    let mut out = format!("rustvol-segment 1 {generation}\nheader ").into_bytes();
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

/// Applies a version 1 segment.
fn apply_segment(header: &mut Vec<u8>, records: &mut BTreeMap<ObjId, Vec<u8>>, bytes: &[u8]) -> std::result::Result<(), String> {
    let mut lines = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let first = lines.next().ok_or("empty segment")?;
    let first = std::str::from_utf8(first).map_err(|_| "first line is not text")?;
    let mut words = first.split(' ');
    if words.next() != Some("rustvol-segment") || words.next() != Some("1") {
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
            b"header" => *header = rest.to_vec(),
            b"put" => {
                let (id, rec) = id_and(rest)?;
                records.insert(id, rec);
            }
            b"del" => {
                let (id, _) = id_and(rest)?;
                records.remove(&id);
            }
            other => return Err(format!("unknown line kind {:?}", String::from_utf8_lossy(other))),
        }
    }
    Ok(())
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
    pub fn start(&self, file: &str, store: &dyn BlobStore) {
        let reader = Some(Arc::new(Reader::new(store.ranged(), &[])));
        self.logs.lock().insert(file.to_string(), FileLog { me: super::lock::holder_id(), reader, ..Default::default() });
    }

    pub fn forget(&self, file: &str) {
        self.logs.lock().remove(file);
    }

    /// Every committed record (a version 2 file's segments are read whole).
    pub fn load(&self, file: &str, store: &dyn BlobStore) -> Result<Option<MetaSnapshot>> {
        Ok(self.open(file, store)?.map(|o| match o {
            MetaOpen::Eager(s) => Ok(s),
            MetaOpen::Lazy { header, source } => Ok(MetaSnapshot { header, records: source.ranges(&[(0, u64::MAX)])? }),
        }).transpose()?)
    }

    /// The committed state for an open: a version 2 file's header and a reader of its pages
    /// (one read, of the manifest); a version 1 file's every record.
    pub fn open(&self, file: &str, store: &dyn BlobStore) -> Result<Option<MetaOpen>> {
        let Some(log) = load_log(store)? else { return Ok(None) };
        let open = match &log.v1 {
            Some(v1) => MetaOpen::Eager(MetaSnapshot { header: log.header.clone(), records: v1.records.iter().map(|(k, v)| (*k, v.clone())).collect() }),
            None => MetaOpen::Lazy { header: log.header.clone(), source: log.reader.clone().expect("a loaded log has a reader") },
        };
        self.logs.lock().insert(file.to_string(), log);
        Ok(Some(open))
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
                let mut fresh = fresh.unwrap_or_default();
                // The model reads through the reader it was given: it follows the store.
                if let Some(r) = l.reader {
                    r.set_segments(&fresh.segments);
                    fresh.reader = Some(r);
                }
                FileLog { me: l.me, ..fresh }
            }
            Some(l) => l,
            None => load_log(store)?.unwrap_or_else(|| FileLog { me: super::lock::holder_id(), ..Default::default() }),
        };
        if log.reader.is_none() {
            log.reader = Some(Arc::new(Reader::new(store.ranged(), &log.segments)));
        }
        match self.commit_on(file, store, &mut log, commit) {
            Ok(()) => {
                logs.insert(file.to_string(), log);
                Ok(())
            }
            Err(e) => {
                logs.insert(file.to_string(), FileLog { base: log.base, me: log.me, reader: log.reader, stale: true, ..Default::default() });
                Err(e)
            }
        }
    }

    /// One commit on top of `log`, which it brings up to date when it succeeds: one new
    /// segment of what changed (merged with the newest ones when the sizes say so), then the
    /// manifest. A version 1 file is written whole as version 2 at its first commit.
    fn commit_on(&self, file: &str, store: &dyn BlobStore, log: &mut FileLog, commit: MetaCommit) -> Result<()> {
        let generation = log.generation + 1;
        let reader = log.reader.clone().expect("a log being committed has a reader");
        let header = String::from_utf8(commit.header.clone())
            .map_err(|_| VolError::new(Area::Storage, format!("{}: the file header record is not text", store.label())))?;
        // Built in one go (a sort, stable, so a record put wins over its delete as an insert
        // after it would, then a bulk build): a first commit of a big file has a million.
        let changes: BTreeMap<ObjId, Option<Vec<u8>>> =
            commit.deletes.iter().map(|id| (*id, None)).chain(commit.upserts.into_iter().map(|(id, r)| (id, Some(r)))).collect();
        // Named by its writer too: two writers building on the same generation must never
        // overwrite each other's segment (the loser's commit is refused, the winner's must stay
        // as written).
        let seg_name = format!("{generation:016}-{}.seg", short_id(&log.me));
        let (seg, info, kept, old): (Vec<u8>, SegInfo, Vec<SegInfo>, Vec<String>) = match log.v1.as_mut() {
            Some(v1) => {
                let mut all = std::mem::take(&mut v1.records);
                for (id, r) in changes {
                    match r {
                        Some(r) => drop(all.insert(id, r)),
                        None => drop(all.remove(&id)),
                    }
                }
                let entries: Vec<(ObjId, Option<&[u8]>)> = all.iter().map(|(k, v)| (*k, Some(v.as_slice()))).collect();
                let (seg, info) = pages::encode(&seg_name, &entries);
                (seg, info, Vec::new(), v1.segments.iter().map(|s| segment_blob(s)).collect())
            }
            None => {
                let entries: Vec<(ObjId, Option<&[u8]>)> = changes.iter().map(|(k, v)| (*k, v.as_deref())).collect();
                // How many older segments merge, for a new segment of `size` bytes.
                let merge_at = |size: usize| {
                    let mut sizes: Vec<usize> = log.segments.iter().map(|s| s.bytes as usize).collect();
                    sizes.push(size);
                    segments_to_merge(&sizes) - 1
                };
                // That grows with the size, so where both bounds on it give the same answer (a
                // first commit of a big file, whose merge with the create's tiny segment is
                // certain) the changes are encoded once, merged or not; only otherwise are they
                // encoded alone first, to know.
                let (lo, hi) = pages::encoded_size_bounds(&entries);
                let (merge, alone) = match merge_at(lo) == merge_at(hi) {
                    true => (merge_at(lo), None),
                    false => {
                        let (seg, info) = pages::encode(&seg_name, &entries);
                        (merge_at(seg.len()), Some((seg, info)))
                    }
                };
                let kept = log.segments[..log.segments.len() - merge].to_vec();
                let merged = &log.segments[log.segments.len() - merge..];
                if merged.is_empty() {
                    let (seg, info) = alone.unwrap_or_else(|| pages::encode(&seg_name, &entries));
                    (seg, info, kept, Vec::new())
                } else {
                    drop((alone, entries));
                    // The merged segment carries the current state of every record the merged
                    // ones touched; merging into the oldest makes it the whole state, with no
                    // deletes left.
                    let mut all: BTreeMap<ObjId, Option<Vec<u8>>> = reader.merged(merged, true)?.into_iter().collect();
                    all.extend(changes);
                    let entries: Vec<(ObjId, Option<&[u8]>)> =
                        all.iter().filter(|e| !kept.is_empty() || e.1.is_some()).map(|(k, v)| (*k, v.as_deref())).collect();
                    let (seg, info) = pages::encode(&seg_name, &entries);
                    (seg, info, kept, merged.iter().map(|s| segment_blob(&s.name)).collect())
                }
            }
        };
        let mut segments = kept;
        segments.push(info);
        let manifest = ManifestV2 { format: FORMAT_NAME.into(), version: STORE_VERSION, generation, writer: Some(log.me.clone()), header, segments: segments.clone(), retired: old.clone() };
        let manifest = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| VolError::new(Area::Storage, format!("{}: encoding the manifest: {e}", store.label())))?;
        // Another writer's segment of this generation is never overwritten: segments not named by
        // the manifest are leftovers, and a segment this commit names it writes itself.
        store.put(&segment_blob(&seg_name), seg)?;
        let tag = swap_manifest(file, store, &log.base, &log.me, generation, manifest)?;
        // Segments the previous commit merged away are named by no manifest now; failing to
        // remove them loses nothing.
        if let Err(e) = store.delete(&log.retired) {
            log::warn!("{}: could not remove merged segments: {}", store.label(), e.msg);
        }
        log.retired = old;
        reader.set_segments(&segments);
        log.segments = segments;
        log.v1 = None;
        log.header = commit.header;
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
        let seg = encode_segment_v1(3, b"{\"h\":1}", &[(5, b"{\"a\":2}".to_vec())], &[7]);
        let (mut h, mut recs) = (Vec::new(), BTreeMap::new());
        recs.insert(7, b"old".to_vec());
        apply_segment(&mut h, &mut recs, &seg).unwrap();
        assert_eq!(h, b"{\"h\":1}");
        assert_eq!(recs.get(&5).unwrap(), b"{\"a\":2}");
        assert!(!recs.contains_key(&7));
        assert!(apply_segment(&mut h, &mut recs, b"garbage\n").is_err());
        assert!(apply_segment(&mut h, &mut recs, b"rustvol-segment 1 1\nput x {}\n").is_err());
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
    #[derive(Default, Clone)]
    struct MapStore(Arc<Mutex<HashMap<String, Vec<u8>>>>);

    impl pages::RangeRead for MapStore {
        fn label(&self) -> String {
            "map".into()
        }
        fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>> {
            reqs.iter()
                .map(|(n, a, b)| self.0.lock().get(n).and_then(|v| v.get(*a as usize..*b as usize)).map(|s| s.to_vec()).ok_or_else(|| VolError::new(Area::Storage, format!("{n} is missing"))))
                .collect()
        }
    }

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
        fn ranged(&self) -> Arc<dyn pages::RangeRead> {
            Arc::new(self.clone())
        }
    }

    /// A map that honours conditions, as AWS S3 or MinIO do: each put gets a new tag.
    #[derive(Default, Clone)]
    struct TaggedStore(Arc<Mutex<HashMap<String, (Vec<u8>, u64)>>>, Arc<Mutex<u64>>);

    impl pages::RangeRead for TaggedStore {
        fn label(&self) -> String {
            "tagged".into()
        }
        fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>> {
            reqs.iter()
                .map(|(n, a, b)| self.0.lock().get(n).and_then(|v| v.0.get(*a as usize..*b as usize)).map(|s| s.to_vec()).ok_or_else(|| VolError::new(Area::Storage, format!("{n} is missing"))))
                .collect()
        }
    }

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
        fn ranged(&self) -> Arc<dyn pages::RangeRead> {
            Arc::new(self.clone())
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
        setup.start("f", store);
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
        a.start("f", &store);
        b.start("f", &store);
        a.commit("f", &store, put_one(1)).unwrap();
        assert!(b.commit("f", &store, put_one(2)).is_err());
        let store = MapStore::default();
        a.start("f", &store);
        b.start("f", &store);
        a.commit("f", &store, put_one(1)).unwrap();
        assert!(b.commit("f", &store, put_one(2)).is_err());
    }

    #[test]
    fn merged_segments_load_as_the_state_they_replace() {
        let store = MapStore::default();
        let log = MetaLog::default();
        log.start("f", &store);
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
            assert!(names <= 2 * MAX_SEGMENTS, "{names} segments after commit {round}");
            // What a fresh reader sees equals what was committed.
            let snap = MetaLog::default().load("f", &store).unwrap().unwrap();
            assert_eq!(snap.header, header);
            assert_eq!(snap.records.into_iter().collect::<BTreeMap<_, _>>(), want, "after commit {round}");
        }
    }

    /// Writes `records` as a version 1 file, as version 1 writers did.
    fn write_v1(store: &dyn BlobStore, header: &[u8], records: &[(ObjId, Vec<u8>)]) {
        store.put("meta/0000000000000001.seg", encode_segment_v1(1, header, records, &[])).unwrap();
        store.put(MANIFEST, br#"{"format":"rustvol","version":1,"generation":1,"segments":["0000000000000001.seg"]}"#.to_vec()).unwrap();
    }

    #[test]
    fn version_1_files_are_read_and_rewritten_as_version_2_at_their_first_commit() {
        let store = MapStore::default();
        write_v1(&store, b"{\"v\":1}", &[(1, b"one".to_vec()), (2, b"two".to_vec())]);
        let snap = MetaLog::default().load("f", &store).unwrap().unwrap();
        assert_eq!((snap.header.as_slice(), snap.records.len()), (&b"{\"v\":1}"[..], 2));
        let log = MetaLog::default();
        assert!(matches!(log.open("f", &store).unwrap().unwrap(), MetaOpen::Eager(_)));
        log.commit("f", &store, put_one(3)).unwrap();
        assert!(store.0.lock().contains_key("meta/0000000000000001.seg"), "kept one commit longer");
        log.commit("f", &store, put_one(3)).unwrap();
        assert!(!store.0.lock().contains_key("meta/0000000000000001.seg"), "the version 1 segment goes");
        let m: ManifestBase = serde_json::from_slice(&store.0.lock()[MANIFEST]).unwrap();
        assert_eq!(m.version, 2);
        let ids: Vec<ObjId> = MetaLog::default().load("f", &store).unwrap().unwrap().records.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![1, 2, 3]);
    }

    #[test]
    fn an_open_reads_the_manifest_only_and_a_small_commit_writes_a_small_segment() {
        let store = MapStore::default();
        let log = MetaLog::default();
        log.start("f", &store);
        let big: Vec<(ObjId, Vec<u8>)> = (1..=50_000u64).map(|i| (i, format!("{{\"record\":{i}}}").into_bytes())).collect();
        log.commit("f", &store, MetaCommit { header: b"{}".to_vec(), upserts: big, deletes: vec![] }).unwrap();
        let sizes = |s: &MapStore| -> Vec<usize> { s.0.lock().iter().filter(|(k, _)| k.starts_with("meta/")).map(|(_, v)| v.len()).collect() };
        let before: usize = sizes(&store).iter().sum();
        for round in 0..5u64 {
            let ups = (0..100u64).map(|i| (i * 400 + round + 1, b"{\"changed\":1}".to_vec())).collect();
            log.commit("f", &store, MetaCommit { header: b"{}".to_vec(), upserts: ups, deletes: vec![] }).unwrap();
        }
        let all = sizes(&store);
        assert!(all.iter().any(|&n| n >= before), "the big segment is not rewritten: {all:?}");
        assert!(all.iter().filter(|&&n| n < before).all(|&n| n < before / 10), "{all:?}");
        // A lazy open holds the header; records come page by page.
        let Some(MetaOpen::Lazy { header, source }) = MetaLog::default().open("f", &store).unwrap() else { panic!("lazy") };
        assert_eq!(header, b"{}");
        let got = source.ranges(&[(401, 401), (20_000, 20_001)]).unwrap();
        assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), vec![401, 20_000, 20_001]);
        assert_eq!(got[0].1, b"{\"changed\":1}");
    }
}
