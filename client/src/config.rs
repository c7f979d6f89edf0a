//! Where and how to connect: endpoint, credentials, signature version, compression, timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use sls_protocol::compression::CompressType;

use crate::error::{Error, Result};

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (what SLS SDKs use when the endpoint has no scheme).
    Http,
    /// HTTPS (rustls with the web PKI roots).
    Https,
}

/// A parsed endpoint: `[http://|https://]host[:port]`. Project requests go to
/// `<project>.<host>[:port]`, as with every SLS SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The scheme (`http` when none was given).
    pub scheme: Scheme,
    /// The host, lower-cased.
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses an endpoint.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty host, a path, a bad port, or characters other than
    /// `[A-Za-z0-9.-]` in the host (project hosts are `<project>.<host>`, so IP literals cannot
    /// work; use a name such as `localhost` and, if needed, [`Config::connect_to`]).
    pub fn parse(text: &str) -> Result<Endpoint> {
        let bad = |why: &str| Error::InvalidConfig(format!("endpoint {text:?}: {why}"));
        let t = text.trim();
        let (scheme, rest) = match (t.strip_prefix("https://"), t.strip_prefix("http://")) {
            (Some(r), _) => (Scheme::Https, r),
            (_, Some(r)) => (Scheme::Http, r),
            _ => (Scheme::Http, t),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| bad("the port is not a number"))?,
                ),
            ),
            None => (rest, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        {
            return Err(bad(
                "the host must be a name of letters, digits, '.' and '-'",
            ));
        }
        Ok(Endpoint {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// `scheme://[project.]host[:port]`.
    pub fn base_url(&self, project: Option<&str>) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = match project {
            Some(p) => format!("{p}.{}", self.host),
            None => self.host.clone(),
        };
        match self.port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }
    }
}

pub use sls_protocol::signer::SignVersion;

/// Client configuration. Build with [`Config::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Config {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKeySecret.
    pub access_key_secret: String,
    /// STS security token, sent as `x-acs-security-token`.
    pub security_token: Option<String>,
    /// Signature version.
    pub sign: SignVersion,
    /// Region of V4's credential scope.
    pub region: String,
    /// Compression of PutLogs bodies and accepted for PullLogs answers.
    pub compression: CompressType,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Send every connection for the endpoint host and its `<project>.` subdomains here
    /// (no DNS needed; used by tests and for emulators without `*.localhost` resolution).
    pub connect_to: Option<SocketAddr>,
    /// User agent.
    pub user_agent: String,
}

impl Config {
    /// A v1-signing, lz4-compressing configuration with 60 s request and 10 s connect timeouts.
    pub fn new(endpoint: &str, access_key_id: &str, access_key_secret: &str) -> Result<Config> {
        if access_key_id.is_empty() || access_key_secret.is_empty() {
            return Err(Error::InvalidConfig(
                "the access key id and secret must not be empty".into(),
            ));
        }
        Ok(Config {
            endpoint: Endpoint::parse(endpoint)?,
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
            sign: SignVersion::V1,
            region: "cn-hangzhou".into(),
            compression: CompressType::Lz4,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            connect_to: None,
            user_agent: concat!("sls-client-rust/", env!("CARGO_PKG_VERSION")).into(),
        })
    }

    /// Signs with V4 for `region`.
    pub fn with_v4(mut self, region: &str) -> Config {
        self.sign = SignVersion::V4;
        self.region = region.into();
        self
    }

    /// Sends an STS token.
    pub fn with_security_token(mut self, token: &str) -> Config {
        self.security_token = Some(token.into());
        self
    }

    /// PutLogs compression (and the accepted PullLogs encoding).
    pub fn with_compression(mut self, c: CompressType) -> Config {
        self.compression = c;
        self
    }

    /// Whole-request timeout.
    pub fn with_request_timeout(mut self, t: Duration) -> Config {
        self.request_timeout = t;
        self
    }

    /// Connects to `addr`'s IP for the endpoint host and every project host under it. The port
    /// is still the endpoint's (HTTP clients take it from the URL), so give an endpoint whose
    /// port is the one to reach: `localhost:{addr.port()}`.
    pub fn with_connect_to(mut self, addr: SocketAddr) -> Config {
        self.connect_to = Some(addr);
        self
    }
}
