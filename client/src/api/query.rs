//! Indexes and queries: CreateIndex, UpdateIndex, GetIndex, DeleteIndex, GetLogs (v2),
//! GetHistograms.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::ls_path;
use crate::client::{Client, Request};
use crate::error::Result;

/// What GetLogs asks: `[from, to)` in unix seconds (log time), a query (`search | sql`), and
/// for searches the page (`line` at most 100, from `offset`) and its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Inclusive start, unix seconds.
    pub from: i64,
    /// Exclusive end, unix seconds.
    pub to: i64,
    /// `search [| sql]`; empty means `*`.
    pub query: String,
    /// Only this topic, when set.
    pub topic: Option<String>,
    /// Rows per page (searches; at most 100).
    pub line: u32,
    /// Rows to skip (searches).
    pub offset: u32,
    /// Newest first.
    pub reverse: bool,
}

impl LogQuery {
    /// `query` over `[from, to)`: the first 100 rows, oldest first.
    pub fn new(from: i64, to: i64, query: &str) -> LogQuery {
        LogQuery {
            from,
            to,
            query: query.into(),
            topic: None,
            line: 100,
            offset: 0,
            reverse: false,
        }
    }
}

/// The `meta` of a GetLogs answer.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct QueryMeta {
    /// `Complete` when the answer is final.
    pub progress: String,
    /// Rows in this answer.
    pub count: i64,
    /// Logs the query looked at.
    #[serde(rename = "processedRows")]
    pub processed_rows: i64,
    /// Whether the query had SQL after `|`.
    #[serde(rename = "hasSQL")]
    pub has_sql: bool,
    /// The search part.
    #[serde(rename = "whereQuery", default)]
    pub where_query: String,
    /// The SQL part.
    #[serde(rename = "aggQuery", default)]
    pub agg_query: String,
    /// Result columns of SQL queries.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// One GetLogs answer: its meta and rows (every value a string).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LogsPage {
    /// Meta.
    pub meta: QueryMeta,
    /// Rows.
    #[serde(rename = "data")]
    pub rows: Vec<BTreeMap<String, String>>,
}

/// One GetHistograms bucket.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Histogram {
    /// Inclusive start, unix seconds.
    pub from: i64,
    /// Exclusive end, unix seconds.
    pub to: i64,
    /// Matches in it.
    pub count: u64,
    /// `Complete` when final.
    pub progress: String,
}

impl Client {
    /// CreateIndex with the SLS index JSON (`line`, `keys`, ...).
    pub async fn create_index(
        &self,
        project: &str,
        logstore: &str,
        index: &serde_json::Value,
    ) -> Result<()> {
        let req =
            Request::new(Method::POST, Some(project), ls_path(logstore, "/index")).json(index);
        self.send(req).await?;
        Ok(())
    }

    /// UpdateIndex: replaces the index.
    pub async fn update_index(
        &self,
        project: &str,
        logstore: &str,
        index: &serde_json::Value,
    ) -> Result<()> {
        let req = Request::new(Method::PUT, Some(project), ls_path(logstore, "/index")).json(index);
        self.send(req).await?;
        Ok(())
    }

    /// GetIndex: the index JSON as stored (with `index_mode`).
    pub async fn get_index(&self, project: &str, logstore: &str) -> Result<serde_json::Value> {
        self.send(Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, "/index"),
        ))
        .await?
        .json()
    }

    /// DeleteIndex.
    pub async fn delete_index(&self, project: &str, logstore: &str) -> Result<()> {
        self.send(Request::new(
            Method::DELETE,
            Some(project),
            ls_path(logstore, "/index"),
        ))
        .await?;
        Ok(())
    }

    /// GetLogs (v2: `POST /logstores/{ls}/logs`).
    pub async fn get_logs(&self, project: &str, logstore: &str, q: &LogQuery) -> Result<LogsPage> {
        let mut body = json!({
            "from": q.from, "to": q.to, "query": q.query, "line": q.line,
            "offset": q.offset, "reverse": q.reverse, "powerSql": false,
        });
        if let Some(t) = &q.topic {
            body["topic"] = json!(t);
        }
        let req = Request::new(Method::POST, Some(project), ls_path(logstore, "/logs")).json(&body);
        self.send(req).await?.json()
    }

    /// GetHistograms: matches of a search per sub-interval of `[from, to)` (at most 60).
    pub async fn get_histograms(
        &self,
        project: &str,
        logstore: &str,
        from: i64,
        to: i64,
        query: &str,
    ) -> Result<Vec<Histogram>> {
        let req = Request::new(Method::GET, Some(project), ls_path(logstore, ""))
            .query("type", "histogram")
            .query("from", from)
            .query("to", to)
            .query("query", query);
        self.send(req).await?.json()
    }
}
