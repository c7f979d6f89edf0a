//! GetLogs cases: v1 and v2 wire formats, the rules every client forces on them (QUERY.md §1),
//! paging, reverse, topic, time window, the search language and its errors.

use serde_json::{json, Value};
use sls_protocol::compression::{decompress, CompressType};
use sls_protocol::headers as h;

use super::{
    check_all_strings, check_plain, check_progress_header, check_query_info, go_meta_type_ok,
    hist_at, indexed, int_header, logs, optional_int_header, require_int_header, rows, seq_list,
    seqs, title_case, v1_at, v2_at, HistPath, X_LOG_AGG_QUERY, X_LOG_CPU_CORES, X_LOG_CPU_SEC,
    X_LOG_ELAPSED_MILLISECOND, X_LOG_HAS_SQL, X_LOG_PROCESSED_ROWS, X_LOG_WHERE_QUERY,
};
use crate::case::{BoxFuture, CaseCtx, CaseResult, Stop};
use crate::cases::{put_ok, PutPath};
use crate::client::Method;
use crate::runner::poll_until;

pub(super) fn v1_headers(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let resp = ctx.send(data.v1(ctx, "status: 500")).await?;
        let rows = ctx.require_json_array("GetLogs v1 status: 500", &resp)?;
        ctx.check_eq("rows", 4, rows.len())?;
        check_progress_header(ctx, "v1", &resp)?;
        let count = require_int_header(ctx, "v1", &resp, h::X_LOG_COUNT)?;
        ctx.check_eq("v1: x-log-count equals the rows", 4, count)?;
        require_int_header(ctx, "v1", &resp, X_LOG_PROCESSED_ROWS)?;
        require_int_header(ctx, "v1", &resp, X_LOG_ELAPSED_MILLISECOND)?;
        optional_int_header(ctx, "v1", &resp, X_LOG_CPU_CORES)?;
        if let Some(cpu) = resp.header(X_LOG_CPU_SEC) {
            ctx.check(
                "v1: x-log-cpu-sec (when sent)",
                "a number (Python float(), Java Double.parseDouble)",
                cpu,
                cpu.trim().parse::<f64>().is_ok(),
            )?;
        }
        ctx.check_eq(
            "v1: x-log-has-sql of a search (Python: anything but \"false\" means SQL)",
            Some("false"),
            resp.header(X_LOG_HAS_SQL),
        )?;
        if let Some(agg) = resp.header(X_LOG_AGG_QUERY) {
            ctx.check_eq(
                "v1: x-log-agg-query of a search (when sent)",
                "",
                agg.trim(),
            )?;
        }
        check_query_info(ctx, "v1", &resp)?;
        check_plain(ctx, "v1", &resp)
    })
}

pub(super) fn header_names_case(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (what, req) in [
            ("GetLogs v1", data.v1(ctx, "*")),
            ("GetHistograms", data.hist(ctx, HistPath::Logstore, "*")),
        ] {
            let Some(head) = ctx.client().send_raw_head(&req).await? else {
                return Err(Stop::Skip(
                    "header-name case is only observable over plain http (reqwest lower-cases \
                     names; the suite does not speak TLS by hand)"
                        .into(),
                ));
            };
            ctx.check_eq(format!("{what}: status"), 200, head.status)?;
            let names: Vec<&str> = head
                .headers
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| n.to_ascii_lowercase().starts_with("x-log-"))
                .collect();
            let bad: Vec<&&str> = names
                .iter()
                .filter(|n| **n != n.to_ascii_lowercase() && **n != title_case(n))
                .collect();
            ctx.check(
                format!("{what}: x-log-* header names"),
                "lower-case or Title-Case",
                names.join(", "),
                bad.is_empty(),
            )?;
            ctx.check(
                format!("{what}: x-log-progress found by Python"),
                "x-log-progress or X-Log-Progress",
                names.join(", "),
                names
                    .iter()
                    .any(|n| *n == "x-log-progress" || *n == "X-Log-Progress"),
            )?;
        }
        Ok(())
    })
}

