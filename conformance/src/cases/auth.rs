//! Authorization: RAM policies (Allow, Deny, wildcards, NotAction), the RAM action and
//! resource each API is checked against, STS security tokens, disabled and revoked keys.
//!
//! Keys with policies are created through sls-emu's admin API (`/_sls-emu/keys`); against
//! an endpoint without it (real SLS) every case is skipped, since RAM users cannot be made
//! from here. Policies name resources with `acs:log:*:*:` so they hold whatever the account
//! id; the refusals are checked for SLS's exact wording: 401 `Unauthorized`, `denied by sts or
//! ram, action: <log:Action>, resource: acs:log:<region>:<uid>:<resource>`
//! (aliyun/aliyun-log-go-sdk#38, AliyunContainerService/log-pilot#85).

use serde_json::{json, Value};
use sls_protocol::headers as h;

use super::consumer_groups::create_group;
use super::{end_cursor, get_cursor, put_request, sample_group, PutPath};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Stop};
use crate::client::{Method, Request, Response};
use sls_protocol::compression::CompressType;
use sls_protocol::proto::Message;

const RAM: &str = "SLS RAM authorization (alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-ram)";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "auth.no-policy-no-access",
        group: Group::Auth,
        checks: "A key with no policy is refused GetProject with 401 Unauthorized naming log:GetProject and the project's ARN",
        source: RAM,
        run: no_policy_no_access,
    },
    Case {
        id: "auth.denied-names-action-and-resource",
        group: Group::Auth,
        checks: "A key allowed only log:GetLogStore on a logstore reads it, and ListShards there is refused naming log:ListShards and the logstore's ARN",
        source: "SLS RAM authorization; aliyun/aliyun-log-go-sdk#38 (401 Unauthorized, denied by sts or ram)",
        run: denied_names_action_and_resource,
    },
    Case {
        id: "auth.denied-write-stores-nothing",
        group: Group::Auth,
        checks: "A PutLogs refused for log:PostLogStoreLogs stores nothing (the shard's end cursor does not move)",
        source: "SLS RAM authorization; AliyunContainerService/log-pilot#85",
        run: denied_write_stores_nothing,
    },
    Case {
        id: "auth.deny-overrides-allow",
        group: Group::Auth,
        checks: "With Allow log:* on * and Deny log:PostLogStoreLogs on the logstore, PutLogs is refused and ListShards allowed",
        source: "RAM policy elements (alibabacloud.com/help/en/ram/policy-elements): Deny takes precedence",
        run: deny_overrides_allow,
    },
    Case {
        id: "auth.wildcard-action",
        group: Group::Auth,
        checks: "Allow log:Get* grants GetCursor and PullLogs (log:GetCursorOrData) and not ListShards",
        source: "RAM policy elements; SLS system policy AliyunLogReadOnlyAccess (log:Get*, log:List*)",
        run: wildcard_action,
    },
    Case {
        id: "auth.not-action",
        group: Group::Auth,
        checks: "Allow with NotAction log:PostLogStoreLogs grants everything but PutLogs",
        source: "RAM policy elements (Action or NotAction)",
        run: not_action,
    },
    Case {
        id: "auth.wildcard-resource",
        group: Group::Auth,
        checks: "A resource pattern ending in -s? matches the one-shard fixture logstore (…-s1) and not a fresh logstore",
        source: "RAM policy elements (wildcards in Resource)",
        run: wildcard_resource,
    },
    Case {
        id: "auth.cursor-and-pull-share-an-action",
        group: Group::Auth,
        checks: "log:GetCursorOrData alone grants GetCursor, GetCursorTime and PullLogs",
        source: "SLS RAM authorization: log:GetCursorOrData covers GetCursor, GetCursorTime and PullLogs",
        run: cursor_and_pull_share_an_action,
    },
    Case {
        id: "auth.consumer-group-resource",
        group: Group::Auth,
        checks: "Heartbeats are checked on …/consumergroup/<name>: allowed for one group, refused for another naming it",
        source: "SLS RAM authorization; aliyun/aliyun-log-go-sdk#38 (log:ConsumerGroupHeartBeat on …/consumergroup/<name>)",
        run: consumer_group_resource,
    },
    Case {
        id: "auth.create-group-resource-from-body",
        group: Group::Auth,
        checks: "CreateConsumerGroup is checked on …/consumergroup/<consumerGroup from the body>",
        source: "SLS CreateConsumerGroup authorization table; flink-log-connector README (…/consumergroup/*)",
        run: create_group_resource_from_body,
    },
    Case {
        id: "auth.list-project-resource",
        group: Group::Auth,
        checks: "ListProject is checked on acs:log:<region>:<uid>:project/*",
        source: "SLS ListProject authorization table (log:ListProject on project/*)",
        run: list_project_resource,
    },
    Case {
        id: "auth.key-has-its-own-secret",
        group: Group::Auth,
        checks: "A RAM user's key signed with another key's secret is refused with 401 SignatureNotMatch",
        source: "SLS-API.md §3.6",
        run: key_has_its_own_secret,
    },
    Case {
        id: "auth.disabled-key",
        group: Group::Auth,
        checks: "A disabled key is refused with 401 Unauthorized \"AccessKeyId is disabled: <id>\"",
        source: "SLS common errors (Unauthorized: AccessKeyId is disabled)",
        run: disabled_key,
    },
    Case {
        id: "auth.revoked-policy",
        group: Group::Auth,
        checks: "Detaching a policy refuses the very next request it allowed",
        source: "RAM: policy changes apply to subsequent requests",
        run: revoked_policy,
    },
    Case {
        id: "auth.sts-token",
        group: Group::Auth,
        checks: "An STS credential works with its x-acs-security-token and its policy still applies",
        source: "SLS-API.md §2.3 (x-acs-security-token), §3.1",
        run: sts_token,
    },
    Case {
        id: "auth.sts-missing-or-wrong-token",
        group: Group::Auth,
        checks: "An STS credential without its token, or with another, is refused with 401 Unauthorized \"The security token you provided is invalid.\"",
        source: "SLS common errors (Unauthorized: The security token you provided is invalid.)",
        run: sts_missing_or_wrong_token,
    },
    Case {
        id: "auth.sts-expired-token",
        group: Group::Auth,
        checks: "An expired STS credential is refused with 401 Unauthorized \"The security token you provided has expired.\"",
        source: "SLS-API.md §10.2; aliyun/aliyun-log-java-producer#44",
        run: sts_expired_token,
    },
];

