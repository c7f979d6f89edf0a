//! The one request signer, used by our client, the conformance suite, the emulator's tests
//! and its benchmark. It adds what SDKs add (SLS-API.md §3): V1 `Date`,
//! `x-log-signaturemethod` and `Content-MD5` (non-empty bodies), V4 `x-log-date` and
//! `x-log-content-sha256`, then `Authorization`.
//!
//! Two steps, so tests can build deliberately wrong requests with the same code: take the
//! [`Signer::dating_headers`], change or drop any header, then [`Signer::authorization`] over
//! what will be sent (or change a header *after* signing to break it). A wrong secret or an
//! unknown key id is a `Signer` with other fields; a skewed date is another `unix_secs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::headers as h;
use crate::signature::{
    content_md5_hex, sha256_hex, v1_authorization, v4_authorization, SignRequest,
};

/// The signature version (SLS-API.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignVersion {
    /// `LOG ak:sig`, HMAC-SHA1 (every SDK's default).
    V1,
    /// `SLS4-HMAC-SHA256`, scoped to a region.
    V4,
}

impl SignVersion {
    /// `v1` or `v4`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignVersion::V1 => "v1",
            SignVersion::V4 => "v4",
        }
    }
}

impl fmt::Display for SignVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(SignVersion::V1),
            "v4" | "4" => Ok(SignVersion::V4),
            other => Err(format!("signature version must be v1 or v4, got {other:?}")),
        }
    }
}

/// Credentials and a version: everything needed to sign.
#[derive(Clone, PartialEq, Eq)]
pub struct Signer {
    /// Version.
    pub version: SignVersion,
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKeySecret.
    pub secret: String,
    /// The region of V4's credential scope (unused by V1).
    pub region: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("version", &self.version)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A V1 signer.
    pub fn v1(access_key_id: &str, secret: &str) -> Signer {
        Signer {
            version: SignVersion::V1,
            access_key_id: access_key_id.to_owned(),
            secret: secret.to_owned(),
            region: String::new(),
        }
    }

    /// A V4 signer for `region`.
    pub fn v4(access_key_id: &str, secret: &str, region: &str) -> Signer {
        Signer {
            version: SignVersion::V4,
            region: region.to_owned(),
            ..Signer::v1(access_key_id, secret)
        }
    }

    /// The headers that date the request and digest its `body` (as sent, compressed), in the
    /// order SDKs send them. `unix_secs` is the request's time.
    pub fn dating_headers(&self, unix_secs: i64, body: &[u8]) -> Vec<(String, String)> {
        let when = chrono::DateTime::from_timestamp(unix_secs, 0).unwrap_or_default();
        match self.version {
            SignVersion::V1 => {
                let mut out = vec![
                    (
                        h::X_LOG_SIGNATUREMETHOD.to_owned(),
                        h::SIGNATURE_METHOD_HMAC_SHA1.to_owned(),
                    ),
                    (
                        h::DATE.to_owned(),
                        when.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                    ),
                ];
                if !body.is_empty() {
                    out.push((h::CONTENT_MD5.to_owned(), content_md5_hex(body)));
                }
                out
            }
            SignVersion::V4 => vec![
                (
                    h::X_LOG_DATE.to_owned(),
                    when.format("%Y%m%dT%H%M%SZ").to_string(),
                ),
                (h::X_LOG_CONTENT_SHA256.to_owned(), sha256_hex(body)),
            ],
        }
    }

    /// The `Authorization` value over exactly these headers (V4 reads its date from their
    /// `x-log-date`; V4 also signs `host`, which must be among them).
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
    ) -> String {
        let req = SignRequest {
            method,
            path,
            query,
            headers,
        };
        match self.version {
            SignVersion::V1 => v1_authorization(&self.access_key_id, &self.secret, &req),
            SignVersion::V4 => {
                let date_time = req.header(h::X_LOG_DATE).unwrap_or_default();
                v4_authorization(
                    &self.access_key_id,
                    &self.secret,
                    &self.region,
                    date_time,
                    &req,
                )
            }
        }
    }

    /// Both steps: sets the dating headers (replacing any of the same name), then
    /// `Authorization`.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &mut Vec<(String, String)>,
        body: &[u8],
        unix_secs: i64,
    ) {
        for (name, value) in self.dating_headers(unix_secs, body) {
            set_header(headers, &name, value);
        }
        let auth = self.authorization(method, path, query, headers);
        set_header(headers, h::AUTHORIZATION, auth);
    }
}

