//! The official Rust SDK (`aliyun-log-rust-sdk` 0.3.3): every call it makes for the core
//! APIs, with the data read back and compared field by field.

use std::collections::BTreeMap;

use aliyun_log_rust_sdk::get_cursor_models::CursorPos;
use aliyun_log_rust_sdk::{Client, Config, Error, FromConfig};
use aliyun_log_sdk_protobuf::{Log, LogGroup};
use sls_e2e::unique_project;
use sls_emulator::testing::TestServer;

pub fn client(server: &TestServer, secret: Option<&str>) -> Client {
    let c = server.config();
    let config = Config::builder()
        .endpoint(server.endpoint())
        .access_key(&c.access_key_id, secret.unwrap_or(&c.access_key_secret))
        .build()
        .unwrap();
    Client::from_config(config).unwrap()
}

/// A log, flattened for comparison: (topic, source, tags, time, contents).
type Flat = (
    String,
    String,
    Vec<(String, String)>,
    u32,
    Vec<(String, String)>,
);

fn flatten(g: &LogGroup) -> Vec<Flat> {
    let tags: Vec<(String, String)> = g
        .log_tags()
        .iter()
        .map(|t| (t.key().clone(), t.value().clone()))
        .collect();
    g.logs()
        .iter()
        .map(|l| {
            (
                g.topic().clone().unwrap_or_default(),
                g.source().clone().unwrap_or_default(),
                tags.clone(),
                *l.time(),
                l.contents()
                    .iter()
                    .map(|c| (c.key().clone(), c.value().clone()))
                    .collect(),
            )
        })
        .collect()
}

fn group(i: usize, logs: usize, now: u32) -> LogGroup {
    let mut g = LogGroup::new();
    for j in 0..logs {
        let mut log = Log::from_unixtime(now + j as u32);
        log.add_content_kv("group", i.to_string())
            .add_content_kv("idx", j.to_string())
            .add_content_kv("msg", format!("héllo wörld {i}/{j} ✓"));
        g.add_log(log);
    }
    g.set_topic(format!("topic-{}", i % 3))
        .set_source(format!("10.0.0.{i}"));
    g.add_log_tag_kv("tag", format!("v{i}"));
    g
}

