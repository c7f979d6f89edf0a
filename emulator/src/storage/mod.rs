//! The store: sled underneath, an in-memory catalog on top, group commit for durability.
//!
//! Layout in sled:
//! - tree `meta`: `project/{name}` → [`ProjectRecord`] JSON; `logstore/{project}/{name}` →
//!   [`LogstoreRecord`] JSON (shards included); `next-logstore-id` → u64 BE;
//!   `floor/{logstore id}/{shard}` → u64 BE, the first sequence number still alive after TTL
//!   expiry (so sequence numbers are never reused even when a shard's data is all gone).
//! - tree `logs/{logstore id}` per logstore: key = shard u32 BE ‖ seq u64 BE, value =
//!   receive time u32 BE ‖ a pointer into the shard's segment files (`segments.rs`: the
//!   LogGroup bytes exactly as validated, never re-encoded; stores written before segments
//!   hold the bytes here instead, and stay readable); and
//!   key = `ff ff ff ff` ‖ hash key u128 BE → u64 BE, the last sequence id (PutLogs `seqid=`)
//!   stored for that hash key, written in one batch with its LogGroup.
//!
//! The catalog (projects → logstores → shards) is loaded at open and kept in memory, so the
//! write path takes no sled read (but a `seqid` write's point read of its key's record, and
//! the first write to a shard after open, which finds the shard's last pointer).
//! Metadata changes write sled first and the catalog second, under one lock, and are durable
//! when the call returns (the API never commits); multi-key deletes are one sled batch.
//! Nothing HTTP goes here.

mod commit;
mod consumer_groups;
mod logs;
#[cfg(test)]
mod race_test;
mod records;
mod segments;
mod shards;
#[cfg(test)]
mod store_test;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

pub use consumer_groups::{Checkpoint, CheckpointError, ConsumerGroup};
pub use logs::{AdmitAll, PutLogs, PutOutcome, ReadBatch, Route, StoredGroup, WriteAdmission};
pub use records::{LogstoreRecord, ProjectRecord, ShardRecord};
pub use shards::SplitAt;

use sls_protocol::types::{Cursor, ShardId, UnixNanos};

use crate::config::Durability;
use crate::model::shard::{even_ranges, range_contains, ShardStatus};
use commit::Committer;

/// Storage failures. The `…NotExist`/`…AlreadyExist` variants are client errors.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No project of that name.
    #[error("project {0} does not exist")]
    ProjectNotExist(String),
    /// No logstore of that name in the project.
    #[error("logstore {0} does not exist")]
    LogStoreNotExist(String),
    /// No shard of that id in the logstore.
    #[error("shard {0} does not exist")]
    ShardNotExist(ShardId),
    /// A project of that name exists.
    #[error("project {0} already exists")]
    ProjectAlreadyExist(String),
    /// A logstore of that name exists.
    #[error("logstore {0} already exists")]
    LogStoreAlreadyExist(String),
    /// A write found no readwrite shard to go to.
    #[error("{0}")]
    NoWritableShard(String),
    /// The write quota of the shard the write went to is used up; nothing was stored.
    #[error("shard {0} write quota exceeded")]
    WriteQuotaExceeded(sls_protocol::types::ShardId),
    /// A write whose sequence id is not above the last one stored for its hash key.
    #[error(
        "seqid {seqid} for hash key {} is not above the last one stored, {last}",
        sls_protocol::hash::format_hash_key(*hash_key)
    )]
    SequenceIdNotAbove {
        /// The write's hash key.
        hash_key: u128,
        /// The write's sequence id.
        seqid: u64,
        /// The last sequence id stored for the key.
        last: u64,
    },
    /// A cursor outside the shard's data.
    #[error("{0}")]
    InvalidCursor(String),
    /// A split/merge/delete that the shard's state or the arguments do not allow.
    #[error("{0}")]
    InvalidShardOperation(String),
    /// CreateIndex on a logstore that has one.
    #[error("logstore {0} already has an index")]
    IndexAlreadyExist(String),
    /// The logstore has no index.
    #[error("logstore {0} has no index")]
    IndexConfigNotExist(String),
    /// No consumer group of that name.
    #[error("consumer group {0} does not exist")]
    ConsumerGroupNotExist(String),
    /// A consumer group of that name exists.
    #[error("consumer group {0} already exists")]
    ConsumerGroupAlreadyExist(String),
    /// The logstore has the most consumer groups it may have.
    #[error("at most {0} consumer groups per logstore")]
    TooManyConsumerGroups(usize),
    /// A refused heartbeat.
    #[error(transparent)]
    Heartbeat(#[from] crate::model::assignment::HeartbeatError),
    /// A refused checkpoint update.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// sled failed.
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    /// A durable commit failed.
    #[error("commit: {0}")]
    Commit(Arc<std::io::Error>),
    /// Filesystem error while opening.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A stored record does not decode (corruption or a format change).
    #[error("corrupt record {key}: {reason}")]
    Corrupt {
        /// The sled key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

type Result<T> = std::result::Result<T, StorageError>;

/// sled's segment size. sled writes any value over a quarter of a segment to its own blob
/// file; 8 MiB kept LogGroups up to ~2 MiB inline when sled held them (stores written before
/// segment files still do). Part of the on-disk format: sled refuses to open a folder created
/// with another size.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;

/// Cheap-clone handle to the store.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: sled::Db,
    meta: sled::Tree,
    /// The data folder (segments live under it).
    root: std::path::PathBuf,
    /// Segment files written since the last commit.
    segments: segments::Pending,
    /// Projects by name. A std lock: held only for in-memory work and sled point writes,
    /// never across an await.
    catalog: RwLock<BTreeMap<String, ProjectEntry>>,
    committer: Option<Committer>,
    /// Test-only pause point of the write path, between routing and the shard's append lock.
    #[cfg(test)]
    pause: Mutex<Option<Arc<PausePoint>>>,
}

/// Lets a test stop one write after it picked its shard and before it locks it, to run
/// something (a split) in that window. Compiled into test builds only.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct PausePoint {
    /// Notified when the write reaches the point.
    pub reached: tokio::sync::Notify,
    /// Notify to let it go on.
    pub resume: tokio::sync::Notify,
}

