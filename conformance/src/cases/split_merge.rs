//! SplitShard and MergeShards: answer order, new ids, ranges and statuses, read-only shards
//! that stay readable but take no writes, and the refusals (SLS-API.md §4.4, §7, §8,
//! §13 pitfall 10).

use serde_json::Value;
use sls_protocol::compression::CompressType;
use sls_protocol::cursor::encode_cursor;
use sls_protocol::headers as h;

use super::put::{check_seqid_refused, put_seqid, SEQID_SOURCE};
use super::{end_cursor, get_cursor, pull_request, put_ok, sample_group, temp_logstore, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Response};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "split_merge.split-by-key",
        group: Group::SplitMerge,
        checks: "SplitShard at a key answers a JSON array: the parent first, now readonly with its range, then the children [begin,key) and [key,end) readwrite with ids max+1, max+2",
        source: "SLS-API.md §4.4, §8, §13 pitfall 10; captures/python-sdk/ep_localhost_nss_myhostname/split_shard",
        run: split_by_key,
    },
    Case {
        id: "split_merge.list-after-split",
        group: Group::SplitMerge,
        checks: "After a split ListShards still lists the readonly parent with its children, and GetLogStore shardCount counts readwrite shards",
        source: "SLS-API.md §4.4 (include read-only shards), §8 [INF for shardCount]",
        run: list_after_split,
    },
    Case {
        id: "split_merge.merge",
        group: Group::SplitMerge,
        checks: "MergeShards of a shard and its right neighbour answers the new readwrite shard first (id max+1, the union range), then both parents readonly",
        source: "SLS-API.md §4.4, §8, §13 pitfall 10; captures/python-sdk/ep_localhost_nss_myhostname/merge_shard",
        run: merge,
    },
    Case {
        id: "split_merge.split-shard-count",
        group: Group::SplitMerge,
        checks: "SplitShard with shardCount=2 and no key (Go, Java) splits the parent's range evenly into two readwrite children",
        source: "SLS-API.md §4.4, §8 [INF for the even cut]",
        run: split_shard_count,
    },
    Case {
        id: "split_merge.readonly-takes-no-writes",
        group: Group::SplitMerge,
        checks: "After a split, load-balanced writes never land on the readonly parent, and a hash key in its range lands on the child that holds it",
        source: "SLS-API.md §8",
        run: readonly_takes_no_writes,
    },
    Case {
        id: "split_merge.readonly-end-pull",
        group: Group::SplitMerge,
        checks: "A readonly shard keeps its data readable; pulling at its end returns count 0, the same cursor and x-log-end-of-cursor 1",
        source: "SLS-API.md §7, §8",
        run: readonly_end_pull,
    },
    Case {
        id: "split_merge.split-key-outside-range",
        group: Group::SplitMerge,
        checks: "SplitShard at a key outside the shard's range is answered 400 ParameterInvalid and changes nothing (a valid split of the same shard then works)",
        source: "SLS-API.md §4.4 [INF], §8",
        run: split_key_outside_range,
    },
    Case {
        id: "split_merge.merge-without-neighbour",
        group: Group::SplitMerge,
        checks: "MergeShards of the last shard (no readwrite right neighbour) is answered 400 ParameterInvalid and changes nothing (merging its left neighbour then works)",
        source: "SLS-API.md §4.4 [DOC]",
        run: merge_without_neighbour,
    },
    Case {
        id: "split_merge.split-readonly",
        group: Group::SplitMerge,
        checks: "SplitShard of a readonly shard is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.4 [INF], §8",
        run: split_readonly,
    },
    Case {
        id: "split_merge.split-unknown-shard",
        group: Group::SplitMerge,
        checks: "SplitShard of a shard id that does not exist is answered ShardNotExist (404)",
        source: "SLS-API.md §4.4 (status not documented; 404 recommended), §10.2",
        run: split_unknown_shard,
    },
    Case {
        id: "split_merge.seqid-follows-key",
        group: Group::SplitMerge,
        checks: "A hash key's last seqid outlives split and merge: after seqid 1 in shard 0, a split puts the key in child 3, which refuses seqid 1 (400 InvalidSequenceId, sls-emu's choice of code) and takes 2; after merging 2 and 3, shard 4 refuses 2 and takes 3",
        source: SEQID_SOURCE,
        run: seqid_follows_key,
    },
];

const K00: &str = "00000000000000000000000000000000";
const K40: &str = "40000000000000000000000000000000";
const K80: &str = "80000000000000000000000000000000";
const KC0: &str = "c0000000000000000000000000000000";
const KFF: &str = "ffffffffffffffffffffffffffffffff";

/// `(shardID, status, inclusiveBeginKey, exclusiveEndKey)` of one shard object.
type ShardView = (Option<u64>, String, String, String);

fn view(v: &Value) -> ShardView {
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    (
        v.get("shardID").and_then(Value::as_u64),
        text("status"),
        text("inclusiveBeginKey"),
        text("exclusiveEndKey"),
    )
}

