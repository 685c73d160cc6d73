//! Object tokens: the object id in the first 8 bytes (little-endian), the rest zero.
use super::guard;
use super::h5util::malloc_cstr;
use crate::backend::ObjId;
use crate::bail;
use crate::error::Area;
use crate::ffi::vol_bindings::*;
use std::ffi::{c_char, c_void, CStr};

pub fn encode(id: ObjId) -> H5O_token_t {
    let mut t = H5O_token_t::default();
    t.__data[..8].copy_from_slice(&id.to_le_bytes());
    t
}

pub fn decode(t: &H5O_token_t) -> ObjId {
    u64::from_le_bytes(t.__data[..8].try_into().expect("8 bytes"))
}

pub unsafe extern "C" fn cmp(_obj: *mut c_void, t1: *const H5O_token_t, t2: *const H5O_token_t, out: *mut i32) -> herr_t {
    guard::status("token_cmp", || {
        // SAFETY: HDF5 passes two valid tokens and an output int.
        unsafe {
            let (a, b) = ((*t1).__data, (*t2).__data);
            *out = match a.cmp(&b) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            };
        }
        Ok(())
    })
}

pub unsafe extern "C" fn to_str(_obj: *mut c_void, _t: H5I_type_t, token: *const H5O_token_t, out: *mut *mut c_char) -> herr_t {
    guard::status("token_to_str", || {
        // SAFETY: HDF5 passes a valid token and an output pointer; it frees the string.
        unsafe { *out = malloc_cstr(&decode(&*token).to_string()) };
        Ok(())
    })
}

pub unsafe extern "C" fn from_str(_obj: *mut c_void, _t: H5I_type_t, s: *const c_char, token: *mut H5O_token_t) -> herr_t {
    guard::status("token_from_str", || {
        // SAFETY: HDF5 passes a NUL-terminated string and an output token.
        let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
        let Ok(id) = text.trim().parse::<u64>() else {
            bail!(Area::Object, "{text:?} is not a rustvol object token");
        };
        // SAFETY: HDF5 gives an output token to fill.
        unsafe { *token = encode(id) };
        Ok(())
    })
}
