//! rustvol: an HDF5 VOL connector that keeps HDF5 files in memory, a local directory, S3 or DAOS.
//!
//! Layers, calling downwards only: `vol` (the C ABI HDF5 calls) → `model` (HDF5 semantics, once
//! for every backend) → `backend::VolBackend` → `connectors`.
pub mod backend;
pub mod chunk_buf;
pub mod config;
#[path = "../connectors/mod.rs"]
pub mod connectors;
pub mod error;
pub mod ffi;
pub mod model;
pub mod vol;

#[global_allocator]
static ALLOC: ffi::huge_pages::HugePageAlloc = ffi::huge_pages::HugePageAlloc;
