//! The recorded history of one chaos run: what clients did (Jepsen-style invoke → ok / fail /
//! unknown), what the emulator actually stored (the ground truth), what consumers processed, the
//! checkpoints they wrote, the shard lineage and the injected faults.
//!
//! Only plain data lives here (serde round-trips it, so a run can be saved and re-checked). The
//! analysis is in [`crate::checker`], the rendering in [`crate::report`]. Times are milliseconds
//! on one clock shared by every recorder of a run (wall-clock Unix ms is fine).

use serde::{Deserialize, Serialize};

/// How a client operation completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Acknowledged: the server said the write is stored.
    Ok,
    /// Definitely not applied, e.g. a 4xx returned before anything was committed.
    Fail,
    /// Indeterminate: timeout, connection reset, 5xx. It may or may not be stored.
    Unknown,
}

/// One write operation (a PutLogs call or one producer batch), carrying one or more log ids.
///
/// Record a retry under the same ids as a new `WriteOp`: the checker treats an id as
/// acknowledged if any op carrying it is [`Outcome::Ok`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOp {
    /// Which writer (producer instance, thread) issued it.
    pub writer: String,
    /// The unique ids of the logs in the batch (a content field the harness sets per log).
    pub ids: Vec<String>,
    /// When the call was invoked.
    pub invoke_ms: i64,
    /// When its outcome was known (for `Unknown`: when the client gave up).
    pub complete_ms: i64,
    /// How it completed.
    pub outcome: Outcome,
    /// The error the client saw, if any.
    pub error: Option<String>,
}

/// One log as the emulator committed it: the ground truth, read after the run (e.g. by pulling
/// every shard from BEGIN, or from the emulator's store directly).
///
/// Fill `seq` with the cursor integer of the LogGroup the log belongs to and `position` with the
/// log's index inside that LogGroup; the order within a shard is `(seq, position)`. A log stored
/// twice appears as two `StoredLog`s with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLog {
    /// The harness id of the log.
    pub id: String,
    /// The shard it was stored in.
    pub shard: u32,
    /// The cursor integer of its LogGroup.
    pub seq: i64,
    /// Its index inside the LogGroup.
    #[serde(default)]
    pub position: u32,
    /// When the server received it (`__tag__:__receive_time__` in ms), if known; only used to
    /// plot progress. When absent, the completion time of the write that carried the id is used.
    #[serde(default)]
    pub time_ms: Option<i64>,
}

/// One time a reader processed a log. For exactly-once pipelines (Flink), record the sink's
/// applied records instead of the source's reads.
///
/// Record events in processing order: the index in [`History::consumed`] breaks ties between
/// equal `time_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumeEvent {
    /// The consumer (worker name) that processed it.
    pub consumer: String,
    /// The shard it was read from.
    pub shard: u32,
    /// The harness id of the log.
    pub id: String,
    /// The cursor integer of the LogGroup it came in.
    pub cursor: i64,
    /// When it was processed.
    pub time_ms: i64,
}

/// A checkpoint the server accepted (UpdateCheckPoint succeeded), as the cursor integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointEvent {
    /// The consumer that committed it.
    pub consumer: String,
    /// The shard.
    pub shard: u32,
    /// The committed cursor, as an integer.
    pub cursor: i64,
    /// When the commit was acknowledged.
    pub time_ms: i64,
}

/// A shard and the shards it was split or merged from (empty for an original shard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardNode {
    /// The shard id.
    pub id: u32,
    /// Its direct parents: one after a split, two after a merge.
    pub parents: Vec<u32>,
}

/// An injected fault or a notable process event (kill, restart, partition), for the timeline and
/// the evidence. Sources: the emulator's fault journal, the proxy journal, the harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEvent {
    /// When it happened (or started).
    pub time_ms: i64,
    /// What happened, for a person.
    pub description: String,
}

fn yes() -> bool {
    true
}

/// Everything recorded in one run of one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The scenario name (e.g. `C1`).
    pub scenario: String,
    /// The seed that replays the run.
    pub seed: u64,
    /// Whether the consumer group is ordered (`order=true`): enables the parent-before-child check.
    pub ordered: bool,
    /// Whether the scenario consumes at all. When false (producer-only scenarios) the
    /// consume-side checks are skipped and `never_consumed` stays 0.
    #[serde(default = "yes")]
    pub consumes: bool,
    /// Client write operations.
    pub writes: Vec<WriteOp>,
    /// The emulator's committed log (ground truth).
    pub stored: Vec<StoredLog>,
    /// Processing events, in processing order.
    pub consumed: Vec<ConsumeEvent>,
    /// Accepted checkpoints, in commit order.
    pub checkpoints: Vec<CheckpointEvent>,
    /// The shard lineage (every shard that existed during the run).
    pub shards: Vec<ShardNode>,
    /// Injected faults and process events.
    pub faults: Vec<FaultEvent>,
}

impl History {
    /// An empty history for `scenario` replayable with `seed`, consuming, unordered.
    pub fn new(scenario: impl Into<String>, seed: u64) -> Self {
        Self {
            scenario: scenario.into(),
            seed,
            ordered: false,
            consumes: true,
            writes: Vec::new(),
            stored: Vec::new(),
            consumed: Vec::new(),
            checkpoints: Vec::new(),
            shards: Vec::new(),
            faults: Vec::new(),
        }
    }

    /// The earliest and latest time of any event, or `None` for an empty history.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let times = self
            .writes
            .iter()
            .flat_map(|w| [w.invoke_ms, w.complete_ms])
            .chain(self.stored.iter().filter_map(|s| s.time_ms))
            .chain(self.consumed.iter().map(|c| c.time_ms))
            .chain(self.checkpoints.iter().map(|c| c.time_ms))
            .chain(self.faults.iter().map(|f| f.time_ms));
        times.fold(None, |acc, t| match acc {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_round_trips_through_json() {
        let mut h = History::new("C1", 7);
        h.writes.push(WriteOp {
            writer: "p".into(),
            ids: vec!["a".into()],
            invoke_ms: 1,
            complete_ms: 5,
            outcome: Outcome::Unknown,
            error: Some("timeout".into()),
        });
        h.faults.push(FaultEvent {
            time_ms: 9,
            description: "kill".into(),
        });
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains("\"unknown\""));
        let back: History = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        assert_eq!(h.time_range(), Some((1, 9)));
    }
}
