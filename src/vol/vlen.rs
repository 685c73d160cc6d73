//! Elements whose datatype has variable-length parts (vlen sequences, variable-length strings,
//! possibly nested in compounds and arrays) hold pointers in memory. To store one, its raw
//! bytes are kept (pointers there are meaningless) followed by the payload of each
//! variable-length part, depth first; loading allocates fresh memory with `malloc`, which
//! HDF5's `H5Treclaim` frees.
use crate::bail;
use crate::error::{Area, Result};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::*;

#[derive(Debug, Clone)]
pub enum Shape {
    Fixed,
    Str,
    Seq { base: Box<Shape>, base_size: usize },
    Fields(Vec<(usize, Shape)>),
    Array { base: Box<Shape>, count: usize, base_size: usize },
}

impl Shape {
    /// `None` when the type has no variable-length part.
    pub fn of(tid: hid_t) -> Result<Option<Shape>> {
        let s = shape(tid)?;
        Ok(if matches!(s, Shape::Fixed) { None } else { Some(s) })
    }
}

fn shape(tid: hid_t) -> Result<Shape> {
    // SAFETY: read-only queries on a valid datatype id; member and super ids are closed.
    unsafe {
        match H5Tget_class(tid) {
            H5T_class_t::H5T_STRING => Ok(if H5Tis_variable_str(tid) > 0 { Shape::Str } else { Shape::Fixed }),
            H5T_class_t::H5T_VLEN => {
                let sup = H5Tget_super(tid);
                let base = shape(sup);
                let base_size = H5Tget_size(sup);
                H5Tclose(sup);
                Ok(Shape::Seq { base: Box::new(base?), base_size })
            }
            H5T_class_t::H5T_ARRAY => {
                let sup = H5Tget_super(tid);
                let base = shape(sup);
                let base_size = H5Tget_size(sup);
                H5Tclose(sup);
                let base = base?;
                if matches!(base, Shape::Fixed) {
                    return Ok(Shape::Fixed);
                }
                let count = if base_size == 0 { 0 } else { H5Tget_size(tid) / base_size };
                Ok(Shape::Array { base: Box::new(base), count, base_size })
            }
            H5T_class_t::H5T_COMPOUND => {
                let n = H5Tget_nmembers(tid);
                let mut fields = Vec::new();
                for i in 0..n.max(0) as u32 {
                    let m = H5Tget_member_type(tid, i);
                    let s = shape(m);
                    H5Tclose(m);
                    let s = s?;
                    if !matches!(s, Shape::Fixed) {
                        fields.push((H5Tget_member_offset(tid, i), s));
                    }
                }
                Ok(if fields.is_empty() { Shape::Fixed } else { Shape::Fields(fields) })
            }
            H5T_class_t::H5T_NO_CLASS => bail!(Area::Datatype, "invalid datatype"),
            _ => Ok(Shape::Fixed),
        }
    }
}

#[repr(C)]
struct Hvl {
    len: usize,
    p: *mut u8,
}

/// Appends the encoding of the element at `elem` (of `size` bytes) to `out`.
///
/// # Safety
/// `elem` points at a valid, initialised element of the type `shape` describes.
pub unsafe fn encode(shape: &Shape, elem: *const u8, size: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(std::slice::from_raw_parts(elem, size));
    payloads(shape, elem, out);
}

unsafe fn payloads(shape: &Shape, at: *const u8, out: &mut Vec<u8>) {
    match shape {
        Shape::Fixed => {}
        Shape::Str => {
            let p = (at as *const *const libc::c_char).read_unaligned();
            if p.is_null() {
                out.push(0);
            } else {
                let s = std::ffi::CStr::from_ptr(p).to_bytes();
                out.push(1);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s);
            }
        }
        Shape::Seq { base, base_size } => {
            let h = (at as *const Hvl).read_unaligned();
            let len = if h.p.is_null() { 0 } else { h.len };
            out.extend_from_slice(&(len as u64).to_le_bytes());
            for i in 0..len {
                encode(base, h.p.add(i * base_size), *base_size, out);
            }
        }
        Shape::Fields(fields) => {
            for (off, s) in fields {
                payloads(s, at.add(*off), out);
            }
        }
        Shape::Array { base, count, base_size } => {
            for i in 0..*count {
                payloads(base, at.add(i * base_size), out);
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let Some(s) = self.pos.checked_add(n).and_then(|end| self.b.get(self.pos..end)) else {
            bail!(Area::Storage, "stored variable-length element is truncated");
        };
        self.pos += n;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

/// Writes the element encoded in `bytes` to `elem`, allocating its variable-length parts.
/// An empty encoding is an element never written: all zeros (empty sequences, NULL strings).
///
/// # Safety
/// `elem` points at `size` writable bytes.
pub unsafe fn decode(shape: &Shape, bytes: &[u8], elem: *mut u8, size: usize) -> Result<()> {
    if bytes.is_empty() {
        std::ptr::write_bytes(elem, 0, size);
        return Ok(());
    }
    let mut r = Reader { b: bytes, pos: 0 };
    decode_one(shape, &mut r, elem, size)?;
    if r.pos != bytes.len() {
        bail!(Area::Storage, "stored variable-length element has trailing bytes");
    }
    Ok(())
}

unsafe fn decode_one(shape: &Shape, r: &mut Reader, elem: *mut u8, size: usize) -> Result<()> {
    let raw = r.take(size)?;
    std::ptr::copy_nonoverlapping(raw.as_ptr(), elem, size);
    fill(shape, r, elem)
}

unsafe fn fill(shape: &Shape, r: &mut Reader, at: *mut u8) -> Result<()> {
    match shape {
        Shape::Fixed => Ok(()),
        Shape::Str => {
            let p: *mut u8 = match r.take(1)?[0] {
                0 => std::ptr::null_mut(),
                1 => {
                    let n = r.u64()? as usize;
                    let s = r.take(n)?;
                    let p = libc::malloc(n + 1) as *mut u8;
                    if p.is_null() {
                        bail!(Area::Dataset, "out of memory for a string of {n} bytes");
                    }
                    std::ptr::copy_nonoverlapping(s.as_ptr(), p, n);
                    *p.add(n) = 0;
                    p
                }
                t => bail!(Area::Storage, "stored string has bad tag {t}"),
            };
            (at as *mut *mut u8).write_unaligned(p);
            Ok(())
        }
        Shape::Seq { base, base_size } => {
            let len = r.u64()? as usize;
            if len.checked_mul(*base_size).is_none_or(|n| n > r.b.len().saturating_mul(8) + 64) {
                bail!(Area::Storage, "stored sequence length {len} is implausible");
            }
            let p = if len == 0 {
                std::ptr::null_mut()
            } else {
                let p = libc::calloc(len, *base_size) as *mut u8;
                if p.is_null() {
                    bail!(Area::Dataset, "out of memory for a sequence of {len} elements");
                }
                for i in 0..len {
                    decode_one(base, r, p.add(i * base_size), *base_size)?;
                }
                p
            };
            (at as *mut Hvl).write_unaligned(Hvl { len, p });
            Ok(())
        }
        Shape::Fields(fields) => {
            for (off, s) in fields {
                fill(s, r, at.add(*off))?;
            }
            Ok(())
        }
        Shape::Array { base, count, base_size } => {
            for i in 0..*count {
                fill(base, r, at.add(i * base_size))?;
            }
            Ok(())
        }
    }
}
