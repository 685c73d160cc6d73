//! The object behind every `void *` this connector gives HDF5: which file, which object in it,
//! and what the opener may do with it.
use super::h5util::{cstr, decode_type, Owned};
use super::vlen::Shape;
use crate::backend::ObjId;
use crate::bail;
use crate::error::{Area, Result, VolError};
use crate::ffi::vol_bindings::*;
use crate::ffi::h5::H5VLwrap_register;
use crate::model::namespace::Resolved;
use crate::model::objects::{KindTag, Shared};
use crate::model::open_file::OpenFile;
use dashmap::DashMap;
use once_cell::sync::Lazy;
use std::ffi::c_void;
use std::sync::{Arc, Weak};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Group,
    Dataset,
    Datatype,
    Attr(u64),
}

pub struct Handle {
    pub file: Arc<OpenFile>,
    pub kind: Kind,
    /// The object itself; the root group for a file; the owner for an attribute.
    pub obj: ObjId,
    pub writable: bool,
    /// The absolute path the object was reached by (what `H5Iget_name` reports).
    pub path: String,
    /// For files and datasets: a copy of the access property list they were opened with.
    pub apl: Option<Owned>,
    /// For datasets and attributes: the stored datatype (encoded: a decoded id would count as
    /// an open datatype of the application), and its variable-length layout.
    pub dtype: Option<Shared>,
    pub shape: Option<Shape>,
    /// The object's open count was already released (a close that failed to flush).
    released: std::cell::Cell<bool>,
    /// The file handle this object was reached through (`H5F_OBJ_LOCAL` counts by it).
    pub origin: usize,
    /// The last memory type compared with the stored one, and whether they were equal: the
    /// same memory type id is used call after call.
    same_as: std::cell::Cell<(hid_t, bool)>,
}

thread_local! {
    /// Whether a memory type id equals a stored type, across handles: opening the same
    /// attribute or dataset again and reading it with the same memory type then needs no
    /// decode. HDF5 never reuses an id number while the library runs; dropped at terminate.
    static TYPE_EQUALITY: super::h5util::IdCache<std::collections::HashMap<(hid_t, SameBytes), bool>> =
        super::h5util::IdCache::new(std::collections::HashMap::new());
    /// The origin of the handle the current callback works from: objects it opens share it.
    static CURRENT_ORIGIN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A shared encoding compared by identity: encodings are interned, so the same bytes are
/// nearly always the same allocation, and the key holding it keeps its address from reuse.
#[derive(Clone)]
struct SameBytes(Shared);

impl PartialEq for SameBytes {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for SameBytes {}
impl std::hash::Hash for SameBytes {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.0.as_ptr() as usize).hash(h)
    }
}

/// `RUSTVOL_STATS=1`: report the requests a store backend has sent whenever a file closes,
/// so benchmarks can count what an operation cost.
static REPORT_REQUESTS: Lazy<bool> = Lazy::new(|| std::env::var_os("RUSTVOL_STATS").is_some());

/// The file handles HDF5 holds per open file, so `H5Iget_file_id` finds an existing one.
static FILE_HANDLES: Lazy<DashMap<u64, Vec<usize>>> = Lazy::new(DashMap::new);

/// By file number, the access lists of files first opened by following an external link: as
/// HDF5 does, such a file is opened with the link access list's `H5Pset_elink_fapl`, else with
/// the list of the file holding the link, and `H5Fget_access_plist` returns that list. Entries
/// of files no longer open are dropped as new ones come.
static ELINK_FAPLS: Lazy<DashMap<u64, (Weak<OpenFile>, Owned)>> = Lazy::new(DashMap::new);

