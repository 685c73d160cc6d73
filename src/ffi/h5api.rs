//! The HDF5 functions and ids rustvol calls, bound at run time to the libhdf5 that loaded the
//! plugin: `librustvol.so` links no libhdf5 and has no undefined HDF5 symbol, so one binary
//! serves HDF5 1.14 and 2.0 (h5py's PyPI wheels bundle 2.0 and load it `RTLD_LOCAL`, out of
//! reach of the dynamic linker's global scope).
//!
//! `bind_loader` runs in `H5PLget_plugin_info`, in the middle of the loader's initialisation:
//! it only asks the dynamic linker (`dlopen(RTLD_NOLOAD)`, `dlsym`), never calls HDF5. The ids
//! (`H5T_NATIVE_INT`, ...) are read through their `*_g` variables after `H5open` at each use,
//! as HDF5's own `H5OPEN` macros do. A process with no loader (a program linking librustvol and
//! calling `H5Pset_fapl_rustvol`, a test) binds on first use to the libhdf5 of the global scope.
//!
//! The wrappers have `hdf5_sys`'s names and prototypes: call sites take them from here and
//! keep `hdf5_sys` for types and constants, which HDF5 1.14 and 2.0 share (docs/h5py.md).
#![allow(non_snake_case, non_upper_case_globals, non_camel_case_types, clippy::missing_safety_doc, clippy::too_many_arguments)]
use crate::ffi::loader::{self, Library};
use hdf5_sys::h5::*;
use hdf5_sys::h5d::*;
use hdf5_sys::h5e::*;
use hdf5_sys::h5f::*;
use hdf5_sys::h5i::*;
use hdf5_sys::h5mm::*;
use hdf5_sys::h5r::*;
use hdf5_sys::h5s::*;
use hdf5_sys::h5t::*;
use hdf5_sys::h5vl::H5VL_class_t;
use hdf5_sys::h5z::*;
use libc::{size_t, ssize_t};
use std::ffi::{c_char, c_double, c_int, c_uint, c_void, CString};
use std::sync::OnceLock;

/// The HDF5 versions whose API and VOL ABI rustvol was checked against (docs/h5py.md): the
/// table below, the connector class (VOL version 3) and the behaviour differences handled.
pub const KNOWN_VERSIONS: &[(u32, u32)] = &[(1, 14), (2, 0)];

macro_rules! functions {
    ($( $([$($alt:literal $(if $major:literal)?),+])? fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        /// One pointer per function, each found in the bound library under its name (or the
        /// first of its variants that the library defines; a variant marked `if N` only in
        /// HDF5 N.x).
        struct Fns {
            $( $name: unsafe extern "C" fn($($ty),*) -> $ret, )*
        }

        impl Fns {
            /// None, with the names not found added to `missing`, if the library lacks any.
            fn resolve(major: u32, sym: &mut dyn FnMut(&str) -> Option<*mut c_void>, missing: &mut Vec<String>) -> Option<Fns> {
                $(
                    let listed: &[(&str, Option<u32>)] = &[$($( ($alt, None $(.or(Some($major)))?) ),+)?];
                    let names: Vec<&str> = if listed.is_empty() {
                        vec![stringify!($name)]
                    } else {
                        listed.iter().filter(|(_, only)| only.is_none_or(|m| m == major)).map(|(n, _)| *n).collect()
                    };
                    let $name = names.iter().find_map(|n| sym(n));
                    if $name.is_none() {
                        missing.push(names.join(" or "));
                    }
                )*
                if !missing.is_empty() {
                    return None;
                }
                Some(Fns {
                    $(
                        // SAFETY: the symbol is a function of the bound libhdf5 with this
                        // prototype in every known version (each compared between the 1.14.5
                        // and 2.0.0 headers; a variant name is tried only in the versions
                        // where its prototype is this one).
                        $name: unsafe {
                            std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*) -> $ret>($name.expect("checked above"))
                        },
                    )*
                })
            }
        }

        $(
            /// The bound libhdf5's function of this name, with `hdf5_sys`'s prototype.
            ///
            /// # Safety
            /// As for the C function: valid ids and pointers, on a thread HDF5 allows.
            #[inline]
            pub unsafe fn $name($($arg: $ty),*) -> $ret {
                let f = api().fns.$name;
                // SAFETY: the caller keeps the C function's contract; `f` is that function.
                unsafe { f($($arg),*) }
            }
        )*
    };
}

