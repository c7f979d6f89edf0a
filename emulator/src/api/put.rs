//! PutLogs (PostLogStoreLogs): decompress, validate, store (SLS-API.md §4.7, §6).

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use sls_protocol::compression::{self, CompressType};
use sls_protocol::headers as h;
use sls_protocol::proto::{self, LogGroup};

use super::request::header_str;
use super::Call;
use crate::action::PutRoute;
use crate::error::{ApiError, ErrorCode};
use crate::faults::QuotaKind;
use crate::storage::SeqId;

/// Largest uncompressed PutLogs body (SLS-API.md §11).
pub const MAX_RAW_BODY: usize = 10 * 1024 * 1024;
/// Most logs in one LogGroup (the Python SDK's own ceiling).
pub const MAX_LOGS_PER_GROUP: usize = 512_000;

/// PutLogs: decompress, validate, route, append durably, answer 200 with an empty body.
///
/// With `seqid=` (only with a hash key, as the Java SDK sends it; see [`PutRoute`]) the write is stored only if
/// its sequence id is above the last one stored for the key ([`Store::append_once`]); a
/// LogGroup without logs stores and records nothing either way.
///
/// [`Store::append_once`]: crate::storage::Store::append_once
pub(super) async fn put_logs(
    c: &Call<'_>,
    logstore: &str,
    route: PutRoute,
) -> Result<Response, ApiError> {
    let (st, ctx, headers, body) = (c.st, c.ctx, c.headers, c.body);
    let ls = st.store.logstore(ctx.project()?, logstore)?;
    if header_str(headers, h::X_LOG_MODE).is_some_and(|m| m.eq_ignore_ascii_case("batch_group")) {
        return Err(ApiError::param(
            "x-log-mode: batch_group is not supported by sls-emu",
        ));
    }
    let (mut group, logs) = decode_log_group(headers, body)?;
    if logs == 0 {
        // Nothing to store; SLS clients (Go) skip such requests themselves.
        return Ok(StatusCode::OK.into_response());
    }
    let (shard, seq_id) = match route {
        PutRoute::LoadBalance => (ls.pick_shard()?, None),
        PutRoute::HashKey { key, seqid } => (
            ls.route(key)?,
            seqid.map(|seqid| SeqId {
                hash_key: key,
                seqid,
            }),
        ),
    };
    let quota = st.faults.quotas();
    if !quota.admit(
        QuotaKind::Write,
        ls.id,
        shard.id,
        group.len() as u64,
        ctx.now.nanos(),
    ) {
        return Err(ApiError::new(
            ErrorCode::ShardWriteQuotaExceed,
            format!("shard {} write quota exceeded", shard.id),
        ));
    }
    let now = u32::try_from(ctx.now.secs()).unwrap_or(u32::MAX);
    if ls.append_meta() {
        let ip = ctx.client.map(|a| a.ip().to_string()).unwrap_or_default();
        group.extend(proto::encode_log_group_tag(
            b"__receive_time__",
            now.to_string().as_bytes(),
        ));
        group.extend(proto::encode_log_group_tag(b"__client_ip__", ip.as_bytes()));
    }
    match seq_id {
        None => st.store.append(&ls, &shard, &group, now).await?,
        Some(id) => st.store.append_once(&ls, &shard, &group, now, id).await?,
    };
    Ok(StatusCode::OK.into_response())
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
