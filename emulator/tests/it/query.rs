//! Indexes and queries over HTTP: index CRUD and its errors, GetLogs v1 and v2 on the same
//! data (every wire rule of QUERY.md §1), paging, order, topics, histograms that add up to
//! the GetLogs count, and an index that survives a restart.

use serde_json::{json, Value};
use sls_emulator::testing::TestServer;

use crate::support::{Client, Req, Resp};

const P: &str = "query-test";
const L: &str = "app";

fn index() -> Value {
    let tokens = json!([
        ",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<", ">", "/",
        ":", "\n", "\t", "\r"
    ]);
    json!({
        "line": {"token": tokens, "caseSensitive": false},
        "keys": {
            "method": {"type": "text", "token": tokens, "caseSensitive": false, "doc_value": true},
            "status": {"type": "long", "doc_value": true},
            "latency": {"type": "double", "doc_value": true},
        },
    })
}

/// 100 logs at `base + i / 10`: every 4th a POST, every 10th status 500; topic `web` for
/// even `i`, `batch` for odd.
async fn write(c: &Client, base: i64) {
    for topic in ["web", "batch"] {
        let logs: Vec<Value> = (0..100)
            .filter(|i| (i % 2 == 0) == (topic == "web"))
            .map(|i| {
                json!({
                    "__time__": base + i / 10,
                    "id": format!("id-{i:03}"),
                    "method": if i % 4 == 0 { "POST" } else { "GET" },
                    "status": if i % 10 == 0 { "500" } else { "200" },
                    "latency": format!("{}.5", i),
                    "msg": format!("request {i} from user-{}", i % 3),
                })
            })
            .collect();
        let body = json!({"__topic__": topic, "__source__": "10.1.2.3", "__logs__": logs, "__tags__": {"env": "test"}});
        c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/shards/lb")).json(body))
            .await
            .assert_ok();
    }
}

fn v1(base: i64, query: &str) -> Req {
    Req::new("GET", Some(P), &format!("/logstores/{L}"))
        .q("type", "log")
        .q("from", &base.to_string())
        .q("to", &(base + 10).to_string())
        .q("query", query)
}

fn v2(base: i64, query: &str, extra: Value) -> Req {
    let mut body = json!({"from": base, "to": base + 10, "query": query});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    Req::new("POST", Some(P), &format!("/logstores/{L}/logs")).json(body)
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

async fn ok_json(c: &Client, r: Req) -> (Resp, Value) {
    let resp = c.send(r).await;
    resp.assert_ok();
    let v = resp.json();
    (resp, v)
}

#[tokio::test]
async fn index_crud_errors_and_restart() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    let path = format!("/logstores/{L}/index");
    c.send(Req::new("GET", Some(P), &path))
        .await
        .assert_error(400, "IndexConfigNotExist");
    c.send(Req::new("DELETE", Some(P), &path))
        .await
        .assert_error(400, "IndexConfigNotExist");
    c.send(Req::new("PUT", Some(P), &path).json(index()))
        .await
        .assert_error(400, "IndexConfigNotExist");
    for (case, bad) in [
        ("not JSON", Req::new("POST", Some(P), &path).body("{")),
        (
            "unknown key type",
            Req::new("POST", Some(P), &path).json(json!({"keys": {"a": {"type": "blob"}}})),
        ),
    ] {
        c.send(bad)
            .await
            .assert_case_error(case, 400, "IndexInfoInvalid");
    }
    c.send(Req::new("POST", Some(P), &path).json(index()))
        .await
        .assert_ok();
    c.send(Req::new("POST", Some(P), &path).json(index()))
        .await
        .assert_error(400, "IndexAlreadyExist");
    let (resp, got) = ok_json(&c, Req::new("GET", Some(P), &path)).await;
    assert_eq!(got["index_mode"], "v2");
    assert_eq!(got["keys"]["status"]["type"], "long");
    // Plain JSON: the Go SDK asks for deflate but reads the body raw.
    assert_eq!(resp.header("x-log-compresstype"), None);
    assert_eq!(resp.header("x-log-bodyrawsize"), None);

    let mut updated = index();
    updated["keys"]["user"] = json!({"type": "text", "token": [" "], "doc_value": true});
    c.send(Req::new("PUT", Some(P), &path).json(updated))
        .await
        .assert_ok();
    let server = server.restart().await.unwrap();
    let c = Client::new(&server);
    let (_, got) = ok_json(&c, Req::new("GET", Some(P), &path)).await;
    assert_eq!(got["keys"]["user"]["type"], "text", "{got}");
    c.send(Req::new("DELETE", Some(P), &path)).await.assert_ok();
    c.send(Req::new("GET", Some(P), &path))
        .await
        .assert_error(400, "IndexConfigNotExist");
}

