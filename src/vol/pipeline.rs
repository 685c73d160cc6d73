//! A new dataset's filter pipeline, prepared as HDF5 prepares it at H5Dcreate (`H5Dint.c`,
//! `H5Z.c`): filters are ignored for types that cannot be filtered, each filter's "can apply"
//! callback may refuse the dataset, and its "set local" callback writes the dataset's own
//! parameters (type sizes, scale-offset's ranges, ...) into the creation list the dataset keeps,
//! where H5Dget_create_plist shows them as natively.
use super::h5util::Owned;
use crate::bail;
use crate::error::{Area, Result};
use crate::ffi::h5z::{self, CanApplyAnswer};
use crate::model::filters::{ClassFilter, Filter};
use hdf5_sys::h5i::hid_t;
use crate::ffi::h5::{H5Pget_filter2, H5Pget_nfilters};
use crate::ffi::h5::H5Screate_simple;
use hdf5_sys::h5t::{H5T_class_t};
use crate::ffi::h5::{H5Tget_class, H5Tis_variable_str};

/// One filter of a creation list.
struct Entry {
    id: i32,
    flags: u32,
    cd: Vec<u32>,
    name: String,
}

impl Entry {
    fn optional(&self) -> bool {
        self.flags & h5z::FLAG_OPTIONAL != 0
    }
}

unsafe fn entries(dcpl: hid_t) -> Result<Vec<Entry>> {
    let n = H5Pget_nfilters(dcpl);
    let mut out = Vec::new();
    for i in 0..n.max(0) as u32 {
        let mut cd = vec![0u32; 64];
        let mut name = [0 as std::ffi::c_char; 256];
        let (mut flags, mut cd_n, mut config) = (0u32, cd.len(), 0u32);
        let mut id = H5Pget_filter2(dcpl, i, &mut flags, &mut cd_n, cd.as_mut_ptr(), name.len(), name.as_mut_ptr(), &mut config);
        if id >= 0 && cd_n > cd.len() {
            cd = vec![0u32; cd_n];
            id = H5Pget_filter2(dcpl, i, &mut flags, &mut cd_n, cd.as_mut_ptr(), name.len(), name.as_mut_ptr(), &mut config);
        }
        if id < 0 {
            bail!(Area::Dataset, "could not read filter {i} of the dataset creation list");
        }
        cd.truncate(cd_n);
        let name = std::ffi::CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
        out.push(Entry { id, flags, cd, name });
    }
    Ok(out)
}

/// The pipeline a new dataset of type `type_id` stores its chunks (of shape `chunk`) through,
/// after HDF5's create-time checks and "set local" callbacks on `dcpl`, the creation list the
/// dataset keeps. `elem_size` is the element size rustvol's own shuffle regroups by;
/// `encoded` says chunks hold rustvol's encoding of elements with variable-length parts,
/// which the filters that interpret elements cannot read.
///
/// # Safety
/// `dcpl` and `type_id` are live HDF5 ids; inside a callback.
pub unsafe fn prepare(dcpl: hid_t, type_id: hid_t, chunk: &[u64], elem_size: usize, encoded: bool) -> Result<Vec<Filter>> {
    let list = entries(dcpl)?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let class = H5Tget_class(type_id);
    if class == H5T_class_t::H5T_VLEN || (class == H5T_class_t::H5T_STRING && H5Tis_variable_str(type_id) > 0) {
        // As HDF5 does (H5Z_ignore_filters): such elements are heap references, so optional
        // filters are ignored and a required one refuses the dataset.
        if list.iter().any(|e| !e.optional()) {
            bail!(Area::Dataset, "not suitable for filters: a required filter cannot apply to a variable-length type");
        }
        return Ok(Vec::new());
    }
    let dims: Vec<u64> = chunk.to_vec();
    let space = Owned::space(H5Screate_simple(dims.len() as i32, dims.as_ptr(), std::ptr::null()));
    if space.id < 0 {
        bail!(Area::Dataset, "could not make the chunk's dataspace for the filters");
    }
    let classes: Vec<Option<h5z::FilterClass>> = list.iter().map(|e| h5z::class(e.id)).collect();
    for (e, c) in list.iter().zip(&classes) {
        let Some(c) = c else {
            if e.optional() || own(e.id) {
                continue;
            }
            bail!(Area::Dataset, "required filter {} was not located: HDF5 has no such filter (is its plugin on HDF5_PLUGIN_PATH?)", e.id);
        };
        if !c.encoder_present() {
            bail!(Area::Dataset, "filter {} is present but encoding is disabled", e.id);
        }
        match c.can_apply(dcpl, type_id, space.id) {
            CanApplyAnswer::Yes => {}
            CanApplyAnswer::Failed => bail!(Area::Dataset, "I/O filter {} can't operate on this dataset: error during its \"can apply\" callback", e.id),
            CanApplyAnswer::No if e.optional() => {}
            CanApplyAnswer::No => bail!(Area::Dataset, "I/O filter {}: filter parameters not appropriate for this dataset", e.id),
        }
    }
    for (e, c) in list.iter().zip(&classes) {
        if let Some(c) = c {
            if !c.set_local(dcpl, type_id, space.id) {
                bail!(Area::Dataset, "unable to set local filter parameters of filter {}", e.id);
            }
        }
    }
    // "set local" changed the parameters: the stages run with the list as it is now.
    let mut out = Vec::new();
    for e in entries(dcpl)? {
        if let Some(f) = Filter::of(e.id, &e.cd, elem_size) {
            out.push(f);
            continue;
        }
        if encoded && reads_elements(e.id) {
            // Such chunks hold rustvol's encoding of the elements, not HDF5's: a filter that
            // reads elements would misread them (byte-stream filters apply as they are).
            if e.optional() {
                log::warn!("optional filter {} is not applied: chunks of elements with variable-length parts hold rustvol's encoding", e.id);
                continue;
            }
            bail!(Area::Dataset, "filter {} cannot apply to elements with variable-length parts", e.id);
        }
        out.push(Filter::Hdf5(ClassFilter { id: e.id, name: e.name, flags: e.flags, cd: e.cd }));
    }
    Ok(out)
}

/// HDF5's filters that interpret the bits of each element: N-bit and scale-offset.
fn reads_elements(id: i32) -> bool {
    id == hdf5_sys::h5z::H5Z_FILTER_NBIT || id == hdf5_sys::h5z::H5Z_FILTER_SCALEOFFSET
}

/// Filters rustvol implements itself, available whether or not HDF5's table can be reached.
fn own(id: i32) -> bool {
    Filter::of(id, &[], 1).is_some()
}
