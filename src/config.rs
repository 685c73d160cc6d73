//! The info string (`HDF5_VOL_CONNECTOR="rustvol <info>"`, `--vol-info`, `H5Pset_fapl_rustvol`),
//! parsed once into a typed configuration. Unknown keys and bad values are errors that name
//! the offending key and list what is valid.
use crate::error::{Area, Result, VolError};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BackendKind {
    Memory,
    Dir,
    S3,
    Daos,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Config {
    pub backend: BackendKind,
    pub root: Option<String>,
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub prefix: Option<String>,
    pub pool: Option<String>,
    pub sys: Option<String>,
    pub container: Option<String>,
    /// DAOS object class of dataset chunks (a name libdaos knows, e.g. `SX`, `EC_4P2GX`).
    pub oclass: Option<String>,
    pub log: Option<String>,
    /// Requests of one H5Dread/H5Dwrite in flight at once.
    pub concurrency: usize,
    /// Attempts after a failed request, with exponential backoff.
    pub retries: usize,
    /// Seconds before a request (with its retries) gives up.
    pub timeout_secs: u64,
    /// s3/daos: seconds an opener's lease lasts past its last renewal (`connectors::lease`).
    pub lease_secs: u64,
    /// S3 path-style addressing (`endpoint/bucket/key`), as self-hosted stores need.
    pub path_style: bool,
    /// The info string this was parsed from (to hand the same configuration back to HDF5).
    pub source: String,
}

pub const KEYS: &[(&str, &str)] = &[
    ("backend", "memory (default) | dir | s3 | daos"),
    ("root", "dir: directory holding the store"),
    ("bucket", "s3: bucket name"),
    ("endpoint", "s3: endpoint URL, e.g. http://127.0.0.1:3900"),
    ("region", "s3: region"),
    ("prefix", "s3: key prefix inside the bucket"),
    ("pool", "daos: pool label or UUID"),
    ("sys", "daos: system name"),
    ("container", "daos: one fixed container instead of one per file"),
    ("oclass", "daos: object class of dataset chunks, e.g. SX, RP_3GX, EC_4P2GX (default: DAOS chooses)"),
    ("log", "log level: error | warn | info | debug | trace"),
    ("concurrency", "dir/s3/daos: requests in flight per read or write (default 32)"),
    ("retries", "s3: retries of a failed request, with backoff (default 3)"),
    ("timeout", "s3: seconds before a request gives up (default 30)"),
    ("lease", "s3/daos: seconds a killed opener's lease keeps the file locked (default 30)"),
    ("path_style", "s3: true (default) | false for virtual-hosted-style addressing"),
];

fn valid_keys() -> String {
    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            backend: BackendKind::Memory,
            root: None,
            bucket: None,
            endpoint: None,
            region: None,
            prefix: None,
            pool: None,
            sys: None,
            container: None,
            oclass: None,
            log: None,
            concurrency: 32,
            retries: 3,
            timeout_secs: 30,
            lease_secs: 30,
            path_style: true,
            source: String::new(),
        }
    }
}

fn bad(msg: String) -> VolError {
    VolError::new(Area::Config, msg)
}

fn number(key: &str, value: &str, min: u64, max: u64) -> Result<u64> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(format!("rustvol info string: {key}={value:?} is not a number from {min} to {max}"))),
    }
}

