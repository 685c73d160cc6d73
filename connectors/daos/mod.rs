//! Files in a DAOS pool (`backend=daos;pool=<label>`), through libdaos loaded at run time
//! (`ffi`, `io`; `RUSTVOL_DAOS_LIB` overrides the library). docs/daos.md has the operator's
//! view; this is the mapping:
//!
//! - **Container**: one per HDF5 file, labelled after the file's name (`container_label`), or
//!   with `container=<label>` one container for every file, where a directory object maps
//!   file names to 31-bit file numbers.
//! - **File object** (user id bits `hi = 0x8000_0000 | file number`, `lo = 0`):
//!   dkey `info` holds the file's name, format and the DAOS id bits of its chunk objects;
//!   dkey `log` holds the metadata log (`connectors/metalog.rs`): one single value per blob
//!   (`manifest.json`, `meta/<generation>.seg`). Replacing one single value is atomic in DAOS,
//!   so the manifest is the file's commit point. With `container=`, dkey `objects` lists the
//!   objects that hold chunks, so deleting a file can find them.
//! - **HDF5 objects**: the object with id bits `hi = file number`, `lo = token` (the trait's
//!   `ObjId`). Each chunk version is one dkey, `<c0>_<c1>_….<version>`; akey `size` is its
//!   length (single value), akey `data` its bytes (an array of 1-byte records at 0..size),
//!   both written in one update. The chunk requests of a read, write or delete are issued
//!   together on a DAOS event queue, `concurrency` in flight.
//! - **Object classes**: chunk objects get `oclass=` (or, unset, DAOS's choice from the
//!   container's redundancy factor, spread over all targets), resolved once when the file is
//!   created and kept in `info`, so every later open addresses the same objects. The file
//!   and directory objects use the container's default redundancy with a single group.
mod ffi;
mod io;

use self::ffi::*;
use self::io::{api, daos_bits, oclass_id, run_batch, Cont, DResult, DaosErr, IoOp, Obj, Pool, Value, Want};
use super::metalog::{BlobStore, MetaLog};
use crate::backend::{ChunkKey, MetaCommit, MetaSnapshot, ObjId, VolBackend};
use crate::bail;
use crate::config::Config;
use crate::error::{Area, Result, VolError};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What `info`'s `format` akey says.
const FORMAT: &[u8] = b"rustvol-daos 1";
/// User id bit of the file and directory objects (HDF5 objects never have it).
const META_OBJ: u32 = 0x8000_0000;
/// Highest file number in a shared container (31 bits).
const MAX_FILENO: u32 = 0x7fff_ffff;
const DKEY_INFO: &[u8] = b"info";
const DKEY_LOG: &[u8] = b"log";
const DKEY_OBJECTS: &[u8] = b"objects";
const AKEY_FORMAT: &[u8] = b"format";
const AKEY_NAME: &[u8] = b"name";
const AKEY_CHUNK_OID: &[u8] = b"chunk_oid";
const AKEY_SIZE: &[u8] = b"size";
const AKEY_DATA: &[u8] = b"data";
/// Files kept open (container and object handles) per backend; the least recently used one
/// is closed past this.
const MAX_OPEN_FILES: usize = 64;

/// The container label of a file: its name (leading `/` and `.` parts dropped) when that is
/// a valid DAOS label (`[A-Za-z0-9_.:-]`, at most 127 characters, not a UUID), else the name
/// with other characters replaced by `_`, cut to 110 characters, then `-` and 16 hex digits
/// of a hash of the whole name. The file object keeps the name, so a collision is detected.
pub fn container_label(file: &str) -> Result<String> {
    let name = normalize(file)?;
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
    if name.len() <= DAOS_PROP_LABEL_MAX_LEN && name.chars().all(ok) && !looks_like_uuid(&name) {
        return Ok(name);
    }
    let mut s: String = name.chars().map(|c| if ok(c) { c } else { '_' }).collect();
    let mut cut = 110.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    Ok(format!("{s}-{:016x}", fnv1a(name.as_bytes())))
}

/// A file name as the store sees it: `/`-separated parts without empty and `.` parts.
fn normalize(file: &str) -> Result<String> {
    let mut parts = Vec::new();
    for c in file.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if c == ".." {
            bail!(Area::File, "file name {file:?} may not contain \"..\"");
        }
        parts.push(c);
    }
    if parts.is_empty() {
        bail!(Area::File, "file name {file:?} is empty");
    }
    Ok(parts.join("/"))
}

fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3))
}

fn chunk_dkey(k: &ChunkKey) -> Vec<u8> {
    format!("{}.{}", crate::model::objects::chunk_name(&k.coords), k.version).into_bytes()
}

