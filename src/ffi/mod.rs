//! C declarations: HDF5's public API from `hdf5-sys`, and the VOL connector structs generated
//! by bindgen from HDF5 1.14's own headers (`scripts/gen-bindings.sh`), whose layout bindgen's
//! compile-time assertions check against C.
pub mod filter_plugins;
pub mod h5z;
pub mod huge_pages;
pub mod loader;
pub mod mpi;
pub mod vol_bindings;
pub use hdf5_sys as h5;
