//! Cursors: their format, the arithmetic clients rely on (consecutive per LogGroup, next =
//! cursor + count, read-last = next − 1), the end cursor, `from=<time>` and GetCursorTime
//! (SLS-API.md §4.5, §7).

use serde_json::Value;
use sls_protocol::compression::CompressType;
use sls_protocol::cursor::encode_cursor;
use sls_protocol::headers as h;
use sls_protocol::proto::LogGroup;

use super::{
    check_groups, cursor_value, end_cursor, get_cursor, pull, pull_request, pulled_groups, put_ok,
    sample_group, PutPath,
};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::Method;

pub(super) const CASES: &[Case] = &[
    Case {
        id: "cursors.format",
        group: Group::Cursors,
        checks: "GetCursor answers {\"cursor\": ...}: padded standard base64 of a decimal int64, with begin <= end",
        source: "SLS-API.md §4.5, §7; captures/python-sdk/ep_localhost_nss_myhostname/get_cursor_begin",
        run: cursor_format,
    },
    Case {
        id: "cursors.consecutive",
        group: Group::Cursors,
        checks: "Each LogGroup written moves the end cursor by exactly 1 (consecutive integers per LogGroup)",
        source: "SLS-API.md §7, §13 pitfall 6",
        run: consecutive,
    },
    Case {
        id: "cursors.group-at-each-cursor",
        group: Group::Cursors,
        checks: "The i-th LogGroup written after cursor c is the one PullLogs returns from cursor c+i (Go derives per-group cursors this way)",
        source: "SLS-API.md §7 (Go addCursorIfPossible)",
        run: group_at_each_cursor,
    },
    Case {
        id: "cursors.next-is-cursor-plus-count",
        group: Group::Cursors,
        checks: "PullLogs x-log-cursor is the request cursor plus the number of LogGroups returned",
        source: "SLS-API.md §4.6, §7, §13 pitfall 6",
        run: next_is_cursor_plus_count,
    },
    Case {
        id: "cursors.read-last-cursor",
        group: Group::Cursors,
        checks: "PullLogs x-log-read-last-cursor is the decimal (not base64) cursor of the last LogGroup returned, i.e. next - 1",
        source: "SLS-API.md §2.5, §4.6, §7",
        run: read_last_cursor,
    },
    Case {
        id: "cursors.end-pull-same-cursor",
        group: Group::Cursors,
        checks: "PullLogs at the end cursor answers 200 with x-log-count 0, an empty body, x-log-bodyrawsize 0 and x-log-cursor equal to the request cursor string, every time",
        source: "SLS-API.md §4.6, §7, §13 pitfall 6; captures/python-sdk/ep_localhost_nss_myhostname/pull_logs_empty",
        run: end_pull_same_cursor,
    },
    Case {
        id: "cursors.from-future-time-is-end",
        group: Group::Cursors,
        checks: "GetCursor from=<unix seconds after every write> returns the end cursor",
        source: "SLS-API.md §4.5, §7",
        run: from_future_time_is_end,
    },
    Case {
        id: "cursors.from-time-is-receive-time",
        group: Group::Cursors,
        checks: "GetCursor from=t is the first LogGroup received at or after t: with t the GetCursorTime of a LogGroup at cursor c, from=t gives a cursor <= c and from=t+1 a cursor > c",
        source: "SLS-API.md §4.5, §7 (from= is the server receive time, Python pull_log docstring)",
        run: from_time_is_receive_time,
    },
    Case {
        id: "cursors.from-past-time-is-begin",
        group: Group::Cursors,
        checks: "GetCursor from=<unix seconds before every write> returns the begin cursor",
        source: "SLS-API.md §7 [INF for the clamping]",
        run: from_past_time_is_begin,
    },
    Case {
        id: "cursors.unpadded-accepted",
        group: Group::Cursors,
        checks: "PullLogs accepts a cursor without its = padding (the docs show unpadded cursors) and reads the same LogGroup",
        source: "SLS-API.md §7",
        run: unpadded_accepted,
    },
    Case {
        id: "cursors.cursor-time",
        group: Group::Cursors,
        checks: "GetCursorTime of the cursor of a LogGroup just written answers {\"cursor_time\": <integer unix seconds>} close to now",
        source: "SLS-API.md §4.5; captures/python-sdk/ep_localhost_nss_myhostname/get_cursor_time_of_cursor",
        run: cursor_time,
    },
    Case {
        id: "cursors.cursor-time-end-and-previous",
        group: Group::Cursors,
        checks: "GetCursorTime accepts the end cursor and end - 1 (Python's get_previous_cursor_time)",
        source: "SLS-API.md §4.5 [INF: accept any cursor in [begin, end]], §7",
        run: cursor_time_end_and_previous,
    },
];

