//! Shards: ListShards, and the `/shards/{id}` path that carries PutLogs (`lb`, `route`),
//! GetCursor, GetCursorTime and PullLogs (SLS-API.md §4.4–4.7).

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sls_protocol::hash::format_hash_key;
use sls_protocol::types::{ShardId, UnixNanos};

use super::extract::{Ctx, RawBody, SlsPath};
use super::logs::{self, Target};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{ShardRecord, SplitAt};

/// `/logstores/{logstore}/shards`: ListShards.
pub async fn collection(
    State(st): State<AppState>,
    ctx: Ctx,
    method: Method,
    SlsPath(logstore): SlsPath<String>,
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(super::unsupported(&method, "/logstores/{logstore}/shards"));
    }
    let ls = st.store.logstore(ctx.project()?, &logstore)?;
    Ok(shards_json(&ls.record().shards))
}

/// The ListShards/SplitShard/MergeShards answer for these shards, in this order.
fn shards_json(shards: &[ShardRecord]) -> Response {
    let list: Vec<Value> = shards
        .iter()
        .map(|s| {
            json!({
                "shardID": s.id,
                "status": s.status.as_str(),
                "inclusiveBeginKey": format_hash_key(s.begin_key),
                "exclusiveEndKey": format_hash_key(s.end_key),
                "createTime": s.create_time,
            })
        })
        .collect();
    Json(Value::Array(list)).into_response()
}

/// `/logstores/{logstore}/shards/{shard}`.
pub async fn item(
    State(st): State<AppState>,
    ctx: Ctx,
    method: Method,
    headers: HeaderMap,
    SlsPath((logstore, shard)): SlsPath<(String, String)>,
    body: RawBody,
) -> Result<Response, ApiError> {
    match (&method, shard.as_str()) {
        (&Method::POST, "lb") => {
            logs::put_logs(&st, &ctx, &headers, &logstore, Target::LoadBalance, &body).await
        }
        (&Method::POST, "route") => {
            let key = ctx
                .param("key")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| ApiError::param("PutLogs to /shards/route needs a key parameter"))?;
            let key = sls_protocol::hash::parse_hash_key(key)?;
            logs::put_logs(&st, &ctx, &headers, &logstore, Target::HashKey(key), &body).await
        }
        (&Method::GET, id) => {
            let id = parse_shard_id(id)?;
            match ctx.param("type") {
                Some("cursor") => logs::get_cursor(&st, &ctx, &logstore, id).await,
                Some("cursor_time") => logs::get_cursor_time(&st, &ctx, &logstore, id).await,
                Some("log") | Some("logs") => {
                    logs::pull_logs(&st, &ctx, &headers, &logstore, id).await
                }
                other => Err(ApiError::param(format!(
                    "type must be cursor, cursor_time, log or logs, got {:?}",
                    other.unwrap_or("")
                ))),
            }
        }
        (&Method::POST, id) => {
            let id = parse_shard_id(id)?;
            let project = ctx.project()?;
            let shards = match ctx.param("action") {
                Some("split") => {
                    let at = split_at(&ctx)?;
                    st.store
                        .split_shard(
                            project,
                            &logstore,
                            ShardId(id),
                            at,
                            UnixNanos(ctx.now_nanos),
                        )
                        .await?
                }
                Some("merge") => {
                    st.store
                        .merge_shard(project, &logstore, ShardId(id), UnixNanos(ctx.now_nanos))
                        .await?
                }
                other => {
                    return Err(ApiError::param(format!(
                        "action must be split or merge, got {:?}",
                        other.unwrap_or("")
                    )))
                }
            };
            Ok(shards_json(&shards))
        }
        (&Method::DELETE, id) => {
            let id = parse_shard_id(id)?;
            st.store
                .delete_shard(ctx.project()?, &logstore, ShardId(id))
                .await?;
            Ok(().into_response())
        }
        _ => Err(super::unsupported(
            &method,
            "/logstores/{logstore}/shards/{shard}",
        )),
    }
}

/// SplitShard's cut: `key` (two children), else `shardCount` (even), else the midpoint.
fn split_at(ctx: &Ctx) -> Result<SplitAt, ApiError> {
    if let Some(k) = ctx.param("key").filter(|k| !k.is_empty()) {
        return Ok(SplitAt::Key(sls_protocol::hash::parse_hash_key(k)?));
    }
    let n = ctx.int_param("shardCount", 2, 2, 64)?;
    Ok(SplitAt::Even(n as u32))
}

/// A shard id from the path: a non-negative decimal integer.
pub fn parse_shard_id(s: &str) -> Result<u32, ApiError> {
    s.parse::<u32>()
        .map_err(|_| ApiError::param(format!("invalid shard id {s:?}")))
}
