//! Scenarios against the official Java and Go clients, unmodified, each in its own process:
//! the Java consumer library (`ClientWorker`) and producer, the Go SDK's consumer and producer.
//! Every scenario is written once and run for both languages (`java-…`, `go-…`); each library
//! is judged by what it claims, and the known bugs of JAVA-GO-FLINK.md §5 are named scenarios
//! that check the bug's own signature.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sls_client::SplitAt;
use sls_e2e::history::History;
use sls_e2e::workers::{ProducerOptions, JAVA_WORKER};
use sls_emulator::faults::{Action, Api, Rule, When};
use sls_emulator::testing::TestServer;

use crate::official::{finish, missing_exactly, never_processed, settle, signature};
use crate::registry::{scenario, Scenario};
use crate::support::{
    add_random_faults, alternate_heartbeat_outages, crash_workers, error, heartbeat_outage, holds,
    invalid_cursor, rule, start, start_for, stored_ids, workers, Expect, Guarantee, Lang, Params,
    Rec, Res, Run, Target, WorkerOptions, Workers, LOGSTORE, PROJECT,
};
use crate::writers;

/// This file's scenarios, in the order the ci profile runs them.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        "java-producer-faults",
        "P1-P3 official Java producer: lost answers, resets after commit, 503, 403 quota, latency",
        2_000,
        |r, p| producer_faults(Lang::Java, r, p)
    ),
    scenario!(
        "go-producer-faults",
        "P1-P3 official Go producer: lost answers, resets after commit, 503, 403 quota, latency",
        2_000,
        |r, p| producer_faults(Lang::Go, r, p)
    ),
    scenario!(
        "java-worker-crash",
        "C1/C21 official Java ClientWorker processes SIGKILLed and restarted; PullLogs 500s",
        1_000,
        |r, p| worker_crash(Lang::Java, r, p)
    ),
    scenario!(
        "go-worker-crash",
        "C1/C21 official Go consumer processes SIGKILLed and restarted; PullLogs 500s",
        1_000,
        |r, p| worker_crash(Lang::Go, r, p)
    ),
    scenario!(
        "java-heartbeat-loss",
        "C4/C5 official Java ClientWorker: one's heartbeats lost past the group timeout",
        1_000,
        |r, p| heartbeat_loss(Lang::Java, r, p)
    ),
    scenario!(
        "go-heartbeat-loss",
        "C4/C5 official Go consumer: one's heartbeats lost past the group timeout",
        1_000,
        |r, p| heartbeat_loss(Lang::Go, r, p)
    ),
    scenario!(
        "java-rebalance",
        "official Java ClientWorker, ordered: join, leave, clean failover, split, merge (no loss, no duplicates promised)",
        1_000,
        |r, p| rebalance(Lang::Java, r, p)
    ),
    scenario!(
        "java-clean-stop-lazy",
        "finding: official Java ClientWorker with saveCheckPoint(false), stopped cleanly during process(): the next owner repeats its batches",
        1_000,
        java_clean_stop_lazy
    ),
    scenario!(
        "go-rebalance",
        "official Go consumer, ordered: join, leave, clean failover, split, merge",
        1_000,
        |r, p| rebalance(Lang::Go, r, p)
    ),
    scenario!(
        "java-process-error",
        "known bug: official Java ClientWorker skips a batch whose process() threw",
        1_000,
        |r, p| process_error(Lang::Java, r, p)
    ),
    scenario!(
        "go-process-error",
        "official Go consumer, process() fails once (control: it retries the batch)",
        1_000,
        |r, p| process_error(Lang::Go, r, p)
    ),
    scenario!(
        "java-invalid-cursor",
        "known bug: official Java ClientWorker resets to END on InvalidCursor, skipping a backlog",
        1_000,
        java_invalid_cursor
    ),
    scenario!(
        "go-invalid-cursor",
        "known bug: official Go consumer stuck on InvalidCursor while it keeps the shard",
        1_000,
        go_invalid_cursor
    ),
    scenario!(
        "go-stale-owner",
        "known bug: official Go consumer past its heartbeat expiry overwrites the new owner's checkpoint",
        1_000,
        go_stale_owner
    ),
    scenario!(
        "java-producer-failed-but-stored",
        "known bug: official Java producer reports failure for a batch stored on every attempt",
        400,
        |r, p| producer_failed_but_stored(Lang::Java, r, p)
    ),
    scenario!(
        "go-producer-failed-but-stored",
        "known bug: official Go producer reports failure for a batch stored on every attempt",
        400,
        |r, p| producer_failed_but_stored(Lang::Go, r, p)
    ),
];

