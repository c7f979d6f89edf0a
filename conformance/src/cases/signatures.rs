//! Signatures: V1 and V4 requests accepted, wrong secrets refused, the canonical forms
//! clients rely on (decoded sorted query, empty values, `x-log-date` outside V1, Content-Type
//! on GETs), and clock skew (SLS-API.md §2.4, §3, §13 pitfall 2).

use sls_protocol::compression::CompressType;
use sls_protocol::cursor::encode_cursor;
use sls_protocol::headers as h;
use sls_protocol::proto::Message;

use super::cursors::write_groups;
use super::{pull_request, put_request, sample_group, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group};
use crate::client::{Method, Request, Sign};
use crate::target::SignVersion;

pub(super) const CASES: &[Case] = &[
    Case {
        id: "signatures.v1-get",
        group: Group::Signatures,
        checks: "A V1-signed (LOG ak:sig, HMAC-SHA1) GET with Date, x-log-apiversion, x-log-signaturemethod and x-log-bodyrawsize is accepted",
        source: "SLS-API.md §3.1, §3.2 (worked example A), §3.6",
        run: v1_get,
    },
    Case {
        id: "signatures.v1-post-with-body",
        group: Group::Signatures,
        checks: "A V1-signed POST whose Content-MD5 is the upper-case hex MD5 of the compressed wire body is accepted",
        source: "SLS-API.md §2.4, §3.1, §3.2 (worked example C); captures/python-sdk/ep_localhost_nss_myhostname/put_logs_lz4",
        run: v1_post_with_body,
    },
    Case {
        id: "signatures.v4-get",
        group: Group::Signatures,
        checks: "A V4-signed (SLS4-HMAC-SHA256, x-log-date, x-log-content-sha256, no Date header) GET is accepted",
        source: "SLS-API.md §3.3, §3.4, §3.6; captures/python-sdk/v4_sign_localhost/list_shards",
        run: v4_get,
    },
    Case {
        id: "signatures.v4-post-with-body",
        group: Group::Signatures,
        checks: "A V4-signed POST whose x-log-content-sha256 is the SHA-256 of the compressed wire body is accepted",
        source: "SLS-API.md §3.3; captures/python-sdk/v4_sign_localhost/put_logs",
        run: v4_post_with_body,
    },
    Case {
        id: "signatures.v1-wrong-secret",
        group: Group::Signatures,
        checks: "A V1 signature made with the wrong secret is refused with 401 SignatureNotMatch",
        source: "SLS-API.md §3.6, §10.2",
        run: v1_wrong_secret,
    },
    Case {
        id: "signatures.v4-wrong-secret",
        group: Group::Signatures,
        checks: "A V4 signature made with the wrong secret is refused with 401 SignatureNotMatch",
        source: "SLS-API.md §3.6, §10.2",
        run: v4_wrong_secret,
    },
    Case {
        id: "signatures.v1-decoded-sorted-query",
        group: Group::Signatures,
        checks: "V1 signs the query decoded and sorted by key: a PullLogs whose cursor travels as %3D%3D, parameters sent unsorted, is accepted",
        source: "SLS-API.md §3.1, §13 pitfall 2; clients/REPORT.md §2.2",
        run: v1_decoded_sorted_query,
    },
    Case {
        id: "signatures.v4-encoded-query",
        group: Group::Signatures,
        checks: "V4 signs the query sorted with RFC 3986 percent-encoded values: a PullLogs with a padded cursor is accepted",
        source: "SLS-API.md §3.3 step 4, §13 pitfall 2",
        run: v4_encoded_query,
    },
    Case {
        id: "signatures.v1-empty-value",
        group: Group::Signatures,
        checks: "V1 renders an empty parameter as key= (Java's logstoreName=): such a ListLogStores is accepted",
        source: "SLS-API.md §3.1, §13 pitfall 2; captures/node-alicloud-log/ep_localhost_nss_myhostname/listLogStore",
        run: v1_empty_value,
    },
    Case {
        id: "signatures.v4-empty-value",
        group: Group::Signatures,
        checks: "V4 renders an empty parameter as just key: a ListLogStores with logstoreName= is accepted",
        source: "SLS-API.md §3.3 step 4, §3.4 (second worked example), §13 pitfall 2",
        run: v4_empty_value,
    },
    Case {
        id: "signatures.query-space",
        group: Group::Signatures,
        checks: "A query value with a space sent as + (Python, Go) is signed decoded (V1) and as %20 (V4), and accepted both ways",
        source: "SLS-API.md §3.1 (decode + as space), §3.3 step 4",
        run: query_space,
    },
    Case {
        id: "signatures.v1-x-log-date-unsigned",
        group: Group::Signatures,
        checks: "V1 leaves x-log-date out: a request with an x-log-date added after signing (Python) is accepted",
        source: "SLS-API.md §2.4, §3.1, §13 pitfall 2; captures/python-sdk/ep_localhost_nss_myhostname/put_logs_default",
        run: v1_x_log_date_unsigned,
    },
    Case {
        id: "signatures.content-type-on-get",
        group: Group::Signatures,
        checks: "A Content-Type on a GET without body (Java application/x-protobuf, Python application/json) is signed, in V1 and V4, and accepted",
        source: "SLS-API.md §2.4, §3.1, §13 pitfall 2; captures/python-sdk/ep_localhost_nss_myhostname/get_cursor_begin",
        run: content_type_on_get,
    },
    Case {
        id: "signatures.v1-small-skew",
        group: Group::Signatures,
        checks: "A V1 request whose Date is 5 minutes off is accepted (the limit is 15 minutes)",
        source: "SLS-API.md §2.4, §11",
        run: v1_small_skew,
    },
    Case {
        id: "signatures.v1-skewed-date",
        group: Group::Signatures,
        checks: "A V1 request whose Date is an hour old is refused with 400 RequestTimeExpired",
        source: "SLS-API.md §2.4, §3.6, §10.2",
        run: v1_skewed_date,
    },
    Case {
        id: "signatures.v4-skewed-date",
        group: Group::Signatures,
        checks: "A V4 request whose x-log-date is an hour old is refused with 400 RequestTimeExpired",
        source: "SLS-API.md §3.6, §10.2",
        run: v4_skewed_date,
    },
];

