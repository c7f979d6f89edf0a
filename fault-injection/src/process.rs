//! Process faults from a test harness: kill -9 and restart the emulator on the same data
//! folder (and port), pause and resume it (SIGSTOP/SIGCONT), and kill, pause and restart any
//! other process, such as a consumer worker.
//!
//! - [`EmulatorProcess`] runs the real `sls-emulator` binary as a child process.
//! - [`ManagedProcess`] runs any [`Command`] and can re-spawn it after a kill.
//!
//! Unix only. SIGKILL goes through [`Child::kill`]; SIGSTOP, SIGCONT and SIGTERM are sent by
//! running the `kill` command (procps), because the workspace forbids `unsafe` and so cannot
//! call `libc::kill`. A process is only signalled while its [`Child`] has not been reaped, so
//! its pid cannot have been reused by another process. Process states ([`ProcState`]) are read
//! from `/proc`, so they are available on Linux only.
//!
//! Everything here blocks the calling thread (spawning, waiting for the emulator's banner,
//! waiting for a signal to take effect); each call returns within a few seconds at most.
//! No network faults here: those are in [`crate::proxy`].

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long [`EmulatorProcess::spawn`] waits for the emulator's banner.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a restart on the same port keeps retrying while the port is still taken.
const REBIND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long pause/resume wait for `/proc` to show the new state.
const STATE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long [`EmulatorProcess::stop`] waits after SIGTERM before it sends SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How many bytes of the emulator's stderr are kept for error messages.
const STDERR_TAIL: usize = 4096;
/// The first stdout line of the emulator starts with this, followed by its addresses.
const BANNER_PREFIX: &str = "sls-emu is listening on ";

/// What a process fault can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The emulator binary is not where it was looked for. Build it (`cargo build -p
    /// sls-emulator`), or pass its path in [`EmulatorOptions::binary`] or `SLS_EMU_BIN`.
    #[error(
        "sls-emulator binary not found at {}: run `cargo build -p sls-emulator`, \
         or set SLS_EMU_BIN to its path",
        path.display()
    )]
    BinaryNotFound {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `cargo build` of the emulator binary could not run or failed (its errors went to
    /// stderr). Fix the build, or set `SLS_EMU_BIN` to a built binary.
    #[error("building sls-emulator failed: `{command}`: {reason}")]
    Build {
        /// The cargo command line.
        command: String,
        /// Its exit status, or why it could not start.
        reason: String,
    },
    /// The program could not be started (missing, not executable, ...).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The emulator exited or closed stdout before printing where it listens. `stderr`
    /// usually says why (a taken port, a locked data folder, a bad flag).
    #[error("sls-emulator did not start ({status:?}): {stderr}")]
    Startup {
        /// Its exit status, if it had exited.
        status: Option<ExitStatus>,
        /// The end of its stderr.
        stderr: String,
    },
    /// The emulator printed nothing within the start timeout; it was killed.
    #[error("sls-emulator printed no banner within {0:?}")]
    StartTimeout(Duration),
    /// The emulator's first stdout line is not the expected banner.
    #[error("unexpected sls-emulator banner: {0:?}")]
    Banner(String),
    /// The process has exited (or was killed) and must be restarted first.
    #[error("process {pid} is not running")]
    NotRunning {
        /// Its last pid.
        pid: u32,
    },
    /// The `kill` command could not send a signal.
    #[error("kill -{signal} {pid} failed: {reason}")]
    Signal {
        /// The signal name (STOP, CONT, TERM).
        signal: &'static str,
        /// The target.
        pid: u32,
        /// Why: the `kill` command's error or exit status.
        reason: String,
    },
    /// The process did not reach the expected state in time (see [`ProcState`]).
    #[error("process {pid} did not become {expected:?} within {after:?}")]
    StateTimeout {
        /// The process.
        pid: u32,
        /// The state waited for.
        expected: ProcState,
        /// How long it waited.
        after: Duration,
    },
    /// Killing or waiting for a process failed.
    #[error("process i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// This module's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A process's scheduling state, as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcState {
    /// Running, sleeping or waiting for I/O (`R`, `S`, `D`, ...).
    Alive,
    /// Stopped by a signal, e.g. SIGSTOP (`T`).
    Stopped,
    /// Exited but not yet reaped (`Z`), or gone.
    Dead,
}

impl ProcState {
    /// Reads the state of `pid` from `/proc` (Linux). `None` where `/proc` cannot be read for
    /// another reason than the process being gone (other systems).
    pub fn of(pid: u32) -> Option<ProcState> {
        if !Path::new("/proc/self/stat").exists() {
            return None;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return Some(ProcState::Dead);
        };
        // Field 2 is "(comm)" and may hold spaces or ')', so the state follows the last ')'.
        let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
        Some(match state {
            'T' | 't' => ProcState::Stopped,
            'Z' | 'X' | 'x' => ProcState::Dead,
            _ => ProcState::Alive,
        })
    }
}

/// A process's memory, as `/proc/<pid>/status` shows it (Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcMemory {
    /// Resident set size now (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// The highest resident set size so far (`VmHWM`), KiB.
    pub peak_kib: u64,
}

