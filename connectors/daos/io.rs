//! Safe handles over the binding: the library (loaded and initialised once per process), pool,
//! container and object handles that close themselves, one I/O request on one dkey (`IoOp`),
//! and `run_batch`, which keeps up to N requests in flight on a DAOS event queue.
//!
//! Every C structure a request hands to DAOS (keys, I/O descriptors, extents, scatter/gather
//! lists, buffers) lives in heap memory owned by the `IoOp`, built right before the call and
//! left untouched until DAOS reports the request complete.
use super::ffi::{self, *};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;
use std::ffi::{c_int, c_uint, CString};
use std::ptr::null_mut;
use std::sync::Arc;

/// A failed DAOS call: the operation, what it was applied to, and its return code.
#[derive(Debug, Clone)]
pub struct DaosErr {
    pub rc: i32,
    pub what: String,
}

impl DaosErr {
    pub fn new(rc: i32, what: impl Into<String>) -> DaosErr {
        DaosErr { rc, what: what.into() }
    }
    pub fn is(&self, der: i32) -> bool {
        self.rc == -der
    }
    /// The handle is no longer valid (its container was destroyed, e.g. by another process
    /// truncating the file): reopening may help.
    pub fn is_stale(&self) -> bool {
        self.is(DER_NO_HDL) || self.is(DER_NONEXIST)
    }
}

impl std::fmt::Display for DaosErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, describe_rc(self.rc))
    }
}

pub type DResult<T> = Result<T, DaosErr>;

fn check(rc: c_int, what: impl FnOnce() -> String) -> DResult<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(DaosErr::new(rc, what()))
    }
}

fn cstring(s: &str, what: &str) -> DResult<CString> {
    CString::new(s).map_err(|_| DaosErr::new(-DER_INVAL, format!("{what} {s:?} contains a NUL byte")))
}

static API: OnceCell<Result<&'static Api, String>> = OnceCell::new();

/// libdaos, loaded and initialised (`daos_init`) on first use. It stays loaded and initialised
/// for the life of the process.
pub fn api() -> Result<&'static Api, String> {
    API.get_or_init(|| {
        let api: &'static Api = Box::leak(Box::new(Api::load()?));
        // SAFETY: daos_init takes no arguments and may be called once per process before any
        // other DAOS call; this is the only call site and OnceCell runs it once.
        let rc = unsafe { (api.daos_init)() };
        if rc != 0 {
            return Err(format!(
                "{}: daos_init failed: {} (is the daos_agent running and reachable, and the DAOS client configured?)",
                api.path,
                describe_rc(rc)
            ));
        }
        Ok(api)
    })
    .clone()
}

// --- pool, container, object ------------------------------------------------------------------

pub struct Pool {
    pub api: &'static Api,
    pub poh: daos_handle_t,
    pub label: String,
}

impl Pool {
    /// Connects read-write to the pool `label` (a label or UUID) of system `sys` (None: the
    /// default system).
    pub fn connect(api: &'static Api, label: &str, sys: Option<&str>) -> DResult<Pool> {
        let c_label = cstring(label, "pool")?;
        let c_sys = sys.map(|s| cstring(s, "system name")).transpose()?;
        let mut poh = daos_handle_t::default();
        // SAFETY: the strings are NUL-terminated and live across the (blocking, ev = NULL)
        // call; `poh` is a valid out pointer; `info` may be NULL per daos_pool.h.
        let rc = unsafe {
            (api.pool_connect)(
                c_label.as_ptr(),
                c_sys.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                DAOS_PC_RW,
                &mut poh,
                null_mut(),
                null_mut(),
            )
        };
        check(rc, || format!("daos_pool_connect(pool {label:?}{})", sys.map(|s| format!(", system {s:?}")).unwrap_or_default()))?;
        Ok(Pool { api, poh, label: label.to_string() })
    }