/// The official producer of `lang` as the scenario's writer: `n` logs over 4 shards, paced so
/// the stream lasts about `secs`, small batches so that faults hit many requests.
fn producer(lang: Lang, prefix: &str, n: usize, secs: f64) -> ProducerOptions {
    let mut o = ProducerOptions::new(prefix, n);
    o.pace = Duration::from_secs_f64(secs / (n / 10).max(1) as f64);
    // Both producers refuse or ignore a linger under 100 ms.
    let batch = match lang {
        Lang::Java => "--batch-count-threshold",
        Lang::Python | Lang::Go => "--max-batch-count",
    };
    o.extra = vec![
        batch.into(),
        "50".into(),
        "--linger-ms".into(),
        "100".into(),
    ];
    o
}

/// P1–P3 for the official producer of `lang`: answers lost after commit (500), connections
/// reset after commit, 503 ServerBusy, 403 ShardWriteQuotaExceed and latency. Claims
/// at-least-once for every log whose callback reported success.
pub async fn producer_faults(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    // The Java producer sends PutLogs to `--proxy-ip`: no port 80 needed.
    let (server, _) = start(p.seed, 4).await?;
    add_random_faults(
        &server,
        Api::PostLogStoreLogs,
        [
            ("lost-answer", 0.1, Action::CommitThenError),
            ("reset", 0.05, Action::CommitThenReset),
            ("busy", 0.1, error(503, "ServerBusy")),
            ("quota", 0.05, error(403, "ShardWriteQuotaExceed")),
            ("slow", 0.2, Action::Latency { millis: 300 }),
        ],
    )?;
    let o = producer(lang, "p", p.logs, 0.0);
    writers::official_producer(rec.clone(), lang, Target::of(&server), o).await?;
    Ok(Run {
        history: finish(&rec, &server, None)?,
        expect: holds(lang.producer_library(), &[Guarantee::AtLeastOnce]),
    })
}

/// C1/C21 for the official consumer of `lang`: three workers on four shards, one SIGKILLed and
/// restarted under its name at seeded moments, while the official producer of the same
/// language writes. Meanwhile PullLogs answers 500 or 403 now and then, is slow or cut;
/// checkpoint answers are lost after the commit; heartbeats get 503. Claims at-least-once and
/// per-shard order (and at-least-once for the producer).
pub async fn worker_crash(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    let (server, _) = start_for(lang, p.seed, 4).await?;
    add_random_faults(
        &server,
        Api::PullLogs,
        [
            ("pull-500", 0.05, error(500, "InternalServerError")),
            ("pull-slow", 0.1, Action::Latency { millis: 200 }),
            ("pull-quota", 0.03, error(403, "ShardReadQuotaExceed")),
            ("pull-reset", 0.02, Action::Drop),
        ],
    )?;
    add_random_faults(
        &server,
        Api::UpdateCheckPoint,
        [("checkpoint-answer-lost", 0.1, Action::CommitThenError)],
    )?;
    add_random_faults(
        &server,
        Api::Heartbeat,
        [("heartbeat-busy", 0.05, error(503, "ServerBusy"))],
    )?;
    let mut w = workers(&rec, lang, Target::of(&server))?;
    for name in ["a", "b", "c"] {
        w.spawn(name, &WorkerOptions::default())?;
    }
    // Spread the writes over the crash schedule (about 3 s per crash).
    let secs = p.crashes as f64 * 3.0;
    let o = producer(lang, "log", p.logs, secs);
    let writer = tokio::spawn(writers::official_producer(
        rec.clone(),
        lang,
        Target::of(&server),
        o,
    ));
    crash_workers(&rec, &mut w, p, &["a", "b", "c"], 1500..3500).await?;
    writer.await??;
    drain(&rec, &server, &mut w, p.settle_secs(90)).await;
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: [
            holds(lang.producer_library(), &[Guarantee::AtLeastOnce]),
            holds(
                lang.worker_library(),
                &[Guarantee::AtLeastOnce, Guarantee::Order],
            ),
        ]
        .concat(),
    })
}

