//! Small wrappers over HDF5's utility API (H5T, H5S, H5P), called only on the thread HDF5
//! called the connector on.
use crate::bail;
use crate::error::{Area, Result, VolError};
use crate::model::objects::{shared, Extent, Shared, SpaceKind};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{H5P_DEFAULT};
use crate::ffi::h5::{H5Pclose, H5Pdecode, H5Pencode2};
use hdf5_sys::h5s::*;
use crate::ffi::h5::{H5Sclose, H5Screate, H5Screate_simple, H5Sencode2, H5Sget_select_npoints, H5Sget_select_type, H5Sget_simple_extent_dims, H5Sget_simple_extent_npoints, H5Sget_simple_extent_type, H5Ssel_iter_close, H5Ssel_iter_create, H5Ssel_iter_get_seq_list};
use crate::ffi::h5::{H5Tclose, H5Tdecode1, H5Tencode};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

/// An id this code owns, closed when dropped.
pub struct Owned {
    pub id: hid_t,
    close: unsafe fn(hid_t) -> i32,
}

impl Owned {
    pub fn space(id: hid_t) -> Owned {
        Owned { id, close: H5Sclose }
    }
    pub fn dtype(id: hid_t) -> Owned {
        Owned { id, close: H5Tclose }
    }
    pub fn plist(id: hid_t) -> Owned {
        Owned { id, close: H5Pclose }
    }
    /// Hands the id to the caller (HDF5), who closes it.
    pub fn release(self) -> hid_t {
        let id = self.id;
        std::mem::forget(self);
        id
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.id >= 0 {
            // SAFETY: the id was created for this value and is closed exactly once.
            unsafe { (self.close)(self.id) };
        }
    }
}

pub fn check(id: hid_t, area: Area, what: &str) -> Result<hid_t> {
    if id < 0 {
        Err(VolError::new(area, format!("HDF5 could not {what}")))
    } else {
        Ok(id)
    }
}

/// Asks the encoder for the size first: `H5Pencode2` writes its whole encoding whatever the
/// buffer's size, so a guessed buffer could overflow.
fn encode_with(area: Area, what: &str, f: impl Fn(*mut c_void, *mut usize) -> i32) -> Result<Vec<u8>> {
    let mut n = 0usize;
    if f(std::ptr::null_mut(), &mut n) < 0 {
        bail!(area, "HDF5 could not encode the {what}");
    }
    let mut buf = vec![0u8; n];
    if f(buf.as_mut_ptr().cast(), &mut n) < 0 {
        bail!(area, "HDF5 could not encode the {what}");
    }
    buf.truncate(n);
    Ok(buf)
}

pub fn encode_type(tid: hid_t) -> Result<Vec<u8>> {
    // SAFETY: H5Tencode writes at most `*n` bytes into `buf` (or only sizes with NULL).
    encode_with(Area::Datatype, "datatype", |buf, n| unsafe { H5Tencode(tid, buf, n) })
}

pub fn decode_type(b: &[u8]) -> Result<Owned> {
    if b.len() < 2 {
        bail!(Area::Storage, "stored datatype description is truncated ({} bytes)", b.len());
    }
    // SAFETY: `b` is a complete H5Tencode buffer kept by this connector.
    let id = unsafe { H5Tdecode1(b.as_ptr().cast()) };
    let t = Owned::dtype(check(id, Area::Storage, "decode a stored datatype")?);
    Ok(super::reftypes::with_library_refs(t.id)?.unwrap_or(t))
}

pub fn encode_space(sid: hid_t) -> Result<Vec<u8>> {
    // SAFETY: as for `encode_type`.
    encode_with(Area::Dataset, "dataspace", |buf, n| unsafe { H5Sencode2(sid, buf, n, H5P_DEFAULT) })
}

/// How many times the connector has terminated. HDF5 numbers ids afresh after `H5close` and
/// a later `H5open`, so what a thread learnt about an id before is wrong after: each thread's
/// cache compares this with the count it was filled under and starts over when they differ.
static LIBRARY_RUNS: AtomicU64 = AtomicU64::new(0);

/// A thread's cache of facts about the library's ids, dropped once the library terminates
/// (on whichever thread that happens).
pub struct IdCache<T> {
    run: Cell<u64>,
    facts: RefCell<T>,
}

