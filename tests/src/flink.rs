//! The Flink job of `tests/java/flink` (a local MiniCluster running the official
//! `flink-log-connector`) in its own JVM: started, killed with SIGKILL, restarted from its newest
//! retained checkpoint, and its event file read back.
//!
//! The job appends one JSON object per line to `events.jsonl` (see `Events.java`): `started`
//! (with `restored_from`), `task_start` (attempt, subtask), `task_failure`, `prepared`,
//! `committed`, `commit_already_done`, `commit_failed`, `aborted`, `orphan_rolled_back`,
//! `seqid_rejected`, `halt`, `job_failed`. Its stderr (Flink at WARN, the connector at INFO)
//! goes to `job.log` beside it.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use sls_fault_injection::process::ManagedProcess;

use crate::workers::{java_command, Target};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The source under test, as reports name it.
pub const FLINK_SOURCE: &str = "flink-log-connector 0.1.33 FlinkLogConsumer";
/// The connector's own sink.
pub const FLINK_PRODUCER: &str = "flink-log-connector 0.1.33 FlinkLogProducer";
/// The source into PostgreSQL by two-phase commit (our `PostgresSink`).
pub const FLINK_PG: &str = "FlinkLogConsumer -> PostgreSQL two-phase commit";
/// The source into SLS by PutLogs with sequence ids (our `IdempotentSlsSink`).
pub const FLINK_IDEMPOTENT: &str = "FlinkLogConsumer -> SLS PutLogs with seqid";
/// The same sink with no sequence ids (the control).
pub const FLINK_KEYED: &str = "FlinkLogConsumer -> SLS PutLogs without seqid";

/// Where the job writes.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Two-phase commit into this JDBC database (table `sink_rows`).
    Postgres { jdbc_url: String },
    /// The connector's `FlinkLogProducer` into this logstore.
    Producer { logstore: String },
    /// PutLogs with sequence ids into this logstore (without, when `seqid` is false: the
    /// control).
    Idempotent { logstore: String, seqid: bool },
}

/// One run's settings (see `FlinkJob.java` for each flag).
#[derive(Debug, Clone)]
pub struct JobOptions {
    pub sink: Sink,
    pub parallelism: u32,
    pub checkpoint_ms: u64,
    /// `CONSUMER_BEGIN_POSITION` for shards with no restored state.
    pub start: String,
    pub consumer_group: Option<String>,
    pub checkpoint_mode: Option<String>,
    pub discovery_ms: u64,
    /// Logs after which attempt 0, 1, ... of subtask 0 fails (task failures).
    pub fail_after: Vec<u64>,
    /// Halt the JVM while the PostgreSQL sink prepares for this checkpoint.
    pub halt_at_checkpoint: Option<u64>,
    /// Pause before each `COMMIT PREPARED` (widens the window between pre-commit and commit).
    pub commit_delay_ms: u64,
    /// Start from the newest retained checkpoint, if any.
    pub restore: bool,
}

