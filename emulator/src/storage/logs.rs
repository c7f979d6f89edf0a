//! Log data: append (with sequence numbers and receive times), idempotent appends by hash-key
//! sequence id, range reads, time lookups and TTL expiry. The key layout is in `storage/mod.rs`.

use std::sync::atomic::Ordering;

use sls_protocol::proto;
use sls_protocol::types::{ShardId, UnixNanos};

use std::path::Path;

use super::commit::{IndexWrite, Queued};
use super::records::{floor_key, read_u64};
use super::segments::{self, Pointer};
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

pub(super) fn key(shard: ShardId, seq: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&shard.get().to_be_bytes());
    k[4..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// First four bytes of every sequence-id record: no shard has this id (see `close_and_add`), so
/// the records sort after every shard's data and no shard range (reads, deletes, positions)
/// ever covers them.
pub(super) const SEQID_PREFIX: ShardId = ShardId(u32::MAX);

/// The record of the last sequence id stored for a hash key. It lives in the logstore's data
/// tree, keyed by hash key and not by shard, so it stays valid across splits and merges (the
/// key's next shard sees it) and goes with the tree when the logstore is deleted.
fn seqid_key(hash_key: u128) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..4].copy_from_slice(&SEQID_PREFIX.get().to_be_bytes());
    k[4..].copy_from_slice(&hash_key.to_be_bytes());
    k
}

/// The last sequence id stored for `hash_key`, if any.
fn last_seqid(tree: &sled::Tree, hash_key: u128) -> Result<Option<u64>> {
    let k = seqid_key(hash_key);
    tree.get(k)?.map(|v| read_u64(&k, &v)).transpose()
}

/// A write that must be stored at most once: PutLogs `route?key=&seqid=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeqId {
    /// The hash key the write is routed by (normalised to its `u128` value).
    hash_key: u128,
    /// Its sequence id: stored only if above the last one stored for `hash_key`.
    seqid: u64,
}

/// A write's fixed parts, for each attempt.
struct Write<'a> {
    group: &'a [u8],
    now_secs: u32,
    id: Option<SeqId>,
    bytes: u64,
    now: UnixNanos,
    admit: &'a dyn WriteAdmission,
}

/// Every key of one shard.
pub(super) fn shard_range(shard: ShardId) -> std::ops::RangeInclusive<[u8; 12]> {
    key(shard, 0)..=key(shard, u64::MAX)
}

/// Removes the data of shards the layout does not list: what a crash between deleting a
/// shard's metadata and its data leaves behind. One seek per shard present in the tree.
pub(super) fn remove_unknown_shards(
    tree: &sled::Tree,
    dir: &Path,
    known: &std::collections::BTreeSet<ShardId>,
) -> Result<()> {
    // Segment folders of shards the layout does not list.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let id = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok());
            if id.is_some_and(|id| !known.contains(&ShardId(id))) {
                segments::remove_dir(&e.path())?;
            }
        }
    }
    let mut from = key(ShardId(0), 0);
    while let Some((k, _)) = tree.range(from..).next().transpose()? {
        let Some(shard) = k
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(|b| ShardId(u32::from_be_bytes(b)))
        else {
            break;
        };
        if shard == SEQID_PREFIX {
            break;
        }
        if !known.contains(&shard) {
            tracing::info!(shard = shard.get(), "removing the data of a deleted shard");
            remove_shard_data(tree, dir, shard)?;
        }
        from = key(ShardId(shard.get() + 1), 0);
    }
    Ok(())
}

/// Removes every LogGroup of one shard: its index in one batch, then its segment folder.
pub(super) fn remove_shard_data(tree: &sled::Tree, dir: &Path, shard: ShardId) -> sled::Result<()> {
    let mut batch = sled::Batch::default();
    for item in tree.range(shard_range(shard)) {
        batch.remove(item?.0);
    }
    tree.apply_batch(batch)?;
    segments::remove_dir(&segments::shard_dir(dir, shard)).map_err(sled::Error::Io)
}

