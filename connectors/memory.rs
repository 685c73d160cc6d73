//! The in-memory backend: files live for the life of the process.
use crate::backend::{ChunkKey, MetaCommit, MetaOpen, MetaSnapshot, MetaSource, ObjId, VolBackend};
use crate::chunk_buf::ChunkBuf;
use crate::error::{Area, Result, VolError};
use bytes::Bytes;
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
struct StoredFile {
    header: Vec<u8>,
    records: BTreeMap<ObjId, Vec<u8>>,
    chunks: DashMap<ChunkKey, Arc<ChunkBuf>>,
}

/// A stored chunk lent to a reader: while any is alive the chunk is shared and is not
/// patched in place.
struct Lent(Arc<ChunkBuf>);

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A file's records as an open reads them: on demand, from the store's own map, so opening
/// costs the same at any size. The map may move on by this process's own commits only (a file
/// is open once per process), which change exactly what the reader's model has changed.
struct Records(Arc<RwLock<StoredFile>>);

impl MetaSource for Records {
    fn ranges(&self, ranges: &[(ObjId, ObjId)]) -> Result<Vec<(ObjId, Vec<u8>)>> {
        let f = self.0.read();
        let mut out: Vec<(ObjId, Vec<u8>)> = ranges.iter().flat_map(|&(lo, hi)| f.records.range(lo..=hi).map(|(k, v)| (*k, v.clone()))).collect();
        out.sort_by_key(|e| e.0);
        out.dedup_by_key(|e| e.0);
        Ok(out)
    }
}

#[derive(Default)]
pub struct MemoryBackend {
    files: DashMap<String, Arc<RwLock<StoredFile>>>,
}

static GLOBAL: Lazy<Arc<MemoryBackend>> = Lazy::new(|| Arc::new(MemoryBackend::default()));

impl MemoryBackend {
    pub fn global() -> Arc<dyn VolBackend> {
        GLOBAL.clone()
    }

    fn file(&self, file: &str) -> Result<Arc<RwLock<StoredFile>>> {
        self.files
            .get(file)
            .map(|f| f.clone())
            .ok_or_else(|| VolError::new(Area::Storage, format!("memory store: no file named {file:?}")))
    }
}

impl VolBackend for MemoryBackend {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn file_exists(&self, file: &str) -> Result<bool> {
        Ok(self.files.contains_key(file))
    }

    fn create_file(&self, file: &str) -> Result<()> {
        self.files.insert(file.to_string(), Arc::new(RwLock::new(StoredFile::default())));
        Ok(())
    }

    fn delete_file(&self, file: &str) -> Result<()> {
        match self.files.remove(file) {
            Some(_) => Ok(()),
            None => Err(VolError::new(Area::Storage, format!("memory store: no file named {file:?}"))),
        }
    }

    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        let Some(f) = self.files.get(file).map(|f| f.clone()) else { return Ok(None) };
        let f = f.read();
        Ok(Some(MetaSnapshot {
            header: f.header.clone(),
            records: f.records.iter().map(|(k, v)| (*k, v.clone())).collect(),
        }))
    }

    fn open_meta(&self, file: &str) -> Result<Option<MetaOpen>> {
        let Some(f) = self.files.get(file).map(|f| f.clone()) else { return Ok(None) };
        let header = f.read().header.clone();
        Ok(Some(MetaOpen::Lazy { header, source: Arc::new(Records(f)) }))
    }

    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        let f = self.file(file)?;
        let mut f = f.write();
        f.header = commit.header;
        for id in commit.deletes {
            f.records.remove(&id);
        }
        for (id, rec) in commit.upserts {
            f.records.insert(id, rec);
        }
        Ok(())
    }

    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>> {
        let f = self.file(file)?;
        let f = f.read();
        // Chunks are shared, not copied; `patch_chunks` leaves a shared chunk alone.
        Ok(keys.iter().map(|k| f.chunks.get(k).map(|c| Bytes::from_owner(Lent(c.clone())))).collect())
    }

    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, ChunkBuf)>) -> Result<()> {
        let f = self.file(file)?;
        let f = f.read();
        for (k, v) in chunks {
            f.chunks.insert(k, Arc::new(v));
        }
        Ok(())
    }

    fn keeps_chunks_in_process(&self) -> bool {
        true
    }

    fn patch_chunks(&self, file: &str, keys: &[ChunkKey], patch: &mut dyn FnMut(usize, &mut [u8])) -> Result<Vec<bool>> {
        let f = self.file(file)?;
        let f = f.read();
        Ok(keys
            .iter()
            .enumerate()
            .map(|(i, k)| match f.chunks.get_mut(k) {
                Some(mut c) => match Arc::get_mut(&mut c) {
                    Some(buf) => {
                        patch(i, buf);
                        true
                    }
                    None => false,
                },
                None => false,
            })
            .collect())
    }

    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()> {
        let f = self.file(file)?;
        let f = f.read();
        for k in keys {
            f.chunks.remove(k);
        }
        Ok(())
    }
}
