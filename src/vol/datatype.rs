//! Committed (named) datatype callbacks.
use super::guard;
use super::h5util::{cstr, decode_plist, encode_plist, encode_type};
use super::handle::{create_linked, locate, Handle, Kind};
use crate::bail;
use crate::error::Area;
use crate::ffi::vol_bindings::*;
use crate::model::objects::{NamedType, ObjKind};
use std::ffi::{c_char, c_void};

pub unsafe extern "C" fn commit(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    lcpl: hid_t,
    tcpl: hid_t,
    tapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("datatype_commit", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(tcpl, "datatype creation")?;
            super::handle::check_plist(tapl, "datatype access")?;
            let kind = ObjKind::Datatype(Box::new(NamedType { dtype: encode_type(type_id)?, tcpl: encode_plist(tcpl)?.to_vec() }));
            let t = create_linked(h, loc, name, lcpl, kind, tcpl)?;
            Ok(Handle::new(t.file, Kind::Datatype, t.obj, h.writable && !t.readonly, t.path).into_raw())
        }
    })
}

pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    tapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("datatype_open", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(tapl, "datatype access")?;
            let base = locate(h, loc)?;
            let name = cstr(name, "datatype name")?;
            let t = super::handle::resolve_path_as(&base.file, base.obj, &base.path, &name, tapl)?;
            let m = t.file.meta.read();
            if !matches!(m.obj(t.obj)?.kind, ObjKind::Datatype(_)) {
                bail!(Area::Datatype, "{name:?} is a {}, not a committed datatype", m.obj(t.obj)?.type_name());
            }
            drop(m);
            Ok(Handle::new(t.file, Kind::Datatype, t.obj, h.writable && !t.readonly, t.path).into_raw())
        }
    })
}

pub unsafe extern "C" fn get(obj: *mut c_void, args: *mut H5VL_datatype_get_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("datatype_get", || {
        // SAFETY: arguments from HDF5; obj is our handle; binary buffers hold buf_size bytes.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            let nt = match &h.file.meta.read().obj(h.obj)?.kind {
                ObjKind::Datatype(nt) => nt.clone(),
                _ => bail!(Area::Datatype, "object is not a committed datatype"),
            };
            match a.op_type {
                H5VL_DATATYPE_GET_BINARY_SIZE => *a.args.get_binary_size.size = nt.dtype.len(),
                H5VL_DATATYPE_GET_BINARY => {
                    let g = &a.args.get_binary;
                    if !g.buf.is_null() {
                        let n = nt.dtype.len().min(g.buf_size);
                        std::ptr::copy_nonoverlapping(nt.dtype.as_ptr(), g.buf as *mut u8, n);
                    }
                }
                H5VL_DATATYPE_GET_TCPL => a.args.get_tcpl.tcpl_id = decode_plist(&nt.tcpl)?.release(),
                t => bail!(Area::Datatype, "unknown datatype get operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(obj: *mut c_void, args: *mut H5VL_datatype_specific_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("datatype_specific", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            match (*args).op_type {
                H5VL_DATATYPE_FLUSH => {
                    if h.writable {
                        h.file.flush()?
                    }
                }
                H5VL_DATATYPE_REFRESH => {}
                t => bail!(Area::Datatype, "unknown datatype operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn optional(_obj: *mut c_void, args: *mut H5VL_optional_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("datatype_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Datatype, unsafe { (*args).op_type }))
    })
}

pub unsafe extern "C" fn close(obj: *mut c_void, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    // SAFETY: HDF5 closes each object it got from us exactly once.
    guard::status("datatype_close", || unsafe { Handle::close(obj) })
}
