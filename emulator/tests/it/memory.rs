//! The memory bound (issue #14): the real binary, after writing and reading back 1,000,000
//! logs of ~250 bytes (~250 MB of LogGroups), has never been above 256 MiB of RSS (debug
//! build: ~90 MiB). Before LogGroups moved to segment files sled kept them in memory: 500,000
//! logs already peaked at 244 MiB.

use std::sync::Arc;

use crate::durability::{spawn_emulator, KEY, SECRET};
use crate::support::Client;

const P: &str = "memory-test";
const L: &str = "ls";
const LIMIT_MIB: f64 = 256.0;

/// The peak resident set size of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_and_reading_a_million_logs_stays_under_256_mib() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn_emulator(dir.path());
    let c = Arc::new(Client::to(addr, KEY, SECRET));
    c.setup(P, L, 2).await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let c = c.clone();
        writers.push(tokio::spawn(async move {
            for g in 0..250 {
                // 1,000 logs of ~250 bytes each.
                let ids: Vec<String> = (0..1000)
                    .map(|i| format!("w{w}-g{g:03}-{i:04}-{}", "x".repeat(230)))
                    .collect();
                c.put(P, L, &ids, None).await.assert_ok();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut read = 0;
    for shard in 0..2 {
        read += c.read_ids(P, L, shard).await.len();
    }
    assert_eq!(read, 1_000_000);
    let peak = peak_rss_mib(child.id());
    child.kill().unwrap();
    let _ = child.wait();
    eprintln!("peak RSS after writing and reading 1,000,000 logs: {peak:.1} MiB");
    assert!(
        peak < LIMIT_MIB,
        "peak RSS {peak:.1} MiB is over {LIMIT_MIB} MiB"
    );
}
