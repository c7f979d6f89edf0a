//! Scenarios against the official Java and Go clients, unmodified, each in its own process:
//! the Java consumer library (`ClientWorker`) and producer, the Go SDK's consumer and producer.
//! Every scenario is written once and run for both languages (`java-…`, `go-…`); each library
//! is judged by what it claims, and the known bugs of JAVA-GO-FLINK.md §5 are named scenarios
//! that check the bug's own signature.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sls_client::SplitAt;
use sls_e2e::workers::ProducerOptions;
use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;

use crate::official::{finish, settle};
use crate::support::{
    error, holds, rule, start, start_for, stored_ids, workers, Expect, Lang, Params, Rec, Res, Run,
    Target, WorkerOptions, Workers, LOGSTORE, PROJECT,
};
use crate::writers;

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

fn spawn_producer(
    rec: &Rec,
    lang: Lang,
    server: &TestServer,
    o: ProducerOptions,
) -> tokio::task::JoinHandle<Res<()>> {
    tokio::spawn(writers::official_producer(
        rec.clone(),
        lang,
        Target::of(server),
        o,
    ))
}

/// P1–P3 for the official producer of `lang`: answers lost after commit (500), connections
/// reset after commit, 503 ServerBusy, 403 ShardWriteQuotaExceed and latency. Claims
/// at-least-once for every log whose callback reported success.
pub async fn producer_faults(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    // The Java producer sends PutLogs to `--proxy-ip`: no port 80 needed.
    let (server, _) = start(p.seed, 4).await?;
    let f = server.faults();
    let faults = [
        ("lost-answer", 0.1, Action::CommitThenError),
        ("reset", 0.05, Action::CommitThenReset),
        ("busy", 0.1, error(503, "ServerBusy")),
        ("quota", 0.05, error(403, "ShardWriteQuotaExceed")),
        ("slow", 0.2, Action::Latency { millis: 300 }),
    ];
    for (id, pr, action) in faults {
        f.add(rule(
            id,
            Api::PostLogStoreLogs,
            When::Probability(pr),
            action,
        ))?;
    }
    let o = producer(lang, "p", p.logs, 0.0);
    writers::official_producer(rec.clone(), lang, Target::of(&server), o).await?;
    Ok(Run {
        history: finish(&rec, &server, None)?,
        expect: holds(lang.producer_library(), &["at-least-once"]),
    })
}

/// C1/C21 for the official consumer of `lang`: three workers on four shards, one SIGKILLed and
/// restarted under its name at seeded moments, while the official producer of the same
/// language writes; PullLogs also answers 500 now and then and is slow. Claims at-least-once
/// and per-shard order (and at-least-once for the producer).
pub async fn worker_crash(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    let (server, _) = start_for(lang, p.seed, 4).await?;
    let f = server.faults();
    f.add(rule(
        "pull-500",
        Api::PullLogs,
        When::Probability(0.05),
        error(500, "InternalServerError"),
    ))?;
    f.add(rule(
        "pull-slow",
        Api::PullLogs,
        When::Probability(0.1),
        Action::Latency { millis: 200 },
    ))?;
    let mut w = workers(&rec, lang, Target::of(&server))?;
    for name in ["a", "b", "c"] {
        w.spawn(name, &WorkerOptions::default())?;
    }
    // Spread the writes over the crash schedule (about 3 s per crash).
    let secs = p.crashes as f64 * 3.0;
    let writer = spawn_producer(&rec, lang, &server, producer(lang, "log", p.logs, secs));
    let mut rng = StdRng::seed_from_u64(p.seed);
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1500..3500))).await;
        let victim = ["a", "b", "c"][rng.gen_range(0..3)];
        rec.fault(format!(
            "{lang:?} worker {victim} kill -9 and restart (#{})",
            k + 1
        ));
        w.kill9_and_restart(victim)?;
    }
    writer.await??;
    drain(&rec, &server, &mut w, p.settle_secs(90)).await;
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: [
            holds(lang.producer_library(), &["at-least-once"]),
            holds(lang.worker_library(), &["at-least-once", "order"]),
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
    let mut rng = StdRng::seed_from_u64(p.seed);
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1000..2500))).await;
        let victim = if k % 2 == 0 { "a" } else { "b" };
        let id = format!("partition-{k}");
        server.faults().add(Rule {
            id: id.clone(),
            matcher: Matcher {
                api: Some(Api::Heartbeat),
                consumer: Some(victim.into()),
                ..Matcher::default()
            },
            when: When::Always,
            action: Action::Drop,
            times: None,
        })?;
        rec.fault(format!("heartbeats of {victim} dropped for {outage:?}"));
        tokio::time::sleep(outage).await;
        server.faults().remove(&id);
        rec.fault(format!("heartbeats of {victim} pass again"));
    }
    writer.await??;
    drain(&rec, &server, &mut w, p.settle_secs(90)).await;
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: holds(lang.worker_library(), &["at-least-once", "order"]),
    })
}

/// Rebalancing without a crash, in an ordered group: workers join a loaded group, one leaves
/// gracefully, another fails over after a clean stop, a shard is split and two are merged
/// mid-stream. The Java consumer library documents that rebalancing "produces neither data loss
/// nor duplicates": it is judged by exactly-once here, the Go consumer by at-least-once (what
/// it claims); both by order, parent before child included.
pub async fn rebalance(lang: Lang, rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.ordered = true);
    let (server, c) = start_for(lang, p.seed, 2).await?;
    let o = WorkerOptions {
        in_order: true,
        ..WorkerOptions::default()
    };
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
    let claims: &[&str] = match lang {
        Lang::Java => &["at-least-once", "order", "exactly-once"],
        Lang::Python | Lang::Go => &["at-least-once", "order"],
    };
    Ok(Run {
        history: finish(&rec, &server, Some(&w))?,
        expect: holds(lang.worker_library(), claims),
    })
}

/// The worker scenarios' claims when a known bug breaks one verdict and the others hold.
pub fn bug(lang: Lang, verdict: &'static str, bug: &'static str) -> Vec<Expect> {
    let mut e = vec![Expect::Breaks {
        verdict,
        library: lang.worker_library(),
        bug,
    }];
    if verdict != "order" {
        e.extend(holds(lang.worker_library(), &["order"]));
    }
    e
}