    pub fn create_cont(&self, label: &str) -> DResult<()> {
        let c = cstring(label, "container label")?;
        // SAFETY: blocking call; the label is NUL-terminated; no properties and no UUID out
        // pointer (both optional per daos_cont.h).
        let rc = unsafe { (self.api.cont_create_with_label)(self.poh, c.as_ptr(), null_mut(), null_mut(), null_mut()) };
        check(rc, || format!("daos_cont_create_with_label(pool {:?}, container {label:?})", self.label))
    }

    pub fn destroy_cont(&self, label: &str, force: bool) -> DResult<()> {
        let c = cstring(label, "container label")?;
        // SAFETY: blocking call with a NUL-terminated label and a pool handle this value owns.
        let rc = unsafe { (self.api.cont_destroy)(self.poh, c.as_ptr(), force as c_int, null_mut()) };
        check(rc, || format!("daos_cont_destroy(pool {:?}, container {label:?})", self.label))
    }

    pub fn open_cont(self: &Arc<Self>, label: &str) -> DResult<Cont> {
        let c = cstring(label, "container label")?;
        let mut coh = daos_handle_t::default();
        // SAFETY: blocking call; NUL-terminated label, valid out pointer, info may be NULL.
        let rc = unsafe { (self.api.cont_open)(self.poh, c.as_ptr(), DAOS_COO_RW, &mut coh, null_mut(), null_mut()) };
        check(rc, || format!("daos_cont_open(pool {:?}, container {label:?})", self.label))?;
        Ok(Cont { pool: self.clone(), coh, label: label.to_string() })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful connect and is disconnected once, here.
        let rc = unsafe { (self.api.pool_disconnect)(self.poh, null_mut()) };
        if rc != 0 {
            log::warn!("daos_pool_disconnect({:?}): {}", self.label, describe_rc(rc));
        }
    }
}

pub struct Cont {
    pub pool: Arc<Pool>,
    pub coh: daos_handle_t,
    pub label: String,
}

impl Cont {
    /// The object id with user bits `hi32` (the low 32 bits of `hi`) and `lo`, class `cid`
    /// (0: chosen by DAOS from `hints` and the container's properties).
    pub fn generate_oid(&self, hi32: u32, lo: u64, cid: daos_oclass_id_t, hints: daos_oclass_hints_t) -> DResult<daos_obj_id_t> {
        let mut oid = daos_obj_id_t { lo, hi: hi32 as u64 };
        // SAFETY: `oid` is a valid in/out pointer; the call only encodes bits (no I/O).
        let rc = unsafe { (self.pool.api.obj_generate_oid)(self.coh, &mut oid, DAOS_OT_MULTI_HASHED, cid, hints, 0) };
        check(rc, || format!("daos_obj_generate_oid(container {:?}, class {cid:#x}, hints {hints:#x})", self.label))?;
        Ok(oid)
    }

    pub fn open_obj(self: &Arc<Self>, oid: daos_obj_id_t) -> DResult<Obj> {
        let mut oh = daos_handle_t::default();
        // SAFETY: blocking call on a container handle this value owns; valid out pointer.
        let rc = unsafe { (self.pool.api.obj_open)(self.coh, oid, DAOS_OO_RW, &mut oh, null_mut()) };
        check(rc, || format!("daos_obj_open(container {:?}, object {:#x}.{:#x})", self.label, oid.hi, oid.lo))?;
        Ok(Obj { cont: self.clone(), oh, oid })
    }
}

impl Drop for Cont {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful open and is closed once, here, after every
        // object opened through it (objects hold an Arc of their container).
        let rc = unsafe { (self.pool.api.cont_close)(self.coh, null_mut()) };
        if rc != 0 && !(rc == -DER_NO_HDL || rc == -DER_NONEXIST) {
            log::warn!("daos_cont_close({:?}): {}", self.label, describe_rc(rc));
        }
    }
}

pub struct Obj {
    pub cont: Arc<Cont>,
    pub oh: daos_handle_t,
    pub oid: daos_obj_id_t,
}

