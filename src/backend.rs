//! The storage contract. Every backend stores, per HDF5 file: a set of small metadata records
//! addressed by object id, committed together at one atomic point, and dataset chunks addressed
//! by (object id, chunk coordinates). Everything HDF5-specific lives above this trait.
use crate::chunk_buf::ChunkBuf;
pub use crate::connectors::lock::{HeldLock, LockRequest};
use crate::error::Result;
use bytes::Bytes;

pub type ObjId = u64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey {
    pub obj: ObjId,
    pub coords: Vec<u64>,
    /// Chunks are never overwritten across commits: each commit's writes get a new version.
    pub version: u64,
}

/// The committed metadata of one file: a header record and one record per object.
#[derive(Debug, Clone, Default)]
pub struct MetaSnapshot {
    pub header: Vec<u8>,
    pub records: Vec<(ObjId, Vec<u8>)>,
}

/// Changes to commit at a flush: all of them become visible together, or none.
#[derive(Debug, Clone, Default)]
pub struct MetaCommit {
    pub header: Vec<u8>,
    pub upserts: Vec<(ObjId, Vec<u8>)>,
    pub deletes: Vec<ObjId>,
}

pub trait VolBackend: Send + Sync {
    /// Names the store in error messages (never includes a secret).
    fn describe(&self) -> String;
    fn file_exists(&self, file: &str) -> Result<bool>;
    /// Makes `file` an empty file, replacing whatever was stored under that name.
    fn create_file(&self, file: &str) -> Result<()>;
    fn delete_file(&self, file: &str) -> Result<()>;
    /// Takes the lock native HDF5 takes when it opens a file (`connectors::lock`), for stores
    /// other processes can reach; `name` is the application's, for messages.
    fn lock_file(&self, _file: &str, _name: &str, _req: &LockRequest) -> Result<Option<Box<dyn HeldLock>>> {
        Ok(None)
    }
    /// `None` when the file does not exist.
    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>>;
    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()>;
    /// One answer per key, in order; `None` for a chunk never written. `Bytes` so a backend
    /// can hand over what it holds or received without another copy.
    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<Bytes>>>;
    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, ChunkBuf)>) -> Result<()>;
    /// Chunks live in this process's memory: writes change them there (`patch_chunks`), so
    /// holding partly written chunks in a write-back cache would only add a copy.
    fn keeps_chunks_in_process(&self) -> bool {
        false
    }
    /// Changes stored chunks where they are, for stores that hold them in this process:
    /// calls `patch(i, bytes)` for each `keys[i]` it can change without a copy and says which
    /// it did; the caller writes the others as usual. Callers pass only versions no commit
    /// names (the file's current write epoch), so a committed version is never changed.
    fn patch_chunks(&self, _file: &str, keys: &[ChunkKey], _patch: &mut dyn FnMut(usize, &mut [u8])) -> Result<Vec<bool>> {
        Ok(vec![false; keys.len()])
    }
    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()>;
    /// Requests sent so far, for stores reached over requests (`RUSTVOL_STATS=1`).
    fn request_summary(&self) -> Option<String> {
        None
    }
}
