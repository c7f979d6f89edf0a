//! SLS `errorCode` strings, spelled once for the emulator's error table, the client's retry
//! rule and code checks, and the conformance suite. Codes stay strings on the wire (the
//! service sends codes nobody models), so these are `&str` constants, not an enum. Each
//! constant is named exactly as its code (`codes::ShardNotExist == "ShardNotExist"`), so a
//! reader never has to map one spelling to another.
#![allow(non_upper_case_globals)]

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $($(#[$doc])* pub const $name: &str = stringify!($name);)*
        /// Every code named here, for tests and tables.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

codes! {
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
    /// 400: the request's date is too far from the server's.
    RequestTimeExpired,
    /// 400: `Date`/`x-log-date` missing.
    MissingDate,
    /// 400: `Date`/`x-log-date` cannot be parsed.
    InvalidDateFormat,
    /// 400: a well-formed cursor outside the shard's data.
    InvalidCursor,
    /// 400: a PutLogs `seqid` not above the last one stored for its hash key (sls-emu's
    /// choice; no public SLS source names it).
    InvalidSequenceId,
    /// 401: the signature does not match.
    SignatureNotMatch,
    /// 401: missing/malformed credentials or an unknown AccessKeyId.
    Unauthorized,
    /// 404: unknown consumer group.
    ConsumerGroupNotExist,
    /// 400: a consumer group of that name exists.
    ConsumerGroupAlreadyExist,
    /// 404: a checkpoint names a consumer not alive in the group.
    ConsumerNotExist,
    /// 400: a checkpoint for a shard the consumer does not hold.
    ConsumerNotMatch,
    /// 400: a heartbeat from an unknown consumer that claims shards.
    NotExistConsumerWithBody,
    /// 400: a checkpoint that is not a cursor.
    InvalidShardCheckPoint,
    /// 400: a resource-count quota.
    ExceedQuota,
    /// 403: the shard's write quota is exceeded.
    ShardWriteQuotaExceed,
    /// 403: the shard's read quota is exceeded.
    ShardReadQuotaExceed,
    /// 400: CreateIndex on a logstore that has an index.
    IndexAlreadyExist,
    /// 400: an index configuration SLS does not accept.
    IndexInfoInvalid,
    /// 400: the logstore has no index (GetIndex, UpdateIndex, DeleteIndex, every query).
    IndexConfigNotExist,
    /// 403: the project's write quota is exceeded.
    WriteQuotaExceed,
    /// 403: the project's read quota is exceeded.
    ReadQuotaExceed,
    /// 500: the service failed internally.
    InternalServerError,
    /// 503: the service is busy.
    ServerBusy,
    /// 500: the service timed out.
    RequestTimeout,
}

/// Codes worth retrying whatever their status: the service is busy or throttling, or failed
/// internally.
const RETRYABLE: &[&str] = &[
    InternalServerError,
    ServerBusy,
    RequestTimeout,
    WriteQuotaExceed,
    ShardWriteQuotaExceed,
    ReadQuotaExceed,
    ShardReadQuotaExceed,
];

/// The retry rule of SLS clients: whether sending the same request again may succeed. Any
/// 5xx and the throttling codes, never other 4xx (their answer would not change). A retried
/// write may be stored twice when the first attempt was committed but its answer lost.
pub fn is_retryable(status: u16, code: &str) -> bool {
    status >= 500 || RETRYABLE.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_their_names() {
        assert_eq!(ShardWriteQuotaExceed, "ShardWriteQuotaExceed");
        assert_eq!(ALL.len(), 38);
        let mut unique = ALL.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL.len());
    }

    #[test]
    fn retry_rule() {
        assert!(is_retryable(500, InternalServerError));
        assert!(is_retryable(502, "Whatever"));
        assert!(is_retryable(503, ServerBusy));
        assert!(is_retryable(403, ShardWriteQuotaExceed));
        assert!(is_retryable(403, WriteQuotaExceed));
        assert!(!is_retryable(404, ProjectNotExist));
        assert!(!is_retryable(401, SignatureNotMatch));
        assert!(!is_retryable(400, PostBodyInvalid));
    }
}
