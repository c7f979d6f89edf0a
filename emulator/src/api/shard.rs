//! Shards: ListShards, SplitShard, MergeShards, DeleteShard (SLS-API.md §4.4, §8). The data
//! plane on `/shards/{id}` is in `put` and `read`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use sls_protocol::body::ShardInfo;
use sls_protocol::hash::format_hash_key;
use sls_protocol::types::ShardId;

use super::Call;
use crate::error::ApiError;
use crate::storage::{ShardRecord, SplitAt};

/// ListShards.
pub(super) fn list(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let ls = c.st.store.logstore(c.ctx.project()?, logstore)?;
    Ok(shards_json(&ls.record().shards))
}

/// SplitShard: `key` (two children), else `shardCount` (even), else the midpoint.
pub(super) async fn split(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    let at = match c.ctx.param("key").filter(|k| !k.is_empty()) {
        Some(k) => SplitAt::Key(sls_protocol::hash::parse_hash_key(k)?),
        None => SplitAt::Even(c.ctx.int_param("shardCount", 2, 2, 64)? as u32),
    };
    let shards =
        c.st.store
            .split_shard(c.ctx.project()?, logstore, shard, at, c.ctx.now)
            .await?;
    Ok(shards_json(&shards))
}

/// MergeShards: the shard and its readwrite right neighbour.
pub(super) async fn merge(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    let shards =
        c.st.store
            .merge_shard(c.ctx.project()?, logstore, shard, c.ctx.now)
            .await?;
    Ok(shards_json(&shards))
}

/// DeleteShard: a readonly shard with its data and checkpoints.
pub(super) async fn delete(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    c.st.store
        .delete_shard(c.ctx.project()?, logstore, shard)
        .await?;
    Ok(().into_response())
}

/// The ListShards/SplitShard/MergeShards answer for these shards, in this order.
fn shards_json(shards: &[ShardRecord]) -> Response {
    let list: Vec<ShardInfo> = shards
        .iter()
        .map(|s| ShardInfo {
            id: s.id,
            status: s.status.as_str().to_string(),
            begin_key: format_hash_key(s.begin_key),
            end_key: format_hash_key(s.end_key),
            create_time: s.create_time,
        })
        .collect();
    Json(list).into_response()
}