functions! {
    fn H5Eclear2(err_stack: hid_t) -> herr_t;
    fn H5Eclose_msg(err_id: hid_t) -> herr_t;
    fn H5Ecreate_msg(cls: hid_t, msg_type: H5E_type_t, msg: *const c_char) -> hid_t;
    fn H5Eget_auto2(estack_id: hid_t, func: *mut H5E_auto2_t, client_data: *mut *mut c_void) -> herr_t;
    fn H5Eget_current_stack() -> hid_t;
    fn H5Eget_num(error_stack_id: hid_t) -> ssize_t;
    fn H5Eregister_class(cls_name: *const c_char, lib_name: *const c_char, version: *const c_char) -> hid_t;
    fn H5Eset_auto2(estack_id: hid_t, func: H5E_auto2_t, client_data: *mut c_void) -> herr_t;
    fn H5Eset_current_stack(err_stack_id: hid_t) -> herr_t;
    fn H5Eunregister_class(class_id: hid_t) -> herr_t;
    fn H5Fget_name(obj_id: hid_t, name: *mut c_char, size: size_t) -> ssize_t;
    fn H5Idec_ref(id: hid_t) -> c_int;
    ["H5Iget_type"] fn raw_H5Iget_type(id: hid_t) -> c_int;
    fn H5Iinc_ref(id: hid_t) -> c_int;
    fn H5Iiterate(type_: H5I_type_t, op: H5I_iterate_func_t, op_data: *mut c_void) -> herr_t;
    fn H5PLget(index: c_uint, path_buf: *mut c_char, buf_size: size_t) -> ssize_t;
    fn H5PLget_loading_state(plugin_flags: *mut c_int) -> herr_t;
    fn H5PLsize(num_paths: *mut c_uint) -> herr_t;
    fn H5Pclose(plist_id: hid_t) -> herr_t;
    fn H5Pcopy(plist_id: hid_t) -> hid_t;
    fn H5Pcreate(cls_id: hid_t) -> hid_t;
    fn H5Pdecode(buf: *const c_void) -> hid_t;
    fn H5Pencode2(plist_id: hid_t, buf: *mut c_void, nalloc: *mut size_t, fapl_id: hid_t) -> herr_t;
    fn H5Pexist(plist_id: hid_t, name: *const c_char) -> htri_t;
    fn H5Pfill_value_defined(plist: hid_t, status: *mut H5D_fill_value_t) -> herr_t;
    fn H5Pget(plist_id: hid_t, name: *const c_char, value: *mut c_void) -> herr_t;
    fn H5Pget_alloc_time(plist_id: hid_t, alloc_time: *mut H5D_alloc_time_t) -> herr_t;
    fn H5Pget_attr_creation_order(plist_id: hid_t, crt_order_flags: *mut c_uint) -> herr_t;
    fn H5Pget_cache(plist_id: hid_t, mdc_nelmts: *mut c_int, rdcc_nslots: *mut size_t, rdcc_nbytes: *mut size_t, rdcc_w0: *mut c_double) -> herr_t;
    fn H5Pget_char_encoding(plist_id: hid_t, encoding: *mut H5T_cset_t) -> herr_t;
    fn H5Pget_chunk(plist_id: hid_t, max_ndims: c_int, dim: *mut hsize_t) -> c_int;
    fn H5Pget_copy_object(plist_id: hid_t, crt_intmd: *mut c_uint) -> herr_t;
    fn H5Pget_create_intermediate_group(plist_id: hid_t, crt_intmd: *mut c_uint) -> herr_t;
    fn H5Pget_data_transform(plist_id: hid_t, expression: *mut c_char, size: size_t) -> ssize_t;
    fn H5Pget_elink_acc_flags(lapl_id: hid_t, flags: *mut c_uint) -> herr_t;
    fn H5Pget_elink_fapl(lapl_id: hid_t) -> hid_t;
    fn H5Pget_file_locking(fapl_id: hid_t, use_file_locking: *mut hbool_t, ignore_when_disable: *mut hbool_t) -> herr_t;
    fn H5Pget_file_space_page_size(plist_id: hid_t, fsp_size: *mut hsize_t) -> herr_t;
    fn H5Pget_file_space_strategy(plist_id: hid_t, strategy: *mut H5F_fspace_strategy_t, persist: *mut hbool_t, threshold: *mut hsize_t) -> herr_t;
    fn H5Pget_fill_time(plist_id: hid_t, fill_time: *mut H5D_fill_time_t) -> herr_t;
    fn H5Pget_fill_value(plist_id: hid_t, type_id: hid_t, value: *mut c_void) -> herr_t;
    fn H5Pget_filter2(plist_id: hid_t, filter: c_uint, flags: *mut c_uint, cd_nelmts: *mut size_t, cd_values: *mut c_uint, namelen: size_t, name: *mut c_char, filter_config: *mut c_uint) -> H5Z_filter_t;
    ["H5Pget_layout"] fn raw_H5Pget_layout(plist_id: hid_t) -> c_int;
    fn H5Pget_libver_bounds(plist_id: hid_t, low: *mut H5F_libver_t, high: *mut H5F_libver_t) -> herr_t;
    fn H5Pget_link_creation_order(plist_id: hid_t, crt_order_flags: *mut c_uint) -> herr_t;
    fn H5Pget_link_phase_change(plist_id: hid_t, max_compact: *mut c_uint, min_dense: *mut c_uint) -> herr_t;
    fn H5Pget_nfilters(plist_id: hid_t) -> c_int;
    fn H5Pget_obj_track_times(plist_id: hid_t, track_times: *mut hbool_t) -> herr_t;
    fn H5Pget_shared_mesg_nindexes(plist_id: hid_t, nindexes: *mut c_uint) -> herr_t;
    fn H5Pget_vlen_mem_manager(plist_id: hid_t, alloc_func: *mut H5MM_allocate_t, alloc_info: *mut *mut c_void, free_func: *mut H5MM_free_t, free_info: *mut *mut c_void) -> herr_t;
    fn H5Pget_vol_id(plist_id: hid_t, vol_id: *mut hid_t) -> herr_t;
    fn H5Pget_vol_info(plist_id: hid_t, vol_info: *mut *mut c_void) -> herr_t;
    fn H5Pset_alloc_time(plist_id: hid_t, alloc_time: H5D_alloc_time_t) -> herr_t;
    fn H5Pset_data_transform(plist_id: hid_t, expression: *const c_char) -> herr_t;
    fn H5Pset_fill_time(plist_id: hid_t, fill_time: H5D_fill_time_t) -> herr_t;
    fn H5Pset_fill_value(plist_id: hid_t, type_id: hid_t, value: *const c_void) -> herr_t;
    fn H5Pset_link_creation_order(plist_id: hid_t, crt_order_flags: c_uint) -> herr_t;
    fn H5Pset_vol(plist_id: hid_t, new_vol_id: hid_t, new_vol_info: *const c_void) -> herr_t;
    fn H5Rcreate_attr(loc_id: hid_t, name: *const c_char, attr_name: *const c_char, oapl_id: hid_t, ref_ptr: *mut H5R_ref_t) -> herr_t;
    fn H5Rcreate_object(loc_id: hid_t, name: *const c_char, oapl_id: hid_t, ref_ptr: *mut H5R_ref_t) -> herr_t;
    fn H5Rcreate_region(loc_id: hid_t, name: *const c_char, space_id: hid_t, oapl_id: hid_t, ref_ptr: *mut H5R_ref_t) -> herr_t;
    fn H5Rdestroy(ref_ptr: *mut H5R_ref_t) -> herr_t;
    fn H5Rget_attr_name(ref_ptr: *const H5R_ref_t, name: *mut c_char, size: size_t) -> ssize_t;
    fn H5Rget_file_name(ref_ptr: *const H5R_ref_t, name: *mut c_char, size: size_t) -> ssize_t;
    ["H5Rget_type"] fn raw_H5Rget_type(ref_ptr: *const H5R_ref_t) -> c_int;
    fn H5Ropen_region(ref_ptr: *const H5R_ref_t, rapl_id: hid_t, oapl_id: hid_t) -> hid_t;
    fn H5Sclose(space_id: hid_t) -> herr_t;
    fn H5Screate(type_: H5S_class_t) -> hid_t;
    fn H5Screate_simple(rank: c_int, dims: *const hsize_t, maxdims: *const hsize_t) -> hid_t;
    fn H5Sdecode(buf: *const c_void) -> hid_t;
    fn H5Sencode2(obj_id: hid_t, buf: *mut c_void, nalloc: *mut size_t, fapl_id: hid_t) -> herr_t;
    fn H5Sget_select_npoints(spaceid: hid_t) -> hssize_t;
    ["H5Sget_select_type"] fn raw_H5Sget_select_type(spaceid: hid_t) -> c_int;
    fn H5Sget_simple_extent_dims(space_id: hid_t, dims: *mut hsize_t, maxdims: *mut hsize_t) -> c_int;
    fn H5Sget_simple_extent_npoints(space_id: hid_t) -> hssize_t;
    ["H5Sget_simple_extent_type"] fn raw_H5Sget_simple_extent_type(space_id: hid_t) -> c_int;
    fn H5Ssel_iter_close(sel_iter_id: hid_t) -> herr_t;
    fn H5Ssel_iter_create(space_id: hid_t, elmt_size: size_t, flags: c_uint) -> hid_t;
    fn H5Ssel_iter_get_seq_list(sel_iter_id: hid_t, maxseq: size_t, maxbytes: size_t, nseq: *mut size_t, nbytes: *mut size_t, off: *mut hsize_t, len: *mut size_t) -> herr_t;
    fn H5Sselect_all(spaceid: hid_t) -> herr_t;
    fn H5Tarray_create2(base_id: hid_t, ndims: c_uint, dim: *const hsize_t) -> hid_t;
    fn H5Tclose(type_id: hid_t) -> herr_t;
    fn H5Tcommitted(type_id: hid_t) -> htri_t;
    fn H5Tconvert(src_id: hid_t, dst_id: hid_t, nelmts: size_t, buf: *mut c_void, background: *mut c_void, plist_id: hid_t) -> herr_t;
    fn H5Tcopy(type_id: hid_t) -> hid_t;
    fn H5Tcreate(type_: H5T_class_t, size: size_t) -> hid_t;
    fn H5Tdetect_class(type_id: hid_t, cls: H5T_class_t) -> htri_t;
    fn H5Tencode(obj_id: hid_t, buf: *mut c_void, nalloc: *mut size_t) -> herr_t;
    fn H5Tequal(type1_id: hid_t, type2_id: hid_t) -> htri_t;
    fn H5Tfind(src_id: hid_t, dst_id: hid_t, pcdata: *mut *mut H5T_cdata_t) -> H5T_conv_t;
    fn H5Tget_array_dims2(type_id: hid_t, dims: *mut hsize_t) -> c_int;
    fn H5Tget_array_ndims(type_id: hid_t) -> c_int;
    ["H5Tget_class"] fn raw_H5Tget_class(type_id: hid_t) -> c_int;
    fn H5Tget_member_name(type_id: hid_t, membno: c_uint) -> *mut c_char;
    fn H5Tget_member_offset(type_id: hid_t, membno: c_uint) -> size_t;
    fn H5Tget_member_type(type_id: hid_t, membno: c_uint) -> hid_t;
    fn H5Tget_nmembers(type_id: hid_t) -> c_int;
    fn H5Tget_precision(type_id: hid_t) -> size_t;
    fn H5Tget_size(type_id: hid_t) -> size_t;
    fn H5Tget_super(type_: hid_t) -> hid_t;
    fn H5Tinsert(parent_id: hid_t, name: *const c_char, offset: size_t, member_id: hid_t) -> herr_t;
    fn H5Tis_variable_str(type_id: hid_t) -> htri_t;
    fn H5Tvlen_create(base_id: hid_t) -> hid_t;
    fn H5VLclose(connector_id: hid_t) -> herr_t;
    fn H5VLget_connector_name(id: hid_t, name: *mut c_char, size: size_t) -> ssize_t;
    fn H5VLobject(obj_id: hid_t) -> *mut c_void;
    fn H5VLregister_connector(cls: *const H5VL_class_t, vipl_id: hid_t) -> hid_t;
    fn H5VLwrap_register(obj: *mut c_void, type_: crate::ffi::vol_bindings::H5I_type_t) -> hid_t;
    fn H5Zfilter_avail(id: H5Z_filter_t) -> htri_t;
    fn H5free_memory(mem: *mut c_void) -> herr_t;
    fn H5allocate_memory(size: size_t, clear: hbool_t) -> *mut c_void;
    // 2.0 has `H5Tdecode1` (this prototype) and `H5Tdecode2(buf, size)`; 1.14 only `H5Tdecode`.
    // In 2.x `H5Tdecode` is the macro for `H5Tdecode2`: a library defining it as a function
    // would give it that prototype, so the name is tried in 1.x only.
    ["H5Tdecode1", "H5Tdecode" if 1] fn H5Tdecode1(buf: *const c_void) -> hid_t;
    fn H5VLget_connector_id_by_name(name: *const c_char) -> hid_t;
    // H5VLconnector_passthru.h, not in hdf5-sys; the value is an `H5VL_class_value_t` (int).
    fn H5VLget_value(connector_id: hid_t, conn_value: *mut c_int) -> herr_t;
    fn H5open() -> herr_t;
}

