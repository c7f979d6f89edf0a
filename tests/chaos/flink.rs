//! Scenarios for the official Flink connector (`flink-log-connector` 0.1.33, the newest Maven
//! Central serves) in a Flink 1.20 MiniCluster job of its own JVM (`tests/java/flink`): the
//! legacy `FlinkLogConsumer` reads the scenario's logstore, with EXACTLY_ONCE checkpoints
//! retained on disk, into one of three sinks:
//!
//! - a two-phase-commit sink into a throwaway PostgreSQL (one transaction per checkpoint,
//!   `PREPARE TRANSACTION` at the barrier, `COMMIT PREPARED` once the checkpoint completes);
//! - SLS itself by PutLogs with sequence ids (idempotent writes), keyed by source shard;
//! - the connector's own `FlinkLogProducer`.
//!
//! The sink's committed rows (or the sink logstore) are what the checker sees as "consumed":
//! exactly-once means every stored source log is in the sink once. Known bugs of
//! JAVA-GO-FLINK.md §5 are named scenarios with their own signatures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sls_client::{Client, LogstoreSpec, SplitAt};
use sls_e2e::flink::{
    FlinkJob, JobOptions, Sink, FLINK_IDEMPOTENT, FLINK_KEYED, FLINK_PG, FLINK_PRODUCER,
    FLINK_SOURCE,
};
use sls_e2e::history::{ConsumeEvent, History, StoredLog};
use sls_e2e::postgres::Postgres;
use sls_emulator::clock::Clock as _;
use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;

use crate::official::{finish, never_processed, signature};
use crate::registry::{scenario, Scenario};
use crate::support::{
    error, holds, id_of, read_logstore, rule, start, stored_ids, until, Expect, Guarantee, Params,
    Rec, Res, Run, Target, LOGSTORE, PROJECT,
};
use crate::writers;

/// This file's scenarios, in the order the ci profile runs them.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        "flink-pg-task-failures",
        "Flink FlinkLogConsumer -> PostgreSQL 2PC: task failures at seeded moments, read faults",
        2_000,
        pg_task_failures
    ),
    scenario!(
        "flink-pg-jvm-kill9",
        "Flink -> PostgreSQL 2PC: the JVM killed -9 and restored from its retained checkpoint",
        2_000,
        pg_jvm_kill9
    ),
    scenario!(
        "flink-pg-restart",
        "Flink -> PostgreSQL 2PC: PostgreSQL restarted between PREPARE and COMMIT PREPARED",
        2_000,
        pg_restart
    ),
    scenario!(
        "flink-pg-split-merge",
        "Flink -> PostgreSQL 2PC: a source shard split and two merged mid-stream",
        2_000,
        pg_split_merge
    ),
    scenario!(
        "flink-idempotent-sls",
        "Flink -> SLS by PutLogs with seqid: lost answers, resets, 503s, task failures, kill -9",
        2_000,
        idempotent
    ),
    scenario!(
        "flink-sls-without-seqid",
        "control for flink-idempotent-sls: the same run with no seqid stores every replay again",
        2_000,
        without_seqid
    ),
    scenario!(
        "flink-producer-sink",
        "Flink -> the connector's FlinkLogProducer: sink 503s and latency, task failures",
        2_000,
        producer_sink
    ),
    scenario!(
        "flink-producer-drops-failed-writes",
        "known bug: FlinkLogProducer drops writes that failed for good; the checkpoint completes",
        1_000,
        producer_drops_failed_writes
    ),
    scenario!(
        "flink-invalid-cursor-restart-loop",
        "known bug: a restored cursor whose data expired restart-loops the job on InvalidCursor",
        1_000,
        invalid_cursor_restart_loop
    ),
    scenario!(
        "flink-cg-commit-before-checkpoint",
        "known bug: the legacy source commits the consumer group before the checkpoint completes",
        1_000,
        cg_commit_before_checkpoint
    ),
    scenario!(
        "flink-end-start-split-child",
        "known bug: END start skips what a split child got before the next shard discovery",
        900,
        end_start_split_child
    ),
];

/// The logstore the SLS sinks write to.
const SINK: &str = "sink";
/// The PostgreSQL database of a run.
const DB: &str = "flink";

/// Where a run's job writes, and how to read back what it committed.
enum Out {
    Postgres(Postgres),
    /// PutLogs by source shard key, with sequence ids (or without: the control).
    Keyed {
        seqid: bool,
    },
    Producer,
}

