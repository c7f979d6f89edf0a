//! PullLogs: the headers every SDK requires, response compression per `Accept-Encoding`,
//! `type=logs`, `end_cursor`, and JSON answers that are never compressed
//! (SLS-API.md §2.5, §4.6, §6, §13 pitfalls 3–5).

use sls_protocol::cursor::encode_cursor;
use sls_protocol::headers as h;

use super::cursors::write_groups;
use super::{check_groups, cursor_value, get_cursor, pull, pull_request, pulled_groups};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group};
use crate::client::{Method, Response};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "pull.headers-on-every-200",
        group: Group::Pull,
        checks: "Every PullLogs 200, with data or at the end, carries x-log-cursor, x-log-count and x-log-bodyrawsize",
        source: "SLS-API.md §2.5, §4.6, §13 pitfall 3; clients/REPORT.md §2.5 (Python raises without them)",
        run: headers_on_every_200,
    },
    Case {
        id: "pull.count-matches-body",
        group: Group::Pull,
        checks: "x-log-count equals the number of LogGroups in the body (Java throws LogGroupCountNotMatch) and never exceeds the count parameter",
        source: "SLS-API.md §2.5, §4.6, §13 pitfall 3",
        run: count_matches_body,
    },
    Case {
        id: "pull.lz4-response",
        group: Group::Pull,
        checks: "With Accept-Encoding: lz4 the body is a raw LZ4 block (no frame) of the LogGroupList, x-log-compresstype lz4, its size only in x-log-bodyrawsize, Content-Type application/x-protobuf",
        source: "SLS-API.md §4.6, §6, §13 pitfall 4; captures/python-sdk/ep_localhost_nss_myhostname/pull_logs_default",
        run: lz4_response,
    },
    Case {
        id: "pull.zstd-response",
        group: Group::Pull,
        checks: "With Accept-Encoding: zstd the body is a zstd frame of x-log-bodyrawsize bytes and x-log-compresstype is zstd",
        source: "SLS-API.md §4.6, §6; captures/python-sdk/ep_localhost_nss_myhostname/pull_logs_zstd",
        run: zstd_response,
    },
    Case {
        id: "pull.deflate-response",
        group: Group::Pull,
        checks: "With Accept-Encoding: deflate the body is zlib-wrapped deflate (78 xx header) and x-log-compresstype is deflate",
        source: "SLS-API.md §6 (response side: lz4, then zstd, then deflate; Python decodes deflate with zlib)",
        run: deflate_response,
    },
    Case {
        id: "pull.uncompressed-response",
        group: Group::Pull,
        checks: "Without Accept-Encoding, or with an empty one (Python compress=False), the body is the raw LogGroupList and x-log-compresstype is absent",
        source: "SLS-API.md §4.6, §6; captures/python-sdk/ep_localhost_nss_myhostname/pull_logs_nocompress",
        run: uncompressed_response,
    },
    Case {
        id: "pull.type-logs",
        group: Group::Pull,
        checks: "PullLogs with type=logs (Go, Rust) works like type=log",
        source: "SLS-API.md §4.6, §12.1, §13 pitfall 5; captures/rust-sdk/ep_localhost_nss_myhostname/pull_logs",
        run: type_logs,
    },
    Case {
        id: "pull.end-cursor-param",
        group: Group::Pull,
        checks: "end_cursor is an exclusive stop: pulling [c, c+2) of 3 LogGroups returns 2 and x-log-cursor c+2",
        source: "SLS-API.md §4.6, §7; captures/python-sdk/ep_localhost_nss_myhostname/pull_logs_end_cursor",
        run: end_cursor_param,
    },
    Case {
        id: "pull.end-of-cursor-flag",
        group: Group::Pull,
        checks: "x-log-end-of-cursor is 1 on a pull whose next cursor is the end of the shard",
        source: "SLS-API.md §2.5, §4.6, §7 [INF on the exact rule]",
        run: end_of_cursor_flag,
    },
    Case {
        id: "pull.json-responses-never-compressed",
        group: Group::Pull,
        checks: "JSON answers (GetCursor, ListShards, GetLogStore) ignore Accept-Encoding: lz4 and never carry x-log-compresstype (Rust would try to decompress them)",
        source: "SLS-API.md §2.4 (Accept-Encoding only on PullLogs/GetLogsV2), §2.5, §13 pitfall 4",
        run: json_responses_never_compressed,
    },
];

/// Pulls 1 group written just before with `accept_encoding` and checks the round trip.
async fn pull_with_encoding(
    ctx: &mut CaseCtx,
    accept_encoding: Option<&str>,
) -> Result<Response, crate::case::Stop> {
    let (ls, start, groups) = write_groups(ctx, 1).await?;
    let req = pull_request(ctx, &ls, 0, &encode_cursor(start), 10, accept_encoding);
    let resp = ctx.send(req).await?;
    ctx.check_ok(
        format!("PullLogs Accept-Encoding {accept_encoding:?}"),
        &resp,
    )?;
    let got = pulled_groups(ctx, &resp)?;
    check_groups(ctx, "LogGroup read back", &groups, &got)?;
    Ok(resp)
}

fn headers_on_every_200(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 1).await?;
        let end = get_cursor(ctx, &ls, 0, "end").await?;
        for (what, cursor) in [("with data", encode_cursor(start)), ("at the end", end)] {
            let req = pull_request(ctx, &ls, 0, &cursor, 10, Some("lz4"));
            let resp = ctx.send(req).await?;
            ctx.check_ok(format!("PullLogs {what}"), &resp)?;
            for name in [h::X_LOG_CURSOR, h::X_LOG_COUNT, h::X_LOG_BODYRAWSIZE] {
                ctx.require_header(format!("PullLogs {what}: {name}"), &resp, name)?;
            }
        }
        Ok(())
    })
}

