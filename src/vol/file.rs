//! File callbacks: create, open, get, specific (flush, reopen, is_accessible, delete, is_equal), close.
use super::guard;
use super::h5util::{check, cstr, decode_plist, encode_plist, write_name, Owned};
use super::handle::{Handle, Kind};
use super::info::config_of;
use crate::bail;
use crate::connectors::resolve;
use crate::error::Area;
use crate::ffi::vol_bindings::*;
use crate::ffi::h5::H5VLobject;
use crate::model::namespace::FileMeta;
use crate::model::open_file::{find_open, Access, CreateMode, OpenFile};
use hdf5_sys::h5f::{H5F_ACC_EXCL, H5F_ACC_RDWR, H5F_ACC_SWMR_READ, H5F_ACC_SWMR_WRITE, H5F_ACC_TRUNC, H5F_OBJ_ALL, H5F_OBJ_ATTR, H5F_OBJ_DATASET, H5F_OBJ_DATATYPE, H5F_OBJ_FILE, H5F_OBJ_GROUP};
use crate::ffi::h5::{H5Pcopy, H5Pget_attr_creation_order, H5Pget_file_space_page_size, H5Pget_file_space_strategy, H5Pget_link_creation_order, H5Pget_shared_mesg_nindexes, H5P_LST_FILE_CREATE, H5P_LST_GROUP_CREATE};
use std::ffi::{c_char, c_int, c_uint, c_void};

const CRT_ORDER_TRACKED: c_uint = 1;

