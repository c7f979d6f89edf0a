//! Time as the emulator sees it. Every request reads `now` once from a [`Clock`] and passes it
//! down, so tests (and later the fault-injection admin API) can move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in nanoseconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> i64;

    /// Whole seconds since the Unix epoch.
    fn now_secs(&self) -> i64 {
        self.now_nanos().div_euclid(1_000_000_000)
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}

/// A clock that only moves when told to. Starts at the real time of its creation.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicI64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A manual clock set to the current real time.
    pub fn new() -> Self {
        ManualClock {
            nanos: AtomicI64::new(SystemClock.now_nanos()),
        }
    }

    /// A manual clock set to `secs` seconds since the epoch.
    pub fn at_secs(secs: i64) -> Self {
        ManualClock {
            nanos: AtomicI64::new(secs.saturating_mul(1_000_000_000)),
        }
    }

    /// Moves the clock forward (or back, with a negative value) by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.nanos
            .fetch_add(secs.saturating_mul(1_000_000_000), Ordering::SeqCst);
    }

    /// Sets the clock to `secs` seconds since the epoch.
    pub fn set_secs(&self, secs: i64) {
        self.nanos
            .store(secs.saturating_mul(1_000_000_000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

/// A clock the admin API can move: another clock plus an adjustable offset. The emulator
/// always runs on one, so tests and chaos scenarios can jump time (heartbeat expiry, ttl,
/// cursors by time) on a live emulator.
#[derive(Debug)]
pub struct VirtualClock {
    base: std::sync::Arc<dyn Clock>,
    offset_nanos: AtomicI64,
}

impl VirtualClock {
    /// `base` with no offset.
    pub fn new(base: std::sync::Arc<dyn Clock>) -> Self {
        VirtualClock {
            base,
            offset_nanos: AtomicI64::new(0),
        }
    }

    /// Moves time by `secs` (negative goes back).
    pub fn advance_secs(&self, secs: i64) {
        self.offset_nanos
            .fetch_add(secs.saturating_mul(1_000_000_000), Ordering::SeqCst);
    }

    /// Sets the time to `secs` since the epoch.
    pub fn set_secs(&self, secs: i64) {
        let delta = secs.saturating_mul(1_000_000_000) - self.base.now_nanos();
        self.offset_nanos.store(delta, Ordering::SeqCst);
    }

    /// The base clock's time, without the offset: what clients' own clocks say (request
    /// signatures' dates are checked against it).
    pub fn base_nanos(&self) -> i64 {
        self.base.now_nanos()
    }

    /// The current offset from the base clock, in nanoseconds.
    pub fn offset_nanos(&self) -> i64 {
        self.offset_nanos.load(Ordering::SeqCst)
    }
}

impl Clock for VirtualClock {
    fn now_nanos(&self) -> i64 {
        self.base.now_nanos().saturating_add(self.offset_nanos())
    }
}
