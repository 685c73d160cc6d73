//! Which libhdf5 loaded the plugin, told apart from the one it is linked to, using only the
//! dynamic linker (`dladdr`, `dlopen(RTLD_NOLOAD)`, `dlsym`): nothing here calls into HDF5.
//!
//! A process can hold two HDF5 libraries: h5py's PyPI wheels bundle their own HDF5 2.0
//! (`h5py.libs/libhdf5-*.so.320`, loaded `RTLD_LOCAL`), and when that library dlopens this plugin
//! the plugin's own dependency, the libhdf5 it was built with, comes in beside it. Every id the
//! loader hands the plugin would then be looked up in the other library's tables, and the
//! plugin's first call (`H5Eregister_class`) initialises that other library, which reads
//! `HDF5_VOL_CONNECTOR`, loads the plugin again and re-enters `initialize`: a deadlock. The
//! only safe answer is to recognise the loader before anything calls HDF5 at all.
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loader {
    /// The caller is the libhdf5 the plugin is linked to.
    Linked,
    /// The caller is another libhdf5.
    Foreign { linked: Library, loader: Library },
    /// The caller is no libhdf5 (a program or ctypes asking for the class), or it cannot be told.
    Unknown,
}

/// Classifies the code at `caller` (a return address into whoever called the plugin).
pub fn classify(caller: *const c_void) -> Loader {
    if caller.is_null() {
        return Loader::Unknown;
    }
    let Some((linked, consistent)) = linked_library() else { return Loader::Unknown };
    let Some((base, path)) = object_of(caller) else { return Loader::Unknown };
    if consistent && base == linked.base {
        return Loader::Linked;
    }
    match hdf5_facts(&path, base) {
        Some(version) => Loader::Foreign { linked, loader: Library { base, path, version } },
        None => Loader::Unknown,
    }
}

/// The libhdf5 the plugin's own HDF5 calls bind to, and whether all of them bind to it. They
/// need not: in a program linked to another libhdf5 (HDF5 2.0), the names both define bind
/// to the program's, ahead of the plugin's own dependency in the search order, and only the
/// rest (`H5VLpeek_connector_id_by_name`, gone in 2.0) to the libhdf5 rustvol was built with,
/// which is then the library named.
pub fn linked_library() -> Option<(Library, bool)> {
    use hdf5_sys::{h5, h5e, h5t};
    // The address of an imported function is its address in the defining library (read from
    // the GOT), which names that library's load. Only functions: an executable may hold copies
    // of HDF5's variables (copy relocations), and a non-PIE one may make its PLT stub a
    // function's address; an address outside any libhdf5 is therefore not counted.
    let probes: [*const c_void; 4] = [
        crate::ffi::vol_bindings::H5VLpeek_connector_id_by_name as unsafe extern "C" fn(_) -> _ as *const c_void,
        h5e::H5Eregister_class as unsafe extern "C" fn(_, _, _) -> _ as *const c_void,
        h5::H5open as unsafe extern "C" fn() -> _ as *const c_void,
        h5t::H5Tdecode1 as unsafe extern "C" fn(_) -> _ as *const c_void,
    ];
    let mut libraries: Vec<Library> = Vec::new();
    for p in probes {
        let Some((base, path)) = object_of(p) else { continue };
        if libraries.iter().any(|l| l.base == base) {
            continue;
        }
        if let Some(version) = hdf5_facts(&path, base) {
            libraries.push(Library { base, path, version });
        }
    }
    let consistent = libraries.len() == 1;
    libraries.into_iter().next().map(|l| (l, consistent))
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

/// If the object loaded at `base` from `path` is a libhdf5 (defines `H5open` itself), its
/// version (None if it carries no version string); None if it is no libhdf5.
fn hdf5_facts(path: &str, base: usize) -> Option<Option<String>> {
    let cpath = std::ffi::CString::new(path).ok()?;
    // SAFETY: RTLD_NOLOAD only takes a new reference to an object that is already loaded (or
    // fails), so no initialiser runs; the handle is released below. An empty path (the main
    // program, as dladdr names it) is asked for as NULL.
    let handle = unsafe {
        libc::dlopen(if path.is_empty() { std::ptr::null() } else { cpath.as_ptr() }, libc::RTLD_LAZY | libc::RTLD_NOLOAD)
    };
    if handle.is_null() {
        return None;
    }
    // dlsym on a handle also searches the object's dependencies: `H5open` counts only when it
    // lies in this very object.
    // SAFETY: dlsym reads the linker's tables; the handle is valid until dlclose.
    let h5open = unsafe { libc::dlsym(handle, c"H5open".as_ptr()) };
    let is_hdf5 = !h5open.is_null() && object_of(h5open).is_some_and(|(b, _)| b == base);
    let version = is_hdf5.then(|| {
        // SAFETY: as above; `H5_lib_vers_info_g` is a constant NUL-terminated char array
        // ("HDF5 library version: 2.0.0...") in every HDF5 since 1.8, read, never called.
        let info = unsafe { libc::dlsym(handle, c"H5_lib_vers_info_g".as_ptr()) };
        if info.is_null() || object_of(info).is_none_or(|(b, _)| b != base) {
            return None;
        }
        // SAFETY: a NUL-terminated string in the library's read-only data (see above).
        let text = unsafe { CStr::from_ptr(info as *const std::ffi::c_char) }.to_string_lossy();
        parse_version(&text)
    });
    // SAFETY: releases the reference dlopen(RTLD_NOLOAD) took; the object stays loaded.
    unsafe { libc::dlclose(handle) };
    version
}

/// Puts `msg` on the current error stack of `lib`, through that library's own `H5Epush2` and
/// error ids (major `H5E_VOL`, minor `H5E_CANTOPENFILE`, HDF5's own error class), so that
/// the loader reports it as any failure of its own. Call only from inside an API call of
/// `lib` (a callback it made), when it is initialised. False if `lib` lacks one of them.
pub fn push_error(lib: &Library, func: &CStr, msg: &str) -> bool {
    type Push = unsafe extern "C" fn(hid_t, *const c_char, *const c_char, c_uint, hid_t, hid_t, hid_t, *const c_char, ...) -> herr_t;
    let Ok(cpath) = std::ffi::CString::new(lib.path.as_str()) else { return false };
    let Ok(cmsg) = std::ffi::CString::new(msg.replace('\0', " ")) else { return false };
    // SAFETY: as in `hdf5_facts`: a new reference to an object already loaded, released below.
    let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return false;
    }
    // SAFETY: dlsym reads the linker's tables. Each name is looked up in `lib` itself (checked
    // by its load address): `H5Epush2` has had this signature since 1.8, in 2.0 too, and the
    // `*_g` names are `hid_t` variables the library set when it initialised.
    let pushed = unsafe {
        let sym = |name: &CStr| {
            let p = libc::dlsym(handle, name.as_ptr());
            (!p.is_null() && object_of(p).is_some_and(|(b, _)| b == lib.base)).then_some(p)
        };
        match (sym(c"H5Epush2"), sym(c"H5E_ERR_CLS_g"), sym(c"H5E_VOL_g"), sym(c"H5E_CANTOPENFILE_g")) {
            (Some(push), Some(cls), Some(maj), Some(min)) => {
                let push: Push = std::mem::transmute::<*mut c_void, Push>(push);
                let (cls, maj, min) = (*(cls as *const hid_t), *(maj as *const hid_t), *(min as *const hid_t));
                // "%s": the message is data, not a format.
                push(0, c"rustvol".as_ptr(), func.as_ptr(), 0, cls, maj, min, c"%s".as_ptr(), cmsg.as_ptr()) >= 0
            }
            _ => false,
        }
    };
    // SAFETY: releases the reference taken above.
    unsafe { libc::dlclose(handle) };
    pushed
}

