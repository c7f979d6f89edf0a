//! Our client and the official clients read each other's writes: logs from our producer read
//! with the official Python SDK, logs from the official Rust producer read with our client.

use std::collections::BTreeSet;
use std::time::Duration;

use aliyun_log_producer::{
    log, Producer as OfficialProducer, ProducerConfig as OfficialConfig, ProducerError, SendOptions,
};
use sls_client::{BatchKey, Log, LogContent, LogstoreSpec, Producer, ProducerConfig};
use sls_e2e::{owner_client, repo_root, unique_project, venv_python};
use sls_emulator::testing::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_producer_read_by_the_official_python_sdk() {
    let server = TestServer::start().await.unwrap();
    let c = owner_client(&server);
    let p = unique_project("cross-py");
    c.create_project(&p, "").await.unwrap();
    c.create_logstore(&p, &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let producer = Producer::new(c.clone(), ProducerConfig::default()).unwrap();
    let key = BatchKey {
        topic: "ours".into(),
        source: "10.1.2.3".into(),
        ..BatchKey::new(&p, "ls")
    };
    for i in 0..500 {
        let log = Log {
            time: Some(1_700_000_000 + i),
            contents: vec![
                LogContent {
                    key: "id".into(),
                    value: i.to_string().into(),
                },
                LogContent {
                    key: "text".into(),
                    value: format!("naïve café {i}").into(),
                },
            ],
            time_ns: None,
        };
        producer.send(&key, log).await.unwrap();
    }
    producer.close().await;

    let cfg = server.config();
    let py = venv_python().unwrap_or_else(|e| panic!("{e}"));
    let out = tokio::process::Command::new(py)
        .arg(repo_root().join("tests/python/read_all.py"))
        .args([
            "--endpoint",
            &server.endpoint(),
            "--access-key-id",
            &cfg.access_key_id,
        ])
        .args([
            "--access-key-secret",
            &cfg.access_key_secret,
            "--project",
            &p,
            "--logstore",
            "ls",
        ])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ids = BTreeSet::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id: u32 = v["contents"]["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(v["contents"]["text"], format!("naïve café {id}"));
        assert_eq!(v["time"], 1_700_000_000 + id);
        assert_eq!(
            (v["topic"].as_str(), v["source"].as_str()),
            (Some("ours"), Some("10.1.2.3"))
        );
        assert!(v["tags"]["__pack_id__"].is_string());
        assert!(ids.insert(id), "log {id} read twice");
    }
    assert_eq!(ids, (0..500).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_rust_producer_read_by_our_client() {
    let server = TestServer::start().await.unwrap();
    let c = owner_client(&server);
    let p = unique_project("cross-rs");
    c.create_project(&p, "").await.unwrap();
    c.create_logstore(&p, &LogstoreSpec::new("ls", 3))
        .await
        .unwrap();
    let cfg = server.config();
    let official = OfficialConfig::default()
        .with_endpoint(server.endpoint())
        .with_access_key(cfg.access_key_id.clone(), cfg.access_key_secret.clone())
        .with_linger(Duration::from_millis(100));
    let project = p.clone();
    tokio::task::spawn_blocking(move || {
        let producer = OfficialProducer::create(official).unwrap();
        let writer = producer.writer(&project, "ls").unwrap();
        for i in 0..1_000 {
            loop {
                let opts = SendOptions::default()
                    .with_topic("official")
                    .with_source("rs");
                match writer.send_with_options(log!("id": i.to_string(), "kind": "official"), opts)
                {
                    Ok(()) => break,
                    Err(ProducerError::EnqueueFull { .. }) => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
        }
        producer.close_blocking().unwrap();
    })
    .await
    .unwrap();

    let mut ids = BTreeSet::new();
    for (_, g) in c.read_all(&p, "ls").await.unwrap() {
        assert_eq!(g.topic.as_deref(), Some(&b"official"[..]));
        for l in &g.logs {
            let get = |k: &[u8]| {
                l.contents
                    .iter()
                    .find(|c| c.key.as_ref() == k)
                    .map(|c| c.value.to_vec())
            };
            assert_eq!(get(b"kind"), Some(b"official".to_vec()));
            let id: u32 = String::from_utf8(get(b"id").unwrap())
                .unwrap()
                .parse()
                .unwrap();
            assert!(ids.insert(id), "log {id} read twice");
        }
    }
    assert_eq!(ids, (0..1_000).collect());
}
