//! Signatures: in `verify` mode every route rejects a wrong secret; `off` mode accepts
//! unsigned requests but still rejects malformed Authorization headers.

use serde_json::json;
use sls_emulator::config::AuthMode;
use sls_emulator::testing::TestServer;

use crate::support::{Client, Req, Sign};

pub(crate) const P: &str = "auth-test";
pub(crate) const L: &str = "ls";
pub(crate) const G: &str = "cg";

/// One request per route the emulator serves.
pub(crate) fn every_route() -> Vec<Req> {
    let shard = format!("/logstores/{L}/shards/0");
    let groups = format!("/logstores/{L}/consumergroups");
    let group = format!("{groups}/{G}");
    let ls = format!("/logstores/{L}");
    let index = format!("{ls}/index");
    vec![
        Req::new("GET", None, "/"),
        Req::new("GET", Some(P), "/"),
        Req::new("POST", Some("auth-other"), "/").json(json!({"projectName": "auth-other"})),
        Req::new("PUT", Some(P), "/").json(json!({"description": "x"})),
        Req::new("DELETE", Some(P), "/"),
        Req::new("GET", Some(P), "/logstores"),
        Req::new("POST", Some(P), "/logstores")
            .json(json!({"logstoreName": "x2", "ttl": 1, "shardCount": 1})),
        Req::new("GET", Some(P), &format!("/logstores/{L}")),
        Req::new("PUT", Some(P), &format!("/logstores/{L}")).json(json!({"ttl": 2})),
        Req::new("DELETE", Some(P), &format!("/logstores/{L}")),
        Req::new("POST", Some(P), &format!("/logstores/{L}"))
            .h("content-type", "application/x-protobuf")
            .body(vec![]),
        Req::new("GET", Some(P), &format!("/logstores/{L}/shards")),
        Req::new("POST", Some(P), &format!("/logstores/{L}/shards/lb"))
            .h("content-type", "application/x-protobuf")
            .body(vec![]),
        Req::new("POST", Some(P), &format!("/logstores/{L}/shards/route"))
            .q("key", "00")
            .h("content-type", "application/x-protobuf"),
        Req::new("GET", Some(P), &shard)
            .q("type", "cursor")
            .q("from", "begin"),
        Req::new("GET", Some(P), &shard)
            .q("type", "cursor_time")
            .q("cursor", "MA=="),
        Req::new("GET", Some(P), &shard)
            .q("type", "log")
            .q("cursor", "MA==")
            .q("count", "1"),
        Req::new("POST", Some(P), &shard).q("action", "split"),
        Req::new("POST", Some(P), &shard).q("action", "merge"),
        Req::new("DELETE", Some(P), &shard),
        Req::new("POST", Some(P), &groups)
            .json(json!({"consumerGroup": "cg-2", "timeout": 20, "order": false})),
        Req::new("GET", Some(P), &groups),
        Req::new("PUT", Some(P), &group).json(json!({"timeout": 30, "order": true})),
        Req::new("DELETE", Some(P), &group),
        Req::new("POST", Some(P), &group)
            .q("type", "heartbeat")
            .q("consumer", "c1")
            .json(json!([])),
        Req::new("POST", Some(P), &group)
            .q("type", "checkpoint")
            .q("consumer", "")
            .q("forceSuccess", "true")
            .json(json!({"shard": 0, "checkpoint": "MQ=="})),
        Req::new("GET", Some(P), &group).q("shard", "0"),
        Req::new("POST", Some(P), &index).json(json!({"keys": {"a": {"type": "long"}}})),
        Req::new("PUT", Some(P), &index).json(json!({"keys": {"a": {"type": "long"}}})),
        Req::new("GET", Some(P), &index),
        Req::new("DELETE", Some(P), &index),
        Req::new("GET", Some(P), &ls)
            .q("type", "log")
            .q("from", "0")
            .q("to", "1"),
        Req::new("POST", Some(P), &format!("{ls}/logs")).json(json!({"from": 0, "to": 1})),
        Req::new("GET", Some(P), &ls)
            .q("type", "histogram")
            .q("from", "0")
            .q("to", "1"),
        Req::new("GET", Some(P), &index)
            .q("type", "histogram")
            .q("from", "0")
            .q("to", "1"),
        Req::new("GET", Some(P), "/logs").q("query", "select 1"),
        Req::new("GET", Some(P), "/unknown"),
    ]
}

