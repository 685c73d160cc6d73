//! HDF5's filter classes (`H5Z_class2_t`, `H5Zdevelop.h`): the one place rustvol calls a
//! filter's C functions. A filter id resolves to the very class libhdf5 would run for it:
//! `H5Zfilter_avail` first, which loads a plugin from HDF5's plugin path the way HDF5 does
//! (`HDF5_PLUGIN_PATH`, `H5PLappend`, `HDF5_PLUGIN_PRELOAD`; dlopen, `H5PLget_plugin_info`) and
//! registers it, then the library's table of registered filters (`H5Z_find`). So built-in
//! filters (scale-offset, N-bit, szip when HDF5 was built with it), plugins and filters the
//! program registered with `H5Zregister` all give what native HDF5 gives.
//!
//! `H5Z_find` is one of libhdf5's internal functions; builds of HDF5 1.14 and 2.0 export it. It is
//! looked up at run time, so a library that hides it still loads rustvol: plugins are then
//! found by rustvol's own search of HDF5's plugin path (`filter_plugins.rs`), and HDF5's
//! built-in filters other than the ones rustvol implements itself count as unavailable.
use hdf5_sys::h5i::hid_t;
use once_cell::sync::OnceCell;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

type CanApply = unsafe extern "C" fn(hid_t, hid_t, hid_t) -> c_int;
type SetLocal = unsafe extern "C" fn(hid_t, hid_t, hid_t) -> c_int;
type FilterFn = unsafe extern "C" fn(c_uint, usize, *const c_uint, usize, *mut usize, *mut *mut c_void) -> usize;
type FindFn = unsafe extern "C" fn(bool, c_int, *mut *mut ClassC) -> c_int;

/// `H5Z_class2_t`, field for field.
#[repr(C)]
pub(super) struct ClassC {
    pub(super) version: c_int,
    pub(super) id: c_int,
    encoder_present: c_uint,
    decoder_present: c_uint,
    name: *const c_char,
    can_apply: Option<CanApply>,
    set_local: Option<SetLocal>,
    filter: Option<FilterFn>,
}

use crate::ffi::h5::H5PLsize;
use crate::ffi::h5::H5Zfilter_avail;

pub const FLAG_OPTIONAL: u32 = 0x0001;
pub const FLAG_REVERSE: u32 = 0x0100;

/// A registered filter: its entries copied out of HDF5's table (which moves as it grows).
#[derive(Clone, Copy)]
pub struct FilterClass {
    encoder_present: bool,
    decoder_present: bool,
    can_apply: Option<CanApply>,
    set_local: Option<SetLocal>,
    filter: FilterFn,
    name: *const c_char,
}

/// What a filter's "can apply" callback answered.
pub enum CanApplyAnswer {
    Yes,
    No,
    Failed,
}

fn find_fn() -> Option<FindFn> {
    static FIND: OnceCell<Option<FindFn>> = OnceCell::new();
    *FIND.get_or_init(|| {
        // SAFETY: H5Z_find has this signature in HDF5 1.14 and 2.0 (H5Zprivate.h); it is
        // looked up in the libhdf5 rustvol is bound to.
        crate::ffi::h5api::symbol("H5Z_find").map(|p| unsafe { std::mem::transmute::<*mut c_void, FindFn>(p) })
    })
}

/// The class HDF5 has for filter `id`, loading it as a plugin if HDF5 can; None when there is
/// none. Call only on the thread HDF5 called rustvol on.
pub fn class(id: i32) -> Option<FilterClass> {
    // A filter that could not be found is not searched for again (every library of every
    // plugin directory is opened for it) until the plugin path changes; filters registered
    // since are still found in HDF5's table.
    static ABSENT: Mutex<Option<HashMap<i32, u32>>> = Mutex::new(None);
    let mut paths = 0u32;
    // SAFETY: plain HDF5 API call writing one unsigned.
    unsafe { H5PLsize(&mut paths) };
    let known_absent = ABSENT.lock().as_ref().and_then(|m| m.get(&id)) == Some(&paths);
    let note_absent = || {
        ABSENT.lock().get_or_insert_with(HashMap::new).insert(id, paths);
    };
    let cls: *const ClassC = match find_fn().filter(|_| !own_search()) {
        Some(find) => {
            // SAFETY: plain HDF5 API call; it may dlopen a plugin, as HDF5 does for a dataset's filter.
            if !known_absent && unsafe { H5Zfilter_avail(id) } <= 0 {
                note_absent();
            }
            let mut cls: *mut ClassC = std::ptr::null_mut();
            // SAFETY: `try` = true pushes no error; on success cls points into HDF5's table.
            if unsafe { find(true, id, &mut cls) } < 0 || cls.is_null() {
                return None;
            }
            cls
        }
        None if known_absent => return None,
        None => match super::filter_plugins::find(id) {
            Some(c) => c,
            None => {
                note_absent();
                return None;
            }
        },
    };
    // SAFETY: cls is a live class (an entry of HDF5's table, read at once, or a plugin's static).
    let c = unsafe { &*cls };
    Some(FilterClass {
        encoder_present: c.encoder_present != 0,
        decoder_present: c.decoder_present != 0,
        can_apply: c.can_apply,
        set_local: c.set_local,
        filter: c.filter?,
        name: c.name,
    })
}