enum Layout {
    /// One container per file.
    PerFile,
    /// Every file in one container, named in a directory object.
    Shared { cont: Arc<Cont>, dir: Obj },
}

/// One file's open handles.
struct FileCtx {
    fileno: u32,
    file_obj: Obj,
    /// DAOS id bits (high 32 of `hi`) of the file's chunk objects.
    chunk_bits: u64,
    cont: Arc<Cont>,
    objs: Mutex<HashMap<ObjId, Arc<Obj>>>,
    /// Objects already listed under `objects` (shared container only).
    registered: Mutex<HashSet<ObjId>>,
    /// Last chunk length seen per object: how much to fetch in the first request.
    len_hint: Mutex<HashMap<ObjId, usize>>,
    last_use: AtomicU64,
}

impl FileCtx {
    fn obj(&self, id: ObjId) -> DResult<Arc<Obj>> {
        if let Some(o) = self.objs.lock().get(&id) {
            return Ok(o.clone());
        }
        let oid = daos_obj_id_t { lo: id, hi: self.chunk_bits | self.fileno as u64 };
        let o = Arc::new(self.cont.open_obj(oid)?);
        self.objs.lock().insert(id, o.clone());
        Ok(o)
    }

    /// The open handles of the given objects.
    fn objs_for(&self, ids: impl Iterator<Item = ObjId>) -> DResult<HashMap<ObjId, Arc<Obj>>> {
        let mut objs = HashMap::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(v) = objs.entry(id) {
                v.insert(self.obj(id)?);
            }
        }
        Ok(objs)
    }
}

#[derive(Default)]
struct Counts {
    fetch: AtomicU64,
    update: AtomicU64,
    punch: AtomicU64,
    list: AtomicU64,
}

pub struct DaosBackend {
    label: String,
    pool: Arc<Pool>,
    layout: Layout,
    /// Object class of new files' chunk objects (0: DAOS chooses).
    oclass: daos_oclass_id_t,
    concurrency: usize,
    files: Mutex<HashMap<String, Arc<FileCtx>>>,
    tick: AtomicU64,
    meta: MetaLog,
    counts: Counts,
    /// How long an opener's lease lasts past its last renewal.
    lease_ttl: std::time::Duration,
    /// The object holding every file's leases (`LEASE_CONT`), opened at the first lock.
    leases: Mutex<Option<Arc<Obj>>>,
    /// This backend, for readers of metadata pages that outlive a call (`SegmentReads`).
    me: std::sync::Weak<DaosBackend>,
}

/// The container of the pool's leases (`connectors::lease`): outside the files' own
/// containers, so a lease stays put while a create replaces the file's container, and exists
/// before the file does.
const LEASE_CONT: &str = "rustvol-leases";

/// A file's leases in the lease object: dkey `lease:<name>`, one akey per lease, its value the
/// holder's clock (milliseconds since 1970, little-endian) at its last renewal. DAOS needs
/// the clocks of its nodes in step (its epochs come from them), so they compare.
struct DaosRoom {
    obj: Arc<Obj>,
    dkey: Vec<u8>,
    label: String,
}

impl DaosRoom {
    fn err(&self, e: DaosErr) -> VolError {
        VolError::new(Area::Storage, format!("{}: leases: {e}", self.label))
    }
}

impl super::lease::LeaseRoom for DaosRoom {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn put(&self, name: &str) -> Result<Option<VolError>> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        match self.obj.put_singles(&self.dkey, vec![(name.as_bytes().to_vec(), now.to_le_bytes().to_vec())], 0) {
            Ok(()) => Ok(None),
            Err(e) if e.is(DER_NO_PERM) => Ok(Some(self.err(e))),
            Err(e) => Err(self.err(e)),
        }
    }

    fn list(&self) -> Result<Vec<(String, i64)>> {
        let akeys = match self.obj.list_akeys(&self.dkey) {
            Err(e) if e.is(DER_NONEXIST) => return Ok(Vec::new()),
            r => r.map_err(|e| self.err(e))?,
        };
        let values = self.obj.get_singles(&self.dkey, &akeys).map_err(|e| self.err(e))?;
        Ok(akeys
            .into_iter()
            .zip(values)
            .filter_map(|(a, v)| Some((String::from_utf8(a).ok()?, i64::from_le_bytes(v?.try_into().ok()?))))
            .collect())
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.obj.punch_akeys(&self.dkey, &[name.as_bytes().to_vec()]).map_err(|e| self.err(e))
    }
}

fn meta_oid(cont: &Cont, fileno: u32, lo: u64) -> DResult<daos_obj_id_t> {
    cont.generate_oid(META_OBJ | fileno, lo, OC_UNKNOWN, DAOS_OCH_RDD_DEF | DAOS_OCH_SHD_TINY)
}