#[tokio::test]
async fn wrong_secret_is_rejected_on_every_route_and_nothing_changes() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    let groups = format!("/logstores/{L}/consumergroups");
    c.send(
        Req::new("POST", Some(P), &groups)
            .json(json!({"consumerGroup": G, "timeout": 20, "order": false})),
    )
    .await
    .assert_ok();
    for req in every_route() {
        let what = format!("{} {} {:?}", req.method, req.path, req.query);
        c.send(req.clone().sign(Sign::WrongSecret))
            .await
            .assert_case_error(&what, 401, "SignatureNotMatch");
        c.send(req.sign(Sign::None))
            .await
            .assert_case_error(&what, 401, "Unauthorized");
    }
    // The shard, the consumer group and its (unset) checkpoint survived too.
    let shards = c
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
        .await;
    shards.assert_ok();
    let shards = shards.json();
    assert_eq!(
        (
            shards[0]["shardID"].clone(),
            shards[0]["status"].clone(),
            shards.as_array().map(Vec::len)
        ),
        (json!(0), json!("readwrite"), Some(1)),
        "{shards}"
    );
    let list = c.send(Req::new("GET", Some(P), &groups)).await;
    list.assert_ok();
    assert_eq!(
        list.json(),
        json!([{"name": G, "timeout": 20, "order": false}])
    );
    let cp = c
        .send(Req::new("GET", Some(P), &format!("{groups}/{G}")))
        .await;
    cp.assert_ok();
    assert_eq!(cp.json()[0]["checkpoint"], "");
    // The project, logstore and its settings survived every rejected call.
    let ls = c
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}")))
        .await;
    ls.assert_ok();
    assert_eq!(ls.json()["ttl"], 30);
    assert!(
        c.send(Req::new("GET", Some("auth-other"), "/"))
            .await
            .status
            == 404
    );
}

#[tokio::test]
async fn unknown_key_skewed_date_and_malformed_headers() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    let r = c
        .send(Req::new("GET", Some(P), "/").h("authorization", "LOG someone-else:AAAA"))
        .await;
    r.assert_error(401, "Unauthorized");
    let r = c
        .send(Req::new("GET", Some(P), "/").h("authorization", "Bearer xyz"))
        .await;
    r.assert_error(401, "Unauthorized");
    let r = c
        .send(Req::new("GET", Some(P), "/").h("date", "Mon, 01 Jan 2001 00:00:00 GMT"))
        .await;
    r.assert_error(400, "RequestTimeExpired");
    let r = c
        .send(Req::new("GET", Some(P), "/").h("date", "yesterday"))
        .await;
    r.assert_error(400, "InvalidDateFormat");
}

#[tokio::test]
async fn auth_off_accepts_unsigned_but_not_malformed() {
    let server = TestServer::start_with(|c| c.auth = AuthMode::Off)
        .await
        .unwrap();
    let c = Client::new(&server);
    c.send(
        Req::new("POST", Some(P), "/")
            .json(json!({"projectName": P}))
            .sign(Sign::None),
    )
    .await
    .assert_ok();
    c.send(Req::new("GET", Some(P), "/").sign(Sign::WrongSecret))
        .await
        .assert_ok();
    let r = c
        .send(Req::new("GET", Some(P), "/").h("authorization", "LOG no-colon"))
        .await;
    r.assert_error(401, "Unauthorized");
}
