//! Queries: index CRUD and its errors, GetLogs v1 and v2, GetHistograms on both paths, SQL
//! after `|`, GetProjectLogs: the five rules every client forces (QUERY.md §1), the wire
//! formats (§2), the index JSON and errors (§3).
//!
//! Each case makes its own logstore, creates the index first (real SLS searches only data
//! written after), writes 20 logs at fixed times 10 minutes ago and waits (up to the settle
//! time) until GetLogs sees them all.

use serde_json::{json, Value};
use sls_protocol::compression::CompressType;
use sls_protocol::proto::{Log, LogContent, LogGroup, LogTag};

use super::{now_secs, put_ok, temp_logstore, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Request, Response};
use crate::runner::poll_until;

const Q1: &str = "QUERY.md §1; aliyun-log-python-sdk util.py h_v_t, aliyun-log-go-sdk log_store.go";
const Q2: &str = "QUERY.md §2; aliyun-log-go-sdk model.go GetLogsV3Response";
const Q3: &str = "QUERY.md §3; help api-sls-2020-12-30-createindex; aliyun-sdk-js#83";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "query.no-index",
        group: Group::Query,
        checks: "GetLogs v1 and v2 and GetHistograms on a logstore without an index answer 400 IndexConfigNotExist, \"logstore without index config\"",
        source: Q3,
        run: no_index,
    },
    Case {
        id: "query.index-crud",
        group: Group::Query,
        checks: "CreateIndex 200; GetIndex echoes the keys with index_mode v2 as plain JSON (no x-log-compresstype or x-log-bodyrawsize); a second create is IndexAlreadyExist; UpdateIndex and DeleteIndex 200; GetIndex after delete is IndexConfigNotExist",
        source: "QUERY.md §3; aliyun-log-go-sdk log_store.go CheckIndexExist (Go reads GetIndex raw)",
        run: index_crud,
    },
    Case {
        id: "query.index-invalid",
        group: Group::Query,
        checks: "CreateIndex with an unknown key type answers 400 IndexInfoInvalid",
        source: Q3,
        run: index_invalid,
    },
    Case {
        id: "query.v1-headers",
        group: Group::Query,
        checks: "GetLogs v1 answers a JSON array of rows with every value a string (__time__ decimal digits), x-log-progress Complete, integer x-log-count/x-log-processed-rows/x-log-elapsed-millisecond, and no x-log-bodyrawsize",
        source: Q1,
        run: v1_headers,
    },
    Case {
        id: "query.v2-meta",
        group: Group::Query,
        checks: "GetLogs v2 answers {meta, data}: progress Complete, count/processedRows/elapsedMillisecond/limited integers, hasSQL false, string values, the same rows as v1",
        source: Q2,
        run: v2_meta,
    },
    Case {
        id: "query.paging",
        group: Group::Query,
        checks: "line and offset page a search in time order, `lines` is accepted for line, reverse (sent as True, as Python does) gives the newest first, line over 100 is refused",
        source: "QUERY.md §2 (Python paging, Rust `lines`, Python booleans)",
        run: paging,
    },
    Case {
        id: "query.histograms",
        group: Group::Query,
        checks: "GetHistograms on ?type=histogram and on /index?type=histogram (Java): x-log-progress Complete, 1-60 buckets covering [from, to), each Complete, counts adding up to the GetLogs count",
        source: "QUERY.md §1 rule 4, §2; help api-sls-2020-12-30-struct-histogram",
        run: histograms,
    },
    Case {
        id: "query.key-without-index",
        group: Group::Query,
        checks: "A search on a key without a key index is refused with 400 naming the key (\"key (X) is not config as key value config\")",
        source: "QUERY.md §3 (help doc-detail/61628)",
        run: key_without_index,
    },
    Case {
        id: "query.sql",
        group: Group::Query,
        checks: "search | SQL: FROM log implied, string values, meta.hasSQL true and keys, LIMIT offset, count; a column without an index is refused naming it",
        source: "QUERY.md §1, §3, §4 (help limit-clause, doc-detail/61628)",
        run: sql,
    },
    Case {
        id: "query.project-logs",
        group: Group::Query,
        checks: "GetProjectLogs runs SQL naming the logstore in FROM and answers like v1: x-log-progress Complete, rows of strings",
        source: "QUERY.md §2 (GetProjectLogs; Java parses its headers)",
        run: project_logs,
    },
];

/// What the cases index: a line index and `method` (text), `status` (long).
fn index_json() -> Value {
    let tokens = json!([
        ",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<", ">", "/",
        ":", "\n", "\t", "\r"
    ]);
    json!({
        "line": {"token": tokens, "caseSensitive": false},
        "keys": {
            "method": {"type": "text", "token": tokens, "caseSensitive": false, "doc_value": true},
            "status": {"type": "long", "doc_value": true},
        },
    })
}