/// A key the case created, signing requests as a RAM user.
struct Key {
    id: String,
    secret: String,
}

impl Key {
    fn sign(&self, req: Request) -> Request {
        req.signed_by(self.id.clone(), self.secret.clone())
    }
}

fn doc(statements: Value) -> Value {
    json!({"Version": "1", "Statement": statements})
}

fn allow(actions: Value, resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource})
}

/// Creates a key (admin API) with `spec` plus a fresh id and secret; skips the case when the
/// endpoint has no admin API.
async fn make_key(ctx: &mut CaseCtx, mut spec: Value) -> Result<Key, Stop> {
    let id = ctx.temp_name("key");
    let secret = format!("{id}-secret");
    spec["secret"] = json!(secret);
    let (status, answer) = ctx
        .client()
        .admin(Method::PUT, &format!("/keys/{id}"), Some(&spec))
        .await?;
    match status {
        200 => Ok(Key { id, secret }),
        404 => Err(Stop::Skip(
            "the endpoint has no sls-emu admin API (/_sls-emu/keys) to create RAM users with"
                .into(),
        )),
        _ => Err(ctx.fail(
            "create a key (admin API)",
            "200",
            format!("{status} {answer}"),
        )),
    }
}

/// A key whose only policy is `statements`.
async fn key_with(ctx: &mut CaseCtx, statements: Value) -> Result<Key, Stop> {
    make_key(ctx, json!({"policies": {"p": doc(statements)}})).await
}

