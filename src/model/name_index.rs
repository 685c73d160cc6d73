//! A group's links by name: an open-addressed table (linear probing, at most half full) whose
//! slots hold a name and its link together in one aligned cache line. A lookup in a group of a
//! million links then reads one line of memory; a table with separate control bytes (std's,
//! hashbrown's) reads two, and at that size each is a cache miss.
use super::objects::Link;
use compact_str::CompactString;
use std::hash::BuildHasher;

type Name = CompactString;

#[derive(Clone, Default)]
#[repr(C, align(64))]
struct Slot(Option<(Name, Link)>);

#[derive(Clone, Default)]
pub struct NameIndex {
    /// Empty, or a power of two long.
    slots: Vec<Slot>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter().map(|(n, l)| (n, l))).finish()
    }
}

/// Equal when they hold the same links, wherever those sit.
impl PartialEq for NameIndex {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().all(|(n, l)| other.get(n) == Some(l))
    }
}

impl NameIndex {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn home(&self, name: &str) -> usize {
        self.hasher.hash_one(name) as usize & (self.slots.len() - 1)
    }
    /// The slot holding `name`.
    fn find(&self, name: &str) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(name);
        // The table is never full, so an empty slot ends every probe.
        while let Some((n, _)) = &self.slots[i].0 {
            if n.as_str() == name {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
        None
    }
    pub fn get(&self, name: &str) -> Option<&Link> {
        self.find(name).and_then(|i| self.slots[i].0.as_ref()).map(|(_, l)| l)
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Link> {
        let i = self.find(name)?;
        self.slots[i].0.as_mut().map(|(_, l)| l)
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
    /// Adds or replaces; returns the link replaced.
    pub fn insert(&mut self, name: Name, link: Link) -> Option<Link> {
        if let Some(i) = self.find(&name) {
            return self.slots[i].0.as_mut().map(|(_, l)| std::mem::replace(l, link));
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(name, link);
        self.len += 1;
        None
    }
    /// Puts a name known to be absent into the first free slot of its probe.
    fn place(&mut self, name: Name, link: Link) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(&name);
        while self.slots[i].0.is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i].0 = Some((name, link));
    }
    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); cap]);
        for (name, link) in old.into_iter().filter_map(|s| s.0) {
            self.place(name, link);
        }
    }
    pub fn remove(&mut self, name: &str) -> Option<(Name, Link)> {
        let mut hole = self.find(name)?;
        let taken = self.slots[hole].0.take();
        self.len -= 1;
        // Backward shift: every later entry of the run whose probe passes over the hole moves
        // into it, so probes never need tombstones.
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((n, _)) = &self.slots[j].0 else { break };
            let home = self.home(n);
            // Whether `home` lies cyclically in (hole, j]: if so the entry stays.
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.slots[hole].0 = self.slots[j].0.take();
                hole = j;
            }
        }
        taken
    }
    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
    }
    /// In no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Link)> + '_ {
        self.slots.iter().filter_map(|s| s.0.as_ref()).map(|(n, l)| (n.as_str(), l))
    }
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Link> + '_ {
        self.slots.iter_mut().filter_map(|s| s.0.as_mut()).map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::objects::LinkTarget;

    #[test]
    fn a_name_and_its_link_fill_one_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        assert_eq!(std::mem::align_of::<Slot>(), 64);
    }

    #[test]
    fn agrees_with_a_map_through_inserts_and_removes() {
        let mut t = NameIndex::default();
        let mut m = std::collections::HashMap::new();
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for step in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A small name space, so that names come back after removal and runs collide.
            let name = format!("n{}", x % 3000);
            if x % 3 == 0 {
                assert_eq!(t.remove(&name).map(|(n, l)| (n.to_string(), l)), m.remove(&name).map(|l| (name.clone(), l)));
            } else {
                let link = Link::new(LinkTarget::Hard(step));
                assert_eq!(t.insert(Name::from(name.as_str()), link.clone()), m.insert(name.clone(), link));
            }
            assert_eq!(t.len(), m.len());
        }
        for (n, l) in &m {
            assert_eq!(t.get(n), Some(l), "{n}");
        }
        assert_eq!(t.iter().count(), m.len());
        assert!(t.get("absent").is_none() && !t.contains_key("n-1"));
        let copy = t.clone();
        assert_eq!(copy, t);
        t.clear();
        assert!(t.is_empty() && t.get("n1").is_none() && t.remove("n1").is_none());
        assert_ne!(copy, t);
    }
}
