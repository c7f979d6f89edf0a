//! Least privilege: the official clients under a RAM user holding only the actions they are
//! documented (or found) to need, against the emulator's access control.
//!
//! For each client: with the minimal policy every log written is consumed (or delivered) and
//! the consumer group's checkpoints reach the shard ends. Then each action of that policy is
//! taken away in turn: the client's log must name exactly that action in the emulator's 401
//! `Unauthorized` message (besides the calls a client makes without needing them, e.g.
//! ListConsumerGroup), and what follows (retries, task restarts, a worker that exits, data
//! delivered or lost, checkpoints committed or not) is asserted as the client really behaves,
//! including the removals it tolerates.
//!
//! Every case has its own key, consumer group and (Flink) sink logstore on one emulator, so
//! the cases of a client run side by side (workers) or back to back (Flink) independently.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sls_client::{Client, CursorFrom, LogstoreSpec};
use sls_e2e::flink::{FlinkJob, JobOptions, Sink};
use sls_e2e::workers::{server_for, Lang, Target, WorkerOptions, Workers};
use sls_e2e::{owner_client, unique_project};
use sls_emulator::access::{Credential, Policy};
use sls_emulator::testing::TestServer;

/// The logstore every client reads.
const SRC: &str = "src";
/// Shards of [`SRC`]: two, so that every per-shard path runs twice.
const SHARDS: u32 = 2;
/// Logs written per shard of [`SRC`] before any client starts.
const PER_SHARD: usize = 100;
/// What the emulator's denials say before the action name.
const DENIED: &str = "denied by sts or ram, action: ";

const GET_CURSOR_OR_DATA: &str = "log:GetCursorOrData";
const LIST_SHARDS: &str = "log:ListShards";
const CREATE_GROUP: &str = "log:CreateConsumerGroup";
const LIST_GROUPS: &str = "log:ListConsumerGroup";
const UPDATE_GROUP: &str = "log:UpdateConsumerGroup";
const HEARTBEAT: &str = "log:ConsumerGroupHeartBeat";
const UPDATE_CHECKPOINT: &str = "log:ConsumerGroupUpdateCheckPoint";
const GET_CHECKPOINT: &str = "log:GetConsumerGroupCheckPoint";
const PUT_LOGS: &str = "log:PostLogStoreLogs";

/// A logstore's ARN, with any region and account (as the connector's README writes it).
fn logstore_arn(project: &str, logstore: &str) -> String {
    format!("acs:log:*:*:project/{project}/logstore/{logstore}")
}

/// A consumer group's ARN (`*`: every group of the logstore).
fn group_arn(project: &str, logstore: &str, group: &str) -> String {
    format!("{}/consumergroup/{group}", logstore_arn(project, logstore))
}

/// One Allow statement: an action on a resource.
#[derive(Debug, Clone)]
struct Grant {
    action: &'static str,
    resource: String,
}

impl Grant {
    fn new(action: &'static str, resource: String) -> Grant {
        Grant { action, resource }
    }
}

/// Registers key `id` holding exactly `grants` (one statement each) and returns the target
/// signing with it.
fn restricted_key(server: &TestServer, id: &str, grants: &[Grant]) -> Target {
    let statements: Vec<serde_json::Value> = grants
        .iter()
        .map(|g| json!({"Effect": "Allow", "Action": [g.action], "Resource": [g.resource]}))
        .collect();
    let doc = json!({"Version": "1", "Statement": statements}).to_string();
    let secret = format!("{id}-secret");
    let mut c = Credential::new(id, secret.clone());
    c.policies
        .insert("least".into(), Arc::new(Policy::parse_json(&doc).unwrap()));
    server.access().insert(c).unwrap();
    Target {
        access_key_id: id.into(),
        access_key_secret: secret,
        ..Target::of(server)
    }
}

/// `grants` without the ones for `action`.
fn without(grants: &[Grant], action: Option<&str>) -> Vec<Grant> {
    grants
        .iter()
        .filter(|g| Some(g.action) != action)
        .cloned()
        .collect()
}