/// Writes `k` single-log LogGroups to the 1-shard fixture; returns the cursor before them and
/// the groups.
pub(super) async fn write_groups(
    ctx: &mut CaseCtx,
    k: usize,
) -> Result<(String, i64, Vec<LogGroup>), Stop> {
    let ls = ctx.fixtures().one_shard.clone();
    let start = end_cursor(ctx, &ls, 0).await?;
    let mut groups = Vec::new();
    for i in 0..k {
        let group = sample_group(&format!("{}#{i}", ctx.case_id()), 1);
        put_ok(ctx, &ls, &group, PutPath::Lb, CompressType::Lz4).await?;
        groups.push(group);
    }
    Ok((ls, start, groups))
}

/// GetCursorTime of `cursor`; returns the JSON body.
async fn get_cursor_time(ctx: &mut CaseCtx, ls: &str, cursor: i64) -> Result<Value, Stop> {
    let req = ctx
        .request(Method::GET, format!("/logstores/{ls}/shards/0"))
        .query("type", "cursor_time")
        .query("cursor", encode_cursor(cursor));
    let resp = ctx.send(req).await?;
    ctx.require_json(format!("GetCursorTime cursor={cursor}"), &resp)
}

fn cursor_format(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let begin = get_cursor(ctx, &ls, 0, "begin").await?;
        let end = get_cursor(ctx, &ls, 0, "end").await?;
        for (what, c) in [("begin", &begin), ("end", &end)] {
            ctx.check(
                format!("{what} cursor is padded base64 (§7: always emit padded)"),
                "length a multiple of 4",
                format!("{c:?}"),
                c.len() % 4 == 0,
            )?;
        }
        let b = cursor_value(ctx, "begin cursor", &begin)?;
        let e = cursor_value(ctx, "end cursor", &end)?;
        ctx.check(
            "begin <= end",
            format!("{b} <= {e}"),
            format!("{b}, {e}"),
            b <= e,
        )
    })
}

fn consecutive(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let start = end_cursor(ctx, &ls, 0).await?;
        for i in 1..=3 {
            let group = sample_group(ctx.case_id(), 2);
            put_ok(ctx, &ls, &group, PutPath::Lb, CompressType::Lz4).await?;
            let end = end_cursor(ctx, &ls, 0).await?;
            ctx.check_eq(
                format!("end cursor after {i} LogGroups (start {start})"),
                start + i,
                end,
            )?;
        }
        Ok(())
    })
}

fn group_at_each_cursor(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, groups) = write_groups(ctx, 3).await?;
        for (i, sent) in (0i64..).zip(&groups) {
            let resp = pull(ctx, &ls, 0, start + i, 1).await?;
            let got = pulled_groups(ctx, &resp)?;
            check_groups(
                ctx,
                format!("LogGroup at cursor start+{i}"),
                std::slice::from_ref(sent),
                &got,
            )?;
        }
        Ok(())
    })
}

fn next_is_cursor_plus_count(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 3).await?;
        let resp = pull(ctx, &ls, 0, start, 2).await?;
        let groups = pulled_groups(ctx, &resp)?;
        ctx.check_eq("LogGroups returned for count=2", 2, groups.len())?;
        let next = ctx.require_header("x-log-cursor", &resp, h::X_LOG_CURSOR)?;
        let next = cursor_value(ctx, "x-log-cursor", &next)?;
        ctx.check_eq("x-log-cursor after 2 LogGroups", start + 2, next)?;
        let resp = pull(ctx, &ls, 0, next, 100).await?;
        let groups = pulled_groups(ctx, &resp)?;
        ctx.check_eq("LogGroups left after them", 1, groups.len())?;
        let last = ctx.require_header("x-log-cursor", &resp, h::X_LOG_CURSOR)?;
        let last = cursor_value(ctx, "x-log-cursor", &last)?;
        ctx.check_eq("x-log-cursor after the third LogGroup", start + 3, last)
    })
}

fn read_last_cursor(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 3).await?;
        let resp = pull(ctx, &ls, 0, start, 3).await?;
        let last = ctx.require_header(
            "x-log-read-last-cursor (§2.5: Go, Rust, Flink)",
            &resp,
            h::X_LOG_READ_LAST_CURSOR,
        )?;
        ctx.check_eq(
            "x-log-read-last-cursor (decimal) after 3 LogGroups from start",
            (start + 2).to_string(),
            last,
        )
    })
}