/// Waits until every stored log was processed (up to `secs`), then stops the workers
/// gracefully. A timeout is not an error: the checker judges what happened.
async fn drain(rec: &Rec, server: &TestServer, w: &mut Workers, secs: u64) {
    let stored = stored_ids(server.store()).len();
    settle(rec, w, secs, |w| w.distinct() >= stored).await;
    let forced = w.stop_all(30);
    if !forced.is_empty() {
        rec.fault(format!(
            "{forced:?} did not stop on SIGTERM within 30 s: killed"
        ));
    }
}

/// C4/C5 for the official consumer of `lang`: two workers; the heartbeats of one are dropped
/// for 2.5 group timeouts at seeded moments (its fetches and commits still pass), so the
/// emulator hands its shards to the other; then it heals. Claims at-least-once and order.
pub async fn heartbeat_loss(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start_for(lang, p.seed, 4).await?;
    let o = WorkerOptions::default();
    let outage = o.effective_timeout(lang).mul_f64(2.5);
    let mut w = workers(&rec, lang, Target::of(&server))?;
    w.spawn("a", &o)?;
    w.spawn("b", &o)?;
    let secs = p.crashes as f64 * (outage.as_secs_f64() + 2.0);
    let writer = tokio::spawn(writers::ours(
        rec.clone(),
        c,
        "log".into(),
        p.logs,
        p.pace(secs),
    ));
    alternate_heartbeat_outages(&rec, &server, p, outage, 1000..2500).await?;
    writer.await??;
    drain(&rec, &server, &mut w, p.settle_secs(90)).await;
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: holds(
            lang.worker_library(),
            &[Guarantee::AtLeastOnce, Guarantee::Order],
        ),
    })
}

/// Rebalancing without a crash, in an ordered group: workers join a loaded group, one leaves
/// gracefully, another fails over after a clean stop, a shard is split and two are merged
/// mid-stream. The Java consumer library documents that rebalancing "produces neither data loss
/// nor duplicates": it is judged by exactly-once here, the Go consumer by at-least-once (what
/// it claims); both by order, parent before child included.
pub async fn rebalance(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    let o = WorkerOptions {
        in_order: true,
        ..WorkerOptions::default()
    };
    let claims: &[Guarantee] = match lang {
        Lang::Java => &[
            Guarantee::AtLeastOnce,
            Guarantee::Order,
            Guarantee::ExactlyOnce,
        ],
        Lang::Python | Lang::Go => &[Guarantee::AtLeastOnce, Guarantee::Order],
    };
    let history = rebalance_run(lang, &rec, p, &o).await?;
    Ok(Run {
        history,
        expect: holds(lang.worker_library(), claims),
    })
}

