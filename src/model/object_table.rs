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
