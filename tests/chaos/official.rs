//! Scenarios against the official clients, unmodified: the Rust producer, the Python SDK's
//! put_logs and its ConsumerWorker. Each is judged by what it claims; the known bugs of
//! CONSUMERS-AND-PRODUCERS.md §6 are reproduced as named scenarios that expect the claim to
//! break (and fail if it no longer does).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use sls_client::SplitAt;
use sls_e2e::history::History;
use sls_emulator::faults::{Action, Api, When};
use sls_emulator::testing::TestServer;

use crate::ours::invalid_cursor_once;
use crate::registry::{scenario, Scenario};
use crate::support::{
    add_random_faults, crash_workers, error, holds, rule, start, with_ground_truth, workers,
    Expect, Guarantee, Lang, Params, Rec, Res, Run, Target, WorkerOptions, Workers, LOGSTORE,
    PROJECT, PY_PUT_LOGS, PY_WORKER, RUST_PRODUCER,
};
use crate::writers;

/// This file's scenarios, in the order the ci profile runs them.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        "rust-producer-faults",
        "P1-P3 official Rust producer: lost answers, 503s, 403 quota, latency",
        2_000,
        rust_producer_faults
    ),
    scenario!(
        "python-put-logs",
        "P1-P4 official Python put_logs: lost answers, resets, 403 quota",
        1_000,
        python_put_logs
    ),
    scenario!(
        "python-put-logs-masked-commit",
        "finding: Python put_logs raises 403 for a batch its own 5xx retry had stored",
        200,
        python_put_logs_masked_commit
    ),
    scenario!(
        "python-worker-crash",
        "C1/C21 official Python ConsumerWorker processes SIGKILLed and restarted",
        1_000,
        python_worker_crash
    ),
    scenario!(
        "python-permission-revoked",
        "official Python ConsumerWorker under a least-privilege key whose policy is revoked twice mid-stream",
        1_000,
        python_permission_revoked
    ),
    scenario!(
        "python-invalid-cursor",
        "known bug L2: official Python worker jumps to END on InvalidCursor",
        1_000,
        python_invalid_cursor
    ),
    scenario!(
        "python-process-error",
        "known bug L1: official Python worker skips a batch whose process() raised",
        1_000,
        python_process_error
    ),
    scenario!(
        "python-empty-readonly-shard",
        "known bug S1: official Python worker never finishes an empty read-only shard",
        1_000,
        python_empty_readonly_shard
    ),
];

pub fn finish(
    rec: &Rec,
    server: &TestServer,
    workers: Option<&Workers>,
) -> Res<sls_e2e::history::History> {
    server.faults().clear();
    if let Some(w) = workers {
        crate::support::record_workers(rec, w);
    }
    with_ground_truth(rec, server.store(), &server.faults().journal())
}

/// Waits for `done` up to `secs`, publishing the Python workers' progress; unlike `until`, a
/// timeout is not an error: the checker judges what happened.
pub async fn settle(rec: &Rec, w: &Workers, secs: u64, mut done: impl FnMut(&Workers) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        rec.set_external_consumed(w.distinct());
        if done(w) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn processed_with_prefix(w: &Workers, prefix: &str) -> usize {
    w.read(|e| {
        e.distinct
            .iter()
            .filter(|id| id.starts_with(prefix))
            .count()
    })
}

/// Stored ids no reader processed, with their shard.
pub fn never_processed(h: &History) -> BTreeMap<String, u32> {
    let done: HashSet<&str> = h.consumed.iter().map(|c| c.id.as_str()).collect();
    h.stored
        .iter()
        .filter(|s| !done.contains(s.id.as_str()))
        .map(|s| (s.id.clone(), s.shard))
        .collect()
}

/// Fails the run when a loss does not look like `bug` (e.g. the worker never started, which
/// would otherwise "reproduce" every loss bug).
pub fn signature(bug: &str, matches: bool, missing: &BTreeMap<String, u32>) -> Res<()> {
    if matches {
        return Ok(());
    }
    let sample: Vec<_> = missing.iter().take(5).collect();
    Err(format!(
        "the loss does not have bug {bug}'s signature: {} never processed, e.g. {sample:?}",
        missing.len()
    )
    .into())
}

/// Whether the logs never processed are exactly the stored logs `which` selects (and some are).
pub fn missing_exactly(
    h: &History,
    missing: &BTreeMap<String, u32>,
    which: impl Fn(&sls_e2e::history::StoredLog) -> bool,
) -> bool {
    let expected: BTreeMap<String, u32> = h
        .stored
        .iter()
        .filter(|s| which(s))
        .map(|s| (s.id.clone(), s.shard))
        .collect();
    !expected.is_empty() && &expected == missing
}

/// What the Python worker's bug scenarios expect: `bug` breaks at-least-once, order still holds.
fn python_worker_bug(bug: &'static str) -> Vec<Expect> {
    vec![
        Expect::Breaks {
            verdict: Guarantee::AtLeastOnce,
            library: PY_WORKER,
            bug,
        },
        Expect::Holds {
            verdict: Guarantee::Order,
            library: PY_WORKER,
        },
    ]
}

/// P1–P3 for the official Rust producer: lost answers after commit (500), 503 ServerBusy,
/// 403 ShardWriteQuotaExceed and latency. It claims at-least-once for every log whose callback reported success.
pub async fn rust_producer_faults(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, _) = start(p.seed, 4).await?;
    add_random_faults(
        &server,
        Api::PostLogStoreLogs,
        [
            ("lost-answer", 0.15, Action::CommitThenError),
            ("busy", 0.1, error(503, "ServerBusy")),
            ("slow", 0.2, Action::Latency { millis: 300 }),
            ("quota", 0.05, error(403, "ShardWriteQuotaExceed")),
        ],
    )?;
    writers::official_rust(rec.clone(), Target::of(&server), "rs".into(), p.logs).await?;
    Ok(Run {
        history: finish(&rec, &server, None)?,
        expect: holds(RUST_PRODUCER, &[Guarantee::AtLeastOnce]),
    })
}

