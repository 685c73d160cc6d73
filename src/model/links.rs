//! A group's links. Lookups by name go through a hash index, because groups grow to millions
//! of links and a lookup must not slow down with them. Listing keeps name order (as HDF5 sorts,
//! by bytes) and creation order. Stored, the links are split by creation order into buckets of
//! `BUCKET_SLOTS`: bucket 0 lives in the group's own record, every other bucket in a record of
//! its own, so a commit after a few changes rewrites a few buckets, never the whole group.
use super::objects::{list_names, nth_name, KindTag, Link, LinkTarget};
use crate::backend::ObjId;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use super::name_index::NameIndex;
use compact_str::CompactString;
use std::collections::{BTreeMap, BTreeSet};

/// Names up to 24 bytes sit inline, so a lookup compares them without one more memory access.
type Name = CompactString;

/// Creation-order slots per stored bucket.
pub const BUCKET_SLOTS: i64 = 256;

/// Record keys of link buckets have this bit set; object records never do.
const BUCKET_KEY_BIT: u64 = 1 << 63;
/// Bits of a bucket key that number the bucket; the object id sits above them.
const BUCKET_BITS: u32 = 24;
/// Object ids above this cannot name a bucket record (2^39: far beyond any file's objects).
pub const MAX_BUCKETED_OBJ: ObjId = (1 << (63 - BUCKET_BITS)) - 1;

/// The record key of bucket `bucket` (>= 1) of group `obj`.
pub fn bucket_key(obj: ObjId, bucket: u64) -> u64 {
    BUCKET_KEY_BIT | obj << BUCKET_BITS | bucket
}

/// The group and bucket a record key names, when it names a bucket.
pub fn parse_bucket_key(key: u64) -> Option<(ObjId, u64)> {
    (key & BUCKET_KEY_BIT != 0).then(|| ((key & !BUCKET_KEY_BIT) >> BUCKET_BITS, key & ((1 << BUCKET_BITS) - 1)))
}

pub fn bucket_of(corder: i64) -> u64 {
    corder.max(0).div_euclid(BUCKET_SLOTS) as u64
}

/// The highest bucket number a key can hold.
pub const MAX_BUCKET: u64 = (1 << BUCKET_BITS) - 1;

/// Most groups are leaves: an empty table is one null pointer, which keeps every object small
/// (objects are looked up at random in big files, and each cache line they span costs).
#[derive(Debug, Clone, Default)]
pub struct LinkTable(Option<Box<Tables>>);

