//! rustvol's own search for a filter plugin, for a libhdf5 that does not export its table of
//! registered filters (`h5z.rs`). It searches as HDF5's H5PL package does (`H5PLpath.c`,
//! `H5PLint.c`): unless `H5PLget_loading_state` (`HDF5_PLUGIN_PRELOAD`) disables filter plugins,
//! each directory of HDF5's plugin search path (`H5PLsize`/`H5PLget`: `HDF5_PLUGIN_PATH`, or
//! the default directory, as changed by `H5PLappend` and the like), each file in it whose name
//! starts with `lib` and contains `.so`, opened `RTLD_LAZY | RTLD_LOCAL`; a library whose
//! `H5PLget_plugin_type` says filter and whose `H5PLget_plugin_info` gives an `H5Z_class2_t` of
//! the wanted id is the filter. Libraries found stay loaded for the life of the process, as
//! HDF5 keeps them.
use super::h5z::ClassC;
use libloading::os::unix::Library;
use parking_lot::Mutex;
use std::ffi::{c_int, c_uint, c_void};

use crate::ffi::h5::{H5PLget, H5PLget_loading_state, H5PLsize};

const H5PL_TYPE_FILTER: c_int = 0;
const H5PL_FILTER_PLUGIN: c_uint = 0x0001;
const H5Z_CLASS_T_VERS: c_int = 1;

type PluginType = unsafe extern "C" fn() -> c_int;
type PluginInfo = unsafe extern "C" fn() -> *const c_void;

/// A class found in a plugin library that stays loaded.
struct Found(*const ClassC);
// SAFETY: the class is static data of a library never unloaded; it is only read.
unsafe impl Send for Found {}

/// The directories of HDF5's plugin search path, in order. On HDF5's thread.
pub fn search_path() -> Vec<String> {
    let mut n: c_uint = 0;
    // SAFETY: plain HDF5 API calls writing into the buffers given.
    unsafe {
        if H5PLsize(&mut n) < 0 {
            return Vec::new();
        }
        (0..n)
            .filter_map(|i| {
                let len = H5PLget(i, std::ptr::null_mut(), 0);
                if len <= 0 {
                    return None;
                }
                let mut buf = vec![0u8; len as usize + 1];
                if H5PLget(i, buf.as_mut_ptr().cast(), buf.len()) < 0 {
                    return None;
                }
                buf.truncate(len as usize);
                String::from_utf8(buf).ok()
            })
            .collect()
    }
}

/// The class of filter `id` from a plugin on HDF5's search path, if one provides it.
pub(super) fn find(id: i32) -> Option<*const ClassC> {
    static LOADED: Mutex<Vec<(i32, Found)>> = Mutex::new(Vec::new());
    if let Some((_, f)) = LOADED.lock().iter().find(|(i, _)| *i == id) {
        return Some(f.0);
    }
    let mut mask: c_int = 0;
    // SAFETY: plain HDF5 API call writing one int.
    if unsafe { H5PLget_loading_state(&mut mask) } < 0 || mask as c_uint & H5PL_FILTER_PLUGIN == 0 {
        return None;
    }
    for dir in search_path() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with("lib") || !name.contains(".so") {
                continue;
            }
            if let Some(cls) = try_library(&e.path(), id) {
                log::debug!("filter {id}: plugin {}", e.path().display());
                LOADED.lock().push((id, Found(cls)));
                return Some(cls);
            }
        }
    }
    None
}

/// Opens one library and answers its class when it is the filter plugin for `id`; a library
/// that is not is closed again.
fn try_library(path: &std::path::Path, id: i32) -> Option<*const ClassC> {
    // SAFETY: loading a plugin runs its initialisers, exactly as HDF5's own search does.
    let lib = unsafe { Library::open(Some(path), libc::RTLD_LAZY | libc::RTLD_LOCAL) }.ok()?;
    // SAFETY: the plugin interface's signatures (H5PLextern.h).
    let (ty, info) = unsafe { (lib.get::<PluginType>(b"H5PLget_plugin_type\0").ok()?, lib.get::<PluginInfo>(b"H5PLget_plugin_info\0").ok()?) };
    // SAFETY: both take no arguments and are side-effect free by the plugin contract.
    if unsafe { ty() } != H5PL_TYPE_FILTER {
        return None;
    }
    // SAFETY: as above; a filter plugin's info is its H5Z_class2_t.
    let cls = unsafe { info() }.cast::<ClassC>();
    // SAFETY: cls, when not null, points at the plugin's static class.
    if cls.is_null() || unsafe { (*cls).version != H5Z_CLASS_T_VERS || (*cls).id != id } {
        return None;
    }
    // Found: the library stays loaded, so the class stays valid.
    std::mem::forget(lib);
    Some(cls)
}
