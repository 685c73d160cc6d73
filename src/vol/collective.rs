//! File create and open are collective in a parallel program: every rank of the file access
//! list's communicator makes the call, and right after it HDF5 makes collective MPI calls of
//! its own (each copy of the fapl duplicates the communicator, `MPI_Comm_dup`). An outcome
//! that differed between ranks (one rank refused the writer's lock, say) would leave the
//! ranks that succeeded waiting in such a call for the ones that failed, forever. So each
//! rank's outcome is shared, and a failure on any rank fails the call on every rank, with the
//! first failing rank's message: as natively, where MPI-IO opens the file collectively.
use crate::error::{Area, Result, VolError};
use crate::ffi::mpi::Comm;
use hdf5_sys::h5i::hid_t;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The communicator of a file access list when it has more than one rank; a file opened with
/// `MPI_COMM_SELF` (or with no communicator) is one process's, as in a serial program.
pub fn comm_of(fapl: hid_t) -> Result<Option<Comm>> {
    Ok(Comm::of_fapl(fapl)?.filter(|c| c.size() > 1))
}

/// `f`'s outcome on this rank, made the same on every rank of `comm`. A panic in `f` is an
/// error like any other here: unwinding past the agreement would leave the other ranks waiting.
pub fn agreed<T>(comm: Option<&Comm>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let mine = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
        Err(VolError::new(Area::File, format!("internal error (panic): {}", what.unwrap_or_else(|| "unknown panic".into()))))
    });
    match comm {
        None => mine,
        Some(c) => c.agree(mine),
    }
}

/// `H5Dwrite` (or `H5Dwrite_multi`) of datasets, made by `writes`. In a file several ranks
/// write, a collective write (`H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE)`) is a synchronisation
/// point, as every rank makes it: as natively (MPI-IO's collective write changes the file only
/// once every rank has joined it), no rank's data changes before every rank reached the call;
/// a failure on one rank fails it on all; each dataset's writes go to rank 0, and every rank
/// sees all of them after it. An independent write waits for no other rank.
///
/// # Safety
/// `dsets` are dataset handles HDF5 passed to the write callback.
pub unsafe fn write(dsets: impl Iterator<Item = *mut std::ffi::c_void>, dxpl: hid_t, writes: impl FnOnce() -> Result<()>) -> Result<()> {
    let mut parallel = Vec::new();
    for p in dsets {
        // SAFETY: as the caller promises.
        let h = unsafe { super::handle::Handle::from_raw(p)? };
        if let Some(r) = h.file.ranks.get() {
            parallel.push((h, r));
        }
    }
    let Some(&(_, first)) = parallel.first() else { return writes() };
    if !crate::ffi::mpi::collective_transfer(dxpl)? {
        return writes();
    }
    first.comm.barrier()?;
    agreed(Some(&first.comm), writes)?;
    for (h, r) in parallel {
        crate::model::ranks::sync_dataset(&h.file, r, h.obj)?;
    }
    Ok(())
}
