//! The scenario registry and the typed outcome of a run.
//!
//! A scenario is one [`Scenario`] entry in the `SCENARIOS` list of the file that holds its code
//! (`ours.rs`, `official.rs`, `java_go.rs`, `flink.rs`); [`all`] chains those lists in the
//! order the ci profile runs them. The README's chaos table must name exactly these scenarios:
//! [`readme_mismatches`] checks it on every start, so the two cannot drift apart.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use sls_e2e::report::Claim;

use crate::support::{Params, Rec, Res, Run};

/// Runs one scenario: records its history in the `Rec` and returns it with what it expects.
pub type Runner = fn(Rec, Params) -> Pin<Box<dyn Future<Output = Res<Run>>>>;

/// A registered scenario.
pub struct Scenario {
    /// Its name (`--scenario`, filters, reports).
    pub name: &'static str,
    /// What it does, for `--list`.
    pub about: &'static str,
    /// Logs it writes in the ci profile (the long profile writes 100,000).
    pub ci_logs: usize,
    /// The function that runs it.
    pub run: Runner,
}

/// `scenario!(name, about, ci_logs, path::to::fn)` or `…, |rec, p| expression)`.
macro_rules! scenario {
    ($name:literal, $about:literal, $logs:expr, |$r:ident, $p:ident| $body:expr) => {
        $crate::registry::Scenario {
            name: $name,
            about: $about,
            ci_logs: $logs,
            run: |$r, $p| Box::pin($body),
        }
    };
    ($name:literal, $about:literal, $logs:expr, $f:path) => {
        scenario!($name, $about, $logs, |r, p| $f(r, p))
    };
}
pub(crate) use scenario;

/// Every scenario, in the order the ci profile runs them.
pub fn all() -> impl Iterator<Item = &'static Scenario> {
    [
        crate::ours::SCENARIOS,
        crate::official::SCENARIOS,
        crate::java_go::SCENARIOS,
        crate::flink::SCENARIOS,
    ]
    .into_iter()
    .flatten()
}

/// How one run of a scenario ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every claim held and no known bug was expected.
    Passed,
    /// Every claim held and every expected known bug reproduced (the claims name the bugs).
    KnownBugReproduced,
    /// The run did not show what the scenario expects.
    Failed {
        /// Why, never empty.
        reasons: Vec<Failure>,
    },
}

impl Outcome {
    /// The outcome of a run that was exercised and checked, from its claims.
    pub fn from_claims(claims: &[Claim]) -> Outcome {
        let unmet: Vec<Failure> = claims
            .iter()
            .filter(|c| !c.met())
            .cloned()
            .map(Failure::Unmet)
            .collect();
        if !unmet.is_empty() {
            return Outcome::Failed { reasons: unmet };
        }
        if claims.iter().any(|c| c.known_bug.is_some()) {
            Outcome::KnownBugReproduced
        } else {
            Outcome::Passed
        }
    }

    /// A failed outcome with one reason.
    pub fn failed(reason: Failure) -> Outcome {
        Outcome::Failed {
            reasons: vec![reason],
        }
    }

    /// The run met the scenario's expectations (it passed, or its known bugs reproduced).
    pub fn passed(&self) -> bool {
        !matches!(self, Outcome::Failed { .. })
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum Failure {
    /// The scenario stopped with an error before it could be checked (a harness missing, the
    /// emulator unreachable, a step timing out).
    CouldNotRun(String),
    /// It ran but proved nothing (see `exercised` in main.rs).
    NotExercised(String),
    /// A claimed guarantee broke, or a known bug did not reproduce.
    Unmet(Claim),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::CouldNotRun(e) => write!(f, "could not run: {e}"),
            Failure::NotExercised(e) => write!(f, "did not exercise what it claims to test: {e}"),
            Failure::Unmet(c) => f.write_str(&c.describe()),
        }
    }
}

/// The README this binary's scenarios are documented in.
const README: &str = include_str!("../../README.md");

/// Where the README's chaos table and scenario count disagree with the registry (also
/// duplicate names), one line each; empty when they agree.
pub fn readme_mismatches() -> Vec<String> {
    let mut out = Vec::new();
    let mut registered = BTreeSet::new();
    for s in all() {
        if !registered.insert(s.name) {
            out.push(format!("scenario {} is registered twice", s.name));
        }
    }
    let documented = readme_table_names(README);
    for name in registered.difference(&documented) {
        out.push(format!(
            "scenario {name} has no row in the README's chaos table"
        ));
    }
    for name in documented.difference(&registered) {
        out.push(format!(
            "the README's chaos table names {name}, which is not registered"
        ));
    }
    let count = format!("ci profile: {} scenarios", registered.len());
    if !README.contains(&count) {
        out.push(format!(
            "the README's chaos command does not say \"{count}\""
        ));
    }
    out
}

/// The scenario names in the first column of the table under `## Chaos suite`.
fn readme_table_names(readme: &str) -> BTreeSet<&str> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Chaos suite"))
        .unwrap_or_default();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect()
}