impl DaosBackend {
    /// Loads libdaos, connects to the pool, and with `container=` opens (or creates) the
    /// shared container.
    pub fn connect(cfg: &Config) -> Result<Arc<dyn VolBackend>> {
        let pool_name = cfg.pool.clone().expect("validated: daos has a pool");
        let api = api().map_err(|e| VolError::new(Area::Config, e))?;
        let mut label = format!("daos pool {pool_name:?}");
        if let Some(s) = &cfg.sys {
            label.push_str(&format!(" (system {s:?})"));
        }
        let oclass = match cfg.oclass.as_deref() {
            None => OC_UNKNOWN,
            Some(name) => match oclass_id(api, name) {
                Some(id) => id,
                None => bail!(Area::Config, "rustvol info string: oclass={name:?} is not a DAOS object class (e.g. SX, S1, RP_3GX, EC_4P2GX)"),
            },
        };
        if let Some(c) = &cfg.container {
            label.push_str(&format!(", container {c:?}"));
        }
        let fail = |e: DaosErr| VolError::new(Area::Storage, format!("{label}: {e}"));
        let pool = Arc::new(Pool::connect(api, &pool_name, cfg.sys.as_deref()).map_err(fail)?);
        let layout = match &cfg.container {
            None => Layout::PerFile,
            Some(c) => {
                let cont = match pool.open_cont(c) {
                    Err(e) if e.is(DER_NONEXIST) => {
                        match pool.create_cont(c) {
                            Ok(()) => {}
                            Err(e) if e.is(DER_EXIST) => {}
                            Err(e) => return Err(fail(e)),
                        }
                        pool.open_cont(c).map_err(fail)?
                    }
                    r => r.map_err(fail)?,
                };
                let cont = Arc::new(cont);
                let dir = cont.open_obj(meta_oid(&cont, 0, 1).map_err(fail)?).map_err(fail)?;
                Layout::Shared { cont, dir }
            }
        };
        Ok(Arc::new_cyclic(|me| DaosBackend {
            me: me.clone(),
            label,
            pool,
            layout,
            oclass,
            concurrency: cfg.concurrency.max(1),
            files: Mutex::new(HashMap::new()),
            tick: AtomicU64::new(0),
            meta: MetaLog::default(),
            counts: Counts::default(),
            lease_ttl: std::time::Duration::from_secs(cfg.lease_secs),
            leases: Mutex::new(None),
        }))
    }

    fn lease_obj(&self) -> DResult<Arc<Obj>> {
        let mut held = self.leases.lock();
        if let Some(o) = held.as_ref() {
            return Ok(o.clone());
        }
        let cont = match self.pool.open_cont(LEASE_CONT) {
            Err(e) if e.is(DER_NONEXIST) => {
                match self.pool.create_cont(LEASE_CONT) {
                    Ok(()) => {}
                    Err(e) if e.is(DER_EXIST) => {}
                    Err(e) => return Err(e),
                }
                self.pool.open_cont(LEASE_CONT)?
            }
            r => r?,
        };
        let cont = Arc::new(cont);
        let obj = Arc::new(cont.open_obj(meta_oid(&cont, 0, 2)?)?);
        *held = Some(obj.clone());
        Ok(obj)
    }

    fn verr(&self, file: &str, e: DaosErr) -> VolError {
        VolError::new(Area::Storage, format!("{}, file {file:?}: {e}", self.label))
    }

    // --- the shared container's directory ------------------------------------------------------

    fn dir_lookup(dir: &Obj, name: &str) -> DResult<Option<u32>> {
        let v = dir.get_singles(format!("file:{name}").as_bytes(), &[b"num".to_vec()])?;
        Ok(v.into_iter().next().flatten().and_then(|b| b.try_into().ok()).map(u32::from_le_bytes))
    }

    /// Gives `name` a file number: the first slot, from one its name hashes to, that a
    /// conditional insert claims (or that already names it).
    fn dir_claim(dir: &Obj, name: &str) -> DResult<u32> {
        let mut n = (fnv1a(name.as_bytes()) % MAX_FILENO as u64) as u32 + 1;
        let mut claimed = false;
        for _ in 0..10_000 {
            let slot = format!("num:{n}").into_bytes();
            match dir.put_singles(&slot, vec![(AKEY_NAME.to_vec(), name.as_bytes().to_vec())], DAOS_COND_DKEY_INSERT) {
                Ok(()) => claimed = true,
                Err(e) if e.is(DER_EXIST) => {
                    let cur = dir.get_singles(&slot, &[AKEY_NAME.to_vec()])?.pop().flatten();
                    claimed = cur.as_deref() == Some(name.as_bytes());
                }
                Err(e) => return Err(e),
            }
            if claimed {
                break;
            }
            n = n % MAX_FILENO + 1;
        }
        if !claimed {
            return Err(DaosErr::new(-DER_EXIST, format!("no free file number for {name:?} in the directory object")));
        }
        dir.put_singles(format!("file:{name}").as_bytes(), vec![(b"num".to_vec(), n.to_le_bytes().to_vec())], 0)?;
        Ok(n)
    }

