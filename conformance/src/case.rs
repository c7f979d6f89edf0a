//! The case model: [`Group`], [`Case`] (id, behaviour, source, async body), what a case can
//! end with ([`Outcome`], [`Stop`]) and [`CaseCtx`], the context a case body runs in (client,
//! project, fixture logstores, recorded checks, resources to clean up).
//!
//! Cases themselves live in `crate::cases`; running them is [`crate::runner`]'s job.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sls_protocol::headers as h;

use crate::client::{Client, Method, Request, Response};
use crate::Error;

/// A boxed, sendable future (what case bodies return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a case body returns: `Ok(())` when every check passed.
pub type CaseResult = Result<(), Stop>;

/// The body of a case.
pub type CaseFn = fn(&mut CaseCtx) -> BoxFuture<'_, CaseResult>;

/// API groups; `--groups`/`--skip-groups` select by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// ListProject, Create/Get/Update/DeleteProject, Host addressing.
    Projects,
    /// Create/Get/Update/Delete/ListLogStores.
    Logstores,
    /// ListShards, key ranges, hash-key routing.
    Shards,
    /// SplitShard, MergeShards.
    SplitMerge,
    /// GetCursor, GetCursorTime, cursor arithmetic.
    Cursors,
    /// PullLogs.
    Pull,
    /// PutLogs.
    Put,
    /// Consumer groups and heartbeats.
    ConsumerGroups,
    /// UpdateCheckPoint, GetCheckPoint.
    Checkpoints,
    /// V1 and V4 signatures, clock skew.
    Signatures,
    /// Error codes, statuses and shapes.
    Errors,
    /// RAM policies, STS tokens and key states (needs sls-emu's admin API to create keys).
    Auth,
    /// Indexes, GetLogs v1/v2, GetHistograms, SQL, GetProjectLogs.
    Query,
}

impl Group {
    /// Every group, in report order.
    pub const ALL: [Group; 13] = [
        Group::Projects,
        Group::Logstores,
        Group::Shards,
        Group::SplitMerge,
        Group::Cursors,
        Group::Pull,
        Group::Put,
        Group::ConsumerGroups,
        Group::Checkpoints,
        Group::Signatures,
        Group::Errors,
        Group::Auth,
        Group::Query,
    ];

    /// The name used on the command line, in case ids and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Projects => "projects",
            Group::Logstores => "logstores",
            Group::Shards => "shards",
            Group::SplitMerge => "split_merge",
            Group::Cursors => "cursors",
            Group::Pull => "pull",
            Group::Put => "put",
            Group::ConsumerGroups => "consumer_groups",
            Group::Checkpoints => "checkpoints",
            Group::Signatures => "signatures",
            Group::Errors => "errors",
            Group::Auth => "auth",
            Group::Query => "query",
        }
    }
}

impl Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Group {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_").to_ascii_lowercase();
        Group::ALL
            .into_iter()
            .find(|g| g.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Group::ALL.iter().map(|g| g.as_str()).collect();
                format!("unknown group {s:?}; groups are {}", names.join(", "))
            })
    }
}

/// One registered case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// `<group>.<name>`, e.g. `put.lz4-raw-block`.
    pub id: &'static str,
    /// Its API group.
    pub group: Group,
    /// The behaviour it checks, in one sentence.
    pub checks: &'static str,
    /// Where that behaviour is documented: a section of SLS-API.md (or another shared
    /// document), or a capture path under shared/clients/captures.
    pub source: &'static str,
    /// The body.
    pub run: CaseFn,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A check did not hold (or no answer came).
    Fail {
        /// What SLS does.
        expected: String,
        /// What the endpoint did.
        observed: String,
    },
    /// The case did not run; the reason says why.
    Skip {
        /// Why.
        reason: String,
    },
}

/// Why a case body stopped early.
#[derive(Debug)]
pub enum Stop {
    /// A check failed.
    Fail {
        /// What SLS does.
        expected: String,
        /// What the endpoint did.
        observed: String,
    },
    /// The case cannot run here (e.g. needs something this target lacks).
    Skip(String),
    /// No answer (transport problem) or a request that could not be formed.
    Error(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Error(e)
    }
}

/// One recorded check, for the report's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was looked at.
    pub what: String,
    /// What SLS does.
    pub expected: String,
    /// What the endpoint did.
    pub observed: String,
    /// Whether they agree.
    pub passed: bool,
    /// A supporting check (content type, error shape, request id) rather than the point of the
    /// step; reports show the last non-detail check of a passed case.
    pub detail: bool,
}

