//! The client against an in-process emulator: every API, both signature versions, every
//! compression, typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod consumer;
mod exactly_once;
mod producer;

use sls_client::{
    CheckpointUpdate, Client, CompressType, Config, ConsumerGroup, CursorFrom, Error, Log,
    LogContent, LogGroup, LogQuery, LogstoreSpec, SplitAt,
};
use sls_emulator::testing::TestServer;

pub fn client_for(server: &TestServer, adjust: impl FnOnce(Config) -> Config) -> Client {
    let c = server.config();
    let config = Config::new(&server.endpoint(), &c.access_key_id, &c.access_key_secret)
        .unwrap()
        .with_connect_to(server.addr());
    Client::new(adjust(config)).unwrap()
}

fn group(ids: &[&str]) -> LogGroup {
    LogGroup {
        logs: ids
            .iter()
            .map(|id| Log {
                time: Some(1_700_000_000),
                contents: vec![LogContent {
                    key: "id".into(),
                    value: id.to_string().into(),
                }],
                time_ns: None,
            })
            .collect(),
        topic: Some("t".into()),
        source: Some("s".into()),
        ..Default::default()
    }
}

async fn all_ids(c: &Client, p: &str, ls: &str, shard: u32) -> Vec<String> {
    let mut cursor = c.get_cursor(p, ls, shard, CursorFrom::Begin).await.unwrap();
    let mut out = Vec::new();
    loop {
        let r = c.pull_logs(p, ls, shard, &cursor, 3, None).await.unwrap();
        for g in &r.groups {
            for l in &g.logs {
                out.push(String::from_utf8(l.contents[0].value.to_vec()).unwrap());
            }
        }
        if r.next_cursor == cursor {
            assert!(r.end_of_cursor);
            return out;
        }
        cursor = r.next_cursor;
    }
}

#[tokio::test]
async fn projects_and_logstores() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cl-proj", "first").await.unwrap();
    c.update_project("cl-proj", "second").await.unwrap();
    let p = c.get_project("cl-proj").await.unwrap();
    assert_eq!(
        (p.name.as_str(), p.description.as_str(), p.status.as_str()),
        ("cl-proj", "second", "Normal")
    );
    let (list, total) = c.list_projects(0, 10).await.unwrap();
    assert_eq!((list.len(), total), (1, 1));

    let mut spec = LogstoreSpec::new("ls", 3);
    c.create_logstore("cl-proj", &spec).await.unwrap();
    spec.ttl = 9;
    c.update_logstore("cl-proj", &spec).await.unwrap();
    let ls = c.get_logstore("cl-proj", "ls").await.unwrap();
    assert_eq!((ls.ttl, ls.shard_count), (9, 3));
    assert_eq!(
        c.list_logstores("cl-proj", 0, 10).await.unwrap(),
        (vec!["ls".to_string()], 1)
    );
    c.delete_logstore("cl-proj", "ls").await.unwrap();
    c.delete_project("cl-proj").await.unwrap();

    match c.get_project("cl-proj").await {
        Err(e @ Error::Server { .. }) => {
            assert_eq!(e.code(), Some("ProjectNotExist"));
            assert!(!e.is_retryable());
            let Error::Server {
                status, request_id, ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!(status, 404);
            assert_eq!(request_id.map(|r| r.len()), Some(24));
        }
        other => panic!("expected ProjectNotExist, got {other:?}"),
    }
}

