//! Consumer groups: config and checkpoints persisted in `meta` (`cg/{logstore id}/{name}` and
//! `cp/{logstore id}/{name}/{shard}`); live consumers and shard ownership in memory, driven by
//! the pure rules in `model::assignment` (CONSUMERS-AND-PRODUCERS.md §1, §2).
//!
//! Consumer liveness is not persisted. After an emulator restart, a group's first `timeout`
//! seconds are a grace period in which consumers that still claim shards may rejoin with their
//! claims (as they could have with a server that never went away); after it, an unknown
//! consumer with claims gets `NotExistConsumerWithBody` like on SLS.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sls_protocol::types::{Cursor, ShardId, UnixNanos};

use super::records::{from_json, to_json};
use super::{Logstore, Result, StorageError, Store};
use crate::model::assignment::{assignable_shards, GroupState, ShardNode};

/// Most consumer groups per logstore (SLS docs: 30).
pub const MAX_GROUPS: usize = 30;

/// A consumer group's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// Name.
    pub name: String,
    /// Seconds without a heartbeat after which a consumer is removed.
    pub timeout: u32,
    /// Consume children only after all their ancestors.
    pub order: bool,
}

/// A stored checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The cursor to resume from (`""` when never saved).
    pub checkpoint: String,
    /// When it was saved, microseconds since the epoch (0 when never saved).
    pub update_time_us: i64,
    /// Who saved it.
    pub consumer: String,
}

/// Why a checkpoint update is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Non-forced update from a consumer that is not alive in the group (or none named).
    #[error("consumer {0:?} does not exist in the consumer group")]
    ConsumerNotExist(String),
    /// Non-forced update of a shard the consumer does not hold.
    #[error("shard {shard} is not held by consumer {consumer}")]
    ConsumerNotMatch {
        /// The consumer.
        consumer: String,
        /// The shard.
        shard: ShardId,
    },
    /// The checkpoint is not base64.
    #[error("checkpoint {0:?} is not base64")]
    InvalidCheckpoint(String),
}

/// One group's state in memory.
#[derive(Debug)]
pub(super) struct GroupRuntime {
    config: ConsumerGroup,
    state: GroupState,
    checkpoints: BTreeMap<ShardId, Checkpoint>,
    /// Loaded from disk: consumers may rejoin with claims until `grace_until`.
    restored: bool,
    grace_until: Option<UnixNanos>,
}

fn group_key(ls: u64, name: &str) -> Vec<u8> {
    format!("cg/{ls}/{name}").into_bytes()
}

fn checkpoint_key(ls: u64, name: &str, shard: ShardId) -> Vec<u8> {
    format!("cp/{ls}/{name}/{:010}", shard.get()).into_bytes()
}

/// Loads every group of a logstore.
pub(super) fn load(meta: &sled::Tree, ls: u64) -> Result<BTreeMap<String, GroupRuntime>> {
    let mut groups = BTreeMap::new();
    for item in meta.scan_prefix(format!("cg/{ls}/").as_bytes()) {
        let (k, v) = item?;
        let config: ConsumerGroup = from_json(&k, &v)?;
        let mut checkpoints = BTreeMap::new();
        let prefix = format!("cp/{ls}/{}/", config.name);
        for cp in meta.scan_prefix(prefix.as_bytes()) {
            let (ck, cv) = cp?;
            let shard = std::str::from_utf8(&ck[prefix.len()..])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .map(ShardId);
            if let Some(shard) = shard {
                checkpoints.insert(shard, from_json(&ck, &cv)?);
            }
        }
        groups.insert(
            config.name.clone(),
            GroupRuntime {
                config,
                state: GroupState::default(),
                checkpoints,
                restored: true,
                grace_until: None,
            },
        );
    }
    Ok(groups)
}

/// Every group key of a logstore.
pub(super) fn group_prefix(ls: u64) -> Vec<u8> {
    format!("cg/{ls}/").into_bytes()
}

/// Every checkpoint key of a logstore.
pub(super) fn checkpoint_prefix(ls: u64) -> Vec<u8> {
    format!("cp/{ls}/").into_bytes()
}

