//! Who may have a file open at once, across processes, as native HDF5 decides it (`H5F_open`,
//! `H5FD_sec2_lock`): a writer holds the file exclusively, readers share it; a SWMR writer lets
//! SWMR readers in but no other writer and no plain reader. Within one process a file is
//! opened once and shared (`model::open_file`), so a lock is per process, never per open.
//!
//! On `dir` the locks are kernel `flock`s on two files inside the file's directory, released by
//! the kernel when the process dies. `lease` does the same for stores without locks.
use crate::error::{Area, Result, VolError};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The lock file every opener takes (shared: readers; exclusive: writers).
pub const OPEN_LOCK: &str = ".lock";
/// The lock file writers hold exclusively (SWMR writers included) for as long as the file is
/// open, where native HDF5 marks the superblock "open for write".
pub const WRITER_LOCK: &str = ".lock-writer";

/// The lock file a commit holds while it checks and replaces the manifest.
pub const COMMIT_LOCK: &str = ".lock-commit";

/// Waits for the commit lock of the file kept in `dir`: held while a commit looks at the
/// manifest and replaces it, so on `dir` no two commits interleave there even when open locks
/// are disabled. `Ok(None)` where the file system has no locks; an error when another process
/// holds it for longer than any commit takes (stopped, or stuck on a network file system).
pub fn commit_lock(dir: &Path) -> Result<Option<File>> {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(60);
    let Ok(f) = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(dir.join(COMMIT_LOCK)) else {
        return Ok(None);
    };
    let start = std::time::Instant::now();
    loop {
        // SAFETY: flock on a descriptor this function owns; the kernel drops it with the file.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(f));
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
            // ENOLCK, EINVAL: a file system without locks.
            _ => return Ok(None),
        }
        if start.elapsed() > WAIT {
            return Err(VolError::new(
                Area::File,
                format!("another process has held the commit lock {} for over {} s: commit not made", dir.join(COMMIT_LOCK).display(), WAIT.as_secs()),
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// How an open wants to hold a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRequest {
    pub write: bool,
    /// `H5F_ACC_SWMR_WRITE` with `write`, `H5F_ACC_SWMR_READ` without.
    pub swmr: bool,
    /// `H5Pset_file_locking(.., ignore_when_disabled)`: a store where locks do not work is no
    /// error.
    pub ignore_disabled: bool,
}

/// A lock held for as long as the value lives.
pub trait HeldLock: Send + Sync {
    /// Turns a reader's hold into a writer's (a file open read-only in this process opened
    /// again for writing), or fails leaving the reader's hold as it was.
    fn upgrade(&mut self, req: &LockRequest) -> Result<()>;
    /// Whether the hold is still good, before a commit relies on it (a lease that could not be
    /// renewed in time may have been taken over).
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// A unique id for one holder of a file (a lease, a writer's commits): host, process, time,
/// and a counter.
pub fn holder_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // Read once: every open asks for ids, and the host does not change under a process.
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect()
    });
    format!("{host}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Why another opener holds the file, in the words HDF5 uses.
pub fn refused(name: &str, why: impl std::fmt::Display) -> VolError {
    VolError::new(Area::File, format!("unable to lock the file {name:?}: {why}"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Shared,
    Exclusive,
}

/// Outcome of one non-blocking `flock`.
enum Flock {
    Taken,
    Busy,
    /// The file system does not do locks (ENOSYS, ENOLCK, EOPNOTSUPP).
    Unsupported(std::io::Error),
}

fn flock(f: &File, mode: Mode) -> std::io::Result<Flock> {
    let op = match mode {
        Mode::Shared => libc::LOCK_SH,
        Mode::Exclusive => libc::LOCK_EX,
    };
    // SAFETY: flock on a descriptor this File owns; no memory is passed.
    if unsafe { libc::flock(f.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
        return Ok(Flock::Taken);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(Flock::Busy),
        Some(libc::ENOSYS) | Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP) => Ok(Flock::Unsupported(e)),
        _ => Err(e),
    }
}

fn unlock(f: &File) {
    // SAFETY: as in `flock`. Closing the file would release the lock as well.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
}

/// A file's locks in a directory store.
pub struct DirLock {
    name: String,
    dir: PathBuf,
    open: Option<File>,
    writer: Option<File>,
    ignore_disabled: bool,
}

impl DirLock {
    /// Takes the locks `req` asks for on the file kept in `dir` (created if missing), or says
    /// who holds it.
    pub fn acquire(name: &str, dir: &Path, req: &LockRequest) -> Result<DirLock> {
        let mut l = DirLock { name: name.to_string(), dir: dir.to_path_buf(), open: None, writer: None, ignore_disabled: req.ignore_disabled };
        l.take(req)?;
        Ok(l)
    }

    fn file(&self, which: &str, write: bool) -> Result<Option<File>> {
        let path = self.dir.join(which);
        if write {
            std::fs::create_dir_all(&self.dir).map_err(|e| refused(&self.name, format!("cannot create {}: {e}", self.dir.display())))?;
        }
        match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path) {
            Ok(f) => Ok(Some(f)),
            // A reader of a store it may not write to: a lock file already there can still be
            // locked read-only, a missing one means no writer ever opened the file here.
            Err(e) if !write => match File::open(&path) {
                Ok(f) => Ok(Some(f)),
                Err(_) => {
                    log::debug!("{}: no lock file and none can be made ({e}): opening unlocked", path.display());
                    Ok(None)
                }
            },
            Err(e) => Err(refused(&self.name, format!("cannot open the lock file {}: {e}", path.display()))),
        }
    }

    /// One flock, mapping failures to HDF5's words; `Ok(false)` when locks are unsupported and
    /// that is to be ignored.
    fn lock(&self, f: &File, which: &str, mode: Mode, busy: &str) -> Result<bool> {
        let path = self.dir.join(which);
        match flock(f, mode) {
            Ok(Flock::Taken) => Ok(true),
            Ok(Flock::Busy) => Err(refused(&self.name, format!("{busy} (lock {} is held)", path.display()))),
            Ok(Flock::Unsupported(e)) if self.ignore_disabled => {
                log::debug!("{}: locks unsupported ({e}), ignored as asked", path.display());
                Ok(false)
            }
            Ok(Flock::Unsupported(e)) | Err(e) => Err(refused(
                &self.name,
                format!("{} cannot be locked: {e} (use HDF5_USE_FILE_LOCKING=FALSE or H5Pset_file_locking to open without locks)", path.display()),
            )),
        }
    }

    fn take(&mut self, req: &LockRequest) -> Result<()> {
        let Some(open) = self.file(OPEN_LOCK, req.write)? else { return Ok(()) };
        let mode = if req.write { Mode::Exclusive } else { Mode::Shared };
        let busy = if req.write { "the file is already open in another process" } else { "another process has the file open for writing" };
        self.lock(&open, OPEN_LOCK, mode, busy)?;
        let writer = match self.file(WRITER_LOCK, req.write)? {
            Some(w) if req.write => {
                // A SWMR writer keeps no open lock, so only this one tells writers apart.
                if let Err(e) = self.lock(&w, WRITER_LOCK, Mode::Exclusive, "another process has the file open for SWMR writing") {
                    unlock(&open);
                    return Err(e);
                }
                Some(w)
            }
            Some(w) if !req.swmr => {
                // A plain reader is refused while a SWMR writer works (native: "file is
                // already open for write"); it need not keep this lock, its open lock keeps
                // later writers out.
                let probe = self.lock(&w, WRITER_LOCK, Mode::Shared, "another process has the file open for SWMR writing");
                unlock(&w);
                if let Err(e) = probe {
                    unlock(&open);
                    return Err(e);
                }
                None
            }
            _ => None,
        };
        if req.write && req.swmr {
            // As native, a SWMR writer lets go of the open lock once it holds the file, so
            // SWMR readers can come in.
            unlock(&open);
            self.open = None;
        } else {
            self.open = Some(open);
        }
        self.writer = writer;
        Ok(())
    }
}

impl HeldLock for DirLock {
    fn upgrade(&mut self, req: &LockRequest) -> Result<()> {
        if self.writer.is_some() {
            return Ok(());
        }
        // flock converts a shared lock by dropping it first, so on failure the reader's hold is
        // taken back.
        let was = self.open.take();
        if let Some(f) = &was {
            unlock(f);
        }
        drop(was);
        match self.take(req) {
            Ok(()) => Ok(()),
            Err(e) => {
                let back = LockRequest { write: false, swmr: false, ..*req };
                if let Err(e2) = self.take(&back) {
                    log::warn!("{}: could not take back the read lock: {}", self.name, e2.msg);
                }
                Err(e)
            }
        }
    }
}

// Dropping the files releases their locks when no other descriptor shares them. No explicit
// unlock: a child forked while the file was open shares the descriptors, and its closing the
// file must not release the parent's locks.

#[cfg(test)]
mod tests {
    use super::*;

    fn req(write: bool, swmr: bool) -> LockRequest {
        LockRequest { write, swmr, ignore_disabled: false }
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rustvol-lock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        // The file's directory exists whenever the file does.
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    // flock locks belong to open file descriptions, so two DirLocks in one process conflict as
    // two processes would.
    #[test]
    fn a_writer_excludes_writers_and_readers_and_readers_share() {
        let d = dir("excl");
        let w = DirLock::acquire("f", &d, &req(true, false)).unwrap();
        let e = DirLock::acquire("f", &d, &req(true, false)).err().unwrap();
        assert!(e.msg.contains("unable to lock the file"), "{}", e.msg);
        assert!(DirLock::acquire("f", &d, &req(false, false)).is_err());
        assert!(DirLock::acquire("f", &d, &req(false, true)).is_err());
        drop(w);
        let r1 = DirLock::acquire("f", &d, &req(false, false)).unwrap();
        let r2 = DirLock::acquire("f", &d, &req(false, false)).unwrap();
        assert!(DirLock::acquire("f", &d, &req(true, false)).is_err());
        drop((r1, r2));
        assert!(DirLock::acquire("f", &d, &req(true, false)).is_ok());
    }

    #[test]
    fn a_swmr_writer_admits_swmr_readers_only() {
        let d = dir("swmr");
        let w = DirLock::acquire("f", &d, &req(true, true)).unwrap();
        let r = DirLock::acquire("f", &d, &req(false, true)).unwrap();
        assert!(DirLock::acquire("f", &d, &req(false, false)).is_err());
        assert!(DirLock::acquire("f", &d, &req(true, false)).is_err());
        assert!(DirLock::acquire("f", &d, &req(true, true)).is_err());
        drop((w, r));
        assert!(DirLock::acquire("f", &d, &req(false, false)).is_ok());
    }

    #[test]
    fn upgrade_fails_while_another_reads_and_keeps_the_read_lock() {
        let d = dir("upgrade");
        let mut a = DirLock::acquire("f", &d, &req(false, false)).unwrap();
        let b = DirLock::acquire("f", &d, &req(false, false)).unwrap();
        assert!(a.upgrade(&req(true, false)).is_err());
        // a still reads: no writer can come in once b is gone.
        drop(b);
        assert!(DirLock::acquire("f", &d, &req(true, false)).is_err());
        a.upgrade(&req(true, false)).unwrap();
        assert!(DirLock::acquire("f", &d, &req(false, false)).is_err());
    }
}
