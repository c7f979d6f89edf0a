//! Logstores: create (with the keys SDKs send), the GetLogStore JSON, list with count/total,
//! paging and the name filter, update, delete (SLS-API.md §4.3).

use serde_json::{json, Value};

use super::{check_fields, temp_logstore, Kind};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Resource, Stop};
use crate::client::Method;
use crate::runner::poll_until;

pub(super) const CASES: &[Case] = &[
    Case {
        id: "logstores.create-python-body",
        group: Group::Logstores,
        checks: "CreateLogStore with the body and headers the Python SDK sends (telemetryType \"\", x-log-bodyrawsize 0) answers an empty 200, and GetLogStore then shows its name, ttl and shardCount",
        source: "SLS-API.md §2.4, §2.6, §4.3; clients/REPORT.md §2.4; captures/python-sdk/ep_localhost_nss_myhostname/create_logstore",
        run: create_python_body,
    },
    Case {
        id: "logstores.create-unset-max-split-shard",
        group: Group::Logstores,
        checks: "CreateLogStore with autoSplit false and maxSplitShard unset as the SDKs send it (Go CreateLogStoreV2: 0, a field it never omits; Java LogStore: -1) answers an empty 200; GetLogStore shows autoSplit false",
        source: "JAVA-GO-FLINK.md §1; aliyun-log-go-sdk v0.1.131 log_store.go (MaxSplitShard without omitempty); aliyun-log 0.6.151 common/LogStore.java (mMaxSplitShard = -1)",
        run: create_unset_max_split_shard,
    },
    Case {
        id: "logstores.get-fields",
        group: Group::Logstores,
        checks: "GetLogStore returns every field SDKs require with its type: createTime/lastModifyTime integers (unlike projects), shardCount the readwrite shard count",
        source: "SLS-API.md §4.3, §12.10; clients/REPORT.md §2.6",
        run: get_fields,
    },
    Case {
        id: "logstores.list-count-total",
        group: Group::Logstores,
        checks: "ListLogStores returns integer count and total and a logstores array of names that includes every logstore of the project",
        source: "SLS-API.md §4.3; captures/python-sdk/ep_localhost_nss_myhostname/list_logstores",
        run: list_count_total,
    },
    Case {
        id: "logstores.list-paging",
        group: Group::Logstores,
        checks: "ListLogStores size=1 returns count 1 with one name and total >= 4; offset=total returns count 0",
        source: "SLS-API.md §4.3 (Flink pages with size until count < size)",
        run: list_paging,
    },
    Case {
        id: "logstores.list-name-filter",
        group: Group::Logstores,
        checks: "ListLogStores logstoreName is a substring filter, and an empty logstoreName= (Java) or telemetryType= (Go) lists everything",
        source: "SLS-API.md §4.3; captures/node-alicloud-log/ep_localhost_nss_myhostname/listLogStore",
        run: list_name_filter,
    },
    Case {
        id: "logstores.update",
        group: Group::Logstores,
        checks: "UpdateLogStore with logstoreName, ttl and shardCount (Go, Node) answers an empty 200 and the new ttl shows in GetLogStore",
        source: "SLS-API.md §2.6, §4.3",
        run: update,
    },
    Case {
        id: "logstores.delete",
        group: Group::Logstores,
        checks: "DeleteLogStore answers an empty 200; GetLogStore afterwards is 404 LogStoreNotExist",
        source: "SLS-API.md §2.6, §4.3, §10.2; captures/node-alicloud-log/ep_localhost_nss_myhostname/deleteLogStore",
        run: delete,
    },
];

/// Fields of GetLogStore (§4.3, union of what the SDKs require).
const LOGSTORE_FIELDS: &[(&str, Kind)] = &[
    ("logstoreName", Kind::Str),
    ("ttl", Kind::Int),
    ("shardCount", Kind::Int),
    ("enable_tracking", Kind::Bool),
    ("autoSplit", Kind::Bool),
    ("maxSplitShard", Kind::Int),
    ("appendMeta", Kind::Bool),
    ("telemetryType", Kind::Str),
    ("mode", Kind::Str),
    ("createTime", Kind::Int),
    ("lastModifyTime", Kind::Int),
];