/// A C enum value the bound libhdf5 returned, as `hdf5_sys`'s Rust enum when it is one of
/// that enum's values (HDF5 1.14's), else `other`: a value a later HDF5 adds must never be
/// taken for a Rust enum that has no such variant.
fn enum_from<E: Copy>(raw: c_int, valid: std::ops::Range<c_int>, other: E) -> E {
    const { assert!(std::mem::size_of::<E>() == std::mem::size_of::<c_int>()) };
    if valid.contains(&raw) {
        // SAFETY: `E` is a `repr(C)` enum of `c_int` size whose variants are every value of
        // `valid` (each caller passes its enum's contiguous range of values).
        unsafe { std::mem::transmute_copy::<c_int, E>(&raw) }
    } else {
        other
    }
}

/// `H5Iget_type`; a type this build does not name is `H5I_BADID`.
pub unsafe fn H5Iget_type(id: hid_t) -> H5I_type_t {
    // SAFETY: as for the C function.
    let raw = unsafe { raw_H5Iget_type(id) };
    // The values are -2, -1, then 1 up to H5I_NTYPES (0 is none of them).
    match raw {
        -2 => H5I_UNINIT,
        0 => H5I_BADID,
        _ => enum_from(raw, -1..H5I_NTYPES as c_int, H5I_BADID),
    }
}

