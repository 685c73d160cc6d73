//! The data path against the memory backend: what in-place changes may and may not touch.
use super::*;
use crate::backend::{MetaCommit, MetaSnapshot, VolBackend};
use crate::config::Config;
use crate::error::VolError;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::connectors::memory::MemoryBackend;
use crate::connectors::Location;
use crate::model::namespace::FileMeta;
use crate::model::objects::{shared, Extent, Layout, SpaceKind};
use crate::model::open_file::CreateMode;
use std::sync::Arc;

/// A writable file holding one dataset of 16 one-byte elements in chunks of 8.
fn file_with_dataset(tag: &str) -> (Arc<OpenFile>, ObjId, Dataset) {
    file_in(Arc::new(MemoryBackend::default()), tag)
}

fn dataset_record() -> Dataset {
    Dataset {
        dtype: shared(&[]),
        extent: Extent { kind: SpaceKind::Simple, dims: vec![16], maxdims: vec![16] },
        dcpl: shared(&[]),
        layout: Layout::Chunked,
        chunk: vec![8],
        elem_size: 1,
        vlen: false,
        fill: vec![],
        fill_never: false,
        filters: vec![],
        committed_type: None,
        alloc_time: Default::default(),
        allocated: None,
        chunks: Default::default(),
    }
}

fn file_in(backend: Arc<dyn VolBackend>, tag: &str) -> (Arc<OpenFile>, ObjId, Dataset) {
    let loc = Location { backend, key: format!("dataio-test-{tag}") };
    let f = OpenFile::create(loc, tag, Config::default(), CreateMode::Truncate, FileMeta::new(vec![], shared(&[]), (false, false)), Default::default()).unwrap();
    let d = dataset_record();
    let id = f.meta.write().new_object(ObjKind::Dataset(Box::new(d.clone())), false);
    (f, id, d)
}

fn read_all(f: &OpenFile, id: ObjId, d: &Dataset) -> Vec<u8> {
    let mut out = vec![0u8; 16];
    read_fixed(f, id, d, &[(0, 16)], &mut out).unwrap();
    out
}

/// The stored bytes of chunk `coords` at `version`, copied (a held `Bytes` would itself keep
/// the chunk from being patched).
fn stored(f: &OpenFile, id: ObjId, coords: &[u64], version: u64) -> Option<Vec<u8>> {
    let k = ChunkKey { obj: id, coords: coords.to_vec(), version };
    f.backend.read_chunks(&f.key, &[k]).unwrap().pop().unwrap().map(|b| b.to_vec())
}

/// Where the stored buffer of chunk `coords` lives, to tell a patch in place from a new buffer.
fn address(f: &OpenFile, id: ObjId, coords: &[u64], version: u64) -> usize {
    let k = ChunkKey { obj: id, coords: coords.to_vec(), version };
    f.backend.read_chunks(&f.key, &[k]).unwrap().pop().unwrap().unwrap().as_ptr() as usize
}

fn version_of(f: &OpenFile, id: ObjId, coords: &[u64]) -> u64 {
    let m = f.meta.read();
    let ObjKind::Dataset(d) = &m.obj(id).unwrap().kind else { unreachable!() };
    d.chunks[&chunk_name(coords)]
}

#[test]
fn unwritten_elements_read_as_the_fill_value_unless_fill_time_is_never() {
    for never in [false, true] {
        let (f, _, mut d) = file_with_dataset(if never { "fill-never" } else { "fill-ifset" });
        d.fill = vec![4];
        d.fill_never = never;
        let id = f.meta.write().new_object(ObjKind::Dataset(Box::new(d.clone())), false);
        // Half of chunk 0 written; chunk 1 never.
        write_fixed(&f, id, &d, &[(0, 4)], &[1, 2, 3, 4]).unwrap();
        let v = if never { 0 } else { 4 };
        assert_eq!(read_all(&f, id, &d), [&[1, 2, 3, 4][..], &[v; 12]].concat(), "never: {never}");
    }
}

