//! `chaos`: seeded fault scenarios against our client, checked by `sls_e2e::checker`.
//!
//! Each scenario starts an in-process emulator, runs a workload under a seeded fault schedule,
//! records a Jepsen-style history (writes with their outcome, what readers processed, the
//! faults), reads the emulator's committed log as ground truth, and checks the guarantees the
//! client under test claims: the producer at-least-once; the consumer worker at-least-once and
//! per-shard order; the exactly-once pipeline exactly-once. Reports go to
//! `target/tmp/chaos/<scenario>-<seed>/` (report.json, history.json, report.html).
//!
//! It is a test target without libtest (`harness = false`): `cargo test --workspace` runs the
//! `ci` profile; by hand, `cargo test -p sls-e2e --test chaos -- [--profile ci|long] [--seed N]
//! [--scenario NAME]`, or `CHAOS_SEED=N` to replay a run. It ends with a plain
//! `N passed, N failed` line (a scenario passes when every guarantee its client claims holds).
//! Work in progress (issue #6): more scenarios and the official clients as workloads come next.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sls_client::{
    Batch, BatchKey, Client, Config, ConsumerConfig, ExactlyOnce, Log, LogContent, LogstoreSpec,
    Processed, Processor, Producer, ProducerConfig, SledSink, Worker,
};
use sls_e2e::checker::check;
use sls_e2e::history::{ConsumeEvent, FaultEvent, History, Outcome, ShardNode, StoredLog, WriteOp};
use sls_e2e::report::{html, summary, Report};
use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;
use sls_protocol::proto::LogGroup;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser, Debug)]
#[command(about = "Seeded chaos scenarios against sls-emu; prints verdicts, writes JSON and HTML")]
struct Args {
    /// `ci` (bounded, minutes) or `long` (100,000 logs per scenario).
    #[arg(long, default_value = "ci")]
    profile: String,
    /// Seed of every random choice (faults, crash times).
    #[arg(long, env = "CHAOS_SEED", default_value_t = 1)]
    seed: u64,
    /// Run only this scenario (producer-commit-then-500, worker-crash-restart, eo-pipeline).
    #[arg(long)]
    scenario: Option<String>,
    /// Where reports go (default: cargo's temporary folder for this test target).
    #[arg(long, default_value = concat!(env!("CARGO_TARGET_TMPDIR"), "/chaos"))]
    out: PathBuf,
    /// Name filters, as cargo passes them to every test binary: run the scenarios whose name
    /// contains one of them.
    #[arg(hide = true)]
    filters: Vec<String>,
    /// libtest flags cargo may pass; accepted and ignored (except --list and --ignored).
    #[arg(short = 'q', long, hide = true)]
    quiet: bool,
    #[arg(long, hide = true)]
    nocapture: bool,
    #[arg(long, hide = true)]
    show_output: bool,
    #[arg(long, hide = true)]
    exact: bool,
    #[arg(long, hide = true)]
    include_ignored: bool,
    /// Only ignored tests: none here.
    #[arg(long, hide = true)]
    ignored: bool,
    /// List the scenarios instead of running them.
    #[arg(long, hide = true)]
    list: bool,
    #[arg(long, hide = true)]
    test_threads: Option<String>,
    #[arg(long, hide = true)]
    color: Option<String>,
    #[arg(long, hide = true)]
    format: Option<String>,
}

/// The emulator and a client of it.
struct Env {
    server: TestServer,
    c: Client,
    p: String,
}

/// The history being recorded (cheap to clone; shared by workload tasks).
#[derive(Clone)]
struct Rec {
    t0: Instant,
    epoch_ms: i64,
    h: Arc<Mutex<History>>,
}

fn now_epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Rec {
    fn ms(&self) -> i64 {
        self.t0.elapsed().as_millis() as i64
    }

    fn with<T>(&self, f: impl FnOnce(&mut History) -> T) -> T {
        let mut h = self.h.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut h)
    }

    fn fault(&self, description: String) {
        let t = self.ms();
        self.with(|h| {
            h.faults.push(FaultEvent {
                time_ms: t,
                description,
            })
        });
    }
}

