//! A small signed HTTP client for raw requests (exact headers and bodies, good or bad).

use std::net::SocketAddr;

use prost::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sls_emulator::testing::TestServer;
use sls_protocol::compression::{compress, CompressType};
use sls_protocol::cursor::decode_cursor;
use sls_protocol::proto::{Log, LogContent, LogGroup, LogGroupList};
use sls_protocol::signer::Signer;

/// How to sign.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sign {
    /// With the server's key pair.
    Good,
    /// With a wrong secret.
    WrongSecret,
    /// No Authorization header.
    None,
}

/// A raw request.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: reqwest::Method,
    pub project: Option<String>,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub sign: Sign,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts an SLS error answer and returns it for chaining.
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        self.assert_case_error("", status, code)
    }

    /// [`Resp::assert_error`], naming the test case in every failure message.
    pub fn assert_case_error(&self, case: &str, status: u16, code: &str) -> &Self {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{case}: status for {code}: {text}");
        let v = self.json();
        assert_eq!(v["errorCode"], code, "{case}: {text}");
        assert!(
            v["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}: {text}"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{case}"
        );
        let id = self.header("x-log-requestid").expect("x-log-requestid");
        assert_eq!(id.len(), 24, "{case}: {id}");
        self
    }

    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert!(self.header("x-log-requestid").is_some());
        self
    }
}

impl Req {
    pub fn new(method: &str, project: Option<&str>, path: &str) -> Req {
        Req {
            method: method.parse().unwrap(),
            project: project.map(str::to_string),
            path: path.to_string(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            sign: Sign::Good,
        }
    }

    pub fn q(mut self, k: &str, v: &str) -> Req {
        self.query.push((k.into(), v.into()));
        self
    }

    pub fn h(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_ascii_lowercase(), v.into()));
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Req {
        self.body = b.into();
        self
    }

    pub fn json(self, v: serde_json::Value) -> Req {
        self.h("content-type", "application/json")
            .body(v.to_string())
    }

    pub fn sign(mut self, s: Sign) -> Req {
        self.sign = s;
        self
    }
}

/// A PutLogs of one LogGroup (lz4) to `/shards/lb`.
pub fn put_req(project: &str, logstore: &str, ids: &[impl AsRef<str>]) -> Req {
    let ids: Vec<String> = ids.iter().map(|s| s.as_ref().to_string()).collect();
    let raw = group(&ids).encode_to_vec();
    let body = compress(CompressType::Lz4, &raw).unwrap();
    Req::new(
        "POST",
        Some(project),
        &format!("/logstores/{logstore}/shards/lb"),
    )
    .h("content-type", "application/x-protobuf")
    .h("x-log-compresstype", "lz4")
    .h("x-log-bodyrawsize", &raw.len().to_string())
    .body(body)
}

