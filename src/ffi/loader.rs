//! Which libhdf5 lies at an address, using only the dynamic linker (`dladdr`,
//! `dlopen(RTLD_NOLOAD)`, `dlsym`): nothing here calls into HDF5.
//!
//! The loader of the plugin may be in the middle of initialising (HDF5 2.0 loads the default
//! connector inside `H5open`), and it need not be in the global scope: h5py's PyPI wheels bundle
//! their own HDF5 2.0 (`h5py.libs/libhdf5-*.so.320`), loaded `RTLD_LOCAL`. `ffi::h5api` binds
//! rustvol's HDF5 calls to the library found here.
use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;
use std::ffi::{c_char, c_uint, c_void, CStr};

/// One loaded libhdf5: where it was loaded from and what it says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Load address: unique per loaded object, whatever names lead to it.
    pub base: usize,
    pub path: String,
    /// "2.0.0", from the library's own `H5_lib_vers_info_g` string; None if it has none.
    pub version: Option<String>,
}

/// The libhdf5 whose code or data lies at `addr`; None if the object there is no libhdf5.
pub fn library_at(addr: *const c_void) -> Option<Library> {
    let (base, path) = object_of(addr)?;
    let version = hdf5_facts(&path, base)?;
    Some(Library { base, path, version })
}

/// The load address of the object holding `addr`.
pub fn base_of(addr: *const c_void) -> Option<usize> {
    object_of(addr).map(|(b, _)| b)
}

/// The loaded object holding `addr`: its base address and path.
fn object_of(addr: *const c_void) -> Option<(usize, String)> {
    // SAFETY: dladdr only reads the linker's tables; `info` is a plain out-structure, and its
    // `dli_fname` points into the linker's own storage for the loaded object, read at once.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr, &mut info) == 0 || info.dli_fbase.is_null() {
            return None;
        }
        let path =
            if info.dli_fname.is_null() { String::new() } else { CStr::from_ptr(info.dli_fname).to_string_lossy().into_owned() };
        Some((info.dli_fbase as usize, path))
    }
}

/// A reference to an object already loaded, taken with `dlopen(RTLD_NOLOAD)` (so no
/// initialiser runs) and released when dropped: the one way rustvol reaches a libhdf5's symbols.
pub struct Loaded {
    handle: *mut c_void,
    base: usize,
}

impl Loaded {
    /// The object loaded at `base` from `path` (empty: the main program, as dladdr names it).
    pub fn open(path: &str, base: usize) -> Option<Loaded> {
        let cpath = std::ffi::CString::new(path).ok()?;
        // SAFETY: RTLD_NOLOAD only takes a new reference to an object that is already loaded
        // (or fails), so no initialiser runs; `Drop` releases it. The main program is asked
        // for as NULL.
        let handle = unsafe {
            libc::dlopen(if path.is_empty() { std::ptr::null() } else { cpath.as_ptr() }, libc::RTLD_LAZY | libc::RTLD_NOLOAD)
        };
        // Built only for a handle: dropping a `Loaded` closes it.
        (!handle.is_null()).then(|| Loaded { handle, base })
    }

    /// `name` as this very object defines it: dlsym on a handle also searches the object's
    /// dependencies, and a definition there belongs to another library.
    pub fn symbol(&self, name: &CStr) -> Option<*mut c_void> {
        // SAFETY: dlsym reads the linker's tables; the handle is open while `self` lives.
        let p = unsafe { libc::dlsym(self.handle, name.as_ptr()) };
        (!p.is_null() && base_of(p) == Some(self.base)).then_some(p)
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: releases the reference `open` took; the object stays loaded.
        unsafe { libc::dlclose(self.handle) };
    }
}

