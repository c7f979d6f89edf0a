//! The memory bound (issue #14): the real binary, after writing and reading back 1,000,000
//! logs of ~250 bytes (~250 MB of LogGroups), has never been above 256 MiB of RSS (debug
//! build: ~90 MiB). Before LogGroups moved to segment files sled kept them in memory, and this
//! test failed at 365 MiB.

use std::sync::Arc;

use sls_fault_injection::process::{EmulatorOptions, EmulatorProcess, ProcMemory};

use crate::support::Client;

const P: &str = "memory-test";
const L: &str = "ls";
const LIMIT_MIB: f64 = 256.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_and_reading_a_million_logs_stays_under_256_mib() {
    let dir = tempfile::tempdir().unwrap();
    let emu = EmulatorProcess::spawn(EmulatorOptions {
        binary: Some(env!("CARGO_BIN_EXE_sls-emulator").into()),
        ..EmulatorOptions::new(dir.path())
    })
    .unwrap();
    let o = emu.options();
    let c = Arc::new(Client::to(
        emu.addr(),
        &o.access_key_id,
        &o.access_key_secret,
    ));
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
    let peak = ProcMemory::of(emu.pid()).unwrap().peak_kib as f64 / 1024.0;
    eprintln!("peak RSS after writing and reading 1,000,000 logs: {peak:.1} MiB");
    assert!(
        peak < LIMIT_MIB,
        "peak RSS {peak:.1} MiB is over {LIMIT_MIB} MiB"
    );
}
