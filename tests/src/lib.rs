//! Shared helpers for the end-to-end tests: where the repository and the Python venv are,
//! and unique resource names so tests can share one emulator.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Our client, signing with the emulator's owner key and connecting to its address whatever
/// the host name (no `*.localhost` resolution needed): how tests set up and read back.
///
/// # Panics
/// If the emulator's endpoint does not parse (it always does).
#[allow(clippy::expect_used)]
pub fn owner_client(server: &sls_emulator::testing::TestServer) -> sls_client::Client {
    let c = server.config();
    let config =
        sls_client::Config::new(&server.endpoint(), &c.access_key_id, &c.access_key_secret)
            .expect("the emulator's endpoint")
            .with_connect_to(server.addr());
    sls_client::Client::new(config).expect("a client")
}

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

/// Creates the venv [`python`] points to (the official Python SDK, pinned).
pub const SETUP_PYTHON: &str = "scripts/setup-python.sh";
/// Builds the Java (`tests/java`, Maven) and Go (`tests/go`) harnesses.
pub const BUILD_HARNESSES: &str = "scripts/build-harnesses.sh";

/// The message for a harness that is not built: the path and the exact command that builds it.
pub fn missing_harness(path: &Path, build: &str) -> String {
    format!(
        "{} is missing: run `{build}` (scripts/test.sh runs it, installing what it needs)",
        path.display()
    )
}

/// [`python`], or an error naming [`SETUP_PYTHON`] when the venv is not there (a bare
/// `SLS_EMU_PYTHON` such as `python3` is looked up on `PATH` when run, not here).
///
/// # Errors
/// The [`missing_harness`] message.
pub fn venv_python() -> Result<PathBuf, String> {
    let py = python();
    if py.is_relative() || py.exists() {
        Ok(py)
    } else {
        Err(missing_harness(&py, SETUP_PYTHON))
    }
}

/// A console script of the venv (`aliyunlog`, the CLI), next to [`python`] (looked up on
/// `PATH` when `SLS_EMU_PYTHON` is a bare name).
///
/// # Errors
/// The [`missing_harness`] message naming [`SETUP_PYTHON`] when it is not installed.
pub fn venv_script(name: &str) -> Result<PathBuf, String> {
    let py = venv_python()?;
    let Some(bin) = py.parent().filter(|_| py.is_absolute()) else {
        return Ok(PathBuf::from(name));
    };
    let script = bin.join(name);
    if script.exists() {
        Ok(script)
    } else {
        Err(missing_harness(&script, SETUP_PYTHON))
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A project name unique within this test process run (valid SLS name).
pub fn unique_project(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// Runs `cmd` (killed if dropped) and returns its stdout; fails the test with both outputs
/// when it exits unsuccessfully. For the official clients' check programs, which print a line
/// per check and exit 0 only when every check passed.
///
/// # Panics
/// When the program cannot start or fails.
pub async fn run_checks(cmd: std::process::Command, what: &str) -> String {
    let out = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// Unix time in milliseconds (the clock other processes stamp their events with).
pub fn now_epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A log carrying the harness id in its `id` content.
pub fn id_log(id: &str) -> sls_client::Log {
    sls_client::Log {
        time: Some(1_700_000_000),
        contents: vec![sls_client::LogContent {
            key: "id".into(),
            value: id.to_string().into(),
        }],
        time_ns: None,
    }
}

/// The harness id of a log (empty if it has none).
pub fn id_of(log: &sls_client::Log) -> String {
    log.contents
        .iter()
        .find(|c| c.key.as_ref() == b"id")
        .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        .unwrap_or_default()
}

/// An in-process emulator that also answers on port 80, for the Java clients (their endpoint
/// cannot carry a port). One process at a time can hold port 80: this waits, up to 15 minutes,
/// for the current holder (another test of this binary, or of another) to stop.
///
/// # Errors
/// Port 80 stayed taken, or the emulator could not start.
pub async fn start_with_port_80(
) -> Result<sls_emulator::testing::TestServer, sls_emulator::ServerError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    loop {
        let r = sls_emulator::testing::TestServer::start_with(|c| c.extra_ports = vec![80]).await;
        match r {
            Err(sls_emulator::ServerError::Bind { source, .. })
                if source.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            r => return r,
        }
    }
}

/// Chaos checker: verdicts (at-least-once, exactly-once, order) from a recorded history.
pub mod checker;
/// The Flink job of `tests/java/flink` in its own JVM: start, kill -9, restore, events.
pub mod flink;
/// Chaos history: client operations, the emulator's committed log, consumption, faults.
pub mod history;
/// A throwaway PostgreSQL server (the Flink two-phase-commit sink's database).
pub mod postgres;
/// Chaos report: JSON, terminal summary and a self-contained HTML page.
pub mod report;
/// Official clients in other processes (Python, Java, Go): consumer workers and producers.
pub mod workers;
