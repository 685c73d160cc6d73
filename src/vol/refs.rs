//! References between stored form and memory: rebuilding stored references on read
//! (`H5Rcreate_*` against a file id for the file being read, registered once per transfer and
//! kept alive by the references that use it), and telling, on write, whether a reference points
//! into the file it is stored in or into another one.
//!
//! A reference into another file is rebuilt as native HDF5 rebuilds one it reads: it names its
//! file and holds no open file (`H5Rget_file_name` gives the stored name; `H5Ropen_*`,
//! `H5Rget_obj_name` and `H5Rget_obj_type3` open the file by that name with the reference
//! access list, as HDF5 does for every reference that has no file attached). HDF5's public API
//! cannot make such a reference, so the fields of `H5R_ref_t` that hold the file (its name and
//! the attached file id) are set here, at the offsets of HDF5 1.14's `H5R_ref_priv_t`, after
//! checking once that a reference HDF5 made has its fields there.
use super::handle::{Handle, Kind};
use super::vlen::{OtherFile, RefCodec, StoredRef, REF_SIZE};
use crate::bail;
use crate::config::Config;
use crate::error::{Area, Result, VolError};
use crate::ffi::h5::{H5VLobject, H5VLwrap_register};
use crate::ffi::vol_bindings::H5I_FILE;
use dashmap::DashMap;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5r::{H5R_ref_t};
use crate::ffi::h5::{H5Rcreate_attr, H5Rcreate_object, H5Rcreate_region, H5Rdestroy};
use once_cell::sync::{Lazy, OnceCell};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;

/// `H5R_ref_priv_t` (H5Rpkg.h, HDF5 1.14): the token (16 bytes), then the file name
/// (`char *`), then the region's `H5S_t *` or the attribute name; then the attached file id,
/// the cached encoding size, the type, the token size and whether the file id holds an
/// application reference.
const FILENAME_AT: usize = 16;
const LOC_ID_AT: usize = 32;
const ENCODE_SIZE_AT: usize = 40;
const TYPE_AT: usize = 44;
const TOKEN_SIZE_AT: usize = 45;
const APP_REF_AT: usize = 46;
const H5I_INVALID_HID: hid_t = -1;

/// Whether references HDF5 makes have the layout above (checked once, on the first one).
static LAYOUT_OK: OnceCell<bool> = OnceCell::new();

/// Names of files that references read in this process point into, with the configuration
/// of the file the reference was read from: HDF5 opens such a file by name, and when the
/// application's default access list is native's (a tool given `--vol-name`), HDF5 then asks
/// every VOL plugin whether it can open the name, with no connector information; rustvol
/// answers for these names with the store of the file holding the reference.
static TARGETS: Lazy<DashMap<String, Config>> = Lazy::new(DashMap::new);

/// The configuration to open `name` with when the access list selects rustvol without
/// saying where (HDF5 opening a reference's file for a tool that chose rustvol itself).
pub fn target_config(name: &str) -> Option<Config> {
    TARGETS.get(name).map(|c| c.clone())
}

pub struct RefMaker<'a> {
    h: &'a Handle,
    fid: Option<hid_t>,
    paths: HashMap<u64, CString>,
    /// The file names of the references into other files made here (by address): stored
    /// elements decoded as the background of a write hold them, and are stored again.
    made: HashSet<usize>,
}

