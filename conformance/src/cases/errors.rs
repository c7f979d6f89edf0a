//! Errors: every error code the emulator emits, provoked from outside, with its HTTP status,
//! and the error shape (JSON `errorCode`/`errorMessage`, `x-log-requestid`) on every failure
//! (SLS-API.md §2.5, §10). Signature errors are in `signatures`.

use serde_json::json;
use sls_protocol::compression::CompressType;
use sls_protocol::cursor::encode_cursor;
use sls_protocol::headers as h;
use sls_protocol::proto::{Log, LogContent, LogGroup, Message};

use super::{end_cursor, now_secs, pull_request, put_request, sample_group, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Request, Sign};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "errors.project-not-exist",
        group: Group::Errors,
        checks: "A request to a project that does not exist is answered 404 ProjectNotExist",
        source: "SLS-API.md §4.2, §10.2",
        run: project_not_exist,
    },
    Case {
        id: "errors.logstore-not-exist",
        group: Group::Errors,
        checks: "ListShards of a logstore that does not exist is answered 404 LogStoreNotExist with message \"logstore <name> does not exist\"",
        source: "SLS-API.md §4.3 (Java function test asserts the message), §10.2",
        run: logstore_not_exist,
    },
    Case {
        id: "errors.shard-not-exist",
        group: Group::Errors,
        checks: "GetCursor on a shard id the logstore does not have is answered 404 ShardNotExist",
        source: "SLS-API.md §4.5, §10.2 (code from a Java test; 404 recommended)",
        run: shard_not_exist,
    },
    Case {
        id: "errors.project-already-exist",
        group: Group::Errors,
        checks: "CreateProject of an existing project is answered 400 ProjectAlreadyExist",
        source: "SLS-API.md §4.2, §10.2",
        run: project_already_exist,
    },
    Case {
        id: "errors.logstore-already-exist",
        group: Group::Errors,
        checks: "CreateLogStore of an existing logstore is answered 400 LogStoreAlreadyExist with message \"logstore <name> already exists\"",
        source: "SLS-API.md §4.3 (Java function test), §10.2",
        run: logstore_already_exist,
    },
    Case {
        id: "errors.parameter-invalid-from",
        group: Group::Errors,
        checks: "GetCursor with from= neither begin, end nor unix seconds is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.5",
        run: parameter_invalid_from,
    },
    Case {
        id: "errors.parameter-invalid-cursor",
        group: Group::Errors,
        checks: "PullLogs with a malformed (truncated) cursor is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.6, §7 (Java function test truncates a cursor)",
        run: parameter_invalid_cursor,
    },
    Case {
        id: "errors.parameter-invalid-count",
        group: Group::Errors,
        checks: "PullLogs with count=1001 (outside 1-1000) is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.6, §10.2, §11 (count 1-1000); C&P §2.5",
        run: parameter_invalid_count,
    },
    Case {
        id: "errors.parameter-invalid-project-name",
        group: Group::Errors,
        checks: "CreateProject with a name outside [a-z0-9-] (sent in the body, Node/Rust style) is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.2 (400 ParameterInvalid for a bad name), §11",
        run: parameter_invalid_project_name,
    },
    Case {
        id: "errors.parameter-invalid-logstore-name",
        group: Group::Errors,
        checks: "CreateLogStore with a name outside [a-z0-9_-] is answered 400 ParameterInvalid",
        source: "SLS-API.md §4.3, §11",
        run: parameter_invalid_logstore_name,
    },
    Case {
        id: "errors.parameter-invalid-hash-key",
        group: Group::Errors,
        checks: "PutLogs to /shards/route with a key that is not hex is answered 400 ParameterInvalid",
        source: "SLS-API.md §8 [INF]",
        run: parameter_invalid_hash_key,
    },
    Case {
        id: "errors.post-body-invalid-protobuf",
        group: Group::Errors,
        checks: "PutLogs whose protobuf body does not parse is answered 400 PostBodyInvalid",
        source: "SLS-API.md §4.7.2, §10.2",
        run: post_body_invalid_protobuf,
    },
    Case {
        id: "errors.post-body-invalid-json",
        group: Group::Errors,
        checks: "CreateLogStore whose body is not JSON is answered 400 PostBodyInvalid",
        source: "SLS-API.md §10.2",
        run: post_body_invalid_json,
    },
    Case {
        id: "errors.post-body-too-large",
        group: Group::Errors,
        checks: "PutLogs of a LogGroup over 10 MB raw (11 MiB, sent lz4-compressed) is answered PostBodyTooLarge (413; old docs 400)",
        source: "SLS-API.md §4.7.2, §10.2, §11, §12.8",
        run: post_body_too_large,
    },
    Case {
        id: "errors.post-body-uncompress-error",
        group: Group::Errors,
        checks: "PutLogs with x-log-compresstype lz4 and a body that is not an LZ4 block is answered 400 PostBodyUncompressError",
        source: "SLS-API.md §6, §10.2",
        run: post_body_uncompress_error,
    },
    Case {
        id: "errors.raw-size-mismatch",
        group: Group::Errors,
        checks: "PutLogs whose lz4 body does not decompress to exactly x-log-bodyrawsize bytes is answered 400 PostBodyUncompressError",
        source: "SLS-API.md §4.7.2, §6",
        run: raw_size_mismatch,
    },
    Case {
        id: "errors.invalid-compress-type",
        group: Group::Errors,
        checks: "PutLogs with x-log-compresstype snappy is answered 400 InvalidCompressType",
        source: "SLS-API.md §6, §10.2",
        run: invalid_compress_type,
    },
    Case {
        id: "errors.missing-body-raw-size",
        group: Group::Errors,
        checks: "A compressed PutLogs body without x-log-bodyrawsize is answered 400 MissingBodyRawSize",
        source: "SLS-API.md §10.2",
        run: missing_body_raw_size,
    },
    Case {
        id: "errors.invalid-body-raw-size",
        group: Group::Errors,
        checks: "A compressed PutLogs body with x-log-bodyrawsize: abc is answered 400 InvalidBodyRawSize",
        source: "SLS-API.md §10.2",
        run: invalid_body_raw_size,
    },
    Case {
        id: "errors.missing-content-type",
        group: Group::Errors,
        checks: "A PutLogs body without Content-Type is answered 400 MissingContentType",
        source: "SLS-API.md §10.2",
        run: missing_content_type,
    },
    Case {
        id: "errors.invalid-content-type",
        group: Group::Errors,
        checks: "A PutLogs body with Content-Type text/plain is answered InvalidContentType (400; old docs 415)",
        source: "SLS-API.md §10.2, §12.8",
        run: invalid_content_type,
    },
    Case {
        id: "errors.missing-date",
        group: Group::Errors,
        checks: "A V1-signed request without Date is answered 400 MissingDate",
        source: "SLS-API.md §2.4, §10.2",
        run: missing_date,
    },
    Case {
        id: "errors.invalid-date-format",
        group: Group::Errors,
        checks: "A V1-signed request whose Date is not an RFC 1123 date is answered 400 InvalidDateFormat",
        source: "SLS-API.md §2.4, §10.2",
        run: invalid_date_format,
    },
    Case {
        id: "errors.invalid-cursor",
        group: Group::Errors,
        checks: "PullLogs with a well-formed cursor beyond the end of the shard is answered 400 InvalidCursor",
        source: "SLS-API.md §4.6, §7, §10.2 (status inferred)",
        run: invalid_cursor,
    },
    Case {
        id: "errors.unauthorized-without-signature",
        group: Group::Errors,
        checks: "A request without Authorization is answered 401 Unauthorized",
        source: "SLS-API.md §3.6 step 1, §10.2",
        run: unauthorized_without_signature,
    },
    Case {
        id: "errors.unauthorized-unknown-key",
        group: Group::Errors,
        checks: "A request signed with an unknown AccessKeyId is answered 401 Unauthorized (or InvalidAccessKeyId)",
        source: "SLS-API.md §3.6 step 4, §10.2",
        run: unauthorized_unknown_key,
    },
    Case {
        id: "errors.unknown-route",
        group: Group::Errors,
        checks: "A path SLS does not serve is answered with a non-200 SLS error (JSON errorCode and errorMessage) carrying x-log-requestid",
        source: "SLS-API.md §2.5 (send it on every response), §10.1",
        run: unknown_route,
    },
    Case {
        id: "errors.request-id-everywhere",
        group: Group::Errors,
        checks: "x-log-requestid (24 upper-case hex) is on every answer: JSON 200, empty 200, PullLogs 200 and errors",
        source: "SLS-API.md §2.5 (Java retries Put/Pull only when an error has no request id)",
        run: request_id_everywhere,
    },
];