/// Finding, Java consumer library: with its usual checkpointing (`process()` calls
/// `saveCheckPoint(false)`, the library commits on its timer, on handover and in each shard's
/// shutdown task), a clean stop while a `process()` runs loses the shard's last cursor:
/// `ClientWorker.shutdown` drives each shard consumer once, a shard busy in `process()` then
/// never runs its shutdown task, so nothing is committed and the next owner repeats the
/// batches. Worker `a` (slow, lazy) reads two shards; once `b` joined and got one, `a` is
/// stopped (SIGTERM) in the middle of a `process()`. The library documents that failover and
/// rebalancing produce "neither data loss nor duplicates".
pub async fn java_clean_stop_lazy(rec: Rec, p: Params) -> Res<Run> {
    let lang = Lang::Java;
    let (server, c) = start_for(lang, p.seed, 2).await?;
    writers::ours(rec.clone(), c, "log".into(), p.logs, Duration::ZERO).await?;
    let lazy = WorkerOptions {
        max_fetch: Some(10),
        process_delay: Duration::from_millis(2500),
        extra: vec!["--lazy-commit".into()],
        ..WorkerOptions::default()
    };
    let mut w = workers(&rec, lang, Target::of(&server))?;
    w.spawn("a", &lazy)?;
    settle(&rec, &w, 30, |w| w.distinct() > 0).await;
    w.spawn("b", &WorkerOptions::default())?;
    rec.fault("b joins: a hands one shard over (its shutdown task commits)".into());
    // b holds a shard, and a has processed more on the shard it kept.
    settle(&rec, &w, 30, |w| {
        w.read(|e| {
            let b_started = e.inits.iter().any(|(n, _, _)| n == "b");
            let a_batches = e.consumed.iter().filter(|c| c.consumer == "a").count();
            b_started && a_batches > 20
        })
    })
    .await;
    // Stop a right after one of its process() calls began (it lasts 2.5 s; the library
    // waits about 1 s before it shuts the shard consumers down).
    let started = |w: &Workers| w.read(|e| e.processing.iter().filter(|x| x.0 == "a").count());
    let before = started(&w);
    settle(&rec, &w, 10, |w| started(w) > before).await;
    let (busy_shard, since) = w
        .read(|e| {
            e.processing
                .iter()
                .rev()
                .find(|x| x.0 == "a")
                .map(|x| (x.1, x.2))
        })
        .ok_or("a never started a process()")?;
    let clean = w.stop("a", 60)?;
    rec.fault(format!(
        "a stops cleanly (SIGTERM, graceful: {clean}) while its process() on shard {busy_shard} runs"
    ));
    let n = p.logs;
    settle(&rec, &w, p.settle_secs(60), |w| w.distinct() >= n).await;
    w.stop_all(30);
    let history = finish(&rec, &server, Some(&w))?;
    // The finding's signature: the busy shard's shutdown hook never ran, and b repeated logs a
    // had processed there.
    let hooked = w.read(|e| {
        e.shutdowns
            .iter()
            .any(|(n, s, t)| n == "a" && *s == busy_shard && *t >= since)
    });
    let repeated = {
        let by_a: HashSet<&str> = history
            .consumed
            .iter()
            .filter(|c| c.consumer == "a" && c.shard == busy_shard)
            .map(|c| c.id.as_str())
            .collect();
        history
            .consumed
            .iter()
            .filter(|c| c.consumer == "b" && by_a.contains(c.id.as_str()))
            .count()
    };
    if hooked || repeated == 0 {
        return Err(format!(
            "not the finding's signature: a's shutdown hook ran on shard {busy_shard}: {hooked}; \
             logs of a repeated by b: {repeated}"
        )
        .into());
    }
    Ok(Run {
        history,
        expect: [
            vec![Expect::Breaks {
                verdict: Guarantee::ExactlyOnce,
                library: JAVA_WORKER,
                bug: "a clean stop during process() skips the shard's shutdown task: the cursor kept by saveCheckPoint(false) is never committed and the next owner repeats it (ClientWorker.shutdown, ShardConsumer)",
            }],
            holds(JAVA_WORKER, &[Guarantee::AtLeastOnce, Guarantee::Order]),
        ]
        .concat(),
    })
}

/// The rebalancing schedule of [`rebalance`] with workers run with `o`.
async fn rebalance_run(lang: Lang, rec: &Rec, p: Params, o: &WorkerOptions) -> Res<History> {
    let rec = rec.clone();
    rec.with(|h| h.ordered = true);
    let (server, c) = start_for(lang, p.seed, 2).await?;
    let o = o.clone();
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut pause = || Duration::from_millis(rng.gen_range(1500..3000));
    let mut w = workers(&rec, lang, Target::of(&server))?;
    w.spawn("a", &o)?;
    let writer = tokio::spawn(writers::ours(
        rec.clone(),
        c.clone(),
        "log".into(),
        p.logs,
        p.pace(15.0),
    ));
    tokio::time::sleep(pause()).await;
    w.spawn("b", &o)?;
    w.spawn("c", &o)?;
    rec.fault("b and c join".into());
    tokio::time::sleep(pause()).await;
    // 0 [00,80) → 2 [00,40) + 3 [40,80).
    c.split_shard(PROJECT, LOGSTORE, 0, SplitAt::Even(2))
        .await?;
    rec.fault("split shard 0 into 2 and 3".into());
    tokio::time::sleep(pause()).await;
    let clean = w.stop("b", 30)?;
    rec.fault(format!("b leaves (SIGTERM, graceful: {clean})"));
    tokio::time::sleep(pause()).await;
    // 3 [40,80) + 1 [80,..) → 4 [40,..).
    c.merge_shard(PROJECT, LOGSTORE, 3).await?;
    rec.fault("merged shards 3 and 1 into 4".into());
    tokio::time::sleep(pause()).await;
    let clean = w.stop("a", 30)?;
    rec.fault(format!("a stops cleanly (graceful: {clean}); c takes over"));
    writer.await??;
    drain(&rec, &server, &mut w, p.settle_secs(90)).await;
    finish(&rec, &server, Some(&w))
}

