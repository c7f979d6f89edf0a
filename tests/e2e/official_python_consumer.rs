//! The official Python consumer-group worker (`aliyun.log.consumer.ConsumerWorker` from
//! `aliyun-log-python-sdk` 0.9.52), unmodified, every worker in its own OS process, against
//! the in-process emulator. `tests/python/consumer_scenarios.py` runs a scenario (it starts
//! the writers and the `tests/python/consumer_worker.py` processes, and checks everything
//! from the processors' own records); this file only starts the emulator and the script.
//!
//! * `balance`: 3 workers on a 10-shard logstore converge to 3/3/4 shards, a 4th and 5th
//!   joining converge to 2 each, one killed with SIGKILL has its shards taken over after the
//!   group's timeout; every log written is processed at least once and the final
//!   checkpoints equal the shard ends.
//! * `split-ordered`: a split during consumption with `order=true`: no child log is
//!   processed before every log of its parent.

use std::process::Stdio;
use std::time::Duration;

use sls_e2e::{repo_root, venv_python};
use sls_emulator::testing::TestServer;
use tokio::io::AsyncReadExt;

/// The script stops itself (and its workers) after its own `--deadline` of 170 s; this is
/// the backstop if it hangs anyway.
const LIMIT: Duration = Duration::from_secs(240);

async fn run_scenario(scenario: &str) {
    let py = venv_python().unwrap_or_else(|e| panic!("{e}"));
    let server = TestServer::start().await.unwrap();
    let c = server.config();
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(repo_root().join("tests/python/consumer_scenarios.py"))
        .args(["--endpoint", &server.endpoint()])
        .args(["--access-key-id", &c.access_key_id])
        .args(["--access-key-secret", &c.access_key_secret])
        .arg("--python")
        .arg(&py)
        .args(["--scenario", scenario])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a hung run can be killed with all its workers (they
        // also die with the script: PR_SET_PDEATHSIG).
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf).await;
        buf
    });
    let err_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    let status = match tokio::time::timeout(LIMIT, child.wait()).await {
        Ok(status) => Some(status.unwrap()),
        Err(_) => {
            if let Some(pid) = pid {
                // The whole process group: the script and any worker still running.
                let _ = tokio::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status()
                    .await;
            }
            let _ = child.kill().await;
            None
        }
    };
    let grab = |t: tokio::task::JoinHandle<Vec<u8>>| async move {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(buf)) => String::from_utf8_lossy(&buf).into_owned(),
            _ => "(output not available)".to_string(),
        }
    };
    let stdout = grab(out_task).await;
    let stderr = grab(err_task).await;
    match status {
        Some(status) => {
            assert!(
                status.success(),
                "consumer_scenarios.py --scenario {scenario} failed ({status}):\n{stdout}\n{stderr}"
            );
            println!("{stdout}");
        }
        None => panic!(
            "consumer_scenarios.py --scenario {scenario} did not finish within {LIMIT:?}; \
             killed it and its workers:\n{stdout}\n{stderr}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_consumer_group_balance_join_and_sigkill() {
    run_scenario("balance").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_consumer_group_split_in_order() {
    run_scenario("split-ordered").await;
}