/// The window the written logs lie in: `[base, base + 20)`.
fn base() -> i64 {
    i64::from(now_secs()) - 600
}

/// 20 logs, one per second from `base`: every 4th a POST, every 5th status 500.
fn logs(base: i64) -> LogGroup {
    LogGroup {
        logs: (0..20)
            .map(|i| Log {
                time: u32::try_from(base + i).ok(),
                contents: vec![
                    LogContent {
                        key: "method".into(),
                        value: if i % 4 == 0 { "POST" } else { "GET" }.into(),
                    },
                    LogContent {
                        key: "status".into(),
                        value: if i % 5 == 0 { "500" } else { "200" }.into(),
                    },
                    LogContent {
                        key: "seq".into(),
                        value: i.to_string().into(),
                    },
                ],
                time_ns: None,
            })
            .collect(),
        topic: Some("web".into()),
        source: Some("10.0.0.7".into()),
        log_tags: vec![LogTag {
            key: "env".into(),
            value: "conformance".into(),
        }],
        ..Default::default()
    }
}

fn index_path(ls: &str) -> String {
    format!("/logstores/{ls}/index")
}

fn v1(ctx: &CaseCtx, ls: &str, base: i64, query: &str) -> Request {
    ctx.request(Method::GET, format!("/logstores/{ls}"))
        .query("type", "log")
        .query("from", base.to_string())
        .query("to", (base + 20).to_string())
        .query("query", query)
}

fn v2(ctx: &CaseCtx, ls: &str, base: i64, query: &str, extra: Value) -> Request {
    let mut body = json!({"from": base, "to": base + 20, "query": query});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    ctx.request(Method::POST, format!("/logstores/{ls}/logs"))
        .json(&body)
}

/// A logstore with the index and the 20 logs, searchable.
async fn indexed_logstore(ctx: &mut CaseCtx) -> Result<(String, i64), Stop> {
    let ls = temp_logstore(ctx, 2).await?;
    let resp = ctx
        .send(
            ctx.request(Method::POST, index_path(&ls))
                .json(&index_json()),
        )
        .await?;
    ctx.check_ok("CreateIndex", &resp)?;
    let base = base();
    put_ok(ctx, &ls, &logs(base), PutPath::Lb, CompressType::Lz4).await?;
    let req = v2(ctx, &ls, base, "*", json!({}));
    let client = ctx.client().clone();
    let resp = poll_until(
        ctx.settle(),
        || client.send(&req),
        |r| r.json().is_some_and(|v| v["meta"]["count"] == 20),
    )
    .await
    .map_err(Stop::from)?;
    let v = ctx.require_json("GetLogs v2 of the 20 logs written", &resp)?;
    ctx.check_eq(
        "logs searchable after writing",
        Some(20),
        v["meta"]["count"].as_i64(),
    )?;
    Ok((ls, base))
}

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn int_header(resp: &Response, name: &str) -> Option<i64> {
    resp.header(name).and_then(|v| v.parse().ok())
}

fn no_index(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        let base = base();
        let hist = ctx
            .request(Method::GET, format!("/logstores/{ls}"))
            .query("type", "histogram")
            .query("from", base.to_string())
            .query("to", (base + 20).to_string());
        for (what, req) in [
            ("GetLogs v1", v1(ctx, &ls, base, "*")),
            ("GetLogs v2", v2(ctx, &ls, base, "*", json!({}))),
            ("GetHistograms", hist),
        ] {
            let resp = ctx.send(req).await?;
            ctx.check_error(what, &resp, &[400], &["IndexConfigNotExist"])?;
            ctx.check_eq(
                format!("{what}: errorMessage"),
                Some("logstore without index config".to_string()),
                resp.error_message(),
            )?;
        }
        Ok(())
    })
}

