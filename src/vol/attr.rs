//! Attribute callbacks.
use super::guard;
use super::h5util::{cstr, decode_plist, encode_plist, encode_type_shared, extent_of, opt_cstr, space_of, write_name};
use super::handle::{locate, resolve_path, Handle, Kind, Target};
use super::transfer::{self, MemSide};
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::vol_bindings::*;
use crate::model::dataio::{decode_vlen_chunk, encode_vlen_chunk};
use crate::model::objects::Attribute;
use std::ffi::{c_char, c_void};

/// The object a location names (attribute locations use BY_IDX for the attribute index).
unsafe fn owner(h: &Handle, loc: *const H5VL_loc_params_t) -> Result<Target> {
    let l = &*loc;
    if l.type_ == H5VL_OBJECT_BY_IDX {
        super::handle::check_plist(l.loc_data.loc_by_idx.lapl_id, "link access")?;
        let name = cstr(l.loc_data.loc_by_idx.name, "object name")?;
        return resolve_path(&h.file, h.obj, &h.path, &name);
    }
    locate(h, loc)
}

/// The name of the attribute a BY_IDX location selects on `t`.
unsafe fn name_by_idx(t: &Target, loc: *const H5VL_loc_params_t) -> Result<String> {
    let by = &(*loc).loc_data.loc_by_idx;
    t.file.meta.read().attr_name_by_idx(t.obj, by.idx_type == H5_INDEX_CRT_ORDER, by.order == H5_ITER_DEC, by.n)
}

fn open_handle(t: Target, name: &str, writable: bool) -> Result<Handle> {
    let (id, dtype, fixed) = {
        let m = t.file.meta.read();
        let a = m.attr(t.obj, name)?;
        (a.id, a.dtype.clone(), a.fixed)
    };
    Handle::new(t.file, Kind::Attr(id), t.obj, writable, t.path).with_known_type(dtype, !fixed)
}

/// The size of one element of the attribute's type: known from its stored data when that is
/// raw elements, else from the type.
fn elem_size(a: &Attribute) -> Result<usize> {
    let n = a.extent.npoints() as usize;
    if a.fixed && n > 0 && !a.data.is_empty() && a.data.len() % n == 0 {
        return Ok(a.data.len() / n);
    }
    let ft = super::h5util::decode_type(&a.dtype)?;
    // SAFETY: size query on a datatype id just decoded.
    Ok(unsafe { crate::ffi::h5::H5Tget_size(ft.id) })
}

/// Like the native format, an attribute of an object that does not track creation order
/// reports a valid creation order of 0.
fn info_of(a: &Attribute, tracked: bool, fsize: usize) -> H5A_info_t {
    H5A_info_t { corder_valid: true, corder: if tracked { a.corder as u32 } else { 0 }, cset: if a.utf8 { 1 } else { 0 }, data_size: a.extent.npoints() * fsize as u64 }
}

pub unsafe extern "C" fn create(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    space_id: hid_t,
    acpl: hid_t,
    aapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("attr_create", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(acpl, "attribute creation")?;
            super::handle::check_plist(aapl, "attribute access")?;
            h.check_writable()?;
            let t = locate(h, loc)?;
            let name = cstr(name, "attribute name")?;
            let mut cset = hdf5_sys::h5t::H5T_cset_t::H5T_CSET_ASCII;
            if acpl > 0 && !super::h5util::is_default_list(acpl) {
                crate::ffi::h5::H5Pget_char_encoding(acpl, &mut cset);
            }
            let attr = Attribute {
                id: 0,
                name: name.clone(),
                dtype: encode_type_shared(type_id)?,
                extent: extent_of(space_id)?,
                acpl: encode_plist(acpl)?,
                data: vec![],
                corder: 0,
                utf8: cset == hdf5_sys::h5t::H5T_cset_t::H5T_CSET_UTF8,
                committed_type: super::committed::of_type(h, type_id)?,
                fixed: super::vlen::Shape::of(type_id)?.is_none(),
            };
            let dtype = attr.dtype.clone();
            let fixed = attr.fixed;
            let committed = attr.committed_type;
            let id = t.file.meta.write().add_attr(t.obj, attr)?;
            super::committed::hold(&t.file, committed)?;
            Ok(Handle::new(t.file, Kind::Attr(id), t.obj, h.writable, t.path).with_known_type(dtype, !fixed)?.into_raw())
        }
    })
}

pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    aapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("attr_open", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(aapl, "attribute access")?;
            let t = owner(h, loc)?;
            let name = match opt_cstr(name) {
                Some(n) if (*loc).type_ != H5VL_OBJECT_BY_IDX => n,
                _ => name_by_idx(&t, loc)?,
            };
            Ok(open_handle(t, &name, h.writable)?.into_raw())
        }
    })
}

fn attr_of(h: &Handle) -> Result<Attribute> {
    let Kind::Attr(id) = h.kind else { bail!(Area::Attribute, "object is not an attribute") };
    Ok(h.file.meta.read().attr_by_id(h.obj, id)?.clone())
}

pub unsafe extern "C" fn read(attr: *mut c_void, mtype: hid_t, buf: *mut c_void, dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("attr_read", || {
        // SAFETY: attr is our handle; buf holds the attribute's elements in `mtype`.
        unsafe {
            let h = Handle::from_raw(attr)?;
            if buf.is_null() {
                bail!(Area::Attribute, "no data buffer given");
            }
            if h.shape.is_none() && h.same_type(mtype)? {
                // Same type: straight from the stored bytes, no copy of the attribute.
                let Kind::Attr(id) = h.kind else { bail!(Area::Attribute, "object is not an attribute") };
                let m = h.file.meta.read();
                let a = m.attr_by_id(h.obj, id)?;
                let n = a.extent.npoints() as usize;
                let mem = MemSide::new(buf as *mut u8, vec![(0, n as u64)], mtype)?;
                let want = n * mem.msize;
                match a.data.len() {
                    0 => std::ptr::write_bytes(mem.buf, 0, want),
                    l if l == want => mem.scatter(&a.data),
                    l => bail!(Area::Storage, "stored attribute {:?} has {l} bytes, expected {want}", a.name),
                }
                return Ok(());
            }
            let a = attr_of(h)?;
            let n = a.extent.npoints() as usize;
            let ft = h.file_type()?;
            let fsize = crate::ffi::h5::H5Tget_size(ft.id);
            let mem = MemSide::new(buf as *mut u8, vec![(0, n as u64)], mtype)?;
            match &h.shape {
                None => {
                    let mut stored = a.data.clone();
                    if stored.len() != n * fsize {
                        if !stored.is_empty() {
                            bail!(Area::Storage, "stored attribute {:?} has {} bytes, expected {}", a.name, stored.len(), n * fsize);
                        }
                        stored = vec![0u8; n * fsize];
                    }
                    transfer::deliver_fixed(ft.id, fsize, n, stored, &mem, dxpl)
                }
                Some(shape) => {
                    let enc = if a.data.is_empty() { vec![Vec::new(); n] } else { decode_vlen_chunk(h.obj, &[], &a.data, n as u64)? };
                    transfer::deliver_vlen(ft.id, fsize, shape, &enc, &mem, dxpl, &mut super::refs::RefMaker::new(h))
                }
            }
        }
    })
}