/// `acs:log:*:*:project/<project>/logstore/<ls>` (any region and account).
fn ls_arn(ctx: &CaseCtx, ls: &str) -> String {
    format!("acs:log:*:*:project/{}/logstore/{ls}", ctx.project())
}

/// Checks a 401 Unauthorized refusal naming `action` on a resource ending in `resource`
/// (`project/...`), in the account and region of the endpoint.
fn check_denied(
    ctx: &mut CaseCtx,
    what: &str,
    resp: &Response,
    action: &str,
    resource: &str,
) -> CaseResult {
    ctx.check_error(what, resp, &[401], &["Unauthorized"])?;
    let message = resp.error_message().unwrap_or_default();
    let region = ctx.client().target().region.clone();
    let prefix = format!("denied by sts or ram, action: {action}, resource: acs:log:{region}:");
    let ok = message.starts_with(&prefix)
        && message.ends_with(&format!(":{resource}"))
        && message[prefix.len()..].split(':').count() == 2;
    ctx.check(
        format!("{what}: errorMessage"),
        format!("{prefix}<uid>:{resource}"),
        message,
        ok,
    )
}

/// `project/<project>/logstore/<ls>`: the end of a logstore's ARN.
fn ls_resource(ctx: &CaseCtx, ls: &str) -> String {
    format!("project/{}/logstore/{ls}", ctx.project())
}

/// Under a key with `statements`, ListShards on the one-shard fixture is allowed and PutLogs
/// there is refused for `log:PostLogStoreLogs`.
async fn lists_but_cannot_put(ctx: &mut CaseCtx, statements: Value, why: &str) -> CaseResult {
    let ls = ctx.fixtures().one_shard.clone();
    let key = key_with(ctx, statements).await?;
    let resp = ctx.send(key.sign(list_shards(ctx, &ls))).await?;
    ctx.check_ok("ListShards (allowed)", &resp)?;
    let resp = ctx.send(key.sign(put(ctx, &ls))).await?;
    let resource = ls_resource(ctx, &ls);
    check_denied(
        ctx,
        &format!("PutLogs ({why})"),
        &resp,
        "log:PostLogStoreLogs",
        &resource,
    )
}

/// ListShards on `ls` under `key`, checked to be refused for `log:ListShards`.
async fn list_shards_denied(ctx: &mut CaseCtx, key: &Key, ls: &str, what: &str) -> CaseResult {
    let resp = ctx.send(key.sign(list_shards(ctx, ls))).await?;
    let resource = ls_resource(ctx, ls);
    check_denied(ctx, what, &resp, "log:ListShards", &resource)
}

fn list_shards(ctx: &CaseCtx, ls: &str) -> Request {
    ctx.request(Method::GET, format!("/logstores/{ls}/shards"))
}

fn put(ctx: &CaseCtx, ls: &str) -> Request {
    let group = sample_group(ctx.case_id(), 1);
    put_request(
        ctx,
        ls,
        &PutPath::Lb,
        group.encode_to_vec(),
        CompressType::Lz4,
    )
}

fn no_policy_no_access(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = make_key(ctx, json!({})).await?;
        let resp = ctx.send(key.sign(ctx.request(Method::GET, "/"))).await?;
        let project = format!("project/{}", ctx.project());
        check_denied(
            ctx,
            "GetProject without a policy",
            &resp,
            "log:GetProject",
            &project,
        )
    })
}

fn denied_names_action_and_resource(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = key_with(
            ctx,
            json!([allow(json!("log:GetLogStore"), json!(ls_arn(ctx, &ls)))]),
        )
        .await?;
        let resp = ctx
            .send(key.sign(ctx.request(Method::GET, format!("/logstores/{ls}"))))
            .await?;
        ctx.check_ok("GetLogStore (allowed)", &resp)?;
        list_shards_denied(ctx, &key, &ls, "ListShards (not allowed)").await
    })
}

