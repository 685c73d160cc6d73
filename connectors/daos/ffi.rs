//! The part of the DAOS 2.6 client API (libdaos) rustvol uses, declared from DAOS's public
//! headers (`daos_types.h`, `daos_obj.h`, `daos_obj_class.h`, `daos_pool.h`, `daos_cont.h`,
//! `daos_event.h`, `daos_errno.h`, gurt's `types.h`) and loaded at run time with `libloading`:
//! rustvol links nothing of DAOS, so the plugin loads on machines without it and only
//! `backend=daos` needs the library.
//!
//! Symbols: DAOS 2.x keeps the 1.x entry points for ABI compatibility and maps the current API
//! onto versioned symbols with macros (`#define daos_pool_connect daos_pool_connect2`, likewise
//! `daos_cont_open2`, `daos_cont_destroy2`, `daos_obj_generate_oid2`). A program compiled
//! against the 2.6 headers calls those names, so they are the ones looked up here.
//!
//! Struct layouts are checked by the tests at the bottom (sizes and field offsets as the C
//! compiler lays out the header's definitions on LP64).
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_uint, c_void};

/// `daos_handle_t`: every pool, container, object and event queue handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct daos_handle_t {
    pub cookie: u64,
}

/// `DAOS_TX_NONE`: an independent transaction per call.
pub const DAOS_TX_NONE: daos_handle_t = daos_handle_t { cookie: 0 };

/// gurt's `d_iov_t`: one memory buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct d_iov_t {
    pub iov_buf: *mut c_void,
    pub iov_buf_len: usize,
    pub iov_len: usize,
}

impl d_iov_t {
    pub const fn empty() -> d_iov_t {
        d_iov_t { iov_buf: std::ptr::null_mut(), iov_buf_len: 0, iov_len: 0 }
    }
}

/// `daos_key_t` (dkeys and akeys) is a `d_iov_t`.
pub type daos_key_t = d_iov_t;

/// gurt's `d_sg_list_t`: a scatter/gather list.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct d_sg_list_t {
    pub sg_nr: u32,
    pub sg_nr_out: u32,
    pub sg_iovs: *mut d_iov_t,
}

/// `daos_obj_id_t`: 128 bits; the high 32 bits of `hi` belong to DAOS (type, class).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct daos_obj_id_t {
    pub lo: u64,
    pub hi: u64,
}

/// `daos_recx_t`: `rx_nr` records from index `rx_idx` of an array value.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct daos_recx_t {
    pub rx_idx: u64,
    pub rx_nr: u64,
}

/// `daos_iod_type_t`
pub type daos_iod_type_t = c_uint;
pub const DAOS_IOD_SINGLE: daos_iod_type_t = 1;
pub const DAOS_IOD_ARRAY: daos_iod_type_t = 2;

/// `DAOS_REC_ANY`: fetch with an unknown record size; DAOS returns it in `iod_size`.
pub const DAOS_REC_ANY: u64 = 0;

/// `daos_iod_t`: one akey's value in an update or fetch.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct daos_iod_t {
    pub iod_name: daos_key_t,
    pub iod_type: daos_iod_type_t,
    pub iod_size: u64,
    pub iod_flags: u64,
    pub iod_nr: u32,
    pub iod_recxs: *mut daos_recx_t,
}

/// `daos_key_desc_t`: one key of an enumeration (the key bytes are in the sgl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct daos_key_desc_t {
    pub kd_key_len: u64,
    pub kd_val_type: u32,
}

pub const DAOS_ANCHOR_BUF_MAX: usize = 104;
pub const DAOS_ANCHOR_TYPE_ZERO: u16 = 0;
pub const DAOS_ANCHOR_TYPE_EOF: u16 = 3;

/// `daos_anchor_t`: the position of an enumeration; zeroes to start, `da_type` EOF at the end.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct daos_anchor_t {
    pub da_type: u16,
    pub da_shard: u16,
    pub da_flags: u32,
    pub da_sub_anchors: u64,
    pub da_buf: [u8; DAOS_ANCHOR_BUF_MAX],
}

impl Default for daos_anchor_t {
    fn default() -> Self {
        daos_anchor_t { da_type: DAOS_ANCHOR_TYPE_ZERO, da_shard: 0, da_flags: 0, da_sub_anchors: 0, da_buf: [0; DAOS_ANCHOR_BUF_MAX] }
    }
}

/// `daos_event_t`: the completion of one non-blocking call. `ev_private` is DAOS's.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct daos_event_t {
    pub ev_error: c_int,
    pub ev_private: [u64; 20],
    pub ev_debug: u64,
}

