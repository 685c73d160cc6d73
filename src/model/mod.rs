//! HDF5 semantics written once for every backend, in safe Rust.
pub mod allocation;
pub mod chunk_cache;
pub mod chunks;
pub mod links;
pub mod name_index;
pub mod object_table;
pub mod namespace;
pub mod objects;
pub mod open_file;
pub mod parallel;
pub mod ranks;
pub mod read_cache;
pub mod dataio;
pub mod direct_io;
pub mod filters;
pub mod transform;
pub mod write_back;