impl ProcMemory {
    /// Reads the memory of `pid`; `None` when `/proc` has no such process (or no `/proc`).
    pub fn of(pid: u32) -> Option<ProcMemory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = |field: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        Some(ProcMemory {
            rss_kib: kib("VmRSS:")?,
            peak_kib: kib("VmHWM:")?,
        })
    }

    /// Restarts the peak of `pid` at its current RSS (writes 5 to `/proc/<pid>/clear_refs`),
    /// so the next [`ProcMemory::of`] reports the peak of what followed.
    ///
    /// # Errors
    /// The file cannot be written (no such process, another user's, no `/proc`).
    pub fn reset_peak(pid: u32) -> std::io::Result<()> {
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
    }
}

/// Sends `signal` (a `kill` name: STOP, CONT, TERM) to `child`, if it has not been reaped.
fn signal(child: &mut Child, signal: &'static str) -> Result<()> {
    let pid = child.id();
    if child.try_wait()?.is_some() {
        return Err(Error::NotRunning { pid });
    }
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| Error::Signal {
            signal,
            pid,
            reason: e.to_string(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Signal {
            signal,
            pid,
            reason: status.to_string(),
        })
    }
}

/// Waits until `/proc` shows `pid` in `want` (returns at once where `/proc` is unavailable).
fn wait_state(pid: u32, want: ProcState) -> Result<()> {
    let deadline = Instant::now() + STATE_TIMEOUT;
    loop {
        match ProcState::of(pid) {
            None => return Ok(()),
            Some(s) if s == want => return Ok(()),
            Some(_) if Instant::now() >= deadline => {
                return Err(Error::StateTimeout {
                    pid,
                    expected: want,
                    after: STATE_TIMEOUT,
                })
            }
            Some(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// SIGKILL and reap; a no-op when the child has already exited.
fn kill9(child: &mut Child) -> Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    // Fails only when the process has already been reaped, which try_wait just ruled out.
    child.kill()?;
    Ok(child.wait()?)
}

/// SIGSTOP, then wait until the kernel shows the process stopped.
fn pause(child: &mut Child) -> Result<()> {
    signal(child, "STOP")?;
    wait_state(child.id(), ProcState::Stopped)
}

/// SIGCONT, then wait until the kernel shows the process running.
fn resume(child: &mut Child) -> Result<()> {
    signal(child, "CONT")?;
    wait_state(child.id(), ProcState::Alive)
}

/// How to start the emulator. `Default` gives a free port on 127.0.0.1, the emulator's
/// default keys, the binary found by [`locate_emulator_binary`], and a data folder named
/// `sls-emu-data` in the current directory (tests should set `data_dir` to a temp folder).
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// The `sls-emulator` binary; `None` means [`locate_emulator_binary`].
    pub binary: Option<PathBuf>,
    /// `--data-dir`: kept across restarts.
    pub data_dir: PathBuf,
    /// `--port`; 0 picks a free one on the first start, and restarts keep it.
    pub port: u16,
    /// `--bind`.
    pub bind: String,
    /// `--access-key-id`.
    pub access_key_id: String,
    /// `--access-key-secret`.
    pub access_key_secret: String,
    /// `RUST_LOG` for the emulator (its logs go to stderr, kept for error messages).
    pub log_filter: String,
    /// More arguments, appended as given (e.g. `--durability`).
    pub extra_args: Vec<String>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            binary: None,
            data_dir: PathBuf::from("sls-emu-data"),
            port: 0,
            bind: "127.0.0.1".into(),
            access_key_id: "sls-emu-access-key-id".into(),
            access_key_secret: "sls-emu-access-key-secret".into(),
            log_filter: "warn".into(),
            extra_args: Vec::new(),
        }
    }
}

