//! The communicator a parallel HDF5 program puts in its file access list (`H5Pset_fapl_mpio`,
//! `H5Pset_mpi_params`), reached through the C shim `mpi_shim.c`. Without the `mpi` feature
//! there is no communicator: `Comm` has no values and every file is one process's, as before.
use crate::error::{Area, Result, VolError};
use hdf5_sys::h5i::hid_t;

#[cfg(feature = "mpi")]
mod imp {
    use super::*;
    use std::ffi::{c_int, c_void};
    use std::ptr::NonNull;

    #[repr(C)]
    pub struct RvComm {
        _opaque: [u8; 0],
    }

    extern "C" {
        fn rv_mpi_comm_of_fapl(fapl: hid_t, out: *mut *mut RvComm) -> c_int;
        fn rv_mpi_rank(c: *const RvComm) -> c_int;
        fn rv_mpi_size(c: *const RvComm) -> c_int;
        fn rv_mpi_barrier(c: *mut RvComm) -> c_int;
        fn rv_mpi_bcast(c: *mut RvComm, buf: *mut c_void, len: usize, root: c_int) -> c_int;
        fn rv_mpi_allreduce_max(c: *mut RvComm, v: *mut i64) -> c_int;
        fn rv_mpi_free(c: *mut RvComm);
    }

    /// A duplicate of the application's communicator, freed on drop.
    pub struct Comm {
        raw: NonNull<RvComm>,
        rank: usize,
        size: usize,
    }

    // SAFETY: the communicator is only used from HDF5's callbacks, which HDF5 serialises; MPI
    // itself allows calls on one communicator from any thread the application's thread level
    // permits, and rustvol makes them only on the thread that called into HDF5.
    unsafe impl Send for Comm {}
    // SAFETY: as for Send.
    unsafe impl Sync for Comm {}

    fn failed(what: &str) -> VolError {
        VolError::new(Area::File, format!("MPI {what} failed"))
    }

    impl Comm {
        /// The fapl's communicator; `None` when it has none or MPI is not running.
        pub fn of_fapl(fapl: hid_t) -> Result<Option<Comm>> {
            let mut p = std::ptr::null_mut();
            // SAFETY: `fapl` is an id HDF5 passed; the shim writes a pointer it owns or NULL.
            if unsafe { rv_mpi_comm_of_fapl(fapl, &mut p) } < 0 {
                return Err(VolError::new(Area::File, "unable to get the MPI communicator from the file access list"));
            }
            let Some(raw) = NonNull::new(p) else { return Ok(None) };
            // SAFETY: `raw` is a live rv_comm from the shim.
            let (rank, size) = unsafe { (rv_mpi_rank(raw.as_ptr()), rv_mpi_size(raw.as_ptr())) };
            Ok(Some(Comm { raw, rank: rank as usize, size: size as usize }))
        }

        pub fn rank(&self) -> usize {
            self.rank
        }

        pub fn size(&self) -> usize {
            self.size
        }

        pub fn barrier(&self) -> Result<()> {
            // SAFETY: a live rv_comm.
            if unsafe { rv_mpi_barrier(self.raw.as_ptr()) } != 0 {
                return Err(failed("barrier"));
            }
            Ok(())
        }

        /// Root's bytes into every rank's `buf` (all ranks pass the same length).
        pub fn bcast(&self, buf: &mut [u8], root: usize) -> Result<()> {
            // SAFETY: a live rv_comm and a buffer of the length passed.
            if unsafe { rv_mpi_bcast(self.raw.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), root as c_int) } != 0 {
                return Err(failed("broadcast"));
            }
            Ok(())
        }

        /// The largest of every rank's `v`.
        pub fn max(&self, v: i64) -> Result<i64> {
            let mut v = v;
            // SAFETY: a live rv_comm and a local.
            if unsafe { rv_mpi_allreduce_max(self.raw.as_ptr(), &mut v) } != 0 {
                return Err(failed("allreduce"));
            }
            Ok(v)
        }
    }

    impl Drop for Comm {
        fn drop(&mut self) {
            // SAFETY: the rv_comm is this value's own and freed once.
            unsafe { rv_mpi_free(self.raw.as_ptr()) }
        }
    }
}

#[cfg(not(feature = "mpi"))]
mod imp {
    use super::*;

    /// No value exists: a plugin built without MPI never has a communicator.
    pub enum Comm {}

    impl Comm {
        pub fn of_fapl(_fapl: hid_t) -> Result<Option<Comm>> {
            Ok(None)
        }
        pub fn rank(&self) -> usize {
            match *self {}
        }
        pub fn size(&self) -> usize {
            match *self {}
        }
        pub fn barrier(&self) -> Result<()> {
            match *self {}
        }
        pub fn bcast(&self, _buf: &mut [u8], _root: usize) -> Result<()> {
            match *self {}
        }
        pub fn max(&self, _v: i64) -> Result<i64> {
            match *self {}
        }
    }
}

pub use imp::Comm;

impl Comm {
    /// Makes an error on any rank an error on every rank: each passes its own outcome and
    /// all get the first failing rank's message (or Ok when none failed).
    pub fn agree<T>(&self, mine: Result<T>) -> Result<T> {
        let failed_rank = if mine.is_err() { self.rank() as i64 } else { -1 };
        // Lowest failing rank: max over (size - rank) of the failing ones.
        let key = if failed_rank >= 0 { (self.size() as i64) - failed_rank } else { 0 };
        let top = self.max(key)?;
        if top == 0 {
            return mine;
        }
        let root = (self.size() as i64 - top) as usize;
        let mut msg = match &mine {
            Err(e) if self.rank() == root => e.msg.clone().into_bytes(),
            _ => Vec::new(),
        };
        let mut len = (msg.len() as u64).to_le_bytes();
        self.bcast(&mut len, root)?;
        msg.resize(u64::from_le_bytes(len) as usize, 0);
        self.bcast(&mut msg, root)?;
        match mine {
            Err(e) => Err(e),
            Ok(_) => Err(VolError::new(Area::File, format!("rank {root}: {}", String::from_utf8_lossy(&msg)))),
        }
    }
}
