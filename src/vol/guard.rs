//! Every callback body runs inside `catch_unwind`: a panic becomes an HDF5 error, never an
//! unwind across the C boundary; an `Err` goes onto the HDF5 error stack.
use super::errors;
use crate::error::{Area, Result, VolError};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn run<T>(func: &'static str, f: impl FnOnce() -> Result<T>) -> Option<T> {
    log::trace!("{func}");
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            errors::push(func, &e);
            None
        }
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            errors::push(func, &VolError::new(Area::Object, format!("internal error (panic): {what}")));
            None
        }
    }
}

/// For callbacks returning `herr_t`: 0 on success, -1 on failure.
pub fn status(func: &'static str, f: impl FnOnce() -> Result<()>) -> i32 {
    run(func, f).map(|_| 0).unwrap_or(-1)
}

/// For iteration callbacks that pass on the user's own (positive) stop value.
pub fn value(func: &'static str, f: impl FnOnce() -> Result<i32>) -> i32 {
    run(func, f).unwrap_or(-1)
}

/// For callbacks returning a new object: NULL on failure.
pub fn object(func: &'static str, f: impl FnOnce() -> Result<*mut c_void>) -> *mut c_void {
    run(func, f).unwrap_or(std::ptr::null_mut())
}
