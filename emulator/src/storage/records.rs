//! What the store persists in its `meta` tree, and how it is loaded back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sls_protocol::types::ShardId;

use super::{Logstore, ProjectEntry, Result, StorageError};
use crate::model::shard::ShardStatus;

/// A project as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProjectRecord {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Resource group id (may be empty).
    pub resource_group_id: String,
    /// `LRS` or `ZRS`.
    pub data_redundancy_type: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds.
    pub last_modify_time: i64,
}

impl ProjectRecord {
    /// A new project (LRS, no description) created at `now_secs`.
    pub fn new(name: &str, now_secs: i64) -> Self {
        ProjectRecord {
            name: name.to_string(),
            description: String::new(),
            resource_group_id: String::new(),
            data_redundancy_type: "LRS".into(),
            create_time: now_secs,
            last_modify_time: now_secs,
        }
    }
}

impl LogstoreRecord {
    /// A new logstore with SLS's defaults (ttl 30, standard mode, no shards yet) created at
    /// `now_secs`.
    pub fn new(project: &str, name: &str, now_secs: i64) -> Self {
        LogstoreRecord {
            id: 0,
            project: project.to_string(),
            name: name.to_string(),
            ttl: 30,
            enable_tracking: false,
            auto_split: false,
            max_split_shard: 64,
            append_meta: false,
            telemetry_type: "None".into(),
            mode: "standard".into(),
            create_time: now_secs,
            last_modify_time: now_secs,
            extra: serde_json::Map::new(),
            index: None,
            shards: Vec::new(),
        }
    }
}

/// A logstore's settings and shard layout as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogstoreRecord {
    /// Internal id; names its data tree.
    pub id: u64,
    /// Owning project.
    pub project: String,
    /// Name.
    pub name: String,
    /// Retention in days (3650 = forever).
    pub ttl: u32,
    /// `enable_tracking`.
    pub enable_tracking: bool,
    /// `autoSplit` (stored, reported; automatic splitting is not performed).
    pub auto_split: bool,
    /// `maxSplitShard`.
    pub max_split_shard: i32,
    /// `appendMeta`: add `__receive_time__` and `__client_ip__` tags to every LogGroup.
    pub append_meta: bool,
    /// `telemetryType` (`None`, `Metrics`, ...).
    pub telemetry_type: String,
    /// `mode` (`standard`, `query`).
    pub mode: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds.
    pub last_modify_time: i64,
    /// Other fields a client sent (`hot_ttl`, `encrypt_conf`, ...), echoed back by GetLogStore.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The index configuration as CreateIndex/UpdateIndex stored it (validated), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<serde_json::Value>,
    /// Every shard, readonly ones included, by id.
    pub shards: Vec<ShardRecord>,
}

/// A shard as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardRecord {
    /// Id (a bare JSON number on disk: `ShardId` is transparent).
    pub id: ShardId,
    /// Status.
    pub status: ShardStatus,
    /// Inclusive begin of the hash range.
    #[serde(with = "hex_u128")]
    pub begin_key: u128,
    /// Exclusive end of the hash range.
    #[serde(with = "hex_u128")]
    pub end_key: u128,
    /// Unix seconds.
    pub create_time: i64,
    /// Cursor integer of sequence number 0.
    pub cursor_base: i64,
    /// The shard(s) it was split or merged from.
    #[serde(default)]
    pub parents: Vec<ShardId>,
}

mod hex_u128 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:032x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        u128::from_str_radix(&s, 16).map_err(serde::de::Error::custom)
    }
}

pub(super) fn project_key(name: &str) -> Vec<u8> {
    format!("project/{name}").into_bytes()
}

pub(super) fn logstore_key(project: &str, name: &str) -> Vec<u8> {
    format!("logstore/{project}/{name}").into_bytes()
}

pub(super) fn floor_key(logstore_id: u64, shard: ShardId) -> Vec<u8> {
    format!("floor/{logstore_id}/{shard}").into_bytes()
}

pub(super) fn logs_tree_name(logstore_id: u64) -> String {
    format!("logs/{logstore_id}")
}

pub(super) const NEXT_ID_KEY: &[u8] = b"next-logstore-id";

/// Every TTL floor key of a logstore.
pub(super) fn floor_prefix(logstore_id: u64) -> Vec<u8> {
    format!("floor/{logstore_id}/").into_bytes()
}

pub(super) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    serde_json::to_vec(v).unwrap_or_default()
}

pub(super) fn from_json<T: for<'de> Deserialize<'de>>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

pub(super) fn read_u64(key: &[u8], bytes: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| StorageError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: format!("expected 8 bytes, found {}", bytes.len()),
    })?;
    Ok(u64::from_be_bytes(arr))
}

