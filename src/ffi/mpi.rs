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
        fn rv_mpi_fapl_is_mpio(fapl: hid_t) -> c_int;
        fn rv_mpi_rank(c: *const RvComm) -> c_int;
        fn rv_mpi_size(c: *const RvComm) -> c_int;
        fn rv_mpi_barrier(c: *mut RvComm, timeout_ms: std::ffi::c_long) -> c_int;
        fn rv_mpi_bcast(c: *mut RvComm, buf: *mut c_void, len: usize, root: c_int, timeout_ms: std::ffi::c_long) -> c_int;
        fn rv_mpi_allreduce_max(c: *mut RvComm, v: *mut i64, timeout_ms: std::ffi::c_long) -> c_int;
        fn rv_mpi_allgather_u64(c: *mut RvComm, n: u64, out: *mut u64, timeout_ms: std::ffi::c_long) -> c_int;
        fn rv_mpi_gatherv(
            c: *mut RvComm,
            input: *const c_void,
            len: c_int,
            out: *mut c_void,
            counts: *const c_int,
            displs: *const c_int,
            root: c_int,
            timeout_ms: std::ffi::c_long,
        ) -> c_int;
        fn rv_mpi_free(c: *mut RvComm);
        fn rv_mpi_dxpl_collective(dxpl: hid_t) -> c_int;
    }

    /// Whether a data transfer list asks for collective transfers (`H5Pset_dxpl_mpio`).
    pub fn collective_transfer(dxpl: hid_t) -> Result<bool> {
        // SAFETY: `dxpl` is an id HDF5 passed; the shim only queries it.
        match unsafe { rv_mpi_dxpl_collective(dxpl) } {
            r if r < 0 => Err(VolError::new(Area::Dataset, "unable to get the MPI-I/O transfer mode of the data transfer list")),
            r => Ok(r == 1),
        }
    }

    /// Whether the file access list names HDF5's MPI-IO driver (`H5Pset_fapl_mpio`).
    pub fn fapl_is_mpio(fapl: hid_t) -> bool {
        // SAFETY: `fapl` is an id HDF5 passed; the shim only queries it.
        unsafe { rv_mpi_fapl_is_mpio(fapl) == 1 }
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

    /// How long one of rustvol's collective calls waits for the other ranks
    /// (`RUSTVOL_MPI_TIMEOUT`, seconds, default 600): past it the call fails instead of
    /// hanging the program when ranks disagree about which collective calls they make.
    fn timeout_ms() -> std::ffi::c_long {
        static T: once_cell::sync::Lazy<std::ffi::c_long> = once_cell::sync::Lazy::new(|| {
            std::env::var("RUSTVOL_MPI_TIMEOUT").ok().and_then(|v| v.trim().parse::<f64>().ok()).map(|s| (s * 1000.0) as std::ffi::c_long).unwrap_or(600_000)
        });
        *T
    }

    fn outcome(rc: c_int, what: &str) -> Result<()> {
        match rc {
            0 => Ok(()),
            1 => Err(VolError::new(
                Area::File,
                format!(
                    "the other ranks of the file's communicator did not reach the same collective call ({what}, or an earlier one of rustvol's) within {} s (RUSTVOL_MPI_TIMEOUT); rustvol makes no more collective calls on it",
                    timeout_ms() / 1000
                ),
            )),
            _ => Err(VolError::new(Area::File, format!("MPI {what} failed"))),
        }
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
            outcome(unsafe { rv_mpi_barrier(self.raw.as_ptr(), timeout_ms()) }, "barrier")
        }

        /// Root's bytes into every rank's `buf` (all ranks pass the same length).
        pub fn bcast(&self, buf: &mut [u8], root: usize) -> Result<()> {
            // SAFETY: a live rv_comm and a buffer of the length passed.
            outcome(unsafe { rv_mpi_bcast(self.raw.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), root as c_int, timeout_ms()) }, "broadcast")
        }

        /// The largest of every rank's `v`.
        pub fn max(&self, v: i64) -> Result<i64> {
            let mut v = v;
            // SAFETY: a live rv_comm and a local.
            outcome(unsafe { rv_mpi_allreduce_max(self.raw.as_ptr(), &mut v, timeout_ms()) }, "allreduce")?;
            Ok(v)
        }
    }

    impl Comm {
        /// Every rank's `mine`, on root (in rank order); `None` on the other ranks. Sent in
        /// rounds, as MPI counts bytes in ints.
        pub fn gather_bytes(&self, mine: &[u8], root: usize) -> Result<Option<Vec<Vec<u8>>>> {
            let mut sizes = vec![0u64; self.size];
            // SAFETY: a live rv_comm and room for one value per rank.
            outcome(unsafe { rv_mpi_allgather_u64(self.raw.as_ptr(), mine.len() as u64, sizes.as_mut_ptr(), timeout_ms()) }, "allgather")?;
            let per = (i32::MAX as u64 / self.size as u64).max(1);
            let rounds = sizes.iter().map(|&n| n.div_ceil(per)).max().unwrap_or(0);
            let mut out: Vec<Vec<u8>> = sizes.iter().map(|&n| Vec::with_capacity(if self.rank == root { n as usize } else { 0 })).collect();
            for round in 0..rounds {
                let piece = |n: u64| n.saturating_sub(round * per).min(per);
                let counts: Vec<c_int> = sizes.iter().map(|&n| piece(n) as c_int).collect();
                let mut displs = Vec::with_capacity(self.size);
                let mut total = 0 as c_int;
                for &c in &counts {
                    displs.push(total);
                    total += c;
                }
                let mut recv = vec![0u8; if self.rank == root { total as usize } else { 0 }];
                let from = (round * per).min(mine.len() as u64) as usize;
                let send = &mine[from..from + piece(mine.len() as u64) as usize];
                // SAFETY: a live rv_comm; buffers of the lengths the counts give.
                outcome(
                    unsafe {
                        rv_mpi_gatherv(
                            self.raw.as_ptr(),
                            send.as_ptr().cast(),
                            send.len() as c_int,
                            recv.as_mut_ptr().cast(),
                            counts.as_ptr(),
                            displs.as_ptr(),
                            root as c_int,
                            timeout_ms(),
                        )
                    },
                    "gather",
                )?;
                if self.rank == root {
                    for (r, o) in out.iter_mut().enumerate() {
                        o.extend_from_slice(&recv[displs[r] as usize..(displs[r] + counts[r]) as usize]);
                    }
                }
            }
            Ok((self.rank == root).then_some(out))
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

    /// A plugin built without MPI serves no MPI-IO file access list.
    pub fn fapl_is_mpio(_fapl: hid_t) -> bool {
        false
    }

    /// No value exists: a plugin built without MPI never has a communicator.
    pub enum Comm {}

    /// Only files with a communicator ask (none exist here).
    pub fn collective_transfer(_dxpl: hid_t) -> Result<bool> {
        Ok(false)
    }

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
        pub fn gather_bytes(&self, _mine: &[u8], _root: usize) -> Result<Option<Vec<Vec<u8>>>> {
            match *self {}
        }
    }
}

pub use imp::{collective_transfer, fapl_is_mpio, Comm};

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
