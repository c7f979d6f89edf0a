//! Consumer groups and heartbeats: create/list/update/delete, joining, the hand-over rule
//! (no shard goes to a new consumer while its holder still lists it), balance, read-only
//! shards staying assignable (SLS-API.md §4.9, §9, §13 pitfalls 8 and 10; C&P §1).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::temp_logstore;
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Response};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "consumer_groups.create-list",
        group: Group::ConsumerGroups,
        checks: "CreateConsumerGroup {consumerGroup, timeout, order} answers an empty 200; ListConsumerGroup lists it as {name, timeout, order} (name, not consumerGroup)",
        source: "SLS-API.md §4.9, §13 pitfall 8; captures/python-sdk/ep_localhost_nss_myhostname/create_consumer_group, list_consumer_group",
        run: create_list,
    },
    Case {
        id: "consumer_groups.already-exist",
        group: Group::ConsumerGroups,
        checks: "Creating a consumer group twice is answered ConsumerGroupAlreadyExist (400)",
        source: "SLS-API.md §4.9, §10.2 (status inferred)",
        run: already_exist,
    },
    Case {
        id: "consumer_groups.update",
        group: Group::ConsumerGroups,
        checks: "UpdateConsumerGroup {order, timeout} answers an empty 200 and the new values show in ListConsumerGroup at once",
        source: "SLS-API.md §4.9; C&P §1.8; captures/python-sdk/ep_localhost_nss_myhostname/update_consumer_group",
        run: update,
    },
    Case {
        id: "consumer_groups.delete",
        group: Group::ConsumerGroups,
        checks: "DeleteConsumerGroup answers an empty 200; a heartbeat afterwards is 404 ConsumerGroupNotExist",
        source: "SLS-API.md §4.9, §9; captures/python-sdk/ep_localhost_nss_myhostname/delete_consumer_group",
        run: delete,
    },
    Case {
        id: "consumer_groups.heartbeat-join",
        group: Group::ConsumerGroups,
        checks: "A new consumer's heartbeat with [] answers a JSON array of shard ids; a lone consumer is given every shard",
        source: "SLS-API.md §4.9, §9; C&P §1.2, §1.4, §1.5; captures/python-sdk/ep_localhost_nss_myhostname/heart_beat_empty",
        run: heartbeat_join,
    },
    Case {
        id: "consumer_groups.heartbeat-unknown-group",
        group: Group::ConsumerGroups,
        checks: "A heartbeat to a consumer group that does not exist is answered 404 ConsumerGroupNotExist",
        source: "SLS-API.md §4.9 [DOC]",
        run: heartbeat_unknown_group,
    },
    Case {
        id: "consumer_groups.no-steal-while-held",
        group: Group::ConsumerGroups,
        checks: "While consumer A still lists a shard in its heartbeats, consumer B is never given that shard",
        source: "SLS-API.md §9, §13 pitfall 10; C&P §1.2, §1.4",
        run: no_steal_while_held,
    },
    Case {
        id: "consumer_groups.rebalance-two-consumers",
        group: Group::ConsumerGroups,
        checks: "With two consumers following the heartbeat contract, the shards end up split one each, without overlap",
        source: "SLS-API.md §9; C&P §1.2, §1.4",
        run: rebalance_two_consumers,
    },
    Case {
        id: "consumer_groups.unknown-consumer-with-body",
        group: Group::ConsumerGroups,
        checks: "A heartbeat from an unknown consumer that claims shards is answered 400 NotExistConsumerWithBody",
        source: "SLS-API.md §4.9 [DOC] (the doc recommends emulator leniency), C&P §1.2, §1.5",
        run: unknown_consumer_with_body,
    },
    Case {
        id: "consumer_groups.readonly-shard-assignable",
        group: Group::ConsumerGroups,
        checks: "After a split (order=false) the readonly parent is still assigned (its data is not consumed yet), along with its children",
        source: "SLS-API.md §9, §13 pitfall 10; C&P §1.3, §1.6",
        run: readonly_shard_assignable,
    },
];

/// Creates consumer group `cg` on `ls`; returns the answer.
pub(super) async fn create_group(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    timeout: u32,
    order: bool,
) -> Result<Response, Stop> {
    let req = ctx
        .request(Method::POST, format!("/logstores/{ls}/consumergroups"))
        .json(&json!({"consumerGroup": cg, "timeout": timeout, "order": order}));
    ctx.send(req).await
}