#[tokio::test]
async fn write_and_read_with_every_compression_and_signature() {
    let server = TestServer::start().await.unwrap();
    let admin = client_for(&server, |c| c);
    admin.create_project("cl-data", "").await.unwrap();
    admin
        .create_logstore("cl-data", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    // An STS credential with full rights: the token must travel, signed, with its own key.
    let mut sts = sls_emulator::access::Credential::new("STS.client", "sts-secret");
    sts.security_token = Some("sts-token".into());
    sts.expires_secs = Some(4_102_444_800);
    sts.full_access = true;
    server.access().insert(sts).unwrap();
    let sts_client = Client::new(
        Config::new(&server.endpoint(), "STS.client", "sts-secret")
            .unwrap()
            .with_connect_to(server.addr())
            .with_compression(CompressType::None)
            .with_v4("cn-hangzhou")
            .with_security_token("sts-token"),
    )
    .unwrap();
    let variants: Vec<(&str, Client)> = vec![
        ("lz4-v1", client_for(&server, |c| c)),
        (
            "zstd-v1",
            client_for(&server, |c| c.with_compression(CompressType::Zstd)),
        ),
        (
            "deflate-v4",
            client_for(&server, |c| {
                c.with_compression(CompressType::Deflate)
                    .with_v4("cn-hangzhou")
            }),
        ),
        ("none-v4-sts", sts_client),
    ];
    let mut expected0 = Vec::new();
    for (name, c) in &variants {
        // Key 00… lands in shard 0, key 80… in shard 1.
        let id0 = format!("{name}-a");
        let id1 = format!("{name}-b");
        c.put_logs(
            "cl-data",
            "ls",
            &group(&[&id0]),
            Some("00000000000000000000000000000000"),
        )
        .await
        .unwrap();
        c.put_logs("cl-data", "ls", &group(&[&id1]), Some("80"))
            .await
            .unwrap();
        expected0.push(id0);
        // Every variant reads everything back.
        assert_eq!(all_ids(c, "cl-data", "ls", 0).await, expected0, "{name}");
    }
    assert_eq!(all_ids(&admin, "cl-data", "ls", 1).await.len(), 4);

    // Cursor arithmetic, time cursors, end cursors.
    let begin = admin
        .get_cursor("cl-data", "ls", 0, CursorFrom::Begin)
        .await
        .unwrap();
    let end = admin
        .get_cursor("cl-data", "ls", 0, CursorFrom::End)
        .await
        .unwrap();
    assert_eq!(
        admin
            .get_cursor("cl-data", "ls", 0, CursorFrom::Time(0))
            .await
            .unwrap(),
        begin
    );
    assert_eq!(
        admin
            .get_cursor("cl-data", "ls", 0, CursorFrom::Time(i64::from(u32::MAX)))
            .await
            .unwrap(),
        end
    );
    let t = admin
        .get_cursor_time("cl-data", "ls", 0, &begin)
        .await
        .unwrap();
    assert!(t > 1_700_000_000);
    let second = sls_protocol::cursor::encode_cursor(
        sls_protocol::cursor::decode_cursor(&begin).unwrap() + 1,
    );
    let r = admin
        .pull_logs("cl-data", "ls", 0, &begin, 100, Some(&second))
        .await
        .unwrap();
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.next_cursor, second);

    // A wrong secret is a 401 the client does not retry.
    let bad = client_for(&server, |mut c| {
        c.access_key_secret = "nope".into();
        c
    });
    let e = bad
        .put_logs("cl-data", "ls", &group(&["x"]), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureNotMatch"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn shards_split_merge_delete() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cl-shards", "").await.unwrap();
    c.create_logstore("cl-shards", &LogstoreSpec::new("ls", 1))
        .await
        .unwrap();
    let split = c
        .split_shard("cl-shards", "ls", 0, SplitAt::Even(2))
        .await
        .unwrap();
    assert_eq!(
        split
            .iter()
            .map(|s| (s.id.get(), s.is_readwrite()))
            .collect::<Vec<_>>(),
        vec![(0, false), (1, true), (2, true)]
    );
    assert_eq!(split[1].range().unwrap().1, 1u128 << 127);
    let split = c
        .split_shard("cl-shards", "ls", 2, SplitAt::Key(3u128 << 126))
        .await
        .unwrap();
    assert_eq!(
        split.iter().map(|s| s.id.get()).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let merged = c.merge_shard("cl-shards", "ls", 1).await.unwrap();
    assert_eq!(
        merged.iter().map(|s| s.id.get()).collect::<Vec<_>>(),
        vec![5, 1, 3]
    );
    c.delete_shard("cl-shards", "ls", 0).await.unwrap();
    let ids: Vec<u32> = c
        .list_shards("cl-shards", "ls")
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.get())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let e = c.delete_shard("cl-shards", "ls", 5).await.unwrap_err();
    assert_eq!(e.code(), Some("ParameterInvalid"));
}

