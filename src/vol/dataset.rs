//! Dataset callbacks: create (layouts, fill values), open, read/write (any selection, with
//! type conversion; several datasets at once for H5Dread_multi/H5Dwrite_multi), get, set_extent.
use super::guard;
use super::h5util::{check, cstr, decode_plist, encode_plist, encode_type_shared, extent_of, npoints, runs, space_of, Owned};
use super::handle::{create_linked, locate, Handle, Kind};
use super::transfer::{self, MemSide};
use super::vlen::Shape;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::vol_bindings::*;
use crate::model::chunks::internal_chunk;
use crate::model::dataio;
use crate::model::allocation::{self, SpaceStatus};
use crate::model::objects::{AllocTime, Dataset, Extent, Layout, ObjKind, SpaceKind};
use hdf5_sys::h5d::{H5D_alloc_time_t, H5D_fill_time_t, H5D_fill_value_t, H5D_layout_t};
use crate::ffi::h5::{H5Pfill_value_defined, H5Pget_chunk, H5Pget_fill_value, H5Pget_layout};
use hdf5_sys::h5s::{H5S_ALL};
use crate::ffi::h5::H5Sselect_all;
use crate::ffi::h5::H5Tget_size;
use std::ffi::{c_char, c_void};

const H5S_BLOCK: hid_t = 1;
const H5S_PLIST: hid_t = 2;
const COMPACT_MAX: u64 = 64 * 1024;

