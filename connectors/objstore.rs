//! Files in an object store (a local directory or an S3 bucket) through the `object_store`
//! crate. Layout (docs/FORMAT.md): under `<prefix>/<file>/`, `manifest.json` is the commit
//! point; it lists the metadata segments (`meta/<generation>.seg`) to apply in order; each
//! dataset chunk version is one object `chunks/<object id>/<c0>_<c1>_....<version>`.
//!
//! A commit writes one new segment with the changed records, then replaces the manifest: a
//! writer that dies before that leaves the previous commit intact. Segments are merged into
//! one when there are many, so opening a file reads a handful of objects.
use crate::backend::{ChunkKey, MetaCommit, MetaSnapshot, ObjId, VolBackend};
use crate::bail;
use crate::error::{Area, Result, VolError};
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Segments kept before they are merged into one at the next commit.
const MAX_SEGMENTS: usize = 8;

/// The runtime object_store's futures run on; HDF5's thread only waits for them.
static RUNTIME: Lazy<tokio::runtime::Runtime> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rustvol-io")
        .enable_all()
        .build()
        .expect("cannot start the I/O runtime")
});

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
    segments: Vec<String>,
    header: Vec<u8>,
    records: BTreeMap<ObjId, Vec<u8>>,
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
    logs: Mutex<HashMap<String, FileLog>>,
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.block_on(f)
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
            logs: Mutex::new(HashMap::new()),
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

    async fn put(&self, p: &Path, b: Vec<u8>) -> Result<()> {
        self.requests.put.fetch_add(1, Relaxed);
        self.store.put(p, PutPayload::from(b)).await.map(|_| ()).map_err(|e| self.err(&format!("writing {p}"), e))
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

    async fn load_log(&self, file: &str) -> Result<Option<FileLog>> {
        let mpath = self.path(file, &["manifest.json"])?;
        let Some(m) = self.get_opt(&mpath).await? else { return Ok(None) };
        let m: Manifest = serde_json::from_slice(&m).map_err(|e| self.err(&format!("corrupt manifest {mpath}"), e))?;
        if m.format != crate::model::namespace::FORMAT_NAME || m.version != crate::model::namespace::FORMAT_VERSION {
            bail!(Area::Storage, "{}: {mpath} is format {:?} version {}, not rustvol version {}", self.label, m.format, m.version, crate::model::namespace::FORMAT_VERSION);
        }
        let paths: Vec<Path> =
            m.segments.iter().map(|s| self.path(file, &["meta", s])).collect::<Result<_>>()?;
        let segs: Vec<Option<Bytes>> =
            stream::iter(paths.iter()).map(|p| self.get_opt(p)).buffered(self.concurrency).try_collect().await?;
        let mut log = FileLog { generation: m.generation, segments: m.segments.clone(), ..Default::default() };
        for (p, s) in paths.iter().zip(segs) {
            let Some(s) = s else { bail!(Area::Storage, "{}: segment {p} named by the manifest is missing", self.label) };
            apply_segment(&mut log, &s).map_err(|e| self.err(&format!("corrupt segment {p}"), e))?;
        }
        Ok(Some(log))
    }
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

fn apply_segment(log: &mut FileLog, bytes: &[u8]) -> std::result::Result<(), String> {
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
            }
            b"del" => {
                let (id, _) = id_and(rest)?;
                log.records.remove(&id);
            }
            other => return Err(format!("unknown line kind {:?}", String::from_utf8_lossy(other))),
        }
    }
    Ok(())
}

impl VolBackend for ObjStoreBackend {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn request_summary(&self) -> Option<String> {
        Some(self.requests.summary())
    }

    fn file_exists(&self, file: &str) -> Result<bool> {
        let p = self.path(file, &["manifest.json"])?;
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
        self.logs.lock().insert(file.to_string(), FileLog::default());
        Ok(())
    }

    fn delete_file(&self, file: &str) -> Result<()> {
        self.logs.lock().remove(file);
        let root = self.path(file, &[])?;
        block_on(async {
            // The manifest goes first: a half-deleted file is then simply absent.
            let m = self.path(file, &["manifest.json"])?;
            self.delete_all(vec![m]).await?;
            let all = self.list(&root).await?;
            self.delete_all(all).await
        })
    }

    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        let Some(log) = block_on(self.load_log(file))? else { return Ok(None) };
        let snap = MetaSnapshot {
            header: log.header.clone(),
            records: log.records.iter().map(|(k, v)| (*k, v.clone())).collect(),
        };
        self.logs.lock().insert(file.to_string(), log);
        Ok(Some(snap))
    }

    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        let mut logs = self.logs.lock();
        let log = match logs.remove(file) {
            Some(l) => l,
            None => block_on(self.load_log(file))?.unwrap_or_default(),
        };
        let mut log = log;
        let generation = log.generation + 1;
        for id in &commit.deletes {
            log.records.remove(id);
        }
        for (id, rec) in &commit.upserts {
            log.records.insert(*id, rec.clone());
        }
        log.header = commit.header.clone();
        let compact = log.segments.len() + 1 > MAX_SEGMENTS;
        let seg = if compact {
            let all: Vec<(ObjId, Vec<u8>)> = log.records.iter().map(|(k, v)| (*k, v.clone())).collect();
            encode_segment(generation, &log.header, &all, &[])
        } else {
            encode_segment(generation, &commit.header, &commit.upserts, &commit.deletes)
        };
        let seg_name = format!("{generation:016}.seg");
        let old = if compact { std::mem::take(&mut log.segments) } else { Vec::new() };
        log.segments.push(seg_name.clone());
        let manifest = Manifest {
            format: crate::model::namespace::FORMAT_NAME.into(),
            version: crate::model::namespace::FORMAT_VERSION,
            generation,
            segments: log.segments.clone(),
        };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| self.err("encoding the manifest", e))?;
        let res = block_on(async {
            self.put(&self.path(file, &["meta", &seg_name])?, seg).await?;
            self.put(&self.path(file, &["manifest.json"])?, manifest).await?;
            let old: Vec<Path> = old.iter().map(|s| self.path(file, &["meta", s])).collect::<Result<_>>()?;
            self.delete_all(old).await
        });
        match res {
            Ok(()) => {
                log.generation = generation;
                logs.insert(file.to_string(), log);
                Ok(())
            }
            // The cached log no longer matches the store; the next commit reloads it.
            Err(e) => Err(e),
        }
    }

    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Vec<u8>>>> {
        let paths: Vec<Path> = keys.iter().map(|k| self.chunk_path(file, k)).collect::<Result<_>>()?;
        block_on(async {
            stream::iter(paths.iter())
                .map(|p| async move { self.get_opt(p).await.map(|b| b.map(|b| b.to_vec())) })
                .buffered(self.concurrency)
                .try_collect()
                .await
        })
    }

    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, Vec<u8>)>) -> Result<()> {
        let items: Vec<(Path, Vec<u8>)> =
            chunks.into_iter().map(|(k, b)| Ok((self.chunk_path(file, &k)?, b))).collect::<Result<_>>()?;
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
}
