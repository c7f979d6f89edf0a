//! Logstores: CreateLogStore, GetLogStore, UpdateLogStore, DeleteLogStore, ListLogStores
//! (SLS-API.md §4.3).

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use sls_protocol::body::LogstoreList;

use super::project::str_field;
use super::request::json_object;
use super::Call;
use crate::error::ApiError;
use crate::model::names::LogstoreName;
use crate::model::shard::ShardStatus;
use crate::storage::LogstoreRecord;

/// Keys of the logstore JSON the emulator models; anything else is kept in `extra`.
const KNOWN: &[&str] = &[
    "logstoreName",
    "ttl",
    "shardCount",
    "enable_tracking",
    "autoSplit",
    "maxSplitShard",
    "appendMeta",
    "telemetryType",
    "mode",
    "createTime",
    "lastModifyTime",
];

fn logstore_json(r: &LogstoreRecord) -> Value {
    let mut m = r.extra.clone();
    let readwrite = r
        .shards
        .iter()
        .filter(|s| s.status == ShardStatus::Readwrite)
        .count();
    for (k, v) in [
        ("logstoreName", json!(r.name)),
        ("ttl", json!(r.ttl)),
        ("shardCount", json!(readwrite)),
        ("enable_tracking", json!(r.enable_tracking)),
        ("autoSplit", json!(r.auto_split)),
        ("maxSplitShard", json!(r.max_split_shard)),
        ("appendMeta", json!(r.append_meta)),
        ("telemetryType", json!(r.telemetry_type)),
        ("mode", json!(r.mode)),
        ("createTime", json!(r.create_time)),
        ("lastModifyTime", json!(r.last_modify_time)),
    ] {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

fn int_field(
    obj: &Map<String, Value>,
    key: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::param(format!(
                "{key} must be an integer in [{min}, {max}], got {v}"
            ))),
        },
    }
}

fn bool_field(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(ApiError::param(format!("{key} must be a boolean, got {v}"))),
    }
}

/// Applies the settable fields present in `obj` to `r`.
fn apply_settings(r: &mut LogstoreRecord, obj: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(ttl) = int_field(obj, "ttl", 1, 3650)? {
        r.ttl = ttl as u32;
    }
    if let Some(b) = bool_field(obj, "enable_tracking")? {
        r.enable_tracking = b;
    }
    if let Some(b) = bool_field(obj, "autoSplit")? {
        r.auto_split = b;
    }
    // SDKs always send `maxSplitShard`, unset as 0 (Go: no omitempty) or -1 (Java's default);
    // SLS bounds it only when automatic splitting is on.
    if let Some(n) = int_field(obj, "maxSplitShard", i64::from(i32::MIN), 256)? {
        r.max_split_shard = n as i32;
    }
    if r.auto_split && r.max_split_shard < 1 {
        return Err(ApiError::param(
            "maxSplitShard must be an integer in [1, 256] when autoSplit is true",
        ));
    }
    if let Some(b) = bool_field(obj, "appendMeta")? {
        r.append_meta = b;
    }
    if let Some(t) = str_field(obj, "telemetryType")? {
        r.telemetry_type = if t.is_empty() { "None".into() } else { t };
    }
    if let Some(m) = str_field(obj, "mode")? {
        if m != "standard" && m != "query" {
            return Err(ApiError::param("mode must be standard or query"));
        }
        r.mode = m;
    }
    for (k, v) in obj {
        if !KNOWN.contains(&k.as_str()) {
            r.extra.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}

/// CreateLogStore.
pub(super) async fn create(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let project = ctx.project()?;
    let obj = json_object(c.body)?;
    let name = str_field(&obj, "logstoreName")?
        .ok_or_else(|| ApiError::param("logstoreName is required"))?;
    let name = LogstoreName::parse(&name)?;
    let shard_count = int_field(&obj, "shardCount", 1, 256)?.unwrap_or(2);
    let now = ctx.now.secs();
    let mut record = LogstoreRecord::new(project, name.as_str(), now);
    apply_settings(&mut record, &obj)?;
    st.store
        .create_logstore(record, shard_count as u32, ctx.now)
        .await?;
    Ok(().into_response())
}

/// GetLogStore.
pub(super) fn get(c: &Call<'_>, name: &str) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let ls = st.store.logstore(ctx.project()?, name)?;
    Ok(Json(logstore_json(&ls.record())).into_response())
}

/// ListLogStores: `offset`, `size` (≤ 500), `logstoreName` substring, `telemetryType`, `mode`.
pub(super) fn list(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let project = ctx.project()?;
    let offset = ctx.int_param("offset", 0, 0, i64::MAX)?;
    let size = ctx.int_param("size", 100, 0, 500)?;
    let filter = ctx.param("logstoreName").unwrap_or("");
    let telemetry = ctx.param("telemetryType").filter(|t| !t.is_empty());
    let mode = ctx.param("mode").filter(|m| !m.is_empty());
    let mut names = Vec::new();
    for name in st.store.list_logstores(project)? {
        if !name.contains(filter) {
            continue;
        }
        if telemetry.is_some() || mode.is_some() {
            let r = st.store.logstore(project, &name)?.record();
            if telemetry.is_some_and(|t| t != r.telemetry_type) || mode.is_some_and(|m| m != r.mode)
            {
                continue;
            }
        }
        names.push(name);
    }
    let page: Vec<String> = names
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(0))
        .cloned()
        .collect();
    Ok(Json(LogstoreList {
        count: page.len() as u64,
        total: names.len() as u64,
        logstores: page,
    })
    .into_response())
}

/// UpdateLogStore: updates the fields present; `shardCount` is ignored (shards change through
/// split and merge), a differing `logstoreName` is an error.
pub(super) async fn update(c: &Call<'_>, name: &str) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let project = ctx.project()?;
    let obj = json_object(c.body)?;
    if let Some(n) = str_field(&obj, "logstoreName")? {
        if n != name {
            return Err(ApiError::param(format!(
                "logstoreName {n:?} in the body differs from {name:?} in the path"
            )));
        }
    }
    // Validate before touching the store, so a bad field changes nothing.
    let mut probe = st.store.logstore(project, name)?.record();
    apply_settings(&mut probe, &obj)?;
    let now = ctx.now.secs();
    st.store
        .update_logstore(project, name, |r| {
            // The shards and the index as they are now: a split or an index change since
            // the probe must not be undone.
            let shards = std::mem::take(&mut r.shards);
            let index = r.index.take();
            *r = LogstoreRecord {
                shards,
                index,
                last_modify_time: now,
                ..probe
            };
            Ok(())
        })
        .await?;
    Ok(().into_response())
}

/// DeleteLogStore, with its data.
pub(super) async fn delete(c: &Call<'_>, name: &str) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    st.store.delete_logstore(ctx.project()?, name).await?;
    Ok(().into_response())
}
