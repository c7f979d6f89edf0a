//! Shard lifecycle: SplitShard, MergeShards, DeleteShard (SLS-API.md §4.4, §8).
//!
//! A split or merge closes its parent(s): status readonly, end fixed (no append can follow,
//! since the status changes under the shard's append lock), still readable to the end. New
//! shards get ids `max + 1, …` in response order, and the ranges always partition the key
//! space. The logstore record is rewritten in one sled insert before memory changes, so a
//! crash leaves either the old layout or the new one, and a failed write changes nothing.

use std::sync::Arc;

use sls_protocol::types::{ShardId, UnixNanos};

use super::records::{self, ShardRecord};
use super::{consumer_groups, Logstore, Result, Shard, StorageError, Store};
use crate::model::shard::ShardStatus;

/// Where a split cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitAt {
    /// Two children, cut at this key (strictly inside the parent's range).
    Key(u128),
    /// `n ≥ 2` children, cut evenly.
    Even(u32),
}

/// `begin + floor(i * (end - begin) / n)` without overflow, where the last shard's end
/// (`ff…ff`) stands for 2^128.
fn cut(begin: u128, end: u128, i: u128, n: u128) -> u128 {
    let len = if end == u128::MAX {
        (u128::MAX - begin).checked_add(1)
    } else {
        Some(end - begin)
    };
    match len {
        Some(len) => begin + (len / n) * i + ((len % n) * i) / n,
        // The whole key space (2^128 does not fit): the initial layout's cut points.
        None => crate::model::shard::even_ranges(n as u32)
            .get(i as usize)
            .map_or(begin, |r| r.0),
    }
}

impl Store {
    /// Splits readwrite shard `id`. Returns the parent (now readonly) then the children by key.
    pub async fn split_shard(
        &self,
        project: &str,
        logstore: &str,
        id: ShardId,
        at: SplitAt,
        now: UnixNanos,
    ) -> Result<Vec<ShardRecord>> {
        let out = self.split_shard_now(project, logstore, id, at, now)?;
        self.commit().await?;
        Ok(out)
    }

    fn split_shard_now(
        &self,
        project: &str,
        logstore: &str,
        id: ShardId,
        at: SplitAt,
        now: UnixNanos,
    ) -> Result<Vec<ShardRecord>> {
        let _meta = self.write_catalog();
        let ls = self.logstore_unlocked(&_meta, project, logstore)?;
        let parent = ls.shard(id)?;
        let (b, e) = (parent.begin_key, parent.end_key);
        let cuts: Vec<u128> = match at {
            SplitAt::Key(k) if k > b && k < e => vec![k],
            SplitAt::Key(k) => {
                return Err(StorageError::InvalidShardOperation(format!(
                    "split key {} is not inside shard {id}'s range [{}, {})",
                    sls_protocol::hash::format_hash_key(k),
                    sls_protocol::hash::format_hash_key(b),
                    sls_protocol::hash::format_hash_key(e)
                )))
            }
            SplitAt::Even(n) if (2..=64).contains(&n) && e - b >= u128::from(n) => (1..n)
                .map(|i| cut(b, e, u128::from(i), u128::from(n)))
                .collect(),
            SplitAt::Even(n) => {
                return Err(StorageError::InvalidShardOperation(format!(
                    "shardCount {n} is not in [2, 64] or the range is too small"
                )))
            }
        };
        let mut bounds = vec![b];
        bounds.extend(cuts);
        bounds.push(e);
        let first_id = next_id(&ls);
        let children: Vec<ShardRecord> = bounds
            .windows(2)
            .zip(first_id..)
            .map(|(w, sid)| ShardRecord {
                id: ShardId(sid),
                status: ShardStatus::Readwrite,
                begin_key: w[0],
                end_key: w[1],
                create_time: now.secs(),
                cursor_base: now.nanos(),
                parents: vec![id],
            })
            .collect();
        self.close_and_add(&ls, &[&parent], &children)?;
        let mut out = vec![parent.to_record()];
        out.extend(children);
        Ok(out)
    }

    /// Merges readwrite shard `id` with its readwrite right neighbour. Returns the new shard,
    /// then the two parents (now readonly).
    pub async fn merge_shard(
        &self,
        project: &str,
        logstore: &str,
        id: ShardId,
        now: UnixNanos,
    ) -> Result<Vec<ShardRecord>> {
        let out = self.merge_shard_now(project, logstore, id, now)?;
        self.commit().await?;
        Ok(out)
    }

    fn merge_shard_now(
        &self,
        project: &str,
        logstore: &str,
        id: ShardId,
        now: UnixNanos,
    ) -> Result<Vec<ShardRecord>> {
        let meta = self.write_catalog();
        let ls = self.logstore_unlocked(&meta, project, logstore)?;
        let left = ls.shard(id)?;
        let right = ls
            .shards()
            .into_iter()
            .find(|s| s.begin_key == left.end_key && s.status() == ShardStatus::Readwrite)
            .ok_or_else(|| {
                StorageError::InvalidShardOperation(format!(
                    "shard {id} has no readwrite right neighbour to merge with"
                ))
            })?;
        let merged = ShardRecord {
            id: ShardId(next_id(&ls)),
            status: ShardStatus::Readwrite,
            begin_key: left.begin_key,
            end_key: right.end_key,
            create_time: now.secs(),
            cursor_base: now.nanos(),
            parents: vec![left.id, right.id],
        };
        self.close_and_add(&ls, &[&left, &right], std::slice::from_ref(&merged))?;
        Ok(vec![merged, left.to_record(), right.to_record()])
    }