impl Out {
    async fn postgres() -> Res<Out> {
        let pg = Postgres::start()?;
        pg.create_database(DB).await?;
        Ok(Out::Postgres(pg))
    }

    fn sink(&self) -> Sink {
        match self {
            Out::Postgres(pg) => Sink::Postgres {
                jdbc_url: pg.jdbc_url(DB),
            },
            Out::Keyed { seqid } => Sink::Idempotent {
                logstore: SINK.into(),
                seqid: *seqid,
            },
            Out::Producer => Sink::Producer {
                logstore: SINK.into(),
            },
        }
    }

    fn pg(&self) -> Res<&Postgres> {
        match self {
            Out::Postgres(pg) => Ok(pg),
            _ => Err("this run has no PostgreSQL sink".into()),
        }
    }

    /// What the sink holds: (id, source shard) in the order it was written (PostgreSQL: the
    /// rows' insertion order, committed rows only; SLS: per sink shard, stored order).
    async fn rows(&self, server: &TestServer) -> Res<Vec<(String, u32)>> {
        match self {
            Out::Postgres(pg) => {
                let c = pg.connect(DB).await?;
                let exists = c
                    .query_opt("SELECT to_regclass('sink_rows')::text", &[])
                    .await?
                    .and_then(|r| r.get::<_, Option<String>>(0));
                if exists.is_none() {
                    return Ok(Vec::new());
                }
                let rows = c
                    .query("SELECT id, src_shard FROM sink_rows ORDER BY seq", &[])
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1) as u32))
                    .collect())
            }
            Out::Keyed { .. } | Out::Producer => {
                let (_, stored) = read_logstore(server.store(), SINK)?;
                Ok(stored
                    .iter()
                    .map(|s| {
                        let shard = s
                            .log
                            .contents
                            .iter()
                            .find(|c| c.key.as_ref() == b"src_shard")
                            .and_then(|c| std::str::from_utf8(&c.value).ok()?.parse().ok())
                            .unwrap_or(u32::MAX);
                        (id_of(&s.log), shard)
                    })
                    .collect())
            }
        }
    }

    /// Distinct ids the sink holds.
    async fn distinct(&self, server: &TestServer) -> usize {
        self.rows(server)
            .await
            .map(|r| {
                r.into_iter()
                    .map(|(id, _)| id)
                    .collect::<BTreeSet<_>>()
                    .len()
            })
            .unwrap_or(0)
    }
}

/// The logstore the SLS sinks write to, 2 shards.
async fn create_sink_logstore(c: &Client) -> Res<()> {
    c.create_logstore(PROJECT, &LogstoreSpec::new(SINK, 2))
        .await?;
    Ok(())
}

/// A scenario's source: the emulator, a `shards`-shard logstore, and our producer writing
/// `n` ids paced over about `secs`.
async fn source(
    rec: &Rec,
    p: &Params,
    shards: u32,
    prefix: &str,
    n: usize,
    secs: f64,
) -> Res<Source> {
    let (server, c) = start(p.seed, shards).await?;
    let writer = spawn_writer(rec, &c, prefix, n, secs);
    Ok(Source {
        server,
        c,
        writer: Some(writer),
    })
}

fn spawn_writer(
    rec: &Rec,
    c: &Client,
    prefix: &str,
    n: usize,
    secs: f64,
) -> tokio::task::JoinHandle<Res<()>> {
    let pace = Duration::from_secs_f64(secs / (n / 10).max(1) as f64);
    tokio::spawn(writers::ours(
        rec.clone(),
        c.clone(),
        prefix.into(),
        n,
        pace,
    ))
}

struct Source {
    server: TestServer,
    c: Client,
    writer: Option<tokio::task::JoinHandle<Res<()>>>,
}

impl Source {
    fn job(&self) -> Res<FlinkJob> {
        FlinkJob::new(Target::of(&self.server), PROJECT, LOGSTORE)
    }

    async fn writes_done(&mut self) -> Res<()> {
        if let Some(w) = self.writer.take() {
            w.await??;
        }
        Ok(())
    }
}

