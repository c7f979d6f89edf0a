//! Shared helpers for the end-to-end tests: where the repository and the Python venv are,
//! and unique resource names so tests can share one emulator.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The Python interpreter of the venv that `scripts/setup-python.sh` creates (override with
/// `SLS_EMU_PYTHON`). Tests fail, rather than skip, when it is missing: run
/// `scripts/test.sh` (or `scripts/setup-python.sh`) first.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SLS_EMU_PYTHON") {
        return PathBuf::from(p);
    }
    repo_root().join(".venv").join("bin").join("python")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A project name unique within this test process run (valid SLS name).
pub fn unique_project(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// Chaos checker: verdicts (at-least-once, exactly-once, order) from a recorded history.
pub mod checker;
/// Chaos history: client operations, the emulator's committed log, consumption, faults.
pub mod history;
/// Chaos report: JSON, terminal summary and a self-contained HTML page.
pub mod report;
