//! Moving elements between the application's buffer (memory type, memory selection) and a
//! packed buffer of elements in the stored type, converting with `H5Tconvert` where the types
//! differ. Shared by dataset and attribute I/O.
use super::vlen::{self, Shape};
use super::xform::Xform;
use crate::bail;
use crate::error::{Area, Result};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::{H5T_bkg_t};
use crate::ffi::h5::{H5Tconvert, H5Tequal, H5Tfind, H5Tget_size};
use std::ptr;

/// The application's side: its buffer and the runs of selected elements in it.
pub struct MemSide {
    pub buf: *mut u8,
    pub runs: Vec<(u64, u64)>,
    pub mtype: hid_t,
    pub msize: usize,
    /// The transfer list's data transform, applied to the elements in the memory type.
    pub xform: Option<Xform>,
}

impl MemSide {
    pub fn new(buf: *mut u8, runs: Vec<(u64, u64)>, mtype: hid_t) -> Result<MemSide> {
        // SAFETY: size query on the caller's datatype id.
        let msize = unsafe { H5Tget_size(mtype) };
        if msize == 0 {
            bail!(Area::Dataset, "invalid memory datatype");
        }
        Ok(MemSide { buf, runs, mtype, msize, xform: None })
    }

    /// Applies the data transform (if any) to packed elements of the memory type.
    fn transform(&self, elems: &mut [u8]) -> Result<()> {
        self.xform.as_ref().map_or(Ok(()), |x| x.apply(elems))
    }

    /// The background a conversion from `ftype` into the memory type needs, if any: the
    /// application's `n` selected elements as they are (members a compound conversion does not
    /// write keep their values, as natively).
    ///
    /// # Safety
    /// As for `gather`.
    unsafe fn background_for(&self, ftype: hid_t, n: usize) -> Result<Option<Vec<u8>>> {
        if !needs_background(ftype, self.mtype)? {
            return Ok(None);
        }
        let mut b = vec![0u8; n * self.msize];
        self.gather(&mut b);
        Ok(Some(b))
    }

    /// One contiguous run: the byte offset where it starts.
    pub fn contiguous(&self) -> Option<usize> {
        match self.runs.as_slice() {
            [(start, _)] => Some(*start as usize * self.msize),
            [] => Some(0),
            _ => None,
        }
    }

    /// Copies the selected elements out of the application's buffer into `out`.
    ///
    /// # Safety
    /// The application's buffer covers every selected element.
    pub unsafe fn gather(&self, out: &mut [u8]) {
        let mut pos = 0usize;
        for &(start, len) in &self.runs {
            let n = len as usize * self.msize;
            ptr::copy_nonoverlapping(self.buf.add(start as usize * self.msize), out.as_mut_ptr().add(pos), n);
            pos += n;
        }
    }

    /// Copies packed elements into the selected places of the application's buffer.
    ///
    /// # Safety
    /// As for `gather`.
    pub unsafe fn scatter(&self, src: &[u8]) {
        let mut pos = 0usize;
        for &(start, len) in &self.runs {
            let n = len as usize * self.msize;
            ptr::copy_nonoverlapping(src.as_ptr().add(pos), self.buf.add(start as usize * self.msize), n);
            pos += n;
        }
    }
}

pub fn types_equal(a: hid_t, b: hid_t) -> bool {
    // SAFETY: comparison of two valid datatype ids.
    unsafe { H5Tequal(a, b) > 0 }
}

fn needs_background(src: hid_t, dst: hid_t) -> Result<bool> {
    let mut cdata: *mut hdf5_sys::h5t::H5T_cdata_t = ptr::null_mut();
    // SAFETY: H5Tfind fills `cdata` with the library's conversion data for the pair.
    unsafe {
        if H5Tfind(src, dst, &mut cdata).is_none() || cdata.is_null() {
            bail!(Area::Datatype, "no conversion path between the memory and the stored datatype");
        }
        Ok(!matches!((*cdata).need_bkg, H5T_bkg_t::H5T_BKG_NO))
    }
}