impl<T: Default> IdCache<T> {
    pub const fn new(facts: T) -> IdCache<T> {
        IdCache { run: Cell::new(0), facts: RefCell::new(facts) }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let run = LIBRARY_RUNS.load(Ordering::Acquire);
        if self.run.get() != run {
            *self.facts.borrow_mut() = T::default();
            self.run.set(run);
        }
        f(&mut self.facts.borrow_mut())
    }
}

/// Called when the connector terminates: every thread's `IdCache` is stale from now on.
pub fn forget_library_ids() {
    LIBRARY_RUNS.fetch_add(1, Ordering::AcqRel);
}

thread_local! {
    /// Encodings of HDF5's default creation lists, which never change: most objects are made
    /// with them.
    static DEFAULT_PLISTS: IdCache<Vec<(hid_t, Shared)>> = const { IdCache::new(Vec::new()) };
    /// Encodings of HDF5's predefined datatypes (read-only, so they never change either),
    /// and the ids of those types, found once per library run.
    static PREDEFINED_TYPES: IdCache<(Vec<hid_t>, Vec<(hid_t, Shared)>)> = const { IdCache::new((Vec::new(), Vec::new())) };
}

/// The library's predefined datatypes that files are mostly made of.
fn predefined_types() -> Vec<hid_t> {
    use crate::ffi::h5::{H5T_C_S1, H5T_IEEE_F32BE, H5T_IEEE_F32LE, H5T_IEEE_F64BE, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, H5T_NATIVE_FLOAT, H5T_NATIVE_HBOOL, H5T_NATIVE_INT, H5T_NATIVE_INT16, H5T_NATIVE_INT32, H5T_NATIVE_INT64, H5T_NATIVE_INT8, H5T_NATIVE_LDOUBLE, H5T_NATIVE_LLONG, H5T_NATIVE_LONG, H5T_NATIVE_SCHAR, H5T_NATIVE_SHORT, H5T_NATIVE_UCHAR, H5T_NATIVE_UINT, H5T_NATIVE_UINT16, H5T_NATIVE_UINT32, H5T_NATIVE_UINT64, H5T_NATIVE_UINT8, H5T_NATIVE_ULLONG, H5T_NATIVE_ULONG, H5T_NATIVE_USHORT, H5T_STD_I16BE, H5T_STD_I16LE, H5T_STD_I32BE, H5T_STD_I32LE, H5T_STD_I64BE, H5T_STD_I64LE, H5T_STD_I8BE, H5T_STD_I8LE, H5T_STD_U16BE, H5T_STD_U16LE, H5T_STD_U32BE, H5T_STD_U32LE, H5T_STD_U64BE, H5T_STD_U64LE, H5T_STD_U8BE, H5T_STD_U8LE};
    vec![
        *H5T_NATIVE_SCHAR, *H5T_NATIVE_UCHAR, *H5T_NATIVE_SHORT, *H5T_NATIVE_USHORT, *H5T_NATIVE_INT,
        *H5T_NATIVE_UINT, *H5T_NATIVE_LONG, *H5T_NATIVE_ULONG, *H5T_NATIVE_LLONG, *H5T_NATIVE_ULLONG,
        *H5T_NATIVE_FLOAT, *H5T_NATIVE_DOUBLE, *H5T_NATIVE_LDOUBLE, *H5T_NATIVE_INT8, *H5T_NATIVE_UINT8,
        *H5T_NATIVE_INT16, *H5T_NATIVE_UINT16, *H5T_NATIVE_INT32, *H5T_NATIVE_UINT32, *H5T_NATIVE_INT64,
        *H5T_NATIVE_UINT64, *H5T_NATIVE_HBOOL, *H5T_STD_I8LE, *H5T_STD_I8BE, *H5T_STD_U8LE, *H5T_STD_U8BE,
        *H5T_STD_I16LE, *H5T_STD_I16BE, *H5T_STD_U16LE, *H5T_STD_U16BE, *H5T_STD_I32LE, *H5T_STD_I32BE,
        *H5T_STD_U32LE, *H5T_STD_U32BE, *H5T_STD_I64LE, *H5T_STD_I64BE, *H5T_STD_U64LE, *H5T_STD_U64BE,
        *H5T_IEEE_F32LE, *H5T_IEEE_F32BE, *H5T_IEEE_F64LE, *H5T_IEEE_F64BE, *H5T_C_S1,
    ]
}