impl<'a> RefMaker<'a> {
    pub fn new(h: &'a Handle) -> RefMaker<'a> {
        RefMaker { h, fid: None, paths: HashMap::new(), made: HashSet::new() }
    }

    fn fid(&mut self) -> Result<hid_t> {
        if let Some(f) = self.fid {
            return Ok(f);
        }
        let root = self.h.file.meta.read().root();
        let p = Handle::new(self.h.file.clone(), Kind::File, root, self.h.writable, "/".into()).into_raw();
        // SAFETY: inside a dataset/attribute callback HDF5 has set up the wrap context.
        let id = unsafe { H5VLwrap_register(p, H5I_FILE) };
        if id < 0 {
            // SAFETY: `p` was just made and never handed to HDF5.
            unsafe { Handle::close(p)? };
            bail!(Area::Dataset, "could not register a file id for references");
        }
        self.fid = Some(id);
        Ok(id)
    }

    fn path(&mut self, id: u64) -> Result<CString> {
        if let Some(p) = self.paths.get(&id) {
            return Ok(p.clone());
        }
        let Some(path) = self.h.file.meta.read().path_of(id) else {
            bail!(Area::Dataset, "a stored reference points at object {id}, which no longer has a path");
        };
        let c = CString::new(path).map_err(|_| VolError::new(Area::Dataset, "path with NUL"))?;
        self.paths.insert(id, c.clone());
        Ok(c)
    }

    /// Checks, on a reference HDF5 just made on the file being read or written, that its
    /// fields sit where this module reads and writes them.
    ///
    /// # Safety
    /// `r` is a valid reference made with `H5Rcreate_*` on this file.
    unsafe fn layout_ok(&self, r: *const u8) -> bool {
        *LAYOUT_OK.get_or_init(|| {
            let b = std::slice::from_raw_parts(r, REF_SIZE);
            let at = |o: usize, n: usize| &b[o..o + n];
            let loc = hid_t::from_ne_bytes(at(LOC_ID_AT, 8).try_into().expect("8 bytes"));
            // The attached id is a file id of this file (HDF5 picks one of the file's ids).
            let loc_ok = crate::ffi::h5::H5Iget_type(loc) == hdf5_sys::h5i::H5I_type_t::H5I_FILE
                && is_ours(loc)
                && !H5VLobject(loc).is_null()
                && std::sync::Arc::ptr_eq(&(*(H5VLobject(loc) as *const Handle)).file, &self.h.file);
            loc_ok
                && at(FILENAME_AT, 8) == [0u8; 8]
                && (2..=4).contains(&b[TYPE_AT])
                && b[TOKEN_SIZE_AT] == 16
                && b[APP_REF_AT] == 1
                && u32::from_ne_bytes(at(ENCODE_SIZE_AT, 4).try_into().expect("4 bytes")) > 0
        })
    }

    /// Makes a reference of `r.kind` to the root of the file being read (which HDF5 can make),
    /// then turns it into one to `r`'s target in the file `r` names, with no file attached.
    unsafe fn make_external(&mut self, r: &StoredRef, file: &[u8], dst: *mut u8) -> Result<()> {
        let fid = self.fid()?;
        let root = c"/";
        make_kind(fid, r.kind, root.as_ptr(), r.extra, dst)?;
        if !self.layout_ok(dst) {
            H5Rdestroy(dst as *mut H5R_ref_t);
            bail!(Area::Dataset, "cannot rebuild a reference into another file: this HDF5's references are laid out differently from HDF5 1.14's");
        }
        let name = String::from_utf8_lossy(file).into_owned();
        // HDF5 frees the name with its own allocator (H5MM_xfree) when the reference is destroyed.
        let p = crate::ffi::h5::H5allocate_memory(file.len() + 1, 0) as *mut u8;
        if p.is_null() {
            H5Rdestroy(dst as *mut H5R_ref_t);
            bail!(Area::Dataset, "out of memory for a reference's file name");
        }
        std::ptr::copy_nonoverlapping(file.as_ptr(), p, file.len());
        *p.add(file.len()) = 0;
        std::ptr::copy_nonoverlapping(r.token.as_ptr(), dst, 16);
        (dst.add(FILENAME_AT) as *mut *mut u8).write_unaligned(p);
        self.made.insert(p as usize);
        let attached = (dst.add(LOC_ID_AT) as *const hid_t).read_unaligned();
        (dst.add(LOC_ID_AT) as *mut hid_t).write_unaligned(H5I_INVALID_HID);
        *dst.add(TOKEN_SIZE_AT) = r.token_size;
        *dst.add(APP_REF_AT) = 0;
        // As HDF5's decoding caches it: the encoded size, file name (u16 length) included, with
        // the token at its own size instead of rustvol's.
        let size = (dst.add(ENCODE_SIZE_AT) as *const u32).read_unaligned() as usize;
        let size = size.saturating_sub(16) + r.token_size as usize + 2 + file.len();
        (dst.add(ENCODE_SIZE_AT) as *mut u32).write_unaligned(size as u32);
        // The reference no longer holds the file id the creation attached.
        crate::ffi::h5::H5Idec_ref(attached);
        TARGETS.entry(name).or_insert_with(|| self.h.file.cfg.clone());
        Ok(())
    }
}

/// `H5Rcreate_*` of `kind` at `path` of file `fid`, with the region selection or attribute
/// name in `extra`.
unsafe fn make_kind(fid: hid_t, kind: u8, path: *const std::ffi::c_char, extra: &[u8], dst: *mut u8) -> Result<()> {
    let r = dst as *mut H5R_ref_t;
    let rc = match kind {
        2 => H5Rcreate_object(fid, path, H5P_DEFAULT, r),
        3 => {
            let space = crate::ffi::h5::H5Sdecode(extra.as_ptr().cast());
            if space < 0 {
                bail!(Area::Storage, "a stored region reference has a corrupt selection");
            }
            let rc = H5Rcreate_region(fid, path, space, H5P_DEFAULT, r);
            crate::ffi::h5::H5Sclose(space);
            rc
        }
        4 => {
            let name = CString::new(extra).map_err(|_| VolError::new(Area::Storage, "attribute name with NUL"))?;
            H5Rcreate_attr(fid, path, name.as_ptr(), H5P_DEFAULT, r)
        }
        k => bail!(Area::Storage, "a stored reference has unknown kind {k}"),
    };
    if rc < 0 {
        bail!(Area::Dataset, "could not rebuild a reference");
    }
    Ok(())
}

/// Whether `id` belongs to rustvol (rather than to another connector, such as native HDF5).
unsafe fn is_ours(id: hid_t) -> bool {
    let mut buf = [0 as std::ffi::c_char; 16];
    crate::ffi::h5::H5VLget_connector_name(id, buf.as_mut_ptr(), buf.len()) >= 0
        && std::ffi::CStr::from_ptr(buf.as_ptr()).to_bytes() == super::CONNECTOR_NAME.to_bytes()
}

impl RefCodec for RefMaker<'_> {
    unsafe fn make(&mut self, r: &StoredRef, dst: *mut u8) -> Result<()> {
        if let Some(file) = r.file {
            return self.make_external(r, file, dst);
        }
        let fid = self.fid()?;
        let id = r.id();
        let path = self.path(id)?;
        make_kind(fid, r.kind, path.as_ptr(), r.extra, dst)
            .map_err(|e| VolError::new(Area::Dataset, format!("{} to object {id}", e.msg)))
    }

