//! What every scenario shares: the emulator under test, the history recorder, the ground truth,
//! the verdicts a scenario expects, and the consumers (ours and the official Python worker).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sls_client::{Batch, Client, Config, ConsumerConfig, LogstoreSpec, Processed, Processor};
use sls_e2e::history::{ConsumeEvent, FaultEvent, History, ShardNode, StoredLog};
pub use sls_e2e::report::Guarantee;
pub use sls_e2e::workers::{Lang, Target, WorkerOptions, Workers};
use sls_emulator::faults::{Action, Api, JournalEntry, Matcher, Rule, When};
use sls_emulator::storage::Store;
use sls_emulator::testing::TestServer;
use sls_protocol::proto::LogGroup;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The logstore every scenario writes to.
pub const LOGSTORE: &str = "ls";
/// The project every scenario writes to.
pub const PROJECT: &str = "chaos-run";

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Replays every random choice.
    pub seed: u64,
    /// Logs written per scenario (ci: a few thousand; long: 100,000).
    pub logs: usize,
    /// Crashes, kills or jumps per scenario.
    pub crashes: usize,
}

impl Params {
    /// The pause after every ten logs that spreads the writes over about `secs`, so the
    /// stream keeps flowing while the faults happen.
    pub fn pace(&self, secs: f64) -> Duration {
        Duration::from_secs_f64(secs / (self.logs / 10).max(1) as f64)
    }

    /// A deadline of `base` seconds plus one per 2,000 logs (Python workers are slower).
    pub fn settle_secs(&self, base: u64) -> u64 {
        base + (self.logs / 2_000) as u64
    }
}

/// What a scenario expects of one verdict.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `library` claims `verdict`: it must hold.
    Holds {
        verdict: Guarantee,
        library: &'static str,
    },
    /// A known bug of `library` breaks `verdict`: the run must show it (a reproduction). If
    /// the verdict holds, the bug did not reproduce (fixed upstream, or the scenario is wrong).
    Breaks {
        verdict: Guarantee,
        library: &'static str,
        bug: &'static str,
    },
}

/// A finished run: the history (ground truth included) and what it must show.
pub struct Run {
    pub history: History,
    pub expect: Vec<Expect>,
}

pub fn holds(library: &'static str, verdicts: &[Guarantee]) -> Vec<Expect> {
    verdicts
        .iter()
        .map(|&verdict| Expect::Holds { verdict, library })
        .collect()
}

/// Client libraries, as reports name them.
pub const OUR_PRODUCER: &str = "sls-client Producer";
pub const OUR_WORKER: &str = "sls-client Worker";
pub const OUR_EO: &str = "sls-client ExactlyOnce + SledSink";
pub use sls_e2e::workers::{PY_PUT_LOGS, PY_WORKER};
pub const RUST_PRODUCER: &str = "aliyun-log-producer 0.1.2";

/// The history being recorded (cheap to clone; shared by workload tasks).
#[derive(Clone)]
pub struct Rec {
    t0: Instant,
    /// Unix ms at `t0`: converts other processes' wall-clock stamps to run time.
    pub epoch_ms: i64,
    h: Arc<Mutex<History>>,
    /// Distinct ids processed by in-process readers (what `distinct_consumed` counts).
    seen: Arc<Mutex<HashSet<String>>>,
    /// Logs processed by readers in other processes (progress only).
    external: Arc<AtomicUsize>,
    /// Logs handed to writers so far (progress only; outcomes are recorded on completion).
    sent: Arc<AtomicUsize>,
}

impl Rec {
    pub fn new(scenario: &str, seed: u64) -> Rec {
        Rec {
            t0: Instant::now(),
            epoch_ms: now_epoch_ms(),
            h: Arc::new(Mutex::new(History::new(scenario, seed))),
            seen: Arc::new(Mutex::new(HashSet::new())),
            external: Arc::new(AtomicUsize::new(0)),
            sent: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Milliseconds since the run started.
    pub fn ms(&self) -> i64 {
        self.t0.elapsed().as_millis() as i64
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut History) -> T) -> T {
        let mut h = self.h.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut h)
    }

    /// A harness event (crash, kill, split, jump) for the timeline and the evidence.
    pub fn fault(&self, description: String) {
        let t = self.ms();
        eprintln!("chaos:   {:>6.1} s  {description}", t as f64 / 1000.0);
        self.with(|h| {
            h.faults.push(FaultEvent {
                time_ms: t,
                description,
            })
        });
    }