impl Obj {
    fn api(&self) -> &'static Api {
        self.cont.pool.api
    }

    fn what(&self, op: &str) -> String {
        format!("{op}(container {:?}, object {:#x}.{:#x})", self.cont.label, self.oid.hi, self.oid.lo)
    }

    /// The single values of `akeys` under `dkey`, `None` where there is none. Sizes first, then
    /// the values into exact buffers; a value that grew in between is read again.
    pub fn get_singles(&self, dkey: &[u8], akeys: &[Vec<u8>]) -> DResult<Vec<Option<Vec<u8>>>> {
        for _ in 0..8 {
            let mut q = IoOp::fetch(self, dkey, akeys.iter().map(|a| (a.clone(), Want::SingleSize)).collect(), 0);
            q.launch(null_mut()).map_err(|rc| DaosErr::new(rc, self.what("daos_obj_fetch")))?;
            let sizes: Vec<u64> = (0..akeys.len()).map(|i| q.iod_size(i)).collect();
            let wants: Vec<(Vec<u8>, Want)> = akeys
                .iter()
                .zip(&sizes)
                .filter(|(_, s)| **s > 0)
                .map(|(a, s)| (a.clone(), Want::Single(*s as usize)))
                .collect();
            if wants.is_empty() {
                return Ok(vec![None; akeys.len()]);
            }
            let mut f = IoOp::fetch(self, dkey, wants, 0);
            match f.launch(null_mut()) {
                Err(rc) if rc == -DER_REC2BIG => continue,
                Err(rc) => return Err(DaosErr::new(rc, self.what("daos_obj_fetch"))),
                Ok(()) => {}
            }
            let mut got = f.take_values().into_iter();
            return Ok(sizes.iter().map(|s| if *s > 0 { got.next().flatten() } else { None }).collect());
        }
        Err(DaosErr::new(-DER_REC2BIG, self.what("daos_obj_fetch (values kept changing size)")))
    }

    /// The sizes of the single values of `akeys` under `dkey` (0: none).
    pub fn single_sizes(&self, dkey: &[u8], akeys: &[Vec<u8>]) -> DResult<Vec<u64>> {
        let mut q = IoOp::fetch(self, dkey, akeys.iter().map(|a| (a.clone(), Want::SingleSize)).collect(), 0);
        q.launch(null_mut()).map_err(|rc| DaosErr::new(rc, self.what("daos_obj_fetch")))?;
        Ok((0..akeys.len()).map(|i| q.iod_size(i)).collect())
    }

    /// Replaces the single values of the given akeys under `dkey`, all in one atomic update.
    pub fn put_singles(&self, dkey: &[u8], values: Vec<(Vec<u8>, Vec<u8>)>, flags: u64) -> DResult<()> {
        let mut op = IoOp::update(self, dkey, values.into_iter().map(|(a, v)| (a, Value::Single(v))).collect(), flags);
        op.launch(null_mut()).map_err(|rc| DaosErr::new(rc, self.what("daos_obj_update")))
    }

    pub fn punch_akeys(&self, dkey: &[u8], akeys: &[Vec<u8>]) -> DResult<()> {
        if akeys.is_empty() {
            return Ok(());
        }
        let mut op = IoOp::punch_akeys(self, dkey, akeys.to_vec());
        op.launch(null_mut()).map_err(|rc| DaosErr::new(rc, self.what("daos_obj_punch_akeys")))
    }

    pub fn punch_dkey(&self, dkey: &[u8]) -> DResult<()> {
        let mut op = IoOp::punch_dkey(self, dkey);
        op.launch(null_mut()).map_err(|rc| DaosErr::new(rc, self.what("daos_obj_punch_dkeys")))
    }

    /// Punches the whole object (every dkey of it).
    pub fn punch(&self) -> DResult<()> {
        // SAFETY: blocking call on an object handle this value owns.
        let rc = unsafe { (self.api().obj_punch)(self.oh, DAOS_TX_NONE, 0, null_mut()) };
        check(rc, || self.what("daos_obj_punch"))
    }

    /// Every akey under `dkey`, in DAOS's order.
    pub fn list_akeys(&self, dkey: &[u8]) -> DResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut anchor = daos_anchor_t::default();
        let mut dkey_buf = dkey.to_vec();
        let mut buf = vec![0u8; 4096];
        let mut kds = vec![daos_key_desc_t::default(); 64];
        while anchor.da_type != DAOS_ANCHOR_TYPE_EOF {
            let mut nr = kds.len() as u32;
            let mut dkey_iov = d_iov_t { iov_buf: dkey_buf.as_mut_ptr().cast(), iov_buf_len: dkey_buf.len(), iov_len: dkey_buf.len() };
            let mut iov = d_iov_t { iov_buf: buf.as_mut_ptr().cast(), iov_buf_len: buf.len(), iov_len: 0 };
            let mut sgl = d_sg_list_t { sg_nr: 1, sg_nr_out: 0, sg_iovs: &mut iov };
            // SAFETY: blocking call; every pointer refers to a live local (key, descriptors,
            // buffer, anchor) whose size is given alongside it.
            let rc = unsafe {
                (self.api().obj_list_akey)(self.oh, DAOS_TX_NONE, &mut dkey_iov, &mut nr, kds.as_mut_ptr(), &mut sgl, &mut anchor, null_mut())
            };
            if rc == -DER_KEY2BIG {
                // The first key needs kds[0].kd_key_len bytes: grow and ask again.
                let need = (kds[0].kd_key_len as usize).max(buf.len()) * 2;
                buf.resize(need, 0);
                continue;
            }
            check(rc, || self.what("daos_obj_list_akey"))?;
            let mut off = 0usize;
            for kd in &kds[..nr as usize] {
                let len = kd.kd_key_len as usize;
                if off + len > buf.len() {
                    return Err(DaosErr::new(-DER_INVAL, self.what("daos_obj_list_akey (key lengths exceed the buffer)")));
                }
                out.push(buf[off..off + len].to_vec());
                off += len;
            }
        }
        Ok(out)
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful open and is closed once, here.
        let rc = unsafe { (self.api().obj_close)(self.oh, null_mut()) };
        if rc != 0 && !(rc == -DER_NO_HDL || rc == -DER_NONEXIST) {
            log::warn!("{}: {}", self.what("daos_obj_close"), describe_rc(rc));
        }
    }
}

