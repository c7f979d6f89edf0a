//! The case registry, one module per API group, and the helpers cases share (writing a
//! LogGroup, getting cursors, pulling and decoding).
//!
//! Every case names the behaviour it checks and its source: a section of
//! `shared/protocol/SLS-API.md` (`§n`), of `shared/protocol/CONSUMERS-AND-PRODUCERS.md`
//! (`C&P §n`), or a capture under `shared/clients/captures/`. Facts the docs mark as inferred
//! say `[INF]` in their source. Helpers here record checks but decide nothing on their own.

mod auth;
mod checkpoints;
mod consumer_groups;
mod cursors;
mod errors;
mod logstores;
mod projects;
mod pull;
mod put;
mod query;
mod shards;
mod signatures;
mod split_merge;

use serde_json::{json, Value};
use sls_protocol::compression::{decompress, CompressType};
use sls_protocol::cursor::{decode_cursor, encode_cursor};
use sls_protocol::headers as h;
use sls_protocol::proto::{Log, LogContent, LogGroup, LogGroupList, LogTag, Message};

use crate::case::{Case, CaseCtx, CaseResult, Resource, Stop};
use crate::client::{Method, Request, Response};
use crate::runner::wait_for_logstore;

/// Every registered case, grouped, in report order.
pub fn registry() -> Vec<Case> {
    [
        projects::CASES,
        logstores::CASES,
        shards::CASES,
        split_merge::CASES,
        cursors::CASES,
        pull::CASES,
        put::CASES,
        consumer_groups::CASES,
        checkpoints::CASES,
        signatures::CASES,
        errors::CASES,
        auth::CASES,
        query::CASES,
    ]
    .concat()
}

/// Now, in unix seconds, as a log time.
pub(crate) fn now_secs() -> u32 {
    u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX)
}

/// A LogGroup of `n` logs stamped now, with topic, source, a tag and a nanosecond part, whose
/// contents name the case (so data seen in a shard can be traced to the case that wrote it).
pub(crate) fn sample_group(case_id: &str, n: usize) -> LogGroup {
    let time = now_secs();
    LogGroup {
        logs: (0..n)
            .map(|i| Log {
                time: Some(time),
                contents: vec![
                    LogContent {
                        key: "case".into(),
                        value: case_id.to_owned().into(),
                    },
                    LogContent {
                        key: "seq".into(),
                        value: i.to_string().into(),
                    },
                    LogContent {
                        key: "msg".into(),
                        value: format!("sls-conformance log {i} of {n}").into(),
                    },
                ],
                time_ns: Some(123_456_789),
            })
            .collect(),
        category: None,
        topic: Some("conformance".into()),
        source: Some("10.0.0.1".into()),
        machine_uuid: None,
        log_tags: vec![LogTag {
            key: "__pack_id__".into(),
            value: "5F3C2A1B-0".into(),
        }],
    }
}

/// The §5.3 test vector: one log `k=v` at 1700000000 with TimeNs 123, topic, source and a
/// `__pack_id__` tag; its time is moved to now so that real SLS accepts it.
pub(crate) fn vector_group() -> LogGroup {
    LogGroup {
        logs: vec![Log {
            time: Some(now_secs()),
            contents: vec![LogContent {
                key: "k".into(),
                value: "v".into(),
            }],
            time_ns: Some(123),
        }],
        category: None,
        topic: Some("topic".into()),
        source: Some("10.0.0.1".into()),
        machine_uuid: None,
        log_tags: vec![LogTag {
            key: "__pack_id__".into(),
            value: "5F3C2A1B-0".into(),
        }],
    }
}

/// A compact text form of a LogGroup for reports.
pub(crate) fn describe(group: &LogGroup) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let logs: Vec<String> = group
        .logs
        .iter()
        .map(|l| {
            let fields: Vec<String> = l
                .contents
                .iter()
                .map(|c| format!("{}={}", text(&c.key), text(&c.value)))
                .collect();
            format!(
                "{{time={:?} ns={:?} {}}}",
                l.time,
                l.time_ns,
                fields.join(" ")
            )
        })
        .collect();
    let tags: Vec<String> = group
        .log_tags
        .iter()
        .map(|t| format!("{}={}", text(&t.key), text(&t.value)))
        .collect();
    format!(
        "topic={:?} source={:?} tags=[{}] logs=[{}]",
        group.topic.as_deref().map(text),
        group.source.as_deref().map(text),
        tags.join(" "),
        logs.join(" ")
    )
}