unsafe fn describe(type_id: hid_t, space_id: hid_t, dcpl: hid_t, mpio: bool) -> Result<Dataset> {
    let extent = extent_of(space_id)?;
    let elem_size = H5Tget_size(type_id);
    if elem_size == 0 {
        bail!(Area::Dataset, "invalid datatype");
    }
    // Variable-length parts and references are stored as encoded elements.
    let shape = Shape::of(type_id)?;
    let vlen = shape.is_some();
    let rank = extent.dims.len();
    let layout = match H5Pget_layout(dcpl) {
        H5D_layout_t::H5D_COMPACT => Layout::Compact,
        H5D_layout_t::H5D_CHUNKED => Layout::Chunked,
        H5D_layout_t::H5D_CONTIGUOUS => Layout::Contiguous,
        _ => bail!(Area::Dataset, "virtual datasets are a feature of the native file format, not of rustvol"),
    };
    if layout != Layout::Chunked && crate::ffi::h5::H5Pget_nfilters(dcpl) > 0 {
        // As HDF5 refuses it: a filter pipeline works on chunks the user laid out.
        bail!(Area::Dataset, "filters can only be used with a chunked layout");
    }
    let extendible = extent.dims.iter().zip(&extent.maxdims).any(|(d, m)| d != m);
    let chunk = match layout {
        Layout::Chunked => {
            let mut c = vec![0u64; 32];
            let n = H5Pget_chunk(dcpl, 32, c.as_mut_ptr());
            if n < 0 || n as usize != rank || extent.kind != SpaceKind::Simple {
                bail!(Area::Dataset, "chunk rank {n} does not match the dataspace rank {rank}");
            }
            c.truncate(rank);
            if c.iter().any(|&x| x == 0) {
                bail!(Area::Dataset, "chunk dimensions must be positive");
            }
            for (i, (&c, (&d, &m))) in c.iter().zip(extent.dims.iter().zip(&extent.maxdims)).enumerate() {
                if m != u64::MAX && c > m.max(d) && m != 0 {
                    bail!(Area::Dataset, "chunk dimension {i} ({c}) exceeds the maximum dimension ({m})");
                }
            }
            c
        }
        _ => {
            if extendible {
                bail!(Area::Dataset, "an extendible dataspace needs a chunked layout");
            }
            if layout == Layout::Compact && extent.npoints() * elem_size as u64 > COMPACT_MAX {
                bail!(Area::Dataset, "compact dataset data ({} bytes) exceeds 64 KiB", extent.npoints() * elem_size as u64);
            }
            internal_chunk(&extent.dims, if vlen { 16 } else { elem_size as u64 })
        }
    };
    let mut fill = Vec::new();
    let mut status = H5D_fill_value_t::H5D_FILL_VALUE_UNDEFINED;
    H5Pfill_value_defined(dcpl, &mut status);
    let user_fill = status == H5D_fill_value_t::H5D_FILL_VALUE_USER_DEFINED;
    if user_fill {
        let mut elem = vec![0u8; elem_size.max(1)];
        if H5Pget_fill_value(dcpl, type_id, elem.as_mut_ptr().cast()) < 0 {
            bail!(Area::Dataset, "could not read the fill value for the dataset's type");
        }
        fill = match &shape {
            None => elem,
            // Variable-length parts are pointers: keep the element's encoding instead.
            Some(sh) => {
                let mut enc = Vec::new();
                let r = super::vlen::encode(sh, elem.as_ptr(), elem_size, &mut enc, &mut super::vlen::SameFile);
                super::vlen::free_parts(sh, elem.as_mut_ptr());
                r?;
                enc
            }
        };
    }
    // The dcpl is kept encoded: a variable-length fill value would be encoded as a pointer, so
    // it is kept (encoded as above) outside it and put back by H5Dget_create_plist.
    let mut fill_time = H5D_fill_time_t::H5D_FILL_TIME_IFSET;
    let alloc_fill = shape.as_ref().is_some_and(Shape::has_vlen)
        && status == H5D_fill_value_t::H5D_FILL_VALUE_DEFAULT
        && crate::ffi::h5::H5Pget_fill_time(dcpl, &mut fill_time) >= 0
        && fill_time == H5D_fill_time_t::H5D_FILL_TIME_IFSET;
    // The list the dataset keeps: the filters' "set local" callbacks write their parameters there.
    let kept = Owned::plist(check(crate::ffi::h5::H5Pcopy(dcpl), Area::Dataset, "copy the dcpl")?);
    let filters = match layout {
        Layout::Chunked => super::pipeline::prepare(kept.id, type_id, &chunk, if vlen { 1 } else { elem_size }, vlen)?,
        _ => Vec::new(),
    };
    // As natively in a file opened through the MPI-IO driver (H5D__create): a dataset without
    // filters gets early allocation, and its creation list says so.
    let forced_early = mpio && filters.is_empty();
    let dcpl_bytes = {
        if forced_early {
            crate::ffi::h5::H5Pset_alloc_time(kept.id, H5D_alloc_time_t::H5D_ALLOC_TIME_EARLY);
        }
        if alloc_fill {
            // As HDF5 does for variable-length types: a default fill value is written at allocation.
            crate::ffi::h5::H5Pset_fill_time(kept.id, H5D_fill_time_t::H5D_FILL_TIME_ALLOC);
        }
        if user_fill && vlen {
            crate::ffi::h5::H5Pset_fill_value(kept.id, type_id, std::ptr::null());
        } else if user_fill {
            // Kept in the dataset's own type, as HDF5 converts it at create: the application
            // may have given it in a type whose encoding would hold pointers.
            crate::ffi::h5::H5Pset_fill_value(kept.id, type_id, fill.as_ptr().cast());
        }
        encode_plist(kept.id)?
    };
    let mut time = H5D_fill_time_t::H5D_FILL_TIME_IFSET;
    let fill_never = crate::ffi::h5::H5Pget_fill_time(dcpl, &mut time) >= 0 && time == H5D_fill_time_t::H5D_FILL_TIME_NEVER;
    if fill_never && shape.as_ref().is_some_and(Shape::has_vlen) {
        // As HDF5 refuses it: a variable-length element must always hold something valid.
        bail!(Area::Dataset, "fill time \"never\" is not allowed for a variable-length type");
    }
    let alloc_time = if forced_early { AllocTime::Early } else { alloc_time_of(dcpl) };
    if layout == Layout::Compact && alloc_time != AllocTime::Early {
        bail!(Area::Dataset, "compact dataset must have early space allocation");
    }
    let allocated = crate::model::allocation::at_create(layout, alloc_time, &extent.dims);
    Ok(Dataset {
        dtype: encode_type_shared(type_id)?,
        extent,
        dcpl: dcpl_bytes,
        layout,
        chunk,
        elem_size,
        vlen,
        fill,
        fill_never,
        filters,
        committed_type: None,
        alloc_time,
        allocated,
        chunks: Default::default(),
    })
}

/// The allocation time of `dcpl` as HDF5 resolves it for the layout.
///
/// # Safety
/// `dcpl` is a dataset creation list id from HDF5.
unsafe fn alloc_time_of(dcpl: hid_t) -> AllocTime {
    let mut t = H5D_alloc_time_t::H5D_ALLOC_TIME_DEFAULT;
    crate::ffi::h5::H5Pget_alloc_time(dcpl, &mut t);
    match t {
        H5D_alloc_time_t::H5D_ALLOC_TIME_EARLY => AllocTime::Early,
        H5D_alloc_time_t::H5D_ALLOC_TIME_LATE => AllocTime::Late,
        _ => AllocTime::Incr,
    }
}

