//! SQL after `|` (over GetLogs v1 and v2) and GetProjectLogs.

use serde_json::{json, Value};
use sls_protocol::headers as h;

use super::{
    check_all_strings, check_plain, check_progress_header, check_query_info, indexed,
    optional_int_header, rows, X_LOG_AGG_QUERY, X_LOG_CPU_CORES, X_LOG_ELAPSED_MILLISECOND,
    X_LOG_HAS_SQL, X_LOG_PROCESSED_ROWS, X_LOG_WHERE_QUERY,
};
use crate::case::{BoxFuture, CaseCtx, CaseResult};
use crate::client::Method;

/// The rows of an SQL answer reduced to `columns` (SLS may add `__time__`/`__source__`).
fn project(rows: &[Value], columns: &[&str]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                Value::Object(
                    columns
                        .iter()
                        .map(|c| ((*c).to_string(), r[*c].clone()))
                        .collect(),
                )
            })
            .collect(),
    )
}

pub(super) fn sql_group_by(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let q = "* | select method, count(*) as c group by method order by method";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        let got = rows(&v["data"]);
        check_all_strings(ctx, "GROUP BY", &got)?;
        ctx.check_eq(
            "GROUP BY rows",
            json!([{"method": "GET", "c": "15"}, {"method": "POST", "c": "5"}]),
            project(&got, &["method", "c"]),
        )?;
        ctx.check_eq("meta.hasSQL", Some(true), v["meta"]["hasSQL"].as_bool())?;
        ctx.check_eq(
            "meta.progress",
            Some("Complete"),
            v["meta"]["progress"].as_str(),
        )?;
        ctx.check_eq(
            "meta.keys",
            json!(["method", "c"]),
            v["meta"]["keys"].clone(),
        )?;
        let q = "status: 500 | select count(*) as c";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        ctx.check_eq(
            "the search part filters: count of status 500",
            json!([{"c": "4"}]),
            project(&rows(&v["data"]), &["c"]),
        )
    })
}

pub(super) fn sql_limit(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (q, want) in [
            (
                "* | select status, method order by status desc, method limit 2, 1",
                json!([{"status": "500", "method": "GET"}]),
            ),
            (
                "* | select status, method order by status desc, method limit 3",
                json!([
                    {"status": "500", "method": "GET"},
                    {"status": "500", "method": "GET"},
                    {"status": "500", "method": "GET"},
                ]),
            ),
        ] {
            let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
            let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
            let rows = rows(&v["data"]);
            check_all_strings(ctx, q, &rows)?;
            ctx.check_eq(q.to_string(), want, project(&rows, &["status", "method"]))?;
        }
        let q = "* | select * limit 10,10";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        let rows = rows(&v["data"]);
        check_all_strings(ctx, q, &rows)?;
        ctx.check_eq(format!("{q}: rows"), 10, rows.len())
    })
}

pub(super) fn sql_default_limit(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 120).await?;
        let q = "* | select status";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        ctx.check_eq(format!("{q}: rows"), 100, rows(&v["data"]).len())?;
        let q = "* | select count(*) as c";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        ctx.check_eq(
            "count(*) still sees all 120",
            json!([{"c": "120"}]),
            project(&rows(&v["data"]), &["c"]),
        )
    })
}

pub(super) fn sql_time(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let q = "* | select min(__time__) as t0, max(__time__) as t1";
        let resp = ctx.send(data.v2(ctx, q, json!({}))).await?;
        let v = ctx.require_json(format!("v2 {q:?}"), &resp)?;
        ctx.check_eq(
            "min and max of __time__",
            json!([{"t0": data.base.to_string(), "t1": (data.base + 19).to_string()}]),
            project(&rows(&v["data"]), &["t0", "t1"]),
        )
    })
}

pub(super) fn sql_v1(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let q = "status: 500 | select count(*) as c";
        let resp = ctx.send(data.v1(ctx, q).query("powerSql", "False")).await?;
        let rows = ctx.require_json_array(format!("v1 {q:?}"), &resp)?;
        check_progress_header(ctx, "v1 SQL", &resp)?;
        check_plain(ctx, "v1 SQL", &resp)?;
        check_all_strings(ctx, "v1 SQL", &rows)?;
        ctx.check_eq("v1 SQL rows", json!([{"c": "4"}]), project(&rows, &["c"]))?;
        let has_sql = resp.header(X_LOG_HAS_SQL).unwrap_or_default();
        ctx.check(
            "v1 SQL: x-log-has-sql",
            "true (Java Boolean.parseBoolean; Python: not \"false\")",
            has_sql,
            has_sql.eq_ignore_ascii_case("true"),
        )?;
        ctx.check_eq(
            "v1 SQL: x-log-where-query (trimmed)",
            Some("status: 500"),
            resp.header(X_LOG_WHERE_QUERY).map(str::trim),
        )?;
        ctx.check_eq(
            "v1 SQL: x-log-agg-query (trimmed)",
            Some("select count(*) as c"),
            resp.header(X_LOG_AGG_QUERY).map(str::trim),
        )?;
        check_query_info(ctx, "v1 SQL", &resp)
    })
}

pub(super) fn sql_unindexed_column(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let resp = ctx.send(data.v2(ctx, "* | select seq", json!({}))).await?;
        ctx.check_error(
            "SQL on seq (no key index)",
            &resp,
            &[400],
            &["ParameterInvalid"],
        )?;
        let message = resp.error_message().unwrap_or_default();
        ctx.check(
            "the error names the column",
            "Column 'seq' cannot be resolved",
            message.clone(),
            message.contains("Column 'seq' cannot be resolved"),
        )
    })
}

pub(super) fn project_logs(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let q = format!(
            "select count(*) as n from \"{}\" where __time__ >= {} and __time__ < {}",
            data.ls,
            data.base,
            data.base + 10
        );
        let resp = ctx
            .send(
                ctx.request(Method::GET, "/logs")
                    .query("query", q)
                    .query("powerSql", "False"),
            )
            .await?;
        let rows = ctx.require_json_array("GetProjectLogs", &resp)?;
        check_all_strings(ctx, "GetProjectLogs", &rows)?;
        ctx.check_eq(
            "GetProjectLogs rows",
            json!([{"n": "10"}]),
            project(&rows, &["n"]),
        )?;
        check_progress_header(ctx, "GetProjectLogs", &resp)?;
        check_plain(ctx, "GetProjectLogs", &resp)?;
        for name in [
            h::X_LOG_COUNT,
            X_LOG_PROCESSED_ROWS,
            X_LOG_ELAPSED_MILLISECOND,
            X_LOG_CPU_CORES,
        ] {
            optional_int_header(ctx, "GetProjectLogs", &resp, name)?;
        }
        let has_sql = resp.header(X_LOG_HAS_SQL).unwrap_or("true");
        ctx.check(
            "GetProjectLogs: x-log-has-sql (when sent)",
            "true",
            has_sql,
            has_sql.eq_ignore_ascii_case("true"),
        )?;
        check_query_info(ctx, "GetProjectLogs", &resp)
    })
}
