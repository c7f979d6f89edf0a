//! The checker: compares a recorded [`History`] with the emulator's committed log and decides
//! the guarantees of CONSUMERS-AND-PRODUCERS.md §6 (AL1 at-least-once, EO exactly-once, ORD
//! order), per run and per shard, with the shortest sub-history that proves each break.
//!
//! Pure and deterministic: no I/O, no clock. Rendering belongs in [`crate::report`].
//!
//! Definitions (all counts are of log ids or events, never of write operations):
//! * an id is *acknowledged* if any [`WriteOp`] carrying it is `Ok`; *failed* if every op
//!   carrying it is `Fail`; otherwise (some `Unknown`, none `Ok`) it is *unknown*;
//! * `lost_acknowledged`: acknowledged ids with no [`StoredLog`] (counted in the overall totals
//!   only, since a lost log has no shard);
//! * `stored_but_failed`: failed ids that are stored (the client reported a definite failure
//!   for a write that happened; verdict `failed-not-stored`);
//! * `stored_unknown`: unknown ids that are stored (informational: allowed);
//! * `duplicates_stored`: extra stored copies of an id (`copies - 1`), attributed to the shard of
//!   each extra copy;
//! * `never_consumed`: stored ids with no [`ConsumeEvent`];
//! * `consumed_more_than_once`: for each id, consume events beyond its number of stored copies
//!   (reading both copies of a stored duplicate counts under `duplicates_stored` only);
//! * `order_violations`: within a shard, logs that were first consumed strictly before a log
//!   stored earlier in that shard (first consumption ordered by `(time_ms, index)`);
//! * `parent_before_child_violations` (ordered groups only): pairs (child, ancestor) where the
//!   child's first consumption precedes the last first-consumption of a transitive ancestor;
//! * `checkpoint_regressions`: per shard, accepted checkpoints lower than the previous one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::history::{
    CheckpointEvent, ConsumeEvent, FaultEvent, History, Outcome, StoredLog, WriteOp,
};
use crate::report::{Counts, Evidence, Report, ShardReport, Verdict};

/// At most this many fault events are attached to one piece of evidence.
const MAX_EVIDENCE_FAULTS: usize = 10;

/// Check `h` and build the full report. Never fails: an inconsistent history (e.g. consume
/// events for ids that were never stored) simply shows up in the counts.
pub fn check(h: &History) -> Report {
    let ix = Index::new(h);
    let mut shards: BTreeMap<u32, Counts> = BTreeMap::new();
    for node in &h.shards {
        shards.entry(node.id).or_default();
    }
    for s in &h.stored {
        shards.entry(s.shard).or_default().stored += 1;
    }
    for c in &h.consumed {
        shards.entry(c.shard).or_default().consumed += 1;
    }
    let lost = lost_acknowledged(h, &ix);
    let failed = stored_with(h, &ix, IdClass::Failed, &mut shards, |c| {
        &mut c.stored_but_failed
    });
    stored_with(h, &ix, IdClass::Unknown, &mut shards, |c| {
        &mut c.stored_unknown
    });
    let dups = duplicates_stored(h, &ix, &mut shards);
    let (never, twice, order, pbc) = if h.consumes {
        (
            never_consumed(h, &ix, &mut shards),
            consumed_more_than_once(h, &ix, &mut shards),
            order_violations(h, &ix, &mut shards),
            parent_before_child(h, &ix, &mut shards),
        )
    } else {
        (None, None, None, None)
    };
    let regress = checkpoint_regressions(h, &mut shards);

    let mut overall = Counts::default();
    for c in shards.values() {
        overall.add(c);
    }
    overall.lost_acknowledged = lost.0;

    let al1_n = overall.lost_acknowledged + overall.never_consumed;
    let at_least_once = Verdict::new(
        al1_n,
        format!(
            "lost_acknowledged={} never_consumed={}",
            overall.lost_acknowledged, overall.never_consumed
        ),
        lost.1.or(never),
    );
    let failures = Verdict::new(
        overall.stored_but_failed,
        format!("stored_but_failed={}", overall.stored_but_failed),
        failed,
    );
    let eo_n = al1_n + overall.duplicates_stored + overall.consumed_more_than_once;
    let exactly_once = Verdict::new(
        eo_n,
        format!(
            "at_least_once={} duplicates_stored={} consumed_more_than_once={}",
            if at_least_once.holds {
                "holds"
            } else {
                "broken"
            },
            overall.duplicates_stored,
            overall.consumed_more_than_once
        ),
        at_least_once.evidence.clone().or(dups).or(twice),
    );
    let order_n = overall.order_violations + overall.parent_before_child_violations;
    let order_verdict = Verdict::new(
        order_n,
        format!(
            "order_violations={} parent_before_child_violations={}",
            overall.order_violations, overall.parent_before_child_violations
        ),
        order.or(pbc),
    );
    let checkpoints = Verdict::new(
        overall.checkpoint_regressions,
        format!("checkpoint_regressions={}", overall.checkpoint_regressions),
        regress,
    );
    Report {
        scenario: h.scenario.clone(),
        seed: h.seed,
        ordered: h.ordered,
        consumes: h.consumes,
        writes: h.writes.len() as u64,
        ids_written: ix.class.len() as u64,
        at_least_once,
        failed_not_stored: failures,
        exactly_once,
        order: order_verdict,
        checkpoints,
        overall,
        shards: shards
            .into_iter()
            .map(|(shard, counts)| ShardReport { shard, counts })
            .collect(),
        claims: Vec::new(),
    }
}