// --- one request -------------------------------------------------------------------------------

/// A value to write under one akey.
pub enum Value {
    /// A single value (replaced whole, atomically).
    Single(Vec<u8>),
    /// An array of 1-byte records, written at indices 0..len (shared, not copied).
    Array(bytes::Bytes),
}

/// A request's buffer: its own (fetched into, or a small value), or shared data to write.
enum Buf {
    Own(Vec<u8>),
    Shared(bytes::Bytes),
}

impl Buf {
    fn len(&self) -> usize {
        match self {
            Buf::Own(v) => v.len(),
            Buf::Shared(b) => b.len(),
        }
    }

    /// The address DAOS reads (update) or writes (fetch: only ever an `Own` buffer).
    fn ptr(&mut self) -> *mut std::ffi::c_void {
        match self {
            Buf::Own(v) => v.as_mut_ptr().cast(),
            // DAOS only reads an update's buffers; the pointer is `*mut` in d_iov_t alone.
            Buf::Shared(b) => b.as_ptr() as *mut std::ffi::c_void,
        }
    }
}

/// What to fetch under one akey.
#[derive(Clone, Copy)]
pub enum Want {
    /// Only the size of a single value (no buffer).
    SingleSize,
    /// A single value into a buffer of this many bytes.
    Single(usize),
    /// Records 0..len of an array of 1-byte records.
    Array(usize),
}