/// `RUSTVOL_FILTER_SEARCH=plugin-path` makes rustvol find filters with its own plugin search
/// even where libhdf5 exports its table, so that the search is tested on such a library.
fn own_search() -> bool {
    static OWN: OnceCell<bool> = OnceCell::new();
    *OWN.get_or_init(|| std::env::var("RUSTVOL_FILTER_SEARCH").is_ok_and(|v| v == "plugin-path"))
}

impl FilterClass {
    pub fn encoder_present(&self) -> bool {
        self.encoder_present
    }
    pub fn decoder_present(&self) -> bool {
        self.decoder_present
    }
    pub fn name(&self) -> String {
        if self.name.is_null() {
            return String::new();
        }
        // SAFETY: a class's name is a static NUL-terminated string of the filter's library.
        unsafe { CStr::from_ptr(self.name) }.to_string_lossy().into_owned()
    }

    /// The filter's "can apply" callback for a dataset of type `type_id` whose chunks have the
    /// dataspace `space_id`.
    ///
    /// # Safety
    /// The ids are live HDF5 ids; on HDF5's thread.
    pub unsafe fn can_apply(&self, dcpl: hid_t, type_id: hid_t, space_id: hid_t) -> CanApplyAnswer {
        match self.can_apply {
            None => CanApplyAnswer::Yes,
            Some(f) => match f(dcpl, type_id, space_id) {
                r if r < 0 => CanApplyAnswer::Failed,
                0 => CanApplyAnswer::No,
                _ => CanApplyAnswer::Yes,
            },
        }
    }

    /// The filter's "set local" callback, which writes its per-dataset parameters into `dcpl`;
    /// false when it failed.
    ///
    /// # Safety
    /// As for `can_apply`.
    pub unsafe fn set_local(&self, dcpl: hid_t, type_id: hid_t, space_id: hid_t) -> bool {
        match self.set_local {
            None => true,
            Some(f) => f(dcpl, type_id, space_id) >= 0,
        }
    }

    /// Runs the filter over `data` (HDF5's flags, `FLAG_REVERSE` to decode); None when the
    /// filter reports failure. On HDF5's thread.
    pub fn run(&self, flags: u32, cd: &[u32], data: &[u8]) -> Option<Vec<u8>> {
        // Filters free the buffer they are given and allocate the one they return with
        // malloc (H5MM_malloc without HDF5's memory checker), so it is malloc'd here too.
        let mut size = data.len().max(1);
        // SAFETY: a fresh allocation of `size` bytes, filled from `data`.
        let mut buf = unsafe { libc::malloc(size) };
        if buf.is_null() {
            return None;
        }
        // SAFETY: buf has room for data.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf.cast::<u8>(), data.len()) };
        // SAFETY: the filter's contract: it reads `nbytes` of *buf (of `size`) and may replace
        // the buffer, updating `size`; cd holds cd.len() values.
        let n = unsafe { (self.filter)(flags, cd.len(), cd.as_ptr(), data.len(), &mut size, &mut buf) };
        let out = if n == 0 || buf.is_null() || n > size {
            None
        } else {
            // SAFETY: the filter left n valid bytes in buf.
            Some(unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n) }.to_vec())
        };
        // SAFETY: buf is the filter's (or our) malloc'd buffer, freed once.
        unsafe { libc::free(buf) };
        out
    }
}
