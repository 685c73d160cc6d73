//! One file's metadata in memory: the object table, path resolution and the link and
//! attribute operations HDF5 defines on it. Mutations mark objects dirty; `flush` writes
//! exactly those back.
use super::links::{bucket_key, parse_bucket, parse_bucket_key, MAX_BUCKET, MAX_BUCKETED_OBJ};
use super::object_table::ObjectTable;
use super::objects::*;
use crate::backend::{ChunkKey, ObjId};
use crate::bail;
use crate::error::{Area, Result, VolError};
use serde::{Deserialize, Serialize};
// Object ids are hashed with foldhash: seeded per process like std's SipHash, and several times
// faster on integers (the open counts are looked up on every handle open and close).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

pub const ROOT_ID: ObjId = 1;
const MAX_SOFT_DEPTH: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub root: ObjId,
    pub next_id: ObjId,
    pub next_attr_id: u64,
    #[serde(with = "hex_bytes")]
    pub fcpl: Vec<u8>,
    /// Chunk versions up to this one are committed; writes after it use a newer one.
    #[serde(default)]
    pub epoch: u64,
    /// HDF5 would have given the file a superblock of version 2 or later, so every open of it
    /// makes groups of the 1.8 format (HDF5 raises the lower format bound of such files).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub groups_v18: bool,
}

pub const FORMAT_NAME: &str = "rustvol";
pub const FORMAT_VERSION: u32 = 1;

/// Where a path leads: an object of this file, or a place in another file via an external link.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Local(ObjId),
    External { file: String, path: String },
}

#[derive(Debug)]
pub struct FileMeta {
    pub header: Header,
    pub objects: ObjectTable,
    pub dirty: HashSet<ObjId>,
    pub deleted: HashSet<ObjId>,
    pub header_dirty: bool,
    /// Handles open per object: an object whose last link went away lives until they close.
    pub open: HashMap<ObjId, u32>,
    /// The chunk version writes go to until the next commit.
    pub write_epoch: u64,
    /// Stored chunks no committed state will need once the next commit is in place.
    pub garbage: Vec<ChunkKey>,
    /// The lower format bound of the file access list is 1.8 or later, so new groups are of
    /// the 1.8 format, as HDF5 makes them (not stored: native takes it from each open's fapl).
    pub new_style_groups: bool,
}

fn split(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".").collect()
}

/// The most object ids a lazily opened file may have handed out (its page table's bound).
const MAX_LAZY_IDS: ObjId = 1 << 32;

impl FileMeta {
    /// `track` is (link creation order, attribute creation order) of the root group.
    pub fn new(fcpl: Vec<u8>, root_gcpl: Shared, track: (bool, bool)) -> FileMeta {
        let (track_corder, track_attrs) = track;
        let mut m = FileMeta {
            header: Header {
                format: FORMAT_NAME.into(),
                version: FORMAT_VERSION,
                root: ROOT_ID,
                next_id: ROOT_ID + 1,
                next_attr_id: 1,
                fcpl,
                epoch: 0,
                groups_v18: false,
            },
            objects: ObjectTable::default(),
            dirty: HashSet::new(),
            deleted: HashSet::new(),
            header_dirty: true,
            open: HashMap::new(),
            write_epoch: 1,
            garbage: Vec::new(),
            new_style_groups: false,
        };
        let mut root = Object::new(
            ROOT_ID,
            ObjKind::Group(Group::new(root_gcpl, track_corder, None)),
        );
        root.track_attr_corder = track_attrs;
        root.times = Some(Box::new(Times::born_now()));
        m.objects.insert(ROOT_ID, root);
        m.objects.set_rc(ROOT_ID, 1);
        m.dirty.insert(ROOT_ID);
        m
    }

    pub fn root(&self) -> ObjId {
        self.header.root
    }

    pub fn obj(&self, id: ObjId) -> Result<&Object> {
        self.objects.get(&id).ok_or_else(|| self.objects.missing(id))
    }

    pub fn obj_mut(&mut self, id: ObjId) -> Result<&mut Object> {
        if self.objects.get_mut(&id).is_none() {
            return Err(self.objects.missing(id));
        }
        self.dirty.insert(id);
        Ok(self.objects.get_mut(&id).expect("present just now"))
    }

    /// The kind and hard-link count of `id`, reached through a link that knew it as `linked`
    /// (then, usually, without reading the object: see `ObjectTable::kind_rc`).
    pub fn kind_rc(&self, id: ObjId, linked: Option<KindTag>) -> Result<(KindTag, u32)> {
        self.objects.kind_rc(id, linked).ok_or_else(|| self.objects.missing(id))
    }

    /// That `id` (known as `linked` to the link that led to it) is a group.
    pub fn check_group(&self, id: ObjId, linked: Option<KindTag>) -> Result<()> {
        match self.kind_rc(id, linked)?.0 {
            KindTag::Group => Ok(()),
            k => bail!(Area::Group, "object {id} is a {}, not a group", k.name()),
        }
    }

    /// Adds `delta` to the hard-link count of `id` (not below 0) and returns the new count.
    pub fn change_rc(&mut self, id: ObjId, delta: i64) -> Result<u32> {
        let Some(rc) = self.objects.add_rc(id, delta) else { return Err(self.objects.missing(id)) };
        self.dirty.insert(id);
        Ok(rc)
    }

    /// `H5Oincr_refcount`/`H5Odecr_refcount`: the count may drop below the links, and the
    /// object go with links left (as HDF5 allows), which then dangle.
    pub fn change_rc_on_request(&mut self, id: ObjId, delta: i64) -> Result<()> {
        self.change_rc(id, delta)?;
        self.collect_if_unreachable(id);
        Ok(())
    }

    pub fn group(&self, id: ObjId) -> Result<&Group> {
        let o = self.obj(id)?;
        o.as_group()
            .ok_or_else(|| VolError::new(Area::Group, format!("object {id} is a {}, not a group", o.type_name())))
    }

    pub fn group_mut(&mut self, id: ObjId) -> Result<&mut Group> {
        let o = self.obj_mut(id)?;
        let t = o.type_name();
        o.as_group_mut().ok_or_else(|| VolError::new(Area::Group, format!("object {id} is a {t}, not a group")))
    }

    pub fn new_object(&mut self, kind: ObjKind, track_attr_corder: bool) -> ObjId {
        let id = self.header.next_id;
        self.header.next_id += 1;
        self.header_dirty = true;
        let mut o = Object::new(id, kind);
        o.track_attr_corder = track_attr_corder;
        self.objects.insert(id, o);
        self.dirty.insert(id);
        id
    }

    /// Starts keeping the times of `id` (a new object whose creation list tracks them).
    pub fn track_times(&mut self, id: ObjId) -> Result<()> {
        self.obj_mut(id)?.times = Some(Box::new(Times::born_now()));
        Ok(())
    }

