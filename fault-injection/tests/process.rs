//! Process faults against the real `sls-emulator` binary and a real client: kill -9 and
//! restart on the same folder and port, SIGSTOP/SIGCONT, and kill/pause/restart of a consumer
//! worker process (this test binary re-run as a child, see `consumer_child`).
//!
//! The emulator binary is built on first use (`build_emulator_binary`: `cargo test -p
//! sls-fault-injection` alone does not build other packages' binaries), or taken from
//! `SLS_EMU_BIN`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sls_client::{
    Batch, Client, Config, ConsumerConfig, Error, Log, LogContent, LogGroup, LogstoreSpec,
    Processed, Processor, Worker,
};
use sls_fault_injection::process::{
    build_emulator_binary, EmulatorOptions, EmulatorProcess, ManagedProcess, ProcState,
};

type TestResult = Result<(), Box<dyn StdError>>;

const P: &str = "process-faults";
const L: &str = "ls";
const SHARDS: u32 = 2;
const KEY: &str = "fi-key";
const SECRET: &str = "fi-secret";

fn emulator(dir: &Path) -> EmulatorProcess {
    let opts = EmulatorOptions {
        binary: Some(build_emulator_binary().unwrap_or_else(|e| panic!("{e}"))),
        access_key_id: KEY.into(),
        access_key_secret: SECRET.into(),
        ..EmulatorOptions::new(dir)
    };
    EmulatorProcess::spawn(opts).unwrap_or_else(|e| panic!("{e}"))
}

fn client(endpoint: &str, addr: std::net::SocketAddr, timeout: Duration) -> Client {
    let config = Config::new(endpoint, KEY, SECRET)
        .unwrap()
        .with_connect_to(addr)
        .with_request_timeout(timeout);
    Client::new(config).unwrap()
}

fn group(ids: &[String]) -> LogGroup {
    let logs = ids
        .iter()
        .map(|id| Log {
            time: Some(1_700_000_000),
            contents: vec![LogContent {
                key: "id".into(),
                value: id.clone().into(),
            }],
            time_ns: None,
        })
        .collect();
    LogGroup {
        logs,
        ..LogGroup::default()
    }
}

fn ids_of(groups: &[LogGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| &g.logs)
        .flat_map(|l| &l.contents)
        .filter(|c| c.key.as_ref() == b"id")
        .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        .collect()
}

async fn setup(c: &Client) -> TestResult {
    c.create_project(P, "process faults").await?;
    c.create_logstore(P, &LogstoreSpec::new(L, SHARDS)).await?;
    Ok(())
}

/// Writes `n` LogGroups of 5 logs; returns the acknowledged ids.
async fn put(c: &Client, tag: &str, n: usize) -> Result<Vec<String>, Error> {
    let mut acked = Vec::new();
    for i in 0..n {
        let ids: Vec<String> = (0..5).map(|j| format!("{tag}-{i}-{j}")).collect();
        c.put_logs(P, L, &group(&ids), None).await?;
        acked.extend(ids);
    }
    Ok(acked)
}

/// Every id stored in the logstore, duplicates kept.
async fn read_all(c: &Client) -> Result<Vec<String>, Error> {
    let groups: Vec<_> = c
        .read_all(P, L)
        .await?
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    Ok(ids_of(&groups))
}