#[tokio::test]
async fn a_query_without_an_index_is_refused() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    for r in [v1(0, "*"), v2(0, "*", json!({}))] {
        let resp = c.send(r).await;
        resp.assert_error(400, "IndexConfigNotExist");
        assert_eq!(resp.json()["errorMessage"], "logstore without index config");
    }
}

#[tokio::test]
async fn get_logs_v1_and_v2_answer_the_same_rows() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/index")).json(index()))
        .await
        .assert_ok();
    let base = 1_700_000_000;
    write(&c, base).await;

    // v1: rows in the body, meta in lower-case headers, progress always Complete.
    let (resp, rows) = ok_json(&c, v1(base, "method: POST and status > 499")).await;
    assert_eq!(resp.header("x-log-progress"), Some("Complete"));
    assert_eq!(resp.header("x-log-count"), Some("5"));
    assert_eq!(resp.header("x-log-processed-rows"), Some("100"));
    assert_eq!(resp.header("x-log-bodyrawsize"), None);
    assert_eq!(
        ids(&rows),
        ["id-000", "id-020", "id-040", "id-060", "id-080"]
    );
    let first = &rows[0];
    for (k, v) in [
        ("__time__", "1700000000"),
        ("__source__", "10.1.2.3"),
        ("__topic__", "web"),
        ("__tag__:env", "test"),
        ("status", "500"),
    ] {
        assert_eq!(first[k], v, "{k} in {first}");
    }
    // Every value is a string.
    assert!(rows.as_array().unwrap().iter().all(|r| r
        .as_object()
        .unwrap()
        .values()
        .all(Value::is_string)));

    // v2: the same rows, meta in the body with the field types Go decodes.
    let (_, v) = ok_json(&c, v2(base, "method: POST and status > 499", json!({}))).await;
    assert_eq!(v["data"], rows);
    let meta = &v["meta"];
    assert_eq!(meta["progress"], "Complete");
    assert_eq!(meta["count"], 5);
    assert_eq!(meta["processedRows"], 100);
    assert_eq!(meta["hasSQL"], false);
    assert!(meta["elapsedMillisecond"].is_i64() && meta["limited"].is_i64());

    // Paging: offset and line (or the Rust SDK's `lines`), in time order, reverse.
    let (_, all) = ok_json(&c, v2(base, "*", json!({"line": 100}))).await;
    let all = ids(&all["data"]);
    assert_eq!(all.len(), 100);
    let (_, page) = ok_json(&c, v2(base, "*", json!({"lines": 10, "offset": 30}))).await;
    assert_eq!(ids(&page["data"]), all[30..40]);
    let (_, page) = ok_json(&c, v1(base, "*").q("line", "10").q("offset", "95")).await;
    assert_eq!(ids(&page), all[95..]);
    let (_, newest) = ok_json(&c, v1(base, "*").q("reverse", "True").q("line", "1")).await;
    assert_eq!(newest[0]["__time__"], "1700000009");
    // Topic parameter and the __topic__ field agree.
    let (_, a) = ok_json(&c, v2(base, "status: 500", json!({"topic": "batch"}))).await;
    let (_, b) = ok_json(&c, v2(base, "status: 500 and __topic__: batch", json!({}))).await;
    assert_eq!(a["data"], b["data"]);
    // [from, to) on log time.
    let (_, edge) = ok_json(
        &c,
        Req::new("GET", Some(P), &format!("/logstores/{L}"))
            .q("type", "log")
            .q("from", &(base + 9).to_string())
            .q("to", &(base + 10).to_string()),
    )
    .await;
    assert_eq!(edge.as_array().unwrap().len(), 10);

    // Bad parameters are SLS errors.
    for (case, r) in [
        ("line over 100", v1(base, "*").q("line", "101")),
        (
            "from missing",
            Req::new("GET", Some(P), &format!("/logstores/{L}")).q("type", "log"),
        ),
        ("to before from", v2(base, "*", json!({"to": base - 1}))),
        ("bad reverse", v1(base, "*").q("reverse", "maybe")),
        ("key without index", v1(base, "nokey: 1")),
    ] {
        c.send(r)
            .await
            .assert_case_error(case, 400, "ParameterInvalid");
    }
}