    /// Records what an in-process reader processed.
    pub fn consumed(&self, events: Vec<ConsumeEvent>) {
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            for e in &events {
                if !seen.contains(&e.id) {
                    seen.insert(e.id.clone());
                }
            }
        }
        self.with(|h| h.consumed.extend(events));
    }

    /// How many distinct ids in-process readers processed.
    pub fn distinct_consumed(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Counts `n` more logs handed to a writer.
    pub fn sent(&self, n: usize) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_external_consumed(&self, n: usize) {
        self.external.store(n, Ordering::Relaxed);
    }

    /// One progress line: logs sent, write outcomes known, acknowledged logs, distinct logs
    /// processed, faults.
    pub fn progress(&self) -> String {
        let external = self.external.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        let distinct = self.distinct_consumed();
        self.with(|h| {
            let acked: usize = h
                .writes
                .iter()
                .filter(|w| w.outcome == sls_e2e::history::Outcome::Ok)
                .map(|w| w.ids.len())
                .sum();
            format!(
                "{:>6.1} s  sent={sent} outcomes={} acked_logs={} processed={} faults={}",
                self.t0.elapsed().as_secs_f64(),
                h.writes.len(),
                acked,
                distinct + external,
                h.faults.len()
            )
        })
    }

    /// Prints [`Rec::progress`] every `every` until the returned guard is dropped.
    pub fn ticker(&self, name: &str, every: Duration) -> Ticker {
        let rec = self.clone();
        let name = name.to_string();
        Ticker(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                eprintln!("chaos: {name}: {}", rec.progress());
            }
        }))
    }
}

