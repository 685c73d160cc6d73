//! The committed objects of a file opened lazily (store format 2, the memory store): decoded
//! page by page, on first use, from the records the backend fetches on demand. A page is the
//! objects of `PAGE_IDS` consecutive ids (ids are handed out in sequence, so objects made
//! together sit together), each group with all its link buckets. Nothing read is trusted: a
//! record that does not decode, or stands under the wrong key, fails the call that needed it
//! with an error naming it, and is asked for again by the next.
use super::links::{bucket_key, bucket_of, parse_bucket, parse_bucket_key, BUCKET_SLOTS};
use super::objects::{ObjKind, Object};
use crate::backend::{MetaSource, ObjId};
use crate::error::{Area, Result, VolError};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;
use std::sync::Arc;

/// Ids per page.
pub const PAGE_IDS: u64 = 256;

type Page = Box<[Option<Object>]>;

pub struct LazyBase {
    source: Arc<dyn MetaSource>,
    /// Ids below this were handed out before the open; only they are read from the store.
    limit: ObjId,
    root: ObjId,
    pages: Vec<OnceCell<Page>>,
    /// Why the last page that failed to load failed, for the call that asked.
    error: Mutex<Option<VolError>>,
}

impl std::fmt::Debug for LazyBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = self.pages.iter().filter(|p| p.get().is_some()).count();
        write!(f, "LazyBase {{ limit: {}, pages loaded: {loaded} of {} }}", self.limit, self.pages.len())
    }
}

impl LazyBase {
    pub fn new(source: Arc<dyn MetaSource>, limit: ObjId, root: ObjId) -> LazyBase {
        let n = limit.div_ceil(PAGE_IDS) as usize;
        LazyBase { source, limit, root, pages: (0..n).map(|_| OnceCell::new()).collect(), error: Mutex::new(None) }
    }

    pub fn limit(&self) -> ObjId {
        self.limit
    }

    fn page(&self, id: ObjId) -> Option<&Page> {
        if id >= self.limit {
            return None;
        }
        let p = (id / PAGE_IDS) as usize;
        match self.pages[p].get_or_try_init(|| self.load(p as u64)) {
            Ok(page) => Some(page),
            Err(e) => {
                *self.error.lock() = Some(e);
                None
            }
        }
    }

    pub fn get(&self, id: ObjId) -> Option<&Object> {
        self.page(id)?[(id % PAGE_IDS) as usize].as_ref()
    }

    /// Takes the object out (it moves to the table's own objects, or goes).
    pub fn take(&mut self, id: ObjId) -> Option<Object> {
        self.page(id)?;
        self.pages[(id / PAGE_IDS) as usize].get_mut()?[(id % PAGE_IDS) as usize].take()
    }

    /// The error of the last page that could not be read, once.
    pub fn take_error(&self) -> Option<VolError> {
        self.error.lock().take()
    }

    /// Objects of the pages read so far.
    pub fn loaded(&self) -> impl Iterator<Item = &Object> {
        self.pages.iter().filter_map(|p| p.get()).flat_map(|p| p.iter().flatten())
    }

    fn load(&self, p: u64) -> Result<Page> {
        let lo = p * PAGE_IDS;
        let hi = (lo + PAGE_IDS).min(self.limit) - 1;
        let recs = self.source.ranges(&[(lo, hi)])?;
        let parsed = super::parallel::map(&recs, |(id, rec)| match serde_json::from_slice::<Object>(rec) {
            Ok(o) if o.id == *id => Ok(o),
            Ok(o) => Err(VolError::new(Area::Storage, format!("record stored under object {id} describes object {}", o.id))),
            Err(e) => Err(VolError::new(Area::Storage, format!("corrupt record of object {id}: {e}"))),
        });
        let mut page: Vec<Option<Object>> = (0..PAGE_IDS).map(|_| None).collect();
        for o in parsed {
            let o = o?;
            if !(lo..=hi).contains(&o.id) {
                crate::bail!(Area::Storage, "record of object {} came back for the ids {lo}..={hi}", o.id);
            }
            let slot = (o.id - lo) as usize;
            page[slot] = Some(o);
        }
        // Groups with links past bucket 0 have them in bucket records of their own.
        let wide: Vec<(ObjId, ObjId)> = page
            .iter()
            .flatten()
            .filter_map(|o| o.as_group().map(|g| (o.id, g.links.next_corder())))
            .filter(|(_, next)| *next > BUCKET_SLOTS)
            .map(|(id, next)| (bucket_key(id, 1), bucket_key(id, bucket_of(next - 1))))
            .collect();
        if !wide.is_empty() {
            for (key, rec) in self.source.ranges(&wide)? {
                let Some((group, b)) = parse_bucket_key(key) else {
                    crate::bail!(Area::Storage, "record {key} came back for a group's links");
                };
                let corrupt = |e: String| VolError::new(Area::Storage, format!("corrupt bucket {b} of the links of group {group}: {e}"));
                let links = parse_bucket(group, b, &rec).map_err(corrupt)?;
                let Some(g) = page.get_mut(group.wrapping_sub(lo) as usize).and_then(|o| o.as_mut()).and_then(|o| o.as_group_mut()) else {
                    crate::bail!(Area::Storage, "bucket {b} of links belongs to object {group}, which is missing or not a group");
                };
                g.links.add_bucket(b, links).map_err(corrupt)?;
            }
        }
        for o in page.iter_mut().flatten() {
            if let Some(g) = o.as_group_mut() {
                if g.links.settle_loaded() {
                    // Every link inline (the first layout): should the group change, all its
                    // buckets are written.
                    g.links.touch_all();
                }
            }
        }
        if (lo..=hi).contains(&self.root) && !matches!(page[(self.root - lo) as usize].as_ref().map(|o| &o.kind), Some(ObjKind::Group(_))) {
            crate::bail!(Area::Storage, "the root group record {} is missing or not a group", self.root);
        }
        Ok(page.into_boxed_slice())
    }
}
