//! Checkpoints: GetCheckPoint's shape (one entry per shard, empty checkpoint when never
//! written), UpdateCheckPoint's query parameters (`consumer`, `forceSuccess` as `True`), the
//! ownership rule and its errors (SLS-API.md §4.9, §9, §13 pitfalls 7–8; C&P §2).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::consumer_groups::{heartbeat, heartbeat_until, logstore_with_group};
use super::{check_fields, get_cursor, Kind};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Request, Response};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "checkpoints.get-all-one-per-shard",
        group: Group::Checkpoints,
        checks: "GetCheckPoint without shard= returns one {shard, checkpoint, updateTime, consumer} per shard, checkpoint \"\" when never written",
        source: "SLS-API.md §4.9, §9; C&P §2.2; captures/python-sdk/ep_localhost_nss_myhostname/get_check_point_all",
        run: get_all_one_per_shard,
    },
    Case {
        id: "checkpoints.get-one-shard",
        group: Group::Checkpoints,
        checks: "GetCheckPoint with shard=0 returns a one-element array for that shard, with checkpoint \"\" and a consumer field, when never written",
        source: "SLS-API.md §4.9, §13 pitfall 7; C&P §2.2; captures/python-sdk/ep_localhost_nss_myhostname/get_check_point_0",
        run: get_one_shard,
    },
    Case {
        id: "checkpoints.get-unknown-shard",
        group: Group::Checkpoints,
        checks: "GetCheckPoint with shard= of a shard that does not exist returns []",
        source: "SLS-API.md §4.9 [DOC]; C&P §2.2",
        run: get_unknown_shard,
    },
    Case {
        id: "checkpoints.forced-empty-consumer",
        group: Group::Checkpoints,
        checks: "UpdateCheckPoint with consumer= (empty) and forceSuccess=true (Java, Flink) answers an empty 200 and GetCheckPoint returns the checkpoint with a microsecond updateTime",
        source: "SLS-API.md §3.2 (worked example D), §4.9; C&P §2.1",
        run: forced_empty_consumer,
    },
    Case {
        id: "checkpoints.force-success-capitalised",
        group: Group::Checkpoints,
        checks: "UpdateCheckPoint with forceSuccess=True (Python's capitalised bool) is accepted",
        source: "SLS-API.md §4.9, §13 pitfall 8; captures/python-sdk/ep_localhost_nss_myhostname/update_check_point",
        run: force_success_capitalised,
    },
    Case {
        id: "checkpoints.owner-update",
        group: Group::Checkpoints,
        checks: "A non-forced UpdateCheckPoint by the consumer holding the shard (consumer in the query string) is accepted and GetCheckPoint names that consumer",
        source: "SLS-API.md §4.9, §9, §13 pitfall 8; C&P §2.1",
        run: owner_update,
    },
    Case {
        id: "checkpoints.invalid-base64",
        group: Group::Checkpoints,
        checks: "UpdateCheckPoint with a checkpoint that is not base64 is answered 400 InvalidShardCheckPoint",
        source: "SLS-API.md §4.9, §10.2 [DOC]",
        run: invalid_base64,
    },
    Case {
        id: "checkpoints.not-owner",
        group: Group::Checkpoints,
        checks: "A non-forced UpdateCheckPoint by a live consumer that does not hold the shard is answered ConsumerNotMatch",
        source: "SLS-API.md §4.9, §9 (status inferred 400); C&P §2.1",
        run: not_owner,
    },
    Case {
        id: "checkpoints.unknown-consumer",
        group: Group::Checkpoints,
        checks: "A non-forced UpdateCheckPoint by a consumer that never sent a heartbeat is answered ConsumerNotExist (Go expects the spelling ConsumerNotExsit)",
        source: "SLS-API.md §4.9, §9, §12.3 (spelling unconfirmed); C&P §2.1",
        run: unknown_consumer,
    },
    Case {
        id: "checkpoints.unknown-group",
        group: Group::Checkpoints,
        checks: "GetCheckPoint of a consumer group that does not exist is answered 404 ConsumerGroupNotExist",
        source: "SLS-API.md §4.9 [DOC]",
        run: unknown_group,
    },
    Case {
        id: "checkpoints.unknown-shard",
        group: Group::Checkpoints,
        checks: "A forced UpdateCheckPoint of a shard that does not exist is answered ShardNotExist",
        source: "SLS-API.md §4.9; C&P §2.1 (404 ShardNotExist)",
        run: unknown_shard,
    },
];