/// `H5Pget_layout`; an unknown layout is `H5D_LAYOUT_ERROR`.
pub unsafe fn H5Pget_layout(plist_id: hid_t) -> H5D_layout_t {
    // SAFETY: as for the C function.
    enum_from(unsafe { raw_H5Pget_layout(plist_id) }, -1..H5D_NLAYOUTS as c_int, H5D_LAYOUT_ERROR)
}

/// `H5Rget_type`; an unknown reference type is `H5R_BADTYPE`.
pub unsafe fn H5Rget_type(ref_ptr: *const H5R_ref_t) -> H5R_type_t {
    // SAFETY: as for the C function.
    enum_from(unsafe { raw_H5Rget_type(ref_ptr) }, -1..H5R_MAXTYPE as c_int, H5R_BADTYPE)
}

/// `H5Sget_select_type`; an unknown selection type is `H5S_SEL_ERROR`.
pub unsafe fn H5Sget_select_type(spaceid: hid_t) -> H5S_sel_type {
    // SAFETY: as for the C function.
    enum_from(unsafe { raw_H5Sget_select_type(spaceid) }, -1..H5S_SEL_N as c_int, H5S_SEL_ERROR)
}

/// `H5Sget_simple_extent_type`; an unknown class is `H5S_NO_CLASS`.
pub unsafe fn H5Sget_simple_extent_type(space_id: hid_t) -> H5S_class_t {
    // SAFETY: as for the C function.
    enum_from(unsafe { raw_H5Sget_simple_extent_type(space_id) }, -1..H5S_NULL as c_int + 1, H5S_NO_CLASS)
}