/// GetLogStore, checked 200 JSON.
async fn get_logstore(ctx: &mut CaseCtx, name: &str) -> Result<Value, Stop> {
    let resp = ctx
        .send(ctx.request(Method::GET, format!("/logstores/{name}")))
        .await?;
    ctx.require_json(format!("GetLogStore {name}"), &resp)
}

/// ListLogStores with extra query pairs, checked 200 JSON.
async fn list(ctx: &mut CaseCtx, query: &[(&str, String)]) -> Result<Value, Stop> {
    let mut req = ctx.request(Method::GET, "/logstores");
    for (k, v) in query {
        req = req.query(*k, v.clone());
    }
    let resp = ctx.send(req).await?;
    let shown: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    ctx.require_json(format!("ListLogStores {}", shown.join("&")), &resp)
}

/// The names listed by a ListLogStores answer.
fn names(body: &Value) -> Vec<String> {
    body.get("logstores")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn create_python_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = ctx.temp_name("ls");
        let req = ctx
            .request(Method::POST, "/logstores")
            .json(&json!({
                "logstoreName": name, "ttl": 7, "shardCount": 2, "enable_tracking": false,
                "autoSplit": true, "maxSplitShard": 64, "appendMeta": false, "telemetryType": "",
            }))
            // What Python sends with JSON bodies (§2.4: only trust it with x-log-compresstype).
            .header("x-log-bodyrawsize", "0");
        let resp = ctx.send(req).await?;
        ctx.track(Resource::Logstore {
            project: ctx.project().to_owned(),
            name: name.clone(),
        });
        ctx.check_empty_ok("CreateLogStore (Python body)", &resp)?;
        let settle = ctx.settle();
        crate::runner::wait_for_logstore(ctx.client(), ctx.project(), &name, settle).await?;
        let body = get_logstore(ctx, &name).await?;
        ctx.check_eq(
            "GetLogStore logstoreName",
            Some(name.as_str()),
            body.get("logstoreName").and_then(Value::as_str),
        )?;
        ctx.check_eq(
            "GetLogStore ttl",
            Some(7),
            body.get("ttl").and_then(Value::as_i64),
        )?;
        ctx.check_eq(
            "GetLogStore shardCount",
            Some(2),
            body.get("shardCount").and_then(Value::as_i64),
        )
    })
}

fn get_fields(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = ctx.fixtures().four_shards.clone();
        let body = get_logstore(ctx, &name).await?;
        check_fields(ctx, "GetLogStore", &body, LOGSTORE_FIELDS)?;
        ctx.check_eq(
            "GetLogStore shardCount of a 4-shard logstore",
            Some(4),
            body.get("shardCount").and_then(Value::as_i64),
        )
    })
}

fn list_count_total(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let body = list(ctx, &[("offset", "0".into()), ("size", "500".into())]).await?;
        check_fields(
            ctx,
            "ListLogStores",
            &body,
            &[
                ("count", Kind::Int),
                ("total", Kind::Int),
                ("logstores", Kind::Array),
            ],
        )?;
        let listed = names(&body);
        let fixtures: Vec<String> = ctx
            .fixtures()
            .all()
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        ctx.check(
            "ListLogStores lists the fixture logstores",
            format!("{fixtures:?} among the names"),
            format!("{listed:?}"),
            fixtures.iter().all(|f| listed.contains(f)),
        )?;
        ctx.check_eq(
            "ListLogStores count equals the names listed",
            Some(listed.len() as u64),
            body.get("count").and_then(Value::as_u64),
        )
    })
}

fn list_paging(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let body = list(ctx, &[("offset", "0".into()), ("size", "1".into())]).await?;
        ctx.check_eq(
            "ListLogStores size=1: count",
            Some(1),
            body.get("count").and_then(Value::as_u64),
        )?;
        ctx.check_eq("ListLogStores size=1: names listed", 1, names(&body).len())?;
        let total = body.get("total").and_then(Value::as_u64);
        ctx.check(
            "ListLogStores size=1: total counts all logstores (4 fixtures at least)",
            ">= 4",
            format!("{total:?}"),
            total.is_some_and(|t| t >= 4),
        )?;
        let total = total.unwrap_or(0);
        let body = list(
            ctx,
            &[("offset", total.to_string()), ("size", "100".into())],
        )
        .await?;
        ctx.check_eq(
            format!("ListLogStores offset={total}: count"),
            Some(0),
            body.get("count").and_then(Value::as_u64),
        )
    })
}

