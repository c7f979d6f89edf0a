//! The checker's result and how it is shown: [`Report`] (serializable to JSON), a terminal
//! [`summary`] and a single self-contained [`html`] page (inline SVG, no external assets).
//!
//! Nothing here decides a verdict; that is [`crate::checker`]'s job.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::history::{CheckpointEvent, ConsumeEvent, FaultEvent, History, StoredLog, WriteOp};

/// Counts for one shard or for the whole run (see [`crate::checker`] for the definitions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Stored log entries (copies included).
    pub stored: u64,
    /// Consume events.
    pub consumed: u64,
    /// Acknowledged ids that no shard stores (overall only).
    pub lost_acknowledged: u64,
    /// Definitely failed ids that are stored anyway.
    pub stored_but_failed: u64,
    /// Ids with only indeterminate writes that are stored (informational).
    pub stored_unknown: u64,
    /// Extra stored copies of ids.
    pub duplicates_stored: u64,
    /// Stored ids never processed.
    pub never_consumed: u64,
    /// Processing events beyond the number of stored copies.
    pub consumed_more_than_once: u64,
    /// Logs processed before a log stored earlier in the same shard.
    pub order_violations: u64,
    /// (child, ancestor) pairs processed out of lineage order (ordered groups only).
    pub parent_before_child_violations: u64,
    /// Checkpoints lower than the previous one.
    pub checkpoint_regressions: u64,
}

impl Counts {
    /// Add every field of `o` to `self`.
    pub fn add(&mut self, o: &Counts) {
        self.stored += o.stored;
        self.consumed += o.consumed;
        self.lost_acknowledged += o.lost_acknowledged;
        self.stored_but_failed += o.stored_but_failed;
        self.stored_unknown += o.stored_unknown;
        self.duplicates_stored += o.duplicates_stored;
        self.never_consumed += o.never_consumed;
        self.consumed_more_than_once += o.consumed_more_than_once;
        self.order_violations += o.order_violations;
        self.parent_before_child_violations += o.parent_before_child_violations;
        self.checkpoint_regressions += o.checkpoint_regressions;
    }

    /// `(column title, value)` pairs, in table order.
    fn columns(&self) -> [(&'static str, u64); 11] {
        [
            ("stored", self.stored),
            ("consumed", self.consumed),
            ("lost_ack", self.lost_acknowledged),
            ("failed_stored", self.stored_but_failed),
            ("unknown_stored", self.stored_unknown),
            ("dup_stored", self.duplicates_stored),
            ("never_consumed", self.never_consumed),
            ("consumed_twice", self.consumed_more_than_once),
            ("order", self.order_violations),
            ("parent_child", self.parent_before_child_violations),
            ("cp_regressions", self.checkpoint_regressions),
        ]
    }
}

/// The smallest sub-history proving that a guarantee broke: the events involved and the faults
/// injected in their time range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Which check found it (`lost_acknowledged`, `order_violation`, …).
    pub kind: String,
    /// One sentence for a person.
    pub explanation: String,
    /// The write operations involved.
    pub writes: Vec<WriteOp>,
    /// The stored logs involved (for a lost write: none, which is the point).
    pub stored: Vec<StoredLog>,
    /// The processing events involved.
    pub consumed: Vec<ConsumeEvent>,
    /// The checkpoints involved.
    pub checkpoints: Vec<CheckpointEvent>,
    /// Faults injected in the evidence's time range.
    pub faults: Vec<FaultEvent>,
}

/// Whether one guarantee holds, how many violations break it, and the evidence of the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// True iff `violations == 0`.
    pub holds: bool,
    /// The sum of the counts this guarantee depends on.
    pub violations: u64,
    /// Those counts, as `name=value` pairs.
    pub detail: String,
    /// The earliest violation, when it does not hold.
    pub evidence: Option<Evidence>,
}

impl Verdict {
    /// A verdict from a violation count; `evidence` is dropped when `violations == 0`.
    pub fn new(violations: u64, detail: String, evidence: Option<Evidence>) -> Self {
        Self {
            holds: violations == 0,
            violations,
            detail,
            evidence: if violations == 0 { None } else { evidence },
        }
    }
}