/// How the writes classify an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdClass {
    Acknowledged,
    Unknown,
    Failed,
}

/// Lookups shared by the checks.
struct Index<'h> {
    /// Class of every written id.
    class: HashMap<&'h str, IdClass>,
    /// Write ops carrying each id, in history order.
    writes_of: HashMap<&'h str, Vec<&'h WriteOp>>,
    /// Stored copies of each id, in `(shard, seq, position)` order.
    stored_of: HashMap<&'h str, Vec<&'h StoredLog>>,
    /// Consume events of each id with their index in `h.consumed`, in processing order.
    consumed_of: HashMap<&'h str, Vec<(usize, &'h ConsumeEvent)>>,
}

impl<'h> Index<'h> {
    fn new(h: &'h History) -> Self {
        let mut class: HashMap<&str, IdClass> = HashMap::new();
        let mut writes_of: HashMap<&str, Vec<&WriteOp>> = HashMap::new();
        for w in &h.writes {
            for id in &w.ids {
                writes_of.entry(id.as_str()).or_default().push(w);
                let new = match w.outcome {
                    Outcome::Ok => IdClass::Acknowledged,
                    Outcome::Unknown => IdClass::Unknown,
                    Outcome::Fail => IdClass::Failed,
                };
                let e = class.entry(id.as_str()).or_insert(new);
                *e = match (*e, new) {
                    (IdClass::Acknowledged, _) | (_, IdClass::Acknowledged) => {
                        IdClass::Acknowledged
                    }
                    (IdClass::Unknown, _) | (_, IdClass::Unknown) => IdClass::Unknown,
                    _ => IdClass::Failed,
                };
            }
        }
        let mut stored_of: HashMap<&str, Vec<&StoredLog>> = HashMap::new();
        for s in &h.stored {
            stored_of.entry(s.id.as_str()).or_default().push(s);
        }
        for v in stored_of.values_mut() {
            v.sort_by_key(|s| (s.shard, s.seq, s.position));
        }
        let mut consumed_of: HashMap<&str, Vec<(usize, &ConsumeEvent)>> = HashMap::new();
        for (i, c) in h.consumed.iter().enumerate() {
            consumed_of.entry(c.id.as_str()).or_default().push((i, c));
        }
        for v in consumed_of.values_mut() {
            v.sort_by_key(|(i, c)| (c.time_ms, *i));
        }
        Self {
            class,
            writes_of,
            stored_of,
            consumed_of,
        }
    }

    /// The write ops that carried `id`.
    fn writes(&self, id: &str) -> Vec<WriteOp> {
        self.writes_of
            .get(id)
            .map(|v| v.iter().map(|w| (*w).clone()).collect())
            .unwrap_or_default()
    }

    /// When `id` was first written (0 if never), without copying its write ops.
    fn first_invoke(&self, id: &str) -> i64 {
        self.writes_of
            .get(id)
            .and_then(|v| v.iter().map(|w| w.invoke_ms).min())
            .unwrap_or(0)
    }

    /// The stored copies of `id`.
    fn stored(&self, id: &str) -> Vec<StoredLog> {
        self.stored_of
            .get(id)
            .map(|v| v.iter().map(|s| (*s).clone()).collect())
            .unwrap_or_default()
    }

    /// The first consume event of `id` in `shard`, with its index.
    fn first_consume(&self, id: &str, shard: u32) -> Option<(usize, &'h ConsumeEvent)> {
        self.consumed_of
            .get(id)?
            .iter()
            .find(|(_, c)| c.shard == shard)
            .copied()
    }
}

/// Faults with `lo <= time_ms <= hi`, at most [`MAX_EVIDENCE_FAULTS`].
fn faults_between(h: &History, lo: i64, hi: i64) -> Vec<FaultEvent> {
    let mut f: Vec<FaultEvent> = h
        .faults
        .iter()
        .filter(|f| f.time_ms >= lo && f.time_ms <= hi)
        .cloned()
        .collect();
    f.sort_by_key(|f| f.time_ms);
    f.truncate(MAX_EVIDENCE_FAULTS);
    f
}

