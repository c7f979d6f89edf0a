//! Shards: ListShards, and the `/shards/{id}` path that carries PutLogs (`lb`, `route`),
//! GetCursor, GetCursorTime and PullLogs (SLS-API.md §4.4–4.7).

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sls_protocol::hash::format_hash_key;

use super::extract::{Ctx, RawBody, SlsPath};
use super::logs::{self, Target};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Shard;

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
    let shards: Vec<Value> = ls.shards().iter().map(|s| shard_json(s)).collect();
    Ok(Json(Value::Array(shards)).into_response())
}

/// The ListShards element of one shard.
pub fn shard_json(s: &Shard) -> Value {
    json!({
        "shardID": s.id,
        "status": s.status().as_str(),
        "inclusiveBeginKey": format_hash_key(s.begin_key),
        "exclusiveEndKey": format_hash_key(s.end_key),
        "createTime": s.create_time,
    })
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
        _ => Err(super::unsupported(
            &method,
            "/logstores/{logstore}/shards/{shard}",
        )),
    }
}

/// A shard id from the path: a non-negative decimal integer.
pub fn parse_shard_id(s: &str) -> Result<u32, ApiError> {
    s.parse::<u32>()
        .map_err(|_| ApiError::param(format!("invalid shard id {s:?}")))
}
