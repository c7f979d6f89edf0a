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

/// Adds `delta` to `a`, saturating at the `i64` bounds (`fetch_add` would wrap).
fn saturating_add(a: &AtomicI64, delta: i64) {
    // The closure always returns `Some`, so this cannot fail.
    let _ = a.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
        Some(v.saturating_add(delta))
    });
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
        saturating_add(&self.nanos, secs.saturating_mul(1_000_000_000));
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
        saturating_add(&self.offset_nanos, secs.saturating_mul(1_000_000_000));
    }

    /// Sets the time to `secs` since the epoch.
    pub fn set_secs(&self, secs: i64) {
        let delta = secs
            .saturating_mul(1_000_000_000)
            .saturating_sub(self.base.now_nanos());
        self.offset_nanos.store(delta, Ordering::SeqCst);
    }

    /// The base clock's time, without the offset: what clients' own clocks say (request
    /// signatures' dates are checked against it).
    pub fn base_nanos(&self) -> i64 {
        self.base.now_nanos()
    }

    /// The virtual time when the base clock reads `base_nanos` (so a caller that needs both
    /// reads the wall clock once).
    pub fn at_base(&self, base_nanos: i64) -> i64 {
        base_nanos.saturating_add(self.offset_nanos())
    }

    /// The current offset from the base clock, in nanoseconds.
    pub fn offset_nanos(&self) -> i64 {
        self.offset_nanos.load(Ordering::SeqCst)
    }
}

impl Clock for VirtualClock {
    fn now_nanos(&self) -> i64 {
        self.at_base(self.base.now_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn virtual_clock_saturates_at_the_extremes() {
        const BASE_SECS: i64 = 1_700_000_000;
        let base_nanos = BASE_SECS * 1_000_000_000;
        let clock = VirtualClock::new(Arc::new(ManualClock::at_secs(BASE_SECS)));
        clock.set_secs(i64::MAX);
        assert_eq!(clock.now_nanos(), i64::MAX);
        clock.advance_secs(i64::MAX);
        assert_eq!(clock.now_nanos(), i64::MAX);
        // The offset saturates at i64::MIN, so "now" is as far back as it can go.
        clock.set_secs(i64::MIN);
        assert_eq!(clock.offset_nanos(), i64::MIN);
        assert_eq!(clock.now_nanos(), base_nanos + i64::MIN);
        clock.advance_secs(i64::MIN);
        assert_eq!(clock.offset_nanos(), i64::MIN);
        clock.set_secs(BASE_SECS + 100);
        assert_eq!(clock.now_secs(), BASE_SECS + 100);
        assert_eq!(clock.offset_nanos(), 100_000_000_000);
    }

    #[test]
    fn manual_clock_saturates_at_the_extremes() {
        let clock = ManualClock::at_secs(i64::MAX);
        assert_eq!(clock.now_nanos(), i64::MAX);
        clock.advance_secs(1);
        assert_eq!(clock.now_nanos(), i64::MAX);
        clock.set_secs(i64::MIN);
        clock.advance_secs(-1);
        assert_eq!(clock.now_nanos(), i64::MIN);
    }
}