pub fn is_default_list(pid: hid_t) -> bool {
    use crate::ffi::h5::{H5P_LST_ATTRIBUTE_CREATE, H5P_LST_DATASET_CREATE, H5P_LST_DATATYPE_CREATE, H5P_LST_GROUP_CREATE, H5P_LST_OBJECT_COPY};
    [*H5P_LST_ATTRIBUTE_CREATE, *H5P_LST_GROUP_CREATE, *H5P_LST_DATASET_CREATE, *H5P_LST_DATATYPE_CREATE, *H5P_LST_OBJECT_COPY]
        .contains(&pid)
}

/// Whether `tid` is one of the library's predefined (read-only, fixed-size, never committed)
/// datatypes, whose questions have known answers.
pub fn is_predefined_type(tid: hid_t) -> bool {
    PREDEFINED_TYPES.with(|c| c.with(|c| {
        if c.0.is_empty() {
            c.0 = predefined_types();
        }
        c.0.contains(&tid)
    }))
}

/// The encoding of a datatype, shared with every record holding the same.
pub fn encode_type_shared(tid: hid_t) -> Result<Shared> {
    if !is_predefined_type(tid) {
        return Ok(shared(&encode_type(tid)?));
    }
    if let Some(b) = PREDEFINED_TYPES.with(|c| c.with(|c| c.1.iter().find(|(id, _)| *id == tid).map(|(_, b)| b.clone()))) {
        return Ok(b);
    }
    let b = shared(&encode_type(tid)?);
    PREDEFINED_TYPES.with(|c| c.with(|c| c.1.push((tid, b.clone()))));
    Ok(b)
}

pub fn encode_plist(pid: hid_t) -> Result<Shared> {
    let default = is_default_list(pid);
    if default {
        if let Some(b) = DEFAULT_PLISTS.with(|c| c.with(|c| c.iter().find(|(id, _)| *id == pid).map(|(_, b)| b.clone()))) {
            return Ok(b);
        }
    }
    // SAFETY: as for `encode_type`.
    let b = shared(&encode_with(Area::Object, "property list", |buf, n| unsafe { H5Pencode2(pid, buf, n, H5P_DEFAULT) })?);
    if default {
        DEFAULT_PLISTS.with(|c| c.with(|c| c.push((pid, b.clone()))));
    }
    Ok(b)
}

pub fn decode_plist(b: &[u8]) -> Result<Owned> {
    if b.is_empty() {
        bail!(Area::Storage, "stored property list is empty");
    }
    // SAFETY: `b` is a complete H5Pencode2 buffer kept by this connector.
    let id = unsafe { H5Pdecode(b.as_ptr().cast()) };
    Ok(Owned::plist(check(id, Area::Storage, "decode a stored property list")?))
}

pub fn extent_of(space: hid_t) -> Result<Extent> {
    const MAX_RANK: usize = 32;
    let (mut dims, mut maxdims) = ([0u64; MAX_RANK], [0u64; MAX_RANK]);
    // SAFETY: queries on a dataspace id the caller handed us; HDF5 writes at most its maximum
    // rank (32) of dimensions into each array.
    unsafe {
        match H5Sget_simple_extent_type(space) {
            H5S_class_t::H5S_SCALAR => Ok(Extent { kind: SpaceKind::Scalar, dims: vec![], maxdims: vec![] }),
            H5S_class_t::H5S_NULL => Ok(Extent { kind: SpaceKind::Null, dims: vec![], maxdims: vec![] }),
            H5S_class_t::H5S_SIMPLE => {
                let rank = H5Sget_simple_extent_dims(space, dims.as_mut_ptr(), maxdims.as_mut_ptr());
                if rank < 0 || rank as usize > MAX_RANK {
                    bail!(Area::Dataset, "invalid dataspace");
                }
                let r = rank as usize;
                Ok(Extent { kind: SpaceKind::Simple, dims: dims[..r].to_vec(), maxdims: maxdims[..r].to_vec() })
            }
            _ => bail!(Area::Dataset, "invalid dataspace"),
        }
    }
}