    // --- files ---------------------------------------------------------------------------------

    /// Opens a file's handles; `None` when the file does not exist (or was never completely
    /// created).
    fn open_ctx(&self, name: &str) -> Result<Option<FileCtx>> {
        let err = |e: DaosErr| self.verr(name, e);
        let (cont, fileno) = match &self.layout {
            Layout::PerFile => {
                let label = container_label(name)?;
                match self.pool.open_cont(&label) {
                    Err(e) if e.is(DER_NONEXIST) => return Ok(None),
                    r => (Arc::new(r.map_err(err)?), 0),
                }
            }
            Layout::Shared { cont, dir } => match Self::dir_lookup(dir, name).map_err(err)? {
                None => return Ok(None),
                Some(n) => (cont.clone(), n),
            },
        };
        let file_obj = cont.open_obj(meta_oid(&cont, fileno, 0).map_err(err)?).map_err(err)?;
        self.counts.fetch.fetch_add(2, Relaxed);
        let info = file_obj
            .get_singles(DKEY_INFO, &[AKEY_FORMAT.to_vec(), AKEY_NAME.to_vec(), AKEY_CHUNK_OID.to_vec()])
            .map_err(err)?;
        let [format, stored, chunk] = <[Option<Vec<u8>>; 3]>::try_from(info).expect("three answers");
        let Some(format) = format else { return Ok(None) };
        if format != FORMAT {
            bail!(Area::Storage, "{}: container {:?} holds {:?}, not a rustvol file", self.label, cont.label, String::from_utf8_lossy(&format));
        }
        if let Some(stored) = &stored {
            if stored != name.as_bytes() {
                bail!(
                    Area::Storage,
                    "{}: container {:?} holds the file {:?}, not {name:?} (their labels collide; rename one)",
                    self.label,
                    cont.label,
                    String::from_utf8_lossy(stored)
                );
            }
        }
        let Some(chunk_bits) = chunk.and_then(|b| b.try_into().ok()).map(u64::from_le_bytes) else {
            bail!(Area::Storage, "{}: file {name:?}: its info record has no valid chunk object id", self.label);
        };
        Ok(Some(FileCtx {
            fileno,
            file_obj,
            chunk_bits,
            cont,
            objs: Mutex::new(HashMap::new()),
            registered: Mutex::new(HashSet::new()),
            len_hint: Mutex::new(HashMap::new()),
            last_use: AtomicU64::new(0),
        }))
    }

    fn remember(&self, name: &str, ctx: FileCtx) -> Arc<FileCtx> {
        let ctx = Arc::new(ctx);
        ctx.last_use.store(self.tick.fetch_add(1, Relaxed), Relaxed);
        let mut files = self.files.lock();
        files.insert(name.to_string(), ctx.clone());
        if files.len() > MAX_OPEN_FILES {
            if let Some(oldest) = files.iter().min_by_key(|(_, c)| c.last_use.load(Relaxed)).map(|(k, _)| k.clone()) {
                files.remove(&oldest);
            }
        }
        ctx
    }

    fn ctx(&self, file: &str) -> Result<Option<Arc<FileCtx>>> {
        let name = normalize(file)?;
        if let Some(c) = self.files.lock().get(&name) {
            c.last_use.store(self.tick.fetch_add(1, Relaxed), Relaxed);
            return Ok(Some(c.clone()));
        }
        Ok(self.open_ctx(&name)?.map(|c| self.remember(&name, c)))
    }

    /// `ctx`, but in a shared container first checking that the directory still gives the
    /// cached file number (another process may have deleted the file and created it anew).
    /// One container per file needs no check: a container destroyed under an open handle
    /// makes DAOS refuse the handle, which `with_ctx` handles.
    fn checked_ctx(&self, file: &str) -> Result<Option<Arc<FileCtx>>> {
        if let Layout::Shared { dir, .. } = &self.layout {
            let name = normalize(file)?;
            let cached = self.files.lock().get(&name).map(|c| c.fileno);
            if let Some(n) = cached {
                self.counts.fetch.fetch_add(2, Relaxed);
                if Self::dir_lookup(dir, &name).map_err(|e| self.verr(file, e))? != Some(n) {
                    self.forget_ctx(file);
                }
            }
        }
        self.ctx(file)
    }