impl JobOptions {
    /// Defaults for tests: parallelism 2, checkpoints every 500 ms, BEGIN, shard discovery
    /// every second, no consumer group, no injected failures.
    pub fn new(sink: Sink) -> JobOptions {
        JobOptions {
            sink,
            parallelism: 2,
            checkpoint_ms: 500,
            start: "begin_cursor".into(),
            consumer_group: None,
            checkpoint_mode: None,
            discovery_ms: 1000,
            fail_after: Vec::new(),
            halt_at_checkpoint: None,
            commit_delay_ms: 0,
            restore: true,
        }
    }

    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let flag = |a: &mut Vec<String>, k: &str, v: String| {
            a.push(k.into());
            a.push(v);
        };
        match &self.sink {
            Sink::Postgres { jdbc_url } => {
                flag(&mut a, "--sink", "postgres".into());
                flag(&mut a, "--pg-url", jdbc_url.clone());
            }
            Sink::Producer { logstore } => {
                flag(&mut a, "--sink", "producer".into());
                flag(&mut a, "--sink-logstore", logstore.clone());
            }
            Sink::Idempotent { logstore, seqid } => {
                flag(&mut a, "--sink", "idempotent".into());
                flag(&mut a, "--sink-logstore", logstore.clone());
                if !seqid {
                    a.push("--no-seqid".into());
                }
            }
        }
        flag(&mut a, "--parallelism", self.parallelism.to_string());
        flag(&mut a, "--checkpoint-ms", self.checkpoint_ms.to_string());
        flag(&mut a, "--start", self.start.clone());
        flag(&mut a, "--discovery-ms", self.discovery_ms.to_string());
        if let Some(g) = &self.consumer_group {
            flag(&mut a, "--consumer-group", g.clone());
        }
        if let Some(m) = &self.checkpoint_mode {
            flag(&mut a, "--checkpoint-mode", m.clone());
        }
        if !self.fail_after.is_empty() {
            let list: Vec<String> = self.fail_after.iter().map(u64::to_string).collect();
            flag(&mut a, "--fail-after", list.join(","));
        }
        if let Some(k) = self.halt_at_checkpoint {
            flag(&mut a, "--halt-at-checkpoint", k.to_string());
        }
        if self.commit_delay_ms > 0 {
            flag(
                &mut a,
                "--commit-delay-ms",
                self.commit_delay_ms.to_string(),
            );
        }
        if self.restore {
            a.push("--restore".into());
        }
        a
    }
}

/// One logical Flink job: its checkpoints, events and log live in one temporary folder across
/// JVM restarts.
pub struct FlinkJob {
    target: Target,
    project: String,
    logstore: String,
    dir: tempfile::TempDir,
    process: Option<ManagedProcess>,
}

impl FlinkJob {
    /// A job reading `project`/`logstore` at `target`; nothing runs yet.
    ///
    /// # Errors
    /// The folder cannot be made.
    pub fn new(target: Target, project: &str, logstore: &str) -> Res<FlinkJob> {
        Ok(FlinkJob {
            target,
            project: project.into(),
            logstore: logstore.into(),
            dir: tempfile::Builder::new().prefix("sls-flink-").tempdir()?,
            process: None,
        })
    }

    /// Starts a JVM running the job (SIGKILLing the current one first). With `o.restore`, it
    /// resumes from the newest retained checkpoint, if there is one.
    ///
    /// # Errors
    /// The jar is not built, or the JVM cannot start.
    pub fn start(&mut self, o: &JobOptions) -> Res<()> {
        self.kill9()?;
        let mut cmd = java_command("flink", &["-Xmx512m"])?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("job.log"))?;
        cmd.args(["--endpoint", &self.target.endpoint])
            .args(["--access-key-id", &self.target.access_key_id])
            .args(["--access-key-secret", &self.target.access_key_secret])
            .args(["--project", &self.project, "--logstore", &self.logstore])
            .arg("--events")
            .arg(self.events_path())
            .arg("--checkpoint-dir")
            .arg(self.dir.path().join("checkpoints"))
            .args(o.args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.process = Some(ManagedProcess::spawn(cmd)?);
        Ok(())
    }

    fn events_path(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }

    /// SIGKILL the JVM, if one runs.
    ///
    /// # Errors
    /// The signal failed.
    pub fn kill9(&mut self) -> Res<()> {
        if let Some(mut p) = self.process.take() {
            p.kill9()?;
        }
        Ok(())
    }

    /// Whether the JVM runs (it exits by itself only when its restarts run out, or on halt).
    pub fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|p| p.is_running().unwrap_or(false))
    }

    /// Every event so far (a torn last line is skipped).
    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.events_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How many events named `name` so far.
    pub fn count(&self, name: &str) -> usize {
        self.events().iter().filter(|e| e["event"] == name).count()
    }

    /// The last `n` lines of the JVM's stderr, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The job's stderr, whole.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("job.log")).unwrap_or_default()
    }
}

impl Drop for FlinkJob {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}