/// The time span of a set of write ops, or `(0, 0)` for none.
fn span_of_writes(ws: &[WriteOp]) -> (i64, i64) {
    let lo = ws.iter().map(|w| w.invoke_ms).min().unwrap_or(0);
    let hi = ws.iter().map(|w| w.complete_ms).max().unwrap_or(lo);
    (lo, hi)
}

/// Acknowledged ids that were never stored; evidence is the earliest-acknowledged one.
fn lost_acknowledged(h: &History, ix: &Index) -> (u64, Option<Evidence>) {
    let mut n = 0;
    let mut best: Option<(i64, &WriteOp, &str)> = None;
    let mut seen = BTreeSet::new();
    for w in h.writes.iter().filter(|w| w.outcome == Outcome::Ok) {
        for id in &w.ids {
            if ix.stored_of.contains_key(id.as_str()) || !seen.insert(id.as_str()) {
                continue;
            }
            n += 1;
            if best.is_none_or(|(t, _, _)| w.complete_ms < t) {
                best = Some((w.complete_ms, w, id));
            }
        }
    }
    let ev = best.map(|(_, w, id)| Evidence {
        kind: "lost_acknowledged".into(),
        explanation: format!(
            "write of {id:?} by {:?} was acknowledged at {} ms but no shard stores {id:?}",
            w.writer, w.complete_ms
        ),
        writes: vec![w.clone()],
        faults: faults_between(h, w.invoke_ms, w.complete_ms),
        ..Evidence::default()
    });
    (n, ev)
}

/// Count stored ids of `class` into the per-shard field chosen by `field` (one per id, at the
/// shard of its first copy); evidence is the earliest such write.
fn stored_with(
    h: &History,
    ix: &Index,
    class: IdClass,
    shards: &mut BTreeMap<u32, Counts>,
    field: impl Fn(&mut Counts) -> &mut u64,
) -> Option<Evidence> {
    let mut best: Option<(i64, &str)> = None;
    for (id, c) in &ix.class {
        if *c != class {
            continue;
        }
        let Some(first) = ix.stored_of.get(id).and_then(|v| v.first()) else {
            continue;
        };
        *field(shards.entry(first.shard).or_default()) += 1;
        if class != IdClass::Failed {
            continue; // counted only: unknown-but-stored is allowed, so it needs no evidence
        }
        let t = ix.first_invoke(id);
        if best.is_none_or(|(bt, bid)| (t, *id) < (bt, bid)) {
            best = Some((t, id));
        }
    }
    let (_, id) = best?;
    let explanation = format!("every write of {id:?} failed definitely, yet it is stored");
    Some(id_evidence(
        h,
        ix,
        id,
        "stored_but_failed",
        explanation,
        false,
    ))
}

/// Evidence about one id: its writes, its stored copies, and the faults from its first write
/// to its last one (or, with `to_end`, to the end of the run).
fn id_evidence(
    h: &History,
    ix: &Index,
    id: &str,
    kind: &str,
    explanation: String,
    to_end: bool,
) -> Evidence {
    let writes = ix.writes(id);
    let (lo, hi) = span_of_writes(&writes);
    let hi = if to_end {
        h.time_range().map_or(lo, |r| r.1)
    } else {
        hi
    };
    Evidence {
        kind: kind.into(),
        explanation,
        stored: ix.stored(id),
        faults: faults_between(h, lo, hi),
        writes,
        ..Evidence::default()
    }
}

/// Extra stored copies; evidence is the duplicated id written earliest.
fn duplicates_stored(
    h: &History,
    ix: &Index,
    shards: &mut BTreeMap<u32, Counts>,
) -> Option<Evidence> {
    let mut best: Option<(i64, &str)> = None;
    for (id, copies) in &ix.stored_of {
        if copies.len() < 2 {
            continue;
        }
        for extra in copies.iter().skip(1) {
            shards.entry(extra.shard).or_default().duplicates_stored += 1;
        }
        let t = ix.first_invoke(id);
        if best.is_none_or(|(bt, bid)| (t, *id) < (bt, bid)) {
            best = Some((t, id));
        }
    }
    let (_, id) = best?;
    let explanation = format!("{id:?} is stored {} times", ix.stored(id).len());
    Some(id_evidence(
        h,
        ix,
        id,
        "duplicate_stored",
        explanation,
        false,
    ))
}

