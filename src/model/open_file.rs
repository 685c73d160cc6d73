//! A file open in this process: its metadata in memory, the backend it lives in, and the
//! process-wide table that makes a second open of the same file share the first one's state.
use super::namespace::FileMeta;
use super::read_cache::ReadCache;
use super::write_back::{self, WriteBack};
use crate::backend::{HeldLock, LockRequest, MetaCommit, VolBackend};
use crate::config::Config;
use crate::connectors::Location;
use crate::bail;
use crate::error::{Area, Result};
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

pub struct OpenFile {
    /// The name the application used (what `H5Fget_name` reports).
    pub name: String,
    /// Where the backend keeps the file.
    pub key: String,
    pub backend: Arc<dyn VolBackend>,
    /// The configuration the file was opened with, for files reached through external links.
    pub cfg: Config,
    pub meta: RwLock<FileMeta>,
    /// Partly written chunks not yet sent to the backend (see `write_back`).
    pub write_back: WriteBack,
    /// Chunks recently fetched from the backend (see `read_cache`).
    pub read_cache: ReadCache,
    /// The open datasets' chunk caches, for pipelines where native's is visible (see
    /// `chunk_cache`).
    pub chunk_caches: crate::model::chunk_cache::Caches,
    pub fileno: u64,
    reg_key: String,
    /// The cross-process lock this process holds on the file, and whether for writing.
    lock: parking_lot::Mutex<(Option<Box<dyn HeldLock>>, bool)>,
    /// The file locking settings it was first opened with, which every later open in this
    /// process must repeat (as natively).
    locking: Locking,
    /// The communicator of a file a parallel program opened for writing on several ranks
    /// (see `ranks`): rank 0 holds the lock and commits, the others follow.
    pub ranks: once_cell::sync::OnceCell<super::ranks::Ranks>,
    /// Opened through a file access list of HDF5's MPI-IO driver (any communicator): natively
    /// such a file gives datasets without filters early allocation.
    pub mpio: std::sync::atomic::AtomicBool,
}

/// Native HDF5's file locking settings (`H5Pset_file_locking`, `HDF5_USE_FILE_LOCKING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locking {
    pub use_locks: bool,
    pub ignore_disabled: bool,
}

impl Default for Locking {
    fn default() -> Self {
        Locking { use_locks: true, ignore_disabled: false }
    }
}

/// How an open asks for a file: its intent and the locking settings in force.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub write: bool,
    pub swmr: bool,
    pub locking: Locking,
}

impl Access {
    fn request(&self) -> LockRequest {
        LockRequest { write: self.write, swmr: self.swmr, ignore_disabled: self.locking.ignore_disabled }
    }
}

/// Chunk versions this opener writes start this far past the committed ones, different for
/// each opener: a second writer on the same file (locks disabled, or a lease taken over)
/// then writes chunk objects of its own instead of replacing ones the first committed.
fn epoch_salt() -> u64 {
    let id = crate::connectors::lock::holder_id();
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3)) % (1 << 20)
}

static OPEN_FILES: Lazy<DashMap<String, Weak<OpenFile>>> = Lazy::new(DashMap::new);
static NEXT_FILENO: AtomicU64 = AtomicU64::new(1);

fn key_of(backend: &dyn VolBackend, name: &str) -> String {
    format!("{}\u{0}{}", backend.describe(), name)
}

/// The already-open instance of a file, if any handle still holds it.
pub fn find_open(loc: &Location) -> Option<Arc<OpenFile>> {
    OPEN_FILES.get(&key_of(loc.backend.as_ref(), &loc.key)).and_then(|w| w.upgrade())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Truncate,
    Exclusive,
}

impl OpenFile {
    fn register(loc: Location, name: &str, cfg: Config, mut meta: FileMeta, lock: Option<Box<dyn HeldLock>>, access: &Access) -> Arc<OpenFile> {
        meta.write_epoch += epoch_salt();
        let reg_key = key_of(loc.backend.as_ref(), &loc.key);
        let f = Arc::new(OpenFile {
            name: name.to_string(),
            key: loc.key,
            backend: loc.backend,
            cfg,
            meta: RwLock::new(meta),
            write_back: WriteBack::default(),
            read_cache: ReadCache::default(),
            chunk_caches: Default::default(),
            fileno: NEXT_FILENO.fetch_add(1, Ordering::Relaxed),
            reg_key: reg_key.clone(),
            lock: parking_lot::Mutex::new((lock, access.write)),
            locking: access.locking,
            ranks: once_cell::sync::OnceCell::new(),
            mpio: std::sync::atomic::AtomicBool::new(false),
        });
        OPEN_FILES.insert(reg_key, Arc::downgrade(&f));
        f
    }

    pub fn create(loc: Location, name: &str, cfg: Config, mode: CreateMode, meta: FileMeta, access: Access) -> Result<Arc<OpenFile>> {
        if find_open(&loc).is_some() {
            bail!(Area::File, "unable to truncate {name:?}: the file is already open");
        }
        let exists = |loc: &Location| -> Result<()> {
            if mode == CreateMode::Exclusive && loc.backend.file_exists(&loc.key)? {
                bail!(Area::File, "unable to create {name:?}: the file already exists (H5F_ACC_EXCL)");
            }
            Ok(())
        };
        // As natively, an existing file fails H5F_ACC_EXCL before any lock is tried.
        exists(&loc)?;
        // Locked before anything is truncated: a file another process has open stays whole.
        let access = Access { write: true, ..access };
        let lock = if access.locking.use_locks { loc.backend.lock_file(&loc.key, name, &access.request())? } else { None };
        exists(&loc)?;
        loc.backend.create_file(&loc.key)?;
        let f = OpenFile::register(loc, name, cfg, meta, lock, &access);
        f.flush()?;
        Ok(f)
    }