/// An emptied table equals one never allocated.
impl PartialEq for LinkTable {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

static EMPTY: once_cell::sync::Lazy<Tables> = once_cell::sync::Lazy::new(Tables::default);

impl std::ops::Deref for LinkTable {
    type Target = Tables;
    fn deref(&self) -> &Tables {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl std::ops::DerefMut for LinkTable {
    fn deref_mut(&mut self) -> &mut Tables {
        self.0.get_or_insert_with(Default::default)
    }
}

/// Changes that would find nothing to change in an empty table leave it unallocated.
impl LinkTable {
    pub fn remove(&mut self, name: &str) -> Option<Link> {
        self.0.as_mut()?.remove(name)
    }
    pub fn clear(&mut self) {
        if let Some(t) = self.0.as_mut() {
            t.clear()
        }
    }
    pub fn touch_all(&mut self) {
        if let Some(t) = self.0.as_mut() {
            t.touch_all()
        }
    }
    pub fn take_touched(&mut self) -> Vec<u64> {
        self.0.as_mut().map(|t| t.take_touched()).unwrap_or_default()
    }
    pub fn settle_loaded(&mut self) -> bool {
        self.0.as_mut().is_some_and(|t| t.settle_loaded())
    }
    /// Gives each hard link the kind of its object (see `Link::kind`); returns the links whose
    /// object `kind_of` does not know (they dangle), with their targets.
    pub fn learn_kinds(&mut self, kind_of: impl Fn(ObjId) -> Option<KindTag>) -> Vec<(String, ObjId)> {
        let Some(t) = self.0.as_mut() else { return Vec::new() };
        let mut dangling = Vec::new();
        for (name, l) in t.names.iter_mut() {
            if let LinkTarget::Hard(id) = l.target {
                l.kind = kind_of(id);
                if l.kind.is_none() {
                    dangling.push((name.to_string(), id));
                }
            }
        }
        for l in t.map.values_mut() {
            if let LinkTarget::Hard(id) = l.target {
                l.kind = kind_of(id);
            }
        }
        dangling
    }
}

#[derive(Debug, Clone, Default)]
pub struct Tables {
    map: NameIndex,
    /// The links again, in name order: listing a big group then walks memory in order
    /// instead of probing the hash index once per link.
    names: BTreeMap<Name, Link>,
    by_order: BTreeMap<i64, Name>,
    next_corder: i64,
    /// Buckets changed since the last commit took them (bucket 0 is the group record).
    touched: BTreeSet<u64>,
    /// Read from a group record that held links beyond bucket 0 (the first layout did).
    loaded_unsplit: bool,
}

impl PartialEq for Tables {
    fn eq(&self, other: &Self) -> bool {
        self.next_corder == other.next_corder && self.map == other.map
    }
}

impl Tables {
    /// The creation order the next link gets.
    pub fn next_corder(&self) -> i64 {
        self.next_corder
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, name: &str) -> Option<&Link> {
        self.map.get(name)
    }
    /// Inserts under the next creation-order index and returns that index.
    pub fn insert(&mut self, name: String, mut link: Link) -> i64 {
        let c = self.next_corder;
        link.corder = c;
        self.insert_at(name, link);
        c
    }
    /// Inserts with the creation order `link` already carries.
    pub fn insert_at(&mut self, name: String, link: Link) {
        let name = Name::from(name);
        if let Some(old) = self.map.get(&name) {
            // Replaced under the same name: its old slot is free again.
            let c = old.corder;
            self.by_order.remove(&c);
            self.touched.insert(bucket_of(c));
        }
        self.next_corder = self.next_corder.max(link.corder + 1);
        self.touched.insert(bucket_of(link.corder));
        self.by_order.insert(link.corder, name.clone());
        self.names.insert(name.clone(), link.clone());
        self.map.insert(name, link);
    }
    pub fn remove(&mut self, name: &str) -> Option<Link> {
        let (_, link) = self.map.remove(name)?;
        self.names.remove(name);
        self.by_order.remove(&link.corder);
        self.touched.insert(bucket_of(link.corder));
        if self.map.is_empty() {
            // As HDF5 does: an emptied index starts creation order again from zero.
            self.next_corder = 0;
        }
        Some(link)
    }
    pub fn clear(&mut self) {
        self.touch_all();
        self.map.clear();
        self.names.clear();
        self.by_order.clear();
        self.next_corder = 0;
    }
    /// Links in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Link)> + '_ {
        self.names.iter().map(|(n, l)| (&**n, l))
    }
    /// Links in the requested order.
    pub fn ordered(&self, by_corder: bool, decreasing: bool) -> Box<dyn Iterator<Item = (&str, &Link)> + '_> {
        fn pair<'a>(map: &'a NameIndex, n: &'a Name) -> (&'a str, &'a Link) {
            (&**n, map.get(n).expect("every ordered name is indexed"))
        }
        let map = &self.map;
        let get = move |n| pair(map, n);
        match (by_corder, decreasing) {
            (false, false) => Box::new(self.names.iter().map(|(n, l)| (&**n, l))),
            (false, true) => Box::new(self.names.iter().rev().map(|(n, l)| (&**n, l))),
            (true, false) => Box::new(self.by_order.values().map(get)),
            (true, true) => Box::new(self.by_order.values().rev().map(get)),
        }
    }
    /// Names in the requested order.
    pub fn names(&self, by_corder: bool, decreasing: bool) -> Vec<String> {
        match by_corder {
            true => list_names(self.by_order.values(), decreasing),
            false => list_names(self.names.keys(), decreasing),
        }
    }
    pub fn nth_name(&self, by_corder: bool, decreasing: bool, n: u64) -> Option<String> {
        match by_corder {
            true => nth_name(self.by_order.values(), decreasing, n),
            false => nth_name(self.names.keys(), decreasing, n),
        }
    }