    fn forget_ctx(&self, file: &str) {
        if let Ok(name) = normalize(file) {
            self.files.lock().remove(&name);
        }
    }

    /// Runs `f` on the file's handles; when DAOS says they went stale (the container was
    /// destroyed and maybe created again, by this or another process), reopens once and
    /// runs it again.
    fn with_ctx<T>(&self, file: &str, f: impl Fn(&FileCtx) -> DResult<T>) -> Result<T> {
        let missing = || VolError::new(Area::Storage, format!("{}: no file named {file:?}", self.label));
        let ctx = self.ctx(file)?.ok_or_else(missing)?;
        match f(&ctx) {
            Err(e) if e.is_stale() => {
                drop(ctx);
                self.forget_ctx(file);
                let ctx = self.ctx(file)?.ok_or_else(missing)?;
                f(&ctx).map_err(|e| self.verr(file, e))
            }
            r => r.map_err(|e| self.verr(file, e)),
        }
    }

    /// Whether container `label` exists and holds a rustvol file (false: no such container).
    /// A container that exists without rustvol's `info` record is someone else's dataset (or
    /// a create that died half-way): rustvol never destroys it, and says so.
    fn holds_rustvol_file(&self, name: &str, label: &str) -> Result<bool> {
        let err = |e: DaosErr| self.verr(name, e);
        let cont = match self.pool.open_cont(label) {
            Err(e) if e.is(DER_NONEXIST) => return Ok(false),
            r => Arc::new(r.map_err(err)?),
        };
        let obj = cont.open_obj(meta_oid(&cont, 0, 0).map_err(err)?).map_err(err)?;
        let format = obj.get_singles(DKEY_INFO, &[AKEY_FORMAT.to_vec()]).map_err(err)?.pop().flatten();
        if format.as_deref() == Some(FORMAT) {
            return Ok(true);
        }
        bail!(
            Area::Storage,
            "{}: container {label:?} exists but holds no rustvol file, so rustvol will not replace or destroy it \
             (remove it with `daos container destroy {} {label}` if it is not needed, or use another file name)",
            self.label,
            self.pool.label
        )
    }

    /// Removes everything of file `name` (number `n`) from the shared container: its
    /// directory entry first (the file is then gone), its objects, then its number.
    fn purge_shared(&self, cont: &Arc<Cont>, dir: &Obj, name: &str, n: u32) -> DResult<()> {
        dir.punch_dkey(format!("file:{name}").as_bytes())?;
        let file_obj = cont.open_obj(meta_oid(cont, n, 0)?)?;
        let chunk = file_obj.get_singles(DKEY_INFO, &[AKEY_CHUNK_OID.to_vec()])?.pop().flatten();
        if let Some(bits) = chunk.and_then(|b| b.try_into().ok()).map(u64::from_le_bytes) {
            self.counts.list.fetch_add(1, Relaxed);
            for id in file_obj.list_akeys(DKEY_OBJECTS)? {
                let Ok(id) = <[u8; 8]>::try_from(id.as_slice()) else { continue };
                let o = cont.open_obj(daos_obj_id_t { lo: u64::from_le_bytes(id), hi: bits | n as u64 })?;
                self.counts.punch.fetch_add(1, Relaxed);
                o.punch()?;
            }
        }
        self.counts.punch.fetch_add(2, Relaxed);
        file_obj.punch()?;
        dir.punch_dkey(format!("num:{n}").as_bytes())
    }