#[test]
fn uncommitted_chunks_are_patched_in_place_and_reads_see_it() {
    let (f, id, d) = file_with_dataset("in-place");
    let all: Vec<u8> = (1..=16).collect();
    write_fixed(&f, id, &d, &[(0, 16)], &all).unwrap();
    let v = version_of(&f, id, &[0]);
    let before = address(&f, id, &[0], v);
    // Strided: every other element of the first chunk, then a whole-chunk overwrite.
    write_fixed(&f, id, &d, &[(0, 1), (2, 1), (4, 1), (6, 1)], &[100, 102, 104, 106]).unwrap();
    assert_eq!(version_of(&f, id, &[0]), v, "same epoch, same version");
    assert_eq!(address(&f, id, &[0], v), before, "patched where it is, not copied");
    assert_eq!(read_all(&f, id, &d), [100, 2, 102, 4, 104, 6, 106, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    write_fixed(&f, id, &d, &[(8, 8)], &[0; 8]).unwrap();
    assert_eq!(&read_all(&f, id, &d)[8..], &[0; 8]);
}

#[test]
fn committed_versions_are_never_patched() {
    let (f, id, d) = file_with_dataset("committed");
    let all: Vec<u8> = (1..=16).collect();
    write_fixed(&f, id, &d, &[(0, 16)], &all).unwrap();
    let committed = version_of(&f, id, &[0]);
    f.flush().unwrap();
    // A partial and a whole-chunk write after the commit: both go to a new version.
    write_fixed(&f, id, &d, &[(3, 2)], &[0xAA, 0xBB]).unwrap();
    write_fixed(&f, id, &d, &[(8, 8)], &[7; 8]).unwrap();
    let new = version_of(&f, id, &[0]);
    assert_ne!(new, committed);
    assert_eq!(version_of(&f, id, &[1]), new);
    assert_eq!(stored(&f, id, &[0], committed).unwrap(), (1..=8).collect::<Vec<u8>>());
    assert_eq!(stored(&f, id, &[1], committed).unwrap(), (9..=16).collect::<Vec<u8>>());
    assert_eq!(read_all(&f, id, &d), [1, 2, 3, 0xAA, 0xBB, 6, 7, 8, 7, 7, 7, 7, 7, 7, 7, 7]);
    // Further writes in the new epoch change the new version in place; the committed one
    // stays until the next commit drops it.
    write_fixed(&f, id, &d, &[(0, 1)], &[0xCC]).unwrap();
    assert_eq!(stored(&f, id, &[0], committed).unwrap(), (1..=8).collect::<Vec<u8>>());
    assert_eq!(stored(&f, id, &[0], new).unwrap(), [0xCC, 2, 3, 0xAA, 0xBB, 6, 7, 8]);
    f.flush().unwrap();
    assert_eq!(stored(&f, id, &[0], committed), None, "the replaced version is garbage after the commit");
}

#[test]
fn a_chunk_a_reader_holds_is_replaced_not_changed() {
    let (f, id, d) = file_with_dataset("held");
    write_fixed(&f, id, &d, &[(0, 16)], &[5; 16]).unwrap();
    let v = version_of(&f, id, &[0]);
    let k = ChunkKey { obj: id, coords: vec![0], version: v };
    let held = f.backend.read_chunks(&f.key, &[k]).unwrap().pop().unwrap().unwrap();
    write_fixed(&f, id, &d, &[(1, 1)], &[9]).unwrap();
    assert_eq!(&held[..], &[5; 8], "what a reader was handed never changes");
    assert_eq!(&read_all(&f, id, &d)[..3], &[5, 9, 5]);
}

#[test]
fn unwritten_chunks_read_as_fill_value() {
    let (f, id, mut d) = file_with_dataset("fill");
    d.fill = vec![0x42];
    write_fixed(&f, id, &d, &[(2, 1)], &[1]).unwrap();
    let got = read_all(&f, id, &d);
    assert_eq!(&got[..4], &[0x42, 0x42, 1, 0x42]);
    assert_eq!(&got[8..], &[0x42; 8]);
}

/// A store outside the process as the data path sees one (no in-place changes), counting
/// chunk requests and failing writes on demand.
#[derive(Default)]
struct Remote {
    inner: MemoryBackend,
    chunk_reads: AtomicUsize,
    chunk_writes: AtomicUsize,
    fail_writes: AtomicBool,
}

impl VolBackend for Remote {
    fn describe(&self) -> String {
        "remote (test)".into()
    }
    fn file_exists(&self, file: &str) -> Result<bool> {
        self.inner.file_exists(file)
    }
    fn create_file(&self, file: &str) -> Result<()> {
        self.inner.create_file(file)
    }
    fn delete_file(&self, file: &str) -> Result<()> {
        self.inner.delete_file(file)
    }
    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        self.inner.load_meta(file)
    }
    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        self.inner.commit_meta(file, commit)
    }
    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>> {
        self.chunk_reads.fetch_add(keys.len(), SeqCst);
        self.inner.read_chunks(file, keys)
    }
    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, ChunkBuf)>) -> Result<()> {
        if self.fail_writes.load(SeqCst) {
            return Err(VolError::new(Area::Storage, "remote (test): write refused"));
        }
        self.chunk_writes.fetch_add(chunks.len(), SeqCst);
        self.inner.write_chunks(file, chunks)
    }
    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()> {
        self.inner.delete_chunks(file, keys)
    }
}

