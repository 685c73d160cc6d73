//! Link callbacks: create (hard, soft, external), copy, move, get (info, name, value) and
//! specific (delete, exists, iterate and visit).
use super::guard;
use super::h5util::{cstr, write_name};
use super::handle::{resolve_path, Handle, Kind};
use crate::backend::ObjId;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::vol_bindings::*;
use crate::model::objects::{Link, LinkTarget};
use crate::model::open_file::OpenFile;
use std::ffi::c_void;
use std::sync::Arc;

/// The group holding a link and the link's name.
pub struct LinkLoc {
    pub file: Arc<OpenFile>,
    pub group: ObjId,
    pub group_path: String,
    pub name: String,
}

pub fn split_last(path: &str) -> Option<(String, String)> {
    let trimmed = path.trim_end_matches('/');
    let comps: Vec<&str> = trimmed.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    let last = comps.last()?.to_string();
    let dir = if comps.len() == 1 {
        if path.starts_with('/') { "/".to_string() } else { ".".to_string() }
    } else {
        let d = comps[..comps.len() - 1].join("/");
        if path.starts_with('/') { format!("/{d}") } else { d }
    };
    Some((dir, last))
}

/// # Safety
/// `loc` points at valid location parameters from HDF5.
pub unsafe fn link_loc(h: &Handle, loc: *const H5VL_loc_params_t) -> Result<LinkLoc> {
    let loc = &*loc;
    match loc.type_ {
        H5VL_OBJECT_BY_NAME => {
            super::handle::check_plist(loc.loc_data.loc_by_name.lapl_id, "link access")?;
            let path = cstr(loc.loc_data.loc_by_name.name, "link name")?;
            let Some((dir, name)) = split_last(&path) else {
                bail!(Area::Link, "{path:?} does not name a link");
            };
            let g = resolve_path(&h.file, h.obj, &h.path, &dir)?;
            g.file.meta.read().group(g.obj)?;
            Ok(LinkLoc { file: g.file, group: g.obj, group_path: g.path, name })
        }
        H5VL_OBJECT_BY_IDX => {
            let by = &loc.loc_data.loc_by_idx;
            super::handle::check_plist(by.lapl_id, "link access")?;
            let gname = cstr(by.name, "group name")?;
            let g = resolve_path(&h.file, h.obj, &h.path, &gname)?;
            let name =
                g.file.meta.read().link_name_by_idx(g.obj, by.idx_type == H5_INDEX_CRT_ORDER, by.order == H5_ITER_DEC, by.n)?;
            Ok(LinkLoc { file: g.file, group: g.obj, group_path: g.path, name })
        }
        t => bail!(Area::Link, "a link cannot be located by location type {t}"),
    }
}

fn lcpl_intermediate(lcpl: hid_t) -> bool {
    let mut flag = 0u32;
    // SAFETY: query on a plist id from HDF5.
    lcpl > 0 && unsafe { crate::ffi::h5::H5Pget_create_intermediate_group(lcpl, &mut flag) } >= 0 && flag != 0
}

fn insert(h: &Handle, loc: *const H5VL_loc_params_t, lcpl: hid_t, target: LinkTarget, file_of_target: Option<&Arc<OpenFile>>) -> Result<()> {
    h.check_writable()?;
    super::handle::check_plist(lcpl, "link creation")?;
    // SAFETY: loc comes from HDF5.
    if unsafe { (*loc).type_ } == H5VL_OBJECT_BY_NAME {
        super::handle::check_plist(unsafe { (*loc).loc_data.loc_by_name.lapl_id }, "link access")?;
    }
    // SAFETY: loc comes from HDF5.
    let loc = unsafe { &*loc };
    if loc.type_ != H5VL_OBJECT_BY_NAME {
        bail!(Area::Link, "a new link needs a name");
    }
    // SAFETY: BY_NAME locations carry a name.
    let path = cstr(unsafe { loc.loc_data.loc_by_name.name }, "link name")?;
    let Some((dir, name)) = split_last(&path) else {
        bail!(Area::Link, "{path:?} does not name a link");
    };
    let gcpl = if lcpl_intermediate(lcpl) {
        Some(super::h5util::encode_plist(*crate::ffi::h5::H5P_LST_GROUP_CREATE)?)
    } else {
        None
    };
    if let Some(f) = file_of_target {
        if !Arc::ptr_eq(f, &h.file) {
            bail!(Area::Link, "a hard link cannot point into another file");
        }
    }
    let mut m = h.file.meta.write();
    let parent = if dir == "." {
        h.obj
    } else {
        // The parent of a placeholder child is `dir` itself, with missing groups created.
        m.resolve_parent(h.obj, &format!("{dir}/x"), gcpl.as_deref())?.0
    };
    m.insert_link(parent, &name, target)?;
    Ok(())
}

