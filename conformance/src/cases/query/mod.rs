//! Queries: index CRUD and its errors, GetLogs v1 and v2, GetHistograms on both paths, SQL
//! after `|`, GetProjectLogs: the five rules every client forces (QUERY.md §1), the wire
//! formats (§2), the index JSON and errors (§3), and the search language (§4).
//!
//! A case that reads makes its own logstore, creates the index first (real SLS searches only
//! data written after), writes logs one second apart starting 10 minutes ago (log `i`: a POST
//! when `i % 4 == 0`, status 500 when `i % 5 == 0`, `seq` = `i`, topic `web`, source
//! `10.0.0.7`, tag `env=conformance`) and waits (up to the settle time) until GetLogs sees
//! them all. Nothing here depends on the shared fixtures.
//!
//! This file holds the registry, the data every case writes, the request builders and the
//! checks shared by the case modules: `index` (index CRUD and errors), `get_logs` (v1, v2,
//! paging, search), `histograms` and `sql` (SQL and GetProjectLogs).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sls_protocol::compression::CompressType;
use sls_protocol::headers as h;
use sls_protocol::proto::{Log, LogContent, LogGroup, LogTag};

use super::{now_secs, put_ok, temp_logstore, PutPath};
use crate::case::{Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Request, Response};
use crate::runner::poll_until;

mod get_logs;
mod histograms;
mod index;
mod sql;

/// Headers of v1 GetLogs, GetProjectLogs and GetHistograms answers (QUERY.md §2).
const X_LOG_PROGRESS: &str = "x-log-progress";
const X_LOG_PROCESSED_ROWS: &str = "x-log-processed-rows";
const X_LOG_ELAPSED_MILLISECOND: &str = "x-log-elapsed-millisecond";
const X_LOG_HAS_SQL: &str = "x-log-has-sql";
const X_LOG_WHERE_QUERY: &str = "x-log-where-query";
const X_LOG_AGG_QUERY: &str = "x-log-agg-query";
const X_LOG_QUERY_INFO: &str = "x-log-query-info";
const X_LOG_CPU_SEC: &str = "x-log-cpu-sec";
const X_LOG_CPU_CORES: &str = "x-log-cpu-cores";

/// Rule 2 (string values) and who forces it.
const STRINGS: &str = "QUERY.md §1 rule 2; aliyun-log-go-sdk model.go GetLogsV3Response \
                       (map[string]string); aliyun-log-rust-sdk client/src/client/get_logs.rs; \
                       aliyun-log-java-sdk common/QueryResult.java (Integer.parseInt of __time__)";
/// Index CRUD.
const INDEX: &str = "QUERY.md §3; aliyun-log-go-sdk log_store.go GetIndex/CheckIndexExist; help \
     api-sls-2020-12-30-createindex";
/// Histograms.
const HIST: &str = "QUERY.md §1 rules 1, 4, 5, §2 GetHistograms; help \
                    api-sls-2020-12-30-struct-histogram; aliyun-log-go-sdk log_store.go \
                    GetHistogramsV2; aliyun-log-python-sdk gethistogramsresponse.py";
