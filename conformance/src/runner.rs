//! Running the suite: set up a project (fresh, or an existing one) with the fixture logstores,
//! run the selected cases one after another, clean up whatever was created (also after
//! failures), and collect a [`Report`].
//!
//! What the cases check is in `crate::cases`; how results look is [`crate::report`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::case::{Case, CaseCtx, Fixtures, Group, Outcome, Resource, Stop};
use crate::cases;
use crate::client::{Client, Method, Request, Response};
use crate::report::{CaseReport, Report, Summary};
use crate::target::Target;
use crate::Error;

/// Longest a single case may take before it counts as failed.
const CASE_TIMEOUT: Duration = Duration::from_secs(180);
/// Pause between polls while waiting for an eventually consistent effect.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Which groups run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    only: Option<Vec<Group>>,
    skip: Vec<Group>,
}

impl Selection {
    /// Every group.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Only `groups`.
    pub fn only(groups: &[Group]) -> Selection {
        Selection {
            only: Some(groups.to_vec()),
            skip: Vec::new(),
        }
    }

    /// This selection without `groups`.
    pub fn skipping(mut self, groups: &[Group]) -> Selection {
        self.skip.extend_from_slice(groups);
        self
    }

    /// Whether `group` runs.
    pub fn includes(&self, group: Group) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(&group)) && !self.skip.contains(&group)
    }

    /// The groups that run, in report order.
    pub fn groups(&self) -> Vec<Group> {
        Group::ALL
            .into_iter()
            .filter(|g| self.includes(*g))
            .collect()
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The endpoint and keys.
    pub target: Target,
    /// An existing project to run in (left in place); `None` creates and deletes a fresh one.
    pub project: Option<String>,
    /// Groups to run.
    pub selection: Selection,
    /// How long to keep polling for eventually consistent effects (a new project or logstore
    /// becoming usable). Zero polls once: right for the emulator, too short for real SLS.
    pub settle: Duration,
}

impl RunOptions {
    /// Every group, in a fresh project, without settling time.
    pub fn new(target: Target) -> RunOptions {
        RunOptions {
            target,
            project: None,
            selection: Selection::all(),
            settle: Duration::ZERO,
        }
    }
}

static RUNS: AtomicU32 = AtomicU32::new(0);

/// A short id, unique per run: time, process and a counter (lower-case hex).
fn run_id() -> String {
    let millis = chrono::Utc::now().timestamp_millis().unsigned_abs();
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:07x}{:03x}{n:x}",
        millis & 0x0fff_ffff,
        std::process::id() & 0xfff
    )
}

/// Runs the selected cases against `options.target` and reports every registered case
/// (unselected ones as skipped).
///
/// Setup problems do not make this fail: they end up in [`Report::setup_error`] (and every
/// case is skipped), because a report is still wanted.
///
/// # Errors
/// [`Error::Client`] when no HTTP client can be built.
pub async fn run(options: &RunOptions) -> Result<Report, Error> {
    let client = Client::new(options.target.clone())?;
    let started = Instant::now();
    let run_id = run_id();
    let (project, create_project) = match &options.project {
        Some(p) => (p.clone(), false),
        None => (format!("sls-conf-{run_id}"), true),
    };
    let fixtures = Fixtures::for_run(&run_id);
    let mut report = Report {
        tool: concat!("sls-conformance ", env!("CARGO_PKG_VERSION")).to_owned(),
        endpoint: options.target.endpoint.base_url(None),
        signature: options.target.sign_version,
        region: options.target.region.clone(),
        project: project.clone(),
        project_created: false,
        groups: options.selection.groups(),
        started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        duration_ms: 0,
        summary: Summary::default(),
        setup_error: None,
        cleanup_warnings: Vec::new(),
        cases: Vec::new(),
    };
    let mut created = Vec::new();
    let setup = setup(
        &client,
        &project,
        create_project,
        &fixtures,
        options.settle,
        &mut created,
    )
    .await;
    report.project_created = created.contains(&Resource::Project(project.clone()));
    if let Err(e) = &setup {
        report.setup_error = Some(e.to_string());
    }
    for case in cases::registry() {
        let skip = |reason: String| CaseReport {
            id: case.id.to_owned(),
            group: case.group,
            checks: case.checks.to_owned(),
            source: case.source.to_owned(),
            outcome: Outcome::Skip { reason },
            duration_ms: 0,
            evidence: Vec::new(),
        };
        let result = if !options.selection.includes(case.group) {
            skip(format!("group {} not selected", case.group))
        } else if setup.is_err() {
            skip("setup failed, so no case ran".to_owned())
        } else {
            let ctx = CaseCtx::new(
                client.clone(),
                project.clone(),
                fixtures.clone(),
                run_id.clone(),
                case.id,
                options.settle,
            );
            run_case(&client, case, ctx, &mut report.cleanup_warnings).await
        };
        report.cases.push(result);
    }
    for resource in created.iter().rev() {
        if let Err(w) = delete(&client, resource).await {
            report.cleanup_warnings.push(w);
        }
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.tally();
    Ok(report)
}

/// Runs one case, then deletes what it registered.
async fn run_case(
    client: &Client,
    case: Case,
    mut ctx: CaseCtx,
    warnings: &mut Vec<String>,
) -> CaseReport {
    let started = Instant::now();
    let result = tokio::time::timeout(CASE_TIMEOUT, (case.run)(&mut ctx)).await;
    let no_checks = ctx.checks().is_empty();
    let outcome = match result {
        Err(_) => Outcome::Fail {
            expected: format!("the case finishes within {} s", CASE_TIMEOUT.as_secs()),
            observed: "it did not (an answer never came?)".to_owned(),
        },
        // A case that checked nothing proved nothing: never report it as passed.
        Ok(Ok(())) if no_checks => Outcome::Fail {
            expected: "at least one check".to_owned(),
            observed: "the case made no check (a bug in the case)".to_owned(),
        },
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(Stop::Fail { expected, observed })) => Outcome::Fail { expected, observed },
        Ok(Err(Stop::Skip(reason))) => Outcome::Skip { reason },
        Ok(Err(Stop::Error(e))) => Outcome::Fail {
            expected: "an HTTP answer".to_owned(),
            observed: e.to_string(),
        },
    };
    let (evidence, resources) = ctx.finish();
    for resource in resources.iter().rev() {
        if let Err(w) = delete(client, resource).await {
            warnings.push(format!("{}: {w}", case.id));
        }
    }
    CaseReport {
        id: case.id.to_owned(),
        group: case.group,
        checks: case.checks.to_owned(),
        source: case.source.to_owned(),
        outcome,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        evidence,
    }
}