/// Sends `req` and checks an SLS error with one of `statuses` and `codes`.
async fn expect_error(
    ctx: &mut CaseCtx,
    what: &str,
    req: Request,
    statuses: &[u16],
    codes: &[&str],
) -> CaseResult {
    let resp = ctx.send(req).await?;
    ctx.check_error(what, &resp, statuses, codes)
}

/// A protobuf PutLogs of a small LogGroup to the 1-shard fixture.
fn small_put(ctx: &CaseCtx, kind: CompressType) -> Request {
    let ls = ctx.fixtures().one_shard.clone();
    let group = sample_group(ctx.case_id(), 2);
    put_request(ctx, &ls, &PutPath::Lb, group.encode_to_vec(), kind)
}

/// A lz4 PutLogs with a hand-made wire body and headers.
fn raw_lz4_put(ctx: &CaseCtx, wire: Vec<u8>, raw_size: Option<&str>) -> Request {
    let ls = ctx.fixtures().one_shard.clone();
    let req = ctx
        .request(Method::POST, format!("/logstores/{ls}/shards/lb"))
        .protobuf(wire)
        .header(h::X_LOG_COMPRESSTYPE, "lz4");
    match raw_size {
        Some(size) => req.header(h::X_LOG_BODYRAWSIZE, size),
        None => req.without_header(h::X_LOG_BODYRAWSIZE),
    }
}