/// The worker scenarios' claims when a known bug breaks one verdict and the others hold.
pub fn bug(lang: Lang, verdict: Guarantee, bug: &'static str) -> Vec<Expect> {
    let mut e = vec![Expect::Breaks {
        verdict,
        library: lang.worker_library(),
        bug,
    }];
    if verdict != Guarantee::Order {
        e.extend(holds(lang.worker_library(), &[Guarantee::Order]));
    }
    e
}

/// Java consumer bug (JAVA-GO-FLINK.md §5.10): when `process()` throws, `ProcessTask` returns
/// the exception and the shard goes on from the next batch, whose commit covers the failed
/// one, so it is never processed. The Go consumer calls `process` again with the same batch
/// until it succeeds: the control. One failure, on the third batch, while a backlog waits.
pub async fn process_error(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start_for(lang, p.seed, 2).await?;
    let o = WorkerOptions {
        fail_batch: Some(3),
        max_fetch: Some(20),
        ..WorkerOptions::default()
    };
    let half = p.logs / 2;
    writers::ours(
        rec.clone(),
        c.clone(),
        "backlog".into(),
        half,
        Duration::ZERO,
    )
    .await?;
    let mut w = workers(&rec, lang, Target::of(&server))?;
    w.spawn("a", &o)?;
    settle(&rec, &w, 30, |w| w.read(|e| !e.raised.is_empty())).await;
    rec.fault("process() failed once on purpose (the third batch)".into());
    writers::ours(rec.clone(), c, "later".into(), half, Duration::ZERO).await?;
    // Done when everything stored was processed, or failed on purpose (a skip's signature).
    let n = stored_ids(server.store()).len();
    settle(&rec, &w, p.settle_secs(40), |w| {
        w.read(|e| e.distinct.union(&e.raised).count() >= n)
    })
    .await;
    w.stop_all(30);
    let history = finish(&rec, &server, Some(&w))?;
    let raised = w.read(|e| e.raised.clone());
    let missing = never_processed(&history);
    match lang {
        Lang::Java => {
            // The bug's own signature: what is missing is exactly what process() threw on.
            signature(
                "Java process() skip",
                !missing.is_empty() && missing.keys().all(|id| raised.contains(id)),
                &missing,
            )?;
            Ok(Run {
                history,
                expect: bug(
                    lang,
                    Guarantee::AtLeastOnce,
                    "a batch whose process() threw is skipped and then checkpointed over (ProcessTask)",
                ),
            })
        }
        Lang::Python | Lang::Go => Ok(Run {
            history,
            expect: holds(
                lang.worker_library(),
                &[Guarantee::AtLeastOnce, Guarantee::Order],
            ),
        }),
    }
}

/// The schedule of the InvalidCursor bugs: worker `a` consumes some logs and stops cleanly;
/// a backlog is written; PullLogs on shard 0 answers InvalidCursor (`rule`); `a` restarts
/// from its checkpoint; more logs follow. Returns the stopped workers.
async fn backlog_across_restart(
    lang: Lang,
    rec: &Rec,
    server: &TestServer,
    c: &sls_client::Client,
    o: &WorkerOptions,
    rule: Rule,
    p: Params,
) -> Res<Workers> {
    let quarter = p.logs / 4;
    let write =
        |prefix: &str, n| writers::ours(rec.clone(), c.clone(), prefix.into(), n, Duration::ZERO);
    let mut w = workers(rec, lang, Target::of(server))?;
    w.spawn("a", o)?;
    // A worker starting at END needs its shards initialised before the first logs.
    settle(rec, &w, 30, |w| w.read(|e| e.inits.len() >= 2)).await;
    write("pre", quarter).await?;
    settle(rec, &w, 30, |w| w.distinct() >= quarter).await;
    let clean = w.stop("a", 30)?;
    rec.fault(format!("a stops (graceful: {clean})"));
    write("backlog", quarter).await?;
    server.faults().add(rule)?;
    rec.fault("PullLogs on shard 0 answers InvalidCursor from now on".into());
    w.restart("a")?;
    rec.fault("a restarts from its checkpoint".into());
    tokio::time::sleep(Duration::from_secs(3)).await;
    write("later", p.logs - 2 * quarter).await?;
    // Logs after the fault come after the backlog in each shard: once they are all processed,
    // the backlog was processed or skipped. A stuck shard never gets there: 10 s tell.
    let later: Vec<String> = stored_ids(server.store())
        .into_iter()
        .filter(|id| id.starts_with("later-"))
        .collect();
    settle(rec, &w, 10, |w| {
        w.read(|e| later.iter().all(|id| e.distinct.contains(id)))
    })
    .await;
    Ok(w)
}