pub unsafe extern "C" fn create(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl: hid_t,
    type_id: hid_t,
    space_id: hid_t,
    dcpl: hid_t,
    dapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("dataset_create", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(dcpl, "dataset creation")?;
            super::handle::check_plist(dapl, "dataset access")?;
            let mut d = describe(type_id, space_id, dcpl, h.file.mpio.load(std::sync::atomic::Ordering::Relaxed))?;
            d.committed_type = super::committed::of_type(h, type_id)?;
            let dtype = d.dtype.clone();
            let vlen = d.vlen;
            let committed = d.committed_type;
            let t = create_linked(h, loc, name, lcpl, ObjKind::Dataset(Box::new(d)), dcpl)?;
            super::committed::hold(&t.file, committed)?;
            if let Some(r) = t.file.ranks.get() {
                crate::model::ranks::take_up_published(&t.file, r, t.obj)?;
            }
            let mut n = Handle::new(t.file, Kind::Dataset, t.obj, h.writable && !t.readonly, t.path).with_known_type(dtype, vlen)?;
            n.apl = keep_dapl(dapl)?;
            ensure_cache(&n, &dataset_of(&n)?);
            Ok(n.into_raw())
        }
    })
}

pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    dapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    guard::object("dataset_open", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            super::handle::check_plist(dapl, "dataset access")?;
            let base = locate(h, loc)?;
            let name = cstr(name, "dataset name")?;
            let t = super::handle::resolve_path_as(&base.file, base.obj, &base.path, &name, dapl)?;
            let (dtype, vlen) = match &t.file.meta.read().obj(t.obj)?.kind {
                ObjKind::Dataset(d) => (d.dtype.clone(), d.vlen),
                _ => bail!(Area::Dataset, "{name:?} is not a dataset"),
            };
            if let Some(r) = t.file.ranks.get() {
                crate::model::ranks::take_up_published(&t.file, r, t.obj)?;
            }
            let mut n = Handle::new(t.file, Kind::Dataset, t.obj, h.writable && !t.readonly, t.path).with_known_type(dtype, vlen)?;
            n.apl = keep_dapl(dapl)?;
            ensure_cache(&n, &dataset_of(&n)?);
            Ok(n.into_raw())
        }
    })
}

/// The dataset's description, without its chunk table (which the data path looks up as
/// needed): cheap to take on every read and write.
/// The creation list as the application gave it, with a variable-length fill value (kept
/// encoded outside the list) put back.
///
/// # Safety
/// Inside a callback.
unsafe fn dataset_dcpl(h: &Handle, d: &Dataset) -> Result<hid_t> {
    let dcpl = decode_plist(&d.dcpl)?;
    if d.vlen && !d.fill.is_empty() {
        let ft = h.file_type()?;
        let Some(shape) = Shape::of(ft.id)? else { return Ok(dcpl.release()) };
        let mut elem = vec![0u8; d.elem_size];
        super::vlen::decode(&shape, &d.fill, elem.as_mut_ptr(), d.elem_size, &mut super::refs::RefMaker::new(h), super::vlen::Alloc::MALLOC)?;
        let rc = crate::ffi::h5::H5Pset_fill_value(dcpl.id, ft.id, elem.as_ptr().cast());
        super::vlen::free_parts(&shape, elem.as_mut_ptr());
        if rc < 0 {
            bail!(Area::Dataset, "could not restore the dataset's fill value");
        }
    }
    Ok(dcpl.release())
}

/// A copy of an access list that is not the default one (H5Dget_access_plist returns it).
///
/// # Safety
/// `dapl` is a property list id from HDF5.
unsafe fn keep_dapl(dapl: hid_t) -> Result<Option<Owned>> {
    if dapl == hdf5_sys::h5p::H5P_DEFAULT || dapl == *crate::ffi::h5::H5P_LST_DATASET_ACCESS {
        return Ok(None);
    }
    Ok(Some(Owned::plist(check(crate::ffi::h5::H5Pcopy(dapl), Area::Dataset, "copy the dapl")?)))
}

/// Gives the dataset its chunk cache where native's is visible (`dataio_cached.rs`), with this
/// handle's parameters when it is the first to need one, as the first open sets them natively.
///
/// # Safety
/// Inside a callback.
unsafe fn ensure_cache(h: &Handle, d: &Dataset) {
    if dataio::cache_applies(&h.file, d) && h.file.chunk_caches.get(h.obj).is_none() {
        dataio::open_cache(&h.file, h.obj, d, super::cache_params::of(h, None));
    }
}

