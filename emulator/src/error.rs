//! The SLS error model: every failure a client can see is an [`ApiError`] carrying one
//! [`ErrorCode`]. The whole code → (string, HTTP status) table lives here, in two exhaustive
//! matches, so changing it is deliberate (a unit test pins every row).
//!
//! Nothing HTTP-routing-specific goes here; conversions from lower layers do.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sls_protocol::body::ErrorBody;
use sls_protocol::{codes, ProtocolError};

use crate::storage::StorageError;

/// Every SLS `errorCode` the emulator emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 404: unknown project.
    ProjectNotExist,
    /// 404: unknown logstore.
    LogStoreNotExist,
    /// 404: unknown shard id.
    ShardNotExist,
    /// 400: a project with that name exists.
    ProjectAlreadyExist,
    /// 400: a logstore with that name exists in the project.
    LogStoreAlreadyExist,
    /// 400: a parameter (query, path, JSON field, name) is invalid.
    ParameterInvalid,
    /// 400: the body is not valid protobuf/JSON.
    PostBodyInvalid,
    /// 413: the (raw) body is larger than SLS accepts.
    PostBodyTooLarge,
    /// 400: the body does not decompress to `x-log-bodyrawsize` bytes.
    PostBodyUncompressError,
    /// 400: unknown `x-log-compresstype`.
    InvalidCompressType,
    /// 400: a compressed body without `x-log-bodyrawsize`.
    MissingBodyRawSize,
    /// 400: `x-log-bodyrawsize` is not a non-negative integer.
    InvalidBodyRawSize,
    /// 400: a body without `Content-Type`.
    MissingContentType,
    /// 400: a `Content-Type` the operation does not take.
    InvalidContentType,
    /// 400: the request's date is more than 15 minutes off.
    RequestTimeExpired,
    /// 400: `Date`/`x-log-date` missing (when signatures are verified).
    MissingDate,
    /// 400: `Date`/`x-log-date` cannot be parsed.
    InvalidDateFormat,
    /// 400: well-formed cursor outside the shard's data.
    InvalidCursor,
    /// 400: a PutLogs `route?key=&seqid=` whose sequence id is not above the last one stored
    /// for the hash key; nothing was stored. No public SLS source names this code (the SDKs
    /// only send `seqid`: aliyun/aliyun-log-java-sdk `Client.java`, `PutLogsRequest
    /// .setHashRouteKeySeqId`), so sls-emu chose it; clients must tell it from
    /// `ParameterInvalid` to count a replay as already written.
    InvalidSequenceId,
    /// 401: the signature does not match.
    SignatureNotMatch,
    /// 401: missing/malformed credentials or an unknown AccessKeyId.
    Unauthorized,
    /// 404: unknown consumer group.
    ConsumerGroupNotExist,
    /// 400: a consumer group of that name exists.
    ConsumerGroupAlreadyExist,
    /// 404: a non-forced checkpoint names a consumer that is not alive in the group.
    ConsumerNotExist,
    /// 400: a non-forced checkpoint for a shard the consumer does not hold.
    ConsumerNotMatch,
    /// 400: a heartbeat from an unknown (e.g. expired) consumer that claims shards.
    NotExistConsumerWithBody,
    /// 400: a checkpoint that is not a cursor (base64 of a decimal integer).
    InvalidShardCheckPoint,
    /// 400: a resource-count quota (consumer groups per logstore).
    ExceedQuota,
    /// 403: the shard's write quota is exceeded (hard quota mode).
    ShardWriteQuotaExceed,
    /// 403: the shard's read quota is exceeded (hard quota mode).
    ShardReadQuotaExceed,
    /// 400: CreateIndex on a logstore that has an index.
    IndexAlreadyExist,
    /// 400: an index configuration SLS does not accept.
    IndexInfoInvalid,
    /// 400: the logstore has no index (GetIndex, UpdateIndex, DeleteIndex, every query).
    IndexConfigNotExist,
    /// 500: a fault inside the emulator (storage error); details are logged, not sent.
    InternalServerError,
}

