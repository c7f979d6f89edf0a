//! Scenarios against our client (`sls-client`): what it claims must hold under every fault.

use std::collections::BTreeMap;
use std::time::Duration;

use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sls_client::{
    Commit, ExactlyOnce, Log, LogGroup, SledSink, SplitAt, TransactionalSink, Worker,
};
use sls_e2e::history::ConsumeEvent;
use sls_emulator::faults::{Action, Api, Rule, When};
use sls_emulator::testing::TestServer;
use sls_fault_injection::process::{build_emulator_binary, EmulatorOptions, EmulatorProcess};
use sls_fault_injection::proxy::{Direction, Matcher as ProxyMatcher, Proxy, Toxic, ToxicKind};

use crate::registry::{scenario, Scenario};
use crate::support::{
    alternate_heartbeat_outages, client_for, create_logstore, distinct_consumed, error, holds,
    id_of, invalid_cursor, rule, start, start_worker, until, with_ground_truth, worker_config,
    Guarantee, Params, Rec, Res, Run, LOGSTORE, OUR_EO, OUR_PRODUCER, OUR_WORKER, PROJECT,
};
use crate::writers;

/// This file's scenarios, in the order the ci profile runs them.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        "producer-lost-answers",
        "P1/P3 our producer: answers lost after commit (500) and 503s",
        2_000,
        producer_lost_answers
    ),
    scenario!(
        "producer-network",
        "P1/P2 our producer via the proxy: latency, resets both ways, dropped answers, 403 quota",
        2_000,
        producer_network
    ),
    scenario!(
        "worker-crash-restart",
        "C1 our worker crashed and restarted while logs arrive",
        2_000,
        worker_crash_restart
    ),
    scenario!(
        "eo-pipeline",
        "our exactly-once pipeline: crashes and lost checkpoint answers",
        2_000,
        eo_pipeline
    ),
    scenario!(
        "heartbeat-loss",
        "C4/C5 our workers: one's heartbeats dropped past the group timeout, then healed",
        2_000,
        heartbeat_loss
    ),
    scenario!(
        "join-leave",
        "C2/C3/C21 our workers join, leave, crash and restart under the same name",
        2_000,
        join_leave
    ),
    scenario!(
        "split-merge-ordered",
        "C11/C13 ordered group: split and merge mid-stream",
        2_000,
        split_merge_ordered
    ),
    scenario!(
        "clock-jump",
        "emulator clock jumps forward past the group timeout and back",
        2_000,
        clock_jump
    ),
    scenario!(
        "emulator-kill9",
        "emulator process kill -9 and restart on its data folder mid-stream",
        2_000,
        emulator_kill9
    ),
    scenario!(
        "worker-invalid-cursor",
        "C16 our worker: one InvalidCursor on a shard with a backlog (control for L2)",
        1_000,
        worker_invalid_cursor
    ),
    scenario!(
        "worker-empty-readonly-shard",
        "C14 our worker, ordered: an empty shard split (control for S1)",
        1_000,
        worker_empty_readonly_shard
    ),
];

/// Our producer writing `n` logs in the background, `pace` after every ten.
fn spawn_writer(
    rec: &Rec,
    c: &sls_client::Client,
    n: usize,
    pace: Duration,
) -> tokio::task::JoinHandle<Res<()>> {
    tokio::spawn(writers::ours(rec.clone(), c.clone(), "log".into(), n, pace))
}

/// Waits for the writer, then until `n` distinct logs were processed (at most `secs`), then
/// shuts the workers down gracefully.
async fn drain(
    rec: &Rec,
    writer: tokio::task::JoinHandle<Res<()>>,
    n: usize,
    secs: u64,
    workers: Vec<Worker>,
) -> Res<()> {
    writer.await??;
    until("every log processed", secs, || {
        Ok(distinct_consumed(rec) >= n)
    })
    .await?;
    for w in workers {
        w.shutdown().await;
    }
    Ok(())
}