/// A fresh 2-shard logstore with consumer group `cg` (timeout 60, order false).
pub(super) async fn logstore_with_group(ctx: &mut CaseCtx) -> Result<(String, String), Stop> {
    let ls = temp_logstore(ctx, 2).await?;
    let cg = "conformance-cg".to_owned();
    let resp = create_group(ctx, &ls, &cg, 60, false).await?;
    ctx.check_empty_ok("CreateConsumerGroup", &resp)?;
    Ok((ls, cg))
}

/// Sends a heartbeat of `consumer` holding `held`.
pub(super) async fn heartbeat_raw(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    consumer: &str,
    held: &BTreeSet<u64>,
) -> Result<Response, Stop> {
    let body: Vec<u64> = held.iter().copied().collect();
    let req = ctx
        .request(Method::POST, format!("/logstores/{ls}/consumergroups/{cg}"))
        .query("type", "heartbeat")
        .query("consumer", consumer)
        .json(&json!(body));
    ctx.send(req).await
}

/// A heartbeat checked to answer 200 with a JSON array of shard ids; returns them.
pub(super) async fn heartbeat(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    consumer: &str,
    held: &BTreeSet<u64>,
) -> Result<BTreeSet<u64>, Stop> {
    let resp = heartbeat_raw(ctx, ls, cg, consumer, held).await?;
    let answer =
        ctx.require_json_array(format!("heartbeat of {consumer} holding {held:?}"), &resp)?;
    let ids: Option<BTreeSet<u64>> = answer.iter().map(Value::as_u64).collect();
    match ids {
        Some(ids) => Ok(ids),
        None => Err(ctx.fail(
            "heartbeat answer (§4.9)",
            "a JSON array of shard ids",
            Value::Array(answer),
        )),
    }
}

/// Heartbeats of `consumer`, each listing what the one before was given, until `done` holds
/// for the answer, at most 3 (assignment is eventual, not instantaneous: C&P §1.4). Returns the
/// last answer; judging it is the caller's job.
pub(super) async fn heartbeat_until(
    ctx: &mut CaseCtx,
    ls: &str,
    cg: &str,
    consumer: &str,
    done: impl Fn(&BTreeSet<u64>) -> bool,
) -> Result<BTreeSet<u64>, Stop> {
    let mut held = BTreeSet::new();
    for _ in 0..3 {
        held = heartbeat(ctx, ls, cg, consumer, &held).await?;
        if done(&held) {
            break;
        }
    }
    Ok(held)
}

/// ListConsumerGroup, checked 200 JSON array; returns the entry named `cg`.
async fn listed(ctx: &mut CaseCtx, ls: &str, cg: &str) -> Result<Value, Stop> {
    let resp = ctx
        .send(ctx.request(Method::GET, format!("/logstores/{ls}/consumergroups")))
        .await?;
    let groups = ctx.require_json_array("ListConsumerGroup", &resp)?;
    let entry = groups
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(cg))
        .cloned();
    match entry {
        Some(e) => Ok(e),
        None => Err(ctx.fail(
            "ListConsumerGroup lists the group",
            format!("an array with an entry whose name is {cg:?}"),
            Value::Array(groups),
        )),
    }
}

fn create_list(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let entry = listed(ctx, &ls, &cg).await?;
        ctx.check_eq(
            "ListConsumerGroup entry",
            json!({"name": cg, "timeout": 60, "order": false}),
            json!({
                "name": entry.get("name"),
                "timeout": entry.get("timeout"),
                "order": entry.get("order"),
            }),
        )
    })
}

fn already_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let resp = create_group(ctx, &ls, &cg, 60, false).await?;
        ctx.check_error(
            "CreateConsumerGroup of an existing group",
            &resp,
            &[400],
            &["ConsumerGroupAlreadyExist"],
        )
    })
}