fn count_matches_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 3).await?;
        for count in [2u32, 3] {
            let resp = pull(ctx, &ls, 0, start, count).await?;
            let groups = pulled_groups(ctx, &resp)?;
            ctx.check_eq(
                format!("LogGroups returned for count={count} (3 available)"),
                count as usize,
                groups.len(),
            )?;
        }
        Ok(())
    })
}

fn lz4_response(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let resp = pull_with_encoding(ctx, Some("lz4")).await?;
        ctx.check_eq(
            "x-log-compresstype",
            Some("lz4"),
            resp.header(h::X_LOG_COMPRESSTYPE),
        )?;
        ctx.check(
            "body is a raw block, not an LZ4 frame",
            "no frame magic 04 22 4d 18",
            format!("{:02x?}", resp.body.get(..4).unwrap_or_default()),
            !resp.body.starts_with(&[0x04, 0x22, 0x4d, 0x18]),
        )?;
        ctx.check_eq(
            "Content-Type",
            Some(h::CONTENT_TYPE_PROTOBUF),
            resp.header(h::CONTENT_TYPE),
        )
    })
}

fn zstd_response(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let resp = pull_with_encoding(ctx, Some("zstd")).await?;
        ctx.check_eq(
            "x-log-compresstype",
            Some("zstd"),
            resp.header(h::X_LOG_COMPRESSTYPE),
        )?;
        ctx.check(
            "body is a zstd frame",
            "magic 28 b5 2f fd",
            format!("{:02x?}", resp.body.get(..4).unwrap_or_default()),
            resp.body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        )
    })
}

fn deflate_response(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let resp = pull_with_encoding(ctx, Some("deflate")).await?;
        ctx.check_eq(
            "x-log-compresstype",
            Some("deflate"),
            resp.header(h::X_LOG_COMPRESSTYPE),
        )?;
        ctx.check(
            "body is zlib-wrapped (RFC 1950 header)",
            "first byte 78",
            format!("{:02x?}", resp.body.first()),
            resp.body.first() == Some(&0x78),
        )
    })
}

fn uncompressed_response(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        for accept in [None, Some("")] {
            let resp = pull_with_encoding(ctx, accept).await?;
            ctx.check_eq(
                format!("x-log-compresstype with Accept-Encoding {accept:?}"),
                None,
                resp.header(h::X_LOG_COMPRESSTYPE),
            )?;
            ctx.check_eq(
                "x-log-bodyrawsize equals the body length",
                Some(resp.body.len().to_string()),
                resp.header(h::X_LOG_BODYRAWSIZE)
                    .map(|s| s.trim().to_owned()),
            )?;
        }
        Ok(())
    })
}

fn type_logs(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, groups) = write_groups(ctx, 1).await?;
        let req = ctx
            .request(Method::GET, format!("/logstores/{ls}/shards/0"))
            .query("type", "logs")
            .query("cursor", encode_cursor(start))
            .query("count", "10")
            .header("accept", h::CONTENT_TYPE_PROTOBUF)
            .header(h::ACCEPT_ENCODING, "lz4");
        let resp = ctx.send(req).await?;
        ctx.check_ok("PullLogs type=logs", &resp)?;
        let got = pulled_groups(ctx, &resp)?;
        check_groups(ctx, "LogGroup read with type=logs", &groups, &got)
    })
}

fn end_cursor_param(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 3).await?;
        let req = pull_request(ctx, &ls, 0, &encode_cursor(start), 100, Some("lz4"))
            .query("end_cursor", encode_cursor(start + 2));
        let resp = ctx.send(req).await?;
        ctx.check_ok("PullLogs with end_cursor", &resp)?;
        let groups = pulled_groups(ctx, &resp)?;
        ctx.check_eq("LogGroups in [c, c+2)", 2, groups.len())?;
        let next = ctx.require_header("x-log-cursor", &resp, h::X_LOG_CURSOR)?;
        let next = cursor_value(ctx, "x-log-cursor", &next)?;
        ctx.check_eq("x-log-cursor when stopped by end_cursor", start + 2, next)
    })
}

fn end_of_cursor_flag(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let (ls, start, _) = write_groups(ctx, 2).await?;
        let resp = pull(ctx, &ls, 0, start, 100).await?;
        ctx.check_eq(
            "x-log-end-of-cursor when next is the end",
            Some("1"),
            resp.header(h::X_LOG_END_OF_CURSOR),
        )
    })
}

fn json_responses_never_compressed(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let requests = [
            (
                "GetCursor",
                ctx.request(Method::GET, format!("/logstores/{ls}/shards/0"))
                    .query("type", "cursor")
                    .query("from", "end"),
            ),
            (
                "ListShards",
                ctx.request(Method::GET, format!("/logstores/{ls}/shards")),
            ),
            (
                "GetLogStore",
                ctx.request(Method::GET, format!("/logstores/{ls}")),
            ),
        ];
        for (what, req) in requests {
            let resp = ctx.send(req.header(h::ACCEPT_ENCODING, "lz4")).await?;
            ctx.require_json(format!("{what} with Accept-Encoding: lz4"), &resp)?;
            ctx.check_eq(
                format!("{what}: x-log-compresstype"),
                None,
                resp.header(h::X_LOG_COMPRESSTYPE),
            )?;
        }
        Ok(())
    })
}
