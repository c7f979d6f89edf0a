//! PutLogs: every path and compression clients use, the JSON body, the empty 200 answer,
//! that what is written is what PullLogs returns, and writes with sequence ids (SLS-API.md
//! §4.7, §5, §6).

use sls_protocol::compression::CompressType;
use sls_protocol::hash::{format_hash_key, md5_hash_key};
use sls_protocol::proto::{Log, LogContent, LogGroup, LogTag, Message};

use super::{
    check_groups, end_cursor, get_cursor, now_secs, pull, pull_request, pulled_groups, put_ok,
    put_request, sample_group, temp_logstore_with, vector_group, PutPath,
};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Response};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "put.raw-protobuf",
        group: Group::Put,
        checks: "An uncompressed protobuf LogGroup (no x-log-compresstype, x-log-bodyrawsize = body length, as Node sends) to /shards/lb answers an empty 200 and reads back unchanged",
        source: "SLS-API.md §2.6, §4.7.2, §6; captures/node-alicloud-log/ep_localhost_nss_myhostname/postLogStoreLogs",
        run: raw_protobuf,
    },
    Case {
        id: "put.raw-without-bodyrawsize",
        group: Group::Put,
        checks: "An uncompressed protobuf body without x-log-bodyrawsize is accepted (the header is only needed with x-log-compresstype)",
        source: "SLS-API.md §2.4, §6 (\"x-log-bodyrawsize may equal the body length or be absent\")",
        run: raw_without_bodyrawsize,
    },
    Case {
        id: "put.lz4-raw-block",
        group: Group::Put,
        checks: "An lz4 body is a raw LZ4 block without frame or size prefix, its size only in x-log-bodyrawsize; it is accepted and reads back unchanged",
        source: "SLS-API.md §6, §13 pitfall 4; captures/python-sdk/ep_localhost_nss_myhostname/put_logs_lz4",
        run: lz4_raw_block,
    },
    Case {
        id: "put.zstd-frame",
        group: Group::Put,
        checks: "A zstd-framed body (the producers' default) is accepted and reads back unchanged",
        source: "SLS-API.md §6; clients/REPORT.md §2.3; captures/python-sdk/ep_localhost_nss_myhostname/put_logs_zstd",
        run: zstd_frame,
    },
    Case {
        id: "put.deflate-zlib",
        group: Group::Put,
        checks: "A deflate body is zlib-wrapped (RFC 1950, as Java's Deflater writes it); it is accepted and reads back unchanged",
        source: "SLS-API.md §6, §13 pitfall 4",
        run: deflate_zlib,
    },
    Case {
        id: "put.go-post-logstore",
        group: Group::Put,
        checks: "The Go SDK's POST /logstores/{logstore} (no /shards/lb) is PutLogs: empty 200, data in the shard",
        source: "SLS-API.md §4.1, §4.7.1, §13 pitfall 5",
        run: go_post_logstore,
    },
    Case {
        id: "put.json-body",
        group: Group::Put,
        checks: "A JSON body (Content-Type application/json: __topic__, __source__, __logs__ with __time__/__time_ns_part__, __tags__) is stored as the equivalent LogGroup",
        source: "SLS-API.md §4.7.3, §5.2",
        run: json_body,
    },
    Case {
        id: "put.round-trip-fields",
        group: Group::Put,
        checks: "The §5.3 LogGroup (topic, source, __pack_id__ tag, TimeNs 123) plus logs with TimeNs 0 present and absent reads back field for field, TimeNs presence kept",
        source: "SLS-API.md §5.1, §5.3",
        run: round_trip_fields,
    },
    Case {
        id: "put.append-meta-tags",
        group: Group::Put,
        checks: "In a logstore created with appendMeta true, each LogGroup written gets the tags __client_ip__ and __receive_time__ (unix seconds)",
        source: "SLS-API.md §4.3 (appendMeta) [DOC], §5.2",
        run: append_meta_tags,
    },
    Case {
        id: "put.seqid-increasing-accepted",
        group: Group::Put,
        checks: "PutLogs to /shards/route?key=K&seqid=N with increasing ids (1, 2, then 10: gaps allowed) for a key never written before is stored each time, empty 200",
        source: SEQID_SOURCE,
        run: seqid_increasing_accepted,
    },
    Case {
        id: "put.seqid-replay-refused",
        group: Group::Put,
        checks: "A second PutLogs with the same key and seqid is refused (400 InvalidSequenceId, the code sls-emu chose: no public source names one) and stores nothing",
        source: SEQID_SOURCE,
        run: seqid_replay_refused,
    },
    Case {
        id: "put.seqid-lower-refused",
        group: Group::Put,
        checks: "A PutLogs whose seqid is below the key's last stored one is refused (400 InvalidSequenceId, sls-emu's choice of code) and stores nothing",
        source: SEQID_SOURCE,
        run: seqid_lower_refused,
    },
    Case {
        id: "put.seqid-keys-independent",
        group: Group::Put,
        checks: "Sequence ids count per hash key: after key A took seqid 5, key B takes seqid 1",
        source: SEQID_SOURCE,
        run: seqid_keys_independent,
    },
    Case {
        id: "put.seqid-malformed-refused",
        group: Group::Put,
        checks: "A seqid that is not a non-negative decimal integer (-1, abc, empty), or a seqid on /shards/lb (no key), is answered 400 ParameterInvalid and stores nothing (sls-emu's reading: the Java SDK sends seqid only with a key)",
        source: SEQID_SOURCE,
        run: seqid_malformed_refused,
    },
];

