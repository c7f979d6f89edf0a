//! Indexes (CreateIndex, UpdateIndex, GetIndex, DeleteIndex) and the queries: GetLogs v1
//! (`GET ?type=log`, rows in the body, meta in headers) and v2 (`POST /logs`, JSON in and
//! out), GetHistograms. Wire rules every client forces (QUERY.md §1): progress is always
//! `Complete`, every row value is a string, answers are plain JSON (no `x-log-bodyrawsize`),
//! `x-log-progress` is always sent, header names are lower-case.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use sls_query::index::IndexConfig;
use sls_query::search::{self, Search};

use super::request::json_object;
use super::Call;
use crate::error::{ApiError, ErrorCode};
use crate::query::{self as engine, Found, LogRow, Window, MAX_LINES};
use crate::storage::{Logstore, StorageError};

/// The parameters of GetLogs and GetHistograms, from the query string (v1) or the body (v2).
#[derive(Debug, Clone)]
struct Params {
    window: Window,
    query: String,
    line: usize,
    offset: usize,
    reverse: bool,
    interval: Option<i64>,
}

/// A boolean as clients send it: `true`/`false` in any case (Python sends `True`), or a
/// JSON bool.
fn boolean(name: &str, v: Option<&Value>) -> Result<bool, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        Some(other) => Err(ApiError::param(format!(
            "{name} must be true or false, got {other}"
        ))),
    }
}

/// An integer sent as a JSON number or a decimal string.
fn integer(name: &str, v: Option<&Value>) -> Result<Option<i64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::param(format!("{name} must be an integer, got {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::param(format!("{name} must be an integer, got {s:?}"))),
        Some(other) => Err(ApiError::param(format!(
            "{name} must be an integer, got {other}"
        ))),
    }
}

impl Params {
    /// From a JSON object (the v2 body), or the query string turned into one (v1).
    fn from_map(m: &Map<String, Value>) -> Result<Params, ApiError> {
        let from = integer("from", m.get("from"))?
            .ok_or_else(|| ApiError::param("from is required (unix seconds)"))?;
        let to = integer("to", m.get("to"))?
            .ok_or_else(|| ApiError::param("to is required (unix seconds)"))?;
        if to < from {
            return Err(ApiError::param(format!(
                "to ({to}) must not be before from ({from})"
            )));
        }
        let line = integer("line", m.get("line").or_else(|| m.get("lines")))?.unwrap_or(100);
        if !(0..=MAX_LINES as i64).contains(&line) {
            return Err(ApiError::param(format!(
                "line must be between 0 and {MAX_LINES}, got {line}"
            )));
        }
        let offset = integer("offset", m.get("offset"))?.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::param(format!(
                "offset must not be negative, got {offset}"
            )));
        }
        let text = |k: &str| match m.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let topic = text("topic");
        Ok(Params {
            window: Window {
                from,
                to,
                topic: (!topic.is_empty()).then_some(topic),
            },
            query: text("query"),
            line: line as usize,
            offset: offset as usize,
            reverse: boolean("reverse", m.get("reverse"))?,
            interval: integer("interval", m.get("interval"))?,
        })
    }

    fn from_query(c: &Call<'_>) -> Result<Params, ApiError> {
        let m: Map<String, Value> = c
            .ctx
            .query
            .pairs()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        Params::from_map(&m)
    }
}

/// An index body, validated: `IndexInfoInvalid` otherwise.
fn parse_index(body: &[u8]) -> Result<IndexConfig, ApiError> {
    IndexConfig::parse(body).map_err(|e| ApiError::new(ErrorCode::IndexInfoInvalid, e.to_string()))
}

/// CreateIndex.
pub(super) async fn create_index(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let index = parse_index(c.body)?;
    c.st.store
        .set_index(c.ctx.project()?, logstore, Some(index.to_json()), true)
        .await?;
    Ok(().into_response())
}

/// UpdateIndex.
pub(super) async fn update_index(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let index = parse_index(c.body)?;
    c.st.store
        .set_index(c.ctx.project()?, logstore, Some(index.to_json()), false)
        .await?;
    Ok(().into_response())
}

/// GetIndex: the stored configuration (with `index_mode`), never compressed (the Go SDK
/// asks for deflate but reads the body raw).
pub(super) fn get_index(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let ls = c.st.store.logstore(c.ctx.project()?, logstore)?;
    let index = ls
        .record()
        .index
        .ok_or_else(|| StorageError::IndexConfigNotExist(logstore.to_string()))?;
    Ok(Json(index).into_response())
}