/// Java consumer bug (JAVA-GO-FLINK.md §5.1): on `InvalidCursor`, `LogHubFetchTask` resets the
/// shard to the configured start position. With END, the backlog between the checkpoint and
/// the end is skipped. One InvalidCursor answer.
pub async fn java_invalid_cursor(rec: Rec, p: Params) -> Res<Run> {
    let lang = Lang::Java;
    let (server, c) = start_for(lang, p.seed, 2).await?;
    let o = WorkerOptions {
        position: "end",
        ..WorkerOptions::default()
    };
    let mut w = backlog_across_restart(
        lang,
        &rec,
        &server,
        &c,
        &o,
        invalid_cursor(When::Always, Some(1)),
        p,
    )
    .await?;
    w.stop_all(30);
    let history = finish(&rec, &server, Some(&w))?;
    // The bug's signature: exactly shard 0's backlog is missing.
    let missing = never_processed(&history);
    signature(
        "Java InvalidCursor reset",
        missing_exactly(&history, &missing, |s| {
            s.shard == 0 && s.id.starts_with("backlog-")
        }),
        &missing,
    )?;
    Ok(Run {
        history,
        expect: bug(
            lang,
            Guarantee::AtLeastOnce,
            "InvalidCursor resets the shard to the configured start position: END skips the backlog (LogHubFetchTask)",
        ),
    })
}

/// Go consumer bug (JAVA-GO-FLINK.md §5.2): on `InvalidCursor` the shard worker retries the
/// same cursor for ever while its heartbeats keep the shard, so nobody else takes it: shard 0
/// is stuck, nothing after its checkpoint is processed. The fault lasts until the end (a
/// checkpoint whose data expired stays invalid).
pub async fn go_invalid_cursor(rec: Rec, p: Params) -> Res<Run> {
    let lang = Lang::Go;
    let (server, c) = start_for(lang, p.seed, 2).await?;
    let mut w = backlog_across_restart(
        lang,
        &rec,
        &server,
        &c,
        &WorkerOptions::default(),
        invalid_cursor(When::Always, None),
        p,
    )
    .await?;
    // Still alive and still holding the stuck shard when the run ends.
    let held = sls_e2e::workers::owners(&server, PROJECT, LOGSTORE, "chaos-group");
    let alive = w.is_running("a");
    w.stop_all(30);
    let history = finish(&rec, &server, Some(&w))?;
    let missing = never_processed(&history);
    signature(
        "Go stuck on InvalidCursor",
        alive
            && held.get("a").is_some_and(|s| s.contains(&0))
            && missing_exactly(&history, &missing, |s| {
                s.shard == 0 && !s.id.starts_with("pre-")
            }),
        &missing,
    )?;
    Ok(Run {
        history,
        expect: bug(
            lang,
            Guarantee::AtLeastOnce,
            "stuck on InvalidCursor: the same cursor retried for ever while heartbeats keep the shard (shard_worker runLoop)",
        ),
    })
}

