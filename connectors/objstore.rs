//! Files in an object store (a local directory or an S3 bucket) through the `object_store`
//! crate. Layout (docs/FORMAT.md): under `<prefix>/<file>/`, `manifest.json` is the commit
//! point; it lists the metadata segments (`meta/<generation>.seg`) to apply in order; each
//! dataset chunk version is one object `chunks/<object id>/<c0>_<c1>_....<version>`.
//!
//! Commits go through `metalog` (a new segment, then the manifest as the commit point).
use super::metalog;
use crate::backend::{ChunkKey, MetaCommit, MetaSnapshot, VolBackend};
use crate::chunk_buf::ChunkBuf;
use crate::bail;
use crate::error::{Area, Result, VolError};
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
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
}

impl RequestCounts {
    pub fn summary(&self) -> String {
        format!(
            "GET {} PUT {} HEAD {} DELETE {} LIST {}",
            self.get.load(Relaxed),
            self.put.load(Relaxed),
            self.head.load(Relaxed),
            self.delete.load(Relaxed),
            self.list.load(Relaxed)
        )
    }
}

pub struct ObjStoreBackend {
    pub requests: RequestCounts,
    store: Arc<dyn ObjectStore>,
    prefix: Vec<String>,
    label: String,
    concurrency: usize,
    log: metalog::MetaLog,
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

impl ObjStoreBackend {
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, label: String, concurrency: usize) -> ObjStoreBackend {
        let prefix = prefix.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect();
        ObjStoreBackend {
            requests: RequestCounts::default(),
            store,
            prefix,
            label,
            concurrency: concurrency.max(1),
            log: metalog::MetaLog::default(),
        }
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

    async fn get_opt(&self, p: &Path) -> Result<Option<Bytes>> {
        self.requests.get.fetch_add(1, Relaxed);
        match self.store.get(p).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| self.err(&format!("reading {p}"), e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(&format!("reading {p}"), e)),
        }
    }

    async fn put(&self, p: &Path, b: impl Into<PutPayload>) -> Result<()> {
        self.requests.put.fetch_add(1, Relaxed);
        self.store.put(p, b.into()).await.map(|_| ()).map_err(|e| self.err(&format!("writing {p}"), e))
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
            stream::iter(paths.iter())
                .map(|p| async move { self.b.get_opt(p).await.map(|b| b.map(|b| b.to_vec())) })
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
        block_on(async {
            self.requests.head.fetch_add(1, Relaxed);
            match self.store.head(&p).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(self.err(&format!("looking for {p}"), e)),
            }
        })
    }

    fn create_file(&self, file: &str) -> Result<()> {
        self.delete_file(file).map_err(|e| VolError::new(e.area, format!("creating {file:?}: {}", e.msg)))?;
        self.log.start(file);
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
            self.delete_all(all).await
        })
    }

    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        self.log.load(file, &FileBlobs { b: self, file })
    }

    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        self.log.commit(file, &FileBlobs { b: self, file }, commit)
    }

    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>> {
        let paths: Vec<Path> = keys.iter().map(|k| self.chunk_path(file, k)).collect::<Result<_>>()?;
        block_on(async {
            stream::iter(paths.iter())
                .map(|p| self.get_opt(p))
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

    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()> {
        let paths: Vec<Path> = keys.iter().map(|k| self.chunk_path(file, k)).collect::<Result<_>>()?;
        block_on(self.delete_all(paths))
    }
}