/// Where PutLogs sequence ids come from: the docs name the parameter, the Java SDK sends it.
pub(super) const SEQID_SOURCE: &str = "SLS-API.md §4.7.1 (seqid=, Java hashRouteKeySeqId); aliyun/aliyun-log-java-sdk src/main/java/com/aliyun/openservices/log/Client.java (seqid only on /shards/route) [INF for the refusal and its code]";

/// A hash key of this case's own (the MD5 of its id and `salt`), so no case sees another's
/// sequence ids.
pub(super) fn case_key(ctx: &CaseCtx, salt: &str) -> String {
    format_hash_key(md5_hash_key(format!("{}/{salt}", ctx.case_id()).as_bytes()))
}

/// PutLogs of `group` to `/shards/route?key=&seqid=` (lz4).
pub(super) async fn put_seqid(
    ctx: &mut CaseCtx,
    ls: &str,
    key: &str,
    seqid: &str,
    group: &LogGroup,
) -> Result<Response, Stop> {
    let path = PutPath::Route(key.to_owned());
    let req =
        put_request(ctx, ls, &path, group.encode_to_vec(), CompressType::Lz4).query("seqid", seqid);
    ctx.send(req).await
}

/// Checks the refusal of a replayed or lower seqid and that shard `shard` did not grow.
pub(super) async fn check_seqid_refused(
    ctx: &mut CaseCtx,
    what: &str,
    resp: &Response,
    ls: &str,
    shard: u32,
    end_before: i64,
) -> CaseResult {
    ctx.check_error(what, resp, &[400], &["InvalidSequenceId"])?;
    let end = end_cursor(ctx, ls, shard).await?;
    ctx.check_eq(format!("{what}: end cursor unchanged"), end_before, end)
}

/// Writes the groups to the 1-shard fixture at `key` with `seqids`, each an empty 200, and
/// returns the groups written.
async fn put_seqids_ok(
    ctx: &mut CaseCtx,
    ls: &str,
    key: &str,
    seqids: &[u64],
) -> Result<Vec<LogGroup>, Stop> {
    let mut sent = Vec::new();
    for seqid in seqids {
        let group = sample_group(ctx.case_id(), 1);
        let resp = put_seqid(ctx, ls, key, &seqid.to_string(), &group).await?;
        ctx.check_empty_ok(format!("PutLogs key={key} seqid={seqid}"), &resp)?;
        sent.push(group);
    }
    Ok(sent)
}

/// Pulls shard 0 from `start` and checks exactly `sent` is there.
async fn read_back_all(ctx: &mut CaseCtx, ls: &str, start: i64, sent: &[LogGroup]) -> CaseResult {
    let resp = pull(ctx, ls, 0, start, 100).await?;
    let got = pulled_groups(ctx, &resp)?;
    check_groups(ctx, "LogGroups read back", sent, &got)
}

