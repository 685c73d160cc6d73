//! The in-memory backend: files live for the life of the process.
use crate::backend::{ChunkKey, MetaCommit, MetaSnapshot, ObjId, VolBackend};
use crate::error::{Area, Result, VolError};
use bytes::Bytes;
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
struct StoredFile {
    header: Vec<u8>,
    records: HashMap<ObjId, Vec<u8>>,
    chunks: DashMap<ChunkKey, Bytes>,
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
        // Chunks are shared, not copied: a write replaces a chunk's buffer, never changes it.
        Ok(keys.iter().map(|k| f.chunks.get(k).map(|c| c.clone())).collect())
    }

    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, Vec<u8>)>) -> Result<()> {
        let f = self.file(file)?;
        let f = f.read();
        for (k, v) in chunks {
            f.chunks.insert(k, Bytes::from(v));
        }
        Ok(())
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
