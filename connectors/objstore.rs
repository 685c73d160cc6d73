//! Files in an object store (a local directory or an S3 bucket) through the `object_store`
//! crate. Layout (docs/FORMAT.md): under `<prefix>/<file>/`, `manifest.json` is the commit
//! point; it lists the metadata segments (`meta/<generation>.seg`) to apply in order; each
//! dataset chunk version is one object `chunks/<object id>/<c0>_<c1>_....<version>`.
//!
//! Commits go through `metalog` (a new segment, then the manifest as the commit point).
use super::lock::{HeldLock, LockRequest};
use super::metalog;
use crate::backend::{ChunkKey, ChunkPart, MetaCommit, MetaOpen, MetaSnapshot, ObjId, VolBackend};
use crate::chunk_buf::ChunkBuf;
use crate::bail;
use crate::error::{Area, Result, VolError};
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// The runtime object_store's futures run on (HDF5's thread only waits for them), one per
/// process: a child forked after I/O (Python's multiprocessing does this) has none of its
/// parent's runtime threads, so it starts its own. The parent's is left as it is, never
/// dropped: dropping it in the child would wait for threads that do not exist there.
static RUNTIME: parking_lot::Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = parking_lot::Mutex::new(None);

fn runtime() -> &'static tokio::runtime::Runtime {
    let pid = std::process::id();
    let mut rt = RUNTIME.lock();
    match *rt {
        Some((p, r)) if p == pid => r,
        _ => {
            let r: &'static tokio::runtime::Runtime = Box::leak(Box::new(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("rustvol-io")
                    .enable_all()
                    .build()
                    .expect("cannot start the I/O runtime"),
            ));
            *rt = Some((pid, r));
            r
        }
    }
}