/// Waits for the writer, then until the sink holds every stored source log, or `secs` pass, or
/// the sink gains nothing for 10 s (a job that lost logs never completes); then two more
/// seconds (a duplicate would land then), and stops the job. Neither end is an error: the
/// checker judges what happened.
async fn drain(rec: &Rec, src: &mut Source, job: &mut FlinkJob, out: &Out, secs: u64) -> Res<()> {
    src.writes_done().await?;
    let stored = stored_ids(src.server.store()).len();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut last, mut since) = (usize::MAX, Instant::now());
    while Instant::now() < deadline && since.elapsed() < Duration::from_secs(10) {
        let done = out.distinct(&src.server).await;
        rec.set_external_consumed(done);
        if done >= stored {
            break;
        }
        if done != last {
            (last, since) = (done, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    job.kill9()?;
    Ok(())
}

/// The history: the sink's rows as consume events (in write order), the job's events as notes,
/// and the source's ground truth.
async fn history(rec: &Rec, src: &Source, out: &Out, jobs: &[&FlinkJob]) -> Res<History> {
    let rows = out.rows(&src.server).await?;
    let t = rec.ms();
    rec.with(|h| {
        h.consumed
            .extend(rows.into_iter().map(|(id, shard)| ConsumeEvent {
                consumer: "flink-sink".into(),
                shard,
                id,
                cursor: -1,
                time_ms: t,
            }))
    });
    for job in jobs {
        for e in job.events() {
            let name = e["event"].as_str().unwrap_or_default();
            if matches!(
                name,
                "started" | "task_failure" | "halt" | "job_failed" | "commit_failed"
            ) {
                let at_ms = (e["at"].as_f64().unwrap_or(0.0) * 1000.0) as i64 - rec.epoch_ms;
                rec.with(|h| {
                    h.faults.push(sls_e2e::history::FaultEvent {
                        time_ms: at_ms,
                        description: format!("flink: {e}"),
                    })
                });
            }
        }
    }
    finish(rec, &src.server, None)
}

fn events_named<'a>(events: &'a [Value], name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events.iter().filter(move |e| e["event"] == name)
}

/// Seeded task-failure points: `k` attempts, each failing after 30..`most` logs of its own.
fn failure_points(rng: &mut StdRng, k: usize, most: u64) -> Vec<u64> {
    (0..k).map(|_| rng.gen_range(30..most.max(31))).collect()
}

fn requires(what: &str, ok: bool, job: &FlinkJob) -> Res<()> {
    if ok {
        return Ok(());
    }
    let events: Vec<String> = job
        .events()
        .iter()
        .filter(|e| !matches!(e["event"].as_str(), Some("prepared" | "committed")))
        .map(Value::to_string)
        .collect();
    Err(format!(
        "{what}\n--- job events (without prepared/committed) ---\n{}\n--- job log tail ---\n{}",
        events.join("\n"),
        job.log_tail(30)
    )
    .into())
}

/// Transient emulator faults on the source's reads: 503, 500, latency, cut connections.
fn add_read_faults(server: &TestServer) -> Res<()> {
    crate::support::add_random_faults(
        server,
        Api::PullLogs,
        [
            ("pull-busy", 0.05, error(503, "ServerBusy")),
            ("pull-500", 0.03, error(500, "InternalServerError")),
            ("pull-slow", 0.1, Action::Latency { millis: 200 }),
            ("pull-reset", 0.02, Action::Drop),
        ],
    )?;
    crate::support::add_random_faults(
        server,
        Api::GetCursor,
        [("cursor-busy", 0.1, error(503, "ServerBusy"))],
    )?;
    Ok(())
}

/// Faults on writes into the sink logstore only.
fn sink_write_rule(id: &str, when: When, action: Action, times: Option<u64>) -> Rule {
    Rule {
        id: id.into(),
        matcher: Matcher {
            api: Some(Api::PostLogStoreLogs),
            logstore: Some(SINK.into()),
            ..Matcher::default()
        },
        when,
        action,
        times,
    }
}

/// A known bug's run: `matches` is its signature (over `missing`, the logs never processed, and
/// whatever else the scenario saw); at-least-once must break.
fn reproduced(
    h: History,
    library: &'static str,
    bug: &'static str,
    matches: bool,
    missing: &BTreeMap<String, u32>,
) -> Res<Run> {
    signature(bug, matches, missing)?;
    Ok(Run {
        history: h,
        expect: vec![Expect::Breaks {
            verdict: Guarantee::AtLeastOnce,
            library,
            bug,
        }],
    })
}

fn exactly_once(library: &'static str) -> Vec<Expect> {
    holds(
        library,
        &[
            Guarantee::AtLeastOnce,
            Guarantee::ExactlyOnce,
            Guarantee::Order,
        ],
    )
}

/// Task failures at seeded moments (the job restarts from its last completed checkpoint) while
/// the emulator answers reads with 503/500, latency and cut connections, and one PullLogs on
/// shard 0 with `InvalidCursor` (the connector throws it: one more restart, from a cursor that
/// is valid again). PostgreSQL sink.
pub async fn pg_task_failures(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(&rec, &p, 4, "log", p.logs, p.crashes as f64 * 3.0).await?;
    // First, so that no random fault takes its turn.
    let nth = rng.gen_range(5..15);
    src.server
        .faults()
        .add(crate::support::invalid_cursor(When::Nth(nth), Some(1)))?;
    add_read_faults(&src.server)?;
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.fail_after = failure_points(&mut rng, p.crashes, (p.logs / (2 * (p.crashes + 1))) as u64);
    rec.fault(format!(
        "task failures after {:?} logs of subtask 0",
        o.fail_after
    ));
    let mut job = src.job()?;
    job.start(&o)?;
    drain(&rec, &mut src, &mut job, &out, 120).await?;
    let failures = job.count("task_failure");
    let invalid = src
        .server
        .faults()
        .journal()
        .iter()
        .any(|j| j.rule == "invalid-cursor");
    requires(
        &format!(
            "{failures} of {} injected task failures fired; InvalidCursor fired: {invalid}",
            o.fail_after.len()
        ),
        failures == o.fail_after.len() && invalid,
        &job,
    )?;
    Ok(Run {
        history: history(&rec, &src, &out, &[&job]).await?,
        expect: exactly_once(FLINK_PG),
    })
}

/// The whole JVM killed with SIGKILL at seeded moments and restarted from its newest retained
/// checkpoint, a seeded task-failure point in each JVM's life (it fires if that JVM reads that
/// far), read faults; the connector also commits to a
/// consumer group, whose answers are lost after the commit now and then. PostgreSQL sink.
pub async fn pg_jvm_kill9(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(&rec, &p, 4, "log", p.logs, p.crashes as f64 * 6.0).await?;
    src.server.faults().add(rule(
        "checkpoint-answer-lost",
        Api::UpdateCheckPoint,
        When::Probability(0.3),
        Action::CommitThenError,
    ))?;
    add_read_faults(&src.server)?;
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.consumer_group = Some("flink-cg".into());
    let most = (p.logs / (4 * (p.crashes + 1))) as u64;
    o.fail_after = failure_points(&mut rng, 1, most);
    let mut job = src.job()?;
    job.start(&o)?;
    for k in 0..p.crashes {
        // Each JVM lives until it has committed a transaction of its own, then a seeded while.
        let committed = job.count("committed");
        until("a commit by the new JVM", 120, || {
            Ok(job.count("committed") > committed)
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(500..3000))).await;
        job.kill9()?;
        rec.fault(format!("JVM kill -9 #{}", k + 1));
        o.fail_after = failure_points(&mut rng, 1, most);
        job.start(&o)?;
    }
    drain(&rec, &mut src, &mut job, &out, 120).await?;
    let restored = job
        .events()
        .iter()
        .filter(|e| e["event"] == "started" && !e["restored_from"].is_null())
        .count();
    requires(
        &format!(
            "only {restored} of {} JVM restarts resumed from a checkpoint",
            p.crashes
        ),
        restored == p.crashes,
        &job,
    )?;
    Ok(Run {
        history: history(&rec, &src, &out, &[&job]).await?,
        expect: exactly_once(FLINK_PG),
    })
}

/// PostgreSQL crashed between a transaction's PREPARE and its COMMIT PREPARED: the harness
/// waits for a fresh `prepared` event and crashes the server (down for 800 ms) while the sink
/// holds its commit for 300 ms. The commit fails, the job restarts and commits the prepared
/// transaction from its restored state. Checked: restarts fell inside such windows, and
/// commits failed.
pub async fn pg_restart(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(&rec, &p, 4, "log", p.logs, p.crashes as f64 * 4.0).await?;
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.commit_delay_ms = 300;
    let mut job = src.job()?;
    job.start(&o)?;
    let mut restarts = Vec::new();
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1500..3000))).await;
        let seen = job.count("prepared");
        until("a fresh PREPARE", 30, || Ok(job.count("prepared") > seen)).await?;
        let before = crate::support::now_epoch_ms();
        out.pg()?.crash_restart(Duration::from_millis(800)).await?;
        restarts.push(before);
        rec.fault(format!(
            "PostgreSQL crash and restart #{} after a PREPARE",
            k + 1
        ));
    }
    drain(&rec, &mut src, &mut job, &out, 120).await?;
    // A restart "between" = some transaction prepared before it and committed after it.
    let events = job.events();
    let at = |e: &Value| (e["at"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
    let prepared: BTreeMap<&str, i64> = events_named(&events, "prepared")
        .map(|e| (e["xid"].as_str().unwrap_or_default(), at(e)))
        .collect();
    let committed: BTreeMap<&str, i64> = events_named(&events, "committed")
        .map(|e| (e["xid"].as_str().unwrap_or_default(), at(e)))
        .collect();
    let between = restarts
        .iter()
        .filter(|&&t| {
            prepared
                .iter()
                .any(|(x, &p)| p <= t && committed.get(x).is_some_and(|&c| c > t))
        })
        .count();
    rec.fault(format!(
        "{between} of {} PostgreSQL restarts fell between a PREPARE and its COMMIT PREPARED; \
         {} commits failed and were retried after a restore",
        restarts.len(),
        job.count("commit_failed")
    ));
    requires(
        "no PostgreSQL restart fell between a PREPARE and its COMMIT PREPARED, or no commit failed",
        between > 0 && job.count("commit_failed") > 0,
        &job,
    )?;
    Ok(Run {
        history: history(&rec, &src, &out, &[&job]).await?,
        expect: exactly_once(FLINK_PG),
    })
}

/// A source shard split and two merged mid-stream (the connector discovers the children every
/// second), plus a task failure. PostgreSQL sink.
pub async fn pg_split_merge(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(&rec, &p, 2, "log", p.logs, 6.0).await?;
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.fail_after = failure_points(&mut rng, 1, (p.logs / 4) as u64);
    let mut job = src.job()?;
    job.start(&o)?;
    tokio::time::sleep(Duration::from_millis(rng.gen_range(1500..2500))).await;
    src.c
        .split_shard(PROJECT, LOGSTORE, 0, SplitAt::Even(2))
        .await?;
    rec.fault("split shard 0 into 2 and 3".into());
    tokio::time::sleep(Duration::from_millis(rng.gen_range(1500..2500))).await;
    src.c.merge_shard(PROJECT, LOGSTORE, 3).await?;
    rec.fault("merged shards 3 and 1 into 4".into());
    drain(&rec, &mut src, &mut job, &out, 120).await?;
    Ok(Run {
        history: history(&rec, &src, &out, &[&job]).await?,
        expect: exactly_once(FLINK_PG),
    })
}

/// Exactly-once into SLS by idempotent writes: each source shard's LogGroups go, one PutLogs
/// each, to one hash key, numbered in Flink state. The sink's PutLogs answers are lost after the
/// commit (500, reset) or refused with 503 now and then; task failures and a JVM kill -9 replay
/// groups. Replayed groups that were stored must be refused by the emulator (`seqid_rejected`),
/// and the sink logstore must hold each source log once.
pub async fn idempotent(rec: Rec, p: Params) -> Res<Run> {
    let (src, job) = keyed_sink_run(&rec, p, true).await?;
    let rejected = job.count("seqid_rejected");
    rec.fault(format!("{rejected} replayed groups refused by sequence id"));
    requires(
        "no write was refused by its sequence id: nothing proved idempotence",
        rejected > 0,
        &job,
    )?;
    Ok(Run {
        history: history(&rec, &src, &Out::Keyed { seqid: true }, &[&job]).await?,
        expect: exactly_once(FLINK_IDEMPOTENT),
    })
}

/// The control for [`idempotent`]: the same job, faults and seed, with no sequence ids. The
/// replays must show up as duplicates in the sink (exactly-once broken, at-least-once held).
pub async fn without_seqid(rec: Rec, p: Params) -> Res<Run> {
    let (src, job) = keyed_sink_run(&rec, p, false).await?;
    Ok(Run {
        history: history(&rec, &src, &Out::Keyed { seqid: false }, &[&job]).await?,
        expect: vec![
            Expect::Holds {
                verdict: Guarantee::AtLeastOnce,
                library: FLINK_KEYED,
            },
            Expect::Breaks {
                verdict: Guarantee::ExactlyOnce,
                library: FLINK_KEYED,
                bug: "control: without sequence ids every replay is stored again",
            },
        ],
    })
}

/// The run of [`idempotent`] and [`without_seqid`], up to a stopped job.
async fn keyed_sink_run(rec: &Rec, p: Params, seqid: bool) -> Res<(Source, FlinkJob)> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(rec, &p, 4, "log", p.logs, p.crashes as f64 * 4.0).await?;
    create_sink_logstore(&src.c).await?;
    let out = Out::Keyed { seqid };
    let faults = src.server.faults();
    faults.add(sink_write_rule(
        "sink-answer-lost",
        When::Probability(0.05),
        Action::CommitThenError,
        None,
    ))?;
    faults.add(sink_write_rule(
        "sink-reset",
        When::Probability(0.02),
        Action::CommitThenReset,
        None,
    ))?;
    faults.add(sink_write_rule(
        "sink-busy",
        When::Probability(0.03),
        error(503, "ServerBusy"),
        None,
    ))?;
    let mut o = JobOptions::new(out.sink());
    o.fail_after = failure_points(&mut rng, p.crashes, (p.logs / (2 * (p.crashes + 1))) as u64);
    let mut job = src.job()?;
    job.start(&o)?;
    tokio::time::sleep(Duration::from_millis(rng.gen_range(4000..7000))).await;
    job.kill9()?;
    rec.fault("JVM kill -9".into());
    o.fail_after.clear();
    job.start(&o)?;
    drain(rec, &mut src, &mut job, &out, 120).await?;
    Ok((src, job))
}