    fn create(&self, name: &str) -> Result<()> {
        let err = |e: DaosErr| self.verr(name, e);
        self.forget_ctx(name);
        let (cont, fileno) = match &self.layout {
            Layout::PerFile => {
                let label = container_label(name)?;
                if self.holds_rustvol_file(name, &label)? {
                    match self.pool.destroy_cont(&label, true) {
                        Err(e) if !e.is(DER_NONEXIST) => return Err(err(e)),
                        _ => {}
                    }
                }
                self.pool.create_cont(&label).map_err(err)?;
                (Arc::new(self.pool.open_cont(&label).map_err(err)?), 0)
            }
            Layout::Shared { cont, dir } => {
                if let Some(n) = Self::dir_lookup(dir, name).map_err(err)? {
                    self.purge_shared(cont, dir, name, n).map_err(err)?;
                }
                (cont.clone(), Self::dir_claim(dir, name).map_err(err)?)
            }
        };
        let file_obj = cont.open_obj(meta_oid(&cont, fileno, 0).map_err(err)?).map_err(err)?;
        if fileno != 0 {
            // A number can be reused: drop whatever an interrupted writer left under it.
            file_obj.punch().map_err(err)?;
        }
        let hints = if self.oclass == OC_UNKNOWN { DAOS_OCH_RDD_DEF | DAOS_OCH_SHD_MAX } else { 0 };
        let chunk_bits = daos_bits(cont.generate_oid(fileno, 0, self.oclass, hints).map_err(err)?);
        self.counts.update.fetch_add(1, Relaxed);
        file_obj
            .put_singles(
                DKEY_INFO,
                vec![
                    (AKEY_FORMAT.to_vec(), FORMAT.to_vec()),
                    (AKEY_NAME.to_vec(), name.as_bytes().to_vec()),
                    (AKEY_CHUNK_OID.to_vec(), chunk_bits.to_le_bytes().to_vec()),
                ],
                0,
            )
            .map_err(err)?;
        let ctx = FileCtx {
            fileno,
            file_obj,
            chunk_bits,
            cont,
            objs: Mutex::new(HashMap::new()),
            registered: Mutex::new(HashSet::new()),
            len_hint: Mutex::new(HashMap::new()),
            last_use: AtomicU64::new(0),
        };
        self.remember(name, ctx);
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<()> {
        let err = |e: DaosErr| self.verr(name, e);
        self.forget_ctx(name);
        match &self.layout {
            Layout::PerFile => {
                let label = container_label(name)?;
                if !self.holds_rustvol_file(name, &label)? {
                    return Ok(());
                }
                match self.pool.destroy_cont(&label, true) {
                    Err(e) if !e.is(DER_NONEXIST) => Err(err(e)),
                    _ => Ok(()),
                }
            }
            Layout::Shared { cont, dir } => match Self::dir_lookup(dir, name).map_err(err)? {
                Some(n) => self.purge_shared(cont, dir, name, n).map_err(err),
                None => Ok(()),
            },
        }
    }

    fn batch(&self, ops: Vec<IoOp>) -> (Vec<IoOp>, DResult<()>) {
        let api = self.pool.api;
        run_batch(api, ops, self.concurrency, &|op: &IoOp| op.describe())
    }

    fn read_in(&self, ctx: &FileCtx, keys: &[ChunkKey]) -> DResult<Vec<Option<Vec<u8>>>> {
        let objs = ctx.objs_for(keys.iter().map(|k| k.obj))?;
        let mut out: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        // (key index, bytes to fetch with the size)
        let mut todo: Vec<(usize, usize)> = {
            let hints = ctx.len_hint.lock();
            keys.iter().enumerate().map(|(i, k)| (i, hints.get(&k.obj).copied().unwrap_or(0))).collect()
        };
        for _round in 0..4 {
            if todo.is_empty() {
                break;
            }
            let ops: Vec<IoOp> = todo
                .iter()
                .map(|&(i, guess)| {
                    let k = &keys[i];
                    let mut wants = vec![(AKEY_SIZE.to_vec(), Want::Single(8))];
                    if guess > 0 {
                        wants.push((AKEY_DATA.to_vec(), Want::Array(guess)));
                    }
                    let mut op = IoOp::fetch(&objs[&k.obj], &chunk_dkey(k), wants, 0);
                    op.tag = i;
                    op
                })
                .collect();
            self.counts.fetch.fetch_add(ops.len() as u64, Relaxed);
            let (ops, res) = self.batch(ops);
            res?;
            let mut again = Vec::new();
            for mut op in ops {
                let i = op.tag;
                let mut vals = op.take_values().into_iter();
                let size = vals.next().flatten();
                let Some(size) = size else { continue };
                let Ok(size) = <[u8; 8]>::try_from(size.as_slice()).map(u64::from_le_bytes) else {
                    return Err(DaosErr::new(-DER_INVAL, format!("{}: the chunk's size record is not 8 bytes", op.describe())));
                };
                let n = size as usize;
                ctx.len_hint.lock().insert(keys[i].obj, n);
                match vals.next().flatten() {
                    Some(mut data) if data.len() >= n => {
                        data.truncate(n);
                        out[i] = Some(data);
                    }
                    _ if n == 0 => out[i] = Some(Vec::new()),
                    _ => again.push((i, n)),
                }
            }
            todo = again;
        }
        if let Some(&(i, _)) = todo.first() {
            return Err(DaosErr::new(-DER_REC2BIG, format!("chunk {:?} of object {} kept changing size while being read", keys[i].coords, keys[i].obj)));
        }
        Ok(out)
    }

    fn write_in(&self, ctx: &FileCtx, chunks: &[(ChunkKey, bytes::Bytes)]) -> DResult<()> {
        if matches!(self.layout, Layout::Shared { .. }) {
            // List the objects first, so a delete finds them even if this writer dies.
            let new: Vec<ObjId> = {
                let reg = ctx.registered.lock();
                let mut s: Vec<ObjId> = chunks.iter().map(|(k, _)| k.obj).filter(|o| !reg.contains(o)).collect();
                s.sort_unstable();
                s.dedup();
                s
            };
            if !new.is_empty() {
                self.counts.update.fetch_add(1, Relaxed);
                ctx.file_obj.put_singles(DKEY_OBJECTS, new.iter().map(|id| (id.to_le_bytes().to_vec(), vec![1u8])).collect(), 0)?;
                ctx.registered.lock().extend(new);
            }
        }
        let objs = ctx.objs_for(chunks.iter().map(|(k, _)| k.obj))?;
        let ops: Vec<IoOp> = chunks
            .iter()
            .map(|(k, b)| {
                let mut vals = vec![(AKEY_SIZE.to_vec(), Value::Single((b.len() as u64).to_le_bytes().to_vec()))];
                if !b.is_empty() {
                    // Shares the caller's buffer: chunk data is not copied on the way to DAOS.
                    vals.push((AKEY_DATA.to_vec(), Value::Array(b.clone())));
                }
                IoOp::update(&objs[&k.obj], &chunk_dkey(k), vals, 0)
            })
            .collect();
        self.counts.update.fetch_add(ops.len() as u64, Relaxed);
        let (_, res) = self.batch(ops);
        if res.is_ok() {
            let mut hints = ctx.len_hint.lock();
            for (k, b) in chunks {
                hints.insert(k.obj, b.len());
            }
        }
        res
    }

    fn delete_in(&self, ctx: &FileCtx, keys: &[ChunkKey]) -> DResult<()> {
        let objs = ctx.objs_for(keys.iter().map(|k| k.obj))?;
        let ops: Vec<IoOp> = keys.iter().map(|k| IoOp::punch_dkey(&objs[&k.obj], &chunk_dkey(k))).collect();
        self.counts.punch.fetch_add(ops.len() as u64, Relaxed);
        self.batch(ops).1
    }
}

/// One file's metadata blobs: single values under the file object's dkey `log`.
struct Blobs<'a> {
    b: &'a DaosBackend,
    file: &'a str,
}