fn index_crud(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        let path = index_path(&ls);
        let resp = ctx
            .send(ctx.request(Method::POST, path.clone()).json(&index_json()))
            .await?;
        ctx.check_ok("CreateIndex", &resp)?;
        let resp = ctx.send(ctx.request(Method::GET, path.clone())).await?;
        let got = ctx.require_json("GetIndex", &resp)?;
        ctx.check_eq(
            "GetIndex index_mode",
            Some("v2"),
            got["index_mode"].as_str(),
        )?;
        ctx.check_eq(
            "GetIndex keys.status.type",
            Some("long"),
            got["keys"]["status"]["type"].as_str(),
        )?;
        for h in ["x-log-compresstype", "x-log-bodyrawsize"] {
            ctx.check_eq(format!("GetIndex without {h}"), None, resp.header(h))?;
        }
        let resp = ctx
            .send(ctx.request(Method::POST, path.clone()).json(&index_json()))
            .await?;
        ctx.check_error("CreateIndex again", &resp, &[400], &["IndexAlreadyExist"])?;
        let mut updated = index_json();
        updated["keys"]["seq"] = json!({"type": "long"});
        let resp = ctx
            .send(ctx.request(Method::PUT, path.clone()).json(&updated))
            .await?;
        ctx.check_ok("UpdateIndex", &resp)?;
        let resp = ctx.send(ctx.request(Method::DELETE, path.clone())).await?;
        ctx.check_ok("DeleteIndex", &resp)?;
        let resp = ctx.send(ctx.request(Method::GET, path)).await?;
        ctx.check_error(
            "GetIndex after DeleteIndex",
            &resp,
            &[400, 404],
            &["IndexConfigNotExist"],
        )
    })
}

fn index_invalid(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        let resp = ctx
            .send(
                ctx.request(Method::POST, index_path(&ls))
                    .json(&json!({"keys": {"a": {"type": "blob"}}})),
            )
            .await?;
        ctx.check_error(
            "CreateIndex type blob",
            &resp,
            &[400],
            &["IndexInfoInvalid"],
        )
    })
}

fn v1_headers(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let resp = ctx.send(v1(ctx, &ls, base, "status: 500")).await?;
        let body = ctx.require_json("GetLogs v1", &resp)?;
        ctx.check_eq(
            "x-log-progress",
            Some("Complete"),
            resp.header("x-log-progress"),
        )?;
        ctx.check_eq("x-log-count", Some(4), int_header(&resp, "x-log-count"))?;
        ctx.check(
            "x-log-processed-rows and x-log-elapsed-millisecond are integers",
            "integers",
            format!(
                "{:?} {:?}",
                resp.header("x-log-processed-rows"),
                resp.header("x-log-elapsed-millisecond")
            ),
            int_header(&resp, "x-log-processed-rows").is_some()
                && int_header(&resp, "x-log-elapsed-millisecond").is_some(),
        )?;
        ctx.check_eq(
            "no x-log-bodyrawsize",
            None,
            resp.header("x-log-bodyrawsize"),
        )?;
        let rows = rows(&body);
        ctx.check_eq("rows", 4, rows.len())?;
        let all_strings = rows.iter().all(|r| {
            r.as_object()
                .is_some_and(|o| o.values().all(Value::is_string))
        });
        ctx.check(
            "every value a string",
            "true",
            all_strings.to_string(),
            all_strings,
        )?;
        let time = rows
            .first()
            .and_then(|r| r["__time__"].as_str())
            .unwrap_or_default()
            .to_string();
        ctx.check_eq("__time__ of the first row", base.to_string(), time)?;
        ctx.check_eq(
            "__tag__:env",
            Some("conformance"),
            rows.first().and_then(|r| r["__tag__:env"].as_str()),
        )
    })
}

fn v2_meta(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let resp = ctx
            .send(v2(ctx, &ls, base, "method: POST", json!({})))
            .await?;
        let v = ctx.require_json("GetLogs v2", &resp)?;
        let meta = &v["meta"];
        ctx.check_eq("meta.progress", Some("Complete"), meta["progress"].as_str())?;
        for f in ["count", "processedRows", "elapsedMillisecond", "limited"] {
            ctx.check(
                format!("meta.{f} is an integer"),
                "integer",
                meta[f].to_string(),
                meta[f].is_i64(),
            )?;
        }
        ctx.check_eq("meta.count", Some(5), meta["count"].as_i64())?;
        ctx.check_eq("meta.hasSQL", Some(false), meta["hasSQL"].as_bool())?;
        let resp1 = ctx.send(v1(ctx, &ls, base, "method: POST")).await?;
        let body1 = ctx.require_json("GetLogs v1", &resp1)?;
        ctx.check_eq("v1 and v2 rows", body1, v["data"].clone())
    })
}

