//! Native HDF5's file locking settings for an open: the access list's `H5Pset_file_locking`,
//! overridden by `HDF5_USE_FILE_LOCKING` (read once, as HDF5 reads it when it starts:
//! `FALSE`/`0` no locks, `TRUE`/`1` locks, `BEST_EFFORT` locks where the file system has them).
use crate::ffi::vol_bindings::hid_t;
use crate::model::open_file::Locking;
use once_cell::sync::Lazy;

/// The variable's `(use locks, ignore when disabled)`, each `None` where it says nothing.
fn parse_env(v: Option<&str>) -> (Option<bool>, Option<bool>) {
    match v {
        Some("FALSE") | Some("0") => (Some(false), None),
        Some("BEST_EFFORT") => (Some(true), Some(true)),
        Some("TRUE") | Some("1") => (Some(true), Some(false)),
        _ => (None, None),
    }
}

static ENV: Lazy<(Option<bool>, Option<bool>)> = Lazy::new(|| parse_env(std::env::var("HDF5_USE_FILE_LOCKING").ok().as_deref()));

/// The settings in force for an open with access list `fapl`.
pub fn settings(fapl: hid_t) -> Locking {
    let (mut use_locks, mut ignore) = (0 as hdf5_sys::h5::hbool_t, 0 as hdf5_sys::h5::hbool_t);
    // SAFETY: a property list query on the list HDF5 passed, writing into locals.
    let got = unsafe { crate::ffi::h5::H5Pget_file_locking(fapl, &mut use_locks, &mut ignore) } >= 0;
    let from_list = if got { Locking { use_locks: use_locks != 0, ignore_disabled: ignore != 0 } } else { Locking::default() };
    let (env_use, env_ignore) = *ENV;
    Locking { use_locks: env_use.unwrap_or(from_list.use_locks), ignore_disabled: env_ignore.unwrap_or(from_list.ignore_disabled) }
}

#[cfg(test)]
mod tests {
    use super::parse_env;

    #[test]
    fn the_variable_is_read_as_native_reads_it() {
        assert_eq!(parse_env(Some("FALSE")), (Some(false), None));
        assert_eq!(parse_env(Some("0")), (Some(false), None));
        assert_eq!(parse_env(Some("TRUE")), (Some(true), Some(false)));
        assert_eq!(parse_env(Some("1")), (Some(true), Some(false)));
        assert_eq!(parse_env(Some("BEST_EFFORT")), (Some(true), Some(true)));
        // Anything else (lower case included) leaves the access list in charge.
        assert_eq!(parse_env(Some("false")), (None, None));
        assert_eq!(parse_env(None), (None, None));
    }
}