/// A copy of the access list file `fileno` was opened with, when one is known.
pub fn fapl_of(fileno: u64) -> Result<Option<Owned>> {
    let copy = |id| {
        // SAFETY: `id` is the live access list of an open file handle or of ELINK_FAPLS.
        super::h5util::check(unsafe { crate::ffi::h5::H5Pcopy(id) }, Area::File, "copy the fapl").map(Owned::plist)
    };
    if let Some(v) = FILE_HANDLES.get(&fileno) {
        if let Some(&p) = v.first() {
            // SAFETY: the pointers in FILE_HANDLES are live handles: one is removed as it closes,
            // which cannot happen while this entry is held.
            if let Some(a) = unsafe { (*(p as *const Handle)).apl.as_ref() } {
                return copy(a.id).map(Some);
            }
        }
    }
    match ELINK_FAPLS.get(&fileno) {
        Some(e) => copy(e.1.id).map(Some),
        None => Ok(None),
    }
}

/// Keeps the list that file `to`, reached from `from` through an external link with link
/// access list `lapl`, counts as opened with (unless it was open already).
fn remember_elink_fapl(from: &OpenFile, to: &Arc<OpenFile>, lapl: hid_t) -> Result<()> {
    if FILE_HANDLES.contains_key(&to.fileno) || ELINK_FAPLS.contains_key(&to.fileno) {
        return Ok(());
    }
    // SAFETY: a query of a property list id from HDF5; a failure returns a negative id.
    let own = if lapl > 0 { unsafe { crate::ffi::h5::H5Pget_elink_fapl(lapl) } } else { -1 };
    let fapl = if own > 0 {
        Owned::plist(own)
    } else if let Some(parent) = fapl_of(from.fileno)? {
        parent
    } else {
        return Ok(());
    };
    ELINK_FAPLS.retain(|_, (f, _)| f.strong_count() > 0);
    ELINK_FAPLS.insert(to.fileno, (Arc::downgrade(to), fapl));
    Ok(())
}

impl Handle {
    pub fn new(file: Arc<OpenFile>, kind: Kind, obj: ObjId, writable: bool, path: String) -> Handle {
        if kind != Kind::File {
            file.meta.write().opened(obj);
        }
        if kind == Kind::Dataset {
            file.chunk_caches.attach(obj);
        }
        Handle { file, kind, obj, writable, path, apl: None, dtype: None, shape: None, released: Default::default(), origin: 0, same_as: std::cell::Cell::new((-1, false)) }
    }

    /// Attaches the stored datatype of a dataset or attribute whose record says whether it may
    /// have variable-length parts (only then is the type looked at).
    pub fn with_known_type(mut self, encoded: Shared, vlen: bool) -> Result<Handle> {
        if vlen {
            return self.with_type(encoded);
        }
        self.dtype = Some(encoded);
        Ok(self)
    }

    /// Attaches the stored datatype of a dataset or attribute.
    pub fn with_type(mut self, encoded: Shared) -> Result<Handle> {
        let t = decode_type(&encoded)?;
        self.shape = Shape::of(t.id)?;
        self.dtype = Some(encoded);
        Ok(self)
    }

    /// Whether the application's memory type is the stored type (no conversion needed).
    pub fn same_type(&self, mtype: hid_t) -> Result<bool> {
        let (last, eq) = self.same_as.get();
        if last == mtype && mtype >= 0 {
            return Ok(eq);
        }
        let Some(stored) = &self.dtype else { bail!(Area::Datatype, "object has no datatype") };
        let key = (mtype, SameBytes(stored.clone()));
        let known = TYPE_EQUALITY.with(|c| c.with(|c| c.get(&key).copied()));
        let eq = match known {
            Some(eq) => eq,
            None => {
                let ft = self.file_type()?;
                let eq = super::transfer::types_equal(ft.id, mtype);
                TYPE_EQUALITY.with(|c| {
                    c.with(|c| {
                        if c.len() >= 4096 {
                            c.clear();
                        }
                        c.insert(key, eq);
                    })
                });
                eq
            }
        };
        self.same_as.set((mtype, eq));
        Ok(eq)
    }

    /// The stored datatype, as an id that lives for the current operation.
    pub fn file_type(&self) -> Result<Owned> {
        match &self.dtype {
            Some(b) => decode_type(b),
            None => bail!(Area::Datatype, "object has no datatype"),
        }
    }

