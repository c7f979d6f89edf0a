//! PutLogs (PostLogStoreLogs): decompress, validate, store (SLS-API.md §4.7, §6).

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use sls_protocol::compression::{self, CompressType};
use sls_protocol::headers as h;
use sls_protocol::proto::LogGroup;

use sls_protocol::types::{ShardId, UnixNanos};

use super::request::header_str;
use super::Call;
use crate::error::{ApiError, ErrorCode};
use crate::faults::{Faults, QuotaKind};
use crate::storage::{PutLogs, Route, WriteAdmission};

/// Largest uncompressed PutLogs body (SLS-API.md §11).
pub const MAX_RAW_BODY: usize = 10 * 1024 * 1024;
/// Most logs in one LogGroup (the Python SDK's own ceiling).
pub const MAX_LOGS_PER_GROUP: usize = 512_000;

/// PutLogs: decompress, validate, then [`Store::put_logs`] routes, appends durably and
/// re-routes when a split or merge wins the race; answers 200 with an empty body.
///
/// With `seqid=` (only with a hash key, as the Java SDK sends it; see [`Route`]) the write is
/// stored only if its sequence id is above the last one stored for the key; a LogGroup
/// without logs stores and records nothing either way.
///
/// [`Store::put_logs`]: crate::storage::Store::put_logs
pub(super) async fn put_logs(
    c: &Call<'_>,
    logstore: &str,
    route: Route,
) -> Result<Response, ApiError> {
    let (st, ctx, headers) = (c.st, c.ctx, c.headers);
    let project = ctx.project()?;
    // LogStoreNotExist comes before any body error.
    st.store.logstore(project, logstore)?;
    if header_str(headers, h::X_LOG_MODE).is_some_and(|m| m.eq_ignore_ascii_case("batch_group")) {
        return Err(ApiError::param(
            "x-log-mode: batch_group is not supported by sls-emu",
        ));
    }
    let (group, logs) = decode_log_group(headers, c.body)?;
    if logs == 0 {
        // Nothing to store; SLS clients (Go) skip such requests themselves.
        return Ok(StatusCode::OK.into_response());
    }
    st.store
        .put_logs(PutLogs {
            project,
            logstore,
            route,
            group,
            client_ip: ctx.client.map(|a| a.ip()),
            now: ctx.now,
            admit: &WriteQuota(&st.faults),
        })
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// The store's write-quota hook: the fault layer's per-shard quotas.
struct WriteQuota<'a>(&'a Faults);

impl WriteAdmission for WriteQuota<'_> {
    fn admit(&self, logstore_id: u64, shard: ShardId, bytes: u64, now: UnixNanos) -> bool {
        self.0
            .quotas()
            .admit(QuotaKind::Write, logstore_id, shard, bytes, now)
    }
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