/// Requests sent to the store, by kind: what `RUSTVOL_STATS=1` prints as files close.
#[derive(Default)]
pub struct RequestCounts {
    pub get: AtomicU64,
    pub put: AtomicU64,
    pub head: AtomicU64,
    pub delete: AtomicU64,
    pub list: AtomicU64,
    /// Bytes received in GET answers, and sent in PUTs.
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

impl RequestCounts {
    pub fn summary(&self) -> String {
        format!(
            "GET {} PUT {} HEAD {} DELETE {} LIST {} bytes in {} out {}",
            self.get.load(Relaxed),
            self.put.load(Relaxed),
            self.head.load(Relaxed),
            self.delete.load(Relaxed),
            self.list.load(Relaxed),
            self.bytes_in.load(Relaxed),
            self.bytes_out.load(Relaxed)
        )
    }
}

/// How openers of one file keep out of each other's way in this store (`lock`, `lease`).
pub enum Locking {
    /// Kernel locks on files in the file's directory.
    Dir(Arc<LocalFileSystem>),
    /// Lease objects lasting this long past their last renewal.
    Lease(std::time::Duration),
}

pub struct ObjStoreBackend {
    pub requests: Arc<RequestCounts>,
    store: Arc<dyn ObjectStore>,
    prefix: Vec<String>,
    label: String,
    concurrency: usize,
    log: metalog::MetaLog,
    locking: Locking,
    /// Whether the store honours If-None-Match / If-Match on PUT, found out at the first commit.
    conditional: once_cell::sync::OnceCell<bool>,
}

/// Dropped with the calling thread's thread-locals: once it is gone, so is tokio's context.
struct ThreadAlive;
impl Drop for ThreadAlive {
    fn drop(&mut self) {}
}
thread_local!(static THREAD_ALIVE: ThreadAlive = const { ThreadAlive });

/// Runs `f` to its end on the runtime. A thread whose thread-locals are already destroyed
/// cannot enter the runtime (tokio panics): that is the main thread once `exit` runs HDF5's
/// atexit close of files still open, after glibc destroyed its thread-locals. Such a call runs
/// on a short-lived thread of its own instead, so those files still close and commit.
pub(crate) fn block_on<F: std::future::Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    if THREAD_ALIVE.try_with(|_| ()).is_ok() {
        return runtime().block_on(f);
    }
    std::thread::scope(|s| s.spawn(|| runtime().block_on(f)).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Objects of a file that are not its contents: lock files and leases, which a truncating
/// create or a delete must leave where they are (another opener may hold them).
fn is_lock_object(rel: &str) -> bool {
    rel == super::lock::OPEN_LOCK || rel == super::lock::WRITER_LOCK || rel == super::lock::COMMIT_LOCK || rel.starts_with("lease/")
}

impl ObjStoreBackend {
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, label: String, concurrency: usize, locking: Locking) -> ObjStoreBackend {
        let prefix = prefix.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect();
        ObjStoreBackend {
            requests: Arc::default(),
            store,
            prefix,
            label,
            concurrency: concurrency.max(1),
            log: metalog::MetaLog::default(),
            locking,
            conditional: once_cell::sync::OnceCell::new(),
        }
    }

    /// Whether commits replace the manifest with a conditional PUT (the store honours them).
    pub fn honours_conditions(&self) -> bool {
        self.probe_conditional()
    }

    /// Finds out once whether the store refuses a PUT whose precondition fails: some stores
    /// (Garage) ignore If-None-Match and If-Match and overwrite. A probe object is written,
    /// then written again with each condition that must fail.
    fn probe_conditional(&self) -> bool {
        *self.conditional.get_or_init(|| {
            let Ok(p) = self.path(".rustvol-probe", &[&super::lock::holder_id()]) else { return false };
            let r = block_on(async {
                self.put(&p, b"probe".to_vec()).await?;
                self.requests.put.fetch_add(2, Relaxed);
                let create = self.store.put_opts(&p, b"again".to_vec().into(), PutMode::Create.into()).await;
                let bogus = UpdateVersion { e_tag: Some("\"rustvol-no-such-etag\"".into()), version: None };
                let update = self.store.put_opts(&p, b"again".to_vec().into(), PutMode::Update(bogus).into()).await;
                self.delete_all(vec![p.clone()]).await?;
                Ok::<_, VolError>(
                    matches!(create, Err(object_store::Error::AlreadyExists { .. }))
                        && matches!(update, Err(object_store::Error::Precondition { .. })),
                )
            });
            let honoured = r.unwrap_or(false);
            log::info!("{}: conditional PUT {}", self.label, if honoured { "honoured" } else { "not honoured: commits check the manifest before and after replacing it" });
            honoured
        })
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> VolError {
        VolError::new(Area::Storage, format!("{}: {what}: {e}", self.label))
    }

    /// The object path of `rest` inside file `file`.
    fn path(&self, file: &str, rest: &[&str]) -> Result<Path> {
        let mut parts: Vec<String> = self.prefix.clone();
        for c in file.split('/').filter(|c| !c.is_empty() && *c != ".") {
            if c == ".." {
                bail!(Area::File, "file name {file:?} may not contain \"..\"");
            }
            parts.push(c.to_string());
        }
        if parts.len() == self.prefix.len() {
            bail!(Area::File, "file name {file:?} is empty");
        }
        parts.extend(rest.iter().map(|s| s.to_string()));
        // Path parts are percent-encoded where a store could not hold them as they are.
        Ok(Path::from_iter(parts.iter().map(|s| s.as_str())))
    }

    fn chunk_path(&self, file: &str, k: &ChunkKey) -> Result<Path> {
        let name = format!("{}.{}", crate::model::objects::chunk_name(&k.coords), k.version);
        self.path(file, &["chunks", &k.obj.to_string(), &name])
    }

    /// Where a `dir` store keeps object `p` (`None` for other stores).
    fn local(&self, p: &Path) -> Result<Option<std::path::PathBuf>> {
        let Locking::Dir(fs) = &self.locking else { return Ok(None) };
        fs.path_to_filesystem(p).map(Some).map_err(|e| self.err(&format!("locating {p}"), e))
    }

    /// A `dir` store's small object read on the calling thread: opening a file asks for its
    /// manifest, and a hop to the runtime's blocking pool and back cost more than the read
    /// (a small file's `H5Fopen` was three such hops, ~0.1 ms).
    fn read_local(&self, p: &Path, file: &std::path::Path) -> Result<Option<Vec<u8>>> {
        self.requests.get.fetch_add(1, Relaxed);
        match std::fs::read(file) {
            Ok(b) => {
                self.requests.bytes_in.fetch_add(b.len() as u64, Relaxed);
                Ok(Some(b))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err(&format!("reading {p}"), e)),
        }
    }

    async fn get_opt(&self, p: &Path) -> Result<Option<Bytes>> {
        self.requests.get.fetch_add(1, Relaxed);
        match self.store.get(p).await {
            Ok(r) => {
                let b = r.bytes().await.map_err(|e| self.err(&format!("reading {p}"), e))?;
                self.requests.bytes_in.fetch_add(b.len() as u64, Relaxed);
                Ok(Some(b))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(&format!("reading {p}"), e)),
        }
    }

    async fn put(&self, p: &Path, b: impl Into<PutPayload>) -> Result<()> {
        self.requests.put.fetch_add(1, Relaxed);
        let b: PutPayload = b.into();
        self.requests.bytes_out.fetch_add(b.content_length() as u64, Relaxed);
        self.store.put(p, b).await.map(|_| ()).map_err(|e| self.err(&format!("writing {p}"), e))
    }

    async fn delete_all(&self, paths: Vec<Path>) -> Result<()> {
        stream::iter(paths)
            .map(|p| async move {
                self.requests.delete.fetch_add(1, Relaxed);
                match self.store.delete(&p).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(self.err(&format!("deleting {p}"), e)),
                }
            })
            .buffer_unordered(self.concurrency)
            .try_for_each(|()| futures::future::ok(()))
            .await
    }

    async fn list(&self, prefix: &Path) -> Result<Vec<Path>> {
        self.requests.list.fetch_add(1, Relaxed);
        self.store
            .list(Some(prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| self.err(&format!("listing {prefix}"), e))
    }
}

/// One file's named blobs (manifest, segments) as objects under the file's prefix.
struct FileBlobs<'a> {
    b: &'a ObjStoreBackend,
    file: &'a str,
}

impl FileBlobs<'_> {
    fn path(&self, name: &str) -> Result<Path> {
        let parts: Vec<&str> = name.split('/').collect();
        self.b.path(self.file, &parts)
    }
}