/// Makes a shard's index and segments agree at open. With fsync durability pointers reach
/// sled only after their bytes are synced, so only segment bytes past the last pointer can be
/// stray (writes a crash interrupted); they are cut. With buffered durability (`thorough`) a
/// crash can also leave pointers to bytes that never reached the disk, in any order within
/// the last unsynced stretch: every record of the last two segments' worth is checked, and
/// the index is cut before the first torn one (none of it was promised).
pub(super) fn recover_tail(
    tree: &sled::Tree,
    dir: &Path,
    shard: ShardId,
    thorough: bool,
) -> Result<()> {
    let shard_dir = segments::shard_dir(dir, shard);
    let mut reader = segments::Reader::new(&shard_dir);
    let budget = if thorough {
        2 * segments::SEGMENT_BYTES
    } else {
        0
    };
    let mut checked = 0u64;
    let mut cut_from: Option<sled::IVec> = None;
    for item in tree.range(shard_range(shard)).rev() {
        let (k, v) = item?;
        let Some(p) = Pointer::decode(&v) else { break };
        if !segments::is_whole(&mut reader, p) {
            cut_from = Some(k);
        }
        checked += p.end() - p.offset;
        if checked > budget {
            break;
        }
    }
    if let Some(from) = cut_from {
        let mut batch = sled::Batch::default();
        let mut dropped = 0;
        for item in tree.range(from.to_vec()..=shard_range(shard).end().to_vec()) {
            batch.remove(item?.0);
            dropped += 1;
        }
        tracing::warn!(
            shard = shard.get(),
            dropped,
            "dropping LogGroups a crash tore (buffered durability)"
        );
        tree.apply_batch(batch)?;
    }
    let tail = tree
        .range(shard_range(shard))
        .next_back()
        .transpose()?
        .and_then(|(_, v)| Pointer::decode(&v));
    segments::cut_after(&shard_dir, tail)?;
    Ok(())
}

fn seq_of_key(k: &[u8]) -> Option<u64> {
    k.get(4..12)?.try_into().ok().map(u64::from_be_bytes)
}

fn receive_time_of(v: &[u8]) -> Option<u32> {
    v.get(..HEADER)?.try_into().ok().map(u32::from_be_bytes)
}

/// A stored group from its index entry: the bytes come from its segment (`shard_dir`), or
/// from the entry itself in stores written before segments.
fn decode(segments: &mut segments::Reader<'_>, k: &[u8], v: sled::IVec) -> Result<StoredGroup> {
    let corrupt = |reason: String| StorageError::Corrupt {
        key: format!("{k:02x?}"),
        reason,
    };
    let seq = seq_of_key(k).ok_or_else(|| corrupt("log entry too short".into()))?;
    let receive_time = receive_time_of(&v).ok_or_else(|| corrupt("log entry too short".into()))?;
    let bytes = match Pointer::decode(&v) {
        Some(p) => segments
            .read(p)
            .map_err(|e| corrupt(format!("segment read: {e}")))?,
        None => v.subslice(HEADER, v.len() - HEADER),
    };
    Ok(StoredGroup {
        seq,
        receive_time,
        bytes,
    })
}

/// (begin seq, next seq, last receive time) of a shard, from its data and its TTL floor.
pub(super) fn scan_positions(
    meta: &sled::Tree,
    tree: &sled::Tree,
    logstore_id: u64,
    shard: ShardId,
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

/// Where a PutLogs goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Any readwrite shard, round robin (`/shards/lb`).
    LoadBalance,
    /// The readwrite shard whose range holds `key` (`/shards/route?key=`).
    HashKey {
        /// The hash key.
        key: u128,
        /// `seqid=`: store only if above the last sequence id stored for `key` (a key not
        /// seen before takes any id), and record it in the same sled batch.
        seqid: Option<u64>,
    },
}