/// `H5Tget_class`. A class this build does not name (HDF5 2.0's `H5T_COMPLEX`) is
/// `H5T_NCLASSES`: a fixed-size class rustvol stores through HDF5's own encoding and converts
/// with HDF5's conversions, as it does every class it has no special path for.
pub unsafe fn H5Tget_class(type_id: hid_t) -> H5T_class_t {
    // SAFETY: as for the C function.
    enum_from(unsafe { raw_H5Tget_class(type_id) }, -1..H5T_NCLASSES as c_int, H5T_NCLASSES)
}

type Push = unsafe extern "C" fn(hid_t, *const c_char, *const c_char, c_uint, hid_t, hid_t, hid_t, *const c_char, ...) -> herr_t;

/// `H5Epush2` with one argument for its format (Rust cannot forward C variadics): every use
/// passes `"%s"` and the message, so that the message is data, never a format.
///
/// # Safety
/// As for the C function; `arg` matches the one conversion of `msg`.
pub unsafe fn H5Epush2(
    err_stack: hid_t, file: *const c_char, func: *const c_char, line: c_uint, cls_id: hid_t, maj_id: hid_t, min_id: hid_t,
    msg: *const c_char, arg: *const c_char,
) -> herr_t {
    let f = api().push;
    // SAFETY: the caller keeps the C function's contract; `f` is the bound `H5Epush2`.
    unsafe { f(err_stack, file, func, line, cls_id, maj_id, min_id, msg, arg) }
}

macro_rules! ids {
    ($($name:ident = $sym:literal;)*) => {
        const ID_SYMBOLS: &[&str] = &[$($sym),*];
        #[allow(clippy::upper_case_acronyms)]
        enum IdIndex { $($name),* }
        $(
            /// The bound libhdf5's id of this name (`*ID` reads it, as `hdf5_sys`'s statics).
            pub static $name: Id = Id(IdIndex::$name as usize);
        )*
    };
}

ids! {
    H5E_VOL = "H5E_VOL_g";
    H5P_CLS_DATASET_ACCESS = "H5P_CLS_DATASET_ACCESS_ID_g";
    H5P_CLS_FILE_ACCESS = "H5P_CLS_FILE_ACCESS_ID_g";
    H5P_LST_ATTRIBUTE_CREATE = "H5P_LST_ATTRIBUTE_CREATE_ID_g";
    H5P_LST_DATASET_ACCESS = "H5P_LST_DATASET_ACCESS_ID_g";
    H5P_LST_DATASET_CREATE = "H5P_LST_DATASET_CREATE_ID_g";
    H5P_LST_DATASET_XFER = "H5P_LST_DATASET_XFER_ID_g";
    H5P_LST_DATATYPE_CREATE = "H5P_LST_DATATYPE_CREATE_ID_g";
    H5P_LST_FILE_CREATE = "H5P_LST_FILE_CREATE_ID_g";
    H5P_LST_GROUP_CREATE = "H5P_LST_GROUP_CREATE_ID_g";
    H5P_LST_OBJECT_COPY = "H5P_LST_OBJECT_COPY_ID_g";
    H5T_C_S1 = "H5T_C_S1_g";
    H5T_IEEE_F32BE = "H5T_IEEE_F32BE_g";
    H5T_IEEE_F32LE = "H5T_IEEE_F32LE_g";
    H5T_IEEE_F64BE = "H5T_IEEE_F64BE_g";
    H5T_IEEE_F64LE = "H5T_IEEE_F64LE_g";
    H5T_NATIVE_DOUBLE = "H5T_NATIVE_DOUBLE_g";
    H5T_NATIVE_FLOAT = "H5T_NATIVE_FLOAT_g";
    H5T_NATIVE_HBOOL = "H5T_NATIVE_HBOOL_g";
    H5T_NATIVE_INT16 = "H5T_NATIVE_INT16_g";
    H5T_NATIVE_INT32 = "H5T_NATIVE_INT32_g";
    H5T_NATIVE_INT64 = "H5T_NATIVE_INT64_g";
    H5T_NATIVE_INT8 = "H5T_NATIVE_INT8_g";
    H5T_NATIVE_INT = "H5T_NATIVE_INT_g";
    H5T_NATIVE_LDOUBLE = "H5T_NATIVE_LDOUBLE_g";
    H5T_NATIVE_LLONG = "H5T_NATIVE_LLONG_g";
    H5T_NATIVE_LONG = "H5T_NATIVE_LONG_g";
    H5T_NATIVE_SCHAR = "H5T_NATIVE_SCHAR_g";
    H5T_NATIVE_SHORT = "H5T_NATIVE_SHORT_g";
    H5T_NATIVE_UCHAR = "H5T_NATIVE_UCHAR_g";
    H5T_NATIVE_UINT16 = "H5T_NATIVE_UINT16_g";
    H5T_NATIVE_UINT32 = "H5T_NATIVE_UINT32_g";
    H5T_NATIVE_UINT64 = "H5T_NATIVE_UINT64_g";
    H5T_NATIVE_UINT8 = "H5T_NATIVE_UINT8_g";
    H5T_NATIVE_UINT = "H5T_NATIVE_UINT_g";
    H5T_NATIVE_ULLONG = "H5T_NATIVE_ULLONG_g";
    H5T_NATIVE_ULONG = "H5T_NATIVE_ULONG_g";
    H5T_NATIVE_USHORT = "H5T_NATIVE_USHORT_g";
    H5T_STD_I16BE = "H5T_STD_I16BE_g";
    H5T_STD_I16LE = "H5T_STD_I16LE_g";
    H5T_STD_I32BE = "H5T_STD_I32BE_g";
    H5T_STD_I32LE = "H5T_STD_I32LE_g";
    H5T_STD_I64BE = "H5T_STD_I64BE_g";
    H5T_STD_I64LE = "H5T_STD_I64LE_g";
    H5T_STD_I8BE = "H5T_STD_I8BE_g";
    H5T_STD_I8LE = "H5T_STD_I8LE_g";
    H5T_STD_U16BE = "H5T_STD_U16BE_g";
    H5T_STD_U16LE = "H5T_STD_U16LE_g";
    H5T_STD_U32BE = "H5T_STD_U32BE_g";
    H5T_STD_U32LE = "H5T_STD_U32LE_g";
    H5T_STD_U64BE = "H5T_STD_U64BE_g";
    H5T_STD_U64LE = "H5T_STD_U64LE_g";
    H5T_STD_U8BE = "H5T_STD_U8BE_g";
    H5T_STD_U8LE = "H5T_STD_U8LE_g";
    H5T_STD_REF = "H5T_STD_REF_g";
    H5T_STD_REF_DSETREG = "H5T_STD_REF_DSETREG_g";
    H5T_STD_REF_OBJ = "H5T_STD_REF_OBJ_g";
}

