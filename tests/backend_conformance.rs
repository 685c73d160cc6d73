//! One contract, checked against every backend: memory, a local directory, and S3 when
//! `RUSTVOL_S3_INFO` names a server (the test command starts Garage and sets it).
use rustvol::backend::{ChunkKey, ChunkPart, LockRequest, MetaCommit, MetaOpen, VolBackend};
use rustvol::chunk_buf::ChunkBuf;
use rustvol::config::Config;
use rustvol::connectors::{self, objstore::{Locking, ObjStoreBackend}};
use std::sync::Arc;

fn unique(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("conformance-{tag}-{}-{n}", std::process::id())
}

fn key(obj: u64, coords: &[u64]) -> ChunkKey {
    ChunkKey { obj, coords: coords.to_vec(), version: 1 }
}

/// Chunks as plain vectors, to compare with what was written.
fn owned(v: Vec<Option<bytes::Bytes>>) -> Vec<Option<Vec<u8>>> {
    v.into_iter().map(|c| c.map(|b| b.to_vec())).collect()
}

fn bufs(v: Vec<(ChunkKey, Vec<u8>)>) -> Vec<(ChunkKey, ChunkBuf)> {
    v.into_iter().map(|(k, b)| (k, b.into())).collect()
}

/// A second client of the same store, so reads cannot come from the first one's caches.
type Fresh = Box<dyn Fn() -> Arc<dyn VolBackend>>;

