//! The official Java and Go clients, unmodified, each in its own process, against an in-process
//! emulator: the SDKs (`tests/java/sdk`, `sls-go sdk-core`: every API, field-by-field), the
//! consumer libraries (Java `ClientWorker`, Go `consumerLibrary`: balance, join, SIGKILL
//! takeover, everything processed, final checkpoints at the shard ends) and the producers
//! (10,000 logs each, all read back).
//!
//! Java endpoints cannot carry a port: the SDK goes through its proxy setting (absolute-form
//! requests), the producer through `setProxyIp`, and the consumer library, which has neither,
//! reaches the emulator on port 80 ([`sls_e2e::start_with_port_80`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sls_client::{Client, CursorFrom, LogstoreSpec};
use sls_e2e::workers::{
    harness_command, run_producer, server_for, Lang, ProducerOptions, Program, Target,
    WorkerOptions, Workers,
};
use sls_e2e::{owner_client, unique_project};
use sls_emulator::testing::TestServer;

/// Runs the SDK walk-through of `lang` with `extra` flags; it prints a PASS/FAIL line per
/// check and exits 0 only when every check passed.
async fn sdk(lang: Lang, server: &TestServer, secret: Option<&str>, extra: &[&str]) {
    let target = Target::of(server);
    let mut cmd = harness_command(lang, Program::Sdk).unwrap();
    cmd.args(["--endpoint", &target.endpoint_for(lang)])
        .args(["--access-key-id", &target.access_key_id])
        .args([
            "--access-key-secret",
            secret.unwrap_or(&target.access_key_secret),
        ])
        .args(extra);
    if lang == Lang::Java {
        cmd.args(["--proxy", &format!("127.0.0.1:{}", server.port())]);
    }
    let stdout = sls_e2e::run_checks(cmd, &format!("{lang:?} SDK {extra:?}")).await;
    assert!(stdout.contains("PASS "), "no check ran:\n{stdout}");
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_sdk_every_api_v1_and_v4() {
    let server = TestServer::start().await.unwrap();
    sdk(Lang::Java, &server, None, &["--sign", "v1"]).await;
    sdk(Lang::Java, &server, None, &["--sign", "v4"]).await;
    sdk(
        Lang::Java,
        &server,
        Some("wrong-secret"),
        &["--expect-signature-error"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_sdk_every_api_v1_and_v4() {
    let server = TestServer::start().await.unwrap();
    sdk(Lang::Go, &server, None, &["--sign", "v1"]).await;
    sdk(Lang::Go, &server, None, &["--sign", "v4"]).await;
    sdk(
        Lang::Go,
        &server,
        Some("wrong-secret"),
        &["--expect-signature-error"],
    )
    .await;
}

/// Writes a few logs every 20 ms, spread over the key space, until stopped; returns the ids.
fn start_writer(
    c: Client,
    project: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut ids = Vec::new();
        let mut n: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            let batch: Vec<String> = (0..5).map(|i| format!("w-{}", n * 5 + i)).collect();
            // The lower end of one of ten equal ranges: every shard gets logs.
            let key = format!("{:032x}", u128::from(n % 10) * (u128::MAX / 10));
            let group = sls_client::LogGroup {
                logs: batch.iter().map(|id| sls_e2e::id_log(id)).collect(),
                ..Default::default()
            };
            c.put_logs(&project, "ls", &group, Some(&key))
                .await
                .unwrap();
            ids.extend(batch);
            n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ids
    })
}

/// Shards held per live consumer, as the emulator assigned them.
fn holdings(server: &TestServer, project: &str) -> BTreeMap<String, Vec<u32>> {
    sls_e2e::workers::owners(server, project, "ls", "g")
}

fn counts(h: &BTreeMap<String, Vec<u32>>) -> Vec<usize> {
    let mut c: Vec<usize> = h.values().map(Vec::len).collect();
    c.sort_unstable();
    c
}

/// Waits until `cond` has held for `stable` (or fails after `secs`, showing `what`).
async fn wait_for(
    what: &str,
    secs: u64,
    stable: Duration,
    workers: &Workers,
    mut cond: impl FnMut() -> (bool, String),
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut since: Option<Instant> = None;
    loop {
        let (ok, state) = cond();
        if ok {
            let t = *since.get_or_insert_with(Instant::now);
            if t.elapsed() >= stable {
                return;
            }
        } else {
            since = None;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}: {state}\n{}",
            workers.log_tails(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 3 workers on 10 shards converge to 3/3/4; 2 more join and all hold 2; one is SIGKILLed and
/// its shards go to the others after the group timeout; every log written is processed at
/// least once (twice only on the killed worker's shards); the final checkpoints are the shard
/// ends; every worker stops gracefully.
async fn consumer_group_scenario(lang: Lang) {
    let server = server_for(lang).await.unwrap();
    let c = owner_client(&server);
    let project = unique_project(&format!("{lang:?}-cg").to_lowercase());
    c.create_project(&project, "").await.unwrap();
    c.create_logstore(&project, &LogstoreSpec::new("ls", 10))
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = start_writer(c.clone(), project.clone(), stop.clone());
    let epoch = sls_e2e::now_epoch_ms();
    let mut w = Workers::new(lang, Target::of(&server), &project, "ls", "g", epoch).unwrap();
    let o = WorkerOptions::default();
    let hb = o.heartbeat;
    for name in ["a", "b", "c"] {
        w.spawn(name, &o).unwrap();
    }
    wait_for("3/3/4", 90, 3 * hb, &w, || {
        let h = holdings(&server, &project);
        (counts(&h) == [3, 3, 4], format!("{h:?}"))
    })
    .await;
    for name in ["d", "e"] {
        w.spawn(name, &o).unwrap();
    }
    wait_for("2 shards each", 90, 3 * hb, &w, || {
        let h = holdings(&server, &project);
        (counts(&h) == [2, 2, 2, 2, 2], format!("{h:?}"))
    })
    .await;
    let lost = holdings(&server, &project).remove("b").unwrap_or_default();
    let killed_at = sls_e2e::now_epoch_ms() - epoch;
    w.kill9("b").unwrap();
    let timeout = o.effective_timeout(lang);
    wait_for("the killed worker's shards taken over", 60, hb, &w, || {
        let h = holdings(&server, &project);
        let taken = !h.contains_key("b") && counts(&h) == [2, 2, 3, 3];
        (taken, format!("{h:?}"))
    })
    .await;
    // The new owners started those shards (init events) after the kill.
    w.read(|e| {
        for s in &lost {
            assert!(
                e.inits
                    .iter()
                    .any(|(n, shard, t)| n != "b" && shard == s && *t >= killed_at),
                "no worker took shard {s} after b was killed: {:?}",
                e.inits
            );
        }
    });
    stop.store(true, Ordering::Relaxed);
    let written: BTreeSet<String> = writer.await.unwrap().into_iter().collect();
    wait_for(
        "every written log processed",
        90,
        Duration::ZERO,
        &w,
        || {
            let missing = w.read(|e| {
                written
                    .iter()
                    .filter(|id| !e.distinct.contains(*id))
                    .count()
            });
            (
                missing == 0,
                format!("{missing} of {} missing", written.len()),
            )
        },
    )
    .await;
    // Final checkpoints: every shard's checkpoint is its end cursor.
    let mut ends = HashMap::new();
    for s in c.list_shards(&project, "ls").await.unwrap() {
        let end = c
            .get_cursor(&project, "ls", s.id, CursorFrom::End)
            .await
            .unwrap();
        ends.insert(s.id, end);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let cps = c.get_checkpoints(&project, "ls", "g", None).await.unwrap();
        let behind: Vec<_> = cps
            .iter()
            .filter(|cp| ends.get(&cp.shard) != Some(&cp.checkpoint))
            .map(|cp| (cp.shard, cp.checkpoint.clone()))
            .collect();
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoints not at the shard ends: {behind:?} (ends {ends:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Logs processed twice: only where the killed worker's uncommitted batches were redone.
    let twice: BTreeMap<u32, usize> = w.read(|e| {
        let mut seen: HashMap<&str, u32> = HashMap::new();
        let mut twice = BTreeMap::new();
        for ev in &e.consumed {
            if seen.insert(ev.id.as_str(), ev.shard).is_some() {
                *twice.entry(ev.shard).or_insert(0) += 1;
            }
        }
        twice
    });
    assert!(
        twice.keys().all(|s| lost.contains(s)),
        "logs processed twice on shards the killed worker did not hold ({lost:?}): {twice:?}"
    );
    let forced = w.stop_all(60);
    assert!(forced.is_empty(), "{forced:?} did not stop on SIGTERM");
    w.read(|e| {
        for name in ["a", "c", "d", "e"] {
            assert!(e.exited.contains(name), "{name} recorded no graceful exit");
        }
    });
    println!(
        "{}: {} logs processed by 5 workers, group timeout {timeout:?}, twice on the killed worker's shards: {twice:?}",
        lang.worker_library(),
        written.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_consumer_group_balance_join_and_sigkill() {
    consumer_group_scenario(Lang::Java).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_consumer_group_balance_join_and_sigkill() {
    consumer_group_scenario(Lang::Go).await;
}

/// 10,000 logs through the official producer, every callback a success, every log read back
/// exactly once.
async fn producer_10k(lang: Lang) {
    let server = TestServer::start().await.unwrap();
    let c = owner_client(&server);
    let project = unique_project(&format!("{lang:?}-prod").to_lowercase());
    c.create_project(&project, "").await.unwrap();
    c.create_logstore(&project, &LogstoreSpec::new("ls", 4))
        .await
        .unwrap();
    let n = 10_000;
    let ops = run_producer(
        lang,
        &Target::of(&server),
        &project,
        "ls",
        &ProducerOptions::new("p", n),
        sls_e2e::now_epoch_ms(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(ops.len(), n, "one callback per log");
    let failed: Vec<_> = ops
        .iter()
        .filter(|o| o.outcome != sls_e2e::history::Outcome::Ok)
        .take(5)
        .collect();
    assert!(failed.is_empty(), "failed sends: {failed:?}");
    let mut stored: HashMap<String, usize> = HashMap::new();
    let mut per_shard: BTreeMap<u32, usize> = BTreeMap::new();
    for (shard, g) in c.read_all(&project, "ls").await.unwrap() {
        for l in &g.logs {
            *stored.entry(sls_e2e::id_of(l)).or_insert(0) += 1;
            *per_shard.entry(shard.get()).or_insert(0) += 1;
        }
    }
    for i in 0..n {
        assert_eq!(stored.get(&format!("p-{i}")), Some(&1), "log p-{i}");
    }
    assert_eq!(stored.len(), n);
    assert_eq!(per_shard.len(), 4, "spread over every shard: {per_shard:?}");
    println!(
        "{}: {n} logs, per shard {per_shard:?}",
        lang.producer_library()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_producer_10k_logs_read_back() {
    producer_10k(Lang::Java).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_producer_10k_logs_read_back() {
    producer_10k(Lang::Go).await;
}