#[derive(Debug)]
struct ProjectEntry {
    record: ProjectRecord,
    logstores: BTreeMap<String, Arc<Logstore>>,
}

/// A logstore as the data path sees it.
#[derive(Debug)]
pub struct Logstore {
    /// Internal id (names can be reused after a delete; ids are not).
    pub id: u64,
    record: RwLock<LogstoreRecord>,
    shards: RwLock<Vec<Arc<Shard>>>,
    tree: sled::Tree,
    /// Its segment folder.
    dir: std::path::PathBuf,
    /// Sequence ids of writes queued for commit but not in sled yet, by hash key.
    pending_seqids: Arc<Mutex<std::collections::HashMap<u128, u64>>>,
    round_robin: AtomicUsize,
    deleted: AtomicBool,
    /// Consumer groups by name (config, live consumers, ownership, checkpoints).
    groups: Mutex<BTreeMap<String, consumer_groups::GroupRuntime>>,
}

/// One shard: its range, its cursor base and its append state.
#[derive(Debug)]
pub struct Shard {
    /// Shard id.
    pub id: ShardId,
    /// Inclusive begin of the hash range.
    pub begin_key: u128,
    /// Exclusive end of the hash range (`u128::MAX` for the last shard).
    pub end_key: u128,
    /// Creation time, unix seconds.
    pub create_time: i64,
    /// The cursor of sequence number 0.
    pub cursor_base: Cursor,
    /// The shard(s) it was split or merged from.
    pub parents: Vec<ShardId>,
    append: Mutex<AppendState>,
    /// Sequence numbers below this are durable and readable.
    visible: AtomicU64,
    /// First sequence number still stored (TTL moves it).
    begin: AtomicU64,
}

#[derive(Debug)]
struct AppendState {
    next: u64,
    last_receive_time: u32,
    status: ShardStatus,
    /// The shard's open segment, once it has been appended to since the store opened.
    log: Option<segments::Appender>,
}

/// Opens sled in `dir`. A store closed a moment ago in this process (a restart) may still
/// hold the folder's lock while sled's background flusher winds down: wait for it, up to 2 s.
/// sled's page cache by default (`--cache-mib`). sled's own default, 1 GiB, is what let RSS
/// grow with the index before; LogGroup bytes live in segment files and are read through the
/// OS page cache, so sled caches only pointers and metadata.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

