//! Stages run through HDF5's own filter classes (`ffi::h5z`): scale-offset, N-bit, szip when
//! HDF5 has it, plugins, and filters the program registered. Each runs with the parameters its
//! class's "set local" callback gave when the dataset was created, so a chunk holds exactly
//! the bytes native HDF5 would store for it.
use crate::error::{Area, Result, VolError};
use crate::ffi::h5z;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One stage of a pipeline run through HDF5's filter class for `id`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClassFilter {
    pub id: i32,
    /// The name the creation list gives the filter (for messages).
    #[serde(default)]
    pub name: String,
    /// HDF5's filter flags (`H5Z_FLAG_OPTIONAL`).
    pub flags: u32,
    /// Client data, as "set local" left it.
    pub cd: Vec<u32>,
}

impl ClassFilter {
    pub fn optional(&self) -> bool {
        self.flags & h5z::FLAG_OPTIONAL != 0
    }

    fn label(&self) -> String {
        if self.name.is_empty() {
            format!("filter {}", self.id)
        } else {
            format!("filter {} ('{}')", self.id, self.name)
        }
    }

    /// The stored form of `data` through this stage; None when the stage is skipped, as HDF5
    /// skips an optional filter that is not available or fails (the chunk's filter mask then
    /// says so).
    pub fn encode(&self, data: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(class) = h5z::class(self.id) else {
            if self.optional() {
                note_once(self.id, format!("optional {} is not available: chunks are stored without it, as HDF5 does", self.label()));
                return Ok(None);
            }
            return Err(VolError::new(Area::Dataset, format!("required {} is not registered", self.label())));
        };
        match class.run(self.flags & 0xff, &self.cd, data) {
            Some(out) => Ok(Some(out)),
            None if self.optional() => {
                note_once(self.id, format!("optional {} failed on a chunk: that chunk is stored without it, as HDF5 does", self.label()));
                Ok(None)
            }
            None => Err(VolError::new(Area::Dataset, format!("{} returned failure", self.label()))),
        }
    }

    /// The bytes this stage was given, from its output.
    pub fn decode(&self, data: &[u8]) -> Result<Vec<u8>> {
        let Some(class) = h5z::class(self.id) else {
            return Err(VolError::new(Area::Dataset, format!("required {} is not registered: HDF5 cannot load it", self.label())));
        };
        class
            .run(h5z::FLAG_REVERSE | (self.flags & 0xff), &self.cd, data)
            .ok_or_else(|| VolError::new(Area::Dataset, format!("{} returned failure during read", self.label())))
    }
}

/// Logs `what` the first time it happens to filter `id` in this process.
fn note_once(id: i32, what: String) {
    static SEEN: Mutex<Option<HashSet<i32>>> = Mutex::new(None);
    if SEEN.lock().get_or_insert_with(HashSet::new).insert(id) {
        log::warn!("{what}");
    }
}
