//! Index cases: CreateIndex, GetIndex, UpdateIndex, DeleteIndex and their errors (QUERY.md §3),
//! and the error of a query on a logstore without an index.

use serde_json::{json, Value};
use sls_protocol::headers as h;

use super::{
    check_plain, hist_at, index_json, index_path, logstore_with_index, tokens, v1_at, v2_at,
    HistPath,
};
use crate::case::{BoxFuture, CaseCtx, CaseResult, Stop};
use crate::cases::{now_secs, temp_logstore};
use crate::client::{Method, Request};
use crate::runner::poll_until;

pub(super) fn no_index(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        let base = i64::from(now_secs()) - 600;
        let to = base + 20;
        for (what, req) in [
            ("GetLogs v1", v1_at(ctx, &ls, base, to, "*")),
            ("GetLogs v2", v2_at(ctx, &ls, base, to, "*", json!({}))),
            (
                "GetHistograms ?type=histogram",
                hist_at(ctx, HistPath::Logstore, &ls, base, to, "*"),
            ),
            (
                "GetHistograms /index?type=histogram (Java)",
                hist_at(ctx, HistPath::Index, &ls, base, to, "*"),
            ),
        ] {
            let resp = ctx.send(req).await?;
            ctx.check_error(what, &resp, &[400], &["IndexConfigNotExist"])?;
            ctx.check_eq(
                format!("{what}: errorMessage"),
                Some("logstore without index config".to_string()),
                resp.error_message(),
            )?;
        }
        Ok(())
    })
}

/// GetIndex as Go sends it (`Accept-Encoding: deflate`, read raw).
fn get_index(ctx: &CaseCtx, ls: &str) -> Request {
    ctx.request(Method::GET, index_path(ls))
        .header(h::ACCEPT_ENCODING, "deflate")
}

pub(super) fn index_create_get(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = logstore_with_index(ctx).await?;
        let resp = ctx.send(get_index(ctx, &ls)).await?;
        let got = ctx.require_json("GetIndex", &resp)?;
        check_plain(ctx, "GetIndex", &resp)?;
        ctx.check_eq("index_mode", Some("v2"), got["index_mode"].as_str())?;
        ctx.check_eq("line.token", &tokens(), &got["line"]["token"])?;
        ctx.check_eq(
            "line.caseSensitive",
            Some(false),
            got["line"]["caseSensitive"].as_bool(),
        )?;
        ctx.check_eq(
            "keys.method.type",
            Some("text"),
            got["keys"]["method"]["type"].as_str(),
        )?;
        ctx.check_eq(
            "keys.method.token",
            &tokens(),
            &got["keys"]["method"]["token"],
        )?;
        ctx.check_eq(
            "keys.method.doc_value",
            Some(true),
            got["keys"]["method"]["doc_value"].as_bool(),
        )?;
        ctx.check_eq(
            "keys.status.type",
            Some("long"),
            got["keys"]["status"]["type"].as_str(),
        )?;
        ctx.check_eq("no key index for seq", &Value::Null, &got["keys"]["seq"])
    })
}

pub(super) fn index_already_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = logstore_with_index(ctx).await?;
        let other = json!({"keys": {"status": {"type": "long"}}});
        let resp = ctx
            .send(ctx.request(Method::POST, index_path(&ls)).json(&other))
            .await?;
        ctx.check_error("CreateIndex again", &resp, &[400], &["IndexAlreadyExist"])?;
        let resp = ctx.send(get_index(ctx, &ls)).await?;
        let got = ctx.require_json("GetIndex after the refused create", &resp)?;
        ctx.check_eq(
            "the first index is kept: keys.method.type",
            Some("text"),
            got["keys"]["method"]["type"].as_str(),
        )
    })
}

pub(super) fn index_update(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = logstore_with_index(ctx).await?;
        let mut updated = index_json();
        updated["keys"]["seq"] = json!({"type": "long", "doc_value": true});
        let resp = ctx
            .send(ctx.request(Method::PUT, index_path(&ls)).json(&updated))
            .await?;
        ctx.check_empty_ok("UpdateIndex", &resp)?;
        let resp = ctx.send(get_index(ctx, &ls)).await?;
        let got = ctx.require_json("GetIndex after UpdateIndex", &resp)?;
        ctx.check_eq(
            "keys.seq.type",
            Some("long"),
            got["keys"]["seq"]["type"].as_str(),
        )?;
        ctx.check_eq(
            "keys.method.type kept",
            Some("text"),
            got["keys"]["method"]["type"].as_str(),
        )?;
        ctx.check_eq("index_mode", Some("v2"), got["index_mode"].as_str())
    })
}

pub(super) fn index_delete(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = logstore_with_index(ctx).await?;
        let resp = ctx
            .send(ctx.request(Method::DELETE, index_path(&ls)))
            .await?;
        ctx.check_empty_ok("DeleteIndex", &resp)?;
        let req = get_index(ctx, &ls);
        let client = ctx.client().clone();
        let resp = poll_until(ctx.settle(), || client.send(&req), |r| r.status != 200)
            .await
            .map_err(Stop::from)?;
        ctx.check_error(
            "GetIndex after DeleteIndex",
            &resp,
            &[400, 404],
            &["IndexConfigNotExist"],
        )?;
        let base = i64::from(now_secs()) - 600;
        let resp = ctx
            .send(v2_at(ctx, &ls, base, base + 20, "*", json!({})))
            .await?;
        ctx.check_error(
            "GetLogs after DeleteIndex",
            &resp,
            &[400],
            &["IndexConfigNotExist"],
        )?;
        ctx.check_eq(
            "GetLogs after DeleteIndex: errorMessage",
            Some("logstore without index config".to_string()),
            resp.error_message(),
        )
    })
}

pub(super) fn index_missing(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        for (what, req) in [
            ("GetIndex", get_index(ctx, &ls)),
            (
                "UpdateIndex",
                ctx.request(Method::PUT, index_path(&ls))
                    .json(&index_json()),
            ),
            ("DeleteIndex", ctx.request(Method::DELETE, index_path(&ls))),
        ] {
            let resp = ctx.send(req).await?;
            ctx.check_error(
                format!("{what} without an index"),
                &resp,
                &[400, 404],
                &["IndexConfigNotExist"],
            )?;
        }
        Ok(())
    })
}

pub(super) fn index_invalid(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = temp_logstore(ctx, 1).await?;
        for (what, body) in [
            (
                "CreateIndex with key type blob",
                json!({"keys": {"a": {"type": "blob"}}}),
            ),
            (
                "CreateIndex with token \",\" (not a list)",
                json!({"line": {"token": ",", "caseSensitive": false}}),
            ),
        ] {
            let resp = ctx
                .send(ctx.request(Method::POST, index_path(&ls)).json(&body))
                .await?;
            ctx.check_error(what, &resp, &[400], &["IndexInfoInvalid"])?;
        }
        let resp = ctx.send(get_index(ctx, &ls)).await?;
        ctx.check_error(
            "GetIndex after the refused creates",
            &resp,
            &[400, 404],
            &["IndexConfigNotExist"],
        )
    })
}