/// The next logstore id (ids are never reused): the caller stores `id + 1` under
/// [`NEXT_ID_KEY`] in the batch that creates the logstore, under the catalog lock.
pub(super) fn next_logstore_id(meta: &sled::Tree) -> Result<u64> {
    match meta.get(NEXT_ID_KEY)? {
        Some(v) => read_u64(NEXT_ID_KEY, &v),
        None => Ok(1),
    }
}

/// Drops every `logs/{id}` tree whose id no logstore record names: what a crash between
/// deleting a logstore's metadata and dropping its data (or between creating its tree and
/// its record) leaves behind.
pub(super) fn drop_unnamed_trees(
    db: &sled::Db,
    named: &BTreeSet<u64>,
    root: &std::path::Path,
) -> Result<()> {
    // Segment folders of logstores no record names.
    if let Ok(entries) = std::fs::read_dir(root.join("segments")) {
        for e in entries.flatten() {
            let id = e.file_name().to_str().and_then(|n| n.parse::<u64>().ok());
            if let Some(id) = id.filter(|id| !named.contains(id)) {
                tracing::info!(
                    logstore_id = id,
                    "removing the segments of a deleted logstore"
                );
                super::segments::remove_dir(&e.path())?;
            }
        }
    }
    for name in db.tree_names() {
        let id = std::str::from_utf8(&name)
            .ok()
            .and_then(|n| n.strip_prefix("logs/"))
            .and_then(|id| id.parse::<u64>().ok());
        if let Some(id) = id.filter(|id| !named.contains(id)) {
            tracing::info!(logstore_id = id, "dropping the data of a deleted logstore");
            db.drop_tree(name)?;
        }
    }
    Ok(())
}

/// Rebuilds the in-memory catalog from sled; also returns the id of every logstore record
/// (those of a missing project included), whose data trees are not orphans.
pub(super) fn load_catalog(
    db: &sled::Db,
    meta: &sled::Tree,
    root: &std::path::Path,
    thorough: bool,
) -> Result<(BTreeMap<String, ProjectEntry>, BTreeSet<u64>)> {
    let mut catalog = BTreeMap::new();
    let mut named = BTreeSet::new();
    for item in meta.scan_prefix(b"project/") {
        let (key, value) = item?;
        let record: ProjectRecord = from_json(&key, &value)?;
        catalog.insert(
            record.name.clone(),
            ProjectEntry {
                record,
                logstores: BTreeMap::new(),
            },
        );
    }
    for item in meta.scan_prefix(b"logstore/") {
        let (key, value) = item?;
        let record: LogstoreRecord = from_json(&key, &value)?;
        named.insert(record.id);
        let Some(project) = catalog.get_mut(&record.project) else {
            tracing::warn!(logstore = %record.name, project = %record.project, "logstore of a missing project ignored");
            continue;
        };
        let tree = db.open_tree(logs_tree_name(record.id))?;
        let dir = super::segments::logstore_dir(root, record.id);
        let known: BTreeSet<ShardId> = record.shards.iter().map(|s| s.id).collect();
        super::logs::remove_unknown_shards(&tree, &dir, &known)?;
        let mut positions = BTreeMap::new();
        for s in &record.shards {
            super::logs::recover_tail(&tree, &dir, s.id, thorough)?;
            positions.insert(
                s.id,
                super::logs::scan_positions(meta, &tree, record.id, s.id)?,
            );
        }
        let name = record.name.clone();
        let groups = super::consumer_groups::load(meta, record.id)?;
        let ls = Logstore::new(
            record,
            tree,
            dir,
            |s| positions.get(&s.id).copied().unwrap_or((0, 0, 0)),
            groups,
        );
        project.logstores.insert(name, Arc::new(ls));
    }
    Ok((catalog, named))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard record exactly as stores before `ShardId` wrote it: data folders made then must
    /// still open, and records written now must read the same to older builds.
    #[test]
    fn shard_records_keep_their_json() {
        let old = r#"{"id":3,"status":"readonly","begin_key":"00000000000000000000000000000000","end_key":"80000000000000000000000000000000","create_time":1700000000,"cursor_base":1700000000000000000,"parents":[0,1]}"#;
        let r: ShardRecord = from_json(b"logstore/p/l", old.as_bytes()).unwrap();
        assert_eq!(r.id, ShardId(3));
        assert_eq!(r.parents, vec![ShardId(0), ShardId(1)]);
        assert_eq!(r.status, ShardStatus::Readonly);
        assert_eq!(r.end_key, 1 << 127);
        assert_eq!(String::from_utf8(to_json(&r)).unwrap(), old);
        // Records from before split/merge have no `parents`.
        let older = r#"{"id":0,"status":"readwrite","begin_key":"00000000000000000000000000000000","end_key":"ffffffffffffffffffffffffffffffff","create_time":1,"cursor_base":2}"#;
        let r: ShardRecord = from_json(b"logstore/p/l", older.as_bytes()).unwrap();
        assert_eq!((r.id, r.parents), (ShardId(0), Vec::new()));
    }
}