impl metalog::BlobStore for FileBlobs<'_> {
    fn label(&self) -> String {
        self.b.label.clone()
    }

    fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let paths: Vec<Path> = names.iter().map(|n| self.path(n)).collect::<Result<_>>()?;
        block_on(async {
            stream::iter(paths)
                .map(|p| async move { self.b.get_opt(&p).await.map(|b| b.map(|b| b.to_vec())) })
                .buffered(self.b.concurrency)
                .try_collect()
                .await
        })
    }

    fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let p = self.path(name)?;
        block_on(self.b.put(&p, bytes))
    }

    fn delete(&self, names: &[String]) -> Result<()> {
        let paths: Vec<Path> = names.iter().map(|n| self.path(n)).collect::<Result<_>>()?;
        block_on(self.b.delete_all(paths))
    }

    fn ranged(&self) -> Arc<dyn super::pages::RangeRead> {
        Arc::new(FileRanges {
            store: self.b.store.clone(),
            local: match &self.b.locking {
                Locking::Dir(fs) => Some(fs.clone()),
                Locking::Lease(_) => None,
            },
            root: self.b.path(self.file, &[]).unwrap_or_else(|_| Path::from("")),
            label: self.b.label.clone(),
            requests: self.b.requests.clone(),
            concurrency: self.b.concurrency,
        })
    }

    fn begin_swap(&self) -> Result<metalog::Swap> {
        if let Locking::Dir(fs) = &self.b.locking {
            let dir = self.b.file_dir(fs, self.file)?;
            return Ok(match super::lock::commit_lock(&dir)? {
                Some(l) => metalog::Swap::Locked(Box::new(l)),
                None => metalog::Swap::Unguarded,
            });
        }
        Ok(if self.b.probe_conditional() { metalog::Swap::Conditional } else { metalog::Swap::Unguarded })
    }

    fn get_tagged(&self, name: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let p = self.path(name)?;
        // A dir store's commits are guarded by its commit lock, never by tags.
        if let Some(f) = self.b.local(&p)? {
            return Ok(self.b.read_local(&p, &f)?.map(|b| (b, None)));
        }
        block_on(async {
            self.b.requests.get.fetch_add(1, Relaxed);
            match self.b.store.get(&p).await {
                Ok(r) => {
                    let tag = r.meta.e_tag.clone();
                    let b = r.bytes().await.map_err(|e| self.b.err(&format!("reading {p}"), e))?;
                    self.b.requests.bytes_in.fetch_add(b.len() as u64, Relaxed);
                    Ok(Some((b.to_vec(), tag)))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.b.err(&format!("reading {p}"), e)),
            }
        })
    }

    fn put_if(&self, name: &str, bytes: Vec<u8>, expect: Option<&str>) -> Result<std::result::Result<Option<String>, ()>> {
        let p = self.path(name)?;
        let mode = match expect {
            None => PutMode::Create,
            Some(t) => PutMode::Update(UpdateVersion { e_tag: Some(t.to_string()), version: None }),
        };
        block_on(async {
            self.b.requests.put.fetch_add(1, Relaxed);
            self.b.requests.bytes_out.fetch_add(bytes.len() as u64, Relaxed);
            match self.b.store.put_opts(&p, bytes.into(), mode.into()).await {
                Ok(r) => Ok(Ok(r.e_tag)),
                Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(Err(())),
                Err(e) => Err(self.b.err(&format!("writing {p}"), e)),
            }
        })
    }
}

