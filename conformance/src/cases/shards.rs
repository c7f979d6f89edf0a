//! Shards: the ListShards array, the even initial split of the MD5 key space, and hash-key
//! routing of PutLogs (SLS-API.md §4.4, §4.7.1, §8).

use serde_json::Value;
use sls_protocol::compression::CompressType;
use sls_protocol::hash::format_hash_key;

use super::{check_fields, end_cursor, even_cut, put_ok, sample_group, Kind, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::Method;

pub(super) const CASES: &[Case] = &[
    Case {
        id: "shards.list-fields",
        group: Group::Shards,
        checks: "ListShards returns a JSON array (not an object) whose elements carry shardID, status \"readwrite\", inclusiveBeginKey/exclusiveEndKey as 32 lower-case hex digits, and an integer createTime",
        source: "SLS-API.md §4.4, §8; clients/REPORT.md §2.6 (Rust SDK); captures/python-sdk/ep_localhost_nss_myhostname/list_shards",
        run: list_fields,
    },
    Case {
        id: "shards.even-split-1",
        group: Group::Shards,
        checks: "A 1-shard logstore has shard 0 covering [00…00, ff…ff)",
        source: "SLS-API.md §8",
        run: even_split_1,
    },
    Case {
        id: "shards.even-split-2",
        group: Group::Shards,
        checks: "A 2-shard logstore has shards 0 and 1 cut at 80000000000000000000000000000000",
        source: "SLS-API.md §8 [DOC]",
        run: even_split_2,
    },
    Case {
        id: "shards.even-split-4",
        group: Group::Shards,
        checks: "A 4-shard logstore has shards 0-3 cut at 40…, 80…, c0…, the last ending ff…ff",
        source: "SLS-API.md §8 [DOC]",
        run: even_split_4,
    },
    Case {
        id: "shards.even-split-5",
        group: Group::Shards,
        checks: "A 5-shard logstore is cut at floor(i·2^128/5) (3333…33, 6666…66, 9999…99, cccc…cc)",
        source: "SLS-API.md §8 [INF for counts that are not powers of two]",
        run: even_split_5,
    },
    Case {
        id: "shards.route-hash-key",
        group: Group::Shards,
        checks: "PutLogs to /shards/route?key=<32 hex> lands in the shard whose [inclusiveBeginKey, exclusiveEndKey) holds the key (both edges of each range of a 4-shard logstore)",
        source: "SLS-API.md §4.7.1, §8; captures/python-sdk/ep_localhost_nss_myhostname/put_logs_hashkey",
        run: route_hash_key,
    },
    Case {
        id: "shards.route-short-key",
        group: Group::Shards,
        checks: "A short hash key is a prefix: key 5F goes to the shard [40…, 80…)",
        source: "SLS-API.md §8 (the doc's \"key 5F goes to shard [40,80)\" example)",
        run: route_short_key,
    },
    Case {
        id: "shards.route-max-key",
        group: Group::Shards,
        checks: "Key ffffffffffffffffffffffffffffffff goes to the last shard (its end key is written ff…ff)",
        source: "SLS-API.md §8 [INF]",
        run: route_max_key,
    },
];

/// ListShards of a logstore, checked 200 JSON array.
async fn list_shards(ctx: &mut CaseCtx, logstore: &str) -> Result<Vec<Value>, Stop> {
    let resp = ctx
        .send(ctx.request(Method::GET, format!("/logstores/{logstore}/shards")))
        .await?;
    ctx.require_json_array(format!("ListShards {logstore} (§4.4)"), &resp)
}

/// Is `v` 32 lower-case hex digits?
fn is_key(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn list_fields(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = ctx.fixtures().two_shards.clone();
        let shards = list_shards(ctx, &name).await?;
        ctx.check_eq("ListShards elements of a 2-shard logstore", 2, shards.len())?;
        for s in &shards {
            check_fields(
                ctx,
                "ListShards element",
                s,
                &[
                    ("shardID", Kind::Int),
                    ("status", Kind::Str),
                    ("inclusiveBeginKey", Kind::Str),
                    ("exclusiveEndKey", Kind::Str),
                    ("createTime", Kind::Int),
                ],
            )?;
            ctx.check_eq(
                "ListShards status of a new shard",
                Some("readwrite"),
                s.get("status").and_then(Value::as_str),
            )?;
            for key in ["inclusiveBeginKey", "exclusiveEndKey"] {
                let v = s.get(key).cloned().unwrap_or(Value::Null);
                ctx.check(
                    format!("ListShards {key}"),
                    "32 lower-case hex digits",
                    v.to_string(),
                    is_key(&v),
                )?;
            }
        }
        Ok(())
    })
}

