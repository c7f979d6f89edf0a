//! Consumer groups over HTTP on a manual clock: CRUD and its errors, heartbeat assignment and
//! expiry, checkpoints (ownership, forced, shapes), finished readonly shards, ordered children.

use std::sync::Arc;

use serde_json::{json, Value};
use sls_emulator::testing::{ManualClock, TestServer};

use crate::support::{Client, Req};

const P: &str = "cg-test";
const L: &str = "ls";

struct Env {
    c: Client,
    clock: Arc<ManualClock>,
    _server: TestServer,
}

async fn env(shards: u32) -> Env {
    let clock = Arc::new(ManualClock::new());
    // Requests carry the real Date header; the manual clock drifts from it.
    let server = TestServer::start_with_clock(|c| c.max_skew_secs = 0, clock.clone())
        .await
        .unwrap();
    let c = Client::new(&server);
    c.setup(P, L, shards).await;
    Env {
        c,
        clock,
        _server: server,
    }
}

fn cg_path(g: &str) -> String {
    format!("/logstores/{L}/consumergroups/{g}")
}

impl Env {
    async fn create(&self, g: &str, timeout: u64, order: bool) {
        self.c
            .send(
                Req::new("POST", Some(P), &format!("/logstores/{L}/consumergroups"))
                    .json(json!({"consumerGroup": g, "timeout": timeout, "order": order})),
            )
            .await
            .assert_ok();
    }

    async fn beat(&self, g: &str, consumer: &str, held: &[u64]) -> Result<Vec<u64>, (u16, String)> {
        let r = self
            .c
            .send(
                Req::new("POST", Some(P), &cg_path(g))
                    .q("type", "heartbeat")
                    .q("consumer", consumer)
                    .json(json!(held)),
            )
            .await;
        if r.status == 200 {
            Ok(r.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect())
        } else {
            Err((
                r.status,
                r.json()["errorCode"].as_str().unwrap().to_string(),
            ))
        }
    }

    async fn checkpoint(
        &self,
        g: &str,
        consumer: &str,
        force: &str,
        shard: u64,
        cp: &str,
    ) -> crate::support::Resp {
        self.c
            .send(
                Req::new("POST", Some(P), &cg_path(g))
                    .q("type", "checkpoint")
                    .q("consumer", consumer)
                    .q("forceSuccess", force)
                    .json(json!({"shard": shard, "checkpoint": cp})),
            )
            .await
    }

    async fn get_checkpoints(&self, g: &str, shard: Option<&str>) -> Value {
        let mut r = Req::new("GET", Some(P), &cg_path(g));
        if let Some(s) = shard {
            r = r.q("shard", s);
        }
        let r = self.c.send(r).await;
        r.assert_ok();
        r.json()
    }
}

