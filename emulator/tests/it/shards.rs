//! Shard lifecycle: split and merge over HTTP, and a property test over the store: any
//! sequence of splits and merges keeps the readwrite ranges a partition of the key space, and
//! every acknowledged log is read exactly once by walking parents before children.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{json, Value};
use sls_emulator::config::Durability;
use sls_emulator::model::shard::{range_contains, ShardStatus};
use sls_emulator::storage::{
    AdmitAll, LogstoreRecord, ProjectRecord, PutLogs, Route, SplitAt, Store,
};
use sls_emulator::testing::TestServer;
use sls_protocol::types::{ShardId, UnixNanos};

use crate::support::{Client, Req};

const P: &str = "shard-test";
const L: &str = "ls";

fn ids(v: &Value) -> Vec<(u64, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["shardID"].as_u64().unwrap(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn split_and_merge_over_http() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.put(P, L, &["before".into()], Some("10"))
        .await
        .assert_ok();
    let split = |id: u32| {
        Req::new("POST", Some(P), &format!("/logstores/{L}/shards/{id}")).q("action", "split")
    };

    // At a key: parent first (readonly), then the children by key, with ids max+1, max+2.
    let r = c
        .send(split(0).q("key", "40000000000000000000000000000000"))
        .await;
    r.assert_ok();
    let v = r.json();
    assert_eq!(
        ids(&v),
        vec![
            (0, "readonly".into()),
            (2, "readwrite".into()),
            (3, "readwrite".into())
        ]
    );
    assert_eq!(
        v[1]["inclusiveBeginKey"],
        "00000000000000000000000000000000"
    );
    assert_eq!(v[1]["exclusiveEndKey"], "40000000000000000000000000000000");
    assert_eq!(v[2]["exclusiveEndKey"], "80000000000000000000000000000000");

    // At the midpoint (no key).
    let r = c.send(split(1)).await;
    let v = r.json();
    assert_eq!(
        ids(&v),
        vec![
            (1, "readonly".into()),
            (4, "readwrite".into()),
            (5, "readwrite".into())
        ]
    );
    assert_eq!(v[1]["exclusiveEndKey"], "c0000000000000000000000000000000");

    // Merge 3 with its right neighbour 4: the new shard first, then both parents.
    let r = c
        .send(Req::new("POST", Some(P), &format!("/logstores/{L}/shards/3")).q("action", "merge"))
        .await;
    let v = r.json();
    assert_eq!(
        ids(&v),
        vec![
            (6, "readwrite".into()),
            (3, "readonly".into()),
            (4, "readonly".into())
        ]
    );
    assert_eq!(
        v[0]["inclusiveBeginKey"],
        "40000000000000000000000000000000"
    );
    assert_eq!(v[0]["exclusiveEndKey"], "c0000000000000000000000000000000");

    // Refusals.
    c.send(split(0)).await.assert_error(400, "ParameterInvalid");
    c.send(split(2).q("key", "70000000000000000000000000000000"))
        .await
        .assert_error(400, "ParameterInvalid");
    c.send(split(99)).await.assert_error(404, "ShardNotExist");
    c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/shards/5")).q("action", "merge"))
        .await
        .assert_error(400, "ParameterInvalid");
    c.send(Req::new(
        "DELETE",
        Some(P),
        &format!("/logstores/{L}/shards/2"),
    ))
    .await
    .assert_error(400, "ParameterInvalid");

    // Writes go only to readwrite shards; the readonly parent is readable to its end.
    c.put(P, L, &["after".into()], Some("10")).await.assert_ok();
    assert_eq!(c.read_ids(P, L, 0).await, vec!["before".to_string()]);
    assert_eq!(c.read_ids(P, L, 2).await, vec!["after".to_string()]);
    let end = c.cursor(P, L, 0, "end").await;
    let r = c
        .send(
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "log")
                .q("cursor", &end)
                .q("count", "10"),
        )
        .await;
    assert_eq!(r.header("x-log-count"), Some("0"));
    assert_eq!(r.header("x-log-cursor"), Some(end.as_str()));
    assert_eq!(r.header("x-log-end-of-cursor"), Some("1"));

    // GetLogStore counts readwrite shards; ListShards lists them all; the layout survives a restart.
    assert_eq!(
        c.send(Req::new("GET", Some(P), &format!("/logstores/{L}")))
            .await
            .json()["shardCount"],
        3
    );
    let before = c
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
        .await
        .json();
    let server = server.restart().await.unwrap();
    let c = Client::new(&server);
    let after = c
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
        .await
        .json();
    assert_eq!(before, after);
    // A readonly shard can be deleted.
    c.send(Req::new(
        "DELETE",
        Some(P),
        &format!("/logstores/{L}/shards/0"),
    ))
    .await
    .assert_ok();
    c.send(
        Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
            .q("type", "cursor")
            .q("from", "begin"),
    )
    .await
    .assert_error(404, "ShardNotExist");
    assert_eq!(
        json!(ids(&c
            .send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
            .await
            .json())
        .len()),
        json!(6)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Write(u128),
    Split(usize, Option<u128>),
    Merge(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u128>().prop_map(Op::Write),
        2 => (0usize..64, proptest::option::of(any::<u128>())).prop_map(|(i, k)| Op::Split(i, k)),
        2 => (0usize..64).prop_map(Op::Merge),
    ]
}

async fn new_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, Durability::Buffered).unwrap();
    store
        .create_project(ProjectRecord::new(P, 0))
        .await
        .unwrap();
    store
        .create_logstore(
            LogstoreRecord::new(P, L, 0),
            2,
            UnixNanos(1_700_000_000_000_000_000),
        )
        .await
        .unwrap();
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn splits_and_merges_keep_a_partition_and_every_log_reads_once(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = rt.block_on(new_store(dir.path()));
        let mut written: BTreeMap<String, u128> = BTreeMap::new();
        for (n, op) in ops.into_iter().enumerate() {
            let ls = store.logstore(P, L).unwrap();
            let rw: Vec<_> = ls.shards().into_iter().filter(|s| s.status() == ShardStatus::Readwrite).collect();
            match op {
                Op::Write(key) => {
                    let id = format!("log-{n}");
                    let group = sls_protocol::proto::Message::encode_to_vec(&crate::support::group(std::slice::from_ref(&id)));
                    let put = PutLogs {
                        project: P,
                        logstore: L,
                        route: Route::HashKey { key, seqid: None },
                        group,
                        client_ip: None,
                        now: UnixNanos::from_secs(1),
                        admit: &AdmitAll,
                    };
                    let stored = rt.block_on(store.put_logs(put)).unwrap();
                    let shard = ls.shard(stored.shard).unwrap();
                    prop_assert!(range_contains(shard.begin_key, shard.end_key, key));
                    written.insert(id, key);
                }
                Op::Split(i, key) => {
                    let s = &rw[i % rw.len()];
                    let at = match key {
                        Some(k) => SplitAt::Key(k),
                        None => SplitAt::Even(2),
                    };
                    let inside = match at {
                        SplitAt::Key(k) => k > s.begin_key && k < s.end_key,
                        SplitAt::Even(_) => s.end_key - s.begin_key >= 2,
                    };
                    let r = rt.block_on(store.split_shard(P, L, s.id, at, UnixNanos(1_800_000_000_000_000_000 + n as i64)));
                    prop_assert_eq!(r.is_ok(), inside, "{:?}", r);
                }
                Op::Merge(i) => {
                    let s = &rw[i % rw.len()];
                    let has_right = rw.iter().any(|r| r.begin_key == s.end_key);
                    let r = rt.block_on(store.merge_shard(P, L, s.id, UnixNanos(1_800_000_000_000_000_000 + n as i64)));
                    prop_assert_eq!(r.is_ok(), has_right, "{:?}", r);
                }
            }
            // The readwrite shards partition the key space.
            let mut ranges: Vec<(u128, u128)> = store.logstore(P, L).unwrap().shards().iter()
                .filter(|s| s.status() == ShardStatus::Readwrite)
                .map(|s| (s.begin_key, s.end_key))
                .collect();
            ranges.sort();
            prop_assert_eq!(ranges.first().map(|r| r.0), Some(0));
            prop_assert_eq!(ranges.last().map(|r| r.1), Some(u128::MAX));
            for w in ranges.windows(2) {
                prop_assert_eq!(w[0].1, w[1].0);
            }
        }
        // Read every shard, parents before children; each log exactly once, in the shard whose
        // range held its key when it was written.
        let ls = store.logstore(P, L).unwrap();
        let shards = ls.shards();
        let mut done: BTreeSet<ShardId> = BTreeSet::new();
        let mut seen: BTreeMap<String, ShardId> = BTreeMap::new();
        while done.len() < shards.len() {
            let before = done.len();
            for s in &shards {
                if done.contains(&s.id) || !s.parents.iter().all(|p| done.contains(p)) {
                    continue;
                }
                let batch = store.read(&ls, s, s.begin_seq(), u64::MAX, usize::MAX, usize::MAX).unwrap();
                for g in batch.groups {
                    let group = <sls_protocol::proto::LogGroup as sls_protocol::proto::Message>::decode(g.bytes.as_ref()).unwrap();
                    for l in group.logs {
                        let id = String::from_utf8(l.contents[0].value.to_vec()).unwrap();
                        prop_assert!(range_contains(s.begin_key, s.end_key, written[&id]));
                        prop_assert!(seen.insert(id, s.id).is_none(), "read twice");
                    }
                }
                done.insert(s.id);
            }
            prop_assert!(done.len() > before, "parents form a cycle");
        }
        prop_assert_eq!(seen.len(), written.len());
    }
}
