//! Storage backends behind the `VolBackend` trait, and the choice of one for a file name.
pub mod daos;
pub mod lease;
pub mod local_chunks;
pub mod lock;
pub mod memory;
pub mod metalog;
pub mod objstore;
pub mod pages;

use crate::backend::VolBackend;
use crate::bail;
use crate::config::{BackendKind, Config};
use crate::error::{Area, Result, VolError};
use dashmap::DashMap;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ClientOptions, RetryConfig};
use once_cell::sync::Lazy;
use std::sync::Arc;
use std::time::Duration;

/// A file's place: the backend that holds it and its key there.
#[derive(Clone)]
pub struct Location {
    pub backend: Arc<dyn VolBackend>,
    pub key: String,
}

/// Backends by their configuration, so clients and cached metadata logs are shared.
static BACKENDS: Lazy<DashMap<String, Arc<dyn VolBackend>>> = Lazy::new(DashMap::new);

/// Where the file `name` lives: URL names (`s3://bucket/key`, `file:///path`, `mem://name`)
/// choose their backend themselves, taking the rest (endpoint, region, ...) from `cfg`;
/// other names live in the backend `cfg` names.
pub fn resolve(cfg: &Config, name: &str) -> Result<Location> {
    if let Some(rest) = name.strip_prefix("mem://") {
        return Ok(Location { backend: memory::MemoryBackend::global(), key: rest.to_string() });
    }
    if let Some(rest) = name.strip_prefix("file://") {
        let mut c = cfg.clone();
        c.backend = BackendKind::Dir;
        c.root = Some("/".into());
        return Ok(Location { backend: backend_for(&c)?, key: rest.trim_start_matches('/').to_string() });
    }
    if let Some(rest) = name.strip_prefix("s3://") {
        let Some((bucket, key)) = rest.split_once('/') else {
            bail!(Area::File, "{name:?} names no object key after the bucket");
        };
        let mut c = cfg.clone();
        c.backend = BackendKind::S3;
        c.bucket = Some(bucket.to_string());
        c.prefix = None;
        return Ok(Location { backend: backend_for(&c)?, key: key.to_string() });
    }
    Ok(Location { backend: backend_for(cfg)?, key: name.to_string() })
}

pub fn backend_for(cfg: &Config) -> Result<Arc<dyn VolBackend>> {
    if cfg.backend == BackendKind::Memory {
        return Ok(memory::MemoryBackend::global());
    }
    // Keyed by process too: a forked child builds its own clients (its parent's connections
    // belong to the parent's I/O runtime).
    let id = format!("{}{:?}", std::process::id(), (&cfg.backend, &cfg.root, &cfg.bucket, &cfg.endpoint, &cfg.region, &cfg.prefix, cfg.concurrency, cfg.retries, cfg.timeout_secs, cfg.path_style));
    let id = format!("{id}{:?}", (&cfg.pool, &cfg.sys, &cfg.container, &cfg.oclass, cfg.lease_secs));
    if let Some(b) = BACKENDS.get(&id) {
        return Ok(b.clone());
    }
    let b: Arc<dyn VolBackend> = match cfg.backend {
        BackendKind::Dir => dir_backend(cfg)?,
        BackendKind::S3 => s3_backend(cfg)?,
        BackendKind::Daos => daos::DaosBackend::connect(cfg)?,
        BackendKind::Memory => unreachable!("handled above"),
    };
    BACKENDS.insert(id, b.clone());
    Ok(b)
}

fn dir_backend(cfg: &Config) -> Result<Arc<dyn VolBackend>> {
    let root = cfg.root.as_deref().unwrap_or(".");
    std::fs::create_dir_all(root)
        .map_err(|e| VolError::new(Area::Storage, format!("dir backend: cannot create root {root:?}: {e}")))?;
    let store = Arc::new(
        LocalFileSystem::new_with_prefix(root)
            .map_err(|e| VolError::new(Area::Storage, format!("dir backend: root {root:?}: {e}")))?,
    );
    Ok(Arc::new(objstore::ObjStoreBackend::new(
        store.clone(),
        "",
        format!("dir {root}"),
        cfg.concurrency,
        objstore::Locking::Dir(store),
    )))
}

/// Credentials come only from the standard AWS environment variables, or else from the shared
/// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`) for
/// `AWS_PROFILE` (default `default`): never from the network (instance metadata). They are
/// never logged.
fn s3_credentials() -> Option<(String, String, Option<String>)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some((key, secret, env("AWS_SESSION_TOKEN")));
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE").or_else(|| env("HOME").map(|h| format!("{h}/.aws/credentials")))?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let text = std::fs::read_to_string(file).ok()?;
    let (mut in_profile, mut key, mut secret, mut token) = (false, None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_profile = line.trim_matches(|c| c == '[' || c == ']').trim() == profile;
        } else if in_profile {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim().to_string();
                match k.trim() {
                    "aws_access_key_id" => key = Some(v),
                    "aws_secret_access_key" => secret = Some(v),
                    "aws_session_token" => token = Some(v),
                    _ => {}
                }
            }
        }
    }
    Some((key?, secret?, token))
}

fn s3_backend(cfg: &Config) -> Result<Arc<dyn VolBackend>> {
    Ok(s3_store(cfg)?)
}

/// A new client of the S3 store `cfg` names, as its concrete type (tests write files of
/// older format versions through it).
#[doc(hidden)]
pub fn s3_store(cfg: &Config) -> Result<Arc<objstore::ObjStoreBackend>> {
    let bucket = cfg.bucket.clone().expect("validated: s3 has a bucket");
    let timeout = Duration::from_secs(cfg.timeout_secs);
    let endpoint = cfg.endpoint.clone().unwrap_or_else(|| "AWS".into());
    let Some((key, secret, token)) = s3_credentials() else {
        bail!(
            Area::Config,
            "s3 bucket {bucket:?} at {endpoint}: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials)"
        );
    };
    // Built from nothing but what is named here: no other AWS_* variable redirects it.
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_access_key_id(key)
        .with_secret_access_key(secret)
        .with_virtual_hosted_style_request(!cfg.path_style)
        .with_retry(RetryConfig { max_retries: cfg.retries, retry_timeout: timeout, ..Default::default() })
        .with_client_options(
            ClientOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(timeout.min(Duration::from_secs(5)))
                .with_allow_http(cfg.endpoint.as_deref().is_some_and(|e| e.starts_with("http://"))),
        );
    if let Some(t) = token {
        b = b.with_token(t);
    }
    let region = cfg
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    b = b.with_region(region);
    if let Some(e) = &cfg.endpoint {
        b = b.with_endpoint(e);
    }
    let store = b
        .build()
        .map_err(|e| VolError::new(Area::Storage, format!("s3 bucket {bucket:?} at {endpoint}: {e}")))?;
    let prefix = cfg.prefix.clone().unwrap_or_default();
    Ok(Arc::new(objstore::ObjStoreBackend::new(
        Arc::new(store),
        &prefix,
        format!("s3 bucket {bucket:?} at {endpoint}"),
        cfg.concurrency,
        objstore::Locking::Lease(Duration::from_secs(cfg.lease_secs)),
    )))
}