    pub fn into_raw(self) -> *mut c_void {
        let is_file = self.kind == Kind::File;
        let fileno = self.file.fileno;
        let mut b = Box::new(self);
        b.origin = CURRENT_ORIGIN.with(|c| c.get());
        let p = Box::into_raw(b);
        if is_file {
            // SAFETY: `p` was just made from a Box and nothing else refers to it yet.
            unsafe { (*p).origin = p as usize };
            FILE_HANDLES.entry(fileno).or_default().push(p as usize);
        }
        p as *mut c_void
    }

    /// # Safety
    /// `p` is NULL or a pointer made by `into_raw` and not yet closed.
    pub unsafe fn from_raw<'a>(p: *mut c_void) -> Result<&'a Handle> {
        if p.is_null() {
            bail!(Area::Object, "no object given");
        }
        let h = &*(p as *const Handle);
        CURRENT_ORIGIN.with(|c| c.set(h.origin));
        Ok(h)
    }

    /// # Safety
    /// `p` is a pointer made by `into_raw`, closed now and never used again.
    pub unsafe fn close(p: *mut c_void) -> Result<()> {
        let h = &*(p as *const Handle);
        // A dataset's held chunks go to the backend at its close; on failure the handle stays.
        if h.kind == Kind::Dataset {
            crate::model::write_back::write_back(&h.file, Some(h.obj))?;
            if let Some(r) = h.file.ranks.get() {
                crate::model::ranks::publish(&h.file, r, h.obj)?;
            }
        }
        if h.kind != Kind::File && !h.released.replace(true) {
            h.file.meta.write().closed(h.obj);
            if h.kind == Kind::Dataset {
                h.file.chunk_caches.detach(h.obj);
            }
        }
        // A file flushes when a file handle closes, and when its last handle of any kind goes
        // (objects outliving H5Fclose, files reached only through external links). When that
        // fails the handle stays: HDF5 keeps the id, and the changes stay pending for a retry.
        let last = Arc::strong_count(&h.file) == 1;
        if h.writable && (h.kind == Kind::File || last) {
            h.file.flush()?;
        }
        if h.kind == Kind::File && *REPORT_REQUESTS {
            if let Some(s) = h.file.backend.request_summary() {
                // One write: `eprintln!` writes its pieces one by one, and the lines of the
                // ranks of an MPI job (which mpirun tags per write) came out cut and mixed.
                let line = format!("rustvol requests ({}, after closing {:?}): {s}\n", h.file.backend.describe(), h.file.name);
                let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
            }
        }
        let h = Box::from_raw(p as *mut Handle);
        if h.kind == Kind::File {
            if let Some(mut v) = FILE_HANDLES.get_mut(&h.file.fileno) {
                v.retain(|&q| q != p as usize);
            }
            FILE_HANDLES.remove_if(&h.file.fileno, |_, v| v.is_empty());
        }
        if last {
            ELINK_FAPLS.remove(&h.file.fileno);
        }
        Ok(())
    }

    /// A file handle HDF5 already knows for this handle's file, or a new one.
    pub fn file_handle(&self) -> *mut c_void {
        if let Some(v) = FILE_HANDLES.get(&self.file.fileno) {
            if let Some(&p) = v.first() {
                return p as *mut c_void;
            }
        }
        Handle::new(self.file.clone(), Kind::File, self.file.meta.read().root(), self.writable, "/".into()).into_raw()
    }

    /// The access list of a file handle HDF5 holds for this handle's file, if any.
    pub fn file_apl(&self) -> Option<hid_t> {
        let p = *FILE_HANDLES.get(&self.file.fileno)?.first()?;
        // SAFETY: the pointers in FILE_HANDLES are live file handles (see `into_raw`).
        unsafe { (*(p as *const Handle)).apl.as_ref().map(|a| a.id) }
    }

    pub fn file_handles(fileno: u64) -> usize {
        FILE_HANDLES.get(&fileno).map(|v| v.len()).unwrap_or(0)
    }

    pub fn check_writable(&self) -> Result<()> {
        if !self.writable {
            bail!(Area::File, "file {:?} is open read-only", self.file.name);
        }
        Ok(())
    }