/// The connector's own sink (`FlinkLogProducer`), judged by what it claims (at-least-once):
/// the sink's writes meet 503s and latency (retried by the connector), the job has task
/// failures.
pub async fn producer_sink(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut src = source(&rec, &p, 4, "log", p.logs, p.crashes as f64 * 3.0).await?;
    create_sink_logstore(&src.c).await?;
    let out = Out::Producer;
    src.server.faults().add(sink_write_rule(
        "sink-busy",
        When::Probability(0.1),
        error(503, "ServerBusy"),
        None,
    ))?;
    src.server.faults().add(sink_write_rule(
        "sink-slow",
        When::Probability(0.2),
        Action::Latency { millis: 200 },
        None,
    ))?;
    let mut o = JobOptions::new(out.sink());
    o.fail_after = failure_points(&mut rng, p.crashes, (p.logs / (2 * (p.crashes + 1))) as u64);
    let mut job = src.job()?;
    job.start(&o)?;
    drain(&rec, &mut src, &mut job, &out, 120).await?;
    Ok(Run {
        history: history(&rec, &src, &out, &[&job]).await?,
        expect: holds(FLINK_PRODUCER, &[Guarantee::AtLeastOnce]),
    })
}

/// Known bug (JAVA-GO-FLINK.md §5.6, as 0.1.33 has it): `FlinkLogProducer` drops a write that
/// fails for good (here 400 on three sink writes: the connector never retries a 400) and its
/// checkpoint completes past it; no task fails. Signature: logs are missing from the sink, the
/// connector logged the failed write, and the job never restarted.
pub async fn producer_drops_failed_writes(rec: Rec, p: Params) -> Res<Run> {
    let mut src = source(&rec, &p, 4, "log", p.logs, 4.0).await?;
    create_sink_logstore(&src.c).await?;
    let out = Out::Producer;
    src.server.faults().add(sink_write_rule(
        "sink-refused",
        When::EveryKth(5),
        error(400, "ParameterInvalid"),
        Some(3),
    ))?;
    let o = JobOptions::new(out.sink());
    let mut job = src.job()?;
    job.start(&o)?;
    drain(&rec, &mut src, &mut job, &out, 40).await?;
    let restarts = job
        .events()
        .iter()
        .filter(|e| e["event"] == "task_start" && e["attempt"].as_u64() != Some(0))
        .count();
    let h = history(&rec, &src, &out, &[&job]).await?;
    let missing = never_processed(&h);
    reproduced(
        h,
        FLINK_PRODUCER,
        "§5.6 a failed write is dropped and the checkpoint completes past it",
        !missing.is_empty() && restarts == 0 && job.log().contains("Error putting data"),
        &missing,
    )
}