/// UpdateCheckPoint of `shard` to `checkpoint` with the given query values.
async fn update(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    consumer: &str,
    force: &str,
    body: Value,
) -> Result<Response, Stop> {
    let req = ctx
        .request(Method::POST, format!("/logstores/{ls}/consumergroups/{cg}"))
        .query("type", "checkpoint")
        .query("consumer", consumer)
        .query("forceSuccess", force)
        .json(&body);
    ctx.send(req).await
}

/// GetCheckPoint, optionally of one shard; checked 200 JSON array.
async fn get(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    shard: Option<u32>,
) -> Result<Vec<Value>, Stop> {
    let mut req: Request = ctx.request(Method::GET, format!("/logstores/{ls}/consumergroups/{cg}"));
    if let Some(s) = shard {
        req = req.query("shard", s.to_string());
    }
    let resp = ctx.send(req).await?;
    ctx.require_json_array(format!("GetCheckPoint shard={shard:?} (§4.9)"), &resp)
}

/// Fields of a GetCheckPoint entry (§4.9: consumer always present).
const ENTRY_FIELDS: &[(&str, Kind)] = &[
    ("shard", Kind::Int),
    ("checkpoint", Kind::Str),
    ("updateTime", Kind::Int),
    ("consumer", Kind::Str),
];

/// The begin cursor of shard 0: a valid checkpoint value.
async fn some_cursor(ctx: &mut CaseCtx, ls: &str) -> Result<String, Stop> {
    get_cursor(ctx, ls, 0, "begin").await
}

fn get_all_one_per_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let entries = get(ctx, &ls, &cg, None).await?;
        for e in &entries {
            check_fields(ctx, "GetCheckPoint entry", e, ENTRY_FIELDS)?;
        }
        let mut shards: Vec<Option<u64>> = entries
            .iter()
            .map(|e| e.get("shard").and_then(Value::as_u64))
            .collect();
        shards.sort();
        ctx.check_eq("GetCheckPoint shards", vec![Some(0), Some(1)], shards)?;
        let checkpoints: Vec<Option<&str>> = entries
            .iter()
            .map(|e| e.get("checkpoint").and_then(Value::as_str))
            .collect();
        ctx.check_eq(
            "checkpoints never written",
            vec![Some(""), Some("")],
            checkpoints,
        )
    })
}

fn get_one_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let entries = get(ctx, &ls, &cg, Some(0)).await?;
        ctx.check_eq("GetCheckPoint shard=0 entries", 1, entries.len())?;
        let e = entries.first().cloned().unwrap_or(Value::Null);
        check_fields(ctx, "GetCheckPoint entry", &e, ENTRY_FIELDS)?;
        ctx.check_eq(
            "entry (shard, checkpoint)",
            (Some(0), Some("")),
            (
                e.get("shard").and_then(Value::as_u64),
                e.get("checkpoint").and_then(Value::as_str),
            ),
        )
    })
}

fn get_unknown_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let entries = get(ctx, &ls, &cg, Some(99)).await?;
        ctx.check_eq("GetCheckPoint shard=99 entries", 0, entries.len())
    })
}

