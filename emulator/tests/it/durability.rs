//! Acknowledged writes survive: SIGKILL of the emulator process right after acknowledgements,
//! then a restart on the same folder; and graceful restarts in-process.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sls_emulator::testing::TestServer;

use crate::support::Client;

const P: &str = "crash-test";
const L: &str = "ls";
const KEY: &str = "crash-key";
const SECRET: &str = "crash-secret";

/// Starts the real binary on a free port; returns the child and its IPv4 address.
fn spawn_emulator(dir: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sls-emulator"))
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--access-key-id",
            KEY,
            "--access-key-secret",
            SECRET,
        ])
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Keep draining stdout so the emulator never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("sls-emu is listening on ")
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("unexpected banner: {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut addr) = spawn_emulator(dir.path());
    Client::to(addr, KEY, SECRET).setup(P, L, 4).await;

    let mut acked: BTreeSet<String> = BTreeSet::new();
    for round in 0..3 {
        let c = Arc::new(Client::to(addr, KEY, SECRET));
        let ok: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut writers = Vec::new();
        for w in 0..8 {
            let (c, ok) = (c.clone(), ok.clone());
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let ids: Vec<String> =
                        (0..5).map(|j| format!("r{round}-w{w}-g{i}-{j}")).collect();
                    let r =
                        tokio::time::timeout(Duration::from_secs(5), c.put(P, L, &ids, None)).await;
                    match r {
                        Ok(resp) if resp.status == 200 => ok.lock().unwrap().extend(ids),
                        _ => return,
                    }
                }
            }));
        }
        // Let acknowledgements pile up, then kill while requests are in flight.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while ok.lock().unwrap().len() < 2_000 {
            assert!(
                writers.iter().any(|w| !w.is_finished()) && std::time::Instant::now() < deadline,
                "round {round}: writers stopped after {} acknowledged logs",
                ok.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // `Child::kill` is SIGKILL on Unix: no graceful shutdown, no flush.
        child.kill().unwrap();
        let _ = child.wait();
        let acked_now: Vec<String> = ok.lock().unwrap().clone();
        for w in writers {
            let _ = w.await;
        }
        acked.extend(acked_now);

        let (next, next_addr) = spawn_emulator(dir.path());
        (child, addr) = (next, next_addr);
        let reader = Client::to(addr, KEY, SECRET);
        let mut stored: Vec<String> = Vec::new();
        for shard in 0..4 {
            stored.extend(reader.read_ids(P, L, shard).await);
        }
        let unique: BTreeSet<String> = stored.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            stored.len(),
            "round {round}: a log is stored twice"
        );
        let lost: Vec<&String> = acked.difference(&unique).take(5).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged logs lost, e.g. {lost:?}",
            acked.difference(&unique).count()
        );
        // Groups are all-or-nothing: every stored group has its 5 logs.
        for id in &unique {
            let prefix = id.rsplit_once('-').unwrap().0;
            for j in 0..5 {
                assert!(
                    unique.contains(&format!("{prefix}-{j}")),
                    "partial group {prefix}"
                );
            }
        }
        eprintln!(
            "round {round}: {} acknowledged, {} stored",
            acked.len(),
            unique.len()
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_keeps_metadata_logs_and_cursors() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    for i in 0..10 {
        c.put(P, L, &[format!("id-{i}")], None).await.assert_ok();
    }
    let end0 = c.cursor(P, L, 0, "end").await;
    let before: Vec<Vec<String>> = vec![c.read_ids(P, L, 0).await, c.read_ids(P, L, 1).await];
    let server = server.restart().await.unwrap();
    let c = Client::new(&server);
    assert_eq!(
        c.cursor(P, L, 0, "end").await,
        end0,
        "cursors stay valid across restarts"
    );
    let after: Vec<Vec<String>> = vec![c.read_ids(P, L, 0).await, c.read_ids(P, L, 1).await];
    assert_eq!(before, after);
    // New writes continue the sequence.
    c.put(P, L, &["after".into()], Some("00")).await.assert_ok();
    assert_eq!(
        c.read_ids(P, L, 0).await.last().map(String::as_str),
        Some("after")
    );
}

/// Hash keys for the seqid crash test, one per writer (spread over the 4 shards).
fn seqid_key(w: usize) -> String {
    format!("{:x}{:031x}", (w * 4) % 16, w)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_seqids_are_refused_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn_emulator(dir.path());
    let c = Arc::new(Client::to(addr, KEY, SECRET));
    c.setup(P, L, 4).await;

    // Each writer sends seqids 1, 2, … to its own key; the log id carries both.
    const WRITERS: usize = 6;
    let acked: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(vec![0; WRITERS]));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (c, acked) = (c.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for seqid in 1u64.. {
                let (ids, key, text) = (
                    vec![format!("w{w}-s{seqid}")],
                    seqid_key(w),
                    seqid.to_string(),
                );
                let put = c.put_seqid(P, L, &ids, &key, &text);
                match tokio::time::timeout(Duration::from_secs(5), put).await {
                    Ok(resp) if resp.status == 200 => acked.lock().unwrap()[w] = seqid,
                    _ => return,
                }
            }
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().iter().any(|&a| a < 50) {
        assert!(
            writers.iter().any(|w| !w.is_finished()) && std::time::Instant::now() < deadline,
            "writers stopped: {:?}",
            acked.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL with writes in flight.
    child.kill().unwrap();
    let _ = child.wait();
    let acked_at_kill = acked.lock().unwrap().clone();
    for w in writers {
        let _ = w.await;
    }

    let (mut child, addr) = spawn_emulator(dir.path());
    let c = Client::to(addr, KEY, SECRET);
    let mut stored: Vec<Vec<u64>> = vec![Vec::new(); WRITERS];
    for shard in 0..4 {
        for id in c.read_ids(P, L, shard).await {
            let (w, s) = id[1..].split_once("-s").unwrap();
            stored[w.parse::<usize>().unwrap()].push(s.parse().unwrap());
        }
    }
    for (w, seqids) in stored.iter().enumerate() {
        let last_acked = acked_at_kill[w];
        let last_stored = seqids.iter().copied().max().unwrap_or(0);
        // Every acknowledged seqid is stored once; an unacknowledged one at most once.
        let expected: Vec<u64> = (1..=last_stored).collect();
        assert_eq!(seqids, &expected, "writer {w}: stored seqids");
        assert!(
            last_stored >= last_acked,
            "writer {w}: lost acknowledged writes"
        );
        // The record is exactly as durable as the data: the last acknowledged id and the
        // last stored one (acknowledged or not) are refused, the next one is taken.
        let key = seqid_key(w);
        for replay in [last_acked, last_stored] {
            let ids = vec![format!("w{w}-replay{replay}")];
            c.put_seqid(P, L, &ids, &key, &replay.to_string())
                .await
                .assert_case_error(
                    &format!("writer {w} replays {replay}"),
                    400,
                    "InvalidSequenceId",
                );
        }
        let next = vec![format!("w{w}-s{}", last_stored + 1)];
        c.put_seqid(P, L, &next, &key, &(last_stored + 1).to_string())
            .await
            .assert_ok();
    }
    child.kill().unwrap();
    let _ = child.wait();
}