pub fn space_of(e: &Extent) -> Result<Owned> {
    // SAFETY: creating a dataspace from plain values.
    let id = unsafe {
        match e.kind {
            SpaceKind::Scalar => H5Screate(H5S_class_t::H5S_SCALAR),
            SpaceKind::Null => H5Screate(H5S_class_t::H5S_NULL),
            SpaceKind::Simple => H5Screate_simple(e.dims.len() as i32, e.dims.as_ptr(), e.maxdims.as_ptr()),
        }
    };
    Ok(Owned::space(check(id, Area::Dataset, "create a dataspace")?))
}

pub fn npoints(space: hid_t) -> Result<u64> {
    // SAFETY: query on a valid dataspace id.
    let n = unsafe { H5Sget_select_npoints(space) };
    if n < 0 {
        bail!(Area::Dataset, "invalid dataspace selection");
    }
    Ok(n as u64)
}

/// The selected elements of `space` as runs (first element, count) in selection order.
pub fn runs(space: hid_t) -> Result<Vec<(u64, u64)>> {
    // SAFETY: a selection iterator over a valid dataspace, closed before returning; the
    // offset/length arrays hold `MAXSEQ` entries as promised to HDF5.
    unsafe {
        match H5Sget_select_type(space) {
            H5S_sel_type::H5S_SEL_NONE => return Ok(vec![]),
            H5S_sel_type::H5S_SEL_ALL => {
                let n = H5Sget_simple_extent_npoints(space);
                return Ok(if n > 0 { vec![(0, n as u64)] } else { vec![] });
            }
            _ => {}
        }
        let iter = H5Ssel_iter_create(space, 1, H5S_SEL_ITER_SHARE_WITH_DATASPACE);
        check(iter, Area::Dataset, "iterate over a selection")?;
        const MAXSEQ: usize = 4096;
        let mut off = vec![0u64; MAXSEQ];
        let mut len = vec![0usize; MAXSEQ];
        let mut out: Vec<(u64, u64)> = Vec::new();
        loop {
            let (mut nseq, mut nbytes) = (0usize, 0usize);
            if H5Ssel_iter_get_seq_list(iter, MAXSEQ, usize::MAX, &mut nseq, &mut nbytes, off.as_mut_ptr(), len.as_mut_ptr()) < 0 {
                H5Ssel_iter_close(iter);
                bail!(Area::Dataset, "HDF5 could not list a selection");
            }
            if nseq == 0 {
                break;
            }
            for i in 0..nseq {
                match out.last_mut() {
                    Some(last) if last.0 + last.1 == off[i] => last.1 += len[i] as u64,
                    _ => out.push((off[i], len[i] as u64)),
                }
            }
        }
        H5Ssel_iter_close(iter);
        Ok(out)
    }
}

pub fn cstr(p: *const c_char, what: &str) -> Result<String> {
    if p.is_null() {
        bail!(Area::Object, "no {what} given");
    }
    // SAFETY: HDF5 passes NUL-terminated strings.
    Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

pub fn opt_cstr(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: HDF5 passes NUL-terminated strings.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Copies `s` into a caller's buffer of `size` bytes HDF5-style (truncated, NUL-terminated)
/// and returns its full length.
pub fn write_name(s: &str, buf: *mut c_char, size: usize) -> usize {
    if !buf.is_null() && size > 0 {
        let n = s.len().min(size - 1);
        // SAFETY: the caller's buffer holds `size` bytes; we write n + 1 <= size.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    s.len()
}

/// A string HDF5 will free with `H5free_memory`.
pub fn malloc_cstr(s: &str) -> *mut c_char {
    // SAFETY: a fresh allocation of len + 1 bytes, filled and NUL-terminated.
    unsafe {
        let p = libc::malloc(s.len() + 1).cast::<u8>();
        if p.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        p.cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_caches_are_dropped_on_every_thread_when_the_connector_terminates() {
        // An id no library hands out, so tests running beside this one never meet it.
        let stale: hid_t = -4242;
        DEFAULT_PLISTS.with(|c| c.with(|c| c.push((stale, shared(b"from the last run")))));
        PREDEFINED_TYPES.with(|c| c.with(|c| c.0.push(stale)));
        // HDF5 may terminate the connector on another thread than the one that filled these.
        std::thread::spawn(forget_library_ids).join().unwrap();
        assert!(DEFAULT_PLISTS.with(|c| c.with(|c| c.iter().all(|e| e.0 != stale))));
        assert!(PREDEFINED_TYPES.with(|c| c.with(|c| !c.0.contains(&stale))));
    }
}
