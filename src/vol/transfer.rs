//! Moving elements between the application's buffer (memory type, memory selection) and a
//! packed buffer of elements in the stored type, converting with `H5Tconvert` where the types
//! differ. Shared by dataset and attribute I/O.
use super::h5util::{check, Owned};
use super::vlen::{self, Shape};
use super::xform::Xform;
use crate::bail;
use crate::error::{Area, Result};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5s::H5Screate_simple;
use hdf5_sys::h5t::{H5T_bkg_t, H5Tconvert, H5Tequal, H5Tfind, H5Tget_size, H5Treclaim};
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

fn reclaim(ftype: hid_t, n: usize, buf: &mut [u8]) -> Result<()> {
    let dims = [n as u64];
    // SAFETY: a 1-D space of n elements describing `buf`, whose variable-length parts were
    // allocated by this connector or by H5Tconvert.
    unsafe {
        let space = Owned::space(check(H5Screate_simple(1, dims.as_ptr(), ptr::null()), Area::Dataset, "create a dataspace")?);
        H5Treclaim(ftype, space.id, hdf5_sys::h5p::H5P_DEFAULT, buf.as_mut_ptr().cast());
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
    let mut bkg = if needs_background(ftype, mem.mtype)? {
        let mut b = vec![0u8; n * mem.msize];
        mem.gather(&mut b);
        Some(b)
    } else {
        None
    };
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
    refs: &mut dyn vlen::MakeRef,
) -> Result<()> {
    let n = encoded.len();
    if let Some(x) = &mem.xform {
        x.check()?;
    }
    let equal = types_equal(ftype, mem.mtype);
    // Elements handed over as they are use the application's allocator; temporary ones that
    // H5Tconvert copies from are ours, freed by `reclaim`.
    let alloc = if equal { vlen::Alloc::of_dxpl(dxpl) } else { vlen::Alloc::MALLOC };
    let mut buf = vec![0u8; n * fsize.max(mem.msize)];
    for (i, e) in encoded.iter().enumerate() {
        vlen::decode(shape, e, buf.as_mut_ptr().add(i * fsize), fsize, refs, alloc)?;
    }
    if equal {
        mem.scatter(&buf[..n * fsize]);
        return Ok(());
    }
    let mut originals = buf[..n * fsize].to_vec();
    let mut bkg = if needs_background(ftype, mem.mtype)? {
        let mut b = vec![0u8; n * mem.msize];
        mem.gather(&mut b);
        Some(b)
    } else {
        None
    };
    let r = convert(ftype, mem.mtype, n, &mut buf, bkg.as_deref_mut(), dxpl);
    reclaim(ftype, n, &mut originals)?;
    r?;
    mem.scatter(&buf[..n * mem.msize]);
    Ok(())
}

/// Encodes `n` selected application elements of a type with variable-length parts.
///
/// # Safety
/// As for `collect_fixed`.
pub unsafe fn collect_vlen(ftype: hid_t, fsize: usize, shape: &Shape, n: usize, mem: &MemSide, dxpl: hid_t) -> Result<Vec<Vec<u8>>> {
    if let Some(x) = &mem.xform {
        x.check()?;
    }
    let mut buf = vec![0u8; n * fsize.max(mem.msize)];
    mem.gather(&mut buf[..n * mem.msize]);
    let converted = !types_equal(ftype, mem.mtype);
    if converted {
        // The default transfer list: the copies' parts come from malloc, freed below.
        let _ = dxpl;
        convert(mem.mtype, ftype, n, &mut buf, None, hdf5_sys::h5p::H5P_DEFAULT)?;
    }
    let mut out = Vec::with_capacity(n);
    let mut failed = None;
    for i in 0..n {
        let mut e = Vec::new();
        if let Err(err) = vlen::encode(shape, buf.as_ptr().add(i * fsize), fsize, &mut e) {
            failed = Some(err);
            break;
        }
        out.push(e);
    }
    if converted {
        for i in 0..n {
            vlen::free_parts(shape, buf.as_mut_ptr().add(i * fsize));
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
