//! Native HDF5's open locks (`lock`) for object stores, which have no lock service: each
//! process that opens a file puts a lease object of its own under `<file>/lease/`, then lists
//! them all. Whoever finds a live lease it conflicts with takes its own back and is refused,
//! so of two openers racing at least one sees the other (a put is visible to a later list on
//! S3 and Garage); when both see each other both are refused, never both admitted. No
//! conditional request is needed.
//!
//! A lease lasts `ttl` past its last renewal, which a thread does every `ttl / 3`; a killed
//! process's lease expires and no longer counts. Times are the store's own (the objects'
//! last-modified times in the listing, compared with the time it gives the fresh lease of the
//! opener), so clocks of different hosts never meet. The name says what the lease is for and
//! how long it lasts: `<kind>.<ttl ms>.<id>`.
use super::lock::{holder_id, refused, HeldLock, LockRequest};
use super::objstore::block_on;
use crate::error::{Area, Result, VolError};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parking_lot::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Last-modified times in listings may be whole seconds: a lease counts as expired only when
/// it is older than its ttl by this much more.
const GRANULARITY_MS: i64 = 1000;
/// Further attempts of a refused claim.
const RETRIES: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Writer,
    SwmrWriter,
    Reader,
    SwmrReader,
}

impl Kind {
    fn of(req: &LockRequest) -> Kind {
        match (req.write, req.swmr) {
            (true, false) => Kind::Writer,
            (true, true) => Kind::SwmrWriter,
            (false, false) => Kind::Reader,
            (false, true) => Kind::SwmrReader,
        }
    }
    fn tag(self) -> &'static str {
        match self {
            Kind::Writer => "w",
            Kind::SwmrWriter => "sw",
            Kind::Reader => "r",
            Kind::SwmrReader => "sr",
        }
    }
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "w" => Kind::Writer,
            "sw" => Kind::SwmrWriter,
            "r" => Kind::Reader,
            "sr" => Kind::SwmrReader,
            _ => return None,
        })
    }
    /// Whether an opener of this kind must be refused while `other` holds the file (the
    /// rules of `lock::DirLock`: a writer needs the file to itself; readers share it; a SWMR
    /// writer, once in, lets SWMR readers in).
    fn refused_by(self, other: Kind) -> bool {
        match self {
            Kind::Writer | Kind::SwmrWriter => true,
            Kind::Reader => matches!(other, Kind::Writer | Kind::SwmrWriter),
            Kind::SwmrReader => other == Kind::Writer,
        }
    }
    fn what(self) -> &'static str {
        match self {
            Kind::Writer => "open for writing",
            Kind::SwmrWriter => "open for SWMR writing",
            Kind::Reader => "open for reading",
            Kind::SwmrReader => "open for SWMR reading",
        }
    }
}

/// A lease's name parts.
fn parse_name(name: &str) -> Option<(Kind, i64, &str)> {
    let mut it = name.splitn(3, '.');
    let kind = Kind::parse(it.next()?)?;
    let ttl: i64 = it.next()?.parse().ok()?;
    Some((kind, ttl, it.next()?))
}

/// Where one file's leases live: small named objects, listed with a time stamp each on one
/// clock (the store's where it keeps one, else the writers' own, which DAOS keeps in step).
pub trait LeaseRoom: Send + Sync {
    fn label(&self) -> String;
    /// Puts (or renews) the lease `name`; `Ok(Some(why))` when the store does not let this
    /// client write (read-only credentials).
    fn put(&self, name: &str) -> Result<Option<VolError>>;
    /// Every lease there, with its stamp in milliseconds.
    fn list(&self) -> Result<Vec<(String, i64)>>;
    /// A missing lease is no error.
    fn delete(&self, name: &str) -> Result<()>;
}

/// Leases as objects `<file>/lease/<name>` of an object store, stamped by the store.
pub struct ObjectRoom {
    pub store: Arc<dyn ObjectStore>,
    /// `<file>/lease`
    pub dir: Path,
    pub label: String,
    /// Where the requests are counted (`RUSTVOL_STATS`), if anywhere.
    pub counts: Option<Arc<super::objstore::RequestCounts>>,
}

impl ObjectRoom {
    fn err(&self, what: &str, e: impl std::fmt::Display) -> VolError {
        VolError::new(Area::Storage, format!("{}: {what}: {e}", self.label))
    }