    /// A change to the attributes or extent of `id`: its access and change times move, as
    /// HDF5 moves them when it rewrites an object header that tracks times.
    pub fn touch(&mut self, id: ObjId) -> Result<()> {
        if let Some(t) = self.obj_mut(id)?.times.as_deref_mut() {
            let now = Times::now();
            (t.atime, t.ctime) = (now, now);
        }
        Ok(())
    }

    pub fn next_attr_id(&mut self) -> u64 {
        let id = self.header.next_attr_id;
        self.header.next_attr_id += 1;
        self.header_dirty = true;
        id
    }

    /// Follows `path` from `start` (or from the root when absolute).
    pub fn resolve(&self, start: ObjId, path: &str) -> Result<Resolved> {
        self.resolve_depth(start, path, 0).map(|(r, _)| r)
    }

    /// As `resolve`, with the kind the last hard link followed knows for its object (None
    /// when the path ends where it started, or the link has not learnt it).
    pub fn resolve_linked(&self, start: ObjId, path: &str) -> Result<(Resolved, Option<KindTag>)> {
        self.resolve_depth(start, path, 0)
    }

    fn resolve_depth(&self, start: ObjId, path: &str, depth: usize) -> Result<(Resolved, Option<KindTag>)> {
        if depth > MAX_SOFT_DEPTH {
            bail!(Area::Link, "too many levels of soft links resolving {path:?}");
        }
        let mut cur = if path.starts_with('/') { self.root() } else { start };
        let mut kind = None;
        // Walked without collecting the components: this runs for every call that names an
        // object. What follows a component is only needed when the walk leaves this file.
        let mut pos = 0;
        for comp in path.split('/') {
            let done = &path[..pos];
            pos = (pos + comp.len() + 1).min(path.len());
            if comp.is_empty() || comp == "." {
                continue;
            }
            let rest = || split(&path[pos..]);
            let g = self.group(cur).map_err(|_| {
                VolError::new(Area::Link, format!("{:?} in path {path:?} is not a group", split(done).join("/")))
            })?;
            let Some(link) = g.links.get(comp) else {
                bail!(Area::Link, "object {comp:?} doesn't exist (path {path:?})");
            };
            match &link.target {
                LinkTarget::Hard(id) => (cur, kind) = (*id, link.kind),
                LinkTarget::Soft(target) => match self.resolve_depth(cur, target, depth + 1)? {
                    (Resolved::Local(id), k) => (cur, kind) = (id, k),
                    (Resolved::External { file, path: p }, _) => {
                        return Ok((Resolved::External { file, path: join(&p, &rest()) }, None))
                    }
                },
                LinkTarget::External(e) => {
                    return Ok((Resolved::External { file: e.file.clone(), path: join(&e.path, &rest()) }, None))
                }
                LinkTarget::UserDefined(u) => {
                    bail!(Area::Link, "{comp:?} is a user-defined link of class {}, which rustvol cannot traverse", u.class)
                }
            }
        }
        Ok((Resolved::Local(cur), kind))
    }

    pub fn resolve_local(&self, start: ObjId, path: &str) -> Result<ObjId> {
        match self.resolve(start, path)? {
            Resolved::Local(id) => Ok(id),
            Resolved::External { file, .. } => {
                bail!(Area::Link, "{path:?} leads through an external link into {file:?}")
            }
        }
    }

    /// The group that should hold the last component of `path`, and that component.
    /// Missing intermediate groups are created when `intermediate` gives their gcpl.
    pub fn resolve_parent(&mut self, start: ObjId, path: &str, intermediate: Option<&[u8]>) -> Result<(ObjId, String)> {
        let comps = split(path);
        let Some((last, dirs)) = comps.split_last() else {
            bail!(Area::Link, "path {path:?} names no new link");
        };
        let mut cur = if path.starts_with('/') { self.root() } else { start };
        for (i, comp) in dirs.iter().enumerate() {
            let exists = self.group(cur)?.links.get(comp).is_some();
            if !exists {
                let Some(gcpl) = intermediate else {
                    bail!(Area::Link, "intermediate group {:?} of {path:?} does not exist", dirs[..=i].join("/"));
                };
                let g = self.new_object(ObjKind::Group(self.intermediate_group(cur, gcpl)?), false);
                // Made with the default creation list, which tracks times.
                self.track_times(g)?;
                self.insert_link(cur, comp, LinkTarget::Hard(g))?;
            }
            cur = match self.resolve(cur, comp)? {
                Resolved::Local(id) => id,
                Resolved::External { file, .. } => {
                    bail!(Area::Link, "cannot create {path:?} through the external link to {file:?}")
                }
            };
            self.group(cur)?;
        }
        Ok((cur, last.to_string()))
    }

    /// A group HDF5 makes on the way to a new link: as natively, it keeps the parent's link
    /// phase settings and creation-order tracking, and is of the 1.8 format when the file's
    /// lower format bound or that tracking asks for it.
    fn intermediate_group(&self, parent: ObjId, gcpl: &[u8]) -> Result<Group> {
        let p = self.group(parent)?;
        let track = p.track_corder;
        let phase = match p.phase {
            Some(ph) => Some(LinkPhase { dense: false, ..ph }),
            None if self.new_style_groups || track => Some(LinkPhase::DEFAULT),
            None => None,
        };
        Ok(Group::new(shared(gcpl), track, phase))
    }

    pub fn insert_link(&mut self, parent: ObjId, name: &str, target: LinkTarget) -> Result<i64> {
        if name.is_empty() || name.contains('/') || name == "." {
            bail!(Area::Link, "{name:?} is not a valid link name");
        }
        if self.group(parent)?.links.get(name).is_some() {
            bail!(Area::Link, "a link named {name:?} already exists");
        }
        let mut link = Link::new(target);
        if let LinkTarget::Hard(id) = link.target {
            link.kind = Some(self.obj(id)?.tag());
            self.change_rc(id, 1)?;
        }
        let g = self.group_mut(parent)?;
        let corder = g.links.insert(name.to_string(), link);
        let n = g.links.len();
        if let Some(ph) = &mut g.phase {
            ph.after_insert(n);
        }
        Ok(corder)
    }

    pub fn link(&self, parent: ObjId, name: &str) -> Result<&Link> {
        self.group(parent)?
            .links
            .get(name)
            .ok_or_else(|| VolError::new(Area::Link, format!("no link named {name:?}")))
    }

    /// Removes a link; an object left with no link and no open handle is deleted.
    pub fn remove_link(&mut self, parent: ObjId, name: &str) -> Result<Link> {
        self.link(parent, name)?;
        let g = self.group_mut(parent)?;
        let link = g.links.remove(name).expect("link checked above");
        let n = g.links.len();
        if let Some(ph) = &mut g.phase {
            ph.after_remove(n);
        }
        if let LinkTarget::Hard(id) = link.target {
            self.drop_ref(id)?;
        }
        Ok(link)
    }