/// The end of a scenario where our workers read: drain, stop them, and claim what our worker
/// claims (at-least-once and per-shard order).
async fn worker_run(
    rec: &Rec,
    server: &TestServer,
    writer: tokio::task::JoinHandle<Res<()>>,
    n: usize,
    workers: Vec<Worker>,
) -> Res<Run> {
    drain(rec, writer, n, 120, workers).await?;
    Ok(Run {
        history: finish(rec, server)?,
        expect: holds(OUR_WORKER, &[Guarantee::AtLeastOnce, Guarantee::Order]),
    })
}

fn finish(rec: &Rec, server: &TestServer) -> Res<sls_e2e::history::History> {
    server.faults().clear();
    with_ground_truth(rec, server.store(), &server.faults().journal())
}

/// P1 + P3: our producer under lost answers after commit (p=0.2) and 503 ServerBusy (p=0.1).
/// Claims at-least-once; the duplicates are the expected price, traced to the faults.
pub async fn producer_lost_answers(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, c) = start(p.seed, 4).await?;
    let faults = server.faults();
    faults.add(rule(
        "lost-answer",
        Api::PostLogStoreLogs,
        When::Probability(0.2),
        Action::CommitThenError,
    ))?;
    faults.add(rule(
        "busy",
        Api::PostLogStoreLogs,
        When::Probability(0.1),
        error(503, "ServerBusy"),
    ))?;
    writers::ours(rec.clone(), c, "log".into(), p.logs, Duration::ZERO).await?;
    Ok(Run {
        history: finish(&rec, &server)?,
        expect: holds(OUR_PRODUCER, &[Guarantee::AtLeastOnce]),
    })
}

/// P1 + P2 over the network: our producer through the fault proxy (latency with jitter, requests
/// reset before they reach the emulator, answers reset after it committed, answers dropped) and
/// 403 ShardWriteQuotaExceed bursts from the emulator. Claims at-least-once.
pub async fn producer_network(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.consumes = false);
    let (server, _) = start(p.seed, 4).await?;
    let proxy = Proxy::start("127.0.0.1:0".parse()?, server.addr(), p.seed).await?;
    let cfg = server.config();
    let c = client_for(
        &format!("localhost:{}", proxy.addr().port()),
        proxy.addr(),
        &cfg.access_key_id,
        &cfg.access_key_secret,
    )?;
    let writes = ProxyMatcher::path("/shards/");
    for t in [
        Toxic::new(
            "latency",
            ToxicKind::Latency {
                latency: Duration::from_millis(20),
                jitter: Duration::from_millis(20),
            },
            Direction::Upstream,
        )
        .with_toxicity(0.3),
        Toxic::new(
            "reset-request",
            ToxicKind::ResetPeer {
                after: Duration::ZERO,
            },
            Direction::Upstream,
        )
        .with_toxicity(0.05),
        Toxic::new(
            "reset-answer",
            ToxicKind::ResetPeer {
                after: Duration::ZERO,
            },
            Direction::Downstream,
        )
        .with_toxicity(0.05),
        Toxic::new(
            "drop-answer",
            ToxicKind::Timeout {
                after: Some(Duration::from_millis(50)),
            },
            Direction::Downstream,
        )
        .with_toxicity(0.03),
    ] {
        proxy.add_toxic(t.with_matcher(writes.clone()))?;
    }
    server.faults().add(rule(
        "quota",
        Api::PostLogStoreLogs,
        When::Probability(0.1),
        error(403, "ShardWriteQuotaExceed"),
    ))?;
    writers::ours(rec.clone(), c, "log".into(), p.logs, Duration::ZERO).await?;
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    for e in proxy.journal().iter().filter(|e| e.fired) {
        *fired.entry(e.toxic.clone()).or_default() += 1;
    }
    // Every network toxic must have hit some write, or the scenario proved nothing about it.
    if fired.len() < 4 {
        return Err(format!("not every proxy toxic fired: {fired:?}").into());
    }
    rec.fault(format!("proxy toxics fired over the run: {fired:?}"));
    proxy.shutdown().await;
    Ok(Run {
        history: finish(&rec, &server)?,
        expect: holds(OUR_PRODUCER, &[Guarantee::AtLeastOnce]),
    })
}

