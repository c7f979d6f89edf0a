//! Query speed (issue #15): an in-process emulator (fsync durability) holding 1M logs of
//! ~250 bytes in a 4-shard logstore with an index. Printed:
//! - PutLogs throughput into a logstore with an index against one without (same run, same
//!   bodies, alternating rounds): the index is applied at read time, so writes pay nothing;
//! - searches over the 1M logs: time, and logs scanned per second (the scan runs on one
//!   blocking thread, so that is also the per-core figure);
//! - `* | select method, count(*) group by method` when the SQL engine serves it.
//!
//! `cargo bench -p sls-emulator --bench query` (`QUERY_MILLIONS=n` logs stored, default 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// This bench writes its own logs (with the keys its queries name).
#[allow(dead_code)]
mod common;

use common::unix_now;

use std::net::SocketAddr;
use std::time::Instant;

use prost::Message;
use serde_json::{json, Value};
use sls_emulator::config::{AuthMode, Config, Durability};
use sls_emulator::Emulator;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::proto::{Log, LogContent, LogGroup};
use sls_protocol::signer::Signer;

const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret";
const PROJECT: &str = "query-bench";
const TIME: u32 = 1_700_000_000;
const METHODS: [&str; 5] = ["GET", "GET", "POST", "PUT", "DELETE"];

/// 1,000 logs of ~250 raw bytes: method, status (1 in 10 is 500), latency, a message, a host.
fn group(seed: u64) -> Vec<u8> {
    let logs = (0..1000u64)
        .map(|i| {
            let n = seed * 1000 + i;
            let pair = |k: &str, v: String| LogContent {
                key: k.to_string().into(),
                value: v.into(),
            };
            Log {
                time: Some(TIME),
                contents: vec![
                    pair("method", METHODS[(n % 5) as usize].to_string()),
                    pair("status", if n.is_multiple_of(10) { "500" } else { "200" }.to_string()),
                    pair("latency", format!("{}.{}", n % 900, n % 10)),
                    pair("msg", format!("request {n} for /api/v1/items/{} by user-{} agent=Mozilla/5.0 (X11; Linux x86_64) trace=abcdef{n:08}", n % 1000, n % 37)),
                    pair("host", format!("web-{:02}.prod.example", n % 16)),
                ],
                time_ns: None,
            }
        })
        .collect();
    LogGroup {
        logs,
        topic: Some("bench".into()),
        source: Some("10.0.0.1".into()),
        ..Default::default()
    }
    .encode_to_vec()
}

fn index() -> Value {
    let tokens = json!([
        ",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<", ">", "/",
        ":", "\n", "\t", "\r"
    ]);
    json!({
        "line": {"token": tokens, "caseSensitive": false},
        "keys": {
            "method": {"type": "text", "token": tokens, "doc_value": true},
            "status": {"type": "long", "doc_value": true},
            "latency": {"type": "double", "doc_value": true},
            "host": {"type": "text", "token": tokens, "doc_value": true},
        },
    })
}

/// A signed request to the emulator.
fn signed(
    http: &reqwest::Client,
    addr: SocketAddr,
    method: &str,
    path: &str,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    headers.push(("x-log-apiversion".into(), "0.6.0".into()));
    Signer::v1(KEY, SECRET).sign(method, path, &[], &mut headers, &body, unix_now());
    let mut req = http
        .request(method.parse().unwrap(), format!("http://{addr}{path}"))
        .header("host", format!("{PROJECT}.localhost:{}", addr.port()))
        .body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req
}

fn json_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