fn shard(id: u64, status: &str, begin: &str, end: &str) -> ShardView {
    (
        Some(id),
        status.to_owned(),
        begin.to_owned(),
        end.to_owned(),
    )
}

/// POST `/shards/{id}?action=...` with extra query pairs.
async fn shard_action(
    ctx: &mut CaseCtx,
    ls: &str,
    id: u32,
    query: &[(&str, &str)],
) -> Result<Response, Stop> {
    let mut req = ctx.request(Method::POST, format!("/logstores/{ls}/shards/{id}"));
    for (k, v) in query {
        req = req.query(*k, *v);
    }
    ctx.send(req).await
}

/// Checks a 200 JSON array of shards and returns their views.
fn shard_list(ctx: &mut CaseCtx, what: &str, resp: &Response) -> Result<Vec<ShardView>, Stop> {
    Ok(ctx
        .require_json_array(what, resp)?
        .iter()
        .map(view)
        .collect())
}

/// A fresh 2-shard logstore with shard 0 split at 40…: shards 0 (readonly), 2, 3.
async fn split_two_shard_logstore(ctx: &mut CaseCtx) -> Result<String, Stop> {
    let ls = temp_logstore(ctx, 2).await?;
    let resp = shard_action(ctx, &ls, 0, &[("action", "split"), ("key", K40)]).await?;
    let got = shard_list(ctx, "SplitShard 0 at 40…", &resp)?;
    ctx.check_eq(
        "SplitShard answer (parent first, then children by key)",
        vec![
            shard(0, "readonly", K00, K80),
            shard(2, "readwrite", K00, K40),
            shard(3, "readwrite", K40, K80),
        ],
        got,
    )?;
    Ok(ls)
}

fn split_by_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        split_two_shard_logstore(ctx).await?;
        Ok(())
    })
}

fn list_after_split(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = split_two_shard_logstore(ctx).await?;
        let resp = ctx
            .send(ctx.request(Method::GET, format!("/logstores/{ls}/shards")))
            .await?;
        let mut got = shard_list(ctx, "ListShards after the split", &resp)?;
        got.sort();
        ctx.check_eq(
            "ListShards after the split (sorted by id)",
            vec![
                shard(0, "readonly", K00, K80),
                shard(1, "readwrite", K80, KFF),
                shard(2, "readwrite", K00, K40),
                shard(3, "readwrite", K40, K80),
            ],
            got,
        )?;
        let resp = ctx
            .send(ctx.request(Method::GET, format!("/logstores/{ls}")))
            .await?;
        let body = ctx.require_json("GetLogStore after the split", &resp)?;
        ctx.check_eq(
            "GetLogStore shardCount (readwrite shards)",
            Some(3),
            body.get("shardCount").and_then(Value::as_i64),
        )
    })
}

fn merge(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = split_two_shard_logstore(ctx).await?;
        let resp = shard_action(ctx, &ls, 2, &[("action", "merge")]).await?;
        let got = shard_list(ctx, "MergeShards 2 (with 3)", &resp)?;
        ctx.check_eq(
            "MergeShards answer (merged shard first, then both parents)",
            vec![
                shard(4, "readwrite", K00, K80),
                shard(2, "readonly", K00, K40),
                shard(3, "readonly", K40, K80),
            ],
            got,
        )
    })
}

fn split_shard_count(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let resp = shard_action(ctx, &ls, 1, &[("action", "split"), ("shardCount", "2")]).await?;
        let got = shard_list(ctx, "SplitShard 1 shardCount=2", &resp)?;
        ctx.check_eq(
            "SplitShard shardCount=2 answer",
            vec![
                shard(1, "readonly", K80, KFF),
                shard(2, "readwrite", K80, KC0),
                shard(3, "readwrite", KC0, KFF),
            ],
            got,
        )
    })
}

fn readonly_takes_no_writes(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = split_two_shard_logstore(ctx).await?;
        let parent_end = end_cursor(ctx, &ls, 0).await?;
        for _ in 0..6 {
            let group = sample_group(ctx.case_id(), 1);
            put_ok(ctx, &ls, &group, PutPath::Lb, CompressType::Lz4).await?;
        }
        let child_end = end_cursor(ctx, &ls, 3).await?;
        let group = sample_group(ctx.case_id(), 1);
        put_ok(
            ctx,
            &ls,
            &group,
            PutPath::Route("5f000000000000000000000000000000".to_owned()),
            CompressType::Lz4,
        )
        .await?;
        let after = end_cursor(ctx, &ls, 0).await?;
        ctx.check_eq(
            "readonly parent's end cursor after 7 writes",
            parent_end,
            after,
        )?;
        let child_after = end_cursor(ctx, &ls, 3).await?;
        ctx.check(
            "child [40…, 80…) received the write with key 5f…",
            format!("end cursor > {child_end}"),
            child_after,
            child_after > child_end,
        )
    })
}