fn contract(b: Arc<dyn VolBackend>, fresh: Fresh) {
    let f = unique("file");
    assert!(!b.file_exists(&f).unwrap());
    b.create_file(&f).unwrap();

    // Metadata: commits apply in order; deletes remove records; many commits stay readable.
    b.commit_meta(&f, MetaCommit { header: b"h1".to_vec(), upserts: vec![(1, b"r1".to_vec()), (2, b"r2".to_vec())], deletes: vec![] }).unwrap();
    assert!(b.file_exists(&f).unwrap());
    for i in 0..20u64 {
        b.commit_meta(&f, MetaCommit { header: format!("h{i}").into_bytes(), upserts: vec![(10 + i, vec![i as u8; 3])], deletes: if i == 5 { vec![2] } else { vec![] } }).unwrap();
    }
    for backend in [b.clone(), fresh()] {
        let snap = backend.load_meta(&f).unwrap().expect("committed file loads");
        assert_eq!(snap.header, b"h19");
        let mut recs = snap.records.clone();
        recs.sort();
        assert_eq!(recs.len(), 21, "1 + 20 records, record 2 deleted");
        assert_eq!(recs[0], (1, b"r1".to_vec()));
        assert!(recs.iter().all(|(id, _)| *id != 2));
        assert_eq!(recs.last().unwrap(), &(29, vec![19u8; 3]));
    }

    // Chunks: one stored object per version; unwritten ones read as None; versions are
    // distinct; deleting one leaves the others (and deleting a missing one is no error).
    let v2 = ChunkKey { version: 2, ..key(7, &[0, 0]) };
    let chunks = vec![(key(7, &[0, 1]), vec![1u8; 16]), (key(7, &[0, 0]), vec![2u8; 16]), (key(8, &[3]), vec![3u8; 4]), (v2.clone(), vec![9u8; 16])];
    b.write_chunks(&f, bufs(chunks)).unwrap();
    let got = owned(fresh().read_chunks(&f, &[key(7, &[0, 0]), key(7, &[9, 9]), key(8, &[3]), v2.clone()]).unwrap());
    assert_eq!(got, vec![Some(vec![2u8; 16]), None, Some(vec![3u8; 4]), Some(vec![9u8; 16])]);
    b.delete_chunks(&f, &[key(7, &[0, 1]), key(7, &[5, 5]), v2.clone()]).unwrap();
    let got = owned(fresh().read_chunks(&f, &[key(7, &[0, 1]), key(7, &[0, 0]), v2]).unwrap());
    assert_eq!(got, vec![None, Some(vec![2u8; 16]), None]);
    // Many chunks at once (concurrent requests) come back in order.
    let many: Vec<(ChunkKey, Vec<u8>)> = (0..200u64).map(|i| (key(9, &[i]), i.to_le_bytes().to_vec())).collect();
    b.write_chunks(&f, bufs(many.clone())).unwrap();
    let keys: Vec<ChunkKey> = many.iter().map(|(k, _)| k.clone()).collect();
    let back = owned(b.read_chunks(&f, &keys).unwrap());
    assert!(back.iter().zip(&many).all(|(g, (_, w))| g.as_ref() == Some(w)));

    // Patching in place: whatever a backend says it patched reads back patched, the rest is
    // unchanged; a chunk a reader still holds is never changed under it; a missing chunk is
    // not made up.
    let pk = [key(9, &[1]), key(9, &[2]), key(9, &[999])];
    let held = b.read_chunks(&f, &[key(9, &[2])]).unwrap();
    let done = b.patch_chunks(&f, &pk, &mut |_, c| c[0] = 0xEE).unwrap();
    assert_eq!(done.len(), 3);
    assert!(!done[1], "a chunk lent to a reader is not patched");
    assert!(!done[2], "a missing chunk is not patched");
    assert_eq!(owned(held), vec![Some(2u64.to_le_bytes().to_vec())]);
    let back = owned(fresh().read_chunks(&f, &pk).unwrap());
    let mut want1 = 1u64.to_le_bytes().to_vec();
    if done[0] {
        want1[0] = 0xEE;
    }
    assert_eq!(back, vec![Some(want1), Some(2u64.to_le_bytes().to_vec()), None]);

    // Parts of chunks: written whole from scattered parts, read into place, patched where a
    // store can; a missing chunk reads as absent, a chunk of another length is an error.
    let part = |chunk, buf, len| ChunkPart { chunk, buf, len };
    let src: Vec<u8> = (0..64u8).collect();
    let wk = key(11, &[4]);
    b.write_chunk_from(&f, &wk, 32, &[part(16, 0, 16), part(0, 40, 16)], &src).unwrap();
    let mut want: Vec<u8> = (40..56).chain(0..16).collect();
    assert_eq!(owned(fresh().read_chunks(&f, &[wk.clone()]).unwrap()), vec![Some(want.clone())]);
    let mut dst = vec![0xAAu8; 40];
    assert!(fresh().read_chunk_parts(&f, &wk, 32, &[part(30, 0, 2), part(0, 10, 4)], &mut dst).unwrap());
    assert_eq!((&dst[..2], &dst[2..10], &dst[10..14], &dst[14..]), (&want[30..32], &[0xAA; 8][..], &want[0..4], &[0xAA; 26][..]));
    assert!(!b.read_chunk_parts(&f, &key(11, &[5]), 32, &[part(0, 0, 4)], &mut dst).unwrap(), "a missing chunk is absent");
    assert!(b.read_chunk_parts(&f, &wk, 16, &[part(0, 0, 4)], &mut dst).is_err(), "a chunk of another length is damage");
    if b.patch_chunk_parts(&f, &wk, 32, &[part(8, 2, 3)], &src).unwrap() {
        want[8..11].copy_from_slice(&src[2..5]);
    }
    assert_eq!(owned(fresh().read_chunks(&f, &[wk.clone()]).unwrap()), vec![Some(want)]);
    assert!(!b.patch_chunk_parts(&f, &key(11, &[5]), 32, &[part(0, 0, 4)], &src).unwrap(), "a missing chunk is not made up");
    assert_eq!(owned(b.read_chunks(&f, &[key(11, &[5])]).unwrap()), vec![None]);

    // Truncating create and delete leave nothing behind.
    b.create_file(&f).unwrap();
    assert_eq!(owned(fresh().read_chunks(&f, &[key(7, &[0, 0])]).unwrap()), vec![None]);
    b.commit_meta(&f, MetaCommit { header: b"again".to_vec(), upserts: vec![], deletes: vec![] }).unwrap();
    assert_eq!(fresh().load_meta(&f).unwrap().unwrap().records.len(), 0);
    b.delete_file(&f).unwrap();
    assert!(!fresh().file_exists(&f).unwrap());
    assert!(b.load_meta(&f).unwrap().is_none());
}

