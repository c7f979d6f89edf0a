//! GetHistograms cases, on the `?type=histogram` path and the Java `/index` path.

use serde_json::{json, Value};
use sls_protocol::headers as h;

use super::{check_plain, check_progress_header, hist_at, indexed, require_int_header, HistPath};
use crate::case::{BoxFuture, CaseCtx, CaseResult, Stop};
use crate::client::Response;

/// Checks one GetHistograms answer over `[from, to)`; returns its buckets as
/// `(from, to, count)`.
fn check_buckets(
    ctx: &mut CaseCtx,
    what: &str,
    resp: &Response,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64)>, Stop> {
    let buckets = ctx.require_json_array(what, resp)?;
    check_progress_header(ctx, what, resp)?;
    check_plain(ctx, what, resp)?;
    ctx.check(
        format!("{what}: 1 to 60 buckets"),
        "1..=60",
        buckets.len(),
        (1..=60).contains(&buckets.len()),
    )?;
    let typed = buckets.iter().all(|b| {
        b["from"].is_i64() && b["to"].is_i64() && b["count"].is_i64() && b["progress"].is_string()
    });
    ctx.check(
        format!("{what}: bucket fields"),
        "integer from, to, count (Python sums count); string progress",
        buckets.first().map(Value::to_string).unwrap_or_default(),
        typed,
    )?;
    let complete = buckets.iter().all(|b| b["progress"] == "Complete");
    ctx.check(
        format!("{what}: every bucket's progress"),
        "Complete",
        complete,
        complete,
    )?;
    let spans: Vec<(i64, i64, i64)> = buckets
        .iter()
        .map(|b| {
            (
                b["from"].as_i64().unwrap_or_default(),
                b["to"].as_i64().unwrap_or_default(),
                b["count"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let contiguous = spans.first().map(|s| s.0) == Some(from)
        && spans.last().map(|s| s.1) == Some(to)
        && spans.windows(2).all(|w| w[0].1 == w[1].0)
        && spans.iter().all(|s| s.0 < s.1 || from == to);
    let shown: Vec<String> = spans
        .iter()
        .map(|s| format!("[{}, {})", s.0, s.1))
        .collect();
    ctx.check(
        format!("{what}: buckets"),
        format!("contiguous, covering [{from}, {to})"),
        shown.join(" "),
        contiguous,
    )?;
    let sum: i64 = spans.iter().map(|s| s.2).sum();
    let header = require_int_header(ctx, what, resp, h::X_LOG_COUNT)?;
    ctx.check_eq(
        format!("{what}: x-log-count = the buckets' sum (Go)"),
        sum,
        header,
    )?;
    Ok(spans)
}

/// GetHistograms of `method: GET` on `path`: the buckets agree with GetLogs and a repeat.
async fn histograms_on(ctx: &mut CaseCtx, path: HistPath) -> CaseResult {
    let data = indexed(ctx, 20).await?;
    let query = "method: GET";
    let what = format!("GetHistograms {path:?} {query:?}");
    let resp = ctx.send(data.hist(ctx, path, query)).await?;
    let spans = check_buckets(ctx, &what, &resp, data.base, data.to())?;
    let resp = ctx.send(data.v2(ctx, query, json!({"line": 100}))).await?;
    let v = ctx.require_json(format!("GetLogs v2 {query:?}"), &resp)?;
    let sum: i64 = spans.iter().map(|s| s.2).sum();
    ctx.check_eq(
        format!("{what}: counts add up to the GetLogs count"),
        v["meta"]["count"].as_i64(),
        Some(sum),
    )?;
    ctx.check_eq(format!("{what}: counts add up"), 15, sum)?;
    let resp = ctx.send(data.hist(ctx, path, query)).await?;
    let again = check_buckets(ctx, &format!("{what} again"), &resp, data.base, data.to())?;
    ctx.check_eq(
        format!("{what}: the same split when asked again"),
        spans,
        again,
    )
}

pub(super) fn histograms(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(histograms_on(ctx, HistPath::Logstore))
}

pub(super) fn histograms_java_path(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(histograms_on(ctx, HistPath::Index))
}

pub(super) fn histograms_wide_window(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let (from, to) = (data.to() - 3600, data.to());
        let what = "GetHistograms over an hour";
        let resp = ctx
            .send(hist_at(ctx, HistPath::Logstore, &data.ls, from, to, "*"))
            .await?;
        let spans = check_buckets(ctx, what, &resp, from, to)?;
        let inner: Vec<i64> = spans
            .iter()
            .skip(1)
            .take(spans.len().saturating_sub(2))
            .map(|s| s.1 - s.0)
            .collect();
        ctx.check(
            format!("{what}: inner buckets"),
            "of equal width",
            format!("{inner:?}"),
            inner.windows(2).all(|w| w[0] == w[1]),
        )?;
        let sum: i64 = spans.iter().map(|s| s.2).sum();
        ctx.check_eq(format!("{what}: counts add up"), 20, sum)
    })
}
