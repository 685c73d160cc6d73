//! rustvol's error class on HDF5's error stack, with one major message per area.
use crate::error::{Area, VolError};
use hdf5_sys::h5e::{H5E_type_t, H5E_DEFAULT};
use crate::ffi::h5::{H5Eclose_msg, H5Ecreate_msg, H5Epush2, H5Eregister_class, H5Eunregister_class};
use hdf5_sys::h5i::hid_t;
use parking_lot::Mutex;
use std::ffi::CString;

struct Ids {
    class: hid_t,
    majors: Vec<(Area, hid_t)>,
    minor: hid_t,
}

static IDS: Mutex<Option<Ids>> = Mutex::new(None);

/// Registers the error class and messages (HDF5 may initialize a connector several times).
pub fn register() {
    let mut ids = IDS.lock();
    if ids.is_some() {
        return;
    }
    // SAFETY: plain HDF5 API calls with NUL-terminated strings that outlive the calls.
    unsafe {
        let class = H5Eregister_class(c"rustvol".as_ptr(), c"rustvol".as_ptr(), c"0.1.0".as_ptr());
        if class < 0 {
            return;
        }
        let majors = Area::ALL
            .iter()
            .map(|a| {
                let msg = CString::new(a.label()).expect("labels have no NUL");
                (*a, H5Ecreate_msg(class, H5E_type_t::H5E_MAJOR, msg.as_ptr()))
            })
            .collect();
        let minor = H5Ecreate_msg(class, H5E_type_t::H5E_MINOR, c"rustvol operation failed".as_ptr());
        *ids = Some(Ids { class, majors, minor });
    }
}

pub fn unregister() {
    if let Some(ids) = IDS.lock().take() {
        // SAFETY: the ids were created by `register` and are released once.
        unsafe {
            for (_, m) in ids.majors {
                H5Eclose_msg(m);
            }
            H5Eclose_msg(ids.minor);
            H5Eunregister_class(ids.class);
        }
    }
}

/// Puts `e` on the current error stack, naming the callback that failed.
pub fn push(func: &str, e: &VolError) {
    log::debug!("{func} failed: {e}");
    let ids = IDS.lock();
    let Some(ids) = ids.as_ref() else {
        eprintln!("rustvol: {func}: {e}");
        return;
    };
    let major = ids.majors.iter().find(|(a, _)| *a == e.area).map(|(_, m)| *m).unwrap_or(ids.minor);
    let msg = CString::new(e.msg.replace('\0', " ")).expect("NULs replaced");
    let func_c = CString::new(func).unwrap_or_default();
    // SAFETY: variadic call with a "%s" format and one matching C string argument.
    unsafe {
        H5Epush2(
            H5E_DEFAULT,
            c"rustvol".as_ptr(),
            func_c.as_ptr(),
            0,
            ids.class,
            major,
            ids.minor,
            c"%s".as_ptr(),
            msg.as_ptr(),
        );
    }
}