/// Ranged reads of one file's metadata segments, for the reader that fetches their pages on
/// demand while the file is open.
struct FileRanges {
    store: Arc<dyn ObjectStore>,
    /// A `dir` store's file system: its ranges are read on the calling thread.
    local: Option<Arc<LocalFileSystem>>,
    root: Path,
    label: String,
    requests: Arc<RequestCounts>,
    concurrency: usize,
}

impl FileRanges {
    /// Bytes `a..b` of `p` in a `dir` store, checked against the file's length before anything
    /// is allocated for them.
    fn read_local(&self, fs: &LocalFileSystem, p: &Path, a: u64, b: u64) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let err = |e: &dyn std::fmt::Display| VolError::new(Area::Storage, format!("{}: reading {p} bytes {a}..{b}: {e}", self.label));
        self.requests.get.fetch_add(1, Relaxed);
        let path = fs.path_to_filesystem(p).map_err(|e| err(&e))?;
        let f = std::fs::File::open(&path).map_err(|e| err(&e))?;
        let len = f.metadata().map_err(|e| err(&e))?.len();
        if a > b || b > len {
            bail!(Area::Storage, "{}: {p} is shorter than the manifest says (bytes {a}..{b} asked, {len} stored)", self.label);
        }
        let mut buf = vec![0u8; (b - a) as usize];
        f.read_exact_at(&mut buf, a).map_err(|e| err(&e))?;
        self.requests.bytes_in.fetch_add(buf.len() as u64, Relaxed);
        Ok(buf)
    }
}

