//! Per-shard write and read quotas in one-second windows of the emulator's clock: `soft`
//! counts and logs what exceeds them, `hard` also answers 403 `ShardWriteQuotaExceed` /
//! `ShardReadQuotaExceed` (SLS-API.md §10, §11).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sls_protocol::types::{ShardId, UnixNanos};

/// How quotas act.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaMode {
    /// Not checked.
    #[default]
    Off,
    /// Counted and logged; requests pass.
    Soft,
    /// Requests over a limit get 403.
    Hard,
}

/// Limits per shard per second (`None` = unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Mode.
    pub mode: QuotaMode,
    /// Raw bytes written per shard per second (SLS: 5–10 MB/s).
    pub write_bytes_per_sec: Option<u64>,
    /// Write requests per shard per second (SLS: 500).
    pub write_requests_per_sec: Option<u64>,
    /// Raw bytes read per shard per second (SLS: 10–20 MB/s).
    pub read_bytes_per_sec: Option<u64>,
    /// Read requests per shard per second (SLS: 100).
    pub read_requests_per_sec: Option<u64>,
}

/// Writes or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    /// PutLogs.
    Write,
    /// PullLogs.
    Read,
}

/// The configuration and what exceeded it so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QuotaStatus {
    /// Configuration.
    pub config: QuotaConfig,
    /// Write requests over a limit (refused in hard mode).
    pub write_exceeded: u64,
    /// Read requests over a limit (refused in hard mode).
    pub read_exceeded: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    second: i64,
    bytes: u64,
    requests: u64,
}

#[derive(Debug, Default)]
struct State {
    status: QuotaStatus,
    windows: HashMap<(u64, ShardId, QuotaKind), Window>,
}

/// Per-shard quota accounting.
#[derive(Debug, Default)]
pub struct Quotas {
    active: AtomicBool,
    state: Mutex<State>,
}

impl Quotas {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the configuration (and resets counters).
    pub fn set(&self, config: QuotaConfig) {
        let mut st = self.lock();
        self.active
            .store(config.mode != QuotaMode::Off, Ordering::Relaxed);
        *st = State {
            status: QuotaStatus {
                config,
                ..QuotaStatus::default()
            },
            windows: HashMap::new(),
        };
    }

    /// Configuration and counters.
    pub fn status(&self) -> QuotaStatus {
        self.lock().status.clone()
    }

    /// Accounts one request of `bytes` to a shard; `false` when it must be refused (hard mode,
    /// over a limit). Reads pass their bytes after the fact with [`Quotas::account_bytes`].
    #[inline(never)]
    pub fn admit(
        &self,
        kind: QuotaKind,
        logstore_id: u64,
        shard: ShardId,
        bytes: u64,
        now: UnixNanos,
    ) -> bool {
        if !self.active.load(Ordering::Relaxed) {
            return true;
        }
        let second = now.secs();
        let mut st = self.lock();
        let cfg = st.status.config.clone();
        let (max_bytes, max_requests) = match kind {
            QuotaKind::Write => (cfg.write_bytes_per_sec, cfg.write_requests_per_sec),
            QuotaKind::Read => (cfg.read_bytes_per_sec, cfg.read_requests_per_sec),
        };
        let w = st.windows.entry((logstore_id, shard, kind)).or_default();
        if w.second != second {
            *w = Window {
                second,
                ..Window::default()
            };
        }
        let over = max_requests.is_some_and(|m| w.requests + 1 > m)
            || max_bytes.is_some_and(|m| w.bytes + bytes > m && w.bytes > 0 || bytes > m);
        if over && cfg.mode == QuotaMode::Hard {
            match kind {
                QuotaKind::Write => st.status.write_exceeded += 1,
                QuotaKind::Read => st.status.read_exceeded += 1,
            }
            return false;
        }
        w.requests += 1;
        w.bytes += bytes;
        if over {
            tracing::warn!(
                ?kind,
                logstore_id,
                shard = shard.get(),
                "shard quota exceeded (soft mode: served)"
            );
            match kind {
                QuotaKind::Write => st.status.write_exceeded += 1,
                QuotaKind::Read => st.status.read_exceeded += 1,
            }
        }
        true
    }

    /// Adds bytes read to the current window (PullLogs knows its size only afterwards).
    #[inline(never)]
    pub fn account_bytes(
        &self,
        kind: QuotaKind,
        logstore_id: u64,
        shard: ShardId,
        bytes: u64,
        now: UnixNanos,
    ) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let second = now.secs();
        let mut st = self.lock();
        let w = st.windows.entry((logstore_id, shard, kind)).or_default();
        if w.second == second {
            w.bytes += bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_limits_refuse_and_soft_limits_count() {
        let q = Quotas::default();
        assert!(
            q.admit(QuotaKind::Write, 1, ShardId(0), 10, UnixNanos(0)),
            "off by default"
        );
        q.set(QuotaConfig {
            mode: QuotaMode::Hard,
            write_requests_per_sec: Some(2),
            ..QuotaConfig::default()
        });
        let s = 1_000_000_000;
        assert_eq!(
            (0..3)
                .map(|_| q.admit(QuotaKind::Write, 1, ShardId(0), 10, UnixNanos(s)))
                .collect::<Vec<_>>(),
            vec![true, true, false]
        );
        assert!(
            q.admit(QuotaKind::Write, 1, ShardId(1), 10, UnixNanos(s)),
            "per shard"
        );
        assert!(
            q.admit(QuotaKind::Write, 1, ShardId(0), 10, UnixNanos(2 * s)),
            "next second"
        );
        assert_eq!(q.status().write_exceeded, 1);
        q.set(QuotaConfig {
            mode: QuotaMode::Soft,
            write_bytes_per_sec: Some(15),
            ..QuotaConfig::default()
        });
        assert!(q.admit(QuotaKind::Write, 1, ShardId(0), 10, UnixNanos(s)));
        assert!(
            q.admit(QuotaKind::Write, 1, ShardId(0), 10, UnixNanos(s)),
            "soft: served"
        );
        assert_eq!(q.status().write_exceeded, 1);
    }
}