enum Kind {
    Update,
    Fetch { sizes_only: bool },
    PunchDkey,
    PunchAkeys,
}

/// One request on one dkey of one object. Owns every buffer and C structure DAOS reads or
/// writes while the request is in flight; all of them are heap allocations, so the `IoOp`
/// itself may move.
pub struct IoOp {
    api: &'static Api,
    oh: daos_handle_t,
    oid: daos_obj_id_t,
    kind: Kind,
    flags: u64,
    dkey: Vec<u8>,
    akeys: Vec<Vec<u8>>,
    bufs: Vec<Buf>,
    is_array: Vec<bool>,
    /// Built by `prepare`, right before the call.
    c_dkey: Box<d_iov_t>,
    c_akeys: Vec<d_iov_t>,
    c_iods: Vec<daos_iod_t>,
    c_recxs: Vec<daos_recx_t>,
    c_iovs: Vec<d_iov_t>,
    c_sgls: Vec<d_sg_list_t>,
    /// The request's result once complete.
    pub rc: c_int,
    /// Caller's tag (e.g. which chunk this request is for).
    pub tag: usize,
}

impl IoOp {
    fn new(obj: &Obj, kind: Kind, dkey: &[u8], flags: u64) -> IoOp {
        IoOp {
            api: obj.api(),
            oh: obj.oh,
            oid: obj.oid,
            kind,
            flags,
            dkey: dkey.to_vec(),
            akeys: Vec::new(),
            bufs: Vec::new(),
            is_array: Vec::new(),
            c_dkey: Box::new(d_iov_t::empty()),
            c_akeys: Vec::new(),
            c_iods: Vec::new(),
            c_recxs: Vec::new(),
            c_iovs: Vec::new(),
            c_sgls: Vec::new(),
            rc: 0,
            tag: 0,
        }
    }

    pub fn update(obj: &Obj, dkey: &[u8], values: Vec<(Vec<u8>, Value)>, flags: u64) -> IoOp {
        let mut op = IoOp::new(obj, Kind::Update, dkey, flags);
        for (akey, v) in values {
            op.akeys.push(akey);
            match v {
                Value::Single(b) => {
                    op.bufs.push(Buf::Own(b));
                    op.is_array.push(false);
                }
                Value::Array(b) => {
                    op.bufs.push(Buf::Shared(b));
                    op.is_array.push(true);
                }
            }
        }
        op
    }

    pub fn fetch(obj: &Obj, dkey: &[u8], wants: Vec<(Vec<u8>, Want)>, flags: u64) -> IoOp {
        let sizes_only = wants.iter().all(|(_, w)| matches!(w, Want::SingleSize));
        let mut op = IoOp::new(obj, Kind::Fetch { sizes_only }, dkey, flags);
        for (akey, w) in wants {
            op.akeys.push(akey);
            let (len, arr) = match w {
                Want::SingleSize => (0, false),
                Want::Single(n) => (n, false),
                Want::Array(n) => (n, true),
            };
            op.bufs.push(Buf::Own(vec![0u8; len]));
            op.is_array.push(arr);
        }
        op
    }

    pub fn punch_dkey(obj: &Obj, dkey: &[u8]) -> IoOp {
        IoOp::new(obj, Kind::PunchDkey, dkey, 0)
    }

    pub fn punch_akeys(obj: &Obj, dkey: &[u8], akeys: Vec<Vec<u8>>) -> IoOp {
        let mut op = IoOp::new(obj, Kind::PunchAkeys, dkey, 0);
        op.akeys = akeys;
        op
    }