pub unsafe extern "C" fn create(
    args: *mut H5VL_link_create_args_t,
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    lcpl: hid_t,
    _lapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("link_create", || {
        // SAFETY: args and loc come from HDF5; obj and curr_obj are NULL or our handles.
        unsafe {
            let a = &*args;
            match a.op_type {
                H5VL_LINK_CREATE_HARD => {
                    let hard = &a.args.hard;
                    let cur = if hard.curr_obj.is_null() { obj } else { hard.curr_obj };
                    let ch = Handle::from_raw(cur)?;
                    let t = super::handle::locate(ch, &hard.curr_loc_params)?;
                    let h = Handle::from_raw(if obj.is_null() { cur } else { obj })?;
                    insert(h, loc, lcpl, LinkTarget::Hard(t.obj), Some(&t.file))
                }
                H5VL_LINK_CREATE_SOFT => {
                    let target = cstr(a.args.soft.target, "soft link target")?;
                    insert(Handle::from_raw(obj)?, loc, lcpl, LinkTarget::Soft(target), None)
                }
                H5VL_LINK_CREATE_UD => {
                    let ud = &a.args.ud;
                    let buf = if ud.buf.is_null() { &[][..] } else { std::slice::from_raw_parts(ud.buf as *const u8, ud.buf_size) };
                    // External links with a well-formed value are followed; any other
                    // user-defined link is kept as given, as HDF5 keeps it.
                    let target = match (ud.type_ == H5L_TYPE_EXTERNAL).then(|| unpack_external(buf)) {
                        Some(Ok((file, path))) => LinkTarget::external(file, path),
                        _ => LinkTarget::user_defined(ud.type_, buf.to_vec()),
                    };
                    insert(Handle::from_raw(obj)?, loc, lcpl, target, None)
                }
                t => bail!(Area::Link, "unknown link creation {t}"),
            }
        }
    })
}

/// External link values: a flags byte, then `file\0object\0` (HDF5's packed form).
pub fn unpack_external(buf: &[u8]) -> Result<(String, String)> {
    let Some((_, rest)) = buf.split_first() else { bail!(Area::Link, "empty external link value") };
    let mut parts = rest.split(|&b| b == 0);
    let file = parts.next().filter(|f| !f.is_empty());
    let obj = parts.next().filter(|o| !o.is_empty());
    match (file, obj) {
        (Some(f), Some(o)) => Ok((String::from_utf8_lossy(f).into_owned(), String::from_utf8_lossy(o).into_owned())),
        _ => bail!(Area::Link, "malformed external link value"),
    }
}

pub fn pack_external(file: &str, path: &str) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(file.as_bytes());
    v.push(0);
    v.extend_from_slice(path.as_bytes());
    v.push(0);
    v
}

fn link_value(l: &Link) -> Vec<u8> {
    match &l.target {
        LinkTarget::Hard(_) => vec![],
        LinkTarget::Soft(s) => {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            v
        }
        LinkTarget::External(e) => pack_external(&e.file, &e.path),
        LinkTarget::UserDefined(u) => u.value.clone(),
    }
}

pub fn link_info(l: &Link, tracked: bool) -> H5L_info2_t {
    let mut info = H5L_info2_t::default();
    info.corder_valid = tracked;
    info.corder = l.corder;
    info.cset = if l.utf8 { 1 } else { 0 };
    match &l.target {
        LinkTarget::Hard(id) => {
            info.type_ = H5L_TYPE_HARD;
            info.u.token = super::token::encode(*id);
        }
        LinkTarget::Soft(_) => {
            info.type_ = H5L_TYPE_SOFT;
            info.u.val_size = link_value(l).len();
        }
        LinkTarget::External(_) => {
            info.type_ = H5L_TYPE_EXTERNAL;
            info.u.val_size = link_value(l).len();
        }
        LinkTarget::UserDefined(u) => {
            info.type_ = u.class;
            info.u.val_size = u.value.len();
        }
    }
    info
}

unsafe fn copy_or_move(
    src: *mut c_void,
    loc1: *const H5VL_loc_params_t,
    dst: *mut c_void,
    loc2: *const H5VL_loc_params_t,
    lcpl: hid_t,
    keep_source: bool,
) -> Result<()> {
    let sh = Handle::from_raw(src)?;
    let dh = if dst.is_null() { sh } else { Handle::from_raw(dst)? };
    // A copy only reads its source; the destination is checked where the link is inserted.
    if !keep_source {
        sh.check_writable()?;
    }
    let from = link_loc(sh, loc1)?;
    let link = from.file.meta.read().link(from.group, &from.name)?.clone();
    if let LinkTarget::Hard(_) = link.target {
        if !Arc::ptr_eq(&from.file, &dh.file) {
            bail!(Area::Link, "a hard link cannot be copied or moved into another file");
        }
    }
    // The new link goes in before the old one goes, so a moved object is never unlinked.
    insert(dh, loc2, lcpl, link.target.clone(), None)?;
    if !keep_source {
        from.file.meta.write().remove_link(from.group, &from.name)?;
    }
    Ok(())
}