/// Adds the removal of every group's checkpoint of `shard` to `batch`.
pub(super) fn remove_shard_checkpoints(
    batch: &mut sled::Batch,
    ls: u64,
    groups: &BTreeMap<String, GroupRuntime>,
    shard: ShardId,
) {
    for name in groups.keys() {
        batch.remove(checkpoint_key(ls, name, shard));
    }
}

/// Forgets every group's checkpoint of `shard` in memory (after the batch above).
pub(super) fn forget_shard(groups: &mut BTreeMap<String, GroupRuntime>, shard: ShardId) {
    for g in groups.values_mut() {
        g.checkpoints.remove(&shard);
    }
}

/// What SLS checks of a checkpoint: base64, padded or not (any payload: clients store cursors,
/// but the API does not require one).
fn is_base64(s: &str) -> bool {
    use base64::Engine;
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    engines.iter().any(|e| e.decode(s).is_ok())
}

impl GroupRuntime {
    fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.timeout))
    }

    /// The shards this group may assign now.
    fn assignable(&self, ls: &Logstore) -> BTreeSet<ShardId> {
        let nodes: Vec<ShardNode> = ls
            .shards()
            .iter()
            .map(|s| {
                let cp = self
                    .checkpoints
                    .get(&s.id)
                    .map(|c| c.checkpoint.as_str())
                    .unwrap_or("");
                // The end includes writes still in the group commit: a checkpoint at the
                // readable end could otherwise finish a parent whose last LogGroup is not
                // readable yet, and an ordered group would start its children first.
                let finished = s
                    .readonly_end_seq()
                    .is_some_and(|end| Cursor::parse(cp).is_ok_and(|c| c == s.cursor_of(end)));
                ShardNode {
                    id: s.id,
                    parents: s.parents.clone(),
                    finished,
                    started: self.state.owner(s.id).is_some() || !cp.is_empty(),
                }
            })
            .collect();
        assignable_shards(&nodes, self.config.order)
    }
}

impl Store {
    fn with_group<T>(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        f: impl FnOnce(&Logstore, &mut GroupRuntime) -> Result<T>,
    ) -> Result<T> {
        let ls = self.logstore(project, logstore)?;
        let mut groups = ls.groups.lock().unwrap_or_else(|e| e.into_inner());
        let g = groups
            .get_mut(group)
            .ok_or_else(|| StorageError::ConsumerGroupNotExist(group.to_string()))?;
        f(&ls, g)
    }

