//! Official clients in their own OS processes, driven the same way whatever their language:
//! consumer-group workers (Python `ConsumerWorker`, Java `ClientWorker`, Go `consumerLibrary`)
//! and producers (Java `aliyun-log-producer`, Go `producer`).
//!
//! Every worker program appends one JSON event per line to its own file (format in
//! `tests/python/consumer_worker.py`, shared by `tests/java` and `tests/go`): `start`, `init`,
//! `processing` (Java), `batch` (the ids of a processed batch and the cursor then committed with
//! force, unless `"committed": false`), `raise`, `shutdown`, `warn`, `error`, `exit`. Each is flushed before the checkpoint it precedes, so
//! a SIGKILL loses no record of work the server was told about. Every producer program writes
//! one line per log when its callback fires (`ids`, `invoke`, `complete`, `outcome`, `error`).
//!
//! Where the programs are: `tests/java/*/target/*.jar` and `tests/go/bin/sls-go`
//! (`scripts/build-harnesses.sh`), the venv's Python (`scripts/setup-python.sh`);
//! `scripts/test.sh` runs both. A missing one fails the test with the command that builds it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sls_fault_injection::process::ManagedProcess;

use crate::history::{CheckpointEvent, ConsumeEvent, FaultEvent, Outcome, WriteOp};
use crate::repo_root;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The language of an official client, which decides the program that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// aliyun-log-python-sdk (the venv of `scripts/setup-python.sh`).
    Python,
    /// The Java libraries (`tests/java`).
    Java,
    /// aliyun-log-go-sdk (`tests/go`).
    Go,
}

/// Pinned versions, as reports name the libraries.
pub const PY_WORKER: &str = "aliyun-log-python-sdk 0.9.52 ConsumerWorker";
pub const PY_PUT_LOGS: &str = "aliyun-log-python-sdk 0.9.52 put_logs";
pub const JAVA_WORKER: &str = "loghub-client-lib 0.6.41 ClientWorker";
pub const GO_WORKER: &str = "aliyun-log-go-sdk v0.1.131 consumer";
pub const JAVA_PRODUCER: &str = "aliyun-log-producer 0.3.24";
pub const GO_PRODUCER: &str = "aliyun-log-go-sdk v0.1.131 producer";

impl Lang {
    /// The consumer library of this language, as reports name it.
    pub fn worker_library(self) -> &'static str {
        match self {
            Lang::Python => PY_WORKER,
            Lang::Java => JAVA_WORKER,
            Lang::Go => GO_WORKER,
        }
    }

    /// The producer library of this language (Python has none: its SDK's put_logs is used).
    pub fn producer_library(self) -> &'static str {
        match self {
            Lang::Python => PY_PUT_LOGS,
            Lang::Java => JAVA_PRODUCER,
            Lang::Go => GO_PRODUCER,
        }
    }
}

/// An in-process emulator that `lang`'s consumer workers can reach: Java's take no port in
/// their endpoint, so it also answers on port 80 ([`crate::start_with_port_80`]).
///
/// # Errors
/// The emulator could not start.
pub async fn server_for(
    lang: Lang,
) -> Result<sls_emulator::testing::TestServer, sls_emulator::ServerError> {
    match lang {
        Lang::Java => crate::start_with_port_80().await,
        Lang::Python | Lang::Go => sls_emulator::testing::TestServer::start().await,
    }
}

/// The Java harness jar of `module` (`sdk`, `consumer`, `producer`, `flink`).
fn java_jar(module: &str) -> PathBuf {
    repo_root()
        .join("tests/java")
        .join(module)
        .join("target")
        .join(format!("sls-java-{module}.jar"))
}

/// The Go harness binary.
fn go_binary() -> PathBuf {
    repo_root().join("tests/go/bin/sls-go")
}

