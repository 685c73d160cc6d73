//! Elements whose datatype has variable-length parts (vlen sequences, variable-length strings,
//! possibly nested in compounds and arrays) hold pointers in memory. To store one, its raw
//! bytes are kept (pointers there are meaningless) followed by the payload of each
//! variable-length part, depth first; loading allocates fresh memory with `malloc`, which
//! HDF5's `H5Treclaim` frees.
//!
//! References (`H5T_STD_REF`) are stored the same way: their in-memory form caches a file id,
//! so the payload keeps what identifies the target instead (kind, object id, region selection
//! or attribute name, and the file's name when the target is in another file) and loading
//! rebuilds the reference (`RefCodec`, implemented by `refs.rs`, which knows the files).
use crate::bail;
use crate::error::{Area, Result};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::*;
use crate::ffi::h5::{H5Tclose, H5Tget_class, H5Tget_member_offset, H5Tget_member_type, H5Tget_nmembers, H5Tget_size, H5Tget_super, H5Tis_variable_str};

#[derive(Debug, Clone)]
pub enum Shape {
    Fixed,
    Str,
    Seq { base: Box<Shape>, base_size: usize },
    Fields(Vec<(usize, Shape)>),
    Array { base: Box<Shape>, count: usize, base_size: usize },
    Ref,
}

/// Size of `H5R_ref_t`, the in-memory form of `H5T_STD_REF` (old-style references are
/// plain addresses and need nothing special).
pub const REF_SIZE: usize = 64;

/// What a stored reference identifies.
pub struct StoredRef<'a> {
    /// `H5R_type_t`: 2 object, 3 region, 4 attribute.
    pub kind: u8,
    /// The target's object token; for targets in the same file, the rustvol object id in its
    /// first 8 bytes (little-endian), the rest zero.
    pub token: [u8; 16],
    pub token_size: u8,
    /// The name of the target's file, when it is not the file holding the reference.
    pub file: Option<&'a [u8]>,
    /// The region's selection (`H5Sencode2`) or the attribute's name.
    pub extra: &'a [u8],
}

impl StoredRef<'_> {
    pub fn id(&self) -> u64 {
        u64::from_le_bytes(self.token[..8].try_into().expect("8 bytes"))
    }
}

/// The target file of a reference in the application's memory, when it is another file.
pub struct OtherFile {
    pub name: Vec<u8>,
    pub token_size: u8,
}

/// Turns references into what is stored and back; it knows the file being read or written.
pub trait RefCodec {
    /// Writes the reference `r` describes at `dst`.
    ///
    /// # Safety
    /// `dst` points at `REF_SIZE` writable bytes.
    unsafe fn make(&mut self, r: &StoredRef, dst: *mut u8) -> Result<()>;

    /// The file a (non-empty) reference in the application's memory points into, when that
    /// is not the file it is being stored in.
    ///
    /// # Safety
    /// `r` points at a valid `H5R_ref_t`.
    unsafe fn other_file(&mut self, r: *const u8) -> Result<Option<OtherFile>> {
        let _ = r;
        Ok(None)
    }
}

/// For elements stored outside any file's data (fill values given at creation): references
/// are taken to point into the file being written.
pub struct SameFile;

impl RefCodec for SameFile {
    unsafe fn make(&mut self, _r: &StoredRef, _dst: *mut u8) -> Result<()> {
        bail!(Area::Dataset, "a reference cannot be rebuilt outside a file")
    }
}

/// Stored references of kind `k | EXTERNAL` name their file.
const EXTERNAL: u8 = 0x80;

impl Shape {
    /// Whether the type holds variable-length sequences or strings (references aside).
    pub fn has_vlen(&self) -> bool {
        match self {
            Shape::Fixed | Shape::Ref => false,
            Shape::Str | Shape::Seq { .. } => true,
            Shape::Fields(f) => f.iter().any(|(_, s)| s.has_vlen()),
            Shape::Array { base, .. } => base.has_vlen(),
        }
    }

    /// Whether the type holds references (`H5T_STD_REF`) anywhere.
    pub fn has_ref(&self) -> bool {
        match self {
            Shape::Fixed | Shape::Str => false,
            Shape::Ref => true,
            Shape::Seq { base, .. } | Shape::Array { base, .. } => base.has_ref(),
            Shape::Fields(f) => f.iter().any(|(_, s)| s.has_ref()),
        }
    }