#[tokio::test]
async fn crud_naming_and_limits() {
    let e = env(2).await;
    e.create("cg-1", 20, false).await;
    let list =
        e.c.send(Req::new(
            "GET",
            Some(P),
            &format!("/logstores/{L}/consumergroups"),
        ))
        .await
        .json();
    assert_eq!(
        list,
        json!([{"name": "cg-1", "timeout": 20, "order": false}])
    );
    let dup = Req::new("POST", Some(P), &format!("/logstores/{L}/consumergroups"))
        .json(json!({"consumerGroup": "cg-1", "timeout": 20, "order": false}));
    e.c.send(dup)
        .await
        .assert_error(400, "ConsumerGroupAlreadyExist");
    for (body, what) in [
        (
            json!({"consumerGroup": "bad name", "timeout": 20}),
            "space in name",
        ),
        (json!({"consumerGroup": "", "timeout": 20}), "empty name"),
        (
            json!({"consumerGroup": "x".repeat(129), "timeout": 20}),
            "long name",
        ),
        (json!({"consumerGroup": "ok", "timeout": 0}), "zero timeout"),
        (json!({"consumerGroup": "ok"}), "no timeout"),
        (
            json!({"consumerGroup": "ok", "timeout": 5, "order": "yes"}),
            "order not bool",
        ),
    ] {
        let r = e
            .c
            .send(Req::new("POST", Some(P), &format!("/logstores/{L}/consumergroups")).json(body))
            .await;
        r.assert_case_error(what, 400, "ParameterInvalid");
    }
    // Update applies at once; unknown groups get ConsumerGroupNotExist everywhere.
    e.c.send(
        Req::new("PUT", Some(P), &cg_path("cg-1")).json(json!({"order": true, "timeout": 30})),
    )
    .await
    .assert_ok();
    let list =
        e.c.send(Req::new(
            "GET",
            Some(P),
            &format!("/logstores/{L}/consumergroups"),
        ))
        .await
        .json();
    assert_eq!(
        list,
        json!([{"name": "cg-1", "timeout": 30, "order": true}])
    );
    for r in [
        Req::new("PUT", Some(P), &cg_path("nope")).json(json!({"timeout": 3})),
        Req::new("DELETE", Some(P), &cg_path("nope")),
        Req::new("GET", Some(P), &cg_path("nope")),
        Req::new("POST", Some(P), &cg_path("nope"))
            .q("type", "heartbeat")
            .q("consumer", "c")
            .json(json!([])),
        Req::new("POST", Some(P), &cg_path("nope"))
            .q("type", "checkpoint")
            .q("consumer", "c")
            .q("forceSuccess", "true")
            .json(json!({"shard": 0, "checkpoint": "MQ=="})),
    ] {
        e.c.send(r).await.assert_error(404, "ConsumerGroupNotExist");
    }
    // At most 30 per logstore.
    for i in 2..=30 {
        e.create(&format!("cg-{i}"), 20, false).await;
    }
    let r =
        e.c.send(
            Req::new("POST", Some(P), &format!("/logstores/{L}/consumergroups"))
                .json(json!({"consumerGroup": "cg-31", "timeout": 20})),
        )
        .await;
    r.assert_error(400, "ExceedQuota");
    // Delete drops checkpoints: a re-created group starts empty.
    e.checkpoint("cg-1", "", "true", 0, "MTIz")
        .await
        .assert_ok();
    e.c.send(Req::new("DELETE", Some(P), &cg_path("cg-1")))
        .await
        .assert_ok();
    e.create("cg-1", 20, false).await;
    assert_eq!(
        e.get_checkpoints("cg-1", Some("0")).await[0]["checkpoint"],
        ""
    );
}