/// A command running `program` of `lang`'s harness (`sdk`/`sdk-core`, `consumer`, `producer`),
/// from the repository root, with no proxy variables (tests talk to loopback only).
///
/// # Errors
/// When the harness is not built: the message says how to build it.
pub fn harness_command(lang: Lang, program: Program) -> Res<Command> {
    let (exe, args): (PathBuf, Vec<String>) = match lang {
        Lang::Python => {
            let script = match program {
                Program::Sdk => "tests/python/sdk_core.py",
                Program::Consumer => "tests/python/consumer_worker.py",
                Program::Producer => "tests/python/put_logs_writer.py",
            };
            (crate::venv_python()?, vec![script.to_string()])
        }
        Lang::Java => return java_command(program.java_module(), &[]),
        Lang::Go => return go_command(program.go_subcommand()),
    };
    Ok(loopback_command(exe, args))
}

/// `sls-go <subcommand>`, like [`harness_command`] (for the subcommands beyond [`Program`]).
///
/// # Errors
/// When the binary is not built: the message says how to build it.
pub fn go_command(subcommand: &str) -> Res<Command> {
    let exe = go_binary();
    if !exe.exists() {
        return Err(crate::missing_harness(&exe, crate::BUILD_HARNESSES).into());
    }
    Ok(loopback_command(exe, vec![subcommand.to_string()]))
}

/// `java -cp <jar> <main_class>`: another program of the jar of `tests/java` module `module`
/// than its Main-Class, like [`harness_command`].
///
/// # Errors
/// When the jar is not built: the message says how to build it.
pub fn java_main_command(module: &str, main_class: &str) -> Res<Command> {
    let jar = java_jar(module);
    if !jar.exists() {
        return Err(crate::missing_harness(&jar, crate::BUILD_HARNESSES).into());
    }
    let args = vec![
        "-cp".to_string(),
        jar.display().to_string(),
        main_class.to_string(),
    ];
    Ok(loopback_command(PathBuf::from("java"), args))
}

/// `java <jvm_args> -jar` the jar of `tests/java` module `module`, like [`harness_command`].
///
/// # Errors
/// When the jar is not built: the message says how to build it.
pub fn java_command(module: &str, jvm_args: &[&str]) -> Res<Command> {
    let jar = java_jar(module);
    if !jar.exists() {
        return Err(crate::missing_harness(&jar, crate::BUILD_HARNESSES).into());
    }
    let mut args: Vec<String> = jvm_args.iter().map(|a| a.to_string()).collect();
    args.extend(["-jar".into(), jar.display().to_string()]);
    Ok(loopback_command(PathBuf::from("java"), args))
}

/// `exe args` from the repository root, with no proxy variables.
fn loopback_command(exe: PathBuf, args: Vec<String>) -> Command {
    let mut cmd = Command::new(exe);
    cmd.current_dir(repo_root()).args(args);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The programs every harness has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The SDK walk-through (every API, field-by-field comparison, errors).
    Sdk,
    /// One consumer-group worker.
    Consumer,
    /// A producer (Python: put_logs) writing logs with unique ids.
    Producer,
}

impl Program {
    fn java_module(self) -> &'static str {
        match self {
            Program::Sdk => "sdk",
            Program::Consumer => "consumer",
            Program::Producer => "producer",
        }
    }

    fn go_subcommand(self) -> &'static str {
        match self {
            Program::Sdk => "sdk-core",
            Program::Consumer => "consumer-worker",
            Program::Producer => "producer-writer",
        }
    }
}

/// Where the emulator is, for clients in other processes.
#[derive(Debug, Clone)]
pub struct Target {
    /// `localhost:PORT`.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl Target {
    /// The emulator `server`.
    pub fn of(server: &sls_emulator::testing::TestServer) -> Target {
        Target {
            endpoint: server.endpoint(),
            access_key_id: server.config().access_key_id.clone(),
            access_key_secret: server.config().access_key_secret.clone(),
        }
    }

    /// The port of the endpoint.
    pub fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(80)
    }

    /// The endpoint `lang`'s clients take: Java's cannot carry a port, so it is `localhost`
    /// (the emulator must also answer on port 80: [`crate::start_with_port_80`]).
    pub fn endpoint_for(&self, lang: Lang) -> String {
        match lang {
            Lang::Java => "localhost".to_string(),
            Lang::Python | Lang::Go => self.endpoint.clone(),
        }
    }

    /// Endpoint and key flags, as every harness program takes them.
    fn args(&self, lang: Lang) -> Vec<String> {
        vec![
            "--endpoint".into(),
            self.endpoint_for(lang),
            "--access-key-id".into(),
            self.access_key_id.clone(),
            "--access-key-secret".into(),
            self.access_key_secret.clone(),
        ]
    }
}