async fn pull_all(c: &Client, project: &str, ls: &str, shard: i32) -> (Vec<LogGroup>, String) {
    let begin = c
        .get_cursor(project, ls, shard)
        .cursor_pos(CursorPos::Begin)
        .send()
        .await
        .unwrap();
    let end = c
        .get_cursor(project, ls, shard)
        .cursor_pos(CursorPos::End)
        .send()
        .await
        .unwrap();
    let end = end.get_body().cursor().to_string();
    let mut cursor = begin.get_body().cursor().to_string();
    let mut out = Vec::new();
    while cursor != end {
        let r = c
            .pull_logs(project, ls, shard)
            .cursor(&cursor)
            .count(7)
            .send()
            .await
            .unwrap();
        let body = r.take_body();
        assert!(
            *body.log_group_count() > 0,
            "pull before the end returned nothing"
        );
        assert_eq!(
            *body.log_group_count() as usize,
            body.log_group_list().len()
        );
        cursor = body.next_cursor().clone();
        out.extend(body.into_log_group_list());
    }
    (out, end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_create_write_read_delete() {
    let server = TestServer::start().await.unwrap();
    let c = client(&server, None);
    let p = unique_project("rs-sdk");
    let ls = "app-log";

    c.create_project(&p)
        .description("e2e")
        .send()
        .await
        .unwrap();
    let got = c.get_project(&p).send().await.unwrap();
    assert_eq!(got.get_body().project_name(), &p);
    let listed = c.list_projects(0, 100).send().await.unwrap();
    assert!(listed
        .get_body()
        .projects()
        .iter()
        .any(|x| x.project_name() == &p));

    c.create_logstore(&p, ls)
        .shard_count(4)
        .ttl(7)
        .send()
        .await
        .unwrap();
    let info = c.get_logstore(&p, ls).send().await.unwrap();
    assert_eq!(*info.get_body().ttl(), 7);
    assert_eq!(*info.get_body().shard_count(), 4);

    let shards = c.list_shards(&p, ls).send().await.unwrap();
    let shards = shards.get_body().shards();
    assert_eq!(shards.len(), 4);
    let expected = ["0", "4", "8", "c"];
    for (s, first) in shards.iter().zip(expected) {
        assert_eq!(s.status(), "readwrite");
        assert_eq!(s.inclusive_begin_key().len(), 32);
        assert!(s.inclusive_begin_key().starts_with(first));
    }
    assert_eq!(
        shards[3].exclusive_end_key(),
        "ffffffffffffffffffffffffffffffff"
    );

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let mut written: Vec<Flat> = Vec::new();
    for i in 0..12 {
        let g = group(i, 1 + i % 4, now);
        written.extend(flatten(&g));
        c.put_logs(&p, ls).log_group(g).send().await.unwrap();
    }

    let mut read: Vec<Flat> = Vec::new();
    let mut per_shard = BTreeMap::new();
    for shard in 0..4 {
        let (groups, end) = pull_all(&c, &p, ls, shard).await;
        per_shard.insert(shard, groups.len());
        for g in &groups {
            read.extend(flatten(g));
        }
        // At the end: no data and the same cursor back.
        let r = c
            .pull_logs(&p, ls, shard)
            .cursor(&end)
            .count(10)
            .send()
            .await
            .unwrap();
        assert_eq!(*r.get_body().log_group_count(), 0);
        assert_eq!(r.get_body().next_cursor(), &end);
    }
    written.sort();
    read.sort();
    assert_eq!(read, written, "logs read back differ from logs written");
    // Load balancing spread the 12 groups over all 4 shards.
    assert!(per_shard.values().all(|n| *n > 0), "{per_shard:?}");

    // A cursor by time: from a time before everything is the begin cursor.
    let t = c
        .get_cursor(&p, ls, 0)
        .cursor_pos(CursorPos::UnixTimeStamp(i64::from(now) - 3600))
        .send()
        .await
        .unwrap();
    let b = c
        .get_cursor(&p, ls, 0)
        .cursor_pos(CursorPos::Begin)
        .send()
        .await
        .unwrap();
    assert_eq!(t.get_body().cursor(), b.get_body().cursor());
    let future = c
        .get_cursor(&p, ls, 0)
        .cursor_pos(CursorPos::UnixTimeStamp(i64::from(now) + 3600))
        .send()
        .await
        .unwrap();
    let e = c
        .get_cursor(&p, ls, 0)
        .cursor_pos(CursorPos::End)
        .send()
        .await
        .unwrap();
    assert_eq!(future.get_body().cursor(), e.get_body().cursor());

    c.delete_logstore(&p, ls).send().await.unwrap();
    c.delete_project(&p).send().await.unwrap();
    match c.get_project(&p).send().await {
        Err(Error::Server {
            error_code,
            http_status,
            ..
        }) => {
            assert_eq!(error_code, "ProjectNotExist");
            assert_eq!(http_status, 404);
        }
        Err(other) => panic!("expected ProjectNotExist, got {other:?}"),
        Ok(_) => panic!("project still exists after delete"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_wrong_secret_is_rejected() {
    let server = TestServer::start().await.unwrap();
    let good = client(&server, None);
    let p = unique_project("rs-auth");
    good.create_project(&p)
        .description("e2e")
        .send()
        .await
        .unwrap();
    let bad = client(&server, Some("not-the-secret"));
    for result in [
        bad.get_project(&p).send().await.map(|_| ()),
        bad.list_shards(&p, "ls").send().await.map(|_| ()),
        bad.put_logs(&p, "ls")
            .log_group(group(0, 1, 1_700_000_000))
            .send()
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(Error::Server {
                error_code,
                http_status,
                ..
            }) => {
                assert_eq!(error_code, "SignatureNotMatch");
                assert_eq!(http_status, 401);
            }
            other => panic!("expected SignatureNotMatch, got {other:?}"),
        }
    }
}