    pub fn child_path(&self, name: &str) -> String {
        join_path(&self.path, name)
    }
}

pub fn join_path(base: &str, name: &str) -> String {
    // The usual case, one plain name below a path that is already normal, without the split.
    let plain = !name.is_empty() && name != "." && !name.contains('/');
    let normal = base.starts_with('/') && (base == "/" || !base.ends_with('/')) && !base.contains("//") && !base.contains("/./");
    if plain && normal && !base.ends_with("/.") {
        let mut p = String::with_capacity(base.len() + 1 + name.len());
        p.push_str(base);
        if base != "/" {
            p.push('/');
        }
        p.push_str(name);
        return p;
    }
    let mut comps: Vec<&str> = if name.starts_with('/') { vec![] } else { base.split('/').collect() };
    comps.extend(name.split('/'));
    let comps: Vec<&str> = comps.into_iter().filter(|c| !c.is_empty() && *c != ".").collect();
    format!("/{}", comps.join("/"))
}

/// An object reached from a handle and a location: possibly in another file.
pub struct Target {
    pub file: Arc<OpenFile>,
    pub obj: ObjId,
    pub path: String,
    /// Reached through an external link that the link access list opens read-only
    /// (`H5Pset_elink_acc_flags`).
    pub readonly: bool,
    /// What the hard link that led here knows the object to be (see `Link::kind`).
    pub kind: Option<KindTag>,
}

/// Whether a link access list (or an object access list, which is one) asks for files reached
/// through external links to be opened read-only.
pub fn elink_readonly(lapl: hid_t) -> bool {
    let mut flags = 0u32;
    // Read-only with or without SWMR_READ; H5F_ACC_DEFAULT means the holder's own mode.
    // SAFETY: a query on a property list id from HDF5.
    lapl > 0
        && unsafe { crate::ffi::h5::H5Pget_elink_acc_flags(lapl, &mut flags) } >= 0
        && flags != hdf5_sys::h5f::H5F_ACC_DEFAULT
        && flags & hdf5_sys::h5f::H5F_ACC_RDWR == 0
}

/// Follows `path` from object `start` of `file`, through external links into other files of
/// the same backend.
pub fn resolve_path(file: &Arc<OpenFile>, start: ObjId, start_path: &str, path: &str) -> Result<Target> {
    resolve_path_as(file, start, start_path, path, -1)
}

/// `resolve_path`, with the external-link flags of access list `apl` in force (asked only when
/// the path crosses into another file: the query costs more than a local lookup).
pub fn resolve_path_as(file: &Arc<OpenFile>, start: ObjId, start_path: &str, path: &str, apl: hid_t) -> Result<Target> {
    let mut crossed = false;
    let mut file = file.clone();
    let mut start = start;
    let mut path = std::borrow::Cow::Borrowed(path);
    let mut abs = join_path(start_path, &path);
    for _ in 0..16 {
        let (r, kind) = file.meta.read().resolve_linked(start, &path)?;
        match r {
            Resolved::Local(obj) => {
                return Ok(Target { file, obj, path: abs, readonly: crossed && elink_readonly(apl), kind })
            }
            Resolved::External { file: f, path: p } => {
                let other = external_file(&file, &f).map_err(|e| {
                    VolError::new(Area::Link, format!("unable to follow external link into {f:?}: {}", e.msg))
                })?;
                remember_elink_fapl(&file, &other, apl)?;
                start = other.meta.read().root();
                file = other;
                crossed = true;
                abs = join_path("/", &p);
                path = std::borrow::Cow::Owned(p);
            }
        }
    }
    bail!(Area::Link, "too many external links resolving {path:?}")
}