impl BlobStore for Blobs<'_> {
    fn label(&self) -> String {
        format!("{}, file {:?}", self.b.label, self.file)
    }

    fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let akeys: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
        self.b.counts.fetch.fetch_add(2, Relaxed);
        self.b.with_ctx(self.file, |c| c.file_obj.get_singles(DKEY_LOG, &akeys))
    }

    fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.b.counts.update.fetch_add(1, Relaxed);
        self.b.with_ctx(self.file, |c| c.file_obj.put_singles(DKEY_LOG, vec![(name.as_bytes().to_vec(), bytes.clone())], 0))
    }

    fn delete(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let akeys: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
        self.b.counts.punch.fetch_add(1, Relaxed);
        self.b.with_ctx(self.file, |c| c.file_obj.punch_akeys(DKEY_LOG, &akeys))
    }

    fn ranged(&self) -> Arc<dyn super::pages::RangeRead> {
        Arc::new(SegmentReads { b: self.b.me.clone(), file: self.file.to_string(), got: Mutex::new(HashMap::new()) })
    }
}

/// Ranged reads of a file's metadata segments: DAOS keeps each as one single value, fetched
/// whole; segments never change once written, so each is kept after its first fetch while
/// the file is open.
struct SegmentReads {
    b: std::sync::Weak<DaosBackend>,
    file: String,
    got: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl super::pages::RangeRead for SegmentReads {
    fn label(&self) -> String {
        format!("daos, file {:?}", self.file)
    }

    fn get_ranges(&self, reqs: &[(String, u64, u64)]) -> Result<Vec<Vec<u8>>> {
        let Some(b) = self.b.upgrade() else { bail!(Area::Storage, "{}: the backend is gone", self.label()) };
        let mut want: Vec<String> = reqs.iter().map(|r| r.0.clone()).filter(|n| !self.got.lock().contains_key(n)).collect();
        want.sort();
        want.dedup();
        if !want.is_empty() {
            let blobs = Blobs { b: &b, file: &self.file }.get_many(&want)?;
            for (n, v) in want.into_iter().zip(blobs) {
                let Some(v) = v else { bail!(Area::Storage, "{}: metadata segment {n} is missing", self.label()) };
                self.got.lock().insert(n, Arc::new(v));
            }
        }
        let got = self.got.lock();
        reqs.iter()
            .map(|(n, a, e)| match got.get(n).and_then(|v| v.get(*a as usize..*e as usize)) {
                Some(s) => Ok(s.to_vec()),
                None => bail!(Area::Storage, "{}: metadata segment {n} is shorter than the manifest says", self.label()),
            })
            .collect()
    }
}

impl VolBackend for DaosBackend {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn request_summary(&self) -> Option<String> {
        let c = &self.counts;
        Some(format!(
            "FETCH {} UPDATE {} PUNCH {} LIST {}",
            c.fetch.load(Relaxed),
            c.update.load(Relaxed),
            c.punch.load(Relaxed),
            c.list.load(Relaxed)
        ))
    }