fn project_not_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let missing = ctx.temp_name("missing");
        let req = Request::new(Method::GET, "/logstores").project(missing);
        expect_error(
            ctx,
            "ListLogStores of a missing project",
            req,
            &[404],
            &["ProjectNotExist"],
        )
        .await
    })
}

fn logstore_not_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let missing = ctx.temp_name("missing");
        let req = ctx.request(Method::GET, format!("/logstores/{missing}/shards"));
        let resp = ctx.send(req).await?;
        ctx.check_error(
            "ListShards of a missing logstore",
            &resp,
            &[404],
            &["LogStoreNotExist"],
        )?;
        ctx.check_eq(
            "errorMessage",
            Some(format!("logstore {missing} does not exist")),
            resp.error_message(),
        )
    })
}

fn shard_not_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let req = ctx
            .request(Method::GET, format!("/logstores/{ls}/shards/99"))
            .query("type", "cursor")
            .query("from", "begin");
        expect_error(
            ctx,
            "GetCursor on shard 99 of a 1-shard logstore",
            req,
            &[404],
            &["ShardNotExist"],
        )
        .await
    })
}

fn project_already_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let req = Request::new(Method::POST, "/")
            .project(project.clone())
            .json(&json!({"projectName": project, "description": "duplicate"}));
        expect_error(
            ctx,
            "CreateProject of the run's project",
            req,
            &[400],
            &["ProjectAlreadyExist"],
        )
        .await
    })
}

fn logstore_already_exist(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let req = ctx
            .request(Method::POST, "/logstores")
            .json(&json!({"logstoreName": ls, "ttl": 1, "shardCount": 1}));
        let resp = ctx.send(req).await?;
        ctx.check_error(
            "CreateLogStore of an existing logstore",
            &resp,
            &[400],
            &["LogStoreAlreadyExist"],
        )?;
        ctx.check_eq(
            "errorMessage",
            Some(format!("logstore {ls} already exists")),
            resp.error_message(),
        )
    })
}