pub(super) fn rows_are_strings(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let resp = ctx.send(data.v2(ctx, "*", json!({}))).await?;
        let v2 = ctx.require_json("GetLogs v2 *", &resp)?;
        let resp = ctx.send(data.v1(ctx, "*")).await?;
        let v1 = ctx.require_json_array("GetLogs v1 *", &resp)?;
        for (what, rows) in [("v2", rows(&v2["data"])), ("v1", v1)] {
            ctx.check_eq(format!("{what}: rows"), 20, rows.len())?;
            check_all_strings(ctx, what, &rows)?;
            let first = rows.first().cloned().unwrap_or_default();
            let time = first["__time__"].as_str().unwrap_or_default();
            ctx.check(
                format!("{what}: __time__ of the first row"),
                format!(
                    "{:?} (decimal, Java Integer.parseInt)",
                    data.base.to_string()
                ),
                format!("{time:?}"),
                time == data.base.to_string() && time.parse::<i32>().is_ok(),
            )?;
            for (key, want) in [
                ("__source__", "10.0.0.7"),
                ("__topic__", "web"),
                ("__tag__:env", "conformance"),
                ("method", "POST"),
                ("status", "500"),
                ("seq", "0"),
            ] {
                ctx.check_eq(format!("{what}: {key}"), Some(want), first[key].as_str())?;
            }
        }
        Ok(())
    })
}

pub(super) fn v2_meta(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let resp = ctx.send(data.v2(ctx, "method: POST", json!({}))).await?;
        let v = ctx.require_json("GetLogs v2 method: POST", &resp)?;
        check_plain(ctx, "v2 (no Accept-Encoding)", &resp)?;
        let meta = v["meta"].clone();
        ctx.check(
            "meta is an object",
            "an object",
            meta.to_string(),
            meta.is_object(),
        )?;
        ctx.check_eq("meta.progress", Some("Complete"), meta["progress"].as_str())?;
        for f in ["count", "processedRows", "elapsedMillisecond", "limited"] {
            ctx.check(
                format!("meta.{f}"),
                "an integer (Go int64)",
                meta[f].to_string(),
                meta[f].is_i64() || meta[f].is_u64(),
            )?;
        }
        for (field, value) in meta.as_object().cloned().unwrap_or_default() {
            if let Some(ok) = go_meta_type_ok(&field, &value) {
                ctx.check(
                    format!("meta.{field} decodes in Go"),
                    "the type of GetLogsV3ResponseMeta's field",
                    value.to_string(),
                    ok,
                )?;
            }
        }
        ctx.check_eq("meta.count", Some(5), meta["count"].as_i64())?;
        ctx.check_eq("meta.hasSQL", Some(false), meta["hasSQL"].as_bool())?;
        let rows = rows(&v["data"]);
        ctx.check_eq("data rows", 5, rows.len())?;
        check_all_strings(ctx, "v2", &rows)
    })
}

pub(super) fn v2_python_request(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        // Field for field what aliyun-log-python-sdk 0.9.52 sends (captured), in its order.
        let body = json!({
            "from": data.base, "to": data.to(), "line": 10, "offset": 0, "powerSql": false,
            "accurate": true, "fromNs": 0, "toNs": 0, "query": "*", "reverse": false,
            "forward": true,
        });
        let req = ctx
            .request(Method::POST, format!("/logstores/{}/logs", data.ls))
            .json(&body)
            .header(h::ACCEPT_ENCODING, "lz4");
        let resp = ctx.send(req).await?;
        ctx.check_ok("GetLogs v2 as Python sends it", &resp)?;
        let kind = resp.header(h::X_LOG_COMPRESSTYPE).map(str::to_owned);
        let raw_size = resp.header(h::X_LOG_BODYRAWSIZE).map(str::to_owned);
        let lz4 = kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("lz4"));
        ctx.check(
            "x-log-compresstype and x-log-bodyrawsize",
            "both absent (plain JSON) or lz4 with the raw size",
            format!("{kind:?} {raw_size:?}"),
            (kind.is_none() && raw_size.is_none()) || (lz4 && raw_size.is_some()),
        )?;
        let body = match raw_size {
            Some(size) if lz4 => {
                let size = size.trim().parse::<usize>().unwrap_or(usize::MAX);
                match decompress(CompressType::Lz4, &resp.body, size) {
                    Ok(raw) => raw,
                    Err(e) => {
                        return Err(ctx.fail(
                            "lz4 body decompresses to x-log-bodyrawsize bytes",
                            format!("{size} bytes"),
                            e,
                        ))
                    }
                }
            }
            _ => resp.body.clone(),
        };
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        ctx.check(
            "body has meta and data (Python raises InvalidResponse otherwise)",
            "{meta: {...}, data: [...]}",
            String::from_utf8_lossy(&body),
            v["meta"].is_object() && v["data"].is_array(),
        )?;
        ctx.check_eq(
            "meta.progress",
            Some("Complete"),
            v["meta"]["progress"].as_str(),
        )?;
        ctx.check_eq("line 10: rows", seq_list(0..10), seqs(&v["data"]))
    })
}

