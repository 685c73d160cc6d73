//! What an HDF5 file is made of, as plain data: objects (groups, datasets, committed
//! datatypes), the links between them and the attributes on them. Type, space and property
//! list descriptions are kept as HDF5's own encodings (`H5Tencode`, `H5Pencode2`), opaque here.
use crate::backend::ObjId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod hex_bytes {
    use serde::{de::Error, Deserializer, Serializer};

    /// Hex text in JSON (records of earlier files, MPI messages), the bytes themselves in
    /// binary records (`record_codec`).
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_bytes(bytes);
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        with_bytes(d, |b| b.to_vec())
    }

    /// `f` of the stored bytes, in either form, seen where the reader holds them: every type
    /// and property list of a file passes through here when it opens.
    pub fn with_bytes<'de, D: Deserializer<'de>, T>(d: D, f: impl FnOnce(&[u8]) -> T) -> Result<T, D::Error> {
        struct Visit<F>(F);
        impl<T, F: FnOnce(&[u8]) -> T> serde::de::Visitor<'_> for Visit<F> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a hex string or bytes")
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<T, E> {
                decode(s.as_bytes()).map(|v| (self.0)(&v)).map_err(E::custom)
            }
            fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<T, E> {
                Ok((self.0)(b))
            }
        }
        match d.is_human_readable() {
            true => d.deserialize_str(Visit(f)),
            false => d.deserialize_bytes(Visit(f)),
        }
    }

    fn decode(s: &[u8]) -> Result<Vec<u8>, &'static str> {
        if s.len() % 2 != 0 {
            return Err("hex string of odd length");
        }
        let digit = |c: u8| -> Result<u8, &'static str> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err("bad hex digit"),
            }
        };
        let mut out = Vec::with_capacity(s.len() / 2);
        for p in s.chunks_exact(2) {
            out.push(digit(p[0])? << 4 | digit(p[1])?);
        }
        Ok(out)
    }
}

/// An encoded type or property list, shared by every record that holds the same bytes: files
/// repeat a few of them thousands of times, and one shared copy stays in cache where
/// thousands of copies would each be a miss (and an allocation at every handle open).
pub type Shared = std::sync::Arc<[u8]>;

static INTERNED: once_cell::sync::Lazy<parking_lot::Mutex<std::collections::HashSet<Shared>>> =
    once_cell::sync::Lazy::new(Default::default);

thread_local! {
    /// The encodings this thread interned last: records parsed in parallel at open ask for the
    /// same few again and again, and the global set's lock would have them take turns.
    static RECENT: std::cell::RefCell<std::collections::HashSet<Shared>> = Default::default();
}

/// Entries the per-thread set keeps before it starts over.
const RECENT_MAX: usize = 64;

/// The shared copy of `bytes`.
pub fn shared(bytes: &[u8]) -> Shared {
    // At process exit the thread-locals may be gone: the global set still answers.
    if let Ok(Some(s)) = RECENT.try_with(|r| r.borrow().get(bytes).cloned()) {
        return s;
    }
    let s = shared_globally(bytes);
    let _ = RECENT.try_with(|r| {
        let mut r = r.borrow_mut();
        if r.len() >= RECENT_MAX {
            r.clear();
        }
        r.insert(s.clone());
    });
    s
}

fn shared_globally(bytes: &[u8]) -> Shared {
    let mut set = INTERNED.lock();
    if let Some(s) = set.get(bytes) {
        return s.clone();
    }
    // Bounded: past this, earlier encodings lose their sharing, never their bytes.
    if set.len() >= 1 << 16 {
        set.clear();
    }
    let s: Shared = bytes.into();
    set.insert(s.clone());
    s
}