/// Counts for one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardReport {
    /// The shard id.
    pub shard: u32,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// One of the guarantees the checker judges; its name is the one reports and README use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantee {
    /// No acknowledged write lost, every stored log processed.
    AtLeastOnce,
    /// A write reported as definitely failed is not stored.
    FailedNotStored,
    /// At-least-once with no stored duplicate and nothing processed twice.
    ExactlyOnce,
    /// Per-shard order (parent before child in ordered groups).
    Order,
    /// Checkpoints never regress.
    Checkpoints,
}

impl Guarantee {
    /// Every guarantee, in display order.
    pub const ALL: [Guarantee; 5] = [
        Guarantee::AtLeastOnce,
        Guarantee::FailedNotStored,
        Guarantee::ExactlyOnce,
        Guarantee::Order,
        Guarantee::Checkpoints,
    ];

    /// The name reports print (and the JSON carries).
    pub fn as_str(self) -> &'static str {
        match self {
            Guarantee::AtLeastOnce => "at-least-once",
            Guarantee::FailedNotStored => "failed-not-stored",
            Guarantee::ExactlyOnce => "exactly-once",
            Guarantee::Order => "order",
            Guarantee::Checkpoints => "checkpoints",
        }
    }
}

impl std::fmt::Display for Guarantee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, not `write_str`: the summary aligns names with `{:<17}`.
        f.pad(self.as_str())
    }
}

/// What a library claims about one guarantee in a scenario, or the known bug expected to break
/// it, and whether the run agreed. The checker leaves these empty; the scenario runner fills them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The guarantee.
    pub verdict: Guarantee,
    /// The client library judged.
    pub library: String,
    /// `None`: the library claims the guarantee, so it must hold. `Some(bug)`: a known bug is
    /// expected to break it (a reproduction).
    pub known_bug: Option<String>,
    /// Whether the guarantee held in this run.
    pub held: bool,
}

impl Claim {
    /// The run agrees with the expectation: a claim held, or a known bug reproduced.
    pub fn met(&self) -> bool {
        self.held == self.known_bug.is_none()
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        match (&self.known_bug, self.held) {
            (None, true) => format!("{}: claims {} — holds", self.library, self.verdict),
            (None, false) => format!("{}: claims {} — BROKEN", self.library, self.verdict),
            (Some(bug), false) => format!(
                "{}: known bug reproduced, {} broken — {bug}",
                self.library, self.verdict
            ),
            (Some(bug), true) => format!(
                "{}: known bug did NOT reproduce, {} holds — {bug}",
                self.library, self.verdict
            ),
        }
    }
}

/// The result of checking one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The scenario name.
    pub scenario: String,
    /// The seed that replays the run (`CHAOS_SEED`).
    pub seed: u64,
    /// Whether the group was ordered.
    pub ordered: bool,
    /// Whether consume-side checks ran.
    pub consumes: bool,
    /// Number of write operations.
    pub writes: u64,
    /// Number of distinct ids written.
    pub ids_written: u64,
    /// AL1: no acknowledged write lost, every stored log processed.
    pub at_least_once: Verdict,
    /// A write the client reported as definitely failed is not stored.
    pub failed_not_stored: Verdict,
    /// EO: at-least-once, no stored duplicate, nothing processed twice.
    pub exactly_once: Verdict,
    /// ORD: per-shard order and, for ordered groups, parent before child.
    pub order: Verdict,
    /// Checkpoints never regress (informational: Python, Go and Flink may regress, D3).
    pub checkpoints: Verdict,
    /// Totals over the run.
    pub overall: Counts,
    /// Per shard, by shard id.
    pub shards: Vec<ShardReport>,
    /// What the libraries under test claim here, and whether the run agreed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

