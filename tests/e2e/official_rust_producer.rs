//! The official Rust producer (`aliyun-log-producer` 0.1.2): 10,000 logs, each acknowledged
//! and each read back exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use aliyun_log_producer::{log, Compression, Producer, ProducerConfig, ProducerError, SendOptions};
use aliyun_log_rust_sdk::get_cursor_models::CursorPos;
use sls_e2e::unique_project;
use sls_emulator::testing::TestServer;

use crate::official_rust_sdk::client;

async fn produce(server: &TestServer, project: &str, ls: &str, n: usize, compression: Compression) {
    let c = server.config();
    let cfg = ProducerConfig::default()
        .with_endpoint(server.endpoint())
        .with_access_key(c.access_key_id.clone(), c.access_key_secret.clone())
        .with_compression(compression)
        .with_linger(Duration::from_millis(100));
    let (project, ls) = (project.to_string(), ls.to_string());
    let results = tokio::task::spawn_blocking(move || {
        let producer = Producer::create(cfg).unwrap();
        let writer = producer.writer(&project, &ls).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..n {
            // The producer's input queue is bounded: EnqueueFull is backpressure, so wait
            // and offer the log again, as an application would.
            loop {
                let tx = tx.clone();
                let opts = SendOptions::default()
                    .with_topic("producer")
                    .with_source("e2e");
                match writer.send_with_options_and_callback(
                    log!("id": i.to_string(), "msg": format!("log number {i}")),
                    opts,
                    move |res| {
                        let _ = tx.send(res.as_ref().map(|_| ()).map_err(|e| format!("{e:?}")));
                    },
                ) {
                    Ok(()) => break,
                    Err(ProducerError::EnqueueFull { .. }) => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => panic!("send failed: {e:?}"),
                }
            }
        }
        drop(tx);
        producer.close_blocking().unwrap();
        rx.iter().collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(results.len(), n, "one callback per log");
    let failures: Vec<_> = results.iter().filter(|r| r.is_err()).take(3).collect();
    assert!(failures.is_empty(), "producer failures: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_producer_writes_10000_logs_all_read_back() {
    let server = TestServer::start().await.unwrap();
    let c = client(&server, None);
    let p = unique_project("rs-prod");
    let ls = "produced";
    c.create_project(&p)
        .description("e2e")
        .send()
        .await
        .unwrap();
    c.create_logstore(&p, ls)
        .shard_count(4)
        .ttl(3)
        .send()
        .await
        .unwrap();

    produce(&server, &p, ls, 5_000, Compression::Zstd).await;
    produce(&server, &p, ls, 5_000, Compression::Lz4).await;

    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    for shard in 0..4 {
        let mut cursor = c
            .get_cursor(&p, ls, shard)
            .cursor_pos(CursorPos::Begin)
            .send()
            .await
            .unwrap()
            .get_body()
            .cursor()
            .to_string();
        let end = c
            .get_cursor(&p, ls, shard)
            .cursor_pos(CursorPos::End)
            .send()
            .await
            .unwrap()
            .get_body()
            .cursor()
            .to_string();
        while cursor != end {
            let r = c
                .pull_logs(&p, ls, shard)
                .cursor(&cursor)
                .count(1000)
                .send()
                .await
                .unwrap()
                .take_body();
            cursor = r.next_cursor().clone();
            for g in r.log_group_list() {
                assert_eq!(g.topic().as_deref(), Some("producer"));
                assert!(g.log_tags().iter().any(|t| t.key() == "__pack_id__"));
                for l in g.logs() {
                    let id = l
                        .contents()
                        .iter()
                        .find(|kv| kv.key() == "id")
                        .unwrap()
                        .value()
                        .clone();
                    let msg = l
                        .contents()
                        .iter()
                        .find(|kv| kv.key() == "msg")
                        .unwrap()
                        .value()
                        .clone();
                    assert_eq!(msg, format!("log number {id}"));
                    *seen.entry(id.parse().unwrap()).or_default() += 1;
                }
            }
        }
    }
    // Each producer run used ids 0..5000, so every id appears exactly twice.
    assert_eq!(seen.len(), 5_000);
    let wrong: Vec<_> = seen.iter().filter(|(_, n)| **n != 2).take(5).collect();
    assert!(
        wrong.is_empty(),
        "ids not read back exactly twice: {wrong:?}"
    );
}