fn remote_file(tag: &str) -> (Arc<Remote>, Arc<OpenFile>, ObjId, Dataset) {
    let r = Arc::new(Remote::default());
    let (f, id, d) = file_in(r.clone(), tag);
    (r, f, id, d)
}

#[test]
fn partly_written_chunks_are_held_read_back_and_stored_at_flush() {
    let (r, f, id, d) = remote_file("held-flush");
    // Two interleaved passes over chunk 0, then half of chunk 1: nothing goes to the store.
    write_fixed(&f, id, &d, &[(0, 1), (2, 1), (4, 1), (6, 1)], &[10, 12, 14, 16]).unwrap();
    write_fixed(&f, id, &d, &[(1, 1), (3, 1), (5, 1), (7, 1)], &[11, 13, 15, 17]).unwrap();
    write_fixed(&f, id, &d, &[(8, 4)], &[20, 21, 22, 23]).unwrap();
    assert_eq!((r.chunk_reads.load(SeqCst), r.chunk_writes.load(SeqCst)), (0, 0));
    let want = [10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 0, 0, 0, 0];
    assert_eq!(read_all(&f, id, &d), want);
    assert_eq!(r.chunk_reads.load(SeqCst), 0, "held chunks are read from the cache");
    f.flush().unwrap();
    assert_eq!(r.chunk_writes.load(SeqCst), 2);
    assert!(f.write_back.is_empty());
    let v = version_of(&f, id, &[0]);
    assert_eq!(stored(&f, id, &[0], v).unwrap(), &want[..8]);
    assert_eq!(stored(&f, id, &[1], v).unwrap(), &want[8..]);
    assert_eq!(read_all(&f, id, &d), want);
}

#[test]
fn whole_chunks_go_to_the_store_at_once() {
    let (r, f, id, d) = remote_file("whole");
    write_fixed(&f, id, &d, &[(0, 16)], &[3; 16]).unwrap();
    assert_eq!(r.chunk_writes.load(SeqCst), 2);
    assert!(f.write_back.is_empty());
}

