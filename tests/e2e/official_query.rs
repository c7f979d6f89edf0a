//! Indexes and queries through official clients, unmodified, against an in-process emulator:
//! the Go SDK (`sls-go query`), the Java SDK (`tests/java` `QueryChecks`) and the CLI
//! (`aliyunlog log get_log` and friends, from the venv of `scripts/setup-python.sh`).
//!
//! The Go and Java programs print a PASS/FAIL line per check and exit 0 only when every check
//! passed; their expected answers come from the data they write. The CLI test writes its data
//! with our client and checks the JSON the CLI prints. SQL after `|` (and Java's
//! GetProjectLogs) runs in the `*_sql` tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use sls_client::{LogContent, LogGroup, LogstoreSpec};
use sls_e2e::workers::{go_command, java_main_command, Lang, Target};
use sls_e2e::{owner_client, unique_project};
use sls_emulator::testing::TestServer;

/// Runs `sls-go query` with `extra` flags; every check must pass.
async fn go_query(extra: &[&str]) {
    let server = TestServer::start().await.unwrap();
    let target = Target::of(&server);
    let mut cmd = go_command("query").unwrap();
    cmd.args(["--endpoint", &target.endpoint_for(Lang::Go)])
        .args(["--access-key-id", &target.access_key_id])
        .args(["--access-key-secret", &target.access_key_secret])
        .args(extra);
    let out = sls_e2e::run_checks(cmd, &format!("sls-go query {extra:?}")).await;
    assert!(out.contains("PASS search"), "no search check ran:\n{out}");
    println!("{out}");
}