/// Options of one consumer worker process.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `order=true`: a child shard after its parents.
    pub in_order: bool,
    /// process() fails on this batch handed to the process (1-based), once.
    pub fail_batch: Option<u32>,
    /// Log groups per PullLogs.
    pub max_fetch: Option<u32>,
    /// Heartbeat interval. Python and Go take whole seconds (at least 1).
    pub heartbeat: Duration,
    /// The group timeout (Python: always twice the heartbeat).
    pub timeout_secs: u32,
    /// How long process() sleeps per batch.
    pub process_delay: Duration,
    /// Where a shard with no checkpoint starts: `begin` or `end` (Python: always begin).
    pub position: &'static str,
    /// More flags for this language's program (e.g. Java's `--lazy-commit`).
    pub extra: Vec<String>,
}

impl Default for WorkerOptions {
    /// Quick: 1 s heartbeats, a 3 s group timeout (Python: 2 s), start at BEGIN.
    fn default() -> Self {
        WorkerOptions {
            in_order: false,
            fail_batch: None,
            max_fetch: None,
            heartbeat: Duration::from_secs(1),
            timeout_secs: 3,
            process_delay: Duration::ZERO,
            position: "begin",
            extra: Vec::new(),
        }
    }
}

impl WorkerOptions {
    /// The group timeout the worker really runs with.
    pub fn effective_timeout(&self, lang: Lang) -> Duration {
        match lang {
            Lang::Python => 2 * Duration::from_secs(self.heartbeat.as_secs().max(1)),
            Lang::Java | Lang::Go => Duration::from_secs(u64::from(self.timeout_secs)),
        }
    }

    fn args(&self, lang: Lang) -> Vec<String> {
        let secs = self.heartbeat.as_secs().max(1).to_string();
        let mut a: Vec<String> = match lang {
            Lang::Python => vec![
                "--heartbeat-interval".into(),
                secs,
                "--fetch-interval".into(),
                "0.2".into(),
            ],
            Lang::Java => vec![
                "--heartbeat-interval-ms".into(),
                self.heartbeat.as_millis().to_string(),
                "--timeout-secs".into(),
                self.timeout_secs.to_string(),
                "--fetch-interval-ms".into(),
                "200".into(),
            ],
            Lang::Go => vec![
                "--heartbeat-interval-secs".into(),
                secs,
                "--timeout-secs".into(),
                self.timeout_secs.to_string(),
                "--fetch-interval-ms".into(),
                "200".into(),
            ],
        };
        if self.in_order {
            a.push("--in-order".into());
        }
        if let Some(n) = self.fail_batch {
            a.extend(["--fail-batch".into(), n.to_string()]);
        }
        if let Some(n) = self.max_fetch {
            a.extend(["--max-fetch".into(), n.to_string()]);
        }
        if !self.process_delay.is_zero() {
            match lang {
                Lang::Python => a.extend([
                    "--process-delay".into(),
                    self.process_delay.as_secs_f64().to_string(),
                ]),
                Lang::Java | Lang::Go => a.extend([
                    "--process-delay-ms".into(),
                    self.process_delay.as_millis().to_string(),
                ]),
            }
        }
        if lang != Lang::Python {
            a.extend(["--position".into(), self.position.to_string()]);
        }
        a.extend(self.extra.iter().cloned());
        a
    }
}

/// What the workers recorded, parsed incrementally.
#[derive(Default)]
pub struct Events {
    /// Every log of every processed batch.
    pub consumed: Vec<ConsumeEvent>,
    /// The forced commit after each batch.
    pub checkpoints: Vec<CheckpointEvent>,
    /// Failed batches and worker errors.
    pub notes: Vec<FaultEvent>,
    /// Ids of the batches process() failed on.
    pub raised: HashSet<String>,
    /// Distinct ids processed.
    pub distinct: HashSet<String>,
    /// `(worker, shard, time)` of every `init`: when a worker took a shard.
    pub inits: Vec<(String, u32, i64)>,
    /// `(worker, shard, time)` of every `processing` (Java: a non-empty process() begins).
    pub processing: Vec<(String, u32, i64)>,
    /// `(worker, shard, time)` of every `shutdown` (the processor's shutdown hook ran).
    pub shutdowns: Vec<(String, u32, i64)>,
    /// Workers that recorded a graceful `exit`.
    pub exited: HashSet<String>,
    /// Library warnings, per worker.
    pub warnings: BTreeMap<String, Vec<String>>,
    /// Per event file: bytes already parsed.
    offsets: BTreeMap<PathBuf, usize>,
}