fn convert(src: hid_t, dst: hid_t, n: usize, buf: &mut [u8], bkg: Option<&mut [u8]>, dxpl: hid_t) -> Result<()> {
    let bkg = bkg.map(|b| b.as_mut_ptr().cast()).unwrap_or(ptr::null_mut());
    // SAFETY: `buf` holds n elements of the larger of the two types; `bkg` n of the destination.
    if unsafe { H5Tconvert(src, dst, n, buf.as_mut_ptr().cast(), bkg, dxpl) } < 0 {
        bail!(Area::Datatype, "HDF5 could not convert between the memory and the stored datatype");
    }
    Ok(())
}

/// Hands `n` stored elements (`stored`, fixed-size) to the application.
///
/// # Safety
/// `mem` describes a buffer covering its selection.
pub unsafe fn deliver_fixed(ftype: hid_t, fsize: usize, n: usize, mut stored: Vec<u8>, mem: &MemSide, dxpl: hid_t) -> Result<()> {
    if types_equal(ftype, mem.mtype) {
        mem.transform(&mut stored[..n * fsize])?;
        mem.scatter(&stored[..n * fsize]);
        return Ok(());
    }
    stored.resize(n * fsize.max(mem.msize), 0);
    let mut bkg = mem.background_for(ftype, n)?;
    convert(ftype, mem.mtype, n, &mut stored, bkg.as_deref_mut(), dxpl)?;
    mem.transform(&mut stored[..n * mem.msize])?;
    mem.scatter(&stored[..n * mem.msize]);
    Ok(())
}

/// Collects `n` selected application elements as stored (fixed-size) elements. `current`
/// gives the stored elements at the same places, for conversions that keep part of them.
///
/// # Safety
/// `mem` describes a buffer covering its selection.
pub unsafe fn collect_fixed(
    ftype: hid_t,
    fsize: usize,
    n: usize,
    mem: &MemSide,
    dxpl: hid_t,
    current: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n * fsize.max(mem.msize)];
    mem.gather(&mut buf[..n * mem.msize]);
    mem.transform(&mut buf[..n * mem.msize])?;
    if !types_equal(ftype, mem.mtype) {
        let mut bkg = if needs_background(mem.mtype, ftype)? { Some(current()?) } else { None };
        convert(mem.mtype, ftype, n, &mut buf, bkg.as_deref_mut(), dxpl)?;
    }
    buf.truncate(n * fsize);
    Ok(buf)
}

/// Hands encoded variable-length elements to the application, allocating their parts.
///
/// # Safety
/// As for `deliver_fixed`.
pub unsafe fn deliver_vlen(
    ftype: hid_t,
    fsize: usize,
    shape: &Shape,
    encoded: &[Vec<u8>],
    mem: &MemSide,
    dxpl: hid_t,
    refs: &mut dyn vlen::RefCodec,
) -> Result<()> {
    let n = encoded.len();
    if let Some(x) = &mem.xform {
        x.check()?;
    }
    let mut buf = vec![0u8; n * fsize.max(mem.msize)];
    if types_equal(ftype, mem.mtype) {
        // Handed over as they are: the application's allocator.
        let alloc = vlen::Alloc::of_dxpl(dxpl);
        for (i, e) in encoded.iter().enumerate() {
            vlen::decode(shape, e, buf.as_mut_ptr().add(i * fsize), fsize, refs, alloc)?;
        }
        mem.scatter(&buf[..n * fsize]);
        return Ok(());
    }
    // The stored elements are temporary: H5Tconvert makes the application's copies of their
    // variable-length parts (HDF5 always converts those, never aliases them) and copies
    // references as they are, so the references that did not reach the application are the
    // ones to release.
    let arena = vlen::Arena::default();
    let mut made = Vec::new();
    let mut decoded = Ok(());
    for (i, e) in encoded.iter().enumerate() {
        decoded = vlen::decode(shape, e, buf.as_mut_ptr().add(i * fsize), fsize, refs, vlen::Alloc::Arena(&arena));
        if decoded.is_err() {
            break;
        }
    }
    let mut offsets = Vec::new();
    if shape.has_ref() {
        shape.ref_offsets(0, &mut offsets);
        for i in 0..n {
            for &o in &offsets {
                made.push(buf[i * fsize + o..i * fsize + o + vlen::REF_SIZE].to_vec());
            }
        }
    }
    let r = decoded.and_then(|()| {
        let mut bkg = mem.background_for(ftype, n)?;
        convert(ftype, mem.mtype, n, &mut buf, bkg.as_deref_mut(), dxpl)
    });
    if !made.is_empty() {
        // How many times each reference reached the application: those it holds are its own.
        let mut delivered: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
        if r.is_ok() {
            if let Some(ms) = Shape::of(mem.mtype)? {
                let mut mo = Vec::new();
                ms.ref_offsets(0, &mut mo);
                for i in 0..n {
                    for &o in &mo {
                        *delivered.entry(&buf[i * mem.msize + o..i * mem.msize + o + vlen::REF_SIZE]).or_default() += 1;
                    }
                }
            }
        }
        for m in &made {
            if let Some(k) = delivered.get_mut(m.as_slice()).filter(|k| **k > 0) {
                *k -= 1;
            } else if m.iter().any(|&b| b != 0) {
                crate::ffi::h5::H5Rdestroy(m.as_ptr() as *mut hdf5_sys::h5r::H5R_ref_t);
            }
        }
    }
    r?;
    mem.scatter(&buf[..n * mem.msize]);
    Ok(())
}

