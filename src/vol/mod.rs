//! The C ABI: the `H5VL_class_t` HDF5 loads, and one small trampoline per callback that
//! decodes arguments, calls the model and reports errors on HDF5's error stack.
pub mod attr;
pub mod cache_params;
pub mod collective;
pub mod dataset;
pub mod committed;
pub mod datatype;
pub mod errors;
pub mod file;
pub mod group;
pub mod guard;
pub mod h5util;
pub mod handle;
pub mod info;
pub mod introspect;
pub mod link;
pub mod locking;
pub mod native_check;
pub mod object;
pub mod pipeline;
pub mod refusal;
pub mod token;
pub mod refs;
pub mod reftypes;
pub mod transfer;
pub mod vlen;
pub mod xform;

use crate::ffi::vol_bindings::*;
use std::ffi::c_void;

pub const CONNECTOR_NAME: &std::ffi::CStr = c"rustvol";
/// Outside every value registered with The HDF Group that this project knows of
/// (native 0, pass-through 1, async 512, cache 513, log 514, external pass-through 517,
/// LowFive 510, REST 520, DAOS 4004, ArrayMorph 12202).
pub const CONNECTOR_VALUE: H5VL_class_value_t = 7770;

/// What works, exactly: the API test suite turns an unset flag into skipped tests.
pub const CAP_FLAGS: u64 = (H5VL_CAP_FLAG_ATTR_BASIC
    | H5VL_CAP_FLAG_ATTR_MORE
    | H5VL_CAP_FLAG_DATASET_BASIC
    | H5VL_CAP_FLAG_DATASET_MORE
    | H5VL_CAP_FLAG_FILE_BASIC
    | H5VL_CAP_FLAG_FILE_MORE
    | H5VL_CAP_FLAG_GROUP_BASIC
    | H5VL_CAP_FLAG_GROUP_MORE
    | H5VL_CAP_FLAG_LINK_BASIC
    | H5VL_CAP_FLAG_LINK_MORE
    | H5VL_CAP_FLAG_OBJECT_BASIC
    | H5VL_CAP_FLAG_OBJECT_MORE
    | H5VL_CAP_FLAG_STORED_DATATYPES
    | H5VL_CAP_FLAG_CREATION_ORDER
    | H5VL_CAP_FLAG_ITERATE
    | H5VL_CAP_FLAG_STORAGE_SIZE
    | H5VL_CAP_FLAG_BY_IDX
    | H5VL_CAP_FLAG_GET_PLIST
    | H5VL_CAP_FLAG_FLUSH_REFRESH
    | H5VL_CAP_FLAG_EXTERNAL_LINKS
    | H5VL_CAP_FLAG_HARD_LINKS
    | H5VL_CAP_FLAG_SOFT_LINKS) as u64
    | H5VL_CAP_FLAG_FILL_VALUES
    | H5VL_CAP_FLAG_TRACK_TIMES
    | H5VL_CAP_FLAG_FILTERS
    | H5VL_CAP_FLAG_UD_LINKS;

/// The class table, built once; HDF5 copies it on registration.
pub struct ClassTable(pub H5VL_class_t);
// SAFETY: the table is immutable after construction; its pointers are to 'static data.
unsafe impl Sync for ClassTable {}
// SAFETY: as above; nothing in the table is tied to a thread.
unsafe impl Send for ClassTable {}

pub static CLASS: once_cell::sync::Lazy<ClassTable> = once_cell::sync::Lazy::new(|| {
    ClassTable(H5VL_class_t {
        version: 3,
        value: CONNECTOR_VALUE,
        name: CONNECTOR_NAME.as_ptr(),
        conn_version: 1,
        cap_flags: CAP_FLAGS,
        initialize: Some(initialize),
        terminate: Some(terminate),
        info_cls: info::CLASS,
        wrap_cls: H5VL_wrap_class_t::default(),
        attr_cls: H5VL_attr_class_t {
            create: Some(attr::create),
            open: Some(attr::open),
            read: Some(attr::read),
            write: Some(attr::write),
            get: Some(attr::get),
            specific: Some(attr::specific),
            optional: Some(attr::optional),
            close: Some(attr::close),
        },
        dataset_cls: H5VL_dataset_class_t {
            create: Some(dataset::create),
            open: Some(dataset::open),
            read: Some(dataset::read),
            write: Some(dataset::write),
            get: Some(dataset::get),
            specific: Some(dataset::specific),
            optional: Some(dataset::optional),
            close: Some(dataset::close),
        },
        datatype_cls: H5VL_datatype_class_t {
            commit: Some(datatype::commit),
            open: Some(datatype::open),
            get: Some(datatype::get),
            specific: Some(datatype::specific),
            optional: Some(datatype::optional),
            close: Some(datatype::close),
        },
        file_cls: H5VL_file_class_t {
            create: Some(file::create),
            open: Some(file::open),
            get: Some(file::get),
            specific: Some(file::specific),
            optional: Some(file::optional),
            close: Some(file::close),
        },
        group_cls: H5VL_group_class_t {
            create: Some(group::create),
            open: Some(group::open),
            get: Some(group::get),
            specific: Some(group::specific),
            optional: Some(group::optional),
            close: Some(group::close),
        },
        link_cls: H5VL_link_class_t {
            create: Some(link::create),
            copy: Some(link::copy),
            move_: Some(link::move_),
            get: Some(link::get),
            specific: Some(link::specific),
            optional: Some(link::optional),
        },
        object_cls: H5VL_object_class_t {
            open: Some(object::open),
            copy: Some(object::copy),
            get: Some(object::get),
            specific: Some(object::specific),
            optional: Some(object::optional),
        },
        introspect_cls: H5VL_introspect_class_t {
            get_conn_cls: Some(introspect::get_conn_cls),
            get_cap_flags: Some(introspect::get_cap_flags),
            opt_query: Some(introspect::opt_query),
        },
        request_cls: H5VL_request_class_t::default(),
        blob_cls: H5VL_blob_class_t::default(),
        token_cls: H5VL_token_class_t {
            cmp: Some(token::cmp),
            to_str: Some(token::to_str),
            from_str: Some(token::from_str),
        },
        optional: None,
    })
});