/// If the object loaded at `base` from `path` is a libhdf5 (defines `H5open` itself), its
/// version (None if it carries no version string); None if it is no libhdf5.
fn hdf5_facts(path: &str, base: usize) -> Option<Option<String>> {
    let lib = Loaded::open(path, base)?;
    lib.symbol(c"H5open")?;
    // `H5_lib_vers_info_g` is a constant NUL-terminated char array ("HDF5 library version:
    // 2.0.0...") in every HDF5 since 1.8, read, never called.
    let Some(info) = lib.symbol(c"H5_lib_vers_info_g") else { return Some(None) };
    // SAFETY: a NUL-terminated string in the library's read-only data (see above), which
    // stays loaded while `lib` holds its reference.
    let text = unsafe { CStr::from_ptr(info as *const c_char) }.to_string_lossy();
    Some(parse_version(&text))
}

/// Puts `msg` on the current error stack of `lib`, through that library's own `H5Epush2` and
/// error ids (major `H5E_VOL`, minor `H5E_CANTOPENFILE`, HDF5's own error class), so that
/// the loader reports it as any failure of its own. Call only while `lib` is initialised
/// (inside a callback it made, or after the program's own calls into it). False if `lib`
/// lacks one of them.
pub fn push_error(lib: &Library, func: &CStr, msg: &str) -> bool {
    type Push = unsafe extern "C" fn(hid_t, *const c_char, *const c_char, c_uint, hid_t, hid_t, hid_t, *const c_char, ...) -> herr_t;
    let Ok(cmsg) = std::ffi::CString::new(msg.replace('\0', " ")) else { return false };
    let Some(loaded) = Loaded::open(&lib.path, lib.base) else { return false };
    let sym = |name: &CStr| loaded.symbol(name);
    match (sym(c"H5Epush2"), sym(c"H5E_ERR_CLS_g"), sym(c"H5E_VOL_g"), sym(c"H5E_CANTOPENFILE_g")) {
        // SAFETY: each symbol is `lib`'s own: `H5Epush2` has had this prototype since 1.8, in
        // 2.0 too, and the `*_g` names are `hid_t` variables the library set when it
        // initialised; "%s" makes the message data, not a format.
        (Some(push), Some(cls), Some(maj), Some(min)) => unsafe {
            let push: Push = std::mem::transmute::<*mut c_void, Push>(push);
            let (cls, maj, min) = (*(cls as *const hid_t), *(maj as *const hid_t), *(min as *const hid_t));
            push(0, c"rustvol".as_ptr(), func.as_ptr(), 0, cls, maj, min, c"%s".as_ptr(), cmsg.as_ptr()) >= 0
        },
        _ => false,
    }
}

/// "HDF5 library version: 2.0.0 (...)" → "2.0.0".
fn parse_version(text: &str) -> Option<String> {
    let rest = text.split_once("version:")?.1.trim_start();
    let v: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_hdf5s_info_string() {
        assert_eq!(parse_version("HDF5 library version: 2.0.0").as_deref(), Some("2.0.0"));
        assert_eq!(parse_version("HDF5 library version: 1.14.5-2 (repo)").as_deref(), Some("1.14.5-2"));
        assert_eq!(parse_version("nothing"), None);
    }

    #[test]
    fn the_test_binarys_libhdf5_is_found_by_an_address_inside_it() {
        let inside = hdf5_sys::h5::H5get_libversion as unsafe extern "C" fn(_, _, _) -> _ as *const c_void;
        let lib = library_at(inside).expect("the test binary links libhdf5");
        assert!(lib.path.contains("libhdf5"), "{lib:?}");
        let (mut maj, mut min, mut rel) = (0, 0, 0);
        // SAFETY: H5get_libversion writes three unsigned ints.
        unsafe { hdf5_sys::h5::H5get_libversion(&mut maj, &mut min, &mut rel) };
        assert_eq!(lib.version, Some(format!("{maj}.{min}.{rel}")));
    }

    #[test]
    fn an_address_that_is_in_no_libhdf5_gives_none() {
        let here = an_address_that_is_in_no_libhdf5_gives_none as fn() as *const c_void;
        assert_eq!(library_at(here), None);
    }
}