#[tokio::test]
async fn histograms_add_up_to_the_get_logs_count() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/index")).json(index()))
        .await
        .assert_ok();
    let base = 1_700_000_000;
    write(&c, base).await;
    for query in ["*", "method: GET", "latency >= 50.5", "user-1"] {
        let (_, logs) = ok_json(&c, v2(base, query, json!({}))).await;
        let count = logs["meta"]["count"].as_u64().unwrap();
        for path in [format!("/logstores/{L}"), format!("/logstores/{L}/index")] {
            let (resp, h) = ok_json(
                &c,
                Req::new("GET", Some(P), &path)
                    .q("type", "histogram")
                    .q("from", &base.to_string())
                    .q("to", &(base + 10).to_string())
                    .q("query", query),
            )
            .await;
            assert_eq!(resp.header("x-log-progress"), Some("Complete"));
            let buckets = h.as_array().unwrap();
            assert_eq!(buckets.len(), 10, "one bucket per second of a 10 s window");
            let sum: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
            assert_eq!(sum, count, "{query} on {path}");
            assert!(buckets.iter().all(|b| b["progress"] == "Complete"));
        }
    }
}

#[tokio::test]
async fn sql_after_the_search_and_project_sql() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 2).await;
    c.send(Req::new("POST", Some(P), &format!("/logstores/{L}/index")).json(index()))
        .await
        .assert_ok();
    let base = 1_700_000_000;
    write(&c, base).await;

    let q = "status: 500 | select method, count(*) as n group by method order by method";
    let (resp, rows) = ok_json(&c, v1(base, q)).await;
    assert_eq!(
        rows,
        json!([{"method": "GET", "n": "5"}, {"method": "POST", "n": "5"}])
    );
    assert_eq!(resp.header("x-log-has-sql"), Some("true"));
    assert_eq!(
        resp.header("x-log-agg-query"),
        Some("select method, count(*) as n group by method order by method")
    );
    assert_eq!(resp.header("x-log-where-query"), Some("status: 500"));
    let (_, v) = ok_json(&c, v2(base, q, json!({}))).await;
    assert_eq!(v["data"], rows);
    assert_eq!(v["meta"]["hasSQL"], true);
    assert_eq!(v["meta"]["keys"], json!(["method", "n"]));
    assert_eq!(v["meta"]["count"], 2);

    // Tags and times are columns; `LIMIT offset, count`; 100 rows without LIMIT.
    let (_, v) = ok_json(
        &c,
        v2(
            base,
            "* | select \"__tag__:env\" as env, count(*) as n, min(__time__) as t group by env",
            json!({}),
        ),
    )
    .await;
    assert_eq!(
        v["data"],
        json!([{"env": "test", "n": "100", "t": "1700000000"}])
    );
    let (_, v) = ok_json(
        &c,
        v2(
            base,
            "* | select latency order by latency limit 3, 2",
            json!({}),
        ),
    )
    .await;
    assert_eq!(v["data"], json!([{"latency": "3.5"}, {"latency": "4.5"}]));
    // Only indexed keys are columns (SLS's rule).
    c.send(v2(base, "* | select id", json!({})))
        .await
        .assert_error(400, "ParameterInvalid");
    let (_, v) = ok_json(&c, v2(base, "* | select latency", json!({"line": 5}))).await;
    assert_eq!(
        v["data"].as_array().unwrap().len(),
        100,
        "line does not cut SQL"
    );

    for (case, q) in [
        ("unknown column", "* | select nokey"),
        ("unknown function", "* | select compare(1, 2)"),
        ("syntax", "* | select from where"),
        ("semicolon", "* | select 1;"),
    ] {
        c.send(v2(base, q, json!({})))
            .await
            .assert_case_error(case, 400, "ParameterInvalid");
    }
    c.send(
        Req::new("GET", Some(P), &format!("/logstores/{L}"))
            .q("type", "histogram")
            .q("from", &base.to_string())
            .q("to", &(base + 10).to_string())
            .q("query", q),
    )
    .await
    .assert_error(400, "ParameterInvalid");

    // Project SQL: the logstore in FROM, time conditions in WHERE, answered like v1.
    let (resp, rows) = ok_json(
        &c,
        Req::new("GET", Some(P), "/logs").q(
            "query",
            &format!(
                "select count(*) as n from {L} where __time__ < {}",
                base + 5
            ),
        ),
    )
    .await;
    assert_eq!(rows, json!([{"n": "50"}]));
    assert_eq!(resp.header("x-log-progress"), Some("Complete"));
    c.send(Req::new("GET", Some(P), "/logs").q("query", "select count(*) from nope"))
        .await
        .assert_error(404, "LogStoreNotExist");
    c.send(Req::new("GET", Some(P), "/logs").q("query", "select 1"))
        .await
        .assert_error(400, "ParameterInvalid");
}