    fn file_exists(&self, file: &str) -> Result<bool> {
        let probe = |c: &FileCtx| c.file_obj.single_sizes(DKEY_LOG, &[super::metalog::MANIFEST.as_bytes().to_vec()]);
        self.counts.fetch.fetch_add(1, Relaxed);
        let Some(ctx) = self.checked_ctx(file)? else { return Ok(false) };
        let sizes = match probe(&ctx) {
            Err(e) if e.is_stale() => {
                drop(ctx);
                self.forget_ctx(file);
                let Some(ctx) = self.ctx(file)? else { return Ok(false) };
                probe(&ctx).map_err(|e| self.verr(file, e))?
            }
            r => r.map_err(|e| self.verr(file, e))?,
        };
        Ok(sizes.first().is_some_and(|s| *s > 0))
    }

    fn lock_file(&self, file: &str, name: &str, req: &crate::backend::LockRequest) -> Result<Option<Box<dyn crate::backend::HeldLock>>> {
        let obj = match self.lease_obj() {
            Ok(o) => o,
            // A reader the pool does not let make or write the lease container reads unleased.
            Err(e) if e.is(DER_NO_PERM) && !req.write => {
                log::info!("{}: reading {name:?} without a lease ({e})", self.label);
                return Ok(None);
            }
            Err(e) => bail!(Area::Storage, "{}: lease container {LEASE_CONT:?}: {e}", self.label),
        };
        let room = DaosRoom { obj, dkey: format!("lease:{}", normalize(file)?).into_bytes(), label: self.label.clone() };
        Ok(Some(Box::new(super::lease::Lease::acquire(Box::new(room), name, self.lease_ttl, req)?)))
    }

    fn create_file(&self, file: &str) -> Result<()> {
        let name = normalize(file)?;
        self.create(&name).map_err(|e| VolError::new(e.area, format!("creating {file:?}: {}", e.msg)))?;
        self.meta.start(file, &Blobs { b: self, file });
        Ok(())
    }

    fn delete_file(&self, file: &str) -> Result<()> {
        self.meta.forget(file);
        self.delete(&normalize(file)?)
    }

    fn load_meta(&self, file: &str) -> Result<Option<MetaSnapshot>> {
        if self.checked_ctx(file)?.is_none() {
            return Ok(None);
        }
        self.meta.load(file, &Blobs { b: self, file })
    }

    fn commit_meta(&self, file: &str, commit: MetaCommit) -> Result<()> {
        self.meta.commit(file, &Blobs { b: self, file }, commit)
    }

    fn read_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<Vec<Option<bytes::Bytes>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let got = self.with_ctx(file, |c| self.read_in(c, keys))?;
        Ok(got.into_iter().map(|c| c.map(bytes::Bytes::from)).collect())
    }

    fn write_chunks(&self, file: &str, chunks: Vec<(ChunkKey, crate::chunk_buf::ChunkBuf)>) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let chunks: Vec<(ChunkKey, bytes::Bytes)> = chunks.into_iter().map(|(k, b)| (k, b.into_bytes())).collect();
        self.with_ctx(file, |c| self.write_in(c, &chunks))
    }

    fn delete_chunks(&self, file: &str, keys: &[ChunkKey]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.with_ctx(file, |c| self.delete_in(c, keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_valid_and_distinct() {
        assert_eq!(container_label("run1.h5").unwrap(), "run1.h5");
        assert_eq!(container_label("/./run1.h5").unwrap(), "run1.h5");
        let a = container_label("data/run1.h5").unwrap();
        let b = container_label("data_run1.h5").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("data_run1.h5-") && a.len() == "data_run1.h5-".len() + 16, "{a}");
        let long = "x".repeat(300);
        let l = container_label(&long).unwrap();
        assert!(l.len() <= DAOS_PROP_LABEL_MAX_LEN, "{}", l.len());
        assert_ne!(l, container_label(&"x".repeat(301)).unwrap());
        let u = container_label("123e4567-e89b-12d3-a456-426614174000").unwrap();
        assert!(!looks_like_uuid(&u));
        let odd = container_label("naïve file.h5").unwrap();
        assert!(odd.chars().all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c)), "{odd}");
        assert!(container_label("a/../b").is_err());
        assert!(container_label("/").is_err());
    }
}