async fn setup(scenario: &str, seed: u64, shards: u32) -> Res<(Env, Rec)> {
    let server = TestServer::start().await?;
    let cfg = server.config();
    let c = Client::new(
        Config::new(
            &server.endpoint(),
            &cfg.access_key_id,
            &cfg.access_key_secret,
        )?
        .with_connect_to(server.addr())
        .with_request_timeout(Duration::from_secs(3)),
    )?;
    let p = "chaos-run".to_string();
    c.create_project(&p, "chaos").await?;
    c.create_logstore(&p, &LogstoreSpec::new("ls", shards))
        .await?;
    server.faults().reseed(seed);
    let rec = Rec {
        t0: Instant::now(),
        epoch_ms: now_epoch_ms(),
        h: Arc::new(Mutex::new(History::new(scenario, seed))),
    };
    Ok((Env { server, c, p }, rec))
}

/// The recorded history plus the ground truth: every log the emulator stored, in shard order;
/// shard ancestry; the emulator's fault journal.
fn with_ground_truth(env: &Env, rec: &Rec) -> Res<History> {
    let mut h = rec.with(|h| h.clone());
    let store = env.server.store();
    let ls = store.logstore(&env.p, "ls")?;
    for shard in ls.shards() {
        h.shards.push(ShardNode {
            id: shard.id,
            parents: shard.parents.clone(),
        });
        let batch = store.read(
            &ls,
            &shard,
            shard.begin_seq(),
            u64::MAX,
            usize::MAX,
            usize::MAX,
        )?;
        for g in batch.groups {
            let group = LogGroup::decode(g.bytes.as_ref())?;
            for (position, log) in group.logs.iter().enumerate() {
                h.stored.push(StoredLog {
                    id: id_of(log),
                    shard: shard.id,
                    seq: shard.cursor_of(g.seq),
                    position: position as u32,
                    time_ms: Some(i64::from(g.receive_time) * 1000 - rec.epoch_ms),
                });
            }
        }
    }
    for j in env.server.faults().journal() {
        h.faults.push(FaultEvent {
            time_ms: j.time_ms - rec.epoch_ms,
            description: format!("rule {} on {:?}: {:?}", j.rule, j.info.api, j.action),
        });
    }
    h.faults.sort_by_key(|f| f.time_ms);
    Ok(h)
}

fn log(id: &str) -> Log {
    Log {
        time: Some(1_700_000_000),
        contents: vec![LogContent {
            key: "id".into(),
            value: id.to_string().into(),
        }],
        time_ns: None,
    }
}

fn id_of(log: &Log) -> String {
    log.contents
        .iter()
        .find(|c| c.key.as_ref() == b"id")
        .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        .unwrap_or_default()
}

