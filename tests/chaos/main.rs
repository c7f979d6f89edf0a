//! `chaos`: seeded fault scenarios against our client and the official clients, checked by
//! `sls_e2e::checker`.
//!
//! Each scenario starts an emulator (in-process, or a real process for kill -9), runs writers
//! and readers under a seeded fault schedule, records a Jepsen-style history (writes with their
//! outcome, what readers processed, the faults), reads the emulator's committed log as ground
//! truth, and checks it. Every library is judged by what it claims (our producer and the
//! official ones: at-least-once; consumer workers: at-least-once and per-shard order; the
//! exactly-once pipeline: exactly-once); the known bugs of CONSUMERS-AND-PRODUCERS.md §6 are
//! named scenarios that expect their claim to break. Reports go to
//! `target/tmp/chaos/<scenario>-<seed>/` (report.json, history.json, report.html) and a line per
//! run to `target/tmp/chaos/results.jsonl`.
//!
//! A test target without libtest (`harness = false`): `cargo test --workspace` runs the `ci`
//! profile; by hand, `cargo test -p sls-e2e --test chaos -- [--profile ci|long] [--seed N]
//! [--seeds K] [--scenario NAME]`, or `CHAOS_SEED=N` to replay a run. It ends with a plain
//! `N passed, N failed` line (a run passes when every claim holds and every known bug
//! reproduces).

mod flink;
mod java_go;
mod official;
mod ours;
mod support;
mod writers;

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use clap::Parser;
use sls_e2e::checker::check;
use sls_e2e::report::{html, summary, Claim};

use support::{Expect, Lang, Params, Rec, Res, Run};

#[derive(Parser, Debug)]
#[command(about = "Seeded chaos scenarios against sls-emu; prints verdicts, writes JSON and HTML")]
struct Args {
    /// `ci` (every scenario, bounded, minutes) or `long` (100,000 logs per scenario).
    #[arg(long, default_value = "ci")]
    profile: String,
    /// Seed of every random choice (faults, crash times); the first of `--seeds`.
    #[arg(long, env = "CHAOS_SEED", default_value_t = 1)]
    seed: u64,
    /// Run every selected scenario with this many seeds: seed, seed+1, ...
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Run only this scenario (see --list).
    #[arg(long)]
    scenario: Option<String>,
    /// Logs per scenario, overriding the profile.
    #[arg(long)]
    logs: Option<usize>,
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
    #[arg(long)]
    list: bool,
    #[arg(long, hide = true)]
    test_threads: Option<String>,
    #[arg(long, hide = true)]
    color: Option<String>,
    #[arg(long, hide = true)]
    format: Option<String>,
}

/// Runs one scenario.
type Runner = fn(Rec, Params) -> Pin<Box<dyn Future<Output = Res<Run>>>>;

/// A registered scenario.
struct Scenario {
    name: &'static str,
    /// What it does, for `--list`.
    about: &'static str,
    /// Logs it writes in the ci profile.
    ci_logs: usize,
    run: Runner,
}

/// `scenario!(name, about, ci_logs, path::to::fn)` or `…, |rec, p| expression)`.
macro_rules! scenario {
    ($name:literal, $about:literal, $logs:expr, |$r:ident, $p:ident| $body:expr) => {
        Scenario {
            name: $name,
            about: $about,
            ci_logs: $logs,
            run: |$r, $p| Box::pin($body),
        }
    };
    ($name:literal, $about:literal, $logs:expr, $f:path) => {
        scenario!($name, $about, $logs, |r, p| $f(r, p))
    };
}