impl EmulatorOptions {
    /// The defaults, on `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> EmulatorOptions {
        EmulatorOptions {
            data_dir: data_dir.into(),
            ..EmulatorOptions::default()
        }
    }
}

/// Where the `sls-emulator` binary is, without an explicit path: the `SLS_EMU_BIN`
/// environment variable if set, else `sls-emulator` in the Cargo profile folder of the running
/// executable. That folder is the executable's own folder, or its parent for test and example
/// binaries (`target/debug/deps/…` → `target/debug/sls-emulator`), so a test of any workspace
/// package finds the binary that `cargo build -p sls-emulator` (or `cargo test --workspace`,
/// which builds every workspace binary) left there.
///
/// # Errors
/// [`Error::BinaryNotFound`] when no file is there.
pub fn locate_emulator_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SLS_EMU_BIN") {
        let path = PathBuf::from(p);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::BinaryNotFound { path })
        };
    }
    let exe = std::env::current_exe()?;
    let name = format!("sls-emulator{}", std::env::consts::EXE_SUFFIX);
    let mut tried = None;
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join(&name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        tried = Some(candidate);
    }
    Err(Error::BinaryNotFound {
        path: tried.unwrap_or_else(|| PathBuf::from(name)),
    })
}

/// The `sls-emulator` binary of this workspace, built if need be: `SLS_EMU_BIN` if set, else
/// `cargo build -p sls-emulator --bin sls-emulator` (once per process, with the `cargo` that runs
/// this test when known) into the Cargo profile folder of the running executable, where
/// [`locate_emulator_binary`] looks. For tests and harnesses of this workspace: `cargo test -p
/// <package>` builds only that package's targets, so without this a clean checkout has no
/// emulator binary and an old checkout a stale one. Blocks while cargo builds (seconds when the
/// binary is fresh, minutes from scratch); cargo's output goes to stderr.
///
/// # Errors
/// [`Error::Build`] if cargo cannot run or the build fails; [`Error::BinaryNotFound`] if the
/// build did not leave the binary where expected (a cross-compiled layout: set `SLS_EMU_BIN`).
pub fn build_emulator_binary() -> Result<PathBuf> {
    if std::env::var_os("SLS_EMU_BIN").is_some() {
        return locate_emulator_binary();
    }
    // The first caller builds, concurrent ones wait for it; the outcome is kept as text
    // because `Error` holds non-clonable `io::Error`s.
    static BUILT: OnceLock<std::result::Result<PathBuf, (String, String)>> = OnceLock::new();
    match BUILT.get_or_init(cargo_build_emulator) {
        Ok(path) if path.is_file() => Ok(path.clone()),
        Ok(path) => Err(Error::BinaryNotFound { path: path.clone() }),
        Err((command, reason)) => Err(Error::Build {
            command: command.clone(),
            reason: reason.clone(),
        }),
    }
}

/// Runs the build for [`build_emulator_binary`]; the error is (command line, reason).
fn cargo_build_emulator() -> std::result::Result<PathBuf, (String, String)> {
    let exe = std::env::current_exe().map_err(|e| ("current_exe".to_string(), e.to_string()))?;
    let profile_dir = profile_dir(&exe).ok_or_else(|| {
        let what = format!("the Cargo profile folder of {}", exe.display());
        (what, "not under a target folder".to_string())
    })?;
    let target_dir = profile_dir.parent().unwrap_or(Path::new("."));
    // Cargo names the `dev` profile's folder `debug`; every other profile's folder is its name.
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(name) => name,
    };
    // This crate's manifest folder is known at compile time; its parent is the workspace.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "-p",
            "sls-emulator",
            "--bin",
            "sls-emulator",
            "--profile",
            profile,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let command = format!("{cmd:?}");
    tracing::info!(%command, "building the emulator binary");
    let status = cmd.status().map_err(|e| (command.clone(), e.to_string()))?;
    if !status.success() {
        return Err((command, status.to_string()));
    }
    let name = format!("sls-emulator{}", std::env::consts::EXE_SUFFIX);
    Ok(profile_dir.join(name))
}

/// The Cargo profile folder of an executable: its own folder, or the parent of `deps/` or
/// `examples/` for test and example binaries.
fn profile_dir(exe: &Path) -> Option<&Path> {
    let dir = exe.parent()?;
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("deps" | "examples") => dir.parent(),
        _ => Some(dir),
    }
}