fn end_pull_same_cursor(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, _, _) = write_groups(ctx, 1).await?;
        let end = get_cursor(ctx, &ls, 0, "end").await?;
        for attempt in 1..=2 {
            let req = pull_request(ctx, &ls, 0, &end, 100, Some("lz4"));
            let resp = ctx.send(req).await?;
            ctx.check_ok(format!("PullLogs at the end cursor (#{attempt})"), &resp)?;
            let next = ctx.require_header("x-log-cursor", &resp, h::X_LOG_CURSOR)?;
            ctx.check_eq(
                "x-log-cursor at the end equals the request cursor string",
                end.clone(),
                next,
            )?;
            let count = ctx.require_header("x-log-count", &resp, h::X_LOG_COUNT)?;
            ctx.check_eq("x-log-count at the end", "0", count.trim())?;
            let raw = ctx.require_header("x-log-bodyrawsize", &resp, h::X_LOG_BODYRAWSIZE)?;
            ctx.check_eq("x-log-bodyrawsize at the end", "0", raw.trim())?;
            ctx.check_eq("body length at the end", 0, resp.body.len())?;
        }
        Ok(())
    })
}

fn from_future_time_is_end(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, _, _) = write_groups(ctx, 1).await?;
        let future = chrono::Utc::now().timestamp() + 3600;
        let c = get_cursor(ctx, &ls, 0, &future.to_string()).await?;
        let from_time = cursor_value(ctx, "cursor from=<now+1h>", &c)?;
        let end = end_cursor(ctx, &ls, 0).await?;
        ctx.check_eq(
            "GetCursor from=<now+1h> equals the end cursor",
            end,
            from_time,
        )
    })
}

fn from_time_is_receive_time(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 1).await?;
        let body = get_cursor_time(ctx, &ls, start).await?;
        let Some(t) = body.get("cursor_time").and_then(Value::as_i64) else {
            return Err(ctx.fail(
                "GetCursorTime (§4.5)",
                "{\"cursor_time\": <integer>}",
                body.to_string(),
            ));
        };
        let at = get_cursor(ctx, &ls, 0, &t.to_string()).await?;
        let at = cursor_value(ctx, &format!("cursor from={t}"), &at)?;
        ctx.check(
            format!("GetCursor from={t} (the receive time of the LogGroup at {start})"),
            format!("<= {start}"),
            at,
            at <= start,
        )?;
        let after = get_cursor(ctx, &ls, 0, &(t + 1).to_string()).await?;
        let after = cursor_value(ctx, &format!("cursor from={}", t + 1), &after)?;
        ctx.check(
            format!("GetCursor from={} (one second later)", t + 1),
            format!("> {start}"),
            after,
            after > start,
        )
    })
}

fn from_past_time_is_begin(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, _, _) = write_groups(ctx, 1).await?;
        let c = get_cursor(ctx, &ls, 0, "1").await?;
        let from_time = cursor_value(ctx, "cursor from=1", &c)?;
        let begin = get_cursor(ctx, &ls, 0, "begin").await?;
        let begin = cursor_value(ctx, "begin cursor", &begin)?;
        ctx.check_eq("GetCursor from=1 equals the begin cursor", begin, from_time)
    })
}

fn unpadded_accepted(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, groups) = write_groups(ctx, 1).await?;
        let padded = encode_cursor(start);
        let unpadded = padded.trim_end_matches('=').to_owned();
        let req = pull_request(ctx, &ls, 0, &unpadded, 10, Some("lz4"));
        let resp = ctx.send(req).await?;
        ctx.check_ok(format!("PullLogs cursor={unpadded} (unpadded)"), &resp)?;
        let got = pulled_groups(ctx, &resp)?;
        check_groups(ctx, "LogGroup read from the unpadded cursor", &groups, &got)
    })
}

fn cursor_time(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 1).await?;
        let body = get_cursor_time(ctx, &ls, start).await?;
        let t = body.get("cursor_time").cloned().unwrap_or(Value::Null);
        let now = chrono::Utc::now().timestamp();
        ctx.check(
            "GetCursorTime cursor_time of a LogGroup just written",
            format!("an integer within 900 s of {now}"),
            t.to_string(),
            t.as_i64().is_some_and(|t| (t - now).abs() <= 900),
        )
    })
}

fn cursor_time_end_and_previous(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, _, _) = write_groups(ctx, 1).await?;
        let end = end_cursor(ctx, &ls, 0).await?;
        for (what, cursor) in [("end", end), ("end - 1", end - 1)] {
            let body = get_cursor_time(ctx, &ls, cursor).await?;
            let t = body.get("cursor_time").cloned().unwrap_or(Value::Null);
            ctx.check(
                format!("GetCursorTime of the {what} cursor"),
                "{\"cursor_time\": <integer>}",
                body.to_string(),
                t.is_i64(),
            )?;
        }
        Ok(())
    })
}