/// C1: our worker crashed (aborted) and restarted at seeded times while logs arrive. Claims
/// at-least-once and per-shard order (a few duplicates: the D1 window).
pub async fn worker_crash_restart(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 4).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    // Spread over the crash schedule (100–600 ms per crash), so the crashes hit processing.
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(p.crashes as f64 * 0.5));
    let config = worker_config("worker", Duration::from_millis(200));
    for k in 0..p.crashes {
        let w = start_worker(&c, &rec, config.clone()).await?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..600))).await;
        w.abort().await;
        rec.fault(format!("worker crash #{}", k + 1));
    }
    let w = start_worker(&c, &rec, config).await?;
    worker_run(&rec, &server, writer, p.logs, vec![w]).await
}

/// The exactly-once pipeline (worker + sled sink) with crashes and 30% of checkpoint answers
/// lost after commit. Claims exactly-once; its consume events are what the sink applied.
pub async fn eo_pipeline(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 4).await?;
    server.faults().add(rule(
        "lost-checkpoint-answer",
        Api::UpdateCheckPoint,
        When::Probability(0.3),
        Action::CommitThenReset,
    ))?;
    let dir = crate::support::scratch("sink")?;
    let sink = Stamped {
        inner: SledSink::open(dir.path())?,
        rec: rec.clone(),
    };
    let mut rng = StdRng::seed_from_u64(p.seed);
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(p.crashes as f64 * 0.5));
    let config = worker_config("pipeline", Duration::from_millis(300));
    for k in 0..p.crashes {
        let s = sink.clone();
        let w = Worker::start(c.clone(), config.clone(), move |_| {
            ExactlyOnce::new(s.clone())
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..600))).await;
        w.abort().await;
        rec.fault(format!("pipeline crash #{}", k + 1));
    }
    let s = sink.clone();
    let w = Worker::start(c.clone(), config, move |_| ExactlyOnce::new(s.clone())).await?;
    drain(&rec, writer, p.logs, 300, vec![w]).await?;
    let h = finish(&rec, &server)?;
    // The sink's own table is the effect; the stamps only say when each record was applied.
    let mut applied: Vec<String> = sink
        .inner
        .outputs()?
        .iter()
        .map(|bytes| {
            Log::decode(bytes.as_slice())
                .map(|l| id_of(&l))
                .unwrap_or_default()
        })
        .collect();
    // Shards commit concurrently, so compare as multisets: the same records, each as often.
    let mut stamped: Vec<&str> = h.consumed.iter().map(|c| c.id.as_str()).collect();
    applied.sort_unstable();
    stamped.sort_unstable();
    if applied != stamped {
        return Err(format!(
            "the sink holds {} records but {} were stamped as applied",
            applied.len(),
            stamped.len()
        )
        .into());
    }
    Ok(Run {
        history: h,
        expect: holds(OUR_EO, &[Guarantee::AtLeastOnce, Guarantee::ExactlyOnce]),
    })
}

/// The pipeline's sink, stamping every record it applies (in apply order) into the history.
#[derive(Clone)]
struct Stamped {
    inner: SledSink,
    rec: Rec,
}

impl TransactionalSink for Stamped {
    fn commit(
        &self,
        shard: u32,
        from: &str,
        to: &str,
        groups: &[LogGroup],
    ) -> sls_client::Result<Commit> {
        let outcome = self.inner.commit(shard, from, to, groups)?;
        if outcome == Commit::Applied {
            let t = self.rec.ms();
            let cursor = sls_protocol::cursor::decode_cursor(from).unwrap_or(-1);
            self.rec.consumed(
                groups
                    .iter()
                    .flat_map(|g| &g.logs)
                    .map(|l| ConsumeEvent {
                        consumer: "sled sink".into(),
                        shard,
                        id: id_of(l),
                        cursor,
                        time_ms: t,
                    })
                    .collect(),
            );
        }
        Ok(outcome)
    }
}

/// C4/C5: two workers; the heartbeats of one are dropped for 2.5 group timeouts at seeded
/// moments (fetches and commits still pass), so the emulator hands its shards to the other;
/// then it heals and rejoins. Claims at-least-once and per-shard order.
pub async fn heartbeat_loss(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 4).await?;
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(p.crashes as f64 * 3.0));
    let a = start_worker(&c, &rec, worker_config("a", Duration::from_millis(200))).await?;
    let b = start_worker(&c, &rec, worker_config("b", Duration::from_millis(200))).await?;
    let outage = Duration::from_millis(2500);
    alternate_heartbeat_outages(&rec, &server, p, outage, 300..1200).await?;
    worker_run(&rec, &server, writer, p.logs, vec![a, b]).await
}