    /// Builds the C structures pointing into this request's buffers.
    fn prepare(&mut self) {
        *self.c_dkey = d_iov_t { iov_buf: self.dkey.as_mut_ptr().cast(), iov_buf_len: self.dkey.len(), iov_len: self.dkey.len() };
        let n = self.akeys.len();
        self.c_akeys = self
            .akeys
            .iter_mut()
            .map(|a| d_iov_t { iov_buf: a.as_mut_ptr().cast(), iov_buf_len: a.len(), iov_len: a.len() })
            .collect();
        if matches!(self.kind, Kind::PunchDkey | Kind::PunchAkeys) {
            return;
        }
        let fetch = matches!(self.kind, Kind::Fetch { .. });
        self.c_recxs = self.bufs.iter().map(|b| daos_recx_t { rx_idx: 0, rx_nr: b.len() as u64 }).collect();
        self.c_iovs = self
            .bufs
            .iter_mut()
            .map(|b| d_iov_t { iov_buf: b.ptr(), iov_buf_len: b.len(), iov_len: if fetch { 0 } else { b.len() } })
            .collect();
        let recx_base = self.c_recxs.as_mut_ptr();
        let iov_base = self.c_iovs.as_mut_ptr();
        self.c_iods = (0..n)
            .map(|i| {
                let arr = self.is_array[i];
                daos_iod_t {
                    iod_name: self.c_akeys[i],
                    iod_type: if arr { DAOS_IOD_ARRAY } else { DAOS_IOD_SINGLE },
                    // Arrays of 1-byte records; single values: their size (ANY on a fetch,
                    // which returns the stored size).
                    iod_size: if arr { 1 } else if fetch { DAOS_REC_ANY } else { self.bufs[i].len() as u64 },
                    iod_flags: 0,
                    iod_nr: 1,
                    // Pointer arithmetic only: i < n == c_recxs.len().
                    iod_recxs: if arr { recx_base.wrapping_add(i) } else { null_mut() },
                }
            })
            .collect();
        self.c_sgls = (0..n).map(|i| d_sg_list_t { sg_nr: 1, sg_nr_out: 0, sg_iovs: iov_base.wrapping_add(i) }).collect();
    }

    /// Issues the request: blocking when `ev` is null, else completing on `ev`'s queue.
    /// `Err(rc)` when the call itself returned an error.
    pub fn launch(&mut self, ev: *mut daos_event_t) -> Result<(), c_int> {
        self.prepare();
        let n = self.akeys.len() as c_uint;
        // SAFETY: `prepare` just built every structure from buffers this request owns; they
        // are heap allocations that are neither freed nor reallocated until the request
        // completes (the blocking call returns, or the caller polls `ev` out of its queue),
        // as `run_batch` guarantees; the object handle is open for at least as long.
        let rc = unsafe {
            match self.kind {
                Kind::Update => {
                    (self.api.obj_update)(self.oh, DAOS_TX_NONE, self.flags, &mut *self.c_dkey, n, self.c_iods.as_mut_ptr(), self.c_sgls.as_mut_ptr(), ev)
                }
                Kind::Fetch { sizes_only } => (self.api.obj_fetch)(
                    self.oh,
                    DAOS_TX_NONE,
                    self.flags,
                    &mut *self.c_dkey,
                    n,
                    self.c_iods.as_mut_ptr(),
                    if sizes_only { null_mut() } else { self.c_sgls.as_mut_ptr() },
                    null_mut(),
                    ev,
                ),
                Kind::PunchDkey => (self.api.obj_punch_dkeys)(self.oh, DAOS_TX_NONE, self.flags, 1, &mut *self.c_dkey, ev),
                Kind::PunchAkeys => {
                    (self.api.obj_punch_akeys)(self.oh, DAOS_TX_NONE, self.flags, &mut *self.c_dkey, n, self.c_akeys.as_mut_ptr(), ev)
                }
            }
        };
        self.rc = rc;
        if rc == 0 {
            Ok(())
        } else {
            Err(rc)
        }
    }

    /// Names the request in error messages.
    pub fn describe(&self) -> String {
        let op = match self.kind {
            Kind::Update => "daos_obj_update",
            Kind::Fetch { .. } => "daos_obj_fetch",
            Kind::PunchDkey => "daos_obj_punch_dkeys",
            Kind::PunchAkeys => "daos_obj_punch_akeys",
        };
        format!("{op}(object {:#x}.{:#x}, dkey {:?})", self.oid.hi, self.oid.lo, String::from_utf8_lossy(&self.dkey))
    }

