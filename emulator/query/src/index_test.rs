use super::*;

const TOKENS: &str = r#"[",", " ", ";", "=", "(", ")", "[", "]", "?", "/", ":", "\n", "\t"]"#;

fn parse(s: &str) -> Result<IndexConfig, IndexError> {
    IndexConfig::parse(s.as_bytes())
}

#[test]
fn a_full_index_parses_and_echoes_with_index_mode() {
    let body = format!(
        r#"{{"line": {{"token": {TOKENS}, "caseSensitive": false, "include_keys": ["msg"]}},
            "keys": {{"status": {{"type": "long", "doc_value": true}},
                      "latency": {{"type": "double"}},
                      "method": {{"type": "text", "token": {TOKENS}, "alias": "m"}},
                      "body": {{"type": "json", "token": {TOKENS}, "index_all": true, "max_depth": 3,
                                "json_keys": {{"user.id": {{"type": "long"}}}}}}}},
            "ttl": 30, "max_text_len": 2048, "log_reduce": false, "something_new": [1]}}"#
    );
    let cfg = parse(&body).unwrap();
    assert_eq!(cfg.field_type("status"), Some(FieldType::Long));
    assert_eq!(cfg.field_type("m"), Some(FieldType::Text), "alias");
    assert_eq!(cfg.field_type("nope"), None);
    let cols: Vec<String> = cfg.columns().into_iter().map(|(n, _)| n).collect();
    assert_eq!(cols, ["body", "latency", "method", "status"]);
    let json = cfg.to_json();
    assert_eq!(json["index_mode"], "v2");
    assert_eq!(
        json["something_new"],
        serde_json::json!([1]),
        "unknown fields echo"
    );
    assert_eq!(json["keys"]["status"]["doc_value"], true);
    assert_eq!(json["line"]["include_keys"], serde_json::json!(["msg"]));
    // What GetIndex answers parses back to the same index.
    let again = IndexConfig::parse(json.to_string().as_bytes()).unwrap();
    assert_eq!(again.keys, cfg.keys);
}

#[test]
fn bad_indexes_are_index_info_invalid() {
    for (case, body) in [
        ("not json", "{"),
        ("empty", "{}"),
        ("line without tokens", r#"{"line": {"token": []}}"#),
        ("long token", r#"{"line": {"token": [", "]}}"#),
        ("unknown type", r#"{"keys": {"a": {"type": "blob"}}}"#),
        (
            "text key without tokens",
            r#"{"keys": {"a": {"type": "text"}}}"#,
        ),
        (
            "json_keys on text",
            r#"{"keys": {"a": {"type": "text", "token": [" "], "json_keys": {}}}}"#,
        ),
        ("empty key name", r#"{"keys": {"": {"type": "long"}}}"#),
    ] {
        let e = parse(body).expect_err(case);
        assert_eq!(e.code(), "IndexInfoInvalid", "{case}");
        assert!(!e.to_string().is_empty(), "{case}");
    }
    // Long and double keys need no tokens; a key without a type is text.
    parse(r#"{"keys": {"a": {"type": "long"}, "b": {"token": [" "]}}}"#).unwrap();
    // The Go SDK sends `"token": null` for them.
    let go = parse(r#"{"keys": {"a": {"type": "long", "token": null, "caseSensitive": false}}}"#)
        .unwrap();
    assert!(go.keys["a"].token.is_empty());
    assert!(parse(r#"{"keys": {"a": {"type": "text", "token": null}}}"#).is_err());
}

#[test]
fn the_tokenizer_splits_on_each_delimiter() {
    let t = Tokenizer::new(&[" ".into(), "/".into(), "?".into(), "，".into()]);
    assert_eq!(
        t.tokens("GET /api/items?page=2"),
        ["GET", "api", "items", "page=2"]
    );
    assert_eq!(t.tokens("a，b  c"), ["a", "b", "c"], "non-ASCII delimiters");
    let mut seen = Vec::new();
    assert!(!t.any_token(b" x/y ", |tok| {
        seen.push(tok.to_vec());
        false
    }));
    assert_eq!(seen, [b"x".to_vec(), b"y".to_vec()]);
    assert!(t.any_token(b"one two", |tok| tok == b"two"));
}

#[test]
fn the_fast_token_search_agrees_with_splitting() {
    let t = Tokenizer::new(&[" ".into(), "/".into(), "=".into()]);
    let text = b"GET /api/Items?page=2 user=Alice";
    for (term, sensitive) in [
        (&b"get"[..], false),
        (b"GET", true),
        (b"get", true),
        (b"items?page", false),
        (b"api", false),
        (b"ap", false),
        (b"alice", false),
        (b"Alice", true),
        (b"2", false),
        (b"user", false),
        (b"x", false),
    ] {
        let slow = t.any_token(text, |tok| {
            if sensitive {
                tok == term
            } else {
                tok.eq_ignore_ascii_case(term)
            }
        });
        assert_eq!(
            t.has_ascii_token(text, term, sensitive),
            Some(slow),
            "{:?}",
            std::str::from_utf8(term)
        );
    }
    assert_eq!(
        Tokenizer::new(&["，".into()]).has_ascii_token(text, b"get", false),
        None
    );
}
