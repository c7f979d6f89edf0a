//! The producer against the emulator: volume, ordering, failures, retries.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sls_client::{
    BatchKey, Client, Config, Log, LogContent, LogstoreSpec, Producer, ProducerConfig,
};
use sls_emulator::testing::TestServer;

use crate::client_for;

fn log(id: usize) -> Log {
    Log {
        time: Some(1_700_000_000),
        contents: vec![
            LogContent {
                key: "id".into(),
                value: id.to_string().into(),
            },
            LogContent {
                key: "body".into(),
                value: format!("payload of log {id}").into(),
            },
        ],
        time_ns: None,
    }
}

/// Every (id, body) stored in the logstore, per shard in order.
async fn read_all(c: &Client, p: &str, ls: &str) -> BTreeMap<u32, Vec<(usize, String)>> {
    let mut out: BTreeMap<u32, Vec<(usize, String)>> = BTreeMap::new();
    for shard in c.list_shards(p, ls).await.unwrap() {
        out.insert(shard.id.get(), Vec::new());
    }
    for (shard, g) in c.read_all(p, ls).await.unwrap() {
        assert!(g.log_tags.iter().any(|t| t.key.as_ref() == b"__pack_id__"));
        let logs = out.entry(shard.get()).or_default();
        for l in &g.logs {
            let id = String::from_utf8(l.contents[0].value.to_vec())
                .unwrap()
                .parse()
                .unwrap();
            let body = String::from_utf8(l.contents[1].value.to_vec()).unwrap();
            logs.push((id, body));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_logs_from_four_tasks_all_read_back() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("prod-volume", "").await.unwrap();
    c.create_logstore("prod-volume", &LogstoreSpec::new("ls", 4))
        .await
        .unwrap();
    let producer = Producer::new(c.clone(), ProducerConfig::default()).unwrap();
    let mut tasks = Vec::new();
    for t in 0..4usize {
        let producer = producer.clone();
        tasks.push(tokio::spawn(async move {
            let key = BatchKey {
                topic: format!("task-{t}"),
                ..BatchKey::new("prod-volume", "ls")
            };
            let mut deliveries = Vec::with_capacity(25_000);
            for i in 0..25_000 {
                deliveries.push(producer.send(&key, log(t * 25_000 + i)).await.unwrap());
            }
            for d in deliveries {
                d.wait().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    producer.close().await;
    assert!(
        producer
            .send(&BatchKey::new("prod-volume", "ls"), log(0))
            .await
            .is_err(),
        "closed"
    );
    let stored = read_all(&c, "prod-volume", "ls").await;
    let mut ids: Vec<usize> = Vec::new();
    for logs in stored.values() {
        for (id, body) in logs {
            assert_eq!(body, &format!("payload of log {id}"));
            ids.push(*id);
        }
    }
    ids.sort();
    assert_eq!(
        ids,
        (0..100_000).collect::<Vec<_>>(),
        "every log exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_mode_keeps_each_keys_order() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("prod-order", "").await.unwrap();
    c.create_logstore("prod-order", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let config = ProducerConfig {
        ordered: true,
        max_batch_logs: 7,
        linger: Duration::from_millis(1),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(c.clone(), config).unwrap();
    let keys = [("00", 0u32), ("80", 1u32)];
    let mut deliveries = Vec::new();
    for i in 0..2_000 {
        let (hash, _) = keys[i % 2];
        let key = BatchKey {
            hash_key: Some(hash.into()),
            ..BatchKey::new("prod-order", "ls")
        };
        deliveries.push(producer.send(&key, log(i)).await.unwrap());
    }
    producer.flush().await;
    for d in deliveries {
        d.wait().await.unwrap();
    }
    let stored = read_all(&c, "prod-order", "ls").await;
    for (hash, shard) in keys {
        let ids: Vec<usize> = stored[&shard].iter().map(|(id, _)| *id).collect();
        let expected: Vec<usize> = (0..2_000).filter(|i| keys[i % 2].0 == hash).collect();
        assert_eq!(ids, expected, "shard {shard} keeps send order");
    }
}

#[tokio::test]
async fn non_retryable_errors_fail_at_once() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("prod-fail", "").await.unwrap();
    let producer = Producer::new(
        c,
        ProducerConfig {
            linger: Duration::from_millis(1),
            ..ProducerConfig::default()
        },
    )
    .unwrap();
    let d = producer
        .send(&BatchKey::new("prod-fail", "missing"), log(1))
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(5), d.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), Some("LogStoreNotExist"));
}

/// Answers the first `fail` PutLogs with 503 ServerBusy, then 200; counts requests.
async fn flaky_server(fail: usize) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    use axum::http::StatusCode;
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().fallback(move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < fail {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"errorCode":"ServerBusy","errorMessage":"busy"}"#,
                )
            } else {
                (StatusCode::OK, "")
            }
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, count)
}

#[tokio::test]
async fn retryable_errors_are_retried_with_backoff_until_the_limit() {
    // Fault injection (issue #5) will do this against the emulator; until then a three-line
    // server that answers ServerBusy is enough to see the retry loop.
    let (addr, count) = flaky_server(3).await;
    let config = Config::new(&format!("localhost:{}", addr.port()), "id", "secret")
        .unwrap()
        .with_connect_to(addr);
    let quick = ProducerConfig {
        linger: Duration::from_millis(1),
        base_backoff: Duration::from_millis(5),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(Client::new(config.clone()).unwrap(), quick).unwrap();
    producer
        .send(&BatchKey::new("p", "l"), log(1))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "three failures, then success"
    );

    let (addr, count) = flaky_server(usize::MAX).await;
    let config = Config::new(&format!("localhost:{}", addr.port()), "id", "secret")
        .unwrap()
        .with_connect_to(addr);
    let limited = ProducerConfig {
        max_attempts: 3,
        ..quick
    };
    let producer = Producer::new(Client::new(config).unwrap(), limited).unwrap();
    let e = producer
        .send(&BatchKey::new("p", "l"), log(1))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ServerBusy"));
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "gives up after max_attempts"
    );
}

/// `close` while many tasks are sending, most of them waiting for buffer room (the buffer
/// holds one log, so every finished batch admits one waiting sender while close() flushes):
/// every send either fails because the producer is closed or returns a Delivery that resolves
/// `Ok`; none hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn close_while_sending_leaves_no_delivery_hanging() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("prod-close", "").await.unwrap();
    c.create_logstore("prod-close", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let producer = Producer::new(
        c.clone(),
        ProducerConfig {
            linger: Duration::from_millis(1),
            max_batch_bytes: 150,
            max_buffer_bytes: 150,
            ..ProducerConfig::default()
        },
    )
    .unwrap();
    let mut tasks = Vec::new();
    for t in 0..32usize {
        let producer = producer.clone();
        tasks.push(tokio::spawn(async move {
            let key = BatchKey {
                topic: format!("task-{t}"),
                ..BatchKey::new("prod-close", "ls")
            };
            let mut outcomes = Vec::new();
            for i in 0..5 {
                // About 100 bytes: one log fills the buffer.
                let mut l = log(t * 5 + i);
                l.contents[1].value = format!("{:<80}", t * 5 + i).into();
                outcomes.push(producer.send(&key, l).await);
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    tokio::time::timeout(Duration::from_secs(20), producer.close())
        .await
        .expect("close() hangs");
    let (mut delivered, mut refused) = (0, 0);
    for t in tasks {
        let outcomes = tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .expect("a send hangs after close()")
            .unwrap();
        for outcome in outcomes {
            match outcome {
                Ok(d) => {
                    tokio::time::timeout(Duration::from_secs(10), d.wait())
                        .await
                        .expect("a Delivery hangs after close()")
                        .unwrap();
                    delivered += 1;
                }
                Err(e) => {
                    assert!(e.to_string().contains("closed"), "{e}");
                    refused += 1;
                }
            }
        }
    }
    assert_eq!(delivered + refused, 32 * 5);
    assert!(
        delivered > 0 && refused > 0,
        "{delivered} delivered, {refused} refused"
    );
    let stored: usize = read_all(&c, "prod-close", "ls")
        .await
        .values()
        .map(Vec::len)
        .sum();
    assert_eq!(stored, delivered, "every delivered log stored once");
}