/// One of HDF5's global ids, read from the bound library at each use.
pub struct Id(usize);

impl std::ops::Deref for Id {
    type Target = hid_t;
    fn deref(&self) -> &hid_t {
        let api = api();
        // SAFETY: `H5open` initialises the library if it is not (HDF5's `H5OPEN` does the same
        // before every read of these ids); the address is the library's own `hid_t` variable,
        // which stays in place while the library is loaded (it never unloads: `Api` keeps a
        // reference to it), and is written only while the library (re)initialises.
        unsafe {
            (api.fns.H5open)();
            &*api.ids[self.0]
        }
    }
}

/// The bound library.
pub struct Api {
    pub lib: Library,
    /// (major, minor, release) of `lib`.
    pub version: (u32, u32, u32),
    fns: Fns,
    push: Push,
    ids: Vec<*const hid_t>,
    /// The reference to `lib` that keeps it loaded for the life of the process.
    loaded: loader::Loaded,
}

// SAFETY: the table is written once before it is shared and only read afterwards; its
// pointers (the handle included) are to functions and variables of a library that stays
// loaded, and the linker's calls on the handle are thread-safe.
unsafe impl Sync for Api {}
// SAFETY: as above.
unsafe impl Send for Api {}

static API: OnceLock<Api> = OnceLock::new();

/// What `bind_loader` found.
pub enum Binding {
    /// rustvol is bound to the caller: it gets rustvol's class.
    Bound,
    /// The caller is no libhdf5 (a program or ctypes asking for the class).
    NotHdf5,
    /// The caller is a libhdf5 rustvol cannot serve: why, for its error stack.
    Refused { loader: Library, message: String },
}

/// Binds to the libhdf5 whose code lies at `caller` (a return address into
/// `H5PLget_plugin_info`'s caller). Only the dynamic linker is asked.
pub fn bind_loader(caller: *const c_void) -> Binding {
    if caller.is_null() {
        return Binding::NotHdf5;
    }
    let Some(lib) = loader::library_at(caller) else { return Binding::NotHdf5 };
    match bind(&lib) {
        Ok(()) => Binding::Bound,
        Err(message) => Binding::Refused { loader: lib, message },
    }
}

/// Why rustvol cannot serve the program's own libhdf5, and which that is (when there is one).
#[derive(Debug)]
pub struct Refusal {
    pub lib: Option<Library>,
    pub message: String,
}

/// The libhdf5 of the global scope (the one a program linking librustvol links).
fn global_library() -> Option<Library> {
    // The library's version string first: a non-PIE program that takes a function's address
    // makes its own PLT stub that function's address, while it copies no HDF5 variable it does
    // not name (and no program names this one).
    [c"H5_lib_vers_info_g", c"H5Pset_vol"].iter().find_map(|name| {
        // SAFETY: dlsym on RTLD_DEFAULT only reads the linker's tables.
        let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        (!sym.is_null()).then(|| loader::library_at(sym)).flatten()
    })
}