/// `hex_bytes` for shared encodings.
pub mod hex_shared {
    use super::{hex_bytes, shared, Shared};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Shared, s: S) -> Result<S::Ok, S::Error> {
        hex_bytes::serialize(bytes, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shared, D::Error> {
        hex_bytes::with_bytes(d, shared)
    }
}

/// The rare kinds are boxed so that a link, with its name, fills one cache line in a group's
/// name index (boxed or not, serde writes the same record).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum LinkTarget {
    Hard(ObjId),
    Soft(String),
    External(Box<ExternalTarget>),
    /// A user-defined link class: kept and reported as given, never traversed.
    UserDefined(Box<UserTarget>),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExternalTarget {
    pub file: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserTarget {
    pub class: i32,
    #[serde(with = "hex_bytes")]
    pub value: Vec<u8>,
}

impl LinkTarget {
    pub fn external(file: String, path: String) -> LinkTarget {
        LinkTarget::External(Box::new(ExternalTarget { file, path }))
    }
    pub fn user_defined(class: i32, value: Vec<u8>) -> LinkTarget {
        LinkTarget::UserDefined(Box::new(UserTarget { class, value }))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    pub target: LinkTarget,
    pub corder: i64,
    #[serde(default)]
    pub utf8: bool,
    /// For a hard link, the kind of its object, once known (set when the link is made and
    /// when a file is read; never stored, since a kind never changes): calls that name an
    /// object then learn its kind without reading it.
    #[serde(skip)]
    pub kind: Option<KindTag>,
}

/// The same link whether or not it has learnt its object's kind yet.
impl PartialEq for Link {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target && self.corder == other.corder && self.utf8 == other.utf8
    }
}

impl Link {
    pub fn new(target: LinkTarget) -> Link {
        Link { target, corder: 0, utf8: false, kind: None }
    }
}

/// Entries kept both by name (byte order, as HDF5 sorts names) and by creation order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ordered<T> {
    /// Names inline up to 24 bytes: a lookup compares them without another memory access.
    /// Values boxed: a tree node then holds names and pointers only (a few hundred bytes,
    /// where unboxed attributes made every object with one attribute allocate 2 KiB).
    pub by_name: BTreeMap<compact_str::CompactString, Box<T>>,
    pub by_order: BTreeMap<i64, compact_str::CompactString>,
    pub next_corder: i64,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered { by_name: BTreeMap::new(), by_order: BTreeMap::new(), next_corder: 0 }
    }
}

impl<T> Ordered<T> {
    pub fn len(&self) -> usize {
        self.by_name.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|b| &**b)
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.by_name.get_mut(name).map(|b| &mut **b)
    }
    /// Inserts under the next creation-order index and returns that index.
    pub fn insert(&mut self, name: String, value: T) -> i64 {
        let c = self.next_corder;
        self.next_corder += 1;
        self.insert_at(name, value, c);
        c
    }
    pub fn insert_at(&mut self, name: String, value: T, corder: i64) {
        let name = compact_str::CompactString::from(name);
        self.by_order.insert(corder, name.clone());
        self.by_name.insert(name, Box::new(value));
    }
    pub fn remove(&mut self, name: &str, corder: i64) -> Option<T> {
        let v = *self.by_name.remove(name)?;
        self.by_order.remove(&corder);
        if self.by_name.is_empty() {
            // As HDF5 does: an emptied index starts creation order again from zero.
            self.next_corder = 0;
        }
        Some(v)
    }
    /// Names in the requested order.
    pub fn names(&self, by_corder: bool, decreasing: bool) -> Vec<String> {
        match by_corder {
            true => list_names(self.by_order.values(), decreasing),
            false => list_names(self.by_name.keys(), decreasing),
        }
    }
    pub fn nth_name(&self, by_corder: bool, decreasing: bool, n: u64) -> Option<String> {
        match by_corder {
            true => nth_name(self.by_order.values(), decreasing, n),
            false => nth_name(self.by_name.keys(), decreasing, n),
        }
    }
}

/// The names an index lists, in its order or reversed (for attribute and link tables alike).
pub fn list_names<'a>(names: impl DoubleEndedIterator<Item = &'a compact_str::CompactString>, decreasing: bool) -> Vec<String> {
    match decreasing {
        true => names.rev().map(|n| n.to_string()).collect(),
        false => names.map(|n| n.to_string()).collect(),
    }
}

