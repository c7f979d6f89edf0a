//! Log data: append (with sequence numbers and receive times), range reads, time lookups and
//! TTL expiry. The key layout is in `storage/mod.rs`.

use std::sync::atomic::Ordering;

use super::records::{floor_key, read_u64};
use super::{Logstore, Result, Shard, StorageError, Store};
use crate::model::shard::ShardStatus;

/// One stored LogGroup.
#[derive(Debug, Clone)]
pub struct StoredGroup {
    /// Sequence number in the shard.
    pub seq: u64,
    /// Server receive time, unix seconds.
    pub receive_time: u32,
    /// The LogGroup bytes.
    pub bytes: sled::IVec,
}

/// The result of a range read.
#[derive(Debug, Default)]
pub struct ReadBatch {
    /// Groups in sequence order.
    pub groups: Vec<StoredGroup>,
}

const HEADER: usize = 4;

fn key(shard: u32, seq: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&shard.to_be_bytes());
    k[4..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Every key of one shard.
pub(super) fn shard_range(shard: u32) -> std::ops::RangeInclusive<[u8; 12]> {
    key(shard, 0)..=key(shard, u64::MAX)
}

fn seq_of_key(k: &[u8]) -> Option<u64> {
    k.get(4..12)?.try_into().ok().map(u64::from_be_bytes)
}

fn receive_time_of(v: &[u8]) -> Option<u32> {
    v.get(..HEADER)?.try_into().ok().map(u32::from_be_bytes)
}

fn decode(k: &[u8], v: sled::IVec) -> Result<StoredGroup> {
    let corrupt = || StorageError::Corrupt {
        key: format!("{k:02x?}"),
        reason: "log entry too short".into(),
    };
    let seq = seq_of_key(k).ok_or_else(corrupt)?;
    let receive_time = receive_time_of(&v).ok_or_else(corrupt)?;
    Ok(StoredGroup {
        seq,
        receive_time,
        bytes: v.subslice(HEADER, v.len() - HEADER),
    })
}

/// (begin seq, next seq, last receive time) of a shard, from its data and its TTL floor.
pub(super) fn scan_positions(
    meta: &sled::Tree,
    tree: &sled::Tree,
    logstore_id: u64,
    shard: u32,
) -> Result<(u64, u64, u32)> {
    let fk = floor_key(logstore_id, shard);
    let floor = match meta.get(&fk)? {
        Some(v) => read_u64(&fk, &v)?,
        None => 0,
    };
    let range = shard_range(shard);
    let first = tree.range(range.clone()).next().transpose()?;
    let last = tree.range(range).next_back().transpose()?;
    let begin = first
        .as_ref()
        .and_then(|(k, _)| seq_of_key(k))
        .map_or(floor, |s| s.max(floor));
    let (next, last_time) = match &last {
        Some((k, v)) => (
            seq_of_key(k).map_or(floor, |s| (s + 1).max(floor)),
            receive_time_of(v).unwrap_or(0),
        ),
        None => (floor, 0),
    };
    Ok((begin.min(next), next, last_time))
}

impl Store {
    /// Appends one validated LogGroup to `shard` and returns once it is durable (per the
    /// configured durability) and visible to readers. Returns its sequence number.
    ///
    /// Receive times never go backwards within a shard (a clock step back reuses the last
    /// one), so time lookups can binary-search.
    pub async fn append(
        &self,
        ls: &Logstore,
        shard: &Shard,
        group: &[u8],
        now_secs: u32,
    ) -> Result<u64> {
        let seq = {
            let mut st = shard.lock_append();
            if ls.deleted.load(Ordering::SeqCst) {
                return Err(StorageError::LogStoreNotExist(ls.name()));
            }
            if st.status != ShardStatus::Readwrite {
                return Err(StorageError::NoWritableShard(format!(
                    "shard {} is readonly",
                    shard.id
                )));
            }
            let seq = st.next;
            let receive_time = now_secs.max(st.last_receive_time);
            let mut value = Vec::with_capacity(HEADER + group.len());
            value.extend_from_slice(&receive_time.to_be_bytes());
            value.extend_from_slice(group);
            ls.tree.insert(key(shard.id, seq), value)?;
            st.next = seq + 1;
            st.last_receive_time = receive_time;
            seq
        };
        self.commit().await?;
        // Everything up to `seq` is durable now: an earlier append to this shard inserted
        // before ours, so the sync that covered ours covered it too.
        shard.visible.fetch_max(seq + 1, Ordering::AcqRel);
        Ok(seq)
    }

    /// Reads up to `max_count` groups from `from` (inclusive) to `until` (exclusive, clamped
    /// to the visible end), stopping early once `max_bytes` is reached (at least one group).
    pub fn read(
        &self,
        ls: &Logstore,
        shard: &Shard,
        from: u64,
        until: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<ReadBatch> {
        let until = until.min(shard.end_seq());
        let mut batch = ReadBatch::default();
        if from >= until {
            return Ok(batch);
        }
        let mut bytes = 0usize;
        for item in ls.tree.range(key(shard.id, from)..key(shard.id, until)) {
            let (k, v) = item?;
            let g = decode(&k, v)?;
            bytes += g.bytes.len();
            batch.groups.push(g);
            if batch.groups.len() >= max_count || bytes >= max_bytes {
                break;
            }
        }
        Ok(batch)
    }

    /// Receive time of the group at `seq`, if stored.
    pub fn receive_time(&self, ls: &Logstore, shard: &Shard, seq: u64) -> Result<Option<u32>> {
        Ok(ls
            .tree
            .get(key(shard.id, seq))?
            .and_then(|v| receive_time_of(&v)))
    }

    /// The first readable sequence number whose receive time is ≥ `time`, or the end.
    pub fn seq_at_time(&self, ls: &Logstore, shard: &Shard, time: i64) -> Result<u64> {
        let (mut lo, mut hi) = (shard.begin_seq(), shard.end_seq());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.receive_time(ls, shard, mid)? {
                Some(t) if i64::from(t) >= time => hi = mid,
                // A group expired under us counts as "before".
                _ => lo = mid + 1,
            }
        }
        Ok(lo)
    }

    /// Deletes groups older than each logstore's ttl. Returns how many were removed.
    pub fn expire(&self, now_secs: i64) -> Result<u64> {
        let mut removed = 0;
        for ls in self.all_logstores() {
            let ttl = ls.ttl_days();
            if ttl >= 3650 {
                continue;
            }
            let cutoff = now_secs - i64::from(ttl) * 86_400;
            for shard in ls.shards() {
                removed += self.expire_shard(&ls, &shard, cutoff)?;
            }
        }
        Ok(removed)
    }

    fn expire_shard(&self, ls: &Logstore, shard: &Shard, cutoff: i64) -> Result<u64> {
        let (begin, end) = (shard.begin_seq(), shard.end_seq());
        let mut new_begin = begin;
        let mut batch = sled::Batch::default();
        for item in ls.tree.range(key(shard.id, begin)..key(shard.id, end)) {
            let (k, v) = item?;
            match receive_time_of(&v) {
                Some(t) if i64::from(t) < cutoff => {
                    batch.remove(k);
                    new_begin += 1;
                }
                _ => break,
            }
        }
        if new_begin == begin {
            return Ok(0);
        }
        // The floor goes first, so a crash in between never exposes reused sequence numbers.
        self.inner
            .meta
            .insert(floor_key(ls.id, shard.id), &new_begin.to_be_bytes())?;
        shard.begin.store(new_begin, Ordering::Release);
        ls.tree.apply_batch(batch)?;
        Ok(new_begin - begin)
    }
}