/// Known bug (§5.3): a cursor restored from Flink state that is no longer valid (its data
/// expired by ttl while the job was down) makes PullLogs answer 400 `InvalidCursor`, which the
/// connector throws; every restart restores the same cursor, so the job loops and never reads
/// the logs written since. Signature: after the restore, at least three task attempts, each
/// restoring the same cursors, all below their shard's first stored log.
pub async fn invalid_cursor_restart_loop(rec: Rec, p: Params) -> Res<Run> {
    let half = p.logs / 2;
    let mut src = source(&rec, &p, 2, "old", half, 8.0).await?;
    let out = Out::postgres().await?;
    let o = JobOptions::new(out.sink());
    let mut job = src.job()?;
    job.start(&o)?;
    // Kill the job mid-stream, once a checkpoint has committed some rows: its retained cursors
    // then point inside the data that is about to expire.
    until("the first committed rows", 60, || {
        Ok(job.count("committed") > 0)
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    job.kill9()?;
    let before = out.distinct(&src.server).await;
    rec.fault(format!(
        "JVM kill -9 with {before} of {half} logs in the sink (job down)"
    ));
    src.writes_done().await?;
    let (_, before_expiry) = read_logstore(src.server.store(), LOGSTORE)?;
    let expired_logs: Vec<StoredLog> = before_expiry
        .iter()
        .map(|s| s.as_history(rec.epoch_ms))
        .collect();
    // Everything stored so far expires: the restored cursors now point below each shard's start.
    let later = src.server.clock().now_secs() + 40 * 86_400;
    let expired = src.server.store().expire(later)?;
    rec.fault(format!("ttl expiry removed {expired} log groups"));
    src.writer = Some(spawn_writer(&rec, &src.c, "new", half, 1.0));
    src.writes_done().await?;
    let started = job.events().len();
    job.start(&o)?;
    rec.fault("job restarted from its retained checkpoint".into());
    let deadline = Instant::now() + Duration::from_secs(40);
    let attempts = |job: &FlinkJob| {
        job.events()[started..]
            .iter()
            .filter(|e| e["event"] == "task_start" && e["subtask"] == 0)
            .count()
    };
    while attempts(&job) < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    job.kill9()?;
    let log = job.log();
    // "Restored cursor from Flink state: <cursor>, shard: <id>", once per shard and attempt.
    let restored: Vec<(&str, u32)> = log
        .lines()
        .filter_map(|l| l.split("Restored cursor from Flink state: ").nth(1))
        .filter_map(|r| {
            let (cursor, shard) = r.split_once(", shard: ")?;
            Some((cursor, shard.trim().parse().ok()?))
        })
        .collect();
    let mut per_cursor: BTreeMap<(&str, u32), usize> = BTreeMap::new();
    for r in &restored {
        *per_cursor.entry(*r).or_default() += 1;
    }
    let looped = per_cursor.values().copied().max().unwrap_or(0);
    // Each restored cursor is below its shard's first stored log: PullLogs answers InvalidCursor.
    let ls = src.server.store().logstore(PROJECT, LOGSTORE)?;
    let expired_cursors = per_cursor.keys().all(|(cursor, shard)| {
        let begin = ls
            .shards()
            .into_iter()
            .find(|s| s.id.get() == *shard)
            .map(|s| s.cursor_of(s.begin_seq()));
        let at = sls_protocol::types::Cursor::parse(cursor).ok();
        matches!((at, begin), (Some(a), Some(b)) if a < b)
    });
    rec.fault(format!(
        "{} task attempts after the restore; the same cursor restored up to {looped} times",
        attempts(&job)
    ));
    let mut h = history(&rec, &src, &out, &[&job]).await?;
    // The expired logs were stored: put them back in the ground truth (the job, down past the
    // ttl, never read some of them either).
    h.stored.extend(expired_logs);
    let missing: BTreeMap<String, u32> = never_processed(&h)
        .into_iter()
        .filter(|(id, _)| id.starts_with("new-"))
        .collect();
    reproduced(
        h,
        FLINK_SOURCE,
        "§5.3 restart loop on an InvalidCursor restored from state",
        attempts(&job) >= 3 && looped >= 3 && expired_cursors,
        &missing,
    )
}

/// Known bug (§5.9): the legacy consumer commits its cursors to the consumer group inside
/// `snapshotState`, before the checkpoint completes. The JVM dies while the PostgreSQL sink
/// prepares for checkpoint K (after the source's snapshot and commit); a fresh job then starts
/// from the consumer group (`consumer_from_checkpoint`), as a redeployed job without Flink
/// state does. Signature: the logs missing from PostgreSQL all lie below the group's
/// checkpoint of their shard (the group said they were done; their transaction never
/// committed).
pub async fn cg_commit_before_checkpoint(rec: Rec, p: Params) -> Res<Run> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    // Logs keep arriving until well after the halt, so its transaction holds some.
    let mut src = source(&rec, &p, 2, "log", p.logs, 15.0).await?;
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.consumer_group = Some("flink-cg".into());
    o.checkpoint_mode = Some("ON_CHECKPOINTS".into());
    o.halt_at_checkpoint = Some(rng.gen_range(4..8));
    let mut first = src.job()?;
    first.start(&o)?;
    until("the JVM to halt", 60, || Ok(!first.is_running())).await?;
    requires(
        "the JVM did not halt at its checkpoint",
        first.count("halt") > 0,
        &first,
    )?;
    rec.fault(format!(
        "JVM halted preparing checkpoint {:?}",
        o.halt_at_checkpoint
    ));
    let group: BTreeMap<u32, i64> = src
        .c
        .get_checkpoints(PROJECT, LOGSTORE, "flink-cg", None)
        .await?
        .into_iter()
        .filter_map(|c| {
            Some((
                c.shard.get(),
                sls_protocol::cursor::decode_cursor(&c.checkpoint).ok()?,
            ))
        })
        .collect();
    rec.fault(format!(
        "consumer group checkpoints after the halt: {group:?}"
    ));
    let mut second = src.job()?;
    let mut o2 = JobOptions::new(out.sink());
    o2.consumer_group = Some("flink-cg".into());
    o2.start = "consumer_from_checkpoint".into();
    o2.restore = false;
    second.start(&o2)?;
    rec.fault("a fresh job starts from the consumer group's checkpoints".into());
    drain(&rec, &mut src, &mut second, &out, 60).await?;
    let h = history(&rec, &src, &out, &[&first, &second]).await?;
    let missing = never_processed(&h);
    let below_group = h
        .stored
        .iter()
        .filter(|s| missing.contains_key(&s.id))
        .all(|s| group.get(&s.shard).is_some_and(|&g| s.seq < g));
    reproduced(
        h,
        FLINK_SOURCE,
        "§5.9 the consumer group is committed before the Flink checkpoint completes",
        !missing.is_empty() && below_group,
        &missing,
    )
}

/// Known bug (§5.8): with `end_cursor`, shards found by discovery start at their END. A shard
/// is split while logs keep arriving; whatever lands in the children before the connector's
/// next discovery (every 5 s here, 60 s by default) is skipped. Signature: the missing logs are
/// all in the children, and some logs in the children were delivered (those written after
/// discovery).
pub async fn end_start_split_child(rec: Rec, p: Params) -> Res<Run> {
    let third = p.logs / 3;
    let (server, c) = start(p.seed, 2).await?;
    let mut src = Source {
        server,
        c,
        writer: None,
    };
    let out = Out::postgres().await?;
    let mut o = JobOptions::new(out.sink());
    o.start = "end_cursor".into();
    o.discovery_ms = 5000;
    let mut job = src.job()?;
    job.start(&o)?;
    // Wait until the job reads (both subtasks started), so the END cursors are taken.
    until("both subtasks started", 60, || {
        Ok(job.count("task_start") >= 2)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    src.writer = Some(spawn_writer(&rec, &src.c, "before", third, 1.0));
    src.writes_done().await?;
    src.c
        .split_shard(PROJECT, LOGSTORE, 0, SplitAt::Even(2))
        .await?;
    rec.fault("split shard 0 into 2 and 3".into());
    src.writer = Some(spawn_writer(&rec, &src.c, "early", third, 0.5));
    src.writes_done().await?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    src.writer = Some(spawn_writer(&rec, &src.c, "late", p.logs - 2 * third, 1.0));
    drain(&rec, &mut src, &mut job, &out, 40).await?;
    let h = history(&rec, &src, &out, &[&job]).await?;
    let missing = never_processed(&h);
    let children = [2u32, 3];
    let child_delivered = h.consumed.iter().any(|c| children.contains(&c.shard));
    reproduced(
        h,
        FLINK_SOURCE,
        "§5.8 END start skips what a new child shard got before discovery",
        !missing.is_empty() && missing.values().all(|s| children.contains(s)) && child_delivered,
        &missing,
    )
}