fn parameter_invalid_from(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let req = ctx
            .request(Method::GET, format!("/logstores/{ls}/shards/0"))
            .query("type", "cursor")
            .query("from", "yesterday");
        expect_error(
            ctx,
            "GetCursor from=yesterday",
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn parameter_invalid_cursor(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let begin = super::get_cursor(ctx, &ls, 0, "begin").await?;
        let truncated: String = begin.chars().take(begin.len().saturating_sub(3)).collect();
        let req = pull_request(ctx, &ls, 0, &truncated, 10, Some("lz4"));
        expect_error(
            ctx,
            &format!("PullLogs cursor={truncated} (truncated)"),
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn parameter_invalid_count(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let begin = super::get_cursor(ctx, &ls, 0, "begin").await?;
        let req = pull_request(ctx, &ls, 0, &begin, 1001, Some("lz4"));
        expect_error(
            ctx,
            "PullLogs count=1001",
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn parameter_invalid_project_name(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = Request::new(Method::POST, "/")
            .json(&json!({"projectName": "Bad_Project!", "description": "invalid name"}));
        expect_error(
            ctx,
            "CreateProject \"Bad_Project!\"",
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn parameter_invalid_logstore_name(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx
            .request(Method::POST, "/logstores")
            .json(&json!({"logstoreName": "Bad Name!", "ttl": 1, "shardCount": 1}));
        expect_error(
            ctx,
            "CreateLogStore \"Bad Name!\"",
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn parameter_invalid_hash_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().four_shards.clone();
        let group = sample_group(ctx.case_id(), 1);
        let req = put_request(
            ctx,
            &ls,
            &PutPath::Route("not-a-hex-key".to_owned()),
            group.encode_to_vec(),
            CompressType::Lz4,
        );
        expect_error(
            ctx,
            "PutLogs route key=not-a-hex-key",
            req,
            &[400],
            &["ParameterInvalid"],
        )
        .await
    })
}

fn post_body_invalid_protobuf(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        // Field 1, length 100, but only 3 bytes follow.
        let req = put_request(
            ctx,
            &ls,
            &PutPath::Lb,
            vec![0x0a, 0x64, 0x01, 0x02, 0x03],
            CompressType::Lz4,
        );
        expect_error(
            ctx,
            "PutLogs of a truncated protobuf",
            req,
            &[400],
            &["PostBodyInvalid"],
        )
        .await
    })
}

fn post_body_invalid_json(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx
            .request(Method::POST, "/logstores")
            .body("{\"logstoreName\": ")
            .header(h::CONTENT_TYPE, h::CONTENT_TYPE_JSON);
        expect_error(
            ctx,
            "CreateLogStore with a body that is not JSON",
            req,
            &[400],
            &["PostBodyInvalid"],
        )
        .await
    })
}

fn post_body_too_large(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let value = "x".repeat(1024 * 1024);
        let time = now_secs();
        let group = LogGroup {
            logs: (0..11)
                .map(|i| Log {
                    time: Some(time),
                    contents: vec![LogContent {
                        key: format!("big{i}").into(),
                        value: value.clone().into(),
                    }],
                    time_ns: None,
                })
                .collect(),
            ..LogGroup::default()
        };
        let raw = group.encode_to_vec();
        ctx.check(
            "raw body size",
            "more than 10 MiB",
            raw.len(),
            raw.len() > 10 * 1024 * 1024,
        )?;
        let ls = ctx.fixtures().one_shard.clone();
        let req = put_request(ctx, &ls, &PutPath::Lb, raw, CompressType::Lz4);
        expect_error(
            ctx,
            "PutLogs of 11 MiB raw",
            req,
            &[413, 400],
            &["PostBodyTooLarge"],
        )
        .await
    })
}

fn post_body_uncompress_error(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        // A literal run announcing 15 bytes with only 4 present: not a valid block.
        let req = raw_lz4_put(ctx, vec![0xf0, 0x01, 0x02, 0x03, 0x04], Some("300"));
        expect_error(
            ctx,
            "PutLogs lz4 with a corrupt block",
            req,
            &[400],
            &["PostBodyUncompressError"],
        )
        .await
    })
}

fn raw_size_mismatch(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let group = sample_group(ctx.case_id(), 2);
        let raw = group.encode_to_vec();
        let wire = sls_protocol::compression::compress(CompressType::Lz4, &raw)
            .map_err(|e| Stop::Error(e.into()))?;
        let wrong = (raw.len() + 7).to_string();
        let req = raw_lz4_put(ctx, wire, Some(&wrong));
        expect_error(
            ctx,
            &format!("PutLogs lz4 of {} bytes announced as {wrong}", raw.len()),
            req,
            &[400],
            &["PostBodyUncompressError"],
        )
        .await
    })
}

fn invalid_compress_type(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = small_put(ctx, CompressType::None).header(h::X_LOG_COMPRESSTYPE, "snappy");
        expect_error(
            ctx,
            "PutLogs x-log-compresstype: snappy",
            req,
            &[400],
            &["InvalidCompressType"],
        )
        .await
    })
}

fn missing_body_raw_size(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = small_put(ctx, CompressType::Lz4).without_header(h::X_LOG_BODYRAWSIZE);
        expect_error(
            ctx,
            "PutLogs lz4 without x-log-bodyrawsize",
            req,
            &[400],
            &["MissingBodyRawSize"],
        )
        .await
    })
}