/// "HDF5 library version: 2.0.0 (...)" → "2.0.0".
fn parse_version(text: &str) -> Option<String> {
    let rest = text.split_once("version:")?.1.trim_start();
    let v: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    (!v.is_empty()).then_some(v)
}

/// What the user reads when the plugin refuses a foreign loader.
pub fn refusal_message(linked: &Library, loader: &Library) -> String {
    let ver = |l: &Library| l.version.clone().unwrap_or_else(|| "(unknown version)".into());
    // For the reader only ("h5py/../h5py.libs/..." as the loader names it, resolved).
    let shown = |l: &Library| std::fs::canonicalize(&l.path).map(|p| p.display().to_string()).unwrap_or_else(|_| l.path.clone());
    let file = |l: &Library| l.path.rsplit('/').next().unwrap_or(&l.path).to_string();
    if linked.base == loader.base {
        return format!(
            "rustvol was loaded by HDF5 {} ({}), the library it was built for, but not all its HDF5 calls bind to it: \
             another libhdf5 in the process defines some of them first, and two HDF5 libraries cannot share ids, so \
             rustvol opens no file here. Run the program without the other HDF5 library",
            ver(loader),
            shown(loader),
        );
    }
    format!(
        "rustvol was built for HDF5 {} ({} at {}), but was loaded by HDF5 {} ({}): a VOL plugin must use the \
         libhdf5 of the program that loads it, and two HDF5 libraries in one process cannot share ids, so \
         rustvol opens no file here. Use an h5py (or program) built against the HDF5 rustvol was built with, \
         e.g. `HDF5_DIR={} pip install --no-binary h5py h5py` (docs/h5py.md, \"h5py from PyPI\")",
        ver(linked),
        file(linked),
        shown(linked),
        ver(loader),
        shown(loader),
        linked.path.rsplit_once("/lib/").map(|(d, _)| d).unwrap_or("<the HDF5 prefix>"),
    )
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
    fn the_linked_libhdf5_is_found_and_calls_from_it_are_ours() {
        let (linked, consistent) = linked_library().expect("the test binary links libhdf5");
        assert!(consistent, "every HDF5 symbol of the test binary binds to {linked:?}");
        assert!(linked.path.contains("libhdf5"), "{linked:?}");
        let mut maj = 0;
        let (mut min, mut rel) = (0, 0);
        // SAFETY: H5get_libversion writes three unsigned ints.
        unsafe { hdf5_sys::h5::H5get_libversion(&mut maj, &mut min, &mut rel) };
        assert_eq!(linked.version, Some(format!("{maj}.{min}.{rel}")));
        let inside = hdf5_sys::h5::H5get_libversion as unsafe extern "C" fn(_, _, _) -> _ as *const c_void;
        assert_eq!(classify(inside), Loader::Linked);
    }

    #[test]
    fn a_caller_that_is_no_libhdf5_is_unknown() {
        let here = a_caller_that_is_no_libhdf5_is_unknown as fn() as *const c_void;
        assert_eq!(classify(here), Loader::Unknown);
        assert_eq!(classify(std::ptr::null()), Loader::Unknown);
    }
}