fn assert_all_present(stored: &[String], acked: &[String], what: &str) {
    let set: BTreeSet<&String> = stored.iter().collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !set.contains(id)).collect();
    assert!(
        lost.is_empty(),
        "{what}: {} acknowledged logs lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_then_restart_on_same_folder_and_port_keeps_acknowledged_logs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut emu = emulator(dir.path());
    let (endpoint, addr, pid) = (emu.endpoint(), emu.addr(), emu.pid());
    // One client for the whole test: it must survive the restart unchanged.
    let c = client(&endpoint, addr, Duration::from_secs(5));
    setup(&c).await?;
    let acked = put(&c, "before", 40).await?;

    // SIGKILL right after the last acknowledgement: no graceful shutdown, no final flush.
    emu.kill9()?;
    assert!(!emu.is_running()?);
    let down = c.put_logs(P, L, &group(&["down".into()]), None).await;
    assert!(
        matches!(&down, Err(e @ Error::Network(_)) if e.is_retryable()),
        "a killed emulator must not answer: {down:?}"
    );

    emu.restart()?;
    assert_eq!(emu.addr(), addr, "restart keeps the port");
    assert_eq!(emu.endpoint(), endpoint);
    assert_ne!(emu.pid(), pid, "restart runs a new process");

    let stored = read_all(&c).await?;
    assert_all_present(&stored, &acked, "after kill -9");
    assert_eq!(
        stored.len(),
        acked.len(),
        "nothing stored twice or invented"
    );

    // The same client keeps writing and reading through the new process.
    let more = put(&c, "after", 5).await?;
    let stored = read_all(&c).await?;
    assert_all_present(&stored, &[acked, more].concat(), "after the restart");

    // A graceful stop and another restart keep everything too.
    assert!(emu.stop()?.success(), "SIGTERM is a clean exit");
    emu.restart()?;
    assert_eq!(read_all(&c).await?.len(), stored.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_makes_requests_time_out_and_resume_serves_them_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut emu = emulator(dir.path());
    let timeout = Duration::from_millis(500);
    let c = client(&emu.endpoint(), emu.addr(), timeout);
    setup(&c).await?;
    let acked = put(&c, "before", 10).await?;

    emu.pause()?;
    assert_eq!(emu.state(), Some(ProcState::Stopped));
    assert!(emu.is_running()?, "a stopped process has not exited");
    let started = Instant::now();
    let frozen = c.put_logs(P, L, &group(&["frozen".into()]), None).await;
    let waited = started.elapsed();
    assert!(
        matches!(&frozen, Err(e @ Error::Network(_)) if e.is_retryable()),
        "a paused emulator must time out, not answer or refuse: {frozen:?}"
    );
    assert!(
        waited >= timeout - Duration::from_millis(50),
        "it timed out (after {waited:?}), it was not refused"
    );

    emu.resume()?;
    assert_eq!(emu.state(), Some(ProcState::Alive));
    let more = put(&c, "after", 10).await?;
    let stored = read_all(&c).await?;
    let all = [acked, more].concat();
    assert_all_present(&stored, &all, "after pause/resume");
    // The timed-out write was sent before the pause ended: the emulator may have stored it
    // on resume (its outcome is unknown to the client), but nothing else appears.
    let unexpected: Vec<&String> = stored
        .iter()
        .filter(|id| !all.contains(id) && id.as_str() != "frozen")
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    Ok(())
}

#[test]
fn managed_process_kill9_restart_pause_resume() -> TestResult {
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    let mut p = ManagedProcess::spawn(cmd)?;
    let first = p.pid();
    assert!(p.is_running()?);
    assert_eq!(p.state(), Some(ProcState::Alive));

    p.pause()?;
    assert_eq!(p.state(), Some(ProcState::Stopped));
    assert!(p.is_running()?);
    p.resume()?;
    assert_eq!(p.state(), Some(ProcState::Alive));

    let status = p.kill9()?;
    assert!(!status.success());
    assert!(!p.is_running()?);
    assert_eq!(p.state(), Some(ProcState::Dead), "reaped: no /proc entry");
    assert!(p.pause().is_err(), "a dead process cannot be signalled");

    p.restart()?;
    assert!(p.is_running()?);
    assert_ne!(p.pid(), first, "a new process");
    assert_eq!(p.restarts(), 1);
    assert_eq!(p.state(), Some(ProcState::Alive));
    Ok(())
}

// ---- a real consumer worker in a child process ----

const CHILD_ENV: &str = "SLS_FI_CONSUMER_CHILD";

/// Appends every processed id to a file and checkpoints after each batch.
struct AppendIds(std::fs::File);

impl Processor for AppendIds {
    async fn process(&mut self, batch: &Batch) -> Processed {
        let mut text = String::new();
        for id in ids_of(&batch.groups) {
            text.push_str(&id);
            text.push('\n');
        }
        // One write per batch on an O_APPEND file: it reaches the kernel before the
        // checkpoint, so a SIGKILL cannot lose a processed id.
        self.0.write_all(text.as_bytes()).unwrap();
        Processed::Commit
    }
}

/// Not a test: the body of the consumer process that `consumer_process_*` spawns (this test
/// binary again, with `CHILD_ENV` set to "endpoint|addr|output file"). Does nothing when
/// run directly.
#[tokio::test]
#[ignore = "child process of consumer_process_kill9_pause_restart"]
async fn consumer_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.splitn(3, '|').collect();
    let c = client(parts[0], parts[1].parse().unwrap(), Duration::from_secs(5));
    let out_path = parts[2].to_string();
    let config = ConsumerConfig {
        heartbeat_interval: Duration::from_millis(200),
        group_timeout: Duration::from_secs(3),
        fetch_interval: Duration::from_millis(50),
        max_fetch_backoff: Duration::from_millis(200),
        checkpoint_interval: Duration::ZERO,
        ..ConsumerConfig::new(P, L, "group", "worker-1")
    };
    let _worker = Worker::start(c, config, move |_shard| {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out_path)
            .unwrap();
        AppendIds(f)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
}

fn processed(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    text.lines().map(str::to_string).collect()
}

async fn wait_processed(out: &Path, want: &[String]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = processed(out);
        let set: BTreeSet<&String> = got.iter().collect();
        if want.iter().all(|id| set.contains(id)) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "consumer processed {} of {} ids",
            want.iter().filter(|id| set.contains(id)).count(),
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_process_kill9_pause_restart() -> TestResult {
    let dir = tempfile::tempdir()?;
    let emu = emulator(dir.path());
    let c = client(&emu.endpoint(), emu.addr(), Duration::from_secs(5));
    setup(&c).await?;
    let out = dir.path().join("processed.txt");

    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["consumer_child", "--exact", "--ignored", "--nocapture"])
        .env(
            CHILD_ENV,
            format!("{}|{}|{}", emu.endpoint(), emu.addr(), out.display()),
        )
        .stdout(Stdio::null());
    let mut consumer = ManagedProcess::spawn(cmd)?;

    let first = put(&c, "first", 10).await?;
    wait_processed(&out, &first).await;

    // Paused: it processes nothing new until resumed.
    consumer.pause()?;
    let second = put(&c, "second", 10).await?;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let during = processed(&out);
    assert!(
        !second.iter().any(|id| during.contains(id)),
        "a paused consumer processed logs"
    );
    consumer.resume()?;
    wait_processed(&out, &second).await;

    // Killed: nothing is processed; restarted with the same command, it resumes from its
    // checkpoints and processes what was written meanwhile.
    let pid = consumer.pid();
    consumer.kill9()?;
    assert!(!consumer.is_running()?);
    let third = put(&c, "third", 10).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!processed(&out).iter().any(|id| third.contains(id)));
    consumer.restart()?;
    assert_ne!(consumer.pid(), pid);
    let all = [first, second, third].concat();
    let got = wait_processed(&out, &all).await;
    // Checkpoints after every batch: at most the batch in flight at the kill is seen twice.
    let unique: BTreeSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), all.len(), "only written ids are processed");
    Ok(())
}

#[test]
fn restart_waits_for_a_taken_port_and_spawn_reports_why_it_failed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut emu = emulator(dir.path());
    let addr = emu.addr();
    emu.kill9()?;

    // Another program holds the port: a fresh spawn on it fails and says why.
    let squatter = std::net::TcpListener::bind(addr)?;
    let taken = EmulatorProcess::spawn(EmulatorOptions {
        port: addr.port(),
        ..emu.options().clone()
    });
    match taken {
        Err(e @ sls_fault_injection::process::Error::Startup { .. }) => {
            assert!(e.to_string().contains("in use"), "{e}");
        }
        other => panic!("expected a startup error, got {other:?}"),
    }

    // restart keeps retrying until the port is free again.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(squatter);
    });
    let started = Instant::now();
    emu.restart()?;
    release.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(emu.addr(), addr);
    assert!(emu.is_running()?);
    Ok(())
}