/// The actions the emulator's denials in `log` name.
fn denied_actions(log: &str) -> BTreeSet<String> {
    log.match_indices(DENIED)
        .filter_map(|(i, _)| {
            let rest = &log[i + DENIED.len()..];
            rest.split([',', ' ', '"', '\n']).next().map(str::to_string)
        })
        .collect()
}

/// A project with [`SRC`] holding [`PER_SHARD`] logs per shard; returns the ids written and
/// each shard's end cursor (where a consumer group's checkpoint ends up once all is read).
async fn source(c: &Client, project: &str) -> (BTreeSet<String>, BTreeMap<u32, String>) {
    c.create_project(project, "").await.unwrap();
    c.create_logstore(project, &LogstoreSpec::new(SRC, SHARDS))
        .await
        .unwrap();
    let mut ids = BTreeSet::new();
    for shard in 0..SHARDS {
        // The lower end of the shard's hash range.
        let key = format!(
            "{:032x}",
            u128::from(shard) * (u128::MAX / u128::from(SHARDS) + 1)
        );
        for chunk in 0..4 {
            let batch: Vec<String> = (0..PER_SHARD / 4)
                .map(|i| format!("s{shard}-{}", chunk * PER_SHARD / 4 + i))
                .collect();
            let group = sls_client::LogGroup {
                logs: batch.iter().map(|id| sls_e2e::id_log(id)).collect(),
                ..Default::default()
            };
            c.put_logs(project, SRC, &group, Some(&key)).await.unwrap();
            ids.extend(batch);
        }
    }
    let mut ends = BTreeMap::new();
    for s in c.list_shards(project, SRC).await.unwrap() {
        let end = c
            .get_cursor(project, SRC, s.id, CursorFrom::End)
            .await
            .unwrap();
        ends.insert(s.id.get(), end);
    }
    (ids, ends)
}

/// Where a consumer group's checkpoints stand, as the owner reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupState {
    /// Every shard's checkpoint is its end cursor.
    AtEnd,
    /// The group exists, some checkpoint is short of the end (or was never saved).
    Behind,
    /// `ConsumerGroupNotExist`: nobody created it.
    Missing,
}

async fn group_state(
    c: &Client,
    project: &str,
    group: &str,
    ends: &BTreeMap<u32, String>,
) -> GroupState {
    match c.get_checkpoints(project, SRC, group, None).await {
        Ok(cps) => {
            let got: BTreeMap<u32, String> = cps
                .into_iter()
                .map(|cp| (cp.shard.get(), cp.checkpoint))
                .collect();
            if &got == ends {
                GroupState::AtEnd
            } else {
                GroupState::Behind
            }
        }
        Err(e) if e.to_string().contains("ConsumerGroupNotExist") => GroupState::Missing,
        Err(e) => panic!("GetCheckPoint of {group} with the owner key failed: {e}"),
    }
}

/// Distinct ids in `logstore`.
async fn distinct_ids(c: &Client, project: &str, logstore: &str) -> usize {
    c.read_all(project, logstore)
        .await
        .unwrap()
        .iter()
        .flat_map(|(_, g)| g.logs.iter().map(sls_e2e::id_of))
        .collect::<BTreeSet<_>>()
        .len()
}

fn names(actions: &[&str]) -> BTreeSet<String> {
    actions.iter().map(|a| a.to_string()).collect()
}

// ------------------------------------------------------------------------------------------
// Flink: FlinkLogConsumer with a consumer group, into FlinkLogProducer, one key for both.
// ------------------------------------------------------------------------------------------

/// What a Flink run shows (compared whole with what a case expects).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FlinkOutcome {
    /// Distinct source ids in the sink logstore.
    delivered: usize,
    group: GroupState,
    /// Actions named by denials in job.log.
    denied: BTreeSet<String>,
    /// Some task restarted (a `task_start` of attempt 1 or later: Flink's fixed-delay restart
    /// after the source task failed).
    restarted: bool,
    /// The JVM exited or the job reported `job_failed` (restarts run out).
    died: bool,
}