/// Checks the ranges of an `n`-shard fixture against `floor(i·2^128/n)`.
async fn even_split(ctx: &mut CaseCtx, logstore: String, n: u32) -> CaseResult {
    let shards = list_shards(ctx, &logstore).await?;
    let mut observed: Vec<(Option<u64>, String, String)> = shards
        .iter()
        .map(|s| {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (
                s.get("shardID").and_then(Value::as_u64),
                text("inclusiveBeginKey"),
                text("exclusiveEndKey"),
            )
        })
        .collect();
    observed.sort();
    let expected: Vec<(Option<u64>, String, String)> = (0..n)
        .map(|i| {
            (
                Some(u64::from(i)),
                format_hash_key(even_cut(i, n)),
                format_hash_key(even_cut(i + 1, n)),
            )
        })
        .collect();
    ctx.check_eq(
        format!("ListShards (shardID, inclusiveBeginKey, exclusiveEndKey) of a {n}-shard logstore"),
        expected,
        observed,
    )
}

fn even_split_1(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        even_split(ctx, ls, 1).await
    })
}

fn even_split_2(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().two_shards.clone();
        even_split(ctx, ls, 2).await
    })
}

fn even_split_4(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().four_shards.clone();
        even_split(ctx, ls, 4).await
    })
}

fn even_split_5(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().five_shards.clone();
        even_split(ctx, ls, 5).await
    })
}

/// Writes one group with `key` to the 4-shard fixture and checks only shard `expected` grew.
async fn route(ctx: &mut CaseCtx, key: &str, expected: u32) -> CaseResult {
    let ls = ctx.fixtures().four_shards.clone();
    let mut before = Vec::new();
    for shard in 0..4 {
        before.push(end_cursor(ctx, &ls, shard).await?);
    }
    let group = sample_group(ctx.case_id(), 1);
    put_ok(
        ctx,
        &ls,
        &group,
        PutPath::Route(key.to_owned()),
        CompressType::Lz4,
    )
    .await?;
    let mut grown = Vec::new();
    for (shard, start) in (0..4).zip(before) {
        let end = end_cursor(ctx, &ls, shard).await?;
        if end != start {
            grown.push((shard, end - start));
        }
    }
    ctx.check_eq(
        format!("(shard, new LogGroups) after a write with key {key}"),
        vec![(expected, 1)],
        grown,
    )
}

fn route_hash_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        for (shard, key) in [
            (0, "00000000000000000000000000000000"),
            (0, "3fffffffffffffffffffffffffffffff"),
            (1, "40000000000000000000000000000000"),
            (1, "7fffffffffffffffffffffffffffffff"),
            (2, "80000000000000000000000000000000"),
            (2, "bfffffffffffffffffffffffffffffff"),
            (3, "c0000000000000000000000000000000"),
            // The last key below the written end ff…ff (ff…ff itself: shards.route-max-key).
            (3, "fffffffffffffffffffffffffffffffe"),
        ] {
            route(ctx, key, shard).await?;
        }
        Ok(())
    })
}

fn route_short_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move { route(ctx, "5F", 1).await })
}

fn route_max_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move { route(ctx, "ffffffffffffffffffffffffffffffff", 3).await })
}