/// The client for one server.
pub struct Client {
    http: reqwest::Client,
    addr: SocketAddr,
    domain: String,
    pub key_id: String,
    pub secret: String,
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let c = server.config();
        Self::to(server.addr(), &c.access_key_id, &c.access_key_secret)
    }

    /// A client for an emulator at `addr` with the default endpoint domain.
    pub fn to(addr: SocketAddr, key_id: &str, secret: &str) -> Client {
        Client {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            addr,
            domain: "localhost".into(),
            key_id: key_id.into(),
            secret: secret.into(),
        }
    }

    pub async fn send(&self, r: Req) -> Resp {
        let host = match &r.project {
            Some(p) => format!("{p}.{}:{}", self.domain, self.addr.port()),
            None => format!("{}:{}", self.domain, self.addr.port()),
        };
        let secret = match r.sign {
            Sign::WrongSecret => "wrong-secret",
            _ => &self.secret,
        };
        let signer = Signer::v1(&self.key_id, secret);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut headers = vec![("x-log-apiversion".to_string(), "0.6.0".to_string())];
        headers.extend(signer.dating_headers(now, &r.body));
        // Explicit headers replace the defaults (a test may send a bad date or digest).
        headers.retain(|(k, _)| !r.headers.iter().any(|(k2, _)| k2 == k));
        headers.extend(r.headers.iter().cloned());
        if r.sign != Sign::None && !headers.iter().any(|(k, _)| k == "authorization") {
            let auth = signer.authorization(r.method.as_str(), &r.path, &r.query, &headers);
            headers.push(("authorization".into(), auth));
        }
        let mut url = reqwest::Url::parse(&format!("http://{}{}", self.addr, r.path)).unwrap();
        if !r.query.is_empty() {
            url.query_pairs_mut().extend_pairs(r.query.iter());
        }
        let mut hm = HeaderMap::new();
        hm.insert("host", HeaderValue::from_str(&host).unwrap());
        for (k, v) in headers {
            hm.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        let resp = self
            .http
            .request(r.method.clone(), url)
            .headers(hm)
            .body(r.body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Creates a project and a logstore with `shards` shards.
    pub async fn setup(&self, project: &str, logstore: &str, shards: u32) {
        self.send(
            Req::new("POST", Some(project), "/")
                .json(serde_json::json!({"projectName": project, "description": ""})),
        )
        .await
        .assert_ok();
        self.send(
            Req::new("POST", Some(project), "/logstores").json(
                serde_json::json!({"logstoreName": logstore, "ttl": 30, "shardCount": shards}),
            ),
        )
        .await
        .assert_ok();
    }

    /// Writes one LogGroup (lz4) with the given `id` values, to a hash key or load-balanced.
    pub async fn put(
        &self,
        project: &str,
        logstore: &str,
        ids: &[String],
        key: Option<&str>,
    ) -> Resp {
        let mut r = put_req(project, logstore, ids);
        if let Some(k) = key {
            r.path = format!("/logstores/{logstore}/shards/route");
            r = r.q("key", k);
        }
        self.send(r).await
    }

    /// Writes one LogGroup (lz4) to `/shards/route?key=&seqid=` (values sent as given).
    pub async fn put_seqid(
        &self,
        project: &str,
        logstore: &str,
        ids: &[String],
        key: &str,
        seqid: &str,
    ) -> Resp {
        let raw = group(ids).encode_to_vec();
        let body = compress(CompressType::Lz4, &raw).unwrap();
        let r = Req::new(
            "POST",
            Some(project),
            &format!("/logstores/{logstore}/shards/route"),
        )
        .q("key", key)
        .q("seqid", seqid)
        .h("content-type", "application/x-protobuf")
        .h("x-log-compresstype", "lz4")
        .h("x-log-bodyrawsize", &raw.len().to_string())
        .body(body);
        self.send(r).await
    }

    pub async fn cursor(&self, project: &str, logstore: &str, shard: u32, from: &str) -> String {
        let r = self
            .send(
                Req::new(
                    "GET",
                    Some(project),
                    &format!("/logstores/{logstore}/shards/{shard}"),
                )
                .q("type", "cursor")
                .q("from", from),
            )
            .await;
        r.assert_ok();
        r.json()["cursor"].as_str().unwrap().to_string()
    }

    /// Every `id` value stored in a shard, in order.
    pub async fn read_ids(&self, project: &str, logstore: &str, shard: u32) -> Vec<String> {
        let mut cursor = self.cursor(project, logstore, shard, "begin").await;
        let end = self.cursor(project, logstore, shard, "end").await;
        let mut ids = Vec::new();
        while decode_cursor(&cursor).unwrap() < decode_cursor(&end).unwrap() {
            let r = self
                .send(
                    Req::new(
                        "GET",
                        Some(project),
                        &format!("/logstores/{logstore}/shards/{shard}"),
                    )
                    .q("type", "log")
                    .q("cursor", &cursor)
                    .q("count", "1000"),
                )
                .await;
            r.assert_ok();
            let list = LogGroupList::decode(r.body.as_slice()).unwrap();
            for g in list.log_groups {
                for l in g.logs {
                    for c in l.contents {
                        if c.key.as_ref() == b"id" {
                            ids.push(String::from_utf8(c.value.to_vec()).unwrap());
                        }
                    }
                }
            }
            cursor = r.header("x-log-cursor").unwrap().to_string();
        }
        ids
    }
}

/// A LogGroup with one log per id.
pub fn group(ids: &[String]) -> LogGroup {
    LogGroup {
        logs: ids
            .iter()
            .map(|id| Log {
                time: Some(1_700_000_000),
                contents: vec![LogContent {
                    key: "id".into(),
                    value: id.clone().into(),
                }],
                time_ns: None,
            })
            .collect(),
        topic: Some("t".into()),
        source: Some("s".into()),
        ..Default::default()
    }
}