fn seqid_increasing_accepted(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = case_key(ctx, "a");
        let start = end_cursor(ctx, &ls, 0).await?;
        let sent = put_seqids_ok(ctx, &ls, &key, &[1, 2, 10]).await?;
        read_back_all(ctx, &ls, start, &sent).await
    })
}

fn seqid_replay_refused(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = case_key(ctx, "a");
        let start = end_cursor(ctx, &ls, 0).await?;
        let sent = put_seqids_ok(ctx, &ls, &key, &[3]).await?;
        let end = end_cursor(ctx, &ls, 0).await?;
        let resp = put_seqid(ctx, &ls, &key, "3", &sample_group(ctx.case_id(), 1)).await?;
        check_seqid_refused(ctx, "PutLogs replaying seqid 3", &resp, &ls, 0, end).await?;
        read_back_all(ctx, &ls, start, &sent).await
    })
}

fn seqid_lower_refused(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = case_key(ctx, "a");
        let start = end_cursor(ctx, &ls, 0).await?;
        let sent = put_seqids_ok(ctx, &ls, &key, &[5]).await?;
        let end = end_cursor(ctx, &ls, 0).await?;
        let resp = put_seqid(ctx, &ls, &key, "4", &sample_group(ctx.case_id(), 1)).await?;
        check_seqid_refused(ctx, "PutLogs with seqid 4 after 5", &resp, &ls, 0, end).await?;
        read_back_all(ctx, &ls, start, &sent).await
    })
}

fn seqid_keys_independent(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let (a, b) = (case_key(ctx, "a"), case_key(ctx, "b"));
        let start = end_cursor(ctx, &ls, 0).await?;
        let mut sent = put_seqids_ok(ctx, &ls, &a, &[5]).await?;
        sent.extend(put_seqids_ok(ctx, &ls, &b, &[1]).await?);
        read_back_all(ctx, &ls, start, &sent).await
    })
}

fn seqid_malformed_refused(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = case_key(ctx, "a");
        let end = end_cursor(ctx, &ls, 0).await?;
        let group = sample_group(ctx.case_id(), 1);
        for seqid in ["-1", "abc", ""] {
            let resp = put_seqid(ctx, &ls, &key, seqid, &group).await?;
            ctx.check_error(
                format!("PutLogs with seqid={seqid:?}"),
                &resp,
                &[400],
                &["ParameterInvalid"],
            )?;
        }
        let req = put_request(
            ctx,
            &ls,
            &PutPath::Lb,
            group.encode_to_vec(),
            CompressType::Lz4,
        )
        .query("seqid", "1");
        let resp = ctx.send(req).await?;
        ctx.check_error(
            "PutLogs /shards/lb with seqid=1",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        let after = end_cursor(ctx, &ls, 0).await?;
        ctx.check_eq("end cursor unchanged", end, after)
    })
}

/// Writes `group` with `path`/`kind` to the 1-shard fixture, then checks it reads back.
async fn write_and_read(
    ctx: &mut CaseCtx,
    group: LogGroup,
    path: PutPath,
    kind: CompressType,
) -> CaseResult {
    let ls = ctx.fixtures().one_shard.clone();
    let start = end_cursor(ctx, &ls, 0).await?;
    put_ok(ctx, &ls, &group, path, kind).await?;
    read_back(ctx, &ls, start, &group).await
}

/// Pulls from `start` and checks exactly `sent` is there.
async fn read_back(ctx: &mut CaseCtx, ls: &str, start: i64, sent: &LogGroup) -> CaseResult {
    let resp = pull(ctx, ls, 0, start, 10).await?;
    let got = pulled_groups(ctx, &resp)?;
    check_groups(ctx, "LogGroup read back", std::slice::from_ref(sent), &got)
}

fn raw_protobuf(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 2);
        write_and_read(ctx, group, PutPath::Lb, CompressType::None).await
    })
}

fn raw_without_bodyrawsize(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let start = end_cursor(ctx, &ls, 0).await?;
        let group = sample_group(ctx.case_id(), 1);
        let req = put_request(
            ctx,
            &ls,
            &PutPath::Lb,
            group.encode_to_vec(),
            CompressType::None,
        )
        .without_header("x-log-bodyrawsize");
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("PutLogs raw without x-log-bodyrawsize", &resp)?;
        read_back(ctx, &ls, start, &group).await
    })
}

