use bytes::Bytes;
use proptest::prelude::*;
use sls_protocol::proto::{LogContent, LogTag};

use super::*;
use crate::index::IndexConfig;

fn index() -> IndexConfig {
    let tokens = r#"[",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<", ">", "/", ":", "\n", "\t", "\r"]"#;
    IndexConfig::parse(
        format!(
            r#"{{"line": {{"token": {tokens}, "caseSensitive": false, "exclude_keys": ["secret"]}},
                "keys": {{"method": {{"type": "text", "token": {tokens}}},
                          "Path": {{"type": "text", "token": {tokens}, "caseSensitive": true}},
                          "status": {{"type": "long"}},
                          "latency": {{"type": "double"}},
                          "req": {{"type": "json", "token": {tokens}, "json_keys": {{"user": {{"type": "text"}}, "size": {{"type": "long"}}}}}},
                          "__tag__:host": {{"type": "text", "token": {tokens}}}}}}}"#
        )
        .as_bytes(),
    )
    .unwrap()
}

struct Log {
    contents: Vec<LogContent>,
    tags: Vec<LogTag>,
    topic: &'static str,
}

fn log(pairs: &[(&str, &str)]) -> Log {
    Log {
        contents: pairs
            .iter()
            .map(|(k, v)| LogContent {
                key: Bytes::copy_from_slice(k.as_bytes()),
                value: Bytes::copy_from_slice(v.as_bytes()),
            })
            .collect(),
        tags: vec![LogTag {
            key: Bytes::from_static(b"host"),
            value: Bytes::from_static(b"web-1.example"),
        }],
        topic: "access",
    }
}

impl Log {
    fn row(&self) -> Row<'_> {
        Row {
            time: 1_700_000_000,
            time_ns: None,
            topic: self.topic.as_bytes(),
            source: b"10.0.0.1",
            tags: &self.tags,
            contents: &self.contents,
        }
    }
}

fn sample() -> Log {
    log(&[
        ("method", "GET"),
        ("Path", "/api/Items"),
        ("status", "500"),
        ("latency", "12.5"),
        ("msg", "user alice fetched cn-shanghai items"),
        ("secret", "hunter2"),
        ("req", r#"{"user": "bob", "size": 42}"#),
    ])
}

fn m(q: &str) -> bool {
    let s = Search::parse(q, &index()).unwrap_or_else(|e| panic!("{q}: {e}"));
    s.matches(&sample().row())
}

fn err(q: &str) -> SearchError {
    Search::parse(q, &index()).expect_err(q)
}

#[test]
fn split_cuts_at_the_first_pipe_outside_quotes() {
    assert_eq!(split("a and b | select 1"), ("a and b", Some("select 1")));
    assert_eq!(
        split(r#"msg: "a|b" | select 1"#),
        (r#"msg: "a|b""#, Some("select 1"))
    );
    assert_eq!(split("| select 1"), ("", Some("select 1")));
    assert_eq!(split("  error "), ("error", None));
}

#[test]
fn everything_and_full_text() {
    assert!(m("*"));
    assert!(m(""));
    assert!(m("alice"));
    assert!(m("ALICE"), "the line index is case-insensitive");
    assert!(!m("carol"));
    assert!(m("cn-shanghai"), "- is not a delimiter here");
    assert!(!m("hunter2"), "exclude_keys");
    assert!(m("ali*"));
    assert!(m("al?ce"));
    assert!(!m("al?e"));
    assert!(m(r#""user alice""#), "quoted: every token present");
    assert!(m(r#"#"user alice""#), "phrase: adjacent, in order");
    assert!(!m(r#"#"alice user""#));
    assert!(!m(r#""and""#), "a quoted keyword is a term");
}

#[test]
fn keys_by_type() {
    assert!(m("method: get"));
    assert!(m("method:GET"));
    assert!(!m("method: POST"));
    assert!(m("Path: Items"));
    assert!(!m("Path: items"), "case-sensitive key");
    assert!(m("status: 500"));
    assert!(m("status = 500"));
    assert!(m("status >= 500 and status < 501"));
    assert!(!m("status > 500"));
    assert!(m("latency > 12.4"));
    assert!(m("latency in [12.5 13]"));
    assert!(!m("latency in (12.5 13]"));
    assert!(m("status in [400 600)"));
    assert!(m("method: *"));
    assert!(m("req.user: bob"));
    assert!(m("req.size > 40"));
    assert!(m("__topic__: access"));
    assert!(!m("__topic__: other"));
    assert!(m("__source__: 10.0.0.1"));
    assert!(m("__tag__:host: web-1*"));
    assert!(m(r"__tag__\:host: WEB-1.example"));
    assert!(!m("__tag__:host: web"));
}

#[test]
fn operators_and_precedence() {
    assert!(m("method: GET and status: 500"));
    assert!(m("method: GET status: 500"), "adjacency is and");
    assert!(m("method: POST or status: 500"));
    assert!(!m("not method: GET"));
    assert!(m("method: GET not status: 200"), "binary not");
    assert!(m("method: POST or method: GET and status: 500"));
    assert!(!m("(method: POST or method: GET) and status: 200"));
    assert!(m("NOT (method: POST) AND alice"));
}

#[test]
fn errors_never_guess() {
    let e = err("nokey: 1");
    assert_eq!(e.code, "ParameterInvalid");
    assert_eq!(e.message, "key (nokey) is not config as key value config");
    for q in [
        "method: GET and",
        "(alice",
        "alice)",
        "status > x",
        "method > 3",
        "latency in [1",
        "*ice",
        r#"msg: "unterminated"#,
        "or alice",
    ] {
        let e = err(q);
        assert_eq!(e.code, "ParameterInvalid", "{q}");
    }
    let many = vec!["alice"; MAX_CONDITIONS + 1].join(" and ");
    assert!(err(&many).message.contains("at most 30"));
    let keys_only = IndexConfig::parse(br#"{"keys": {"a": {"type": "long"}}}"#).unwrap();
    assert!(Search::parse("alice", &keys_only).is_err(), "no line index");
    assert!(Search::parse("a > 1", &keys_only).is_ok());
}

proptest! {
    #[test]
    fn parse_never_panics(q in "\\PC{0,40}") {
        let _ = Search::parse(&q, &index());
        let _ = split(&q);
    }

    #[test]
    fn parse_never_panics_on_query_like_text(q in "[a-z*?():\\[\\]<>=#\" ]{0,30}") {
        if let Ok(s) = Search::parse(&q, &index()) {
            let _ = s.matches(&sample().row());
        }
    }
}
