//! The readers on `/shards/{id}`: GetCursor, GetCursorTime, PullLogs (SLS-API.md §4.5, §4.6,
//! §7).

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sls_protocol::body::{CursorBody, CursorTimeBody};
use sls_protocol::compression::{self, CompressType};
use sls_protocol::headers as h;
use sls_protocol::proto;
use sls_protocol::types::{Cursor, ShardId};

use super::request::header_str;
use super::Call;
use crate::error::{ApiError, ErrorCode};
use crate::faults::QuotaKind;
use crate::storage::{Logstore, Shard, StorageError};

/// PullLogs stops adding groups once its raw body reaches this size.
pub const MAX_PULL_BYTES: usize = 10 * 1024 * 1024;

/// The logstore and shard a data-plane request names.
fn locate(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<(Arc<Logstore>, Arc<Shard>), ApiError> {
    let ls = c.st.store.logstore(c.ctx.project()?, logstore)?;
    let shard = ls.shard(shard)?;
    Ok((ls, shard))
}

/// Runs a store scan off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

/// GetCursor: `from=begin|end|<unix seconds>`.
pub(super) async fn get_cursor(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let (ls, shard) = locate(c, logstore, shard)?;
    let from = ctx
        .param("from")
        .ok_or_else(|| ApiError::param("from is required (begin, end or a unix time)"))?;
    let seq = match from {
        "begin" => shard.begin_seq(),
        "end" => shard.end_seq(),
        t => {
            let t: i64 = t.trim().parse().map_err(|_| {
                ApiError::param(format!(
                    "from must be begin, end or a unix time in seconds, got {t:?}"
                ))
            })?;
            if t < 0 {
                return Err(ApiError::param("from must not be negative"));
            }
            let (store, sh) = (st.store.clone(), shard.clone());
            blocking(move || store.seq_at_time(&ls, &sh, t)).await?
        }
    };
    Ok(Json(CursorBody {
        cursor: shard.cursor_of(seq),
    })
    .into_response())
}

/// GetCursorTime: receive time of the group at `cursor` (the last group's, or now, at the end).
pub(super) fn get_cursor_time(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let (ls, shard) = locate(c, logstore, shard)?;
    let cursor = ctx
        .param("cursor")
        .ok_or_else(|| ApiError::param("cursor is required"))?;
    let seq = shard.seq_of(Cursor::parse(cursor)?)?;
    let at = if seq < shard.end_seq() {
        seq
    } else {
        seq.saturating_sub(1)
    };
    let time = if shard.end_seq() == shard.begin_seq() {
        None
    } else {
        st.store.receive_time(&ls, &shard, at)?
    };
    let time = time.map_or(ctx.now.secs(), i64::from);
    Ok(Json(CursorTimeBody { cursor_time: time }).into_response())
}

/// PullLogs: groups `[cursor, min(cursor + count, end_cursor, end))`, compressed per
/// Accept-Encoding, with the headers every SDK requires (SLS-API.md §4.6).
pub(super) async fn pull_logs(
    c: &Call<'_>,
    logstore: &str,
    shard: ShardId,
) -> Result<Response, ApiError> {
    let (st, ctx, headers) = (c.st, c.ctx, c.headers);
    let (ls, shard) = locate(c, logstore, shard)?;
    let cursor_text = ctx
        .param("cursor")
        .ok_or_else(|| ApiError::param("cursor is required"))?;
    let cursor = Cursor::parse(cursor_text)?;
    let count = ctx.int_param("count", 1000, 1, 1000)? as usize;
    let end_param = ctx
        .param("end_cursor")
        .or_else(|| ctx.param("endCursor"))
        .filter(|c| !c.is_empty());
    let from = shard.seq_of(cursor)?;
    if !st
        .faults
        .quotas()
        .admit(QuotaKind::Read, ls.id, shard.id, 0, ctx.now)
    {
        return Err(ApiError::new(
            ErrorCode::ShardReadQuotaExceed,
            format!("shard {} read quota exceeded", shard.id),
        ));
    }
    let until = match end_param {
        Some(c) => shard.seq_of(Cursor::parse(c)?)?,
        None => u64::MAX,
    };
    let (store, sh, ls_id) = (st.store.clone(), shard.clone(), ls.id);
    let batch = blocking(move || store.read(&ls, &sh, from, until, count, MAX_PULL_BYTES)).await?;
    let n = batch.groups.len() as u64;
    let next = from + n;
    let raw = proto::log_group_list_from_raw(batch.groups.iter().map(|g| g.bytes.as_ref()));
    st.faults
        .quotas()
        .account_bytes(QuotaKind::Read, ls_id, shard.id, raw.len() as u64, ctx.now);
    let kind = if raw.is_empty() {
        CompressType::None
    } else {
        CompressType::from_accept_encoding(header_str(headers, h::ACCEPT_ENCODING))
    };
    let body = compression::compress(kind, &raw)?;
    let mut resp = (StatusCode::OK, body).into_response();
    let hm = resp.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            hm.insert(name, v);
        }
    };
    set(h::X_LOG_CURSOR, shard.cursor_of(next).encode());
    set(h::X_LOG_COUNT, n.to_string());
    set(h::X_LOG_BODYRAWSIZE, raw.len().to_string());
    set(
        h::X_LOG_END_OF_CURSOR,
        if next >= shard.end_seq() { "1" } else { "0" }.to_string(),
    );
    if let Some(last) = batch.groups.last() {
        set(
            h::X_LOG_READ_LAST_CURSOR,
            shard.cursor_of(last.seq).value().to_string(),
        );
        set(h::X_LOG_CURSOR_TIME, last.receive_time.to_string());
    }
    if let Some(v) = kind.header_value() {
        set(h::X_LOG_COMPRESSTYPE, v.to_string());
    }
    hm.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    Ok(resp)
}
