//! Replays requests captured from the official SLS clients (`tests/fixtures/captures/`, copied from
//! `shared/clients/captures/`): every signature must verify with the capture secret, no signature may
//! verify with another secret, and every PutLogs body must decompress and validate as the LogGroup the
//! recorder's `.decoded.txt` describes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use sls_protocol::compression::{decompress, CompressType};
use sls_protocol::proto::LogGroup;
use sls_protocol::signature::{
    content_md5_hex, decode_query, sha256_hex, verify, Authorization, SignRequest,
};
use sls_protocol::ProtocolError;

type TestResult = Result<(), Box<dyn Error>>;

/// Secret of access key `AKID_TEST`, used by every capture.
const SECRET: &str = "SECRET_TEST";
const ACCESS_KEY_ID: &str = "AKID_TEST";

/// One captured request.
struct Capture {
    file: PathBuf,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The recorder's decoded view, when it wrote one.
    decoded: Option<String>,
}

impl Capture {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn sign_request(&self) -> SignRequest<'_> {
        SignRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
        }
    }

    /// PutLogs: `POST /logstores/{ls}/shards/lb`, `.../shards/route` or (Go) `POST /logstores/{ls}`.
    fn is_put_logs(&self) -> bool {
        let segments: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        self.method == "POST"
            && matches!(
                segments.as_slice(),
                ["logstores", _] | ["logstores", _, "shards", "lb" | "route"]
            )
    }
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits a request target (origin or absolute form) into raw path and raw query.
fn split_target(target: &str) -> (&str, &str) {
    let origin = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    origin.split_once('?').unwrap_or((origin, ""))
}

fn load(file: &Path) -> Result<Capture, Box<dyn Error>> {
    let json: serde_json::Value = serde_json::from_slice(&fs::read(file)?)?;
    let text = |key: &str| -> Result<String, Box<dyn Error>> {
        Ok(json[key]
            .as_str()
            .ok_or_else(|| format!("{}: no {key}", file.display()))?
            .to_owned())
    };
    let request_line = text("requestline")?;
    let target = request_line
        .split(' ')
        .nth(1)
        .ok_or("request line without target")?;
    let (path, raw_query) = split_target(target);
    assert_eq!(path, text("path_only")?, "{}", file.display());
    let headers = json["headers"]
        .as_array()
        .ok_or("no headers")?
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let body = match json.get("body_file").and_then(|v| v.as_str()) {
        Some(name) => fs::read(file.with_file_name(name))?,
        None => Vec::new(),
    };
    assert_eq!(
        Some(body.len() as u64),
        json["body_len"].as_u64(),
        "{}",
        file.display()
    );
    let decoded_path = file.with_extension("decoded.txt");
    let decoded = decoded_path
        .exists()
        .then(|| fs::read_to_string(&decoded_path))
        .transpose()?;
    let capture = Capture {
        file: file.to_owned(),
        method: text("method")?,
        path: path.to_owned(),
        query: decode_query(raw_query),
        headers,
        body,
        decoded,
    };
    // The recorder's own decoded "query" object must agree with ours.
    let recorded = json["query"].as_object().ok_or("no query object")?;
    assert_eq!(recorded.len(), capture.query.len(), "{}", file.display());
    for (key, value) in &capture.query {
        assert_eq!(
            recorded.get(key).and_then(|v| v.as_str()),
            Some(value.as_str()),
            "{}",
            file.display()
        );
    }
    Ok(capture)
}

fn all_captures() -> Result<Vec<Capture>, Box<dyn Error>> {
    let mut files = Vec::new();
    json_files(&fixtures_root(), &mut files)?;
    files.sort();
    files.iter().map(|f| load(f)).collect()
}

#[test]
fn every_captured_signature_verifies() -> TestResult {
    let captures = all_captures()?;
    let (mut v1, mut v4) = (0, 0);
    for capture in &captures {
        let header = capture
            .header("authorization")
            .ok_or_else(|| format!("{}: no Authorization", capture.file.display()))?;
        let auth = Authorization::parse(header)?;
        assert_eq!(auth.access_key_id(), ACCESS_KEY_ID);
        match &auth {
            Authorization::V1 { .. } => v1 += 1,
            Authorization::V4 { region, .. } => {
                assert_eq!(region, "cn-hangzhou");
                v4 += 1;
            }
        }
        if let Err(e) = verify(&auth, SECRET, &capture.sign_request()) {
            panic!("{}: {e}", capture.file.display());
        }
    }
    assert_eq!(captures.len(), 86);
    assert_eq!((v1, v4), (76, 10));
    Ok(())
}

