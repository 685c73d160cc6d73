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
/// Pages read at once at most when calls walk the ids in order (read-ahead).
const MAX_AHEAD: usize = 32;

type Page = Box<[Option<Object>]>;

pub struct LazyBase {
    source: Arc<dyn MetaSource>,
    /// Ids below this were handed out before the open; only they are read from the store.
    limit: ObjId,
    root: ObjId,
    pages: Vec<OnceCell<Page>>,
    /// Why the last page that failed to load failed, for the call that asked.
    error: Mutex<Option<VolError>>,
    /// Pages the last read brought in, which the next one in order doubles.
    ahead: std::sync::atomic::AtomicUsize,
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
        LazyBase { source, limit, root, pages: (0..n).map(|_| OnceCell::new()).collect(), error: Mutex::new(None), ahead: 1.into() }
    }

    pub fn limit(&self) -> ObjId {
        self.limit
    }

    fn page(&self, id: ObjId) -> Option<&Page> {
        if id >= self.limit {
            return None;
        }
        let p = (id / PAGE_IDS) as usize;
        if let Some(page) = self.pages[p].get() {
            return Some(page);
        }
        // A walk in id order (reopening and visiting everything) reads ahead, a few pages more
        // each time: one request round and one parallel parse for many pages.
        use std::sync::atomic::Ordering::Relaxed;
        let ahead = if p > 0 && self.pages[p - 1].get().is_some() { (self.ahead.load(Relaxed) * 2).min(MAX_AHEAD) } else { 1 };
        self.ahead.store(ahead, Relaxed);
        let n = (p..(p + ahead).min(self.pages.len())).take_while(|q| self.pages[*q].get().is_none()).count();
        match self.load(p as u64, n.max(1) as u64) {
            Ok(loaded) => {
                for (q, page) in loaded.into_iter().enumerate() {
                    let _ = self.pages[p + q].set(page);
                }
                self.pages[p].get()
            }
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

    /// Pages `p..p + n`.
    fn load(&self, p: u64, n: u64) -> Result<Vec<Page>> {
        let lo = p * PAGE_IDS;
        let hi = ((p + n) * PAGE_IDS).min(self.limit) - 1;
        let recs = self.source.ranges(&[(lo, hi)])?;
        let parsed = super::parallel::map(&recs, |(id, rec)| match super::record_codec::decode::<Object>(rec) {
            Ok(o) if o.id == *id => Ok(o),
            Ok(o) => Err(VolError::new(Area::Storage, format!("record stored under object {id} describes object {}", o.id))),
            Err(e) => Err(VolError::new(Area::Storage, format!("corrupt record of object {id}: {e}"))),
        });
        drop(recs);
        let mut slots: Vec<Option<Object>> = (0..n * PAGE_IDS).map(|_| None).collect();
        for o in parsed {
            let o = o?;
            if !(lo..=hi).contains(&o.id) {
                crate::bail!(Area::Storage, "record of object {} came back for the ids {lo}..={hi}", o.id);
            }
            let slot = (o.id - lo) as usize;
            slots[slot] = Some(o);
        }
        // Groups with links past bucket 0 have them in bucket records of their own.
        let wide: Vec<(ObjId, ObjId)> = slots
            .iter()
            .flatten()
            .filter_map(|o| o.as_group().map(|g| (o.id, g.links.next_corder())))
            .filter(|(_, next)| *next > BUCKET_SLOTS)
            .map(|(id, next)| (bucket_key(id, 1), bucket_key(id, bucket_of(next - 1))))
            .collect();
        if !wide.is_empty() {
            let recs = self.source.ranges(&wide)?;
            let parsed = super::parallel::map(&recs, |(key, rec)| {
                let Some((group, b)) = parse_bucket_key(*key) else {
                    return Err(VolError::new(Area::Storage, format!("record {key} came back for a group's links")));
                };
                parse_bucket(group, b, rec)
                    .map(|links| (group, b, links))
                    .map_err(|e| VolError::new(Area::Storage, format!("corrupt bucket {b} of the links of group {group}: {e}")))
            });
            for r in parsed {
                let (group, b, links) = r?;
                let Some(g) = slots.get_mut(group.wrapping_sub(lo) as usize).and_then(|o| o.as_mut()).and_then(|o| o.as_group_mut()) else {
                    crate::bail!(Area::Storage, "bucket {b} of links belongs to object {group}, which is missing or not a group");
                };
                g.links
                    .add_bucket(b, links)
                    .map_err(|e| VolError::new(Area::Storage, format!("corrupt bucket {b} of the links of group {group}: {e}")))?;
            }
        }
        for o in slots.iter_mut().flatten() {
            if let Some(g) = o.as_group_mut() {
                if g.links.settle_loaded() {
                    // Every link inline (the first layout): should the group change, all its
                    // buckets are written.
                    g.links.touch_all();
                }
            }
        }
        if (lo..=hi).contains(&self.root) && !matches!(slots[(self.root - lo) as usize].as_ref().map(|o| &o.kind), Some(ObjKind::Group(_))) {
            crate::bail!(Area::Storage, "the root group record {} is missing or not a group", self.root);
        }
        let mut pages = Vec::with_capacity(n as usize);
        let mut rest = slots.into_iter();
        for _ in 0..n {
            pages.push(rest.by_ref().take(PAGE_IDS as usize).collect::<Vec<_>>().into_boxed_slice());
        }
        Ok(pages)
    }
}