fn denied_write_stores_nothing(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = key_with(
            ctx,
            json!([allow(json!("log:ListShards"), json!(ls_arn(ctx, &ls)))]),
        )
        .await?;
        let before = end_cursor(ctx, &ls, 0).await?;
        let resp = ctx.send(key.sign(put(ctx, &ls))).await?;
        let resource = ls_resource(ctx, &ls);
        check_denied(
            ctx,
            "PutLogs (not allowed)",
            &resp,
            "log:PostLogStoreLogs",
            &resource,
        )?;
        let after = end_cursor(ctx, &ls, 0).await?;
        ctx.check_eq("end cursor after the refused PutLogs", before, after)
    })
}

fn deny_overrides_allow(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let arn = ls_arn(ctx, &ctx.fixtures().one_shard);
        let statements = json!([
            allow(json!("log:*"), json!("*")),
            {"Effect": "Deny", "Action": "log:PostLogStoreLogs", "Resource": arn},
        ]);
        lists_but_cannot_put(ctx, statements, "denied explicitly").await
    })
}

fn wildcard_action(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = key_with(
            ctx,
            json!([allow(json!("log:Get*"), json!(ls_arn(ctx, &ls)))]),
        )
        .await?;
        let cursor_req = ctx
            .request(Method::GET, format!("/logstores/{ls}/shards/0"))
            .query("type", "cursor")
            .query("from", "begin");
        let resp = ctx.send(key.sign(cursor_req)).await?;
        let body = ctx.require_json("GetCursor under log:Get*", &resp)?;
        let cursor = body["cursor"].as_str().unwrap_or_default().to_owned();
        let pull = super::pull_request(ctx, &ls, 0, &cursor, 1, Some("lz4"));
        let resp = ctx.send(key.sign(pull)).await?;
        ctx.check_ok("PullLogs under log:Get*", &resp)?;
        list_shards_denied(ctx, &key, &ls, "ListShards under log:Get*").await
    })
}

fn not_action(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let statements =
            json!([{"Effect": "Allow", "NotAction": "log:PostLogStoreLogs", "Resource": "*"}]);
        lists_but_cannot_put(ctx, statements, "excluded by NotAction").await
    })
}

fn wildcard_resource(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let one = ctx.fixtures().one_shard.clone();
        let other = ctx.fixtures().four_shards.clone();
        let pattern = format!("acs:log:*:*:project/{}/logstore/*-s?", ctx.project());
        let key = key_with(ctx, json!([allow(json!("log:ListShards"), json!(pattern))])).await?;
        let resp = ctx.send(key.sign(list_shards(ctx, &one))).await?;
        ctx.check_ok(format!("ListShards {one} (matches -s?)"), &resp)?;
        let fresh = super::temp_logstore(ctx, 1).await?;
        list_shards_denied(
            ctx,
            &key,
            &fresh,
            "ListShards on a logstore the pattern misses",
        )
        .await?;
        let resp = ctx.send(key.sign(list_shards(ctx, &other))).await?;
        ctx.check_ok(format!("ListShards {other} (matches -s?)"), &resp)
    })
}

fn cursor_and_pull_share_an_action(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = key_with(
            ctx,
            json!([allow(json!("log:GetCursorOrData"), json!(ls_arn(ctx, &ls)))]),
        )
        .await?;
        let owner_cursor = get_cursor(ctx, &ls, 0, "begin").await?;
        let shard = format!("/logstores/{ls}/shards/0");
        let resp = ctx
            .send(
                key.sign(
                    ctx.request(Method::GET, shard.clone())
                        .query("type", "cursor")
                        .query("from", "end"),
                ),
            )
            .await?;
        ctx.check_ok("GetCursor", &resp)?;
        let resp = ctx
            .send(
                key.sign(
                    ctx.request(Method::GET, shard)
                        .query("type", "cursor_time")
                        .query("cursor", owner_cursor.clone()),
                ),
            )
            .await?;
        ctx.check_ok("GetCursorTime", &resp)?;
        let pull = super::pull_request(ctx, &ls, 0, &owner_cursor, 1, Some("lz4"));
        let resp = ctx.send(key.sign(pull)).await?;
        ctx.check_ok("PullLogs", &resp)
    })
}

