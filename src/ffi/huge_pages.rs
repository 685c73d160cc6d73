//! The plugin's allocator: the system one, except that blocks of 32 MiB and more are aligned to
//! 2 MiB and advised to the kernel as transparent huge pages (`MADV_HUGEPAGE`; most systems
//! ship THP in `madvise` mode, so nothing is huge unless asked). Blocks that big are the
//! tables of objects and links of files with hundreds of thousands of objects, where a lookup
//! at a random name misses the TLB as well as the cache with 4 KiB pages (huge pages took
//! 10–20% off lookups in a group of 10^6 links). Chunk buffers stay below the line on purpose:
//! on virtual machines that hand free memory back to the host in 2 MiB blocks, a fresh huge
//! page faults in slower than 4 KiB pages do (see `chunk_buf.rs`); temporary buffers above it
//! (type conversion of big selections) pay that, about 6% there. Where THP is off, the advice
//! is ignored and this is the system allocator.
use std::alloc::{GlobalAlloc, Layout, System};

/// Huge page size and alignment.
const HUGE: usize = 2 << 20;
/// Blocks from this size on are advised.
const ADVISED: usize = 32 << 20;

pub struct HugePageAlloc;

fn adjusted(layout: Layout) -> Layout {
    if layout.size() >= ADVISED {
        // The size is unchanged and the alignment only grows: always a valid layout.
        Layout::from_size_align(layout.size(), layout.align().max(HUGE)).unwrap_or(layout)
    } else {
        layout
    }
}

fn advise(p: *mut u8, size: usize) {
    if !p.is_null() && size >= ADVISED {
        // SAFETY: [p, p + whole pages) lies inside the block just allocated; MADV_HUGEPAGE
        // changes how the kernel backs those pages, never their contents, and a failure (THP
        // unsupported) leaves the memory as it was.
        unsafe { libc::madvise(p.cast(), size & !(HUGE - 1), libc::MADV_HUGEPAGE) };
    }
}

// SAFETY: every block comes from `System` with the layout `adjusted` gives, and goes back to it
// with the same adjusted layout (it depends on the size and alignment alone, which the callers
// pass back unchanged), so `System`'s contract holds.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let l = adjusted(layout);
        // SAFETY: the caller's layout has a non-zero size, and `adjusted` keeps it.
        let p = unsafe { System.alloc(l) };
        advise(p, l.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let l = adjusted(layout);
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(l) };
        advise(p, l.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `adjusted(layout)` (see `alloc`).
        unsafe { System.dealloc(ptr, adjusted(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = adjusted(layout);
        let new = adjusted(Layout::from_size_align(new_size, layout.align()).unwrap_or(layout));
        if old.align() == new.align() {
            // SAFETY: `ptr` came from `System` with `old`; the alignment stays the same.
            let p = unsafe { System.realloc(ptr, old, new_size) };
            advise(p, new_size);
            return p;
        }
        // Crossing the line changes the alignment, which `System.realloc` cannot do.
        // SAFETY: `new` is a valid non-zero layout; the old block is valid for
        // min(old, new) bytes and is freed with the layout it was allocated with.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                System.dealloc(ptr, old);
            }
            p
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn big_blocks_are_aligned_and_survive_growth() {
        let mut v: Vec<u8> = Vec::with_capacity(1 << 20);
        v.extend((0..(1u32 << 20)).map(|i| i as u8));
        v.reserve(super::ADVISED); // crosses the line: a move to an aligned block
        assert_eq!(v.as_ptr() as usize % super::HUGE, 0);
        assert!(v.iter().enumerate().all(|(i, b)| *b == i as u8));
        v.extend(std::iter::repeat(7u8).take(super::ADVISED)); // grows while aligned
        assert_eq!(v.as_ptr() as usize % super::HUGE, 0);
        assert_eq!(v[(1 << 20) - 1], 255);
        v.truncate(10);
        v.shrink_to_fit(); // back under 2 MiB
        assert_eq!(v, (0..10).collect::<Vec<u8>>());
    }
}
