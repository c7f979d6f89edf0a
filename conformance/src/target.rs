//! What the suite talks to: an SLS endpoint (emulator or real service), the key pair, the
//! signature version and, optionally, the socket address connections really go to.
//!
//! Only description and parsing live here; sending requests is [`crate::client`]'s job.

use std::net::SocketAddr;

use serde::Serialize;

use crate::Error;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP (the default when the endpoint has no scheme, as in every SLS SDK).
    Http,
    /// HTTPS (rustls, web PKI roots).
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed SLS endpoint: `[http://|https://]host[:port]` (SLS-API.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The scheme; `http` when none was given.
    pub scheme: Scheme,
    /// Host name, lower-cased, e.g. `cn-hangzhou.log.aliyuncs.com` or `localhost`.
    pub host: String,
    /// The port, when the endpoint names one.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `host[:port]`, optionally prefixed by `http://` or `https://`, with an optional
    /// trailing `/`.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] for an empty host, a host with characters other than
    /// `[A-Za-z0-9.-]` (SLS project hosts are `<project>.<host>`, so IP literals of IPv6 cannot
    /// work), a path, or a port that is not a number.
    pub fn parse(text: &str) -> Result<Endpoint, Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        let (scheme, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = trimmed.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            (Scheme::Http, trimmed)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(invalid("an endpoint has no path"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| invalid("the port is not a number from 0 to 65535"))?;
                (host, Some(port))
            }
            None => (rest, None),
        };
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(invalid(
                "the host may only contain letters, digits, '.' and '-'",
            ));
        }
        Ok(Endpoint {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// `host` plus `:port` when the endpoint names a port: the authority of a project-less
    /// request, and the suffix of every project host.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// The port connections use: the explicit one, else the scheme's default.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority())
    }
}

/// Which signature the suite signs ordinary requests with (SLS-API.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignVersion {
    /// `LOG ak:sig`, HMAC-SHA1 (every SDK's default).
    V1,
    /// `SLS4-HMAC-SHA256`, needs the region.
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

impl std::str::FromStr for SignVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(SignVersion::V1),
            "v4" | "4" => Ok(SignVersion::V4),
            other => Err(format!("signature version must be v1 or v4, got {other:?}")),
        }
    }
}

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
    /// [`Error::InvalidEndpoint`] as [`Endpoint::parse`].
    pub fn new(
        endpoint: &str,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Target, Error> {
        Ok(Target {
            endpoint: Endpoint::parse(endpoint)?,
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
        let e = Endpoint::parse("localhost:18080").unwrap();
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.host, "localhost");
        assert_eq!(e.port, Some(18080));
        assert_eq!(e.authority(), "localhost:18080");

        let e = Endpoint::parse("https://cn-hangzhou.log.aliyuncs.com/").unwrap();
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(e.port, None);
        assert_eq!(e.effective_port(), 443);
        assert_eq!(e.to_string(), "https://cn-hangzhou.log.aliyuncs.com");

        let e = Endpoint::parse("http://SLS.Local").unwrap();
        assert_eq!(e.host, "sls.local");
        assert_eq!(e.effective_port(), 80);
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in ["", "http://", "host:port", "host/path", "[::1]:80", "a_b.c"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_sign_versions() {
        assert_eq!("v4".parse::<SignVersion>().unwrap(), SignVersion::V4);
        assert_eq!("V1".parse::<SignVersion>().unwrap(), SignVersion::V1);
        assert!("v2".parse::<SignVersion>().is_err());
    }
}