fn invalid_body_raw_size(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = small_put(ctx, CompressType::Lz4).header(h::X_LOG_BODYRAWSIZE, "abc");
        expect_error(
            ctx,
            "PutLogs lz4 with x-log-bodyrawsize: abc",
            req,
            &[400],
            &["InvalidBodyRawSize"],
        )
        .await
    })
}

fn missing_content_type(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = small_put(ctx, CompressType::Lz4).without_header(h::CONTENT_TYPE);
        expect_error(
            ctx,
            "PutLogs without Content-Type",
            req,
            &[400],
            &["MissingContentType"],
        )
        .await
    })
}

fn invalid_content_type(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = small_put(ctx, CompressType::Lz4).header(h::CONTENT_TYPE, "text/plain");
        expect_error(
            ctx,
            "PutLogs with Content-Type text/plain",
            req,
            &[400, 415],
            &["InvalidContentType"],
        )
        .await
    })
}

fn missing_date(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx
            .request(Method::GET, "/logstores")
            .sign(Sign::V1)
            .without_header(h::DATE);
        expect_error(
            ctx,
            "V1-signed ListLogStores without Date",
            req,
            &[400],
            &["MissingDate"],
        )
        .await
    })
}

fn invalid_date_format(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx
            .request(Method::GET, "/logstores")
            .sign(Sign::V1)
            .header(h::DATE, "not a date");
        expect_error(
            ctx,
            "V1-signed ListLogStores with Date: not a date",
            req,
            &[400],
            &["InvalidDateFormat"],
        )
        .await
    })
}

fn invalid_cursor(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let end = end_cursor(ctx, &ls, 0).await?;
        let beyond = encode_cursor(end + 1000);
        let req = pull_request(ctx, &ls, 0, &beyond, 10, Some("lz4"));
        expect_error(
            ctx,
            "PullLogs from end + 1000",
            req,
            &[400],
            &["InvalidCursor"],
        )
        .await
    })
}

fn unauthorized_without_signature(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx.request(Method::GET, "/logstores").sign(Sign::None);
        expect_error(
            ctx,
            "ListLogStores without Authorization",
            req,
            &[401],
            &["Unauthorized"],
        )
        .await
    })
}

fn unauthorized_unknown_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let version = ctx.client().target().sign_version;
        let req = ctx
            .request(Method::GET, "/logstores")
            .sign(Sign::UnknownKey(version));
        expect_error(
            ctx,
            "ListLogStores signed with an unknown AccessKeyId",
            req,
            &[401],
            &["Unauthorized", "InvalidAccessKeyId"],
        )
        .await
    })
}

fn unknown_route(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = ctx.request(Method::GET, "/sls-conformance/no/such/route");
        let resp = ctx.send(req).await?;
        ctx.check(
            "GET /sls-conformance/no/such/route",
            "a non-200 status",
            resp.summary(),
            resp.status != 200,
        )?;
        ctx.check(
            "unknown route: body (§10.1)",
            "JSON with errorCode and errorMessage",
            String::from_utf8_lossy(&resp.body),
            resp.error_code().is_some() && resp.error_message().is_some(),
        )?;
        ctx.check_request_id("unknown route: x-log-requestid", &resp)
    })
}

fn request_id_everywhere(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let start = end_cursor(ctx, &ls, 0).await?;
        // Each with the status it must get, so that every kind of answer is really covered.
        let requests = [
            ("ListProject", Request::new(Method::GET, "/"), 200),
            (
                "GetLogStore",
                ctx.request(Method::GET, format!("/logstores/{ls}")),
                200,
            ),
            ("PutLogs", small_put(ctx, CompressType::Lz4), 200),
            (
                "PullLogs",
                pull_request(ctx, &ls, 0, &encode_cursor(start), 10, Some("lz4")),
                200,
            ),
            (
                "GetLogStore of a missing logstore",
                ctx.request(Method::GET, "/logstores/no-such-logstore-here"),
                404,
            ),
        ];
        for (what, req, status) in requests {
            let resp = ctx.send(req).await?;
            ctx.check_status(what, &resp, status)?;
            ctx.check_request_id(format!("{what} ({}): x-log-requestid", resp.status), &resp)?;
        }
        Ok(())
    })
}