    pub fn drop_ref(&mut self, id: ObjId) -> Result<()> {
        self.change_rc_on_request(id, -1)
    }

    /// Deletes `id` if nothing links to it and no handle has it open; a deleted group
    /// releases the objects it links to.
    pub fn collect_if_unreachable(&mut self, id: ObjId) {
        if !self.objects.rc_may_differ_from_one(id) {
            return; // one link keeps it
        }
        let Some((_, rc)) = self.objects.kind_rc(id, None) else { return };
        if rc > 0 || self.open.get(&id).copied().unwrap_or(0) > 0 || id == self.root() {
            return;
        }
        let o = self.objects.remove(&id).expect("present");
        self.dirty.remove(&id);
        self.deleted.insert(id);
        for a in o.attrs.by_name.values() {
            self.release_type(a.committed_type);
        }
        match o.kind {
            ObjKind::Group(g) => {
                self.deleted.extend(g.links.stored_buckets().into_iter().map(|b| bucket_key(id, b)));
                for (_, link) in g.links.iter() {
                    if let LinkTarget::Hard(child) = link.target {
                        if self.objects.add_rc(child, -1).is_some() {
                            self.dirty.insert(child);
                            self.collect_if_unreachable(child);
                        }
                    }
                }
            }
            ObjKind::Dataset(d) => {
                for (name, version) in &d.chunks {
                    if let Ok(coords) = crate::model::dataio::parse_chunk_name(name) {
                        self.garbage.push(ChunkKey { obj: id, coords, version: *version });
                    }
                }
                self.release_type(d.committed_type);
            }
            ObjKind::Datatype(_) => {}
        }
    }

    pub fn opened(&mut self, id: ObjId) {
        *self.open.entry(id).or_insert(0) += 1;
    }

    pub fn closed(&mut self, id: ObjId) {
        if let Some(n) = self.open.get_mut(&id) {
            *n -= 1;
            if *n == 0 {
                self.open.remove(&id);
                self.collect_if_unreachable(id);
            }
        }
    }

    /// The name of the `n`th link in the requested index and order.
    pub fn link_name_by_idx(&self, parent: ObjId, by_corder: bool, decreasing: bool, n: u64) -> Result<String> {
        let g = self.group(parent)?;
        if by_corder && !g.track_corder {
            bail!(Area::Link, "creation order is not tracked for this group");
        }
        g.links
            .nth_name(by_corder, decreasing, n)
            .ok_or_else(|| VolError::new(Area::Link, format!("index {n} is out of range ({} links)", g.links.len())))
    }

    /// A path from the root to `id`, found by walking hard links breadth first.
    pub fn path_of(&self, id: ObjId) -> Option<String> {
        if id == self.root() {
            return Some("/".into());
        }
        let mut seen = HashSet::new();
        let mut queue = std::collections::VecDeque::new();
        queue.push_back((self.root(), String::new()));
        seen.insert(self.root());
        while let Some((gid, prefix)) = queue.pop_front() {
            let Ok(g) = self.group(gid) else { continue };
            for (name, link) in g.links.iter() {
                if let LinkTarget::Hard(child) = link.target {
                    let p = format!("{prefix}/{name}");
                    if child == id {
                        return Some(p);
                    }
                    if seen.insert(child) {
                        queue.push_back((child, p));
                    }
                }
            }
        }
        None
    }

    pub fn attr_name_by_idx(&self, id: ObjId, by_corder: bool, decreasing: bool, n: u64) -> Result<String> {
        // Attributes always keep their creation order here (HDF5 too answers by it, untracked).
        let o = self.obj(id)?;
        o.attrs.nth_name(by_corder, decreasing, n).ok_or_else(|| {
            VolError::new(Area::Attribute, format!("attribute index {n} is out of range ({} attributes)", o.attrs.len()))
        })
    }

    pub fn attr(&self, id: ObjId, name: &str) -> Result<&Attribute> {
        self.obj(id)?
            .attrs
            .get(name)
            .ok_or_else(|| VolError::new(Area::Attribute, format!("no attribute named {name:?}")))
    }

    pub fn attr_by_id(&self, owner: ObjId, attr_id: u64) -> Result<&Attribute> {
        self.obj(owner)?
            .attrs
            .by_name
            .values()
            .map(|a| &**a)
            .find(|a| a.id == attr_id)
            .ok_or_else(|| VolError::new(Area::Attribute, "the attribute was deleted"))
    }

    /// The attribute, to change it (which counts as a change of its owner).
    pub fn attr_by_id_mut(&mut self, owner: ObjId, attr_id: u64) -> Result<&mut Attribute> {
        self.touch(owner)?;
        self.obj_mut(owner)?
            .attrs
            .by_name
            .values_mut()
            .map(|a| &mut **a)
            .find(|a| a.id == attr_id)
            .ok_or_else(|| VolError::new(Area::Attribute, "the attribute was deleted"))
    }

    pub fn add_attr(&mut self, owner: ObjId, mut attr: Attribute) -> Result<u64> {
        if attr.name.is_empty() {
            bail!(Area::Attribute, "an attribute name must not be empty");
        }
        if self.obj(owner)?.attrs.get(&attr.name).is_some() {
            bail!(Area::Attribute, "an attribute named {:?} already exists", attr.name);
        }
        let id = self.next_attr_id();
        attr.id = id;
        self.touch(owner)?;
        let o = self.obj_mut(owner)?;
        let c = o.attrs.next_corder;
        attr.corder = c;
        o.attrs.insert(attr.name.clone(), attr);
        Ok(id)
    }

    pub fn delete_attr(&mut self, owner: ObjId, name: &str) -> Result<()> {
        let corder = self.attr(owner, name)?.corder;
        self.touch(owner)?;
        if let Some(a) = self.obj_mut(owner)?.attrs.remove(name, corder) {
            self.release_type(a.committed_type);
        }
        Ok(())
    }

    /// One more user (a dataset or attribute) of a committed datatype.
    pub fn hold_type(&mut self, tid: Option<ObjId>) -> Result<()> {
        if let Some(t) = tid {
            self.change_rc(t, 1)?;
        }
        Ok(())
    }

    /// One user less of a committed datatype.
    fn release_type(&mut self, tid: Option<ObjId>) {
        if let Some(t) = tid.filter(|t| self.objects.add_rc(*t, -1).is_some()) {
            self.dirty.insert(t);
            self.collect_if_unreachable(t);
        }
    }

    pub fn rename_attr(&mut self, owner: ObjId, old: &str, new: &str) -> Result<()> {
        if self.obj(owner)?.attrs.get(new).is_some() {
            bail!(Area::Attribute, "an attribute named {new:?} already exists");
        }
        let corder = self.attr(owner, old)?.corder;
        self.touch(owner)?;
        let o = self.obj_mut(owner)?;
        let mut a = o.attrs.remove(old, corder).expect("checked");
        a.name = new.to_string();
        o.attrs.insert_at(new.to_string(), a, corder);
        Ok(())
    }

