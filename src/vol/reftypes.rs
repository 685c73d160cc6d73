//! Reference types inside a decoded datatype, made as the library's own.
//!
//! `H5Tdecode` leaves a reference that is the base of a vlen with no location (HDF5 1.14.5's
//! `H5T_set_loc` does not descend from a vlen into a reference, `src/H5T.c`), so a decoded
//! `vlen(H5T_STD_REF_OBJ)` is not `H5Tequal` to the type it was encoded from, and no conversion
//! path is found between the two: h5py then cannot write a `vlen_dtype(ref_dtype)` value
//! (netCDF's `DIMENSION_LIST`) to an attribute whose type rustvol returned. Native returns
//! the attribute's type as created, equal to `vlen(H5T_STD_REF_OBJ)`; so does rustvol once
//! every reference in a decoded type is replaced with a copy of the predefined type it encodes.
use super::h5util::{check, encode_type, Owned};
use crate::error::{Area, Result};
use crate::ffi::h5::{
    H5Tarray_create2, H5Tcopy, H5Tcreate, H5Tdetect_class, H5Tget_array_dims2, H5Tget_array_ndims, H5Tget_class,
    H5Tget_member_name, H5Tget_member_offset, H5Tget_member_type, H5Tget_nmembers, H5Tget_size, H5Tget_super,
    H5Tinsert, H5Tvlen_create, H5free_memory, H5T_STD_REF, H5T_STD_REF_DSETREG, H5T_STD_REF_OBJ,
};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::H5T_class_t;

/// `tid` with each reference it holds replaced by a copy of the predefined reference type of
/// the same encoding, or None when it holds no reference below a vlen, array or compound (the
/// decoded type is then already what native returns).
pub fn with_library_refs(tid: hid_t) -> Result<Option<Owned>> {
    // SAFETY: `tid` is a valid datatype id; the calls only read it.
    let class = unsafe { H5Tget_class(tid) };
    if !matches!(class, H5T_class_t::H5T_VLEN | H5T_class_t::H5T_ARRAY | H5T_class_t::H5T_COMPOUND) {
        return Ok(None);
    }
    // SAFETY: as above.
    if unsafe { H5Tdetect_class(tid, H5T_class_t::H5T_REFERENCE) } <= 0 {
        return Ok(None);
    }
    let predefined = [*H5T_STD_REF_OBJ, *H5T_STD_REF_DSETREG, *H5T_STD_REF]
        .iter()
        .map(|&id| Ok((id, encode_type(id)?)))
        .collect::<Result<Vec<_>>>()?;
    rebuild(tid, &predefined).map(Some)
}