fn lz4_raw_block(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 20);
        write_and_read(ctx, group, PutPath::Lb, CompressType::Lz4).await
    })
}

fn zstd_frame(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 20);
        write_and_read(ctx, group, PutPath::Lb, CompressType::Zstd).await
    })
}

fn deflate_zlib(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 20);
        write_and_read(ctx, group, PutPath::Lb, CompressType::Deflate).await
    })
}

fn go_post_logstore(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 3);
        write_and_read(ctx, group, PutPath::Go, CompressType::Lz4).await
    })
}

fn json_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let start = end_cursor(ctx, &ls, 0).await?;
        let time = now_secs();
        // Written by hand: the key order inside each log is the order of its contents.
        let body = format!(
            r#"{{"__topic__":"t","__source__":"10.0.0.1","__logs__":[{{"__time__":{time},"__time_ns_part__":123,"k":"v","case":{case}}},{{"__time__":{time},"k2":"v2"}}],"__tags__":{{"tag1":"v1"}}}}"#,
            case = serde_json::Value::from(ctx.case_id()),
        );
        let req = ctx
            .request(Method::POST, format!("/logstores/{ls}/shards/lb"))
            .body(body)
            .header("content-type", "application/json");
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("PutLogs JSON body", &resp)?;
        let content = |k: &'static str, v: String| LogContent {
            key: k.into(),
            value: v.into(),
        };
        let expected = LogGroup {
            logs: vec![
                Log {
                    time: Some(time),
                    contents: vec![
                        content("k", "v".into()),
                        content("case", ctx.case_id().to_owned()),
                    ],
                    time_ns: Some(123),
                },
                Log {
                    time: Some(time),
                    contents: vec![content("k2", "v2".into())],
                    time_ns: None,
                },
            ],
            category: None,
            topic: Some("t".into()),
            source: Some("10.0.0.1".into()),
            machine_uuid: None,
            log_tags: vec![LogTag {
                key: "tag1".into(),
                value: "v1".into(),
            }],
        };
        read_back(ctx, &ls, start, &expected).await
    })
}

fn round_trip_fields(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let mut group = vector_group();
        let time = now_secs();
        for ns in [Some(0), None] {
            group.logs.push(Log {
                time: Some(time),
                contents: vec![LogContent {
                    key: "ns".into(),
                    value: format!("{ns:?}").into(),
                }],
                time_ns: ns,
            });
        }
        write_and_read(ctx, group, PutPath::Lb, CompressType::Lz4).await
    })
}

fn append_meta_tags(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls =
            temp_logstore_with(ctx, 1, &[("appendMeta", serde_json::Value::Bool(true))]).await?;
        let group = sample_group(ctx.case_id(), 1);
        put_ok(ctx, &ls, &group, PutPath::Lb, CompressType::Lz4).await?;
        let begin = get_cursor(ctx, &ls, 0, "begin").await?;
        let req = pull_request(ctx, &ls, 0, &begin, 10, Some("lz4"));
        let resp = ctx.send(req).await?;
        ctx.check_ok("PullLogs of the appendMeta logstore", &resp)?;
        let got = pulled_groups(ctx, &resp)?;
        let tag = |key: &str| {
            got.first().and_then(|g| {
                g.log_tags
                    .iter()
                    .find(|t| t.key.as_ref() == key.as_bytes())
                    .map(|t| String::from_utf8_lossy(&t.value).into_owned())
            })
        };
        check_groups(
            ctx,
            "the written LogGroup with its own tags",
            std::slice::from_ref(&group),
            &got,
        )?;
        let ip = tag("__client_ip__");
        ctx.check(
            "tag __client_ip__",
            "present, non-empty",
            format!("{ip:?}"),
            ip.is_some_and(|ip| !ip.is_empty()),
        )?;
        let received = tag("__receive_time__");
        let now = chrono::Utc::now().timestamp();
        ctx.check(
            "tag __receive_time__",
            format!("unix seconds within 900 s of {now}"),
            format!("{received:?}"),
            received
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| (t - now).abs() <= 900),
        )
    })
}