/// P1–P4 for the official Python SDK's put_logs: lost answers after commit (500, which the
/// SDK retries itself), answers reset after commit, and 403 WriteQuotaExceed (not retried: the
/// call fails, and nothing may be stored). Claims at-least-once, and nothing failed stored.
pub async fn python_put_logs(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, _) = start(p.seed, 4).await?;
    add_random_faults(
        &server,
        Api::PostLogStoreLogs,
        [
            ("lost-answer", 0.1, Action::CommitThenError),
            ("reset", 0.05, Action::CommitThenReset),
            ("quota", 0.1, error(403, "WriteQuotaExceed")),
        ],
    )?;
    // The SDK sleeps 1 s before each of its own retries: keep the number of calls (and so of
    // faulted calls) near 100 whatever the size of the run.
    let batch = (p.logs / 100).max(20);
    writers::python_put_logs(
        rec.clone(),
        Target::of(&server),
        "py".into(),
        p.logs,
        batch,
        Duration::ZERO,
    )
    .await?;
    Ok(Run {
        history: finish(&rec, &server, None)?,
        expect: holds(PY_PUT_LOGS, &[Guarantee::AtLeastOnce]),
    })
}

/// Found by this suite (not in C&P §6): `LogClient._send` retries a 5xx itself and raises only
/// the last error. When the first attempt was committed but answered 500 and the retry is
/// refused with 403 WriteQuotaExceed, put_logs raises a definite-looking 403 for a batch that
/// is stored: an application that re-sends on quota errors duplicates it, one that gives up
/// reports a loss that did not happen. The first two PutLogs requests are faulted that way.
pub async fn python_put_logs_masked_commit(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, _) = start(p.seed, 4).await?;
    let f = server.faults();
    let nth =
        |id: &str, n: u64, action: Action| rule(id, Api::PostLogStoreLogs, When::Nth(n), action);
    f.add(nth("lost-answer", 1, Action::CommitThenError))?;
    f.add(nth("quota", 2, error(403, "WriteQuotaExceed")))?;
    writers::python_put_logs(
        rec.clone(),
        Target::of(&server),
        "py".into(),
        p.logs,
        (p.logs / 100).max(20),
        Duration::ZERO,
    )
    .await?;
    Ok(Run {
        history: finish(&rec, &server, None)?,
        expect: vec![
            Expect::Holds {
                verdict: Guarantee::AtLeastOnce,
                library: PY_PUT_LOGS,
            },
            Expect::Breaks {
                verdict: Guarantee::FailedNotStored,
                library: PY_PUT_LOGS,
                bug: "internal 5xx retry masks a committed attempt: put_logs raises 403 for a stored batch",
            },
        ],
    })
}