struct Worker {
    name: String,
    out: PathBuf,
    process: ManagedProcess,
}

/// Official consumer-group workers of one language, one process each, in one group.
pub struct Workers {
    lang: Lang,
    target: Target,
    project: String,
    logstore: String,
    group: String,
    /// Unix ms of time 0: event times are converted to this clock.
    epoch_ms: i64,
    dir: tempfile::TempDir,
    workers: Vec<Worker>,
    read: Mutex<Events>,
}

impl Workers {
    /// No workers yet; event files go to a fresh temporary folder. Event times become
    /// milliseconds since `epoch_ms` (Unix ms).
    ///
    /// # Errors
    /// The folder cannot be made.
    pub fn new(
        lang: Lang,
        target: Target,
        project: &str,
        logstore: &str,
        group: &str,
        epoch_ms: i64,
    ) -> Res<Workers> {
        Ok(Workers {
            lang,
            target,
            project: project.into(),
            logstore: logstore.into(),
            group: group.into(),
            epoch_ms,
            dir: tempfile::Builder::new().prefix("sls-workers-").tempdir()?,
            workers: Vec::new(),
            read: Mutex::new(Events::default()),
        })
    }

    /// The language of these workers.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Starts worker `name`; its library log goes to `<name>.log` beside its events.
    ///
    /// # Errors
    /// The harness is not built, or the process cannot start.
    pub fn spawn(&mut self, name: &str, o: &WorkerOptions) -> Res<()> {
        let out = self.dir.path().join(format!("{name}.jsonl"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{name}.log")))?;
        let mut cmd = harness_command(self.lang, Program::Consumer)?;
        cmd.args(self.target.args(self.lang))
            .args(["--project", &self.project, "--logstore", &self.logstore])
            .args(["--group", &self.group, "--consumer", name])
            .args(o.args(self.lang))
            .arg("--out")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let process = ManagedProcess::spawn(cmd)?;
        self.workers.push(Worker {
            name: name.to_string(),
            out,
            process,
        });
        Ok(())
    }

    fn find(&mut self, name: &str) -> Res<&mut ManagedProcess> {
        self.workers
            .iter_mut()
            .find(|w| w.name == name)
            .map(|w| &mut w.process)
            .ok_or_else(|| format!("no worker {name}").into())
    }

    /// SIGKILL worker `name` (no shutdown, no final checkpoint).
    ///
    /// # Errors
    /// No such worker, or the signal failed.
    pub fn kill9(&mut self, name: &str) -> Res<()> {
        self.find(name)?.kill9()?;
        Ok(())
    }

    /// Starts worker `name` again with the same command (same consumer name, same event file),
    /// SIGKILLing it first if it still runs (kill -9 and restart).
    ///
    /// # Errors
    /// No such worker, or the process cannot be started.
    pub fn restart(&mut self, name: &str) -> Res<()> {
        self.find(name)?.restart()?;
        Ok(())
    }

    /// SIGTERM worker `name` (the library's graceful shutdown) and wait up to `secs` for it;
    /// returns whether it exited in time (it is SIGKILLed otherwise).
    ///
    /// # Errors
    /// No such worker.
    pub fn stop(&mut self, name: &str, secs: u64) -> Res<bool> {
        let p = self.find(name)?;
        let _ = p.terminate();
        Ok(wait_or_kill(p, Instant::now() + Duration::from_secs(secs)))
    }

    /// SIGTERM every worker, waiting at most `secs` in all; returns the workers that had to be
    /// SIGKILLed.
    pub fn stop_all(&mut self, secs: u64) -> Vec<String> {
        for w in &mut self.workers {
            let _ = w.process.terminate();
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        self.workers
            .iter_mut()
            .filter_map(|w| (!wait_or_kill(&mut w.process, deadline)).then(|| w.name.clone()))
            .collect()
    }

    /// Whether worker `name`'s process is alive.
    pub fn is_running(&mut self, name: &str) -> bool {
        self.find(name)
            .ok()
            .and_then(|p| p.is_running().ok())
            .unwrap_or(false)
    }

    /// The last `lines` lines of every worker's library log, for failure messages.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for w in &self.workers {
            let path = self.dir.path().join(format!("{}.log", w.name));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let from = all.len().saturating_sub(lines);
            out.push_str(&format!("--- {} ({})\n", w.name, path.display()));
            for l in &all[from..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Parses what the workers appended since the last call, then runs `f` on everything read.
    /// Consume events carry cursor -1 (the batch is known, not each log's group): fill them from
    /// the ground truth.
    pub fn read<T>(&self, f: impl FnOnce(&Events) -> T) -> T {
        let mut ev = self.read.lock().unwrap_or_else(|e| e.into_inner());
        for w in &self.workers {
            let Ok(text) = std::fs::read(&w.out) else {
                continue;
            };
            let from = ev.offsets.get(&w.out).copied().unwrap_or(0).min(text.len());
            // Only whole lines: a line still being written is read next time.
            let Some(end) = text[from..].iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            let end = from + end + 1;
            for line in String::from_utf8_lossy(&text[from..end]).lines() {
                parse_event(self.epoch_ms, &w.name, line, &mut ev);
            }
            ev.offsets.insert(w.out.clone(), end);
        }
        f(&ev)
    }

    /// Distinct ids processed so far.
    pub fn distinct(&self) -> usize {
        self.read(|e| e.distinct.len())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.process.kill9();
        }
    }
}

/// Waits for `p` to exit until `deadline`; SIGKILLs it if it did not. True if it exited.
fn wait_or_kill(p: &mut ManagedProcess, deadline: Instant) -> bool {
    while p.is_running().unwrap_or(false) {
        if Instant::now() > deadline {
            let _ = p.kill9();
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Unix seconds (a float, another process's stamp) as milliseconds since `epoch_ms`.
fn run_ms(epoch_ms: i64, v: &serde_json::Value) -> i64 {
    (v.as_f64().unwrap_or(0.0) * 1000.0) as i64 - epoch_ms
}

/// One line of a worker's event file into `ev` (a line cut by SIGKILL is skipped).
fn parse_event(epoch_ms: i64, name: &str, line: &str, ev: &mut Events) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    let t = run_ms(epoch_ms, &v["t"]);
    let shard = v["shard"].as_u64().unwrap_or(u64::MAX) as u32;
    let ids = strings(&v["ids"]);
    let msg = || v["msg"].as_str().unwrap_or_default().to_string();
    match v["ev"].as_str().unwrap_or_default() {
        "batch" => {
            for id in ids {
                ev.distinct.insert(id.clone());
                ev.consumed.push(ConsumeEvent {
                    consumer: name.to_string(),
                    shard,
                    id,
                    cursor: -1,
                    time_ms: t,
                });
            }
            // The processor then commits the batch's next cursor with force (a failure would be
            // a "warn" event), unless it only kept it for the library to commit later.
            let committed = v["committed"].as_bool().unwrap_or(true);
            if let Some(cursor) = v["cursor"]
                .as_str()
                .filter(|_| committed)
                .and_then(|c| sls_protocol::cursor::decode_cursor(c).ok())
            {
                ev.checkpoints.push(CheckpointEvent {
                    consumer: name.to_string(),
                    shard,
                    cursor,
                    time_ms: t,
                });
            }
        }
        "init" => ev.inits.push((name.to_string(), shard, t)),
        "processing" => ev.processing.push((name.to_string(), shard, t)),
        "shutdown" => ev.shutdowns.push((name.to_string(), shard, t)),
        "raise" => {
            ev.notes.push(FaultEvent {
                time_ms: t,
                description: format!(
                    "{name}: process() failed on purpose on shard {shard} for {} logs {}..{}",
                    ids.len(),
                    ids.first().cloned().unwrap_or_default(),
                    ids.last().cloned().unwrap_or_default()
                ),
            });
            ev.raised.extend(ids);
        }
        "warn" => ev.warnings.entry(name.to_string()).or_default().push(msg()),
        "error" => ev.notes.push(FaultEvent {
            time_ms: t,
            description: format!("{name}: {}", msg()),
        }),
        "exit" => {
            ev.exited.insert(name.to_string());
        }
        _ => {}
    }
}

/// The live consumers of `group` and the shards the emulator assigned each.
pub fn owners(
    server: &sls_emulator::testing::TestServer,
    project: &str,
    logstore: &str,
    group: &str,
) -> BTreeMap<String, Vec<u32>> {
    server
        .store()
        .consumer_group_owners(project, logstore, group)
        .unwrap_or_default()
        .into_iter()
        .map(|(consumer, shards)| (consumer, shards.into_iter().map(|s| s.get()).collect()))
        .collect()
}

/// Options of one producer process (Java or Go).
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Logs to send, `<prefix>-0` … `<prefix>-<n-1>`.
    pub count: usize,
    pub prefix: String,
    /// Spread over this many equal hash ranges (0: no hash key).
    pub shards: u32,
    /// Pause after every ten sends.
    pub pace: Duration,
    /// Producer retries before a send fails.
    pub retries: u32,
    /// Extra flags for the program, e.g. batch size or linger.
    pub extra: Vec<String>,
}

impl ProducerOptions {
    /// `count` logs with ids `<prefix>-i`, over 4 shards, the library's default retries.
    pub fn new(prefix: &str, count: usize) -> ProducerOptions {
        ProducerOptions {
            count,
            prefix: prefix.into(),
            shards: 4,
            pace: Duration::ZERO,
            retries: 10,
            extra: Vec::new(),
        }
    }
}

/// Runs `lang`'s producer program to the end (it closes the producer, so every callback has
/// fired) and returns one [`WriteOp`] per log from its callbacks, times in ms since `epoch_ms`.
/// `progress` is called about every 500 ms with the number of callbacks so far.
///
/// # Errors
/// The program is missing, failed, or its output is not what it should be.
pub async fn run_producer(
    lang: Lang,
    target: &Target,
    project: &str,
    logstore: &str,
    o: &ProducerOptions,
    epoch_ms: i64,
    progress: impl FnMut(usize),
) -> Res<Vec<WriteOp>> {
    if lang == Lang::Python {
        return Err("the Python SDK has no producer: use put_logs_writer.py".into());
    }
    let mut cmd = harness_command(lang, Program::Producer)?;
    cmd.args(target.args(lang))
        .args(["--project", project, "--logstore", logstore])
        .args(["--count", &o.count.to_string(), "--prefix", &o.prefix])
        .args(["--shards", &o.shards.to_string()])
        .args(["--pace-ms", &o.pace.as_millis().to_string()])
        .args(["--retries", &o.retries.to_string()])
        .args(&o.extra);
    // The program waits for every callback before closing the producer: both producers cut
    // pending retries short once closing.
    cmd.args(["--drain-ms", "120000"]);
    if lang == Lang::Java {
        // PutLogs goes to this address with `Host: <project>.localhost`. The hash key is sent
        // as given (by default the producer replaces it with an md5 bucket; the Go harness
        // turns that off itself).
        cmd.args(["--proxy-ip", &format!("127.0.0.1:{}", target.port())])
            .arg("--no-adjust-shard-hash");
    }
    run_writer(cmd, lang.producer_library(), epoch_ms, progress).await
}

/// Runs a writer program (`cmd`, given `--out FILE` here) to the end and returns its records
/// as [`WriteOp`]s of `writer`, times in ms since `epoch_ms`. `progress` gets the number of
/// records so far about every 500 ms; the program's stderr is shown if it fails.
///
/// # Errors
/// The program could not start, failed, or wrote something that is not a record.
pub async fn run_writer(
    mut cmd: Command,
    writer: &str,
    epoch_ms: i64,
    mut progress: impl FnMut(usize),
) -> Res<Vec<WriteOp>> {
    let dir = tempfile::Builder::new().prefix("sls-writer-").tempdir()?;
    let out = dir.path().join("writes.jsonl");
    let log = dir.path().join("writer.log");
    cmd.arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?);
    let shown = format!("{cmd:?}");
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        progress(count_lines(&out));
    };
    progress(count_lines(&out));
    if !status.success() {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(30).collect();
        return Err(format!(
            "{writer} exited with {status}: {shown}\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
        .into());
    }
    read_write_ops(&out, writer, epoch_ms)
}

fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|t| t.iter().filter(|&&b| b == b'\n').count())
        .unwrap_or(0)
}

/// The write records of a producer or put_logs program: one JSON line per call or callback,
/// `{"ids":[..],"invoke":T0,"complete":T1,"outcome":"ok"|"fail"|"unknown","error":..}`.
///
/// # Errors
/// The file cannot be read or a line is not such a record.
pub fn read_write_ops(path: &Path, writer: &str, epoch_ms: i64) -> Res<Vec<WriteOp>> {
    let text = std::fs::read_to_string(path)?;
    let mut ops = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let outcome = match v["outcome"].as_str() {
            Some("ok") => Outcome::Ok,
            Some("fail") => Outcome::Fail,
            Some("unknown") => Outcome::Unknown,
            other => return Err(format!("bad outcome {other:?} in {line}").into()),
        };
        let mut error = v["error"].as_str().map(str::to_string);
        // The producers list every attempt: keep them, they are the evidence of a retry.
        if let Some(attempts) = v["attempts"].as_array().filter(|a| a.len() > 1) {
            let codes: Vec<String> = attempts
                .iter()
                .map(|a| a["code"].as_str().unwrap_or("?").to_string())
                .collect();
            error = Some(format!(
                "{} (attempts: {})",
                error.unwrap_or_default(),
                codes.join(", ")
            ));
        }
        ops.push(WriteOp {
            writer: writer.to_string(),
            ids: strings(&v["ids"]),
            invoke_ms: run_ms(epoch_ms, &v["invoke"]),
            complete_ms: run_ms(epoch_ms, &v["complete"]),
            outcome,
            error,
        });
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_into_history_parts() {
        let mut ev = Events::default();
        let lines = [
            r#"{"ev":"init","shard":2,"t":1.5}"#,
            r#"{"ev":"batch","shard":2,"ids":["a","b"],"cursor":"MTIz","t":2.0}"#,
            r#"{"ev":"raise","shard":2,"ids":["c"],"cursor":"MTI0","t":2.5}"#,
            r#"{"ev":"warn","msg":"heartbeat failed","t":3.0}"#,
            r#"{"ev":"exit","t":4.0}"#,
            r#"{"ev":"batch","shard":2,"ids":["d""#,
        ];
        for l in lines {
            parse_event(1000, "w1", l, &mut ev);
        }
        assert_eq!(ev.inits, vec![("w1".to_string(), 2, 500)]);
        assert_eq!(ev.consumed.len(), 2);
        assert_eq!(ev.consumed[1].id, "b");
        assert_eq!(ev.checkpoints[0].cursor, 123);
        assert!(ev.raised.contains("c"));
        assert_eq!(ev.warnings["w1"], vec!["heartbeat failed".to_string()]);
        assert!(ev.exited.contains("w1"));
        assert_eq!(ev.distinct.len(), 2, "the cut line is skipped");
    }

    #[test]
    fn write_records_keep_every_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.jsonl");
        std::fs::write(
            &p,
            "{\"ids\":[\"x-1\"],\"invoke\":1.0,\"complete\":2.0,\"outcome\":\"fail\",\"error\":\"WriteQuotaExceed: no\",\"attempts\":[{\"code\":\"InternalServerError\"},{\"code\":\"WriteQuotaExceed\"}]}\n",
        )
        .unwrap();
        let ops = read_write_ops(&p, "w", 0).unwrap();
        assert_eq!(ops[0].outcome, Outcome::Fail);
        assert_eq!(ops[0].complete_ms, 2000);
        assert!(ops[0]
            .error
            .as_deref()
            .unwrap()
            .contains("InternalServerError, WriteQuotaExceed"));
    }
}