/// Runs the Java `QueryChecks` with `extra` flags, the emulator as the SDK's HTTP proxy.
async fn java_query(extra: &[&str]) {
    let server = TestServer::start().await.unwrap();
    let target = Target::of(&server);
    let mut cmd = java_main_command("sdk", "io.slsemu.javatest.QueryChecks").unwrap();
    cmd.args(["--endpoint", &target.endpoint_for(Lang::Java)])
        .args(["--proxy", &format!("127.0.0.1:{}", server.port())])
        .args(["--access-key-id", &target.access_key_id])
        .args(["--access-key-secret", &target.access_key_secret])
        .args(extra);
    let out = sls_e2e::run_checks(cmd, &format!("Java QueryChecks {extra:?}")).await;
    assert!(out.contains("PASS search"), "no search check ran:\n{out}");
    println!("{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_sdk_index_get_logs_histograms() {
    go_query(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_sdk_query_sql() {
    go_query(&["--sql"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_sdk_index_get_logs_histograms() {
    java_query(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_sdk_query_sql() {
    java_query(&["--sql"]).await;
}

// ---- the CLI ---------------------------------------------------------------------------- //

/// `aliyunlog` with its own HOME, where `aliyunlog configure` keeps the account.
struct Cli {
    exe: PathBuf,
    home: tempfile::TempDir,
}

/// What one CLI run gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Cli {
    /// The venv's CLI, configured for `server` with `aliyunlog configure`.
    async fn configured(server: &TestServer) -> Cli {
        let cli = Cli {
            exe: sls_e2e::venv_script("aliyunlog").unwrap_or_else(|e| panic!("{e}")),
            home: tempfile::tempdir().unwrap(),
        };
        let c = server.config();
        let endpoint = server.endpoint();
        let args = [
            "configure",
            &c.access_key_id,
            &c.access_key_secret,
            &endpoint,
        ];
        let run = cli.run(&args).await;
        assert_eq!(
            run.code, 0,
            "aliyunlog configure: {}{}",
            run.stdout, run.stderr
        );
        let file = std::fs::read_to_string(cli.home.path().join(".aliyunlogcli")).unwrap();
        assert!(file.contains(&endpoint), "~/.aliyunlogcli: {file}");
        cli
    }

    async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.args(args)
            .env("HOME", self.home.path())
            .kill_on_drop(true);
        for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().await.unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `aliyunlog log <args>`, which must succeed; returns what it printed.
    async fn ok(&self, args: &[&str]) -> String {
        let mut all = vec!["log"];
        all.extend_from_slice(args);
        let run = self.run(&all).await;
        assert_eq!(
            run.code, 0,
            "aliyunlog {all:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs `aliyunlog log <args>`, which must succeed, and parses the JSON it prints.
    async fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args).await;
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("aliyunlog log {args:?} printed no JSON ({e}):\n{out}"))
    }

    /// Like [`Cli::json`] for a command that prints one JSON document per page.
    async fn json_pages(&self, args: &[&str]) -> Vec<Value> {
        let out = self.ok(args).await;
        serde_json::Deserializer::from_str(&out)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("aliyunlog log {args:?} printed no JSON ({e}):\n{out}"))
    }

    /// Runs `aliyunlog log <args>`, which must fail with the SLS error `code` (exit status 3).
    async fn error(&self, args: &[&str], code: &str) {
        let mut all = vec!["log"];
        all.extend_from_slice(args);
        let run = self.run(&all).await;
        assert!(
            run.code == 3 && run.stdout.contains(code),
            "aliyunlog {all:?}: expected {code} (exit 3), got exit {}:\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
    }
}

/// One log the CLI test writes.
struct Written {
    time: i64,
    topic: &'static str,
    id: String,
    method: &'static str,
    status: u32,
}

impl Written {
    fn contents(&self) -> [(&'static str, String); 3] {
        [
            ("id", self.id.clone()),
            ("method", self.method.to_string()),
            ("status", self.status.to_string()),
        ]
    }
}

const CLI_LOGS: usize = 120;

/// 120 logs, 10 a second from `base`, topic web (even) or batch (odd).
fn cli_logs(base: i64) -> Vec<Written> {
    (0..CLI_LOGS)
        .map(|i| Written {
            time: base + (i / 10) as i64,
            topic: if i % 2 == 0 { "web" } else { "batch" },
            id: format!("c-{i:03}"),
            method: ["GET", "POST", "PUT"][i % 3],
            status: if i % 10 == 0 { 500 } else { 200 },
        })
        .collect()
}

/// Writes the logs with our client, one LogGroup per topic and hash key (both shards).
async fn write_cli_logs(server: &TestServer, project: &str, logs: &[Written]) {
    let c = owner_client(server);
    let keys = [
        "00000000000000000000000000000000",
        "80000000000000000000000000000000",
    ];
    for topic in ["web", "batch"] {
        for (k, key) in keys.iter().enumerate() {
            let group = LogGroup {
                topic: Some(topic.into()),
                source: Some("10.2.0.1".into()),
                logs: logs
                    .iter()
                    .enumerate()
                    .filter(|(i, l)| l.topic == topic && (i / 2) % 2 == k)
                    .map(|(_, l)| sls_client::Log {
                        time: Some(l.time as u32),
                        contents: l
                            .contents()
                            .into_iter()
                            .map(|(key, value)| LogContent {
                                key: key.into(),
                                value: value.into(),
                            })
                            .collect(),
                        time_ns: None,
                    })
                    .collect(),
                ..Default::default()
            };
            c.put_logs(project, "app", &group, Some(key)).await.unwrap();
        }
    }
}

/// The index the CLI creates: full text plus a text and a long key.
fn cli_index() -> Value {
    let tokens: Vec<&str> = vec![" ", ",", ";", "=", "(", ")", "?", "/", ":", "\"", "'"];
    serde_json::json!({
        "line": {"token": tokens, "caseSensitive": false},
        "keys": {
            "id": {"type": "text", "token": tokens, "caseSensitive": false, "doc_value": true},
            "method": {"type": "text", "token": tokens, "caseSensitive": false, "doc_value": true},
            "status": {"type": "long", "doc_value": true}
        }
    })
}

/// The rows the CLI printed must be exactly `want` (by id), each with its fields as written.
fn assert_rows(what: &str, rows: &Value, want: &[&Written]) {
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not a list: {rows}"));
    let by_id: BTreeMap<&str, &Written> = want.iter().map(|w| (w.id.as_str(), *w)).collect();
    let mut seen = BTreeSet::new();
    for row in rows {
        let field = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
        let id = field("id");
        let w = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{what}: unexpected row {row}"));
        assert!(seen.insert(id), "{what}: row {id} twice");
        assert_eq!(field("__time__"), w.time.to_string(), "{what}: {row}");
        assert_eq!(field("__topic__"), w.topic, "{what}: {row}");
        assert_eq!(field("__source__"), "10.2.0.1", "{what}: {row}");
        for (k, v) in w.contents() {
            assert_eq!(field(k), v, "{what}: {k} of {row}");
        }
    }
    assert_eq!(rows.len(), want.len(), "{what}: {} rows", rows.len());
}

/// A project with an indexed 2-shard logstore `app` holding [`cli_logs`] and an unindexed
/// `plain`, the index made and read back through the CLI; returns the CLI, project and logs.
async fn cli_setup(server: &TestServer) -> (Cli, String, Vec<Written>) {
    let cli = Cli::configured(server).await;
    let c = owner_client(server);
    let project = unique_project("cli-query");
    c.create_project(&project, "").await.unwrap();
    c.create_logstore(&project, &LogstoreSpec::new("app", 2))
        .await
        .unwrap();
    c.create_logstore(&project, &LogstoreSpec::new("plain", 1))
        .await
        .unwrap();
    let p = format!("--project_name={project}");
    let index = format!("--index_detail={}", cli_index());
    cli.ok(&["create_index", &p, "--logstore_name=app", &index])
        .await;
    let got = cli
        .json(&["get_index_config", &p, "--logstore_name=app"])
        .await;
    for (key, kind) in [("id", "text"), ("method", "text"), ("status", "long")] {
        assert_eq!(got["keys"][key]["type"], kind, "get_index_config: {got}");
    }
    cli.error(
        &["create_index", &p, "--logstore_name=app", &index],
        "IndexAlreadyExist",
    )
    .await;
    let base = sls_e2e::now_epoch_ms() / 1000 - 600;
    let logs = cli_logs(base);
    write_cli_logs(server, &project, &logs).await;
    (cli, project, logs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_get_log_with_an_index() {
    let server = TestServer::start().await.unwrap();
    let (cli, project, logs) = cli_setup(&server).await;
    let base = logs[0].time;
    let p = format!("--project={project}");
    let (from, to) = (
        format!("--from_time={base}"),
        format!("--to_time={}", base + 12),
    );
    let get_log = |extra: &[&str]| {
        let mut args = vec!["get_log", &p, "--logstore=app", &from, &to];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let json = |args: Vec<String>| {
        let cli = &cli;
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.json(&refs).await
        }
    };

    cli.error(
        &["get_log", &p, "--logstore=plain", &from, &to, "--query=*"],
        "IndexConfigNotExist",
    )
    .await;

    // get_log_all pages with offset, 100 rows at a time, and prints each page. (get_log
    // --size=-1 pages too, but the CLI prints only the first page: the SDK's merge of the
    // pages leaves the response body it prints as it was.)
    let all: Vec<&Written> = logs.iter().collect();
    let mut args = get_log(&["--query=*"]);
    args[0] = "get_log_all".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let pages = cli.json_pages(&refs).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p.as_array().map_or(0, Vec::len))
        .collect();
    // The SDK stops after an empty page, which it yields too.
    assert_eq!(sizes, [100, 20, 0], "get_log_all pages");
    let rows: Vec<Value> = pages
        .into_iter()
        .flat_map(|p| p.as_array().cloned().unwrap_or_default())
        .collect();
    assert_rows("get_log_all *", &Value::Array(rows), &all);
    let rows = json(get_log(&["--query=*"])).await;
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(100),
        "get_log: one page of 100"
    );

    let want: Vec<&Written> = logs
        .iter()
        .filter(|l| l.method == "GET" && l.status >= 500)
        .collect();
    let rows = json(get_log(&["--query=method: get and status >= 500"])).await;
    assert_rows("method: get and status >= 500", &rows, &want);

    let want: Vec<&Written> = logs
        .iter()
        .filter(|l| l.topic == "batch" && l.method == "POST")
        .collect();
    let rows = json(get_log(&["--topic=batch", "--query=method: POST"])).await;
    assert_rows("--topic=batch method: POST", &rows, &want);

    let want: Vec<&Written> = logs.iter().filter(|l| l.id.starts_with("c-01")).collect();
    let rows = json(get_log(&["--query=id: c-01* and not status: 500"])).await;
    let want: Vec<&Written> = want.into_iter().filter(|l| l.status != 500).collect();
    assert_rows("id: c-01* and not status: 500", &rows, &want);

    // Offset past the first 100 of 120.
    let rows = json(get_log(&["--query=*", "--offset=100", "--size=50"])).await;
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(20),
        "offset 100: {rows}"
    );

    // Newest first: the 5 rows come from the last second.
    let rows = json(get_log(&["--query=*", "--reverse=true", "--size=5"])).await;
    let last: Vec<&Written> = logs.iter().filter(|l| l.time == base + 11).collect();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    for row in rows {
        assert_eq!(row["__time__"], (base + 11).to_string(), "reverse: {row}");
        assert!(last.iter().any(|l| row["id"] == l.id.as_str()), "{row}");
    }

    // Histograms: every bucket holds what was written in it; they add up to the GetLogs count.
    let request = serde_json::json!({
        "project": project, "logstore": "app", "fromTime": base, "toTime": base + 12,
        "topic": "", "query": "method: GET",
    });
    let hs = cli
        .json(&["get_histograms", &format!("--request={request}")])
        .await;
    let hs = hs.as_array().unwrap_or_else(|| panic!("histograms: {hs}"));
    assert!((1..=60).contains(&hs.len()), "{hs:?}");
    let mut sum = 0;
    for h in hs {
        let (f, t, n) = (h["from"].as_i64(), h["to"].as_i64(), h["count"].as_u64());
        let (Some(f), Some(t), Some(n)) = (f, t, n) else {
            panic!("histogram bucket {h}");
        };
        let want = logs
            .iter()
            .filter(|l| l.method == "GET" && l.time >= f && l.time < t)
            .count();
        assert_eq!(n as usize, want, "bucket {h}");
        sum += n as usize;
    }
    assert_eq!(hs[0]["from"], base, "{hs:?}");
    assert_eq!(hs[hs.len() - 1]["to"], base + 12, "{hs:?}");
    assert_eq!(sum, logs.iter().filter(|l| l.method == "GET").count());

    let pn = format!("--project_name={project}");
    cli.ok(&["delete_index", &pn, "--logstore_name=app"]).await;
    cli.error(
        &["get_index_config", &pn, "--logstore_name=app"],
        "IndexConfigNotExist",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_get_log_sql() {
    let server = TestServer::start().await.unwrap();
    let (cli, project, logs) = cli_setup(&server).await;
    let base = logs[0].time;
    let rows = cli
        .json(&[
            "get_log",
            &format!("--project={project}"),
            "--logstore=app",
            &format!("--from_time={base}"),
            &format!("--to_time={}", base + 12),
            "--query=* | select method, count(*) as c group by method order by method",
        ])
        .await;
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &logs {
        *want.entry(l.method).or_default() += 1;
    }
    let got: BTreeMap<&str, usize> = rows
        .as_array()
        .unwrap_or_else(|| panic!("{rows}"))
        .iter()
        .map(|r| {
            let c = r["c"].as_str().and_then(|c| c.parse().ok());
            (r["method"].as_str().unwrap_or_default(), c.unwrap_or(0))
        })
        .collect();
    assert_eq!(got, want, "{rows}");
}
