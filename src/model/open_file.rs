//! A file open in this process: its metadata in memory, the backend it lives in, and the
//! process-wide table that makes a second open of the same file share the first one's state.
use super::namespace::FileMeta;
use crate::backend::{MetaCommit, VolBackend};
use crate::bail;
use crate::error::{Area, Result};
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

pub struct OpenFile {
    pub name: String,
    pub backend: Arc<dyn VolBackend>,
    pub meta: RwLock<FileMeta>,
    pub fileno: u64,
    key: String,
}

static OPEN_FILES: Lazy<DashMap<String, Weak<OpenFile>>> = Lazy::new(DashMap::new);
static NEXT_FILENO: AtomicU64 = AtomicU64::new(1);

fn key_of(backend: &dyn VolBackend, name: &str) -> String {
    format!("{}\u{0}{}", backend.describe(), name)
}

/// The already-open instance of a file, if any handle still holds it.
pub fn find_open(backend: &dyn VolBackend, name: &str) -> Option<Arc<OpenFile>> {
    OPEN_FILES.get(&key_of(backend, name)).and_then(|w| w.upgrade())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Truncate,
    Exclusive,
}

impl OpenFile {
    fn register(name: &str, backend: Arc<dyn VolBackend>, meta: FileMeta) -> Arc<OpenFile> {
        let key = key_of(backend.as_ref(), name);
        let f = Arc::new(OpenFile {
            name: name.to_string(),
            backend,
            meta: RwLock::new(meta),
            fileno: NEXT_FILENO.fetch_add(1, Ordering::Relaxed),
            key: key.clone(),
        });
        OPEN_FILES.insert(key, Arc::downgrade(&f));
        f
    }

    pub fn create(
        backend: Arc<dyn VolBackend>,
        name: &str,
        mode: CreateMode,
        meta: FileMeta,
    ) -> Result<Arc<OpenFile>> {
        if find_open(backend.as_ref(), name).is_some() {
            bail!(Area::File, "unable to truncate {name:?}: the file is already open");
        }
        if mode == CreateMode::Exclusive && backend.file_exists(name)? {
            bail!(Area::File, "unable to create {name:?}: the file already exists (H5F_ACC_EXCL)");
        }
        backend.create_file(name)?;
        let f = OpenFile::register(name, backend, meta);
        f.flush()?;
        Ok(f)
    }

    pub fn open(backend: Arc<dyn VolBackend>, name: &str) -> Result<Arc<OpenFile>> {
        if let Some(f) = find_open(backend.as_ref(), name) {
            return Ok(f);
        }
        let Some(snap) = backend.load_meta(name)? else {
            bail!(Area::File, "unable to open file {name:?}: it does not exist in {}", backend.describe());
        };
        let meta = FileMeta::from_records(&snap.header, snap.records)?;
        Ok(OpenFile::register(name, backend, meta))
    }

    /// Writes every metadata change since the last flush as one commit, then drops the chunks
    /// of datasets that were deleted.
    pub fn flush(&self) -> Result<()> {
        let (commit, dropped) = {
            let mut m = self.meta.write();
            if !m.has_changes() && m.dropped_datasets.is_empty() {
                return Ok(());
            }
            let (header, upserts, deletes) = m.take_changes()?;
            (MetaCommit { header, upserts, deletes }, std::mem::take(&mut m.dropped_datasets))
        };
        self.backend.commit_meta(&self.name, commit)?;
        for id in dropped {
            let keys = self.backend.list_chunks(&self.name, id)?;
            self.backend.delete_chunks(&self.name, &keys)?;
        }
        Ok(())
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        OPEN_FILES.remove_if(&self.key, |_, w| w.strong_count() == 0);
    }
}
