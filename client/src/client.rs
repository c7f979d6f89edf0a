//! The transport: build the URL from the project, sign (v1 or v4), compress, send, and turn
//! SLS error answers into [`Error::Server`]. API methods (in `api/`) sit on top of
//! [`Client::send`].

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::headers as h;
use sls_protocol::signer::Signer;

use crate::config::{Config, SignVersion};
use crate::error::{Error, Result};

/// Header name/value pairs, in the order they are signed and sent.
type Headers = Vec<(String, String)>;

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// JSON, sent as is.
    Json(Vec<u8>),
    /// A serialized LogGroup, compressed with the configured compression.
    LogGroup(Vec<u8>),
}

/// One API call.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// The project (`None` for ListProject).
    pub project: Option<String>,
    /// Path, e.g. `/logstores/app/shards`.
    pub path: String,
    /// Query parameters (not encoded).
    pub query: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// Ask for a compressed answer (PullLogs).
    pub accept_encoding: Option<CompressType>,
}

impl Request {
    /// A request without query or body.
    pub fn new(method: Method, project: Option<&str>, path: impl Into<String>) -> Request {
        Request {
            method,
            project: project.map(str::to_string),
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            accept_encoding: None,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, k: &str, v: impl ToString) -> Request {
        self.query.push((k.to_string(), v.to_string()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, v: &serde_json::Value) -> Request {
        self.body = Body::Json(v.to_string().into_bytes());
        self
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Response {
    /// Headers.
    pub headers: HeaderMap,
    /// Body as received.
    pub body: Bytes,
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(format!("JSON answer: {e}")))
    }
}

/// An SLS client. Cheap to clone; safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<Config>,
    /// Built once from the configuration's keys (not per request).
    signer: Arc<Signer>,
}

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the HTTP client cannot be built (TLS setup).
    pub fn new(config: Config) -> Result<Client> {
        let mut b = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            // The service (or an emulator) decides compression through x-log-compresstype.
            .no_gzip()
            .no_deflate();
        if let Some(addr) = config.connect_to {
            b = b
                .no_proxy()
                .dns_resolver(connect_to_resolver(&config.endpoint.host, addr));
        }
        let http = b
            .build()
            .map_err(|e| Error::InvalidConfig(format!("HTTP client: {e}")))?;
        let signer = Arc::new(Signer {
            version: config.sign,
            access_key_id: config.access_key_id.clone(),
            secret: config.access_key_secret.clone(),
            region: config.region.clone(),
        });
        Ok(Client {
            http,
            config: Arc::new(config),
            signer,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Signs and sends a request; an SLS error answer becomes [`Error::Server`].
    pub async fn send(&self, req: Request) -> Result<Response> {
        let c = &self.config;
        let Request {
            method,
            project,
            path,
            query,
            body,
            accept_encoding,
        } = req;
        let (body, mut headers) = self.encode_body(body)?;
        headers.push((h::X_LOG_APIVERSION.into(), h::API_VERSION.into()));
        if let Some(token) = &c.security_token {
            headers.push((h::X_ACS_SECURITY_TOKEN.into(), token.clone()));
        }
        if let Some(enc) = accept_encoding.and_then(|e| e.header_value()) {
            headers.push((h::ACCEPT_ENCODING.into(), enc.into()));
        }
        let base_url = c.endpoint.base_url(project.as_deref());
        if c.sign == SignVersion::V4 {
            // V4 signs the host.
            let host = base_url.split("://").nth(1).unwrap_or_default();
            headers.push((h::HOST.into(), host.to_string()));
        }
        let now = chrono::Utc::now().timestamp();
        self.signer
            .sign(method.as_str(), &path, &query, &mut headers, &body, now);
        let mut url = url::Url::parse(&format!("{base_url}{path}"))
            .map_err(|e| Error::InvalidArgument(format!("URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut hm = HeaderMap::new();
        for (k, v) in headers {
            // Host comes from the URL; signing needed it explicitly for V4.
            if k == h::HOST {
                continue;
            }
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| Error::InvalidArgument(format!("header {k}: {e}")))?;
            let value = HeaderValue::from_str(&v)
                .map_err(|e| Error::InvalidArgument(format!("header {k}: {e}")))?;
            hm.insert(name, value);
        }
        let resp = self
            .http
            .request(method, url)
            .headers(hm)
            .body(body)
            .send()
            .await
            .map_err(Error::Network)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(Error::Network)?;
        if status == 200 {
            return Ok(Response { headers, body });
        }
        Err(server_error(status, &headers, &body))
    }

    /// The wire body and its content headers.
    fn encode_body(&self, body: Body) -> Result<(Vec<u8>, Headers)> {
        Ok(match body {
            Body::Empty => (Vec::new(), vec![(h::X_LOG_BODYRAWSIZE.into(), "0".into())]),
            Body::Json(b) => {
                let hs = vec![
                    (h::CONTENT_TYPE.into(), h::CONTENT_TYPE_JSON.into()),
                    (h::X_LOG_BODYRAWSIZE.into(), b.len().to_string()),
                ];
                (b, hs)
            }
            Body::LogGroup(raw) => {
                let kind = self.config.compression;
                let mut hs = vec![
                    (h::CONTENT_TYPE.into(), h::CONTENT_TYPE_PROTOBUF.into()),
                    (h::X_LOG_BODYRAWSIZE.into(), raw.len().to_string()),
                ];
                if let Some(v) = kind.header_value() {
                    hs.push((h::X_LOG_COMPRESSTYPE.into(), v.into()));
                }
                let wire = if kind == CompressType::None {
                    raw
                } else {
                    compress(kind, &raw).map_err(|e| Error::Compression(e.to_string()))?
                };
                (wire, hs)
            }
        })
    }
}

/// An SLS error answer (or an unreadable one) as an [`Error`].
fn server_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let request_id = headers
        .get(h::X_LOG_REQUESTID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match serde_json::from_slice::<sls_protocol::body::ErrorBody>(body) {
        Ok(w) => Error::Server {
            code: w.code,
            message: w.message,
            status,
            request_id,
        },
        Err(_) => Error::Server {
            code: "BadResponse".into(),
            message: format!(
                "HTTP {status} without an SLS error body: {}",
                String::from_utf8_lossy(body)
            ),
            status,
            request_id,
        },
    }
}

/// A DNS resolver that sends `host` and every `<project>.<host>` to `addr` (other names
/// resolve normally): how to reach an emulator where `*.localhost` does not resolve.
pub fn connect_to_resolver(host: &str, addr: SocketAddr) -> Arc<ConnectTo> {
    Arc::new(ConnectTo {
        host: host.to_ascii_lowercase(),
        addr,
    })
}

/// Resolves the endpoint host and every `<project>.<host>` to one address (see
/// [`connect_to_resolver`]).
#[derive(Debug)]
pub struct ConnectTo {
    host: String,
    addr: SocketAddr,
}

impl Resolve for ConnectTo {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_ascii_lowercase();
        let ours = name == self.host
            || name
                .strip_suffix(self.host.as_str())
                .is_some_and(|p| p.ends_with('.'));
        let addr = self.addr;
        Box::pin(async move {
            if ours {
                return Ok(Box::new(std::iter::once(addr)) as Addrs);
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}