    /// Objects reachable from `start` through hard links, each once, with its path relative
    /// to `start`, in the order HDF5's visit uses (links of a group in index order, depth first).
    pub fn visit(&self, start: ObjId, by_corder: bool, decreasing: bool) -> Result<Vec<(String, ObjId)>> {
        let mut out = vec![(".".to_string(), start)];
        let mut seen = HashSet::new();
        seen.insert(start);
        self.visit_rec(start, "", by_corder, decreasing, &mut seen, &mut out)?;
        Ok(out)
    }

    fn visit_rec(
        &self,
        gid: ObjId,
        prefix: &str,
        by_corder: bool,
        decreasing: bool,
        seen: &mut HashSet<ObjId>,
        out: &mut Vec<(String, ObjId)>,
    ) -> Result<()> {
        let Ok(g) = self.group(gid) else { return Ok(()) };
        let by_corder = by_corder && g.track_corder;
        for name in g.links.names(by_corder, decreasing) {
            let link = g.links.get(&name).expect("listed");
            if let LinkTarget::Hard(child) = link.target {
                if seen.insert(child) {
                    let p = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
                    out.push((p.clone(), child));
                    self.visit_rec(child, &p, by_corder, decreasing, seen, out)?;
                }
            }
        }
        Ok(())
    }

