//! The objects of one file by id. Ids are handed out in sequence, so a vector indexed by id
//! finds an object with one memory access, where a hash map needs two or three: this is on
//! the path of every call that names an object, and in files of millions of objects those
//! accesses are cache misses.
use super::objects::Object;
use crate::backend::ObjId;

#[derive(Debug, Default)]
pub struct ObjectTable {
    slots: Vec<Option<Object>>,
    len: usize,
}

impl ObjectTable {
    pub fn with_capacity(n: usize) -> ObjectTable {
        ObjectTable { slots: Vec::with_capacity(n), len: 0 }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, id: &ObjId) -> Option<&Object> {
        self.slots.get(usize::try_from(*id).ok()?)?.as_ref()
    }
    pub fn get_mut(&mut self, id: &ObjId) -> Option<&mut Object> {
        self.slots.get_mut(usize::try_from(*id).ok()?)?.as_mut()
    }
    pub fn contains_key(&self, id: &ObjId) -> bool {
        self.get(id).is_some()
    }
    /// Callers bound `id` by the file's next id, so the table never grows past the ids in use.
    pub fn insert(&mut self, id: ObjId, o: Object) -> Option<Object> {
        let i = usize::try_from(id).expect("object ids fit in memory");
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        let old = self.slots[i].replace(o);
        if old.is_none() {
            self.len += 1;
        }
        old
    }
    pub fn remove(&mut self, id: &ObjId) -> Option<Object> {
        let old = self.slots.get_mut(usize::try_from(*id).ok()?)?.take();
        if old.is_some() {
            self.len -= 1;
        }
        old
    }
    pub fn values(&self) -> impl Iterator<Item = &Object> {
        self.slots.iter().flatten()
    }
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Object> {
        self.slots.iter_mut().flatten()
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
        let o = |id| Object::new(id, crate::model::objects::ObjKind::Datatype(crate::model::objects::NamedType { dtype: vec![], tcpl: vec![] }));
        assert!(t.insert(5, o(5)).is_none());
        assert!(t.insert(2, o(2)).is_none());
        assert_eq!((t.len(), t.get(&5).map(|o| o.id), t.get(&3).is_none(), t.get(&u64::MAX).is_none()), (2, Some(5), true, true));
        assert_eq!(t.remove(&5).map(|o| o.id), Some(5));
        assert!(t.remove(&5).is_none());
        assert_eq!(t.values().map(|o| o.id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(t.len(), 1);
    }
}