fn forced_empty_consumer(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "",
            "true",
            json!({"shard": 0, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_empty_ok("UpdateCheckPoint consumer= forceSuccess=true", &resp)?;
        let entries = get(ctx, &ls, &cg, Some(0)).await?;
        let e = entries.first().cloned().unwrap_or(Value::Null);
        ctx.check_eq(
            "GetCheckPoint checkpoint",
            Some(cursor.as_str()),
            e.get("checkpoint").and_then(Value::as_str),
        )?;
        let t = e.get("updateTime").and_then(Value::as_i64);
        let now_us = chrono::Utc::now().timestamp_micros();
        ctx.check(
            "updateTime is in microseconds",
            format!("within 15 minutes of {now_us}"),
            format!("{t:?}"),
            t.is_some_and(|t| (t - now_us).abs() <= 900_000_000),
        )
    })
}

fn force_success_capitalised(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        heartbeat(ctx, &ls, &cg, "consumer-py-1", &BTreeSet::new()).await?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "consumer-py-1",
            "True",
            json!({"shard": 0, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_empty_ok("UpdateCheckPoint forceSuccess=True", &resp)
    })
}

fn owner_update(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let held = heartbeat_until(ctx, &ls, &cg, "c1", |held| held.contains(&0)).await?;
        ctx.check(
            "c1 holds shard 0",
            "0 in the heartbeat answer",
            format!("{held:?}"),
            held.contains(&0),
        )?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "c1",
            "false",
            json!({"shard": 0, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_empty_ok("UpdateCheckPoint by the owner, not forced", &resp)?;
        let entries = get(ctx, &ls, &cg, Some(0)).await?;
        let e = entries.first().cloned().unwrap_or(Value::Null);
        ctx.check_eq(
            "GetCheckPoint (checkpoint, consumer)",
            (Some(cursor.as_str()), Some("c1")),
            (
                e.get("checkpoint").and_then(Value::as_str),
                e.get("consumer").and_then(Value::as_str),
            ),
        )
    })
}

fn invalid_base64(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "",
            "true",
            json!({"shard": 0, "checkpoint": "not base64 !!"}),
        )
        .await?;
        ctx.check_error(
            "UpdateCheckPoint with checkpoint \"not base64 !!\"",
            &resp,
            &[400],
            &["InvalidShardCheckPoint"],
        )
    })
}

fn not_owner(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        // All three heartbeats, so that c1 has listed what it was given, not only been given it.
        let held = heartbeat_until(ctx, &ls, &cg, "c1", |_| false).await?;
        // c2 is alive but, while c1 lists every shard, holds none of them.
        let c2 = heartbeat(ctx, &ls, &cg, "c2", &BTreeSet::new()).await?;
        let what = "c1 holds a shard that c2 was not given";
        let expected = "a shard in c1's heartbeat answer and not in c2's";
        let observed = format!("c1 {held:?}, c2 {c2:?}");
        let Some(target) = held.difference(&c2).next().copied() else {
            return Err(ctx.fail(what, expected, observed));
        };
        ctx.check(what, expected, observed, true)?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "c2",
            "false",
            json!({"shard": target, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_error(
            format!("UpdateCheckPoint of shard {target} (held by c1) by c2, not forced"),
            &resp,
            &[400],
            &["ConsumerNotMatch"],
        )
    })
}

fn unknown_consumer(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "never-seen",
            "false",
            json!({"shard": 0, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_error(
            "UpdateCheckPoint by an unknown consumer, not forced",
            &resp,
            &[400, 404],
            &["ConsumerNotExist", "ConsumerNotExsit"],
        )
    })
}

fn unknown_group(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().two_shards.clone();
        let req = ctx.request(
            Method::GET,
            format!("/logstores/{ls}/consumergroups/no-such-group"),
        );
        let resp = ctx.send(req).await?;
        ctx.check_error(
            "GetCheckPoint of a missing consumer group",
            &resp,
            &[404],
            &["ConsumerGroupNotExist"],
        )
    })
}

fn unknown_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let cursor = some_cursor(ctx, &ls).await?;
        let resp = update(
            ctx,
            &ls,
            &cg,
            "",
            "true",
            json!({"shard": 99, "checkpoint": cursor}),
        )
        .await?;
        ctx.check_error(
            "forced UpdateCheckPoint of shard 99",
            &resp,
            &[404],
            &["ShardNotExist"],
        )
    })
}
