//! Bad input gets the right SLS error, the server keeps serving, and stored data is unchanged.

use prost::Message;
use serde_json::json;
use sls_emulator::testing::TestServer;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::cursor::{decode_cursor, encode_cursor};
use sls_protocol::proto::{Log, LogGroup};

use crate::support::{group, Client, Req};

const P: &str = "bad-input";
const L: &str = "ls";

fn put(body: Vec<u8>) -> Req {
    Req::new("POST", Some(P), &format!("/logstores/{L}/shards/lb")).body(body)
}

fn pb(body: Vec<u8>) -> Req {
    put(body).h("content-type", "application/x-protobuf")
}

/// A valid protobuf write to `/shards/route?key=<valid key>&seqid=<seqid>`.
fn routed_with_seqid(seqid: &str) -> Req {
    Req::new("POST", Some(P), &format!("/logstores/{L}/shards/route"))
        .q("key", "00")
        .q("seqid", seqid)
        .h("content-type", "application/x-protobuf")
        .body(valid_raw())
}

fn valid_raw() -> Vec<u8> {
    group(&["x".to_string()]).encode_to_vec()
}

/// Every shard's ids, to compare before and after.
async fn snapshot(c: &Client) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for s in 0..2 {
        all.push(c.read_ids(P, L, s).await);
    }
    all
}

#[tokio::test]
async fn bad_writes_are_rejected_and_change_nothing() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    for i in 0..4 {
        c.put(P, L, &[format!("keep-{i}")], None).await.assert_ok();
    }
    let before = snapshot(&c).await;
    assert_eq!(before.iter().map(Vec::len).sum::<usize>(), 4);

    let raw = valid_raw();
    let lz4 = compress(CompressType::Lz4, &raw).unwrap();
    let no_time = LogGroup {
        logs: vec![Log {
            time: None,
            ..Default::default()
        }],
        ..Default::default()
    }
    .encode_to_vec();
    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "garbage protobuf",
            pb(b"\xff\xff\xff\xff not protobuf".to_vec()),
            400,
            "PostBodyInvalid",
        ),
        (
            "truncated protobuf",
            pb(raw[..raw.len() - 1].to_vec()),
            400,
            "PostBodyInvalid",
        ),
        ("log without Time", pb(no_time), 400, "PostBodyInvalid"),
        (
            "lz4 that is not lz4",
            pb(b"\x00\x01\x02garbage-garbage".to_vec())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", "500"),
            400,
            "PostBodyUncompressError",
        ),
        (
            "lz4 with a raw size too small",
            pb(lz4.clone())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", &(raw.len() - 1).to_string()),
            400,
            "PostBodyUncompressError",
        ),
        (
            "lz4 with a raw size too large",
            pb(lz4.clone())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", &(raw.len() + 7).to_string()),
            400,
            "PostBodyUncompressError",
        ),
        (
            "zstd that is lz4",
            pb(lz4.clone())
                .h("x-log-compresstype", "zstd")
                .h("x-log-bodyrawsize", &raw.len().to_string()),
            400,
            "PostBodyUncompressError",
        ),
        (
            "raw size not a number",
            pb(lz4.clone())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", "many"),
            400,
            "InvalidBodyRawSize",
        ),
        (
            "compressed without raw size",
            pb(lz4.clone()).h("x-log-compresstype", "lz4"),
            400,
            "MissingBodyRawSize",
        ),
        (
            "compressed with an empty raw size",
            pb(lz4.clone())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", ""),
            400,
            "InvalidBodyRawSize",
        ),
        (
            "unknown compress type",
            pb(lz4.clone()).h("x-log-compresstype", "snappy"),
            400,
            "InvalidCompressType",
        ),
        (
            "raw size over 10 MiB",
            pb(lz4.clone())
                .h("x-log-compresstype", "lz4")
                .h("x-log-bodyrawsize", "10485761"),
            413,
            "PostBodyTooLarge",
        ),
        (
            "body over the wire limit",
            pb(vec![b'a'; 11 * 1024 * 1024]),
            413,
            "PostBodyTooLarge",
        ),
        (
            "no content type",
            put(raw.clone()),
            400,
            "MissingContentType",
        ),
        (
            "wrong content type",
            put(raw.clone()).h("content-type", "text/plain"),
            400,
            "InvalidContentType",
        ),
        (
            "JSON body that is not JSON",
            put(b"{nope".to_vec()).h("content-type", "application/json"),
            400,
            "PostBodyInvalid",
        ),
        (
            "JSON body without __time__",
            Req::new("POST", Some(P), &format!("/logstores/{L}/shards/lb"))
                .json(json!({"__logs__": [{"k": "v"}]})),
            400,
            "PostBodyInvalid",
        ),
        (
            "route without key",
            Req::new("POST", Some(P), &format!("/logstores/{L}/shards/route"))
                .h("content-type", "application/x-protobuf")
                .body(raw.clone()),
            400,
            "ParameterInvalid",
        ),
        (
            "route with a non-hex key",
            Req::new("POST", Some(P), &format!("/logstores/{L}/shards/route"))
                .q("key", "not-hex")
                .h("content-type", "application/x-protobuf")
                .body(raw.clone()),
            400,
            "ParameterInvalid",
        ),
        (
            "empty seqid",
            routed_with_seqid(""),
            400,
            "ParameterInvalid",
        ),
        (
            "negative seqid",
            routed_with_seqid("-1"),
            400,
            "ParameterInvalid",
        ),
        (
            "signed seqid",
            routed_with_seqid("+1"),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid with a space",
            routed_with_seqid(" 1"),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid not a number",
            routed_with_seqid("one"),
            400,
            "ParameterInvalid",
        ),
        (
            "fractional seqid",
            routed_with_seqid("1.5"),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid over u64",
            routed_with_seqid("18446744073709551616"),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid without a key",
            Req::new("POST", Some(P), &format!("/logstores/{L}/shards/route"))
                .q("seqid", "1")
                .h("content-type", "application/x-protobuf")
                .body(raw.clone()),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid on a load-balanced write",
            pb(raw.clone()).q("seqid", "1"),
            400,
            "ParameterInvalid",
        ),
        (
            "seqid on Go's POST /logstores/{logstore}",
            Req::new("POST", Some(P), &format!("/logstores/{L}"))
                .q("seqid", "1")
                .h("content-type", "application/x-protobuf")
                .body(raw.clone()),
            400,
            "ParameterInvalid",
        ),
        (
            "unknown project",
            Req::new(
                "POST",
                Some("no-such-project"),
                &format!("/logstores/{L}/shards/lb"),
            )
            .h("content-type", "application/x-protobuf")
            .body(raw.clone()),
            404,
            "ProjectNotExist",
        ),
        (
            "unknown logstore",
            Req::new("POST", Some(P), "/logstores/nope/shards/lb")
                .h("content-type", "application/x-protobuf")
                .body(raw.clone()),
            404,
            "LogStoreNotExist",
        ),
    ];
    for (name, req, status, code) in cases {
        c.send(req).await.assert_case_error(name, status, code);
    }
    // Still serving, and nothing changed.
    assert_eq!(snapshot(&c).await, before);
    c.put(P, L, &["after".to_string()], None).await.assert_ok();
    // No refused seqid was recorded: the key takes the smallest id.
    c.put_seqid(P, L, &["first".to_string()], "00", "0")
        .await
        .assert_ok();
}