impl ErrorCode {
    /// The wire `errorCode` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ProjectNotExist => codes::ProjectNotExist,
            ErrorCode::LogStoreNotExist => codes::LogStoreNotExist,
            ErrorCode::ShardNotExist => codes::ShardNotExist,
            ErrorCode::ProjectAlreadyExist => codes::ProjectAlreadyExist,
            ErrorCode::LogStoreAlreadyExist => codes::LogStoreAlreadyExist,
            ErrorCode::ParameterInvalid => codes::ParameterInvalid,
            ErrorCode::PostBodyInvalid => codes::PostBodyInvalid,
            ErrorCode::PostBodyTooLarge => codes::PostBodyTooLarge,
            ErrorCode::PostBodyUncompressError => codes::PostBodyUncompressError,
            ErrorCode::InvalidCompressType => codes::InvalidCompressType,
            ErrorCode::MissingBodyRawSize => codes::MissingBodyRawSize,
            ErrorCode::InvalidBodyRawSize => codes::InvalidBodyRawSize,
            ErrorCode::MissingContentType => codes::MissingContentType,
            ErrorCode::InvalidContentType => codes::InvalidContentType,
            ErrorCode::RequestTimeExpired => codes::RequestTimeExpired,
            ErrorCode::MissingDate => codes::MissingDate,
            ErrorCode::InvalidDateFormat => codes::InvalidDateFormat,
            ErrorCode::InvalidCursor => codes::InvalidCursor,
            ErrorCode::InvalidSequenceId => codes::InvalidSequenceId,
            ErrorCode::SignatureNotMatch => codes::SignatureNotMatch,
            ErrorCode::Unauthorized => codes::Unauthorized,
            ErrorCode::ConsumerGroupNotExist => codes::ConsumerGroupNotExist,
            ErrorCode::ConsumerGroupAlreadyExist => codes::ConsumerGroupAlreadyExist,
            ErrorCode::ConsumerNotExist => codes::ConsumerNotExist,
            ErrorCode::ConsumerNotMatch => codes::ConsumerNotMatch,
            ErrorCode::NotExistConsumerWithBody => codes::NotExistConsumerWithBody,
            ErrorCode::InvalidShardCheckPoint => codes::InvalidShardCheckPoint,
            ErrorCode::ExceedQuota => codes::ExceedQuota,
            ErrorCode::ShardWriteQuotaExceed => codes::ShardWriteQuotaExceed,
            ErrorCode::ShardReadQuotaExceed => codes::ShardReadQuotaExceed,
            ErrorCode::IndexAlreadyExist => codes::IndexAlreadyExist,
            ErrorCode::IndexInfoInvalid => codes::IndexInfoInvalid,
            ErrorCode::IndexConfigNotExist => codes::IndexConfigNotExist,
            ErrorCode::InternalServerError => codes::InternalServerError,
        }
    }

    /// The HTTP status SLS answers with (SLS-API.md §10.2).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ProjectNotExist => StatusCode::NOT_FOUND,
            ErrorCode::LogStoreNotExist => StatusCode::NOT_FOUND,
            ErrorCode::ShardNotExist => StatusCode::NOT_FOUND,
            ErrorCode::ProjectAlreadyExist => StatusCode::BAD_REQUEST,
            ErrorCode::LogStoreAlreadyExist => StatusCode::BAD_REQUEST,
            ErrorCode::ParameterInvalid => StatusCode::BAD_REQUEST,
            ErrorCode::PostBodyInvalid => StatusCode::BAD_REQUEST,
            ErrorCode::PostBodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PostBodyUncompressError => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidCompressType => StatusCode::BAD_REQUEST,
            ErrorCode::MissingBodyRawSize => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBodyRawSize => StatusCode::BAD_REQUEST,
            ErrorCode::MissingContentType => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidContentType => StatusCode::BAD_REQUEST,
            ErrorCode::RequestTimeExpired => StatusCode::BAD_REQUEST,
            ErrorCode::MissingDate => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidDateFormat => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidCursor => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidSequenceId => StatusCode::BAD_REQUEST,
            ErrorCode::SignatureNotMatch => StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::ConsumerGroupNotExist => StatusCode::NOT_FOUND,
            ErrorCode::ConsumerGroupAlreadyExist => StatusCode::BAD_REQUEST,
            ErrorCode::ConsumerNotExist => StatusCode::NOT_FOUND,
            ErrorCode::ConsumerNotMatch => StatusCode::BAD_REQUEST,
            ErrorCode::NotExistConsumerWithBody => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidShardCheckPoint => StatusCode::BAD_REQUEST,
            ErrorCode::ExceedQuota => StatusCode::BAD_REQUEST,
            ErrorCode::ShardWriteQuotaExceed => StatusCode::FORBIDDEN,
            ErrorCode::ShardReadQuotaExceed => StatusCode::FORBIDDEN,
            ErrorCode::IndexAlreadyExist => StatusCode::BAD_REQUEST,
            ErrorCode::IndexInfoInvalid => StatusCode::BAD_REQUEST,
            ErrorCode::IndexConfigNotExist => StatusCode::BAD_REQUEST,
            ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An SLS error answer: code plus a human message (never empty: Node ignores errors whose
/// message is empty).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The SLS error code.
    pub code: ErrorCode,
    /// The `errorMessage` sent to the client.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 400 `ParameterInvalid`.
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ParameterInvalid, message)
    }

    /// 404 `ProjectNotExist` with SLS wording.
    pub fn project_not_exist(project: &str) -> Self {
        Self::new(
            ErrorCode::ProjectNotExist,
            format!("The Project does not exist : {project}"),
        )
    }

    /// 404 `LogStoreNotExist` with SLS wording.
    pub fn logstore_not_exist(logstore: &str) -> Self {
        Self::new(
            ErrorCode::LogStoreNotExist,
            format!("logstore {logstore} does not exist"),
        )
    }

    /// 404 `ShardNotExist`.
    pub fn shard_not_exist(shard: u32) -> Self {
        Self::new(
            ErrorCode::ShardNotExist,
            format!("shard {shard} does not exist"),
        )
    }

    /// 500 `InternalServerError`; `detail` is logged once here and never sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            ErrorCode::InternalServerError,
            "internal server error in sls-emu (see the emulator log)",
        )
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::ProjectNotExist(p) => ApiError::project_not_exist(&p),
            StorageError::LogStoreNotExist(l) => ApiError::logstore_not_exist(&l),
            StorageError::ShardNotExist(s) => ApiError::shard_not_exist(s.0),
            StorageError::ProjectAlreadyExist(p) => ApiError::new(
                ErrorCode::ProjectAlreadyExist,
                format!("Project {p} already exist"),
            ),
            StorageError::LogStoreAlreadyExist(l) => ApiError::new(
                ErrorCode::LogStoreAlreadyExist,
                format!("logstore {l} already exists"),
            ),
            StorageError::NoWritableShard(msg) => ApiError::param(msg),
            e @ StorageError::WriteQuotaExceeded(_) => {
                ApiError::new(ErrorCode::ShardWriteQuotaExceed, e.to_string())
            }
            StorageError::InvalidShardOperation(msg) => ApiError::param(msg),
            StorageError::IndexAlreadyExist(l) => ApiError::new(
                ErrorCode::IndexAlreadyExist,
                format!("logstore {l} already has an index"),
            ),
            StorageError::IndexConfigNotExist(_) => ApiError::new(
                ErrorCode::IndexConfigNotExist,
                "logstore without index config",
            ),
            StorageError::ConsumerGroupNotExist(g) => ApiError::new(
                ErrorCode::ConsumerGroupNotExist,
                format!("consumer group {g} does not exist"),
            ),
            StorageError::ConsumerGroupAlreadyExist(g) => ApiError::new(
                ErrorCode::ConsumerGroupAlreadyExist,
                format!("consumer group {g} already exists"),
            ),
            StorageError::TooManyConsumerGroups(n) => ApiError::new(
                ErrorCode::ExceedQuota,
                format!("a logstore can have at most {n} consumer groups"),
            ),
            StorageError::Heartbeat(e) => e.into(),
            StorageError::Checkpoint(e) => e.into(),
            StorageError::InvalidCursor(msg) => ApiError::new(ErrorCode::InvalidCursor, msg),
            e @ StorageError::SequenceIdNotAbove { .. } => ApiError::new(
                ErrorCode::InvalidSequenceId,
                format!("{e}; nothing was stored"),
            ),
            // Exhaustive on purpose: a new storage error must choose its SLS code here
            // rather than fall into a 500.
            e @ (StorageError::Sled(_)
            | StorageError::Commit(_)
            | StorageError::Io(_)
            | StorageError::Corrupt { .. }) => ApiError::internal(e),
        }
    }
}

