//! Names (all lower case) and fixed values of the HTTP headers SLS uses (SLS-API.md §2.4, §2.5).
//!
//! Only constants live here; parsing a header's value belongs to the module that understands it
//! (compression, signature, cursor).

/// Response header: request id (24 upper-case hex characters); sent on every response.
pub const X_LOG_REQUESTID: &str = "x-log-requestid";
/// Request header: API version, always [`API_VERSION`].
pub const X_LOG_APIVERSION: &str = "x-log-apiversion";
/// Request and response header: uncompressed body size in bytes.
pub const X_LOG_BODYRAWSIZE: &str = "x-log-bodyrawsize";
/// Request and response header: `lz4`, `zstd` or `deflate`; absent for raw bodies.
pub const X_LOG_COMPRESSTYPE: &str = "x-log-compresstype";
/// Request header: `hmac-sha1` for V1 signatures.
pub const X_LOG_SIGNATUREMETHOD: &str = "x-log-signaturemethod";
/// Request header: V4 date-time `yyyyMMddTHHmmssZ` (Python V1 also sends it, unsigned, as an RFC 1123 date).
pub const X_LOG_DATE: &str = "x-log-date";
/// Request header: hex SHA-256 of the wire body (V4).
pub const X_LOG_CONTENT_SHA256: &str = "x-log-content-sha256";
/// Request header: STS security token (signed in V1 and V4).
pub const X_ACS_SECURITY_TOKEN: &str = "x-acs-security-token";
/// Response header (PullLogs): next cursor, base64.
pub const X_LOG_CURSOR: &str = "x-log-cursor";
/// Response header (PullLogs): number of LogGroups in the body.
pub const X_LOG_COUNT: &str = "x-log-count";
/// Response header (PullLogs): decimal (not base64) cursor of the last returned LogGroup.
pub const X_LOG_READ_LAST_CURSOR: &str = "x-log-read-last-cursor";
/// Response header (PullLogs): `1` when the next cursor is the end of the shard, else `0`.
pub const X_LOG_END_OF_CURSOR: &str = "x-log-end-of-cursor";
/// Response header (PullLogs): receive time (seconds) of the last returned LogGroup.
pub const X_LOG_CURSOR_TIME: &str = "x-log-cursor-time";
/// Request header: `batch_group` for Java's batchPutLogs.
pub const X_LOG_MODE: &str = "x-log-mode";
/// Request header from old docs only (the hash key is normally the `key` query parameter).
pub const X_LOG_HASHKEY: &str = "x-log-hashkey";
/// Request header: upper-case hex MD5 of the wire body (V1).
pub const CONTENT_MD5: &str = "content-md5";
/// Request header: `LOG ak:sig` or `SLS4-HMAC-SHA256 Credential=…,Signature=…`.
pub const AUTHORIZATION: &str = "authorization";
/// Request header: RFC 1123 date (V1).
pub const DATE: &str = "date";
/// Request and response header: body media type.
pub const CONTENT_TYPE: &str = "content-type";
/// Request header: `{project}.{endpoint}[:port]`.
pub const HOST: &str = "host";
/// Request header (PullLogs, GetLogsV2): wanted response compression.
pub const ACCEPT_ENCODING: &str = "accept-encoding";

/// Prefix of the SLS-specific headers that V1 and V4 sign.
pub const X_LOG_PREFIX: &str = "x-log-";
/// Prefix of the Alibaba Cloud headers that V1 and V4 sign.
pub const X_ACS_PREFIX: &str = "x-acs-";
/// Prefix of user metadata headers (excluded from V4 signatures; see `signature::verify` for V1).
pub const X_LOG_META_PREFIX: &str = "x-log-meta-";

/// The only API version any client sends (`x-log-apiversion`).
pub const API_VERSION: &str = "0.6.0";
/// `x-log-signaturemethod` value of V1 signatures.
pub const SIGNATURE_METHOD_HMAC_SHA1: &str = "hmac-sha1";
/// Content type of protobuf bodies (PutLogs, PullLogs).
pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";
/// Content type of JSON bodies (requests, results and errors).
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// Hex SHA-256 of the empty string: `x-log-content-sha256` of a request without a body.
pub const EMPTY_SHA256_HEX: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn empty_sha256_constant_is_the_hash_of_nothing() {
        assert_eq!(EMPTY_SHA256_HEX, hex::encode(Sha256::digest(b"")));
    }

    #[test]
    fn header_names_are_lower_case() {
        for name in [
            X_LOG_REQUESTID,
            X_LOG_APIVERSION,
            X_LOG_BODYRAWSIZE,
            X_LOG_COMPRESSTYPE,
            X_LOG_SIGNATUREMETHOD,
            X_LOG_DATE,
            X_LOG_CONTENT_SHA256,
            X_ACS_SECURITY_TOKEN,
            X_LOG_CURSOR,
            X_LOG_COUNT,
            X_LOG_READ_LAST_CURSOR,
            X_LOG_END_OF_CURSOR,
            X_LOG_CURSOR_TIME,
            X_LOG_MODE,
            X_LOG_HASHKEY,
            CONTENT_MD5,
            AUTHORIZATION,
            DATE,
            CONTENT_TYPE,
            HOST,
            ACCEPT_ENCODING,
        ] {
            assert_eq!(name, name.to_ascii_lowercase());
        }
    }
}