pub unsafe extern "C" fn write(attr: *mut c_void, mtype: hid_t, buf: *const c_void, dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("attr_write", || {
        // SAFETY: attr is our handle; buf holds the attribute's elements in `mtype`.
        unsafe {
            let h = Handle::from_raw(attr)?;
            h.check_writable()?;
            let Kind::Attr(id) = h.kind else { bail!(Area::Attribute, "object is not an attribute") };
            if buf.is_null() {
                bail!(Area::Attribute, "no data buffer given");
            }
            if h.shape.is_none() && h.same_type(mtype)? {
                let n = h.file.meta.read().attr_by_id(h.obj, id)?.extent.npoints() as usize;
                let mem = MemSide::new(buf as *mut u8, vec![(0, n as u64)], mtype)?;
                let mut data = vec![0u8; n * mem.msize];
                mem.gather(&mut data);
                h.file.meta.write().attr_by_id_mut(h.obj, id)?.data = data;
                return Ok(());
            }
            let a = attr_of(h)?;
            let n = a.extent.npoints() as usize;
            let ft = h.file_type()?;
            let fsize = crate::ffi::h5::H5Tget_size(ft.id);
            let mem = MemSide::new(buf as *mut u8, vec![(0, n as u64)], mtype)?;
            let data = match &h.shape {
                None => transfer::collect_fixed(ft.id, fsize, n, &mem, dxpl, || {
                    Ok(if a.data.len() == n * fsize { a.data.clone() } else { vec![0u8; n * fsize] })
                })?,
                Some(shape) => {
                    let current = || if a.data.is_empty() { Ok(vec![Vec::new(); n]) } else { decode_vlen_chunk(h.obj, &[], &a.data, n as u64) };
                    encode_vlen_chunk(&transfer::collect_vlen(ft.id, fsize, shape, n, &mem, dxpl, &mut super::refs::RefMaker::new(h), current)?)
                }
            };
            h.file.meta.write().attr_by_id_mut(h.obj, id)?.data = data;
        }
        Ok(())
    })
}

pub unsafe extern "C" fn get(obj: *mut c_void, args: *mut H5VL_attr_get_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("attr_get", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_ATTR_GET_ACPL => a.args.get_acpl.acpl_id = decode_plist(&attr_of(h)?.acpl)?.release(),
                H5VL_ATTR_GET_SPACE => a.args.get_space.space_id = space_of(&attr_of(h)?.extent)?.release(),
                H5VL_ATTR_GET_TYPE => {
                    let at = attr_of(h)?;
                    a.args.get_type.type_id = super::committed::type_id(h, at.committed_type, &at.dtype)?;
                }
                H5VL_ATTR_GET_STORAGE_SIZE => {
                    let at = attr_of(h)?;
                    let ft = h.file_type()?;
                    *a.args.get_storage_size.data_size =
                        at.extent.npoints() * crate::ffi::h5::H5Tget_size(ft.id) as u64;
                }
                H5VL_ATTR_GET_NAME => {
                    let g = &a.args.get_name;
                    let name = if g.loc_params.type_ == H5VL_OBJECT_BY_IDX {
                        let t = owner(h, &g.loc_params)?;
                        name_by_idx(&t, &g.loc_params)?
                    } else {
                        attr_of(h)?.name
                    };
                    let n = write_name(&name, g.buf, g.buf_size);
                    if !g.attr_name_len.is_null() {
                        *g.attr_name_len = n;
                    }
                }
                H5VL_ATTR_GET_INFO => {
                    let g = &a.args.get_info;
                    let (t, name) = if g.loc_params.type_ == H5VL_OBJECT_BY_IDX {
                        let t = owner(h, &g.loc_params)?;
                        let n = name_by_idx(&t, &g.loc_params)?;
                        (t, n)
                    } else if let (Kind::Attr(_), H5VL_OBJECT_BY_SELF) = (h.kind, g.loc_params.type_) {
                        let at = attr_of(h)?;
                        (Target { file: h.file.clone(), obj: h.obj, path: h.path.clone(), readonly: false, kind: None }, at.name)
                    } else {
                        (locate(h, &g.loc_params)?, cstr(g.attr_name, "attribute name")?)
                    };
                    let m = t.file.meta.read();
                    let at = m.attr(t.obj, &name)?;
                    let tracked = m.obj(t.obj)?.track_attr_corder;
                    *g.ainfo = info_of(at, tracked, elem_size(at)?);
                }
                t => bail!(Area::Attribute, "unknown attribute get operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut H5VL_attr_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::value("attr_specific", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            let t = locate(h, loc)?;
            match a.op_type {
                H5VL_ATTR_DELETE => {
                    h.check_writable()?;
                    let name = cstr(a.args.del.name, "attribute name")?;
                    t.file.meta.write().delete_attr(t.obj, &name)?;
                }
                H5VL_ATTR_DELETE_BY_IDX => {
                    h.check_writable()?;
                    let d = &a.args.delete_by_idx;
                    let mut m = t.file.meta.write();
                    let name = m.attr_name_by_idx(t.obj, d.idx_type == H5_INDEX_CRT_ORDER, d.order == H5_ITER_DEC, d.n)?;
                    m.delete_attr(t.obj, &name)?;
                }
                H5VL_ATTR_EXISTS => {
                    let name = cstr(a.args.exists.name, "attribute name")?;
                    *a.args.exists.exists = t.file.meta.read().obj(t.obj)?.attrs.get(&name).is_some();
                }
                H5VL_ATTR_RENAME => {
                    h.check_writable()?;
                    let old = cstr(a.args.rename.old_name, "attribute name")?;
                    let new = cstr(a.args.rename.new_name, "new attribute name")?;
                    t.file.meta.write().rename_attr(t.obj, &old, &new)?;
                }
                H5VL_ATTR_ITER => return iterate(h, t, &a.args.iterate),
                op => bail!(Area::Attribute, "unknown attribute operation {op}"),
            }
        }
        Ok(0)
    })
}