async fn call(
    http: &reqwest::Client,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = signed(
        http,
        addr,
        method,
        path,
        json_headers(),
        body.to_string().into_bytes(),
    )
    .send()
    .await
    .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// 4 writers put `requests` PutLogs of 1,000 logs; returns logs/s.
async fn put(
    addr: SocketAddr,
    logstore: &str,
    bodies: &[(Vec<u8>, usize)],
    requests: usize,
) -> f64 {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let bodies = bodies.to_vec();
        let path = format!("/logstores/{logstore}/shards/lb");
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            for n in (w..requests).step_by(4) {
                let (body, raw) = &bodies[n % bodies.len()];
                let h = vec![
                    (
                        "content-type".to_string(),
                        "application/x-protobuf".to_string(),
                    ),
                    ("x-log-bodyrawsize".to_string(), raw.to_string()),
                    ("x-log-compresstype".to_string(), "lz4".to_string()),
                ];
                let r = signed(&http, addr, "POST", &path, h, body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (requests * 1000) as f64 / t0.elapsed().as_secs_f64()
}

/// The best of three runs of a GetLogs v2 query: (seconds, rows answered, logs processed).
async fn query(http: &reqwest::Client, addr: SocketAddr, q: &str) -> Option<(f64, u64, u64)> {
    let mut best: Option<(f64, u64, u64)> = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let body = json!({"from": TIME, "to": TIME + 1, "query": q, "line": 100});
        let (status, v) = call(http, addr, "POST", "/logstores/indexed/logs", body).await;
        let secs = t0.elapsed().as_secs_f64();
        if status != 200 {
            println!("  {q:?}: {status} {}", v["errorMessage"]);
            return None;
        }
        let count = v["meta"]["count"].as_u64().unwrap_or(0);
        let processed = v["meta"]["processedRows"].as_u64().unwrap_or(0);
        if best.is_none_or(|b| secs < b.0) {
            best = Some((secs, count, processed));
        }
    }
    best
}

fn main() {
    let millions: usize = std::env::var("QUERY_MILLIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            port: 0,
            bind: vec!["127.0.0.1".parse().unwrap()],
            data_dir: dir.path().to_path_buf(),
            access_key_id: KEY.into(),
            access_key_secret: SECRET.into(),
            auth: AuthMode::Verify,
            durability: Durability::Fsync,
            ..Config::default()
        };
        let emu = Emulator::start(config).await.unwrap();
        let addr = emu.addrs()[0];
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let (s, _) = call(
            &http,
            addr,
            "POST",
            "/",
            json!({"projectName": PROJECT, "description": ""}),
        )
        .await;
        assert_eq!(s, 200);
        for ls in ["plain", "indexed"] {
            let (s, v) = call(
                &http,
                addr,
                "POST",
                "/logstores",
                json!({"logstoreName": ls, "ttl": 3650, "shardCount": 4}),
            )
            .await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, v) = call(&http, addr, "POST", "/logstores/indexed/index", index()).await;
        assert_eq!(s, 200, "{v}");

        let bodies: Vec<(Vec<u8>, usize)> = (0..16)
            .map(|seed| {
                let raw = group(seed);
                (compress(CompressType::Lz4, &raw).unwrap(), raw.len())
            })
            .collect();
        println!("sls-emu query bench: {millions}M logs of ~250 B in 4 shards, fsync");
        println!("\nPutLogs (4 writers, 1000 logs per request), 4 rounds, alternating order");
        let per_round = millions * 1000 / 4;
        let (mut plain, mut indexed) = (Vec::new(), Vec::new());
        for round in 0..4u32 {
            if round.is_multiple_of(2) {
                plain.push(put(addr, "plain", &bodies, per_round).await);
                indexed.push(put(addr, "indexed", &bodies, per_round).await);
            } else {
                indexed.push(put(addr, "indexed", &bodies, per_round).await);
                plain.push(put(addr, "plain", &bodies, per_round).await);
            }
        }
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!("  without an index: {:>10.0} logs/s", avg(&plain));
        println!(
            "  with an index:    {:>10.0} logs/s ({:.0}% of without)",
            avg(&indexed),
            100.0 * avg(&indexed) / avg(&plain)
        );

        println!("\nsearches over {millions}M logs (best of 3)");
        for q in [
            "status: 500",
            "method: POST and latency > 800",
            "user-7 and Mozilla",
            "host: web-03* not method: GET",
            "*",
        ] {
            if let Some((secs, count, processed)) = query(&http, addr, q).await {
                println!(
                    "  {q:<36} {:>7.0} ms, {count:>3} rows, {:>10.0} logs scanned/s",
                    secs * 1000.0,
                    processed as f64 / secs
                );
            }
        }
        println!("\nSQL");
        let q = "* | select method, count(*) as c group by method order by c desc";
        if let Some((secs, count, _)) = query(&http, addr, q).await {
            println!("  {q}: {:.0} ms, {count} rows", secs * 1000.0);
        }
        emu.shutdown().await;
    });
}