fn readonly_end_pull(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let group = sample_group(ctx.case_id(), 1);
        put_ok(
            ctx,
            &ls,
            &group,
            PutPath::Route(K00.to_owned()),
            CompressType::Lz4,
        )
        .await?;
        let resp = shard_action(ctx, &ls, 0, &[("action", "split"), ("key", K40)]).await?;
        ctx.check_ok("SplitShard 0 at 40…", &resp)?;
        let begin = get_cursor(ctx, &ls, 0, "begin").await?;
        let req = pull_request(ctx, &ls, 0, &begin, 100, Some("lz4"));
        let resp = ctx.send(req).await?;
        ctx.check_ok("PullLogs of the readonly parent", &resp)?;
        ctx.check_eq(
            "LogGroups still readable on the readonly parent",
            Some("1"),
            resp.header(h::X_LOG_COUNT),
        )?;
        let end = end_cursor(ctx, &ls, 0).await?;
        let end_text = encode_cursor(end);
        let req = pull_request(ctx, &ls, 0, &end_text, 100, Some("lz4"));
        let resp = ctx.send(req).await?;
        ctx.check_ok("PullLogs at the readonly parent's end", &resp)?;
        ctx.check_eq("x-log-count", Some("0"), resp.header(h::X_LOG_COUNT))?;
        ctx.check_eq(
            "x-log-cursor",
            Some(end_text.as_str()),
            resp.header(h::X_LOG_CURSOR),
        )?;
        ctx.check_eq(
            "x-log-end-of-cursor",
            Some("1"),
            resp.header(h::X_LOG_END_OF_CURSOR),
        )
    })
}

fn split_key_outside_range(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let resp = shard_action(ctx, &ls, 0, &[("action", "split"), ("key", KC0)]).await?;
        ctx.check_error(
            "SplitShard 0 [00…, 80…) at c0…",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        // The refusal changed nothing, and SplitShard itself works (so the 400 was about the key).
        let resp = shard_action(ctx, &ls, 0, &[("action", "split"), ("key", K40)]).await?;
        ctx.check_ok("SplitShard 0 at 40… afterwards", &resp)
    })
}

fn merge_without_neighbour(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let resp = shard_action(ctx, &ls, 1, &[("action", "merge")]).await?;
        ctx.check_error(
            "MergeShards of the last shard",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        // The refusal changed nothing, and MergeShards itself works (so the 400 was about shard 1).
        let resp = shard_action(ctx, &ls, 0, &[("action", "merge")]).await?;
        ctx.check_ok("MergeShards 0 (with 1) afterwards", &resp)
    })
}

fn split_readonly(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = split_two_shard_logstore(ctx).await?;
        let resp = shard_action(
            ctx,
            &ls,
            0,
            &[
                ("action", "split"),
                ("key", "20000000000000000000000000000000"),
            ],
        )
        .await?;
        ctx.check_error(
            "SplitShard of the readonly parent",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )
    })
}

fn split_unknown_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let resp = shard_action(ctx, &ls, 99, &[("action", "split"), ("key", K40)]).await?;
        ctx.check_error("SplitShard of shard 99", &resp, &[404], &["ShardNotExist"])
    })
}

/// PutLogs of one log to key 5f… with `seqid`.
async fn put_5f(ctx: &mut CaseCtx, ls: &str, seqid: u64) -> Result<Response, Stop> {
    let group = sample_group(ctx.case_id(), 1);
    put_seqid(
        ctx,
        ls,
        "5f000000000000000000000000000000",
        &seqid.to_string(),
        &group,
    )
    .await
}

fn seqid_follows_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 2).await?;
        let resp = put_5f(ctx, &ls, 1).await?;
        ctx.check_empty_ok("PutLogs seqid 1 to shard 0", &resp)?;
        let resp = shard_action(ctx, &ls, 0, &[("action", "split"), ("key", K40)]).await?;
        ctx.check_ok("SplitShard 0 at 40…", &resp)?;
        // Shards: 0 readonly, 2 [00…, 40…), 3 [40…, 80…) holding the key.
        let end = end_cursor(ctx, &ls, 3).await?;
        let resp = put_5f(ctx, &ls, 1).await?;
        check_seqid_refused(ctx, "replay of seqid 1 after the split", &resp, &ls, 3, end).await?;
        let resp = put_5f(ctx, &ls, 2).await?;
        ctx.check_empty_ok("PutLogs seqid 2 to child 3", &resp)?;
        let resp = shard_action(ctx, &ls, 2, &[("action", "merge")]).await?;
        ctx.check_ok("MergeShards 2 (with 3)", &resp)?;
        let end = end_cursor(ctx, &ls, 4).await?;
        let resp = put_5f(ctx, &ls, 2).await?;
        check_seqid_refused(ctx, "replay of seqid 2 after the merge", &resp, &ls, 4, end).await?;
        let resp = put_5f(ctx, &ls, 3).await?;
        ctx.check_empty_ok("PutLogs seqid 3 to merged shard 4", &resp)?;
        let after = end_cursor(ctx, &ls, 4).await?;
        ctx.check(
            "merged shard 4 received seqid 3",
            format!("end cursor > {end}"),
            after,
            after > end,
        )
    })
}
