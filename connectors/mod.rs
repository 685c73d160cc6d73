//! Storage backends behind the `VolBackend` trait.
pub mod memory;

use crate::backend::VolBackend;
use crate::config::{BackendKind, Config};
use crate::error::{Area, Result, VolError};
use std::sync::Arc;

/// The backend an info string selects. The memory store is one per process, so a file closed
/// and reopened under any info string naming `backend=memory` sees the same data.
pub fn backend_for(cfg: &Config) -> Result<Arc<dyn VolBackend>> {
    match &cfg.backend {
        BackendKind::Memory => Ok(memory::MemoryBackend::global()),
        other => Err(VolError::new(
            Area::Config,
            format!("rustvol: backend {other:?} is not built into this plugin"),
        )),
    }
}