/// Whether `got` holds what `sent` wrote: same logs, topic and source, and every sent tag
/// (the server may add its own tags).
pub(crate) fn same_group(sent: &LogGroup, got: &LogGroup) -> bool {
    sent.logs == got.logs
        && sent.topic == got.topic
        && sent.source == got.source
        && sent.log_tags.iter().all(|t| got.log_tags.contains(t))
}

/// Checks that `got` holds exactly the groups of `sent`, in order ([`same_group`] each),
/// showing both as [`describe`]d lists joined by ` | `.
pub(crate) fn check_groups(
    ctx: &mut CaseCtx,
    what: impl Into<String>,
    sent: &[LogGroup],
    got: &[LogGroup],
) -> CaseResult {
    let shown = |groups: &[LogGroup]| groups.iter().map(describe).collect::<Vec<_>>().join(" | ");
    ctx.check(
        what,
        shown(sent),
        shown(got),
        got.len() == sent.len() && sent.iter().zip(got).all(|(s, g)| same_group(s, g)),
    )
}

/// Where a PutLogs goes (SLS-API.md §4.7.1).
#[derive(Debug, Clone)]
pub(crate) enum PutPath {
    /// `POST /logstores/{ls}/shards/lb` (Java, Python, Rust, Node).
    Lb,
    /// `POST /logstores/{ls}` (Go).
    Go,
    /// `POST /logstores/{ls}/shards/route?key=` (Java, Python, Go).
    Route(String),
}

/// A PutLogs request of `raw` bytes (protobuf), compressed as `kind`.
pub(crate) fn put_request(
    ctx: &CaseCtx,
    logstore: &str,
    path: &PutPath,
    raw: Vec<u8>,
    kind: CompressType,
) -> Request {
    let req = match path {
        PutPath::Lb => ctx.request(Method::POST, format!("/logstores/{logstore}/shards/lb")),
        PutPath::Go => ctx.request(Method::POST, format!("/logstores/{logstore}")),
        PutPath::Route(key) => ctx
            .request(Method::POST, format!("/logstores/{logstore}/shards/route"))
            .query("key", key.clone()),
    };
    req.protobuf(raw).compress(kind)
}

/// Writes `group` and checks the empty 200 answer.
pub(crate) async fn put_ok(
    ctx: &mut CaseCtx,
    logstore: &str,
    group: &LogGroup,
    path: PutPath,
    kind: CompressType,
) -> Result<(), Stop> {
    let req = put_request(ctx, logstore, &path, group.encode_to_vec(), kind);
    let resp = ctx.send(req).await?;
    ctx.check_empty_ok(format!("PutLogs {path:?} ({kind:?})"), &resp)
}

/// GetCursor `from` on a shard: checks the 200 `{"cursor": "..."}` answer and returns the
/// cursor text.
pub(crate) async fn get_cursor(
    ctx: &mut CaseCtx,
    logstore: &str,
    shard: u32,
    from: &str,
) -> Result<String, Stop> {
    let req = ctx
        .request(Method::GET, format!("/logstores/{logstore}/shards/{shard}"))
        .query("type", "cursor")
        .query("from", from);
    let resp = ctx.send(req).await?;
    let body = ctx.require_json(format!("GetCursor from={from} shard {shard}"), &resp)?;
    match body.get("cursor").and_then(Value::as_str) {
        Some(c) => Ok(c.to_owned()),
        None => Err(ctx.fail(
            "GetCursor body (§4.5)",
            "{\"cursor\": <string>}",
            body.to_string(),
        )),
    }
}

/// A cursor's integer (SLS-API.md §7), or a failed check.
pub(crate) fn cursor_value(ctx: &mut CaseCtx, what: &str, cursor: &str) -> Result<i64, Stop> {
    match decode_cursor(cursor) {
        Ok(v) => Ok(v),
        Err(e) => Err(ctx.fail(
            format!("{what} (§7)"),
            "base64 of a decimal int64",
            format!("{cursor:?} ({e})"),
        )),
    }
}