#[tokio::test]
async fn bad_reads_and_names_get_sls_errors() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.put(P, L, &["a".into()], Some("00")).await.assert_ok();
    let begin = c.cursor(P, L, 0, "begin").await;
    let end = c.cursor(P, L, 0, "end").await;
    let pull = |cursor: &str| {
        Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
            .q("type", "log")
            .q("cursor", cursor)
            .q("count", "10")
    };
    let after_end = encode_cursor(decode_cursor(&end).unwrap() + 1);
    let before_begin = encode_cursor(decode_cursor(&begin).unwrap() - 1);
    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "garbage cursor",
            pull("%%%not-base64"),
            400,
            "ParameterInvalid",
        ),
        ("base64 of text", pull("aGVsbG8="), 400, "ParameterInvalid"),
        // 25 base64 characters can never be valid base64.
        (
            "truncated cursor",
            pull(&begin[..25]),
            400,
            "ParameterInvalid",
        ),
        (
            "cursor after the end",
            pull(&after_end),
            400,
            "InvalidCursor",
        ),
        (
            "cursor before the begin",
            pull(&before_begin),
            400,
            "InvalidCursor",
        ),
        (
            "missing cursor",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0")).q("type", "log"),
            400,
            "ParameterInvalid",
        ),
        (
            "count 0",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "log")
                .q("cursor", &begin)
                .q("count", "0"),
            400,
            "ParameterInvalid",
        ),
        (
            "count 1001",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "log")
                .q("cursor", &begin)
                .q("count", "1001"),
            400,
            "ParameterInvalid",
        ),
        (
            "end cursor out of range",
            pull(&begin).q("end_cursor", &after_end),
            400,
            "InvalidCursor",
        ),
        (
            "unknown shard",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/9"))
                .q("type", "cursor")
                .q("from", "begin"),
            404,
            "ShardNotExist",
        ),
        (
            "shard id not a number",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/x"))
                .q("type", "cursor")
                .q("from", "begin"),
            400,
            "ParameterInvalid",
        ),
        (
            "bad from",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "cursor")
                .q("from", "yesterday"),
            400,
            "ParameterInvalid",
        ),
        (
            "bad type",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0")).q("type", "nope"),
            400,
            "ParameterInvalid",
        ),
        (
            "cursor time of garbage",
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "cursor_time")
                .q("cursor", "zz"),
            400,
            "ParameterInvalid",
        ),
        (
            "unknown logstore",
            Req::new("GET", Some(P), "/logstores/nope/shards"),
            404,
            "LogStoreNotExist",
        ),
        (
            "unknown project",
            Req::new("GET", Some("nope-project"), "/"),
            404,
            "ProjectNotExist",
        ),
        (
            "invalid project name",
            Req::new("POST", Some("Bad_Name"), "/").json(json!({"projectName": "Bad_Name"})),
            400,
            "ParameterInvalid",
        ),
        (
            "short project name",
            Req::new("POST", None, "/").json(json!({"projectName": "ab"})),
            400,
            "ParameterInvalid",
        ),
        (
            "project exists",
            Req::new("POST", Some(P), "/").json(json!({"projectName": P})),
            400,
            "ProjectAlreadyExist",
        ),
        (
            "invalid logstore name",
            Req::new("POST", Some(P), "/logstores")
                .json(json!({"logstoreName": "-x-", "ttl": 1, "shardCount": 1})),
            400,
            "ParameterInvalid",
        ),
        (
            "logstore exists",
            Req::new("POST", Some(P), "/logstores")
                .json(json!({"logstoreName": L, "ttl": 1, "shardCount": 1})),
            400,
            "LogStoreAlreadyExist",
        ),
        (
            "ttl out of range",
            Req::new("POST", Some(P), "/logstores")
                .json(json!({"logstoreName": "t0", "ttl": 0, "shardCount": 1})),
            400,
            "ParameterInvalid",
        ),
        (
            "autoSplit without a maxSplitShard",
            Req::new("POST", Some(P), "/logstores").json(
                json!({"logstoreName": "t2", "ttl": 1, "shardCount": 1, "autoSplit": true, "maxSplitShard": 0}),
            ),
            400,
            "ParameterInvalid",
        ),
        (
            "shardCount wrong type",
            Req::new("POST", Some(P), "/logstores")
                .json(json!({"logstoreName": "t1", "ttl": 1, "shardCount": "two"})),
            400,
            "ParameterInvalid",
        ),
        (
            "create body not JSON",
            Req::new("POST", Some(P), "/logstores")
                .h("content-type", "application/json")
                .body("nope"),
            400,
            "PostBodyInvalid",
        ),
        (
            "update a missing logstore",
            Req::new("PUT", Some(P), "/logstores/nope").json(json!({"ttl": 3})),
            404,
            "LogStoreNotExist",
        ),
        (
            "update with a bad ttl",
            Req::new("PUT", Some(P), &format!("/logstores/{L}")).json(json!({"ttl": 99999})),
            400,
            "ParameterInvalid",
        ),
        (
            "no project in the Host",
            Req::new("GET", None, "/logstores"),
            400,
            "ParameterInvalid",
        ),
        (
            "unknown route",
            Req::new("GET", Some(P), "/no/such/route"),
            400,
            "ParameterInvalid",
        ),
        (
            "unsupported method",
            Req::new("PATCH", Some(P), "/logstores"),
            400,
            "ParameterInvalid",
        ),
        (
            "GetLogs needs an index",
            Req::new("GET", Some(P), &format!("/logstores/{L}")).q("type", "log"),
            400,
            "ParameterInvalid",
        ),
    ];
    for (name, req, status, code) in cases {
        c.send(req).await.assert_case_error(name, status, code);
    }
    // The failed update changed nothing; no half-created logstores.
    let ls = c
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}")))
        .await;
    assert_eq!(ls.json()["ttl"], 30);
    let list = c.send(Req::new("GET", Some(P), "/logstores")).await;
    assert_eq!(list.json()["logstores"], json!([L]));
    assert_eq!(c.read_ids(P, L, 0).await, vec!["a".to_string()]);
}
