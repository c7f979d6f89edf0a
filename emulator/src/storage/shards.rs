//! Shard lifecycle: SplitShard, MergeShards, DeleteShard (SLS-API.md §4.4, §8).
//!
//! A split or merge closes its parent(s): status readonly, end fixed (no append can follow,
//! since the status changes under the shard's append lock), still readable to the end. New
//! shards get ids `max + 1, …` in response order, and the ranges always partition the key
//! space. The logstore record is rewritten in one sled insert, so a crash leaves either the
//! old layout or the new one.

use std::sync::Arc;

use super::records::{self, ShardRecord};
use super::{Logstore, Result, Shard, StorageError, Store};
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
    pub fn split_shard(
        &self,
        project: &str,
        logstore: &str,
        id: u32,
        at: SplitAt,
        now_nanos: i64,
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
                id: sid,
                status: ShardStatus::Readwrite,
                begin_key: w[0],
                end_key: w[1],
                create_time: now_nanos.div_euclid(1_000_000_000),
                cursor_base: now_nanos,
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
    pub fn merge_shard(
        &self,
        project: &str,
        logstore: &str,
        id: u32,
        now_nanos: i64,
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
            id: next_id(&ls),
            status: ShardStatus::Readwrite,
            begin_key: left.begin_key,
            end_key: right.end_key,
            create_time: now_nanos.div_euclid(1_000_000_000),
            cursor_base: now_nanos,
            parents: vec![left.id, right.id],
        };
        self.close_and_add(&ls, &[&left, &right], std::slice::from_ref(&merged))?;
        Ok(vec![merged, left.to_record(), right.to_record()])
    }

    /// Deletes a readonly shard, its data and its checkpoints (Python's `delete_shard`).
    ///
    /// Only the layout change happens under the catalog lock; the data is deleted after it is
    /// released (nothing can reach the shard by then, and shard ids are never reused). Every
    /// change is made before this returns, so the caller's commit covers all of them.
    pub fn delete_shard(&self, project: &str, logstore: &str, id: u32) -> Result<()> {
        let ls = {
            let meta = self.write_catalog();
            let ls = self.logstore_unlocked(&meta, project, logstore)?;
            let shard = ls.shard(id)?;
            if shard.status() != ShardStatus::Readonly {
                return Err(StorageError::InvalidShardOperation(format!(
                    "shard {id} is readwrite; only readonly shards can be deleted"
                )));
            }
            // sled first, then memory: a failed write leaves both with the shard.
            let mut record = ls.record();
            record.shards.retain(|s| s.id != id);
            self.insert_layout(&record)?;
            ls.shards
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|s| s.id != id);
            ls
        };
        self.inner.meta.remove(records::floor_key(ls.id, id))?;
        self.remove_shard_checkpoints(&ls, id)?;
        let mut batch = sled::Batch::default();
        let removed = ls
            .tree
            .range(super::logs::shard_range(id))
            .try_for_each(|item| item.map(|(k, _)| batch.remove(k)))
            .and_then(|()| ls.tree.apply_batch(batch));
        match removed {
            // The logstore was deleted meanwhile: its data went with it.
            Err(sled::Error::CollectionNotFound(_)) => Ok(()),
            other => other.map_err(StorageError::from),
        }
    }

    /// Marks `parents` readonly (under their append locks, so no append lands after) and adds
    /// `children`, then persists the layout.
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
        for p in parents {
            let st = p.lock_append();
            if st.status != ShardStatus::Readwrite {
                return Err(StorageError::InvalidShardOperation(format!(
                    "shard {} is readonly",
                    p.id
                )));
            }
        }
        for p in parents {
            p.lock_append().status = ShardStatus::Readonly;
        }
        {
            let mut shards = ls.shards.write().unwrap_or_else(|e| e.into_inner());
            for c in children {
                shards.push(Arc::new(Shard::from_record(c, (0, 0, 0))));
            }
        }
        self.persist_layout(ls)
    }

    fn persist_layout(&self, ls: &Logstore) -> Result<()> {
        self.insert_layout(&ls.record())
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
    ls.shards().iter().map(|s| s.id + 1).max().unwrap_or(0)
}
