//! What the suite talks to: an SLS endpoint (emulator or real service), the key pair, the
//! signature version and, optionally, the socket address connections really go to.
//!
//! Only description and parsing live here; sending requests is [`crate::client`]'s job.

use std::net::SocketAddr;

use crate::Error;

pub use sls_client::{Endpoint, Scheme};

/// Parses an endpoint with [`sls_client::Endpoint::parse`]: `host[:port]`, optionally prefixed
/// by `http://` or `https://`, with an optional trailing `/` (SLS-API.md §2.2).
///
/// # Errors
/// [`Error::InvalidEndpoint`] for an empty host, a host with characters other than
/// `[A-Za-z0-9.-]` (SLS project hosts are `<project>.<host>`, so IPv6 literals cannot work), a
/// path, or a port that is not a number.
pub fn parse_endpoint(text: &str) -> Result<Endpoint, Error> {
    Endpoint::parse(text).map_err(|e| {
        let reason = match e {
            sls_client::Error::InvalidConfig(message) => message,
            other => other.to_string(),
        };
        // The client's message repeats the endpoint, which `InvalidEndpoint` already shows.
        let prefix = format!("endpoint {text:?}: ");
        Error::InvalidEndpoint {
            endpoint: text.to_owned(),
            reason: reason
                .strip_prefix(&prefix)
                .map_or_else(|| reason.clone(), str::to_owned),
        }
    })
}

/// The port connections use: the endpoint's explicit one, else the scheme's default (80, 443).
pub fn effective_port(endpoint: &Endpoint) -> u16 {
    endpoint.port.unwrap_or(match endpoint.scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    })
}

/// Which signature the suite signs ordinary requests with (SLS-API.md §3): the wire kit's.
pub use sls_protocol::signer::SignVersion;

/// The endpoint under test and how to reach and sign for it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The endpoint clients are given.
    pub endpoint: Endpoint,
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKeySecret.
    pub access_key_secret: String,
    /// Signature of ordinary requests (signature cases pick their own).
    pub sign_version: SignVersion,
    /// Region of V4 credentials, e.g. `cn-hangzhou`.
    pub region: String,
    /// Where TCP connections really go, whatever the host name (`<project>.<endpoint>` names
    /// need no DNS then). When the endpoint names a port that port is used; otherwise this
    /// address's port.
    pub connect_to: Option<SocketAddr>,
}

impl Target {
    /// A target signing with V1, region `cn-hangzhou`, connecting by DNS.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] as [`parse_endpoint`].
    pub fn new(
        endpoint: &str,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Target, Error> {
        Ok(Target {
            endpoint: parse_endpoint(endpoint)?,
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            sign_version: SignVersion::V1,
            region: "cn-hangzhou".to_owned(),
            connect_to: None,
        })
    }

    /// The same target, signing with `version`.
    pub fn with_sign_version(mut self, version: SignVersion) -> Target {
        self.sign_version = version;
        self
    }

    /// The same target, with V4 region `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Target {
        self.region = region.into();
        self
    }

    /// The same target, connecting to `addr` whatever the host name.
    pub fn with_connect_to(mut self, addr: SocketAddr) -> Target {
        self.connect_to = Some(addr);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoint_forms() {
        let e = parse_endpoint("localhost:18080").unwrap();
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.host, "localhost");
        assert_eq!(e.port, Some(18080));
        assert_eq!(effective_port(&e), 18080);
        assert_eq!(e.base_url(None), "http://localhost:18080");

        let e = parse_endpoint("https://cn-hangzhou.log.aliyuncs.com/").unwrap();
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(e.port, None);
        assert_eq!(effective_port(&e), 443);
        assert_eq!(e.base_url(None), "https://cn-hangzhou.log.aliyuncs.com");

        let e = parse_endpoint("http://SLS.Local").unwrap();
        assert_eq!(e.host, "sls.local");
        assert_eq!(effective_port(&e), 80);
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in ["", "http://", "host:port", "host/path", "[::1]:80", "a_b.c"] {
            match parse_endpoint(bad) {
                Err(Error::InvalidEndpoint { endpoint, reason }) => {
                    assert_eq!(endpoint, bad);
                    assert!(
                        !reason.is_empty() && !reason.starts_with("endpoint "),
                        "{reason:?}"
                    );
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn parses_sign_versions() {
        assert_eq!("v4".parse::<SignVersion>().unwrap(), SignVersion::V4);
        assert_eq!("V1".parse::<SignVersion>().unwrap(), SignVersion::V1);
        assert!("v2".parse::<SignVersion>().is_err());
    }
}
