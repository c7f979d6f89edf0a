//! Wire format of Alibaba Cloud Simple Log Service (SLS / LogHub), shared by the emulator and the client.
//!
//! This crate knows bytes and strings only: no HTTP framework, no storage, no clock, no configuration.
//! References are `shared/protocol/SLS-API.md` (the section numbers below point into it) and
//! `shared/clients/REPORT.md` (what the official clients really send).
//!
//! | module | job |
//! |---|---|
//! | [`proto`] | protobuf messages (`LogGroup`, `Log`, …, §5), fast `LogGroup` validation, JSON PutLogs bodies (§4.7.3), raw `LogGroupList` assembly |
//! | [`body`] | JSON bodies of the API (error body, shards, cursors, consumer groups, checkpoints) |
//! | [`codes`] | SLS `errorCode` constants and the clients' retry rule |
//! | [`compression`] | `x-log-compresstype` / `Accept-Encoding` handling; lz4 raw block, zstd, zlib-wrapped deflate (§6), bomb-safe decompression |
//! | [`signature`] | V1 (`LOG ak:sig`, HMAC-SHA1) and V4 (`SLS4-HMAC-SHA256`) signatures, for both verifying and signing (§3) |
//! | [`signer`] | the one request signer ([`signer::Signer`], [`signer::SignVersion`]) with hooks for deliberately wrong requests |
//! | [`cursor`] | cursors: base64 of a decimal `i64` (§7) |
//! | [`hash`] | 128-bit shard hash keys (§8) |
//! | [`headers`] | header names and constant values (§2.4, §2.5) |
//! | [`types`] | typed wire values: [`types::ShardId`], [`types::Cursor`], [`types::UnixNanos`] |
//! | `error` | [`ProtocolError`], the only error type |
//!
//! # Example: checking a PutLogs request, then answering a PullLogs
//!
//! ```
//! use sls_protocol::compression::{compress, decompress, CompressType};
//! use sls_protocol::proto::{encode_log_group_tag, log_group_list_from_raw, LogGroup};
//! use sls_protocol::signature::{content_md5_hex, v1_authorization, verify, Authorization, SignRequest};
//! use sls_protocol::{cursor, headers};
//!
//! # fn main() -> Result<(), sls_protocol::ProtocolError> {
//! // What a client sends (here built with the client-side helpers).
//! let group = LogGroup::from_json(br#"{"__logs__":[{"__time__":1700000000,"msg":"hello"}]}"#)?;
//! let raw = prost::Message::encode_to_vec(&group);
//! let body = compress(CompressType::Lz4, &raw)?;
//! let request_headers = vec![
//!     (headers::CONTENT_MD5.to_owned(), content_md5_hex(&body)),
//!     (headers::CONTENT_TYPE.to_owned(), headers::CONTENT_TYPE_PROTOBUF.to_owned()),
//!     (headers::DATE.to_owned(), "Mon, 09 Sep 2024 06:00:00 GMT".to_owned()),
//!     (headers::X_LOG_APIVERSION.to_owned(), headers::API_VERSION.to_owned()),
//!     (headers::X_LOG_BODYRAWSIZE.to_owned(), raw.len().to_string()),
//!     (headers::X_LOG_COMPRESSTYPE.to_owned(), "lz4".to_owned()),
//!     (headers::X_LOG_SIGNATUREMETHOD.to_owned(), headers::SIGNATURE_METHOD_HMAC_SHA1.to_owned()),
//! ];
//! let req = SignRequest {
//!     method: "POST",
//!     path: "/logstores/app-log/shards/lb",
//!     query: &[],
//!     headers: &request_headers,
//! };
//! let authorization = v1_authorization("my-ak", "my-secret", &req);
//!
//! // Server side: check the signature, decompress with a bounded size, validate.
//! let auth = Authorization::parse(&authorization)?;
//! assert_eq!(auth.access_key_id(), "my-ak");
//! verify(&auth, "my-secret", &req)?;
//! let kind = CompressType::from_header(req.header(headers::X_LOG_COMPRESSTYPE))?;
//! let raw_size: usize = req.header(headers::X_LOG_BODYRAWSIZE).unwrap_or("0").parse().unwrap_or(0);
//! let mut stored = decompress(kind, &body, raw_size)?;
//! assert_eq!(LogGroup::validate(&stored)?, 1);
//! stored.extend(encode_log_group_tag(b"__receive_time__", b"1700000001"));
//!
//! // PullLogs: the stored bytes go out as a LogGroupList, compressed as the client accepts.
//! let list = log_group_list_from_raw([stored.as_slice()]);
//! let encoding = CompressType::from_accept_encoding(Some("lz4"));
//! let response = compress(encoding, &list)?;
//! assert_eq!(decompress(encoding, &response, list.len())?, list);
//! let next = cursor::encode_cursor(1_700_000_000_000_000_001);
//! assert_eq!(cursor::decode_cursor(&next)?, 1_700_000_000_000_000_001);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod body;
pub mod codes;
pub mod compression;
pub mod cursor;
mod error;
pub mod hash;
pub mod headers;
pub mod proto;
pub mod signature;
pub mod signer;
pub mod types;

pub use error::ProtocolError;

/// Compiles and runs the code blocks of README.md as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