fn dataset_of(h: &Handle) -> Result<Dataset> {
    match &h.file.meta.read().obj(h.obj)?.kind {
        ObjKind::Dataset(d) => Ok(d.without_chunks()),
        _ => bail!(Area::Dataset, "object is not a dataset"),
    }
}

/// The file and memory selections of one transfer, with HDF5's special values resolved.
struct Spaces {
    file_runs: Vec<(u64, u64)>,
    mem_runs: Vec<(u64, u64)>,
    n: usize,
}

unsafe fn spaces(d: &Dataset, mem_space: hid_t, file_space: hid_t) -> Result<Spaces> {
    if file_space == H5S_PLIST {
        bail!(Area::Dataset, "H5S_PLIST file selections are not supported");
    }
    let own_file;
    let fs = if file_space == H5S_ALL {
        own_file = space_of(&d.extent)?;
        H5Sselect_all(own_file.id);
        own_file.id
    } else {
        file_space
    };
    let n = npoints(fs)?;
    let file_runs = runs(fs)?;
    let mem_runs = if mem_space == H5S_ALL {
        file_runs.clone()
    } else if mem_space == H5S_BLOCK {
        if n > 0 { vec![(0, n)] } else { vec![] }
    } else {
        let mn = npoints(mem_space)?;
        if mn != n {
            bail!(Area::Dataset, "memory selection has {mn} elements but the file selection has {n}");
        }
        runs(mem_space)?
    };
    if d.extent.kind == SpaceKind::Null && n > 0 {
        bail!(Area::Dataset, "a dataset with a null dataspace has no elements");
    }
    Ok(Spaces { file_runs, mem_runs, n: n as usize })
}

/// One transfer's dataset description, selections and memory side; `None` when nothing is
/// selected.
struct Setup {
    d: Dataset,
    file_runs: Vec<(u64, u64)>,
    n: usize,
    mem: MemSide,
    /// Where the selected elements start in the application's buffer, when they lie there
    /// back to back in the stored type: the data then moves in one copy.
    direct: Option<usize>,
}

unsafe fn setup(h: &Handle, mtype: hid_t, mspace: hid_t, fspace: hid_t, dxpl: hid_t, buf: *mut u8) -> Result<Option<Setup>> {
    let d = dataset_of(h)?;
    let s = spaces(&d, mspace, fspace)?;
    if s.n == 0 {
        return Ok(None);
    }
    if buf.is_null() {
        bail!(Area::Dataset, "no data buffer given");
    }
    let mut mem = MemSide::new(buf, s.mem_runs, mtype)?;
    mem.xform = super::xform::of_dxpl(dxpl, mtype)?;
    let direct = match (&h.shape, mem.contiguous()) {
        (None, Some(off)) if mem.xform.is_none() && h.same_type(mtype)? => Some(off),
        _ => None,
    };
    Ok(Some(Setup { d, file_runs: s.file_runs, n: s.n, mem, direct }))
}

/// Whether native HDF5 would have allocated the dataset's storage (`H5Dget_space_status`).
fn space_allocated(h: &Handle, d: &Dataset) -> Result<bool> {
    Ok(allocation::space_status(&h.file, h.obj, d)? != SpaceStatus::NotAllocated)
}

unsafe fn read_one(h: &Handle, mtype: hid_t, mspace: hid_t, fspace: hid_t, dxpl: hid_t, buf: *mut c_void) -> Result<()> {
    let Some(Setup { d, file_runs, n, mut mem, direct }) = setup(h, mtype, mspace, fspace, dxpl, buf as *mut u8)? else {
        return Ok(());
    };
    ensure_cache(h, &d);
    if mem.xform.is_some() && !space_allocated(h, &d)? {
        // As natively: a dataset without storage reads as its fill value, not transformed.
        mem.xform = None;
    }
    if let Some(off) = direct {
        let out = std::slice::from_raw_parts_mut(mem.buf.add(off), n * d.elem_size);
        return dataio::read_fixed(&h.file, h.obj, &d, &file_runs, out);
    }
    let ft = h.file_type()?;
    let ftype = ft.id;
    match &h.shape {
        None => {
            let mut stored = vec![0u8; n * d.elem_size];
            dataio::read_fixed(&h.file, h.obj, &d, &file_runs, &mut stored)?;
            transfer::deliver_fixed(ftype, d.elem_size, n, stored, &mem, dxpl)
        }
        Some(shape) => {
            let enc = dataio::read_vlen(&h.file, h.obj, &d, &file_runs)?;
            transfer::deliver_vlen(ftype, d.elem_size, shape, &enc, &mem, dxpl, &mut super::refs::RefMaker::new(h))
        }
    }
}