fn heartbeat(ctx: &CaseCtx, ls: &str, cg: &str) -> Request {
    ctx.request(Method::POST, format!("/logstores/{ls}/consumergroups/{cg}"))
        .query("type", "heartbeat")
        .query("consumer", "auth-consumer")
        .json(&json!([]))
}

fn consumer_group_resource(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = super::temp_logstore(ctx, 1).await?;
        for cg in ["auth-allowed", "auth-other"] {
            let resp = create_group(ctx, &ls, cg, 60, false).await?;
            ctx.check_empty_ok(format!("CreateConsumerGroup {cg}"), &resp)?;
        }
        let arn = format!("{}/consumergroup/auth-allowed", ls_arn(ctx, &ls));
        let key = key_with(
            ctx,
            json!([allow(json!("log:ConsumerGroupHeartBeat"), json!(arn))]),
        )
        .await?;
        let resp = ctx
            .send(key.sign(heartbeat(ctx, &ls, "auth-allowed")))
            .await?;
        ctx.check_ok("heartbeat to the allowed group", &resp)?;
        let resp = ctx
            .send(key.sign(heartbeat(ctx, &ls, "auth-other")))
            .await?;
        let resource = format!(
            "project/{}/logstore/{ls}/consumergroup/auth-other",
            ctx.project()
        );
        check_denied(
            ctx,
            "heartbeat to another group",
            &resp,
            "log:ConsumerGroupHeartBeat",
            &resource,
        )
    })
}

fn create_group_resource_from_body(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = super::temp_logstore(ctx, 1).await?;
        let arn = format!("{}/consumergroup/mine-*", ls_arn(ctx, &ls));
        let key = key_with(
            ctx,
            json!([allow(json!("log:CreateConsumerGroup"), json!(arn))]),
        )
        .await?;
        let create = |ctx: &CaseCtx, cg: &str| {
            ctx.request(Method::POST, format!("/logstores/{ls}/consumergroups"))
                .json(&json!({"consumerGroup": cg, "timeout": 60, "order": false}))
        };
        let resp = ctx.send(key.sign(create(ctx, "mine-1"))).await?;
        ctx.check_empty_ok("CreateConsumerGroup mine-1", &resp)?;
        let resp = ctx.send(key.sign(create(ctx, "theirs"))).await?;
        let resource = format!(
            "project/{}/logstore/{ls}/consumergroup/theirs",
            ctx.project()
        );
        check_denied(
            ctx,
            "CreateConsumerGroup theirs",
            &resp,
            "log:CreateConsumerGroup",
            &resource,
        )
    })
}

fn list_project_resource(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = key_with(ctx, json!([allow(json!("log:GetProject"), json!("*"))])).await?;
        let resp = ctx.send(key.sign(Request::new(Method::GET, "/"))).await?;
        check_denied(ctx, "ListProject", &resp, "log:ListProject", "project/*")
    })
}

fn key_has_its_own_secret(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = make_key(ctx, json!({"full_access": true})).await?;
        let target_secret = ctx.client().target().access_key_secret.clone();
        let resp = ctx
            .send(
                ctx.request(Method::GET, "/")
                    .signed_by(key.id.clone(), target_secret),
            )
            .await?;
        ctx.check_error(
            "signed with another key's secret",
            &resp,
            &[401],
            &["SignatureNotMatch"],
        )?;
        let resp = ctx.send(key.sign(ctx.request(Method::GET, "/"))).await?;
        ctx.check_ok("signed with its own secret", &resp)
    })
}