/// `daos_eq_poll` timeout: wait until something completes.
pub const DAOS_EQ_WAIT: i64 = -1;
/// `daos_eq_destroy` flag: destroy even with events still in it.
pub const DAOS_EQ_DESTROY_FORCE: c_int = 1;

/// Pool connect, container open and object open modes: read-write.
pub const DAOS_PC_RW: c_uint = 1 << 1;
pub const DAOS_COO_RW: c_uint = 1 << 1;
pub const DAOS_OO_RW: c_uint = 1 << 2;

/// Conditional update flag (`DAOS_COND_DKEY_INSERT`): fail with -DER_EXIST if the dkey exists.
pub const DAOS_COND_DKEY_INSERT: u64 = 1 << 1;

/// `enum daos_otype_t` values used here: a multi-level KV with hashed dkeys and akeys.
pub const DAOS_OT_MULTI_HASHED: c_int = 0;

/// `daos_oclass_id_t` and `daos_oclass_hints_t`.
pub type daos_oclass_id_t = u32;
pub type daos_oclass_hints_t = u16;
pub const OC_UNKNOWN: daos_oclass_id_t = 0;
/// Class hints (`DAOS_OCH_*`): redundancy from the container's properties; one redundancy
/// group, or as many as there are targets.
pub const DAOS_OCH_RDD_DEF: daos_oclass_hints_t = 1 << 0;
pub const DAOS_OCH_SHD_TINY: daos_oclass_hints_t = 1 << 5;
pub const DAOS_OCH_SHD_MAX: daos_oclass_hints_t = 1 << 9;

/// Object id bits DAOS keeps for itself: the high 32 bits of `hi` (type 8, class 8, meta 16).
pub const OID_FMT_INTR_BITS: u32 = 32;

/// Longest container or pool label (`DAOS_PROP_LABEL_MAX_LEN`).
pub const DAOS_PROP_LABEL_MAX_LEN: usize = 127;