unsafe fn write_one(h: &Handle, mtype: hid_t, mspace: hid_t, fspace: hid_t, dxpl: hid_t, buf: *const c_void) -> Result<()> {
    h.check_writable()?;
    let Some(Setup { d, file_runs, n, mem, direct }) = setup(h, mtype, mspace, fspace, dxpl, buf as *mut u8)? else {
        return Ok(());
    };
    ensure_cache(h, &d);
    allocation::on_write(&h.file, h.obj, &d)?;
    if let Some(off) = direct {
        let data = std::slice::from_raw_parts(mem.buf.add(off), n * d.elem_size);
        return dataio::write_fixed(&h.file, h.obj, &d, &file_runs, data);
    }
    let ft = h.file_type()?;
    let ftype = ft.id;
    match &h.shape {
        None => {
            let data = transfer::collect_fixed(ftype, d.elem_size, n, &mem, dxpl, || {
                let mut cur = vec![0u8; n * d.elem_size];
                dataio::read_background(&h.file, h.obj, &d, &file_runs, &mut cur)?;
                Ok(cur)
            })?;
            dataio::write_fixed(&h.file, h.obj, &d, &file_runs, &data)
        }
        Some(shape) => {
            let shape: &Shape = shape;
            let enc = transfer::collect_vlen(ftype, d.elem_size, shape, n, &mem, dxpl, &mut super::refs::RefMaker::new(h), || {
                dataio::read_vlen(&h.file, h.obj, &d, &file_runs)
            })?;
            dataio::write_vlen(&h.file, h.obj, &d, &file_runs, enc)
        }
    }
}