#[tokio::test]
async fn consumer_groups_heartbeats_checkpoints() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cl-cg", "").await.unwrap();
    c.create_logstore("cl-cg", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let mut g = ConsumerGroup {
        name: "g".into(),
        timeout: 30,
        order: false,
    };
    c.create_consumer_group("cl-cg", "ls", &g).await.unwrap();
    let e = c
        .create_consumer_group("cl-cg", "ls", &g)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConsumerGroupAlreadyExist"));
    g.order = true;
    c.update_consumer_group("cl-cg", "ls", &g).await.unwrap();
    assert_eq!(
        c.list_consumer_groups("cl-cg", "ls").await.unwrap(),
        vec![g.clone()]
    );

    assert_eq!(
        c.heartbeat("cl-cg", "ls", "g", "w1", &[]).await.unwrap(),
        vec![0, 1]
    );
    let cursor = c
        .get_cursor("cl-cg", "ls", 0, CursorFrom::End)
        .await
        .unwrap();
    let update = |consumer| CheckpointUpdate {
        consumer,
        shard: 0,
        checkpoint: &cursor,
        force: false,
    };
    c.update_checkpoint("cl-cg", "ls", "g", &update("w1"))
        .await
        .unwrap();
    let e = c
        .update_checkpoint("cl-cg", "ls", "g", &update("w2"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConsumerNotExist"));
    let cps = c.get_checkpoints("cl-cg", "ls", "g", None).await.unwrap();
    assert_eq!(cps.len(), 2);
    assert_eq!(
        (cps[0].checkpoint.as_str(), cps[0].consumer.as_str()),
        (cursor.as_str(), "w1")
    );
    assert_eq!(cps[1].checkpoint, "");
    assert_eq!(
        c.get_checkpoints("cl-cg", "ls", "g", Some(1))
            .await
            .unwrap()
            .len(),
        1
    );
    c.delete_consumer_group("cl-cg", "ls", "g").await.unwrap();
    let e = c
        .heartbeat("cl-cg", "ls", "g", "w1", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConsumerGroupNotExist"));
}

#[tokio::test]
async fn network_failures_are_retryable() {
    // Nothing listens on this port once the listener is dropped.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let config = Config::new(&format!("localhost:{}", addr.port()), "id", "secret")
        .unwrap()
        .with_connect_to(addr);
    let e = Client::new(config)
        .unwrap()
        .get_project("nothing-here")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Network(_)), "{e:?}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn index_get_logs_and_histograms() {
    let server = TestServer::start().await.unwrap();
    let c = client_for(&server, |c| c);
    c.create_project("cl-query", "").await.unwrap();
    c.create_logstore("cl-query", &LogstoreSpec::new("ls", 2))
        .await
        .unwrap();
    let no_index = c
        .get_logs("cl-query", "ls", &LogQuery::new(0, 1, "*"))
        .await
        .unwrap_err();
    assert_eq!(no_index.code(), Some("IndexConfigNotExist"));
    let index = serde_json::json!({
        "line": {"token": [" ", ",", "="]},
        "keys": {"id": {"type": "text", "token": [" "]}},
    });
    c.create_index("cl-query", "ls", &index).await.unwrap();
    assert_eq!(
        c.create_index("cl-query", "ls", &index)
            .await
            .unwrap_err()
            .code(),
        Some("IndexAlreadyExist")
    );
    let got = c.get_index("cl-query", "ls").await.unwrap();
    assert_eq!(got["index_mode"], "v2");
    c.put_logs("cl-query", "ls", &group(&["a1", "a2", "b1"]), None)
        .await
        .unwrap();

    let (from, to) = (1_700_000_000, 1_700_000_001);
    let page = c
        .get_logs("cl-query", "ls", &LogQuery::new(from, to, "id: a*"))
        .await
        .unwrap();
    assert_eq!(page.meta.progress, "Complete");
    assert_eq!(page.meta.count, 2);
    let ids: Vec<&str> = page.rows.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["a1", "a2"]);
    let mut q = LogQuery::new(from, to, "*");
    q.reverse = true;
    q.line = 1;
    let newest = c.get_logs("cl-query", "ls", &q).await.unwrap();
    assert_eq!(newest.rows[0]["id"], "b1");
    let sql = c
        .get_logs(
            "cl-query",
            "ls",
            &LogQuery::new(from, to, "* | select count(*) as n"),
        )
        .await
        .unwrap();
    assert!(sql.meta.has_sql);
    assert_eq!(sql.meta.keys, ["n"]);
    assert_eq!(sql.rows[0]["n"], "3");
    let h = c
        .get_histograms("cl-query", "ls", from, to, "id: b1")
        .await
        .unwrap();
    assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 1);

    let mut updated = index.clone();
    updated["keys"]["n"] = serde_json::json!({"type": "long"});
    c.update_index("cl-query", "ls", &updated).await.unwrap();
    c.delete_index("cl-query", "ls").await.unwrap();
    assert_eq!(
        c.get_index("cl-query", "ls").await.unwrap_err().code(),
        Some("IndexConfigNotExist")
    );
}
