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
//! Scenarios are registered next to their code (`registry.rs` explains how); each run ends in
//! a typed [`registry::Outcome`].
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
mod registry;
mod support;
mod writers;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use sls_e2e::checker::check;
use sls_e2e::report::{html, summary, Claim};

use registry::{Failure, Outcome, Scenario};
use support::{Expect, Params, Rec, Run};

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

/// Runs one scenario with one seed, prints its summary and writes its reports.
async fn run_one(args: &Args, scenario: &Scenario, seed: u64) -> Outcome {
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
            let failure = Failure::CouldNotRun(e.to_string());
            eprintln!("chaos: {name} {failure} (replay with --seed {seed})");
            return Outcome::failed(failure);
        }
    };
    if let Err(e) = exercised(&history) {
        let failure = Failure::NotExercised(e);
        eprintln!("chaos: {name} {failure} (seed {seed})");
        return Outcome::failed(failure);
    }
    let mut report = check(&history);
    report.claims = expect.into_iter().map(|e| claim(&report, e)).collect();
    let outcome = Outcome::from_claims(&report.claims);
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
                "passed": outcome.passed(),
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
    if let Outcome::Failed { reasons } = &outcome {
        for r in reasons {
            eprintln!("chaos: {name}: {r} (replay with --scenario {name} --seed {seed})");
        }
    }
    eprintln!(
        "chaos: {name} {} in {:.1} s; reports in {}",
        if outcome.passed() { "passed" } else { "FAILED" },
        t0.elapsed().as_secs_f64(),
        dir.display()
    );
    outcome
}

/// A scenario's expectation as a claim on this run's report.
fn claim(report: &sls_e2e::report::Report, e: Expect) -> Claim {
    let (verdict, library, known_bug) = match e {
        Expect::Holds { verdict, library } => (verdict, library, None),
        Expect::Breaks {
            verdict,
            library,
            bug,
        } => (verdict, library, Some(bug.to_string())),
    };
    Claim {
        verdict,
        library: library.into(),
        known_bug,
        held: report.verdict(verdict).holds,
    }
}

/// A run proves something only if it wrote, had writes acknowledged, read (when it consumes),
/// and injected a fault before its last activity: a fault after everything was processed, or a
/// reader that never ran, would make every claim hold (and every loss bug "reproduce").
fn exercised(h: &sls_e2e::history::History) -> Result<(), String> {
    use sls_e2e::history::Outcome as WriteOutcome;
    if !h.writes.iter().any(|w| w.outcome == WriteOutcome::Ok) {
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
    let mismatches = registry::readme_mismatches();
    for m in &mismatches {
        eprintln!("chaos: registry and README disagree: {m}");
    }
    if !mismatches.is_empty() {
        return std::process::ExitCode::FAILURE;
    }
    let selected: Vec<&Scenario> = registry::all()
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
            if run_one(&args, s, seed).await.passed() {
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
