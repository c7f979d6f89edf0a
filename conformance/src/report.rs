//! The result of a run: per case pass/fail/skip with expected and observed values and the
//! checks behind them, serializable to JSON and rendered as Markdown or a terminal summary.
//!
//! Only presentation lives here; producing results is [`crate::runner`]'s job.

use std::fmt::Write as _;

use serde::Serialize;

use crate::case::{Check, Group, Outcome};
use crate::target::SignVersion;
use crate::Error;

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// Case id, e.g. `put.lz4-raw-block`.
    pub id: String,
    /// API group.
    pub group: Group,
    /// The behaviour checked.
    pub checks: String,
    /// Where the behaviour is documented.
    pub source: String,
    /// Pass, fail (expected/observed) or skip (reason).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Wall time of the case, cleanup included.
    pub duration_ms: u64,
    /// Every check the case made, in order (empty for skipped cases).
    pub evidence: Vec<Check>,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases registered.
    pub total: usize,
    /// Cases that ran and passed.
    pub passed: usize,
    /// Cases that ran and failed.
    pub failed: usize,
    /// Cases that did not run.
    pub skipped: usize,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `sls-conformance <version>`.
    pub tool: String,
    /// The endpoint tested.
    pub endpoint: String,
    /// Signature of ordinary requests.
    pub signature: SignVersion,
    /// V4 region.
    pub region: String,
    /// Project the cases ran in.
    pub project: String,
    /// Whether the run created (and deleted) that project.
    pub project_created: bool,
    /// Groups selected.
    pub groups: Vec<Group>,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// Why the run could not set up (then no case ran).
    pub setup_error: Option<String>,
    /// Things the run could not delete afterwards.
    pub cleanup_warnings: Vec<String>,
    /// Every registered case, in registry order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// Recomputes [`Report::summary`] from the cases.
    pub fn tally(&mut self) {
        let mut s = Summary {
            total: self.cases.len(),
            ..Summary::default()
        };
        for c in &self.cases {
            match c.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail { .. } => s.failed += 1,
                Outcome::Skip { .. } => s.skipped += 1,
            }
        }
        self.summary = s;
    }

    /// True when a case failed or the run could not set up: the CLI then exits non-zero.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0 || self.setup_error.is_some()
    }

    /// The failed cases.
    pub fn failures(&self) -> impl Iterator<Item = &CaseReport> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail { .. }))
    }

    /// Pretty-printed JSON.
    ///
    /// # Errors
    /// [`Error::Json`] (does not happen for reports built by the runner).
    pub fn to_json(&self) -> Result<String, Error> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Writes [`Report::to_json`] to `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_json(&self, path: &std::path::Path) -> Result<(), Error> {
        write_file(path, &self.to_json()?)
    }

    /// Writes [`Report::to_markdown`] to `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_markdown(&self, path: &std::path::Path) -> Result<(), Error> {
        write_file(path, &self.to_markdown())
    }

    /// One line per case plus totals, for a terminal.
    pub fn to_terminal(&self) -> String {
        let mut out = String::new();
        for c in &self.cases {
            let _ = match &c.outcome {
                Outcome::Pass => writeln!(out, "PASS {}", c.id),
                Outcome::Fail { expected, observed } => writeln!(
                    out,
                    "FAIL {}\n     expected: {}\n     observed: {}",
                    c.id,
                    one_line(expected),
                    one_line(observed)
                ),
                Outcome::Skip { reason } => writeln!(out, "SKIP {} ({})", c.id, one_line(reason)),
            };
        }
        if let Some(e) = &self.setup_error {
            let _ = writeln!(out, "SETUP FAILED: {e}");
        }
        for w in &self.cleanup_warnings {
            let _ = writeln!(out, "cleanup warning: {w}");
        }
        let _ = writeln!(out, "{}", self.headline());
        out
    }

    /// `N passed, N failed, N skipped of N cases against <endpoint> (v1, 1.2 s)`.
    fn headline(&self) -> String {
        let s = &self.summary;
        format!(
            "{} passed, {} failed, {} skipped of {} cases against {} ({}, {:.1} s)",
            s.passed,
            s.failed,
            s.skipped,
            s.total,
            self.endpoint,
            self.signature.as_str(),
            self.duration_ms as f64 / 1000.0
        )
    }

    /// The Markdown report: summary, failures in detail, then a table of every case.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# SLS conformance report\n");
        let _ = writeln!(out, "**{}**\n", self.headline());
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| endpoint | `{}` |", self.endpoint);
        let _ = writeln!(
            out,
            "| signature | {} (region `{}`) |",
            self.signature.as_str(),
            self.region
        );
        let _ = writeln!(
            out,
            "| project | `{}` ({}) |",
            self.project,
            if self.project_created {
                "created and deleted by the run"
            } else {
                "existing"
            }
        );
        let groups: Vec<&str> = self.groups.iter().map(|g| g.as_str()).collect();
        let _ = writeln!(out, "| groups | {} |", groups.join(", "));
        let _ = writeln!(out, "| started | {} |", self.started_at);
        let _ = writeln!(out, "| tool | {} |\n", self.tool);
        if let Some(e) = &self.setup_error {
            let _ = writeln!(out, "## Setup failed\n\n{}\n", e);
        }
        if !self.cleanup_warnings.is_empty() {
            let _ = writeln!(out, "## Cleanup warnings\n");
            for w in &self.cleanup_warnings {
                let _ = writeln!(out, "- {w}");
            }
            let _ = writeln!(out);
        }
        let failures: Vec<&CaseReport> = self.failures().collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "## Failures\n");
            for c in failures {
                if let Outcome::Fail { expected, observed } = &c.outcome {
                    let _ = writeln!(out, "### `{}` ({})\n", c.id, c.group);
                    let _ = writeln!(out, "- checks: {}", c.checks);
                    let _ = writeln!(out, "- source: {}", c.source);
                    let _ = writeln!(out, "- expected: `{}`", code_span(expected));
                    let _ = writeln!(out, "- observed: `{}`\n", code_span(observed));
                }
            }
        }
        let _ = writeln!(out, "## Cases\n");
        let _ = writeln!(
            out,
            "| case | group | result | checks | source | expected | observed |\n|---|---|---|---|---|---|---|"
        );
        for c in &self.cases {
            let (result, expected, observed) = match &c.outcome {
                Outcome::Pass => {
                    let last = c
                        .evidence
                        .iter()
                        .rev()
                        .find(|k| !k.detail)
                        .or(c.evidence.last());
                    (
                        "pass",
                        last.map(|k| format!("{}: {}", k.what, k.expected))
                            .unwrap_or_default(),
                        last.map(|k| k.observed.clone()).unwrap_or_default(),
                    )
                }
                Outcome::Fail { expected, observed } => {
                    ("**FAIL**", expected.clone(), observed.clone())
                }
                Outcome::Skip { reason } => ("skip", String::new(), reason.clone()),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                c.id,
                c.group,
                result,
                cell(&c.checks),
                cell(&c.source),
                cell(&expected),
                cell(&observed)
            );
        }
        out
    }
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Longest text shown in a table cell.
const CELL_MAX: usize = 200;