/// ListLogStores of the run's project, signed as `sign`.
fn list_logstores(ctx: &CaseCtx, sign: Sign) -> Request {
    ctx.request(Method::GET, "/logstores")
        .query("offset", "0")
        .query("size", "100")
        .sign(sign)
}

/// Sends `req` and checks a 200.
async fn accepted(ctx: &mut CaseCtx, what: &str, req: Request) -> CaseResult {
    let resp = ctx.send(req).await?;
    ctx.check_ok(what, &resp)
}

/// Sends `req` and checks an SLS error.
async fn refused(
    ctx: &mut CaseCtx,
    what: &str,
    req: Request,
    status: u16,
    code: &str,
) -> CaseResult {
    let resp = ctx.send(req).await?;
    ctx.check_error(what, &resp, &[status], &[code])
}

/// A PullLogs whose cursor is padded (`==` → `%3D%3D` on the wire), parameters unsorted.
async fn padded_cursor_pull(ctx: &mut CaseCtx, sign: Sign) -> Result<Request, crate::case::Stop> {
    let (ls, start, _) = write_groups(ctx, 1).await?;
    let cursor = encode_cursor(start);
    ctx.check(
        "the cursor used has = padding",
        "ends with =",
        &cursor,
        cursor.ends_with('='),
    )?;
    Ok(pull_request(ctx, &ls, 0, &cursor, 10, Some("lz4")).sign(sign))
}

