//! The one error type of this crate.
//!
//! Every variant describes a problem with wire data (or a signature) and carries enough text for an SLS
//! error message. Mapping to SLS error codes and HTTP statuses is the emulator's job (its `error.rs`), not
//! this crate's.

/// Everything that can go wrong while decoding, checking or producing SLS wire data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `x-log-compresstype` is not `lz4`, `zstd`, `deflate` or empty (SLS: `InvalidCompressType`).
    #[error("unsupported compress type: {0:?}")]
    UnknownCompressType(String),
    /// The compressed data is corrupt or truncated; the message says why (SLS: `PostBodyUncompressError`).
    #[error("decompression failed: {0}")]
    Decompress(String),
    /// The data decompressed to a length other than `x-log-bodyrawsize` (SLS: `PostBodyUncompressError`).
    ///
    /// When the data was larger than expected, decompression stops early and `actual` is only a lower
    /// bound (at least `expected + 1`).
    #[error("decompressed size {actual} does not match x-log-bodyrawsize {expected}")]
    RawSizeMismatch {
        /// The size announced by the sender.
        expected: usize,
        /// The size actually produced (a lower bound when larger than `expected`).
        actual: usize,
    },
    /// A size exceeds a limit set by the caller (SLS: `PostBodyTooLarge`).
    #[error("size {actual} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The caller's limit.
        limit: usize,
        /// The size that was asked for.
        actual: usize,
    },
    /// The protobuf body does not parse, or a required field (`Log.Time`) is missing (SLS: `PostBodyInvalid`).
    #[error("invalid protobuf: {0}")]
    Protobuf(String),
    /// The JSON PutLogs body is invalid (SLS: `PostBodyInvalid`).
    #[error("invalid JSON log group: {0}")]
    Json(String),
    /// A cursor is not base64 of an ASCII decimal `i64` (SLS: `ParameterInvalid`).
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A shard id is not a non-negative decimal `u32` (SLS: `ParameterInvalid`).
    #[error("invalid shard id {0:?}: a non-negative decimal integer is expected")]
    InvalidShardId(String),
    /// A shard hash key is not 1 to 32 hex digits (SLS: `ParameterInvalid`).
    #[error("invalid hash key: {0}")]
    InvalidHashKey(String),
    /// The `Authorization` header (or a header the signature depends on) is malformed (SLS: `Unauthorized`).
    #[error("invalid authorization: {0}")]
    InvalidAuthorization(String),
    /// The recomputed signature differs from the one sent (SLS: `SignatureNotMatch`).
    #[error("signature does not match")]
    SignatureMismatch,
    /// Compression failed with an I/O error (an internal error: it never depends on the input data).
    #[error("compression failed: {0}")]
    Compress(String),
}