fn lock(b: &Arc<dyn VolBackend>, f: &str, write: bool, swmr: bool) -> Result<(), String> {
    b.lock_file(f, f, &LockRequest { write, swmr, ignore_disabled: false }).map(drop).map_err(|e| e.msg)
}

fn held(b: &Arc<dyn VolBackend>, f: &str, write: bool, swmr: bool) -> Box<dyn rustvol::backend::HeldLock> {
    b.lock_file(f, f, &LockRequest { write, swmr, ignore_disabled: false }).unwrap().expect("a store other processes reach locks")
}

/// Two clients of a store other processes reach (each stands for a process): native HDF5's
/// open rules, locks that survive a truncating create, and a commit on a replaced generation
/// refused.
fn sharing_contract(b: Arc<dyn VolBackend>, fresh: Fresh) {
    let other = fresh();
    let f = unique("shared");
    b.create_file(&f).unwrap();
    b.commit_meta(&f, MetaCommit { header: b"h".to_vec(), upserts: vec![(1, b"r1".to_vec())], deletes: vec![] }).unwrap();

    let w = held(&b, &f, true, false);
    for (write, swmr) in [(true, false), (true, true), (false, false), (false, true)] {
        let e = lock(&other, &f, write, swmr).unwrap_err();
        assert!(e.contains("unable to lock the file"), "{e}");
    }
    // The holder truncating its file keeps it locked.
    b.create_file(&f).unwrap();
    assert!(lock(&other, &f, true, false).is_err(), "a create keeps the lock");
    b.commit_meta(&f, MetaCommit { header: b"h".to_vec(), upserts: vec![(1, b"r1".to_vec())], deletes: vec![] }).unwrap();
    drop(w);

    let mut r1 = held(&b, &f, false, false);
    let r2 = held(&other, &f, false, false);
    assert!(lock(&other, &f, true, false).is_err(), "a writer is refused while readers read");
    assert!(r1.upgrade(&LockRequest { write: true, swmr: false, ignore_disabled: false }).is_err());
    drop(r2);
    r1.upgrade(&LockRequest { write: true, swmr: false, ignore_disabled: false }).unwrap();
    assert!(lock(&other, &f, false, false).is_err(), "an upgraded reader writes alone");
    drop(r1);

    let sw = held(&b, &f, true, true);
    let sr = held(&other, &f, false, true);
    assert!(lock(&other, &f, false, false).is_err(), "a plain reader is refused by a SWMR writer");
    assert!(lock(&other, &f, true, false).is_err());
    drop((sw, sr));

    // Two writers on the same generation (locks disabled): the later commit is refused, the
    // earlier one's records stay.
    assert!(b.load_meta(&f).unwrap().is_some() && other.load_meta(&f).unwrap().is_some());
    b.commit_meta(&f, MetaCommit { header: b"a".to_vec(), upserts: vec![(2, b"a".to_vec())], deletes: vec![] }).unwrap();
    let e = other.commit_meta(&f, MetaCommit { header: b"b".to_vec(), upserts: vec![(3, b"b".to_vec())], deletes: vec![] }).unwrap_err();
    assert!(e.msg.contains("another writer committed to the file"), "{}", e.msg);
    let snap = fresh().load_meta(&f).unwrap().unwrap();
    assert_eq!(snap.header, b"a");
    let mut ids: Vec<u64> = snap.records.iter().map(|r| r.0).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2]);
    b.delete_file(&f).unwrap();
}

