//! A small SLS HTTP client for the cases: builds a request exactly as the cases describe it
//! (host form, query, headers, compression, signature), sends it, and returns the raw answer.
//!
//! Unlike an SDK it never interprets answers (no retries, no error mapping, no decompression):
//! judging them is the cases' job. Signing and compression come from `sls-protocol`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use reqwest::Method;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::headers as h;
use sls_protocol::signer::Signer;

use crate::target::{effective_port, SignVersion, Target};
use crate::Error;

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// With the target's signature version and keys (the default).
    Target,
    /// V1 with the target's keys.
    V1,
    /// V4 with the target's keys and region.
    V4,
    /// No `Authorization` header at all.
    None,
    /// The given version, the right AccessKeyId, a wrong secret.
    WrongSecret(SignVersion),
    /// The given version, an AccessKeyId the endpoint does not know.
    UnknownKey(SignVersion),
}

/// Which `Host` header a request carries (SLS-API.md §2.2: Go/Rust/Node keep the port,
/// Python drops it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostForm {
    /// `[<project>.]<endpoint host>[:port]`, the port only when the endpoint names one.
    Default,
    /// Never a port (Python), while still connecting to the endpoint's port.
    WithoutPort,
    /// Always a port: the endpoint's, or the scheme's default when it names none.
    WithPort,
    /// Through an HTTP proxy, as the Java SDK with `ClientConfiguration.setProxyHost` sends:
    /// the request line carries the absolute URL `http://<project>.<endpoint host>/path`, with
    /// no port there or in the Host, and the connection goes to the endpoint, acting as the
    /// proxy. (With an https endpoint no proxy is involved: the URL, port-less, goes to 443.)
    Proxied,
}

/// One request, described at the level the cases reason about.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    project: Option<String>,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    unsigned_headers: Vec<(String, String)>,
    omitted: Vec<String>,
    body: Vec<u8>,
    compression: CompressType,
    sign: Sign,
    /// Another key pair to sign with (a RAM user's), instead of the target's.
    key: Option<(String, String)>,
    host: HostForm,
    skew_secs: i64,
}

impl Request {
    /// A request without project (bare endpoint Host), no query, no body, signed like the target.
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            project: None,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            unsigned_headers: Vec::new(),
            omitted: Vec::new(),
            body: Vec::new(),
            compression: CompressType::None,
            sign: Sign::Target,
            key: None,
            host: HostForm::Default,
            skew_secs: 0,
        }
    }

    /// Signs with this key pair (a RAM user's or an STS credential's) instead of the
    /// target's, with the signature version `sign` chooses.
    pub fn signed_by(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Request {
        self.key = Some((access_key_id.into(), secret.into()));
        self
    }

    /// Addresses `project` through the Host header (`<project>.<endpoint>`).
    pub fn project(mut self, project: impl Into<String>) -> Request {
        self.project = Some(project.into());
        self
    }

    /// Appends a query parameter; the value is given decoded and form-encoded on the wire.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets a header before signing, replacing a default of the same name.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// Adds a header after the signature is computed (as the Python SDK adds `x-log-date`).
    pub fn header_after_signing(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Request {
        self.unsigned_headers
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// Leaves out a header the client would otherwise send (e.g. `date`, `x-log-bodyrawsize`),
    /// before signing.
    pub fn without_header(mut self, name: impl Into<String>) -> Request {
        self.omitted.push(name.into().to_ascii_lowercase());
        self
    }

    /// Sets the raw (uncompressed) body; no Content-Type is added.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Request {
        self.body(value.to_string())
            .header(h::CONTENT_TYPE, h::CONTENT_TYPE_JSON)
    }

    /// A protobuf body with `Content-Type: application/x-protobuf`.
    pub fn protobuf(self, bytes: impl Into<Vec<u8>>) -> Request {
        self.body(bytes)
            .header(h::CONTENT_TYPE, h::CONTENT_TYPE_PROTOBUF)
    }

    /// Compresses the body on the wire with `x-log-compresstype`; `x-log-bodyrawsize` stays
    /// the raw length.
    pub fn compress(mut self, kind: CompressType) -> Request {
        self.compression = kind;
        self
    }

    /// Chooses the signature.
    pub fn sign(mut self, sign: Sign) -> Request {
        self.sign = sign;
        self
    }

    /// Chooses the Host header form.
    pub fn host(mut self, host: HostForm) -> Request {
        self.host = host;
        self
    }

    /// Shifts the request's date (`Date` or `x-log-date`) by `secs` seconds.
    pub fn skew(mut self, secs: i64) -> Request {
        self.skew_secs = secs;
        self
    }
}

/// An answer, as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers in order; names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body bytes as received (never decompressed).
    pub body: Vec<u8>,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `errorCode` of a JSON error body.
    pub fn error_code(&self) -> Option<String> {
        self.json()?.get("errorCode")?.as_str().map(str::to_owned)
    }

    /// `errorMessage` of a JSON error body.
    pub fn error_message(&self) -> Option<String> {
        self.json()?
            .get("errorMessage")?
            .as_str()
            .map(str::to_owned)
    }

    /// One line for reports: the status, and the error code and message for errors, or the
    /// body size and content type for successes.
    pub fn summary(&self) -> String {
        match (self.error_code(), self.error_message()) {
            (Some(code), message) if self.status != 200 => format!(
                "{} {code}: {}",
                self.status,
                message.unwrap_or_else(|| "(no errorMessage)".to_owned())
            ),
            _ => format!(
                "{} ({} bytes, content-type {})",
                self.status,
                self.body.len(),
                self.header(h::CONTENT_TYPE).unwrap_or("none")
            ),
        }
    }
}