fn open_sled(dir: &Path, cache_bytes: u64) -> Result<sled::Db> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .flush_every_ms(Some(500))
        .segment_size(SEGMENT_SIZE);
    let mut tries = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.to_string().contains("could not acquire lock") =>
            {
                tries += 1;
                if tries >= 40 {
                    return Err(sled::Error::Io(e).into());
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Ok(other?),
        }
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    ///
    /// With [`Durability::Fsync`] every acknowledged change is on disk before the call that
    /// made it returns; with `Buffered` sled syncs in the background.
    pub fn open(dir: &Path, durability: Durability) -> Result<Store> {
        Store::open_with(dir, durability, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with sled's page cache bounded to `cache_bytes`.
    pub fn open_with(dir: &Path, durability: Durability, cache_bytes: u64) -> Result<Store> {
        let existed = dir.exists();
        std::fs::create_dir_all(dir)?;
        let db = open_sled(dir, cache_bytes)?;
        let meta = db.open_tree("meta")?;
        let pending = segments::Pending::default();
        let committer = match durability {
            Durability::Fsync => {
                // Make the folder itself and sled's fresh files durable once.
                commit::sync_dir(dir)?;
                if !existed {
                    commit::sync_dir(&commit::parent_dir(dir))?;
                }
                Some(Committer::start(db.clone(), dir, pending.clone())?)
            }
            Durability::Buffered => None,
        };
        let thorough = durability == Durability::Buffered;
        let (catalog, named) = records::load_catalog(&db, &meta, dir, thorough)?;
        records::drop_unnamed_trees(&db, &named, dir)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                meta,
                root: dir.to_path_buf(),
                segments: pending,
                catalog: RwLock::new(catalog),
                committer,
                #[cfg(test)]
                pause: Mutex::new(None),
            }),
        })
    }

    /// A store in a fresh temporary folder, for tests. The folder lives as long as the
    /// returned [`tempfile::TempDir`]; reopen it with `Store::open(dir.path(), Durability::Fsync)`.
    ///
    /// # Panics
    /// If the folder cannot be created or opened (a test environment problem).
    #[cfg(any(test, feature = "test-util"))]
    #[allow(clippy::expect_used)]
    pub fn open_temporary() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = Store::open(dir.path(), Durability::Fsync).expect("open a temporary store");
        (store, dir)
    }

    /// [`Store::open_temporary`] with project `p` and its logstore `l` of `shards` shards,
    /// created at `now`: what most storage tests start from.
    ///
    /// # Panics
    /// If creating them fails.
    #[cfg(any(test, feature = "test-util"))]
    #[allow(clippy::expect_used)]
    pub async fn temporary_with_logstore(
        shards: u32,
        now: UnixNanos,
    ) -> (Store, tempfile::TempDir) {
        let (store, dir) = Store::open_temporary();
        store
            .create_project(ProjectRecord::new("p", 0))
            .await
            .expect("create project p");
        store
            .create_logstore(LogstoreRecord::new("p", "l", 0), shards, now)
            .await
            .expect("create logstore p/l");
        (store, dir)
    }

    /// Waits until every change made before the call is durable (no-op when buffered).
    async fn commit(&self) -> Result<()> {
        match &self.inner.committer {
            Some(c) => c.commit().await.map_err(StorageError::Commit),
            None => Ok(()),
        }
    }

    /// Makes the next write stop at its pause point until the returned handle resumes it.
    #[cfg(test)]
    pub(crate) fn pause_next_write(&self) -> Arc<PausePoint> {
        let p = Arc::new(PausePoint::default());
        *self.inner.pause.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.clone());
        p
    }

    /// Where a write waits when a test asked for it (nothing in other builds).
    #[cfg(test)]
    async fn pause_point(&self) {
        let p = self
            .inner
            .pause
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(p) = p {
            p.reached.notify_one();
            p.resume.notified().await;
        }
    }

    /// Flushes sled's buffers (used at graceful shutdown).
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    fn read_catalog(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, ProjectEntry>> {
        // A poisoned lock means a panic mid-update of in-memory state only; sled is the truth
        // and the map is still structurally valid, so keep serving.
        self.inner.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_catalog(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, ProjectEntry>> {
        self.inner
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    // ----- projects -----
    //
    // Every change below writes sled first and memory second (a failed sled write leaves
    // memory as it was), and is durable when the call returns: the API never commits.

    /// Creates a project.
    pub async fn create_project(&self, record: ProjectRecord) -> Result<()> {
        {
            let mut cat = self.write_catalog();
            if cat.contains_key(&record.name) {
                return Err(StorageError::ProjectAlreadyExist(record.name));
            }
            self.inner.meta.insert(
                records::project_key(&record.name),
                records::to_json(&record),
            )?;
            cat.insert(
                record.name.clone(),
                ProjectEntry {
                    record,
                    logstores: BTreeMap::new(),
                },
            );
        }
        self.commit().await
    }

    /// A project's record.
    pub fn get_project(&self, name: &str) -> Result<ProjectRecord> {
        self.read_catalog()
            .get(name)
            .map(|p| p.record.clone())
            .ok_or_else(|| StorageError::ProjectNotExist(name.to_string()))
    }

    /// Every project, by name.
    pub fn list_projects(&self) -> Vec<ProjectRecord> {
        self.read_catalog()
            .values()
            .map(|p| p.record.clone())
            .collect()
    }

    /// Changes a project's record in place.
    pub async fn update_project(
        &self,
        name: &str,
        f: impl FnOnce(&mut ProjectRecord),
    ) -> Result<()> {
        {
            let mut cat = self.write_catalog();
            let entry = cat
                .get_mut(name)
                .ok_or_else(|| StorageError::ProjectNotExist(name.to_string()))?;
            let mut record = entry.record.clone();
            f(&mut record);
            self.inner
                .meta
                .insert(records::project_key(name), records::to_json(&record))?;
            entry.record = record;
        }
        self.commit().await
    }

    /// Deletes a project with all its logstores and their data.
    ///
    /// Every metadata key goes in one sled batch; the data trees are dropped after the catalog
    /// lock is released, off the async workers (nothing can reach them by then).
    pub async fn delete_project(&self, name: &str) -> Result<()> {
        let dropped: Vec<u64> = {
            let mut cat = self.write_catalog();
            let entry = cat
                .get(name)
                .ok_or_else(|| StorageError::ProjectNotExist(name.to_string()))?;
            let logstores: Vec<Arc<Logstore>> = entry.logstores.values().cloned().collect();
            let mut batch = sled::Batch::default();
            batch.remove(records::project_key(name));
            for ls in &logstores {
                self.remove_logstore_meta(&mut batch, name, ls)?;
            }
            self.apply_deleting(&logstores, batch)?;
            cat.remove(name);
            logstores.iter().map(|ls| ls.id).collect()
        };
        self.commit().await?;
        self.drop_data_trees(dropped).await;
        Ok(())
    }

    // ----- logstores -----

    /// Creates a logstore with `shard_count` readwrite shards splitting the key space evenly.
    /// `record.shards` and `record.id` are filled in here.
    pub async fn create_logstore(
        &self,
        mut record: LogstoreRecord,
        shard_count: u32,
        now: UnixNanos,
    ) -> Result<()> {
        {
            let mut cat = self.write_catalog();
            let project = cat
                .get_mut(&record.project)
                .ok_or_else(|| StorageError::ProjectNotExist(record.project.clone()))?;
            if project.logstores.contains_key(&record.name) {
                return Err(StorageError::LogStoreAlreadyExist(record.name));
            }
            let id = records::next_logstore_id(&self.inner.meta)?;
            record.id = id;
            record.shards = even_ranges(shard_count)
                .into_iter()
                .zip(0u32..)
                .map(|((begin, end), sid)| ShardRecord {
                    id: ShardId(sid),
                    status: ShardStatus::Readwrite,
                    begin_key: begin,
                    end_key: end,
                    create_time: now.secs(),
                    cursor_base: now.nanos(),
                    parents: Vec::new(),
                })
                .collect();
            // A crash after this leaves an empty tree no record names: `open` drops it.
            let tree = self.inner.db.open_tree(records::logs_tree_name(id))?;
            let mut batch = sled::Batch::default();
            batch.insert(records::NEXT_ID_KEY, &(id + 1).to_be_bytes()[..]);
            batch.insert(
                records::logstore_key(&record.project, &record.name),
                records::to_json(&record),
            );
            self.inner.meta.apply_batch(batch)?;
            let dir = segments::logstore_dir(&self.inner.root, record.id);
            let ls = Logstore::new(record, tree, dir, |_| (0, 0, 0), BTreeMap::new());
            project.logstores.insert(ls.name(), Arc::new(ls));
        }
        self.commit().await
    }

    /// The live logstore handle (for the data path).
    pub fn logstore(&self, project: &str, name: &str) -> Result<Arc<Logstore>> {
        self.logstore_unlocked(&self.read_catalog(), project, name)
    }

    /// The logstore handle while the caller holds the catalog lock.
    fn logstore_unlocked(
        &self,
        cat: &BTreeMap<String, ProjectEntry>,
        project: &str,
        name: &str,
    ) -> Result<Arc<Logstore>> {
        cat.get(project)
            .ok_or_else(|| StorageError::ProjectNotExist(project.to_string()))?
            .logstores
            .get(name)
            .cloned()
            .ok_or_else(|| StorageError::LogStoreNotExist(name.to_string()))
    }

    /// Logstore names of a project, sorted.
    pub fn list_logstores(&self, project: &str) -> Result<Vec<String>> {
        let cat = self.read_catalog();
        let p = cat
            .get(project)
            .ok_or_else(|| StorageError::ProjectNotExist(project.to_string()))?;
        Ok(p.logstores.keys().cloned().collect())
    }

    /// Changes a logstore's settings (not its shards) in place.
    pub async fn update_logstore(
        &self,
        project: &str,
        name: &str,
        f: impl FnOnce(&mut LogstoreRecord) -> Result<()>,
    ) -> Result<()> {
        {
            let cat = self.write_catalog();
            let ls = self.logstore_unlocked(&cat, project, name)?;
            let mut record = ls.record();
            f(&mut record)?;
            self.inner.meta.insert(
                records::logstore_key(project, name),
                records::to_json(&record),
            )?;
            *ls.record.write().unwrap_or_else(|e| e.into_inner()) = record;
        }
        self.commit().await
    }

    /// Creates (`create`), replaces or removes (`None`) a logstore's index configuration,
    /// durably. Create fails if one exists; replace and remove fail if none does.
    pub async fn set_index(
        &self,
        project: &str,
        name: &str,
        index: Option<serde_json::Value>,
        create: bool,
    ) -> Result<()> {
        self.update_logstore(project, name, |r| {
            match (create, r.index.is_some()) {
                (true, true) => return Err(StorageError::IndexAlreadyExist(name.to_string())),
                (false, false) => return Err(StorageError::IndexConfigNotExist(name.to_string())),
                _ => {}
            }
            r.index = index;
            Ok(())
        })
        .await
    }

    /// Deletes a logstore, its consumer groups and its data.
    ///
    /// Its metadata goes in one sled batch; the data tree is dropped after the catalog lock is
    /// released, off the async workers.
    pub async fn delete_logstore(&self, project: &str, name: &str) -> Result<()> {
        let id = {
            let mut cat = self.write_catalog();
            let p = cat
                .get_mut(project)
                .ok_or_else(|| StorageError::ProjectNotExist(project.to_string()))?;
            let ls = p
                .logstores
                .get(name)
                .cloned()
                .ok_or_else(|| StorageError::LogStoreNotExist(name.to_string()))?;
            let mut batch = sled::Batch::default();
            self.remove_logstore_meta(&mut batch, project, &ls)?;
            self.apply_deleting(std::slice::from_ref(&ls), batch)?;
            p.logstores.remove(name);
            ls.id
        };
        self.commit().await?;
        self.drop_data_trees(vec![id]).await;
        Ok(())
    }

    /// Adds the removal of every metadata key of `ls` to `batch`: its record, TTL floors,
    /// consumer groups and checkpoints.
    fn remove_logstore_meta(
        &self,
        batch: &mut sled::Batch,
        project: &str,
        ls: &Logstore,
    ) -> Result<()> {
        batch.remove(records::logstore_key(project, &ls.name()));
        for prefix in [
            records::floor_prefix(ls.id),
            consumer_groups::group_prefix(ls.id),
            consumer_groups::checkpoint_prefix(ls.id),
        ] {
            for item in self.inner.meta.scan_prefix(prefix) {
                batch.remove(item?.0);
            }
        }
        Ok(())
    }

    /// Applies a batch deleting `logstores` while holding every append lock of theirs, then
    /// marks them deleted: an append either finished before (and is dropped with the data) or
    /// sees the mark. A failed write leaves them live.
    fn apply_deleting(&self, logstores: &[Arc<Logstore>], batch: sled::Batch) -> Result<()> {
        let shards: Vec<Arc<Shard>> = logstores.iter().flat_map(|ls| ls.shards()).collect();
        let _appends: Vec<_> = shards.iter().map(|s| s.lock_append()).collect();
        self.inner.meta.apply_batch(batch)?;
        for ls in logstores {
            ls.deleted.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Drops the data trees of deleted logstores on a blocking thread. Their metadata is gone
    /// and committed already, so a failure only leaves space behind, which the next `open`
    /// reclaims; it is logged, not returned.
    async fn drop_data_trees(&self, ids: Vec<u64>) {
        let db = self.inner.db.clone();
        let root = self.inner.root.clone();
        let dropped = tokio::task::spawn_blocking(move || {
            ids.into_iter().try_for_each(|id| {
                db.drop_tree(records::logs_tree_name(id))?;
                segments::remove_dir(&segments::logstore_dir(&root, id)).map_err(sled::Error::Io)
            })
        })
        .await;
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "dropping a deleted logstore's data failed"),
            Err(e) => tracing::warn!(error = %e, "dropping a deleted logstore's data panicked"),
        }
    }

    /// Every live logstore (for background sweeps).
    fn all_logstores(&self) -> Vec<Arc<Logstore>> {
        self.read_catalog()
            .values()
            .flat_map(|p| p.logstores.values().cloned())
            .collect()
    }
}

impl Logstore {
    fn new(
        record: LogstoreRecord,
        tree: sled::Tree,
        dir: std::path::PathBuf,
        positions: impl Fn(&ShardRecord) -> (u64, u64, u32),
        groups: BTreeMap<String, consumer_groups::GroupRuntime>,
    ) -> Logstore {
        let shards = record
            .shards
            .iter()
            .map(|s| Arc::new(Shard::from_record(s, positions(s))))
            .collect();
        Logstore {
            id: record.id,
            record: RwLock::new(record),
            shards: RwLock::new(shards),
            tree,
            dir,
            pending_seqids: Arc::default(),
            round_robin: AtomicUsize::new(0),
            deleted: AtomicBool::new(false),
            groups: Mutex::new(groups),
        }
    }

    /// The logstore's name.
    pub fn name(&self) -> String {
        self.record
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .name
            .clone()
    }

    /// A copy of the settings, with the shards' current status.
    pub fn record(&self) -> LogstoreRecord {
        let mut r = self
            .record
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        r.shards = self.shards().iter().map(|s| s.to_record()).collect();
        r
    }

    /// All shards, by id.
    pub fn shards(&self) -> Vec<Arc<Shard>> {
        self.shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The shard with id `id`.
    pub fn shard(&self, id: ShardId) -> Result<Arc<Shard>> {
        self.shards()
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StorageError::ShardNotExist(id))
    }

    /// The shard a write goes to now: the readwrite shard holding `key`, or round robin.
    ///
    /// Looks at a snapshot of the shard list and reads each status under its lock, so a split
    /// or merge finishing in between can close a parent whose children are not in the
    /// snapshot; when nothing is found and the list changed meanwhile, it looks again.
    fn pick(&self, key: Option<u128>) -> Result<Arc<Shard>> {
        let mut shards = self.shards();
        let mut tries = 0;
        loop {
            let found = match key {
                Some(k) => route_in(&shards, k),
                None => self.pick_in(&shards),
            };
            let Err(e) = found else {
                return found;
            };
            let now = self.shards();
            let changed = now.len() != shards.len()
                || now.iter().zip(&shards).any(|(a, b)| !Arc::ptr_eq(a, b));
            if !changed || tries >= logs::MAX_REROUTES {
                return Err(e);
            }
            tries += 1;
            shards = now;
        }
    }

    /// A readwrite shard for a load-balanced write (round robin).
    fn pick_in(&self, shards: &[Arc<Shard>]) -> Result<Arc<Shard>> {
        let writable: Vec<&Arc<Shard>> = shards
            .iter()
            .filter(|s| s.status() == ShardStatus::Readwrite)
            .collect();
        if writable.is_empty() {
            return Err(StorageError::NoWritableShard(
                "the logstore has no readwrite shard".into(),
            ));
        }
        let i = self.round_robin.fetch_add(1, Ordering::Relaxed) % writable.len();
        writable
            .get(i)
            .map(|s| Arc::clone(s))
            .ok_or_else(|| StorageError::NoWritableShard("no readwrite shard".into()))
    }

    /// The readwrite shard whose range holds `key`.
    #[cfg(test)]
    fn route(&self, key: u128) -> Result<Arc<Shard>> {
        self.pick(Some(key))
    }

    /// Whether writes get `__receive_time__`/`__client_ip__` tags.
    pub fn append_meta(&self) -> bool {
        self.record
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .append_meta
    }

    /// Days of retention (3650 = forever).
    pub fn ttl_days(&self) -> u32 {
        self.record.read().unwrap_or_else(|e| e.into_inner()).ttl
    }
}

/// The readwrite shard of `shards` whose range holds `key`.
fn route_in(shards: &[Arc<Shard>], key: u128) -> Result<Arc<Shard>> {
    shards
        .iter()
        .find(|s| {
            s.status() == ShardStatus::Readwrite && range_contains(s.begin_key, s.end_key, key)
        })
        .cloned()
        .ok_or_else(|| {
            StorageError::NoWritableShard(format!(
                "no readwrite shard holds hash key {}",
                sls_protocol::hash::format_hash_key(key)
            ))
        })
}

impl Shard {
    /// A shard from its record and its (begin, next, last receive time) positions.
    fn from_record(s: &ShardRecord, (begin, next, last_receive_time): (u64, u64, u32)) -> Shard {
        Shard {
            id: s.id,
            begin_key: s.begin_key,
            end_key: s.end_key,
            create_time: s.create_time,
            cursor_base: Cursor::from_value(s.cursor_base),
            parents: s.parents.clone(),
            append: Mutex::new(AppendState {
                next,
                last_receive_time,
                status: s.status,
                log: None,
            }),
            visible: AtomicU64::new(next),
            begin: AtomicU64::new(begin),
        }
    }

    fn lock_append(&self) -> std::sync::MutexGuard<'_, AppendState> {
        self.append.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current status.
    pub fn status(&self) -> ShardStatus {
        self.lock_append().status
    }

    /// For a readonly shard, one past its last LogGroup, durable or still in the group commit:
    /// where its data ends once every write it accepted is readable ([`Shard::end_seq`] can
    /// still be below it for a moment).
    pub fn readonly_end_seq(&self) -> Option<u64> {
        let st = self.lock_append();
        (st.status == ShardStatus::Readonly).then_some(st.next)
    }

    fn to_record(&self) -> ShardRecord {
        ShardRecord {
            id: self.id,
            status: self.status(),
            begin_key: self.begin_key,
            end_key: self.end_key,
            create_time: self.create_time,
            cursor_base: self.cursor_base.value(),
            parents: self.parents.clone(),
        }
    }

    /// First readable sequence number.
    pub fn begin_seq(&self) -> u64 {
        self.begin.load(Ordering::Acquire)
    }

    /// One past the last readable (durable) sequence number.
    pub fn end_seq(&self) -> u64 {
        self.visible.load(Ordering::Acquire)
    }

    /// The cursor of a sequence number.
    pub fn cursor_of(&self, seq: u64) -> Cursor {
        Cursor::from_value(
            self.cursor_base
                .value()
                .saturating_add(i64::try_from(seq).unwrap_or(i64::MAX)),
        )
    }

    /// The sequence number a cursor points at, if it is inside `[begin, end]`.
    pub fn seq_of(&self, cursor: Cursor) -> Result<u64> {
        let cursor = cursor.value();
        let (begin, end) = (self.begin_seq(), self.end_seq());
        let out_of_range = || {
            StorageError::InvalidCursor(format!(
                "cursor {cursor} is outside shard {} data [{}, {}]",
                self.id,
                self.cursor_of(begin).value(),
                self.cursor_of(end).value()
            ))
        };
        let offset = cursor
            .checked_sub(self.cursor_base.value())
            .ok_or_else(out_of_range)?;
        let seq = u64::try_from(offset).map_err(|_| out_of_range())?;
        if seq < begin || seq > end {
            return Err(out_of_range());
        }
        Ok(seq)
    }
}
