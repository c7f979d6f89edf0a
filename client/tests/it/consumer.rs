//! The consumer-group worker against the emulator (real clock, short intervals): balance,
//! failover, restart from checkpoints, ordered consumption across split and merge.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sls_client::{
    Batch, BatchKey, Client, ConsumerConfig, Log, LogContent, LogstoreSpec, Processed, Processor,
    Producer, ProducerConfig, SplitAt, Worker,
};
use sls_emulator::testing::TestServer;

use crate::client_for;

/// What every processor saw, in processing order: (consumer, shard, id).
type Seen = Arc<Mutex<Vec<(String, u32, u64)>>>;

struct Recorder {
    consumer: String,
    seen: Seen,
}

impl Processor for Recorder {
    async fn process(&mut self, batch: &Batch) -> Processed {
        let mut seen = self.seen.lock().unwrap();
        for g in &batch.groups {
            for l in &g.logs {
                let id = String::from_utf8(l.contents[0].value.to_vec())
                    .unwrap()
                    .parse()
                    .unwrap();
                seen.push((self.consumer.clone(), batch.shard, id));
            }
        }
        Processed::Done
    }
}

fn config(p: &str, consumer: &str, ordered: bool) -> ConsumerConfig {
    ConsumerConfig {
        heartbeat_interval: Duration::from_millis(200),
        group_timeout: Duration::from_secs(2),
        fetch_interval: Duration::from_millis(20),
        max_fetch_backoff: Duration::from_millis(100),
        checkpoint_interval: Duration::ZERO,
        ordered,
        ..ConsumerConfig::new(p, "ls", "g", consumer)
    }
}

async fn start(c: &Client, p: &str, name: &str, seen: &Seen, ordered: bool) -> Worker {
    let (name2, seen) = (name.to_string(), seen.clone());
    Worker::start(c.clone(), config(p, name, ordered), move |_shard| {
        Recorder {
            consumer: name2.clone(),
            seen: seen.clone(),
        }
    })
    .await
    .unwrap()
}

async fn write(c: &Client, p: &str, ids: std::ops::Range<u64>) {
    let producer = Producer::new(
        c.clone(),
        ProducerConfig {
            linger: Duration::from_millis(5),
            ..ProducerConfig::default()
        },
    )
    .unwrap();
    for id in ids {
        // Spread over the key space so every shard gets data.
        let key = BatchKey {
            hash_key: Some(format!("{:02x}", (id * 37) % 256)),
            ..BatchKey::new(p, "ls")
        };
        let log = Log {
            time: Some(1_700_000_000),
            contents: vec![LogContent {
                key: "id".into(),
                value: id.to_string().into(),
            }],
            time_ns: None,
        };
        producer.send(&key, log).await.unwrap();
    }
    producer.close().await;
}

async fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn counts(server: &TestServer, p: &str) -> Vec<usize> {
    let owners = server.store().consumer_group_owners(p, "ls", "g").unwrap();
    let mut n: Vec<usize> = owners.values().map(Vec::len).collect();
    n.sort();
    n
}