/// Encodes `n` selected application elements of a type with variable-length parts.
/// `current` gives the stored elements at the same places (encoded), for conversions that
/// keep part of them (writing a subset of a compound's members).
///
/// # Safety
/// As for `collect_fixed`.
pub unsafe fn collect_vlen(
    ftype: hid_t,
    fsize: usize,
    shape: &Shape,
    n: usize,
    mem: &MemSide,
    dxpl: hid_t,
    refs: &mut dyn vlen::RefCodec,
    current: impl FnOnce() -> Result<Vec<Vec<u8>>>,
) -> Result<Vec<Vec<u8>>> {
    if let Some(x) = &mem.xform {
        x.check()?;
    }
    let mut buf = vec![0u8; n * fsize.max(mem.msize)];
    mem.gather(&mut buf[..n * mem.msize]);
    // The stored elements decoded as the background of a conversion live in the arena; the
    // converted elements' own parts come from malloc (H5Tconvert with the default transfer
    // list, or a conversion the application registered), and the members a conversion takes
    // from the background point into the arena.
    let arena = vlen::Arena::default();
    let converted = !types_equal(ftype, mem.mtype);
    let mut background_refs = Vec::new();
    // Only a finished conversion leaves the buffer holding elements of the stored type.
    let mut in_stored_type = false;
    let r = (|| {
        if converted {
            let mut bkg = if needs_background(mem.mtype, ftype)? {
                let cur = current()?;
                let mut b = vec![0u8; n * fsize];
                for (i, e) in cur.iter().enumerate().take(n) {
                    vlen::decode(shape, e, b.as_mut_ptr().add(i * fsize), fsize, refs, vlen::Alloc::Arena(&arena))?;
                    if shape.has_ref() {
                        let mut offs = Vec::new();
                        shape.ref_offsets(i * fsize, &mut offs);
                        background_refs.extend(offs.into_iter().map(|o| b[o..o + vlen::REF_SIZE].to_vec()));
                    }
                }
                Some(b)
            } else {
                None
            };
            // The default transfer list, not the application's: the parts of the converted
            // elements are temporary and come from malloc, which frees them below (an
            // allocator set on `dxpl` is for what HDF5 hands to the application).
            let _ = dxpl;
            convert(mem.mtype, ftype, n, &mut buf, bkg.as_deref_mut(), hdf5_sys::h5p::H5P_DEFAULT)?;
            in_stored_type = true;
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut e = Vec::new();
            vlen::encode(shape, buf.as_ptr().add(i * fsize), fsize, &mut e, refs)?;
            out.push(e);
        }
        Ok(out)
    })();
    if converted && in_stored_type {
        let keep = arena.owned();
        for i in 0..n {
            vlen::free_parts_outside(shape, buf.as_mut_ptr().add(i * fsize), &keep);
        }
    }
    for b in &background_refs {
        if b.iter().any(|&x| x != 0) {
            crate::ffi::h5::H5Rdestroy(b.as_ptr() as *mut hdf5_sys::h5r::H5R_ref_t);
        }
    }
    r
}
