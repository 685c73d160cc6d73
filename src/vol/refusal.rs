//! The class a libhdf5 gets when rustvol cannot bind to it (`ffi::h5api`): an HDF5 version
//! rustvol does not know, one lacking a function rustvol calls, or a second libhdf5 in a
//! process where rustvol is bound to another.
//!
//! Refusing to hand over any class would be cleaner, but HDF5 2.0 does not survive it: a
//! default connector (`HDF5_VOL_CONNECTOR`) that cannot be loaded fails the library's
//! initialisation half-way, and the next `H5Fcreate` dereferences the missing connector
//! (SIGSEGV, measured with h5py 3.16.0's wheel and any unknown connector name). So the loader gets
//! a class that registers, initialises and terminates without doing anything, and fails every
//! file operation with the reason on the loader's own error stack. None of its callbacks calls
//! HDF5 through rustvol's binding.
use super::CONNECTOR_NAME;
use crate::ffi::loader::{self, Library};
use crate::ffi::vol_bindings::*;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::io::Write;
use std::sync::OnceLock;

struct Refusal {
    loader: Library,
    message: String,
}

static REFUSAL: OnceLock<Refusal> = OnceLock::new();

/// Remembers why rustvol refuses `loader`, and returns the class to give it.
pub fn class_for(loader: Library, message: String) -> *const c_void {
    let _ = REFUSAL.set(Refusal { loader, message });
    &CLASS.0 as *const H5VL_class_t as *const c_void
}

/// Reports the refusal as the failure of `func`: on the loader's error stack, or on standard
/// error when that cannot be reached.
fn refuse(func: &CStr) {
    let Some(r) = REFUSAL.get() else { return };
    if !loader::push_error(&r.loader, func, &r.message) {
        // Not eprintln!: a panic here would abort the host.
        let _ = writeln!(std::io::stderr(), "rustvol: {}", r.message);
    }
}

static CLASS: once_cell::sync::Lazy<super::ClassTable> = once_cell::sync::Lazy::new(|| {
    super::ClassTable(H5VL_class_t {
        version: 3,
        value: super::CONNECTOR_VALUE,
        name: CONNECTOR_NAME.as_ptr(),
        conn_version: 1,
        cap_flags: 0,
        initialize: Some(initialize),
        terminate: Some(terminate),
        // Pure Rust: the info string of HDF5_VOL_CONNECTOR is parsed and copied without HDF5.
        info_cls: super::info::CLASS,
        wrap_cls: H5VL_wrap_class_t::default(),
        attr_cls: H5VL_attr_class_t::default(),
        dataset_cls: H5VL_dataset_class_t::default(),
        datatype_cls: H5VL_datatype_class_t::default(),
        file_cls: H5VL_file_class_t {
            create: Some(file_create),
            open: Some(file_open),
            get: None,
            specific: Some(file_specific),
            optional: None,
            close: None,
        },
        group_cls: H5VL_group_class_t::default(),
        link_cls: H5VL_link_class_t::default(),
        object_cls: H5VL_object_class_t::default(),
        introspect_cls: H5VL_introspect_class_t {
            get_conn_cls: Some(get_conn_cls),
            get_cap_flags: Some(get_cap_flags),
            opt_query: Some(opt_query),
        },
        request_cls: H5VL_request_class_t::default(),
        blob_cls: H5VL_blob_class_t::default(),
        token_cls: H5VL_token_class_t::default(),
        optional: None,
    })
});

unsafe extern "C" fn initialize(_vipl: hid_t) -> herr_t {
    0
}

unsafe extern "C" fn terminate() -> herr_t {
    0
}

unsafe extern "C" fn file_create(_name: *const c_char, _flags: c_uint, _fcpl: hid_t, _fapl: hid_t, _dxpl: hid_t, _req: *mut *mut c_void) -> *mut c_void {
    refuse(c"file_create");
    std::ptr::null_mut()
}

unsafe extern "C" fn file_open(_name: *const c_char, _flags: c_uint, _fapl: hid_t, _dxpl: hid_t, _req: *mut *mut c_void) -> *mut c_void {
    refuse(c"file_open");
    std::ptr::null_mut()
}

/// `H5Fis_accessible`, `H5Fdelete` (no file object exists to flush or compare).
unsafe extern "C" fn file_specific(_obj: *mut c_void, _args: *mut H5VL_file_specific_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    refuse(c"file_specific");
    -1
}

unsafe extern "C" fn get_conn_cls(_obj: *mut c_void, _lvl: H5VL_get_conn_lvl_t, cls: *mut *const H5VL_class_t) -> herr_t {
    if cls.is_null() {
        return -1;
    }
    // SAFETY: HDF5 gives an output slot for the class.
    unsafe { *cls = &CLASS.0 };
    0
}

unsafe extern "C" fn get_cap_flags(_info: *const c_void, flags: *mut u64) -> herr_t {
    if flags.is_null() {
        return -1;
    }
    // SAFETY: HDF5 gives an output slot for the flags.
    unsafe { *flags = 0 };
    0
}

unsafe extern "C" fn opt_query(_obj: *mut c_void, _cls: H5VL_subclass_t, _op: c_int, flags: *mut u64) -> herr_t {
    if flags.is_null() {
        return -1;
    }
    // SAFETY: HDF5 gives an output slot for the flags.
    unsafe { *flags = 0 };
    0
}
