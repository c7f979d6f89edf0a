//! Shards: list, split, merge, delete.

use reqwest::Method;
use sls_protocol::types::ShardId;

use super::ls_path;
use crate::client::{Client, Request};
use crate::error::Result;

/// A shard as ListShards/SplitShard/MergeShards describe it (the wire body, shared with the
/// emulator).
pub use sls_protocol::body::ShardInfo as Shard;

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
        shard: impl Into<ShardId>,
        at: SplitAt,
    ) -> Result<Vec<Shard>> {
        let mut req = Request::new(
            Method::POST,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
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
        shard: impl Into<ShardId>,
    ) -> Result<Vec<Shard>> {
        let req = Request::new(
            Method::POST,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
        )
        .query("action", "merge");
        self.send(req).await?.json()
    }

    /// DeleteShard (readonly shards only).
    pub async fn delete_shard(
        &self,
        project: &str,
        logstore: &str,
        shard: impl Into<ShardId>,
    ) -> Result<()> {
        let req = Request::new(
            Method::DELETE,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
        );
        self.send(req).await?;
        Ok(())
    }
}