/// Sends [`Request`]s to one [`Target`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Sends http URLs to the endpoint as to a proxy (absolute-form targets).
    proxied: reqwest::Client,
    target: Arc<Target>,
}

/// The suite's user agent.
const USER_AGENT: &str = concat!("sls-conformance/", env!("CARGO_PKG_VERSION"));

impl Client {
    /// A client for `target`: 10 s connect and 60 s request timeouts, HTTP/1.1, no automatic
    /// decompression, no redirects. With `connect_to`, proxies from the environment are ignored.
    ///
    /// # Errors
    /// [`Error::Client`] if the TLS backend cannot be initialised.
    pub fn new(target: Target) -> Result<Client, Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(addr) = target.connect_to {
            builder = builder
                .no_proxy()
                .dns_resolver(sls_client::connect_to_resolver(
                    &target.endpoint.host.clone(),
                    addr,
                ));
        }
        let proxy_at = match (target.connect_to, target.endpoint.port) {
            (Some(addr), Some(port)) => format!("http://{}", SocketAddr::new(addr.ip(), port)),
            (Some(addr), None) => format!("http://{addr}"),
            (None, _) => format!(
                "http://{}:{}",
                target.endpoint.host,
                effective_port(&target.endpoint)
            ),
        };
        let proxied = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .proxy(reqwest::Proxy::http(&proxy_at).map_err(Error::Client)?)
            .build()
            .map_err(Error::Client)?;
        Ok(Client {
            http: builder.build().map_err(Error::Client)?,
            proxied,
            target: Arc::new(target),
        })
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The `Host` value of a request.
    fn host_header(&self, req: &Request) -> String {
        let endpoint = &self.target.endpoint;
        let host = match &req.project {
            Some(p) => format!("{p}.{}", endpoint.host),
            None => endpoint.host.clone(),
        };
        match req.host {
            HostForm::Default => match endpoint.port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            },
            HostForm::WithoutPort | HostForm::Proxied => host,
            HostForm::WithPort => format!("{host}:{}", effective_port(endpoint)),
        }
    }

    /// The URL a request goes to (query form-encoded, `+` for spaces, like the Python and Go SDKs).
    fn url(&self, req: &Request) -> Result<reqwest::Url, Error> {
        let endpoint = &self.target.endpoint;
        let mut text = if req.host == HostForm::Proxied {
            let portless = sls_client::Endpoint {
                port: None,
                ..endpoint.clone()
            };
            portless.base_url(req.project.as_deref())
        } else {
            endpoint.base_url(req.project.as_deref())
        };
        text.push_str(&req.path);
        if !req.query.is_empty() {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &req.query {
                query.append_pair(k, v);
            }
            text.push('?');
            text.push_str(&query.finish());
        }
        reqwest::Url::parse(&text).map_err(|e| Error::Url {
            url: text.clone(),
            reason: e.to_string(),
        })
    }

    /// The keys and version a request is signed with, if any.
    fn signer(&self, sign: Sign, key: Option<&(String, String)>) -> Option<Signer> {
        let t = &self.target;
        let (id, secret) = key.map_or((&t.access_key_id, &t.access_key_secret), |(i, s)| (i, s));
        let right = |version| Signer {
            version,
            access_key_id: id.clone(),
            secret: secret.clone(),
            region: t.region.clone(),
        };
        match sign {
            Sign::Target => Some(right(t.sign_version)),
            Sign::V1 => Some(right(SignVersion::V1)),
            Sign::V4 => Some(right(SignVersion::V4)),
            Sign::None => None,
            Sign::WrongSecret(v) => Some(Signer {
                secret: format!("{secret}-not-the-secret"),
                ..right(v)
            }),
            Sign::UnknownKey(v) => Some(Signer {
                access_key_id: "sls-conformance-unknown-access-key".to_owned(),
                ..right(v)
            }),
        }
    }

    /// The headers of a request, signed, in sending order (names lower-case).
    fn headers(&self, req: &Request, wire: &[u8]) -> Vec<(String, String)> {
        let now =
            chrono::Utc::now() + chrono::TimeDelta::try_seconds(req.skew_secs).unwrap_or_default();
        let signer = self.signer(req.sign, req.key.as_ref());
        let mut headers: Vec<(String, String)> = Vec::new();
        set(&mut headers, h::HOST, self.host_header(req));
        set(&mut headers, "user-agent", USER_AGENT.to_owned());
        set(&mut headers, h::X_LOG_APIVERSION, h::API_VERSION.to_owned());
        set(
            &mut headers,
            h::X_LOG_BODYRAWSIZE,
            req.body.len().to_string(),
        );
        if let Some(kind) = req.compression.header_value() {
            set(&mut headers, h::X_LOG_COMPRESSTYPE, kind.to_owned());
        }
        match &signer {
            Some(signer) => {
                for (name, value) in signer.dating_headers(now.timestamp(), wire) {
                    set(&mut headers, &name, value);
                }
            }
            // Unsigned requests are still dated, as SDKs date them.
            None => set(
                &mut headers,
                h::DATE,
                now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ),
        }
        for (name, value) in &req.headers {
            set(&mut headers, name, value.clone());
        }
        headers.retain(|(name, _)| !req.omitted.contains(name));
        if let Some(signer) = &signer {
            let authorization =
                signer.authorization(req.method.as_str(), &req.path, &req.query, &headers);
            set(&mut headers, h::AUTHORIZATION, authorization);
        }
        for (name, value) in &req.unsigned_headers {
            set(&mut headers, name, value.clone());
        }
        headers
    }

    /// Calls sls-emu's admin API (`/_sls-emu{path}`, unsigned, on the endpoint's host and
    /// port) with an optional JSON body; returns the status and the JSON answer (`null` when
    /// the body is not JSON). Real SLS answers 404 or an SLS error there.
    ///
    /// # Errors
    /// [`Error::Url`] or [`Error::Transport`].
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), Error> {
        let text = format!("{}/_sls-emu{path}", self.target.endpoint.base_url(None));
        let url = reqwest::Url::parse(&text).map_err(|e| Error::Url {
            url: text.clone(),
            reason: e.to_string(),
        })?;
        let mut rb = self.http.request(method.clone(), url.clone());
        if let Some(b) = body {
            rb = rb
                .header(h::CONTENT_TYPE, h::CONTENT_TYPE_JSON)
                .body(b.to_string());
        }
        let transport = |source| Error::Transport {
            method: method.to_string(),
            url: url.to_string(),
            source,
        };
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(transport)?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// Sends `req` and reads the whole answer.
    ///
    /// # Errors
    /// [`Error::Url`], [`Error::Header`] or [`Error::Protocol`] when the request cannot be
    /// formed; [`Error::Transport`] when no complete answer arrives.
    pub async fn send(&self, req: &Request) -> Result<Response, Error> {
        let url = self.url(req)?;
        let wire = compress(req.compression, &req.body)?;
        let headers = self.headers(req, &wire);
        let mut header_map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let bad = || Error::Header {
                name: name.clone(),
                value: value.clone(),
            };
            let header_name =
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let header_value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| bad())?;
            header_map.append(header_name, header_value);
        }
        let transport = |source| Error::Transport {
            method: req.method.to_string(),
            url: url.to_string(),
            source,
        };
        let http = if req.host == HostForm::Proxied {
            &self.proxied
        } else {
            &self.http
        };
        let mut builder = http
            .request(req.method.clone(), url.clone())
            .headers(header_map);
        if !wire.is_empty() || req.method == Method::POST || req.method == Method::PUT {
            builder = builder.body(wire);
        }
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The status and headers of an answer read off the socket, header names exactly as the
/// server wrote them (reqwest lower-cases names, so [`Response`] cannot show their case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHead {
    /// HTTP status.
    pub status: u16,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
}

