//! Access control over real sockets: RAM-user keys with policies, STS credentials, the config
//! file (keys and resources at start), the admin `/keys` API, and that a refused request
//! executes nothing.

use std::sync::Arc;

use serde_json::{json, Value};
use sls_emulator::access::{Credential, Policy};
use sls_emulator::testing::TestServer;
use sls_emulator::ServerError;

use crate::auth::{every_route, G, L, P};
use crate::support::{put_req, Client, Req};

fn policy(statements: Value) -> Arc<Policy> {
    let doc = json!({"Version": "1", "Statement": statements});
    Arc::new(Policy::parse_json(&doc.to_string()).unwrap())
}

fn key(server: &TestServer, id: &str, policies: &[(&str, Arc<Policy>)]) -> Client {
    let mut c = Credential::new(id, format!("{id}-secret"));
    for (name, p) in policies {
        c.policies.insert(name.to_string(), p.clone());
    }
    server.access().insert(c).unwrap();
    Client::to(server.addr(), id, &format!("{id}-secret"))
}

fn message(r: &crate::support::Resp) -> String {
    r.json()["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const ARN: &str = "acs:log:cn-hangzhou:1000000000000000";

/// The RAM action and resource SLS documents for each route of `every_route`, in order.
fn expected_denials() -> Vec<(&'static str, String)> {
    let p = format!("{ARN}:project/{P}");
    let ls = format!("{p}/logstore/{L}");
    let cg = format!("{ls}/consumergroup/{G}");
    vec![
        ("log:ListProject", format!("{ARN}:project/*")),
        ("log:GetProject", p.clone()),
        ("log:CreateProject", format!("{ARN}:project/auth-other")),
        ("log:UpdateProject", p.clone()),
        ("log:DeleteProject", p.clone()),
        ("log:ListLogStores", format!("{p}/logstore/*")),
        ("log:CreateLogStore", format!("{p}/logstore/x2")),
        ("log:GetLogStore", ls.clone()),
        ("log:UpdateLogStore", ls.clone()),
        ("log:DeleteLogStore", ls.clone()),
        ("log:PostLogStoreLogs", ls.clone()),
        ("log:ListShards", ls.clone()),
        ("log:PostLogStoreLogs", ls.clone()),
        ("log:PostLogStoreLogs", ls.clone()),
        ("log:GetCursorOrData", ls.clone()),
        ("log:GetCursorOrData", ls.clone()),
        ("log:GetCursorOrData", ls.clone()),
        ("log:SplitShard", ls.clone()),
        ("log:MergeShard", ls.clone()),
        ("log:DeleteShard", ls.clone()),
        (
            "log:CreateConsumerGroup",
            format!("{ls}/consumergroup/cg-2"),
        ),
        ("log:ListConsumerGroup", format!("{ls}/consumergroup/*")),
        ("log:UpdateConsumerGroup", cg.clone()),
        ("log:DeleteConsumerGroup", cg.clone()),
        ("log:ConsumerGroupHeartBeat", cg.clone()),
        ("log:ConsumerGroupUpdateCheckPoint", cg.clone()),
        ("log:GetConsumerGroupCheckPoint", cg),
        ("log:CreateIndex", ls.clone()),
        ("log:UpdateIndex", ls.clone()),
        ("log:GetIndex", ls.clone()),
        ("log:DeleteIndex", ls.clone()),
        ("log:GetLogStoreLogs", ls.clone()),
        ("log:GetLogStoreLogs", ls.clone()),
        ("log:GetLogStoreHistogram", ls.clone()),
        ("log:GetLogStoreHistogram", ls),
        ("log:GetProjectLogs", p),
    ]
}

#[tokio::test]
async fn a_key_without_the_right_is_refused_on_every_route_naming_action_and_resource() {
    let server = TestServer::start().await.unwrap();
    let owner = Client::new(&server);
    owner.setup(P, L, 1).await;
    owner
        .send(
            Req::new("POST", Some(P), &format!("/logstores/{L}/consumergroups"))
                .json(json!({"consumerGroup": G, "timeout": 20, "order": false})),
        )
        .await
        .assert_ok();
    // Rights on another project only: nothing here matches.
    let other = policy(
        json!([{"Effect": "Allow", "Action": "*", "Resource": "acs:log:*:*:project/elsewhere/*"}]),
    );
    let c = key(&server, "no-rights", &[("elsewhere", other)]);
    let routes: Vec<Req> = every_route()
        .into_iter()
        .filter(|r| r.path != "/unknown")
        .collect();
    let expected = expected_denials();
    assert_eq!(routes.len(), expected.len());
    for (req, (action, resource)) in routes.into_iter().zip(expected) {
        let what = format!("{} {} {:?}", req.method, req.path, req.query);
        let r = c.send(req).await;
        r.assert_case_error(&what, 401, "Unauthorized");
        assert_eq!(
            message(&r),
            format!("denied by sts or ram, action: {action}, resource: {resource}"),
            "{what}"
        );
    }
    // Nothing ran: the project, logstore, shard and group are as they were.
    let shards = owner
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
        .await;
    shards.assert_ok();
    assert_eq!(shards.json().as_array().map(Vec::len), Some(1));
    let groups = owner
        .send(Req::new(
            "GET",
            Some(P),
            &format!("/logstores/{L}/consumergroups"),
        ))
        .await;
    assert_eq!(
        groups.json(),
        json!([{"name": G, "timeout": 20, "order": false}])
    );
    assert_eq!(
        owner
            .send(Req::new("GET", Some("auth-other"), "/"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn allow_wildcards_deny_overrides_and_full_access() {
    let server = TestServer::start().await.unwrap();
    let owner = Client::new(&server);
    owner.setup(P, L, 1).await;
    let reader = policy(
        json!([{"Effect": "Allow", "Action": ["log:Get*", "log:List*"], "Resource": format!("acs:log:*:*:project/{P}*")}]),
    );
    let no_delete = policy(json!([{"Effect": "Deny", "Action": "log:Delete*", "Resource": "*"}]));
    let c = key(&server, "reader", &[("reader", reader.clone())]);
    c.send(Req::new("GET", Some(P), &format!("/logstores/{L}/shards")))
        .await
        .assert_ok();
    c.send(
        Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
            .q("type", "cursor")
            .q("from", "begin"),
    )
    .await
    .assert_ok();
    let put = put_req(P, L, &["x"]);
    let r = c.send(put.clone()).await;
    r.assert_error(401, "Unauthorized");
    assert!(
        message(&r).contains("action: log:PostLogStoreLogs"),
        "{}",
        message(&r)
    );

    // Full access, except what an explicit Deny takes away.
    let mut admin = Credential::new("admin", "admin-secret");
    admin.full_access = true;
    admin.policies.insert("no-delete".into(), no_delete);
    server.access().insert(admin).unwrap();
    let a = Client::to(server.addr(), "admin", "admin-secret");
    a.send(put).await.assert_ok();
    let r = a
        .send(Req::new("DELETE", Some(P), &format!("/logstores/{L}")))
        .await;
    r.assert_error(401, "Unauthorized");
    owner
        .send(Req::new("GET", Some(P), &format!("/logstores/{L}")))
        .await
        .assert_ok();
}

#[tokio::test]
async fn sts_tokens_must_match_and_expire_on_the_emulators_clock() {
    let server = TestServer::start().await.unwrap();
    let owner = Client::new(&server);
    owner.setup(P, L, 1).await;
    let admin = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/_sls-emu/keys/STS.tmp", server.admin_url());
    let spec = json!({
        "secret": "tmp-secret",
        "security_token": "tok-1",
        "expires_in_secs": 600,
        "policies": {"read": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "log:Get*", "Resource": "*"}]}},
    });
    let r = admin.put(&url).json(&spec).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let c = Client::to(server.addr(), "STS.tmp", "tmp-secret");
    let get = || Req::new("GET", Some(P), &format!("/logstores/{L}"));
    c.send(get().h("x-acs-security-token", "tok-1"))
        .await
        .assert_ok();
    for (token, says) in [
        (None, "The security token you provided is invalid"),
        (Some("tok-2"), "The security token you provided is invalid."),
    ] {
        let req = match token {
            Some(t) => get().h("x-acs-security-token", t),
            None => get(),
        };
        let r = c.send(req).await;
        r.assert_error(401, "Unauthorized");
        assert!(message(&r).starts_with(says), "{}", message(&r));
    }
    // Policies still apply to a valid token.
    let r = c
        .send(put_req(P, L, &["x"]).h("x-acs-security-token", "tok-1"))
        .await;
    r.assert_error(401, "Unauthorized");
    // A permanent key does not take a token.
    let r = owner.send(get().h("x-acs-security-token", "tok-1")).await;
    r.assert_error(401, "Unauthorized");
    // Ten minutes later on the emulator's clock, the token has expired.
    let r = admin
        .post(format!("{}/_sls-emu/clock", server.admin_url()))
        .json(&json!({"advance_secs": 601}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.send(get().h("x-acs-security-token", "tok-1")).await;
    r.assert_error(401, "Unauthorized");
    assert_eq!(message(&r), "The security token you provided has expired.");
}

#[tokio::test]
async fn admin_lists_keys_without_secrets_and_revokes_at_run_time() {
    let server = TestServer::start().await.unwrap();
    let owner = Client::new(&server);
    owner.setup(P, L, 1).await;
    let admin = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("{}/_sls-emu/keys", server.admin_url());
    let writer = json!({"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["log:PostLogStoreLogs"], "Resource": "*"}]});
    let r = admin
        .put(format!("{base}/w"))
        .json(&json!({"secret": "w-secret", "policies": {"writer": writer}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = Client::to(server.addr(), "w", "w-secret");
    c.send(put_req(P, L, &["a"])).await.assert_ok();

    let list: Value = admin.get(&base).send().await.unwrap().json().await.unwrap();
    let text = list.to_string();
    assert!(
        !text.contains("w-secret") && !text.contains(&server.config().access_key_secret),
        "{text}"
    );
    assert_eq!(list["keys"][0]["kind"], "owner");
    assert_eq!(list["keys"][1]["access_key_id"], "w");
    assert_eq!(list["keys"][1]["policies"]["writer"], writer);

    // Revoke: the next request is refused; attach again: allowed again.
    let r = admin
        .delete(format!("{base}/w/policies/writer"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    c.send(put_req(P, L, &["b"]))
        .await
        .assert_error(401, "Unauthorized");
    let r = admin
        .put(format!("{base}/w/policies/writer"))
        .json(&writer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    c.send(put_req(P, L, &["c"])).await.assert_ok();
    assert_eq!(owner.read_ids(P, L, 0).await, ["a", "c"]);

    // Disable, then remove: both refuse with SLS's wording.
    let r = admin
        .put(format!("{base}/w"))
        .json(&json!({"secret": "w-secret", "enabled": false, "full_access": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.send(put_req(P, L, &["d"])).await;
    r.assert_error(401, "Unauthorized");
    assert_eq!(message(&r), "AccessKeyId is disabled: w");
    assert_eq!(
        admin
            .delete(format!("{base}/w"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c.send(put_req(P, L, &["e"])).await;
    assert_eq!(message(&r), "AccessKeyId not found: w");
    // The owner key cannot be changed, bad policies are refused, unknown keys are 404.
    let owner_id = &server.config().access_key_id;
    assert_eq!(
        admin
            .delete(format!("{base}/{owner_id}"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let bad = admin
        .put(format!("{base}/x"))
        .json(&json!({"secret": "s", "policies": {"p": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*"}]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        admin
            .delete(format!("{base}/nobody"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

const FILE: &str = r#"
account_id = "42"

[policy.reader]
document = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["log:Get*","log:List*"],"Resource":"acs:log:*:42:project/preloaded*"}]}'

[[access_key]]
id = "reader"
secret = "reader-secret"
policies = ["reader"]

[[project]]
name = "preloaded"
[[project.logstore]]
name = "app"
shards = 3
ttl = 7
index = '{"keys": {"status": {"type": "long"}}}'
[[project.logstore.consumer_group]]
name = "workers"
timeout = 15
"#;

#[tokio::test]
async fn the_config_file_preloads_keys_and_resources_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sls-emu.toml");
    std::fs::write(&path, FILE).unwrap();
    let server = TestServer::start_with(|c| c.config_file = Some(path.clone()))
        .await
        .unwrap();
    let c = Client::to(server.addr(), "reader", "reader-secret");
    let shards = c
        .send(Req::new("GET", Some("preloaded"), "/logstores/app/shards"))
        .await;
    shards.assert_ok();
    assert_eq!(shards.json().as_array().map(Vec::len), Some(3));
    let ls = c
        .send(Req::new("GET", Some("preloaded"), "/logstores/app"))
        .await;
    assert_eq!(ls.json()["ttl"], 7);
    let groups = c
        .send(Req::new(
            "GET",
            Some("preloaded"),
            "/logstores/app/consumergroups",
        ))
        .await;
    assert_eq!(
        groups.json(),
        json!([{"name": "workers", "timeout": 15, "order": false}])
    );
    let r = c
        .send(Req::new(
            "DELETE",
            Some("preloaded"),
            "/logstores/app/consumergroups/workers",
        ))
        .await;
    r.assert_error(401, "Unauthorized");
    assert_eq!(
        message(&r),
        "denied by sts or ram, action: log:DeleteConsumerGroup, resource: acs:log:cn-hangzhou:42:project/preloaded/logstore/app/consumergroup/workers"
    );
    // The index is in place: a search on its key runs.
    let index = c
        .send(Req::new("GET", Some("preloaded"), "/logstores/app/index"))
        .await;
    index.assert_ok();
    assert_eq!(index.json()["keys"]["status"]["type"], "long");
    // Data written survives a restart that applies the file again.
    let owner = Client::new(&server);
    owner
        .send(put_req("preloaded", "app", &["kept"]))
        .await
        .assert_ok();
    let server = server.restart().await.unwrap();
    let owner = Client::new(&server);
    let mut ids = Vec::new();
    for shard in 0..3 {
        ids.extend(owner.read_ids("preloaded", "app", shard).await);
    }
    assert_eq!(ids, ["kept"]);
}

#[tokio::test]
async fn a_malformed_config_file_stops_the_start_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[access_key]]\nid = \"a\"\nsecret = \"b\"\npolicies = [\"missing\"]\n",
    )
    .unwrap();
    let err = TestServer::start_with(|c| c.config_file = Some(path.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::ConfigFile(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("bad.toml:4:") && text.contains("no [policy.missing]"),
        "{text}"
    );
}
