//! The official Python SDK (`aliyun-log-python-sdk` 0.9.52), run as a subprocess against the
//! in-process emulator by `tests/python/sdk_core.py`, which checks everything it reads back.

use sls_e2e::{repo_root, venv_python};
use sls_emulator::testing::TestServer;

async fn run_script(server: &TestServer, extra: &[&str]) {
    run(server, "tests/python/sdk_core.py", extra).await
}

async fn run(server: &TestServer, script: &str, extra: &[&str]) {
    let py = venv_python().unwrap_or_else(|e| panic!("{e}"));
    let c = server.config();
    let mut cmd = std::process::Command::new(&py);
    cmd.arg(repo_root().join(script))
        .args(["--endpoint", &server.endpoint()])
        .args(["--access-key-id", &c.access_key_id])
        .args(["--access-key-secret", &c.access_key_secret])
        .args(extra)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy");
    sls_e2e::run_checks(cmd, &format!("{script} {extra:?}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_v1_signatures() {
    let server = TestServer::start().await.unwrap();
    run_script(&server, &["--sign", "v1", "--expect-auth-verify"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_v4_signatures() {
    let server = TestServer::start().await.unwrap();
    run_script(&server, &["--sign", "v4", "--expect-auth-verify"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_split_merge_list_delete_shards() {
    let server = TestServer::start().await.unwrap();
    run(&server, "tests/python/sdk_shards.py", &[]).await;
}

/// The config file's STS credential, used through the SDK's `securityToken` (V1 and V4): reads
/// allowed by its policy work, a write is refused with SLS's `Unauthorized` naming
/// `log:PostLogStoreLogs`, a wrong token is refused. The project comes from the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_sts_token_and_policy_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sls-emu.toml");
    std::fs::write(
        &file,
        r#"
[policy.read]
document = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["log:Get*","log:List*"],"Resource":"acs:log:*:*:project/sts-demo*"}]}'

[[sts_token]]
access_key_id = "STS.python"
access_key_secret = "sts-python-secret"
security_token = "sts-python-token"
expiration = 2099-01-01T00:00:00Z
policies = ["read"]

[[project]]
name = "sts-demo"
[[project.logstore]]
name = "app"
shards = 1
"#,
    )
    .unwrap();
    let server = TestServer::start_with(|c| c.config_file = Some(file.clone()))
        .await
        .unwrap();
    let py = venv_python().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = std::process::Command::new(&py);
    cmd.arg(repo_root().join("tests/python/sts_policy.py"))
        .args(["--endpoint", &server.endpoint()])
        .args(["--project", "sts-demo", "--logstore", "app"])
        .args([
            "--sts-id",
            "STS.python",
            "--sts-secret",
            "sts-python-secret",
        ])
        .args(["--sts-token", "sts-python-token"])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy");
    let out = sls_e2e::run_checks(cmd, "tests/python/sts_policy.py").await;
    assert_eq!(out.matches("PASS ").count(), 8, "{out}");
}

/// Indexes and queries through the SDK's GetLogs v2 (its default): `get_log`, `get_log_all`
/// paging past 100, `get_logs`, `get_histograms`, the index calls and their errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_index_and_queries() {
    let server = TestServer::start().await.unwrap();
    run(&server, "tests/python/query.py", &[]).await;
}

/// The same checks with GetLogs v2 switched off, so the SDK uses `GET ?type=log`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_queries_over_get_logs_v1() {
    let server = TestServer::start().await.unwrap();
    run(&server, "tests/python/query.py", &["--v1"]).await;
}
