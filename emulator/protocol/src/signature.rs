//! Request signatures (SLS-API.md §3): V1 (`LOG ak:sig`, HMAC-SHA1) and V4 (`SLS4-HMAC-SHA256`).
//!
//! The same canonical forms serve the server ([`verify`]) and clients ([`v1_authorization`],
//! [`v4_authorization`]). A [`SignRequest`] is a borrowed view of what a signature covers; building it from
//! an HTTP request (raw path, decoded query, headers as received), looking up secrets and checking clock
//! skew are the caller's job.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::headers;
use crate::ProtocolError;

/// Everything a signature covers, as received or as about to be sent.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// HTTP method, e.g. `GET` (used as given).
    pub method: &'a str,
    /// Raw path without query string, e.g. `/logstores/app-log/shards/lb`.
    pub path: &'a str,
    /// Decoded query parameters in any order; duplicates possible (see [`decode_query`]).
    pub query: &'a [(String, String)],
    /// All headers; names in any case.
    pub headers: &'a [(String, String)],
}

impl SignRequest<'_> {
    /// First value of the header `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// `LOG {access_key_id}:{signature}`.
    V1 {
        /// AccessKeyId.
        access_key_id: String,
        /// Base64 HMAC-SHA1.
        signature: String,
    },
    /// `SLS4-HMAC-SHA256 Credential={access_key_id}/{date}/{region}/sls/aliyun_v4_request,Signature={hex}`.
    V4 {
        /// AccessKeyId.
        access_key_id: String,
        /// Scope date, `yyyymmdd`.
        date: String,
        /// Scope region, e.g. `cn-hangzhou`.
        region: String,
        /// Hex HMAC-SHA256.
        signature: String,
    },
}

/// Scheme word of V1 authorization headers.
const V1_SCHEME: &str = "LOG";
/// Scheme word (and string-to-sign algorithm line) of V4.
const V4_SCHEME: &str = "SLS4-HMAC-SHA256";
/// Service part of the V4 scope.
const V4_SERVICE: &str = "sls";
/// Terminator of the V4 scope.
const V4_TERMINATOR: &str = "aliyun_v4_request";
/// Prefix of the V4 key derivation.
const V4_KEY_PREFIX: &str = "aliyun_v4";

impl Authorization {
    /// Parses `LOG ak:sig` or
    /// `SLS4-HMAC-SHA256 Credential=ak/yyyymmdd/region/sls/aliyun_v4_request,Signature=hex`.
    ///
    /// The scheme word is matched case-insensitively; V4 parts may be separated by `,` with optional
    /// spaces, in any order, and a `SignedHeaders=` part is accepted and ignored.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidAuthorization`] with a message naming the problem.
    pub fn parse(header: &str) -> Result<Self, ProtocolError> {
        let invalid = |why: &str| ProtocolError::InvalidAuthorization(why.to_owned());
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').ok_or_else(|| {
            invalid("expected \"LOG ak:signature\" or \"SLS4-HMAC-SHA256 Credential=…\"")
        })?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case(V1_SCHEME) {
            let (access_key_id, signature) = rest
                .split_once(':')
                .ok_or_else(|| invalid("V1 authorization must be \"LOG ak:signature\""))?;
            if access_key_id.is_empty() || signature.is_empty() {
                return Err(invalid(
                    "V1 authorization has an empty access key id or signature",
                ));
            }
            Ok(Self::V1 {
                access_key_id: access_key_id.to_owned(),
                signature: signature.to_owned(),
            })
        } else if scheme.eq_ignore_ascii_case(V4_SCHEME) {
            Self::parse_v4(rest)
        } else {
            Err(ProtocolError::InvalidAuthorization(format!(
                "unknown authorization scheme {scheme:?}"
            )))
        }
    }

    /// Parses the part of a V4 header after the scheme word.
    fn parse_v4(parts: &str) -> Result<Self, ProtocolError> {
        let invalid = |why: String| ProtocolError::InvalidAuthorization(why);
        let mut credential = None;
        let mut signature = None;
        for part in parts.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| invalid(format!("V4 authorization part {part:?} has no '='")))?;
            match name.trim() {
                "Credential" => credential = Some(value.trim()),
                "Signature" => signature = Some(value.trim()),
                "SignedHeaders" => {}
                other => return Err(invalid(format!("unknown V4 authorization part {other:?}"))),
            }
        }
        let credential =
            credential.ok_or_else(|| invalid("V4 authorization has no Credential=".to_owned()))?;
        let signature =
            signature.ok_or_else(|| invalid("V4 authorization has no Signature=".to_owned()))?;
        if signature.is_empty() || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("V4 signature must be hex".to_owned()));
        }
        // ak/date/region/sls/aliyun_v4_request; split from the right so only the key id is free-form.
        let mut fields = credential.rsplitn(5, '/');
        let (Some(terminator), Some(service), Some(region), Some(date), Some(access_key_id)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(invalid(format!(
                "V4 credential {credential:?} is not ak/yyyymmdd/region/sls/aliyun_v4_request"
            )));
        };
        if terminator != V4_TERMINATOR || service != V4_SERVICE {
            return Err(invalid(format!(
                "V4 credential scope must end with /{V4_SERVICE}/{V4_TERMINATOR}, got {credential:?}"
            )));
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "V4 credential date {date:?} is not yyyymmdd"
            )));
        }
        if access_key_id.is_empty() || region.is_empty() {
            return Err(invalid(
                "V4 credential has an empty access key id or region".to_owned(),
            ));
        }
        Ok(Self::V4 {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            signature: signature.to_owned(),
        })
    }

    /// The AccessKeyId, to look up the secret.
    pub fn access_key_id(&self) -> &str {
        match self {
            Self::V1 { access_key_id, .. } | Self::V4 { access_key_id, .. } => access_key_id,
        }
    }
}