/// The logstores the runner creates for every run, by shard count (ttl 1 day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fixtures {
    /// A logstore with 1 shard: data-plane cases write and read it (deterministic shard).
    pub one_shard: String,
    /// A logstore with 2 shards.
    pub two_shards: String,
    /// A logstore with 4 shards.
    pub four_shards: String,
    /// A logstore with 5 shards (uneven key split).
    pub five_shards: String,
}

impl Fixtures {
    /// Fixture names for a run id.
    pub fn for_run(run_id: &str) -> Fixtures {
        Fixtures {
            one_shard: format!("conf-{run_id}-s1"),
            two_shards: format!("conf-{run_id}-s2"),
            four_shards: format!("conf-{run_id}-s4"),
            five_shards: format!("conf-{run_id}-s5"),
        }
    }

    /// `(name, shard count)` of every fixture.
    pub fn all(&self) -> [(&str, u32); 4] {
        [
            (&self.one_shard, 1),
            (&self.two_shards, 2),
            (&self.four_shards, 4),
            (&self.five_shards, 5),
        ]
    }
}

/// Something a case created that must go even if the case fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A project (deleted with everything in it).
    Project(String),
    /// A logstore of a project.
    Logstore {
        /// Its project.
        project: String,
        /// Its name.
        name: String,
    },
}

/// Everything a case body can use.
#[derive(Debug)]
pub struct CaseCtx {
    client: Client,
    project: String,
    fixtures: Fixtures,
    run_id: String,
    case_id: &'static str,
    settle: Duration,
    counter: u32,
    checks: Vec<Check>,
    cleanup: Vec<Resource>,
}