/// C1 + C21 for the official Python ConsumerWorker: three worker processes on four shards, one
/// SIGKILLed and restarted under its name at seeded moments, while put_logs (official SDK)
/// writes. Claims at-least-once and per-shard order.
pub async fn python_worker_crash(rec: Rec, p: Params) -> Res<Run> {
    let (server, _) = start(p.seed, 4).await?;
    let target = Target::of(&server);
    let mut w = workers(&rec, Lang::Python, target.clone())?;
    for name in ["a", "b", "c"] {
        w.spawn(name, &WorkerOptions::default())?;
    }
    let batch = (p.logs / 500).max(20);
    let writer = tokio::spawn(writers::python_put_logs(
        rec.clone(),
        target,
        "py".into(),
        p.logs,
        batch,
        // Spread the calls over the crash schedule (about 2 s per crash).
        Duration::from_secs_f64(p.crashes as f64 * 2.0 / (p.logs / batch).max(1) as f64),
    ));
    crash_workers(&rec, &mut w, p, &["a", "b", "c"], 1000..3000).await?;
    writer.await??;
    let n = p.logs;
    settle(&rec, &w, p.settle_secs(90), |w| w.distinct() >= n).await;
    w.stop_all(10);
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: holds(PY_PUT_LOGS, &[Guarantee::AtLeastOnce])
            .into_iter()
            .chain(holds(
                PY_WORKER,
                &[Guarantee::AtLeastOnce, Guarantee::Order],
            ))
            .collect(),
    })
}

/// The consumer policy of the SLS consumer-group documentation, on the scenario's logstore.
fn consumer_policy() -> Res<sls_emulator::access::Policy> {
    let ls = format!("acs:log:*:*:project/{PROJECT}/logstore/{LOGSTORE}");
    let doc = serde_json::json!({"Version": "1", "Statement": [{
        "Effect": "Allow",
        "Action": [
            "log:ListShards", "log:GetCursorOrData", "log:CreateConsumerGroup",
            "log:ListConsumerGroup", "log:UpdateConsumerGroup", "log:ConsumerGroupHeartBeat",
            "log:ConsumerGroupUpdateCheckPoint", "log:GetConsumerGroupCheckPoint",
        ],
        "Resource": [ls.clone(), format!("{ls}/*")],
    }]});
    Ok(sls_emulator::access::Policy::parse_json(&doc.to_string())?)
}

/// "Permission revoked": two official Python workers read with a RAM user's key holding the
/// documented consumer policy, while the official put_logs writes with the owner's key. Twice,
/// at seeded moments, the policy is detached for 4 s (every call of the workers answers 401
/// `Unauthorized` "denied by sts or ram") and then attached again. Once the permission is back
/// the workers must go on: at-least-once and order hold.
pub async fn python_permission_revoked(rec: Rec, p: Params) -> Res<Run> {
    use rand::{Rng, SeedableRng};
    let (server, _) = start(p.seed, 2).await?;
    let owner = Target::of(&server);
    let mut key = sls_emulator::access::Credential::new("chaos-consumer", "chaos-consumer-secret");
    let policy = std::sync::Arc::new(consumer_policy()?);
    key.policies.insert("consumer".into(), policy.clone());
    server.access().insert(key)?;
    let reader = Target {
        access_key_id: "chaos-consumer".into(),
        access_key_secret: "chaos-consumer-secret".into(),
        ..owner.clone()
    };
    let mut w = workers(&rec, Lang::Python, reader)?;
    for name in ["a", "b"] {
        w.spawn(name, &WorkerOptions::default())?;
    }
    let batch = (p.logs / 200).max(10);
    let writer = tokio::spawn(writers::python_put_logs(
        rec.clone(),
        owner,
        "py".into(),
        p.logs,
        batch,
        Duration::from_secs_f64(14.0 / (p.logs / batch).max(1) as f64),
    ));
    let mut rng = rand::rngs::StdRng::seed_from_u64(p.seed);
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1000..3000))).await;
        server.access().detach("chaos-consumer", "consumer")?;
        rec.fault("consumer policy revoked: the workers' calls answer 401 Unauthorized".into());
        tokio::time::sleep(Duration::from_secs(4)).await;
        server
            .access()
            .attach("chaos-consumer", "consumer", policy.document().clone())?;
        rec.fault("consumer policy attached again".into());
    }
    writer.await??;
    let n = p.logs;
    settle(&rec, &w, p.settle_secs(90), |w| w.distinct() >= n).await;
    w.stop_all(10);
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: holds(PY_WORKER, &[Guarantee::AtLeastOnce, Guarantee::Order]),
    })
}

