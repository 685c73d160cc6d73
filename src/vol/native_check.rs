//! Keeps HDF5's own "Virtual Object Layer" error message alive for the deprecated functions
//! that refuse connectors other than the native one.
//!
//! HDF5 1.14 (H5Odeprec.c, H5Rdeprec.c: `H5Oget_info1`, `H5Rdereference2`, ...) refuses a
//! non-native object with an error whose *minor* code is `H5E_VOL`, a *major* message. The
//! library takes no reference on the messages of its own errors, but clearing the error stack
//! releases one on every minor code outside the library's minor range, so each such error,
//! once cleared, drops a reference nobody took. The first one frees `H5E_VOL`. From then on no
//! error under major `H5E_VOL` (every failed connector callback has one) can be printed: when
//! printing is on (h5py's `unsilence_errors`, HDF5's default outside h5py), `H5Eprint2` fails,
//! reports its own failure through the automatic handler, which is `H5Eprint2` again, and the
//! process dies of a stack overflow. h5py without the rustvol package calls these functions
//! (`name in group` uses `H5Oget_info1`).
//!
//! Each of those errors follows a call of `H5VL_object_is_native`, which asks the connector
//! for its terminal class first; that call ([`before_native_check`]) takes one reference on
//! `H5E_VOL` in advance, so every reference HDF5 drops wrongly was taken. A count that cannot
//! be read back (the API reports only application references) is why it is one per call.
//! References left over do no harm: at `H5close` HDF5 removes its messages together with its
//! error class whatever their counts, and a new library session registers new ones.
use hdf5_sys::h5e::{H5E_DEFAULT};
use crate::ffi::h5::{H5E_VOL, H5Eget_current_stack, H5Eget_num, H5Eset_current_stack};
use crate::ffi::h5::H5Iinc_ref;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Far below the 32-bit counts HDF5 keeps; past it rustvol stops adding references.
const MAX_TAKEN: u32 = 1 << 30;

static TAKEN: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicBool = AtomicBool::new(false);

/// Called when HDF5 asks for rustvol's terminal class (the check for the native connector).
pub fn before_native_check() {
    if FAILED.load(Ordering::Relaxed) || TAKEN.fetch_add(1, Ordering::Relaxed) >= MAX_TAKEN {
        return;
    }
    // SAFETY: plain HDF5 API calls on ids HDF5 set at initialization or just returned.
    unsafe {
        // H5Iinc_ref, like every API function, clears the error stack on entry: errors the
        // library has pushed so far in this call are set aside and put back.
        let saved = if H5Eget_num(H5E_DEFAULT) > 0 { H5Eget_current_stack() } else { -1 };
        if H5Iinc_ref(*H5E_VOL) < 0 {
            // Freed before rustvol could keep it (another connector met the same defect):
            // nothing left to keep, and failing calls would only add errors to the stack.
            FAILED.store(true, Ordering::Relaxed);
        }
        if saved >= 0 {
            H5Eset_current_stack(saved);
        }
    }
}