#[test]
fn memory_backend() {
    let b = connectors::backend_for(&Config::default()).unwrap();
    contract(b, Box::new(|| connectors::backend_for(&Config::default()).unwrap()));
}

fn dir_store(root: &std::path::Path) -> Arc<dyn VolBackend> {
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(root).unwrap());
    Arc::new(ObjStoreBackend::new(store.clone(), "", format!("dir {}", root.display()), 8, Locking::Dir(store)))
}

#[test]
fn dir_backend() {
    let root = std::env::temp_dir().join(unique("dir"));
    std::fs::create_dir_all(&root).unwrap();
    let r2 = root.clone();
    contract(dir_store(&root), Box::new(move || dir_store(&r2)));
    // A local file system cannot replace a file only if unchanged: dir commits hold a lock.
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&root).unwrap());
    assert!(!ObjStoreBackend::new(store.clone(), "", "probe".into(), 8, Locking::Dir(store)).honours_conditions());
    let r3 = root.clone();
    sharing_contract(dir_store(&root), Box::new(move || dir_store(&r3)));
    std::fs::remove_dir_all(&root).ok();
}

/// An object store that honours If-None-Match / If-Match, as AWS S3 and MinIO do (Garage,
/// which the S3 run uses, ignores them): commits take the conditional path.
#[test]
fn conditional_object_store() {
    let store: Arc<dyn object_store::ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let make = move || -> Arc<dyn VolBackend> {
        Arc::new(ObjStoreBackend::new(store.clone(), "p", "conditional store".into(), 8, Locking::Lease(std::time::Duration::from_secs(30))))
    };
    let probe = ObjStoreBackend::new(Arc::new(object_store::memory::InMemory::new()), "p", "probe".into(), 8, Locking::Lease(std::time::Duration::from_secs(30)));
    assert!(probe.honours_conditions());
    let m2 = make.clone();
    contract(make(), Box::new(move || m2()));
    let m3 = make.clone();
    sharing_contract(make(), Box::new(move || m3()));
}