/// The write-quota hook, asked once per write for the shard that takes it, under that shard's
/// append lock (so a write that is re-routed is charged to the shard it lands in).
pub trait WriteAdmission: Send + Sync {
    /// Whether `bytes` more may be written to `shard` now.
    fn admit(&self, logstore_id: u64, shard: ShardId, bytes: u64, now: UnixNanos) -> bool;
}

/// Admits every write (no quotas).
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmitAll;

impl WriteAdmission for AdmitAll {
    fn admit(&self, _: u64, _: ShardId, _: u64, _: UnixNanos) -> bool {
        true
    }
}

/// One PutLogs, as the store takes it.
pub struct PutLogs<'a> {
    /// Project name.
    pub project: &'a str,
    /// Logstore name.
    pub logstore: &'a str,
    /// Where it goes.
    pub route: Route,
    /// The validated LogGroup bytes (stored as they are, never re-encoded; must hold logs).
    pub group: Vec<u8>,
    /// The client's address, for `__client_ip__`.
    pub client_ip: Option<std::net::IpAddr>,
    /// The request's time.
    pub now: UnixNanos,
    /// The write-quota hook.
    pub admit: &'a dyn WriteAdmission,
}

impl std::fmt::Debug for PutLogs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PutLogs")
            .field("project", &self.project)
            .field("logstore", &self.logstore)
            .field("route", &self.route)
            .field("bytes", &self.group.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Where a PutLogs was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// The shard that took it.
    pub shard: ShardId,
    /// Its sequence number in that shard.
    pub seq: u64,
}

/// How many times a write follows its key to a new shard before giving up: each retry means a
/// split or merge of its shard completed in between, so this only runs out under a storm of
/// them.
pub(super) const MAX_REROUTES: usize = 16;

/// What one attempt to append under a shard's lock found.
enum Attempt {
    /// Appended as this sequence number; durable once the queued commit (if any) is.
    Stored(u64, Option<Queued>),
    /// The shard was closed by a split or merge after the write picked it.
    Closed,
}

impl Store {
    /// PutLogs: picks the shard, appends the LogGroup, and returns once it is durable (per
    /// the configured durability) and visible to readers.
    ///
    /// The shard is checked to be readwrite under its append lock; if a split or merge closed
    /// it after it was picked, the write goes to the shard that took over (their layout is in
    /// place before the parent's lock is released), so that race is never an error. Receive
    /// times never go backwards within a shard (a clock step back reuses the last one), so
    /// time lookups can binary-search.
    ///
    /// With a `seqid` the check and its record happen under the lock of the one readwrite
    /// shard holding the key, in the same sled batch as the LogGroup and covered by the same
    /// commit, so two concurrent writes with one id cannot both be stored, and a crash keeps
    /// both or neither. A split or merge closes the parent under this lock, so its children
    /// see every record the parent wrote.
    ///
    /// # Errors
    /// [`StorageError::LogStoreNotExist`] (also when deleted meanwhile),
    /// [`StorageError::WriteQuotaExceeded`] (nothing stored),
    /// [`StorageError::SequenceIdNotAbove`] (nothing stored), sled and commit failures.
    pub async fn put_logs(&self, put: PutLogs<'_>) -> Result<PutOutcome> {
        let ls = self.logstore(put.project, put.logstore)?;
        let now_secs = u32::try_from(put.now.secs()).unwrap_or(u32::MAX);
        // Quotas count the LogGroup as sent, without the tags added here.
        let bytes = put.group.len() as u64;
        let mut group = put.group;
        if ls.append_meta() {
            let ip = put.client_ip.map(|a| a.to_string()).unwrap_or_default();
            group.extend(proto::encode_log_group_tag(
                b"__receive_time__",
                now_secs.to_string().as_bytes(),
            ));
            group.extend(proto::encode_log_group_tag(b"__client_ip__", ip.as_bytes()));
        }
        let (key, seqid) = match put.route {
            Route::LoadBalance => (None, None),
            Route::HashKey { key, seqid } => (Some(key), seqid),
        };
        let id = key
            .zip(seqid)
            .map(|(hash_key, seqid)| SeqId { hash_key, seqid });
        let write = Write {
            group: &group,
            now_secs,
            id,
            bytes,
            now: put.now,
            admit: put.admit,
        };
        let mut shard = ls.pick(key)?;
        #[cfg(test)]
        self.pause_point().await;
        let mut reroutes = 0;
        let (seq, queued) = loop {
            match self.try_append(&ls, &shard, &write)? {
                Attempt::Stored(seq, queued) => break (seq, queued),
                Attempt::Closed if reroutes < MAX_REROUTES => {
                    reroutes += 1;
                    tracing::debug!(shard = shard.id.get(), "write re-routed: its shard was closed");
                    shard = ls.pick(key)?;
                }
                Attempt::Closed => {
                    return Err(StorageError::NoWritableShard(format!(
                        "the write's shard was closed {MAX_REROUTES} times in a row by splits or merges"
                    )))
                }
            }
        };
        if let Some(q) = queued {
            super::commit::wait(q).await.map_err(StorageError::Commit)?;
        }
        // Everything up to `seq` is durable now: an earlier append to this shard inserted
        // before ours, so the sync that covered ours covered it too.
        shard.visible.fetch_max(seq + 1, Ordering::AcqRel);
        Ok(PutOutcome {
            shard: shard.id,
            seq,
        })
    }