    fn count(&self, which: impl Fn(&super::objstore::RequestCounts) -> &std::sync::atomic::AtomicU64) {
        if let Some(c) = &self.counts {
            which(c).fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl LeaseRoom for ObjectRoom {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn put(&self, name: &str) -> Result<Option<VolError>> {
        let key = self.dir.clone().join(name);
        let body = format!("{{\"pid\":{}}}\n", std::process::id());
        self.count(|c| &c.put);
        match block_on(self.store.put(&key, PutPayload::from(body.into_bytes()))) {
            Ok(_) => Ok(None),
            Err(e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })) => {
                Ok(Some(self.err(&format!("writing lease {key}"), e)))
            }
            Err(e) => Err(self.err(&format!("writing lease {key}"), e)),
        }
    }

    fn list(&self) -> Result<Vec<(String, i64)>> {
        self.count(|c| &c.list);
        let listed: Vec<object_store::ObjectMeta> =
            block_on(self.store.list(Some(&self.dir)).try_collect()).map_err(|e| self.err(&format!("listing leases under {}", self.dir), e))?;
        Ok(listed.into_iter().filter_map(|m| Some((m.location.filename()?.to_string(), m.last_modified.timestamp_millis()))).collect())
    }

    fn delete(&self, name: &str) -> Result<()> {
        let key = self.dir.clone().join(name);
        self.count(|c| &c.delete);
        match block_on(self.store.delete(&key)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(&format!("removing lease {key}"), e)),
        }
    }
}

struct Shared {
    room: Box<dyn LeaseRoom>,
    name: String,
    ttl: Duration,
    id: String,
    pid: u32,
    /// The lease now held, and when the put that last renewed it was sent.
    held: Mutex<(String, Instant)>,
    /// Held across each renewal, so a lease taken back is not put again after.
    io: Mutex<()>,
    /// Set when the lease is taken back: no more renewals.
    stop: std::sync::atomic::AtomicBool,
}

/// A lease held (and renewed) for as long as the value lives.
pub struct Lease {
    s: Arc<Shared>,
}

impl Shared {
    fn key(&self, kind: Kind) -> String {
        format!("{}.{}.{}", kind.tag(), self.ttl.as_millis(), self.id)
    }

    fn delete(&self, key: &str) {
        if let Err(e) = self.room.delete(key) {
            log::warn!("{}", e.msg);
        }
    }

    /// `try_claim`, again after a short random pause when refused: two openers that started
    /// together and saw each other both back off, and the one that comes back first gets the
    /// file (natively one of them always does).
    fn claim(&self, kind: Kind) -> Result<String> {
        let mut seed = self.id.bytes().fold(std::process::id() as u64, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3));
        for attempt in 0.. {
            match self.try_claim(kind) {
                Err(e) if attempt < RETRIES && e.area == Area::File => {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    std::thread::sleep(Duration::from_millis(10 + (seed >> 33) % 120));
                }
                r => return r,
            }
        }
        unreachable!("the loop returns")
    }

    /// Puts a lease of `kind`, then refuses (taking it back) if a live lease of another holder
    /// conflicts with it. Leases long expired are removed on the way.
    fn try_claim(&self, kind: Kind) -> Result<String> {
        let key = self.key(kind);
        let sent = Instant::now();
        let denied = self.room.put(&key)?;
        let leased = denied.is_none();
        if let Some(e) = denied {
            if matches!(kind, Kind::Writer | Kind::SwmrWriter) {
                return Err(e);
            }
        }
        let listed = match self.room.list() {
            Ok(l) => l,
            // A reader that may neither write nor list has nothing to go by but the commit
            // point, which writers never leave half-replaced.
            Err(e) if !leased => {
                log::info!("{}: reading {:?} without a lease ({})", self.room.label(), self.name, e.msg);
                return Ok(String::new());
            }
            Err(e) => {
                self.delete(&key);
                return Err(e);
            }
        };
        // "Now" on the room's clock: the stamp of the lease just put. Not the newest stamp of
        // all: one stamped in the future (a skewed clock, a damaged record) would make every
        // other lease look expired.
        let mine = listed.iter().find(|(f, _)| f == &key).map(|(_, t)| *t);
        let now = mine.unwrap_or_else(|| listed.iter().map(|(_, t)| *t).max().unwrap_or(0));
        let mut conflict = None;
        let mut expired = Vec::new();
        for (file, stamp) in &listed {
            let Some((other, ttl, id)) = parse_name(file) else {
                // A holder rustvol cannot read may still be a writer: admitting a writer past
                // it could lose its updates, so writers are refused, naming it.
                if kind.refused_by(Kind::Writer) {
                    self.delete(&key);
                    return Err(refused(&self.name, format!("{} holds a lease rustvol cannot read ({file:?}); remove it if no process has the file", self.room.label())));
                }
                continue;
            };
            if id == self.id {
                continue;
            }
            let age = now - stamp;
            if age > ttl + GRANULARITY_MS {
                expired.push(file.clone());
            } else if kind.refused_by(other) {
                conflict = Some((other, age, ttl, file.clone()));
            }
        }
        if let Some((other, age, ttl, at)) = conflict {
            self.delete(&key);
            return Err(refused(
                &self.name,
                format!(
                    "another process has the file {} (lease {at} in {}, renewed {:.1} s ago, expires {:.1} s after its last renewal)",
                    other.what(),
                    self.room.label(),
                    age.max(0) as f64 / 1000.0,
                    ttl as f64 / 1000.0
                ),
            ));
        }
        if !leased {
            // Read-only credentials: the file is read without a lease (writers cannot see
            // this reader), after checking that none holds it.
            log::info!("{}: reading {:?} without a lease (the store refuses this client's writes)", self.room.label(), self.name);
            return Ok(String::new());
        }
        for e in expired {
            log::debug!("{}: removing expired lease {e}", self.room.label());
            self.delete(&e);
        }
        *self.held.lock() = (key.clone(), sent);
        // Named in the log so a test can tell which processes of a parallel program hold one.
        log::info!("{}: took lease {key} on {:?}", self.room.label(), self.name);
        Ok(key)
    }

    /// Puts the lease again if it is due (a third of its ttl since the last renewal).
    fn renew_if_due(&self) {
        // A forked child inherits the list of its parent's leases, not the leases.
        if self.pid != std::process::id() {
            return;
        }
        let _io = self.io.lock();
        let (key, last) = self.held.lock().clone();
        if key.is_empty() || self.stop.load(Relaxed) || last.elapsed() < self.ttl / 3 {
            return;
        }
        let sent = Instant::now();
        match self.room.put(&key) {
            Ok(None) => {
                let mut h = self.held.lock();
                if h.0 == key {
                    h.1 = sent;
                }
            }
            Ok(Some(e)) | Err(e) => log::warn!("could not renew the lease on {:?}: {}", self.name, e.msg),
        }
    }
}