fn check_message(ctx: &mut CaseCtx, what: &str, resp: &Response, message: &str) -> CaseResult {
    ctx.check_error(what, resp, &[401], &["Unauthorized"])?;
    let got = resp.error_message().unwrap_or_default();
    ctx.check(
        format!("{what}: errorMessage"),
        message,
        got.clone(),
        got == message,
    )
}

fn disabled_key(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = make_key(ctx, json!({"full_access": true, "enabled": false})).await?;
        let resp = ctx.send(key.sign(ctx.request(Method::GET, "/"))).await?;
        let message = format!("AccessKeyId is disabled: {}", key.id);
        check_message(ctx, "a disabled key", &resp, &message)
    })
}

fn revoked_policy(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let ls = ctx.fixtures().one_shard.clone();
        let key = key_with(
            ctx,
            json!([allow(json!("log:ListShards"), json!(ls_arn(ctx, &ls)))]),
        )
        .await?;
        let resp = ctx.send(key.sign(list_shards(ctx, &ls))).await?;
        ctx.check_ok("ListShards before the revocation", &resp)?;
        let (status, answer) = ctx
            .client()
            .admin(
                Method::DELETE,
                &format!("/keys/{}/policies/p", key.id),
                None,
            )
            .await?;
        ctx.check(
            "revoke the policy (admin API)",
            "200",
            format!("{status} {answer}"),
            status == 200,
        )?;
        list_shards_denied(ctx, &key, &ls, "ListShards after the revocation").await
    })
}

/// An STS credential allowed GetProject only, expiring `expiration` (RFC 3339).
async fn sts_key(ctx: &mut CaseCtx, token: &str, expiration: &str) -> Result<Key, Stop> {
    make_key(
        ctx,
        json!({
            "security_token": token,
            "expiration": expiration,
            "policies": {"p": doc(json!([allow(json!("log:GetProject"), json!("*"))]))},
        }),
    )
    .await
}

const FAR_FUTURE: &str = "2099-01-01T00:00:00Z";

fn sts_token(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = sts_key(ctx, "conformance-token", FAR_FUTURE).await?;
        let get = ctx
            .request(Method::GET, "/")
            .header(h::X_ACS_SECURITY_TOKEN, "conformance-token");
        let resp = ctx.send(key.sign(get)).await?;
        ctx.check_ok("GetProject with the token", &resp)?;
        let list =
            Request::new(Method::GET, "/").header(h::X_ACS_SECURITY_TOKEN, "conformance-token");
        let resp = ctx.send(key.sign(list)).await?;
        check_denied(
            ctx,
            "ListProject with the token (not in its policy)",
            &resp,
            "log:ListProject",
            "project/*",
        )
    })
}

fn sts_missing_or_wrong_token(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = sts_key(ctx, "conformance-token", FAR_FUTURE).await?;
        let wrong = ctx
            .request(Method::GET, "/")
            .header(h::X_ACS_SECURITY_TOKEN, "another-token");
        let resp = ctx.send(key.sign(wrong)).await?;
        check_message(
            ctx,
            "another token",
            &resp,
            "The security token you provided is invalid.",
        )?;
        let resp = ctx.send(key.sign(ctx.request(Method::GET, "/"))).await?;
        ctx.check_error("no token", &resp, &[401], &["Unauthorized"])?;
        let got = resp.error_message().unwrap_or_default();
        ctx.check(
            "no token: errorMessage",
            "The security token you provided is invalid…",
            got.clone(),
            got.starts_with("The security token you provided is invalid"),
        )
    })
}

fn sts_expired_token(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let key = sts_key(ctx, "conformance-token", "2001-01-01T00:00:00Z").await?;
        let get = ctx
            .request(Method::GET, "/")
            .header(h::X_ACS_SECURITY_TOKEN, "conformance-token");
        let resp = ctx.send(key.sign(get)).await?;
        check_message(
            ctx,
            "an expired token",
            &resp,
            "The security token you provided has expired.",
        )
    })
}