fn ids(seen: &Seen) -> BTreeSet<u64> {
    seen.lock().unwrap().iter().map(|(_, _, id)| *id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_balance_a_fourth_joins_and_a_stopped_ones_shards_move() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cw-balance", "").await.unwrap();
    c.create_logstore("cw-balance", &LogstoreSpec::new("ls", 10))
        .await
        .unwrap();
    write(&c, "cw-balance", 0..1_000).await;
    let seen: Seen = Arc::default();
    let a = start(&c, "cw-balance", "a", &seen, false).await;
    let b = start(&c, "cw-balance", "b", &seen, false).await;
    let w3 = start(&c, "cw-balance", "c", &seen, false).await;
    wait_until("3/3/4", 20, || {
        counts(&server, "cw-balance") == vec![3, 3, 4]
    })
    .await;
    wait_until("all 1000 logs processed", 20, || ids(&seen).len() == 1_000).await;

    let d = start(&c, "cw-balance", "d", &seen, false).await;
    wait_until("2/2/3/3", 20, || {
        counts(&server, "cw-balance") == vec![2, 2, 3, 3]
    })
    .await;
    write(&c, "cw-balance", 1_000..2_000).await;
    wait_until("new logs processed", 20, || ids(&seen).len() == 2_000).await;

    // A graceful stop saves checkpoints; its shards move to the others.
    w3.shutdown().await;
    d.shutdown().await;
    wait_until("5/5 after two stopped", 20, || {
        counts(&server, "cw-balance") == vec![5, 5]
    })
    .await;
    write(&c, "cw-balance", 2_000..3_000).await;
    wait_until("logs after failover processed", 20, || {
        ids(&seen).len() == 3_000
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;

    // Final checkpoints are the shard ends.
    for cp in c
        .get_checkpoints("cw-balance", "ls", "g", None)
        .await
        .unwrap()
    {
        let end = c
            .get_cursor("cw-balance", "ls", cp.shard, sls_client::CursorFrom::End)
            .await
            .unwrap();
        assert_eq!(cp.checkpoint, end, "shard {}", cp.shard);
    }
    // Never two consumers on one shard at the same time: with graceful moves and checkpoints
    // after every batch, no log was processed twice.
    assert_eq!(seen.lock().unwrap().len(), 3_000, "duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_resumes_from_its_checkpoints() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cw-restart", "").await.unwrap();
    c.create_logstore("cw-restart", &LogstoreSpec::new("ls", 3))
        .await
        .unwrap();
    write(&c, "cw-restart", 0..300).await;
    let first: Seen = Arc::default();
    let w = start(&c, "cw-restart", "w", &first, false).await;
    wait_until("first 300", 20, || ids(&first).len() == 300).await;
    w.shutdown().await;
    write(&c, "cw-restart", 300..600).await;
    let second: Seen = Arc::default();
    let w = start(&c, "cw-restart", "w", &second, false).await;
    wait_until("next 300", 20, || ids(&second).len() == 300).await;
    w.shutdown().await;
    assert_eq!(ids(&second), (300..600).collect(), "only what was new");
    assert_eq!(second.lock().unwrap().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_consumption_across_split_and_merge() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cw-order", "").await.unwrap();
    c.create_logstore("cw-order", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let seen: Seen = Arc::default();
    let a = start(&c, "cw-order", "a", &seen, true).await;
    let b = start(&c, "cw-order", "b", &seen, true).await;
    write(&c, "cw-order", 0..500).await;
    c.split_shard("cw-order", "ls", 0, SplitAt::Even(2))
        .await
        .unwrap(); // 0 -> 2, 3
    write(&c, "cw-order", 500..1_000).await;
    c.merge_shard("cw-order", "ls", 3).await.unwrap(); // 3 + 1 -> 4
    write(&c, "cw-order", 1_000..1_500).await;
    wait_until("all 1500 logs processed", 30, || ids(&seen).len() == 1_500).await;
    a.shutdown().await;
    b.shutdown().await;

    // From the processors' own records: a child's first log comes after its parents' last.
    let seen = seen.lock().unwrap();
    let mut first: BTreeMap<u32, usize> = BTreeMap::new();
    let mut last: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, (_, shard, _)) in seen.iter().enumerate() {
        first.entry(*shard).or_insert(i);
        last.insert(*shard, i);
    }
    let parents: [(u32, &[u32]); 3] = [(2, &[0]), (3, &[0]), (4, &[3, 1])];
    for (child, ps) in parents {
        let Some(child_first) = first.get(&child) else {
            continue;
        };
        for p in ps {
            if let Some(parent_last) = last.get(p) {
                assert!(
                    parent_last < child_first,
                    "shard {child} started before parent {p} was finished"
                );
            }
        }
    }
    assert!(first.contains_key(&4), "the merged shard was consumed");
    assert_eq!(seen.len(), 1_500, "no duplicates");
}

/// (worker, event, shard, when).
type Events = Arc<Mutex<Vec<(&'static str, &'static str, u32, Instant)>>>;

/// Records when each shard's processor was initialized and when its shutdown finished.
struct Slow {
    name: &'static str,
    events: Events,
    shutdown_takes: Duration,
}

impl Processor for Slow {
    async fn initialize(&mut self, shard: u32) {
        self.events
            .lock()
            .unwrap()
            .push((self.name, "init", shard, Instant::now()));
    }

    async fn process(&mut self, _batch: &Batch) -> Processed {
        Processed::Commit
    }

    async fn shutdown(&mut self, shard: u32) {
        tokio::time::sleep(self.shutdown_takes).await;
        self.events
            .lock()
            .unwrap()
            .push((self.name, "shutdown-done", shard, Instant::now()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_shutdown_keeps_its_shards_until_done() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cw-slow", "").await.unwrap();
    c.create_logstore("cw-slow", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let events: Events = Arc::default();
    let mk = |name: &'static str, takes: Duration| {
        let events = events.clone();
        move |_shard| Slow {
            name,
            events: events.clone(),
            shutdown_takes: takes,
        }
    };
    // The group timeout is 1 s; a's shutdown takes 2.5 s per shard.
    let mut cfg = config("cw-slow", "a", false);
    cfg.group_timeout = Duration::from_secs(1);
    let a = Worker::start(
        c.clone(),
        cfg.clone(),
        mk("a", Duration::from_millis(2_500)),
    )
    .await
    .unwrap();
    wait_until("a holds both shards", 10, || {
        counts(&server, "cw-slow") == vec![2]
    })
    .await;
    cfg.consumer = "b".into();
    let b = Worker::start(c.clone(), cfg, mk("b", Duration::ZERO))
        .await
        .unwrap();
    a.shutdown().await;
    wait_until("b holds both shards", 10, || {
        counts(&server, "cw-slow") == vec![2]
    })
    .await;
    b.shutdown().await;
    let ev = events.lock().unwrap();
    for shard in 0..2 {
        let a_done = ev
            .iter()
            .filter(|e| e.0 == "a" && e.1 == "shutdown-done" && e.2 == shard)
            .map(|e| e.3)
            .max();
        let b_init = ev
            .iter()
            .filter(|e| e.0 == "b" && e.1 == "init" && e.2 == shard)
            .map(|e| e.3)
            .min();
        if let (Some(a_done), Some(b_init)) = (a_done, b_init) {
            assert!(
                b_init >= a_done,
                "shard {shard}: b started before a had finished shutting it down"
            );
        }
        assert!(b_init.is_some(), "b took over shard {shard}");
    }
}

/// A group checkpoint below the shard's begin (what ttl leaves behind) is refused with
/// InvalidCursor; the worker must fall back to the oldest data instead of retrying the same
/// checkpoint in a tight loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_checkpoint_falls_back_to_the_oldest_data_without_spinning() {
    use sls_client::{CheckpointUpdate, ConsumerGroup, CursorFrom};
    use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
    use sls_protocol::cursor::{decode_cursor, encode_cursor};

    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cw-expired", "").await.unwrap();
    c.create_logstore("cw-expired", &LogstoreSpec::new("ls", 1))
        .await
        .unwrap();
    write(&c, "cw-expired", 0..100).await;
    let group = ConsumerGroup {
        name: "g".into(),
        timeout: 2,
        order: false,
    };
    c.create_consumer_group("cw-expired", "ls", &group)
        .await
        .unwrap();
    let begin = c
        .get_cursor("cw-expired", "ls", 0, CursorFrom::Begin)
        .await
        .unwrap();
    let expired = encode_cursor(decode_cursor(&begin).unwrap() - 1);
    let update = CheckpointUpdate {
        consumer: "w",
        shard: 0,
        checkpoint: &expired,
        force: true,
    };
    c.update_checkpoint("cw-expired", "ls", "g", &update)
        .await
        .unwrap();
    let e = c
        .pull_logs("cw-expired", "ls", 0, &expired, 10, None)
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some("InvalidCursor"),
        "the checkpoint is out of range"
    );

    // A rule that only journals: every PullLogs of the worker is counted.
    server
        .faults()
        .add(Rule {
            id: "count-pulls".into(),
            matcher: Matcher {
                api: Some(Api::PullLogs),
                project: Some("cw-expired".into()),
                ..Matcher::default()
            },
            when: When::Always,
            action: Action::Latency { millis: 0 },
            times: None,
        })
        .unwrap();
    let seen: Seen = Arc::default();
    let w = start(&c, "cw-expired", "w", &seen, false).await;
    wait_until("all 100 logs processed", 10, || ids(&seen).len() == 100).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.shutdown().await;
    assert_eq!(seen.lock().unwrap().len(), 100, "each log once");
    let pulls = server
        .faults()
        .journal()
        .iter()
        .filter(|j| j.rule == "count-pulls")
        .count();
    // One refused pull, one or two with data, then an empty pull every 20–100 ms.
    assert!(
        pulls < 100,
        "{pulls} PullLogs: the worker hammers the server"
    );
}