pub unsafe extern "C" fn copy(
    src: *mut c_void,
    loc1: *const H5VL_loc_params_t,
    dst: *mut c_void,
    loc2: *const H5VL_loc_params_t,
    lcpl: hid_t,
    _lapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    // SAFETY: arguments from HDF5, objects are our handles.
    guard::status("link_copy", || unsafe { copy_or_move(src, loc1, dst, loc2, lcpl, true) })
}

pub unsafe extern "C" fn move_(
    src: *mut c_void,
    loc1: *const H5VL_loc_params_t,
    dst: *mut c_void,
    loc2: *const H5VL_loc_params_t,
    lcpl: hid_t,
    _lapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    // SAFETY: arguments from HDF5, objects are our handles.
    guard::status("link_move", || unsafe { copy_or_move(src, loc1, dst, loc2, lcpl, false) })
}

pub unsafe extern "C" fn get(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut H5VL_link_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("link_get", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            let l = link_loc(h, loc)?;
            let m = l.file.meta.read();
            let link = m.link(l.group, &l.name)?;
            match a.op_type {
                H5VL_LINK_GET_INFO => *a.args.get_info.linfo = link_info(link, m.group(l.group)?.track_corder),
                H5VL_LINK_GET_NAME => {
                    let g = &a.args.get_name;
                    *g.name_len = write_name(&l.name, g.name, g.name_size);
                }
                H5VL_LINK_GET_VAL => {
                    let g = &a.args.get_val;
                    let v = link_value(link);
                    if matches!(link.target, LinkTarget::Hard(_)) {
                        bail!(Area::Link, "{:?} is a hard link and has no value", l.name);
                    }
                    if !g.buf.is_null() {
                        let n = v.len().min(g.buf_size);
                        std::ptr::copy_nonoverlapping(v.as_ptr(), g.buf as *mut u8, n);
                    }
                }
                t => bail!(Area::Link, "unknown link get operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut H5VL_link_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::value("link_specific", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_LINK_DELETE => {
                    h.check_writable()?;
                    let l = link_loc(h, loc)?;
                    l.file.meta.write().remove_link(l.group, &l.name)?;
                    Ok(0)
                }
                H5VL_LINK_EXISTS => {
                    let exists = match link_loc(h, loc) {
                        Ok(l) => l.file.meta.read().link(l.group, &l.name).is_ok(),
                        Err(_) => false,
                    };
                    *a.args.exists.exists = exists;
                    Ok(0)
                }
                H5VL_LINK_ITER => iterate(h, loc, &a.args.iterate),
                t => bail!(Area::Link, "unknown link operation {t}"),
            }
        }
    })
}

unsafe fn iterate(h: &Handle, loc: *const H5VL_loc_params_t, it: &H5VL_link_iterate_args_t) -> Result<i32> {
    let g = super::handle::locate(h, loc)?;
    let by_corder = it.idx_type == H5_INDEX_CRT_ORDER;
    let decreasing = it.order == H5_ITER_DEC;
    let entries = g.file.meta.read().link_walk(g.obj, by_corder, decreasing, it.recursive)?;
    let start = if it.idx_p.is_null() || it.recursive { 0 } else { *it.idx_p as usize };
    let Some(op) = it.op else { bail!(Area::Link, "no iteration callback given") };
    let mut ret = 0;
    let mut done = start;
    // As HDF5 does, every callback gets the one group the iteration started at, with names
    // relative to it.
    let gh = Handle::new(g.file.clone(), Kind::Group, g.obj, h.writable, g.path.clone());
    let gid_h = super::handle::register_for_callback(gh, H5I_GROUP)?;
    for (path, link, tracked) in entries.into_iter().skip(start) {
        let info = link_info(&link, tracked);
        let cname = std::ffi::CString::new(path).unwrap_or_default();
        ret = op(gid_h, cname.as_ptr(), &info, it.op_data);
        done += 1;
        if ret != 0 {
            break;
        }
    }
    crate::ffi::h5::H5Idec_ref(gid_h);
    if !it.idx_p.is_null() && !it.recursive {
        *it.idx_p = done as u64;
    }
    if ret < 0 {
        bail!(Area::Link, "the link iteration callback failed");
    }
    Ok(ret)
}

pub unsafe extern "C" fn optional(
    _obj: *mut c_void,
    _loc: *const H5VL_loc_params_t,
    args: *mut H5VL_optional_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("link_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Link, unsafe { (*args).op_type }))
    })
}