unsafe extern "C" fn initialize(_vipl: hid_t) -> herr_t {
    guard::status("initialize", || {
        // The logger lets everything through; `log::set_max_level` is the one gate, set from
        // RUSTVOL_LOG here and from an info string's `log=` key when a file is opened.
        let level = std::env::var("RUSTVOL_LOG").ok().and_then(|v| v.parse().ok()).unwrap_or(log::LevelFilter::Off);
        let _ = env_logger::Builder::new().filter_level(log::LevelFilter::Trace).try_init();
        log::set_max_level(level);
        errors::register();
        Ok(())
    })
}

unsafe extern "C" fn terminate() -> herr_t {
    guard::status("terminate", || {
        // Ids are numbered afresh if the library starts again.
        h5util::forget_library_ids();

        errors::unregister();
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn H5PLget_plugin_type() -> i32 {
    1 // H5PL_TYPE_VOL
}

/// HDF5's plugin loader asks for the class here. rustvol binds its HDF5 calls to the libhdf5
/// that asks (`ffi::h5api`) and gives it rustvol's class; a libhdf5 it cannot bind to (a
/// version it does not know, a missing function, a second libhdf5 in the process) gets
/// `refusal`'s class, which fails every file operation with the reason. A caller that is no
/// libhdf5 (a program asking through dlsym) gets rustvol's class, bound on first use to the
/// libhdf5 of the global scope. The return address names the caller, so the exported symbol is
/// a two-instruction stub that passes it on.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[no_mangle]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    // SAFETY: at entry [rsp] is the return address; the tail jump leaves the stack and every
    // other register as the caller set them, so `plugin_info_for` returns straight to it.
    core::arch::naked_asm!("mov rdi, qword ptr [rsp]", "jmp {f}", f = sym plugin_info_for)
}

#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
#[no_mangle]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    // SAFETY: x30 holds the return address at entry; the branch leaves it and the stack as
    // they were, so `plugin_info_for` returns straight to the caller.
    core::arch::naked_asm!("mov x0, x30", "b {f}", f = sym plugin_info_for)
}

/// Elsewhere the caller cannot be named and every loader gets rustvol's class.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[no_mangle]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    plugin_info_for(std::ptr::null())
}

extern "C" fn plugin_info_for(caller: *const c_void) -> *const c_void {
    // No HDF5 call may happen here: the caller may be a libhdf5 in the middle of initialising.
    let class = std::panic::catch_unwind(|| match crate::ffi::h5api::bind_loader(caller) {
        crate::ffi::h5api::Binding::Refused { loader, message } => refusal::class_for(loader, message),
        _ => &CLASS.0 as *const H5VL_class_t as *const c_void,
    });
    // A panic (making the refusal's message included) never reaches the loader.
    class.unwrap_or(std::ptr::null())
}

/// Sets rustvol, with the given info string (NULL: `backend=memory`), on a file access plist.
///
/// # Safety
/// `info` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn H5Pset_fapl_rustvol(fapl_id: hid_t, info: *const std::ffi::c_char) -> herr_t {
    // No loader asked for the class: the program's own libhdf5 is the one to use. A refusal
    // goes on that library's error stack, where the program looks, not on the bound one's.
    match std::panic::catch_unwind(crate::ffi::h5api::bind_global) {
        Ok(Ok(_)) => {}
        Ok(Err(refusal)) => {
            let pushed = refusal.lib.as_ref().is_some_and(|lib| crate::ffi::loader::push_error(lib, c"H5Pset_fapl_rustvol", &refusal.message));
            if !pushed {
                eprintln!("rustvol: H5Pset_fapl_rustvol: {}", refusal.message);
            }
            return -1;
        }
        Err(_) => return -1,
    }
    guard::status("H5Pset_fapl_rustvol", || {
        let text = h5util::opt_cstr(info).unwrap_or_default();
        crate::config::Config::parse(&text)?;
        // SAFETY: registering our static class (HDF5 copies it) and handing it a fresh info
        // object, which H5Pset_vol copies through our info callbacks.
        unsafe {
            let id = crate::ffi::h5::H5VLregister_connector(
                &CLASS.0 as *const H5VL_class_t as *const _,
                hdf5_sys::h5p::H5P_DEFAULT,
            );
            h5util::check(id, crate::error::Area::Config, "register the rustvol connector")?;
            let info = info::Info::new(text);
            let rc = crate::ffi::h5::H5Pset_vol(fapl_id, id, (&info as *const info::Info).cast());
            crate::ffi::h5::H5VLclose(id);
            if rc < 0 {
                crate::bail!(crate::error::Area::Config, "H5Pset_vol failed for rustvol");
            }
        }
        Ok(())
    })
}