impl Report {
    /// The report as pretty-printed JSON.
    ///
    /// # Errors
    /// Only if serde_json fails to serialize, which these plain types never cause.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The verdict on one guarantee.
    pub fn verdict(&self, g: Guarantee) -> &Verdict {
        match g {
            Guarantee::AtLeastOnce => &self.at_least_once,
            Guarantee::FailedNotStored => &self.failed_not_stored,
            Guarantee::ExactlyOnce => &self.exactly_once,
            Guarantee::Order => &self.order,
            Guarantee::Checkpoints => &self.checkpoints,
        }
    }

    /// The verdicts with their guarantees, in display order.
    pub fn verdicts(&self) -> [(Guarantee, &Verdict); 5] {
        Guarantee::ALL.map(|g| (g, self.verdict(g)))
    }
}

fn mark(v: &Verdict) -> &'static str {
    if v.holds {
        "✔"
    } else {
        "✘"
    }
}

/// Evidence as indented text lines.
fn evidence_lines(e: &Evidence) -> Vec<String> {
    let mut out = vec![format!("{}: {}", e.kind, e.explanation)];
    for w in &e.writes {
        out.push(format!(
            "  write   {} ids={:?} [{}..{}] ms {:?}{}",
            w.writer,
            w.ids,
            w.invoke_ms,
            w.complete_ms,
            w.outcome,
            w.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
    }
    for s in &e.stored {
        out.push(format!(
            "  stored  {:?} shard={} seq={} pos={}",
            s.id, s.shard, s.seq, s.position
        ));
    }
    for c in &e.consumed {
        out.push(format!(
            "  consume {:?} shard={} cursor={} by {} at {} ms",
            c.id, c.shard, c.cursor, c.consumer, c.time_ms
        ));
    }
    for c in &e.checkpoints {
        out.push(format!(
            "  checkpoint shard={} cursor={} by {} at {} ms",
            c.shard, c.cursor, c.consumer, c.time_ms
        ));
    }
    for f in &e.faults {
        out.push(format!("  fault   at {} ms: {}", f.time_ms, f.description));
    }
    out
}

/// The per-shard rows of the counts table, then the total.
fn rows(r: &Report) -> impl Iterator<Item = (String, &Counts)> {
    r.shards
        .iter()
        .map(|sh| (sh.shard.to_string(), &sh.counts))
        .chain(std::iter::once(("all".to_string(), &r.overall)))
}

/// A broken verdict's evidence, or the earlier verdict that showed the same evidence.
enum Shown<'r> {
    New(&'r Evidence),
    Same(&'static str),
}

/// Evidence of every broken verdict, in display order, each piece shown once.
fn evidences(r: &Report) -> Vec<(&'static str, Shown<'_>)> {
    let mut out: Vec<(&'static str, Shown<'_>)> = Vec::new();
    for (name, v) in r.verdicts() {
        let Some(e) = &v.evidence else { continue };
        let first = out.iter().find_map(|(n, s)| match s {
            Shown::New(seen) if *seen == e => Some(*n),
            _ => None,
        });
        out.push((name.as_str(), first.map_or(Shown::New(e), Shown::Same)));
    }
    out
}

/// A terminal summary: one line per guarantee with ✔/✘, the per-shard table, the evidence of
/// each broken guarantee, and how to replay the seed.
pub fn summary(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "chaos {} seed={} ordered={} writes={} ids={}",
        r.scenario, r.seed, r.ordered, r.writes, r.ids_written
    );
    for (name, v) in r.verdicts() {
        let _ = writeln!(s, "{} {name:<17} {}", mark(v), v.detail);
    }
    for c in &r.claims {
        let _ = writeln!(s, "{} {}", if c.met() { "✔" } else { "✘" }, c.describe());
    }
    let cols = r.overall.columns();
    let _ = write!(s, "{:>6}", "shard");
    for (title, _) in &cols {
        let _ = write!(s, " {title:>w$}", w = title.len().max(5));
    }
    s.push('\n');
    for (name, c) in rows(r) {
        let _ = write!(s, "{name:>6}");
        for (title, v) in c.columns() {
            let _ = write!(s, " {v:>w$}", w = title.len().max(5));
        }
        s.push('\n');
    }
    for (name, e) in evidences(r) {
        match e {
            Shown::Same(first) => {
                let _ = writeln!(s, "evidence ({name}): same as {first}");
            }
            Shown::New(e) => {
                let _ = writeln!(s, "evidence ({name}):");
                for line in evidence_lines(e) {
                    let _ = writeln!(s, "  {line}");
                }
            }
        }
    }
    let _ = writeln!(s, "replay: CHAOS_SEED={}", r.seed);
    s
}

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const SVG_W: f64 = 900.0;
const MARGIN: f64 = 40.0;

/// Maps times onto the x axis of every plot of one page.
struct TimeAxis {
    t0: i64,
    t1: i64,
}

impl TimeAxis {
    fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        MARGIN + (t - self.t0) as f64 / span * (SVG_W - 2.0 * MARGIN)
    }

    /// Tick labels (ms since the start) along the bottom of an SVG of height `h`.
    fn ticks(&self, h: f64) -> String {
        let mut s = String::new();
        for k in 0..=4 {
            let t = self.t0 + (self.t1 - self.t0) * k / 4;
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">+{} ms</text>"#,
                self.x(t),
                h - 4.0,
                t - self.t0
            );
        }
        s
    }
}

