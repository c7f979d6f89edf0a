//! Consumer groups: Create/Update/Delete/ListConsumerGroup, ConsumerGroupHeartBeat,
//! ConsumerGroupUpdateCheckPoint and GetCheckPoint (SLS-API.md §4.9,
//! CONSUMERS-AND-PRODUCERS.md §1–§2).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{json_object, Ctx, RawBody, SlsPath};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::storage::ConsumerGroup;
use sls_protocol::types::{ShardId, UnixNanos};

/// `/logstores/{logstore}/consumergroups`.
pub async fn collection(
    State(st): State<AppState>,
    ctx: Ctx,
    method: Method,
    SlsPath(logstore): SlsPath<String>,
    body: RawBody,
) -> Result<Response, ApiError> {
    let project = ctx.project()?;
    match method {
        Method::GET => {
            let groups: Vec<Value> = st
                .store
                .list_consumer_groups(project, &logstore)?
                .into_iter()
                .map(|g| json!({"name": g.name, "timeout": g.timeout, "order": g.order}))
                .collect();
            Ok(Json(Value::Array(groups)).into_response())
        }
        Method::POST => {
            let obj = json_object(&body)?;
            let name = match obj.get("consumerGroup") {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(ApiError::param("consumerGroup (a string) is required")),
            };
            check_name(&name)?;
            let timeout =
                timeout_field(&obj)?.ok_or_else(|| ApiError::param("timeout is required"))?;
            let order = order_field(&obj)?.unwrap_or(false);
            st.store
                .create_consumer_group(
                    project,
                    &logstore,
                    ConsumerGroup {
                        name,
                        timeout,
                        order,
                    },
                )
                .await?;
            Ok(().into_response())
        }
        m => Err(super::unsupported(
            &m,
            "/logstores/{logstore}/consumergroups",
        )),
    }
}

/// `/logstores/{logstore}/consumergroups/{group}`.
pub async fn item(
    State(st): State<AppState>,
    ctx: Ctx,
    method: Method,
    SlsPath((logstore, group)): SlsPath<(String, String)>,
    body: RawBody,
) -> Result<Response, ApiError> {
    let project = ctx.project()?;
    match (&method, ctx.param("type")) {
        (&Method::POST, Some("heartbeat")) => {
            heartbeat(&st, &ctx, project, &logstore, &group, &body)
        }
        (&Method::POST, Some("checkpoint")) => {
            update_checkpoint(&st, &ctx, project, &logstore, &group, &body).await
        }
        (&Method::GET, _) => get_checkpoints(&st, &ctx, project, &logstore, &group),
        (&Method::PUT, _) => {
            let obj = json_object(&body)?;
            let (timeout, order) = (timeout_field(&obj)?, order_field(&obj)?);
            st.store
                .update_consumer_group(project, &logstore, &group, timeout, order)
                .await?;
            Ok(().into_response())
        }
        (&Method::DELETE, _) => {
            st.store
                .delete_consumer_group(project, &logstore, &group)
                .await?;
            Ok(().into_response())
        }
        (&Method::POST, other) => Err(ApiError::param(format!(
            "type must be heartbeat or checkpoint, got {:?}",
            other.unwrap_or("")
        ))),
        _ => Err(super::unsupported(
            &method,
            "/logstores/{logstore}/consumergroups/{group}",
        )),
    }
}

/// Consumer group names: 1–128 of `[0-9a-zA-Z_-]` (the official Java client's rule).
fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::param(format!(
            "consumer group name {name:?} is invalid: 1-128 characters of a-z, A-Z, 0-9, '_' and '-'"
        )))
    }
}

fn timeout_field(obj: &serde_json::Map<String, Value>) -> Result<Option<u32>, ApiError> {
    match obj.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(t) if (1..=86_400).contains(&t) => Ok(Some(t as u32)),
            _ => Err(ApiError::param(format!(
                "timeout must be an integer in [1, 86400] seconds, got {v}"
            ))),
        },
    }
}

fn order_field(obj: &serde_json::Map<String, Value>) -> Result<Option<bool>, ApiError> {
    match obj.get("order") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(ApiError::param(format!("order must be a boolean, got {v}"))),
    }
}

/// ConsumerGroupHeartBeat: body = the shards the consumer holds, answer = the shards it may
/// consume.
fn heartbeat(
    st: &AppState,
    ctx: &Ctx,
    project: &str,
    logstore: &str,
    group: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let consumer = ctx
        .param("consumer")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::param("consumer is required"))?;
    let claims: Vec<i64> = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                ErrorCode::PostBodyInvalid,
                format!("heartbeat body must be a JSON array of shard ids: {e}"),
            )
        })?
    };
    let claims: BTreeSet<ShardId> = claims
        .into_iter()
        .filter_map(|s| u32::try_from(s).ok().map(ShardId))
        .collect();
    let answer = st.store.heartbeat(
        project,
        logstore,
        group,
        consumer,
        claims,
        UnixNanos(ctx.now_nanos),
    )?;
    Ok(Json(answer).into_response())
}

/// ConsumerGroupUpdateCheckPoint: `consumer` and `forceSuccess` come from the query
/// (`forceSuccess` as `true` or Python's `True`), `{shard, checkpoint}` from the body.
async fn update_checkpoint(
    st: &AppState,
    ctx: &Ctx,
    project: &str,
    logstore: &str,
    group: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let consumer = ctx.param("consumer").unwrap_or("");
    let force = ctx
        .param("forceSuccess")
        .is_some_and(|f| f.eq_ignore_ascii_case("true"));
    let obj = json_object(body)?;
    let shard = obj
        .get("shard")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| ApiError::param("shard (a non-negative integer) is required"))?;
    let checkpoint = match obj.get("checkpoint") {
        Some(Value::String(c)) => c.as_str(),
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidShardCheckPoint,
                "checkpoint (a base64 cursor) is required",
            ))
        }
    };
    st.store
        .update_checkpoint(
            project,
            logstore,
            group,
            consumer,
            force,
            ShardId(shard),
            checkpoint,
            UnixNanos(ctx.now_nanos),
        )
        .await?;
    Ok(().into_response())
}

/// GetCheckPoint: every shard, or `?shard=`; `updateTime` in microseconds; `consumer` always set.
fn get_checkpoints(
    st: &AppState,
    ctx: &Ctx,
    project: &str,
    logstore: &str,
    group: &str,
) -> Result<Response, ApiError> {
    let shard = match ctx.param("shard").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ShardId(super::shard::parse_shard_id(s)?)),
    };
    let entries: Vec<Value> = st
        .store
        .get_checkpoints(project, logstore, group, shard)?
        .into_iter()
        .map(|(id, cp)| {
            json!({"shard": id, "checkpoint": cp.checkpoint, "updateTime": cp.update_time_us, "consumer": cp.consumer})
        })
        .collect();
    Ok(Json(Value::Array(entries)).into_response())
}