/// Every scenario: name, what it does (C&P §6 ids), how many logs the ci profile writes, and
/// the function that runs it.
const SCENARIOS: &[Scenario] = &[
    scenario!(
        "producer-lost-answers",
        "P1/P3 our producer: answers lost after commit (500) and 503s",
        2_000,
        ours::producer_lost_answers
    ),
    scenario!(
        "producer-network",
        "P1/P2 our producer via the proxy: latency, resets both ways, dropped answers, 403 quota",
        2_000,
        ours::producer_network
    ),
    scenario!(
        "worker-crash-restart",
        "C1 our worker crashed and restarted while logs arrive",
        2_000,
        ours::worker_crash_restart
    ),
    scenario!(
        "eo-pipeline",
        "our exactly-once pipeline: crashes and lost checkpoint answers",
        2_000,
        ours::eo_pipeline
    ),
    scenario!(
        "heartbeat-loss",
        "C4/C5 our workers: one's heartbeats dropped past the group timeout, then healed",
        2_000,
        ours::heartbeat_loss
    ),
    scenario!(
        "join-leave",
        "C2/C3/C21 our workers join, leave, crash and restart under the same name",
        2_000,
        ours::join_leave
    ),
    scenario!(
        "split-merge-ordered",
        "C11/C13 ordered group: split and merge mid-stream",
        2_000,
        ours::split_merge_ordered
    ),
    scenario!(
        "clock-jump",
        "emulator clock jumps forward past the group timeout and back",
        2_000,
        ours::clock_jump
    ),
    scenario!(
        "emulator-kill9",
        "emulator process kill -9 and restart on its data folder mid-stream",
        2_000,
        ours::emulator_kill9
    ),
    scenario!(
        "worker-invalid-cursor",
        "C16 our worker: one InvalidCursor on a shard with a backlog (control for L2)",
        1_000,
        ours::worker_invalid_cursor
    ),
    scenario!(
        "worker-empty-readonly-shard",
        "C14 our worker, ordered: an empty shard split (control for S1)",
        1_000,
        ours::worker_empty_readonly_shard
    ),
    scenario!(
        "rust-producer-faults",
        "P1-P3 official Rust producer: lost answers, 503s, 403 quota, latency",
        2_000,
        official::rust_producer_faults
    ),
    scenario!(
        "python-put-logs",
        "P1-P4 official Python put_logs: lost answers, resets, 403 quota",
        1_000,
        official::python_put_logs
    ),
    scenario!(
        "python-put-logs-masked-commit",
        "finding: Python put_logs raises 403 for a batch its own 5xx retry had stored",
        200,
        official::python_put_logs_masked_commit
    ),
    scenario!(
        "python-worker-crash",
        "C1/C21 official Python ConsumerWorker processes SIGKILLed and restarted",
        1_000,
        official::python_worker_crash
    ),
    scenario!(
        "python-invalid-cursor",
        "known bug L2: official Python worker jumps to END on InvalidCursor",
        1_000,
        official::python_invalid_cursor
    ),
    scenario!(
        "python-process-error",
        "known bug L1: official Python worker skips a batch whose process() raised",
        1_000,
        official::python_process_error
    ),
    scenario!(
        "python-empty-readonly-shard",
        "known bug S1: official Python worker never finishes an empty read-only shard",
        1_000,
        official::python_empty_readonly_shard
    ),
    scenario!(
        "java-producer-faults",
        "P1-P3 official Java producer: lost answers, resets after commit, 503, 403 quota, latency",
        2_000,
        |r, p| java_go::producer_faults(Lang::Java, r, p)
    ),
    scenario!(
        "go-producer-faults",
        "P1-P3 official Go producer: lost answers, resets after commit, 503, 403 quota, latency",
        2_000,
        |r, p| java_go::producer_faults(Lang::Go, r, p)
    ),
    scenario!(
        "java-worker-crash",
        "C1/C21 official Java ClientWorker processes SIGKILLed and restarted; PullLogs 500s",
        1_000,
        |r, p| java_go::worker_crash(Lang::Java, r, p)
    ),
    scenario!(
        "go-worker-crash",
        "C1/C21 official Go consumer processes SIGKILLed and restarted; PullLogs 500s",
        1_000,
        |r, p| java_go::worker_crash(Lang::Go, r, p)
    ),
    scenario!(
        "java-heartbeat-loss",
        "C4/C5 official Java ClientWorker: one's heartbeats lost past the group timeout",
        1_000,
        |r, p| java_go::heartbeat_loss(Lang::Java, r, p)
    ),
    scenario!(
        "go-heartbeat-loss",
        "C4/C5 official Go consumer: one's heartbeats lost past the group timeout",
        1_000,
        |r, p| java_go::heartbeat_loss(Lang::Go, r, p)
    ),
    scenario!(
        "java-rebalance",
        "official Java ClientWorker, ordered: join, leave, clean failover, split, merge (no loss, no duplicates promised)",
        1_000,
        |r, p| java_go::rebalance(Lang::Java, r, p)
    ),
    scenario!(
        "java-clean-stop-lazy",
        "finding: official Java ClientWorker with saveCheckPoint(false), stopped cleanly during process(): the next owner repeats its batches",
        1_000,
        java_go::java_clean_stop_lazy
    ),
    scenario!(
        "go-rebalance",
        "official Go consumer, ordered: join, leave, clean failover, split, merge",
        1_000,
        |r, p| java_go::rebalance(Lang::Go, r, p)
    ),
    scenario!(
        "java-process-error",
        "known bug: official Java ClientWorker skips a batch whose process() threw",
        1_000,
        |r, p| java_go::process_error(Lang::Java, r, p)
    ),
    scenario!(
        "go-process-error",
        "official Go consumer, process() fails once (control: it retries the batch)",
        1_000,
        |r, p| java_go::process_error(Lang::Go, r, p)
    ),
    scenario!(
        "java-invalid-cursor",
        "known bug: official Java ClientWorker resets to END on InvalidCursor, skipping a backlog",
        1_000,
        java_go::java_invalid_cursor
    ),
    scenario!(
        "go-invalid-cursor",
        "known bug: official Go consumer stuck on InvalidCursor while it keeps the shard",
        1_000,
        java_go::go_invalid_cursor
    ),
    scenario!(
        "go-stale-owner",
        "known bug: official Go consumer past its heartbeat expiry overwrites the new owner's checkpoint",
        1_000,
        java_go::go_stale_owner
    ),
    scenario!(
        "java-producer-failed-but-stored",
        "known bug: official Java producer reports failure for a batch stored on every attempt",
        400,
        |r, p| java_go::producer_failed_but_stored(Lang::Java, r, p)
    ),
    scenario!(
        "go-producer-failed-but-stored",
        "known bug: official Go producer reports failure for a batch stored on every attempt",
        400,
        |r, p| java_go::producer_failed_but_stored(Lang::Go, r, p)
    ),
    scenario!(
        "flink-pg-task-failures",
        "Flink FlinkLogConsumer -> PostgreSQL 2PC: task failures at seeded moments, read faults",
        2_000,
        flink::pg_task_failures
    ),
    scenario!(
        "flink-pg-jvm-kill9",
        "Flink -> PostgreSQL 2PC: the JVM killed -9 and restored from its retained checkpoint",
        2_000,
        flink::pg_jvm_kill9
    ),
    scenario!(
        "flink-pg-restart",
        "Flink -> PostgreSQL 2PC: PostgreSQL restarted between PREPARE and COMMIT PREPARED",
        2_000,
        flink::pg_restart
    ),
    scenario!(
        "flink-pg-split-merge",
        "Flink -> PostgreSQL 2PC: a source shard split and two merged mid-stream",
        2_000,
        flink::pg_split_merge
    ),
    scenario!(
        "flink-idempotent-sls",
        "Flink -> SLS by PutLogs with seqid: lost answers, resets, 503s, task failures, kill -9",
        2_000,
        flink::idempotent
    ),
    scenario!(
        "flink-sls-without-seqid",
        "control for flink-idempotent-sls: the same run with no seqid stores every replay again",
        2_000,
        flink::without_seqid
    ),
    scenario!(
        "flink-producer-sink",
        "Flink -> the connector's FlinkLogProducer: sink 503s and latency, task failures",
        2_000,
        flink::producer_sink
    ),
    scenario!(
        "flink-producer-drops-failed-writes",
        "known bug: FlinkLogProducer drops writes that failed for good; the checkpoint completes",
        1_000,
        flink::producer_drops_failed_writes
    ),
    scenario!(
        "flink-invalid-cursor-restart-loop",
        "known bug: a restored cursor whose data expired restart-loops the job on InvalidCursor",
        1_000,
        flink::invalid_cursor_restart_loop
    ),
    scenario!(
        "flink-cg-commit-before-checkpoint",
        "known bug: the legacy source commits the consumer group before the checkpoint completes",
        1_000,
        flink::cg_commit_before_checkpoint
    ),
    scenario!(
        "flink-end-start-split-child",
        "known bug: END start skips what a split child got before the next shard discovery",
        900,
        flink::end_start_split_child
    ),
];

