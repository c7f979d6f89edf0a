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
