//! The chunk cache parameters a dataset opens with, as `H5D__chunk_init` takes them: the
//! dataset access list's where it sets them, otherwise the file access list's (`H5Pset_cache`).
use super::handle::Handle;
use crate::model::chunk_cache::Params;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{H5P_DEFAULT};
use crate::ffi::h5::{H5Pexist, H5Pget, H5Pget_cache};

/// The dataset access list's own setting `name` ("unset" is HDF5's default marker, which
/// `H5Pget_chunk_cache` would replace by the default file access list's value). A list without
/// the property (an object access list) has no setting, and leaves no error on the stack.
///
/// # Safety
/// `dapl` is a live property list id; `T` is the property's C type.
unsafe fn own<T: Copy + PartialEq>(dapl: hid_t, name: &std::ffi::CStr, unset: T) -> Option<T> {
    // SAFETY: queries on a live list, writing one `T`, the property's own type.
    unsafe {
        if H5Pexist(dapl, name.as_ptr()) <= 0 {
            return None;
        }
        let mut v = unset;
        if H5Pget(dapl, name.as_ptr(), &mut v as *mut T as *mut std::ffi::c_void) < 0 || v == unset {
            return None;
        }
        Some(v)
    }
}

/// # Safety
/// Inside a callback; `h` is a dataset handle whose `apl` (if any) is a live dataset access list.
pub unsafe fn of(h: &Handle, dapl: Option<hid_t>) -> Params {
    let mut p = Params::NATIVE_DEFAULT;
    if let Some(fapl) = h.file_apl() {
        let (mut mdc, mut nslots, mut nbytes, mut w0) = (0, 0usize, 0usize, 0f64);
        // SAFETY: the file's live access list; HDF5 writes the four values.
        if unsafe { H5Pget_cache(fapl, &mut mdc, &mut nslots, &mut nbytes, &mut w0) } >= 0 {
            p = Params { nslots, nbytes, w0 };
        }
    }
    let dapl = dapl.or(h.apl.as_ref().map(|a| a.id)).filter(|&id| id != H5P_DEFAULT && id > 0);
    if let Some(dapl) = dapl {
        if let Some(n) = own(dapl, c"rdcc_nslots", usize::MAX) {
            p.nslots = n;
        }
        if let Some(n) = own(dapl, c"rdcc_nbytes", usize::MAX) {
            p.nbytes = n;
        }
        if let Some(w0) = own(dapl, c"rdcc_w0", -1f64).filter(|&w| w >= 0.0) {
            p.w0 = w0;
        }
    }
    p
}
