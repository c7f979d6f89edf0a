//! Consumer groups: Create/Update/Delete/ListConsumerGroup, ConsumerGroupHeartBeat,
//! ConsumerGroupUpdateCheckPoint and GetCheckPoint (SLS-API.md §4.9,
//! CONSUMERS-AND-PRODUCERS.md §1–§2).

use std::collections::BTreeSet;

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use sls_protocol::body::{CheckpointInfo, ConsumerGroupInfo};
use sls_protocol::types::ShardId;

use super::request::json_object;
use super::Call;
use crate::error::{ApiError, ErrorCode};
use crate::model::names::{ConsumerGroupName, ConsumerName};
use crate::storage::ConsumerGroup;

/// ListConsumerGroup.
pub(super) fn list(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let groups: Vec<ConsumerGroupInfo> =
        c.st.store
            .list_consumer_groups(c.ctx.project()?, logstore)?
            .into_iter()
            .map(|g| ConsumerGroupInfo {
                name: g.name,
                timeout: g.timeout,
                order: g.order,
            })
            .collect();
    Ok(Json(groups).into_response())
}

/// CreateConsumerGroup: `consumerGroup`, `timeout` (seconds), `order`.
pub(super) async fn create(c: &Call<'_>, logstore: &str) -> Result<Response, ApiError> {
    let project = c.ctx.project()?;
    let obj = json_object(c.body)?;
    let name = match obj.get("consumerGroup") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(ApiError::param("consumerGroup (a string) is required")),
    };
    let name = ConsumerGroupName::parse(&name)?.as_str().to_string();
    let timeout = timeout_field(&obj)?.ok_or_else(|| ApiError::param("timeout is required"))?;
    let order = order_field(&obj)?.unwrap_or(false);
    c.st.store
        .create_consumer_group(
            project,
            logstore,
            ConsumerGroup {
                name,
                timeout,
                order,
            },
        )
        .await?;
    Ok(().into_response())
}

/// UpdateConsumerGroup: `timeout` and/or `order`.
pub(super) async fn update(
    c: &Call<'_>,
    logstore: &str,
    group: &str,
) -> Result<Response, ApiError> {
    let project = c.ctx.project()?;
    let obj = json_object(c.body)?;
    let (timeout, order) = (timeout_field(&obj)?, order_field(&obj)?);
    c.st.store
        .update_consumer_group(project, logstore, group, timeout, order)
        .await?;
    Ok(().into_response())
}

/// DeleteConsumerGroup, with its checkpoints.
pub(super) async fn delete(
    c: &Call<'_>,
    logstore: &str,
    group: &str,
) -> Result<Response, ApiError> {
    c.st.store
        .delete_consumer_group(c.ctx.project()?, logstore, group)
        .await?;
    Ok(().into_response())
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
pub(super) fn heartbeat(c: &Call<'_>, logstore: &str, group: &str) -> Result<Response, ApiError> {
    let (st, ctx, body) = (c.st, c.ctx, c.body);
    let project = ctx.project()?;
    let consumer = ConsumerName::parse(ctx.param("consumer"))?;
    let consumer = consumer.as_str();
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
    let answer = st
        .store
        .heartbeat(project, logstore, group, consumer, claims, ctx.now)?;
    Ok(Json(answer).into_response())
}

/// ConsumerGroupUpdateCheckPoint: `consumer` and `forceSuccess` come from the query
/// (`forceSuccess` as `true` or Python's `True`), `{shard, checkpoint}` from the body.
pub(super) async fn update_checkpoint(
    c: &Call<'_>,
    logstore: &str,
    group: &str,
) -> Result<Response, ApiError> {
    let (st, ctx, body) = (c.st, c.ctx, c.body);
    let project = ctx.project()?;
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
            ctx.now,
        )
        .await?;
    Ok(().into_response())
}

/// GetCheckPoint: every shard, or `?shard=`; `updateTime` in microseconds; `consumer` always set.
pub(super) fn get_checkpoints(
    c: &Call<'_>,
    logstore: &str,
    group: &str,
) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let project = ctx.project()?;
    let shard = match ctx.param("shard").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ShardId::parse(s)?),
    };
    let entries: Vec<CheckpointInfo> = st
        .store
        .get_checkpoints(project, logstore, group, shard)?
        .into_iter()
        .map(|(shard, cp)| CheckpointInfo {
            shard,
            checkpoint: cp.checkpoint,
            update_time_us: cp.update_time_us,
            consumer: cp.consumer,
        })
        .collect();
    Ok(Json(entries).into_response())
}