/// Stops the progress printer when dropped.
pub struct Ticker(tokio::task::JoinHandle<()>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A client for `endpoint` (`localhost:PORT`) that connects to `addr`.
pub fn client_for(endpoint: &str, addr: SocketAddr, id: &str, secret: &str) -> Res<Client> {
    Ok(Client::new(
        Config::new(endpoint, id, secret)?
            .with_connect_to(addr)
            .with_request_timeout(Duration::from_secs(3)),
    )?)
}

/// The in-process emulator, the project and a `shards`-shard logstore, faults seeded.
pub async fn start(seed: u64, shards: u32) -> Res<(TestServer, Client)> {
    start_on(TestServer::start().await?, seed, shards).await
}

/// [`start`] for the workers of `lang`: Java's take no port, so the emulator also answers on
/// port 80 (waiting for it if another run holds it).
pub async fn start_for(lang: Lang, seed: u64, shards: u32) -> Res<(TestServer, Client)> {
    start_on(sls_e2e::workers::server_for(lang).await?, seed, shards).await
}

async fn start_on(server: TestServer, seed: u64, shards: u32) -> Res<(TestServer, Client)> {
    let cfg = server.config();
    let c = client_for(
        &server.endpoint(),
        server.addr(),
        &cfg.access_key_id,
        &cfg.access_key_secret,
    )?;
    create_logstore(&c, shards).await?;
    server.faults().reseed(seed);
    Ok((server, c))
}

pub async fn create_logstore(c: &Client, shards: u32) -> Res<()> {
    c.create_project(PROJECT, "chaos").await?;
    c.create_logstore(PROJECT, &LogstoreSpec::new(LOGSTORE, shards))
        .await?;
    Ok(())
}

/// The distinct harness ids stored in the scenario's logstore.
pub fn stored_ids(store: &Store) -> HashSet<String> {
    ground_truth(store, 0)
        .map(|(_, stored)| stored.into_iter().map(|s| s.id).collect())
        .unwrap_or_default()
}

/// One log as `logstore` holds it.
pub struct Stored {
    pub shard: u32,
    /// The cursor integer of its LogGroup.
    pub cursor: i64,
    /// When its group was received, unix seconds.
    pub receive_time: u32,
    /// Its place in the group.
    pub position: u32,
    pub log: sls_client::Log,
}

/// The shard lineage of `logstore` (in the scenario's project) and every log it holds, in
/// shard order.
pub fn read_logstore(store: &Store, logstore: &str) -> Res<(Vec<ShardNode>, Vec<Stored>)> {
    let ls = store.logstore(PROJECT, logstore)?;
    let (mut shards, mut stored) = (Vec::new(), Vec::new());
    for shard in ls.shards() {
        shards.push(ShardNode {
            id: shard.id.get(),
            parents: shard.parents.iter().map(|p| p.get()).collect(),
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
            for (position, log) in group.logs.into_iter().enumerate() {
                stored.push(Stored {
                    shard: shard.id.get(),
                    cursor: shard.cursor_of(g.seq).value(),
                    receive_time: g.receive_time,
                    position: position as u32,
                    log,
                });
            }
        }
    }
    Ok((shards, stored))
}

/// The scenario's shard lineage and every log stored, in shard order, with receive times in ms
/// since `epoch_ms`.
fn ground_truth(store: &Store, epoch_ms: i64) -> Res<(Vec<ShardNode>, Vec<StoredLog>)> {
    let (shards, stored) = read_logstore(store, LOGSTORE)?;
    let stored = stored.iter().map(|s| s.as_history(epoch_ms)).collect();
    Ok((shards, stored))
}

impl Stored {
    /// As the history records it, its receive time in ms since `epoch_ms`.
    pub fn as_history(&self, epoch_ms: i64) -> StoredLog {
        StoredLog {
            id: id_of(&self.log),
            shard: self.shard,
            seq: self.cursor,
            position: self.position,
            time_ms: Some(i64::from(self.receive_time) * 1000 - epoch_ms),
        }
    }
}

/// The recorded history plus the ground truth read from `store`: every log stored, in shard
/// order; the shard lineage; the emulator's fault journal (if it ran in this process).
pub fn with_ground_truth(rec: &Rec, store: &Store, journal: &[JournalEntry]) -> Res<History> {
    let mut h = rec.with(|h| h.clone());
    let (shards, stored) = ground_truth(store, rec.epoch_ms)?;
    h.shards.extend(shards);
    h.stored.extend(stored);
    for j in journal {
        h.faults.push(FaultEvent {
            time_ms: j.time_ms - rec.epoch_ms,
            description: format!(
                "rule {} on {:?}{}: {:?}",
                j.rule,
                j.info.api,
                j.info
                    .shard
                    .map(|s| format!(" shard {s}"))
                    .unwrap_or_default(),
                j.action
            ),
        });
    }
    h.faults.sort_by_key(|f| f.time_ms);
    // Readers in other processes only know which batch a log came in: give each consume
    // event the cursor of the group that stored it.
    let seq_of: BTreeMap<(&str, u32), i64> = h
        .stored
        .iter()
        .map(|s| ((s.id.as_str(), s.shard), s.seq))
        .collect();
    let fixed: Vec<Option<i64>> = h
        .consumed
        .iter()
        .map(|c| {
            (c.cursor < 0)
                .then(|| seq_of.get(&(c.id.as_str(), c.shard)).copied())
                .flatten()
        })
        .collect();
    for (c, seq) in h.consumed.iter_mut().zip(fixed) {
        if let Some(seq) = seq {
            c.cursor = seq;
        }
    }
    Ok(h)
}

pub use sls_e2e::{id_log as log, id_of, now_epoch_ms};

/// Waits until `done`, polling every 50 ms, or fails after `secs`.
pub async fn until(what: &str, secs: u64, mut done: impl FnMut() -> Res<bool>) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done()? {
        if Instant::now() > deadline {
            return Err(format!("timed out after {secs} s waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// How many distinct ids in-process readers processed.
pub fn distinct_consumed(rec: &Rec) -> usize {
    rec.distinct_consumed()
}

/// Our worker's processor: records what it is handed.
pub struct Recorder {
    pub rec: Rec,
    pub consumer: String,
}

impl Processor for Recorder {
    async fn process(&mut self, batch: &Batch) -> Processed {
        let t = self.rec.ms();
        let cursor = sls_protocol::cursor::decode_cursor(&batch.cursor).unwrap_or(-1);
        let events = batch
            .groups
            .iter()
            .flat_map(|g| &g.logs)
            .map(|l| ConsumeEvent {
                consumer: self.consumer.clone(),
                shard: batch.shard,
                id: id_of(l),
                cursor,
                time_ms: t,
            })
            .collect();
        self.rec.consumed(events);
        Processed::Done
    }
}

/// Our worker, quick: 100 ms heartbeats, 1 s group timeout.
pub fn worker_config(consumer: &str, checkpoint: Duration) -> ConsumerConfig {
    ConsumerConfig {
        heartbeat_interval: Duration::from_millis(100),
        group_timeout: Duration::from_secs(1),
        fetch_interval: Duration::from_millis(10),
        max_fetch_backoff: Duration::from_millis(50),
        batch_count: 20,
        checkpoint_interval: checkpoint,
        ..ConsumerConfig::new(PROJECT, LOGSTORE, "chaos-group", consumer)
    }
}

/// Starts our worker `name` recording into `rec`.
pub async fn start_worker(
    c: &Client,
    rec: &Rec,
    config: ConsumerConfig,
) -> Res<sls_client::Worker> {
    let r = rec.clone();
    let name = config.consumer.clone();
    Ok(
        sls_client::Worker::start(c.clone(), config, move |_| Recorder {
            rec: r.clone(),
            consumer: name.clone(),
        })
        .await?,
    )
}

/// A folder for one run's side files (worker event logs), removed on drop.
pub fn scratch(name: &str) -> Res<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("sls-chaos-{name}-"))
        .tempdir()?)
}

/// Official workers of `lang` in the scenario's group, their event times on `rec`'s clock.
pub fn workers(rec: &Rec, lang: Lang, target: Target) -> Res<Workers> {
    Workers::new(lang, target, PROJECT, LOGSTORE, "chaos-group", rec.epoch_ms)
}

/// Moves what the workers recorded into the history: processed batches as consume events, the
/// forced commit after each batch as checkpoint events, failed batches and errors as notes.
pub fn record_workers(rec: &Rec, w: &Workers) {
    let (consumed, checkpoints, notes) =
        w.read(|e| (e.consumed.clone(), e.checkpoints.clone(), e.notes.clone()));
    rec.with(|h| {
        h.consumed.extend(consumed);
        h.consumed.sort_by_key(|c| c.time_ms);
        h.checkpoints.extend(checkpoints);
        h.checkpoints.sort_by_key(|c| c.time_ms);
        h.faults.extend(notes);
    });
}

/// An emulator fault rule on every request of `api`.
pub fn rule(id: &str, api: Api, when: When, action: Action) -> Rule {
    Rule {
        id: id.into(),
        matcher: Matcher {
            api: Some(api),
            ..Matcher::default()
        },
        when,
        action,
        times: None,
    }
}

/// Adds a rule per `(id, probability, action)` on every request of `api`.
pub fn add_random_faults(
    server: &TestServer,
    api: Api,
    faults: impl IntoIterator<Item = (&'static str, f64, Action)>,
) -> Res<()> {
    for (id, p, action) in faults {
        server
            .faults()
            .add(rule(id, api, When::Probability(p), action))?;
    }
    Ok(())
}

/// Drops every heartbeat of `consumer` for `outage` (its other requests pass), recording when
/// it starts and ends.
pub async fn heartbeat_outage(
    rec: &Rec,
    server: &TestServer,
    consumer: &str,
    outage: Duration,
) -> Res<()> {
    let id = format!("heartbeats-of-{consumer}");
    server.faults().add(Rule {
        id: id.clone(),
        matcher: Matcher {
            api: Some(Api::Heartbeat),
            consumer: Some(consumer.into()),
            ..Matcher::default()
        },
        when: When::Always,
        action: Action::Drop,
        times: None,
    })?;
    rec.fault(format!("heartbeats of {consumer} dropped for {outage:?}"));
    tokio::time::sleep(outage).await;
    server.faults().remove(&id);
    rec.fault(format!("heartbeats of {consumer} pass again"));
    Ok(())
}

/// `p.crashes` heartbeat outages of `outage` each, alternately of consumers `a` and `b`, after a
/// seeded pause drawn from `pause_ms` each time.
pub async fn alternate_heartbeat_outages(
    rec: &Rec,
    server: &TestServer,
    p: Params,
    outage: Duration,
    pause_ms: std::ops::Range<u64>,
) -> Res<()> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(pause_ms.clone()))).await;
        let victim = if k % 2 == 0 { "a" } else { "b" };
        heartbeat_outage(rec, server, victim, outage).await?;
    }
    Ok(())
}