    /// After a fetch: the size DAOS reported for akey `i` (0: no value).
    pub fn iod_size(&self, i: usize) -> u64 {
        self.c_iods.get(i).map_or(0, |d| d.iod_size)
    }

    /// After a fetch: each akey's bytes (`None` where DAOS found no single value).
    pub fn take_values(&mut self) -> Vec<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(self.bufs.len());
        for (i, b) in std::mem::take(&mut self.bufs).into_iter().enumerate() {
            let mut b = match b {
                Buf::Own(v) => v,
                Buf::Shared(b) => b.to_vec(),
            };
            // Arrays come back whole (records never written read as zeros here; the caller
            // keeps the real length elsewhere); single values are cut to their size.
            if self.is_array[i] {
                out.push(Some(b));
                continue;
            }
            let size = self.iod_size(i);
            if size == 0 {
                out.push(None);
                continue;
            }
            b.truncate((size as usize).min(b.len()));
            out.push(Some(b));
        }
        out
    }
}

// --- many requests in flight -------------------------------------------------------------------

/// An event with spare room after it, in case a libdaos build lays out its private part
/// larger than the header says.
#[repr(C)]
struct EventSlot {
    ev: daos_event_t,
    _spare: [u64; 16],
}

/// Event queues reused across batches.
static EQS: Mutex<Vec<daos_handle_t>> = Mutex::new(Vec::new());

fn take_eq(api: &'static Api) -> DResult<daos_handle_t> {
    if let Some(eq) = EQS.lock().pop() {
        return Ok(eq);
    }
    let mut eq = daos_handle_t::default();
    // SAFETY: valid out pointer; creating an event queue has no other precondition.
    let rc = unsafe { (api.eq_create)(&mut eq) };
    check(rc, || "daos_eq_create".into())?;
    Ok(eq)
}

fn put_eq(api: &'static Api, eq: daos_handle_t, clean: bool) {
    if clean {
        EQS.lock().push(eq);
    } else {
        // SAFETY: an event queue this process created; FORCE discards whatever is left in it.
        let rc = unsafe { (api.eq_destroy)(eq, DAOS_EQ_DESTROY_FORCE) };
        if rc != 0 {
            log::warn!("daos_eq_destroy: {}", describe_rc(rc));
        }
    }
}

