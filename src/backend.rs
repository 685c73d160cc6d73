//! The storage contract. Every backend stores, per HDF5 file: a set of small metadata records
//! addressed by object id, committed together at one atomic point, and dataset chunks addressed
//! by (object id, chunk coordinates). Everything HDF5-specific lives above this trait.
use crate::chunk_buf::ChunkBuf;
pub use crate::connectors::lock::{HeldLock, LockRequest};
use crate::error::Result;
use bytes::Bytes;

pub type ObjId = u64;

/// A run of bytes in a chunk and where it goes in (or comes from) a packed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPart {
    /// Offset in the chunk.
    pub chunk: usize,
    /// Offset in the buffer.
    pub buf: usize,
    pub len: usize,
}

/// A stored chunk of the wrong length is damage, reported as such (never read as data).
pub fn check_chunk_len(key: &ChunkKey, len: usize, want: usize) -> Result<()> {
    if len != want {
        crate::bail!(crate::error::Area::Storage, "stored chunk {:?} of object {} has {len} bytes, expected {want}", key.coords, key.obj);
    }
    Ok(())
}

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

/// Committed records fetched on demand (format version 2, the memory store): an open reads
/// its commit point, and the model asks for records as calls need them.
pub trait MetaSource: Send + Sync {
    /// The committed records whose keys fall in any of the (inclusive) ranges, in key order.
    fn ranges(&self, ranges: &[(ObjId, ObjId)]) -> Result<Vec<(ObjId, Vec<u8>)>>;
}

/// What opening a file's metadata gives: every record, or the header and a source of the rest.
pub enum MetaOpen {
    Eager(MetaSnapshot),
    Lazy { header: Vec<u8>, source: std::sync::Arc<dyn MetaSource> },
}

/// Changes to commit at a flush: all of them become visible together, or none.
#[derive(Debug, Clone, Default)]
pub struct MetaCommit {
    pub header: Vec<u8>,
    pub upserts: Vec<(ObjId, Vec<u8>)>,
    pub deletes: Vec<ObjId>,
}

/// `read_chunk_parts` through `read_chunks`: the chunk is fetched whole, then the parts copied.
pub fn read_parts_fetched<B: VolBackend + ?Sized>(b: &B, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], dst: &mut [u8]) -> Result<bool> {
    let Some(c) = b.read_chunks(file, std::slice::from_ref(key))?.pop().flatten() else { return Ok(false) };
    check_chunk_len(key, c.len(), chunk_len)?;
    for p in parts {
        dst[p.buf..p.buf + p.len].copy_from_slice(&c[p.chunk..p.chunk + p.len]);
    }
    Ok(true)
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
    /// Whether an open takes the lock first and then reads the commit point, which also says
    /// whether the file exists (one request fewer), because taking a lock on a file that does
    /// not exist leaves nothing behind once it is let go (leases); otherwise an open first
    /// checks that the file exists, and only then locks it.
    fn lock_before_open(&self) -> bool {
        false
    }
    /// `None` when the file does not exist.
    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>>;
    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()>;
    /// The committed metadata for an open: by default every record (`load_meta`); stores that
    /// can fetch records on demand give the header and a source instead.
    fn open_meta(&self, file: &str) -> Result<Option<MetaOpen>> {
        Ok(self.load_meta(file)?.map(MetaOpen::Eager))
    }
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
    /// Chunk versions are files of the local filesystem (dir): `read_chunk_parts`,
    /// `write_chunk_from` and `patch_chunk_parts` reach them with plain file I/O, so the data
    /// path moves bytes straight between them and the application's buffer, as native HDF5's
    /// sec2 driver does, instead of through a fetched copy of each chunk.
    fn chunks_in_local_files(&self) -> bool {
        false
    }
    /// Copies parts of one stored, unfiltered chunk version of `chunk_len` bytes into `dst`:
    /// each part is (offset in the chunk, offset in `dst`, length), in bytes. `Ok(false)` when
    /// the version is not stored; a stored version of another length is an error.
    fn read_chunk_parts(&self, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], dst: &mut [u8]) -> Result<bool> {
        read_parts_fetched(self, file, key, chunk_len, parts, dst)
    }
    /// Stores chunk version `key` of `chunk_len` bytes from `parts` of `src`, which cover it
    /// whole: each part is (offset in the chunk, offset in `src`, length). A reader finds the
    /// old contents or the new ones, never a mixture.
    fn write_chunk_from(&self, file: &str, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], src: &[u8]) -> Result<()> {
        let mut b = ChunkBuf::zeroed(chunk_len);
        for p in parts {
            b[p.chunk..p.chunk + p.len].copy_from_slice(&src[p.buf..p.buf + p.len]);
        }
        self.write_chunks(file, vec![(key.clone(), b)])
    }
    /// Changes parts of a stored, unfiltered chunk version of `chunk_len` bytes where it is:
    /// each part is (offset in the chunk, offset in `src`, length). Callers pass only versions
    /// no commit names (the file's current write epoch). `Ok(false)` when the store cannot or
    /// the version is not stored; the caller then writes the chunk as usual.
    fn patch_chunk_parts(&self, _file: &str, _key: &ChunkKey, _chunk_len: usize, _parts: &[ChunkPart], _src: &[u8]) -> Result<bool> {
        Ok(false)
    }
    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()>;
    /// Requests sent so far, for stores reached over requests (`RUSTVOL_STATS=1`).
    fn request_summary(&self) -> Option<String> {
        None
    }
}