/// Opens the target file of an external link: the name as given, or else relative to the
/// directory of the file holding the link (as HDF5 also tries).
fn external_file(from: &Arc<OpenFile>, target: &str) -> Result<Arc<OpenFile>> {
    let first = crate::connectors::resolve(&from.cfg, target)?;
    if first.backend.file_exists(&first.key).unwrap_or(false) || crate::model::open_file::find_open(&first).is_some() {
        return OpenFile::open(first, target, from.cfg.clone(), from.access());
    }
    if !target.contains("://") && !target.starts_with('/') {
        if let Some((dir, _)) = from.name.rsplit_once('/') {
            let sibling = format!("{dir}/{target}");
            let loc = crate::connectors::resolve(&from.cfg, &sibling)?;
            if loc.backend.file_exists(&loc.key).unwrap_or(false) {
                return OpenFile::open(loc, &sibling, from.cfg.clone(), from.access());
            }
        }
    }
    OpenFile::open(first, target, from.cfg.clone(), from.access())
}

/// Where `loc` (relative to handle `h`) points.
///
/// # Safety
/// `loc` points at a valid `H5VL_loc_params_t` from HDF5.
pub unsafe fn locate(h: &Handle, loc: *const H5VL_loc_params_t) -> Result<Target> {
    let loc = &*loc;
    match loc.type_ {
        H5VL_OBJECT_BY_SELF => Ok(Target { file: h.file.clone(), obj: h.obj, path: h.path.clone(), readonly: false, kind: None }),
        H5VL_OBJECT_BY_NAME => {
            let lapl = loc.loc_data.loc_by_name.lapl_id;
            check_plist(lapl, "link access")?;
            let name = cstr(loc.loc_data.loc_by_name.name, "object name")?;
            resolve_path_as(&h.file, h.obj, &h.path, &name, lapl)
        }
        H5VL_OBJECT_BY_IDX => {
            let by = &loc.loc_data.loc_by_idx;
            check_plist(by.lapl_id, "link access")?;
            let gname = cstr(by.name, "group name")?;
            let g = resolve_path(&h.file, h.obj, &h.path, &gname)?;
            let name = g.file.meta.read().link_name_by_idx(
                g.obj,
                by.idx_type == H5_INDEX_CRT_ORDER,
                by.order == H5_ITER_DEC,
                by.n,
            )?;
            resolve_path(&g.file, g.obj, &g.path, &name)
        }
        H5VL_OBJECT_BY_TOKEN => {
            let id = super::token::decode(&*loc.loc_data.loc_by_token.token);
            let m = h.file.meta.read();
            if !m.objects.contains_key(&id) {
                bail!(Area::Object, "no object with token {id} in {:?}", h.file.name);
            }
            // A path is found only if asked for (H5Iget_name): finding one walks the file.
            Ok(Target { file: h.file.clone(), obj: id, path: String::new(), readonly: false, kind: None })
        }
        t => bail!(Area::Object, "unknown location type {t}"),
    }
}

/// Creates a new object as creation list `ocpl` asks and, unless `name` is NULL (anonymous
/// create), links it at `name` relative to `loc`, creating missing groups on the way when the
/// lcpl asks for it.
///
/// # Safety
/// `loc` points at valid location parameters; `lcpl` is a link creation plist id or negative.
pub unsafe fn create_linked(
    h: &Handle,
    loc: *const H5VL_loc_params_t,
    name: *const std::ffi::c_char,
    lcpl: hid_t,
    kind: crate::model::objects::ObjKind,
    ocpl: hid_t,
) -> Result<Target> {
    h.check_writable()?;
    let base = locate(h, loc)?;
    let new_object = |m: &mut crate::model::namespace::FileMeta| -> Result<ObjId> {
        let id = m.new_object(kind, tracks_attr_order(ocpl));
        if tracks_times(ocpl) {
            m.track_times(id)?;
        }
        Ok(id)
    };
    let Some(name) = super::h5util::opt_cstr(name) else {
        base.file.meta.read().group(base.obj)?;
        let id = new_object(&mut base.file.meta.write())?;
        return Ok(Target { file: base.file, obj: id, path: String::new(), readonly: false, kind: None });
    };
    check_plist(lcpl, "link creation")?;
    let inter = if lcpl > 0 {
        let mut flag = 0u32;
        crate::ffi::h5::H5Pget_create_intermediate_group(lcpl, &mut flag);
        flag != 0
    } else {
        false
    };
    // The parent may lie in another file, through an external link.
    let (dir, last) = match super::link::split_last(&name) {
        Some(x) => x,
        None => bail!(Area::Link, "{name:?} does not name a new link"),
    };
    let (file, parent, parent_path) = match resolve_path(&base.file, base.obj, &base.path, &dir) {
        Ok(t) if t.file.meta.read().group(t.obj).is_ok() => (t.file, t.obj, t.path),
        Ok(t) => bail!(Area::Link, "{:?} is not a group", t.path),
        Err(e) if !inter => return Err(e),
        Err(_) => {
            let gcpl = super::h5util::encode_plist(*crate::ffi::h5::H5P_LST_GROUP_CREATE)?;
            let (p, _) = base.file.meta.write().resolve_parent(base.obj, &format!("{dir}/x"), Some(&gcpl))?;
            (base.file.clone(), p, join_path(&base.path, &dir))
        }
    };
    let mut m = file.meta.write();
    let id = new_object(&mut m)?;
    if let Err(e) = m.insert_link(parent, &last, crate::model::objects::LinkTarget::Hard(id)) {
        m.collect_if_unreachable(id);
        return Err(e);
    }
    drop(m);
    let path = join_path(&parent_path, &last);
    Ok(Target { file, obj: id, path, readonly: false, kind: None })
}