impl super::pages::RangeRead for FileRanges {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>> {
        let items: Vec<(Path, u64, u64)> = reqs
            .iter()
            .map(|(n, a, b)| (n.split('/').fold(self.root.clone(), |p, c| p.clone().join(c)), *a, *b))
            .collect();
        if let Some(fs) = &self.local {
            // Pages are read as a walk needs them, a few at a time: hops to the runtime's
            // blocking pool and back cost more than reading them from the page cache.
            return items.iter().map(|(p, a, b)| self.read_local(fs, p, *a, *b)).collect();
        }
        block_on(async {
            stream::iter(items)
                .map(|(p, a, b)| async move {
                    self.requests.get.fetch_add(1, Relaxed);
                    let got = self.store.get_range(&p, a..b).await.map_err(|e| VolError::new(Area::Storage, format!("{}: reading {p} bytes {a}..{b}: {e}", self.label)))?;
                    self.requests.bytes_in.fetch_add(got.len() as u64, Relaxed);
                    if got.len() as u64 != b - a {
                        bail!(Area::Storage, "{}: {p} is shorter than the manifest says (bytes {a}..{b} asked, {} given)", self.label, got.len());
                    }
                    Ok(got.to_vec())
                })
                .buffered(self.concurrency)
                .try_collect()
                .await
        })
    }
}

impl ObjStoreBackend {
    /// Writes `records` as a file of store format version 1 (one segment, as version 1
    /// writers left them), so tests can check such files are still read.
    #[doc(hidden)]
    pub fn write_v1_for_tests(&self, file: &str, header: &[u8], records: &[(ObjId, Vec<u8>)]) -> Result<()> {
        use metalog::BlobStore;
        let blobs = FileBlobs { b: self, file };
        blobs.put("meta/0000000000000001.seg", metalog::encode_segment_v1(1, header, records, &[]))?;
        blobs.put(metalog::MANIFEST, br#"{"format":"rustvol","version":1,"generation":1,"segments":["0000000000000001.seg"]}"#.to_vec())
    }

    /// The file of a chunk version in a `dir` store (`None` for other stores).
    fn chunk_file(&self, file: &str, k: &ChunkKey) -> Result<Option<std::path::PathBuf>> {
        let Locking::Dir(fs) = &self.locking else { return Ok(None) };
        let p = self.chunk_path(file, k)?;
        fs.path_to_filesystem(&p).map(Some).map_err(|e| self.err(&format!("locating {p}"), e))
    }

    /// The directory a `dir` store keeps the file in.
    fn file_dir(&self, fs: &LocalFileSystem, file: &str) -> Result<std::path::PathBuf> {
        let p = self.path(file, &[super::lock::OPEN_LOCK])?;
        let lock = fs.path_to_filesystem(&p).map_err(|e| self.err(&format!("locating {p}"), e))?;
        Ok(lock.parent().map(|d| d.to_path_buf()).unwrap_or_default())
    }
}

impl VolBackend for ObjStoreBackend {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn request_summary(&self) -> Option<String> {
        Some(self.requests.summary())
    }