/// The real emulator binary running as a child process, with process faults.
///
/// Dropping it SIGKILLs the process (it is never left running, even when stopped).
#[derive(Debug)]
pub struct EmulatorProcess {
    options: EmulatorOptions,
    binary: PathBuf,
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl EmulatorProcess {
    /// Starts the emulator and waits until it listens (its first stdout line). Its stdout is
    /// drained for its whole life, and the end of its stderr is kept for error messages.
    ///
    /// # Errors
    /// [`Error::BinaryNotFound`], [`Error::Spawn`], [`Error::Startup`] (it exited: see its
    /// stderr), [`Error::StartTimeout`] or [`Error::Banner`].
    pub fn spawn(options: EmulatorOptions) -> Result<EmulatorProcess> {
        let binary = match &options.binary {
            Some(b) if b.is_file() => b.clone(),
            Some(b) => return Err(Error::BinaryNotFound { path: b.clone() }),
            None => locate_emulator_binary()?,
        };
        let (child, addr, stderr) = start(&binary, &options, options.port)?;
        tracing::info!(pid = child.id(), %addr, "emulator started");
        Ok(EmulatorProcess {
            options,
            binary,
            child,
            addr,
            stderr,
        })
    }

    /// The address it listens on (the first one, when it binds several).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port (stable across [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The SLS endpoint for clients: `localhost:<port>` (projects are `<project>.localhost`;
    /// use the client's connect-to option where that does not resolve).
    pub fn endpoint(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// The current process id (changes on restart).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The options it runs with.
    pub fn options(&self) -> &EmulatorOptions {
        &self.options
    }

    /// The end of its stderr so far.
    pub fn stderr_tail(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Whether the process has not exited (a stopped process is running).
    ///
    /// # Errors
    /// [`Error::Io`] if its status cannot be read.
    pub fn is_running(&mut self) -> Result<bool> {
        Ok(self.child.try_wait()?.is_none())
    }

    /// Its state from `/proc` (Linux): `None` where unavailable.
    pub fn state(&self) -> Option<ProcState> {
        ProcState::of(self.pid())
    }

    /// kill -9: SIGKILL, no graceful shutdown, then reap it. Only what the emulator made
    /// durable before acknowledging survives. A no-op if it has already exited.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be killed or waited for.
    pub fn kill9(&mut self) -> Result<ExitStatus> {
        let status = kill9(&mut self.child)?;
        tracing::info!(pid = self.pid(), "emulator killed (SIGKILL)");
        Ok(status)
    }

    /// Graceful stop: SIGTERM, then wait for it to exit (SIGKILL after 10 s). A paused
    /// process is resumed first so it can handle the signal.
    ///
    /// # Errors
    /// [`Error::Signal`] or [`Error::Io`].
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        signal(&mut self.child, "TERM")?;
        if ProcState::of(self.pid()) == Some(ProcState::Stopped) {
            signal(&mut self.child, "CONT")?;
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tracing::warn!(pid = self.pid(), "emulator ignored SIGTERM; killing it");
        kill9(&mut self.child)
    }

    /// Starts the emulator again on the same data folder, port and options; kills the
    /// current process first (SIGKILL) if it is still running. While the port is taken
    /// ("Address already in use"), it keeps retrying for up to 10 s, so clients configured
    /// with the old endpoint reconnect to the new process.
    ///
    /// # Errors
    /// Those of [`spawn`](Self::spawn); [`Error::Startup`] at once for other start failures,
    /// or if the port is still taken after 10 s.
    pub fn restart(&mut self) -> Result<()> {
        kill9(&mut self.child)?;
        let port = self.addr.port();
        let deadline = Instant::now() + REBIND_TIMEOUT;
        loop {
            match start(&self.binary, &self.options, port) {
                Ok((child, addr, stderr)) => {
                    (self.child, self.addr, self.stderr) = (child, addr, stderr);
                    tracing::info!(pid = self.pid(), %addr, "emulator restarted");
                    return Ok(());
                }
                Err(Error::Startup { ref stderr, .. })
                    if stderr.contains("in use") && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// kill -9, then [`restart`](Self::restart).
    ///
    /// # Errors
    /// Those of both.
    pub fn kill9_and_restart(&mut self) -> Result<()> {
        self.kill9()?;
        self.restart()
    }

    /// SIGSTOP: the process freezes; its listening socket still accepts connections into the
    /// backlog, so requests hang until the client's timeout rather than being refused.
    /// Returns once `/proc` shows it stopped.
    ///
    /// # Errors
    /// [`Error::NotRunning`], [`Error::Signal`] or [`Error::StateTimeout`].
    pub fn pause(&mut self) -> Result<()> {
        pause(&mut self.child)?;
        tracing::info!(pid = self.pid(), "emulator paused (SIGSTOP)");
        Ok(())
    }

    /// SIGCONT: the process continues and serves what queued up meanwhile.
    ///
    /// # Errors
    /// [`Error::NotRunning`], [`Error::Signal`] or [`Error::StateTimeout`].
    pub fn resume(&mut self) -> Result<()> {
        resume(&mut self.child)?;
        tracing::info!(pid = self.pid(), "emulator resumed (SIGCONT)");
        Ok(())
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = kill9(&mut self.child);
    }
}

fn lock(m: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spawns the emulator on `port` and waits for its banner.
fn start(
    binary: &Path,
    o: &EmulatorOptions,
    port: u16,
) -> Result<(Child, SocketAddr, Arc<Mutex<String>>)> {
    let mut child = Command::new(binary)
        .arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg(&o.bind)
        .arg("--data-dir")
        .arg(&o.data_dir)
        .arg("--access-key-id")
        .arg(&o.access_key_id)
        .arg("--access-key-secret")
        .arg(&o.access_key_secret)
        .args(&o.extra_args)
        .env("RUST_LOG", &o.log_filter)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: binary.display().to_string(),
            source,
        })?;
    let stderr = Arc::new(Mutex::new(String::new()));
    let stderr_reader = child.stderr.take().map(|err| {
        let tail = stderr.clone();
        std::thread::spawn(move || keep_tail(err, &tail))
    });
    let first_line = child.stdout.take().map(first_line_then_drain);
    let line = match first_line.map(|rx| rx.recv_timeout(START_TIMEOUT)) {
        Some(Ok(Some(line))) => line,
        Some(Err(mpsc::RecvTimeoutError::Timeout)) => {
            let _ = kill9(&mut child);
            return Err(Error::StartTimeout(START_TIMEOUT));
        }
        _ => {
            // No line: it is exiting. Wait for it so stderr is complete.
            let status = wait_briefly(&mut child)?;
            // It has exited, so its stderr is at EOF: the reader ends after the last bytes.
            if let Some(reader) = stderr_reader {
                let _ = reader.join();
            }
            let stderr = lock(&stderr).trim().to_string();
            return Err(Error::Startup { status, stderr });
        }
    };
    let addr = line
        .trim()
        .strip_prefix(BANNER_PREFIX)
        .and_then(|rest| rest.split(',').next())
        .and_then(|a| a.trim().parse().ok());
    match addr {
        Some(addr) => Ok((child, addr, stderr)),
        None => {
            let _ = kill9(&mut child);
            Err(Error::Banner(line))
        }
    }
}

/// Waits up to a second for a child that is exiting; kills it if it does not.
fn wait_briefly(child: &mut Child) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill9(child)?;
    Ok(None)
}

/// Reads the first line on a thread and sends it (`None` at EOF or on a read error), then
/// keeps draining, so the child never writes into a closed pipe.
fn first_line_then_drain(out: impl Read + Send + 'static) -> mpsc::Receiver<Option<String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = BufReader::new(out);
        let mut line = String::new();
        let first = match out.read_line(&mut line) {
            Ok(n) if n > 0 => Some(line),
            _ => None,
        };
        let _ = tx.send(first);
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    rx
}

/// Drains `err`, keeping its last [`STDERR_TAIL`] bytes (lossy UTF-8) in `tail`.
fn keep_tail(err: impl Read, tail: &Mutex<String>) {
    let mut err = BufReader::new(err);
    let mut line = Vec::new();
    while matches!(err.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let mut t = lock(tail);
        t.push_str(&String::from_utf8_lossy(&line));
        if t.len() > STDERR_TAIL {
            let mut cut = t.len() - STDERR_TAIL;
            while !t.is_char_boundary(cut) {
                cut += 1;
            }
            t.drain(..cut);
        }
        line.clear();
    }
}

/// Any process (a consumer worker, a producer script) under the harness's control: kill -9,
/// restart with the same command, pause and resume.
///
/// Dropping it SIGKILLs the process if it is still running.
#[derive(Debug)]
pub struct ManagedProcess {
    command: Command,
    child: Child,
    restarts: u32,
}

impl ManagedProcess {
    /// Spawns `command`. Its stdio is whatever `command` says (inherited by default); if it is
    /// piped, the caller must read the pipes of each spawn (`child_mut`).
    ///
    /// # Errors
    /// [`Error::Spawn`].
    pub fn spawn(mut command: Command) -> Result<ManagedProcess> {
        let child = spawn_command(&mut command)?;
        Ok(ManagedProcess {
            command,
            child,
            restarts: 0,
        })
    }

    /// The current process id (changes on restart).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many times it was restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The current child, e.g. to take its piped stdout.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether the process has not exited (a stopped process is running).
    ///
    /// # Errors
    /// [`Error::Io`] if its status cannot be read.
    pub fn is_running(&mut self) -> Result<bool> {
        Ok(self.child.try_wait()?.is_none())
    }

    /// Its state from `/proc` (Linux), `None` where unavailable. [`ProcState::Dead`] once
    /// it has exited and been reaped (until the system reuses the pid).
    pub fn state(&self) -> Option<ProcState> {
        ProcState::of(self.pid())
    }

    /// kill -9: SIGKILL (no cleanup, no final checkpoint), then reap it. A no-op if it has
    /// already exited; returns its exit status.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn kill9(&mut self) -> Result<ExitStatus> {
        let status = kill9(&mut self.child)?;
        tracing::info!(pid = self.pid(), "process killed (SIGKILL)");
        Ok(status)
    }

    /// Spawns the same command again (new pid), SIGKILLing the current process first if it is
    /// still running.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Spawn`].
    pub fn restart(&mut self) -> Result<()> {
        kill9(&mut self.child)?;
        self.child = spawn_command(&mut self.command)?;
        self.restarts += 1;
        tracing::info!(pid = self.pid(), "process restarted");
        Ok(())
    }

    /// SIGSTOP; returns once `/proc` shows it stopped.
    ///
    /// # Errors
    /// [`Error::NotRunning`], [`Error::Signal`] or [`Error::StateTimeout`].
    pub fn pause(&mut self) -> Result<()> {
        pause(&mut self.child)
    }

    /// SIGCONT; returns once `/proc` shows it running.
    ///
    /// # Errors
    /// [`Error::NotRunning`], [`Error::Signal`] or [`Error::StateTimeout`].
    pub fn resume(&mut self) -> Result<()> {
        resume(&mut self.child)
    }

    /// SIGTERM without waiting (the process may clean up; see [`wait`](Self::wait)).
    ///
    /// # Errors
    /// [`Error::NotRunning`] or [`Error::Signal`].
    pub fn terminate(&mut self) -> Result<()> {
        signal(&mut self.child, "TERM")
    }

    /// Waits for the process to exit.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn wait(&mut self) -> Result<ExitStatus> {
        Ok(self.child.wait()?)
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        let _ = kill9(&mut self.child);
    }
}

fn spawn_command(command: &mut Command) -> Result<Child> {
    command.spawn().map_err(|source| Error::Spawn {
        program: command.get_program().to_string_lossy().into_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_is_reported_with_the_build_command() {
        let e = EmulatorProcess::spawn(EmulatorOptions {
            binary: Some(PathBuf::from("/nonexistent/sls-emulator")),
            ..EmulatorOptions::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("cargo build -p sls-emulator"), "{e}");
    }

    #[test]
    fn profile_dir_of_test_and_plain_binaries() {
        let test = Path::new("/w/target/release/deps/process-0123");
        assert_eq!(profile_dir(test), Some(Path::new("/w/target/release")));
        let bin = Path::new("/w/target/debug/sls-emulator");
        assert_eq!(profile_dir(bin), Some(Path::new("/w/target/debug")));
    }

    #[test]
    fn proc_memory_of_self_grows_with_what_it_touches() {
        let Some(before) = ProcMemory::of(std::process::id()) else {
            return; // no /proc here
        };
        let touched = vec![1u8; 64 << 20];
        let after = ProcMemory::of(std::process::id()).unwrap();
        assert!(
            after.rss_kib >= before.rss_kib + (60 << 10),
            "{before:?} {after:?}"
        );
        assert!(after.peak_kib >= after.rss_kib);
        drop(touched);
        ProcMemory::reset_peak(std::process::id()).unwrap();
        let reset = ProcMemory::of(std::process::id()).unwrap();
        assert!(reset.peak_kib < after.peak_kib, "{after:?} {reset:?}");
        assert_eq!(ProcMemory::of(u32::MAX), None);
    }

    #[test]
    fn proc_state_of_self_is_alive() {
        if let Some(s) = ProcState::of(std::process::id()) {
            assert_eq!(s, ProcState::Alive);
        }
    }
}