/// The fault timeline: one red mark per fault, with its description as label and tooltip.
fn timeline_svg(h: &History, axis: &TimeAxis) -> String {
    let rows = h.faults.len().clamp(1, 12);
    let height = 30.0 + rows as f64 * 14.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{height}" role="img" aria-label="fault timeline">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{MARGIN}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#888"/>"##,
        y = height - 16.0,
        x2 = SVG_W - MARGIN
    );
    for (i, f) in h.faults.iter().enumerate() {
        let x = axis.x(f.time_ms);
        let y = 12.0 + (i % rows) as f64 * 14.0;
        let label: String = f.description.chars().take(60).collect();
        let _ = write!(
            s,
            r##"<g><title>{t} ms: {d}</title><line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{yb:.1}" stroke="#d33" stroke-opacity="0.5"/><circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#d33"/><text x="{xt:.1}" y="{yt:.1}" font-size="10">{l}</text></g>"##,
            t = f.time_ms,
            d = escape(&f.description),
            yb = height - 16.0,
            xt = x + 5.0,
            yt = y + 3.0,
            l = escape(&label)
        );
    }
    s.push_str(&axis.ticks(height));
    s.push_str("</svg>");
    s
}

/// A step polyline through cumulative counts at sorted `times`.
fn steps(times: &mut [i64], axis: &TimeAxis, y_of: impl Fn(usize) -> f64) -> String {
    times.sort_unstable();
    let mut pts = format!("{:.1},{:.1}", axis.x(axis.t0), y_of(0));
    // One vertical step per tenth of a pixel column, however many events share it: a run of
    // 100,000 logs stays a small page.
    let mut i = 0;
    while i < times.len() {
        let x = (axis.x(times[i]) * 10.0).round() / 10.0;
        let mut j = i + 1;
        while j < times.len() && (axis.x(times[j]) * 10.0).round() / 10.0 == x {
            j += 1;
        }
        let _ = write!(pts, " {x:.1},{:.1} {x:.1},{:.1}", y_of(i), y_of(j));
        i = j;
    }
    let _ = write!(pts, " {:.1},{:.1}", axis.x(axis.t1), y_of(times.len()));
    pts
}