/// Runs every request with at most `limit` in flight at once on one event queue. Stops
/// launching new ones after the first failure and waits for those in flight. Returns the
/// requests (each with its `rc`) and the first failure, if any. `what` names them in errors.
pub fn run_batch(api: &'static Api, mut ops: Vec<IoOp>, limit: usize, what: &dyn Fn(&IoOp) -> String) -> (Vec<IoOp>, DResult<()>) {
    if ops.is_empty() {
        return (ops, Ok(()));
    }
    let limit = limit.clamp(1, ops.len());
    let eq = match take_eq(api) {
        Ok(eq) => eq,
        Err(e) => return (ops, Err(e)),
    };
    let mut slots: Vec<Box<EventSlot>> =
        (0..limit).map(|_| Box::new(EventSlot { ev: daos_event_t::default(), _spare: [0; 16] })).collect();
    for s in slots.iter_mut() {
        // SAFETY: the event is a live heap allocation that stays put until `daos_event_fini`
        // below; `eq` is a valid queue; no parent event.
        let rc = unsafe { (api.event_init)(&mut s.ev, eq, null_mut()) };
        if rc != 0 {
            put_eq(api, eq, false);
            return (ops, Err(DaosErr::new(rc, "daos_event_init")));
        }
    }
    let mut busy: Vec<Option<usize>> = vec![None; limit];
    let mut first_err: Option<DaosErr> = None;
    let mut clean = true;
    let mut next = 0usize;
    let mut inflight = 0usize;
    let mut polled: Vec<*mut daos_event_t> = vec![null_mut(); limit];
    loop {
        while first_err.is_none() && next < ops.len() && inflight < limit {
            let s = busy.iter().position(|b| b.is_none()).expect("a free event slot when fewer than limit are in flight");
            let ev: *mut daos_event_t = &mut slots[s].ev;
            match ops[next].launch(ev) {
                Ok(()) => {
                    busy[s] = Some(next);
                    inflight += 1;
                }
                Err(rc) => {
                    // The call failed before anything was sent. Whether DAOS also completes
                    // the event is not something to rely on: this queue is not reused.
                    clean = false;
                    first_err = Some(DaosErr::new(rc, what(&ops[next])));
                    // The event may still be owned by DAOS: do not reuse its slot.
                    busy[s] = Some(usize::MAX);
                }
            }
            next += 1;
        }
        if inflight == 0 {
            break;
        }
        // SAFETY: `polled` has room for `limit` event pointers, as passed; the queue is ours.
        let n = unsafe { (api.eq_poll)(eq, 1, DAOS_EQ_WAIT, limit as c_uint, polled.as_mut_ptr()) };
        if n < 0 {
            // The queue failed: requests may still be in flight with pointers into `ops` and
            // the events. Leak them rather than free memory DAOS may still write.
            let e = DaosErr::new(n, "daos_eq_poll");
            std::mem::forget(ops);
            std::mem::forget(slots);
            return (Vec::new(), Err(e));
        }
        for &p in &polled[..n as usize] {
            let Some(s) = slots.iter().position(|slot| std::ptr::eq(&slot.ev, p)) else { continue };
            let Some(i) = busy[s] else { continue };
            if i == usize::MAX {
                continue;
            }
            busy[s] = None;
            inflight -= 1;
            let rc = slots[s].ev.ev_error;
            ops[i].rc = rc;
            if rc != 0 && first_err.is_none() {
                first_err = Some(DaosErr::new(rc, what(&ops[i])));
            }
            // Ready the event for its next request.
            let ev: *mut daos_event_t = &mut slots[s].ev;
            // SAFETY: the event was just polled out of the queue (completed), so DAOS no
            // longer uses it; it is re-initialised on the same queue.
            let rc2 = unsafe {
                let r = (api.event_fini)(ev);
                if r == 0 {
                    (api.event_init)(ev, eq, null_mut())
                } else {
                    r
                }
            };
            if rc2 != 0 {
                clean = false;
                busy[s] = Some(usize::MAX);
                if first_err.is_none() {
                    first_err = Some(DaosErr::new(rc2, "daos_event_init"));
                }
            }
        }
    }
    for (s, slot) in slots.iter_mut().enumerate() {
        if busy[s] != Some(usize::MAX) {
            // SAFETY: no request is in flight on this event any more.
            unsafe { (api.event_fini)(&mut slot.ev) };
        }
    }
    if clean {
        put_eq(api, eq, true);
    } else {
        put_eq(api, eq, false);
        // Events that DAOS may still own stay allocated.
        std::mem::forget(slots);
    }
    let res = match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    };
    (ops, res)
}

/// The id of the object class named `name` in libdaos's table (`None`: no such class).
pub fn oclass_id(api: &'static Api, name: &str) -> Option<daos_oclass_id_t> {
    let c = CString::new(name).ok()?;
    // SAFETY: a NUL-terminated string that outlives the call; the function only looks the
    // name up in libdaos's table of object classes.
    let id = unsafe { (api.oclass_name2id)(c.as_ptr()) };
    (id > 0).then_some(id as daos_oclass_id_t)
}

/// Object-id bits: the DAOS part (high 32 bits of `hi`) of an id DAOS generated.
pub fn daos_bits(oid: daos_obj_id_t) -> u64 {
    oid.hi & !((1u64 << ffi::OID_FMT_INTR_BITS) - 1)
}