#[test]
fn dir_backend_reports_corrupt_records() {
    let root = std::env::temp_dir().join(unique("corrupt"));
    std::fs::create_dir_all(&root).unwrap();
    let b = dir_store(&root);
    b.create_file("f.h5").unwrap();
    b.commit_meta("f.h5", MetaCommit { header: b"{}".to_vec(), upserts: vec![(1, b"{}".to_vec())], deletes: vec![] }).unwrap();
    std::fs::write(root.join("f.h5/manifest.json"), b"{not json").unwrap();
    let e = dir_store(&root).load_meta("f.h5").unwrap_err();
    assert!(e.msg.contains("corrupt manifest"), "{}", e.msg);
    let seg = std::fs::read_dir(root.join("f.h5/meta")).unwrap().next().unwrap().unwrap().path();
    std::fs::write(root.join("f.h5/manifest.json"), format!(
        "{{\"format\":\"rustvol\",\"version\":1,\"generation\":1,\"segments\":[\"{}\"]}}",
        seg.file_name().unwrap().to_string_lossy()
    )).unwrap();
    std::fs::write(&seg, b"rustvol-segment 1 1\nput nonsense\n").unwrap();
    let e = dir_store(&root).load_meta("f.h5").unwrap_err();
    assert!(e.msg.contains("corrupt segment"), "{}", e.msg);
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn s3_backend_when_a_server_is_configured() {
    let Ok(info) = std::env::var("RUSTVOL_S3_INFO") else {
        assert!(std::env::var_os("RUSTVOL_REQUIRE_S3").is_none(), "RUSTVOL_REQUIRE_S3 is set but RUSTVOL_S3_INFO is not");
        eprintln!("RUSTVOL_S3_INFO not set: the S3 run of this contract happens in scripts/test.sh");
        return;
    };
    let mut cfg = Config::parse(&info).unwrap();
    cfg.prefix = Some(unique("prefix"));
    let b = connectors::backend_for(&cfg).unwrap();
    let fresh_cfg = Config { concurrency: cfg.concurrency + 1, ..cfg.clone() };
    contract(b.clone(), Box::new(move || connectors::backend_for(&fresh_cfg).unwrap()));
    // Each client a process of its own (backends are shared by configuration).
    let n = std::sync::atomic::AtomicUsize::new(2);
    sharing_contract(b, Box::new(move || {
        let c = Config { concurrency: cfg.concurrency + n.fetch_add(1, std::sync::atomic::Ordering::Relaxed), ..cfg.clone() };
        connectors::backend_for(&c).unwrap()
    }));
}

/// The DAOS info string for these tests: `RUSTVOL_DAOS_INFO`, default `backend=daos;pool=rustvol`.
fn daos_info() -> Option<String> {
    if std::env::var_os("RUSTVOL_DAOS_LIB").is_none() {
        assert!(std::env::var_os("RUSTVOL_REQUIRE_DAOS").is_none(), "RUSTVOL_REQUIRE_DAOS is set but RUSTVOL_DAOS_LIB is not");
        eprintln!("RUSTVOL_DAOS_LIB not set: the DAOS run of this contract happens in tests/daos/run.sh");
        return None;
    }
    Some(std::env::var("RUSTVOL_DAOS_INFO").unwrap_or_else(|_| "backend=daos;pool=rustvol".into()))
}

fn daos_contract(cfg: Config) {
    let b = connectors::backend_for(&cfg).unwrap();
    let fresh_cfg = Config { concurrency: cfg.concurrency + 1, ..cfg.clone() };
    contract(b.clone(), Box::new(move || connectors::backend_for(&fresh_cfg).unwrap()));
    let shared_cfg = cfg.clone();
    let n = std::sync::atomic::AtomicUsize::new(2);
    sharing_contract(b.clone(), Box::new(move || {
        let c = Config { concurrency: shared_cfg.concurrency + n.fetch_add(1, std::sync::atomic::Ordering::Relaxed), ..shared_cfg.clone() };
        connectors::backend_for(&c).unwrap()
    }));
    // A name that is no valid container label (slashes, spaces, non-ASCII, long).
    let odd = format!("{}/sub dir/naïve {}.h5", unique("odd"), "x".repeat(150));
    b.create_file(&odd).unwrap();
    b.commit_meta(&odd, MetaCommit { header: b"h".to_vec(), upserts: vec![(1, b"r".to_vec())], deletes: vec![] }).unwrap();
    b.write_chunks(&odd, bufs(vec![(key(3, &[1, 2]), vec![7u8; 100])])).unwrap();
    assert!(b.file_exists(&odd).unwrap());
    assert_eq!(owned(b.read_chunks(&odd, &[key(3, &[1, 2])]).unwrap()), vec![Some(vec![7u8; 100])]);
    b.delete_file(&odd).unwrap();
    assert!(!b.file_exists(&odd).unwrap());
}

#[test]
fn daos_backend_when_libdaos_is_configured() {
    let Some(info) = daos_info() else { return };
    daos_contract(Config::parse(&info).unwrap());
}

#[test]
fn daos_backend_with_one_shared_container() {
    let Some(info) = daos_info() else { return };
    let mut cfg = Config::parse(&info).unwrap();
    cfg.container = Some(unique("shared"));
    daos_contract(cfg);
}

#[test]
fn daos_backend_names_daos_errors() {
    let Some(info) = daos_info() else { return };
    let mut cfg = Config::parse(&info).unwrap();
    cfg.pool = Some(unique("no-such-pool"));
    let e = connectors::backend_for(&cfg).err().expect("a pool that does not exist");
    assert!(e.msg.contains("DER_NONEXIST") && e.msg.contains("no-such-pool"), "{}", e.msg);
    let mut cfg = Config::parse(&info).unwrap();
    cfg.oclass = Some("NO_SUCH_CLASS".into());
    let e = connectors::backend_for(&cfg).err().expect("an unknown object class");
    assert!(e.msg.contains("NO_SUCH_CLASS"), "{}", e.msg);
}

// --- store format 2 (docs/FORMAT.md): one test per property, on every backend -------------------

/// GETs, bytes received and bytes sent so far, for backends that count their requests.
fn counts(b: &Arc<dyn VolBackend>) -> Option<(u64, u64, u64)> {
    let s = b.request_summary()?;
    let w: Vec<&str> = s.split_whitespace().collect();
    let after = |k: &str| w.iter().position(|x| *x == k).and_then(|i| w.get(i + 1)).and_then(|v| v.parse().ok());
    Some((after("GET")?, after("in")?, after("out")?))
}

fn record(i: u64) -> Vec<u8> {
    format!("{{\"id\":{i},\"name\":\"object number {i}\",\"attrs\":[1,2,3]}}").into_bytes()
}

/// A file of `n` records (ids 1..=n), committed at once.
fn big_file(b: &Arc<dyn VolBackend>, tag: &str, n: u64) -> String {
    let f = unique(tag);
    b.create_file(&f).unwrap();
    b.commit_meta(&f, MetaCommit { header: b"{\"h\":1}".to_vec(), upserts: (1..=n).map(|i| (i, record(i))).collect(), deletes: vec![] }).unwrap();
    f
}

/// Opening reads the commit point and no record: one GET of under 64 KiB on stores that count,
/// whatever the size; records then arrive as asked for, equal to what a whole load gives.
fn lazy_open_contract(b: Arc<dyn VolBackend>, fresh: Fresh) {
    let f = big_file(&b, "lazy", 30_000);
    b.commit_meta(&f, MetaCommit { header: b"{\"h\":2}".to_vec(), upserts: vec![(7, b"seven".to_vec())], deletes: vec![8] }).unwrap();
    let c = fresh();
    let before = counts(&c);
    let Some(MetaOpen::Lazy { header, source }) = c.open_meta(&f).unwrap() else { panic!("{}: a store format 2 file opens lazily", c.describe()) };
    assert_eq!(header, b"{\"h\":2}");
    if let (Some(a), Some(z)) = (before, counts(&c)) {
        assert!(z.0 - a.0 <= 1 && z.1 - a.1 <= 64 << 10, "{}: the open took {} GETs, {} bytes", c.describe(), z.0 - a.0, z.1 - a.1);
    }
    let got = source.ranges(&[(6, 9), (29_999, 40_000)]).unwrap();
    assert_eq!(got, vec![(6, record(6)), (7, b"seven".to_vec()), (9, record(9)), (29_999, record(29_999)), (30_000, record(30_000))]);
    if let (Some(a), Some(z)) = (before, counts(&c)) {
        assert!(z.1 - a.1 < 256 << 10, "{}: a few records took {} bytes", c.describe(), z.1 - a.1);
    }
    let whole = fresh().load_meta(&f).unwrap().unwrap();
    assert_eq!(whole.records.len(), 29_999);
    assert_eq!(source.ranges(&[(0, u64::MAX)]).unwrap(), whole.records);
    b.delete_file(&f).unwrap();
}

/// A commit after a few changes writes them and a bounded index, never every record; the
/// segments a file keeps stay few however many commits it takes.
fn small_commit_contract(b: Arc<dyn VolBackend>, fresh: Fresh) {
    let f = big_file(&b, "small-commit", 30_000);
    for round in 0..60u64 {
        let before = counts(&b);
        let ups: Vec<(u64, Vec<u8>)> = (0..10).map(|i| (1 + i * 2_000 + round, format!("\"round {round}\"").into_bytes())).collect();
        b.commit_meta(&f, MetaCommit { header: b"{}".to_vec(), upserts: ups, deletes: vec![] }).unwrap();
        if let (Some(a), Some(z)) = (before, counts(&b)) {
            assert!(z.2 - a.2 < 64 << 10, "{}: a commit of 10 records wrote {} bytes", b.describe(), z.2 - a.2);
        }
    }
    let snap = fresh().load_meta(&f).unwrap().unwrap();
    assert_eq!(snap.records.len(), 30_000);
    let rec = |id: u64| snap.records.iter().find(|r| r.0 == id).map(|r| r.1.clone());
    assert_eq!(rec(1 + 2_000 * 3 + 59), Some(b"\"round 59\"".to_vec()));
    assert_eq!(rec(100), Some(record(100)));
    b.delete_file(&f).unwrap();
}

/// The metadata segments a dir or object store keeps: few, whatever the number of commits.
fn segment_count(list: impl Iterator<Item = String>) -> usize {
    list.filter(|p| p.contains("/meta/")).count()
}

/// A damaged page is an error of the storage area naming the segment, when the page is read;
/// never a panic or other records.
fn damaged_page_is_an_error(b: &Arc<dyn VolBackend>, f: &str, damage: &dyn Fn()) {
    let Some(MetaOpen::Lazy { source, .. }) = b.open_meta(f).unwrap() else { panic!("lazy") };
    damage();
    let e = source.ranges(&[(15_000, 15_000)]).unwrap_err();
    assert_eq!(e.area, rustvol::error::Area::Storage);
    assert!(e.msg.contains("corrupt metadata segment") || e.msg.contains("shorter"), "{}", e.msg);
}

/// Files of store format 1 are read (whole), and their first commit writes them as format 2.
fn v1_contract(b: Arc<ObjStoreBackend>, fresh: Box<dyn Fn() -> Arc<dyn VolBackend>>) {
    let f = unique("v1");
    let recs: Vec<(u64, Vec<u8>)> = (1..=500).map(|i| (i, record(i))).collect();
    b.write_v1_for_tests(&f, b"{\"v\":1}", &recs).unwrap();
    let c = fresh();
    let Some(MetaOpen::Eager(snap)) = c.open_meta(&f).unwrap() else { panic!("a version 1 file is read whole") };
    assert_eq!((snap.header.as_slice(), snap.records.clone()), (&b"{\"v\":1}"[..], recs.clone()));
    c.commit_meta(&f, MetaCommit { header: b"{\"v\":2}".to_vec(), upserts: vec![(501, record(501))], deletes: vec![1] }).unwrap();
    let Some(MetaOpen::Lazy { header, source }) = fresh().open_meta(&f).unwrap() else { panic!("rewritten as format 2") };
    assert_eq!(header, b"{\"v\":2}");
    let all = source.ranges(&[(0, u64::MAX)]).unwrap();
    assert_eq!(all.len(), 500);
    assert_eq!(all.first().unwrap().0, 2);
    assert_eq!(all.last().unwrap(), &(501, record(501)));
    c.delete_file(&f).unwrap();
}

#[test]
fn memory_backend_format() {
    let fresh: Fresh = Box::new(|| connectors::backend_for(&Config::default()).unwrap());
    lazy_open_contract(connectors::backend_for(&Config::default()).unwrap(), Box::new(|| connectors::backend_for(&Config::default()).unwrap()));
    small_commit_contract(connectors::backend_for(&Config::default()).unwrap(), fresh);
}

fn dir_obj(root: &std::path::Path) -> Arc<ObjStoreBackend> {
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(root).unwrap());
    Arc::new(ObjStoreBackend::new(store.clone(), "", format!("dir {}", root.display()), 8, Locking::Dir(store)))
}