/// Creates the project (unless it exists) and the fixture logstores, recording each creation
/// in `created` so that it is undone even when a later step fails.
async fn setup(
    client: &Client,
    project: &str,
    create_project: bool,
    fixtures: &Fixtures,
    settle: Duration,
    created: &mut Vec<Resource>,
) -> Result<(), Error> {
    let failed = |step: String, observed: String| Error::Setup { step, observed };
    if create_project {
        let req = Request::new(Method::POST, "/")
            .project(project)
            .json(&json!({
                "projectName": project,
                "description": "sls-conformance run; deleted when the run ends",
            }));
        let resp = client.send(&req).await?;
        if resp.status != 200 {
            return Err(failed(format!("CreateProject {project}"), resp.summary()));
        }
        created.push(Resource::Project(project.to_owned()));
    }
    let resp = poll_until(
        settle,
        || async {
            client
                .send(&Request::new(Method::GET, "/").project(project))
                .await
        },
        |r| r.status == 200,
    )
    .await?;
    if resp.status != 200 {
        return Err(failed(format!("GetProject {project}"), resp.summary()));
    }
    for (name, shards) in fixtures.all() {
        let req = Request::new(Method::POST, "/logstores")
            .project(project)
            .json(&json!({"logstoreName": name, "ttl": 1, "shardCount": shards}));
        let resp = client.send(&req).await?;
        if resp.status != 200 {
            return Err(failed(
                format!("CreateLogStore {name} ({shards} shards)"),
                resp.summary(),
            ));
        }
        created.push(Resource::Logstore {
            project: project.to_owned(),
            name: name.to_owned(),
        });
        wait_for_logstore(client, project, name, settle).await?;
    }
    Ok(())
}

/// Polls ListShards until the new logstore answers 200 (real SLS needs a moment).
///
/// # Errors
/// [`Error::Setup`] when it never does within `settle`.
pub async fn wait_for_logstore(
    client: &Client,
    project: &str,
    name: &str,
    settle: Duration,
) -> Result<(), Error> {
    let path = format!("/logstores/{name}/shards");
    let resp = poll_until(
        settle,
        || async {
            client
                .send(&Request::new(Method::GET, path.as_str()).project(project))
                .await
        },
        |r| r.status == 200,
    )
    .await?;
    if resp.status == 200 {
        Ok(())
    } else {
        Err(Error::Setup {
            step: format!("ListShards {name} after creating it"),
            observed: resp.summary(),
        })
    }
}

/// Sends until `done` holds for the answer or `settle` has passed; returns the last answer.
pub(crate) async fn poll_until<F, Fut>(
    settle: Duration,
    mut send: F,
    done: impl Fn(&Response) -> bool,
) -> Result<Response, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Response, Error>>,
{
    let deadline = Instant::now() + settle;
    loop {
        let resp = send().await?;
        if done(&resp) || Instant::now() >= deadline {
            return Ok(resp);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Deletes a resource; "already gone" counts as done. Returns a warning otherwise.
async fn delete(client: &Client, resource: &Resource) -> Result<(), String> {
    let (req, what) = match resource {
        Resource::Project(p) => (
            Request::new(Method::DELETE, "/").project(p.clone()),
            format!("DeleteProject {p}"),
        ),
        Resource::Logstore { project, name } => (
            Request::new(Method::DELETE, format!("/logstores/{name}")).project(project.clone()),
            format!("DeleteLogStore {project}/{name}"),
        ),
    };
    match client.send(&req).await {
        Ok(resp) if resp.status == 200 => Ok(()),
        Ok(resp)
            if resp.status == 404
                && matches!(
                    resp.error_code().as_deref(),
                    Some("ProjectNotExist" | "LogStoreNotExist")
                ) =>
        {
            Ok(())
        }
        Ok(resp) => Err(format!("{what}: {}", resp.summary())),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_filters_groups() {
        let s = Selection::all().skipping(&[Group::SplitMerge]);
        assert!(s.includes(Group::Put));
        assert!(!s.includes(Group::SplitMerge));
        let s = Selection::only(&[Group::Put, Group::Pull]).skipping(&[Group::Pull]);
        assert_eq!(s.groups(), vec![Group::Put]);
    }

    #[test]
    fn run_ids_are_valid_name_parts_and_unique() {
        let a = run_id();
        let b = run_id();
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        // Longest derived name: a fixture or temp logstore must stay within 63 characters.
        assert!(format!("sls-conf-{a}").len() <= 63);
    }
}