    unsafe fn other_file(&mut self, r: *const u8) -> Result<Option<OtherFile>> {
        // A reference made by HDF5 in this process: check the layout on one made here.
        if LAYOUT_OK.get().is_none() {
            let fid = self.fid()?;
            let mut probe = [0u8; REF_SIZE];
            make_kind(fid, 2, c"/".as_ptr(), &[], probe.as_mut_ptr())?;
            self.layout_ok(probe.as_ptr());
            H5Rdestroy(probe.as_mut_ptr() as *mut H5R_ref_t);
        }
        if LAYOUT_OK.get() != Some(&true) {
            // Without the attached file id, the file is known by its name only: enough to
            // store a reference into this file, not one into another.
            let r = r as *const H5R_ref_t;
            let n = crate::ffi::h5::H5Rget_file_name(r, std::ptr::null_mut(), 0);
            let mut b = vec![0u8; n.max(0) as usize + 1];
            if n < 0 || crate::ffi::h5::H5Rget_file_name(r, b.as_mut_ptr().cast(), b.len()) < 0 {
                bail!(Area::Dataset, "could not get the file name of a reference");
            }
            let name = std::ffi::CStr::from_bytes_until_nul(&b).map(|c| c.to_string_lossy().into_owned()).unwrap_or_default();
            if name == self.h.file.name {
                return Ok(None);
            }
            bail!(Area::Dataset, "cannot store a reference into another file ({name:?}): this HDF5's references are laid out differently from HDF5 1.14's");
        }
        let loc = (r.add(LOC_ID_AT) as *const hid_t).read_unaligned();
        let token_size = *r.add(TOKEN_SIZE_AT);
        if loc == H5I_INVALID_HID {
            let name = (r.add(FILENAME_AT) as *const *const std::ffi::c_char).read_unaligned();
            if !name.is_null() && self.made.contains(&(name as usize)) {
                // Read back in this transfer (the kept members of a partial write).
                return Ok(Some(OtherFile { name: std::ffi::CStr::from_ptr(name).to_bytes().to_vec(), token_size }));
            }
            // As natively: a reference read from a file and never followed has no open file.
            bail!(Area::Dataset, "a reference into another file that was never opened cannot be stored (open its target first)");
        }
        if is_ours(loc) {
            let o = H5VLobject(loc) as *const Handle;
            if o.is_null() {
                bail!(Area::Dataset, "a reference's file id is not valid");
            }
            // rustvol's file ids stand for `Handle`s, alive while the id is.
            let o = &*o;
            if std::sync::Arc::ptr_eq(&o.file, &self.h.file) {
                return Ok(None);
            }
            return Ok(Some(OtherFile { name: o.file.name.clone().into_bytes(), token_size }));
        }
        let n = crate::ffi::h5::H5Fget_name(loc, std::ptr::null_mut(), 0);
        if n < 0 {
            bail!(Area::Dataset, "could not get the name of a reference's file");
        }
        let mut b = vec![0u8; n as usize + 1];
        if crate::ffi::h5::H5Fget_name(loc, b.as_mut_ptr().cast(), b.len()) != n {
            bail!(Area::Dataset, "could not get the name of a reference's file");
        }
        b.truncate(n as usize);
        Ok(Some(OtherFile { name: b, token_size }))
    }
}

impl Drop for RefMaker<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.fid {
            // SAFETY: our own reference on the id made in `fid`; references hold their own.
            unsafe { crate::ffi::h5::H5Idec_ref(f) };
        }
    }
}