impl Config {
    /// Parses `key=value` pairs separated by `;` or whitespace. An empty string is the default
    /// (`backend=memory`).
    pub fn parse(info: &str) -> Result<Config> {
        let mut cfg = Config { source: info.trim().to_string(), ..Config::default() };
        for item in info.split(|c: char| c == ';' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(bad(format!(
                    "rustvol info string: {item:?} is not key=value (valid keys: {})",
                    valid_keys()
                )));
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().to_string();
            if value.is_empty() {
                return Err(bad(format!("rustvol info string: key {key:?} has an empty value")));
            }
            match key.as_str() {
                "backend" => {
                    cfg.backend = match value.to_ascii_lowercase().as_str() {
                        "memory" | "mem" => BackendKind::Memory,
                        "dir" | "directory" | "local" => BackendKind::Dir,
                        "s3" => BackendKind::S3,
                        "daos" => BackendKind::Daos,
                        other => {
                            return Err(bad(format!(
                                "rustvol info string: backend={other:?} is not a backend (valid: memory, dir, s3, daos)"
                            )))
                        }
                    }
                }
                "root" => cfg.root = Some(value),
                "concurrency" => cfg.concurrency = number(&key, &value, 1, 1024)? as usize,
                "retries" => cfg.retries = number(&key, &value, 0, 100)? as usize,
                "timeout" => cfg.timeout_secs = number(&key, &value, 1, 3600)?,
                "lease" => cfg.lease_secs = number(&key, &value, 1, 86400)?,
                "path_style" => {
                    cfg.path_style = match value.to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        other => return Err(bad(format!("rustvol info string: path_style={other:?} is not true or false"))),
                    }
                }
                "bucket" => cfg.bucket = Some(value),
                "endpoint" => cfg.endpoint = Some(value),
                "region" => cfg.region = Some(value),
                "prefix" => cfg.prefix = Some(value),
                "pool" => cfg.pool = Some(value),
                "sys" => cfg.sys = Some(value),
                "container" => cfg.container = Some(value),
                "oclass" => {
                    let name = value.to_ascii_uppercase();
                    let name = name.strip_prefix("OC_").unwrap_or(&name).to_string();
                    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Err(bad(format!("rustvol info string: oclass={value:?} is not a DAOS object class name (e.g. SX, RP_3GX, EC_4P2GX)")));
                    }
                    cfg.oclass = Some(name)
                }
                "log" => match value.to_ascii_lowercase().as_str() {
                    "error" | "warn" | "info" | "debug" | "trace" | "off" => cfg.log = Some(value),
                    other => {
                        return Err(bad(format!(
                            "rustvol info string: log={other:?} is not a level (valid: off, error, warn, info, debug, trace)"
                        )))
                    }
                },
                other => {
                    return Err(bad(format!(
                        "rustvol info string: unknown key {other:?} (valid keys: {})",
                        valid_keys()
                    )))
                }
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<()> {
        match self.backend {
            BackendKind::Memory => Ok(()),
            BackendKind::Dir if self.root.is_none() => {
                Err(bad("rustvol info string: backend=dir needs root=<directory>".into()))
            }
            BackendKind::S3 if self.bucket.is_none() => {
                Err(bad("rustvol info string: backend=s3 needs bucket=<name>".into()))
            }
            BackendKind::Daos if self.pool.is_none() => {
                Err(bad("rustvol info string: backend=daos needs pool=<label>".into()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_memory() {
        assert_eq!(Config::parse("").unwrap().backend, BackendKind::Memory);
        assert_eq!(Config::parse("  ").unwrap(), Config::default());
    }

    #[test]
    fn separators_semicolon_and_space() {
        let c = Config::parse("backend=dir;root=/tmp/x log=debug").unwrap();
        assert_eq!(c.backend, BackendKind::Dir);
        assert_eq!(c.root.as_deref(), Some("/tmp/x"));
        assert_eq!(c.log.as_deref(), Some("debug"));
    }

    #[test]
    fn unknown_key_is_named_with_valid_keys() {
        let e = Config::parse("backend=memory;colour=red").unwrap_err();
        assert!(e.msg.contains("\"colour\""), "{}", e.msg);
        assert!(e.msg.contains("bucket"), "{}", e.msg);
    }

    #[test]
    fn bad_backend_and_missing_requirements() {
        assert!(Config::parse("backend=tape").unwrap_err().msg.contains("tape"));
        assert!(Config::parse("backend=dir").unwrap_err().msg.contains("root"));
        assert!(Config::parse("noequals").unwrap_err().msg.contains("noequals"));
    }
}