fn list_name_filter(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let target = ctx.fixtures().four_shards.clone();
        // A substring: the fixture name without its first character.
        let fragment: String = target.chars().skip(1).collect();
        let body = list(
            ctx,
            &[
                ("offset", "0".into()),
                ("size", "100".into()),
                ("logstoreName", fragment.clone()),
            ],
        )
        .await?;
        let listed = names(&body);
        ctx.check(
            format!("ListLogStores logstoreName={fragment}"),
            format!("only names containing it, {target:?} among them"),
            format!("{listed:?}"),
            listed.contains(&target) && listed.iter().all(|n| n.contains(&fragment)),
        )?;
        let all = list(ctx, &[("offset", "0".into()), ("size", "500".into())]).await?;
        let filtered = list(
            ctx,
            &[
                ("logstoreName", String::new()),
                ("offset", "0".into()),
                ("size", "500".into()),
            ],
        )
        .await?;
        ctx.check_eq(
            "ListLogStores logstoreName= (empty) total equals the unfiltered total",
            all.get("total").and_then(Value::as_u64),
            filtered.get("total").and_then(Value::as_u64),
        )?;
        let filtered = list(
            ctx,
            &[
                ("offset", "0".into()),
                ("size", "500".into()),
                ("telemetryType", String::new()),
            ],
        )
        .await?;
        ctx.check_eq(
            "ListLogStores telemetryType= (empty, Go) total equals the unfiltered total",
            all.get("total").and_then(Value::as_u64),
            filtered.get("total").and_then(Value::as_u64),
        )
    })
}

fn create_unset_max_split_shard(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        for (client, unset) in [("Go", 0), ("Java", -1)] {
            let name = ctx.temp_name("ls");
            let req = ctx.request(Method::POST, "/logstores").json(&json!({
                "logstoreName": name, "ttl": 1, "shardCount": 2, "autoSplit": false,
                "maxSplitShard": unset, "enable_tracking": false,
            }));
            let resp = ctx.send(req).await?;
            ctx.track(Resource::Logstore {
                project: ctx.project().to_owned(),
                name: name.clone(),
            });
            ctx.check_empty_ok(format!("CreateLogStore ({client} body)"), &resp)?;
            let settle = ctx.settle();
            crate::runner::wait_for_logstore(ctx.client(), ctx.project(), &name, settle).await?;
            let body = get_logstore(ctx, &name).await?;
            ctx.check_eq(
                format!("GetLogStore autoSplit ({client} body)"),
                Some(false),
                body.get("autoSplit").and_then(Value::as_bool),
            )?;
        }
        Ok(())
    })
}

fn update(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = temp_logstore(ctx, 1).await?;
        let req = ctx
            .request(Method::PUT, format!("/logstores/{name}"))
            .json(&json!({"logstoreName": name, "ttl": 2, "shardCount": 1}));
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("UpdateLogStore", &resp)?;
        let body = get_logstore(ctx, &name).await?;
        ctx.check_eq(
            "GetLogStore ttl after UpdateLogStore",
            Some(2),
            body.get("ttl").and_then(Value::as_i64),
        )
    })
}

fn delete(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = temp_logstore(ctx, 1).await?;
        let resp = ctx
            .send(ctx.request(Method::DELETE, format!("/logstores/{name}")))
            .await?;
        ctx.check_empty_ok("DeleteLogStore", &resp)?;
        let client = ctx.client().clone();
        let req = ctx.request(Method::GET, format!("/logstores/{name}"));
        let resp = poll_until(ctx.settle(), || client.send(&req), |r| r.status == 404).await?;
        ctx.check_error(
            "GetLogStore after DeleteLogStore",
            &resp,
            &[404],
            &["LogStoreNotExist"],
        )
    })
}