/// Text made safe for a Markdown table cell, shortened.
fn cell(text: &str) -> String {
    let mut s: String = one_line(text).replace('|', "\\|");
    if s.chars().count() > CELL_MAX {
        s = s.chars().take(CELL_MAX).collect::<String>() + "…";
    }
    s
}

/// Text made safe for an inline code span.
fn code_span(text: &str) -> String {
    one_line(text).replace('`', "'")
}

/// Newlines as spaces.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut r = Report {
            tool: "sls-conformance test".to_owned(),
            endpoint: "http://localhost:1".to_owned(),
            signature: SignVersion::V1,
            region: "cn-hangzhou".to_owned(),
            project: "p".to_owned(),
            project_created: true,
            groups: vec![Group::Put],
            started_at: "2024-09-09T06:00:00Z".to_owned(),
            duration_ms: 1234,
            summary: Summary::default(),
            setup_error: None,
            cleanup_warnings: Vec::new(),
            cases: vec![
                CaseReport {
                    id: "put.a".to_owned(),
                    group: Group::Put,
                    checks: "a | b".to_owned(),
                    source: "§1".to_owned(),
                    outcome: Outcome::Pass,
                    duration_ms: 1,
                    evidence: Vec::new(),
                },
                CaseReport {
                    id: "put.b".to_owned(),
                    group: Group::Put,
                    checks: "b".to_owned(),
                    source: "§2".to_owned(),
                    outcome: Outcome::Fail {
                        expected: "status 200".to_owned(),
                        observed: "400\nx".to_owned(),
                    },
                    duration_ms: 1,
                    evidence: Vec::new(),
                },
                CaseReport {
                    id: "put.c".to_owned(),
                    group: Group::Put,
                    checks: "c".to_owned(),
                    source: "§3".to_owned(),
                    outcome: Outcome::Skip {
                        reason: "why".to_owned(),
                    },
                    duration_ms: 0,
                    evidence: Vec::new(),
                },
            ],
        };
        r.tally();
        r
    }

    #[test]
    fn tally_and_failure_flag() {
        let r = report();
        assert_eq!(
            r.summary,
            Summary {
                total: 3,
                passed: 1,
                failed: 1,
                skipped: 1
            }
        );
        assert!(r.has_failures());
    }

    #[test]
    fn json_has_flat_outcomes() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json().unwrap()).unwrap();
        assert_eq!(v["cases"][0]["result"], "pass");
        assert_eq!(v["cases"][1]["result"], "fail");
        assert_eq!(v["cases"][1]["expected"], "status 200");
        assert_eq!(v["cases"][2]["reason"], "why");
        assert_eq!(v["summary"]["failed"], 1);
    }

    #[test]
    fn markdown_escapes_cells_and_lists_failures() {
        let md = report().to_markdown();
        assert!(md.contains("a \\| b"));
        assert!(md.contains("### `put.b` (put)"));
        assert!(md.contains("observed: `400 x`"));
    }
}