/// The `n`th name an index lists, in its order or reversed.
pub fn nth_name<'a>(mut names: impl DoubleEndedIterator<Item = &'a compact_str::CompactString>, decreasing: bool, n: u64) -> Option<String> {
    let n = usize::try_from(n).ok()?;
    let name = if decreasing { names.nth_back(n) } else { names.nth(n) };
    name.map(|n| n.to_string())
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum SpaceKind {
    Scalar,
    Simple,
    Null,
}

/// A dataspace's extent (its selection is never stored).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Extent {
    pub kind: SpaceKind,
    pub dims: Vec<u64>,
    pub maxdims: Vec<u64>,
}

impl Extent {
    pub fn npoints(&self) -> u64 {
        match self.kind {
            SpaceKind::Null => 0,
            SpaceKind::Scalar => 1,
            SpaceKind::Simple => self.dims.iter().product(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attribute {
    pub id: u64,
    pub name: String,
    #[serde(with = "hex_shared")]
    pub dtype: Shared,
    pub extent: Extent,
    #[serde(with = "hex_shared")]
    pub acpl: Shared,
    /// Stored elements: raw file-type bytes, or encoded elements when the type holds
    /// variable-length parts. Empty until written (reads then give zeros).
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
    pub corder: i64,
    #[serde(default)]
    pub utf8: bool,
    /// The attribute's type is a committed datatype of this file.
    #[serde(default)]
    pub committed_type: Option<ObjId>,
    /// The type is known to have no variable-length part or reference.
    #[serde(default)]
    pub fixed: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Layout {
    Compact,
    Contiguous,
    Chunked,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dataset {
    #[serde(with = "hex_shared")]
    pub dtype: Shared,
    pub extent: Extent,
    #[serde(with = "hex_shared")]
    pub dcpl: Shared,
    pub layout: Layout,
    /// The chunk shape data is stored in: the user's for chunked datasets, internal otherwise.
    pub chunk: Vec<u64>,
    pub elem_size: usize,
    /// Elements hold variable-length parts, so chunks store encoded elements.
    pub vlen: bool,
    /// One element of fill value in the file type (fixed-size types only); zeros when absent.
    #[serde(with = "hex_bytes")]
    pub fill: Vec<u8>,
    /// Fill time "never" (`H5Pset_fill_time`): unwritten elements are undefined, and read as
    /// zeros rather than as the fill value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fill_never: bool,
    /// The filters applied to every stored chunk, in pipeline order (`filters.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<super::filters::Filter>,
    /// The dataset's type is a committed datatype of this file.
    #[serde(default)]
    pub committed_type: Option<ObjId>,
    /// When space counts as allocated (`H5Pset_alloc_time`; `allocation.rs`).
    #[serde(default, skip_serializing_if = "AllocTime::is_incr")]
    pub alloc_time: AllocTime,
    /// The extent whose chunks all count as allocated: set by early allocation at create, or
    /// late allocation at the first write; None before (and for incremental allocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<Vec<u64>>,
    /// The current version of every chunk ever written, by `chunk_name`.
    #[serde(default)]
    pub chunks: BTreeMap<String, u64>,
}

/// HDF5's space allocation times, as resolved for the layout (`H5Pget_alloc_time`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum AllocTime {
    /// At create (and at each extension).
    Early,
    /// At the first write, for the whole extent.
    Late,
    /// Chunk by chunk as written (records written before allocation times were kept).
    #[default]
    Incr,
}

impl AllocTime {
    pub fn is_incr(&self) -> bool {
        *self == AllocTime::Incr
    }
}

impl Dataset {
    /// Everything but the chunk table.
    pub fn without_chunks(&self) -> Dataset {
        Dataset {
            dtype: self.dtype.clone(),
            extent: self.extent.clone(),
            dcpl: self.dcpl.clone(),
            layout: self.layout,
            chunk: self.chunk.clone(),
            elem_size: self.elem_size,
            vlen: self.vlen,
            fill: self.fill.clone(),
            fill_never: self.fill_never,
            filters: self.filters.clone(),
            committed_type: self.committed_type,
            alloc_time: self.alloc_time,
            allocated: self.allocated.clone(),
            chunks: BTreeMap::new(),
        }
    }
    /// What elements never written hold (fixed-size types).
    pub fn unwritten_fill(&self) -> &[u8] {
        if self.fill_never {
            &[]
        } else {
            &self.fill
        }
    }
}

/// A chunk's grid position as a name: `3_0_12` (a scalar dataset's one chunk is `0`).
pub fn chunk_name(coords: &[u64]) -> String {
    if coords.is_empty() {
        return "0".into();
    }
    coords.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("_")
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedType {
    #[serde(with = "hex_bytes")]
    pub dtype: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub tcpl: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub links: super::links::LinkTable,
    #[serde(with = "hex_shared")]
    pub gcpl: Shared,
    pub track_corder: bool,
    /// How native HDF5 would hold the links, which `H5Gget_info` reports: absent for a group
    /// of HDF5's original format (a symbol table), present for the format of 1.8 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<LinkPhase>,
}

impl Group {
    pub fn new(gcpl: Shared, track_corder: bool, phase: Option<LinkPhase>) -> Group {
        Group { links: Default::default(), gcpl, track_corder, phase }
    }
}

/// A 1.8-format group's link storage: "compact" (in the object header) until a link is
/// added to a group holding `max_compact`, then "dense" until removals leave fewer than
/// `min_dense` (`H5Pset_link_phase_change`). The state depends on the group's history, so it
/// is kept, not derived from the count.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkPhase {
    pub max_compact: u16,
    pub min_dense: u16,
    #[serde(default)]
    pub dense: bool,
}

impl LinkPhase {
    /// HDF5's defaults (`H5G_CRT_GINFO_MAX_COMPACT`, `H5G_CRT_GINFO_MIN_DENSE`).
    pub const DEFAULT: LinkPhase = LinkPhase { max_compact: 8, min_dense: 6, dense: false };

    pub fn new(max_compact: u32, min_dense: u32) -> LinkPhase {
        // H5Pset_link_phase_change refuses values above 65535.
        LinkPhase { max_compact: max_compact.min(u16::MAX as u32) as u16, min_dense: min_dense.min(u16::MAX as u32) as u16, dense: false }
    }

    /// The state after a link was added to a group that now holds `nlinks`.
    pub fn after_insert(&mut self, nlinks: usize) {
        if nlinks > self.max_compact as usize {
            self.dense = true;
        }
    }

    /// The state after a link was removed from a group that now holds `nlinks`.
    pub fn after_remove(&mut self, nlinks: usize) {
        if self.dense && (nlinks == 0 || nlinks < self.min_dense as usize) {
            self.dense = false;
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ObjKind {
    Group(Group),
    Dataset(Box<Dataset>),
    /// Boxed, as datasets are: objects stay one 128-byte block (see `Object`).
    Datatype(Box<NamedType>),
}

/// What kind of object, without what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindTag {
    Group,
    Dataset,
    Datatype,
}

impl KindTag {
    pub fn name(self) -> &'static str {
        match self {
            KindTag::Group => "group",
            KindTag::Dataset => "dataset",
            KindTag::Datatype => "datatype",
        }
    }
}

/// Laid out as one aligned 128-byte block, the fields every lookup reads first: in a big file a
/// call that reaches an object at random then waits for one memory access, not two or three
/// (the hardware fetches a 128-byte pair of cache lines together).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[repr(C, align(128))]
pub struct Object {
    pub id: ObjId,
    /// Number of hard links to the object (plus users, for a committed datatype). Changed only
    /// through `ObjectTable`, which tracks the objects where it is not 1.
    rc: u32,
    #[serde(default)]
    pub track_attr_corder: bool,
    pub kind: ObjKind,
    pub attrs: Ordered<Attribute>,
    #[serde(default)]
    pub comment: Option<Box<String>>,
    /// Kept when the object's creation list tracks times (`H5Pset_obj_track_times`, on by
    /// default); written into the record only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Box<Times>>,
}

/// An object's times, in seconds since 1970, as `H5Oget_info` reports them. As HDF5 does for
/// objects that track times: all four are the creation time at first, and a change to the
/// object's attributes or extent moves the access and change times.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Times {
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    pub btime: i64,
}

impl Times {
    pub fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
    pub fn born_now() -> Times {
        let t = Times::now();
        Times { atime: t, mtime: t, ctime: t, btime: t }
    }
}

impl Object {
    pub fn new(id: ObjId, kind: ObjKind) -> Object {
        Object { id, kind, attrs: Ordered::default(), rc: 0, track_attr_corder: false, comment: None, times: None }
    }
    pub fn rc(&self) -> u32 {
        self.rc
    }
    /// Only `ObjectTable` calls this, so that what it tracks follows.
    pub(super) fn set_rc_in_table(&mut self, rc: u32) {
        self.rc = rc;
    }
    pub fn tag(&self) -> KindTag {
        match &self.kind {
            ObjKind::Group(_) => KindTag::Group,
            ObjKind::Dataset(_) => KindTag::Dataset,
            ObjKind::Datatype(_) => KindTag::Datatype,
        }
    }
    pub fn as_group(&self) -> Option<&Group> {
        match &self.kind {
            ObjKind::Group(g) => Some(g),
            _ => None,
        }
    }
    pub fn as_group_mut(&mut self) -> Option<&mut Group> {
        match &mut self.kind {
            ObjKind::Group(g) => Some(g),
            _ => None,
        }
    }
    pub fn as_dataset(&self) -> Option<&Dataset> {
        match &self.kind {
            ObjKind::Dataset(d) => Some(d),
            _ => None,
        }
    }
    pub fn type_name(&self) -> &'static str {
        self.tag().name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct H(#[serde(with = "hex_bytes")] Vec<u8>);

    #[test]
    fn boxed_link_targets_keep_the_stored_form() {
        // Records written before the rare targets were boxed, read and written back unchanged.
        for rec in [
            r#"{"target":{"External":{"file":"f.h5","path":"/a"}},"corder":3,"utf8":true}"#,
            r#"{"target":{"UserDefined":{"class":65,"value":"0aff"}},"corder":0,"utf8":false}"#,
            r#"{"target":{"Soft":"/x/y"},"corder":1,"utf8":false}"#,
            r#"{"target":{"Hard":7},"corder":2,"utf8":false}"#,
        ] {
            let l: Link = serde_json::from_str(rec).unwrap();
            assert_eq!(serde_json::to_string(&l).unwrap(), rec);
        }
        let l: Link = serde_json::from_str(r#"{"target":{"External":{"file":"f.h5","path":"/a"}},"corder":3}"#).unwrap();
        assert_eq!(l.target, LinkTarget::external("f.h5".into(), "/a".into()));
        // A link and its name fill one cache line in a group's name index.
        assert!(std::mem::size_of::<Link>() <= 40);
    }

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        let json = serde_json::to_string(&H(vec![0, 1, 0xab, 0xff])).unwrap();
        assert_eq!(json, "\"0001abff\"");
        assert_eq!(serde_json::from_str::<H>(&json).unwrap(), H(vec![0, 1, 0xab, 0xff]));
        assert_eq!(serde_json::from_str::<H>("\"0A\"").unwrap(), H(vec![10]));
        assert!(serde_json::from_str::<H>("\"abc\"").unwrap_err().to_string().contains("odd length"));
        assert!(serde_json::from_str::<H>("\"zz\"").unwrap_err().to_string().contains("bad hex digit"));
        assert!(serde_json::from_str::<H>("12").is_err());
    }
}