    /// Every bucket that holds or held links, for a commit that must rewrite them all.
    pub fn touch_all(&mut self) {
        self.touched.insert(0);
        if let Some(last) = self.by_order.keys().next_back() {
            self.touched.extend(1..=bucket_of(*last));
        }
    }
    /// Buckets changed since the last call, other than bucket 0 (always in the group record).
    pub fn take_touched(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.touched).into_iter().filter(|b| *b > 0).collect()
    }
    pub fn retouch(&mut self, bucket: u64) {
        self.touched.insert(bucket);
    }
    /// Buckets that may have a record in the store: every one up to the highest slot in use,
    /// and those changed since the last commit (emptied ones among them).
    pub fn stored_buckets(&self) -> Vec<u64> {
        let last = self.by_order.keys().next_back().map(|c| bucket_of(*c)).unwrap_or(0);
        let mut v: BTreeSet<u64> = (1..=last).collect();
        v.extend(self.touched.iter().filter(|b| **b > 0));
        v.into_iter().collect()
    }
    fn bucket(&self, bucket: u64) -> impl Iterator<Item = (&str, &Link)> + '_ {
        let lo = bucket as i64 * BUCKET_SLOTS;
        self.by_order.range(lo..lo + BUCKET_SLOTS).map(|(_, n)| (&**n, self.map.get(n).expect("every ordered name is indexed")))
    }
    /// The stored form of bucket `bucket`; `None` when it holds no link (its record goes).
    pub fn encode_bucket(&self, group: ObjId, bucket: u64) -> Result<Option<Vec<u8>>, String> {
        if self.bucket(bucket).next().is_none() {
            return Ok(None);
        }
        #[derive(Serialize)]
        struct Out<'a> {
            group: ObjId,
            bucket: u64,
            links: Vec<(&'a str, &'a Link)>,
        }
        super::record_codec::encode(&Out { group, bucket, links: self.bucket(bucket).collect() }).map(Some)
    }
    /// Adds the links of bucket `bucket` (as `parse_bucket` read them).
    pub fn add_bucket(&mut self, bucket: u64, links: Vec<(String, Link)>) -> Result<(), String> {
        for (name, link) in links {
            if bucket_of(link.corder) != bucket {
                return Err(format!("link {name:?} has creation order {} outside the bucket", link.corder));
            }
            if self.map.contains_key(&name) || self.by_order.contains_key(&link.corder) {
                return Err(format!("link {name:?} or its creation order {} is stored twice", link.corder));
            }
            self.insert_at(name, link);
        }
        Ok(())
    }
    /// Adds the links of a stored bucket record of group `group`.
    pub fn load_bucket(&mut self, group: ObjId, bucket: u64, rec: &[u8]) -> Result<(), String> {
        self.add_bucket(bucket, parse_bucket(group, bucket, rec)?)
    }
    /// After loading: nothing is pending except what an older layout left inline.
    pub fn settle_loaded(&mut self) -> bool {
        self.touched.clear();
        std::mem::take(&mut self.loaded_unsplit)
    }
}

/// The links of a stored bucket record, which must be bucket `bucket` of group `group`.
pub fn parse_bucket(group: ObjId, bucket: u64, rec: &[u8]) -> Result<Vec<(String, Link)>, String> {
    #[derive(Deserialize)]
    struct In {
        group: ObjId,
        bucket: u64,
        links: Vec<(String, Link)>,
    }
    let r: In = super::record_codec::decode(rec)?;
    if r.group != group || r.bucket != bucket {
        return Err(format!("it describes bucket {} of object {}", r.bucket, r.group));
    }
    Ok(r.links)
}

