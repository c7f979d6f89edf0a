//! The exactly-once pipeline: source (consumer worker) → transactional sink (sled), with the
//! worker crashed (aborted: no checkpoint, no shutdown) and restarted several times while logs
//! keep arriving. The sink must hold every log exactly once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use sls_client::{
    BatchKey, Commit, ConsumerConfig, ExactlyOnce, Log, LogContent, LogGroup, LogstoreSpec,
    Producer, ProducerConfig, SledSink, TransactionalSink, Worker,
};
use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;

use crate::client_for;

const TOTAL: u64 = 6_000;

fn sink_ids(sink: &SledSink) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for bytes in sink.outputs().unwrap() {
        let log = Log::decode(bytes.as_slice()).unwrap();
        let id = String::from_utf8(log.contents[0].value.to_vec())
            .unwrap()
            .parse()
            .unwrap();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// The sled sink, counting the batches it refused (`Commit::ResumeFrom`: the rollback path).
#[derive(Clone)]
struct Counting {
    sink: SledSink,
    resumed: Arc<AtomicUsize>,
}

impl TransactionalSink for Counting {
    fn commit(
        &self,
        shard: u32,
        from: &str,
        to: &str,
        groups: &[LogGroup],
    ) -> sls_client::Result<Commit> {
        let outcome = self.sink.commit(shard, from, to, groups)?;
        if matches!(outcome, Commit::ResumeFrom(_)) {
            self.resumed.fetch_add(1, Ordering::SeqCst);
        }
        Ok(outcome)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_exactly_once_through_crashes_and_restarts() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("eo-proj", "").await.unwrap();
    c.create_logstore("eo-proj", &LogstoreSpec::new("ls", 4))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = SledSink::open(dir.path()).unwrap();

    let resumed = Arc::new(AtomicUsize::new(0));

    // The writer runs throughout.
    let writer = {
        let c = c.clone();
        tokio::spawn(async move {
            let producer = Producer::new(
                c,
                ProducerConfig {
                    linger: Duration::from_millis(5),
                    ..ProducerConfig::default()
                },
            )
            .unwrap();
            for id in 0..TOTAL {
                let key = BatchKey {
                    hash_key: Some(format!("{:02x}", (id * 61) % 256)),
                    ..BatchKey::new("eo-proj", "ls")
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
                if id % 500 == 0 {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            }
            producer.close().await;
        })
    };

    let config = ConsumerConfig {
        heartbeat_interval: Duration::from_millis(100),
        group_timeout: Duration::from_secs(1),
        fetch_interval: Duration::from_millis(10),
        max_fetch_backoff: Duration::from_millis(50),
        batch_count: 7,
        // SLS checkpoints lag on purpose: after a crash the worker resumes behind the sink.
        checkpoint_interval: Duration::from_millis(300),
        ..ConsumerConfig::new("eo-proj", "ls", "eo-group", "eo-worker")
    };
    let start = |sink: SledSink| {
        let (c, config, resumed) = (c.clone(), config.clone(), resumed.clone());
        async move {
            Worker::start(c, config, move |_shard| {
                ExactlyOnce::new(Counting {
                    sink: sink.clone(),
                    resumed: resumed.clone(),
                })
            })
            .await
            .unwrap()
        }
    };
    // In the first round no SLS checkpoint is saved (refused before commit): the next round
    // resumes behind the sink on every shard the sink has seen, and the sink must refuse it.
    server
        .faults()
        .add(Rule {
            id: "no-checkpoints".into(),
            matcher: Matcher {
                api: Some(Api::UpdateCheckPoint),
                project: Some("eo-proj".into()),
                ..Matcher::default()
            },
            when: When::Always,
            action: Action::Error {
                status: 500,
                code: "InternalServerError".into(),
                message: None,
            },
            times: None,
        })
        .unwrap();
    let mut crashes = 0;
    for round in 0..5u64 {
        let w = start(sink.clone()).await;
        tokio::time::sleep(Duration::from_millis(250 + 90 * round)).await;
        if round == 0 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while sink_ids(&sink).is_empty() {
                assert!(Instant::now() < deadline, "nothing reached the sink");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        w.abort().await;
        if round == 0 {
            assert!(server.faults().remove("no-checkpoints"));
        }
        crashes += 1;
    }
    let w = start(sink.clone()).await;
    writer.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink_ids(&sink).len() < TOTAL as usize {
        assert!(
            Instant::now() < deadline,
            "only {} of {TOTAL} logs reached the sink",
            sink_ids(&sink).len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.shutdown().await;

    let counts = sink_ids(&sink);
    let dupes: Vec<(&u64, &usize)> = counts.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(
        dupes.is_empty(),
        "after {crashes} crashes, logs applied more than once: {dupes:?}"
    );
    assert_eq!(counts.len() as u64, TOTAL);
    assert_eq!(counts.keys().next_back(), Some(&(TOTAL - 1)));
    assert!(
        resumed.load(Ordering::SeqCst) > 0,
        "the sink never refused a batch: the rollback path did not run"
    );
}