#[test]
fn another_secret_fails_every_signature() -> TestResult {
    for capture in all_captures()? {
        let auth = Authorization::parse(capture.header("authorization").unwrap())?;
        for secret in ["SECRET_TESU", "", "secret_test"] {
            let result = verify(&auth, secret, &capture.sign_request());
            assert!(
                matches!(result, Err(ProtocolError::SignatureMismatch)),
                "{}: {result:?}",
                capture.file.display()
            );
        }
    }
    Ok(())
}

#[test]
fn a_changed_request_fails_its_signature() -> TestResult {
    for capture in all_captures()? {
        let auth = Authorization::parse(capture.header("authorization").unwrap())?;
        let other_path = format!("{}x", capture.path);
        let changed = SignRequest {
            path: &other_path,
            ..capture.sign_request()
        };
        assert!(matches!(
            verify(&auth, SECRET, &changed),
            Err(ProtocolError::SignatureMismatch)
        ));
    }
    Ok(())
}

#[test]
fn body_digests_match_their_headers() -> TestResult {
    for capture in all_captures()? {
        if let Some(md5) = capture.header("content-md5") {
            assert_eq!(
                md5,
                content_md5_hex(&capture.body),
                "{}",
                capture.file.display()
            );
        }
        if let Some(sha) = capture.header("x-log-content-sha256") {
            assert_eq!(sha, sha256_hex(&capture.body), "{}", capture.file.display());
        }
    }
    Ok(())
}

/// `LogGroup: 3 logs, Topic='topic' Source='src' LogTags=[...]` from a `.decoded.txt`.
struct DecodedSummary {
    logs: usize,
    topic: String,
    source: String,
}

fn summary(decoded: &str) -> Option<DecodedSummary> {
    let line = decoded.lines().find_map(|l| l.strip_prefix("LogGroup: "))?;
    let (count, rest) = line.split_once(" logs, ")?;
    let quoted = |name: &str| -> Option<String> {
        let start = rest.find(&format!("{name}='"))? + name.len() + 2;
        let len = rest.get(start..)?.find('\'')?;
        Some(rest.get(start..start + len)?.to_owned())
    };
    Some(DecodedSummary {
        logs: count.parse().ok()?,
        topic: quoted("Topic")?,
        source: quoted("Source")?,
    })
}

#[test]
fn every_put_logs_body_decompresses_and_validates() -> TestResult {
    let mut checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for capture in all_captures()?.iter().filter(|c| c.is_put_logs()) {
        let name = capture.file.display();
        let kind = CompressType::from_header(capture.header("x-log-compresstype"))?;
        kinds.insert(format!("{kind:?}"));
        let raw_size = match capture.header("x-log-bodyrawsize") {
            Some(v) => v.parse()?,
            None => capture.body.len(),
        };
        let raw = decompress(kind, &capture.body, raw_size)?;
        let count = LogGroup::validate(&raw)?;
        let group = LogGroup::decode_validated(&raw)?;
        assert_eq!(group.logs.len(), count, "{name}");
        let expected =
            summary(capture.decoded.as_deref().ok_or("no .decoded.txt")?).ok_or("no summary")?;
        assert_eq!(count, expected.logs, "{name}");
        assert_eq!(
            group.topic.as_deref(),
            Some(expected.topic.as_bytes()),
            "{name}"
        );
        assert_eq!(
            group.source.as_deref(),
            Some(expected.source.as_bytes()),
            "{name}"
        );
        // A wrong raw size must be caught.
        assert!(
            decompress(kind, &capture.body, raw_size + 1).is_err(),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec!["Lz4", "None", "Zstd"]
    );
    Ok(())
}

#[test]
fn absolute_form_targets_split_like_origin_form() {
    assert_eq!(
        split_target("http://proj.localhost:18080/logstores/ls?a=1"),
        ("/logstores/ls", "a=1")
    );
    assert_eq!(split_target("http://proj.localhost"), ("/", ""));
    assert_eq!(
        split_target("/logstores/ls/shards/lb?"),
        ("/logstores/ls/shards/lb", "")
    );
}