    /// Links below `start` (recursively when asked), each with its path relative to `start`
    /// and whether its group tracks creation order; each group's links are listed once even
    /// if linked twice. A snapshot, as HDF5 builds its table of links before calling back.
    pub fn link_walk(
        &self,
        start: ObjId,
        by_corder: bool,
        decreasing: bool,
        recursive: bool,
    ) -> Result<Vec<(String, Link, bool)>> {
        let g = self.group(start)?;
        // Iterating one group by an index it does not keep is an error; a visit falls back to
        // name order in such groups, as HDF5 does.
        if by_corder && !g.track_corder && !recursive {
            bail!(Area::Link, "creation order is not tracked for this group");
        }
        let mut out = Vec::with_capacity(g.links.len());
        let mut seen = HashSet::new();
        seen.insert(start);
        self.link_walk_rec(start, "", by_corder, decreasing, recursive, &mut seen, &mut out)?;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn link_walk_rec(
        &self,
        gid: ObjId,
        prefix: &str,
        by_corder: bool,
        decreasing: bool,
        recursive: bool,
        seen: &mut HashSet<ObjId>,
        out: &mut Vec<(String, Link, bool)>,
    ) -> Result<()> {
        let g = self.group(gid)?;
        let tracked = g.track_corder;
        for (name, link) in g.links.ordered(by_corder && tracked, decreasing) {
            let p = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let child = match link.target {
                LinkTarget::Hard(c) if recursive => Some(c),
                _ => None,
            };
            if let Some(c) = child.filter(|c| self.group(*c).is_ok() && seen.insert(*c)) {
                out.push((p.clone(), link.clone(), tracked));
                self.link_walk_rec(c, &p, by_corder, decreasing, recursive, seen, out)?;
            } else {
                out.push((p, link.clone(), tracked));
            }
        }
        Ok(())
    }

    /// Records to write at the next commit, and clears the dirty state.
    pub fn take_changes(&mut self) -> Result<(Vec<u8>, Vec<(ObjId, Vec<u8>)>, Vec<ObjId>)> {
        self.header.epoch = self.write_epoch;
        self.write_epoch += 1;
        let header = serde_json::to_vec(&self.header).map_err(store_err)?;
        // Taken, not drained: a drained set keeps the capacity of its biggest commit, and
        // every later drain would walk all of it.
        let deleted: Vec<ObjId> = std::mem::take(&mut self.deleted).into_iter().collect();
        // In id order: objects sit in a vector by id, so encoding walks memory in order (at a
        // million objects, a set's order made every one a cache miss), and the records come
        // out sorted, as a segment stores them.
        let mut dirty: Vec<ObjId> = std::mem::take(&mut self.dirty).into_iter().collect();
        dirty.sort_unstable();
        // What each changed object writes: its record, and for a group the link buckets that
        // changed (taken from it here, so the encoding below only reads).
        let mut work = Vec::with_capacity(dirty.len());
        let mut failed = None;
        for &id in &dirty {
            let Some(o) = self.objects.get_mut(&id) else { continue };
            let touched = o.as_group_mut().map(|g| g.links.take_touched()).unwrap_or_default();
            if touched.last().is_some_and(|b| *b > MAX_BUCKET) || (id > MAX_BUCKETED_OBJ && !touched.is_empty()) {
                failed.get_or_insert_with(|| VolError::new(Area::Storage, format!("group {id} has more objects or links than rustvol can store")));
            }
            work.push((id, touched));
        }
        let mut upserts = Vec::with_capacity(work.len());
        let mut deletes = deleted.clone();
        if failed.is_none() {
            let objects = &self.objects;
            for r in super::parallel::map(&work, |(id, touched)| encode_object(objects, *id, touched)) {
                match r {
                    Ok((recs, gone)) => {
                        upserts.extend(recs);
                        deletes.extend(gone);
                    }
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(e) = failed {
            // Nothing is lost: everything taken becomes pending again.
            for (id, touched) in &work {
                if let Some(g) = self.objects.get_mut(id).and_then(|o| o.as_group_mut()) {
                    touched.iter().for_each(|b| g.links.retouch(*b));
                }
            }
            self.dirty.extend(dirty);
            self.deleted.extend(deleted);
            self.header_dirty = true;
            return Err(e);
        }
        self.header_dirty = false;
        Ok((header, upserts, deletes))
    }

    pub fn has_changes(&self) -> bool {
        self.header_dirty || !self.dirty.is_empty() || !self.deleted.is_empty()
    }

    /// Makes the records of a commit that failed pending again.
    pub fn restore_changes(&mut self, upserts: &[(ObjId, Vec<u8>)], deletes: &[ObjId]) {
        self.header_dirty = true;
        for id in upserts.iter().map(|(id, _)| *id).chain(deletes.iter().copied()) {
            match parse_bucket_key(id) {
                Some((group, b)) => {
                    if let Some(g) = self.objects.get_mut(&group).and_then(|o| o.as_group_mut()) {
                        g.links.retouch(b);
                        self.dirty.insert(group);
                    } else {
                        self.deleted.insert(id);
                    }
                }
                None if self.objects.contains_key(&id) => {
                    self.dirty.insert(id);
                }
                None => {
                    self.deleted.insert(id);
                }
            }
        }
    }

    /// A file's metadata from its header alone: the committed objects are read as calls ask
    /// for them (`lazy_records`), each checked as it arrives.
    pub fn from_lazy(header: &[u8], source: std::sync::Arc<dyn crate::backend::MetaSource>) -> Result<FileMeta> {
        let header: Header = serde_json::from_slice(header)
            .map_err(|e| VolError::new(Area::Storage, format!("corrupt file header record: {e}")))?;
        if header.format != FORMAT_NAME || header.version != FORMAT_VERSION {
            bail!(Area::Storage, "file header names format {:?} version {}, expected {FORMAT_NAME:?} version {FORMAT_VERSION}", header.format, header.version);
        }
        if header.root >= header.next_id {
            bail!(Area::Storage, "the root group {} is beyond the header's next id {}", header.root, header.next_id);
        }
        // The page table is sized by the header's next id: a damaged one must give an error,
        // not an allocation that ends the process. 2^32 ids is far beyond any file's objects.
        if header.next_id > MAX_LAZY_IDS {
            bail!(Area::Storage, "corrupt file header record: next object id {} is beyond {MAX_LAZY_IDS}", header.next_id);
        }
        let base = super::lazy_records::LazyBase::new(source, header.next_id, header.root);
        Ok(FileMeta {
            write_epoch: header.epoch + 1,
            header,
            header_dirty: false,
            objects: ObjectTable::lazy(base),
            dirty: HashSet::new(),
            deleted: HashSet::new(),
            open: HashMap::new(),
            garbage: Vec::new(),
            new_style_groups: false,
        })
    }

    /// What an open of the backend gives, as metadata.
    pub fn from_open(open: crate::backend::MetaOpen) -> Result<FileMeta> {
        match open {
            crate::backend::MetaOpen::Eager(s) => FileMeta::from_records(&s.header, s.records),
            crate::backend::MetaOpen::Lazy { header, source } => FileMeta::from_lazy(&header, source),
        }
    }

    /// Rebuilds a file's metadata from stored records, checking everything it relies on.
    pub fn from_records(header: &[u8], records: Vec<(ObjId, Vec<u8>)>) -> Result<FileMeta> {
        let header: Header = serde_json::from_slice(header)
            .map_err(|e| VolError::new(Area::Storage, format!("corrupt file header record: {e}")))?;
        if header.format != FORMAT_NAME || header.version != FORMAT_VERSION {
            bail!(Area::Storage, "file header names format {:?} version {}, expected {FORMAT_NAME:?} version {FORMAT_VERSION}", header.format, header.version);
        }
        let mut objects = ObjectTable::with_capacity(header.next_id.min(records.len() as u64 * 2) as usize);
        // Parsed in parallel (the bulk of opening a big file), then put in place in order.
        enum Parsed {
            Object(Object),
            Bucket(ObjId, u64, Vec<(String, Link)>),
        }
        let parsed = super::parallel::map(&records, |(id, rec)| match parse_bucket_key(*id) {
            Some((group, b)) => parse_bucket(group, b, rec)
                .map(|links| Parsed::Bucket(group, b, links))
                .map_err(|e| VolError::new(Area::Storage, format!("corrupt bucket {b} of the links of group {group}: {e}"))),
            None => match super::record_codec::decode::<Object>(rec) {
                Ok(o) if o.id == *id => Ok(Parsed::Object(o)),
                Ok(o) => Err(VolError::new(Area::Storage, format!("record stored under object {id} describes object {}", o.id))),
                Err(e) => Err(VolError::new(Area::Storage, format!("corrupt record of object {id}: {e}"))),
            },
        });
        drop(records);
        let mut buckets = Vec::new();
        for p in parsed {
            match p? {
                Parsed::Object(o) => {
                    let id = o.id;
                    if id >= header.next_id {
                        bail!(Area::Storage, "object {id} is beyond the header's next id {}", header.next_id);
                    }
                    objects.insert(id, o);
                }
                Parsed::Bucket(group, b, links) => buckets.push((group, b, links)),
            }
        }
        for (group, b, links) in buckets {
            let Some(g) = objects.get_mut(&group).and_then(|o| o.as_group_mut()) else {
                bail!(Area::Storage, "bucket {b} of links belongs to object {group}, which is missing or not a group");
            };
            g.links
                .add_bucket(b, links)
                .map_err(|e| VolError::new(Area::Storage, format!("corrupt bucket {b} of the links of group {group}: {e}")))?;
        }
        let mut dirty = HashSet::new();
        for o in objects.values_mut() {
            if let Some(g) = o.as_group_mut() {
                if g.links.settle_loaded() {
                    // Written before links were split into buckets: store them split at the next commit.
                    g.links.touch_all();
                    dirty.insert(o.id);
                }
            }
        }
        if !matches!(objects.get(&header.root).map(|o| &o.kind), Some(ObjKind::Group(_))) {
            bail!(Area::Storage, "the root group record {} is missing or not a group", header.root);
        }
        // Every hard link learns the kind of its object (see `Link::kind`). One whose object is
        // gone (an application lowered the object's count below its links, as HDF5 allows)
        // stays, and says so when followed, as natively; the rest of the file is unharmed.
        let groups: Vec<ObjId> = objects.values().filter(|o| o.as_group().is_some()).map(|o| o.id).collect();
        for id in groups {
            let Some(g) = objects.get_mut(&id).and_then(|o| o.as_group_mut()) else { continue };
            let mut links = std::mem::take(&mut g.links);
            for (name, t) in links.learn_kinds(|t| objects.get(&t).map(|o| o.tag())) {
                log::warn!("link {name:?} of object {id} points at object {t}, which no longer exists");
            }
            if let Some(g) = objects.get_mut(&id).and_then(|o| o.as_group_mut()) {
                g.links = links;
            }
        }
        Ok(FileMeta {
            write_epoch: header.epoch + 1,
            header,
            header_dirty: !dirty.is_empty(),
            objects,
            dirty,
            deleted: HashSet::new(),
            open: HashMap::new(),
            garbage: Vec::new(),
            new_style_groups: false,
        })
    }
}

fn join(base: &str, rest: &[&str]) -> String {
    if rest.is_empty() {
        return base.to_string();
    }
    format!("{}/{}", base.trim_end_matches('/'), rest.join("/"))
}

fn store_err(e: impl std::fmt::Display) -> VolError {
    VolError::new(Area::Storage, format!("cannot encode a metadata record: {e}"))
}

/// The records object `id` writes: its own, and those of the link buckets `touched` (a bucket
/// left empty is deleted instead). Only reads, so objects encode in parallel.
fn encode_object(objects: &ObjectTable, id: ObjId, touched: &[u64]) -> Result<(Vec<(ObjId, Vec<u8>)>, Vec<ObjId>)> {
    let Some(o) = objects.get(&id) else { return Ok((Vec::new(), Vec::new())) };
    let mut recs = vec![(id, super::record_codec::encode(o).map_err(store_err)?)];
    let mut gone = Vec::new();
    if let Some(g) = o.as_group() {
        for &b in touched {
            match g.links.encode_bucket(id, b).map_err(store_err)? {
                Some(r) => recs.push((bucket_key(id, b), r)),
                None => gone.push(bucket_key(id, b)),
            }
        }
    }
    Ok((recs, gone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> ObjKind {
        ObjKind::Group(Group::new(shared(&[]), true, None))
    }

    #[test]
    fn link_phase_turns_dense_past_max_compact_and_back_below_min_dense() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, true));
        let g = m.new_object(ObjKind::Group(Group::new(shared(&[]), false, Some(LinkPhase::new(3, 2)))), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        let dense = |m: &FileMeta| m.group(g).unwrap().phase.unwrap().dense;
        let mut seen = vec![];
        for i in 0..5 {
            m.insert_link(g, &format!("s{i}"), LinkTarget::Soft("/".into())).unwrap();
            seen.push(dense(&m));
        }
        for i in 0..5 {
            m.remove_link(g, &format!("s{i}")).unwrap();
            seen.push(dense(&m));
        }
        assert_eq!(seen, [false, false, false, true, true, true, true, true, false, false]);
    }

    #[test]
    fn intermediate_groups_inherit_phase_and_order_tracking() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        let g = m.new_object(ObjKind::Group(Group::new(shared(&[]), true, Some(LinkPhase::new(3, 2)))), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        let (p, _) = m.resolve_parent(ROOT_ID, "/g/mid/x", Some(&[])).unwrap();
        let mid = m.group(p).unwrap();
        assert!(mid.track_corder);
        assert_eq!(mid.phase, Some(LinkPhase::new(3, 2)));
        let (p, _) = m.resolve_parent(ROOT_ID, "/plain/x", Some(&[])).unwrap();
        assert_eq!(m.group(p).unwrap().phase, None, "old-format parent, old-format file");
        m.new_style_groups = true;
        let (p, _) = m.resolve_parent(ROOT_ID, "/plain/y/x", Some(&[])).unwrap();
        assert_eq!(m.group(p).unwrap().phase, Some(LinkPhase::DEFAULT));
    }

    #[test]
    fn hard_soft_and_intermediate_paths() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, true));
        let (p, n) = m.resolve_parent(ROOT_ID, "/a/b/c", Some(&[])).unwrap();
        let c = m.new_object(group(), false);
        m.insert_link(p, &n, LinkTarget::Hard(c)).unwrap();
        assert_eq!(m.resolve(ROOT_ID, "a/b/c").unwrap(), Resolved::Local(c));
        assert_eq!(m.resolve(c, "/a//b/./c/").unwrap(), Resolved::Local(c));
        m.insert_link(ROOT_ID, "s", LinkTarget::Soft("/a/b".into())).unwrap();
        assert_eq!(m.resolve(ROOT_ID, "s/c").unwrap(), Resolved::Local(c));
        m.insert_link(ROOT_ID, "e", LinkTarget::external("f.h5".into(), "/x".into())).unwrap();
        assert_eq!(
            m.resolve(ROOT_ID, "e/y/z").unwrap(),
            Resolved::External { file: "f.h5".into(), path: "/x/y/z".into() }
        );
        assert!(m.resolve(ROOT_ID, "missing").is_err());
        assert!(m.resolve_parent(ROOT_ID, "/q/r", None).is_err());
    }

    #[test]
    fn deleting_last_link_collects_subtree_unless_open() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        let g = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        let h = m.new_object(group(), false);
        m.insert_link(g, "h", LinkTarget::Hard(h)).unwrap();
        m.opened(h);
        m.remove_link(ROOT_ID, "g").unwrap();
        assert!(!m.objects.contains_key(&g));
        assert!(m.objects.contains_key(&h), "open object must survive");
        m.closed(h);
        assert!(!m.objects.contains_key(&h));
    }

