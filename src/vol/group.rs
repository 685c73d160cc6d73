//! Group callbacks.
use super::guard;
use super::h5util::{decode_plist, encode_plist};
use super::handle::{create_linked, locate, Handle, Kind};
use crate::bail;
use crate::error::Area;
use crate::ffi::vol_bindings::*;
use crate::model::objects::{Group, LinkPhase, ObjKind};
use std::ffi::{c_char, c_void};

pub unsafe extern "C" fn create(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl: hid_t,
    gcpl: hid_t,
    gapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("group_create", || {
        // SAFETY: obj is our handle; loc/name/plists come from HDF5.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(gcpl, "group creation")?;
            super::handle::check_plist(gapl, "group access")?;
            let mut crt = 0u32;
            crate::ffi::h5::H5Pget_link_creation_order(gcpl, &mut crt);
            let track = crt & 1 != 0;
            let phase = link_phase(gcpl, h.file.meta.read().new_style_groups, track);
            let kind = ObjKind::Group(Group::new(encode_plist(gcpl)?, track, phase));
            let t = create_linked(h, loc, name, lcpl, kind, gcpl)?;
            Ok(Handle::new(t.file, Kind::Group, t.obj, h.writable && !t.readonly, t.path).into_raw())
        }
    })
}

/// The link storage native HDF5 gives a new group of creation list `gcpl`: the 1.8 format
/// (compact, then dense past the phase change) when the file's lower format bound, creation
/// order tracking or a link filter asks for it, otherwise a symbol table (`H5G__obj_create_real`).
///
/// # Safety
/// `gcpl` is a group (or file) creation property list id.
pub unsafe fn link_phase(gcpl: hid_t, new_style_file: bool, track_corder: bool) -> Option<LinkPhase> {
    // SAFETY: plain queries of a property list HDF5 handed over; outputs are local.
    unsafe {
        if !(new_style_file || track_corder || crate::ffi::h5::H5Pget_nfilters(gcpl) > 0) {
            return None;
        }
        let (mut max_compact, mut min_dense) = (0u32, 0u32);
        if crate::ffi::h5::H5Pget_link_phase_change(gcpl, &mut max_compact, &mut min_dense) < 0 {
            return Some(LinkPhase::DEFAULT);
        }
        Some(LinkPhase::new(max_compact, min_dense))
    }
}

/// Whether groups made through a file access list are of the 1.8 format: its lower format
/// bound is 1.8 or later (`H5Pset_libver_bounds`).
///
/// # Safety
/// `fapl` is a file access property list id.
pub unsafe fn new_style_groups(fapl: hid_t) -> bool {
    let (mut low, mut high) = (0 as std::ffi::c_int, 0 as std::ffi::c_int);
    // SAFETY: HDF5 writes each bound as a C enum, an int, into the locals.
    let ok = unsafe { crate::ffi::h5::H5Pget_libver_bounds(fapl, (&mut low as *mut std::ffi::c_int).cast(), (&mut high as *mut std::ffi::c_int).cast()) };
    ok >= 0 && low >= hdf5_sys::h5f::H5F_libver_t::H5F_LIBVER_V18 as std::ffi::c_int
}

pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    gapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("group_open", || {
        // SAFETY: as in `create`.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(gapl, "group access")?;
            let base = locate(h, loc)?;
            let name = super::h5util::cstr(name, "group name")?;
            let t = super::handle::resolve_path_as(&base.file, base.obj, &base.path, &name, gapl)?;
            t.file.meta.read().check_group(t.obj, t.kind)?;
            Ok(Handle::new(t.file, Kind::Group, t.obj, h.writable && !t.readonly, t.path).into_raw())
        }
    })
}

pub unsafe extern "C" fn get(obj: *mut c_void, args: *mut H5VL_group_get_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("group_get", || {
        // SAFETY: obj is our handle, args a valid HDF5 argument block.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_GROUP_GET_GCPL => {
                    let b = h.file.meta.read().group(h.obj)?.gcpl.clone();
                    a.args.get_gcpl.gcpl_id = decode_plist(&b)?.release();
                }
                H5VL_GROUP_GET_INFO => {
                    let g = &a.args.get_info;
                    let t = locate(h, &g.loc_params)?;
                    let m = t.file.meta.read();
                    let grp = m.group(t.obj)?;
                    let info = &mut *g.ginfo;
                    info.storage_type = match grp.phase {
                        None => H5G_STORAGE_TYPE_SYMBOL_TABLE,
                        Some(p) if p.dense => H5G_STORAGE_TYPE_DENSE,
                        Some(_) => H5G_STORAGE_TYPE_COMPACT,
                    };
                    info.nlinks = grp.links.len() as u64;
                    info.max_corder = grp.links.next_corder();
                    info.mounted = false;
                }
                t => bail!(Area::Group, "unknown group get operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(obj: *mut c_void, args: *mut H5VL_group_specific_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("group_specific", || {
        // SAFETY: obj is our handle, args a valid HDF5 argument block.
        unsafe {
            let h = Handle::from_raw(obj)?;
            match (*args).op_type {
                H5VL_GROUP_FLUSH => {
                    if h.writable {
                        h.file.flush()?
                    }
                }
                H5VL_GROUP_REFRESH => {}
                H5VL_GROUP_MOUNT | H5VL_GROUP_UNMOUNT => {
                    bail!(Area::Group, "mounting files is a feature of the native file format, not of rustvol")
                }
                t => bail!(Area::Group, "unknown group operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn optional(_obj: *mut c_void, args: *mut H5VL_optional_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("group_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Group, unsafe { (*args).op_type }))
    })
}

pub unsafe extern "C" fn close(obj: *mut c_void, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    // SAFETY: HDF5 closes each object it got from us exactly once.
    guard::status("group_close", || unsafe { Handle::close(obj) })
}