#[tokio::test]
async fn heartbeat_assignment_transfer_and_expiry() {
    let e = env(4).await;
    e.create("g", 10, false).await;
    assert_eq!(e.beat("g", "a", &[]).await.unwrap(), vec![0, 1, 2, 3]);
    // b joins: nothing free; two of a's shards go into transfer.
    assert_eq!(e.beat("g", "b", &[]).await.unwrap(), Vec::<u64>::new());
    let a = e.beat("g", "a", &[0, 1, 2, 3]).await.unwrap();
    assert_eq!(a.len(), 2);
    // a still holds the shards it is giving up, so it may flush their checkpoints.
    let moving: Vec<u64> = (0..4).filter(|s| !a.contains(s)).collect();
    e.checkpoint("g", "a", "false", moving[0], "MTIz")
        .await
        .assert_ok();
    // b gets nothing while a still lists them.
    assert_eq!(e.beat("g", "b", &[]).await.unwrap(), Vec::<u64>::new());
    assert_eq!(e.beat("g", "a", &a).await.unwrap(), a);
    assert_eq!(e.beat("g", "b", &[]).await.unwrap(), moving);
    // Non-forced checkpoints need the current holder.
    e.checkpoint("g", "a", "false", moving[0], "MTIz")
        .await
        .assert_error(400, "ConsumerNotMatch");
    e.checkpoint("g", "b", "False", moving[0], "MTI0")
        .await
        .assert_ok();
    e.checkpoint("g", "zed", "false", 0, "MTI0")
        .await
        .assert_error(404, "ConsumerNotExist");
    e.checkpoint("g", "", "false", 0, "MTI0")
        .await
        .assert_error(404, "ConsumerNotExist");
    // b goes silent past the timeout: a gets everything back; b must rejoin empty.
    e.clock.advance_secs(6);
    assert_eq!(e.beat("g", "a", &a).await.unwrap(), a);
    e.clock.advance_secs(6);
    assert_eq!(e.beat("g", "a", &a).await.unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(
        e.beat("g", "b", &moving).await,
        Err((400, "NotExistConsumerWithBody".into()))
    );
    assert_eq!(e.beat("g", "b", &[]).await.unwrap(), Vec::<u64>::new());
    // A shorter timeout applies at once.
    e.c.send(Req::new("PUT", Some(P), &cg_path("g")).json(json!({"timeout": 2})))
        .await
        .assert_ok();
    e.clock.advance_secs(3);
    assert_eq!(e.beat("g", "b", &[]).await.unwrap(), vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn checkpoints_shape_force_and_validation() {
    let e = env(2).await;
    e.create("g", 10, false).await;
    // Never saved: one entry per shard with an empty checkpoint and the consumer field present.
    let all = e.get_checkpoints("g", None).await;
    assert_eq!(
        all,
        json!([
            {"shard": 0, "checkpoint": "", "updateTime": 0, "consumer": ""},
            {"shard": 1, "checkpoint": "", "updateTime": 0, "consumer": ""},
        ])
    );
    assert_eq!(e.get_checkpoints("g", Some("7")).await, json!([]));
    // Forced with an empty consumer (Flink), with Python's `True`, and Java-style `true`.
    e.checkpoint("g", "", "true", 0, "MTcwMDAwMDAwMDAwMDAwMDAwMA==")
        .await
        .assert_ok();
    e.checkpoint("g", "py", "True", 1, "MTcwMDAwMDAwMDAwMDAwMDAwMQ==")
        .await
        .assert_ok();
    let one = e.get_checkpoints("g", Some("1")).await;
    assert_eq!(one[0]["checkpoint"], "MTcwMDAwMDAwMDAwMDAwMDAwMQ==");
    assert_eq!(one[0]["consumer"], "py");
    let us = one[0]["updateTime"].as_i64().unwrap();
    assert_eq!(
        us / 1_000_000,
        e.clock_secs(),
        "updateTime is in microseconds"
    );
    e.checkpoint("g", "", "true", 0, "not base64!")
        .await
        .assert_error(400, "InvalidShardCheckPoint");
    e.checkpoint("g", "", "true", 9, "MQ==")
        .await
        .assert_error(404, "ShardNotExist");
    assert_eq!(
        e.get_checkpoints("g", Some("0")).await[0]["checkpoint"],
        "MTcwMDAwMDAwMDAwMDAwMDAwMA=="
    );
}

impl Env {
    fn clock_secs(&self) -> i64 {
        use sls_emulator::clock::Clock;
        self.clock.now_secs()
    }
}

#[tokio::test]
async fn finished_readonly_shards_and_ordered_children() {
    let e = env(1).await;
    e.create("ordered", 10, true).await;
    e.create("loose", 10, false).await;
    e.c.put(P, L, &["p1".into(), "p2".into()], None)
        .await
        .assert_ok();
    e.c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/shards/0")).q("action", "split"))
        .await
        .assert_ok();
    // Ordered: children 1 and 2 wait for shard 0; unordered: all three at once.
    assert_eq!(e.beat("ordered", "a", &[]).await.unwrap(), vec![0]);
    assert_eq!(e.beat("loose", "a", &[]).await.unwrap(), vec![0, 1, 2]);
    // A checkpoint short of the end does not finish the parent.
    let begin = e.c.cursor(P, L, 0, "begin").await;
    e.checkpoint("ordered", "a", "false", 0, &begin)
        .await
        .assert_ok();
    assert_eq!(e.beat("ordered", "a", &[0]).await.unwrap(), vec![0]);
    // Its end cursor does: shard 0 leaves the answer and the children are released.
    let end = e.c.cursor(P, L, 0, "end").await;
    e.checkpoint("ordered", "a", "false", 0, &end)
        .await
        .assert_ok();
    assert_eq!(e.beat("ordered", "a", &[0]).await.unwrap(), vec![1, 2]);
    // A forced checkpoint away from the end re-opens it.
    e.checkpoint("ordered", "", "true", 0, &begin)
        .await
        .assert_ok();
    assert_eq!(
        e.beat("ordered", "a", &[1, 2]).await.unwrap(),
        vec![0, 1, 2]
    );
}
