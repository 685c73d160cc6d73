//! The data path against the memory backend: what in-place changes may and may not touch.
use super::*;
use crate::config::Config;
use crate::connectors::memory::MemoryBackend;
use crate::connectors::Location;
use crate::model::namespace::FileMeta;
use crate::model::objects::{Extent, Layout, SpaceKind};
use crate::model::open_file::CreateMode;
use std::sync::Arc;

/// A writable file holding one dataset of 16 one-byte elements in chunks of 8.
fn file_with_dataset(tag: &str) -> (Arc<OpenFile>, ObjId, Dataset) {
    let backend = Arc::new(MemoryBackend::default());
    let loc = Location { backend, key: format!("dataio-test-{tag}") };
    let f = OpenFile::create(loc, tag, Config::default(), CreateMode::Truncate, FileMeta::new(vec![], vec![], (false, false))).unwrap();
    let d = Dataset {
        dtype: vec![],
        extent: Extent { kind: SpaceKind::Simple, dims: vec![16], maxdims: vec![16] },
        dcpl: vec![],
        layout: Layout::Chunked,
        chunk: vec![8],
        elem_size: 1,
        vlen: false,
        fill: vec![],
        committed_type: None,
        chunks: Default::default(),
    };
    let id = f.meta.write().new_object(ObjKind::Dataset(d.clone()), false);
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