/// HDF5 passes an application's invalid property list id through to the connector.
pub fn check_plist(id: hid_t, what: &str) -> Result<()> {
    // SAFETY: H5Iget_type only inspects the id table (library-owned default lists included).
    if id < 0
        || (id != hdf5_sys::h5p::H5P_DEFAULT
            && unsafe { crate::ffi::h5::H5Iget_type(id) } != hdf5_sys::h5i::H5I_type_t::H5I_GENPROP_LST)
    {
        bail!(Area::Object, "invalid {what} property list");
    }
    Ok(())
}

/// Creation-order tracking asked for by an object creation plist (gcpl, dcpl, tcpl).
pub fn tracks_attr_order(ocpl: hid_t) -> bool {
    if super::h5util::is_default_list(ocpl) {
        return false;
    }
    let mut f = 0u32;
    // SAFETY: query on a plist id from HDF5.
    ocpl > 0 && unsafe { crate::ffi::h5::H5Pget_attr_creation_order(ocpl, &mut f) } >= 0 && f & 1 != 0
}

/// Time tracking asked for by an object creation plist (on in HDF5's defaults).
pub fn tracks_times(ocpl: hid_t) -> bool {
    if ocpl <= 0 || super::h5util::is_default_list(ocpl) {
        return true;
    }
    let mut f: hdf5_sys::h5::hbool_t = 1;
    // SAFETY: query on a plist id from HDF5.
    let r = unsafe { crate::ffi::h5::H5Pget_obj_track_times(ocpl, &mut f) };
    r < 0 || f != 0
}

/// Gives a new handle an id for an application callback (iteration, visit): HDF5 closes the
/// handle through our close callback when the caller drops the id with `H5Idec_ref`.
///
/// # Safety
/// Only inside a callback whose API call set up HDF5's wrap context (iterate, visit).
pub unsafe fn register_for_callback(h: Handle, ty: H5I_type_t) -> Result<hid_t> {
    let p = h.into_raw();
    let id = H5VLwrap_register(p, ty);
    if id < 0 {
        Handle::close(p)?;
        bail!(Area::Object, "could not register an id for the application's callback");
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::join_path;

    #[test]
    fn joined_paths_are_normal() {
        for (base, name, want) in [
            ("/", "a", "/a"),
            ("/g", "a", "/g/a"),
            ("/g/h", "a/b", "/g/h/a/b"),
            ("/g", "/x/y", "/x/y"),
            ("/g", ".", "/g"),
            ("/g", "./a", "/g/a"),
            ("/g/", "a", "/g/a"),
            ("/g/.", "a", "/g/a"),
            ("//g", "a", "/g/a"),
            ("", "a", "/a"),
            ("/", "", "/"),
        ] {
            assert_eq!(join_path(base, name), want, "{base:?} + {name:?}");
        }
    }
}
