//! The data transform of a dataset transfer list (`H5Pset_data_transform`), resolved for the
//! memory type of one transfer. Applied, as native HDF5 applies it, to the selected elements
//! in the memory type: on write before conversion to the stored type, on read after it.
use crate::bail;
use crate::error::{Area, Result};
use crate::model::transform::{Kind, Transform};
use hdf5_sys::h5e::H5E_DEFAULT;
use crate::ffi::h5::{H5Eclear2, H5Eget_auto2, H5Eset_auto2};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use crate::ffi::h5::{H5Pget_data_transform, H5P_LST_DATASET_XFER};
use crate::ffi::h5::{H5T_NATIVE_DOUBLE, H5T_NATIVE_FLOAT, H5T_NATIVE_INT, H5T_NATIVE_LDOUBLE, H5T_NATIVE_LLONG, H5T_NATIVE_LONG, H5T_NATIVE_SCHAR, H5T_NATIVE_SHORT, H5T_NATIVE_UCHAR, H5T_NATIVE_UINT, H5T_NATIVE_ULLONG, H5T_NATIVE_ULONG, H5T_NATIVE_USHORT, H5Tequal, H5Tget_precision, H5Tget_size};

/// A transform to apply, and the type it is evaluated in (`None`: a memory type HDF5
/// cannot evaluate transforms in, an error once data flows through it).
pub struct Xform {
    expr: Transform,
    kind: std::result::Result<Kind, &'static str>,
}

impl Xform {
    /// Transforms packed elements of the memory type.
    pub fn apply(&self, buf: &mut [u8]) -> Result<()> {
        let kind = match self.kind {
            Ok(k) => k,
            Err(why) => bail!(Area::Dataset, "cannot perform data transform on this type: {why}"),
        };
        self.expr.apply(kind, buf).map_err(|e| crate::error::VolError::new(Area::Dataset, e.0))
    }

    /// Fails unless data of the memory type can be transformed.
    pub fn check(&self) -> Result<()> {
        self.apply(&mut [])
    }
}

/// The transform HDF5 would apply to a transfer through `dxpl` in memory type `mtype`:
/// none for the default list (whose cached properties HDF5 uses, whatever is set on it) or
/// for the expression `"x"`.
///
/// # Safety
/// `dxpl` and `mtype` are ids from HDF5, inside a callback.
pub unsafe fn of_dxpl(dxpl: hid_t, mtype: hid_t) -> Result<Option<Xform>> {
    if dxpl == H5P_DEFAULT || dxpl == *H5P_LST_DATASET_XFER {
        return Ok(None);
    }
    let Some(text) = expression(dxpl) else { return Ok(None) };
    let expr = Transform::parse(&text).map_err(|e| crate::error::VolError::new(Area::Dataset, e.0))?;
    if expr.is_noop() {
        return Ok(None);
    }
    Ok(Some(Xform { expr, kind: kind_of(mtype) }))
}

/// The list's expression, if one is set.
unsafe fn expression(dxpl: hid_t) -> Option<String> {
    // SAFETY: a list id HDF5 passed, inside its callback (as for `of_dxpl`).
    match unsafe { crate::ffi::h5api::has_data_transform(dxpl) } {
        Some(false) => None,
        // SAFETY: as above; the list has a transform, so the call does not fail.
        Some(true) => unsafe { text(dxpl) },
        // SAFETY: as above.
        None => unsafe { expression_silenced(dxpl) },
    }
}

/// The expression of a list that has one (so the call does not fail).
unsafe fn text(dxpl: hid_t) -> Option<String> {
    // SAFETY: the buffer is `n + 1` bytes for an expression of `n`.
    unsafe {
        let n = H5Pget_data_transform(dxpl, std::ptr::null_mut(), 0);
        if n <= 0 {
            return None;
        }
        let mut buf = vec![0u8; n as usize + 1];
        if H5Pget_data_transform(dxpl, buf.as_mut_ptr().cast(), buf.len()) != n {
            return None;
        }
        buf.truncate(n as usize);
        Some(String::from_utf8_lossy(&buf).into_owned())
    }
}