impl CaseCtx {
    /// A context for one case of a run.
    pub fn new(
        client: Client,
        project: String,
        fixtures: Fixtures,
        run_id: String,
        case_id: &'static str,
        settle: Duration,
    ) -> CaseCtx {
        CaseCtx {
            client,
            project,
            fixtures,
            run_id,
            case_id,
            settle,
            counter: 0,
            checks: Vec::new(),
            cleanup: Vec::new(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The run's project.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The run's fixture logstores.
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    /// The running case's id.
    pub fn case_id(&self) -> &'static str {
        self.case_id
    }

    /// How long to keep polling for eventually consistent effects (0 against the emulator).
    pub fn settle(&self) -> Duration {
        self.settle
    }

    /// The checks recorded so far.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Takes the recorded checks and the resources to clean up.
    pub fn finish(self) -> (Vec<Check>, Vec<Resource>) {
        (self.checks, self.cleanup)
    }

    /// A request addressed to the run's project.
    pub fn request(&self, method: Method, path: impl Into<String>) -> Request {
        Request::new(method, path).project(self.project.clone())
    }

    /// A fresh name unique to this run: `conf-<run id>-<kind><n>` (valid as a project and as a
    /// logstore name).
    pub fn temp_name(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("conf-{}-{kind}{}", self.run_id, self.counter)
    }

    /// Registers a resource for deletion after the case, whatever its outcome.
    pub fn track(&mut self, resource: Resource) {
        if !self.cleanup.contains(&resource) {
            self.cleanup.push(resource);
        }
    }

    /// Sends a request.
    ///
    /// # Errors
    /// [`Stop::Error`] when no answer came.
    pub async fn send(&mut self, req: Request) -> Result<Response, Stop> {
        Ok(self.client.send(&req).await?)
    }

    /// Records a check; stops the case with [`Stop::Fail`] when `passed` is false.
    pub fn check(
        &mut self,
        what: impl Into<String>,
        expected: impl Display,
        observed: impl Display,
        passed: bool,
    ) -> CaseResult {
        self.record(what.into(), expected, observed, passed, false)
    }

    /// Records a supporting check (see [`Check::detail`]).
    fn check_detail(
        &mut self,
        what: impl Into<String>,
        expected: impl Display,
        observed: impl Display,
        passed: bool,
    ) -> CaseResult {
        self.record(what.into(), expected, observed, passed, true)
    }

    fn record(
        &mut self,
        what: String,
        expected: impl Display,
        observed: impl Display,
        passed: bool,
        detail: bool,
    ) -> CaseResult {
        let check = Check {
            what,
            expected: expected.to_string(),
            observed: observed.to_string(),
            passed,
            detail,
        };
        let stop = (!passed).then(|| Stop::Fail {
            expected: format!("{}: {}", check.what, check.expected),
            observed: check.observed.clone(),
        });
        self.checks.push(check);
        stop.map_or(Ok(()), Err)
    }

    /// Records a failed check and returns the [`Stop`] that ends the case.
    pub fn fail(
        &mut self,
        what: impl Into<String>,
        expected: impl Display,
        observed: impl Display,
    ) -> Stop {
        match self.record(what.into(), expected, observed, false, false) {
            Err(stop) => stop,
            Ok(()) => unreachable!("record stops on every failed check"),
        }
    }

    /// Records that `observed == expected` (both shown with `{:?}`).
    pub fn check_eq<T: PartialEq + Debug>(
        &mut self,
        what: impl Into<String>,
        expected: T,
        observed: T,
    ) -> CaseResult {
        let passed = expected == observed;
        self.check(
            what,
            format!("{expected:?}"),
            format!("{observed:?}"),
            passed,
        )
    }

    /// Checks the status is exactly `status` (SLS answers success with exactly 200).
    pub fn check_status(
        &mut self,
        what: impl Into<String>,
        resp: &Response,
        status: u16,
    ) -> CaseResult {
        self.check(
            what,
            format!("status {status}"),
            resp.summary(),
            resp.status == status,
        )
    }

    /// Checks a success: exactly 200.
    pub fn check_ok(&mut self, what: impl Into<String>, resp: &Response) -> CaseResult {
        self.check_status(what, resp, 200)
    }

    /// Checks an SLS error answer (SLS-API.md §10.1): one of `statuses`, one of `codes`,
    /// `Content-Type: application/json`, a non-empty string `errorMessage`, and
    /// `x-log-requestid`.
    pub fn check_error(
        &mut self,
        what: impl Into<String>,
        resp: &Response,
        statuses: &[u16],
        codes: &[&str],
    ) -> CaseResult {
        let what = what.into();
        let code = resp.error_code();
        let wanted = format!(
            "status {} with errorCode {}",
            join_or(statuses.iter().map(u16::to_string)),
            join_or(codes.iter().map(|c| (*c).to_owned()))
        );
        let code_ok = code.as_deref().is_some_and(|c| codes.contains(&c));
        self.check(
            what.clone(),
            wanted,
            resp.summary(),
            statuses.contains(&resp.status) && code_ok,
        )?;
        let content_type = resp.header(h::CONTENT_TYPE).unwrap_or("none").to_owned();
        self.check_detail(
            format!("{what}: error Content-Type (§10.1)"),
            "application/json",
            &content_type,
            content_type.starts_with(h::CONTENT_TYPE_JSON),
        )?;
        let message = resp.error_message().unwrap_or_default();
        self.check_detail(
            format!("{what}: errorMessage (§10.1)"),
            "a non-empty string",
            format!("{message:?}"),
            !message.is_empty(),
        )?;
        let (expected, observed, ok) = request_id_check(resp);
        self.check_detail(
            format!("{what}: x-log-requestid (§2.5)"),
            expected,
            observed,
            ok,
        )
    }

    /// Checks `x-log-requestid` is present and 24 upper-case hex characters (SLS-API.md §2.5).
    pub fn check_request_id(&mut self, what: impl Into<String>, resp: &Response) -> CaseResult {
        let (expected, observed, ok) = request_id_check(resp);
        self.check(what, expected, observed, ok)
    }

    /// Checks an empty success (SLS-API.md §2.6): exactly 200, empty body, and no
    /// `Content-Type: application/json`.
    pub fn check_empty_ok(&mut self, what: impl Into<String>, resp: &Response) -> CaseResult {
        let what = what.into();
        self.check_ok(what.clone(), resp)?;
        self.check_detail(
            format!("{what}: body"),
            "empty",
            format!("{} bytes", resp.body.len()),
            resp.body.is_empty(),
        )?;
        let content_type = resp.header(h::CONTENT_TYPE);
        self.check_detail(
            format!("{what}: Content-Type of the empty 200"),
            "anything but application/json",
            format!("{content_type:?}"),
            !content_type.is_some_and(|t| t.starts_with(h::CONTENT_TYPE_JSON)),
        )
    }

    /// Checks a 200 JSON answer and returns the parsed body.
    pub fn require_json(
        &mut self,
        what: impl Into<String>,
        resp: &Response,
    ) -> Result<Value, Stop> {
        let what = what.into();
        self.check_ok(what.clone(), resp)?;
        let content_type = resp.header(h::CONTENT_TYPE).unwrap_or("none").to_owned();
        self.check_detail(
            format!("{what}: Content-Type"),
            "application/json",
            &content_type,
            content_type.starts_with(h::CONTENT_TYPE_JSON),
        )?;
        match resp.json() {
            Some(v) => Ok(v),
            None => Err(self.fail(
                format!("{what}: body"),
                "JSON",
                String::from_utf8_lossy(&resp.body),
            )),
        }
    }

    /// Checks a 200 JSON answer whose body is an array and returns its elements.
    pub fn require_json_array(
        &mut self,
        what: impl Into<String>,
        resp: &Response,
    ) -> Result<Vec<Value>, Stop> {
        let what = what.into();
        match self.require_json(what.clone(), resp)? {
            Value::Array(elements) => Ok(elements),
            other => Err(self.fail(format!("{what}: body"), "a JSON array", other)),
        }
    }

    /// Checks header `name` is present and returns its value.
    pub fn require_header(
        &mut self,
        what: impl Into<String>,
        resp: &Response,
        name: &str,
    ) -> Result<String, Stop> {
        let value = resp.header(name).map(str::to_owned);
        self.check(
            what,
            format!("header {name} present"),
            format!("{value:?}"),
            value.is_some(),
        )?;
        Ok(value.unwrap_or_default())
    }
}

/// `(expected, observed, passed)` of the `x-log-requestid` rule: 24 upper-case hex characters.
fn request_id_check(resp: &Response) -> (&'static str, String, bool) {
    let id = resp.header(h::X_LOG_REQUESTID);
    let ok = id.is_some_and(|id| {
        id.len() == 24
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    });
    ("24 upper-case hex characters", format!("{id:?}"), ok)
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_round_trip() {
        for g in Group::ALL {
            assert_eq!(g.as_str().parse::<Group>().unwrap(), g);
        }
        assert_eq!("split-merge".parse::<Group>().unwrap(), Group::SplitMerge);
        assert!("nope".parse::<Group>().is_err());
    }

    fn ctx() -> CaseCtx {
        let target = crate::Target::new("localhost:1", "ak", "sk").unwrap();
        CaseCtx::new(
            Client::new(target).unwrap(),
            "p".to_owned(),
            Fixtures::for_run("r"),
            "r".to_owned(),
            "put.x",
            Duration::ZERO,
        )
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn checks_are_recorded_and_failures_stop() {
        let mut c = ctx();
        assert!(c.check_eq("a", 1, 1).is_ok());
        match c.check_eq("b", 1, 2) {
            Err(Stop::Fail { expected, observed }) => {
                assert_eq!(expected, "b: 1");
                assert_eq!(observed, "2");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.checks().len(), 2);
        assert!(matches!(c.fail("c", "x", "y"), Stop::Fail { .. }));
        assert!(!c.checks()[2].passed);
    }

    #[test]
    fn error_checks_cover_the_shape() {
        let mut c = ctx();
        let good = response(
            404,
            &[
                ("content-type", "application/json"),
                ("x-log-requestid", "5B0A6B60BB6EE39764D458B5"),
            ],
            r#"{"errorCode":"ProjectNotExist","errorMessage":"no"}"#,
        );
        assert!(c
            .check_error("e", &good, &[404], &["ProjectNotExist"])
            .is_ok());
        let lower_case_id = response(
            404,
            &[
                ("content-type", "application/json"),
                ("x-log-requestid", "5b0a6b60bb6ee39764d458b5"),
            ],
            r#"{"errorCode":"ProjectNotExist","errorMessage":"no"}"#,
        );
        assert!(c
            .check_error("e", &lower_case_id, &[404], &["ProjectNotExist"])
            .is_err());
        let json_empty_200 = response(200, &[("content-type", "application/json")], "");
        assert!(c.check_empty_ok("put", &json_empty_200).is_err());
    }

    #[test]
    fn join_or_reads_well() {
        assert_eq!(join_or(["a".to_owned()].into_iter()), "a");
        assert_eq!(
            join_or(["a", "b", "c"].iter().map(|s| (*s).to_owned())),
            "a, b or c"
        );
    }
}
