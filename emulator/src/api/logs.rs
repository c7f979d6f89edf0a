//! The data plane: PutLogs (PostLogStoreLogs), GetCursor, GetCursorTime, PullLogs
//! (SLS-API.md §4.5–4.7, §6, §7).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use prost::Message;
use serde_json::json;
use sls_protocol::compression::{self, CompressType};
use sls_protocol::cursor::decode_cursor;
use sls_protocol::headers as h;
use sls_protocol::proto::{self, LogGroup};

use std::sync::Arc;

use super::extract::{header_str, Ctx};
use crate::error::{ApiError, ErrorCode};
use crate::faults::{Faults, QuotaKind};
use crate::state::AppState;
use crate::storage::{Logstore, PutLogs, Route, Shard, StorageError, WriteAdmission};
use sls_protocol::types::{Cursor, ShardId, UnixNanos};

/// Largest uncompressed PutLogs body (SLS-API.md §11).
pub const MAX_RAW_BODY: usize = 10 * 1024 * 1024;
/// Most logs in one LogGroup (the Python SDK's own ceiling).
pub const MAX_LOGS_PER_GROUP: usize = 512_000;
/// PullLogs stops adding groups once its raw body reaches this size.
pub const MAX_PULL_BYTES: usize = 10 * 1024 * 1024;

/// Where a PutLogs goes.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Any readwrite shard (`/shards/lb`, Go's `POST /logstores/{ls}`).
    LoadBalance,
    /// The readwrite shard whose range holds the key (`/shards/route?key=`).
    HashKey(u128),
}

/// PutLogs: decompress, validate, route, append durably, answer 200 with an empty body.
///
/// With `seqid=` (only with a hash key, as the Java SDK sends it) the write is stored only if
/// its sequence id is above the last one stored for the key ([`Store::put_logs`]); a
/// LogGroup without logs stores and records nothing either way.
///
/// [`Store::put_logs`]: crate::storage::Store::put_logs
pub async fn put_logs(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    logstore: &str,
    target: Target,
    body: &[u8],
) -> Result<Response, ApiError> {
    let seqid = seq_id(ctx, target)?;
    let project = ctx.project()?;
    // LogStoreNotExist comes before any body error, as it always did.
    st.store.logstore(project, logstore)?;
    if header_str(headers, h::X_LOG_MODE).is_some_and(|m| m.eq_ignore_ascii_case("batch_group")) {
        return Err(ApiError::param(
            "x-log-mode: batch_group is not supported by sls-emu",
        ));
    }
    let (group, logs) = decode_log_group(headers, body)?;
    if logs == 0 {
        // Nothing to store; SLS clients (Go) skip such requests themselves.
        return Ok(StatusCode::OK.into_response());
    }
    let route = match target {
        Target::LoadBalance => Route::LoadBalance,
        Target::HashKey(key) => Route::HashKey { key, seqid },
    };
    st.store
        .put_logs(PutLogs {
            project,
            logstore,
            route,
            group,
            client_ip: ctx.client.map(|a| a.ip()),
            now: UnixNanos(ctx.now_nanos),
            admit: &WriteQuota(&st.faults),
        })
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// The write-quota hook of the store's put path: the fault injector's write quotas.
struct WriteQuota<'a>(&'a Faults);

impl WriteAdmission for WriteQuota<'_> {
    fn admit(&self, logstore_id: u64, shard: ShardId, bytes: u64, now: UnixNanos) -> bool {
        self.0
            .quotas()
            .admit(QuotaKind::Write, logstore_id, shard.0, bytes, now.0)
    }
}

/// The write's `seqid=` with its hash key, if it has one.
///
/// Public sources only show clients sending it: the Java SDK adds `seqid` (a Java `Integer`)
/// to `/shards/route` requests alone (aliyun/aliyun-log-java-sdk `Client.java`, `PutLogs`).
/// So: a decimal u64 (no sign, no spaces), and a `seqid` without a hash key is refused rather
/// than ignored, since the writer believes its replays are safe.
fn seq_id(ctx: &Ctx, target: Target) -> Result<Option<u64>, ApiError> {
    let Some(text) = ctx.param("seqid") else {
        return Ok(None);
    };
    let seqid = parse_seqid(text)?;
    match target {
        Target::HashKey(_) => Ok(Some(seqid)),
        Target::LoadBalance => Err(ApiError::param(
            "seqid needs a hash key: send the write to /shards/route?key=<hash key>&seqid=<n>",
        )),
    }
}