/// Binds to the libhdf5 of the global scope, whose ids a program linking librustvol passes to
/// it, unless rustvol is bound already: then that binding must be to the same library (a
/// loader that opened its libhdf5 `RTLD_LOCAL` is in no global scope, and one that has none
/// can only be passing the bound library's ids).
pub fn bind_global() -> Result<&'static Api, Refusal> {
    let global = global_library();
    if let Some(api) = API.get() {
        return match global {
            Some(lib) if lib.base != api.lib.base => Err(Refusal {
                message: format!(
                    "rustvol is bound to {}, which loaded it, but the program's own libhdf5 is {}: two HDF5 libraries \
                     cannot share ids, so rustvol takes no property list of the second",
                    described(&api.lib),
                    described(&lib)
                ),
                lib: Some(lib),
            }),
            _ => Ok(api),
        };
    }
    let Some(lib) = global else {
        return Err(Refusal {
            lib: None,
            message: "rustvol found no libhdf5 to use: none loaded it and none is in the process's global scope \
                      (a program using H5Pset_fapl_rustvol must link libhdf5)"
                .to_string(),
        });
    };
    match bind(&lib) {
        Ok(()) => API.get().ok_or_else(|| Refusal { lib: None, message: "rustvol's HDF5 binding was lost".to_string() }),
        Err(message) => Err(Refusal { lib: Some(lib), message }),
    }
}

/// The bound library, if any.
pub fn bound() -> Option<&'static Api> {
    API.get()
}

/// The bound library, binding to the global scope's first if none loaded rustvol. Panics
/// (every caller runs under `vol::guard`) when there is none to bind to: a callback of
/// rustvol's class runs only once a library is bound, so this is a program's misuse.
fn api() -> &'static Api {
    match API.get() {
        Some(api) => api,
        None => bind_global().unwrap_or_else(|e| panic!("{}", e.message)),
    }
}

/// A further symbol of the bound library (one of its internal functions), if it defines it.
pub fn symbol(name: &str) -> Option<*mut c_void> {
    API.get()?.loaded.symbol(&CString::new(name).ok()?)
}

type ObjectVerify = unsafe extern "C" fn(hid_t, H5I_type_t) -> *mut c_void;
type Peek = unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_void) -> herr_t;
const XFORM_PROPERTY: &std::ffi::CStr = c"data_transform";

/// Whether the transfer list `dxpl` has a data transform, read from the list's own value: the
/// public calls either fail when none is set (`H5Pget_data_transform`) or copy it (`H5Pget`,
/// whose copy fails in 1.14 for an expression with an exponent, "x*1e2"). None where this
/// cannot be asked (the caller then asks the public way): it uses HDF5's internal
/// `H5I_object_verify` and `H5P_peek` (`H5Iprivate.h`, `H5Pprivate.h`; the same prototypes in
/// 1.14.5 and 2.0.0, whose `H5I_GENPROP_LST` is 11 in both), taken only from a known version
/// and seen to behave at first use (`peek_works`).
///
/// # Safety
/// Inside a callback HDF5 made, with a list id it passed.
pub unsafe fn has_data_transform(dxpl: hid_t) -> Option<bool> {
    static PEEK: OnceLock<Option<(ObjectVerify, Peek)>> = OnceLock::new();
    // SAFETY: `peek_works` only makes and closes a list of its own.
    let (verify, peek) = (*PEEK.get_or_init(|| unsafe { peek_works() }))?;
    // SAFETY: both have these prototypes (`peek_works`); `verify` gives the list's object (NULL for
    // an id that is none), and `peek` copies the property's value, one pointer, without
    // running its callbacks.
    unsafe {
        let plist = verify(dxpl, H5I_GENPROP_LST);
        let mut xform: *mut c_void = std::ptr::null_mut();
        if plist.is_null() || peek(plist, XFORM_PROPERTY.as_ptr(), (&mut xform as *mut *mut c_void).cast()) < 0 {
            return None;
        }
        Some(!xform.is_null())
    }
}

/// The internal functions `has_data_transform` uses, if the bound library is of a known
/// version, has them, and they answer as expected on a list without a transform and on one
/// with "x*1e2".
unsafe fn peek_works() -> Option<(ObjectVerify, Peek)> {
    let api = bound()?;
    if !KNOWN_VERSIONS.contains(&(api.version.0, api.version.1)) {
        return None;
    }
    // SAFETY: these are the prototypes of `H5I_object_verify` and `H5P_peek` in the known
    // versions.
    let (verify, peek) = unsafe {
        (
            std::mem::transmute::<*mut c_void, ObjectVerify>(symbol("H5I_object_verify")?),
            std::mem::transmute::<*mut c_void, Peek>(symbol("H5P_peek")?),
        )
    };
    // SAFETY: a list of our own, closed below; each call gets valid arguments.
    unsafe {
        let list = H5Pcopy(*H5P_LST_DATASET_XFER);
        if list < 0 {
            return None;
        }
        let ask = || {
            let plist = verify(list, H5I_GENPROP_LST);
            let mut xform: *mut c_void = std::ptr::null_mut();
            (!plist.is_null() && peek(plist, XFORM_PROPERTY.as_ptr(), (&mut xform as *mut *mut c_void).cast()) >= 0)
                .then_some(!xform.is_null())
        };
        let works = ask() == Some(false) && H5Pset_data_transform(list, c"x*1e2".as_ptr()) >= 0 && ask() == Some(true);
        H5Pclose(list);
        log::debug!("data transforms are {} (HDF5 {:?})", if works { "read from the list's own value" } else { "asked through H5Pget_data_transform" }, api.version);
        works.then_some((verify, peek))
    }
}

