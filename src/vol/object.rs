//! Object callbacks: open by name, index or token; deep copy; get (file, name, type, info);
//! specific (reference count, exists, lookup, visit, flush, refresh).
use super::guard;
use super::h5util::{cstr, write_name};
use super::handle::{locate, Handle, Kind, Target};
use crate::backend::ObjId;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::vol_bindings::*;
use crate::model::dataio;
use crate::model::objects::{KindTag, LinkTarget, ObjKind, Object};
use crate::model::open_file::OpenFile;
use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// Opens a handle of the right kind on a located object.
pub fn open_target(t: Target, writable: bool) -> Result<(Handle, H5I_type_t)> {
    let m = t.file.meta.read();
    let o = m.obj(t.obj)?;
    let (kind, ty, dtype) = match &o.kind {
        ObjKind::Group(_) => (Kind::Group, H5I_GROUP, None),
        ObjKind::Dataset(d) => (Kind::Dataset, H5I_DATASET, Some((d.dtype.clone(), d.vlen))),
        ObjKind::Datatype(_) => (Kind::Datatype, H5I_DATATYPE, None),
    };
    drop(m);
    if let (Kind::Dataset, Some(r)) = (kind, t.file.ranks.get()) {
        crate::model::ranks::take_up_published(&t.file, r, t.obj)?;
    }
    let h = Handle::new(t.file, kind, t.obj, writable && !t.readonly, t.path);
    let h = match dtype {
        Some((b, vlen)) => h.with_known_type(b, vlen)?,
        None => h,
    };
    Ok((h, ty))
}

pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    opened_type: *mut H5I_type_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("object_open", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let t = locate(h, loc)?;
            let (n, ty) = open_target(t, h.writable)?;
            *opened_type = ty;
            Ok(n.into_raw())
        }
    })
}

fn h5o_type(kind: KindTag) -> H5O_type_t {
    match kind {
        KindTag::Group => H5O_TYPE_GROUP,
        KindTag::Dataset => H5O_TYPE_DATASET,
        KindTag::Datatype => H5O_TYPE_NAMED_DATATYPE,
    }
}

/// Everything `H5O_INFO_BASIC` asks for, which the object table answers without the object.
fn basic_info(file: &OpenFile, id: ObjId, kind: KindTag, rc: u32) -> H5O_info2_t {
    let mut info = H5O_info2_t::default();
    info.fileno = file.fileno as _;
    info.token = super::token::encode(id);
    info.type_ = h5o_type(kind);
    info.rc = rc;
    info
}

pub fn object_info(file: &OpenFile, o: &Object) -> H5O_info2_t {
    let mut info = basic_info(file, o.id, o.tag(), o.rc());
    info.num_attrs = o.attrs.len() as u64;
    if let Some(t) = &o.times {
        (info.atime, info.mtime, info.ctime, info.btime) = (t.atime, t.mtime, t.ctime, t.btime);
    }
    info
}

const COPY_SHALLOW: u32 = 0x1;
const COPY_EXPAND_SOFT: u32 = 0x2;
const COPY_WITHOUT_ATTR: u32 = 0x10;