pub(super) fn v1_v2_agree(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let sql = "* | select method, count(*) as c group by method order by method";
        for (query, line, offset, reverse) in [
            ("*", 100, 0, false),
            ("method: GET", 5, 3, true),
            (sql, 100, 0, false),
        ] {
            let what = format!("{query:?} line {line} offset {offset} reverse {reverse}");
            let resp1 = ctx
                .send(
                    data.v1(ctx, query)
                        .query("line", line.to_string())
                        .query("offset", offset.to_string())
                        .query("reverse", reverse.to_string()),
                )
                .await?;
            let body1 = ctx.require_json_array(format!("v1 {what}"), &resp1)?;
            let resp2 = ctx
                .send(data.v2(
                    ctx,
                    query,
                    json!({"line": line, "offset": offset, "reverse": reverse}),
                ))
                .await?;
            let v2 = ctx.require_json(format!("v2 {what}"), &resp2)?;
            let meta = &v2["meta"];
            ctx.check_eq(
                format!("{what}: x-log-count = meta.count"),
                meta["count"].as_i64(),
                int_header(&resp1, h::X_LOG_COUNT),
            )?;
            ctx.check_eq(
                format!("{what}: x-log-processed-rows = meta.processedRows"),
                meta["processedRows"].as_i64(),
                int_header(&resp1, X_LOG_PROCESSED_ROWS),
            )?;
            let has_sql_v1 = resp1.header(X_LOG_HAS_SQL).unwrap_or("false") != "false";
            ctx.check_eq(
                format!("{what}: hasSQL (v1 header as Python reads it)"),
                meta["hasSQL"].as_bool(),
                Some(has_sql_v1),
            )?;
            for (header, field) in [
                (X_LOG_WHERE_QUERY, "whereQuery"),
                (X_LOG_AGG_QUERY, "aggQuery"),
            ] {
                ctx.check_eq(
                    format!("{what}: {header} = meta.{field} (trimmed)"),
                    meta[field].as_str().unwrap_or_default().trim(),
                    resp1.header(header).unwrap_or_default().trim(),
                )?;
            }
            ctx.check_eq(
                format!("{what}: rows"),
                v2["data"].clone(),
                Value::Array(body1),
            )?;
        }
        Ok(())
    })
}

pub(super) fn paging(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (what, extra, want) in [
            (
                "v2 line 5 offset 5",
                json!({"line": 5, "offset": 5}),
                seq_list(5..10),
            ),
            (
                "v2 lines 2 offset 18 (Rust)",
                json!({"lines": 2, "offset": 18}),
                seq_list(18..20),
            ),
            (
                "v2 offset 20",
                json!({"line": 5, "offset": 20}),
                String::new(),
            ),
        ] {
            let resp = ctx.send(data.v2(ctx, "*", extra)).await?;
            let v = ctx.require_json(what, &resp)?;
            ctx.check_eq(what, want, seqs(&v["data"]))?;
        }
        let resp = ctx
            .send(data.v1(ctx, "*").query("line", "5").query("offset", "15"))
            .await?;
        let v = ctx.require_json("v1 line 5 offset 15", &resp)?;
        ctx.check_eq("v1 line 5 offset 15", seq_list(15..20), seqs(&v))?;
        let mut all = Vec::new();
        for offset in (0..21).step_by(7) {
            let resp = ctx
                .send(data.v2(ctx, "*", json!({"line": 7, "offset": offset})))
                .await?;
            let v = ctx.require_json(format!("v2 line 7 offset {offset}"), &resp)?;
            let page = seqs(&v["data"]);
            if !page.is_empty() {
                all.push(page);
            }
        }
        ctx.check_eq("pages of 7 joined", seq_list(0..20), all.join(","))
    })
}