/// One thread per process renews every lease held, however many files are open.
fn renewer_loop() {
    loop {
        let live: Vec<Arc<Shared>> = LIVE.lock().iter().filter_map(|w| w.upgrade()).collect();
        let pause = live.iter().map(|s| s.ttl / 12).min().unwrap_or(Duration::from_millis(250)).clamp(Duration::from_millis(20), Duration::from_millis(250));
        for s in &live {
            s.renew_if_due();
        }
        drop(live);
        std::thread::sleep(pause);
    }
}

/// The process that started the renewer (a forked child starts its own).
static RENEWER: Mutex<Option<u32>> = Mutex::new(None);

fn start_renewer() -> Result<()> {
    let mut r = RENEWER.lock();
    let pid = std::process::id();
    if *r != Some(pid) {
        std::thread::Builder::new()
            .name("rustvol-lease".into())
            .spawn(renewer_loop)
            .map_err(|e| VolError::new(Area::Storage, format!("cannot start the lease renewer: {e}")))?;
        *r = Some(pid);
    }
    Ok(())
}

/// Leases held by this process, so that one ending without closing its files (`exit` on an
/// error path) takes them back as the kernel drops a native file's locks.
static LIVE: Mutex<Vec<std::sync::Weak<Shared>>> = Mutex::new(Vec::new());
static AT_EXIT: std::sync::Once = std::sync::Once::new();

extern "C" fn release_at_exit() {
    // No unwinding into libc; a lease that cannot be removed now expires.
    let _ = std::panic::catch_unwind(|| {
        let live: Vec<Arc<Shared>> = LIVE.lock().iter().filter_map(|w| w.upgrade()).collect();
        let mine: Vec<(Arc<Shared>, String)> = live
            .into_iter()
            // A forked child inherits the parent's list but not its leases.
            .filter(|s| s.pid == std::process::id())
            .filter_map(|s| {
                s.stop.store(true, Relaxed);
                let key = std::mem::take(&mut s.held.lock().0);
                (!key.is_empty()).then_some((s, key))
            })
            .collect();
        if mine.is_empty() {
            return;
        }
        // Exit waits a little for the removals, never for a server that has gone away: what
        // is not removed by then expires.
        let (done, wait) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("rustvol-lease-exit".into()).spawn(move || {
            for (s, key) in &mine {
                s.delete(key);
            }
            let _ = done.send(());
        });
        if spawned.is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(2));
        }
    });
}

