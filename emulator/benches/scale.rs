//! Storage at scale: how the emulator holds up as data grows. The emulator runs as its own
//! process (the release binary, default flags but for its data folder and key), so the RSS
//! reported is its own, read from `/proc/<pid>/status` (sampled every 20 ms for peaks).
//!
//! Workload (issue #14): 4 writers, a 4-shard logstore, 1,000 logs of ~250 bytes per PutLogs,
//! lz4, v1 signatures. Printed, each against the first figure of the same run:
//! - the growth curve: put logs/s and peak RSS for each million logs stored, up to
//!   `SCALE_MILLIONS` (default 10); the first million is the empty-store baseline;
//! - the read curve: PullLogs at the start of shard 0 and at its end;
//! - writer scaling: 4 writers on 4 shards against 64 writers on 16 shards;
//! - PutLogs latency (p50, p99) before and during a TTL sweep of 2M logs, and the space freed;
//! - idle RSS, and the time to be ready again after SIGKILL with everything stored.
//!
//! `cargo bench -p sls-emulator --bench scale` (`SCALE_MILLIONS=n`, `SCALE_ARGS="--flag v"`
//! for extra emulator flags).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{log_group, unix_now};

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sls_fault_injection::process::{EmulatorOptions, EmulatorProcess, ProcMemory};
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::signer::Signer;

const KEY: &str = "scale-key";
const SECRET: &str = "scale-secret";
const PROJECT: &str = "scale";
const LOGS_PER_REQUEST: usize = 1000;

