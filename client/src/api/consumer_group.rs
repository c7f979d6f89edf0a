//! Consumer groups: config, heartbeat, checkpoints.

use reqwest::Method;
use serde_json::json;

use super::ls_path;
use crate::client::{Client, Request};
use crate::error::Result;

/// A consumer group's settings (the wire body, shared with the emulator).
pub use sls_protocol::body::ConsumerGroupInfo as ConsumerGroup;

/// A shard's checkpoint in a group (the wire body, shared with the emulator).
pub use sls_protocol::body::CheckpointInfo as Checkpoint;

/// A checkpoint to save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointUpdate<'a> {
    /// The consumer saving it (may be empty when `force`).
    pub consumer: &'a str,
    /// Shard id.
    pub shard: u32,
    /// The cursor to resume from.
    pub checkpoint: &'a str,
    /// Skip the server's ownership check.
    pub force: bool,
}

fn group_path(logstore: &str, group: &str) -> String {
    ls_path(logstore, &format!("/consumergroups/{group}"))
}

impl Client {
    /// CreateConsumerGroup.
    pub async fn create_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        group: &ConsumerGroup,
    ) -> Result<()> {
        let body =
            json!({"consumerGroup": group.name, "timeout": group.timeout, "order": group.order});
        let req = Request::new(
            Method::POST,
            Some(project),
            ls_path(logstore, "/consumergroups"),
        )
        .json(&body);
        self.send(req).await?;
        Ok(())
    }

    /// UpdateConsumerGroup.
    pub async fn update_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        group: &ConsumerGroup,
    ) -> Result<()> {
        let body = json!({"timeout": group.timeout, "order": group.order});
        self.send(
            Request::new(
                Method::PUT,
                Some(project),
                group_path(logstore, &group.name),
            )
            .json(&body),
        )
        .await?;
        Ok(())
    }

    /// DeleteConsumerGroup.
    pub async fn delete_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
    ) -> Result<()> {
        self.send(Request::new(
            Method::DELETE,
            Some(project),
            group_path(logstore, group),
        ))
        .await?;
        Ok(())
    }

    /// ListConsumerGroup.
    pub async fn list_consumer_groups(
        &self,
        project: &str,
        logstore: &str,
    ) -> Result<Vec<ConsumerGroup>> {
        self.send(Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, "/consumergroups"),
        ))
        .await?
        .json()
    }

    /// ConsumerGroupHeartBeat: reports the shards `consumer` holds; returns those it may consume.
    pub async fn heartbeat(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        consumer: &str,
        held: &[u32],
    ) -> Result<Vec<u32>> {
        let req = Request::new(Method::POST, Some(project), group_path(logstore, group))
            .query("type", "heartbeat")
            .query("consumer", consumer)
            .json(&json!(held));
        self.send(req).await?.json()
    }

    /// ConsumerGroupUpdateCheckPoint. Without `force` the server checks that the consumer holds
    /// the shard.
    pub async fn update_checkpoint(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        update: &CheckpointUpdate<'_>,
    ) -> Result<()> {
        let req = Request::new(Method::POST, Some(project), group_path(logstore, group))
            .query("type", "checkpoint")
            .query("consumer", update.consumer)
            .query("forceSuccess", update.force)
            .json(&json!({"shard": update.shard, "checkpoint": update.checkpoint}));
        self.send(req).await?;
        Ok(())
    }

    /// GetCheckPoint: every shard, or one.
    pub async fn get_checkpoints(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        shard: Option<u32>,
    ) -> Result<Vec<Checkpoint>> {
        let mut req = Request::new(Method::GET, Some(project), group_path(logstore, group));
        if let Some(s) = shard {
            req = req.query("shard", s);
        }
        self.send(req).await?.json()
    }
}