/// A `seqid` value: decimal digits only, at most `u64::MAX`.
fn parse_seqid(text: &str) -> Result<u64, ApiError> {
    let invalid = || {
        ApiError::param(format!(
            "seqid must be a non-negative decimal integer of at most {}, got {text:?}",
            u64::MAX
        ))
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// The request body as a validated, serialized LogGroup, plus its log count.
fn decode_log_group(headers: &HeaderMap, body: &[u8]) -> Result<(Vec<u8>, usize), ApiError> {
    let kind = CompressType::from_header(header_str(headers, h::X_LOG_COMPRESSTYPE))?;
    let raw = if kind == CompressType::None {
        if body.len() > MAX_RAW_BODY {
            return Err(too_large(body.len()));
        }
        body.to_vec()
    } else {
        let size = header_str(headers, h::X_LOG_BODYRAWSIZE).ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingBodyRawSize,
                "x-log-bodyrawsize is required with x-log-compresstype",
            )
        })?;
        let size: usize = size.trim().parse().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidBodyRawSize,
                format!("x-log-bodyrawsize {size:?} is not a non-negative integer"),
            )
        })?;
        if size > MAX_RAW_BODY {
            return Err(too_large(size));
        }
        compression::decompress(kind, body, size)?
    };
    let content_type = header_str(headers, h::CONTENT_TYPE).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingContentType,
            "Content-Type is required (application/x-protobuf or application/json)",
        )
    })?;
    let (bytes, logs) = if content_type.starts_with("application/x-protobuf") {
        let logs = LogGroup::validate(&raw)?;
        (raw, logs)
    } else if content_type.starts_with("application/json") {
        let group = LogGroup::from_json(&raw)?;
        let logs = group.logs.len();
        (group.encode_to_vec(), logs)
    } else {
        return Err(ApiError::new(
            ErrorCode::InvalidContentType,
            format!(
                "Content-Type {content_type:?} is not application/x-protobuf or application/json"
            ),
        ));
    };
    if logs > MAX_LOGS_PER_GROUP {
        return Err(ApiError::new(
            ErrorCode::PostBodyTooLarge,
            format!("{logs} logs in one LogGroup; the limit is {MAX_LOGS_PER_GROUP}"),
        ));
    }
    Ok((bytes, logs))
}

fn too_large(size: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PostBodyTooLarge,
        format!("raw body of {size} bytes exceeds the {MAX_RAW_BODY}-byte limit"),
    )
}

/// The logstore and shard a data-plane request names.
fn locate(
    st: &AppState,
    ctx: &Ctx,
    logstore: &str,
    shard: u32,
) -> Result<(Arc<Logstore>, Arc<Shard>), ApiError> {
    let ls = st.store.logstore(ctx.project()?, logstore)?;
    let shard = ls.shard(ShardId(shard))?;
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
pub async fn get_cursor(
    st: &AppState,
    ctx: &Ctx,
    logstore: &str,
    shard: u32,
) -> Result<Response, ApiError> {
    let (ls, shard) = locate(st, ctx, logstore, shard)?;
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
    Ok(Json(json!({"cursor": shard.cursor_of(seq).encode()})).into_response())
}

/// GetCursorTime: receive time of the group at `cursor` (the last group's, or now, at the end).
pub async fn get_cursor_time(
    st: &AppState,
    ctx: &Ctx,
    logstore: &str,
    shard: u32,
) -> Result<Response, ApiError> {
    let (ls, shard) = locate(st, ctx, logstore, shard)?;
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
    let time = time.map_or(ctx.now_secs(), i64::from);
    Ok(Json(json!({"cursor_time": time})).into_response())
}

/// PullLogs: groups `[cursor, min(cursor + count, end_cursor, end))`, compressed per
/// Accept-Encoding, with the headers every SDK requires (SLS-API.md §4.6).
pub async fn pull_logs(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    logstore: &str,
    shard: u32,
) -> Result<Response, ApiError> {
    let (ls, shard) = locate(st, ctx, logstore, shard)?;
    let cursor_text = ctx
        .param("cursor")
        .ok_or_else(|| ApiError::param("cursor is required"))?;
    let cursor = decode_cursor(cursor_text)?;
    let count = ctx.int_param("count", 1000, 1, 1000)? as usize;
    let end_param = ctx
        .param("end_cursor")
        .or_else(|| ctx.param("endCursor"))
        .filter(|c| !c.is_empty());
    let from = shard.seq_of(Cursor::from_value(cursor))?;
    if !st
        .faults
        .quotas()
        .admit(QuotaKind::Read, ls.id, shard.id, 0, ctx.now_nanos)
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
    st.faults.quotas().account_bytes(
        QuotaKind::Read,
        ls_id,
        shard.id,
        raw.len() as u64,
        ctx.now_nanos,
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqid_is_a_plain_decimal_u64() {
        assert_eq!(parse_seqid("0").unwrap(), 0);
        assert_eq!(parse_seqid("007").unwrap(), 7);
        assert_eq!(parse_seqid("18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "0x10",
            "1e3",
            "abc",
            "18446744073709551616",
        ] {
            let e = parse_seqid(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ParameterInvalid, "{bad:?}");
            assert!(e.message.contains("seqid"), "{bad:?}: {}", e.message);
        }
    }
}