/// C2/C3/C21: consumers join a loaded group, one leaves gracefully, one crashes, one restarts
/// under its old name. Claims at-least-once and per-shard order.
pub async fn join_leave(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 6).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(3.5));
    let cfg = |name: &str| worker_config(name, Duration::from_millis(200));
    let mut pause = || Duration::from_millis(rng.gen_range(300..900));
    let a = start_worker(&c, &rec, cfg("a")).await?;
    tokio::time::sleep(pause()).await;
    let b = start_worker(&c, &rec, cfg("b")).await?;
    let d = start_worker(&c, &rec, cfg("c")).await?;
    rec.fault("b and c join".into());
    tokio::time::sleep(pause()).await;
    b.shutdown().await;
    rec.fault("b leaves (graceful shutdown)".into());
    tokio::time::sleep(pause()).await;
    d.abort().await;
    rec.fault("c crashes".into());
    tokio::time::sleep(pause()).await;
    let d = start_worker(&c, &rec, cfg("c")).await?;
    rec.fault("c restarts under the same name".into());
    worker_run(&rec, &server, writer, p.logs, vec![a, d]).await
}

/// C11/C13: an ordered group while a shard is split and two shards are merged mid-stream.
/// Claims at-least-once, per-shard order and parent-before-child.
pub async fn split_merge_ordered(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.ordered = true);
    let (server, c) = start(p.seed, 2).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(2.0));
    let cfg = |name: &str| ordered(worker_config(name, Duration::from_millis(200)));
    let a = start_worker(&c, &rec, cfg("a")).await?;
    let b = start_worker(&c, &rec, cfg("b")).await?;
    tokio::time::sleep(Duration::from_millis(rng.gen_range(300..800))).await;
    // 0 [00,80) → 2 [00,40) + 3 [40,80); then 3 + 1 [80,..) → 4 [40,..).
    c.split_shard(PROJECT, LOGSTORE, 0, SplitAt::Even(2))
        .await?;
    rec.fault("split shard 0 into 2 and 3".into());
    tokio::time::sleep(Duration::from_millis(rng.gen_range(300..800))).await;
    c.merge_shard(PROJECT, LOGSTORE, 3).await?;
    rec.fault("merged shards 3 and 1 into 4".into());
    worker_run(&rec, &server, writer, p.logs, vec![a, b]).await
}

fn ordered(mut c: sls_client::ConsumerConfig) -> sls_client::ConsumerConfig {
    c.ordered = true;
    c
}

/// Clock jumps on the emulator: forward past the group timeout (every consumer expires at once,
/// the group rebalances) and back. Claims at-least-once and per-shard order.
pub async fn clock_jump(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 4).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(p.crashes as f64 * 0.7));
    let a = start_worker(&c, &rec, worker_config("a", Duration::from_millis(200))).await?;
    let b = start_worker(&c, &rec, worker_config("b", Duration::from_millis(200))).await?;
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1000))).await;
        let secs: i64 = if k % 3 == 2 {
            -rng.gen_range(2..30)
        } else {
            rng.gen_range(2..120)
        };
        server.clock().advance_secs(secs);
        rec.fault(format!("emulator clock jumps {secs:+} s"));
    }
    worker_run(&rec, &server, writer, p.logs, vec![a, b]).await
}

