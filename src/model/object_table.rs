//! The objects of one file by id. Ids are handed out in sequence, so objects live in a vector
//! indexed by id: a lookup is one memory access to the object, where a hash map needs two or
//! three, and this is on the path of every call that names an object (in files of millions of
//! objects those accesses are cache misses). Ids are never reused, so a long-lived file can
//! have ids far beyond its live objects, and a damaged record can carry any id: ids past what
//! the vector may grow to (twice the live objects, plus a margin) go to a hash map instead, so
//! memory follows the objects that exist, not the ids.
//!
//! Most objects have exactly one hard link. The table keeps the ids of those that do not, and
//! a bitmap of the ids that are live (an eighth of a byte per id, so it stays in cache), so
//! that a call reaching an object through a link that knows the object's kind (`Link::kind`)
//! can answer "is it there, what is it, how many links" without reading it: `H5Oget_info`
//! (basic fields), `H5Oget_type`, `H5Gopen` and the close that follows cost one memory access,
//! the link's, in a group of any size. (A link can outlive its object when an application
//! lowers the count with `H5Odecr_refcount`; the bitmap then says the object is gone.)
use super::lazy_records::LazyBase;
use super::objects::{KindTag, Object};
use crate::backend::ObjId;
// Seeded per process like std's SipHash, several times faster on integers.
use foldhash::{HashMap, HashSet};

/// Ids the vector may always reach, whatever the number of live objects.
const DENSE_MARGIN: usize = 4096;

#[derive(Debug, Default)]
pub struct ObjectTable {
    dense: Vec<Option<Object>>,
    sparse: HashMap<ObjId, Object>,
    len: usize,
    /// Live objects whose hard-link count is not 1.
    irregular: HashSet<ObjId>,
    /// Bit `id` set: object `id` is live and in `dense`.
    live: Vec<u64>,
    /// Some object left the table since it was made: until then every linked object is live,
    /// and the bitmap need not be asked.
    removed_any: bool,
    /// A file opened lazily: the committed objects not (yet) moved here, read on first use.
    base: Option<Box<LazyBase>>,
    /// Ids of `base` objects that went: what the store still holds of them until the next
    /// commit is no longer there.
    gone: HashSet<ObjId>,
}