/// A lz4 PutLogs to the 1-shard fixture, signed as `sign`.
fn put_lz4(ctx: &CaseCtx, sign: Sign) -> Request {
    let ls = ctx.fixtures().one_shard.clone();
    let group = sample_group(ctx.case_id(), 5);
    put_request(
        ctx,
        &ls,
        &PutPath::Lb,
        group.encode_to_vec(),
        CompressType::Lz4,
    )
    .sign(sign)
}

fn v1_get(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V1);
        accepted(ctx, "V1-signed ListLogStores", req).await
    })
}

fn v1_post_with_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = put_lz4(ctx, Sign::V1);
        accepted(ctx, "V1-signed PutLogs (lz4 body)", req).await
    })
}

fn v4_get(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V4);
        accepted(ctx, "V4-signed ListLogStores", req).await
    })
}

fn v4_post_with_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = put_lz4(ctx, Sign::V4);
        accepted(ctx, "V4-signed PutLogs (lz4 body)", req).await
    })
}

fn v1_wrong_secret(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::WrongSecret(SignVersion::V1));
        refused(ctx, "V1 with a wrong secret", req, 401, "SignatureNotMatch").await
    })
}

fn v4_wrong_secret(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::WrongSecret(SignVersion::V4));
        refused(ctx, "V4 with a wrong secret", req, 401, "SignatureNotMatch").await
    })
}

fn v1_decoded_sorted_query(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = padded_cursor_pull(ctx, Sign::V1).await?;
        accepted(ctx, "V1-signed PullLogs with an encoded cursor", req).await
    })
}

fn v4_encoded_query(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = padded_cursor_pull(ctx, Sign::V4).await?;
        accepted(ctx, "V4-signed PullLogs with an encoded cursor", req).await
    })
}

fn v1_empty_value(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V1).query("logstoreName", "");
        accepted(ctx, "V1-signed ListLogStores with logstoreName=", req).await
    })
}

fn v4_empty_value(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V4).query("logstoreName", "");
        accepted(ctx, "V4-signed ListLogStores with logstoreName=", req).await
    })
}

fn query_space(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        for (what, sign) in [("V1", Sign::V1), ("V4", Sign::V4)] {
            let req = list_logstores(ctx, sign).query("logstoreName", "no such name");
            accepted(
                ctx,
                &format!("{what}-signed ListLogStores with logstoreName=no+such+name"),
                req,
            )
            .await?;
        }
        Ok(())
    })
}

fn v1_x_log_date_unsigned(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let req = put_lz4(ctx, Sign::V1)
            .header(h::DATE, date.clone())
            .header_after_signing(h::X_LOG_DATE, date);
        accepted(ctx, "V1-signed PutLogs plus an unsigned x-log-date", req).await
    })
}

fn content_type_on_get(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        for (version, sign) in [("V1", Sign::V1), ("V4", Sign::V4)] {
            for content_type in [h::CONTENT_TYPE_PROTOBUF, h::CONTENT_TYPE_JSON] {
                let req = ctx
                    .request(Method::GET, format!("/logstores/{ls}/shards/0"))
                    .query("type", "cursor")
                    .query("from", "begin")
                    .header(h::CONTENT_TYPE, content_type)
                    .sign(sign);
                accepted(
                    ctx,
                    &format!("{version}-signed GetCursor with Content-Type {content_type}"),
                    req,
                )
                .await?;
            }
        }
        Ok(())
    })
}

fn v1_small_skew(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V1).skew(-300);
        accepted(ctx, "V1 with a Date 5 minutes old", req).await
    })
}

fn v1_skewed_date(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V1).skew(-3600);
        refused(
            ctx,
            "V1 with a Date an hour old",
            req,
            400,
            "RequestTimeExpired",
        )
        .await
    })
}

fn v4_skewed_date(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = list_logstores(ctx, Sign::V4).skew(-3600);
        refused(
            ctx,
            "V4 with an x-log-date an hour old",
            req,
            400,
            "RequestTimeExpired",
        )
        .await
    })
}