/// The connector README's policy for the source (`FlinkLogConsumer` with a consumer group),
/// and for the sink (`FlinkLogProducer`, README: PostLogStoreLogs and ListShards) on the sink
/// logstore only: the job signs both with one key.
fn flink_readme_policy(project: &str, group: &str, sink: &str) -> Vec<Grant> {
    vec![
        Grant::new(GET_CURSOR_OR_DATA, logstore_arn(project, SRC)),
        Grant::new(LIST_SHARDS, logstore_arn(project, SRC)),
        Grant::new(CREATE_GROUP, group_arn(project, SRC, "*")),
        Grant::new(UPDATE_CHECKPOINT, group_arn(project, SRC, group)),
        Grant::new(PUT_LOGS, logstore_arn(project, sink)),
        Grant::new(LIST_SHARDS, logstore_arn(project, sink)),
    ]
}

/// Which logstore's grant a Flink case takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Source,
    Sink,
}

/// One Flink case: the README policy less `removed`, and what the run must show: an outcome,
/// and a line of job.log showing how the connector reacted.
struct FlinkCase {
    name: &'static str,
    removed: Option<(&'static str, On)>,
    expect: FlinkOutcome,
    shows: Option<&'static str>,
}

/// Runs the job of `case` (parallelism 1, fresh group and sink logstore, start at BEGIN) until
/// it shows the expected outcome, and a second look 1.5 s later still does (nothing more
/// happens then: no late restart, no late delivery), or until `secs` pass. Returns the last
/// outcome and the job's log.
async fn flink_case(
    server: &TestServer,
    c: &Client,
    project: &str,
    ends: &BTreeMap<u32, String>,
    case: &FlinkCase,
    secs: u64,
) -> (FlinkOutcome, String) {
    let group = format!("g-{}", case.name);
    let sink = format!("sink-{}", case.name);
    c.create_logstore(project, &LogstoreSpec::new(&sink, 1))
        .await
        .unwrap();
    let grants: Vec<Grant> = flink_readme_policy(project, &group, &sink)
        .into_iter()
        .filter(|g| match case.removed {
            Some((action, on)) => {
                let ls = if on == On::Source { SRC } else { sink.as_str() };
                !(g.action == action && g.resource.starts_with(&logstore_arn(project, ls)))
            }
            None => true,
        })
        .collect();
    let target = restricted_key(server, &format!("flink-{}", case.name), &grants);
    let mut job = FlinkJob::new(target, project, SRC).unwrap();
    let mut o = JobOptions::new(Sink::Producer {
        logstore: sink.clone(),
    });
    o.parallelism = 1;
    o.consumer_group = Some(group.clone());
    o.restore = false;
    let start = Instant::now();
    job.start(&o).unwrap();
    let deadline = start + Duration::from_secs(secs);
    let mut matched_at: Option<Instant> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let events = job.events();
        let now = FlinkOutcome {
            delivered: distinct_ids(c, project, &sink).await,
            group: group_state(c, project, &group, ends).await,
            denied: denied_actions(&job.log()),
            restarted: events
                .iter()
                .any(|e| e["event"] == "task_start" && e["attempt"].as_u64() > Some(0)),
            died: !job.is_running() || events.iter().any(|e| e["event"] == "job_failed"),
        };
        let matched = now == case.expect && case.shows.is_none_or(|t| job.log().contains(t));
        matched_at = if matched {
            matched_at.or(Some(Instant::now()))
        } else {
            None
        };
        let settled = matched_at.is_some_and(|t| t.elapsed() >= Duration::from_millis(1500));
        if settled || Instant::now() > deadline {
            job.kill9().unwrap();
            println!(
                "flink {}: {now:?} after {:.1} s",
                case.name,
                start.elapsed().as_secs_f64()
            );
            return (now, job.log());
        }
    }
}