pub unsafe extern "C" fn create(name: *const c_char, flags: c_uint, fcpl: hid_t, fapl: hid_t, _dxpl: hid_t, _req: *mut *mut c_void) -> *mut c_void {
    guard::object("file_create", || {
        let comm = super::collective::comm_of(fapl)?;
        // Rank 0 makes the file; the other ranks build the same model without the store.
        let follower = comm.as_ref().is_some_and(|c| c.rank() != 0);
        let f = super::collective::agreed(comm.as_ref(), || create_here(name, flags, fcpl, fapl, follower))?;
        if let Some(c) = comm {
            let _ = f.ranks.set(crate::model::ranks::Ranks::join(c, &f)?);
        }
        if crate::ffi::mpi::fapl_is_mpio(fapl) {
            f.mpio.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let root = f.meta.read().root();
        let mut h = Handle::new(f, Kind::File, root, true, "/".into());
        // SAFETY: copying the caller's fapl; the copy is owned by the handle.
        h.apl = Some(Owned::plist(check(unsafe { H5Pcopy(fapl) }, Area::File, "copy the fapl")?));
        Ok(h.into_raw())
    })
}

/// This rank's part of `create`: the file made (or refused) in the backend.
fn create_here(name: *const c_char, flags: c_uint, fcpl: hid_t, fapl: hid_t, follower: bool) -> crate::error::Result<std::sync::Arc<OpenFile>> {
    let name = cstr(name, "file name")?;
    let cfg = config_of(fapl)?;
    let loc = resolve(&cfg, &name)?;
    let mode = if flags & H5F_ACC_EXCL != 0 {
        CreateMode::Exclusive
    } else if flags & H5F_ACC_TRUNC != 0 {
        CreateMode::Truncate
    } else {
        CreateMode::Exclusive
    };
    // SAFETY: property list queries on ids HDF5 passes; the gcpl copy is owned here.
    let (fcpl_bytes, gcpl_bytes, track) = unsafe {
        let mut crt = 0u32;
        H5Pget_link_creation_order(fcpl, &mut crt);
        let mut acrt = 0u32;
        H5Pget_attr_creation_order(fcpl, &mut acrt);
        let gcpl = Owned::plist(check(H5Pcopy(*H5P_LST_GROUP_CREATE), Area::File, "copy the default gcpl")?);
        crate::ffi::h5::H5Pset_link_creation_order(gcpl.id, crt);
        (encode_plist(fcpl)?.to_vec(), encode_plist(gcpl.id)?, (crt & CRT_ORDER_TRACKED != 0, acrt & CRT_ORDER_TRACKED != 0))
    };
    log::debug!("creating {name:?} in {} ({mode:?})", loc.backend.describe());
    let mut meta = FileMeta::new(fcpl_bytes, gcpl_bytes, track);
    // SAFETY: property list queries on the lists HDF5 passed.
    unsafe {
        meta.header.groups_v18 = superblock_v2(fcpl, fapl, flags);
        meta.new_style_groups = super::group::new_style_groups(fapl) || flags & H5F_ACC_SWMR_WRITE != 0;
        let phase = super::group::link_phase(fcpl, meta.new_style_groups, track.0);
        let root = meta.root();
        meta.group_mut(root)?.phase = phase;
    }
    if !super::handle::tracks_times(fcpl) {
        let root = meta.root();
        meta.obj_mut(root)?.times = None;
    }
    let access = Access { write: true, swmr: flags & H5F_ACC_SWMR_WRITE != 0, locking: super::locking::settings(fapl) };
    if follower {
        return Ok(OpenFile::follow(loc, &name, cfg, meta, access));
    }
    OpenFile::create(loc, &name, cfg, mode, meta, access)
}

/// Whether HDF5 would write a superblock of version 2 or later for a file created with these
/// lists (`H5F__super_init`): a lower format bound of 1.8 or later, SWMR writing, shared object
/// header messages, or file space settings other than the defaults.
///
/// # Safety
/// `fcpl` and `fapl` are property list ids.
unsafe fn superblock_v2(fcpl: hid_t, fapl: hid_t, flags: c_uint) -> bool {
    // Each field is read as HDF5 writes it (C enums are ints), compared with the default list's.
    fn space(pl: hid_t) -> (c_int, u8, hsize_t, hsize_t) {
        let (mut strategy, mut persist, mut threshold, mut page) = (0 as c_int, 0u8, 0 as hsize_t, 0 as hsize_t);
        // SAFETY: queries writing into locals of the sizes HDF5 uses.
        unsafe {
            H5Pget_file_space_strategy(pl, (&mut strategy as *mut c_int).cast(), &mut persist, &mut threshold);
            H5Pget_file_space_page_size(pl, &mut page);
        }
        (strategy, persist, threshold, page)
    }
    // SAFETY: a query on the fcpl HDF5 passed.
    let sohm = unsafe {
        let mut n = 0 as c_uint;
        H5Pget_shared_mesg_nindexes(fcpl, &mut n);
        n
    };
    // SAFETY: the default list HDF5 keeps, and a fapl query.
    let (fs_default, v18) = unsafe { (space(*H5P_LST_FILE_CREATE), super::group::new_style_groups(fapl)) };
    v18 || flags & H5F_ACC_SWMR_WRITE != 0 || sohm > 0 || space(fcpl) != fs_default
}

pub unsafe extern "C" fn open(name: *const c_char, flags: c_uint, fapl: hid_t, _dxpl: hid_t, _req: *mut *mut c_void) -> *mut c_void {
    guard::object("file_open", || {
        // On several ranks, rank 0 opens the file, taking the lock (a writer's or a reader's)
        // for them all, then the others load the same state without one.
        let comm = super::collective::comm_of(fapl)?;
        let f = match &comm {
            None => open_here(name, flags, fapl, false)?,
            Some(c) => {
                let first = super::collective::agreed(Some(c), || if c.rank() == 0 { open_here(name, flags, fapl, false).map(Some) } else { Ok(None) })?;
                let f = super::collective::agreed(Some(c), || match first { Some(f) => Ok(f), None => open_here(name, flags, fapl, true) })?;
                f
            }
        };
        // Readers make no collective calls of rustvol's after the open: each reads the
        // committed state by itself.
        if let Some(c) = comm.filter(|_| flags & H5F_ACC_RDWR != 0) {
            let _ = f.ranks.set(crate::model::ranks::Ranks::join(c, &f)?);
        }
        if crate::ffi::mpi::fapl_is_mpio(fapl) {
            f.mpio.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let root = f.meta.read().root();
        let mut h = Handle::new(f, Kind::File, root, flags & H5F_ACC_RDWR != 0, "/".into());
        // SAFETY: as in `create`.
        h.apl = Some(Owned::plist(check(unsafe { H5Pcopy(fapl) }, Area::File, "copy the fapl")?));
        Ok(h.into_raw())
    })
}

/// This rank's part of `open`.
fn open_here(name: *const c_char, flags: c_uint, fapl: hid_t, follower: bool) -> crate::error::Result<std::sync::Arc<OpenFile>> {
    let name = cstr(name, "file name")?;
    let cfg = super::info::config_for(fapl, &name)?;
    let loc = resolve(&cfg, &name)?;
    log::debug!("opening {name:?} in {} (flags {flags:#x})", loc.backend.describe());
    let access = Access {
        write: flags & H5F_ACC_RDWR != 0,
        swmr: flags & (H5F_ACC_SWMR_WRITE | H5F_ACC_SWMR_READ) != 0,
        locking: super::locking::settings(fapl),
    };
    let f = if follower { OpenFile::open_following(loc, &name, cfg, access)? } else { OpenFile::open(loc, &name, cfg, access)? };
    // SAFETY: a property list query on the fapl HDF5 passed.
    {
        let mut m = f.meta.write();
        m.new_style_groups = m.header.groups_v18 || unsafe { super::group::new_style_groups(fapl) };
    }
    Ok(f)
}

struct CountCtx {
    fileno: u64,
    types: c_uint,
    /// With H5F_OBJ_LOCAL, the one file handle whose file ids count.
    local: Option<usize>,
    ids: Vec<hid_t>,
}

unsafe extern "C" fn count_cb(id: hid_t, data: *mut c_void) -> herr_t {
    // SAFETY: `data` is the CountCtx passed to H5Iiterate; H5VLobject returns the connector
    // object of ids of connector-managed types, which for files of rustvol are `Handle`s.
    let ctx = &mut *(data as *mut CountCtx);
    let t = crate::ffi::h5::H5Iget_type(id) as i32;
    if t == H5I_DATATYPE && crate::ffi::h5::H5Tcommitted(id) <= 0 {
        return 0;
    }
    let p = H5VLobject(id);
    if p.is_null() {
        return 0;
    }
    let mut buf = [0 as c_char; 16];
    let ours = crate::ffi::h5::H5VLget_connector_name(id, buf.as_mut_ptr(), 16) >= 0
        && std::ffi::CStr::from_ptr(buf.as_ptr()).to_bytes() == b"rustvol";
    let h = &*(p as *const Handle);
    let through_other_handle = ctx.local.is_some_and(|l| h.origin != l);
    if ours && h.file.fileno == ctx.fileno && !through_other_handle {
        ctx.ids.push(id);
    }
    0
}

/// Ids the application holds on objects of this file, of the requested kinds.
fn open_ids(h: &Handle, types: c_uint) -> Vec<hid_t> {
    let local = (types & hdf5_sys::h5f::H5F_OBJ_LOCAL != 0).then_some(h as *const Handle as usize);
    let mut ctx = CountCtx { fileno: h.file.fileno, types: types & H5F_OBJ_ALL, local, ids: Vec::new() };
    let kinds = [
        (H5F_OBJ_FILE, hdf5_sys::h5i::H5I_type_t::H5I_FILE),
        (H5F_OBJ_DATASET, hdf5_sys::h5i::H5I_type_t::H5I_DATASET),
        (H5F_OBJ_GROUP, hdf5_sys::h5i::H5I_type_t::H5I_GROUP),
        (H5F_OBJ_DATATYPE, hdf5_sys::h5i::H5I_type_t::H5I_DATATYPE),
        (H5F_OBJ_ATTR, hdf5_sys::h5i::H5I_type_t::H5I_ATTR),
    ];
    for (flag, t) in kinds {
        if ctx.types & flag != 0 {
            // SAFETY: iterating HDF5's id table with a callback that only reads.
            unsafe { crate::ffi::h5::H5Iiterate(t, Some(count_cb), (&mut ctx as *mut CountCtx).cast()) };
        }
    }
    ctx.ids
}

pub unsafe extern "C" fn get(obj: *mut c_void, args: *mut H5VL_file_get_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("file_get", || {
        // SAFETY: obj is one of our handles and args a valid HDF5 argument block.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_FILE_GET_FAPL => {
                    let known = match &h.apl {
                        Some(f) => Some(Owned::plist(check(H5Pcopy(f.id), Area::File, "copy the fapl")?)),
                        None => super::handle::fapl_of(h.file.fileno)?,
                    };
                    a.args.get_fapl.fapl_id = match known {
                        Some(f) => f.release(),
                        // A file reached through an external link from a file whose list is
                        // not known: a list that selects rustvol with the file's configuration.
                        None => {
                            let fapl = Owned::plist(check(
                                crate::ffi::h5::H5Pcreate(*crate::ffi::h5::H5P_CLS_FILE_ACCESS),
                                Area::File,
                                "create a fapl",
                            )?);
                            let vol = crate::ffi::h5::H5VLget_connector_id_by_name(super::CONNECTOR_NAME.as_ptr());
                            let info = super::info::Info::new(h.file.cfg.source.clone());
                            let set = vol >= 0 && crate::ffi::h5::H5Pset_vol(fapl.id, vol, (&info as *const super::info::Info).cast()) >= 0;
                            if vol >= 0 {
                                crate::ffi::h5::H5VLclose(vol);
                            }
                            if !set {
                                bail!(Area::File, "could not build an access list for {:?}", h.file.name);
                            }
                            fapl.release()
                        }
                    };
                }
                H5VL_FILE_GET_FCPL => {
                    let b = h.file.meta.read().header.fcpl.clone();
                    a.args.get_fcpl.fcpl_id = decode_plist(&b)?.release();
                }
                H5VL_FILE_GET_FILENO => *a.args.get_fileno.fileno = h.file.fileno as _,
                H5VL_FILE_GET_INTENT => *a.args.get_intent.flags = if h.writable { H5F_ACC_RDWR } else { 0 },
                H5VL_FILE_GET_NAME => {
                    let g = &a.args.get_name;
                    *g.file_name_len = write_name(&h.file.name, g.buf, g.buf_size);
                }
                H5VL_FILE_GET_OBJ_COUNT => {
                    let g = &a.args.get_obj_count;
                    *g.count = open_ids(h, g.types).len();
                }
                H5VL_FILE_GET_OBJ_IDS => {
                    let g = &a.args.get_obj_ids;
                    let ids = open_ids(h, g.types);
                    let n = ids.len().min(g.max_objs);
                    for (i, id) in ids.iter().take(n).enumerate() {
                        *g.oid_list.add(i) = *id;
                    }
                    *g.count = n;
                }
                H5VL_FILE_GET_CONT_INFO => {
                    let info = &mut *a.args.get_cont_info.info;
                    info.feature_flags = 0;
                    info.token_size = 16;
                    info.blob_id_size = 0;
                }
                t => bail!(Area::File, "unknown file get operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn specific(obj: *mut c_void, args: *mut H5VL_file_specific_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("file_specific", || {
        // SAFETY: args is a valid HDF5 argument block; obj is NULL or one of our handles.
        unsafe {
            let a = &mut *args;
            match a.op_type {
                H5VL_FILE_FLUSH => {
                    let h = Handle::from_raw(obj)?;
                    if h.writable {
                        h.file.flush()?;
                    }
                }
                H5VL_FILE_REOPEN => {
                    let h = Handle::from_raw(obj)?;
                    let mut n = Handle::new(h.file.clone(), Kind::File, h.obj, h.writable, "/".into());
                    if let Some(f) = &h.apl {
                        n.apl = Some(Owned::plist(check(H5Pcopy(f.id), Area::File, "copy the fapl")?));
                    }
                    *a.args.reopen.file = n.into_raw();
                }
                H5VL_FILE_IS_ACCESSIBLE => {
                    let g = &a.args.is_accessible;
                    let name = cstr(g.filename, "file name")?;
                    *g.accessible = match super::info::config_for(g.fapl_id, &name).and_then(|c| resolve(&c, &name)) {
                        Ok(l) => l.backend.file_exists(&l.key).unwrap_or(false),
                        Err(_) => false,
                    };
                }
                H5VL_FILE_DELETE => {
                    let g = &a.args.del;
                    // Collective with a communicator, as natively (MPI-IO's delete): rank 0
                    // removes the file, and every rank returns once it has, with its outcome.
                    let comm = super::collective::comm_of(g.fapl_id)?;
                    let here = comm.as_ref().is_none_or(|c| c.rank() == 0);
                    super::collective::agreed(comm.as_ref(), || {
                        let name = cstr(g.filename, "file name")?;
                        let l = resolve(&config_of(g.fapl_id)?, &name)?;
                        if !here {
                            return Ok(());
                        }
                        if find_open(&l).is_some() {
                            bail!(Area::File, "unable to delete {name:?}: the file is open");
                        }
                        if !l.backend.file_exists(&l.key)? {
                            bail!(Area::File, "unable to delete {name:?}: no such file in {}", l.backend.describe());
                        }
                        l.backend.delete_file(&l.key)
                    })?;
                }
                H5VL_FILE_IS_EQUAL => {
                    let h = Handle::from_raw(obj)?;
                    let o = Handle::from_raw(a.args.is_equal.obj2)?;
                    *a.args.is_equal.same_file = std::sync::Arc::ptr_eq(&h.file, &o.file);
                }
                t => bail!(Area::File, "unknown file operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn optional(_obj: *mut c_void, args: *mut H5VL_optional_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("file_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        let op = unsafe { (*args).op_type };
        Err(unsupported_native(Area::File, op))
    })
}

pub fn unsupported_native(area: Area, op: i32) -> crate::error::VolError {
    crate::error::VolError::new(area, format!("native-file-format operation {op} has no meaning for rustvol storage"))
}

pub unsafe extern "C" fn close(obj: *mut c_void, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    // SAFETY: HDF5 closes each file object it got from us exactly once.
    guard::status("file_close", || unsafe { Handle::close(obj) })
}