pub(super) fn reverse(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (what, extra, want) in [
            (
                "v2 reverse true line 3",
                json!({"line": 3, "reverse": true}),
                "19,18,17",
            ),
            (
                "v2 reverse false line 3",
                json!({"line": 3, "reverse": false}),
                "0,1,2",
            ),
            (
                "v2 reverse true line 2 offset 3",
                json!({"line": 2, "offset": 3, "reverse": true}),
                "16,15",
            ),
        ] {
            let resp = ctx.send(data.v2(ctx, "*", extra)).await?;
            let v = ctx.require_json(what, &resp)?;
            ctx.check_eq(what, want.to_string(), seqs(&v["data"]))?;
        }
        for (value, want) in [("true", "19,18,17"), ("false", "0,1,2")] {
            let what = format!("v1 reverse={value} line 3");
            let resp = ctx
                .send(data.v1(ctx, "*").query("line", "3").query("reverse", value))
                .await?;
            let v = ctx.require_json(what.clone(), &resp)?;
            ctx.check_eq(what, want.to_string(), seqs(&v))?;
        }
        Ok(())
    })
}

pub(super) fn python_booleans(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (value, want) in [("True", "19"), ("False", "0")] {
            let what = format!("v1 reverse={value} powerSql=False accurate=True line 1");
            let resp = ctx
                .send(
                    data.v1(ctx, "*")
                        .query("line", "1")
                        .query("reverse", value)
                        .query("powerSql", "False")
                        .query("accurate", "True"),
                )
                .await?;
            let v = ctx.require_json(what.clone(), &resp)?;
            ctx.check_eq(what, want.to_string(), seqs(&v))?;
        }
        Ok(())
    })
}

pub(super) fn line_limit(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let resp = ctx.send(data.v1(ctx, "*").query("line", "100")).await?;
        let rows = ctx.require_json_array("v1 line 100", &resp)?;
        ctx.check_eq("v1 line 100: rows", 20, rows.len())?;
        let resp = ctx.send(data.v2(ctx, "*", json!({"line": 100}))).await?;
        ctx.require_json("v2 line 100", &resp)?;
        let resp = ctx.send(data.v1(ctx, "*").query("line", "101")).await?;
        ctx.check_error("v1 line 101", &resp, &[400], &["ParameterInvalid"])?;
        let resp = ctx.send(data.v2(ctx, "*", json!({"line": 101}))).await?;
        ctx.check_error("v2 line 101", &resp, &[400], &["ParameterInvalid"])
    })
}

pub(super) fn line_default(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 120).await?;
        let resp = ctx.send(data.v2(ctx, "*", json!({}))).await?;
        let v = ctx.require_json("v2 without line", &resp)?;
        ctx.check_eq("v2 without line: rows", 100, rows(&v["data"]).len())?;
        ctx.check_eq(
            "v2 without line: meta.count",
            Some(100),
            v["meta"]["count"].as_i64(),
        )?;
        let resp = ctx.send(data.v1(ctx, "*")).await?;
        let rows = ctx.require_json_array("v1 without line", &resp)?;
        ctx.check_eq("v1 without line: rows", 100, rows.len())
    })
}