pub unsafe extern "C" fn read(
    count: usize,
    dset: *mut *mut c_void,
    mem_type: *mut hid_t,
    mem_space: *mut hid_t,
    file_space: *mut hid_t,
    dxpl: hid_t,
    buf: *mut *mut c_void,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("dataset_read", || {
        for i in 0..count {
            // SAFETY: HDF5 passes `count` entries in each array; datasets are our handles.
            unsafe {
                let h = Handle::from_raw(*dset.add(i))?;
                read_one(h, *mem_type.add(i), *mem_space.add(i), *file_space.add(i), dxpl, *buf.add(i))?;
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn write(
    count: usize,
    dset: *mut *mut c_void,
    mem_type: *mut hid_t,
    mem_space: *mut hid_t,
    file_space: *mut hid_t,
    dxpl: hid_t,
    buf: *mut *const c_void,
    _req: *mut *mut c_void,
) -> herr_t {
    guard::status("dataset_write", || {
        // SAFETY: the handles HDF5 passed; each write as in `read`.
        unsafe {
            super::collective::write((0..count).map(|i| *dset.add(i)), dxpl, || {
                (0..count).try_for_each(|i| {
                    let h = Handle::from_raw(*dset.add(i))?;
                    write_one(h, *mem_type.add(i), *mem_space.add(i), *file_space.add(i), dxpl, *buf.add(i))
                })
            })
        }
    })
}

pub unsafe extern "C" fn get(obj: *mut c_void, args: *mut H5VL_dataset_get_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("dataset_get", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let d = dataset_of(h)?;
            let a = &mut *args;
            match a.op_type {
                H5VL_DATASET_GET_SPACE => a.args.get_space.space_id = space_of(&d.extent)?.release(),
                H5VL_DATASET_GET_TYPE => a.args.get_type.type_id = super::committed::type_id(h, d.committed_type, &d.dtype)?,
                H5VL_DATASET_GET_DCPL => a.args.get_dcpl.dcpl_id = dataset_dcpl(h, &d)?,
                H5VL_DATASET_GET_DAPL => {
                    let id = match &h.apl {
                        Some(p) => crate::ffi::h5::H5Pcopy(p.id),
                        None => crate::ffi::h5::H5Pcreate(*crate::ffi::h5::H5P_CLS_DATASET_ACCESS),
                    };
                    a.args.get_dapl.dapl_id = check(id, Area::Dataset, "copy the dapl")?;
                }
                H5VL_DATASET_GET_STORAGE_SIZE => {
                    *a.args.get_storage_size.storage_size = allocation::storage_size(&h.file, h.obj, &d)?
                }
                H5VL_DATASET_GET_SPACE_STATUS => {
                    use hdf5_sys::h5d::H5D_space_status_t as S;
                    *a.args.get_space_status.status = match allocation::space_status(&h.file, h.obj, &d)? {
                        SpaceStatus::NotAllocated => S::H5D_SPACE_STATUS_NOT_ALLOCATED as _,
                        SpaceStatus::PartAllocated => S::H5D_SPACE_STATUS_PART_ALLOCATED as _,
                        SpaceStatus::Allocated => S::H5D_SPACE_STATUS_ALLOCATED as _,
                    };
                }
                t => bail!(Area::Dataset, "unknown dataset get operation {t}"),
            }
        }
        Ok(())
    })
}

unsafe fn set_extent(h: &Handle, size: *const u64) -> Result<()> {
    h.check_writable()?;
    if let Some(r) = h.file.ranks.get() {
        // What other ranks published so far names elements in the old shape's order: taken
        // up now, it is reshaped with this rank's own writes below.
        crate::model::ranks::take_up_published(&h.file, r, h.obj)?;
    }
    let d = dataset_of(h)?;
    if d.extent.kind != SpaceKind::Simple {
        bail!(Area::Dataset, "only datasets with a simple dataspace can change extent");
    }
    let rank = d.extent.dims.len();
    let new: Vec<u64> = std::slice::from_raw_parts(size, rank).to_vec();
    for (i, (&n, &m)) in new.iter().zip(&d.extent.maxdims).enumerate() {
        if m != u64::MAX && n > m {
            bail!(Area::Dataset, "dimension {i}: new size {n} exceeds the maximum {m}");
        }
    }
    if d.layout != Layout::Chunked {
        bail!(Area::Dataset, "only chunked datasets can change extent");
    }
    let shrunk = new.iter().zip(&d.extent.dims).any(|(n, o)| n < o);
    let mut nd = d.clone();
    nd.extent = Extent { kind: SpaceKind::Simple, dims: new, maxdims: d.extent.maxdims.clone() };
    {
        let mut m = h.file.meta.write();
        if let ObjKind::Dataset(x) = &mut m.obj_mut(h.obj)?.kind {
            x.extent = nd.extent.clone();
        }
        m.touch(h.obj)?;
    }
    crate::model::ranks::extent_changed(&h.file, h.obj, &d.extent.dims, &nd.extent.dims, d.elem_size, &d.chunk);
    dataio::extent_changed(&h.file, h.obj, &nd);
    if shrunk {
        dataio::trim_to_extent(&h.file, h.obj, &nd)?;
        crate::model::ranks::trimmed(&h.file, h.obj)?;
    }
    allocation::on_extent(&h.file, h.obj, &nd)?;
    Ok(())
}

pub unsafe extern "C" fn specific(obj: *mut c_void, args: *mut H5VL_dataset_specific_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("dataset_specific", || {
        // SAFETY: arguments from HDF5; obj is our handle.
        unsafe {
            let h = Handle::from_raw(obj)?;
            let a = &*args;
            match a.op_type {
                H5VL_DATASET_SET_EXTENT => set_extent(h, a.args.set_extent.size)?,
                H5VL_DATASET_FLUSH => {
                    if h.writable {
                        h.file.flush()?
                    }
                }
                // Natively only a file open read-only refreshes (`H5O_refresh_metadata`), which
                // closes the dataset and so empties its chunk cache.
                H5VL_DATASET_REFRESH if !h.writable => dataio::refresh_cache(&h.file, h.obj),
                H5VL_DATASET_REFRESH => {}
                t => bail!(Area::Dataset, "unknown dataset operation {t}"),
            }
        }
        Ok(())
    })
}

pub unsafe extern "C" fn optional(_obj: *mut c_void, args: *mut H5VL_optional_args_t, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    guard::status("dataset_optional", || {
        // SAFETY: args is a valid HDF5 argument block.
        Err(super::file::unsupported_native(Area::Dataset, unsafe { (*args).op_type }))
    })
}

pub unsafe extern "C" fn close(obj: *mut c_void, _dxpl: hid_t, _req: *mut *mut c_void) -> herr_t {
    // SAFETY: HDF5 closes each object it got from us exactly once.
    guard::status("dataset_close", || unsafe { Handle::close(obj) })
}