    /// Offsets of the references held in the element itself (not inside its sequences).
    pub fn ref_offsets(&self, at: usize, out: &mut Vec<usize>) {
        match self {
            Shape::Ref => out.push(at),
            Shape::Fixed | Shape::Str | Shape::Seq { .. } => {}
            Shape::Fields(f) => f.iter().for_each(|(off, s)| s.ref_offsets(at + off, out)),
            Shape::Array { base, count, base_size } => (0..*count).for_each(|i| base.ref_offsets(at + i * base_size, out)),
        }
    }

    /// `None` when the type has no variable-length part.
    pub fn of(tid: hid_t) -> Result<Option<Shape>> {
        // The library's predefined types (most of what files hold) need no questions.
        if super::h5util::is_predefined_type(tid) {
            return Ok(None);
        }
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
            H5T_class_t::H5T_REFERENCE if H5Tget_size(tid) == REF_SIZE => Ok(Shape::Ref),
            H5T_class_t::H5T_NO_CLASS => bail!(Area::Datatype, "invalid datatype"),
            _ => Ok(Shape::Fixed),
        }
    }
}

/// Where variable-length parts read back are allocated: `malloc`, the allocator the
/// application set on the transfer property list (`H5Pset_vlen_mem_manager`), or an arena
/// that frees them when the transfer is done.
#[derive(Clone, Copy)]
pub enum Alloc<'a> {
    App { func: hdf5_sys::h5mm::H5MM_allocate_t, info: *mut libc::c_void },
    Arena(&'a Arena),
}

impl Alloc<'_> {
    pub const MALLOC: Alloc<'static> = Alloc::App { func: None, info: std::ptr::null_mut() };

    /// The allocator a transfer property list names.
    pub fn of_dxpl(dxpl: hid_t) -> Alloc<'static> {
        let (mut func, mut info) = (None, std::ptr::null_mut());
        let (mut free, mut free_info) = (None, std::ptr::null_mut());
        // SAFETY: a query filling four out-parameters from a plist id HDF5 gave us.
        let ok = dxpl > 0
            && unsafe { crate::ffi::h5::H5Pget_vlen_mem_manager(dxpl, &mut func, &mut info, &mut free, &mut free_info) } >= 0;
        if ok { Alloc::App { func, info } } else { Alloc::MALLOC }
    }

    /// # Safety
    /// Plain allocation; the caller initialises the memory.
    unsafe fn get(&self, n: usize) -> *mut u8 {
        match *self {
            Alloc::App { func: Some(f), info } => f(n, info) as *mut u8,
            Alloc::App { func: None, .. } => libc::malloc(n) as *mut u8,
            Alloc::Arena(a) => a.get(n),
        }
    }
}

/// Memory for the variable-length parts of stored elements decoded only for one transfer
/// (as the source or the background of a conversion): every block is freed once when the
/// arena drops, wherever the conversion copied the pointers.
#[derive(Default)]
pub struct Arena {
    blocks: std::cell::RefCell<Vec<*mut u8>>,
}

impl Arena {
    fn get(&self, n: usize) -> *mut u8 {
        // SAFETY: plain allocation, freed in `drop`.
        let p = unsafe { libc::malloc(n.max(1)) } as *mut u8;
        if !p.is_null() {
            self.blocks.borrow_mut().push(p);
        }
        p
    }