    fn file_exists(&self, file: &str) -> Result<bool> {
        let p = self.path(file, &[metalog::MANIFEST])?;
        if let Some(f) = self.local(&p)? {
            self.requests.head.fetch_add(1, Relaxed);
            return match std::fs::metadata(&f) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(self.err(&format!("looking for {p}"), e)),
            };
        }
        block_on(async {
            self.requests.head.fetch_add(1, Relaxed);
            match self.store.head(&p).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(self.err(&format!("looking for {p}"), e)),
            }
        })
    }

    fn lock_file(&self, file: &str, name: &str, req: &LockRequest) -> Result<Option<Box<dyn HeldLock>>> {
        Ok(Some(match &self.locking {
            Locking::Dir(fs) => Box::new(super::lock::DirLock::acquire(name, &self.file_dir(fs, file)?, req)?),
            Locking::Lease(ttl) => {
                let room = super::lease::ObjectRoom { store: self.store.clone(), dir: self.path(file, &["lease"])?, label: self.label.clone(), counts: Some(self.requests.clone()) };
                Box::new(super::lease::Lease::acquire(Box::new(room), name, *ttl, req)?)
            }
        }))
    }

    fn create_file(&self, file: &str) -> Result<()> {
        self.delete_file(file).map_err(|e| VolError::new(e.area, format!("creating {file:?}: {}", e.msg)))?;
        self.log.start(file, &FileBlobs { b: self, file });
        Ok(())
    }

    fn delete_file(&self, file: &str) -> Result<()> {
        self.log.forget(file);
        let root = self.path(file, &[])?;
        block_on(async {
            // The manifest goes first: a half-deleted file is then simply absent.
            let m = self.path(file, &[metalog::MANIFEST])?;
            self.delete_all(vec![m]).await?;
            let all = self.list(&root).await?;
            let root_parts = root.parts().count();
            let contents = all
                .into_iter()
                .filter(|p| {
                    let rel: Vec<String> = p.parts().skip(root_parts).map(|c| c.as_ref().to_string()).collect();
                    !is_lock_object(&rel.join("/"))
                })
                .collect();
            self.delete_all(contents).await
        })
    }

    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        self.log.load(file, &FileBlobs { b: self, file })
    }

    fn open_meta(&self, file: &str) -> Result<Option<MetaOpen>> {
        self.log.open(file, &FileBlobs { b: self, file })
    }

    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        self.log.commit(file, &FileBlobs { b: self, file }, commit)
    }

    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>> {
        let paths: Vec<Path> = keys.iter().map(|k| self.chunk_path(file, k)).collect::<Result<_>>()?;
        block_on(async {
            stream::iter(paths)
                .map(|p| async move { self.get_opt(&p).await })
                .buffered(self.concurrency)
                .try_collect()
                .await
        })
    }

    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, ChunkBuf)>) -> Result<()> {
        let items: Vec<(Path, Bytes)> =
            chunks.into_iter().map(|(k, b)| Ok((self.chunk_path(file, &k)?, b.into_bytes()))).collect::<Result<_>>()?;
        block_on(async {
            stream::iter(items)
                .map(|(p, b)| async move { self.put(&p, b).await })
                .buffer_unordered(self.concurrency)
                .try_for_each(|()| futures::future::ok(()))
                .await
        })
    }

    fn chunks_in_local_files(&self) -> bool {
        matches!(self.locking, Locking::Dir(_))
    }

    fn lock_before_open(&self) -> bool {
        matches!(self.locking, Locking::Lease(_))
    }

    fn read_chunk_parts(&self, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], dst: &mut [u8]) -> Result<bool> {
        let Some(path) = self.chunk_file(file, key)? else {
            return crate::backend::read_parts_fetched(self, file, key, chunk_len, parts, dst);
        };
        self.requests.get.fetch_add(1, Relaxed);
        super::local_chunks::read_parts(&path, key, chunk_len, parts, dst).map_err(|e| self.err("reading a chunk", e.msg))
    }

    fn write_chunk_from(&self, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], src: &[u8]) -> Result<()> {
        let Some(path) = self.chunk_file(file, key)? else {
            let mut b = ChunkBuf::zeroed(chunk_len);
            for p in parts {
                b[p.chunk..p.chunk + p.len].copy_from_slice(&src[p.buf..p.buf + p.len]);
            }
            return self.write_chunks(file, vec![(key.clone(), b)]);
        };
        self.requests.put.fetch_add(1, Relaxed);
        super::local_chunks::write_whole(&path, chunk_len, parts, src).map_err(|e| self.err("writing a chunk", e.msg))
    }

    fn patch_chunk_parts(&self, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], src: &[u8]) -> Result<bool> {
        let Some(path) = self.chunk_file(file, key)? else { return Ok(false) };
        self.requests.put.fetch_add(1, Relaxed);
        super::local_chunks::patch_parts(&path, key, chunk_len, parts, src).map_err(|e| self.err("writing a chunk", e.msg))
    }

    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()> {
        let paths: Vec<Path> = keys.iter().map(|k| self.chunk_path(file, k)).collect::<Result<_>>()?;
        block_on(self.delete_all(paths))
    }
}