/// Longest a raw exchange may take.
const RAW_TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    /// Sends `req` over a fresh plain-TCP HTTP/1.1 connection (`Connection: close`), signed
    /// like [`Client::send`], and returns the answer's status and headers with their names'
    /// case kept. `Ok(None)` for https endpoints, where this needs TLS the suite does not do
    /// by hand. The body is read and dropped.
    ///
    /// # Errors
    /// [`Error::Url`], [`Error::Protocol`] when the request cannot be formed;
    /// [`Error::Raw`] when the connection, the exchange or the answer's head fails.
    pub async fn send_raw_head(&self, req: &Request) -> Result<Option<RawHead>, Error> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let endpoint = &self.target.endpoint;
        if endpoint.scheme == sls_client::Scheme::Https {
            return Ok(None);
        }
        let url = self.url(req)?;
        let raw = |reason: String| Error::Raw {
            url: url.to_string(),
            reason,
        };
        let wire = compress(req.compression, &req.body)?;
        let addr = match self.target.connect_to {
            Some(to) => SocketAddr::new(to.ip(), endpoint.port.unwrap_or(to.port())),
            None => {
                let host = url.host_str().unwrap_or_default().to_owned();
                let mut found = tokio::net::lookup_host((host.as_str(), effective_port(endpoint)))
                    .await
                    .map_err(|e| raw(format!("resolving {host}: {e}")))?;
                found
                    .next()
                    .ok_or_else(|| raw(format!("{host} resolves to no address")))?
            }
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut text = format!("{} {target} HTTP/1.1\r\n", req.method);
        for (name, value) in self.headers(req, &wire) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        if !wire.is_empty() || req.method == Method::POST || req.method == Method::PUT {
            text.push_str(&format!("content-length: {}\r\n", wire.len()));
        }
        text.push_str("connection: close\r\n\r\n");
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.write_all(text.as_bytes()).await?;
            stream.write_all(&wire).await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = tokio::time::timeout(RAW_TIMEOUT, exchange)
            .await
            .map_err(|_| raw(format!("no complete answer within {RAW_TIMEOUT:?}")))?
            .map_err(|e| raw(e.to_string()))?;
        parse_raw_head(&answer).map(Some).map_err(raw)
    }
}