/// DeleteIndex.
pub(super) async fn delete_index(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    c.st.store
        .set_index(c.ctx.project()?, logstore, None, false)
        .await?;
    Ok(().into_response())
}

/// The logstore and its parsed index; a query on a logstore without one is
/// `IndexConfigNotExist` ("logstore without index config").
fn indexed(c: &Call<'_>, logstore: &str) -> Result<(Arc<Logstore>, IndexConfig), ApiError> {
    let ls = c.st.store.logstore(c.ctx.project()?, logstore)?;
    let json = ls
        .record()
        .index
        .ok_or_else(|| StorageError::IndexConfigNotExist(logstore.to_string()))?;
    let index = engine::parse_index(&json).map_err(ApiError::internal)?;
    Ok((ls, index))
}

/// A search the parser refused: its SLS error.
fn search_error(e: search::SearchError) -> ApiError {
    ApiError::param(e.to_string())
}

/// The search part of a query, and the SQL part (refused until the SQL engine serves it).
fn parse_query(text: &str, index: &IndexConfig) -> Result<(Search, Option<String>), ApiError> {
    let (search_part, sql) = search::split(text);
    let search = Search::parse(search_part, index).map_err(search_error)?;
    Ok((search, sql.map(str::to_string)))
}

/// What one GetLogs answered, for both wire forms.
struct Answer {
    found: Found,
    elapsed_ms: u64,
    has_sql: bool,
    where_query: String,
    agg_query: String,
}

async fn run_get_logs(c: &Call<'_>, logstore: &str, p: Params) -> Result<Answer, ApiError> {
    let t0 = Instant::now();
    let (ls, index) = indexed(c, logstore)?;
    let (search, sql) = parse_query(&p.query, &index)?;
    let where_query = search::split(&p.query).0.trim().to_string();
    if let Some(sql) = sql {
        let store = c.st.store.clone();
        let window = p.window.clone();
        let (table, processed) = tokio::task::spawn_blocking(move || {
            engine::sql_table(&store, &ls, &window, &search, &index)
        })
        .await
        .map_err(ApiError::internal)??;
        let result = sls_sql::run(&sql, vec![("log".to_string(), table)])
            .await
            .map_err(sql_error)?;
        return Ok(Answer {
            found: sql_rows(result, processed),
            elapsed_ms: t0.elapsed().as_millis() as u64,
            has_sql: true,
            where_query,
            agg_query: sql,
        });
    }
    let store = c.st.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        engine::search(&store, &ls, &p.window, &search, p.offset, p.line, p.reverse)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Answer {
        found,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        has_sql: false,
        where_query,
        agg_query: String::new(),
    })
}

/// A query the SQL engine refused: its SLS error.
fn sql_error(e: sls_sql::SqlError) -> ApiError {
    ApiError::param(e.message)
}

/// SQL results as answer rows (column order kept) and the SQL columns.
fn sql_rows(result: sls_sql::SqlResult, processed: u64) -> Found {
    let rows: Vec<LogRow> = result
        .rows
        .into_iter()
        .map(|r| result.columns.iter().cloned().zip(r).collect())
        .collect();
    Found {
        matched: rows.len() as u64,
        rows,
        processed,
        columns: result.columns,
    }
}

