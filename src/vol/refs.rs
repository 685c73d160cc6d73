//! Rebuilding stored references on read: `H5Rcreate_*` against a file id for the file being
//! read, registered once per transfer and kept alive by the references that use it.
use super::handle::{Handle, Kind};
use super::vlen::MakeRef;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::vol_bindings::{H5VLwrap_register, H5I_FILE};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5r::{H5R_ref_t, H5Rcreate_attr, H5Rcreate_object, H5Rcreate_region};
use std::collections::HashMap;
use std::ffi::CString;

pub struct RefMaker<'a> {
    h: &'a Handle,
    fid: Option<hid_t>,
    paths: HashMap<u64, CString>,
}

impl<'a> RefMaker<'a> {
    pub fn new(h: &'a Handle) -> RefMaker<'a> {
        RefMaker { h, fid: None, paths: HashMap::new() }
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
        let c = CString::new(path).map_err(|_| crate::error::VolError::new(Area::Dataset, "path with NUL"))?;
        self.paths.insert(id, c.clone());
        Ok(c)
    }
}

impl MakeRef for RefMaker<'_> {
    unsafe fn make(&mut self, kind: u8, id: u64, extra: &[u8], dst: *mut u8) -> Result<()> {
        let fid = self.fid()?;
        let path = self.path(id)?;
        let r = dst as *mut H5R_ref_t;
        let rc = match kind {
            2 => H5Rcreate_object(fid, path.as_ptr(), H5P_DEFAULT, r),
            3 => {
                let space = hdf5_sys::h5s::H5Sdecode(extra.as_ptr().cast());
                if space < 0 {
                    bail!(Area::Storage, "a stored region reference has a corrupt selection");
                }
                let rc = H5Rcreate_region(fid, path.as_ptr(), space, H5P_DEFAULT, r);
                hdf5_sys::h5s::H5Sclose(space);
                rc
            }
            4 => {
                let name = CString::new(extra).map_err(|_| crate::error::VolError::new(Area::Storage, "attribute name with NUL"))?;
                H5Rcreate_attr(fid, path.as_ptr(), name.as_ptr(), H5P_DEFAULT, r)
            }
            k => bail!(Area::Storage, "a stored reference has unknown kind {k}"),
        };
        if rc < 0 {
            bail!(Area::Dataset, "could not rebuild a reference to object {id}");
        }
        Ok(())
    }
}

impl Drop for RefMaker<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.fid {
            // SAFETY: our own reference on the id made in `fid`; references hold their own.
            unsafe { hdf5_sys::h5i::H5Idec_ref(f) };
        }
    }
}