/// The copy of a variable the library's own code reads and writes, when it is not the
/// library's own definition: a program linked to libhdf5 that names `H5T_NATIVE_INT_g` holds a
/// copy of it (a copy relocation), and every object's references, the library's included,
/// bind to the first definition of the global scope, which comes before any library's own.
fn variable_in_use(name: &str) -> Option<*mut c_void> {
    let c = CString::new(name).ok()?;
    // SAFETY: dlsym on RTLD_DEFAULT only reads the linker's tables.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    (!p.is_null()).then_some(p)
}

fn version_of(lib: &Library) -> Option<(u32, u32, u32)> {
    let v = lib.version.as_deref()?;
    let mut it = v.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

fn shown(lib: &Library) -> String {
    std::fs::canonicalize(&lib.path).map(|p| p.display().to_string()).unwrap_or_else(|_| lib.path.clone())
}

fn described(lib: &Library) -> String {
    format!("HDF5 {} ({})", lib.version.as_deref().unwrap_or("of unknown version"), shown(lib))
}

fn bind(lib: &Library) -> Result<(), String> {
    if let Some(api) = API.get() {
        if api.lib.base == lib.base {
            return Ok(());
        }
        return Err(format!(
            "rustvol is already bound to {} in this process and was loaded again by {}: a plugin serves one \
             libhdf5 per process (two HDF5 libraries cannot share ids), so rustvol opens no file through the second",
            described(&api.lib),
            described(lib)
        ));
    }
    let known = KNOWN_VERSIONS.iter().map(|(a, b)| format!("{a}.{b}")).collect::<Vec<_>>().join(" and ");
    let version = version_of(lib).ok_or_else(|| {
        format!("rustvol was loaded by a libhdf5 that gives no version ({}); it works with HDF5 {known} only, so it opens no file here", shown(lib))
    })?;
    if !KNOWN_VERSIONS.contains(&(version.0, version.1)) {
        return Err(format!(
            "rustvol works with HDF5 {known}, but was loaded by {}, whose API and connector interface it was not \
             checked against, so it opens no file here",
            described(lib)
        ));
    }
    // Kept in the table: the library must outlive the pointers taken from it.
    let Some(loaded) = loader::Loaded::open(&lib.path, lib.base) else {
        return Err(format!("rustvol could not reach {} through the dynamic linker, so it opens no file here", described(lib)));
    };
    let lookup = |n: &str| loaded.symbol(&CString::new(n).ok()?);
    let mut missing = Vec::new();
    let fns = Fns::resolve(version.0, &mut |n| lookup(n), &mut missing);
    let push = lookup("H5Epush2");
    if push.is_none() {
        missing.push("H5Epush2".into());
    }
    let ids: Vec<*const hid_t> = ID_SYMBOLS
        .iter()
        .filter_map(|n| {
            let Some(own) = lookup(n) else {
                missing.push((*n).into());
                return None;
            };
            Some(variable_in_use(n).unwrap_or(own) as *const hid_t)
        })
        .collect();
    let (Some(fns), Some(push), true) = (fns, push, missing.is_empty()) else {
        return Err(format!(
            "rustvol cannot use {}: it does not define {}, which rustvol calls, so rustvol opens no file here",
            described(lib),
            missing.join(", ")
        ));
    };
    // SAFETY: `H5Epush2`'s prototype is this one in every known version.
    let push = unsafe { std::mem::transmute::<*mut c_void, Push>(push) };
    let api = Api { lib: lib.clone(), version, fns, push, ids, loaded };
    if API.set(api).is_err() {
        // Another thread bound first, to this library or to another; this attempt's reference
        // is released with it.
        return bind(lib);
    }
    Ok(())
}

/// Forces the test binaries, which call rustvol's code directly, to link the libhdf5 they
/// bind to (the library itself references none of its symbols).
#[cfg(test)]
#[used]
static LINK_HDF5_FOR_TESTS: unsafe extern "C" fn() -> herr_t = hdf5_sys::h5::H5open;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_enum_values_outside_the_rust_enum_map_to_the_fallback() {
        assert_eq!(enum_from(10, -1..H5T_NCLASSES as c_int, H5T_NCLASSES), H5T_ARRAY);
        assert_eq!(enum_from(-1, -1..H5T_NCLASSES as c_int, H5T_NCLASSES), H5T_NO_CLASS);
        // HDF5 2.0's H5T_COMPLEX, and anything later.
        assert_eq!(enum_from(11, -1..H5T_NCLASSES as c_int, H5T_NCLASSES), H5T_NCLASSES);
        assert_eq!(enum_from(99, -1..H5S_SEL_N as c_int, H5S_SEL_ERROR), H5S_SEL_ERROR);
        assert_eq!(enum_from(-7, -1..H5D_NLAYOUTS as c_int, H5D_LAYOUT_ERROR), H5D_LAYOUT_ERROR);
    }
}