/// Deep-copies object `src` of `sf` into `df`, returning the new object's id.
fn deep_copy(sf: &Arc<OpenFile>, src: ObjId, df: &Arc<OpenFile>, flags: u32) -> Result<ObjId> {
    // Snapshot the source subtree first: source and destination may be the same file.
    let mut order: Vec<Object> = Vec::new();
    // Soft links that the copy turns into hard links to copies of their targets.
    let mut expanded: HashMap<(ObjId, String), ObjId> = HashMap::new();
    {
        let m = sf.meta.read();
        let mut stack = vec![(src, 0usize)];
        let mut seen = std::collections::HashSet::new();
        while let Some((id, depth)) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let o = m.obj(id)?.clone();
            if let ObjKind::Group(g) = &o.kind {
                if flags & COPY_SHALLOW == 0 || depth == 0 {
                    for (name, l) in g.links.iter() {
                        match &l.target {
                            LinkTarget::Hard(c) => stack.push((*c, depth + 1)),
                            LinkTarget::Soft(p) if flags & COPY_EXPAND_SOFT != 0 => {
                                if let Ok(crate::model::namespace::Resolved::Local(t)) = m.resolve(id, p) {
                                    expanded.insert((id, name.to_string()), t);
                                    stack.push((t, depth + 1));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            order.push(o);
        }
    }
    // The committed datatypes the copied datasets and attributes use, as they are in the source.
    let mut used_types: HashMap<ObjId, Object> = HashMap::new();
    {
        let m = sf.meta.read();
        let uses = order.iter().flat_map(|o| {
            let d = o.as_dataset().and_then(|d| d.committed_type);
            d.into_iter().chain(o.attrs.by_name.values().filter_map(|a| a.committed_type))
        });
        for t in uses {
            if let Ok(o) = m.obj(t) {
                used_types.insert(t, o.clone());
            }
        }
    }
    let mut map: HashMap<ObjId, ObjId> = HashMap::new();
    {
        let mut m = df.meta.write();
        for o in &order {
            let kind = match &o.kind {
                ObjKind::Group(g) => {
                    let mut g = g.clone();
                    g.links = Default::default();
                    ObjKind::Group(g)
                }
                ObjKind::Dataset(d) => {
                    // The copy's chunks are written, and listed, as they are copied.
                    let mut d = d.clone();
                    d.chunks.clear();
                    ObjKind::Dataset(d)
                }
                k => k.clone(),
            };
            let id = m.new_object(kind, o.track_attr_corder);
            if flags & COPY_WITHOUT_ATTR == 0 {
                for a in o.attrs.by_name.values() {
                    m.add_attr(id, (**a).clone())?;
                }
            }
            // As HDF5 does, the copy has the times of its source.
            m.obj_mut(id)?.times = o.times.clone();
            map.insert(o.id, id);
        }
        // As HDF5 does, a copy uses the copy of its committed datatype when that is part of
        // the copy, else a new anonymous committed datatype in the destination.
        let mut type_map: HashMap<ObjId, ObjId> = HashMap::new();
        let mut dst_type = |m: &mut crate::model::namespace::FileMeta, t: Option<ObjId>| -> Option<ObjId> {
            let t = t?;
            if let Some(n) = map.get(&t).or_else(|| type_map.get(&t)) {
                return Some(*n);
            }
            let src_type = used_types.get(&t)?;
            let n = m.new_object(src_type.kind.clone(), src_type.track_attr_corder);
            for a in src_type.attrs.by_name.values() {
                m.add_attr(n, (**a).clone()).ok()?;
            }
            type_map.insert(t, n);
            Some(n)
        };
        for o in &order {
            let new_id = map[&o.id];
            let dt = dst_type(&mut m, o.as_dataset().and_then(|d| d.committed_type));
            let attr_types: Vec<(String, Option<ObjId>)> = if flags & COPY_WITHOUT_ATTR == 0 {
                o.attrs.by_name.values().map(|a| (a.name.clone(), dst_type(&mut m, a.committed_type))).collect()
            } else {
                Vec::new()
            };
            let obj = m.obj_mut(new_id)?;
            if let ObjKind::Dataset(d) = &mut obj.kind {
                d.committed_type = dt;
            }
            for (name, t) in &attr_types {
                if let Some(a) = obj.attrs.get_mut(name) {
                    a.committed_type = *t;
                }
            }
            m.hold_type(dt)?;
            for (_, t) in attr_types {
                m.hold_type(t)?;
            }
        }
        for o in &order {
            if let ObjKind::Group(g) = &o.kind {
                let parent = map[&o.id];
                let copied = flags & COPY_SHALLOW == 0 || o.id == src;
                if !copied {
                    continue;
                }
                for name in g.links.names(true, false) {
                    let l = g.links.get(&name).expect("listed");
                    let target = match (&l.target, expanded.get(&(o.id, name.clone()))) {
                        (_, Some(t)) => LinkTarget::Hard(map[t]),
                        (LinkTarget::Hard(c), None) => match map.get(c) {
                            Some(n) => LinkTarget::Hard(*n),
                            None => continue,
                        },
                        (t, None) => t.clone(),
                    };
                    m.insert_link(parent, &name, target)?;
                }
            }
        }
    }
    for o in &order {
        if let ObjKind::Dataset(d) = &o.kind {
            dataio::copy_chunks(sf, o.id, d, df, map[&o.id])?;
        }
    }
    Ok(map[&src])
}

pub unsafe extern "C" fn copy(
    src_obj: *mut c_void,
    loc1: *const H5VL_loc_params_t,
    src_name: *const c_char,
    dst_obj: *mut c_void,
    loc2: *const H5VL_loc_params_t,
    dst_name: *const c_char,
    ocpypl: hid_t,
    lcpl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("object_copy", || {
        // SAFETY: arguments from HDF5; objects are our handles.
        unsafe {
            let sh = Handle::from_raw(src_obj)?;
            let dh = Handle::from_raw(dst_obj)?;
            dh.check_writable()?;
            let sbase = locate(sh, loc1)?;
            let sname = cstr(src_name, "source name")?;
            let s = super::handle::resolve_path(&sbase.file, sbase.obj, &sbase.path, &sname)?;
            let mut flags = 0u32;
            if ocpypl > 0 {
                crate::ffi::h5::H5Pget_copy_object(ocpypl, &mut flags);
            }
            let dbase = locate(dh, loc2)?;
            let dname = cstr(dst_name, "destination name")?;
            if dbase.file.meta.read().resolve(dbase.obj, &dname).is_ok() {
                bail!(Area::Object, "destination {dname:?} already exists");
            }
            let new_id = deep_copy(&s.file, s.obj, &dbase.file, flags)?;
            let inter = {
                let mut f = 0u32;
                lcpl > 0 && crate::ffi::h5::H5Pget_create_intermediate_group(lcpl, &mut f) >= 0 && f != 0
            };
            let gcpl = if inter { Some(super::h5util::encode_plist(*crate::ffi::h5::H5P_LST_GROUP_CREATE)?) } else { None };
            let mut m = dbase.file.meta.write();
            let r = m
                .resolve_parent(dbase.obj, &dname, gcpl.as_deref())
                .and_then(|(p, last)| m.insert_link(p, &last, LinkTarget::Hard(new_id)));
            if let Err(e) = r {
                m.collect_if_unreachable(new_id);
                return Err(e);
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn get(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut H5VL_object_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("object_get", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_OBJECT_GET_FILE => *a.args.get_file.file = h.file_handle(),
                H5VL_OBJECT_GET_NAME => {
                    let t = locate(h, loc)?;
                    // The path an object was opened by, while it still leads to it; else any
                    // path that does; none for an object no link reaches (HDF5 reports "").
                    let path = {
                        let m = t.file.meta.read();
                        let root = m.root();
                        if !t.path.is_empty() && m.resolve_local(root, &t.path).ok() == Some(t.obj) {
                            t.path
                        } else {
                            m.path_of(t.obj).unwrap_or_default()
                        }
                    };
                    let g = &a.args.get_name;
                    let n = write_name(&path, g.buf, g.buf_size);
                    if !g.name_len.is_null() {
                        *g.name_len = n;
                    }
                }
                H5VL_OBJECT_GET_TYPE => {
                    let t = locate(h, loc)?;
                    *a.args.get_type.obj_type = h5o_type(t.file.meta.read().kind_rc(t.obj, t.kind)?.0);
                }
                H5VL_OBJECT_GET_INFO => {
                    let t = locate(h, loc)?;
                    let m = t.file.meta.read();
                    let needs_object = hdf5_sys::h5o::H5O_INFO_NUM_ATTRS | hdf5_sys::h5o::H5O_INFO_TIME;
                    *a.args.get_info.oinfo = if a.args.get_info.fields & needs_object == 0 {
                        let (kind, rc) = m.kind_rc(t.obj, t.kind)?;
                        basic_info(&t.file, t.obj, kind, rc)
                    } else {
                        object_info(&t.file, m.obj(t.obj)?)
                    };
                }
                op => bail!(Area::Object, "unknown object get operation {op}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut H5VL_object_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::value("object_specific", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_OBJECT_CHANGE_REF_COUNT => {
                    h.check_writable()?;
                    let t = locate(h, loc)?;
                    let mut m = t.file.meta.write();
                    m.change_rc_on_request(t.obj, a.args.change_rc.delta as i64)?;
                }
                H5VL_OBJECT_EXISTS => {
                    if (*loc).type_ == H5VL_OBJECT_BY_NAME {
                        super::handle::check_plist((*loc).loc_data.loc_by_name.lapl_id, "link access")?;
                    }
                    *a.args.exists.exists = locate(h, loc).is_ok();
                }
                H5VL_OBJECT_LOOKUP => {
                    let t = locate(h, loc)?;
                    *a.args.lookup.token_ptr = super::token::encode(t.obj);
                }
                H5VL_OBJECT_VISIT => return visit(h, loc, &a.args.visit),
                H5VL_OBJECT_FLUSH => {
                    if h.writable {
                        h.file.flush()?;
                    }
                }
                H5VL_OBJECT_REFRESH => {}
                op => bail!(Area::Object, "unknown object operation {op}"),
            }
        }
        Ok(0)
    })
}

unsafe fn visit(h: &Handle, loc: *const H5VL_loc_params_t, v: &H5VL_object_visit_args_t) -> Result<i32> {
    let t = locate(h, loc)?;
    let by_corder = v.idx_type == H5_INDEX_CRT_ORDER;
    let list = t.file.meta.read().visit(t.obj, by_corder, v.order == H5_ITER_DEC)?;
    let Some(op) = v.op else { bail!(Area::Object, "no visit callback given") };
    for (rel, id) in list {
        let path = if rel == "." { t.path.clone() } else { super::handle::join_path(&t.path, &rel) };
        let info = {
            let m = t.file.meta.read();
            let Ok(o) = m.obj(id) else { continue };
            object_info(&t.file, o)
        };
        let (nh, ty) = open_target(Target { file: t.file.clone(), obj: id, path, readonly: t.readonly, kind: None }, h.writable)?;
        let hid = super::handle::register_for_callback(nh, ty)?;
        let cname = std::ffi::CString::new(rel).unwrap_or_default();
        let ret = op(hid, cname.as_ptr(), &info, v.op_data);
        crate::ffi::h5::H5Idec_ref(hid);
        if ret < 0 {
            bail!(Area::Object, "the visit callback failed");
        }
        if ret > 0 {
            return Ok(ret);
        }
    }
    Ok(0)
}

pub unsafe extern "C" fn optional(
    _obj: *mut c_void,
    _loc: *const H5VL_loc_params_t,
    args: *mut H5VL_optional_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("object_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Object, unsafe { (*args).op_type }))
    })
}
