//! Every emulator-side fault does what it says against real clients, set through the admin
//! HTTP API: errors before commit, the ambiguous outcomes after commit (500, reset, hang),
//! latency, dropped heartbeats, quotas, virtual time, and replayable seeds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aliyun_log_producer::{
    log, Producer as OfficialProducer, ProducerConfig as OfficialConfig, SendOptions,
};
use serde_json::{json, Value};
use sls_client::{
    BatchKey, Client, Config, CursorFrom, Error, Log, LogContent, LogGroup, LogstoreSpec, Producer,
    ProducerConfig,
};
use sls_e2e::unique_project;
use sls_emulator::testing::TestServer;

struct Env {
    server: TestServer,
    admin: reqwest::Client,
    c: Client,
    p: String,
}

async fn env(shards: u32) -> Env {
    let server = TestServer::start().await.unwrap();
    let cfg = server.config();
    let c = Client::new(
        Config::new(
            &server.endpoint(),
            &cfg.access_key_id,
            &cfg.access_key_secret,
        )
        .unwrap()
        .with_connect_to(server.addr())
        .with_request_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    let p = unique_project("faults");
    c.create_project(&p, "").await.unwrap();
    c.create_logstore(&p, &LogstoreSpec::new("ls", shards))
        .await
        .unwrap();
    Env {
        server,
        admin: reqwest::Client::builder().no_proxy().build().unwrap(),
        c,
        p,
    }
}

impl Env {
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/_sls-emu{path}", self.server.admin_url());
        let mut req = self.admin.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn rule(&self, rule: Value) {
        let (status, v) = self.admin("POST", "/faults", Some(rule)).await;
        assert_eq!(status, 200, "{v}");
    }

    async fn journal(&self) -> Vec<Value> {
        self.admin("GET", "/journal", None)
            .await
            .1
            .as_array()
            .unwrap()
            .clone()
    }

    /// Every `id` stored, with how many times.
    async fn stored(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (_, g) in self.c.read_all(&self.p, "ls").await.unwrap() {
            for l in &g.logs {
                let id = l.contents.iter().find(|c| c.key.as_ref() == b"id").unwrap();
                *out.entry(String::from_utf8(id.value.to_vec()).unwrap())
                    .or_insert(0) += 1;
            }
        }
        out
    }
}

fn group(id: &str) -> LogGroup {
    LogGroup {
        logs: vec![Log {
            time: Some(1_700_000_000),
            contents: vec![LogContent {
                key: "id".into(),
                value: id.to_string().into(),
            }],
            time_ns: None,
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_500_makes_the_official_rust_producer_store_a_duplicate() {
    let e = env(1).await;
    e.rule(json!({"match": {"api": "PostLogStoreLogs"}, "when": {"nth": 1}, "action": "commit_then_error"})).await;
    let cfg = e.server.config();
    let official = OfficialConfig::default()
        .with_endpoint(e.server.endpoint())
        .with_access_key(cfg.access_key_id.clone(), cfg.access_key_secret.clone())
        .with_linger(Duration::from_millis(50));
    let project = e.p.clone();
    tokio::task::spawn_blocking(move || {
        let producer = OfficialProducer::create(official).unwrap();
        let writer = producer.writer(&project, "ls").unwrap();
        for i in 0..10 {
            writer
                .send_with_options(log!("id": i.to_string()), SendOptions::default())
                .unwrap();
        }
        producer.close_blocking().unwrap();
    })
    .await
    .unwrap();
    let stored = e.stored().await;
    assert_eq!(stored.len(), 10);
    assert!(
        stored.values().all(|n| *n == 2),
        "the retried batch is stored twice: {stored:?}"
    );
    let j = e.journal().await;
    assert_eq!(j.len(), 1);
    assert_eq!(
        (j[0]["api"].as_str(), j[0]["action"].as_str()),
        (Some("PostLogStoreLogs"), Some("commit_then_error"))
    );
}

#[tokio::test]
async fn errors_before_commit_store_nothing_and_retries_store_once() {
    let e = env(2).await;
    e.rule(json!({"id": "busy", "match": {"api": "PostLogStoreLogs"}, "when": "always", "action": {"error": {"status": 503, "code": "ServerBusy"}}, "times": 2})).await;
    e.rule(json!({"id": "quota", "match": {"api": "PostLogStoreLogs"}, "when": "always", "action": {"error": {"status": 403, "code": "ShardWriteQuotaExceed"}}, "times": 1})).await;
    // Direct calls see the exact errors; nothing is stored.
    let err =
        e.c.put_logs(&e.p, "ls", &group("x"), None)
            .await
            .unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), (Some("ServerBusy"), true));
    // The producer retries through the second 503 and the 403, and stores the log once.
    let producer = Producer::new(
        e.c.clone(),
        ProducerConfig {
            linger: Duration::from_millis(1),
            base_backoff: Duration::from_millis(5),
            ..ProducerConfig::default()
        },
    )
    .unwrap();
    let log = Log {
        time: Some(1_700_000_000),
        contents: vec![LogContent {
            key: "id".into(),
            value: "once".into(),
        }],
        time_ns: None,
    };
    producer
        .send(&BatchKey::new(&e.p, "ls"), log)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(e.stored().await, BTreeMap::from([("once".to_string(), 1)]));
    let rules: Vec<String> = e
        .journal()
        .await
        .iter()
        .map(|j| j["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, vec!["busy", "busy", "quota"]);
}

#[tokio::test]
async fn a_reset_or_hang_after_commit_loses_the_answer_not_the_write() {
    let e = env(1).await;
    e.rule(json!({"match": {"api": "PostLogStoreLogs"}, "when": {"nth": 1}, "action": "commit_then_reset"})).await;
    e.rule(json!({"match": {"api": "PostLogStoreLogs"}, "when": {"nth": 2}, "action": {"commit_then_hang": {"millis": 4000}}})).await;
    let reset = e.c.put_logs(&e.p, "ls", &group("reset"), None).await;
    assert!(matches!(reset, Err(Error::Network(_))), "{reset:?}");
    let t0 = Instant::now();
    let hang = e.c.put_logs(&e.p, "ls", &group("hang"), None).await;
    assert!(matches!(hang, Err(Error::Network(_))), "{hang:?}");
    assert!(
        t0.elapsed() >= Duration::from_secs(2),
        "the client timed out"
    );
    assert!(hang.unwrap_err().is_retryable());
    assert_eq!(
        e.stored().await,
        BTreeMap::from([("hang".to_string(), 1), ("reset".to_string(), 1)])
    );
}

#[tokio::test]
async fn latency_delays_only_what_it_matches() {
    let e = env(1).await;
    e.rule(json!({"match": {"api": "GetCursor"}, "when": "always", "action": {"latency": {"millis": 400}}})).await;
    let t0 = Instant::now();
    e.c.get_cursor(&e.p, "ls", 0, CursorFrom::End)
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(400));
    let t0 = Instant::now();
    e.c.list_shards(&e.p, "ls").await.unwrap();
    assert!(t0.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn dropped_heartbeats_expire_a_consumer_while_everything_else_works() {
    let e = env(4).await;
    let g = sls_client::ConsumerGroup {
        name: "g".into(),
        timeout: 10,
        order: false,
    };
    e.c.create_consumer_group(&e.p, "ls", &g).await.unwrap();
    assert_eq!(
        e.c.heartbeat(&e.p, "ls", "g", "c1", &[]).await.unwrap(),
        vec![0, 1, 2, 3]
    );
    e.c.heartbeat(&e.p, "ls", "g", "c2", &[]).await.unwrap();
    // c1 is told to give two shards up; once it stops listing them, c2 gets them.
    let c1 =
        e.c.heartbeat(&e.p, "ls", "g", "c1", &[0, 1, 2, 3])
            .await
            .unwrap();
    let c1 = e.c.heartbeat(&e.p, "ls", "g", "c1", &c1).await.unwrap();
    let c2 = e.c.heartbeat(&e.p, "ls", "g", "c2", &[]).await.unwrap();
    assert_eq!((c1.len(), c2.len()), (2, 2));
    e.rule(json!({"match": {"api": "Heartbeat", "consumer": "c2"}, "when": "always", "action": "drop"})).await;
    assert!(matches!(
        e.c.heartbeat(&e.p, "ls", "g", "c2", &c2).await,
        Err(Error::Network(_))
    ));
    e.c.put_logs(&e.p, "ls", &group("still-writes"), None)
        .await
        .unwrap();
    // Past c2's timeout (virtual time, through the admin API; c1 keeps beating), c1 gets
    // everything.
    let (status, _) = e
        .admin("POST", "/clock", Some(json!({"advance_secs": 6})))
        .await;
    assert_eq!(status, 200);
    let c1 = e.c.heartbeat(&e.p, "ls", "g", "c1", &c1).await.unwrap();
    let (_, clock) = e
        .admin("POST", "/clock", Some(json!({"advance_secs": 6})))
        .await;
    assert!(clock["offset_ms"].as_i64().unwrap() >= 12_000);
    let c1 = e.c.heartbeat(&e.p, "ls", "g", "c1", &c1).await.unwrap();
    assert_eq!(c1, vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn hard_quotas_refuse_and_soft_quotas_count() {
    let e = env(1).await;
    let (s, _) = e
        .admin(
            "PUT",
            "/quotas",
            Some(json!({"mode": "hard", "write_requests_per_sec": 2})),
        )
        .await;
    assert_eq!(s, 200);
    // Virtual time keeps the window from rolling over during the test.
    e.admin("POST", "/clock", Some(json!({"set_secs": 1_900_000_000})))
        .await;
    let results: Vec<Option<String>> = put_results(&e, 4).await;
    assert_eq!(results.iter().filter(|r| r.is_none()).count(), 2);
    assert_eq!(
        results
            .iter()
            .filter(|r| r.as_deref() == Some("ShardWriteQuotaExceed"))
            .count(),
        2
    );
    let status = e.admin("GET", "/quotas", None).await.1;
    assert_eq!(status["write_exceeded"], 2);
    e.admin(
        "PUT",
        "/quotas",
        Some(json!({"mode": "soft", "write_requests_per_sec": 1})),
    )
    .await;
    assert!(
        put_results(&e, 3).await.iter().all(Option::is_none),
        "soft mode serves"
    );
    assert_eq!(e.admin("GET", "/quotas", None).await.1["write_exceeded"], 2);
    // Reads: one PullLogs per second per shard, then 403 ShardReadQuotaExceed.
    e.admin(
        "PUT",
        "/quotas",
        Some(json!({"mode": "hard", "read_requests_per_sec": 1})),
    )
    .await;
    let cursor =
        e.c.get_cursor(&e.p, "ls", 0, CursorFrom::Begin)
            .await
            .unwrap();
    e.c.pull_logs(&e.p, "ls", 0, &cursor, 10, None)
        .await
        .unwrap();
    let err =
        e.c.pull_logs(&e.p, "ls", 0, &cursor, 10, None)
            .await
            .unwrap_err();
    assert_eq!(
        (err.code(), err.is_retryable()),
        (Some("ShardReadQuotaExceed"), true)
    );
    e.admin("POST", "/clock", Some(json!({"advance_secs": 1})))
        .await;
    e.c.pull_logs(&e.p, "ls", 0, &cursor, 10, None)
        .await
        .unwrap();
}

async fn put_results(e: &Env, n: usize) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for i in 0..n {
        let r =
            e.c.put_logs(&e.p, "ls", &group(&format!("q{i}")), None)
                .await;
        out.push(r.err().map(|e| e.code().unwrap_or("?").to_string()));
    }
    out
}

#[tokio::test]
async fn the_same_seed_replays_the_same_journal() {
    let e = env(2).await;
    e.rule(json!({"id": "coin", "when": {"probability": 0.4}, "action": {"error": {"status": 500, "code": "InternalServerError"}}})).await;
    let mut journals = Vec::new();
    for seed in [42, 42, 43] {
        let (s, _) = e.admin("POST", "/seed", Some(json!({"seed": seed}))).await;
        assert_eq!(s, 200);
        for shard in 0..30 {
            let _ =
                e.c.get_cursor(&e.p, "ls", shard % 2, CursorFrom::Begin)
                    .await;
        }
        let j: Vec<(u64, String)> = e
            .journal()
            .await
            .iter()
            .map(|x| {
                (
                    x["request"].as_u64().unwrap(),
                    x["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        journals.push(j);
    }
    assert!(!journals[0].is_empty());
    assert_eq!(
        journals[0], journals[1],
        "same seed, same requests, same journal"
    );
    assert_ne!(journals[0], journals[2], "another seed, another journal");
    // Bad rules are refused clearly.
    let (s, v) = e
        .admin(
            "POST",
            "/faults",
            Some(json!({"when": {"probability": 2.0}, "action": "drop"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = e
        .admin(
            "POST",
            "/faults",
            Some(json!({"when": "sometimes", "action": "drop"})),
        )
        .await;
    assert_eq!(s, 400);
}
