//! Owned, writable chunk contents: what the data path fills and a backend stores or sends.
//!
//! Writing fresh data into process memory is bound by page faults: every new 4 KiB page is
//! faulted in, zeroed and charged one at a time (about 2.5 GB/s for a copy into new memory on
//! the project machine, against 7 GB/s into memory already mapped). Large buffers that stay
//! (chunks of the memory backend) are therefore anonymous mappings populated when they are
//! made (`MAP_POPULATE`): the kernel maps all their pages in one pass, and the copy into them
//! runs at 3.7–4.4 GB/s. Buffers that are sent and dropped stay on the heap, which reuses the
//! same memory call after call (a populated mapping per 4 MiB chunk-write cost dir 25%).
//!
//! Transparent huge pages are not asked for: on virtual machines that report free memory to
//! the host in 2 MiB blocks (free page reporting, order 9 — the project machine does), the
//! huge pages a process gets are mostly ones the host has taken back, and faulting them in ran
//! at 1.2 GB/s after the first few hundred MiB, slower than 4 KiB pages.
use bytes::Bytes;
use memmap2::{MmapMut, MmapOptions};
use std::ops::{Deref, DerefMut};

/// From this size on a buffer is a mapping of its own. Each mapping may cost the process one
/// memory map entry (65530 by default), so small buffers stay on the heap.
const MAPPED_FROM: usize = 1 << 20;

pub struct ChunkBuf(Inner);

enum Inner {
    Heap(Vec<u8>),
    Mapped(MmapMut),
    /// Read-only bytes someone else may hold too; copied on the first change.
    Shared(Bytes),
}

impl ChunkBuf {
    /// `len` zero bytes for a buffer that goes away soon (sent to a store, then dropped): the
    /// heap, which hands the same memory out again call after call.
    pub fn zeroed(len: usize) -> ChunkBuf {
        ChunkBuf(Inner::Heap(vec![0u8; len]))
    }

    /// `len` zero bytes for a buffer that stays (a chunk of the memory backend): new memory
    /// either way, so large ones are populated mappings.
    pub fn zeroed_resident(len: usize) -> ChunkBuf {
        if len >= MAPPED_FROM {
            // The kernel hands out anonymous pages zeroed. A failed mapping (address space or
            // map count exhausted) falls back to the heap, which reports exhaustion its own way.
            if let Ok(m) = MmapOptions::new().len(len).populate().map_anon() {
                return ChunkBuf(Inner::Mapped(m));
            }
        }
        ChunkBuf::zeroed(len)
    }

    /// A new buffer holding a copy of `src`, on the heap.
    pub fn copy_of(src: &[u8]) -> ChunkBuf {
        ChunkBuf(Inner::Heap(src.to_vec()))
    }

    /// A new buffer holding a copy of `src`, made to stay (see `zeroed_resident`).
    pub fn copy_of_resident(src: &[u8]) -> ChunkBuf {
        if src.len() >= MAPPED_FROM {
            let mut b = ChunkBuf::zeroed_resident(src.len());
            b.copy_from_slice(src);
            b
        } else {
            ChunkBuf::copy_of(src)
        }
    }

    /// Contents given as shared bytes: no copy unless they are changed.
    pub fn shared(b: Bytes) -> ChunkBuf {
        ChunkBuf(Inner::Shared(b))
    }

    /// Shared, read-only bytes without a copy.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Inner::Heap(v) => Bytes::from(v),
            Inner::Mapped(m) => Bytes::from_owner(m),
            Inner::Shared(b) => b,
        }
    }
}

impl From<Vec<u8>> for ChunkBuf {
    fn from(v: Vec<u8>) -> ChunkBuf {
        ChunkBuf(Inner::Heap(v))
    }
}

impl Deref for ChunkBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Inner::Heap(v) => v,
            Inner::Mapped(m) => m,
            Inner::Shared(b) => b,
        }
    }
}

impl DerefMut for ChunkBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        if let Inner::Shared(b) = &self.0 {
            *self = ChunkBuf::copy_of(b);
        }
        match &mut self.0 {
            Inner::Heap(v) => v,
            Inner::Mapped(m) => m,
            Inner::Shared(_) => unreachable!("copied just above"),
        }
    }
}

impl AsRef<[u8]> for ChunkBuf {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for ChunkBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkBuf({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_start_zeroed_and_keep_their_bytes() {
        for (len, resident) in [0, 1, 4096, MAPPED_FROM - 1, MAPPED_FROM, 3 * MAPPED_FROM + 5].into_iter().flat_map(|n| [(n, false), (n, true)]) {
            let mut b = if resident { ChunkBuf::zeroed_resident(len) } else { ChunkBuf::zeroed(len) };
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            for (i, x) in b.iter_mut().enumerate() {
                *x = i as u8;
            }
            let c = if resident { ChunkBuf::copy_of_resident(&b) } else { ChunkBuf::copy_of(&b) };
            let bytes = b.into_bytes();
            assert_eq!(bytes.len(), len);
            assert!(bytes.iter().enumerate().all(|(i, &x)| x == i as u8));
            assert_eq!(&c[..], &bytes[..]);
        }
        assert_eq!(&ChunkBuf::from(vec![1, 2, 3])[..], &[1, 2, 3]);
    }

    #[test]
    fn shared_contents_are_copied_on_the_first_change_only() {
        let orig = Bytes::from(vec![1u8, 2, 3]);
        let mut b = ChunkBuf::shared(orig.clone());
        assert_eq!(b.as_ptr(), orig.as_ptr(), "not copied while unchanged");
        b[0] = 9;
        assert_eq!(&orig[..], &[1, 2, 3]);
        assert_eq!(&b[..], &[9, 2, 3]);
        let big = Bytes::from(vec![5u8; MAPPED_FROM]);
        let mut c = ChunkBuf::shared(big.clone());
        c[1] = 6;
        assert_eq!(big[1], 5);
        assert_eq!((c[0], c[1], c.len()), (5, 6, MAPPED_FROM));
    }
}