    /// CreateConsumerGroup.
    pub async fn create_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        config: ConsumerGroup,
    ) -> Result<()> {
        {
            let ls = self.logstore(project, logstore)?;
            let mut groups = ls.groups.lock().unwrap_or_else(|e| e.into_inner());
            if groups.contains_key(&config.name) {
                return Err(StorageError::ConsumerGroupAlreadyExist(config.name));
            }
            if groups.len() >= MAX_GROUPS {
                return Err(StorageError::TooManyConsumerGroups(MAX_GROUPS));
            }
            self.inner
                .meta
                .insert(group_key(ls.id, &config.name), to_json(&config))?;
            groups.insert(
                config.name.clone(),
                GroupRuntime {
                    config,
                    state: GroupState::default(),
                    checkpoints: BTreeMap::new(),
                    restored: false,
                    grace_until: None,
                },
            );
        }
        self.commit().await
    }

    /// UpdateConsumerGroup: takes effect at once, for live consumers too.
    pub async fn update_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        timeout: Option<u32>,
        order: Option<bool>,
    ) -> Result<()> {
        self.with_group(project, logstore, group, |ls, g| {
            let mut config = g.config.clone();
            if let Some(t) = timeout {
                config.timeout = t;
            }
            if let Some(o) = order {
                config.order = o;
            }
            self.inner
                .meta
                .insert(group_key(ls.id, group), to_json(&config))?;
            g.config = config;
            Ok(())
        })?;
        self.commit().await
    }

    /// DeleteConsumerGroup: drops its consumers and checkpoints (one sled batch).
    pub async fn delete_consumer_group(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
    ) -> Result<()> {
        {
            let ls = self.logstore(project, logstore)?;
            let mut groups = ls.groups.lock().unwrap_or_else(|e| e.into_inner());
            if !groups.contains_key(group) {
                return Err(StorageError::ConsumerGroupNotExist(group.to_string()));
            }
            // sled first, then memory (as every other change here).
            let mut batch = sled::Batch::default();
            batch.remove(group_key(ls.id, group));
            for item in self
                .inner
                .meta
                .scan_prefix(format!("cp/{}/{group}/", ls.id).as_bytes())
            {
                batch.remove(item?.0);
            }
            self.inner.meta.apply_batch(batch)?;
            groups.remove(group);
        }
        self.commit().await
    }

    /// ListConsumerGroup, by name.
    pub fn list_consumer_groups(
        &self,
        project: &str,
        logstore: &str,
    ) -> Result<Vec<ConsumerGroup>> {
        let ls = self.logstore(project, logstore)?;
        let groups = ls.groups.lock().unwrap_or_else(|e| e.into_inner());
        Ok(groups.values().map(|g| g.config.clone()).collect())
    }

    /// ConsumerGroupHeartBeat: registers/refreshes `consumer` and returns the shards it may
    /// consume. Nothing durable changes: liveness and ownership live in memory.
    pub fn heartbeat(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        consumer: &str,
        claims: BTreeSet<ShardId>,
        now: UnixNanos,
    ) -> Result<Vec<ShardId>> {
        self.with_group(project, logstore, group, |ls, g| {
            let existing: BTreeSet<ShardId> = ls.shards().iter().map(|s| s.id).collect();
            let claims: BTreeSet<ShardId> = claims
                .into_iter()
                .filter(|c| existing.contains(c))
                .collect();
            let timeout = g.timeout();
            if g.restored && g.grace_until.is_none() {
                g.grace_until = Some(now.saturating_add(timeout));
            }
            let rejoin = g.grace_until.is_some_and(|t| now < t);
            let assignable = g.assignable(ls);
            Ok(g.state
                .heartbeat(consumer, claims, &assignable, now, timeout, rejoin)?)
        })
    }

    /// ConsumerGroupUpdateCheckPoint. Without `force`, `consumer` must be alive and hold the
    /// shard (a shard in transfer counts as held, so its old owner can flush).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_checkpoint(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        consumer: &str,
        force: bool,
        shard: ShardId,
        checkpoint: &str,
        now: UnixNanos,
    ) -> Result<()> {
        self.with_group(project, logstore, group, |ls, g| {
            ls.shard(shard)?;
            if !is_base64(checkpoint) {
                return Err(CheckpointError::InvalidCheckpoint(checkpoint.to_string()).into());
            }
            if !force {
                g.state.expire(now, g.timeout());
                if consumer.is_empty() || !g.state.is_alive(consumer) {
                    return Err(CheckpointError::ConsumerNotExist(consumer.to_string()).into());
                }
                if !g.state.holds(consumer, shard) {
                    return Err(CheckpointError::ConsumerNotMatch {
                        consumer: consumer.to_string(),
                        shard,
                    }
                    .into());
                }
            }
            let cp = Checkpoint {
                checkpoint: checkpoint.to_string(),
                update_time_us: now.micros(),
                consumer: consumer.to_string(),
            };
            self.inner
                .meta
                .insert(checkpoint_key(ls.id, group, shard), to_json(&cp))?;
            g.checkpoints.insert(shard, cp);
            Ok(())
        })?;
        self.commit().await
    }

    /// GetCheckPoint: one entry per existing shard (empty when never saved), or only `shard`
    /// (nothing when it does not exist).
    pub fn get_checkpoints(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
        shard: Option<ShardId>,
    ) -> Result<Vec<(ShardId, Checkpoint)>> {
        self.with_group(project, logstore, group, |ls, g| {
            Ok(ls
                .shards()
                .iter()
                .filter(|s| shard.is_none_or(|id| id == s.id))
                .map(|s| {
                    let cp = g.checkpoints.get(&s.id).cloned().unwrap_or_default();
                    (s.id, cp)
                })
                .collect())
        })
    }

    /// Live consumers of a group and the shards each owns (for tests and tools).
    pub fn consumer_group_owners(
        &self,
        project: &str,
        logstore: &str,
        group: &str,
    ) -> Result<BTreeMap<String, Vec<ShardId>>> {
        self.with_group(project, logstore, group, |ls, g| {
            let mut out: BTreeMap<String, Vec<ShardId>> = g
                .state
                .consumers()
                .into_iter()
                .map(|c| (c, Vec::new()))
                .collect();
            for s in ls.shards() {
                if let Some(o) = g.state.owner(s.id) {
                    out.entry(o.to_string()).or_default().push(s.id);
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{records, LogstoreRecord, SplitAt};
    use sls_protocol::cursor::encode_cursor;
    use sls_protocol::types::{ShardId, UnixNanos};

    const NOW: i64 = 1_700_000_000_000_000_000;

    /// Whether group `g` has a checkpoint for `shard`, (in sled, in memory).
    fn has_checkpoint(store: &Store, ls: &Logstore, g: &str, shard: ShardId) -> (bool, bool) {
        let on_disk = store
            .inner
            .meta
            .contains_key(checkpoint_key(ls.id, g, shard))
            .unwrap();
        let groups = ls.groups.lock().unwrap();
        (on_disk, groups[g].checkpoints.contains_key(&shard))
    }

    #[tokio::test]
    async fn deleting_a_shard_drops_its_data_floor_and_checkpoints() {
        let (store, _dir) = Store::temporary_with_logstore(1, UnixNanos(NOW)).await;
        let ls = store.logstore("p", "l").unwrap();
        let put = crate::storage::PutLogs {
            project: "p",
            logstore: "l",
            route: crate::storage::Route::LoadBalance,
            group: b"group".to_vec(),
            client_ip: None,
            now: sls_protocol::types::UnixNanos::from_secs(1),
            admit: &crate::storage::AdmitAll,
        };
        store.put_logs(put).await.unwrap();
        for g in ["g1", "g2"] {
            let config = ConsumerGroup {
                name: g.into(),
                timeout: 20,
                order: false,
            };
            store.create_consumer_group("p", "l", config).await.unwrap();
        }
        let children = store
            .split_shard("p", "l", ShardId(0), SplitAt::Even(2), UnixNanos(NOW))
            .await
            .unwrap();
        let child = children[1].id;
        let cp = encode_cursor(NOW);
        for (g, shard) in [("g1", ShardId(0)), ("g2", ShardId(0)), ("g2", child)] {
            store
                .update_checkpoint("p", "l", g, "", true, shard, &cp, UnixNanos(NOW))
                .await
                .unwrap();
        }
        let floor = records::floor_key(ls.id, ShardId(0));
        store
            .inner
            .meta
            .insert(&floor, &0u64.to_be_bytes())
            .unwrap();

        store.delete_shard("p", "l", ShardId(0)).await.unwrap();

        assert!(matches!(
            ls.shard(ShardId(0)),
            Err(StorageError::ShardNotExist(ShardId(0)))
        ));
        let key = records::logstore_key("p", "l");
        let stored = store.inner.meta.get(&key).unwrap().unwrap();
        let stored: LogstoreRecord = from_json(&key, &stored).unwrap();
        assert_eq!(stored.shards, ls.record().shards, "sled and memory agree");
        assert!(stored.shards.iter().all(|s| s.id != ShardId(0)));
        assert_eq!(
            ls.tree
                .range(super::super::logs::shard_range(ShardId(0)))
                .count(),
            0
        );
        assert!(!store.inner.meta.contains_key(&floor).unwrap());
        assert_eq!(
            has_checkpoint(&store, &ls, "g1", ShardId(0)),
            (false, false)
        );
        assert_eq!(
            has_checkpoint(&store, &ls, "g2", ShardId(0)),
            (false, false)
        );
        assert_eq!(has_checkpoint(&store, &ls, "g2", child), (true, true));
        // Readwrite shards stay.
        assert!(matches!(
            store.delete_shard("p", "l", child).await,
            Err(StorageError::InvalidShardOperation(_))
        ));
    }
}
