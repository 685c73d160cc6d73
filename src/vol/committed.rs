//! Datasets and attributes whose datatype is a committed datatype of the same file: they keep
//! it alive (its reference count counts them, as in the native format) and report it back as
//! the committed type.
use super::handle::{Handle, Kind};
use crate::backend::ObjId;
use crate::error::Result;
use crate::ffi::vol_bindings::*;
use crate::ffi::h5::H5VLobject;
use crate::model::objects::ObjKind;
use std::sync::Arc;

/// The committed datatype of `h`'s file that `type_id` is, if it is one.
///
/// # Safety
/// `type_id` is a datatype id from HDF5.
pub unsafe fn of_type(h: &Handle, type_id: hid_t) -> Result<Option<ObjId>> {
    // A predefined type is never committed.
    if super::h5util::is_predefined_type(type_id) || crate::ffi::h5::H5Tcommitted(type_id) <= 0 {
        return Ok(None);
    }
    let p = H5VLobject(type_id);
    if p.is_null() {
        return Ok(None);
    }
    let th = Handle::from_raw(p)?;
    Ok((th.kind == Kind::Datatype && Arc::ptr_eq(&th.file, &h.file)).then_some(th.obj))
}

/// Counts one more user of the committed type.
pub fn hold(file: &crate::model::open_file::OpenFile, tid: Option<ObjId>) -> Result<()> {
    file.meta.write().hold_type(tid)
}

/// A new datatype id for the caller: the committed type itself while it exists, else the
/// stored description.
///
/// # Safety
/// Inside a callback (HDF5's wrap context is needed to register the committed type).
pub unsafe fn type_id(h: &Handle, tid: Option<ObjId>, encoded: &[u8]) -> Result<hid_t> {
    if let Some(tid) = tid {
        let alive = matches!(h.file.meta.read().objects.get(&tid).map(|o| &o.kind), Some(ObjKind::Datatype(_)));
        if alive {
            let path = h.file.meta.read().path_of(tid).unwrap_or_default();
            if let Ok(id) = super::handle::register_for_callback(Handle::new(h.file.clone(), Kind::Datatype, tid, h.writable, path), H5I_DATATYPE) {
                return Ok(id);
            }
        }
    }
    Ok(super::h5util::decode_type(encoded)?.release())
}