fn rebuild(tid: hid_t, predefined: &[(hid_t, Vec<u8>)]) -> Result<Owned> {
    // SAFETY: `tid` is a valid datatype id; every id made here is owned by an `Owned` and every
    // buffer passed is sized as the call requires.
    unsafe {
        match H5Tget_class(tid) {
            H5T_class_t::H5T_REFERENCE => {
                let enc = encode_type(tid)?;
                let id = predefined.iter().find(|(_, e)| *e == enc).map_or(tid, |(id, _)| *id);
                Ok(Owned::dtype(check(H5Tcopy(id), Area::Datatype, "copy a reference type")?))
            }
            H5T_class_t::H5T_VLEN => {
                let base = Owned::dtype(check(H5Tget_super(tid), Area::Datatype, "get a vlen's base type")?);
                let base = rebuild(base.id, predefined)?;
                Ok(Owned::dtype(check(H5Tvlen_create(base.id), Area::Datatype, "make a vlen type")?))
            }
            H5T_class_t::H5T_ARRAY => {
                let base = Owned::dtype(check(H5Tget_super(tid), Area::Datatype, "get an array's base type")?);
                let base = rebuild(base.id, predefined)?;
                let ndims = H5Tget_array_ndims(tid);
                if ndims < 0 {
                    crate::bail!(Area::Datatype, "HDF5 could not get an array type's rank");
                }
                let mut dims = vec![0u64; ndims as usize];
                if H5Tget_array_dims2(tid, dims.as_mut_ptr()) < 0 {
                    crate::bail!(Area::Datatype, "HDF5 could not get an array type's dimensions");
                }
                let id = H5Tarray_create2(base.id, ndims as u32, dims.as_ptr());
                Ok(Owned::dtype(check(id, Area::Datatype, "make an array type")?))
            }
            H5T_class_t::H5T_COMPOUND => {
                let n = H5Tget_nmembers(tid);
                if n < 0 {
                    crate::bail!(Area::Datatype, "HDF5 could not count a compound type's members");
                }
                let out = Owned::dtype(check(H5Tcreate(H5T_class_t::H5T_COMPOUND, H5Tget_size(tid)), Area::Datatype, "make a compound type")?);
                for i in 0..n as u32 {
                    let name = H5Tget_member_name(tid, i);
                    if name.is_null() {
                        crate::bail!(Area::Datatype, "HDF5 could not get a compound member's name");
                    }
                    let inserted = (|| {
                        let member = Owned::dtype(check(H5Tget_member_type(tid, i), Area::Datatype, "get a compound member's type")?);
                        let member = rebuild(member.id, predefined)?;
                        if H5Tinsert(out.id, name, H5Tget_member_offset(tid, i), member.id) < 0 {
                            crate::bail!(Area::Datatype, "HDF5 could not insert a compound member");
                        }
                        Ok(())
                    })();
                    H5free_memory(name.cast());
                    inserted?;
                }
                Ok(out)
            }
            _ => Ok(Owned::dtype(check(H5Tcopy(tid), Area::Datatype, "copy a datatype")?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::h5::{H5Tclose, H5Tdecode1, H5Tequal, H5T_NATIVE_INT};
    use crate::vol::h5util::decode_type;

    fn owned(id: hid_t) -> Owned {
        assert!(id >= 0);
        Owned::dtype(id)
    }

    /// One test: HDF5 is called from a single thread.
    #[test]
    fn decoded_types_with_references_equal_the_types_encoded() {
        // SAFETY: the calls get valid ids and buffers of the sizes they ask for.
        unsafe {
            let vlen_obj = owned(H5Tvlen_create(*H5T_STD_REF_OBJ));
            let raw = H5Tdecode1(encode_type(vlen_obj.id).unwrap().as_ptr().cast());
            assert!(raw >= 0);
            // What this module is for: HDF5's own decoding gives a type of another location.
            assert_eq!(H5Tequal(raw, vlen_obj.id), 0);
            H5Tclose(raw);

            let dims = [3u64, 2];
            let array = owned(H5Tarray_create2(*H5T_STD_REF_OBJ, 2, dims.as_ptr()));
            let vlen_new = owned(H5Tvlen_create(*H5T_STD_REF));
            let vlen_vlen_region = {
                let inner = owned(H5Tvlen_create(*H5T_STD_REF_DSETREG));
                owned(H5Tvlen_create(inner.id))
            };
            let compound = owned(H5Tcreate(H5T_class_t::H5T_COMPOUND, 40));
            assert!(H5Tinsert(compound.id, c"a".as_ptr(), 0, *H5T_NATIVE_INT) >= 0);
            assert!(H5Tinsert(compound.id, c"dims".as_ptr(), 8, vlen_obj.id) >= 0);
            assert!(H5Tinsert(compound.id, c"r".as_ptr(), 24, *H5T_STD_REF_OBJ) >= 0);
            let array_of_compound = owned(H5Tarray_create2(compound.id, 1, dims.as_ptr()));
            for t in [&vlen_obj, &array, &vlen_new, &vlen_vlen_region, &compound, &array_of_compound] {
                let back = decode_type(&encode_type(t.id).unwrap()).unwrap();
                assert_eq!(H5Tequal(back.id, t.id), 1, "class {:?}", H5Tget_class(t.id));
                assert_eq!(H5Tget_size(back.id), H5Tget_size(t.id));
            }

            let plain = owned(H5Tcreate(H5T_class_t::H5T_COMPOUND, 8));
            assert!(H5Tinsert(plain.id, c"a".as_ptr(), 4, *H5T_NATIVE_INT) >= 0);
            assert!(with_library_refs(plain.id).unwrap().is_none());
            assert!(with_library_refs(*H5T_STD_REF_OBJ).unwrap().is_none());
        }
    }
}