unsafe fn iterate(h: &Handle, t: Target, it: &H5VL_attr_iterate_args_t) -> Result<i32> {
    let by_corder = it.idx_type == H5_INDEX_CRT_ORDER;
    let names = {
        let m = t.file.meta.read();
        let o = m.obj(t.obj)?;
        o.attrs.names(by_corder, it.order == H5_ITER_DEC)
    };
    let Some(op) = it.op else { bail!(Area::Attribute, "no iteration callback given") };
    let start = if it.idx.is_null() { 0 } else { *it.idx as usize };
    if start > names.len() {
        bail!(Area::Attribute, "iteration index {start} is out of range ({} attributes)", names.len());
    }
    let (oh, ty) = super::object::open_target(Target { file: t.file.clone(), obj: t.obj, path: t.path.clone(), readonly: t.readonly, kind: None }, h.writable)?;
    let hid = super::handle::register_for_callback(oh, ty)?;
    let mut ret = 0;
    let mut done = start;
    for name in names.into_iter().skip(start) {
        let info = {
            let m = t.file.meta.read();
            let Ok(a) = m.attr(t.obj, &name) else { continue };
            let tracked = m.obj(t.obj)?.track_attr_corder;
            info_of(a, tracked, elem_size(a)?)
        };
        let cname = std::ffi::CString::new(name).unwrap_or_default();
        ret = op(hid, cname.as_ptr(), &info, it.op_data);
        done += 1;
        if ret != 0 {
            break;
        }
    }
    crate::ffi::h5::H5Idec_ref(hid);
    if !it.idx.is_null() {
        *it.idx = done as u64;
    }
    if ret < 0 {
        bail!(Area::Attribute, "the attribute iteration callback failed");
    }
    Ok(ret)
}

pub unsafe extern "C" fn optional(_obj: *mut c_void, args: *mut H5VL_optional_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("attr_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Attribute, unsafe { (*args).op_type }))
    })
}

pub unsafe extern "C" fn close(obj: *mut c_void, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    // SAFETY: HDF5 closes each object it got from us exactly once.
    guard::status("attr_close", || unsafe { Handle::close(obj) })
}