/// Sets a header, replacing every header of the same name (case-insensitive), keeping the
/// position of the first.
pub fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    match headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        Some(i) => {
            headers[i].1 = value;
            let mut seen = false;
            headers.retain(|(k, _)| {
                let same = k.eq_ignore_ascii_case(name);
                let keep = !same || !seen;
                seen |= same;
                keep
            });
        }
        None => headers.push((name.to_owned(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{verify, Authorization};
    use crate::ProtocolError;

    const NOW: i64 = 1_725_861_600; // 2024-09-09 06:00:00 UTC

    fn base() -> Vec<(String, String)> {
        vec![
            (h::HOST.to_owned(), "p.localhost:18080".to_owned()),
            (h::X_LOG_APIVERSION.to_owned(), h::API_VERSION.to_owned()),
        ]
    }

    fn check(
        signer: &Signer,
        secret: &str,
        headers: &[(String, String)],
    ) -> Result<(), ProtocolError> {
        let query = vec![("type".to_owned(), "log".to_owned())];
        let auth = headers
            .iter()
            .find(|(k, _)| k == h::AUTHORIZATION)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let req = SignRequest {
            method: "POST",
            path: "/logstores/ls/shards/lb",
            query: &query,
            headers,
        };
        assert_eq!(
            Authorization::parse(&auth)?.access_key_id(),
            signer.access_key_id
        );
        verify(&Authorization::parse(&auth)?, secret, &req)
    }

    fn signed(signer: &Signer) -> Vec<(String, String)> {
        let mut headers = base();
        let query = vec![("type".to_owned(), "log".to_owned())];
        signer.sign(
            "POST",
            "/logstores/ls/shards/lb",
            &query,
            &mut headers,
            b"body",
            NOW,
        );
        headers
    }

    #[test]
    fn signed_requests_verify_in_both_versions() {
        for signer in [
            Signer::v1("ak", "sk"),
            Signer::v4("ak", "sk", "cn-hangzhou"),
        ] {
            let headers = signed(&signer);
            check(&signer, "sk", &headers).unwrap();
        }
        let v1 = signed(&Signer::v1("ak", "sk"));
        let date = v1.iter().find(|(k, _)| k == h::DATE).unwrap();
        assert_eq!(date.1, "Mon, 09 Sep 2024 06:00:00 GMT");
        let v4 = signed(&Signer::v4("ak", "sk", "cn-hangzhou"));
        let date = v4.iter().find(|(k, _)| k == h::X_LOG_DATE).unwrap();
        assert_eq!(date.1, "20240909T060000Z");
    }

    #[test]
    fn wrong_requests_are_refused() {
        for good in [
            Signer::v1("ak", "sk"),
            Signer::v4("ak", "sk", "cn-hangzhou"),
        ] {
            // Another secret.
            let wrong = Signer {
                secret: "not-sk".into(),
                ..good.clone()
            };
            assert!(matches!(
                check(&good, "sk", &signed(&wrong)),
                Err(ProtocolError::SignatureMismatch)
            ));
            // A header changed after signing.
            let mut tampered = signed(&good);
            set_header(&mut tampered, h::X_LOG_APIVERSION, "0.5.0".into());
            assert!(check(&good, "sk", &tampered).is_err());
            // The body digest no longer matches what is signed.
            let mut other_body = signed(&good);
            let digest = match good.version {
                SignVersion::V1 => h::CONTENT_MD5,
                SignVersion::V4 => h::X_LOG_CONTENT_SHA256,
            };
            set_header(&mut other_body, digest, "00".repeat(16));
            assert!(check(&good, "sk", &other_body).is_err());
        }
    }

    #[test]
    fn set_header_replaces_case_insensitively() {
        let mut hs = vec![
            ("Date".to_owned(), "a".to_owned()),
            ("date".to_owned(), "b".to_owned()),
        ];
        set_header(&mut hs, "date", "c".into());
        assert_eq!(hs, vec![("Date".to_owned(), "c".to_owned())]);
        assert_eq!("V4".parse::<SignVersion>().unwrap(), SignVersion::V4);
        assert!("v2".parse::<SignVersion>().is_err());
    }
}
