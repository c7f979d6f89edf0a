//! Logstores.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use sls_protocol::body::LogstoreList;

use super::ls_path;
use crate::client::{Client, Request};
use crate::error::Result;

/// What CreateLogStore/UpdateLogStore send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogstoreSpec {
    /// Name.
    pub name: String,
    /// Retention in days (3650 = forever).
    pub ttl: u32,
    /// Initial shards (ignored by updates).
    pub shard_count: u32,
    /// Add `__receive_time__`/`__client_ip__` tags.
    pub append_meta: bool,
}

impl LogstoreSpec {
    /// A logstore with `shard_count` shards and a 30-day ttl.
    pub fn new(name: &str, shard_count: u32) -> LogstoreSpec {
        LogstoreSpec {
            name: name.into(),
            ttl: 30,
            shard_count,
            append_meta: false,
        }
    }
}

/// A logstore as GetLogStore describes it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Logstore {
    /// Name.
    #[serde(rename = "logstoreName")]
    pub name: String,
    /// Retention in days.
    pub ttl: u32,
    /// Readwrite shards.
    #[serde(rename = "shardCount")]
    pub shard_count: u32,
    /// `appendMeta`.
    #[serde(rename = "appendMeta", default)]
    pub append_meta: bool,
    /// Creation time, unix seconds.
    #[serde(rename = "createTime", default)]
    pub create_time: i64,
}

fn spec_json(s: &LogstoreSpec) -> serde_json::Value {
    json!({"logstoreName": s.name, "ttl": s.ttl, "shardCount": s.shard_count, "appendMeta": s.append_meta})
}

impl Client {
    /// CreateLogStore.
    pub async fn create_logstore(&self, project: &str, spec: &LogstoreSpec) -> Result<()> {
        self.send(Request::new(Method::POST, Some(project), "/logstores").json(&spec_json(spec)))
            .await?;
        Ok(())
    }

    /// GetLogStore.
    pub async fn get_logstore(&self, project: &str, logstore: &str) -> Result<Logstore> {
        self.send(Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, ""),
        ))
        .await?
        .json()
    }

    /// ListLogStores: one page of names, plus the total count.
    pub async fn list_logstores(
        &self,
        project: &str,
        offset: u32,
        size: u32,
    ) -> Result<(Vec<String>, u64)> {
        let req = Request::new(Method::GET, Some(project), "/logstores")
            .query("offset", offset)
            .query("size", size);
        let list: LogstoreList = self.send(req).await?.json()?;
        Ok((list.logstores, list.total))
    }

    /// UpdateLogStore (ttl, appendMeta; the shard count changes only through split/merge).
    pub async fn update_logstore(&self, project: &str, spec: &LogstoreSpec) -> Result<()> {
        let req = Request::new(Method::PUT, Some(project), ls_path(&spec.name, ""))
            .json(&spec_json(spec));
        self.send(req).await?;
        Ok(())
    }

    /// DeleteLogStore.
    pub async fn delete_logstore(&self, project: &str, logstore: &str) -> Result<()> {
        self.send(Request::new(
            Method::DELETE,
            Some(project),
            ls_path(logstore, ""),
        ))
        .await?;
        Ok(())
    }
}