#[test]
fn dir_backend_format() {
    let root = std::env::temp_dir().join(unique("dir-format"));
    std::fs::create_dir_all(&root).unwrap();
    let r = root.clone();
    lazy_open_contract(dir_store(&root), Box::new(move || dir_store(&r)));
    let r = root.clone();
    small_commit_contract(dir_store(&root), Box::new(move || dir_store(&r)));
    let r = root.clone();
    v1_contract(dir_obj(&root), Box::new(move || dir_store(&r)));
    // Many commits, few segments.
    let b = dir_store(&root);
    let f = big_file(&b, "history", 2_000);
    for i in 0..200u64 {
        b.commit_meta(&f, MetaCommit { header: b"{}".to_vec(), upserts: vec![(i + 1, b"x".to_vec())], deletes: vec![] }).unwrap();
    }
    let list = std::fs::read_dir(root.join(&f).join("meta")).unwrap().map(|e| format!("/meta/{}", e.unwrap().file_name().to_string_lossy()));
    let n = segment_count(list);
    assert!((1..=48).contains(&n), "{n} segments (at most 24 listed, and those the last commit merged)");
    // A damaged page.
    let f = big_file(&b, "damaged", 30_000);
    let seg = std::fs::read_dir(root.join(&f).join("meta")).unwrap().next().unwrap().unwrap().path();
    damaged_page_is_an_error(&dir_store(&root), &f, &|| {
        let mut bytes = std::fs::read(&seg).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        std::fs::write(&seg, bytes).unwrap();
    });
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn object_store_format() {
    let store: Arc<dyn object_store::ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let s = store.clone();
    let obj = move || Arc::new(ObjStoreBackend::new(s.clone(), "p", "in-memory object store".into(), 8, Locking::Lease(std::time::Duration::from_secs(30))));
    let o = obj.clone();
    let make = move || -> Arc<dyn VolBackend> { o() };
    let m = make.clone();
    lazy_open_contract(make(), Box::new(move || m()));
    let m = make.clone();
    small_commit_contract(make(), Box::new(move || m()));
    let m = make.clone();
    v1_contract(obj(), Box::new(move || m()));
    let b = make();
    let f = big_file(&b, "damaged", 30_000);
    let list = |store: &Arc<dyn object_store::ObjectStore>| -> Vec<object_store::path::Path> {
        use futures::TryStreamExt;
        futures::executor::block_on(store.list(None).map_ok(|m| m.location).try_collect::<Vec<_>>()).unwrap()
    };
    let seg = list(&store).into_iter().find(|p| p.as_ref().contains(&f) && p.as_ref().contains("/meta/")).unwrap();
    let st = store.clone();
    damaged_page_is_an_error(&make(), &f, &move || {
        use object_store::ObjectStoreExt;
        let mut bytes = futures::executor::block_on(async { st.get(&seg).await.unwrap().bytes().await.unwrap() }).to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        futures::executor::block_on(st.put(&seg, bytes.into())).unwrap();
    });
}

#[test]
fn s3_backend_format_when_a_server_is_configured() {
    let Ok(info) = std::env::var("RUSTVOL_S3_INFO") else {
        eprintln!("RUSTVOL_S3_INFO not set: the S3 run of this contract happens in scripts/test.sh");
        return;
    };
    let mut cfg = Config::parse(&info).unwrap();
    cfg.prefix = Some(unique("prefix-format"));
    let n = std::sync::atomic::AtomicUsize::new(1);
    let c2 = cfg.clone();
    let fresh = move || -> Arc<dyn VolBackend> {
        let c = Config { concurrency: c2.concurrency + n.fetch_add(1, std::sync::atomic::Ordering::Relaxed), ..c2.clone() };
        connectors::backend_for(&c).unwrap()
    };
    let fresh = Arc::new(fresh);
    let f1 = fresh.clone();
    lazy_open_contract(connectors::backend_for(&cfg).unwrap(), Box::new(move || f1()));
    let f2 = fresh.clone();
    small_commit_contract(connectors::backend_for(&cfg).unwrap(), Box::new(move || f2()));
    let f3 = fresh.clone();
    v1_contract(connectors::s3_store(&cfg).unwrap(), Box::new(move || f3()));
}