impl ObjectTable {
    pub fn with_capacity(n: usize) -> ObjectTable {
        ObjectTable { dense: Vec::with_capacity(n), ..Default::default() }
    }
    /// A table whose committed objects are read from `base` as they are asked for.
    pub fn lazy(base: LazyBase) -> ObjectTable {
        ObjectTable { base: Some(Box::new(base)), ..Default::default() }
    }
    /// Why `id` cannot be had: a page of committed objects that could not be read, or else
    /// that it does not exist.
    pub fn missing(&self, id: ObjId) -> crate::error::VolError {
        match self.base.as_ref().and_then(|b| b.take_error()) {
            Some(e) => e,
            None => crate::error::VolError::new(crate::error::Area::Object, format!("object {id} does not exist (deleted?)")),
        }
    }
    fn own(&self, id: &ObjId) -> Option<&Object> {
        match self.slot(*id) {
            Some(i) => self.dense[i].as_ref(),
            None => self.sparse.get(id),
        }
    }
    fn from_base(&self, id: ObjId) -> Option<&Object> {
        let b = self.base.as_ref()?;
        if id >= b.limit() || self.gone.contains(&id) {
            return None;
        }
        b.get(id)
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn slot(&self, id: ObjId) -> Option<usize> {
        usize::try_from(id).ok().filter(|i| *i < self.dense.len())
    }
    pub fn get(&self, id: &ObjId) -> Option<&Object> {
        match self.own(id) {
            Some(o) => Some(o),
            None if self.base.is_some() => self.from_base(*id),
            None => None,
        }
    }
    /// The kind and hard-link count of `id`, reached through a hard link that recorded the
    /// kind `linked`: when `id` has that one link, answered without reading the object.
    pub fn kind_rc(&self, id: ObjId, linked: Option<KindTag>) -> Option<(KindTag, u32)> {
        match linked {
            Some(kind) if (!self.removed_any || self.is_live_dense(id)) && !self.irregular.contains(&id) => {
                debug_assert_eq!(self.get(&id).map(|o| (o.tag(), o.rc())), Some((kind, 1)), "object {id}");
                Some((kind, 1))
            }
            _ => self.get(&id).map(|o| (o.tag(), o.rc())),
        }
    }
    /// Whether `id` has more or fewer than one hard link, when that is answered without
    /// reading it: false means one link, or no such object.
    pub fn rc_may_differ_from_one(&self, id: ObjId) -> bool {
        self.irregular.contains(&id) || (self.base.is_some() && self.own(&id).is_none() && self.from_base(id).is_some_and(|o| o.rc() != 1))
    }
    /// Sets the hard-link count of object `id`; false when there is no such object.
    pub fn set_rc(&mut self, id: ObjId, rc: u32) -> bool {
        let Some(o) = self.get_mut(&id) else { return false };
        o.set_rc_in_table(rc);
        if rc == 1 {
            self.irregular.remove(&id);
        } else {
            self.irregular.insert(id);
        }
        true
    }
    /// Adds `delta` to the hard-link count of object `id` (not below 0) and returns the new
    /// count; None when there is no such object.
    pub fn add_rc(&mut self, id: ObjId, delta: i64) -> Option<u32> {
        let rc = (self.get(&id)?.rc() as i64 + delta).clamp(0, u32::MAX as i64) as u32;
        self.set_rc(id, rc);
        Some(rc)
    }
    fn is_live_dense(&self, id: ObjId) -> bool {
        self.slot(id).is_some_and(|i| self.live.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0))
    }
    fn set_live(&mut self, i: usize, live: bool) {
        if self.live.len() <= i / 64 {
            self.live.resize(i / 64 + 1, 0);
        }
        if live {
            self.live[i / 64] |= 1 << (i % 64);
        } else {
            self.live[i / 64] &= !(1 << (i % 64));
        }
    }
    /// The object, to change anything but its hard-link count (see `set_rc`); its kind is
    /// fixed at creation.
    pub fn get_mut(&mut self, id: &ObjId) -> Option<&mut Object> {
        if self.base.is_some() && self.own(id).is_none() && self.from_base(*id).is_some() {
            // Changed objects live in the table itself; the committed copy is read no more.
            let o = self.base.as_mut().and_then(|b| b.take(*id)).expect("read just now");
            self.insert(*id, o);
        }
        match self.slot(*id) {
            Some(i) => self.dense[i].as_mut(),
            None => self.sparse.get_mut(id),
        }
    }
    pub fn contains_key(&self, id: &ObjId) -> bool {
        self.get(id).is_some()
    }
    pub fn insert(&mut self, id: ObjId, o: Object) -> Option<Object> {
        if !self.gone.is_empty() {
            self.gone.remove(&id);
        }
        if o.rc() == 1 {
            self.irregular.remove(&id);
        } else {
            self.irregular.insert(id);
        }
        let reach = 2 * self.len + DENSE_MARGIN;
        let old = match usize::try_from(id) {
            Ok(i) if i < self.dense.len() => {
                self.set_live(i, true);
                self.dense[i].replace(o)
            }
            Ok(i) if i < reach => {
                let from = self.dense.len();
                self.dense.resize_with(i + 1, || None);
                // Ids the vector now covers may have been placed in the map before.
                if !self.sparse.is_empty() {
                    for j in from..i {
                        self.dense[j] = self.sparse.remove(&(j as ObjId));
                        let live = self.dense[j].is_some();
                        self.set_live(j, live);
                    }
                }
                self.set_live(i, true);
                self.dense[i].replace(o)
            }
            _ => self.sparse.insert(id, o),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }
    pub fn remove(&mut self, id: &ObjId) -> Option<Object> {
        let old = match self.slot(*id) {
            Some(i) => {
                self.set_live(i, false);
                self.dense[i].take()
            }
            None => self.sparse.remove(id),
        };
        if old.is_some() {
            self.removed_any = true;
            self.len -= 1;
            self.irregular.remove(id);
        }
        let committed = self.base.as_ref().is_some_and(|b| *id < b.limit());
        if !committed {
            return old;
        }
        let old = match old {
            Some(o) => Some(o),
            None if self.gone.contains(id) => None,
            None => {
                self.removed_any = true;
                self.base.as_mut().and_then(|b| b.take(*id))
            }
        };
        if old.is_some() {
            self.gone.insert(*id);
        }
        old
    }
    /// Every object; of a file opened lazily, those read so far.
    pub fn values(&self) -> impl Iterator<Item = &Object> {
        let base = self.base.iter().flat_map(|b| b.loaded()).filter(|o| !self.gone.contains(&o.id));
        self.dense.iter().flatten().chain(self.sparse.values()).chain(base)
    }
    /// Objects to change anything but their hard-link counts (see `set_rc`); of a file opened
    /// lazily, only those changed since.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Object> {
        self.dense.iter_mut().flatten().chain(self.sparse.values_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_stay_small() {
        // Big files look objects up at random: every extra cache line an object spans is
        // another miss on each call (datasets and link tables are boxed for this).
        assert_eq!(std::mem::size_of::<Object>(), 128);
        assert_eq!(std::mem::size_of::<Option<Object>>(), 128);
    }

    #[test]
    fn slots_follow_ids() {
        let mut t = ObjectTable::default();
        let o = |id| Object::new(id, crate::model::objects::ObjKind::Datatype(Box::new(crate::model::objects::NamedType { dtype: vec![], tcpl: vec![] })));
        assert!(t.insert(5, o(5)).is_none());
        assert!(t.insert(2, o(2)).is_none());
        assert_eq!((t.len(), t.get(&5).map(|o| o.id), t.get(&3).is_none(), t.get(&u64::MAX).is_none()), (2, Some(5), true, true));
        assert_eq!(t.remove(&5).map(|o| o.id), Some(5));
        assert!(t.remove(&5).is_none());
        assert_eq!(t.values().map(|o| o.id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(t.len(), 1);
        // A far id goes to the map, not into a vector that long.
        assert!(t.insert(1 << 60, o(1 << 60)).is_none());
        assert!(t.dense.len() <= DENSE_MARGIN && t.get(&(1 << 60)).is_some());
        // An id placed in the map moves to the vector when the vector grows over it.
        let mid = (DENSE_MARGIN + 10) as ObjId;
        assert!(t.insert(mid, o(mid)).is_none());
        assert!(t.sparse.contains_key(&mid));
        for id in 10..DENSE_MARGIN as ObjId {
            t.insert(id, o(id));
        }
        assert!(t.insert(mid + 5, o(mid + 5)).is_none());
        assert!(!t.sparse.contains_key(&mid) && t.get(&mid).map(|o| o.id) == Some(mid));
        assert_eq!(t.len(), 1 + 1 + (DENSE_MARGIN - 10) + 2);
        assert_eq!(t.values().count(), t.len());
        t.remove(&(1 << 60));
        assert_eq!(t.values().count(), t.len());
    }
}