fn update(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let req = ctx
            .request(Method::PUT, format!("/logstores/{ls}/consumergroups/{cg}"))
            .json(&json!({"order": true, "timeout": 30}));
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("UpdateConsumerGroup", &resp)?;
        let entry = listed(ctx, &ls, &cg).await?;
        ctx.check_eq(
            "ListConsumerGroup entry after the update",
            json!({"timeout": 30, "order": true}),
            json!({"timeout": entry.get("timeout"), "order": entry.get("order")}),
        )
    })
}

fn delete(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let resp = ctx
            .send(ctx.request(
                Method::DELETE,
                format!("/logstores/{ls}/consumergroups/{cg}"),
            ))
            .await?;
        ctx.check_empty_ok("DeleteConsumerGroup", &resp)?;
        let resp = heartbeat_raw(ctx, &ls, &cg, "c1", &BTreeSet::new()).await?;
        ctx.check_error(
            "heartbeat after DeleteConsumerGroup",
            &resp,
            &[404],
            &["ConsumerGroupNotExist"],
        )
    })
}

fn heartbeat_join(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        take_all(ctx, &ls, &cg, "c1").await
    })
}

fn heartbeat_unknown_group(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().two_shards.clone();
        let resp = heartbeat_raw(ctx, &ls, "no-such-group", "c1", &BTreeSet::new()).await?;
        ctx.check_error(
            "heartbeat to a missing consumer group",
            &resp,
            &[404],
            &["ConsumerGroupNotExist"],
        )
    })
}

/// Lets `consumer` heartbeat until it holds every shard of the 2-shard logstore.
async fn take_all(ctx: &mut CaseCtx, ls: &str, cg: &str, consumer: &str) -> Result<(), Stop> {
    let all: BTreeSet<u64> = [0, 1].into();
    let held = heartbeat_until(ctx, ls, cg, consumer, |held| *held == all).await?;
    ctx.check_eq(format!("shards of lone consumer {consumer}"), all, held)
}

fn no_steal_while_held(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        take_all(ctx, &ls, &cg, "a").await?;
        let a_lists: BTreeSet<u64> = [0, 1].into();
        let mut b_held = BTreeSet::new();
        for round in 1..=3 {
            b_held = heartbeat(ctx, &ls, &cg, "b", &b_held).await?;
            ctx.check(
                format!("round {round}: shards given to b while a still lists {a_lists:?}"),
                "none of them",
                format!("{b_held:?}"),
                b_held.is_disjoint(&a_lists),
            )?;
            // a keeps listing both, as a client still shutting a shard down does.
            heartbeat(ctx, &ls, &cg, "a", &a_lists).await?;
        }
        Ok(())
    })
}

fn rebalance_two_consumers(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        take_all(ctx, &ls, &cg, "a").await?;
        let mut a = BTreeSet::from([0u64, 1]);
        let mut b = BTreeSet::new();
        for _ in 0..6 {
            // Each follows the contract: report exactly what it was last given.
            b = heartbeat(ctx, &ls, &cg, "b", &b).await?;
            a = heartbeat(ctx, &ls, &cg, "a", &a).await?;
            if a.len() == 1 && b.len() == 1 && a.is_disjoint(&b) {
                break;
            }
        }
        ctx.check(
            "shards of a and b after rebalancing",
            "one each, different",
            format!("a {a:?}, b {b:?}"),
            a.len() == 1 && b.len() == 1 && a.is_disjoint(&b),
        )
    })
}

fn unknown_consumer_with_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let resp = heartbeat_raw(ctx, &ls, &cg, "stranger", &BTreeSet::from([0])).await?;
        ctx.check_error(
            "first heartbeat of an unknown consumer claiming shard 0",
            &resp,
            &[400],
            &["NotExistConsumerWithBody"],
        )
    })
}

fn readonly_shard_assignable(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, cg) = logstore_with_group(ctx).await?;
        let req = ctx
            .request(Method::POST, format!("/logstores/{ls}/shards/0"))
            .query("action", "split")
            .query("key", "40000000000000000000000000000000");
        let resp = ctx.send(req).await?;
        ctx.check_ok("SplitShard 0 at 40…", &resp)?;
        let all: BTreeSet<u64> = [0, 1, 2, 3].into();
        let held = heartbeat_until(ctx, &ls, &cg, "c1", |held| *held == all).await?;
        ctx.check_eq(
            "shards of a lone consumer after the split (readonly 0 included)",
            all,
            held,
        )
    })
}