/// SQL.
const SQL: &str = "QUERY.md §1 rule 2, §4 (help doc-detail/29060, limit-clause); \
                   aliyun-log-python-sdk tests/e2e/logclient/test_get_logs.py";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "query.no-index",
        group: Group::Query,
        checks: "GetLogs v1 and v2 and GetHistograms (both paths) on a logstore without an index answer 400 IndexConfigNotExist, \"logstore without index config\"",
        source: "QUERY.md §3 (aliyun-sdk-js#83; help doc-detail/61628)",
        run: index::no_index,
    },
    Case {
        id: "query.index-create-get",
        group: Group::Query,
        checks: "CreateIndex answers an empty 200; GetIndex (sent with Go's Accept-Encoding: deflate) answers plain JSON echoing the line and key indexes, with index_mode v2 and neither x-log-compresstype nor x-log-bodyrawsize",
        source: INDEX,
        run: index::index_create_get,
    },
    Case {
        id: "query.index-already-exist",
        group: Group::Query,
        checks: "CreateIndex on a logstore that has an index answers 400 IndexAlreadyExist and leaves the index as it was",
        source: INDEX,
        run: index::index_already_exist,
    },
    Case {
        id: "query.index-update",
        group: Group::Query,
        checks: "UpdateIndex answers an empty 200 and GetIndex then shows the new key index",
        source: INDEX,
        run: index::index_update,
    },
    Case {
        id: "query.index-delete",
        group: Group::Query,
        checks: "DeleteIndex answers an empty 200; then GetIndex is IndexConfigNotExist and GetLogs is 400 IndexConfigNotExist \"logstore without index config\"",
        source: INDEX,
        run: index::index_delete,
    },
    Case {
        id: "query.index-missing",
        group: Group::Query,
        checks: "GetIndex, UpdateIndex and DeleteIndex on a logstore that never had an index answer IndexConfigNotExist (400 or 404: the docs give no status)",
        source: "QUERY.md §3 (aliyun-log-go-sdk log_store.go CheckIndexExist)",
        run: index::index_missing,
    },
    Case {
        id: "query.index-invalid",
        group: Group::Query,
        checks: "CreateIndex with an unknown key type, or a token list that is not a list of strings, answers 400 IndexInfoInvalid and stores nothing",
        source: "QUERY.md §3 (help api-sls-2020-12-30-createindex; aliyun-log-go-sdk model.go Index: token []string, type text|long|double|json)",
        run: index::index_invalid,
    },
    Case {
        id: "query.v1-headers",
        group: Group::Query,
        checks: "GetLogs v1 answers a JSON array with x-log-progress Complete, integer x-log-count (= rows), x-log-processed-rows and x-log-elapsed-millisecond, x-log-has-sql exactly \"false\", an x-log-query-info JSON object (integer mode 0-3), integer x-log-cpu-cores if sent, and no x-log-bodyrawsize or x-log-compresstype",
        source: "QUERY.md §1 rules 1, 3, 5, §2 GetLogs v1; aliyun-log-python-sdk getlogsresponse.py _from_v1_resp (int(), != 'false'); aliyun-log-java-sdk response/GetLogsResponse.java (Long.parseLong)",
        run: get_logs::v1_headers,
    },
    Case {
        id: "query.header-names-case",
        group: Group::Query,
        checks: "The x-log-* header names of GetLogs v1 and GetHistograms answers are lower-case (or Title-Case), the only forms Python finds (seen on the wire; plain http only)",
        source: "QUERY.md §1 rule 5; aliyun-log-python-sdk util.py h_v_t (key, then key.title()), logclient.py _sendRequest (plain dict)",
        run: get_logs::header_names_case,
    },
    Case {
        id: "query.rows-are-strings",
        group: Group::Query,
        checks: "Every value of every v1 and v2 row is a JSON string; rows carry __time__ (the log time in decimal), __source__, __topic__, __tag__:env and the log's keys",
        source: STRINGS,
        run: get_logs::rows_are_strings,
    },
    Case {
        id: "query.v2-meta",
        group: Group::Query,
        checks: "GetLogs v2 answers {meta, data}: progress \"Complete\", count/processedRows/elapsedMillisecond/limited integers, hasSQL false, every other meta field sent with the type Go decodes it as (terms {key, term} objects), and, asked for no encoding, no x-log-bodyrawsize or x-log-compresstype",
        source: "QUERY.md §1 rules 1, 3, §2; aliyun-log-go-sdk model.go GetLogsV3ResponseMeta, MetaTerm; aliyun-log-java-sdk common/QueryResult.java",
        run: get_logs::v2_meta,
    },
    Case {
        id: "query.v2-python-request",
        group: Group::Query,
        checks: "The v2 request exactly as Python sends it (line, offset, powerSql, accurate, fromNs, toNs, query, reverse, forward; Accept-Encoding: lz4) answers {meta, data}, either plain JSON without x-log-compresstype/x-log-bodyrawsize or an lz4 block with both",
        source: "QUERY.md §1 rule 3, §2; captures/python-sdk/ep_localhost_nss_myhostname/get_logs; aliyun-log-python-sdk compress.py decompress_response",
        run: get_logs::v2_python_request,
    },
    Case {
        id: "query.v1-v2-agree",
        group: Group::Query,
        checks: "v1 and v2 answer the same query alike: count, processed rows, hasSQL, where and agg query, and the rows (search, reversed page, SQL)",
        source: "QUERY.md §2; aliyun-log-python-sdk tests/e2e/logclient/test_get_logs.py assertCompatibility",
        run: get_logs::v1_v2_agree,
    },
    Case {
        id: "query.paging",
        group: Group::Query,
        checks: "line and offset page a search in time order on v1 and v2; Rust's `lines` is read as line; an offset past the end gives no rows; pages of 7 add up to every log once",
        source: "QUERY.md §2 (Python query_more pages with offset; aliyun-log-rust-sdk get_logs.rs `lines`)",
        run: get_logs::paging,
    },
    Case {
        id: "query.reverse",
        group: Group::Query,
        checks: "reverse=true gives the newest logs first (v1 `true`, v2 JSON true), reverse=false the oldest, and offset counts in that order",
        source: "QUERY.md §2; aliyun-log-python-sdk logclient.py get_log (reverse 'true'/'false' on v1)",
        run: get_logs::reverse,
    },
    Case {
        id: "query.python-booleans",
        group: Group::Query,
        checks: "v1 parses booleans case-insensitively as Python sends them: reverse=True is true, reverse=False is false, powerSql=False and accurate=True are accepted",
        source: "QUERY.md §2 GetLogs v1 (Python sends powerSql/accurate as Python bools)",
        run: get_logs::python_booleans,
    },
    Case {
        id: "query.line-limit",
        group: Group::Query,
        checks: "line 100 is accepted; line 101 is refused with 400 ParameterInvalid on v1 and v2",
        source: "QUERY.md §2 (at most 100 rows per search page; Python pages in 100s: logclient_operator.py query_more)",
        run: get_logs::line_limit,
    },
    Case {
        id: "query.line-default",
        group: Group::Query,
        checks: "Without line, a search over 120 logs answers 100 rows on v1 and v2 (Go sends no line)",
        source: "QUERY.md §2 (Go: default line to 100 when missing; aliyun-log-go-sdk model.go GetLogRequest)",
        run: get_logs::line_default,
    },
    Case {
        id: "query.topic",
        group: Group::Query,
        checks: "The topic parameter keeps only that topic's logs on v1, v2 and GetHistograms, like the search __topic__: x",
        source: "QUERY.md §2 (topic on v1, v2 and histograms), §4 (__topic__)",
        run: get_logs::topic,
    },
    Case {
        id: "query.time-window",
        group: Group::Query,
        checks: "from and to select logs by log time in [from, to): from is included, to is not (v1, v2, GetHistograms)",
        source: "QUERY.md §2; aliyun-log-go-sdk log_store.go GetLogLinesV2 (\"[from, to) time range\"); aliyun-log-python-sdk gethistogramsresponse.py",
        run: get_logs::time_window,
    },
    Case {
        id: "query.search-syntax",
        group: Group::Query,
        checks: "The search language: *, full text (case-insensitive index), key:value, and/or/not, parentheses, * wildcards, > >= < on a long key, key in [a b], __topic__",
        source: "QUERY.md §4 (help user-guide/search-syntax, doc-detail/129383)",
        run: get_logs::search_syntax,
    },
    Case {
        id: "query.key-without-index",
        group: Group::Query,
        checks: "A search on a key without a key index is refused with 400 ParameterInvalid naming the key (\"key (X) is not config as key value config\")",
        source: "QUERY.md §3 (help doc-detail/61628)",
        run: get_logs::key_without_index,
    },
    Case {
        id: "query.histograms",
        group: Group::Query,
        checks: "GetHistograms (?type=histogram): x-log-progress Complete, integer x-log-count equal to the buckets' sum, 1-60 contiguous buckets covering [from, to) with integer from/to/count and progress Complete, counts adding up to the GetLogs count, the same split when asked again, no x-log-bodyrawsize",
        source: HIST,
        run: histograms::histograms,
    },
    Case {
        id: "query.histograms-java-path",
        group: Group::Query,
        checks: "GetHistograms on the Java path GET /logstores/{ls}/index?type=histogram answers the same buckets as ?type=histogram, not the index",
        source: "QUERY.md §1 rule 4; aliyun-log-java-sdk Client.java GetHistograms",
        run: histograms::histograms_java_path,
    },
    Case {
        id: "query.histograms-wide-window",
        group: Group::Query,
        checks: "Over an hour, GetHistograms answers at most 60 contiguous buckets covering [from, to), the inner ones of equal width, counts adding up to every log",
        source: HIST,
        run: histograms::histograms_wide_window,
    },
    Case {
        id: "query.sql-group-by",
        group: Group::Query,
        checks: "search | SQL with GROUP BY (no FROM): rows of strings (counts too), meta.hasSQL true, meta.keys the selected columns in order; the search part filters what SQL sees",
        source: SQL,
        run: sql::sql_group_by,
    },
    Case {
        id: "query.sql-limit",
        group: Group::Query,
        checks: "SQL LIMIT x, MySQL-style LIMIT y, x (offset, count) and Python's `select * limit 10,10`",
        source: "QUERY.md §4 (help limit-clause); aliyun-log-python-sdk tests/e2e/logclient/test_get_logs.py",
        run: sql::sql_limit,
    },
    Case {
        id: "query.sql-default-limit",
        group: Group::Query,
        checks: "SQL without LIMIT over 120 logs answers 100 rows",
        source: "QUERY.md §4 (LIMIT default 100; help limit-clause)",
        run: sql::sql_default_limit,
    },
    Case {
        id: "query.sql-time",
        group: Group::Query,
        checks: "__time__ in SQL is unix seconds: min/max(__time__) come back as decimal strings of the first and last log times",
        source: "QUERY.md §4 (help date-and-time-functions); aliyun-log-java-sdk common/QueryResult.java",
        run: sql::sql_time,
    },
    Case {
        id: "query.sql-v1",
        group: Group::Query,
        checks: "SQL over GetLogs v1: x-log-progress Complete, x-log-has-sql true, x-log-where-query the search part, x-log-agg-query the SQL part, rows of strings",
        source: "QUERY.md §2 GetLogs v1; aliyun-log-python-sdk getlogsresponse.py _from_v1_resp; aliyun-log-java-sdk response/GetLogsResponse.java",
        run: sql::sql_v1,
    },
    Case {
        id: "query.sql-unindexed-column",
        group: Group::Query,
        checks: "SQL on a column without an index is refused with 400 ParameterInvalid: \"Column 'X' cannot be resolved\"",
        source: "QUERY.md §3 (help doc-detail/61628)",
        run: sql::sql_unindexed_column,
    },
    Case {
        id: "query.project-logs",
        group: Group::Query,
        checks: "GetProjectLogs (GET /logs, powerSql=False as Python sends it) runs SQL naming the logstore in FROM and answers like v1: JSON array of string rows, x-log-progress Complete, integer x-log-processed-rows/x-log-elapsed-millisecond/x-log-cpu-cores when sent, x-log-has-sql true, x-log-query-info terms as [term, key] arrays, no x-log-bodyrawsize",
        source: "QUERY.md §2 GetProjectLogs; aliyun-log-java-sdk Client.java GetProjectLogs, response/GetLogsResponse.java; aliyun-log-python-sdk logclient.py get_project_logs",
        run: sql::project_logs,
    },
];