/// The status and headers of an HTTP/1.1 answer, or why they cannot be read.
fn parse_raw_head(answer: &[u8]) -> Result<RawHead, String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no complete head")?;
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
        .collect();
    Ok(RawHead { status, headers })
}

/// Sets header `name` (lower-case), replacing an existing one of the same name.
fn set(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    if let Some(slot) = headers.iter_mut().find(|(n, _)| n == name) {
        slot.1 = value;
    } else {
        headers.push((name.to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str) -> Client {
        Client::new(Target::new(endpoint, "ak", "sk").unwrap()).unwrap()
    }

    #[test]
    fn host_forms() {
        let c = client("localhost:18080");
        let req = Request::new(Method::GET, "/").project("p");
        assert_eq!(c.host_header(&req), "p.localhost:18080");
        assert_eq!(
            c.host_header(&req.clone().host(HostForm::WithoutPort)),
            "p.localhost"
        );
        let c = client("https://sls.example.com");
        let req = Request::new(Method::GET, "/");
        assert_eq!(c.host_header(&req), "sls.example.com");
        assert_eq!(
            c.host_header(&req.host(HostForm::WithPort)),
            "sls.example.com:443"
        );
    }

    #[test]
    fn url_encodes_query_like_the_sdks() {
        let c = client("localhost:1");
        let req = Request::new(Method::GET, "/logstores/ls/shards/0")
            .project("p")
            .query("type", "log")
            .query("cursor", "MTcwMDAwMDAwMDAwMDAwMDAwMA==")
            .query("x", "a b+c");
        assert_eq!(
            c.url(&req).unwrap().as_str(),
            "http://p.localhost:1/logstores/ls/shards/0?type=log&cursor=MTcwMDAwMDAwMDAwMDAwMDAwMA%3D%3D&x=a+b%2Bc"
        );
    }

    #[test]
    fn v1_headers_are_signed_and_late_headers_are_not() {
        let c = client("localhost:1");
        let req = Request::new(Method::POST, "/logstores")
            .project("p")
            .json(&serde_json::json!({"logstoreName": "ls"}))
            .header_after_signing("x-log-date", "late");
        let headers = c.headers(&req, &req.body);
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "host",
            "date",
            "content-md5",
            "content-type",
            "x-log-signaturemethod",
            "authorization",
            "x-log-date",
        ] {
            assert!(names.contains(&expected), "{expected} missing in {names:?}");
        }
        assert_eq!(names.last(), Some(&"x-log-date"));
    }

    #[test]
    fn raw_heads_keep_header_case() {
        let head = parse_raw_head(
            b"HTTP/1.1 200 OK\r\nX-Log-Progress: Complete\r\nx-log-count:  3\r\n\r\n[]",
        )
        .unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(
            head.headers,
            vec![
                ("X-Log-Progress".to_owned(), "Complete".to_owned()),
                ("x-log-count".to_owned(), "3".to_owned()),
            ]
        );
        assert!(parse_raw_head(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_raw_head(b"garbage\r\n\r\n").is_err());
    }

    #[test]
    fn v4_headers_have_no_date() {
        let c = client("localhost:1");
        let req = Request::new(Method::GET, "/logstores")
            .project("p")
            .sign(Sign::V4);
        let headers = c.headers(&req, &[]);
        assert!(headers.iter().all(|(n, _)| n != "date"));
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert!(auth.starts_with("SLS4-HMAC-SHA256 Credential=ak/"));
    }
}