    /// Stores the write in `shard` if it is still readwrite, all under its append lock.
    fn try_append(&self, ls: &Logstore, shard: &Shard, w: &Write<'_>) -> Result<Attempt> {
        let mut st = shard.lock_append();
        if ls.deleted.load(Ordering::SeqCst) {
            return Err(StorageError::LogStoreNotExist(ls.name()));
        }
        if st.status != ShardStatus::Readwrite {
            return Ok(Attempt::Closed);
        }
        let sid = shard.id;
        if !w.admit.admit(ls.id, sid, w.bytes, w.now) {
            return Err(StorageError::WriteQuotaExceeded(sid));
        }
        if let Some(id) = w.id {
            // A write queued for commit is not in sled yet: its id counts too.
            let pending = ls
                .pending_seqids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id.hash_key)
                .copied();
            if let Some(last) = last_seqid(&ls.tree, id.hash_key)?.max(pending) {
                if id.seqid <= last {
                    return Err(StorageError::SequenceIdNotAbove {
                        hash_key: id.hash_key,
                        seqid: id.seqid,
                        last,
                    });
                }
            }
        }
        let seq = st.next;
        let receive_time = w.now_secs.max(st.last_receive_time);
        if st.log.is_none() {
            // The first append since the store opened continues after the last pointer in
            // sled (none is pending yet).
            let tail = ls
                .tree
                .range(shard_range(sid))
                .next_back()
                .transpose()?
                .and_then(|(_, v)| Pointer::decode(&v));
            st.log = Some(segments::Appender::new(
                segments::shard_dir(&ls.dir, sid),
                tail,
            ));
        }
        let log = st.log.get_or_insert_with(|| {
            segments::Appender::new(segments::shard_dir(&ls.dir, sid), None)
        });
        // Only the commit thread syncs segments; buffered durability never does.
        let pending = self.inner.committer.as_ref().map(|_| &self.inner.segments);
        let pointer = log.append(seq, w.group, pending)?;
        // One batch: sled applies it atomically, also across a crash.
        let mut batch = sled::Batch::default();
        batch.insert(&key(sid, seq)[..], &pointer.encode(receive_time)[..]);
        if let Some(id) = w.id {
            batch.insert(&seqid_key(id.hash_key)[..], &id.seqid.to_be_bytes()[..]);
        }
        let queued = match &self.inner.committer {
            // The pointer goes to sled after the segment is synced, in the commit thread.
            Some(c) => {
                // A write with a sequence id stays visible to the check above until its record
                // is in sled.
                let done = w.id.map(|id| {
                    ls.pending_seqids
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id.hash_key, id.seqid);
                    let pending = ls.pending_seqids.clone();
                    Box::new(move || {
                        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
                        if p.get(&id.hash_key) == Some(&id.seqid) {
                            p.remove(&id.hash_key);
                        }
                    }) as Box<dyn FnOnce() + Send>
                });
                Some(c.enqueue(Some(IndexWrite {
                    tree: ls.tree.clone(),
                    batch,
                    done,
                })))
            }
            None => {
                ls.tree.apply_batch(batch)?;
                None
            }
        };
        st.next = seq + 1;
        st.last_receive_time = receive_time;
        Ok(Attempt::Stored(seq, queued))
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
        let shard_dir = segments::shard_dir(&ls.dir, shard.id);
        let mut reader = segments::Reader::new(&shard_dir);
        for item in ls.tree.range(key(shard.id, from)..key(shard.id, until)) {
            let (k, v) = item?;
            let g = match decode(&mut reader, &k, v) {
                Ok(g) => g,
                // TTL expiry removed its segment meanwhile: it is gone, like its entry.
                Err(_) if seq_of_key(&k).is_some_and(|s| s < shard.begin_seq()) => continue,
                Err(e) => return Err(e),
            };
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
        segments::remove_below(&segments::shard_dir(&ls.dir, shard.id), new_begin)?;
        Ok(new_begin - begin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Durability;
    use crate::storage::{records, LogstoreRecord, SplitAt};

    const NOW: i64 = 1_700_000_000_000_000_000;
    const KEY: u128 = 0x4000_0000_0000_0000_0000_0000_0000_0001;

    /// A temporary store with logstore `p/l` of `shards` shards.
    async fn store_with(shards: u32) -> (Store, tempfile::TempDir) {
        let (store, dir) = Store::temporary_with_logstore(shards, UnixNanos(NOW)).await;
        (store, dir)
    }

    /// Writes `group` to the shard holding `key` with sequence id `seqid`.
    async fn put(store: &Store, key: u128, seqid: u64, group: &[u8]) -> Result<u64> {
        let put = PutLogs {
            project: "p",
            logstore: "l",
            route: Route::HashKey {
                key,
                seqid: Some(seqid),
            },
            group: group.to_vec(),
            client_ip: None,
            now: UnixNanos::from_secs(1),
            admit: &AdmitAll,
        };
        Ok(store.put_logs(put).await?.seq)
    }

    fn is_refused(r: Result<u64>, want_last: u64) -> bool {
        matches!(r, Err(StorageError::SequenceIdNotAbove { last, .. }) if last == want_last)
    }

    /// Every LogGroup stored in a shard.
    fn stored(store: &Store, shard: ShardId) -> Vec<Vec<u8>> {
        let ls = store.logstore("p", "l").unwrap();
        let sh = ls.shard(shard).unwrap();
        let batch = store.read(&ls, &sh, 0, u64::MAX, 1000, usize::MAX).unwrap();
        batch.groups.iter().map(|g| g.bytes.to_vec()).collect()
    }

    #[tokio::test]
    async fn only_ids_above_the_last_are_stored_per_hash_key() {
        let (store, _dir) = store_with(1).await;
        let other = KEY + 1;
        // A key seen for the first time takes any id, 0 included.
        put(&store, KEY, 5, b"a").await.unwrap();
        put(&store, other, 0, b"b").await.unwrap();
        assert!(is_refused(put(&store, KEY, 5, b"replay").await, 5));
        assert!(is_refused(put(&store, KEY, 4, b"lower").await, 5));
        assert!(is_refused(put(&store, other, 0, b"replay").await, 0));
        put(&store, KEY, 7, b"c").await.unwrap();
        assert!(is_refused(put(&store, KEY, 6, b"gap filler").await, 7));
        put(&store, other, 1, b"d").await.unwrap();
        assert_eq!(stored(&store, ShardId(0)), [b"a", b"b", b"c", b"d"]);
        // Ids never go past the sequence-id records into shard data, nor the reverse.
        let ls = store.logstore("p", "l").unwrap();
        assert_eq!(ls.tree.range(shard_range(ShardId(0))).count(), 4);
        assert_eq!(ls.tree.len(), 6);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_with_one_id_store_one() {
        let (store, _dir) = store_with(2).await;
        for seqid in 0..20u64 {
            let writers: Vec<_> = (0..8)
                .map(|w| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        put(&store, KEY, seqid, format!("{seqid}-{w}").as_bytes()).await
                    })
                })
                .collect();
            let mut stored_now = 0;
            for w in writers {
                match w.await.unwrap() {
                    Ok(_) => stored_now += 1,
                    Err(e) => assert!(is_refused(Err(e), seqid)),
                }
            }
            assert_eq!(stored_now, 1, "seqid {seqid}");
        }
        let ls = store.logstore("p", "l").unwrap();
        assert_eq!(ls.route(KEY).unwrap().end_seq(), 20);
    }

    #[tokio::test]
    async fn records_follow_the_key_through_split_merge_and_shard_delete() {
        let (store, _dir) = store_with(1).await;
        put(&store, KEY, 10, b"in parent").await.unwrap();
        // Split at the key itself: it lands at the begin of the right child.
        let split = store
            .split_shard("p", "l", ShardId(0), SplitAt::Key(KEY), UnixNanos(NOW + 1))
            .await
            .unwrap();
        let (left, right) = (split[1].id, split[2].id);
        let ls = store.logstore("p", "l").unwrap();
        assert_eq!(ls.route(KEY).unwrap().id, right);
        assert!(is_refused(put(&store, KEY, 10, b"replay").await, 10));
        put(&store, KEY, 11, b"in child").await.unwrap();
        // The parent's data can go: the record is the key's, not the shard's.
        store.delete_shard("p", "l", ShardId(0)).await.unwrap();
        assert!(is_refused(put(&store, KEY, 11, b"replay").await, 11));
        let merged = store
            .merge_shard("p", "l", left, UnixNanos(NOW + 2))
            .await
            .unwrap()[0]
            .id;
        assert_eq!(ls.route(KEY).unwrap().id, merged);
        assert!(is_refused(put(&store, KEY, 11, b"replay").await, 11));
        put(&store, KEY, 12, b"in merged").await.unwrap();
        assert_eq!(stored(&store, right), [b"in child"]);
        assert_eq!(stored(&store, merged), [b"in merged"]);
    }

    #[tokio::test]
    async fn records_survive_a_reopen_and_die_with_the_logstore() {
        let (store, dir) = store_with(2).await;
        put(&store, KEY, 3, b"a").await.unwrap();
        let old_id = store.logstore("p", "l").unwrap().id;
        drop(store);
        let store = Store::open(dir.path(), Durability::Fsync).unwrap();
        assert!(is_refused(put(&store, KEY, 3, b"replay").await, 3));
        let ls = store.logstore("p", "l").unwrap();
        let shard = ls.route(KEY).unwrap();
        assert_eq!(
            (shard.begin_seq(), shard.end_seq()),
            (0, 1),
            "positions ignore records"
        );

        store.delete_logstore("p", "l").await.unwrap();
        let old = store
            .inner
            .db
            .open_tree(records::logs_tree_name(old_id))
            .unwrap();
        assert!(old.is_empty(), "the records went with the logstore's tree");
        store
            .create_logstore(LogstoreRecord::new("p", "l", 0), 2, UnixNanos(NOW))
            .await
            .unwrap();
        put(&store, KEY, 0, b"fresh").await.unwrap();
    }
}