    pub fn open(loc: Location, name: &str, cfg: Config, access: Access) -> Result<Arc<OpenFile>> {
        if let Some(f) = find_open(&loc) {
            f.reopen(name, &access)?;
            return Ok(f);
        }
        // Only a file that exists is locked, so a failed open leaves nothing behind (a lease
        // taken first goes when the open fails).
        let locks = access.locking.use_locks;
        if !(locks && loc.backend.lock_before_open()) && !loc.backend.file_exists(&loc.key)? {
            bail!(Area::File, "unable to open file {name:?}: it does not exist in {}", loc.backend.describe());
        }
        let lock = if locks { loc.backend.lock_file(&loc.key, name, &access.request())? } else { None };
        let Some(open) = loc.backend.open_meta(&loc.key)? else {
            bail!(Area::File, "unable to open file {name:?}: it does not exist in {}", loc.backend.describe());
        };
        let meta = FileMeta::from_open(open)?;
        Ok(OpenFile::register(loc, name, cfg, meta, lock, &access))
    }

    /// A rank other than 0 of a file opened for writing by several ranks (`ranks`): the model
    /// rank 0 has, without the lock and without touching the store.
    pub fn follow(loc: Location, name: &str, cfg: Config, meta: FileMeta, access: Access) -> Arc<OpenFile> {
        OpenFile::register(loc, name, cfg, meta, None, &access)
    }

    /// `follow` for an existing file: its committed state, loaded without the lock (rank 0
    /// of the communicator holds it).
    pub fn open_following(loc: Location, name: &str, cfg: Config, access: Access) -> Result<Arc<OpenFile>> {
        // Opened again on this rank: the same instance, as rank 0's `open` finds its own.
        if let Some(f) = find_open(&loc) {
            f.reopen(name, &access)?;
            return Ok(f);
        }
        let Some(open) = loc.backend.open_meta(&loc.key)? else {
            bail!(Area::File, "unable to open file {name:?}: it does not exist in {}", loc.backend.describe());
        };
        let meta = FileMeta::from_open(open)?;
        Ok(OpenFile::follow(loc, name, cfg, meta, access))
    }

    /// Another open of a file this process has open: the same locking settings, as natively,
    /// and a reader's lock turned into a writer's when this one writes.
    fn reopen(&self, name: &str, access: &Access) -> Result<()> {
        if access.locking.use_locks != self.locking.use_locks {
            bail!(Area::File, "unable to open file {name:?}: file locking flag values don't match those of the open file");
        }
        if self.locking.use_locks && access.locking.ignore_disabled != self.locking.ignore_disabled {
            bail!(Area::File, "unable to open file {name:?}: file locking 'ignore disabled locks' flag values don't match those of the open file");
        }
        let mut held = self.lock.lock();
        if access.write && !held.1 {
            if let Some(l) = held.0.as_mut() {
                l.upgrade(&access.request())?;
            }
            held.1 = true;
        }
        Ok(())
    }

    /// The locking settings of the open file, for files reached from it by external links.
    pub fn access(&self) -> Access {
        Access { write: self.lock.lock().1, swmr: false, locking: self.locking }
    }

    /// Writes every metadata change since the last flush as one commit, then drops the chunks
    /// of datasets that were deleted. Held chunks go to the backend first: the commit names them.
    pub fn flush(&self) -> Result<()> {
        match self.ranks.get() {
            Some(ranks) => super::ranks::flush(self, ranks),
            None => self.commit(),
        }
    }

    /// `flush` of this process alone.
    pub(crate) fn commit(&self) -> Result<()> {
        write_back::write_back(self, None)?;
        let (commit, garbage) = {
            let mut m = self.meta.write();
            if !m.has_changes() && m.garbage.is_empty() {
                return Ok(());
            }
            let (header, upserts, deletes) = m.take_changes()?;
            (MetaCommit { header, upserts, deletes }, std::mem::take(&mut m.garbage))
        };
        let held = match self.lock.lock().0.as_ref() {
            Some(l) => l.check(),
            None => Ok(()),
        };
        // Only the ids are kept for a failure, not a copy of every record (a first commit of a
        // big file is hundreds of megabytes of them).
        let ids: Vec<(crate::backend::ObjId, Vec<u8>)> = commit.upserts.iter().map(|(id, _)| (*id, Vec::new())).collect();
        let deletes = commit.deletes.clone();
        if let Err(e) = held.and_then(|()| self.backend.commit_meta(&self.key, commit)) {
            // Nothing was committed: keep every change pending for the next flush or close.
            let mut m = self.meta.write();
            m.restore_changes(&ids, &deletes);
            m.garbage.extend(garbage);
            return Err(e);
        }
        // Chunk versions the new commit no longer names; failing to remove them loses nothing.
        if let Err(e) = self.backend.delete_chunks(&self.key, &garbage) {
            log::warn!("{}: could not remove replaced chunks of {:?}: {}", self.backend.describe(), self.name, e.msg);
        }
        Ok(())
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        OPEN_FILES.remove_if(&self.reg_key, |_, w| w.strong_count() == 0);
    }
}