    /// The blocks handed out so far.
    pub fn owned(&self) -> std::collections::HashSet<usize> {
        self.blocks.borrow().iter().map(|&p| p as usize).collect()
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for p in self.blocks.get_mut().drain(..) {
            // SAFETY: each block came from malloc in `get` and is freed once.
            unsafe { libc::free(p.cast()) };
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
pub unsafe fn encode(shape: &Shape, elem: *const u8, size: usize, out: &mut Vec<u8>, refs: &mut dyn RefCodec) -> Result<()> {
    out.extend_from_slice(std::slice::from_raw_parts(elem, size));
    payloads(shape, elem, out, refs)
}

unsafe fn payloads(shape: &Shape, at: *const u8, out: &mut Vec<u8>, refs: &mut dyn RefCodec) -> Result<()> {
    match shape {
        Shape::Fixed => {}
        Shape::Ref => encode_ref(at, out, refs)?,
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
                encode(base, h.p.add(i * base_size), *base_size, out, refs)?;
            }
        }
        Shape::Fields(fields) => {
            for (off, s) in fields {
                payloads(s, at.add(*off), out, refs)?;
            }
        }
        Shape::Array { base, count, base_size } => {
            for i in 0..*count {
                payloads(base, at.add(i * base_size), out, refs)?;
            }
        }
    }
    Ok(())
}

/// Payload of one reference: kind (0 for an empty reference), object id, then for a region
/// reference its selection (`H5Sencode2`) and for an attribute reference its name, each
/// length-prefixed. A reference into another file has kind `| EXTERNAL` and, instead of the
/// id, the token's size and its 16 bytes, then the length-prefixed name of the file.
unsafe fn encode_ref(at: *const u8, out: &mut Vec<u8>, refs: &mut dyn RefCodec) -> Result<()> {
    use hdf5_sys::h5r::*;
    use crate::ffi::h5::{H5Rget_attr_name, H5Rget_type, H5Ropen_region};
    let r = at as *const H5R_ref_t;
    let kind = if std::slice::from_raw_parts(at, REF_SIZE).iter().all(|&b| b == 0) {
        0
    } else {
        H5Rget_type(r) as i32
    };
    if !(2..=4).contains(&kind) {
        out.push(0);
        return Ok(());
    }
    // Every kind of H5R_ref_t starts with the target's token (H5Rpkg.h: H5R_ref_priv_t), and
    // rustvol's tokens hold the object id in their first 8 bytes.
    match refs.other_file(at)? {
        None => {
            out.push(kind as u8);
            out.extend_from_slice(std::slice::from_raw_parts(at, 8));
        }
        Some(f) => {
            out.push(kind as u8 | EXTERNAL);
            out.push(f.token_size);
            out.extend_from_slice(std::slice::from_raw_parts(at, 16));
            out.extend_from_slice(&(f.name.len() as u64).to_le_bytes());
            out.extend_from_slice(&f.name);
        }
    }
    let extra: Vec<u8> = match kind {
        3 => {
            let space = H5Ropen_region(r, hdf5_sys::h5p::H5P_DEFAULT, hdf5_sys::h5p::H5P_DEFAULT);
            if space < 0 {
                bail!(Area::Dataset, "could not read the selection of a region reference");
            }
            let enc = super::h5util::encode_space(space);
            crate::ffi::h5::H5Sclose(space);
            enc?
        }
        4 => {
            let n = H5Rget_attr_name(r, std::ptr::null_mut(), 0);
            if n < 0 {
                bail!(Area::Dataset, "could not read the attribute name of a reference");
            }
            let mut b = vec![0u8; n as usize + 1];
            H5Rget_attr_name(r, b.as_mut_ptr().cast(), b.len());
            b.truncate(n as usize);
            b
        }
        _ => Vec::new(),
    };
    out.extend_from_slice(&(extra.len() as u64).to_le_bytes());
    out.extend_from_slice(&extra);
    Ok(())
}

/// Frees the variable-length parts of an element that were allocated with `malloc` (by
/// `H5Tconvert` with the default transfer list), leaving references alone: a conversion copies
/// them without taking a reference of its own, so destroying them would release the
/// application's.
///
/// # Safety
/// `elem` points at an element of the type `shape` describes, its parts from `malloc`.
pub unsafe fn free_parts(shape: &Shape, elem: *mut u8) {
    free_parts_but(shape, elem, &Default::default())
}

/// `free_parts`, except for the parts `arena` owns (a conversion copies the members it does
/// not convert from its background, which was decoded into the arena) and what they hold.
///
/// # Safety
/// As for `free_parts`; parts not from `arena` are from `malloc`.
/// `keep` is `Arena::owned()`, taken once for all the elements of a transfer.
pub unsafe fn free_parts_outside(shape: &Shape, elem: *mut u8, keep: &std::collections::HashSet<usize>) {
    free_parts_but(shape, elem, keep)
}

unsafe fn free_parts_but(shape: &Shape, elem: *mut u8, keep: &std::collections::HashSet<usize>) {
    match shape {
        Shape::Fixed | Shape::Ref => {}
        Shape::Str => {
            let p = (elem as *const *mut libc::c_void).read_unaligned();
            if !keep.contains(&(p as usize)) {
                libc::free(p);
            }
        }
        Shape::Seq { base, base_size } => {
            let h = (elem as *const Hvl).read_unaligned();
            if !h.p.is_null() && !keep.contains(&(h.p as usize)) {
                for i in 0..h.len {
                    free_parts_but(base, h.p.add(i * base_size), keep);
                }
                libc::free(h.p as *mut libc::c_void);
            }
        }
        Shape::Fields(fields) => {
            for (off, s) in fields {
                free_parts_but(s, elem.add(*off), keep);
            }
        }
        Shape::Array { base, count, base_size } => {
            for i in 0..*count {
                free_parts_but(base, elem.add(i * base_size), keep);
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    alloc: Alloc<'a>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let b: &'a [u8] = self.b;
        let Some(s) = self.pos.checked_add(n).and_then(|end| b.get(self.pos..end)) else {
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
pub unsafe fn decode(shape: &Shape, bytes: &[u8], elem: *mut u8, size: usize, refs: &mut dyn RefCodec, alloc: Alloc) -> Result<()> {
    if bytes.is_empty() {
        std::ptr::write_bytes(elem, 0, size);
        return Ok(());
    }
    let mut r = Reader { b: bytes, pos: 0, alloc };
    decode_one(shape, &mut r, elem, size, refs)?;
    if r.pos != bytes.len() {
        bail!(Area::Storage, "stored variable-length element has trailing bytes");
    }
    Ok(())
}

unsafe fn decode_one(shape: &Shape, r: &mut Reader, elem: *mut u8, size: usize, refs: &mut dyn RefCodec) -> Result<()> {
    let raw = r.take(size)?;
    std::ptr::copy_nonoverlapping(raw.as_ptr(), elem, size);
    fill(shape, r, elem, refs)
}

unsafe fn fill(shape: &Shape, r: &mut Reader, at: *mut u8, refs: &mut dyn RefCodec) -> Result<()> {
    match shape {
        Shape::Fixed => Ok(()),
        Shape::Ref => {
            std::ptr::write_bytes(at, 0, REF_SIZE);
            let kind = r.take(1)?[0];
            if kind == 0 {
                return Ok(());
            }
            let mut token = [0u8; 16];
            let (token_size, file) = if kind & EXTERNAL != 0 {
                let size = r.take(1)?[0];
                token.copy_from_slice(r.take(16)?);
                let n = r.u64()? as usize;
                let name = r.take(n)?;
                // HDF5 compares and encodes `size` bytes of the token, and keeps file names
                // as C strings of at most 65535 bytes.
                if !(1..=16).contains(&size) || name.len() > u16::MAX as usize || name.contains(&0) {
                    bail!(Area::Storage, "stored reference into another file is damaged");
                }
                (size, Some(name))
            } else {
                token[..8].copy_from_slice(r.take(8)?);
                (16, None)
            };
            let n = r.u64()? as usize;
            let extra = r.take(n)?;
            refs.make(&StoredRef { kind: kind & !EXTERNAL, token, token_size, file, extra }, at)
        }
        Shape::Str => {
            let p: *mut u8 = match r.take(1)?[0] {
                0 => std::ptr::null_mut(),
                1 => {
                    let n = r.u64()? as usize;
                    let alloc = r.alloc;
                    let s = r.take(n)?;
                    let p = alloc.get(n + 1);
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
                let p = r.alloc.get(len * base_size);
                if p.is_null() {
                    bail!(Area::Dataset, "out of memory for a sequence of {len} elements");
                }
                std::ptr::write_bytes(p, 0, len * base_size);
                for i in 0..len {
                    decode_one(base, r, p.add(i * base_size), *base_size, refs)?;
                }
                p
            };
            (at as *mut Hvl).write_unaligned(Hvl { len, p });
            Ok(())
        }
        Shape::Fields(fields) => {
            for (off, s) in fields {
                fill(s, r, at.add(*off), refs)?;
            }
            Ok(())
        }
        Shape::Array { base, count, base_size } => {
            for i in 0..*count {
                fill(base, r, at.add(i * base_size), refs)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what each stored reference identifies.
    #[derive(Default)]
    struct Recorder(Vec<(u8, [u8; 16], u8, Option<Vec<u8>>, Vec<u8>)>);

    impl RefCodec for Recorder {
        unsafe fn make(&mut self, r: &StoredRef, dst: *mut u8) -> Result<()> {
            self.0.push((r.kind, r.token, r.token_size, r.file.map(<[u8]>::to_vec), r.extra.to_vec()));
            std::ptr::write_bytes(dst, 0xab, REF_SIZE);
            Ok(())
        }
    }

    fn element_with_ref(payload: &[u8]) -> Vec<u8> {
        let mut e = vec![0u8; 8 + REF_SIZE];
        e[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        e.extend_from_slice(payload);
        e
    }

    fn reference_shape() -> Shape {
        Shape::Fields(vec![(8, Shape::Ref)])
    }

    #[test]
    fn a_reference_into_another_file_is_read_with_its_file_and_token() {
        let mut p = vec![4 | EXTERNAL, 8];
        p.extend_from_slice(&[9u8; 16]);
        p.extend_from_slice(&12u64.to_le_bytes());
        p.extend_from_slice(b"other.h5/x/y");
        p.extend_from_slice(&5u64.to_le_bytes());
        p.extend_from_slice(b"scale");
        let mut out = vec![0u8; 8 + REF_SIZE];
        let mut rec = Recorder::default();
        // SAFETY: `out` holds one element of the shape.
        unsafe { decode(&reference_shape(), &element_with_ref(&p), out.as_mut_ptr(), out.len(), &mut rec, Alloc::MALLOC) }.unwrap();
        assert_eq!(rec.0, vec![(4, [9u8; 16], 8, Some(b"other.h5/x/y".to_vec()), b"scale".to_vec())]);
        assert_eq!(&out[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(out[8..].iter().all(|&b| b == 0xab));
    }

    #[test]
    fn a_reference_in_the_same_file_is_read_with_its_object_id() {
        let mut p = vec![2];
        p.extend_from_slice(&42u64.to_le_bytes());
        p.extend_from_slice(&0u64.to_le_bytes());
        let mut out = vec![0u8; 8 + REF_SIZE];
        let mut rec = Recorder::default();
        // SAFETY: as above.
        unsafe { decode(&reference_shape(), &element_with_ref(&p), out.as_mut_ptr(), out.len(), &mut rec, Alloc::MALLOC) }.unwrap();
        let (kind, token, _, file, extra) = &rec.0[0];
        assert_eq!((*kind, &token[..8], file.is_none(), extra.is_empty()), (2, &42u64.to_le_bytes()[..], true, true));
    }

    #[test]
    fn a_truncated_reference_into_another_file_is_an_error() {
        let mut p = vec![2 | EXTERNAL, 16];
        p.extend_from_slice(&[1u8; 16]);
        p.extend_from_slice(&100u64.to_le_bytes());
        p.extend_from_slice(b"short");
        let mut out = vec![0u8; 8 + REF_SIZE];
        // SAFETY: as above.
        let r = unsafe { decode(&reference_shape(), &element_with_ref(&p), out.as_mut_ptr(), out.len(), &mut Recorder::default(), Alloc::MALLOC) };
        assert!(r.is_err());
    }

    #[test]
    fn a_reference_into_another_file_with_a_bad_token_size_or_name_is_an_error() {
        for (size, name) in [(17u8, &b"other.h5"[..]), (0, b"other.h5"), (8, b"bad\0name")] {
            let mut p = vec![2 | EXTERNAL, size];
            p.extend_from_slice(&[1u8; 16]);
            p.extend_from_slice(&(name.len() as u64).to_le_bytes());
            p.extend_from_slice(name);
            p.extend_from_slice(&0u64.to_le_bytes());
            let mut out = vec![0u8; 8 + REF_SIZE];
            let mut rec = Recorder::default();
            // SAFETY: as above.
            let r = unsafe { decode(&reference_shape(), &element_with_ref(&p), out.as_mut_ptr(), out.len(), &mut rec, Alloc::MALLOC) };
            assert!(r.is_err() && rec.0.is_empty(), "token size {size}, name {name:?}");
        }
    }

    #[test]
    fn strings_between_numbers_round_trip_through_an_arena() {
        // struct { int id; char *name; double value; } as laid out in memory.
        let shape = Shape::Fields(vec![(8, Shape::Str)]);
        let size = 24;
        let mut stored = vec![0u8; size];
        stored[..4].copy_from_slice(&7i32.to_le_bytes());
        stored[16..].copy_from_slice(&1.5f64.to_le_bytes());
        stored.push(1);
        stored.extend_from_slice(&5u64.to_le_bytes());
        stored.extend_from_slice(b"alpha");
        let arena = Arena::default();
        let mut elem = vec![0u8; size];
        // SAFETY: `elem` holds one element; its string comes from the arena, alive below.
        unsafe {
            decode(&shape, &stored, elem.as_mut_ptr(), size, &mut SameFile, Alloc::Arena(&arena)).unwrap();
            let p = (elem.as_ptr().add(8) as *const *const libc::c_char).read_unaligned();
            assert_eq!(std::ffi::CStr::from_ptr(p).to_bytes(), b"alpha");
            let mut again = Vec::new();
            encode(&shape, elem.as_ptr(), size, &mut again, &mut SameFile).unwrap();
            // The raw bytes hold the pointer; the payload after them is the same.
            assert_eq!(&again[size..], &stored[size..]);
            assert_eq!(&again[..8], &stored[..8]);
        }
        assert_eq!(arena.blocks.borrow().len(), 1);
    }
}