/// The end cursor integer of a shard.
pub(crate) async fn end_cursor(ctx: &mut CaseCtx, logstore: &str, shard: u32) -> Result<i64, Stop> {
    let c = get_cursor(ctx, logstore, shard, "end").await?;
    cursor_value(ctx, "end cursor", &c)
}

/// A PullLogs request (Java/Python form: `type=log`, `Accept: application/x-protobuf`).
/// `accept_encoding` is sent when given.
pub(crate) fn pull_request(
    ctx: &CaseCtx,
    logstore: &str,
    shard: u32,
    cursor: &str,
    count: u32,
    accept_encoding: Option<&str>,
) -> Request {
    let req = ctx
        .request(Method::GET, format!("/logstores/{logstore}/shards/{shard}"))
        .query("type", "log")
        .query("cursor", cursor)
        .query("count", count.to_string())
        .header("accept", h::CONTENT_TYPE_PROTOBUF);
    match accept_encoding {
        Some(enc) => req.header(h::ACCEPT_ENCODING, enc),
        None => req,
    }
}

/// Pulls (lz4) from a cursor integer and checks the 200.
pub(crate) async fn pull(
    ctx: &mut CaseCtx,
    logstore: &str,
    shard: u32,
    cursor: i64,
    count: u32,
) -> Result<Response, Stop> {
    let req = pull_request(
        ctx,
        logstore,
        shard,
        &encode_cursor(cursor),
        count,
        Some("lz4"),
    );
    let resp = ctx.send(req).await?;
    ctx.check_ok(format!("PullLogs shard {shard} count={count}"), &resp)?;
    Ok(resp)
}

/// Decodes a PullLogs body per its `x-log-compresstype` and `x-log-bodyrawsize`
/// (SLS-API.md §4.6, §6), checking the size and that `x-log-count` matches.
pub(crate) fn pulled_groups(ctx: &mut CaseCtx, resp: &Response) -> Result<Vec<LogGroup>, Stop> {
    let raw_size = ctx.require_header(
        "PullLogs x-log-bodyrawsize (§4.6)",
        resp,
        h::X_LOG_BODYRAWSIZE,
    )?;
    let Ok(raw_size) = raw_size.trim().parse::<usize>() else {
        return Err(ctx.fail(
            "PullLogs x-log-bodyrawsize (§4.6)",
            "a decimal byte count",
            raw_size,
        ));
    };
    let kind_header = resp.header(h::X_LOG_COMPRESSTYPE).map(str::to_owned);
    let kind = match CompressType::from_header(kind_header.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            return Err(ctx.fail(
                "PullLogs x-log-compresstype (§6)",
                "lz4, zstd, deflate or absent",
                e,
            ))
        }
    };
    let raw = match decompress(kind, &resp.body, raw_size) {
        Ok(raw) => raw,
        Err(e) => {
            return Err(ctx.fail(
                format!("PullLogs body decompresses ({kind:?}) to x-log-bodyrawsize bytes (§6)"),
                format!("{raw_size} bytes"),
                e,
            ))
        }
    };
    let list = match LogGroupList::decode(raw.as_slice()) {
        Ok(list) => list,
        Err(e) => {
            return Err(ctx.fail(
                "PullLogs body is a LogGroupList (§5.1)",
                "protobuf LogGroupList",
                e,
            ))
        }
    };
    let count = ctx.require_header("PullLogs x-log-count (§4.6)", resp, h::X_LOG_COUNT)?;
    ctx.check(
        "x-log-count equals the LogGroups in the body (§2.5, §13.3)",
        list.log_groups.len(),
        &count,
        count.trim() == list.log_groups.len().to_string(),
    )?;
    Ok(list.log_groups)
}

/// Creates a logstore of `shards` shards for this case only (deleted afterwards).
pub(crate) async fn temp_logstore(ctx: &mut CaseCtx, shards: u32) -> Result<String, Stop> {
    temp_logstore_with(ctx, shards, &[]).await
}