#[test]
fn a_committed_version_is_read_not_changed_and_the_new_one_is_held() {
    let (r, f, id, d) = remote_file("after-commit");
    write_fixed(&f, id, &d, &[(0, 16)], &(1..=16).collect::<Vec<u8>>()).unwrap();
    f.flush().unwrap();
    let committed = version_of(&f, id, &[0]);
    write_fixed(&f, id, &d, &[(0, 1)], &[99]).unwrap();
    assert_eq!(r.chunk_reads.load(SeqCst), 1, "the rest of the chunk comes from the committed version");
    let new = version_of(&f, id, &[0]);
    assert_ne!(new, committed);
    assert_eq!(stored(&f, id, &[0], committed).unwrap(), (1..=8).collect::<Vec<u8>>());
    assert_eq!(stored(&f, id, &[0], new), None, "held, not yet stored");
    f.flush().unwrap();
    assert_eq!(stored(&f, id, &[0], new).unwrap(), [99, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(stored(&f, id, &[0], committed), None, "replaced, dropped after the commit");
}

#[test]
fn a_failed_write_back_keeps_the_chunks_and_the_commit_pending() {
    let (r, f, id, d) = remote_file("fail");
    write_fixed(&f, id, &d, &[(2, 2)], &[7, 8]).unwrap();
    r.fail_writes.store(true, SeqCst);
    assert!(f.flush().unwrap_err().msg.contains("write refused"));
    assert!(!f.write_back.is_empty());
    assert!(f.meta.read().has_changes(), "nothing committed");
    assert_eq!(&read_all(&f, id, &d)[..4], &[0, 0, 7, 8]);
    r.fail_writes.store(false, SeqCst);
    f.flush().unwrap();
    let v = version_of(&f, id, &[0]);
    assert_eq!(stored(&f, id, &[0], v).unwrap(), [0, 0, 7, 8, 0, 0, 0, 0]);
}

#[test]
fn a_dataset_close_stores_its_own_chunks_only() {
    let (r, f, id, d) = remote_file("close");
    let other = f.meta.write().new_object(ObjKind::Dataset(Box::new(dataset_record())), false);
    write_fixed(&f, id, &d, &[(0, 1)], &[1]).unwrap();
    write_fixed(&f, other, &d, &[(0, 1)], &[2]).unwrap();
    write_back::write_back(&f, Some(id)).unwrap();
    assert_eq!(r.chunk_writes.load(SeqCst), 1);
    assert_eq!(stored(&f, id, &[0], version_of(&f, id, &[0])).unwrap()[0], 1);
    assert_eq!(stored(&f, other, &[0], version_of(&f, other, &[0])), None);
    assert_eq!(read_all(&f, other, &d)[0], 2);
}

#[test]
fn chunks_of_a_deleted_dataset_are_not_stored() {
    let (r, f, id, d) = remote_file("deleted");
    write_fixed(&f, id, &d, &[(0, 1)], &[1]).unwrap();
    f.meta.write().objects.remove(&id);
    f.flush().unwrap();
    assert_eq!(r.chunk_writes.load(SeqCst), 0);
    assert!(f.write_back.is_empty());
}

#[test]
fn chunks_read_again_come_from_the_read_cache_and_writes_replace_them() {
    let (r, f, id, d) = remote_file("read-cache");
    write_fixed(&f, id, &d, &[(0, 16)], &[5; 16]).unwrap();
    assert_eq!(read_all(&f, id, &d), [5; 16]);
    assert_eq!(read_all(&f, id, &d), [5; 16]);
    assert_eq!(r.chunk_reads.load(SeqCst), 2, "two chunks, each fetched once");
    // The same version written again (same epoch, whole chunk): the cached copy goes.
    write_fixed(&f, id, &d, &[(0, 8)], &[6; 8]).unwrap();
    assert_eq!(read_all(&f, id, &d)[..8], [6; 8]);
    // Written in part, held, then stored at flush: reads see it before and after.
    write_fixed(&f, id, &d, &[(8, 1)], &[7]).unwrap();
    assert_eq!(read_all(&f, id, &d)[8..10], [7, 5]);
    f.flush().unwrap();
    let got = read_all(&f, id, &d);
    assert_eq!((got[7], got[8], got[9]), (6, 7, 5));
}

/// A file and a dataset of `d`'s shape that stores chunks through shuffle, deflate and
/// Fletcher-32, on `backend`.
fn filtered_in(backend: Arc<dyn VolBackend>, tag: &str) -> (Arc<OpenFile>, ObjId, Dataset) {
    use crate::model::filters::Filter;
    let (f, _, mut d) = file_in(backend, tag);
    d.filters = vec![Filter::Shuffle(1), Filter::Deflate(6), Filter::Fletcher32];
    let id = f.meta.write().new_object(ObjKind::Dataset(Box::new(d.clone())), false);
    (f, id, d)
}

#[test]
fn filtered_chunks_are_stored_filtered_and_read_back_through_every_path() {
    let (r, rf, rid, rd) = {
        let r = Arc::new(Remote::default());
        let (f, id, d) = filtered_in(r.clone(), "filtered-remote");
        (r, f, id, d)
    };
    let (mf, mid, md) = filtered_in(Arc::new(MemoryBackend::default()), "filtered-memory");
    for (f, id, d) in [(&rf, rid, &rd), (&mf, mid, &md)] {
        // Partial writes (held, or rewritten on memory), then a whole chunk, then a flush.
        write_fixed(f, id, d, &[(0, 1), (2, 1)], &[5, 5]).unwrap();
        write_fixed(f, id, d, &[(1, 1), (3, 4)], &[5, 5, 5, 5, 5]).unwrap();
        write_fixed(f, id, d, &[(8, 8)], &[9; 8]).unwrap();
        let want = [5, 5, 5, 5, 5, 5, 5, 0, 9, 9, 9, 9, 9, 9, 9, 9];
        assert_eq!(read_all(f, id, d), want);
        f.flush().unwrap();
        assert_eq!(read_all(f, id, d), want);
        let v = version_of(f, id, &[1]);
        let s = stored(f, id, &[1], v).unwrap();
        assert_eq!(crate::model::filters::decode(&d.filters, &s, 8).unwrap(), [9; 8], "stored through the filters");
        assert_eq!(storage_size(f, id, d).unwrap(), (s.len() + stored(f, id, &[0], version_of(f, id, &[0])).unwrap().len()) as u64);
    }
    assert!(r.chunk_writes.load(SeqCst) >= 2);
    // A damaged stored chunk is an error naming it, not wrong data.
    let v = version_of(&mf, mid, &[1]);
    let mut bad = stored(&mf, mid, &[1], v).unwrap();
    bad[2] ^= 0x40;
    mf.backend.write_chunks(&mf.key, vec![(ChunkKey { obj: mid, coords: vec![1], version: v }, bad.into())]).unwrap();
    let mut out = vec![0u8; 16];
    let e = read_fixed(&mf, mid, &md, &[(0, 16)], &mut out).unwrap_err();
    assert!(e.msg.contains("chunk [1]") && e.msg.contains("object"), "{}", e.msg);
}

/// A writable file in a `dir` store holding one dataset of 2 chunks of 8192 one-byte elements:
/// runs of 4096 bytes and more move in place (`direct_io`).
fn dir_file(tag: &str) -> (Arc<OpenFile>, ObjId, Dataset, std::path::PathBuf) {
    use crate::connectors::objstore::{Locking, ObjStoreBackend};
    let root = std::env::temp_dir().join(format!("rustvol-dataio-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&root).unwrap());
    let b = Arc::new(ObjStoreBackend::new(store.clone(), "", format!("dir {tag}"), 4, Locking::Dir(store)));
    let loc = Location { backend: b, key: "f.h5".into() };
    let f = OpenFile::create(loc, tag, Config::default(), CreateMode::Truncate, FileMeta::new(vec![], shared(&[]), (false, false)), Default::default()).unwrap();
    let mut d = dataset_record();
    d.extent = Extent { kind: SpaceKind::Simple, dims: vec![16384], maxdims: vec![16384] };
    d.chunk = vec![8192];
    let id = f.meta.write().new_object(ObjKind::Dataset(Box::new(d.clone())), false);
    (f, id, d, root)
}

#[test]
fn dir_chunks_move_in_place_and_committed_versions_stay_untouched() {
    let (f, id, d, root) = dir_file("in-place");
    assert!(f.backend.chunks_in_local_files());
    let pattern = |n: usize, seed: u8| -> Vec<u8> { (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect() };
    let read = |runs: &[(u64, u64)], n: usize| {
        let mut out = vec![0x55u8; n];
        read_fixed(&f, id, &d, runs, &mut out).unwrap();
        out
    };
    let mut want = pattern(16384, 1);
    write_fixed(&f, id, &d, &[(0, 16384)], &want).unwrap();
    assert!(f.write_back.is_empty(), "whole chunks are stored at once");
    let epoch = version_of(&f, id, &[0]);
    assert_eq!(stored(&f, id, &[0], epoch).unwrap(), &want[..8192]);
    assert_eq!(read(&[(0, 16384)], 16384), want);
    // A long run inside a chunk of this epoch changes its file where it is.
    let part = pattern(5000, 2);
    write_fixed(&f, id, &d, &[(100, 5000)], &part).unwrap();
    want[100..5100].copy_from_slice(&part);
    assert!(f.write_back.is_empty(), "changed in place, not held");
    assert_eq!(version_of(&f, id, &[0]), epoch);
    assert_eq!(stored(&f, id, &[0], epoch).unwrap(), &want[..8192]);
    assert_eq!(read(&[(50, 6000)], 6000), &want[50..6050]);
    // After a commit the committed version is never changed: a long partial run goes to a new
    // version (held), a chunk written whole in two runs to a new file.
    f.flush().unwrap();
    let committed = version_of(&f, id, &[0]);
    let committed_bytes = want.clone();
    let part = pattern(5000, 3);
    write_fixed(&f, id, &d, &[(200, 5000)], &part).unwrap();
    want[200..5200].copy_from_slice(&part);
    let whole = pattern(8192, 4);
    write_fixed(&f, id, &d, &[(8192, 4096), (12288, 4096)], &whole).unwrap();
    want[8192..].copy_from_slice(&whole);
    assert_ne!(version_of(&f, id, &[0]), committed);
    assert_ne!(version_of(&f, id, &[1]), committed);
    assert_eq!(stored(&f, id, &[0], committed).unwrap(), &committed_bytes[..8192]);
    assert_eq!(stored(&f, id, &[1], committed).unwrap(), &committed_bytes[8192..]);
    assert_eq!(stored(&f, id, &[1], version_of(&f, id, &[1])).unwrap(), &want[8192..]);
    assert_eq!(read(&[(0, 16384)], 16384), want);
    // Short runs (every other 16 bytes) go through the caches and read back the same.
    let runs: Vec<(u64, u64)> = (0..16384u64 / 32).map(|i| (i * 32, 16)).collect();
    let small = pattern(8192, 5);
    write_fixed(&f, id, &d, &runs, &small).unwrap();
    for (i, &(s, n)) in runs.iter().enumerate() {
        want[s as usize..(s + n) as usize].copy_from_slice(&small[i * 16..i * 16 + 16]);
    }
    assert_eq!(read(&runs, 8192), small);
    assert_eq!(read(&[(0, 16384)], 16384), want);
    f.flush().unwrap();
    assert_eq!(read(&[(0, 16384)], 16384), want);
    // A stored chunk of the wrong length is reported, never read as data.
    let v = version_of(&f, id, &[1]);
    let p = root.join(format!("f.h5/chunks/{id}/1.{v}"));
    std::fs::write(&p, [0u8; 10]).unwrap();
    let mut out = vec![0u8; 8192];
    let e = read_fixed(&f, id, &d, &[(8192, 8192)], &mut out).unwrap_err();
    assert!(e.msg.contains("has 10 bytes, expected 8192"), "{}", e.msg);
    drop(f);
    let _ = std::fs::remove_dir_all(&root);
}