/// One progress plot per shard: stored (blue) and first-consumed (green) counts over time.
fn shard_plots(h: &History, axis: &TimeAxis) -> String {
    let mut write_time: HashMap<&str, i64> = HashMap::new();
    for w in &h.writes {
        for id in &w.ids {
            let t = write_time.entry(id.as_str()).or_insert(w.complete_ms);
            *t = (*t).min(w.complete_ms);
        }
    }
    let mut stored: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for s in &h.stored {
        let t = s.time_ms.or_else(|| write_time.get(s.id.as_str()).copied());
        let v = stored.entry(s.shard).or_default();
        if let Some(t) = t {
            v.push(t);
        }
    }
    let mut consumed: BTreeMap<u32, HashMap<&str, i64>> = BTreeMap::new();
    for c in &h.consumed {
        let t = consumed
            .entry(c.shard)
            .or_default()
            .entry(c.id.as_str())
            .or_insert(c.time_ms);
        *t = (*t).min(c.time_ms);
    }
    let mut shard_ids: Vec<u32> = stored.keys().chain(consumed.keys()).copied().collect();
    shard_ids.sort_unstable();
    shard_ids.dedup();
    let height = 140.0;
    let mut out = String::new();
    for shard in shard_ids {
        let mut st = stored.get(&shard).cloned().unwrap_or_default();
        let mut co: Vec<i64> = consumed
            .get(&shard)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default();
        let max = st.len().max(co.len()).max(1) as f64;
        let y_of = |n: usize| height - 20.0 - n as f64 / max * (height - 40.0);
        let _ = write!(
            out,
            r#"<h3>shard {shard}</h3><svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{height}" role="img" aria-label="shard {shard} progress">"#
        );
        for f in &h.faults {
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="10" x2="{x:.1}" y2="{y:.1}" stroke="#d33" stroke-opacity="0.3"><title>{d}</title></line>"##,
                x = axis.x(f.time_ms),
                y = height - 20.0,
                d = escape(&f.description)
            );
        }
        let _ = write!(
            out,
            r##"<polyline fill="none" stroke="#36c" stroke-width="2" points="{}"/><polyline fill="none" stroke="#3a3" stroke-width="2" points="{}"/><text x="{MARGIN}" y="12" font-size="11" fill="#36c">stored {}</text><text x="{x2}" y="12" font-size="11" fill="#3a3">consumed (distinct) {}</text>"##,
            steps(&mut st, axis, y_of),
            steps(&mut co, axis, y_of),
            st.len(),
            co.len(),
            x2 = MARGIN + 120.0
        );
        out.push_str(&axis.ticks(height));
        out.push_str("</svg>");
    }
    out
}