/// Stored ids nobody consumed; evidence is the one written earliest.
fn never_consumed(h: &History, ix: &Index, shards: &mut BTreeMap<u32, Counts>) -> Option<Evidence> {
    let mut best: Option<(i64, &str)> = None;
    for (id, copies) in &ix.stored_of {
        if ix.consumed_of.contains_key(id) {
            continue;
        }
        let Some(first) = copies.first() else {
            continue;
        };
        shards.entry(first.shard).or_default().never_consumed += 1;
        let t = ix.first_invoke(id);
        if best.is_none_or(|(bt, bid)| (t, *id) < (bt, bid)) {
            best = Some((t, id));
        }
    }
    let (_, id) = best?;
    let mut e = id_evidence(
        h,
        ix,
        id,
        "never_consumed",
        format!("{id:?} is stored but no consumer ever processed it"),
        true,
    );
    if let Some(copy) = ix.stored_of.get(id).and_then(|v| v.first()) {
        skipped_over(h, ix, copy, &mut e);
    }
    Some(e)
}

/// Adds to the evidence of a never-processed log what shows it was skipped rather than not
/// reached: the nearest processed logs stored before and after it in its shard, and the first
/// checkpoint of that shard committed past it.
fn skipped_over(h: &History, ix: &Index, missing: &StoredLog, e: &mut Evidence) {
    let key = |s: &StoredLog| (s.seq, s.position);
    let processed = |s: &&StoredLog| ix.first_consume(&s.id, s.shard).is_some();
    let in_shard = || h.stored.iter().filter(|s| s.shard == missing.shard);
    let before = in_shard()
        .filter(|s| key(s) < key(missing))
        .filter(processed)
        .max_by_key(|s| key(s));
    let after = in_shard()
        .filter(|s| key(s) > key(missing))
        .filter(processed)
        .min_by_key(|s| key(s));
    let mut jump = Vec::new();
    for s in [before, after].into_iter().flatten() {
        if let Some((_, c)) = ix.first_consume(&s.id, s.shard) {
            e.stored.push(s.clone());
            e.consumed.push(c.clone());
            jump.push(format!("{:?} ({} at {} ms)", s.id, c.consumer, c.time_ms));
        }
    }
    if let Some(cp) = h
        .checkpoints
        .iter()
        .filter(|c| c.shard == missing.shard && c.cursor > missing.seq)
        .min_by_key(|c| c.time_ms)
    {
        e.checkpoints.push(cp.clone());
    }
    e.stored.sort_by_key(key);
    match jump.as_slice() {
        [b, a] => e.explanation.push_str(&format!(
            "; shard {} was processed up to {b} and again from {a}: it was skipped",
            missing.shard
        )),
        [one] if after.is_some() => e.explanation.push_str(&format!(
            "; shard {} was processed from {one} on, never before it",
            missing.shard
        )),
        [one] => e.explanation.push_str(&format!(
            "; shard {} was processed up to {one}, never after",
            missing.shard
        )),
        _ => e.explanation.push_str(&format!(
            "; nothing stored in shard {} was ever processed",
            missing.shard
        )),
    }
}

/// Consume events beyond the number of stored copies; evidence is the earliest re-consumption.
fn consumed_more_than_once(
    h: &History,
    ix: &Index,
    shards: &mut BTreeMap<u32, Counts>,
) -> Option<Evidence> {
    let mut best: Option<(i64, usize, &str)> = None;
    for (id, events) in &ix.consumed_of {
        let copies = ix.stored_of.get(id).map_or(0, Vec::len).max(1);
        if events.len() <= copies {
            continue;
        }
        for (_, extra) in events.iter().skip(copies) {
            shards
                .entry(extra.shard)
                .or_default()
                .consumed_more_than_once += 1;
        }
        if let Some((i, e)) = events.get(copies) {
            if best.is_none_or(|(bt, bi, _)| (e.time_ms, *i) < (bt, bi)) {
                best = Some((e.time_ms, *i, id));
            }
        }
    }
    let (hi, _, id) = best?;
    let consumed: Vec<ConsumeEvent> = ix
        .consumed_of
        .get(id)
        .map(|v| v.iter().map(|(_, c)| (*c).clone()).collect())
        .unwrap_or_default();
    let lo = consumed.first().map_or(hi, |c| c.time_ms);
    let who: Vec<&str> = consumed.iter().map(|c| c.consumer.as_str()).collect();
    Some(Evidence {
        kind: "consumed_more_than_once".into(),
        explanation: format!(
            "{id:?} was processed {} times (by {})",
            consumed.len(),
            who.join(", ")
        ),
        stored: ix.stored(id),
        consumed,
        faults: faults_between(h, lo, hi),
        ..Evidence::default()
    })
}

/// First-consumption key of a log in its shard: `(time_ms, index)`.
type Key = (i64, usize);