fn paging(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let seqs = |v: &Value| -> String {
            let seqs: Vec<String> = rows(v)
                .iter()
                .filter_map(|r| r["seq"].as_str().map(str::to_string))
                .collect();
            seqs.join(",")
        };
        let resp = ctx
            .send(v2(ctx, &ls, base, "*", json!({"line": 5, "offset": 5})))
            .await?;
        let v = ctx.require_json("line 5 offset 5", &resp)?;
        ctx.check_eq("line 5 offset 5", "5,6,7,8,9".to_string(), seqs(&v["data"]))?;
        let resp = ctx
            .send(v2(ctx, &ls, base, "*", json!({"lines": 2, "offset": 18})))
            .await?;
        let v = ctx.require_json("lines 2 offset 18", &resp)?;
        ctx.check_eq("lines 2 offset 18", "18,19".to_string(), seqs(&v["data"]))?;
        let resp = ctx
            .send(
                v1(ctx, &ls, base, "*")
                    .query("line", "1")
                    .query("reverse", "True")
                    .query("powerSql", "False"),
            )
            .await?;
        let v = ctx.require_json("reverse=True", &resp)?;
        ctx.check_eq("reverse=True gives the newest", "19".to_string(), seqs(&v))?;
        let resp = ctx
            .send(v1(ctx, &ls, base, "*").query("line", "101"))
            .await?;
        ctx.check_error("line 101", &resp, &[400], &["ParameterInvalid"])
    })
}

fn histograms(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        for path in [format!("/logstores/{ls}"), index_path(&ls)] {
            let req = ctx
                .request(Method::GET, path.clone())
                .query("type", "histogram")
                .query("from", base.to_string())
                .query("to", (base + 20).to_string())
                .query("query", "method: GET");
            let resp = ctx.send(req).await?;
            let v = ctx.require_json(format!("GetHistograms {path}"), &resp)?;
            ctx.check_eq(
                format!("{path}: x-log-progress"),
                Some("Complete"),
                resp.header("x-log-progress"),
            )?;
            let buckets = rows(&v);
            ctx.check(
                format!("{path}: 1 to 60 buckets"),
                "1..=60",
                buckets.len().to_string(),
                (1..=60).contains(&buckets.len()),
            )?;
            let sum: i64 = buckets.iter().filter_map(|b| b["count"].as_i64()).sum();
            ctx.check_eq(format!("{path}: counts add up to 15 GETs"), 15, sum)?;
            let covers = buckets.first().and_then(|b| b["from"].as_i64()) == Some(base)
                && buckets.last().and_then(|b| b["to"].as_i64()) == Some(base + 20);
            ctx.check(
                format!("{path}: buckets cover [from, to)"),
                "true",
                covers.to_string(),
                covers,
            )?;
            let complete = buckets.iter().all(|b| b["progress"] == "Complete");
            ctx.check(
                format!("{path}: every bucket Complete"),
                "true",
                complete.to_string(),
                complete,
            )?;
        }
        Ok(())
    })
}

fn key_without_index(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let resp = ctx.send(v1(ctx, &ls, base, "seq: 3")).await?;
        ctx.check_error(
            "search on seq (no key index)",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        let message = resp.error_message().unwrap_or_default();
        ctx.check(
            "the error names the key",
            "key (seq) is not config as key value config",
            message.clone(),
            message.contains("seq"),
        )
    })
}

fn sql(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let q = "* | select method, count(*) as c group by method order by method";
        let resp = ctx.send(v2(ctx, &ls, base, q, json!({}))).await?;
        let v = ctx.require_json("GetLogs v2 with SQL", &resp)?;
        ctx.check_eq(
            "group by rows (strings)",
            json!([{"method": "GET", "c": "15"}, {"method": "POST", "c": "5"}]),
            v["data"].clone(),
        )?;
        ctx.check_eq("meta.hasSQL", Some(true), v["meta"]["hasSQL"].as_bool())?;
        ctx.check_eq(
            "meta.keys",
            json!(["method", "c"]),
            v["meta"]["keys"].clone(),
        )?;
        let q = "* | select status order by status desc, method limit 2, 1";
        let resp = ctx.send(v2(ctx, &ls, base, q, json!({}))).await?;
        let v = ctx.require_json("LIMIT 2, 1", &resp)?;
        ctx.check_eq(
            "LIMIT offset, count",
            json!([{"status": "500"}]),
            v["data"].clone(),
        )?;
        let resp = ctx
            .send(v2(ctx, &ls, base, "* | select seq", json!({})))
            .await?;
        ctx.check_error(
            "SQL on seq (no key index)",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        let message = resp.error_message().unwrap_or_default();
        ctx.check(
            "the error names the column",
            "Column 'seq' cannot be resolved",
            message.clone(),
            message.contains("'seq'"),
        )
    })
}

fn project_logs(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, base) = indexed_logstore(ctx).await?;
        let q = format!(
            "select count(*) as n from \"{ls}\" where __time__ >= {base} and __time__ < {}",
            base + 10
        );
        let resp = ctx
            .send(ctx.request(Method::GET, "/logs").query("query", q))
            .await?;
        let v = ctx.require_json("GetProjectLogs", &resp)?;
        ctx.check_eq(
            "x-log-progress",
            Some("Complete"),
            resp.header("x-log-progress"),
        )?;
        ctx.check_eq("rows", json!([{"n": "10"}]), v)
    })
}