impl From<crate::model::names::ValidationError> for ApiError {
    fn from(e: crate::model::names::ValidationError) -> Self {
        ApiError::param(e.0)
    }
}

impl From<crate::model::assignment::HeartbeatError> for ApiError {
    fn from(e: crate::model::assignment::HeartbeatError) -> Self {
        ApiError::new(ErrorCode::NotExistConsumerWithBody, e.to_string())
    }
}

impl From<crate::storage::CheckpointError> for ApiError {
    fn from(e: crate::storage::CheckpointError) -> Self {
        use crate::storage::CheckpointError as C;
        let code = match &e {
            C::ConsumerNotExist(_) => ErrorCode::ConsumerNotExist,
            C::ConsumerNotMatch { .. } => ErrorCode::ConsumerNotMatch,
            C::InvalidCheckpoint(_) => ErrorCode::InvalidShardCheckPoint,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        let code = match &e {
            ProtocolError::UnknownCompressType(_) => ErrorCode::InvalidCompressType,
            ProtocolError::Decompress(_) | ProtocolError::RawSizeMismatch { .. } => {
                ErrorCode::PostBodyUncompressError
            }
            ProtocolError::TooLarge { .. } => ErrorCode::PostBodyTooLarge,
            ProtocolError::Protobuf(_) | ProtocolError::Json(_) => ErrorCode::PostBodyInvalid,
            ProtocolError::InvalidCursor(_)
            | ProtocolError::InvalidHashKey(_)
            | ProtocolError::InvalidShardId(_) => ErrorCode::ParameterInvalid,
            ProtocolError::InvalidAuthorization(_) => ErrorCode::Unauthorized,
            ProtocolError::SignatureMismatch => ErrorCode::SignatureNotMatch,
            _ => return ApiError::internal(e),
        };
        ApiError::new(code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.code.status(), self.code.as_str(), &self.message)
    }
}

/// Marks an SLS error response with its `errorCode`, so the request log can report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorTag(pub(crate) Cow<'static, str>);

/// The one place SLS error answers are built: `status`, a JSON body
/// `{"errorCode", "errorMessage"}` with `Content-Type: application/json`, and an [`ErrorTag`].
/// Fault injection uses it directly for codes and statuses outside [`ErrorCode`].
pub(crate) fn error_response(
    status: StatusCode,
    code: impl Into<Cow<'static, str>>,
    message: &str,
) -> Response {
    let code = code.into();
    let body = ErrorBody {
        code: code.to_string(),
        message: message.to_string(),
    };
    let mut resp = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.extensions_mut().insert(ErrorTag(code));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_table_is_pinned() {
        use ErrorCode::*;
        let table = [
            (ProjectNotExist, "ProjectNotExist", 404),
            (LogStoreNotExist, "LogStoreNotExist", 404),
            (ShardNotExist, "ShardNotExist", 404),
            (ProjectAlreadyExist, "ProjectAlreadyExist", 400),
            (LogStoreAlreadyExist, "LogStoreAlreadyExist", 400),
            (ParameterInvalid, "ParameterInvalid", 400),
            (PostBodyInvalid, "PostBodyInvalid", 400),
            (PostBodyTooLarge, "PostBodyTooLarge", 413),
            (PostBodyUncompressError, "PostBodyUncompressError", 400),
            (InvalidCompressType, "InvalidCompressType", 400),
            (MissingBodyRawSize, "MissingBodyRawSize", 400),
            (InvalidBodyRawSize, "InvalidBodyRawSize", 400),
            (MissingContentType, "MissingContentType", 400),
            (InvalidContentType, "InvalidContentType", 400),
            (RequestTimeExpired, "RequestTimeExpired", 400),
            (MissingDate, "MissingDate", 400),
            (InvalidDateFormat, "InvalidDateFormat", 400),
            (InvalidCursor, "InvalidCursor", 400),
            (InvalidSequenceId, "InvalidSequenceId", 400),
            (SignatureNotMatch, "SignatureNotMatch", 401),
            (Unauthorized, "Unauthorized", 401),
            (ConsumerGroupNotExist, "ConsumerGroupNotExist", 404),
            (ConsumerGroupAlreadyExist, "ConsumerGroupAlreadyExist", 400),
            (ConsumerNotExist, "ConsumerNotExist", 404),
            (ConsumerNotMatch, "ConsumerNotMatch", 400),
            (NotExistConsumerWithBody, "NotExistConsumerWithBody", 400),
            (InvalidShardCheckPoint, "InvalidShardCheckPoint", 400),
            (ExceedQuota, "ExceedQuota", 400),
            (ShardWriteQuotaExceed, "ShardWriteQuotaExceed", 403),
            (ShardReadQuotaExceed, "ShardReadQuotaExceed", 403),
            (IndexAlreadyExist, "IndexAlreadyExist", 400),
            (IndexInfoInvalid, "IndexInfoInvalid", 400),
            (IndexConfigNotExist, "IndexConfigNotExist", 400),
            (InternalServerError, "InternalServerError", 500),
        ];
        for (code, s, status) in table {
            assert_eq!(code.as_str(), s);
            assert_eq!(code.status().as_u16(), status, "{s}");
        }
    }

    #[test]
    fn error_body_has_both_fields_and_json_type() {
        let resp = ApiError::param("bad").into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(
            resp.extensions().get::<ErrorTag>(),
            Some(&ErrorTag("ParameterInvalid".into()))
        );
    }

    #[tokio::test]
    async fn typed_and_free_form_errors_are_built_alike() {
        let typed = ApiError::new(ErrorCode::ShardWriteQuotaExceed, "slow down").into_response();
        let free = error_response(
            StatusCode::FORBIDDEN,
            "ShardWriteQuotaExceed".to_string(),
            "slow down",
        );
        assert_eq!(typed.status(), free.status());
        assert_eq!(typed.headers(), free.headers());
        assert_eq!(
            typed.extensions().get::<ErrorTag>(),
            free.extensions().get::<ErrorTag>()
        );
        let body = |r: Response| axum::body::to_bytes(r.into_body(), 1024);
        let (typed, free) = (body(typed).await.unwrap(), body(free).await.unwrap());
        assert_eq!(typed, free);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&typed).unwrap(),
            serde_json::json!({"errorCode": "ShardWriteQuotaExceed", "errorMessage": "slow down"})
        );
    }
}