/// Where `has_data_transform` cannot tell: `H5Pget_data_transform` fails when no transform is set, and its
/// error is kept off the application's error stack and out of its error printing.
unsafe fn expression_silenced(dxpl: hid_t) -> Option<String> {
    let mut func = None;
    let mut data = std::ptr::null_mut();
    // SAFETY (whole function): error-stack and property-list calls on the caller's thread.
    let saved = H5Eget_auto2(H5E_DEFAULT, &mut func, &mut data) >= 0;
    if saved {
        H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut());
    }
    let text = if H5Pget_data_transform(dxpl, std::ptr::null_mut(), 0) > 0 {
        text(dxpl)
    } else {
        H5Eclear2(H5E_DEFAULT);
        None
    };
    if saved {
        H5Eset_auto2(H5E_DEFAULT, func, data);
    }
    text
}

/// Matches `mtype` against the native types in the order HDF5 tries them.
unsafe fn kind_of(mtype: hid_t) -> std::result::Result<Kind, &'static str> {
    let natives = [
        (*H5T_NATIVE_SHORT, Kind::I16),
        (*H5T_NATIVE_INT, Kind::I32),
        (*H5T_NATIVE_LONG, Kind::I64),
        (*H5T_NATIVE_LLONG, Kind::I64),
        (*H5T_NATIVE_UCHAR, Kind::U8),
        (*H5T_NATIVE_SCHAR, Kind::I8),
        (*H5T_NATIVE_USHORT, Kind::U16),
        (*H5T_NATIVE_UINT, Kind::U32),
        (*H5T_NATIVE_ULONG, Kind::U64),
        (*H5T_NATIVE_ULLONG, Kind::U64),
        (*H5T_NATIVE_FLOAT, Kind::F32),
        (*H5T_NATIVE_DOUBLE, Kind::F64),
    ];
    for (native, kind) in natives {
        // SAFETY: comparison of two valid datatype ids.
        if H5Tequal(mtype, native) > 0 {
            return Ok(kind);
        }
    }
    if H5Tequal(mtype, *H5T_NATIVE_LDOUBLE) > 0 {
        let x87 = cfg!(any(target_arch = "x86_64", target_arch = "x86")) && H5Tget_size(mtype) == 16 && H5Tget_precision(mtype) == 80;
        return if x87 { Ok(Kind::X87) } else { Err("rustvol evaluates long double only in x87's format") };
    }
    Err("not a native integer or floating type")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::h5::{H5Eget_num, H5Pcopy, H5Pset_data_transform};
    use crate::vol::h5util::Owned;

    #[test]
    fn a_transform_is_found_without_a_failing_call() {
        // SAFETY: lists of the test's own.
        unsafe {
            let list = Owned::plist(H5Pcopy(*H5P_LST_DATASET_XFER));
            assert!(list.id >= 0);
            // 1.14's internal functions answered as expected, so a list without a transform
            // costs no failing call and no error-stack juggling.
            assert_eq!(crate::ffi::h5api::has_data_transform(list.id), Some(false));
            assert_eq!(expression(list.id), None);
            assert_eq!(H5Eget_num(H5E_DEFAULT), 0);
            // An exponent: `H5Pget`'s copy of this one fails in 1.14.
            for e in [c"2*x+1", c"x*1e2"] {
                assert!(H5Pset_data_transform(list.id, e.as_ptr()) >= 0);
                assert_eq!(crate::ffi::h5api::has_data_transform(list.id), Some(true));
                assert_eq!(expression(list.id).as_deref(), e.to_str().ok());
                assert_eq!(H5Eget_num(H5E_DEFAULT), 0, "{e:?}");
            }
        }
    }
}
