//! Chunk versions of a `dir` store read and written with plain file I/O on the calling thread:
//! `pread` straight into the application's buffer, `write` straight from it. Going through
//! `object_store` instead cost, per chunk, a hand-off to the I/O runtime, a zeroed buffer the
//! size of the chunk (new memory, so every page faulted in) filled by a read, and a copy out of
//! it: reads of 8 MiB chunks ran at a quarter of what the same tmpfs gives native HDF5.
//!
//! The files are the ones `object_store`'s `LocalFileSystem` reads and writes (same paths), and
//! a whole chunk is written as it writes one: into a staging file `<name>#<n>` that is then
//! renamed over the name, so a reader finds the old contents or the new ones. Nothing is
//! synced, as `object_store` (without `with_fsync`) and native HDF5 without `H5Fflush` do not.
use crate::backend::{check_chunk_len, ChunkKey, ChunkPart};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Opens a stored chunk version and checks its length; `None` when it is not stored.
fn open(path: &Path, key: &ChunkKey, chunk_len: usize, write: bool) -> crate::error::Result<Option<File>> {
    let f = match OpenOptions::new().read(true).write(write).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("opening", path, e)),
    };
    let len = f.metadata().map_err(|e| io_err("reading the length of", path, e))?.len();
    check_chunk_len(key, usize::try_from(len).unwrap_or(usize::MAX), chunk_len)?;
    Ok(Some(f))
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> crate::error::VolError {
    crate::error::VolError::new(crate::error::Area::Storage, format!("{what} {}: {e}", path.display()))
}

fn check_parts(parts: &[ChunkPart], chunk_len: usize, buf_len: usize) -> crate::error::Result<()> {
    for p in parts {
        if p.chunk.checked_add(p.len).is_none_or(|e| e > chunk_len) || p.buf.checked_add(p.len).is_none_or(|e| e > buf_len) {
            crate::bail!(crate::error::Area::Storage, "chunk part {p:?} outside a chunk of {chunk_len} bytes or a buffer of {buf_len}");
        }
    }
    Ok(())
}

/// Reads `parts` of the chunk file at `path` into `dst`; `false` when it is not stored.
pub fn read_parts(path: &Path, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], dst: &mut [u8]) -> crate::error::Result<bool> {
    check_parts(parts, chunk_len, dst.len())?;
    let Some(f) = open(path, key, chunk_len, false)? else { return Ok(false) };
    for p in parts {
        // A file shorter than its length said (changed meanwhile) fails here as UnexpectedEof.
        f.read_exact_at(&mut dst[p.buf..p.buf + p.len], p.chunk as u64).map_err(|e| io_err("reading", path, e))?;
    }
    Ok(true)
}

/// Writes `parts` of `src` into the chunk file at `path` where it is; `false` when it is not
/// stored.
pub fn patch_parts(path: &Path, key: &ChunkKey, chunk_len: usize, parts: &[ChunkPart], src: &[u8]) -> crate::error::Result<bool> {
    check_parts(parts, chunk_len, src.len())?;
    let Some(f) = open(path, key, chunk_len, true)? else { return Ok(false) };
    for p in parts {
        f.write_all_at(&src[p.buf..p.buf + p.len], p.chunk as u64).map_err(|e| io_err("writing", path, e))?;
    }
    Ok(true)
}

/// Stores the chunk file at `path`, `chunk_len` bytes from `parts` of `src` (which cover it):
/// staged beside it, then renamed over it.
pub fn write_whole(path: &Path, chunk_len: usize, parts: &[ChunkPart], src: &[u8]) -> crate::error::Result<()> {
    check_parts(parts, chunk_len, src.len())?;
    let (f, staged) = new_staged(path)?;
    let one = parts.len() == 1 && parts[0].chunk == 0 && parts[0].len == chunk_len;
    let done = if one {
        (&f).write_all(&src[parts[0].buf..parts[0].buf + chunk_len])
    } else {
        // Parts land at their places in one file of the chunk's length, one write each.
        f.set_len(chunk_len as u64).and_then(|()| parts.iter().try_for_each(|p| f.write_all_at(&src[p.buf..p.buf + p.len], p.chunk as u64)))
    }
    .and_then(|()| {
        drop(f);
        std::fs::rename(&staged, path)
    });
    if let Err(e) = done {
        let _ = std::fs::remove_file(&staged);
        return Err(io_err("writing", path, e));
    }
    Ok(())
}

/// A new staging file `<path>#<n>`, its directories made as needed (as `object_store` does).
fn new_staged(path: &Path) -> crate::error::Result<(File, PathBuf)> {
    let mut n = 1u32;
    let mut made_dirs = false;
    loop {
        let mut s = path.as_os_str().to_owned();
        s.push(format!("#{n}"));
        let staged = PathBuf::from(s);
        match OpenOptions::new().write(true).create_new(true).open(&staged) {
            Ok(f) => return Ok((f, staged)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => n += 1,
            Err(e) if e.kind() == ErrorKind::NotFound && !made_dirs => {
                made_dirs = true;
                if let Some(dir) = staged.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
                }
            }
            Err(e) => return Err(io_err("creating", &staged, e)),
        }
    }
}