    #[test]
    fn index_orders() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, true));
        for n in ["b", "c", "a"] {
            let g = m.new_object(group(), false);
            m.insert_link(ROOT_ID, n, LinkTarget::Hard(g)).unwrap();
        }
        assert_eq!(m.link_name_by_idx(ROOT_ID, false, false, 0).unwrap(), "a");
        assert_eq!(m.link_name_by_idx(ROOT_ID, true, false, 0).unwrap(), "b");
        assert_eq!(m.link_name_by_idx(ROOT_ID, true, true, 0).unwrap(), "a");
        assert!(m.link_name_by_idx(ROOT_ID, false, false, 3).is_err());
    }

    #[test]
    fn records_round_trip_and_corruption_is_reported() {
        let mut m = FileMeta::new(vec![1, 2], shared(&[3]), (false, false));
        let g = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        let (h, ups, _) = m.take_changes().unwrap();
        let m2 = FileMeta::from_records(&h, ups.clone()).unwrap();
        assert_eq!(m2.resolve(ROOT_ID, "g").unwrap(), Resolved::Local(g));
        let mut bad = ups.clone();
        bad[0].1.truncate(5);
        assert!(FileMeta::from_records(&h, bad).unwrap_err().msg.contains("corrupt"));
        assert!(FileMeta::from_records(b"{}", ups).is_err());
        // A file read back knows the kinds of its links' objects without reading them.
        let (r, kind) = m2.resolve_linked(ROOT_ID, "/g").unwrap();
        assert_eq!((r, kind), (Resolved::Local(g), Some(KindTag::Group)));
        assert_eq!(m2.kind_rc(g, kind).unwrap(), (KindTag::Group, 1));
    }

    #[test]
    fn link_counts_answered_from_links_follow_every_change() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        let g = m.new_object(group(), false);
        let t = m.new_object(ObjKind::Datatype(Box::new(NamedType { dtype: vec![], tcpl: vec![] })), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        m.insert_link(ROOT_ID, "t", LinkTarget::Hard(t)).unwrap();
        let linked = |m: &FileMeta, path| {
            let (r, kind) = m.resolve_linked(ROOT_ID, path)?;
            let Resolved::Local(id) = r else { panic!("local") };
            m.kind_rc(id, kind)
        };
        assert_eq!(linked(&m, "g").unwrap(), (KindTag::Group, 1));
        assert_eq!(linked(&m, "t").unwrap(), (KindTag::Datatype, 1));
        // A second link, and a user of the committed type, are counted.
        m.insert_link(ROOT_ID, "g2", LinkTarget::Hard(g)).unwrap();
        m.hold_type(Some(t)).unwrap();
        assert_eq!(linked(&m, "g").unwrap(), (KindTag::Group, 2));
        assert_eq!(linked(&m, "t").unwrap(), (KindTag::Datatype, 2));
        m.release_type(Some(t));
        m.remove_link(ROOT_ID, "g2").unwrap();
        assert_eq!(linked(&m, "g").unwrap(), (KindTag::Group, 1));
        assert_eq!(linked(&m, "t").unwrap(), (KindTag::Datatype, 1));
        m.change_rc_on_request(g, 1).unwrap();
        assert_eq!(linked(&m, "g").unwrap(), (KindTag::Group, 2));
        // Lowered to nothing on request, the object goes, and its link answers that.
        m.change_rc_on_request(g, -2).unwrap();
        assert!(!m.objects.contains_key(&g));
        assert!(linked(&m, "g").unwrap_err().msg.contains("does not exist"));
        // The same when the object was open at the time and goes at its close, and when two
        // links named it: the one left dangles.
        let h = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "h", LinkTarget::Hard(h)).unwrap();
        m.insert_link(ROOT_ID, "h2", LinkTarget::Hard(h)).unwrap();
        m.opened(h);
        m.change_rc_on_request(h, -2).unwrap();
        assert_eq!(linked(&m, "h").unwrap(), (KindTag::Group, 0), "kept while open");
        m.closed(h);
        assert!(linked(&m, "h2").unwrap_err().msg.contains("does not exist"));
        // A file holding a dangling link still opens; the link still dangles.
        let (hdr, ups, _) = m.take_changes().unwrap();
        let m2 = FileMeta::from_records(&hdr, ups).unwrap();
        assert!(linked(&m2, "h").unwrap_err().msg.contains("does not exist"));
        assert_eq!(linked(&m2, "t").unwrap(), (KindTag::Datatype, 1));
    }

    #[test]
    fn object_times_start_at_creation_and_move_with_attribute_changes() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        let plain = m.new_object(group(), false);
        assert!(m.obj(plain).unwrap().times.is_none(), "kept only when asked");
        let g = m.new_object(group(), false);
        m.track_times(g).unwrap();
        let t = *m.obj(g).unwrap().times.as_deref().unwrap();
        assert!(t.btime > 1_700_000_000 && t == Times { atime: t.btime, mtime: t.btime, ctime: t.btime, btime: t.btime });
        let old = Times { atime: 10, mtime: 10, ctime: 10, btime: 10 };
        m.obj_mut(g).unwrap().times = Some(Box::new(old));
        let attr = Attribute {
            id: 0,
            name: "a".into(),
            dtype: shared(&[]),
            extent: Extent { kind: SpaceKind::Scalar, dims: vec![], maxdims: vec![] },
            acpl: shared(&[]),
            data: vec![],
            corder: 0,
            utf8: false,
            committed_type: None,
            fixed: true,
        };
        m.add_attr(g, attr).unwrap();
        let t = *m.obj(g).unwrap().times.as_deref().unwrap();
        assert!(t.atime > 10 && t.ctime > 10 && t.mtime == 10 && t.btime == 10, "{t:?}");
        // Stored and read back with the object; an object without times stores none.
        let (h, ups, _) = m.take_changes().unwrap();
        assert!(ups.iter().any(|(_, r)| crate::model::record_codec::decode::<Object>(r).is_ok_and(|o| o.id == g && o.times.is_some())));
        let m2 = FileMeta::from_records(&h, ups).unwrap();
        assert_eq!(m2.obj(g).unwrap().times.as_deref(), Some(&t));
        assert!(m2.obj(plain).unwrap().times.is_none());
    }

    #[test]
    fn json_records_of_earlier_files_read_as_binary_ones() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, false));
        let top = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "top", LinkTarget::Hard(top)).unwrap();
        for i in 0..300 {
            let g = m.new_object(group(), false);
            m.insert_link(top, &format!("g{i}"), LinkTarget::Hard(g)).unwrap();
        }
        let (h, ups, _) = m.take_changes().unwrap();
        assert!(ups.iter().all(|(_, r)| r[0] != b'{'), "written as MessagePack");
        // The same records as a file of before wrote them: objects and link buckets in JSON.
        let json: Vec<(ObjId, Vec<u8>)> = ups
            .iter()
            .map(|(id, r)| {
                let json = match parse_bucket_key(*id) {
                    Some(_) => serde_json::to_vec(&super::super::record_codec::decode::<serde_json::Value>(r).unwrap()),
                    None => serde_json::to_vec(&super::super::record_codec::decode::<Object>(r).unwrap()),
                };
                (*id, json.unwrap())
            })
            .collect();
        assert!(json.iter().all(|(_, r)| r[0] == b'{'));
        let old = FileMeta::from_records(&h, json).unwrap();
        let new = FileMeta::from_records(&h, ups).unwrap();
        assert_eq!(old.group(top).unwrap().links, new.group(top).unwrap().links);
        assert_eq!(old.group(top).unwrap().links.len(), 300);
        assert_eq!(old.resolve(ROOT_ID, "/top/g299").unwrap(), m.resolve(ROOT_ID, "/top/g299").unwrap());
    }

    #[test]
    fn many_records_encode_and_parse_in_parallel_as_one_by_one() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, false));
        let top = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "top", LinkTarget::Hard(top)).unwrap();
        for i in 0..3000 {
            let g = m.new_object(group(), false);
            m.insert_link(top, &format!("g{i}"), LinkTarget::Hard(g)).unwrap();
        }
        let (h, ups, dels) = m.take_changes().unwrap();
        assert!(ups.len() > 3000 && dels.is_empty());
        // Records come back in the order taken, whatever the threads did.
        let again: Vec<ObjId> = ups.iter().map(|(id, _)| *id).collect();
        let m2 = FileMeta::from_records(&h, ups).unwrap();
        assert_eq!(m2.group(top).unwrap().links.len(), 3000);
        assert_eq!(m2.group(top).unwrap().links, m.group(top).unwrap().links);
        assert_eq!(m2.resolve(ROOT_ID, "/top/g2999").unwrap(), m.resolve(ROOT_ID, "/top/g2999").unwrap());
        assert!(again.windows(2).all(|w| w[0] != w[1]));
        // Every record written again; a damaged one among thousands is reported by its id.
        let mut m2 = m2;
        m2.dirty = m2.objects.values().map(|o| o.id).collect();
        for o in m2.objects.values_mut() {
            if let Some(g) = o.as_group_mut() {
                g.links.touch_all();
            }
        }
        let (h, mut ups, _) = m2.take_changes().unwrap();
        assert!(ups.len() > 3000);
        let k = ups.len() / 2;
        let id = ups[k].0;
        ups[k].1.truncate(3);
        let e = FileMeta::from_records(&h, ups).unwrap_err();
        assert!(e.msg.contains(&format!("{id}")), "{}", e.msg);
    }

    /// Applies a commit to a record map, as a store does.
    fn apply(store: &mut std::collections::BTreeMap<ObjId, Vec<u8>>, m: &mut FileMeta) -> (Vec<u8>, usize) {
        let (h, ups, dels) = m.take_changes().unwrap();
        let n = ups.len() + dels.len();
        for d in dels {
            store.remove(&d);
        }
        store.extend(ups);
        (h, n)
    }

    #[test]
    fn big_groups_commit_only_the_buckets_that_changed() {
        let mut store = std::collections::BTreeMap::new();
        let mut m = FileMeta::new(vec![], shared(&[]), (true, false));
        let g = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        for i in 0..2000 {
            m.insert_link(g, &format!("s{i}"), LinkTarget::Soft(format!("/t{i}"))).unwrap();
        }
        apply(&mut store, &mut m);
        assert!(store.keys().filter(|k| parse_bucket_key(**k).is_some()).count() >= 7);

        // One new link: the group record and one bucket, not 2000 links.
        m.insert_link(g, "new", LinkTarget::Soft("/x".into())).unwrap();
        let (h, n) = apply(&mut store, &mut m);
        assert_eq!(n, 2);
        m.remove_link(g, "s5").unwrap();
        m.remove_link(g, "s1999").unwrap();
        let (h2, n) = apply(&mut store, &mut m);
        assert_eq!(n, 2, "the group record (bucket 0 is inline) and bucket 7");
        let back = FileMeta::from_records(&h2, store.clone().into_iter().collect()).unwrap();
        assert_eq!(back.group(g).unwrap().links, m.group(g).unwrap().links);
        assert!(back.link(g, "s5").is_err());
        assert_eq!(back.link(g, "new").unwrap().corder, 2000);
        let _ = h;

        // Emptying the group and then deleting it leaves no bucket behind.
        for i in 0..2000 {
            let _ = m.remove_link(g, &format!("s{i}"));
        }
        m.remove_link(g, "new").unwrap();
        m.remove_link(ROOT_ID, "g").unwrap();
        let (h3, _) = apply(&mut store, &mut m);
        assert!(store.keys().all(|k| parse_bucket_key(*k).is_none()), "{:?}", store.keys().collect::<Vec<_>>());
        FileMeta::from_records(&h3, store.into_iter().collect()).unwrap();
    }

    #[test]
    fn a_bucket_of_a_missing_group_is_reported() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        let (h, mut ups, _) = m.take_changes().unwrap();
        ups.push((bucket_key(77, 1), br#"{"group":77,"bucket":1,"links":[]}"#.to_vec()));
        assert!(FileMeta::from_records(&h, ups).unwrap_err().msg.contains("object 77"));
    }

    #[test]
    fn a_commit_that_cannot_be_encoded_keeps_every_change_pending() {
        let mut m = FileMeta::new(vec![], shared(&[]), (false, false));
        m.take_changes().unwrap();
        // An object id too large to name bucket records (no real file gets there).
        m.header.next_id = MAX_BUCKETED_OBJ + 1;
        let g = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "g", LinkTarget::Hard(g)).unwrap();
        for i in 0..300 {
            m.insert_link(g, &format!("s{i}"), LinkTarget::Soft("/".into())).unwrap();
        }
        assert!(m.take_changes().unwrap_err().msg.contains("more objects or links"));
        assert!(m.has_changes() && m.dirty.contains(&g) && m.dirty.contains(&ROOT_ID));
        // Still pending, still refused: nothing was dropped on the way.
        assert!(m.take_changes().is_err());
    }

    /// Committed records as a lazy store holds them, counting the reads.
    struct Recs(parking_lot::Mutex<std::collections::BTreeMap<ObjId, Vec<u8>>>, std::sync::atomic::AtomicUsize);

    impl crate::backend::MetaSource for Recs {
        fn ranges(&self, ranges: &[(ObjId, ObjId)]) -> Result<Vec<(ObjId, Vec<u8>)>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let m = self.0.lock();
            Ok(ranges.iter().flat_map(|&(lo, hi)| m.range(lo..=hi).map(|(k, v)| (*k, v.clone()))).collect())
        }
    }

    #[test]
    fn a_lazy_open_reads_pages_as_asked_and_keeps_changes_and_deletes_its_own() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, false));
        let top = m.new_object(group(), false);
        m.insert_link(ROOT_ID, "top", LinkTarget::Hard(top)).unwrap();
        for i in 0..2000 {
            let g = m.new_object(group(), false);
            m.insert_link(top, &format!("g{i}"), LinkTarget::Hard(g)).unwrap();
        }
        let mut store = std::collections::BTreeMap::new();
        let (h, _) = apply(&mut store, &mut m);
        let src = std::sync::Arc::new(Recs(parking_lot::Mutex::new(store), 0.into()));
        let mut l = FileMeta::from_lazy(&h, src.clone()).unwrap();
        assert_eq!(src.1.load(std::sync::atomic::Ordering::Relaxed), 0, "the open reads no record");
        // The big group comes with all its buckets; its links answer as before.
        assert_eq!(l.group(top).unwrap().links, m.group(top).unwrap().links);
        let g5 = l.resolve_local(ROOT_ID, "/top/g5").unwrap();
        assert_eq!(l.kind_rc(g5, None).unwrap(), (KindTag::Group, 1));
        // A removed object stays removed even though the store still has it; a changed one
        // is the table's own.
        l.remove_link(top, "g5").unwrap();
        assert!(l.obj(g5).is_err() && !l.objects.contains_key(&g5));
        l.touch(top).unwrap();
        assert!(l.dirty.contains(&top));
        let (_, ups, dels) = l.take_changes().unwrap();
        assert!(dels.contains(&g5) && ups.iter().any(|(id, _)| *id == top));
        // A damaged record fails the call that needs it with an error naming it, and again.
        let far = l.resolve_local(ROOT_ID, "/top/g1999").unwrap();
        let mut l2 = FileMeta::from_lazy(&h, src.clone()).unwrap();
        src.0.lock().insert(far, b"{not json".to_vec());
        let e = l2.obj(far).unwrap_err();
        assert!(e.msg.contains(&format!("corrupt record of object {far}")), "{}", e.msg);
        assert!(l2.obj_mut(far).unwrap_err().msg.contains("corrupt"));
        assert!(l2.obj(ROOT_ID).is_ok(), "other pages are unharmed");
    }

    #[test]
    fn a_lazy_open_refuses_a_header_whose_next_id_no_page_table_could_hold() {
        let mut m = FileMeta::new(vec![], shared(&[]), (true, false));
        let mut store = std::collections::BTreeMap::new();
        let (h, _) = apply(&mut store, &mut m);
        let mut header: serde_json::Value = serde_json::from_slice(&h).unwrap();
        header["next_id"] = serde_json::json!(1u64 << 60);
        let h = serde_json::to_vec(&header).unwrap();
        let src = std::sync::Arc::new(Recs(parking_lot::Mutex::new(store), 0.into()));
        let e = FileMeta::from_lazy(&h, src).unwrap_err();
        assert!(e.msg.contains("next object id"), "{}", e.msg);
    }
}