    /// Deletes a readonly shard, its data and its checkpoints (Python's `delete_shard`).
    ///
    /// The layout, the TTL floor and the checkpoints change in one sled batch under the
    /// catalog lock; the data is deleted after it is released, on a blocking thread (nothing
    /// can reach the shard by then, and shard ids are never reused).
    pub async fn delete_shard(&self, project: &str, logstore: &str, id: ShardId) -> Result<()> {
        let ls = {
            let meta = self.write_catalog();
            let ls = self.logstore_unlocked(&meta, project, logstore)?;
            let shard = ls.shard(id)?;
            if shard.status() != ShardStatus::Readonly {
                return Err(StorageError::InvalidShardOperation(format!(
                    "shard {id} is readwrite; only readonly shards can be deleted"
                )));
            }
            let mut record = ls.record();
            record.shards.retain(|s| s.id != id);
            let mut groups = ls.groups.lock().unwrap_or_else(|e| e.into_inner());
            let mut batch = sled::Batch::default();
            batch.insert(
                records::logstore_key(&record.project, &record.name),
                records::to_json(&record),
            );
            batch.remove(records::floor_key(ls.id, id));
            consumer_groups::remove_shard_checkpoints(&mut batch, ls.id, &groups, id);
            // sled first, then memory: a failed write leaves both with the shard.
            self.inner.meta.apply_batch(batch)?;
            ls.shards
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|s| s.id != id);
            consumer_groups::forget_shard(&mut groups, id);
            drop(groups);
            ls
        };
        self.commit().await?;
        let (tree, dir) = (ls.tree.clone(), ls.dir.clone());
        let removed =
            tokio::task::spawn_blocking(move || super::logs::remove_shard_data(&tree, &dir, id))
                .await;
        match removed {
            // The logstore was deleted meanwhile: its data went with it.
            Ok(Ok(())) | Ok(Err(sled::Error::CollectionNotFound(_))) => {}
            // The shard is gone for clients already; the next `open` removes what is left.
            Ok(Err(e)) => {
                tracing::warn!(shard = id.get(), error = %e, "removing a deleted shard's data failed")
            }
            Err(e) => {
                tracing::warn!(shard = id.get(), error = %e, "removing a deleted shard's data panicked")
            }
        }
        Ok(())
    }

    /// Closes `parents` and adds `children`: the new layout goes to sled first, then memory
    /// changes, all while holding the parents' append locks, so no append lands in a parent
    /// after it closed and a failed write leaves everything as it was. An append that finds
    /// its parent closed re-routes to a child, which is in place when the locks are released.
    fn close_and_add(
        &self,
        ls: &Logstore,
        parents: &[&Arc<Shard>],
        children: &[ShardRecord],
    ) -> Result<()> {
        // That id prefixes the sequence-id records in the data tree.
        if children.iter().any(|c| c.id == super::logs::SEQID_PREFIX) {
            return Err(StorageError::InvalidShardOperation(
                "shard ids are exhausted".into(),
            ));
        }
        // Built before locking: `record()` reads every shard's status under its lock. Statuses
        // only change under the catalog write lock, which the caller holds.
        let mut record = ls.record();
        for s in record.shards.iter_mut() {
            if parents.iter().any(|p| p.id == s.id) {
                s.status = ShardStatus::Readonly;
            }
        }
        record.shards.extend(children.iter().cloned());
        let mut locks = Vec::with_capacity(parents.len());
        for p in parents {
            let st = p.lock_append();
            if st.status != ShardStatus::Readwrite {
                return Err(StorageError::InvalidShardOperation(format!(
                    "shard {} is readonly",
                    p.id
                )));
            }
            locks.push(st);
        }
        self.insert_layout(&record)?;
        for st in locks.iter_mut() {
            st.status = ShardStatus::Readonly;
        }
        ls.shards.write().unwrap_or_else(|e| e.into_inner()).extend(
            children
                .iter()
                .map(|c| Arc::new(Shard::from_record(c, (0, 0, 0)))),
        );
        Ok(())
    }

    /// Writes a logstore record (settings and shards) to sled.
    fn insert_layout(&self, record: &records::LogstoreRecord) -> Result<()> {
        self.inner.meta.insert(
            records::logstore_key(&record.project, &record.name),
            records::to_json(record),
        )?;
        Ok(())
    }
}

/// The next shard id: max + 1 (ids are never reused, deleted shards included, because the
/// highest id always stays: only readonly parents can be deleted, and children outnumber them).
fn next_id(ls: &Logstore) -> u32 {
    ls.shards()
        .iter()
        .map(|s| s.id.get() + 1)
        .max()
        .unwrap_or(0)
}