/// In the group record: bucket 0 only, plus the next creation order.
impl Serialize for LinkTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Bucket0<'a>(&'a LinkTable);
        impl Serialize for Bucket0<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.bucket(0))
            }
        }
        let mut st = s.serialize_struct("LinkTable", 2)?;
        st.serialize_field("by_name", &Bucket0(self))?;
        st.serialize_field("next_corder", &self.next_corder)?;
        st.end()
    }
}

/// Reads the group record's links; records of the first layout held every link inline (and a
/// redundant `by_order`), which `settle_loaded` reports so they get rewritten as buckets.
impl<'de> Deserialize<'de> for LinkTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            by_name: BTreeMap<String, Link>,
            next_corder: i64,
        }
        let st = Stored::deserialize(d)?;
        let mut t = LinkTable::default();
        if st.by_name.is_empty() && st.next_corder == 0 {
            return Ok(t);
        }
        for (name, link) in st.by_name {
            if t.by_order.contains_key(&link.corder) {
                return Err(D::Error::custom(format!("link {name:?} reuses creation order {}", link.corder)));
            }
            t.insert_at(name, link);
        }
        t.next_corder = t.next_corder.max(st.next_corder);
        t.loaded_unsplit = t.by_order.keys().next_back().is_some_and(|c| bucket_of(*c) > 0);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::objects::LinkTarget;

    fn link(id: ObjId) -> Link {
        Link::new(LinkTarget::Hard(id))
    }

    #[test]
    fn keys_round_trip_and_never_collide_with_objects() {
        let k = bucket_key(MAX_BUCKETED_OBJ, MAX_BUCKET);
        assert_eq!(parse_bucket_key(k), Some((MAX_BUCKETED_OBJ, MAX_BUCKET)));
        assert_eq!(parse_bucket_key(bucket_key(7, 3)), Some((7, 3)));
        assert_eq!(parse_bucket_key(12345), None);
    }

    #[test]
    fn orders_and_buckets() {
        let mut t = LinkTable::default();
        for i in 0..600 {
            t.insert(format!("n{:04}", 599 - i), link(i));
        }
        assert_eq!(t.nth_name(false, false, 0).unwrap(), "n0000");
        assert_eq!(t.nth_name(true, false, 0).unwrap(), "n0599");
        assert_eq!(t.take_touched(), vec![1, 2]);
        assert!(t.take_touched().is_empty());
        t.remove("n0000");
        assert_eq!(t.take_touched(), vec![2]);
        assert_eq!(t.stored_buckets(), vec![1, 2]);

        // The group record carries bucket 0; buckets 1 and 2 rebuild the rest.
        let rec = serde_json::to_vec(&t).unwrap();
        let mut back: LinkTable = serde_json::from_slice(&rec).unwrap();
        assert_eq!(back.len(), 256);
        for b in t.stored_buckets() {
            back.load_bucket(9, b, &t.encode_bucket(9, b).unwrap().unwrap()).unwrap();
        }
        assert!(!back.settle_loaded());
        assert_eq!(back, t);
        assert_eq!(back.names(true, true), t.names(true, true));
        assert!(back.load_bucket(9, 1, &t.encode_bucket(9, 1).unwrap().unwrap()).unwrap_err().contains("twice"));
        // A record of the first layout (every link inline) asks to be rewritten split.
        let mut unsplit: LinkTable = serde_json::from_slice(
            br#"{"by_name":{"a":{"target":{"Hard":2},"corder":0},"b":{"target":{"Hard":3},"corder":300}},"by_order":{},"next_corder":301}"#,
        )
        .unwrap();
        assert!(unsplit.settle_loaded());
        assert_eq!(unsplit.nth_name(true, false, 1).unwrap(), "b");
        assert!(back.load_bucket(8, 1, &t.encode_bucket(9, 1).unwrap().unwrap()).unwrap_err().contains("object 9"));

        t.clear();
        assert_eq!(t.stored_buckets(), vec![1, 2], "emptied buckets still have records to drop");
        assert_eq!(t.take_touched(), vec![1, 2]);
        assert_eq!(t.encode_bucket(9, 2).unwrap(), None);
    }
}