/// The emulator, as its own process: the release binary this bench was built with, its key,
/// TTL sweeps every second, and `SCALE_ARGS`.
fn spawn(dir: &Path) -> EmulatorProcess {
    let mut extra_args = vec!["--ttl-sweep-secs".to_string(), "1".to_string()];
    extra_args.extend(
        std::env::var("SCALE_ARGS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string),
    );
    EmulatorProcess::spawn(EmulatorOptions {
        binary: Some(env!("CARGO_BIN_EXE_sls-emulator").into()),
        access_key_id: KEY.into(),
        access_key_secret: SECRET.into(),
        extra_args,
        ..EmulatorOptions::new(dir)
    })
    .unwrap()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The emulator's RSS now, in MiB.
fn rss_mib(pid: u32) -> f64 {
    mib(ProcMemory::of(pid).unwrap().rss_kib)
}

/// Starts a new peak: the emulator's highest RSS from now on is what [`peak_mib`] reports.
fn reset_peak(pid: u32) {
    ProcMemory::reset_peak(pid).unwrap();
}

/// The emulator's highest RSS since [`reset_peak`], in MiB.
fn peak_mib(pid: u32) -> f64 {
    mib(ProcMemory::of(pid).unwrap().peak_kib)
}

/// A signed request to the emulator.
fn signed(
    http: &reqwest::Client,
    addr: SocketAddr,
    method: &str,
    path: &str,
    query: &[(String, String)],
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    headers.push(("x-log-apiversion".into(), "0.6.0".into()));
    Signer::v1(KEY, SECRET).sign(method, path, query, &mut headers, &body, unix_now());
    let mut req = http
        .request(method.parse().unwrap(), format!("http://{addr}{path}"))
        .query(query)
        .header("host", format!("{PROJECT}.localhost:{}", addr.port()))
        .body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req
}

async fn create_logstore(http: &reqwest::Client, addr: SocketAddr, name: &str, shards: u32) {
    create_logstore_ttl(http, addr, name, shards, 3650).await;
}

async fn create_logstore_ttl(
    http: &reqwest::Client,
    addr: SocketAddr,
    name: &str,
    shards: u32,
    ttl: u32,
) {
    let json = |v: serde_json::Value| {
        (
            vec![("content-type".to_string(), "application/json".to_string())],
            v.to_string().into_bytes(),
        )
    };
    let (h, b) = json(serde_json::json!({"projectName": PROJECT, "description": ""}));
    let r = signed(http, addr, "POST", "/", &[], h, b)
        .send()
        .await
        .unwrap();
    assert!(
        r.status() == 200 || r.status() == 400,
        "{:?}",
        r.text().await
    );
    let (h, b) = json(serde_json::json!({"logstoreName": name, "shardCount": shards, "ttl": ttl}));
    let r = signed(http, addr, "POST", "/logstores", &[], h, b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// A signed PutLogs of 1,000 fresh logs (request id seed `seed`) to `path`.
fn put_request(
    http: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    seed: u64,
    per_request: usize,
) -> reqwest::RequestBuilder {
    let raw = log_group(per_request, seed, u32::try_from(unix_now()).unwrap());
    let body = compress(CompressType::Lz4, &raw).unwrap();
    let h = vec![
        (
            "content-type".to_string(),
            "application/x-protobuf".to_string(),
        ),
        ("x-log-bodyrawsize".to_string(), raw.len().to_string()),
        ("x-log-compresstype".to_string(), "lz4".to_string()),
    ];
    signed(http, addr, "POST", path, &[], h, body)
}

/// `writers` writers put to `logstore` until `logs` more logs are stored; returns logs/s.
async fn put(addr: SocketAddr, logstore: &str, writers: usize, logs: u64, seed: &AtomicU64) -> f64 {
    put_sized(addr, logstore, writers, logs, LOGS_PER_REQUEST, seed).await
}

/// [`put`] with `per_request` logs in each PutLogs.
async fn put_sized(
    addr: SocketAddr,
    logstore: &str,
    writers: usize,
    logs: u64,
    per_request: usize,
    seed: &AtomicU64,
) -> f64 {
    let requests = logs / per_request as u64;
    let sent = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let sent = sent.clone();
        let first = seed.fetch_add(requests, Ordering::Relaxed);
        let path = format!("/logstores/{logstore}/shards/lb");
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            loop {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return;
                }
                let r = put_request(&http, addr, &path, first + n, per_request)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{:?}", r.text().await);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    logs as f64 / t0.elapsed().as_secs_f64()
}

/// 4 writers put to `logstore` for `secs`; returns each request's latency, sorted.
async fn latencies(addr: SocketAddr, logstore: &str, secs: f64, seed: &AtomicU64) -> Vec<Duration> {
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let first = seed.fetch_add(1_000_000, Ordering::Relaxed);
        let path = format!("/logstores/{logstore}/shards/lb");
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut out = Vec::new();
            let mut n = 0;
            while Instant::now() < stop {
                let req = put_request(&http, addr, &path, first + n, LOGS_PER_REQUEST);
                n += 1;
                let t0 = Instant::now();
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), 200, "{:?}", r.text().await);
                out.push(t0.elapsed());
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A shard's cursor `from` (`begin`, `end`).
async fn cursor(
    http: &reqwest::Client,
    addr: SocketAddr,
    logstore: &str,
    shard: u32,
    from: &str,
) -> i64 {
    let q = vec![
        ("from".to_string(), from.to_string()),
        ("type".to_string(), "cursor".to_string()),
    ];
    let path = format!("/logstores/{logstore}/shards/{shard}");
    let r = signed(http, addr, "GET", &path, &q, vec![], vec![])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    sls_protocol::cursor::decode_cursor(v["cursor"].as_str().unwrap()).unwrap()
}

/// Pulls `groups` LogGroups of shard 0 from cursor `at`, 10 per request; returns logs/s.
async fn pull(
    http: &reqwest::Client,
    addr: SocketAddr,
    logstore: &str,
    at: i64,
    groups: i64,
) -> f64 {
    let t0 = Instant::now();
    let path = format!("/logstores/{logstore}/shards/0");
    let (mut c, end, mut logs) = (at, at + groups, 0u64);
    while c < end {
        let q = vec![
            ("count".to_string(), "10".to_string()),
            ("cursor".to_string(), sls_protocol::cursor::encode_cursor(c)),
            ("type".to_string(), "log".to_string()),
        ];
        let h = vec![("accept-encoding".to_string(), "lz4".to_string())];
        let r = signed(http, addr, "GET", &path, &q, h, vec![])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let n: i64 = r.headers()["x-log-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        std::hint::black_box(r.bytes().await.unwrap());
        c += n;
        logs += n as u64 * LOGS_PER_REQUEST as u64;
    }
    logs as f64 / t0.elapsed().as_secs_f64()
}

/// CPU time (user + system) the process has used, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces): state is the 3rd field,
    // utime and stime the 14th and 15th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    // Clock ticks: 100 per second on Linux.
    (f[0] + f[1]) as f64 / 100.0
}

/// `SCALE_PERF=<file>`: samples the emulator with `perf record` (call graphs) while the 64
/// writers run; read it with `perf report -i <file>`.
fn perf_record(pid: u32, out: &str) -> std::process::Child {
    let child = std::process::Command::new("perf")
        .args([
            "record",
            "-F",
            "499",
            "--call-graph",
            "dwarf,32768",
            "-o",
            out,
            "-p",
        ])
        .arg(pid.to_string())
        .spawn()
        .expect("perf record (SCALE_PERF needs perf installed)");
    std::thread::sleep(Duration::from_millis(500));
    child
}

fn stop_perf(mut perf: std::process::Child) {
    // perf writes its file on SIGINT.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
}

fn main() {
    let millions: u64 = std::env::var("SCALE_MILLIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut emu = spawn(dir.path());
    std::thread::sleep(Duration::from_secs(1));
    let idle = rss_mib(emu.pid());
    let addr = emu.addr();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let seed = AtomicU64::new(0);
    rt.block_on(async {
        println!("sls-emu storage at scale: 4 writers, 4 shards, {LOGS_PER_REQUEST} logs of ~250 B per PutLogs, lz4, fsync");
        println!("idle RSS (empty store): {idle:.1} MiB");
        create_logstore(&http, addr, "grow", 4).await;
        println!("\ngrowth curve");
        println!("{:>10} | {:>12} {:>8} | {:>12}", "stored", "put logs/s", "ratio", "peak RSS MiB");
        let mut base = None;
        for m in 1..=millions {
            reset_peak(emu.pid());
            let rate = put(addr, "grow", 4, 1_000_000, &seed).await;
            let rss = peak_mib(emu.pid());
            let b = *base.get_or_insert(rate);
            println!("{:>9}M | {rate:>12.0} {:>7.0}% | {rss:>12.1}", m, 100.0 * rate / b);
        }

        tokio::time::sleep(Duration::from_secs(3)).await;
        println!("RSS 3 s after the last write: {:.1} MiB", rss_mib(emu.pid()));

        println!("\nread curve (shard 0, 1000 LogGroups of 1000 logs, 10 per PullLogs; two rounds)");
        let begin = cursor(&http, addr, "grow", 0, "begin").await;
        let end = cursor(&http, addr, "grow", 0, "end").await;
        let groups = 1000.min((end - begin) / 2);
        // One pull in the middle opens the connection, so the first figure pays no setup.
        pull(&http, addr, "grow", (begin + end) / 2, 1).await;
        reset_peak(emu.pid());
        for round in 1..=2 {
            let at_start = pull(&http, addr, "grow", begin, groups).await;
            let at_end = pull(&http, addr, "grow", end - groups, groups).await;
            println!(
                "  round {round}: start {at_start:>10.0} logs/s, end {at_end:>10.0} logs/s (start is {:.0}% of end)",
                100.0 * at_start / at_end
            );
        }
        println!("  peak RSS while reading {:.1} MiB", peak_mib(emu.pid()));

        let writes: u64 = std::env::var("SCALE_WRITES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(200_000);
        println!("\nwriter scaling (fresh logstores, {writes} logs each; emulator CPU in cores)");
        create_logstore(&http, addr, "narrow", 4).await;
        create_logstore(&http, addr, "wide", 16).await;
        let cpu = cpu_secs(emu.pid());
        let t0 = Instant::now();
        let four = put(addr, "narrow", 4, writes, &seed).await;
        let four_cores = (cpu_secs(emu.pid()) - cpu) / t0.elapsed().as_secs_f64();
        let perf = std::env::var("SCALE_PERF").ok().map(|out| perf_record(emu.pid(), &out));
        let cpu = cpu_secs(emu.pid());
        let t0 = Instant::now();
        let sixty_four = put(addr, "wide", 64, writes, &seed).await;
        let sixty_four_cores = (cpu_secs(emu.pid()) - cpu) / t0.elapsed().as_secs_f64();
        if let Some(perf) = perf {
            stop_perf(perf);
        }
        println!("   4 writers,  4 shards: {four:>10.0} logs/s, {four_cores:.2} cores");
        println!(
            "  64 writers, 16 shards: {sixty_four:>10.0} logs/s ({:.2}x), {sixty_four_cores:.2} cores",
            sixty_four / four
        );

        let small: u64 = std::env::var("SCALE_SMALL")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(200_000);
        println!("\nsmall LogGroups ({small} PutLogs of 1 log, 64 writers, 16 shards)");
        create_logstore(&http, addr, "small", 16).await;
        reset_peak(emu.pid());
        let rate = put_sized(addr, "small", 64, small, 1, &seed).await;
        println!(
            "  {rate:>10.0} logs/s; peak RSS {:.1} MiB",
            peak_mib(emu.pid())
        );

        println!("\nttl sweep (2M logs in a 1-day logstore expire; --ttl-sweep-secs 1)");
        create_logstore_ttl(&http, addr, "expiring", 4, 1).await;
        create_logstore(&http, addr, "live", 4).await;
        put(addr, "expiring", 4, 2_000_000, &seed).await;
        let before = logstore_sizes(dir.path());
        let quiet = latencies(addr, "live", 3.0, &seed).await;
        // Two days later on the emulator's clock, everything in "expiring" is past its ttl.
        let r = http
            .post(format!("http://{addr}/_sls-emu/clock"))
            .json(&serde_json::json!({"advance_secs": 2 * 86_400}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let sweeping = latencies(addr, "live", 3.0, &seed).await;
        let after = logstore_sizes(dir.path());
        println!(
            "  PutLogs before: p50 {:.1} ms, p99 {:.1} ms; during the sweep: p50 {:.1} ms, p99 {:.1} ms",
            pct(&quiet, 0.5),
            pct(&quiet, 0.99),
            pct(&sweeping, 0.5),
            pct(&sweeping, 0.99)
        );
        // The expiring logstore is the one whose segments shrank.
        let shrunk = before
            .iter()
            .filter_map(|(id, b)| after.get(id).map(|a| (*b, *a)))
            .max_by_key(|(b, a)| b.saturating_sub(*a));
        if let Some((b, a)) = shrunk {
            println!(
                "  the expiring logstore's segments: {:.0} MiB before, {:.0} MiB after (the last file of each shard stays)",
                b as f64 / (1u64 << 20) as f64,
                a as f64 / (1u64 << 20) as f64
            );
        }
    });
    let stored = dir_size(dir.path());
    let t0 = Instant::now();
    emu.kill9_and_restart().unwrap();
    let ready = t0.elapsed();
    println!(
        "\nrestart after SIGKILL with {:.2} GiB stored: ready in {:.2} s",
        stored as f64 / (1u64 << 30) as f64,
        ready.as_secs_f64()
    );
}

/// Bytes of segments per logstore id.
fn logstore_sizes(root: &Path) -> std::collections::BTreeMap<String, u64> {
    std::fs::read_dir(root.join("segments"))
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        dir_size(&e.path()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