/// A stored log with its first consume event in its shard (and that event's index).
type Placed<'h> = (&'h StoredLog, Option<(usize, &'h ConsumeEvent)>);

/// Per shard, the stored logs (first copy per id) in storage order, with their first consume.
fn shard_sequences<'h>(h: &'h History, ix: &Index<'h>) -> BTreeMap<u32, Vec<Placed<'h>>> {
    let mut by_shard: BTreeMap<u32, Vec<&StoredLog>> = BTreeMap::new();
    for s in &h.stored {
        by_shard.entry(s.shard).or_default().push(s);
    }
    by_shard
        .into_iter()
        .map(|(shard, mut logs)| {
            logs.sort_by_key(|s| (s.seq, s.position));
            let mut seen = BTreeSet::new();
            let seq = logs
                .into_iter()
                .filter(|s| seen.insert(s.id.as_str()))
                .map(|s| (s, ix.first_consume(&s.id, shard)))
                .collect();
            (shard, seq)
        })
        .collect()
}

/// Logs first-consumed before an earlier-stored log of the same shard; evidence is the
/// violation whose later-stored log was consumed earliest.
fn order_violations(
    h: &History,
    ix: &Index,
    shards: &mut BTreeMap<u32, Counts>,
) -> Option<Evidence> {
    let mut best: Option<(Key, [(StoredLog, ConsumeEvent); 2])> = None;
    for (shard, seq) in shard_sequences(h, ix) {
        let mut max: Option<(Key, &StoredLog, &ConsumeEvent)> = None;
        for (log, first) in seq {
            let Some((i, ev)) = first else { continue };
            let key = (ev.time_ms, i);
            match max {
                Some((mk, mlog, mev)) if key < mk => {
                    shards.entry(shard).or_default().order_violations += 1;
                    if best.as_ref().is_none_or(|(bk, _)| key < *bk) {
                        let pair = [(mlog.clone(), mev.clone()), (log.clone(), ev.clone())];
                        best = Some((key, pair));
                    }
                }
                _ => max = Some((key, log, ev)),
            }
        }
    }
    let (_, [(a, ae), (b, be)]) = best?;
    Some(Evidence {
        kind: "order_violation".into(),
        explanation: format!(
            "in shard {}, {:?} is stored before {:?} but was first processed after it",
            a.shard, a.id, b.id
        ),
        faults: faults_between(h, be.time_ms, ae.time_ms),
        stored: vec![a, b],
        consumed: vec![be, ae],
        ..Evidence::default()
    })
}

/// Transitive ancestors of every shard in the lineage.
fn ancestors(h: &History) -> BTreeMap<u32, BTreeSet<u32>> {
    let parents: HashMap<u32, &[u32]> = h
        .shards
        .iter()
        .map(|n| (n.id, n.parents.as_slice()))
        .collect();
    let mut out = BTreeMap::new();
    for n in &h.shards {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<u32> = n.parents.clone();
        while let Some(p) = stack.pop() {
            if p != n.id && seen.insert(p) {
                stack.extend(parents.get(&p).copied().unwrap_or_default());
            }
        }
        out.insert(n.id, seen);
    }
    out
}

/// Ordered groups only: children first consumed before an ancestor's last first-consumption.
fn parent_before_child(
    h: &History,
    ix: &Index,
    shards: &mut BTreeMap<u32, Counts>,
) -> Option<Evidence> {
    if !h.ordered {
        return None;
    }
    let seqs = shard_sequences(h, ix);
    let firsts: BTreeMap<u32, Vec<(Key, &ConsumeEvent)>> = seqs
        .iter()
        .map(|(shard, seq)| {
            let keys = seq
                .iter()
                .filter_map(|(_, f)| f.map(|(i, e)| ((e.time_ms, i), e)))
                .collect();
            (*shard, keys)
        })
        .collect();
    let mut best: Option<(Key, ConsumeEvent, ConsumeEvent)> = None;
    for (child, ancs) in ancestors(h) {
        let Some(child_first) = firsts
            .get(&child)
            .and_then(|v| v.iter().min_by_key(|x| x.0))
        else {
            continue;
        };
        for anc in ancs {
            let Some(anc_last) = firsts.get(&anc).and_then(|v| v.iter().max_by_key(|x| x.0)) else {
                continue;
            };
            if child_first.0 < anc_last.0 {
                shards
                    .entry(child)
                    .or_default()
                    .parent_before_child_violations += 1;
                if best.as_ref().is_none_or(|(bk, _, _)| child_first.0 < *bk) {
                    best = Some((child_first.0, child_first.1.clone(), anc_last.1.clone()));
                }
            }
        }
    }
    let (_, c, p) = best?;
    let mut stored = ix.stored(&c.id);
    stored.extend(ix.stored(&p.id));
    Some(Evidence {
        kind: "parent_before_child_violation".into(),
        explanation: format!(
            "child shard {} was first processed ({:?} at {} ms) before its ancestor shard {} \
             was done ({:?} at {} ms)",
            c.shard, c.id, c.time_ms, p.shard, p.id, p.time_ms
        ),
        faults: faults_between(h, c.time_ms, p.time_ms),
        stored,
        consumed: vec![c, p],
        ..Evidence::default()
    })
}

/// Per shard, checkpoints lower than the previous one (commit order = `(time_ms, index)`).
fn checkpoint_regressions(h: &History, shards: &mut BTreeMap<u32, Counts>) -> Option<Evidence> {
    let mut by_shard: BTreeMap<u32, Vec<(usize, &CheckpointEvent)>> = BTreeMap::new();
    for (i, c) in h.checkpoints.iter().enumerate() {
        by_shard.entry(c.shard).or_default().push((i, c));
    }
    let mut best: Option<(Key, &CheckpointEvent, &CheckpointEvent)> = None;
    for (shard, mut cps) in by_shard {
        cps.sort_by_key(|(i, c)| (c.time_ms, *i));
        for pair in cps.windows(2) {
            let [(_, prev), (i, cur)] = pair else {
                continue;
            };
            if cur.cursor < prev.cursor {
                shards.entry(shard).or_default().checkpoint_regressions += 1;
                let key = (cur.time_ms, *i);
                if best.is_none_or(|(bk, _, _)| key < bk) {
                    best = Some((key, prev, cur));
                }
            }
        }
    }
    let (_, prev, cur) = best?;
    Some(Evidence {
        kind: "checkpoint_regression".into(),
        explanation: format!(
            "shard {} checkpoint went from {} ({}) back to {} ({})",
            cur.shard, prev.cursor, prev.consumer, cur.cursor, cur.consumer
        ),
        checkpoints: vec![prev.clone(), cur.clone()],
        faults: faults_between(h, prev.time_ms, cur.time_ms),
        ..Evidence::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ShardNode;

    fn write(ids: &[&str], t: i64, outcome: Outcome) -> WriteOp {
        WriteOp {
            writer: "p0".into(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            invoke_ms: t,
            complete_ms: t + 5,
            outcome,
            error: None,
        }
    }

    fn stored(id: &str, shard: u32, seq: i64) -> StoredLog {
        StoredLog {
            id: id.into(),
            shard,
            seq,
            position: 0,
            time_ms: None,
        }
    }

    fn consume(id: &str, shard: u32, cursor: i64, t: i64) -> ConsumeEvent {
        ConsumeEvent {
            consumer: "c0".into(),
            shard,
            id: id.into(),
            cursor,
            time_ms: t,
        }
    }

    fn checkpoint(shard: u32, cursor: i64, t: i64) -> CheckpointEvent {
        CheckpointEvent {
            consumer: "c0".into(),
            shard,
            cursor,
            time_ms: t,
        }
    }

    /// Two shards, a and b in shard 0, c in shard 1, each written, stored and consumed once.
    fn fault(time_ms: i64, description: &str) -> FaultEvent {
        FaultEvent {
            time_ms,
            description: description.into(),
        }
    }

    fn clean() -> History {
        let mut h = History::new("clean", 42);
        h.shards = vec![
            ShardNode {
                id: 0,
                parents: vec![],
            },
            ShardNode {
                id: 1,
                parents: vec![],
            },
        ];
        h.writes = vec![
            write(&["a", "b"], 0, Outcome::Ok),
            write(&["c"], 10, Outcome::Ok),
        ];
        h.stored = vec![stored("a", 0, 1), stored("b", 0, 2), stored("c", 1, 1)];
        h.consumed = vec![
            consume("a", 0, 1, 100),
            consume("b", 0, 2, 101),
            consume("c", 1, 1, 102),
        ];
        h.checkpoints = vec![checkpoint(0, 3, 110), checkpoint(1, 2, 111)];
        h
    }

    #[test]
    fn clean_history_holds_everything() {
        let r = check(&clean());
        assert!(r.at_least_once.holds && r.exactly_once.holds && r.order.holds);
        assert!(r.checkpoints.holds);
        assert!(r.at_least_once.evidence.is_none());
        assert_eq!(r.overall.stored, 3);
        assert_eq!(r.overall.consumed, 3);
        assert_eq!(r.shards.len(), 2);
        assert_eq!(r.ids_written, 3);
    }

    #[test]
    fn lost_acknowledged_write_breaks_at_least_once() {
        let mut h = clean();
        h.faults.push(fault(21, "reset"));
        h.faults.push(fault(500, "later"));
        h.writes.push(write(&["lost"], 20, Outcome::Ok));
        let r = check(&h);
        assert!(!r.at_least_once.holds && !r.exactly_once.holds && r.order.holds);
        assert_eq!(r.overall.lost_acknowledged, 1);
        let e = r.at_least_once.evidence.unwrap();
        assert_eq!(e.kind, "lost_acknowledged");
        assert_eq!(e.writes.len(), 1);
        assert!(e.stored.is_empty());
        assert_eq!(e.faults.len(), 1);
        assert_eq!(r.exactly_once.evidence.unwrap().kind, "lost_acknowledged");
    }

    #[test]
    fn failed_but_stored_write_is_a_violation_and_unknown_is_not() {
        let mut h = clean();
        h.writes.push(write(&["f"], 20, Outcome::Fail));
        h.writes.push(write(&["u"], 30, Outcome::Unknown));
        h.stored.push(stored("f", 1, 2));
        h.stored.push(stored("u", 1, 3));
        h.consumed.push(consume("f", 1, 2, 103));
        h.consumed.push(consume("u", 1, 3, 104));
        let r = check(&h);
        assert_eq!(r.overall.stored_but_failed, 1);
        assert_eq!(r.overall.stored_unknown, 1);
        // A definite failure that was stored loses nothing, but the client misreported it.
        assert!(r.at_least_once.holds);
        assert!(!r.failed_not_stored.holds);
        assert_eq!(
            r.failed_not_stored.evidence.unwrap().kind,
            "stored_but_failed"
        );
        assert_eq!(r.shards[1].counts.stored_but_failed, 1);
    }

    #[test]
    fn failed_then_retried_ok_is_not_stored_but_failed() {
        let mut h = clean();
        h.writes.insert(0, write(&["a", "b"], -10, Outcome::Fail));
        let r = check(&h);
        assert!(r.at_least_once.holds, "{:?}", r.at_least_once);
    }

    #[test]
    fn unknown_write_that_was_not_stored_is_fine() {
        let mut h = clean();
        h.writes.push(write(&["u"], 30, Outcome::Unknown));
        assert!(check(&h).exactly_once.holds);
    }

    #[test]
    fn duplicate_stored_breaks_exactly_once_only() {
        let mut h = clean();
        h.stored.push(stored("a", 0, 3));
        h.consumed.push(consume("a", 0, 3, 105));
        let r = check(&h);
        assert!(r.at_least_once.holds);
        assert!(!r.exactly_once.holds);
        assert_eq!(r.overall.duplicates_stored, 1);
        assert_eq!(r.overall.consumed_more_than_once, 0);
        let e = r.exactly_once.evidence.unwrap();
        assert_eq!(e.kind, "duplicate_stored");
        assert_eq!(e.stored.len(), 2);
    }

    #[test]
    fn consumer_processing_a_log_twice_breaks_exactly_once() {
        let mut h = clean();
        h.faults.push(fault(150, "kill -9 c0"));
        h.faults.push(fault(900, "unrelated"));
        h.consumed.push(consume("a", 0, 1, 200));
        let r = check(&h);
        assert!(r.at_least_once.holds && r.order.holds);
        assert!(!r.exactly_once.holds);
        assert_eq!(r.overall.consumed_more_than_once, 1);
        assert_eq!(r.shards[0].counts.consumed_more_than_once, 1);
        let e = r.exactly_once.evidence.unwrap();
        assert_eq!(e.kind, "consumed_more_than_once");
        assert_eq!(e.consumed.len(), 2);
        assert_eq!(
            e.faults,
            vec![FaultEvent {
                time_ms: 150,
                description: "kill -9 c0".into()
            }]
        );
    }

    #[test]
    fn never_consumed_breaks_at_least_once() {
        let mut h = clean();
        h.consumed.retain(|c| c.id != "c");
        let r = check(&h);
        assert_eq!(r.overall.never_consumed, 1);
        assert_eq!(r.shards[1].counts.never_consumed, 1);
        assert_eq!(r.at_least_once.evidence.unwrap().kind, "never_consumed");
    }

    #[test]
    fn never_consumed_evidence_shows_the_skip() {
        let mut h = clean();
        h.stored.push(StoredLog {
            id: "d".into(),
            shard: 0,
            seq: 3,
            position: 0,
            time_ms: None,
        });
        h.consumed.push(consume("d", 0, 3, 103));
        // "b" (shard 0, between "a" and "d") is skipped.
        h.consumed.retain(|c| c.id != "b");
        let e = check(&h).at_least_once.evidence.unwrap();
        assert_eq!(e.kind, "never_consumed");
        assert!(e.explanation.contains("skipped"), "{}", e.explanation);
        assert_eq!(
            e.consumed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["a", "d"]
        );
    }

    #[test]
    fn producer_only_scenarios_skip_consume_checks() {
        let mut h = clean();
        h.consumed.clear();
        h.consumes = false;
        assert!(check(&h).at_least_once.holds);
    }

    #[test]
    fn order_violation_within_a_shard() {
        let mut h = clean();
        h.consumed = vec![
            consume("b", 0, 2, 100),
            consume("a", 0, 1, 101),
            consume("c", 1, 1, 102),
        ];
        let r = check(&h);
        assert!(r.at_least_once.holds && r.exactly_once.holds);
        assert!(!r.order.holds);
        assert_eq!(r.overall.order_violations, 1);
        assert_eq!(r.shards[0].counts.order_violations, 1);
        let e = r.order.evidence.unwrap();
        assert_eq!(e.kind, "order_violation");
        assert_eq!(
            e.stored.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            e.consumed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
    }

    #[test]
    fn same_millisecond_uses_recording_order() {
        let mut h = clean();
        h.consumed = vec![
            consume("b", 0, 2, 100),
            consume("a", 0, 1, 100),
            consume("c", 1, 1, 100),
        ];
        assert_eq!(check(&h).overall.order_violations, 1);
        let mut h = clean();
        h.consumed = vec![
            consume("a", 0, 1, 100),
            consume("b", 0, 2, 100),
            consume("c", 1, 1, 100),
        ];
        assert!(check(&h).order.holds);
    }

    /// Shard 0 split into 1 and 2; shard 2 consumed before shard 0 is finished.
    fn split(ordered: bool) -> History {
        let mut h = History::new("C11", 1);
        h.ordered = ordered;
        h.shards = vec![
            ShardNode {
                id: 0,
                parents: vec![],
            },
            ShardNode {
                id: 1,
                parents: vec![0],
            },
            ShardNode {
                id: 2,
                parents: vec![0],
            },
            ShardNode {
                id: 3,
                parents: vec![1, 2],
            },
        ];
        h.writes = vec![write(&["p1", "p2", "k1", "k2", "m"], 0, Outcome::Ok)];
        h.stored = vec![
            stored("p1", 0, 1),
            stored("p2", 0, 2),
            stored("k1", 1, 1),
            stored("k2", 2, 1),
            stored("m", 3, 1),
        ];
        h.consumed = vec![
            consume("p1", 0, 1, 100),
            consume("k2", 2, 1, 105),
            consume("p2", 0, 2, 110),
            consume("k1", 1, 1, 120),
            consume("m", 3, 1, 130),
        ];
        h
    }

    #[test]
    fn child_before_parent_breaks_order_for_ordered_groups() {
        let r = check(&split(true));
        assert!(r.at_least_once.holds && r.exactly_once.holds);
        assert!(!r.order.holds);
        assert_eq!(r.overall.order_violations, 0);
        assert_eq!(r.overall.parent_before_child_violations, 1);
        assert_eq!(r.shards[2].counts.parent_before_child_violations, 1);
        let e = r.order.evidence.unwrap();
        assert_eq!(e.kind, "parent_before_child_violation");
        assert_eq!(e.consumed[0].id, "k2");
        assert_eq!(e.consumed[1].id, "p2");
    }

    #[test]
    fn merge_waits_for_transitive_ancestors() {
        let mut h = split(true);
        // The merged child 3 now runs before grandparent 0 finishes (and before 2).
        if let Some(m) = h.consumed.iter_mut().find(|c| c.id == "m") {
            m.time_ms = 104;
        }
        let r = check(&h);
        // (2,0), (3,0), (3,1), (3,2) are all out of lineage order.
        assert_eq!(r.overall.parent_before_child_violations, 4);
        assert_eq!(r.order.evidence.unwrap().consumed[0].id, "m");
    }

    #[test]
    fn child_before_parent_is_fine_for_unordered_groups() {
        assert!(check(&split(false)).order.holds);
    }

    #[test]
    fn checkpoint_regression_is_counted() {
        let mut h = clean();
        h.faults.push(fault(115, "partition heartbeats"));
        h.checkpoints.push(checkpoint(0, 1, 120));
        h.checkpoints.push(checkpoint(1, 3, 121));
        let r = check(&h);
        assert!(r.at_least_once.holds && r.exactly_once.holds && r.order.holds);
        assert!(!r.checkpoints.holds);
        assert_eq!(r.overall.checkpoint_regressions, 1);
        assert_eq!(r.shards[0].counts.checkpoint_regressions, 1);
        let e = r.checkpoints.evidence.unwrap();
        assert_eq!(e.checkpoints.len(), 2);
        assert_eq!(e.faults.len(), 1);
    }
}