/// SIGKILLs one of `names` (seeded) and restarts it under its name, `p.crashes` times, after a
/// pause drawn from `pause_ms` each time.
pub async fn crash_workers(
    rec: &Rec,
    w: &mut Workers,
    p: Params,
    names: &[&str],
    pause_ms: std::ops::Range<u64>,
) -> Res<()> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    for k in 0..p.crashes {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(pause_ms.clone()))).await;
        let victim = names[rng.gen_range(0..names.len())];
        rec.fault(format!(
            "{:?} worker {victim} kill -9 and restart (#{})",
            w.lang(),
            k + 1
        ));
        w.restart(victim)?;
    }
    Ok(())
}

/// PullLogs on shard 0 answers `400 InvalidCursor` (as for a checkpoint whose data expired)
/// `when`, at most `times` times.
pub fn invalid_cursor(when: When, times: Option<u64>) -> Rule {
    Rule {
        id: "invalid-cursor".into(),
        matcher: Matcher {
            api: Some(Api::PullLogs),
            shard: Some(sls_protocol::types::ShardId(0)),
            ..Matcher::default()
        },
        when,
        action: Action::Error {
            status: 400,
            code: "InvalidCursor".into(),
            message: Some("chaos: this cursor is invalid".into()),
        },
        times,
    }
}

/// An SLS error answer, before anything is committed.
pub fn error(status: u16, code: &str) -> Action {
    Action::Error {
        status,
        code: code.into(),
        message: None,
    }
}