// --- function types ---------------------------------------------------------------------------
pub type FnVoid = unsafe extern "C" fn() -> c_int;
pub type FnPoolConnect = unsafe extern "C" fn(
    pool: *const c_char,
    sys: *const c_char,
    flags: c_uint,
    poh: *mut daos_handle_t,
    info: *mut c_void,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnHandleEv = unsafe extern "C" fn(h: daos_handle_t, ev: *mut daos_event_t) -> c_int;
pub type FnContCreateWithLabel = unsafe extern "C" fn(
    poh: daos_handle_t,
    label: *const c_char,
    cont_prop: *mut c_void,
    uuid: *mut [u8; 16],
    ev: *mut daos_event_t,
) -> c_int;
pub type FnContOpen = unsafe extern "C" fn(
    poh: daos_handle_t,
    cont: *const c_char,
    flags: c_uint,
    coh: *mut daos_handle_t,
    info: *mut c_void,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnContDestroy =
    unsafe extern "C" fn(poh: daos_handle_t, cont: *const c_char, force: c_int, ev: *mut daos_event_t) -> c_int;
pub type FnGenerateOid = unsafe extern "C" fn(
    coh: daos_handle_t,
    oid: *mut daos_obj_id_t,
    otype: c_int,
    cid: daos_oclass_id_t,
    hints: daos_oclass_hints_t,
    args: u32,
) -> c_int;
pub type FnOclassName2Id = unsafe extern "C" fn(name: *const c_char) -> c_int;
pub type FnObjOpen = unsafe extern "C" fn(
    coh: daos_handle_t,
    oid: daos_obj_id_t,
    mode: c_uint,
    oh: *mut daos_handle_t,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnObjPunch = unsafe extern "C" fn(oh: daos_handle_t, th: daos_handle_t, flags: u64, ev: *mut daos_event_t) -> c_int;
pub type FnObjPunchDkeys = unsafe extern "C" fn(
    oh: daos_handle_t,
    th: daos_handle_t,
    flags: u64,
    nr: c_uint,
    dkeys: *mut daos_key_t,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnObjPunchAkeys = unsafe extern "C" fn(
    oh: daos_handle_t,
    th: daos_handle_t,
    flags: u64,
    dkey: *mut daos_key_t,
    nr: c_uint,
    akeys: *mut daos_key_t,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnObjFetch = unsafe extern "C" fn(
    oh: daos_handle_t,
    th: daos_handle_t,
    flags: u64,
    dkey: *mut daos_key_t,
    nr: c_uint,
    iods: *mut daos_iod_t,
    sgls: *mut d_sg_list_t,
    ioms: *mut c_void,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnObjUpdate = unsafe extern "C" fn(
    oh: daos_handle_t,
    th: daos_handle_t,
    flags: u64,
    dkey: *mut daos_key_t,
    nr: c_uint,
    iods: *mut daos_iod_t,
    sgls: *mut d_sg_list_t,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnObjListAkey = unsafe extern "C" fn(
    oh: daos_handle_t,
    th: daos_handle_t,
    dkey: *mut daos_key_t,
    nr: *mut u32,
    kds: *mut daos_key_desc_t,
    sgl: *mut d_sg_list_t,
    anchor: *mut daos_anchor_t,
    ev: *mut daos_event_t,
) -> c_int;
pub type FnEqCreate = unsafe extern "C" fn(eqh: *mut daos_handle_t) -> c_int;
pub type FnEqDestroy = unsafe extern "C" fn(eqh: daos_handle_t, flags: c_int) -> c_int;
pub type FnEqPoll = unsafe extern "C" fn(
    eqh: daos_handle_t,
    wait_running: c_int,
    timeout: i64,
    nevents: c_uint,
    events: *mut *mut daos_event_t,
) -> c_int;
pub type FnEventInit = unsafe extern "C" fn(ev: *mut daos_event_t, eqh: daos_handle_t, parent: *mut daos_event_t) -> c_int;
pub type FnEventFini = unsafe extern "C" fn(ev: *mut daos_event_t) -> c_int;

/// The loaded library and the entry points rustvol calls. The function pointers stay valid
/// for as long as `_lib` is loaded, which is the life of this value.
pub struct Api {
    pub path: String,
    pub daos_init: FnVoid,
    /// Looked up with the rest but never called: rustvol keeps libdaos initialised until the
    /// process exits (finalising from an exit handler could race with HDF5's own shutdown).
    #[allow(dead_code)]
    pub daos_fini: FnVoid,
    pub pool_connect: FnPoolConnect,
    pub pool_disconnect: FnHandleEv,
    pub cont_create_with_label: FnContCreateWithLabel,
    pub cont_open: FnContOpen,
    pub cont_close: FnHandleEv,
    pub cont_destroy: FnContDestroy,
    pub obj_generate_oid: FnGenerateOid,
    pub oclass_name2id: FnOclassName2Id,
    pub obj_open: FnObjOpen,
    pub obj_close: FnHandleEv,
    pub obj_punch: FnObjPunch,
    pub obj_punch_dkeys: FnObjPunchDkeys,
    pub obj_punch_akeys: FnObjPunchAkeys,
    pub obj_fetch: FnObjFetch,
    pub obj_update: FnObjUpdate,
    pub obj_list_akey: FnObjListAkey,
    pub eq_create: FnEqCreate,
    pub eq_destroy: FnEqDestroy,
    pub eq_poll: FnEqPoll,
    pub event_init: FnEventInit,
    pub event_fini: FnEventFini,
    _lib: libloading::Library,
}

/// The library rustvol loads when `RUSTVOL_DAOS_LIB` does not name one.
pub const DEFAULT_LIB: &str = "libdaos.so.2";

impl Api {
    /// Loads libdaos (`RUSTVOL_DAOS_LIB`, else `libdaos.so.2` from the loader's search path)
    /// and looks up every entry point; a missing one is an error naming it.
    pub fn load() -> Result<Api, String> {
        let path = std::env::var("RUSTVOL_DAOS_LIB").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| DEFAULT_LIB.to_string());
        // SAFETY: loading libdaos runs its initialisers; libdaos is a C library meant to be
        // loaded into any process, and nothing of it is called before `daos_init`.
        let lib = unsafe { libloading::Library::new(&path) }.map_err(|e| {
            format!(
                "backend=daos: libdaos was not found ({e}). Install the DAOS 2.6 client (package daos-client) \
                 or point RUSTVOL_DAOS_LIB at its libdaos.so.2 (e.g. RUSTVOL_DAOS_LIB=/usr/lib64/libdaos.so.2)"
            )
        })?;
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol is looked up by its C name and given the type its DAOS
                // 2.6 header declares (see the type aliases above); the pointer is copied out
                // and used only while `lib` stays loaded inside the returned `Api`.
                let f = unsafe { lib.get(concat!($name, "\0").as_bytes()) }
                    .map_err(|e| format!("{path}: no symbol {} ({e}); rustvol needs the DAOS 2.x client library", $name))?;
                *f
            }};
        }
        Ok(Api {
            daos_init: sym!("daos_init"),
            daos_fini: sym!("daos_fini"),
            pool_connect: sym!("daos_pool_connect2"),
            pool_disconnect: sym!("daos_pool_disconnect"),
            cont_create_with_label: sym!("daos_cont_create_with_label"),
            cont_open: sym!("daos_cont_open2"),
            cont_close: sym!("daos_cont_close"),
            cont_destroy: sym!("daos_cont_destroy2"),
            obj_generate_oid: sym!("daos_obj_generate_oid2"),
            oclass_name2id: sym!("daos_oclass_name2id"),
            obj_open: sym!("daos_obj_open"),
            obj_close: sym!("daos_obj_close"),
            obj_punch: sym!("daos_obj_punch"),
            obj_punch_dkeys: sym!("daos_obj_punch_dkeys"),
            obj_punch_akeys: sym!("daos_obj_punch_akeys"),
            obj_fetch: sym!("daos_obj_fetch"),
            obj_update: sym!("daos_obj_update"),
            obj_list_akey: sym!("daos_obj_list_akey"),
            eq_create: sym!("daos_eq_create"),
            eq_destroy: sym!("daos_eq_destroy"),
            eq_poll: sym!("daos_eq_poll"),
            event_init: sym!("daos_event_init"),
            event_fini: sym!("daos_event_fini"),
            path,
            _lib: lib,
        })
    }
}

// --- errors -----------------------------------------------------------------------------------

/// DAOS error numbers (`daos_errno.h`): the API returns them negated.
pub const DER_NO_HDL: i32 = 1002;
pub const DER_INVAL: i32 = 1003;
pub const DER_NO_PERM: i32 = 1001;
pub const DER_EXIST: i32 = 1004;
pub const DER_NONEXIST: i32 = 1005;
pub const DER_KEY2BIG: i32 = 2012;
pub const DER_REC2BIG: i32 = 2013;

/// Name and meaning of a DAOS error number (positive), as `daos_errno.h` gives them.
pub fn der_name(code: i32) -> (&'static str, &'static str) {
    match code {
        1001 => ("DER_NO_PERM", "operation not permitted"),
        1002 => ("DER_NO_HDL", "invalid handle"),
        1003 => ("DER_INVAL", "invalid parameters"),
        1004 => ("DER_EXIST", "entity already exists"),
        1005 => ("DER_NONEXIST", "the specified entity does not exist"),
        1006 => ("DER_UNREACH", "unreachable node"),
        1007 => ("DER_NOSPACE", "no space on storage target"),
        1008 => ("DER_ALREADY", "operation already performed"),
        1009 => ("DER_NOMEM", "out of memory"),
        1010 => ("DER_NOSYS", "function not implemented"),
        1011 => ("DER_TIMEDOUT", "time out"),
        1012 => ("DER_BUSY", "device or resource busy"),
        1013 => ("DER_AGAIN", "try again"),
        1014 => ("DER_PROTO", "incompatible protocol"),
        1015 => ("DER_UNINIT", "device or resource not initialized"),
        1016 => ("DER_TRUNC", "buffer too short"),
        1017 => ("DER_OVERFLOW", "data too long for defined data type or buffer size"),
        1018 => ("DER_CANCELED", "operation canceled"),
        1019 => ("DER_OOG", "out of group or member list"),
        1020 => ("DER_HG", "transport layer mercury error"),
        1025 => ("DER_MISC", "miscellaneous error"),
        1026 => ("DER_BADPATH", "bad path name"),
        1030 => ("DER_NOTATTACH", "service group not attached"),
        1031 => ("DER_MISMATCH", "version mismatch"),
        1032 => ("DER_EXCLUDED", "rank has been excluded"),
        1034 => ("DER_DOS", "denial of service"),
        2001 => ("DER_IO", "I/O error"),
        2002 => ("DER_FREE_MEM", "memory free error"),
        2003 => ("DER_ENOENT", "entity not found"),
        2004 => ("DER_NOTYPE", "unknown object type"),
        2005 => ("DER_NOSCHEMA", "unknown object schema"),
        2007 => ("DER_STALE", "stale pool map version"),
        2008 => ("DER_NOTLEADER", "not service leader"),
        2010 => ("DER_EP_RO", "epoch is read only"),
        2011 => ("DER_EP_OLD", "epoch is too old, all data have been recycled"),
        2012 => ("DER_KEY2BIG", "key is too large"),
        2013 => ("DER_REC2BIG", "record is too large"),
        2014 => ("DER_IO_INVAL", "I/O buffers do not match object extents"),
        2015 => ("DER_EQ_BUSY", "event queue is busy"),
        2017 => ("DER_SHUTDOWN", "service should shut down"),
        2018 => ("DER_INPROGRESS", "operation now in progress"),
        2021 => ("DER_CSUM", "checksum error"),
        2024 => ("DER_REC_SIZE", "record size error"),
        2025 => ("DER_TX_RESTART", "transaction should restart"),
        2026 => ("DER_DATA_LOSS", "data lost or not recoverable"),
        2028 => ("DER_TX_BUSY", "TX is not committed"),
        2029 => ("DER_AGENT_INCOMPAT", "agent is incompatible with libdaos"),
        2031 => ("DER_RF", "failures exceed RF"),
        2034 => ("DER_AGENT_COMM", "agent communication error"),
        2035 => ("DER_ID_MISMATCH", "ID mismatch"),
        _ => ("DER_UNKNOWN", "unknown DAOS error"),
    }
}

/// Text for a return code of a DAOS call (negative: `-DER_*`), e.g.
/// `DER_NONEXIST (-1005): the specified entity does not exist`.
pub fn describe_rc(rc: i32) -> String {
    let (name, what) = der_name(-rc);
    format!("{name} ({rc}): {what}")
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn structs_match_the_daos_2_6_headers() {
        assert_eq!((size_of::<daos_handle_t>(), align_of::<daos_handle_t>()), (8, 8));
        assert_eq!(size_of::<d_iov_t>(), 24);
        assert_eq!((offset_of!(d_iov_t, iov_buf), offset_of!(d_iov_t, iov_buf_len), offset_of!(d_iov_t, iov_len)), (0, 8, 16));
        assert_eq!(size_of::<d_sg_list_t>(), 16);
        assert_eq!((offset_of!(d_sg_list_t, sg_nr), offset_of!(d_sg_list_t, sg_nr_out), offset_of!(d_sg_list_t, sg_iovs)), (0, 4, 8));
        assert_eq!(size_of::<daos_obj_id_t>(), 16);
        assert_eq!((offset_of!(daos_obj_id_t, lo), offset_of!(daos_obj_id_t, hi)), (0, 8));
        assert_eq!(size_of::<daos_recx_t>(), 16);
        assert_eq!((offset_of!(daos_recx_t, rx_idx), offset_of!(daos_recx_t, rx_nr)), (0, 8));
        // daos_iod_t: iod_name 0, enum iod_type 24, iod_size 32, iod_flags 40, iod_nr 48, iod_recxs 56.
        assert_eq!(size_of::<daos_iod_t>(), 64);
        assert_eq!(offset_of!(daos_iod_t, iod_name), 0);
        assert_eq!(offset_of!(daos_iod_t, iod_type), 24);
        assert_eq!(offset_of!(daos_iod_t, iod_size), 32);
        assert_eq!(offset_of!(daos_iod_t, iod_flags), 40);
        assert_eq!(offset_of!(daos_iod_t, iod_nr), 48);
        assert_eq!(offset_of!(daos_iod_t, iod_recxs), 56);
        assert_eq!(size_of::<daos_key_desc_t>(), 16);
        assert_eq!((offset_of!(daos_key_desc_t, kd_key_len), offset_of!(daos_key_desc_t, kd_val_type)), (0, 8));
        // daos_anchor_t: u16, u16, u32, u64, u8[104].
        assert_eq!(size_of::<daos_anchor_t>(), 120);
        assert_eq!(offset_of!(daos_anchor_t, da_shard), 2);
        assert_eq!(offset_of!(daos_anchor_t, da_flags), 4);
        assert_eq!(offset_of!(daos_anchor_t, da_sub_anchors), 8);
        assert_eq!(offset_of!(daos_anchor_t, da_buf), 16);
        // daos_event_t: int ev_error, struct { uint64_t space[20]; } ev_private, uint64_t ev_debug.
        assert_eq!(size_of::<daos_event_t>(), 176);
        assert_eq!(offset_of!(daos_event_t, ev_private), 8);
        assert_eq!(offset_of!(daos_event_t, ev_debug), 168);
    }

    #[test]
    fn error_numbers_are_named() {
        assert_eq!(describe_rc(-1005), "DER_NONEXIST (-1005): the specified entity does not exist");
        assert!(describe_rc(-1001).starts_with("DER_NO_PERM"));
        assert!(describe_rc(-424242).starts_with("DER_UNKNOWN (-424242)"));
        assert_eq!(DER_REC2BIG, 2013);
    }
}