pub(super) fn topic(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let mut other = logs(data.base, 4);
        other.topic = Some("other".into());
        put_ok(ctx, &data.ls, &other, PutPath::Lb, CompressType::Lz4).await?;
        let req = data.v2(ctx, "*", json!({"topic": "other"}));
        let client = ctx.client().clone();
        poll_until(
            ctx.settle(),
            || client.send(&req),
            |r| r.json().is_some_and(|v| v["meta"]["count"] == 4),
        )
        .await
        .map_err(Stop::from)?;
        for (what, extra, want) in [
            ("v2 without topic", json!({}), 24),
            ("v2 topic web", json!({"topic": "web"}), 20),
            ("v2 topic other", json!({"topic": "other"}), 4),
        ] {
            let resp = ctx.send(data.v2(ctx, "*", extra)).await?;
            let v = ctx.require_json(what, &resp)?;
            ctx.check_eq(
                format!("{what}: meta.count"),
                Some(want),
                v["meta"]["count"].as_i64(),
            )?;
        }
        let resp = ctx
            .send(data.v2(ctx, "__topic__: other", json!({})))
            .await?;
        let v = ctx.require_json("v2 __topic__: other", &resp)?;
        ctx.check_eq(
            "v2 __topic__: other: meta.count",
            Some(4),
            v["meta"]["count"].as_i64(),
        )?;
        let resp = ctx.send(data.v1(ctx, "*").query("topic", "other")).await?;
        let rows = ctx.require_json_array("v1 topic other", &resp)?;
        let topics: Vec<&str> = rows
            .iter()
            .filter_map(|r| r["__topic__"].as_str())
            .collect();
        ctx.check_eq(
            "v1 topic other: __topic__ of the rows",
            vec!["other"; 4],
            topics,
        )?;
        for path in [HistPath::Logstore, HistPath::Index] {
            let what = format!("GetHistograms {path:?} topic other");
            let resp = ctx
                .send(data.hist(ctx, path, "*").query("topic", "other"))
                .await?;
            let buckets = ctx.require_json_array(what.clone(), &resp)?;
            let sum: i64 = buckets.iter().filter_map(|b| b["count"].as_i64()).sum();
            ctx.check_eq(format!("{what}: counts add up"), 4, sum)?;
        }
        Ok(())
    })
}

pub(super) fn time_window(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        let (from, to) = (data.base + 5, data.base + 10);
        let resp = ctx
            .send(v2_at(ctx, &data.ls, from, to, "*", json!({})))
            .await?;
        let v = ctx.require_json("v2 [base+5, base+10)", &resp)?;
        ctx.check_eq("v2 [base+5, base+10)", seq_list(5..10), seqs(&v["data"]))?;
        let resp = ctx.send(v1_at(ctx, &data.ls, from, to, "*")).await?;
        let v = ctx.require_json("v1 [base+5, base+10)", &resp)?;
        ctx.check_eq("v1 [base+5, base+10)", seq_list(5..10), seqs(&v))?;
        let resp = ctx
            .send(hist_at(ctx, HistPath::Logstore, &data.ls, from, to, "*"))
            .await?;
        let buckets = ctx.require_json_array("GetHistograms [base+5, base+10)", &resp)?;
        let sum: i64 = buckets.iter().filter_map(|b| b["count"].as_i64()).sum();
        ctx.check_eq("GetHistograms [base+5, base+10): counts add up", 5, sum)
    })
}

pub(super) fn search_syntax(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        // POST: seq 0,4,8,12,16; status 500: seq 0,5,10,15.
        for (query, want) in [
            ("*", 20),
            ("", 20),
            ("POST", 5),
            ("post", 5),
            ("method: GET", 15),
            ("method: GE*", 15),
            ("status: 500", 4),
            ("method: GET and status: 500", 3),
            ("method: POST or status: 500", 8),
            ("* not method: POST", 15),
            ("(method: POST or method: GET) and status: 500", 4),
            ("status > 200", 4),
            ("status >= 200 and status < 500", 16),
            ("status in [200 499]", 16),
            ("__topic__: web", 20),
        ] {
            let resp = ctx.send(data.v2(ctx, query, json!({"line": 100}))).await?;
            let v = ctx.require_json(format!("v2 {query:?}"), &resp)?;
            ctx.check_eq(
                format!("{query:?}: meta.count"),
                Some(want),
                v["meta"]["count"].as_i64(),
            )?;
        }
        Ok(())
    })
}

pub(super) fn key_without_index(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let data = indexed(ctx, 20).await?;
        for (what, req) in [
            ("v1 seq: 3 (no key index)", data.v1(ctx, "seq: 3")),
            (
                "v2 seq: 3 (no key index)",
                data.v2(ctx, "seq: 3", json!({})),
            ),
        ] {
            let resp = ctx.send(req).await?;
            ctx.check_error(what, &resp, &[400], &["ParameterInvalid"])?;
            let message = resp.error_message().unwrap_or_default();
            ctx.check(
                format!("{what}: the error names the key"),
                "key (seq) is not config as key value config",
                message.clone(),
                message.contains("key (seq) is not config as key value config"),
            )?;
        }
        Ok(())
    })
}