/// Known bug L2 (C&P §3.3, §6 C16): on `InvalidCursor` the Python fetch task jumps to the
/// shard's END cursor, skipping everything between the checkpoint and the end. One InvalidCursor
/// answer on shard 0 while a backlog waits loses that backlog. Compare `worker-invalid-cursor`.
pub async fn python_invalid_cursor(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 2).await?;
    server.faults().add(invalid_cursor_once())?;
    rec.fault("PullLogs on shard 0 will answer InvalidCursor once".into());
    let w = backlog_then_more(&rec, &server, &c, p, &WorkerOptions::default()).await?;
    let history = finish(&rec, &server, Some(&w))?;
    // The bug's signature, not just any loss: only shard 0's backlog is missing, and the
    // worker went on to process everything written later.
    let missing = never_processed(&history);
    signature(
        "L2",
        !missing.is_empty()
            && missing
                .iter()
                .all(|(id, shard)| *shard == 0 && id.starts_with("backlog-")),
        &missing,
    )?;
    Ok(Run {
        history,
        expect: python_worker_bug(
            "L2: InvalidCursor resets the shard to END (python-sdk tasks.consumer_fetch_task)",
        ),
    })
}

/// Known bug L1 (C&P §6 C9): when `process()` raises, the Python worker drops the batch and
/// fetches on; the next checkpoint covers it, so it is never processed. One raise, on the third
/// batch the process is handed.
pub async fn python_process_error(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 2).await?;
    let o = WorkerOptions {
        fail_batch: Some(3),
        max_fetch: Some(50),
        ..WorkerOptions::default()
    };
    let w = backlog_then_more(&rec, &server, &c, p, &o).await?;
    let history = finish(&rec, &server, Some(&w))?;
    // The bug's signature: what is missing is exactly what process() raised on.
    let raised = w.read(|e| e.raised.clone());
    let missing = never_processed(&history);
    signature(
        "L1",
        !missing.is_empty() && missing.keys().all(|id| raised.contains(id)),
        &missing,
    )?;
    Ok(Run {
        history,
        expect: python_worker_bug(
            "L1: a batch whose process() raised is skipped and later checkpointed over",
        ),
    })
}

/// The L1/L2 schedule: half the logs wait as a backlog when one Python worker starts; once it
/// processed some of it, the other half arrives, so every shard gets batches (and checkpoints)
/// after the fault. Returns the stopped workers, to be recorded.
async fn backlog_then_more(
    rec: &Rec,
    server: &TestServer,
    c: &sls_client::Client,
    p: Params,
    o: &WorkerOptions,
) -> Res<Workers> {
    let half = p.logs / 2;
    let write =
        |prefix: &str| writers::ours(rec.clone(), c.clone(), prefix.into(), half, Duration::ZERO);
    write("backlog").await?;
    let mut w = workers(rec, Lang::Python, Target::of(server))?;
    w.spawn("a", o)?;
    settle(rec, &w, 30, |w| processed_with_prefix(w, "backlog") > 0).await;
    write("later").await?;
    settle(rec, &w, p.settle_secs(60), |w| {
        processed_with_prefix(w, "later") >= half
    })
    .await;
    w.stop_all(10);
    Ok(w)
}

/// Known bug S1 (python-sdk #126, C&P §6 C14): a read-only shard that never held data is never
/// finished by the Python worker (it commits only after processing data), so in an ordered group
/// the children of that shard are never assigned and their logs never processed. Compare
/// `worker-empty-readonly-shard`.
pub async fn python_empty_readonly_shard(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.ordered = true);
    let (server, c) = start(p.seed, 2).await?;
    c.split_shard(PROJECT, LOGSTORE, 1, SplitAt::Even(2))
        .await?;
    rec.fault("split empty shard 1 into 2 and 3".into());
    let mut w = workers(&rec, Lang::Python, Target::of(&server))?;
    w.spawn(
        "a",
        &WorkerOptions {
            in_order: true,
            ..WorkerOptions::default()
        },
    )?;
    writers::ours(rec.clone(), c, "log".into(), p.logs, Duration::ZERO).await?;
    let n = p.logs;
    // Ten heartbeat rounds are plenty for a working client to finish shard 1 and move on.
    settle(&rec, &w, 10, |w| w.distinct() >= n).await;
    w.stop_all(10);
    let history = finish(&rec, &server, Some(&w))?;
    // The bug's signature: shard 0 fully processed, and exactly the children of the empty
    // shard (2 and 3) never read.
    let missing = never_processed(&history);
    signature(
        "S1",
        missing_exactly(&history, &missing, |s| s.shard == 2 || s.shard == 3),
        &missing,
    )?;
    Ok(Run {
        history,
        expect: python_worker_bug("S1: an empty read-only shard is never finished, so its children wait forever (python-sdk #126)"),
    })
}