// ---------------------------------------------------------------------------------------
// Data and requests

/// The tokens of the line index and of text keys (the SLS console's defaults).
fn tokens() -> Value {
    json!([
        ",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<", ">", "/",
        ":", "\n", "\t", "\r"
    ])
}

/// What the cases index: a line index, `method` (text) and `status` (long); `seq` has no key
/// index.
fn index_json() -> Value {
    json!({
        "line": {"token": tokens(), "caseSensitive": false},
        "keys": {
            "method": {"type": "text", "token": tokens(), "caseSensitive": false, "doc_value": true},
            "status": {"type": "long", "doc_value": true},
        },
    })
}

/// `n` logs, one per second from `base` (see the module docs), topic `web`.
fn logs(base: i64, n: i64) -> LogGroup {
    LogGroup {
        logs: (0..n)
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

/// GetLogs v1 over `[from, to)`.
fn v1_at(ctx: &CaseCtx, ls: &str, from: i64, to: i64, query: &str) -> Request {
    ctx.request(Method::GET, format!("/logstores/{ls}"))
        .query("type", "log")
        .query("from", from.to_string())
        .query("to", to.to_string())
        .query("query", query)
}

/// GetLogs v2 over `[from, to)`, with `extra` body fields.
fn v2_at(ctx: &CaseCtx, ls: &str, from: i64, to: i64, query: &str, extra: Value) -> Request {
    let mut body = json!({"from": from, "to": to, "query": query});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    ctx.request(Method::POST, format!("/logstores/{ls}/logs"))
        .json(&body)
}

/// Where GetHistograms is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HistPath {
    /// `GET /logstores/{ls}?type=histogram` (Python, Go, Node).
    Logstore,
    /// `GET /logstores/{ls}/index?type=histogram` (Java).
    Index,
}

/// GetHistograms over `[from, to)`.
fn hist_at(ctx: &CaseCtx, path: HistPath, ls: &str, from: i64, to: i64, query: &str) -> Request {
    let path = match path {
        HistPath::Logstore => format!("/logstores/{ls}"),
        HistPath::Index => index_path(ls),
    };
    ctx.request(Method::GET, path)
        .query("type", "histogram")
        .query("from", from.to_string())
        .query("to", to.to_string())
        .query("query", query)
}

/// A logstore with the index and `n` logs from `base`, searchable.
struct Data {
    ls: String,
    base: i64,
    n: i64,
}

impl Data {
    fn to(&self) -> i64 {
        self.base + self.n
    }

    fn v1(&self, ctx: &CaseCtx, query: &str) -> Request {
        v1_at(ctx, &self.ls, self.base, self.to(), query)
    }

    fn v2(&self, ctx: &CaseCtx, query: &str, extra: Value) -> Request {
        v2_at(ctx, &self.ls, self.base, self.to(), query, extra)
    }

    fn hist(&self, ctx: &CaseCtx, path: HistPath, query: &str) -> Request {
        hist_at(ctx, path, &self.ls, self.base, self.to(), query)
    }
}

/// Creates a logstore and its index ([`index_json`]), checking the empty 200.
async fn logstore_with_index(ctx: &mut CaseCtx) -> Result<String, Stop> {
    let ls = temp_logstore(ctx, 2).await?;
    let resp = ctx
        .send(
            ctx.request(Method::POST, index_path(&ls))
                .json(&index_json()),
        )
        .await?;
    ctx.check_empty_ok("CreateIndex", &resp)?;
    Ok(ls)
}

/// How far before the data the index probe is written: outside every window the cases query
/// (the widest is the hour before the data's end).
const PROBE_BEFORE: i64 = 4000;
/// Pause between index probes.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// Waits until the new index of `ls` applies to new data. Real SLS indexes only what is
/// written after an index takes effect, about a minute after CreateIndex (help
/// index-create-index), so this writes one probe log `PROBE_BEFORE` seconds before `base`
/// until a search finds it, for at most the settle time.
async fn wait_for_index(ctx: &mut CaseCtx, ls: &str, base: i64) -> CaseResult {
    let at = base - PROBE_BEFORE;
    let mut probe = logs(at, 1);
    probe.topic = Some("probe".into());
    let deadline = Instant::now() + ctx.settle();
    loop {
        put_ok(ctx, ls, &probe, PutPath::Lb, CompressType::Lz4).await?;
        let resp = ctx.send(v2_at(ctx, ls, at, at + 1, "*", json!({}))).await?;
        let found = resp
            .json()
            .and_then(|v| v["meta"]["count"].as_i64())
            .unwrap_or_default();
        if found > 0 || Instant::now() >= deadline {
            return ctx.check(
                "the index applies to new data (a probe log is found)",
                "at least 1 probe log",
                resp.summary(),
                found > 0,
            );
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// A logstore with the index and `n` logs, polled until the last one is found at offset
/// `n - 1` (GetLogs v2).
async fn indexed(ctx: &mut CaseCtx, n: i64) -> Result<Data, Stop> {
    let ls = logstore_with_index(ctx).await?;
    let base = i64::from(now_secs()) - 600;
    wait_for_index(ctx, &ls, base).await?;
    put_ok(ctx, &ls, &logs(base, n), PutPath::Lb, CompressType::Lz4).await?;
    let data = Data { ls, base, n };
    let req = data.v2(ctx, "*", json!({"line": 1, "offset": n - 1}));
    let client = ctx.client().clone();
    let last = (n - 1).to_string();
    let resp = poll_until(
        ctx.settle(),
        || client.send(&req),
        |r| {
            r.json()
                .is_some_and(|v| v["data"][0]["seq"] == last.as_str())
        },
    )
    .await
    .map_err(Stop::from)?;
    let v = ctx.require_json(format!("GetLogs v2 of the {n} logs written"), &resp)?;
    ctx.check_eq(
        format!(
            "the {n} logs are searchable: seq of the row at offset {}",
            n - 1
        ),
        Some(last.as_str()),
        v["data"][0]["seq"].as_str(),
    )?;
    Ok(data)
}

// ---------------------------------------------------------------------------------------
// Reading answers

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// The `seq` values of rows, comma-separated.
fn seqs(v: &Value) -> String {
    rows(v)
        .iter()
        .map(|r| r["seq"].as_str().unwrap_or("?").to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `from..to` as a comma-separated list.
fn seq_list(range: impl Iterator<Item = i64>) -> String {
    range.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn int_header(resp: &Response, name: &str) -> Option<i64> {
    resp.header(name).and_then(|v| v.trim().parse().ok())
}

/// Checks header `name` is present and an integer (Go `ParseInt`, Java `Long.parseLong`,
/// Python `int()`); returns it.
fn require_int_header(
    ctx: &mut CaseCtx,
    what: &str,
    resp: &Response,
    name: &str,
) -> Result<i64, Stop> {
    let value = resp.header(name).map(str::to_owned);
    let parsed = int_header(resp, name);
    ctx.check(
        format!("{what}: {name}"),
        "an integer",
        format!("{value:?}"),
        parsed.is_some(),
    )?;
    Ok(parsed.unwrap_or_default())
}

/// Checks header `name` is an integer when it is sent.
fn optional_int_header(ctx: &mut CaseCtx, what: &str, resp: &Response, name: &str) -> CaseResult {
    let Some(value) = resp.header(name) else {
        return Ok(());
    };
    ctx.check(
        format!("{what}: {name} (when sent)"),
        "an integer",
        format!("{value:?}"),
        value.trim().parse::<i64>().is_ok(),
    )
}

/// Checks `x-log-progress: Complete` (rule 1, rule 5).
fn check_progress_header(ctx: &mut CaseCtx, what: &str, resp: &Response) -> CaseResult {
    ctx.check_eq(
        format!("{what}: x-log-progress"),
        Some("Complete"),
        resp.header(X_LOG_PROGRESS),
    )
}

/// Checks an uncompressed answer carries neither compression header (rule 3).
fn check_plain(ctx: &mut CaseCtx, what: &str, resp: &Response) -> CaseResult {
    for name in [h::X_LOG_BODYRAWSIZE, h::X_LOG_COMPRESSTYPE] {
        ctx.check_eq(format!("{what}: no {name}"), None, resp.header(name))?;
    }
    Ok(())
}

/// Checks every value of every row is a string (rule 2); shows the first offender.
fn check_all_strings(ctx: &mut CaseCtx, what: &str, rows: &[Value]) -> CaseResult {
    let offender = rows.iter().find(|r| {
        !r.as_object()
            .is_some_and(|o| o.values().all(Value::is_string))
    });
    ctx.check(
        format!("{what}: every row value is a JSON string"),
        "objects of strings",
        offender.map_or_else(|| "all strings".to_string(), Value::to_string),
        offender.is_none(),
    )
}

/// Checks `x-log-query-info` as Python and Java read it: a JSON object whose `mode` (if any)
/// is an integer 0-3, `keys` (if any) an array of strings and `terms` (if any) an array of
/// two-element arrays (Java `getJSONArray(i)`).
fn check_query_info(ctx: &mut CaseCtx, what: &str, resp: &Response) -> CaseResult {
    let text = ctx.require_header(format!("{what}: x-log-query-info"), resp, X_LOG_QUERY_INFO)?;
    let info: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mode_ok = info
        .get("mode")
        .is_none_or(|m| m.as_i64().is_some_and(|m| (0..=3).contains(&m)));
    let keys_ok = info
        .get("keys")
        .is_none_or(|k| k.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
    let terms_ok = info.get("terms").is_none_or(|t| {
        t.as_array()
            .is_some_and(|a| a.iter().all(|e| e.as_array().is_some_and(|p| p.len() == 2)))
    });
    ctx.check(
        format!("{what}: x-log-query-info"),
        "a JSON object; mode 0-3, keys strings, terms [term, key] arrays",
        &text,
        info.is_object() && mode_ok && keys_ok && terms_ok,
    )
}

/// Python's `str.title()` of an ASCII header name: a letter after a non-letter is upper-case,
/// the others lower-case.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut after_letter = false;
    for c in name.chars() {
        out.push(if after_letter {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        });
        after_letter = c.is_ascii_alphabetic();
    }
    out
}

/// The JSON type a meta field must have for Go's `GetLogsV3ResponseMeta` to decode it.
fn go_meta_type_ok(field: &str, v: &Value) -> Option<bool> {
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let ok = match field {
        "progress" | "aggQuery" | "whereQuery" | "telementryType" | "insertedSQL" | "marker" => {
            v.is_string()
        }
        "hasSQL" | "powerSql" | "isAccurate" => v.is_boolean(),
        "processedRows" | "elapsedMillisecond" | "limited" | "count" | "processedBytes"
        | "mode" | "shard" | "scanBytes" => v.is_i64() || v.is_u64(),
        "cpuSec" | "cpuCores" => v.is_number(),
        "keys" | "columnTypes" => strings(v),
        "terms" => v.as_array().is_some_and(|a| {
            a.iter()
                .all(|t| t["key"].is_string() && t["term"].is_string())
        }),
        "highlights" => v.as_array().is_some_and(|a| {
            a.iter().all(|m| {
                m.as_object()
                    .is_some_and(|o| o.values().all(Value::is_string))
            })
        }),
        "phraseQueryInfo" => v.is_object(),
        _ => return None,
    };
    Some(ok || v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case_matches_python() {
        assert_eq!(title_case("x-log-progress"), "X-Log-Progress");
        assert_eq!(title_case("X-LOG-COUNT"), "X-Log-Count");
        assert_eq!(title_case(X_LOG_CPU_SEC), "X-Log-Cpu-Sec");
    }

    #[test]
    fn go_meta_types() {
        assert_eq!(go_meta_type_ok("count", &json!(3)), Some(true));
        assert_eq!(go_meta_type_ok("count", &json!("3")), Some(false));
        assert_eq!(go_meta_type_ok("cpuSec", &json!(0.5)), Some(true));
        assert_eq!(go_meta_type_ok("isAccurate", &json!(1)), Some(false));
        assert_eq!(
            go_meta_type_ok("terms", &json!([{"key": "k", "term": "t"}])),
            Some(true)
        );
        assert_eq!(go_meta_type_ok("terms", &json!([["t", "k"]])), Some(false));
        assert_eq!(go_meta_type_ok("keys", &Value::Null), Some(true));
        assert_eq!(go_meta_type_ok("somethingNew", &json!(1)), None);
    }

    #[test]
    fn logs_follow_the_module_docs() {
        let g = logs(1000, 20);
        assert_eq!(g.logs.len(), 20);
        assert_eq!(&g.logs[0].contents[0].value[..], b"POST");
        assert_eq!(&g.logs[5].contents[1].value[..], b"500");
        assert_eq!(g.logs[19].time, Some(1019));
    }
}
