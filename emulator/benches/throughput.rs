//! Write and read throughput of the emulator, as ratios against a baseline measured in the
//! same run: an axum "sink" that accepts the identical requests (same bodies, same signed
//! headers) and answers 200 at once — the cost of HTTP on this machine, with no decompression,
//! validation, storage or fsync.
//!
//! Workload (as in NOTES.md): 4 concurrent writers, a 4-shard logstore, ~250 raw bytes per log,
//! lz4 bodies, v1 signatures verified. Client and server share the process (and the 2 cores).
//!
//! `cargo bench -p sls-emulator --bench throughput` (BENCH_SECS=n per measurement, default 3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{log_group, unix_now};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::any;
use sls_emulator::clock::{Clock, SystemClock};
use sls_emulator::config::{AuthMode, Config, Durability};
use sls_emulator::Emulator;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::signer::Signer;

const WRITERS: usize = 4;
const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret";

/// A fully prepared, signed PutLogs request.
#[derive(Clone)]
struct Prepared {
    url: String,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

fn prepare(addr: SocketAddr, project: &str, logs: usize, seed: usize) -> (Prepared, usize) {
    let raw = log_group(logs, seed as u64, 1_700_000_000);
    let body = compress(CompressType::Lz4, &raw).unwrap();
    let path = "/logstores/bench/shards/lb";
    let mut h: Vec<(String, String)> = vec![
        ("content-type".into(), "application/x-protobuf".into()),
        ("x-log-apiversion".into(), "0.6.0".into()),
        ("x-log-bodyrawsize".into(), raw.len().to_string()),
        ("x-log-compresstype".into(), "lz4".into()),
    ];
    Signer::v1(KEY, SECRET).sign("POST", path, &[], &mut h, &body, unix_now());
    h.push((
        "host".into(),
        format!("{project}.localhost:{}", addr.port()),
    ));
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in h {
        headers.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    (
        Prepared {
            url: format!("http://{addr}{path}"),
            headers,
            body: body.into(),
        },
        raw.len(),
    )
}

/// Runs `WRITERS` writers for `secs`; returns requests/s.
async fn hammer(addr: SocketAddr, logs: usize, secs: f64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (req, _) = prepare(addr, "bench-proj", logs, w);
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            while Instant::now() < stop {
                let r = http
                    .post(&req.url)
                    .headers(req.headers.clone())
                    .body(req.body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{:?}", r.text().await);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t0 = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64()
}

async fn start_sink() -> SocketAddr {
    let app = axum::Router::new().fallback(any(|body: bytes::Bytes| async move {
        std::hint::black_box(body.len());
        ""
    }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

async fn start_emulator(durability: Durability, dir: &std::path::Path) -> Emulator {
    let config = Config {
        port: 0,
        bind: vec!["127.0.0.1".parse().unwrap()],
        data_dir: dir.to_path_buf(),
        access_key_id: KEY.into(),
        access_key_secret: SECRET.into(),
        auth: AuthMode::Verify,
        durability,
        ..Config::default()
    };
    let e = Emulator::start(config).await.unwrap();
    // Set up through the store: the bench measures the data path only.
    let now = SystemClock.now_nanos();
    e.store()
        .create_project(sls_emulator::storage::ProjectRecord::new("bench-proj", 0))
        .await
        .unwrap();
    e.store()
        .create_logstore(
            sls_emulator::storage::LogstoreRecord::new("bench-proj", "bench", 0),
            4,
            sls_protocol::types::UnixNanos(now),
        )
        .await
        .unwrap();
    e
}

/// A server answering every request like a full PullLogs (1000 groups of `logs` logs, lz4):
/// the read baseline.
async fn start_static_pull(logs: usize) -> SocketAddr {
    let group = log_group(logs, 0, 1_700_000_000);
    let raw =
        sls_protocol::proto::log_group_list_from_raw(std::iter::repeat_n(group.as_slice(), 1000));
    let body = bytes::Bytes::from(compress(CompressType::Lz4, &raw).unwrap());
    let raw_len = raw.len().to_string();
    let app = axum::Router::new().fallback(any(move || {
        let (body, raw_len) = (body.clone(), raw_len.clone());
        async move {
            (
                [
                    ("x-log-count", "1000".to_string()),
                    ("x-log-bodyrawsize", raw_len),
                    ("x-log-compresstype", "lz4".into()),
                ],
                body,
            )
        }
    }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// Times raw PullLogs (no client library, to measure the server): every shard from begin to
/// end with `WRITERS` readers (one per shard), `count=1000`,
/// lz4 responses; returns (logs read, seconds).
async fn timed_pull(
    addr: SocketAddr,
    ranges: &[(i64, i64)],
    logs_per_group: usize,
    count: u32,
) -> (u64, f64) {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (shard, &(begin, end)) in ranges.iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut cursor = begin;
            let mut logs = 0u64;
            while cursor < end {
                let path = format!("/logstores/bench/shards/{shard}");
                let c = sls_protocol::cursor::encode_cursor(cursor);
                let query = vec![
                    ("count".to_string(), count.to_string()),
                    ("cursor".to_string(), c.clone()),
                    ("type".to_string(), "log".to_string()),
                ];
                let mut h = vec![("x-log-apiversion".to_string(), "0.6.0".to_string())];
                Signer::v1(KEY, SECRET).sign("GET", &path, &query, &mut h, &[], unix_now());
                let mut req = http
                    .get(format!("http://{addr}{path}"))
                    .query(&query)
                    .header("host", format!("bench-proj.localhost:{}", addr.port()))
                    .header("accept-encoding", "lz4");
                for (k, v) in &h {
                    req = req.header(k, v);
                }
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), 200);
                let count: u64 = r.headers()["x-log-count"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let raw: usize = r.headers()["x-log-bodyrawsize"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let body = r.bytes().await.unwrap();
                let list =
                    sls_protocol::compression::decompress(CompressType::Lz4, &body, raw).unwrap();
                std::hint::black_box(list);
                cursor += count as i64;
                logs += count * logs_per_group as u64;
            }
            logs
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    (total, t0.elapsed().as_secs_f64())
}

/// A fixed amount of work for instruction counting (`BENCH_REQUESTS=n`, e.g. under
/// `valgrind --tool=callgrind`): n PutLogs of 100 logs, then n PullLogs of 10 groups, from one
/// client, no rules set.
async fn fixed_work(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let e = start_emulator(Durability::Fsync, dir.path()).await;
    let (req, _) = prepare(e.addr(), "bench-proj", 100, 0);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..n {
        let r = http
            .post(&req.url)
            .headers(req.headers.clone())
            .body(req.body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let ls = e.store().logstore("bench-proj", "bench").unwrap();
    let ranges: Vec<(i64, i64)> = ls
        .shards()
        .iter()
        .map(|sh| {
            (
                sh.cursor_of(sh.begin_seq()).value(),
                sh.cursor_of(sh.end_seq()).value(),
            )
        })
        .collect();
    let (logs, _) = timed_pull(e.addr(), &ranges, 100, 10).await;
    assert_eq!(logs, (n * 100) as u64);
    e.shutdown().await;
}

fn main() {
    if let Some(n) = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(fixed_work(n));
        return;
    }
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sink = start_sink().await;
        println!("write throughput: {WRITERS} writers, 4 shards, lz4, v1 signatures; {secs} s per cell");
        println!("{:>6} {:>8} | {:>12} {:>12} | {:>14} {:>8} | {:>14} {:>8}", "logs/", "raw B/", "sink", "sink", "emu fsync", "ratio", "emu buffered", "ratio");
        println!("{:>6} {:>8} | {:>12} {:>12} | {:>14} {:>8} | {:>14} {:>8}", "group", "group", "req/s", "logs/s", "logs/s", "to sink", "logs/s", "to sink");
        let mut last_emu = None;
        for logs in [10usize, 100, 1000] {
            let (_, raw) = prepare(sink, "x", logs, 0);
            let s = hammer(sink, logs, secs).await;
            let mut per_mode = Vec::new();
            for durability in [Durability::Fsync, Durability::Buffered] {
                let dir = tempfile::tempdir().unwrap();
                let e = start_emulator(durability, dir.path()).await;
                let r = hammer(e.addr(), logs, secs).await;
                per_mode.push(r);
                if durability == Durability::Fsync && logs == 1000 {
                    last_emu = Some((e, dir));
                } else {
                    e.shutdown().await;
                }
            }
            let l = logs as f64;
            println!(
                "{:>6} {:>8} | {:>12.0} {:>12.0} | {:>14.0} {:>8.2} | {:>14.0} {:>8.2}",
                logs, raw, s, s * l, per_mode[0] * l, per_mode[0] / s, per_mode[1] * l, per_mode[1] / s
            );
        }
        if let Some((e, _dir)) = last_emu {
            let ls = e.store().logstore("bench-proj", "bench").unwrap();
            let ranges: Vec<(i64, i64)> = ls
                .shards()
                .iter()
                .map(|sh| (sh.cursor_of(sh.begin_seq()).value(), sh.cursor_of(sh.end_seq()).value()))
                .collect();
            let (logs, t) = timed_pull(e.addr(), &ranges, 1000, 1000).await;
            let emu = logs as f64 / t;
            // The baseline reads the same number of groups per shard from the static server.
            let baseline = start_static_pull(1000).await;
            let (blogs, bt) = timed_pull(baseline, &ranges, 1000, 1000).await;
            let base = blogs as f64 / bt;
            println!("read throughput (PullLogs count=1000, lz4, 4 readers, 1000 logs/group):");
            println!("  static server {base:.0} logs/s; emulator {emu:.0} logs/s ({logs} logs); ratio to static {:.2}", emu / base);
            e.shutdown().await;
        }
    });
}