/// The connector (0.1.33) with exactly its README's policy reads everything and commits the
/// consumer group's checkpoints; each action taken away (four for the source, two for the
/// sink) is asserted as it behaves: which call is denied, and whether the job restarts, goes
/// on without it, or loses the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flink_connector_readme_policies() {
    let server = TestServer::start().await.unwrap();
    let c = owner_client(&server);
    let project = unique_project("lp-flink");
    let (ids, ends) = source(&c, &project).await;
    let n = ids.len();
    // The connector lists the consumer groups before creating its own; the README grants no
    // ListConsumerGroup and the connector tolerates the denial (it then creates the group).
    let list = LIST_GROUPS;
    // Flink's line for a failed task (then restarted by the fixed-delay strategy).
    const FAILED: &str = "switched from RUNNING to FAILED";
    let cases = [
        FlinkCase {
            name: "readme",
            removed: None,
            expect: FlinkOutcome {
                delivered: n,
                group: GroupState::AtEnd,
                denied: names(&[list]),
                restarted: false,
                died: false,
            },
            shows: None,
        },
        // getBeginCursor fails (5 retries), the source task fails, Flink restarts it, again
        // and again: nothing is read.
        FlinkCase {
            name: "no-get-cursor-or-data",
            removed: Some((GET_CURSOR_OR_DATA, On::Source)),
            expect: FlinkOutcome {
                delivered: 0,
                group: GroupState::Behind,
                denied: names(&[GET_CURSOR_OR_DATA, list]),
                restarted: true,
                died: false,
            },
            shows: Some(FAILED),
        },
        // Shard discovery fails before the group is created: restarts, nothing read, no group.
        FlinkCase {
            name: "no-list-shards",
            removed: Some((LIST_SHARDS, On::Source)),
            expect: FlinkOutcome {
                delivered: 0,
                group: GroupState::Missing,
                denied: names(&[LIST_SHARDS]),
                restarted: true,
                died: false,
            },
            shows: Some(FAILED),
        },
        // Tolerated: the connector logs "Error creating consumer group" and reads everything;
        // its checkpoint commits then meet ConsumerGroupNotExist, which it also only logs. The
        // job never fails, the group never exists: progress is visible nowhere but in Flink.
        FlinkCase {
            name: "no-create-consumer-group",
            removed: Some((CREATE_GROUP, On::Source)),
            expect: FlinkOutcome {
                delivered: n,
                group: GroupState::Missing,
                denied: names(&[CREATE_GROUP, list]),
                restarted: false,
                died: false,
            },
            shows: Some("Error creating consumer group"),
        },
        // The commit runs inside snapshotState: it fails after its retries, the checkpoint
        // fails and the job restarts (from scratch: no checkpoint ever completes). The sink
        // already has every log (at least once); the group's checkpoints never move.
        FlinkCase {
            name: "no-update-checkpoint",
            removed: Some((UPDATE_CHECKPOINT, On::Source)),
            expect: FlinkOutcome {
                delivered: n,
                group: GroupState::Behind,
                denied: names(&[UPDATE_CHECKPOINT, list]),
                restarted: true,
                died: false,
            },
            shows: Some("Checkpoint was declined"),
        },
        // FlinkLogProducer only logs "Error putting data" and drops the batch: no failure, no
        // restart, and the consumer group's checkpoints reach the end, so the loss is final
        // (JAVA-GO-FLINK.md §5.6).
        FlinkCase {
            name: "no-post-logstore-logs",
            removed: Some((PUT_LOGS, On::Sink)),
            expect: FlinkOutcome {
                delivered: 0,
                group: GroupState::AtEnd,
                denied: names(&[PUT_LOGS, list]),
                restarted: false,
                died: false,
            },
            shows: Some("Error putting data"),
        },
        // 0.1.33's FlinkLogProducer never lists shards: the README's ListShards on the sink is
        // not needed.
        FlinkCase {
            name: "no-sink-list-shards",
            removed: Some((LIST_SHARDS, On::Sink)),
            expect: FlinkOutcome {
                delivered: n,
                group: GroupState::AtEnd,
                denied: names(&[list]),
                restarted: false,
                died: false,
            },
            shows: None,
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let (got, log) = flink_case(&server, &c, &project, &ends, case, 45).await;
        let lacks = case.shows.filter(|t| !log.contains(t));
        if got != case.expect || lacks.is_some() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failures.push(format!(
                "{}: expected {:?}\n  got {got:?}\n  job.log lacks {lacks:?}; its tail:\n{}",
                case.name,
                case.expect,
                tail.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ------------------------------------------------------------------------------------------
// Consumer-group workers: Java ClientWorker, Python ConsumerWorker.
// ------------------------------------------------------------------------------------------

/// The consumer libraries' least privilege. Found by starting from the SLS documentation's
/// consumer policy (these plus ListConsumerGroup and ListShards) and removing one action at a
/// time: neither library needs ListShards; ListConsumerGroup is called by Java only, which
/// tolerates its denial. UpdateConsumerGroup is needed once the group exists (every restart):
/// without it both libraries exit. (Java 0.6.41 skips that update when it may list the groups
/// and the group's timeout and order match its own, per its source; not exercised here.)
fn minimal_consumer_policy(project: &str, group: &str) -> Vec<Grant> {
    let g = group_arn(project, SRC, group);
    vec![
        Grant::new(GET_CURSOR_OR_DATA, logstore_arn(project, SRC)),
        Grant::new(CREATE_GROUP, g.clone()),
        Grant::new(UPDATE_GROUP, g.clone()),
        Grant::new(HEARTBEAT, g.clone()),
        Grant::new(GET_CHECKPOINT, g.clone()),
        Grant::new(UPDATE_CHECKPOINT, g),
    ]
}

/// What a worker shows (compared whole with what a case expects).
#[derive(Debug, Clone, PartialEq, Eq)]
struct WorkerOutcome {
    /// Distinct ids processed.
    consumed: usize,
    group: GroupState,
    /// Actions named by denials in the worker's log, warnings and error events.
    denied: BTreeSet<String>,
    /// The process still runs (the library retries); false: it exited.
    running: bool,
}

/// One worker case: the minimal policy less `removed`, on a fresh group or on one that
/// already exists (a worker restarting), and what it must show.
struct WorkerCase {
    name: String,
    removed: Option<&'static str>,
    existing_group: bool,
    expect: WorkerOutcome,
    workers: Option<Workers>,
}

impl WorkerCase {
    fn group(&self) -> String {
        format!("g-{}", self.name)
    }

    async fn observe(
        &mut self,
        c: &Client,
        project: &str,
        ends: &BTreeMap<u32, String>,
    ) -> WorkerOutcome {
        let group = self.group();
        let w = self.workers.as_mut().unwrap();
        // The library's log, its warnings and the harness's error events (a constructor that
        // threw is reported only there).
        let mut text = w.log_tails(usize::MAX);
        w.read(|e| {
            for line in e
                .notes
                .iter()
                .map(|n| &n.description)
                .chain(e.warnings.values().flatten())
            {
                text.push_str(line);
                text.push('\n');
            }
        });
        WorkerOutcome {
            consumed: w.distinct(),
            group: group_state(c, project, &group, ends).await,
            denied: denied_actions(&text),
            running: w.is_running("w"),
        }
    }
}

/// Every case of `lang` at once, one worker each: the minimal policy on a fresh group and on
/// an existing one (created with another timeout) consumes everything and commits the ends;
/// each action taken away breaks it as asserted, with the denial naming that action.
async fn consumer_least_privilege(lang: Lang) {
    let server = server_for(lang).await.unwrap();
    let c = owner_client(&server);
    let project = unique_project(&format!("lp-{lang:?}").to_lowercase());
    let (ids, ends) = source(&c, &project).await;
    let n = ids.len();
    // Java lists the groups first (to skip an update when the settings match) and goes on
    // when that is denied; Python never lists them.
    let tolerated: &[&str] = match lang {
        Lang::Java => &[LIST_GROUPS],
        _ => &[],
    };
    let denied = |action: Option<&str>| {
        let mut s = names(tolerated);
        s.extend(action.map(str::to_string));
        s
    };
    let outcome = |consumed, group, action: Option<&str>, running| WorkerOutcome {
        consumed,
        group,
        denied: denied(action),
        running,
    };
    let mut cases = Vec::new();
    let mut add = |name: &str, removed: Option<&'static str>, existing, expect| {
        cases.push(WorkerCase {
            name: name.into(),
            removed,
            existing_group: existing,
            expect,
            workers: None,
        });
    };
    add(
        "fresh",
        None,
        false,
        outcome(n, GroupState::AtEnd, None, true),
    );
    add(
        "existing",
        None,
        true,
        outcome(n, GroupState::AtEnd, None, true),
    );
    // Shard initialisation (the start cursor) retried on and on; nothing read.
    add(
        "no-get-cursor-or-data",
        Some(GET_CURSOR_OR_DATA),
        false,
        outcome(0, GroupState::Behind, Some(GET_CURSOR_OR_DATA), true),
    );
    // The worker's constructor throws: the process exits.
    add(
        "no-create-consumer-group",
        Some(CREATE_GROUP),
        false,
        outcome(0, GroupState::Missing, Some(CREATE_GROUP), false),
    );
    // On an existing group the constructor updates it, throws on the denial: the process exits.
    add(
        "no-update-consumer-group",
        Some(UPDATE_GROUP),
        true,
        outcome(0, GroupState::Behind, Some(UPDATE_GROUP), false),
    );
    // Heartbeats retried every interval; no shard is ever assigned.
    add(
        "no-heartbeat",
        Some(HEARTBEAT),
        false,
        outcome(0, GroupState::Behind, Some(HEARTBEAT), true),
    );
    // Shard initialisation (read the checkpoint) retried forever; nothing read.
    add(
        "no-get-checkpoint",
        Some(GET_CHECKPOINT),
        false,
        outcome(0, GroupState::Behind, Some(GET_CHECKPOINT), true),
    );
    // Everything is processed, every commit fails (logged): a restart would read it all again.
    add(
        "no-update-checkpoint",
        Some(UPDATE_CHECKPOINT),
        false,
        outcome(n, GroupState::Behind, Some(UPDATE_CHECKPOINT), true),
    );
    let o = WorkerOptions::default();
    for case in &mut cases {
        let group = case.group();
        if case.existing_group {
            let g = sls_client::ConsumerGroup {
                name: group.clone(),
                timeout: 60,
                order: false,
            };
            c.create_consumer_group(&project, SRC, &g).await.unwrap();
        }
        let grants = without(&minimal_consumer_policy(&project, &group), case.removed);
        let target = restricted_key(&server, &format!("{lang:?}-{}", case.name), &grants);
        let epoch = sls_e2e::now_epoch_ms();
        let mut w = Workers::new(lang, target, &project, SRC, &group, epoch).unwrap();
        w.spawn("w", &o).unwrap();
        case.workers = Some(w);
    }
    // Until every case shows what it should, twice 1.5 s apart and at least 6 s in (the
    // cases that consume nothing are judged once the fresh case has consumed everything, so
    // there was time; those that retry have retried for a while without giving up).
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut matched_at: Option<Instant> = None;
    let outcomes = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut all = Vec::new();
        for case in &mut cases {
            all.push(case.observe(&c, &project, &ends).await);
        }
        let matched = cases
            .iter()
            .zip(&all)
            .all(|(case, got)| &case.expect == got);
        matched_at = if matched {
            matched_at.or(Some(Instant::now()))
        } else {
            None
        };
        let settled = matched_at.is_some_and(|t| t.elapsed() >= Duration::from_millis(1500))
            && start.elapsed() >= Duration::from_secs(6);
        if settled || Instant::now() > deadline {
            break all;
        }
    };
    let mut failures = Vec::new();
    for (case, got) in cases.iter().zip(&outcomes) {
        println!("{lang:?} {}: {got:?}", case.name);
        if &case.expect != got {
            failures.push(format!(
                "{}: expected {:?}\n  got {got:?}\n{}",
                case.name,
                case.expect,
                case.workers.as_ref().unwrap().log_tails(30)
            ));
        }
    }
    println!(
        "{}: {} cases in {:.1} s",
        lang.worker_library(),
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_consumer_library_least_privilege() {
    consumer_least_privilege(Lang::Java).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_consumer_worker_least_privilege() {
    consumer_least_privilege(Lang::Python).await;
}