/// The emulator process killed with SIGKILL and restarted on the same data folder at seeded
/// moments while our producer writes and our worker reads. Claims: no acknowledged log lost
/// (the emulator fsyncs before answering), every log processed, per-shard order.
pub async fn emulator_kill9(rec: Rec, p: Params) -> Res<Run> {
    let dir = crate::support::scratch("kill9")?;
    let data = dir.path().join("data");
    // Built on demand: `cargo test -p sls-e2e` alone does not build the emulator binary.
    let binary = tokio::task::spawn_blocking(build_emulator_binary).await??;
    let options = EmulatorOptions {
        binary: Some(binary),
        ..EmulatorOptions::new(&data)
    };
    let (id, secret) = (
        options.access_key_id.clone(),
        options.access_key_secret.clone(),
    );
    let emu = tokio::task::spawn_blocking(move || EmulatorProcess::spawn(options)).await??;
    let c = client_for(&emu.endpoint(), emu.addr(), &id, &secret)?;
    create_logstore(&c, 4).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let writer = spawn_writer(&rec, &c, p.logs, p.pace(p.crashes as f64 * 1.5));
    let w = start_worker(&c, &rec, worker_config("a", Duration::from_millis(200))).await?;
    let mut emu = emu;
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1200))).await;
        rec.fault(format!("emulator kill -9 #{}", k + 1));
        emu = tokio::task::spawn_blocking(move || -> Res<EmulatorProcess> {
            emu.kill9_and_restart()?;
            Ok(emu)
        })
        .await??;
        rec.fault(format!("emulator restarted #{}", k + 1));
    }
    drain(&rec, writer, p.logs, 120, vec![w]).await?;
    emu = tokio::task::spawn_blocking(move || -> Res<EmulatorProcess> {
        emu.stop()?;
        Ok(emu)
    })
    .await??;
    drop(emu);
    let store = sls_emulator::storage::Store::open(&data, sls_emulator::config::Durability::Fsync)?;
    let h = with_ground_truth(&rec, &store, &[])?;
    Ok(Run {
        history: h,
        expect: holds(OUR_PRODUCER, &[Guarantee::AtLeastOnce])
            .into_iter()
            .chain(holds(OUR_WORKER, &[Guarantee::Order]))
            .collect(),
    })
}

/// The fault behind the Python L2 bug, against our worker: PullLogs on shard 0 answers
/// `InvalidCursor` once while a backlog waits. Ours falls back to the checkpoint (or the start
/// position), never to the end. Claims at-least-once.
pub async fn worker_invalid_cursor(rec: Rec, p: Params) -> Res<Run> {
    let (server, c) = start(p.seed, 2).await?;
    writers::ours(
        rec.clone(),
        c.clone(),
        "backlog".into(),
        p.logs / 2,
        Duration::ZERO,
    )
    .await?;
    server.faults().add(invalid_cursor_once())?;
    rec.fault("PullLogs on shard 0 will answer InvalidCursor once".into());
    let w = start_worker(&c, &rec, worker_config("a", Duration::from_millis(200))).await?;
    writers::ours(
        rec.clone(),
        c.clone(),
        "later".into(),
        p.logs / 2,
        Duration::ZERO,
    )
    .await?;
    let n = p.logs / 2 * 2;
    until("every log processed", 60, || {
        Ok(distinct_consumed(&rec) >= n)
    })
    .await?;
    w.shutdown().await;
    Ok(Run {
        history: finish(&rec, &server)?,
        expect: holds(OUR_WORKER, &[Guarantee::AtLeastOnce, Guarantee::Order]),
    })
}

/// The rule of the L2 scenarios: the first PullLogs on shard 0 fails with 400 InvalidCursor.
pub fn invalid_cursor_once() -> Rule {
    invalid_cursor(When::Nth(1), None)
}

/// The fault behind the Python S1 bug, against our worker: an ordered group whose shard 1 is
/// split before it ever held data; its children must still be consumed. Claims at-least-once
/// and order.
pub async fn worker_empty_readonly_shard(rec: Rec, p: Params) -> Res<Run> {
    rec.with(|h| h.ordered = true);
    let (server, c) = start(p.seed, 2).await?;
    c.split_shard(PROJECT, LOGSTORE, 1, SplitAt::Even(2))
        .await?;
    rec.fault("split empty shard 1 into 2 and 3".into());
    let w = start_worker(
        &c,
        &rec,
        ordered(worker_config("a", Duration::from_millis(200))),
    )
    .await?;
    writers::ours(rec.clone(), c.clone(), "log".into(), p.logs, Duration::ZERO).await?;
    let n = p.logs;
    until("every log processed", 60, || {
        Ok(distinct_consumed(&rec) >= n)
    })
    .await?;
    w.shutdown().await;
    Ok(Run {
        history: finish(&rec, &server)?,
        expect: holds(OUR_WORKER, &[Guarantee::AtLeastOnce, Guarantee::Order]),
    })
}
