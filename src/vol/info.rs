//! The connector's info object: the info string as given, parsed when a file is opened so
//! a bad string fails that open with an error naming the bad key.
use super::guard;
use super::h5util::{malloc_cstr, opt_cstr};
use crate::config::Config;
use crate::error::Result;
use crate::ffi::vol_bindings::*;
use std::ffi::{c_char, c_int, c_void};

#[derive(Debug, Clone)]
pub struct Info {
    pub text: String,
}

impl Info {
    pub fn new(text: String) -> Info {
        Info { text }
    }
}

pub const CLASS: H5VL_info_class_t = H5VL_info_class_t {
    size: std::mem::size_of::<Info>(),
    copy: Some(copy),
    cmp: Some(cmp),
    free: Some(free),
    to_str: Some(to_str),
    from_str: Some(from_str),
};

/// Whether a file access property list selects rustvol (HDF5 probes every plugin with the
/// application's own list when a native open fails; another connector's info is not ours).
fn selects_rustvol(fapl: hid_t) -> bool {
    let mut vol: hid_t = -1;
    // SAFETY: plist and id-table queries; the id from H5Pget_vol_id is closed here.
    unsafe {
        if crate::ffi::h5::H5Pget_vol_id(fapl, &mut vol) < 0 {
            return false;
        }
        // By the class's value, not the id: HDF5 2.0 registers a new id for every
        // H5Pget_vol_id (1.14 hands out the connector's one id).
        let mut value: std::ffi::c_int = -1;
        let same = crate::ffi::h5::H5VLget_value(vol, &mut value) >= 0 && value == super::CONNECTOR_VALUE;
        crate::ffi::h5::H5VLclose(vol);
        same
    }
}

/// The info string of a file access property list: `None` when the list does not select
/// rustvol or selects it without info.
fn text_of(fapl: hid_t) -> Option<String> {
    let mut p: *mut c_void = std::ptr::null_mut();
    // SAFETY: H5Pget_vol_info hands back a copy made by our `copy` (checked: the list selects
    // rustvol), freed below by `free`.
    unsafe {
        if fapl < 0 || !selects_rustvol(fapl) || crate::ffi::h5::H5Pget_vol_info(fapl, &mut p) < 0 || p.is_null() {
            None
        } else {
            let t = (*(p as *const Info)).text.clone();
            free(p);
            Some(t)
        }
    }
}

fn apply_log(cfg: &Config) {
    if let Some(level) = cfg.log.as_deref().and_then(|l| l.parse::<log::LevelFilter>().ok()) {
        log::set_max_level(level);
    }
}

/// The configuration of a file access property list (its rustvol info, or the default).
pub fn config_of(fapl: hid_t) -> Result<Config> {
    let cfg = Config::parse(&text_of(fapl).unwrap_or_default())?;
    apply_log(&cfg);
    Ok(cfg)
}

/// The configuration to open file `name` with. A list that selects rustvol without info is
/// how HDF5 asks the plugins whether they can open the file of a reference when the default
/// connector could not (`refs.rs`): a file that a reference read in this process names is
/// then looked for in the store of the file that held the reference.
pub fn config_for(fapl: hid_t, name: &str) -> Result<Config> {
    if fapl >= 0 && selects_rustvol(fapl) && text_of(fapl).is_none() {
        if let Some(cfg) = super::refs::target_config(name) {
            return Ok(cfg);
        }
    }
    config_of(fapl)
}

unsafe extern "C" fn copy(info: *const c_void) -> *mut c_void {
    guard::object("info_copy", || {
        if info.is_null() {
            return Ok(std::ptr::null_mut());
        }
        // SAFETY: non-NULL info objects are `Info`s made by this module.
        let i = unsafe { &*(info as *const Info) };
        Ok(Box::into_raw(Box::new(i.clone())) as *mut c_void)
    })
}

unsafe extern "C" fn cmp(out: *mut c_int, a: *const c_void, b: *const c_void) -> herr_t {
    guard::status("info_cmp", || {
        // SAFETY: info objects are `Info`s made by this module (or NULL).
        unsafe {
            let ta = (!a.is_null()).then(|| &(*(a as *const Info)).text);
            let tb = (!b.is_null()).then(|| &(*(b as *const Info)).text);
            *out = match ta.cmp(&tb) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            };
        }
        Ok(())
    })
}

unsafe extern "C" fn free(info: *mut c_void) -> herr_t {
    guard::status("info_free", || {
        if !info.is_null() {
            // SAFETY: made by `Box::into_raw` in this module, freed once.
            drop(unsafe { Box::from_raw(info as *mut Info) });
        }
        Ok(())
    })
}

unsafe extern "C" fn to_str(info: *const c_void, out: *mut *mut c_char) -> herr_t {
    guard::status("info_to_str", || {
        // SAFETY: info is an `Info` of this module; HDF5 frees the returned string.
        unsafe {
            let text = if info.is_null() { "" } else { &(*(info as *const Info)).text };
            *out = malloc_cstr(text);
        }
        Ok(())
    })
}

unsafe extern "C" fn from_str(s: *const c_char, out: *mut *mut c_void) -> herr_t {
    guard::status("info_from_str", || {
        let text = opt_cstr(s).unwrap_or_default();
        // SAFETY: out is HDF5's output slot for the new info object.
        unsafe { *out = Box::into_raw(Box::new(Info::new(text.trim().to_string()))) as *mut c_void };
        Ok(())
    })
}
