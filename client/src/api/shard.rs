//! Shards: list, split, merge, delete.

use reqwest::Method;
use serde::Deserialize;

use super::ls_path;
use crate::client::{Client, Request};
use crate::error::{Error, Result};

/// A shard as ListShards/SplitShard/MergeShards describe it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Shard {
    /// Id.
    #[serde(rename = "shardID")]
    pub id: u32,
    /// `readwrite` or `readonly`.
    pub status: String,
    /// Inclusive begin of the hash range (32 hex digits).
    #[serde(rename = "inclusiveBeginKey")]
    pub begin_key: String,
    /// Exclusive end of the hash range.
    #[serde(rename = "exclusiveEndKey")]
    pub end_key: String,
    /// Creation time, unix seconds.
    #[serde(rename = "createTime")]
    pub create_time: i64,
}

impl Shard {
    /// Whether it accepts writes.
    pub fn is_readwrite(&self) -> bool {
        self.status == "readwrite"
    }

    /// The hash range as numbers.
    pub fn range(&self) -> Result<(u128, u128)> {
        let p = |k: &str| {
            sls_protocol::hash::parse_hash_key(k).map_err(|e| Error::Decode(e.to_string()))
        };
        Ok((p(&self.begin_key)?, p(&self.end_key)?))
    }
}

/// Where SplitShard cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitAt {
    /// Two shards, cut at this key.
    Key(u128),
    /// `n` shards of equal ranges (2 = the midpoint).
    Even(u32),
}

impl Client {
    /// ListShards (readonly shards included).
    pub async fn list_shards(&self, project: &str, logstore: &str) -> Result<Vec<Shard>> {
        self.send(Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, "/shards"),
        ))
        .await?
        .json()
    }

    /// SplitShard: returns the parent (now readonly), then the new shards.
    pub async fn split_shard(
        &self,
        project: &str,
        logstore: &str,
        shard: u32,
        at: SplitAt,
    ) -> Result<Vec<Shard>> {
        let mut req = Request::new(
            Method::POST,
            Some(project),
            ls_path(logstore, &format!("/shards/{shard}")),
        )
        .query("action", "split");
        req = match at {
            SplitAt::Key(k) => req.query("key", sls_protocol::hash::format_hash_key(k)),
            SplitAt::Even(n) => req.query("shardCount", n),
        };
        self.send(req).await?.json()
    }

    /// MergeShards with the right neighbour: returns the new shard, then both parents.
    pub async fn merge_shard(
        &self,
        project: &str,
        logstore: &str,
        shard: u32,
    ) -> Result<Vec<Shard>> {
        let req = Request::new(
            Method::POST,
            Some(project),
            ls_path(logstore, &format!("/shards/{shard}")),
        )
        .query("action", "merge");
        self.send(req).await?.json()
    }

    /// DeleteShard (readonly shards only).
    pub async fn delete_shard(&self, project: &str, logstore: &str, shard: u32) -> Result<()> {
        let req = Request::new(
            Method::DELETE,
            Some(project),
            ls_path(logstore, &format!("/shards/{shard}")),
        );
        self.send(req).await?;
        Ok(())
    }
}