/// Go consumer bug (JAVA-GO-FLINK.md §5.7): a consumer whose heartbeats are lost keeps its
/// shard for timeout + interval on its side, while the emulator hands it over after the
/// timeout; its checkpoints are always forced, so its late commits overwrite the new owner's:
/// the checkpoint goes backwards, and stays there once the new owner is idle. One shard, `a`
/// slow, `b` fast; a's heartbeats dropped for 8 s.
pub async fn go_stale_owner(rec: Rec, p: Params) -> Res<Run> {
    let lang = Lang::Go;
    let (server, c) = start_for(lang, p.seed, 1).await?;
    writers::ours(rec.clone(), c.clone(), "log".into(), p.logs, Duration::ZERO).await?;
    let mut w = workers(&rec, lang, Target::of(&server))?;
    w.spawn(
        "a",
        &WorkerOptions {
            max_fetch: Some(5),
            process_delay: Duration::from_millis(1000),
            ..WorkerOptions::default()
        },
    )?;
    settle(&rec, &w, 30, |w| w.distinct() > 0).await;
    w.spawn("b", &WorkerOptions::default())?;
    heartbeat_outage(&rec, &server, "a", Duration::from_secs(8)).await?;
    let n = p.logs;
    settle(&rec, &w, 30, |w| w.distinct() >= n).await;
    // Everything was processed, yet the group's checkpoint is not at the end.
    let end = c
        .get_cursor(PROJECT, LOGSTORE, 0, sls_client::CursorFrom::End)
        .await?;
    let checkpoint = c
        .get_checkpoints(PROJECT, LOGSTORE, "chaos-group", Some(0))
        .await?
        .pop()
        .map(|cp| cp.checkpoint)
        .unwrap_or_default();
    w.stop_all(30);
    let history = finish(&rec, &server, Some(&w))?;
    signature(
        "Go stale owner",
        never_processed(&history).is_empty() && checkpoint != end,
        &never_processed(&history),
    )?;
    rec.fault(format!(
        "after the run, shard 0's checkpoint is {checkpoint}, its end {end}"
    ));
    Ok(Run {
        history,
        expect: [
            vec![Expect::Breaks {
                verdict: Guarantee::Checkpoints,
                library: lang.worker_library(),
                bug: "a stale owner's forced commits overwrite the new owner's checkpoint (forceSuccess=true, heart_beat timeout + interval)",
            }],
            holds(lang.worker_library(), &[Guarantee::AtLeastOnce, Guarantee::Order]),
        ]
        .concat(),
    })
}

/// Producer bugs (JAVA-GO-FLINK.md §5.4, §5.5): every attempt of one batch is stored and then
/// answered with an error (Java: 500 after commit; Go: connection reset after commit), so the
/// producer gives up and its callback reports a failure for logs that are stored, three times.
/// A second batch, unfaulted, is acknowledged.
pub async fn producer_failed_but_stored(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, _) = start(p.seed, 4).await?;
    let action = match lang {
        Lang::Java => Action::CommitThenError,
        Lang::Python | Lang::Go => Action::CommitThenReset,
    };
    server.faults().add(Rule {
        times: Some(3),
        ..rule(
            "stored-then-lost",
            Api::PostLogStoreLogs,
            When::Always,
            action,
        )
    })?;
    // The faulted logs in one batch (a single hash key, one request; both producers cap a
    // batch at 4096 logs and 512 KiB by default), then the rest, unfaulted.
    let faulted = (p.logs / 2).min(2000);
    let options = |prefix: &str, n: usize| {
        let mut o = ProducerOptions::new(prefix, n);
        o.shards = 1;
        o.retries = 2;
        o.extra = vec!["--max-retry-backoff-ms".into(), "200".into()];
        o
    };
    let target = Target::of(&server);
    let o = options("faulted", faulted);
    writers::official_producer(rec.clone(), lang, target.clone(), o).await?;
    let o = options("after", p.logs - faulted);
    writers::official_producer(rec.clone(), lang, target, o).await?;
    let history = finish(&rec, &server, None)?;
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for s in &history.stored {
        *copies.entry(s.id.as_str()).or_default() += 1;
    }
    // The bug's signature: every faulted log failed and is stored three times, once per attempt.
    let failed_stored = history
        .writes
        .iter()
        .filter(|w| w.outcome == sls_e2e::history::Outcome::Fail)
        .filter(|w| w.ids.iter().all(|id| copies.get(id.as_str()) == Some(&3)))
        .count();
    signature(
        "producer failure for stored data",
        failed_stored == faulted,
        &Default::default(),
    )?;
    Ok(Run {
        history,
        expect: vec![
            Expect::Holds {
                verdict: Guarantee::AtLeastOnce,
                library: lang.producer_library(),
            },
            Expect::Breaks {
                verdict: Guarantee::FailedNotStored,
                library: lang.producer_library(),
                bug: "every attempt stored, every answer lost: the callback reports a failure for logs stored three times",
            },
        ],
    })
}