/// [`temp_logstore`] with extra CreateLogStore body fields.
pub(crate) async fn temp_logstore_with(
    ctx: &mut CaseCtx,
    shards: u32,
    extra: &[(&str, Value)],
) -> Result<String, Stop> {
    let name = ctx.temp_name("ls");
    let mut body = json!({"logstoreName": name, "ttl": 1, "shardCount": shards});
    if let Some(obj) = body.as_object_mut() {
        for (k, v) in extra {
            obj.insert((*k).to_owned(), v.clone());
        }
    }
    let req = ctx.request(Method::POST, "/logstores").json(&body);
    let resp = ctx.send(req).await?;
    ctx.track(Resource::Logstore {
        project: ctx.project().to_owned(),
        name: name.clone(),
    });
    ctx.check_empty_ok(format!("CreateLogStore {body}"), &resp)?;
    let settle = ctx.settle();
    wait_for_logstore(ctx.client(), ctx.project(), &name, settle).await?;
    Ok(name)
}

/// JSON types the SDKs insist on (SLS-API.md §4.2, §4.3, §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A JSON string.
    Str,
    /// A JSON string of decimal digits (project times, §4.2).
    DigitStr,
    /// A JSON integer.
    Int,
    /// A JSON boolean.
    Bool,
    /// A JSON array.
    Array,
}

impl Kind {
    fn matches(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::DigitStr => v
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())),
            Kind::Int => v.is_i64() || v.is_u64(),
            Kind::Bool => v.is_boolean(),
            Kind::Array => v.is_array(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::DigitStr => "a string of decimal digits",
            Kind::Int => "an integer",
            Kind::Bool => "a boolean",
            Kind::Array => "an array",
        }
    }
}

/// Checks that `obj` has every field of `fields` with its JSON type.
pub(crate) fn check_fields(
    ctx: &mut CaseCtx,
    what: &str,
    obj: &Value,
    fields: &[(&str, Kind)],
) -> Result<(), Stop> {
    for (name, kind) in fields {
        let v = obj.get(*name);
        ctx.check(
            format!("{what}: field {name}"),
            kind.name(),
            v.map_or("absent".to_owned(), Value::to_string),
            v.is_some_and(|v| kind.matches(v)),
        )?;
    }
    Ok(())
}

/// `floor(i · 2^128 / n)` (SLS-API.md §8), with `i == n` mapped to `ff…ff` (the last end key).
pub(crate) fn even_cut(i: u32, n: u32) -> u128 {
    if n == 0 || i == 0 {
        return 0;
    }
    if i >= n {
        return u128::MAX;
    }
    let n = u128::from(n);
    let i = u128::from(i);
    // 2^128 = q·n + r, so i·2^128/n = i·q + i·r/n (i·r < n² fits easily).
    let (q, r) = match (u128::MAX % n) + 1 {
        rem if rem == n => (u128::MAX / n + 1, 0),
        rem => (u128::MAX / n, rem),
    };
    i * q + (i * r) / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Group;

    #[test]
    fn ids_are_unique_and_prefixed_by_their_group() {
        let cases = registry();
        let mut ids: Vec<&str> = cases.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate case ids");
        for c in &cases {
            let (group, name) = c.id.split_once('.').unwrap();
            assert_eq!(group, c.group.as_str(), "{}", c.id);
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.id
            );
            assert!(!c.checks.is_empty() && !c.source.is_empty(), "{}", c.id);
        }
    }

    #[test]
    fn every_group_has_cases() {
        let cases = registry();
        for g in Group::ALL {
            assert!(cases.iter().any(|c| c.group == g), "no case for {g}");
        }
    }

    #[test]
    fn even_cuts_match_the_docs() {
        assert_eq!(even_cut(1, 2), 1u128 << 127);
        assert_eq!(even_cut(1, 4), 1u128 << 126);
        assert_eq!(even_cut(3, 4), 3u128 << 126);
        assert_eq!(even_cut(1, 1), u128::MAX);
        assert_eq!(even_cut(1, 5), 0x3333_3333_3333_3333_3333_3333_3333_3333);
        assert_eq!(even_cut(4, 5), 0xcccc_cccc_cccc_cccc_cccc_cccc_cccc_cccc);
    }

    #[test]
    fn vector_group_matches_section_5_3_except_time() {
        let mut g = vector_group();
        g.logs[0].time = Some(1_700_000_000);
        let hex: String = g
            .encode_to_vec()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "0a130880e2cfaa0612060a016b120176257b0000001a05746f706963220831302e302e302e3132190a0b5f5f7061636b5f69645f5f120a35463343324131422d30"
        );
    }
}
