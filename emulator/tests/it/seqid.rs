//! Idempotent PutLogs (`/shards/route?key=&seqid=`) over HTTP: replays refused, keys
//! normalised as the route normalises them, records kept across split and merge, and the
//! retry after a lost answer refused.

use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;

use crate::support::{Client, Req};

const P: &str = "seqid-test";
const L: &str = "ls";
/// A hash key in shard 0 of two (below 8000…).
const KEY: &str = "0123456789abcdef0123456789abcdef";

fn ids(s: &str) -> Vec<String> {
    vec![s.to_string()]
}

/// Every id stored in the logstore, shard by shard.
async fn all_ids(c: &Client, shards: u32) -> Vec<String> {
    let mut out = Vec::new();
    for s in 0..shards {
        out.extend(c.read_ids(P, L, s).await);
    }
    out
}

#[tokio::test]
async fn ids_not_above_the_last_are_refused_and_store_nothing() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.put_seqid(P, L, &ids("a1"), KEY, "1").await.assert_ok();
    for (case, seqid) in [("equal", "1"), ("lower", "0")] {
        let r = c.put_seqid(P, L, &ids(case), KEY, seqid).await;
        r.assert_case_error(case, 400, "InvalidSequenceId");
        let message = r.json()["errorMessage"].as_str().unwrap().to_string();
        assert!(
            message.contains(KEY) && message.contains("nothing was stored"),
            "{message}"
        );
    }
    c.put_seqid(P, L, &ids("a2"), KEY, "2").await.assert_ok();
    // The route parses keys case-insensitively and pads short ones on the right, so these
    // name the same key and share its record.
    let upper = KEY.to_ascii_uppercase();
    c.put_seqid(P, L, &ids("upper"), &upper, "2")
        .await
        .assert_case_error("upper-case key", 400, "InvalidSequenceId");
    c.put_seqid(P, L, &ids("short"), "4", "1").await.assert_ok();
    c.put_seqid(
        P,
        L,
        &ids("padded"),
        "40000000000000000000000000000000",
        "1",
    )
    .await
    .assert_case_error("padded key", 400, "InvalidSequenceId");
    // Another key keeps its own count, from any id.
    let other = "fedcba9876543210fedcba9876543210";
    c.put_seqid(P, L, &ids("b1"), other, "1").await.assert_ok();
    c.put_seqid(P, L, &ids("b-max"), other, &u64::MAX.to_string())
        .await
        .assert_ok();
    c.put_seqid(P, L, &ids("b-again"), other, &u64::MAX.to_string())
        .await
        .assert_case_error("u64::MAX replayed", 400, "InvalidSequenceId");
    // Writes without seqid to the same key are not counted.
    c.put(P, L, &ids("plain"), Some(KEY)).await.assert_ok();
    assert_eq!(
        all_ids(&c, 2).await,
        ["a1", "a2", "short", "plain", "b1", "b-max"]
    );
}

#[tokio::test]
async fn the_retry_of_a_write_whose_answer_was_lost_is_refused() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    server
        .faults()
        .add(Rule {
            id: "lost".into(),
            matcher: Matcher {
                api: Some(Api::PostLogStoreLogs),
                ..Matcher::default()
            },
            when: When::Nth(1),
            action: Action::CommitThenError,
            times: None,
        })
        .unwrap();
    c.put_seqid(P, L, &ids("once"), KEY, "7")
        .await
        .assert_case_error("answer lost after commit", 500, "InternalServerError");
    c.put_seqid(P, L, &ids("once"), KEY, "7")
        .await
        .assert_case_error("the retry", 400, "InvalidSequenceId");
    assert_eq!(all_ids(&c, 2).await, ["once"]);
}

/// SplitShard or MergeShards over HTTP; returns the answer's shard ids.
async fn reshard(c: &Client, shard: u32, action: &str, key: Option<&str>) -> Vec<u64> {
    let mut r =
        Req::new("POST", Some(P), &format!("/logstores/{L}/shards/{shard}")).q("action", action);
    if let Some(k) = key {
        r = r.q("key", k);
    }
    let resp = c.send(r).await;
    resp.assert_ok();
    resp.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shardID"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn records_move_with_the_key_on_split_and_merge() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    c.put_seqid(P, L, &ids("parent"), KEY, "1")
        .await
        .assert_ok();
    // Cut just below the key: it moves to the right child (shard 2).
    let split = reshard(&c, 0, "split", Some("0123456789abcdef0123456789abcd00")).await;
    assert_eq!(split, [0, 1, 2]);
    c.put_seqid(P, L, &ids("replay"), KEY, "1")
        .await
        .assert_case_error("replay in the child", 400, "InvalidSequenceId");
    c.put_seqid(P, L, &ids("child"), KEY, "2").await.assert_ok();
    let merged = reshard(&c, 1, "merge", None).await;
    assert_eq!(merged, [3, 1, 2]);
    c.put_seqid(P, L, &ids("replay"), KEY, "2")
        .await
        .assert_case_error("replay in the merged shard", 400, "InvalidSequenceId");
    c.put_seqid(P, L, &ids("merged"), KEY, "3")
        .await
        .assert_ok();
    let per_shard: Vec<Vec<String>> = vec![
        c.read_ids(P, L, 0).await,
        c.read_ids(P, L, 1).await,
        c.read_ids(P, L, 2).await,
        c.read_ids(P, L, 3).await,
    ];
    assert_eq!(
        per_shard,
        [ids("parent"), vec![], ids("child"), ids("merged")]
    );
    // Deleting the logstore deletes its records: a new one of the same name starts afresh.
    c.send(Req::new("DELETE", Some(P), &format!("/logstores/{L}")))
        .await
        .assert_ok();
    let create = Req::new("POST", Some(P), "/logstores")
        .json(serde_json::json!({"logstoreName": L, "ttl": 30, "shardCount": 1}));
    c.send(create).await.assert_ok();
    c.put_seqid(P, L, &ids("fresh"), KEY, "1").await.assert_ok();
    assert_eq!(c.read_ids(P, L, 0).await, ids("fresh"));
}