fn row_json(row: LogRow) -> Value {
    Value::Object(
        row.into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// GetLogs, v1 or v2.
pub(super) async fn get_logs(c: &Call<'_>, logstore: &str, v2: bool) -> Result<Response, ApiError> {
    let params = if v2 {
        Params::from_map(&json_object(c.body)?)?
    } else {
        Params::from_query(c)?
    };
    let a = run_get_logs(c, logstore, params).await?;
    let count = a.found.rows.len();
    let processed = a.found.processed;
    let keys = a.found.columns.clone();
    let rows: Vec<Value> = a.found.rows.into_iter().map(row_json).collect();
    if v2 {
        let body = json!({
            "meta": {
                "progress": "Complete",
                "aggQuery": a.agg_query,
                "whereQuery": a.where_query,
                "hasSQL": a.has_sql,
                "processedRows": processed,
                "elapsedMillisecond": a.elapsed_ms,
                "cpuSec": 0.0,
                "cpuCores": 0.0,
                "limited": 0,
                "count": count,
                "processedBytes": 0,
                "telementryType": "logging",
                "powerSql": false,
                "insertedSQL": "",
                "keys": keys,
                "terms": [],
                "isAccurate": true,
            },
            "data": rows,
        });
        return Ok(Json(body).into_response());
    }
    Ok(v1_answer(
        rows,
        V1Meta {
            processed,
            elapsed_ms: a.elapsed_ms,
            has_sql: a.has_sql,
            where_query: a.where_query,
            agg_query: a.agg_query,
            keys,
        },
    ))
}

/// The meta a v1-style answer (GetLogs v1, GetProjectLogs) sends in headers.
struct V1Meta {
    processed: u64,
    elapsed_ms: u64,
    has_sql: bool,
    where_query: String,
    agg_query: String,
    keys: Vec<String>,
}

/// Rows as a JSON array, the meta in lower-case `x-log-*` headers (QUERY.md §1).
fn v1_answer(rows: Vec<Value>, m: V1Meta) -> Response {
    let query_info = json!({"mode": 0, "keys": m.keys, "terms": [], "isAccurate": 1});
    let headers = [
        ("x-log-progress", "Complete".to_string()),
        ("x-log-count", rows.len().to_string()),
        ("x-log-processed-rows", m.processed.to_string()),
        ("x-log-elapsed-millisecond", m.elapsed_ms.to_string()),
        ("x-log-has-sql", m.has_sql.to_string()),
        ("x-log-where-query", m.where_query),
        ("x-log-agg-query", m.agg_query),
        ("x-log-cpu-sec", "0".to_string()),
        ("x-log-cpu-cores", "0".to_string()),
        ("x-log-query-info", query_info.to_string()),
    ];
    with_headers(Json(Value::Array(rows)).into_response(), &headers)
}

/// Adds headers whose values are valid header text (a query with control characters in it
/// is echoed without them).
fn with_headers(mut resp: Response, headers: &[(&'static str, String)]) -> Response {
    for (name, value) in headers {
        let clean: String = value.chars().filter(|c| !c.is_control()).collect();
        if let Ok(v) = HeaderValue::from_str(&clean) {
            resp.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
    resp
}

/// GetHistograms: the matches per bucket of `[from, to)`.
pub(super) async fn get_histograms(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let p = Params::from_query(c)?;
    let (ls, index) = indexed(c, logstore)?;
    let (search, sql) = parse_query(&p.query, &index)?;
    if sql.is_some() {
        return Err(ApiError::param(
            "GetHistograms takes a search query, without | and SQL",
        ));
    }
    let store = c.st.store.clone();
    let window = p.window.clone();
    let buckets = tokio::task::spawn_blocking(move || {
        engine::histogram(&store, &ls, &window, &search, p.interval)
    })
    .await
    .map_err(ApiError::internal)??;
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    let body: Vec<Value> = buckets
        .iter()
        .map(|b| json!({"from": b.from, "to": b.to, "count": b.count, "progress": "Complete"}))
        .collect();
    let headers = [
        ("x-log-progress", "Complete".to_string()),
        ("x-log-count", total.to_string()),
        (
            "x-log-elapsed-millisecond",
            t0.elapsed().as_millis().to_string(),
        ),
    ];
    Ok(with_headers(
        Json(Value::Array(body)).into_response(),
        &headers,
    ))
}

/// GetProjectLogs: SQL over the project's logstores, each named in FROM (every log it
/// holds; time conditions go in the SQL's WHERE). Answered like GetLogs v1.
pub(super) async fn get_project_logs(c: &Call<'_>) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let project = c.ctx.project()?.to_string();
    let sql = c
        .ctx
        .param("query")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ApiError::param("query is required: SQL naming logstores in FROM"))?
        .to_string();
    let names = sls_sql::tables_named(&sql).map_err(sql_error)?;
    if names.is_empty() {
        return Err(ApiError::param(
            "project SQL must name a logstore in FROM (select ... from <logstore>)",
        ));
    }
    let mut tables = Vec::new();
    let mut processed = 0;
    for name in names {
        let (ls, index) = indexed(c, &name)?;
        let store = c.st.store.clone();
        let window = Window {
            from: 0,
            to: i64::MAX,
            topic: None,
        };
        let all = Search::parse("", &index).map_err(search_error)?;
        let (table, n) = tokio::task::spawn_blocking(move || {
            engine::sql_table(&store, &ls, &window, &all, &index)
        })
        .await
        .map_err(ApiError::internal)??;
        processed += n;
        tables.push((name, table));
    }
    tracing::debug!(%project, tables = tables.len(), "project SQL");
    let result = sls_sql::run(&sql, tables).await.map_err(sql_error)?;
    let found = sql_rows(result, processed);
    let keys = found.columns.clone();
    let rows: Vec<Value> = found.rows.into_iter().map(row_json).collect();
    Ok(v1_answer(
        rows,
        V1Meta {
            processed,
            elapsed_ms: t0.elapsed().as_millis() as u64,
            has_sql: true,
            where_query: String::new(),
            agg_query: sql,
            keys,
        },
    ))
}