/// Writes `n` logs with our producer, recording one WriteOp per log.
async fn write(rec: Rec, c: Client, p: String, n: usize) -> Res<()> {
    let config = ProducerConfig {
        linger: Duration::from_millis(5),
        base_backoff: Duration::from_millis(10),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(c, config)?;
    let mut pending = Vec::new();
    for i in 0..n {
        let id = format!("log-{i}");
        let key = BatchKey {
            hash_key: Some(format!("{:02x}", (i * 97) % 256)),
            ..BatchKey::new(&p, "ls")
        };
        let invoke = rec.ms();
        pending.push((id.clone(), invoke, producer.send(&key, log(&id)).await?));
    }
    producer.close().await;
    for (id, invoke_ms, d) in pending {
        let result = d.wait().await;
        let complete_ms = rec.ms();
        let (outcome, error) = match result {
            Ok(()) => (Outcome::Ok, None),
            // A retryable error after the last retry may still have been committed.
            Err(e) if e.is_retryable() => (Outcome::Unknown, Some(e.to_string())),
            Err(e) => (Outcome::Fail, Some(e.to_string())),
        };
        rec.with(|h| {
            h.writes.push(WriteOp {
                writer: "sls-client producer".into(),
                ids: vec![id],
                invoke_ms,
                complete_ms,
                outcome,
                error,
            })
        });
    }
    Ok(())
}

/// What a scenario produced and which verdicts our client claims for it.
type Outcomes = (Report, History, Vec<&'static str>);

/// Producer under lost answers after commit and 503s: claims at-least-once (duplicates are
/// the expected price).
async fn producer_commit_then_500(seed: u64, n: usize) -> Res<Outcomes> {
    let (env, rec) = setup("producer-commit-then-500", seed, 4).await?;
    rec.with(|h| h.consumes = false);
    let m = Matcher {
        api: Some(Api::PostLogStoreLogs),
        ..Matcher::default()
    };
    let faults = env.server.faults();
    faults.add(Rule {
        id: "lost-answer".into(),
        matcher: m.clone(),
        when: When::Probability(0.2),
        action: Action::CommitThenError,
        times: None,
    })?;
    faults.add(Rule {
        id: "busy".into(),
        matcher: m,
        when: When::Probability(0.1),
        action: Action::Error {
            status: 503,
            code: "ServerBusy".into(),
            message: None,
        },
        times: None,
    })?;
    write(rec.clone(), env.c.clone(), env.p.clone(), n).await?;
    faults.clear();
    let h = with_ground_truth(&env, &rec)?;
    Ok((check(&h), h, vec!["at-least-once"]))
}

/// Records what a worker processed.
struct Recorder {
    rec: Rec,
}

impl Processor for Recorder {
    async fn process(&mut self, batch: &Batch) -> Processed {
        let t = self.rec.ms();
        let cursor = sls_protocol::cursor::decode_cursor(&batch.cursor).unwrap_or(0);
        self.rec.with(|h| {
            for g in &batch.groups {
                for l in &g.logs {
                    h.consumed.push(ConsumeEvent {
                        consumer: "chaos-worker".into(),
                        shard: batch.shard,
                        id: id_of(l),
                        cursor,
                        time_ms: t,
                    });
                }
            }
        });
        Processed::Done
    }
}

fn worker_config(p: &str, checkpoint: Duration) -> ConsumerConfig {
    ConsumerConfig {
        heartbeat_interval: Duration::from_millis(100),
        group_timeout: Duration::from_secs(1),
        fetch_interval: Duration::from_millis(10),
        max_fetch_backoff: Duration::from_millis(50),
        batch_count: 20,
        checkpoint_interval: checkpoint,
        ..ConsumerConfig::new(p, "ls", "chaos-group", "chaos-worker")
    }
}

async fn until(what: &str, secs: u64, mut done: impl FnMut() -> Res<bool>) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done()? {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Our consumer worker crashed (aborted) and restarted at seeded times while logs arrive:
/// claims at-least-once and per-shard order.
async fn worker_crash_restart(seed: u64, n: usize, crashes: usize) -> Res<Outcomes> {
    let (env, rec) = setup("worker-crash-restart", seed, 4).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let writer = tokio::spawn(write(rec.clone(), env.c.clone(), env.p.clone(), n));
    let config = worker_config(&env.p, Duration::from_millis(200));
    for k in 0..crashes {
        let r = rec.clone();
        let w = Worker::start(env.c.clone(), config.clone(), move |_| Recorder {
            rec: r.clone(),
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..600))).await;
        w.abort().await;
        rec.fault(format!("worker crash #{}", k + 1));
    }
    let r = rec.clone();
    let w = Worker::start(env.c.clone(), config, move |_| Recorder { rec: r.clone() }).await?;
    writer.await??;
    until("every log consumed", 120, || {
        Ok(rec.with(|h| {
            h.consumed
                .iter()
                .map(|e| e.id.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        }) >= n)
    })
    .await?;
    w.shutdown().await;
    let h = with_ground_truth(&env, &rec)?;
    Ok((check(&h), h, vec!["at-least-once", "order"]))
}

/// The exactly-once pipeline (worker + sled sink) with crashes and lost checkpoint answers:
/// claims exactly-once. Its consume events are what the sink applied, in apply order.
async fn eo_pipeline(seed: u64, n: usize, crashes: usize) -> Res<Outcomes> {
    let (env, rec) = setup("eo-pipeline", seed, 4).await?;
    env.server.faults().add(Rule {
        id: "lost-checkpoint-answer".into(),
        matcher: Matcher {
            api: Some(Api::UpdateCheckPoint),
            ..Matcher::default()
        },
        when: When::Probability(0.3),
        action: Action::CommitThenReset,
        times: None,
    })?;
    let dir = std::env::temp_dir().join(format!("sls-chaos-sink-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sink = SledSink::open(&dir)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let writer = tokio::spawn(write(rec.clone(), env.c.clone(), env.p.clone(), n));
    let config = worker_config(&env.p, Duration::from_millis(300));
    for k in 0..crashes {
        let s = sink.clone();
        let w = Worker::start(env.c.clone(), config.clone(), move |_| {
            ExactlyOnce::new(s.clone())
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..600))).await;
        w.abort().await;
        rec.fault(format!("pipeline crash #{}", k + 1));
    }
    let s = sink.clone();
    let w = Worker::start(env.c.clone(), config, move |_| ExactlyOnce::new(s.clone())).await?;
    writer.await??;
    until("the sink to hold every log", 300, || {
        Ok(sink.outputs()?.len() >= n)
    })
    .await?;
    w.shutdown().await;
    env.server.faults().clear();
    let mut h = with_ground_truth(&env, &rec)?;
    let shard_of: BTreeMap<String, u32> =
        h.stored.iter().map(|s| (s.id.clone(), s.shard)).collect();
    h.consumed = sink
        .outputs()?
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let id = Log::decode(bytes.as_slice())
                .map(|l| id_of(&l))
                .unwrap_or_default();
            let shard = shard_of.get(&id).copied().unwrap_or(u32::MAX);
            ConsumeEvent {
                consumer: "sled sink".into(),
                shard,
                id,
                cursor: 0,
                time_ms: i as i64,
            }
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    Ok((check(&h), h, vec!["at-least-once", "exactly-once"]))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let (n, crashes) = if args.profile == "long" {
        (100_000, 8)
    } else {
        (2_000, 3)
    };
    let all = [
        "producer-commit-then-500",
        "worker-crash-restart",
        "eo-pipeline",
    ];
    let selected: Vec<&str> = all
        .into_iter()
        .filter(|name| args.scenario.as_deref().is_none_or(|s| s == *name))
        .filter(|name| {
            args.filters.is_empty() || args.filters.iter().any(|f| name.contains(f.as_str()))
        })
        .filter(|_| !args.ignored)
        .collect();
    if args.list {
        for name in &selected {
            println!("{name}: test");
        }
        return std::process::ExitCode::SUCCESS;
    }
    let (mut passed, mut failed_count) = (0, 0);
    for name in selected {
        let mut failed = false;
        eprintln!("chaos: {name} (seed {}, {n} logs) ...", args.seed);
        let t0 = Instant::now();
        let result = match name {
            "producer-commit-then-500" => producer_commit_then_500(args.seed, n).await,
            "worker-crash-restart" => worker_crash_restart(args.seed, n, crashes).await,
            _ => eo_pipeline(args.seed, n, crashes).await,
        };
        let (report, history, claimed) = match result {
            Ok(x) => x,
            Err(e) => {
                eprintln!("chaos: {name} could not run: {e}");
                failed_count += 1;
                continue;
            }
        };
        println!("{}", summary(&report));
        let dir = args.out.join(format!("{name}-{}", args.seed));
        let written = std::fs::create_dir_all(&dir)
            .and_then(|_| {
                std::fs::write(
                    dir.join("report.json"),
                    report.to_json().unwrap_or_default(),
                )
            })
            .and_then(|_| {
                std::fs::write(
                    dir.join("history.json"),
                    serde_json::to_string(&history).unwrap_or_default(),
                )
            })
            .and_then(|_| std::fs::write(dir.join("report.html"), html(&report, &history)));
        if let Err(e) = written {
            eprintln!("chaos: cannot write reports to {}: {e}", dir.display());
        }
        for (verdict, v) in report.verdicts() {
            if claimed.contains(&verdict) && !v.holds {
                eprintln!(
                    "chaos: {name}: claimed guarantee {verdict} BROKEN (replay with --seed {})",
                    args.seed
                );
                failed = true;
            }
        }
        eprintln!(
            "chaos: {name} done in {:.1} s; reports in {}",
            t0.elapsed().as_secs_f64(),
            dir.display()
        );
        if failed {
            failed_count += 1;
        } else {
            passed += 1;
        }
    }
    println!("{passed} passed, {failed_count} failed");
    if failed_count > 0 {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