impl Lease {
    /// Takes a lease in `room` on the file the application calls `name`, or says who holds it.
    pub fn acquire(room: Box<dyn LeaseRoom>, name: &str, ttl: Duration, req: &LockRequest) -> Result<Lease> {
        let s = Arc::new(Shared {
            room,
            name: name.to_string(),
            ttl,
            id: holder_id(),
            pid: std::process::id(),
            held: Mutex::new((String::new(), Instant::now())),
            io: Mutex::new(()),
            stop: std::sync::atomic::AtomicBool::new(false),
        });
        s.claim(Kind::of(req))?;
        AT_EXIT.call_once(|| {
            // SAFETY: registers a function taking and returning nothing, which catches panics.
            unsafe { libc::atexit(release_at_exit) };
        });
        {
            let mut live = LIVE.lock();
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(&s));
        }
        let lease = Lease { s };
        start_renewer()?;
        Ok(lease)
    }
}

impl HeldLock for Lease {
    fn upgrade(&mut self, req: &LockRequest) -> Result<()> {
        let _io = self.s.io.lock();
        let (old, _) = self.s.held.lock().clone();
        let new = self.s.claim(Kind::of(req))?;
        if new != old {
            self.s.delete(&old);
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        let since = self.s.held.lock().1.elapsed();
        if since > self.s.ttl {
            return Err(VolError::new(
                Area::File,
                format!(
                    "the lease on {:?} was last renewed {:.1} s ago, longer than it lasts ({:.1} s): another process may have taken the file over, so nothing more is committed",
                    self.s.name,
                    since.as_secs_f64(),
                    self.s.ttl.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.s.pid != std::process::id() {
            // A forked child: the lease is the parent's.
            return;
        }
        self.s.stop.store(true, Relaxed);
        let _io = self.s.io.lock();
        let key = std::mem::take(&mut self.s.held.lock().0);
        if !key.is_empty() {
            self.s.delete(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn req(write: bool, swmr: bool) -> LockRequest {
        LockRequest { write, swmr, ignore_disabled: false }
    }

    fn take(store: &Arc<InMemory>, ttl_ms: u64, r: LockRequest) -> Result<Lease> {
        let room = ObjectRoom { store: store.clone(), dir: Path::from("f/lease"), label: "mem".into(), counts: None };
        Lease::acquire(Box::new(room), "f", Duration::from_millis(ttl_ms), &r)
    }

    #[test]
    fn leases_follow_native_lock_rules() {
        let store = Arc::new(InMemory::new());
        let w = take(&store, 30_000, req(true, false)).unwrap();
        let e = take(&store, 30_000, req(true, false)).err().unwrap();
        assert!(e.msg.contains("unable to lock the file") && e.msg.contains("open for writing"), "{}", e.msg);
        assert!(take(&store, 30_000, req(false, false)).is_err());
        assert!(take(&store, 30_000, req(false, true)).is_err());
        drop(w);
        let r1 = take(&store, 30_000, req(false, false)).unwrap();
        let mut r2 = take(&store, 30_000, req(false, false)).unwrap();
        assert!(take(&store, 30_000, req(true, false)).is_err());
        assert!(r2.upgrade(&req(true, false)).is_err(), "r1 still reads");
        drop(r1);
        r2.upgrade(&req(true, false)).unwrap();
        assert!(take(&store, 30_000, req(false, false)).is_err());
        drop(r2);
        let sw = take(&store, 30_000, req(true, true)).unwrap();
        let _sr = take(&store, 30_000, req(false, true)).unwrap();
        assert!(take(&store, 30_000, req(false, false)).is_err());
        assert!(take(&store, 30_000, req(true, false)).is_err());
        drop(sw);
    }

    #[test]
    fn a_lease_not_renewed_expires_and_a_held_one_does_not() {
        let store = Arc::new(InMemory::new());
        let held = take(&store, 300, req(true, false)).unwrap();
        std::thread::sleep(Duration::from_millis(1800));
        assert!(take(&store, 300, req(true, false)).is_err(), "renewed leases keep counting");
        held.check().unwrap();
        let killed = std::mem::ManuallyDrop::new(held);
        // Stop its renewals without removing the lease, as a kill would.
        killed.s.stop.store(true, Relaxed);
        std::thread::sleep(Duration::from_millis(300 + GRANULARITY_MS as u64 + 500));
        assert!(killed.check().is_err(), "a lease not renewed in time is reported lost");
        take(&store, 300, req(true, false)).unwrap();
    }
}