/// Runs one scenario with one seed; true when every expectation was met.
async fn run_one(args: &Args, scenario: &Scenario, seed: u64) -> bool {
    let (name, ci_logs) = (scenario.name, scenario.ci_logs);
    let long = args.profile == "long";
    let p = Params {
        seed,
        logs: args.logs.unwrap_or(if long { 100_000 } else { ci_logs }),
        crashes: if long { 8 } else { 3 },
    };
    eprintln!("chaos: {name} (seed {seed}, {} logs) ...", p.logs);
    let t0 = Instant::now();
    let rec = Rec::new(name, seed);
    let ticker = rec.ticker(name, Duration::from_secs(if long { 10 } else { 5 }));
    let result = (scenario.run)(rec.clone(), p).await;
    drop(ticker);
    let Run { history, expect } = match result {
        Ok(run) => run,
        Err(e) => {
            eprintln!("chaos: {name} could not run: {e} (replay with --seed {seed})");
            return false;
        }
    };
    if let Err(e) = exercised(&history) {
        eprintln!("chaos: {name} did not exercise what it claims to test: {e} (seed {seed})");
        return false;
    }
    let mut report = check(&history);
    for e in expect {
        let (verdict, library, known_bug) = match e {
            Expect::Holds { verdict, library } => (verdict, library, None),
            Expect::Breaks {
                verdict,
                library,
                bug,
            } => (verdict, library, Some(bug.to_string())),
        };
        let Some(held) = report
            .verdicts()
            .iter()
            .find(|(n, _)| *n == verdict)
            .map(|(_, v)| v.holds)
        else {
            eprintln!("chaos: {name} expects an unknown verdict {verdict:?}");
            return false;
        };
        report.claims.push(Claim {
            verdict: verdict.into(),
            library: library.into(),
            known_bug,
            held,
        });
    }
    let passed = report.claims.iter().all(Claim::met);
    println!("{}", summary(&report));
    let dir = args.out.join(format!("{name}-{seed}"));
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
        .and_then(|_| std::fs::write(dir.join("report.html"), html(&report, &history)))
        .and_then(|_| {
            let line = serde_json::json!({
                "scenario": name,
                "seed": seed,
                "profile": args.profile,
                "passed": passed,
                "seconds": t0.elapsed().as_secs_f64(),
                "logs_written": report.ids_written,
                "stored": report.overall.stored,
                "claims": report.claims,
                "counts": report.overall,
            });
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(args.out.join("results.jsonl"))
                .and_then(|mut f| writeln!(f, "{line}"))
        });
    if let Err(e) = written {
        eprintln!("chaos: cannot write reports to {}: {e}", dir.display());
    }
    for c in report.claims.iter().filter(|c| !c.met()) {
        eprintln!(
            "chaos: {name}: {} (replay with --scenario {name} --seed {seed})",
            c.describe()
        );
    }
    eprintln!(
        "chaos: {name} {} in {:.1} s; reports in {}",
        if passed { "passed" } else { "FAILED" },
        t0.elapsed().as_secs_f64(),
        dir.display()
    );
    passed
}