/// Upper-case hex MD5 of `body`: the `Content-MD5` header of V1 requests (MD5 of the bytes on the wire).
pub fn content_md5_hex(body: &[u8]) -> String {
    hex::encode_upper(Md5::digest(body))
}

/// Lower-case hex SHA-256 of `body`: the `x-log-content-sha256` header of V4 requests.
pub fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Decodes a raw query string (without `?`) into key/value pairs, in order: `+` becomes a space, `%XX`
/// is decoded, empty values stay empty (`a=&b` gives `("a", "")`, `("b", "")`), empty segments (a bare
/// trailing `?`) are dropped. Invalid UTF-8 is replaced by U+FFFD.
pub fn decode_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// V1 string to sign (§3.1):
/// `METHOD\nContent-MD5\nContent-Type\nDate\n` + `name:value\n` for every `x-log-*`/`x-acs-*` header
/// (lower-cased names, sorted, values trimmed, **excluding `x-log-date`**) + path + (`?` + `key=value`
/// pairs sorted by key and joined by `&`, when there is a query). Missing headers count as empty.
pub fn v1_string_to_sign(req: &SignRequest) -> String {
    v1_string_to_sign_with(req, false)
}

/// [`v1_string_to_sign`], optionally leaving out `x-log-meta-*` headers (as the Python SDK does).
fn v1_string_to_sign_with(req: &SignRequest, exclude_meta: bool) -> String {
    let mut out = String::with_capacity(256);
    for part in [
        req.method,
        req.header(headers::CONTENT_MD5).unwrap_or_default(),
        req.header(headers::CONTENT_TYPE).unwrap_or_default(),
        req.header(headers::DATE).unwrap_or_default(),
    ] {
        out.push_str(part);
        out.push('\n');
    }
    let mut signed: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .filter(|(name, _)| {
            (name.starts_with(headers::X_LOG_PREFIX) || name.starts_with(headers::X_ACS_PREFIX))
                && name != headers::X_LOG_DATE
                && !(exclude_meta && name.starts_with(headers::X_LOG_META_PREFIX))
        })
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in signed {
        out.push_str(&name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push_str(req.path);
    if !req.query.is_empty() {
        let mut query: Vec<&(String, String)> = req.query.iter().collect();
        query.sort_by(|a, b| a.0.cmp(&b.0));
        out.push('?');
        for (index, (key, value)) in query.into_iter().enumerate() {
            if index > 0 {
                out.push('&');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// V1 signature: base64(HMAC-SHA1(secret, [`v1_string_to_sign`])).
pub fn v1_signature(secret: &str, req: &SignRequest) -> String {
    hmac_sha1_base64(secret, &v1_string_to_sign(req))
}

/// base64(HMAC-SHA1(key, message)).
fn hmac_sha1_base64(key: &str, message: &str) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// HMAC-SHA256(key, message).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Characters V4 keeps unencoded: RFC 3986 unreserved (`A-Z a-z 0-9 - _ . ~`).
const V4_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// RFC 3986 percent-encoding used by V4 query values: UTF-8 bytes, unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) kept, everything else `%XX` in upper-case hex (space is `%20`).
pub fn v4_percent_encode(s: &str) -> String {
    utf8_percent_encode(s, V4_ENCODE_SET).to_string()
}

/// Is this (lower-case) header name signed by V4?
fn v4_signs(name: &str) -> bool {
    name == headers::HOST
        || name == headers::CONTENT_TYPE
        || name.starts_with(headers::X_ACS_PREFIX)
        || (name.starts_with(headers::X_LOG_PREFIX)
            && !name.starts_with(headers::X_LOG_META_PREFIX))
}

/// V4 canonical request (§3.3 step 5):
/// `METHOD\nPATH\nCANONICAL_QUERY\nCANONICAL_HEADERS\nSIGNED_HEADERS\nPAYLOAD_HASH`.
///
/// The query is sorted by key and rendered `key=percent(value)` or just `key` for an empty value (keys are
/// not encoded). Signed headers are `host`, `content-type` and every `x-log-*` (except `x-log-meta-*`) and
/// `x-acs-*` header, lower-cased, sorted, values trimmed. The payload hash is the `x-log-content-sha256`
/// header if present, else [`headers::EMPTY_SHA256_HEX`]. A request being signed must therefore already
/// carry its `x-log-date` and `x-log-content-sha256` headers.
pub fn v4_canonical_request(req: &SignRequest) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(req.path);
    out.push('\n');

    let mut query: Vec<&(String, String)> = req.query.iter().collect();
    query.sort_by(|a, b| a.0.cmp(&b.0));
    for (index, (key, value)) in query.into_iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(key);
        if !value.is_empty() {
            out.push('=');
            out.push_str(&v4_percent_encode(value));
        }
    }
    out.push('\n');

    let mut signed: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .filter(|(name, _)| v4_signs(name))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    for (index, (name, _)) in signed.iter().enumerate() {
        if index > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(
        req.header(headers::X_LOG_CONTENT_SHA256)
            .map(str::trim)
            .unwrap_or(headers::EMPTY_SHA256_HEX),
    );
    out
}

/// V4 string to sign (§3.3 step 7).
fn v4_string_to_sign(region: &str, date_time: &str, req: &SignRequest) -> String {
    format!(
        "{V4_SCHEME}\n{date_time}\n{}\n{}",
        v4_scope(date_of(date_time), region),
        sha256_hex(v4_canonical_request(req).as_bytes())
    )
}

/// `yyyymmdd/region/sls/aliyun_v4_request`.
fn v4_scope(date: &str, region: &str) -> String {
    format!("{date}/{region}/{V4_SERVICE}/{V4_TERMINATOR}")
}

/// The `yyyymmdd` part of a `yyyyMMddTHHmmssZ` date-time (the whole string if it is shorter).
fn date_of(date_time: &str) -> &str {
    date_time.get(..8).unwrap_or(date_time)
}

/// V4 signing key (§3.3 step 8).
fn v4_signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    let k_date = hmac_sha256(
        format!("{V4_KEY_PREFIX}{secret}").as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, V4_SERVICE.as_bytes());
    hmac_sha256(&k_service, V4_TERMINATOR.as_bytes())
}

/// V4 signature (lower-case hex); `date_time` is `yyyyMMddTHHmmssZ` (the `x-log-date` value), `region`
/// e.g. `cn-hangzhou`. See [`v4_canonical_request`] for what `req` must contain.
pub fn v4_signature(secret: &str, region: &str, date_time: &str, req: &SignRequest) -> String {
    let key = v4_signing_key(secret, date_of(date_time), region);
    hex::encode(hmac_sha256(
        &key,
        v4_string_to_sign(region, date_time, req).as_bytes(),
    ))
}

/// Checks a request's signature against `secret` (server side), in constant time.
///
/// * V1: recomputes [`v1_signature`]; if that fails, retries once with `x-log-meta-*` headers left out
///   (the Python SDK does not sign them, Go and Java do).
/// * V4: uses the `x-log-date` header as date-time, which must start with the credential's date, and
///   the credential's region.
///
/// Clock skew is not checked here.
///
/// # Errors
/// * [`ProtocolError::InvalidAuthorization`] for V4 without `x-log-date` or with a date that differs from
///   the credential's;
/// * [`ProtocolError::SignatureMismatch`] when the signature does not match.
pub fn verify(auth: &Authorization, secret: &str, req: &SignRequest) -> Result<(), ProtocolError> {
    let matches = match auth {
        Authorization::V1 { signature, .. } => {
            constant_time_eq(&v1_signature(secret, req), signature)
                || (has_meta_headers(req)
                    && constant_time_eq(
                        &hmac_sha1_base64(secret, &v1_string_to_sign_with(req, true)),
                        signature,
                    ))
        }
        Authorization::V4 {
            date,
            region,
            signature,
            ..
        } => {
            let date_time = req
                .header(headers::X_LOG_DATE)
                .map(str::trim)
                .ok_or_else(|| {
                    ProtocolError::InvalidAuthorization("V4 request without x-log-date".to_owned())
                })?;
            if date_time.get(..8) != Some(date.as_str()) {
                return Err(ProtocolError::InvalidAuthorization(format!(
                    "x-log-date {date_time:?} does not match the credential date {date:?}"
                )));
            }
            let expected = v4_signature(secret, region, date_time, req);
            constant_time_eq(&expected, &signature.to_ascii_lowercase())
        }
    };
    if matches {
        Ok(())
    } else {
        Err(ProtocolError::SignatureMismatch)
    }
}

/// Does the request carry any `x-log-meta-*` header?
fn has_meta_headers(req: &SignRequest) -> bool {
    req.headers.iter().any(|(name, _)| {
        name.get(..headers::X_LOG_META_PREFIX.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(headers::X_LOG_META_PREFIX))
    })
}

/// Constant-time string comparison (the length is not secret).
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Client side: the V1 `Authorization` value, `LOG {access_key_id}:{signature}`.
pub fn v1_authorization(access_key_id: &str, secret: &str, req: &SignRequest) -> String {
    format!("{V1_SCHEME} {access_key_id}:{}", v1_signature(secret, req))
}

/// Client side: the V4 `Authorization` value,
/// `SLS4-HMAC-SHA256 Credential={ak}/{date}/{region}/sls/aliyun_v4_request,Signature={hex}`.
/// `req` must already carry `x-log-date: {date_time}` and `x-log-content-sha256`.
pub fn v4_authorization(
    access_key_id: &str,
    secret: &str,
    region: &str,
    date_time: &str,
    req: &SignRequest,
) -> String {
    format!(
        "{V4_SCHEME} Credential={access_key_id}/{},Signature={}",
        v4_scope(date_of(date_time), region),
        v4_signature(secret, region, date_time, req)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // ---- V1 vectors (SLS-API.md §3.2) ----

    #[test]
    fn v1_go_sdk_vector() {
        let headers = owned(&[
            ("Date", "Mon, 3 Jan 2010 08:33:47 GMT"),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "GET",
            path: "/logstores",
            query: &[],
            headers: &headers,
        };
        assert_eq!(
            v1_signature("mockAccessKeySecret", &req),
            "Rwm6cTKzoti4HWoe+GKcb6Kv07E="
        );
    }

    const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";
    const RUST_BODY: &str = "\n            {\"key\": \"value\"}\n        ";

    fn rust_case_headers(with_token: bool) -> Vec<(String, String)> {
        let mut headers = owned(&[
            ("Content-MD5", &content_md5_hex(RUST_BODY.as_bytes())),
            ("Content-Type", "application/json"),
            ("Date", EPOCH),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        if with_token {
            headers.push(("x-acs-security-token".into(), "test-security-token".into()));
        }
        headers
    }

    #[test]
    fn v1_rust_sdk_vectors() {
        let headers = owned(&[
            ("Date", EPOCH),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
        };
        assert_eq!(v1_signature("", &req), "SApFTtfTFKHmzdEdaMe5TjNn+RQ=");

        assert_eq!(
            content_md5_hex(RUST_BODY.as_bytes()),
            "CE688F8D1AC3ED309BA9BE0A5ABAFCE5"
        );
        let query = owned(&[("type", "log"), ("offset", "0"), ("line", "100")]);
        let headers = rust_case_headers(false);
        let req = SignRequest {
            method: "POST",
            path: "/logstores/test-logstore",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v1_signature("test-access-key", &req),
            "4pL2xZJERC3tPKtRiHh9+nMG3tI="
        );

        let headers = rust_case_headers(true);
        let req = SignRequest {
            headers: &headers,
            ..req
        };
        assert_eq!(
            v1_signature("test-access-key", &req),
            "ZQt+0wIvpd+O9yIJKeKxZTJ2hv0="
        );
    }

    const TV_DATE: &str = "Mon, 09 Sep 2024 06:00:00 GMT";
    const TV_AK: &str = "testAccessKeyId";
    const TV_SECRET: &str = "testAccessKeySecret";

    #[test]
    fn v1_worked_example_a_get_cursor() {
        let query = owned(&[("type", "cursor"), ("from", "begin")]);
        let headers = owned(&[
            ("Date", TV_DATE),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "GET",
            path: "/logstores/app-log/shards/0",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v1_string_to_sign(&req),
            "GET\n\n\nMon, 09 Sep 2024 06:00:00 GMT\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:0\n\
             x-log-signaturemethod:hmac-sha1\n/logstores/app-log/shards/0?from=begin&type=cursor"
        );
        assert_eq!(
            v1_authorization(TV_AK, TV_SECRET, &req),
            "LOG testAccessKeyId:pVG1LSl2qDegNgWtSx3A5LLE5NM="
        );
    }

    #[test]
    fn v1_worked_example_b_heartbeat_with_sts_token() {
        let body = b"[0,1]";
        assert_eq!(content_md5_hex(body), "CCFCD347D0BF65DC77AFE01A3306A96B");
        let query = owned(&[("type", "heartbeat"), ("consumer", "consumer-1")]);
        // Header names in mixed case and unsigned headers must not matter; x-log-date is never signed.
        let headers = owned(&[
            ("User-Agent", "test"),
            ("content-md5", &content_md5_hex(body)),
            ("Content-Type", "application/json"),
            ("DATE", TV_DATE),
            ("X-Log-ApiVersion", "0.6.0"),
            ("x-log-bodyrawsize", "5"),
            ("x-log-signaturemethod", "hmac-sha1"),
            ("x-acs-security-token", "testSecurityToken"),
            ("x-log-date", TV_DATE),
        ]);
        let req = SignRequest {
            method: "POST",
            path: "/logstores/app-log/consumergroups/cg-1",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v1_string_to_sign(&req),
            "POST\nCCFCD347D0BF65DC77AFE01A3306A96B\napplication/json\nMon, 09 Sep 2024 06:00:00 GMT\n\
             x-acs-security-token:testSecurityToken\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:5\n\
             x-log-signaturemethod:hmac-sha1\n/logstores/app-log/consumergroups/cg-1?consumer=consumer-1&type=heartbeat"
        );
        assert_eq!(
            v1_authorization(TV_AK, TV_SECRET, &req),
            "LOG testAccessKeyId:P8zqQHl0zGS+36RyzztuzdHi1LA="
        );
    }

    #[test]
    fn v1_worked_example_c_put_logs_lz4() {
        let raw = hex::decode("0a130880e2cfaa0612060a016b120176257b0000001a05746f706963220831302e302e302e3132190a0b5f5f7061636b5f69645f5f120a35463343324131422d30").unwrap();
        // The literal-only LZ4 block of §5.3: token f0, extra length 0x32 (15 + 50 = 65), raw bytes.
        let mut body = vec![0xf0, 0x32];
        body.extend_from_slice(&raw);
        assert_eq!(
            crate::compression::decompress(crate::compression::CompressType::Lz4, &body, 65)
                .unwrap(),
            raw
        );
        assert_eq!(body.len(), 67);
        assert_eq!(content_md5_hex(&body), "1DB4ACBA254B59F281892CA479368A9F");
        let headers = owned(&[
            ("Content-MD5", &content_md5_hex(&body)),
            ("Content-Type", "application/x-protobuf"),
            ("Date", TV_DATE),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "65"),
            ("x-log-compresstype", "lz4"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "POST",
            path: "/logstores/app-log/shards/lb",
            query: &[],
            headers: &headers,
        };
        assert_eq!(
            v1_string_to_sign(&req),
            "POST\n1DB4ACBA254B59F281892CA479368A9F\napplication/x-protobuf\nMon, 09 Sep 2024 06:00:00 GMT\n\
             x-log-apiversion:0.6.0\nx-log-bodyrawsize:65\nx-log-compresstype:lz4\n\
             x-log-signaturemethod:hmac-sha1\n/logstores/app-log/shards/lb"
        );
        assert_eq!(
            v1_authorization(TV_AK, TV_SECRET, &req),
            "LOG testAccessKeyId:OXLsxam6e1yKySjrm0y2yfVrul4="
        );
    }

    #[test]
    fn v1_worked_example_d_empty_valued_parameter() {
        let body = br#"{"shard":0,"checkpoint":"MTcwMDAwMDAwMDAwMDAwMDAwMA=="}"#;
        assert_eq!(content_md5_hex(body), "CB80FDB39D45D032561BCCD79DC89754");
        let query = decode_query("type=checkpoint&consumer=&forceSuccess=true");
        let headers = owned(&[
            ("Content-MD5", &content_md5_hex(body)),
            ("Content-Type", "application/json"),
            ("Date", TV_DATE),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "POST",
            path: "/logstores/app-log/consumergroups/cg-1",
            query: &query,
            headers: &headers,
        };
        assert!(v1_string_to_sign(&req).ends_with(
            "\n/logstores/app-log/consumergroups/cg-1?consumer=&forceSuccess=true&type=checkpoint"
        ));
        assert_eq!(
            v1_authorization(TV_AK, TV_SECRET, &req),
            "LOG testAccessKeyId:FRXStvvMKF81r/IVn1RTTRwFoDU="
        );
    }

    #[test]
    fn v1_verify_accepts_and_rejects() {
        let query = owned(&[("type", "cursor"), ("from", "begin")]);
        let headers = owned(&[
            ("Date", TV_DATE),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let req = SignRequest {
            method: "GET",
            path: "/logstores/app-log/shards/0",
            query: &query,
            headers: &headers,
        };
        let auth = Authorization::parse(&v1_authorization(TV_AK, TV_SECRET, &req)).unwrap();
        assert_eq!(auth.access_key_id(), TV_AK);
        verify(&auth, TV_SECRET, &req).unwrap();
        assert!(matches!(
            verify(&auth, "other", &req),
            Err(ProtocolError::SignatureMismatch)
        ));
        let other_query = owned(&[("type", "cursor"), ("from", "end")]);
        let tampered = SignRequest {
            query: &other_query,
            ..req
        };
        assert!(matches!(
            verify(&auth, TV_SECRET, &tampered),
            Err(ProtocolError::SignatureMismatch)
        ));
    }

    #[test]
    fn v1_verify_retries_without_meta_headers() {
        let headers = owned(&[
            ("Date", TV_DATE),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-signaturemethod", "hmac-sha1"),
        ]);
        let query = Vec::new();
        let unsigned_meta = SignRequest {
            method: "GET",
            path: "/logstores",
            query: &query,
            headers: &headers,
        };
        // Signed without the meta header (Python style), sent with it.
        let auth =
            Authorization::parse(&v1_authorization(TV_AK, TV_SECRET, &unsigned_meta)).unwrap();
        let mut with_meta = headers.clone();
        with_meta.push(("X-Log-Meta-Owner".into(), "me".into()));
        let sent = SignRequest {
            headers: &with_meta,
            ..unsigned_meta
        };
        verify(&auth, TV_SECRET, &sent).unwrap();
        // Signed with it (Go/Java style) also verifies.
        let auth = Authorization::parse(&v1_authorization(TV_AK, TV_SECRET, &sent)).unwrap();
        verify(&auth, TV_SECRET, &sent).unwrap();
    }

    // ---- V4 vectors (SLS-API.md §3.4) ----

    const V4_AK: &str = "acsddda21dsd";
    const V4_SECRET: &str = "zxasdasdasw2";
    const V4_DATE_TIME: &str = "20220808T032330Z";
    const V4_BODY: &str = "adasd= -asd zcas";

    /// The SDK tests' headers plus what their signer adds (x-log-date, x-log-content-sha256).
    fn v4_headers(body: &[u8]) -> Vec<(String, String)> {
        owned(&[
            ("hello", "world"),
            ("hello-Text", "a12X- "),
            (" Ko ", ""),
            ("", "AA"),
            ("x-log-test", "het123"),
            ("x-acs-ppp", "dds"),
            ("x-log-date", V4_DATE_TIME),
            ("x-log-content-sha256", &sha256_hex(body)),
        ])
    }

    fn v4_params() -> Vec<(String, String)> {
        owned(&[(" abc", "efg"), (" agc ", ""), ("", "efg"), ("A-bc", "eFg")])
    }

    #[test]
    fn v4_case_1() {
        let headers = v4_headers(V4_BODY.as_bytes());
        let query = v4_params();
        let req = SignRequest {
            method: "POST",
            path: "/logstores",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v4_signature(V4_SECRET, "cn-hangzhou", V4_DATE_TIME, &req),
            "a98f5632e93836e63839cd836a54055f480020a9364ca944e2d34f2eb9bf1bed"
        );
        assert_eq!(
            v4_authorization(V4_AK, V4_SECRET, "cn-hangzhou", V4_DATE_TIME, &req),
            "SLS4-HMAC-SHA256 Credential=acsddda21dsd/20220808/cn-hangzhou/sls/aliyun_v4_request,\
             Signature=a98f5632e93836e63839cd836a54055f480020a9364ca944e2d34f2eb9bf1bed"
        );
    }

    #[test]
    fn v4_case_2_no_params_no_headers() {
        let headers = owned(&[
            ("x-log-date", V4_DATE_TIME),
            ("x-log-content-sha256", &sha256_hex(V4_BODY.as_bytes())),
        ]);
        let req = SignRequest {
            method: "POST",
            path: "/logstores",
            query: &[],
            headers: &headers,
        };
        assert_eq!(
            v4_signature(V4_SECRET, "cn-shanghai", V4_DATE_TIME, &req),
            "8a10a5e723cb2e75964816de660b2c16a58af8bc0261f7f0722d832468c76ce8"
        );
    }

    #[test]
    fn v4_cases_3_and_4_empty_body() {
        let headers = v4_headers(b"");
        let query = v4_params();
        let req = SignRequest {
            method: "POST",
            path: "/logstores",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v4_signature(V4_SECRET, "cn-hangzhou", V4_DATE_TIME, &req),
            "5a66d8f8051983e0e9d08e0f960ef9252ef971eead5bb5c7acec8617a2eb2701"
        );
        let get = SignRequest {
            method: "GET",
            ..req
        };
        assert_eq!(
            v4_signature(V4_SECRET, "cn-hangzhou", V4_DATE_TIME, &get),
            "d92741852500791d662a8d469ff61627c0559ecd86c3f59b7bf6772b6c62666a"
        );
    }

    #[test]
    fn v4_case_5_special_characters() {
        let headers = v4_headers(V4_BODY.as_bytes());
        let mut query = v4_params();
        query.extend(owned(&[
            ("abs-ij*asd/vc", "a~js+d ada"),
            ("a abAas123/vc", "a~jdad a2ADFs+d ada"),
        ]));
        let req = SignRequest {
            method: "POST",
            path: "/logstores/hello/a+*~bb/cc",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            v4_signature(V4_SECRET, "cn-hangzhou", V4_DATE_TIME, &req),
            "2c204068e961a8813a6bcf7ac422f7fa6e9bf9a5da493e0165dfe100854d18ff"
        );
    }

    #[test]
    fn v4_percent_encode_vector() {
        assert_eq!(
            v4_percent_encode("123abc!@#$%^&*()-=_+ ~|\\/"),
            "123abc%21%40%23%24%25%5E%26%2A%28%29-%3D_%2B%20~%7C%5C%2F"
        );
        assert_eq!(v4_percent_encode("é"), "%C3%A9");
    }

    fn heartbeat_headers() -> Vec<(String, String)> {
        owned(&[
            ("Host", "test-project.cn-hangzhou.log.aliyuncs.com"),
            ("Content-Type", "application/json"),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "5"),
            ("User-Agent", "unsigned"),
            ("Content-Length", "5"),
            ("x-log-date", "20240909T060000Z"),
            ("x-log-content-sha256", &sha256_hex(b"[0,1]")),
        ])
    }

    #[test]
    fn v4_worked_example_heartbeat() {
        let headers = heartbeat_headers();
        let query = decode_query("type=heartbeat&consumer=consumer-1");
        let req = SignRequest {
            method: "POST",
            path: "/logstores/app-log/consumergroups/cg-1",
            query: &query,
            headers: &headers,
        };
        let canonical = v4_canonical_request(&req);
        assert_eq!(
            canonical,
            "POST\n/logstores/app-log/consumergroups/cg-1\nconsumer=consumer-1&type=heartbeat\n\
             content-type:application/json\nhost:test-project.cn-hangzhou.log.aliyuncs.com\n\
             x-log-apiversion:0.6.0\nx-log-bodyrawsize:5\n\
             x-log-content-sha256:463f2998327eb3a694145e6014444480b2235be84aa6cfd57871cc64f1cd816c\n\
             x-log-date:20240909T060000Z\n\n\
             content-type;host;x-log-apiversion;x-log-bodyrawsize;x-log-content-sha256;x-log-date\n\
             463f2998327eb3a694145e6014444480b2235be84aa6cfd57871cc64f1cd816c"
        );
        assert_eq!(
            v4_string_to_sign("cn-hangzhou", "20240909T060000Z", &req),
            "SLS4-HMAC-SHA256\n20240909T060000Z\n20240909/cn-hangzhou/sls/aliyun_v4_request\n\
             6bb8355ce20be6329b3d4e97ae2c94e9493d05a75432482eaab459523243774e"
        );
        assert_eq!(
            hex::encode(v4_signing_key(TV_SECRET, "20240909", "cn-hangzhou")),
            "a632c7061fae17968d09a6f1482848cbfbdb3baf9048ced872f577bad8ffe519"
        );
        let header = v4_authorization(TV_AK, TV_SECRET, "cn-hangzhou", "20240909T060000Z", &req);
        assert_eq!(
            header,
            "SLS4-HMAC-SHA256 Credential=testAccessKeyId/20240909/cn-hangzhou/sls/aliyun_v4_request,\
             Signature=c512fec6b06aa0b22da1b0325a59bed2b3f059c79cc2c93f8e129439c298abdb"
        );
        let auth = Authorization::parse(&header).unwrap();
        verify(&auth, TV_SECRET, &req).unwrap();
        assert!(matches!(
            verify(&auth, "wrong", &req),
            Err(ProtocolError::SignatureMismatch)
        ));
    }

    #[test]
    fn v4_worked_example_empty_body_and_empty_parameter() {
        let headers = owned(&[
            ("Host", "test-project.cn-hangzhou.log.aliyuncs.com"),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", "0"),
            ("x-log-date", "20240909T060000Z"),
            ("x-log-content-sha256", headers::EMPTY_SHA256_HEX),
        ]);
        let query = decode_query("type=cursor&from=begin&x=");
        let req = SignRequest {
            method: "GET",
            path: "/logstores/app-log/shards/0",
            query: &query,
            headers: &headers,
        };
        let canonical = v4_canonical_request(&req);
        let lines: Vec<&str> = canonical.lines().collect();
        assert_eq!(lines[2], "from=begin&type=cursor&x");
        assert_eq!(
            lines[lines.len() - 2],
            "host;x-log-apiversion;x-log-bodyrawsize;x-log-content-sha256;x-log-date"
        );
        assert_eq!(
            v4_string_to_sign("cn-hangzhou", "20240909T060000Z", &req)
                .lines()
                .last(),
            Some("3f1f4a233e7947e69c81453400c50716598448e3dd4046b3a5e17eb894f65752")
        );
        assert_eq!(
            v4_signature(TV_SECRET, "cn-hangzhou", "20240909T060000Z", &req),
            "c2ff51d959b6ad87b3e4688b02368b05dd1fb4dcde7f830dd02f93f3592ca7fa"
        );
    }

    #[test]
    fn v4_payload_hash_defaults_to_empty_hash() {
        let headers = owned(&[("x-log-date", "20240909T060000Z")]);
        let without = SignRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
        };
        assert!(v4_canonical_request(&without).ends_with(headers::EMPTY_SHA256_HEX));
        let unsigned = v4_canonical_request(&without);
        let mut meta_headers = headers.clone();
        meta_headers.push(("x-log-meta-a".into(), "ignored".into()));
        let with_meta = SignRequest {
            headers: &meta_headers,
            ..without
        };
        assert_eq!(v4_canonical_request(&with_meta), unsigned);
    }

    #[test]
    fn v4_verify_requires_a_matching_x_log_date() {
        let headers = heartbeat_headers();
        let query = decode_query("type=heartbeat&consumer=consumer-1");
        let req = SignRequest {
            method: "POST",
            path: "/logstores/app-log/consumergroups/cg-1",
            query: &query,
            headers: &headers,
        };
        let auth = Authorization::parse(&v4_authorization(
            TV_AK,
            TV_SECRET,
            "cn-hangzhou",
            "20240909T060000Z",
            &req,
        ))
        .unwrap();
        // Other day in x-log-date.
        let mut other_headers = headers.clone();
        other_headers.retain(|(n, _)| n != "x-log-date");
        other_headers.push(("x-log-date".into(), "20240910T060000Z".into()));
        let other_day = SignRequest {
            headers: &other_headers,
            ..req
        };
        assert!(matches!(
            verify(&auth, TV_SECRET, &other_day),
            Err(ProtocolError::InvalidAuthorization(_))
        ));
        let mut undated = headers.clone();
        undated.retain(|(n, _)| n != "x-log-date");
        let no_date = SignRequest {
            headers: &undated,
            ..req
        };
        assert!(matches!(
            verify(&auth, TV_SECRET, &no_date),
            Err(ProtocolError::InvalidAuthorization(_))
        ));
    }

    // ---- Authorization parsing ----

    #[test]
    fn parses_v1_headers() {
        assert_eq!(
            Authorization::parse("LOG AKID_TEST:abc+/=").unwrap(),
            Authorization::V1 {
                access_key_id: "AKID_TEST".into(),
                signature: "abc+/=".into()
            }
        );
        assert_eq!(
            Authorization::parse("LOG AKID_TEST:abc+/=")
                .unwrap()
                .access_key_id(),
            "AKID_TEST"
        );
    }

    #[test]
    fn parses_v4_headers() {
        let expected = Authorization::V4 {
            access_key_id: "AKID_TEST".into(),
            date: "20261121".into(),
            region: "cn-hangzhou".into(),
            signature: "3a89e1fd".into(),
        };
        for header in [
            "SLS4-HMAC-SHA256 Credential=AKID_TEST/20261121/cn-hangzhou/sls/aliyun_v4_request,Signature=3a89e1fd",
            "SLS4-HMAC-SHA256 Credential=AKID_TEST/20261121/cn-hangzhou/sls/aliyun_v4_request, Signature=3a89e1fd",
            "SLS4-HMAC-SHA256 Credential=AKID_TEST/20261121/cn-hangzhou/sls/aliyun_v4_request, SignedHeaders=host;x-log-date, Signature=3a89e1fd",
            "SLS4-HMAC-SHA256 Signature=3a89e1fd,Credential=AKID_TEST/20261121/cn-hangzhou/sls/aliyun_v4_request",
        ] {
            assert_eq!(Authorization::parse(header).unwrap(), expected, "{header}");
        }
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "LOG",
            "LOG AKID_TEST",
            "LOG :sig",
            "LOG AKID_TEST:",
            "Bearer abc",
            "SLS4-HMAC-SHA256",
            "SLS4-HMAC-SHA256 Signature=ab",
            "SLS4-HMAC-SHA256 Credential=AK/20240909/cn-hangzhou/sls/aliyun_v4_request",
            "SLS4-HMAC-SHA256 Credential=AK/20240909/cn-hangzhou/sls/aliyun_v4_request,Signature=xyz",
            "SLS4-HMAC-SHA256 Credential=AK/2024-09-09/cn-hangzhou/sls/aliyun_v4_request,Signature=ab",
            "SLS4-HMAC-SHA256 Credential=AK/20240909/cn-hangzhou/oss/aliyun_v4_request,Signature=ab",
            "SLS4-HMAC-SHA256 Credential=20240909/cn-hangzhou/sls/aliyun_v4_request,Signature=ab",
            "SLS4-HMAC-SHA256 Credential=AK/20240909/cn-hangzhou/sls/aliyun_v4_request,Signature=ab,Foo=1",
            "SLS4-HMAC-SHA256 Credential=AK/20240909/cn-hangzhou/sls/aliyun_v4_request,Signature",
        ] {
            assert!(
                matches!(
                    Authorization::parse(bad),
                    Err(ProtocolError::InvalidAuthorization(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn decode_query_handles_plus_percent_and_empty_values() {
        assert_eq!(
            decode_query("a=1+2&b=%2B&c=&d&cursor=MTc%3D"),
            owned(&[
                ("a", "1 2"),
                ("b", "+"),
                ("c", ""),
                ("d", ""),
                ("cursor", "MTc=")
            ])
        );
        assert!(decode_query("").is_empty());
    }

    #[test]
    fn sha256_and_md5_helpers() {
        assert_eq!(sha256_hex(b""), headers::EMPTY_SHA256_HEX);
        assert_eq!(
            sha256_hex(b"[0,1]"),
            "463f2998327eb3a694145e6014444480b2235be84aa6cfd57871cc64f1cd816c"
        );
        assert_eq!(content_md5_hex(b""), "D41D8CD98F00B204E9800998ECF8427E");
    }
}