/// A single self-contained HTML page: verdicts, the fault timeline, per-shard progress plots,
/// the per-shard table and the evidence. Every piece of recorded text is escaped.
pub fn html(r: &Report, h: &History) -> String {
    let (t0, t1) = h.time_range().unwrap_or((0, 1));
    let axis = TimeAxis { t0, t1 };
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        s,
        "<title>chaos {} seed {}</title><style>body{{font-family:sans-serif;margin:1em 2em}}\
         .ok{{color:#282}}.bad{{color:#c22}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}\
         pre{{background:#f6f6f6;padding:6px}}</style></head><body>",
        escape(&r.scenario),
        r.seed
    );
    let _ = write!(
        s,
        "<h1>chaos {} — seed {}</h1><p>ordered={} · writes={} · ids={} · replay with \
         <code>CHAOS_SEED={}</code></p><ul>",
        escape(&r.scenario),
        r.seed,
        r.ordered,
        r.writes,
        r.ids_written,
        r.seed
    );
    for (name, v) in r.verdicts() {
        let (class, word) = if v.holds {
            ("ok", "holds")
        } else {
            ("bad", "BROKEN")
        };
        let _ = write!(
            s,
            "<li class=\"{class}\">{} <b>{name}</b> {word} — {}</li>",
            mark(v),
            escape(&v.detail)
        );
    }
    s.push_str("</ul>");
    if !r.claims.is_empty() {
        s.push_str("<h2>Claims and known bugs</h2><ul>");
        for c in &r.claims {
            let (class, m) = if c.met() {
                ("ok", "✔")
            } else {
                ("bad", "✘")
            };
            let _ = write!(
                s,
                "<li class=\"{class}\">{m} {}</li>",
                escape(&c.describe())
            );
        }
        s.push_str("</ul>");
    }
    s.push_str("<h2>Faults</h2>");
    s.push_str(&timeline_svg(h, &axis));
    s.push_str("<h2>Per-shard progress</h2>");
    s.push_str(&shard_plots(h, &axis));
    s.push_str("<h2>Counts</h2><table><tr><th>shard</th>");
    for (title, _) in r.overall.columns() {
        let _ = write!(s, "<th>{title}</th>");
    }
    s.push_str("</tr>");
    for (name, c) in rows(r) {
        let _ = write!(s, "<tr><th>{name}</th>");
        for (_, v) in c.columns() {
            let _ = write!(s, "<td>{v}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</table><h2>Evidence</h2>");
    let shown = evidences(r);
    for (name, e) in &shown {
        match e {
            Shown::Same(first) => {
                let _ = write!(s, "<h3>{name}</h3><p>Same as {first}.</p>");
            }
            Shown::New(e) => {
                let _ = write!(
                    s,
                    "<h3>{name}</h3><pre>{}</pre>",
                    escape(&evidence_lines(e).join("\n"))
                );
            }
        }
    }
    if shown.is_empty() {
        s.push_str("<p>Every guarantee holds.</p>");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::check;
    use crate::history::{Outcome, ShardNode};

    fn hostile() -> History {
        let mut h = History::new("<b>x</b>", 9);
        h.shards = vec![ShardNode {
            id: 0,
            parents: vec![],
        }];
        h.writes = vec![WriteOp {
            writer: "w\"'&".into(),
            ids: vec!["<script>alert(1)</script>".into(), "ok".into()],
            invoke_ms: 1000,
            complete_ms: 1010,
            outcome: Outcome::Ok,
            error: None,
        }];
        h.stored = vec![StoredLog {
            id: "ok".into(),
            shard: 0,
            seq: 1,
            position: 0,
            time_ms: Some(1005),
        }];
        h.consumed = vec![ConsumeEvent {
            consumer: "c".into(),
            shard: 0,
            id: "ok".into(),
            cursor: 1,
            time_ms: 1100,
        }];
        h.faults = vec![FaultEvent {
            time_ms: 1003,
            description: "<img src=x onerror=alert(1)>".into(),
        }];
        h
    }

    #[test]
    fn report_serializes_to_json_and_back() {
        let r = check(&hostile());
        let json = r.to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["at_least_once"]["holds"], false);
        assert_eq!(v["shards"][0]["shard"], 0);
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn summary_shows_verdicts_evidence_and_seed() {
        let s = summary(&check(&hostile()));
        assert!(s.contains("✘ at-least-once"), "{s}");
        assert!(s.contains("✔ order"), "{s}");
        assert!(s.contains("lost_acknowledged"), "{s}");
        assert!(s.contains("CHAOS_SEED=9"), "{s}");
        assert!(
            s.contains("evidence (exactly-once): same as at-least-once"),
            "{s}"
        );
    }

    #[test]
    fn html_contains_verdicts_and_escapes_recorded_text() {
        let h = hostile();
        let page = html(&check(&h), &h);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("at-least-once</b> BROKEN"));
        assert!(page.contains("order</b> holds"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>x"));
        assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(page.contains("<polyline"));
    }

    #[test]
    fn html_of_an_empty_history_renders() {
        let h = History::new("empty", 0);
        let page = html(&check(&h), &h);
        assert!(page.contains("Every guarantee holds."));
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn guarantees_serialize_as_the_names_reports_print() {
        for g in Guarantee::ALL {
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
            assert_eq!(serde_json::from_str::<Guarantee>(&json).unwrap(), g);
        }
    }

    #[test]
    fn a_claim_is_met_when_it_holds_or_when_its_known_bug_reproduces() {
        let claim = |known_bug: Option<&str>, held| Claim {
            verdict: Guarantee::AtLeastOnce,
            library: "lib".into(),
            known_bug: known_bug.map(str::to_string),
            held,
        };
        assert!(claim(None, true).met());
        assert!(!claim(None, false).met());
        assert!(claim(Some("L2"), false).met());
        let fixed = claim(Some("L2"), true);
        assert!(
            !fixed.met(),
            "a known bug that no longer reproduces fails the run"
        );
        assert!(fixed.describe().contains("did NOT reproduce"));
    }
}