/// A run proves something only if it wrote, had writes acknowledged, read (when it consumes),
/// and injected a fault before its last activity: a fault after everything was processed, or a
/// reader that never ran, would make every claim hold (and every loss bug "reproduce").
fn exercised(h: &sls_e2e::history::History) -> Result<(), String> {
    use sls_e2e::history::Outcome;
    if !h.writes.iter().any(|w| w.outcome == Outcome::Ok) {
        return Err("no write was acknowledged".into());
    }
    let last = if h.consumes {
        h.consumed.iter().map(|c| c.time_ms).max()
    } else {
        h.writes.iter().map(|w| w.complete_ms).max()
    }
    .ok_or("nothing was processed")?;
    if !h.faults.iter().any(|f| f.time_ms <= last) {
        return Err(format!(
            "no fault before the last activity at {last} ms ({} faults in all)",
            h.faults.len()
        ));
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.profile != "ci" && args.profile != "long" {
        eprintln!("chaos: unknown profile {} (ci or long)", args.profile);
        return std::process::ExitCode::FAILURE;
    }
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| args.scenario.as_deref().is_none_or(|n| n == s.name))
        .filter(|s| {
            args.filters.is_empty() || args.filters.iter().any(|f| s.name.contains(f.as_str()))
        })
        .filter(|_| !args.ignored)
        .collect();
    if args.list {
        for s in &selected {
            println!("{}: test", s.name);
            if !args.quiet && args.format.is_none() {
                eprintln!("    {}", s.about);
            }
        }
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(s) = &args.scenario {
        if selected.is_empty() {
            eprintln!("chaos: no scenario named {s} (see --list)");
            return std::process::ExitCode::FAILURE;
        }
    }
    let t0 = Instant::now();
    let (mut passed, mut failed) = (0, Vec::new());
    for seed in args.seed..args.seed.saturating_add(args.seeds.max(1)) {
        for s in &selected {
            if run_one(&args, s, seed).await {
                passed += 1;
            } else {
                failed.push(format!("{} --seed {seed}", s.name));
            }
        }
    }
    eprintln!(
        "chaos: {} runs in {:.0} s",
        passed + failed.len(),
        t0.elapsed().as_secs_f64()
    );
    for f in &failed {
        eprintln!("chaos: failed: {f}");
    }
    println!("{passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
