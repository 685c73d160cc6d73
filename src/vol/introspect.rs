//! Introspection: the connector's class, its capability flags, and which optional
//! operations it implements.
use super::{guard, CAP_FLAGS, CLASS};
use crate::ffi::vol_bindings::*;
use std::ffi::{c_int, c_void};

pub unsafe extern "C" fn get_conn_cls(_obj: *mut c_void, lvl: H5VL_get_conn_lvl_t, cls: *mut *const H5VL_class_t) -> herr_t {
    guard::status("get_conn_cls", || {
        if lvl == H5VL_GET_CONN_LVL_TERM {
            super::native_check::before_native_check();
        }
        // SAFETY: HDF5 gives an output slot for the class pointer.
        unsafe { *cls = &CLASS.0 };
        Ok(())
    })
}

pub unsafe extern "C" fn get_cap_flags(_info: *const c_void, flags: *mut u64) -> herr_t {
    guard::status("get_cap_flags", || {
        // SAFETY: HDF5 gives an output slot for the flags.
        unsafe { *flags = CAP_FLAGS };
        Ok(())
    })
}

/// No native-only optional operation is implemented; HDF5 then skips or refuses them cleanly.
pub unsafe extern "C" fn opt_query(_obj: *mut c_void, _cls: H5VL_subclass_t, _op: c_int, flags: *mut u64) -> herr_t {
    guard::status("opt_query", || {
        // SAFETY: HDF5 gives an output slot for the flags.
        unsafe { *flags = 0 };
        Ok(())
    })
}
