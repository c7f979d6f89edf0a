//! Query execution: GetLogs, GetHistograms and the SQL after `|` run over a logstore's stored
//! LogGroups. There is no inverted index: every query reads the logstore's segments and
//! evaluates the search on each log in `[from, to)` (log time), so an index applies to all data,
//! including logs written before it was created (real SLS searches only data written after).
//!
//! A scan keeps only the position of each match (32 bytes); GetLogs re-reads the groups of
//! the page it answers, so memory stays bounded by the page, not by the logstore.

use std::cmp::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use sls_protocol::proto::{LogGroup, Message};
use sls_protocol::types::ShardId;
use sls_query::index::IndexConfig;
use sls_query::search::Search;
use sls_query::Row;

use crate::storage::{Logstore, StorageError, Store};

type Result<T> = std::result::Result<T, StorageError>;

/// Largest `line` of a search query (SLS: 100).
pub const MAX_LINES: usize = 100;

/// Most sub-intervals of a histogram (SLS: 60).
pub const MAX_BUCKETS: i64 = 60;

/// LogGroups read per storage call during a scan.
const SCAN_BATCH: usize = 256;

/// What a GetLogs or GetHistograms call asks, once parsed.
#[derive(Debug, Clone)]
pub struct Window {
    /// Inclusive start, unix seconds (log time).
    pub from: i64,
    /// Exclusive end, unix seconds.
    pub to: i64,
    /// Only LogGroups of this topic, when set.
    pub topic: Option<String>,
}

/// One matching log: where it is and its time (for ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    time: u32,
    time_ns: u32,
    shard: ShardId,
    seq: u64,
    index: u32,
}

impl Hit {
    fn order(&self, other: &Hit) -> Ordering {
        (self.time, self.time_ns, self.shard, self.seq, self.index).cmp(&(
            other.time,
            other.time_ns,
            other.shard,
            other.seq,
            other.index,
        ))
    }
}

/// A log as an answer row: ordered `(key, value)` pairs, every value a string.
pub type LogRow = Vec<(String, String)>;

/// The result of a search.
#[derive(Debug, Default)]
pub struct Found {
    /// The page of rows asked for.
    pub rows: Vec<LogRow>,
    /// Every match in the window (what histograms add up to).
    pub matched: u64,
    /// Logs in the window the search looked at.
    pub processed: u64,
    /// The result columns of SQL (empty for searches).
    pub columns: Vec<String>,
}

/// Decodes a stored LogGroup (the bytes were validated when written).
fn decode(bytes: &[u8]) -> Result<LogGroup> {
    LogGroup::decode(Bytes::copy_from_slice(bytes)).map_err(|e| StorageError::Corrupt {
        key: "log group".into(),
        reason: e.to_string(),
    })
}

fn as_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The rows of one LogGroup that fall in the window, as the search sees them.
fn rows_in<'a>(group: &'a LogGroup, window: &Window) -> impl Iterator<Item = (u32, Row<'a>)> + 'a {
    let topic = group.topic.as_deref().unwrap_or_default();
    let source = group.source.as_deref().unwrap_or_default();
    let (from, to) = (window.from, window.to);
    group.logs.iter().enumerate().filter_map(move |(i, log)| {
        let time = log.time.unwrap_or_default();
        let t = i64::from(time);
        (t >= from && t < to).then_some((
            i as u32,
            Row {
                time,
                time_ns: log.time_ns,
                topic,
                source,
                tags: &group.log_tags,
                contents: &log.contents,
            },
        ))
    })
}

fn topic_matches(group: &LogGroup, window: &Window) -> bool {
    match &window.topic {
        Some(t) => group.topic.as_deref().unwrap_or_default() == t.as_bytes(),
        None => true,
    }
}

/// Calls `f` with every stored LogGroup of the logstore (every shard, readonly ones
/// included) whose topic matches.
fn scan(
    store: &Store,
    ls: &Logstore,
    window: &Window,
    mut f: impl FnMut(ShardId, u64, &LogGroup),
) -> Result<()> {
    for shard in ls.shards() {
        let mut seq = shard.begin_seq();
        let end = shard.end_seq();
        while seq < end {
            let batch = store.read(ls, &shard, seq, end, SCAN_BATCH, usize::MAX)?;
            let Some(last) = batch.groups.last() else {
                break;
            };
            seq = last.seq + 1;
            for g in &batch.groups {
                let group = decode(&g.bytes)?;
                if topic_matches(&group, window) {
                    f(shard.id, g.seq, &group);
                }
            }
        }
    }
    Ok(())
}

/// Every match of `search` in the window, in time order.
fn hits(store: &Store, ls: &Logstore, window: &Window, search: &Search) -> Result<(Vec<Hit>, u64)> {
    let mut hits = Vec::new();
    let mut processed = 0u64;
    scan(store, ls, window, |shard, seq, group| {
        for (index, row) in rows_in(group, window) {
            processed += 1;
            if search.matches(&row) {
                hits.push(Hit {
                    time: row.time,
                    time_ns: row.time_ns.unwrap_or_default(),
                    shard,
                    seq,
                    index,
                });
            }
        }
    })?;
    hits.sort_unstable_by(Hit::order);
    Ok((hits, processed))
}

/// A search: the page `[offset, offset + line)` of the matches in time order (newest first
/// with `reverse`).
pub fn search(
    store: &Store,
    ls: &Logstore,
    window: &Window,
    search: &Search,
    offset: usize,
    line: usize,
    reverse: bool,
) -> Result<Found> {
    let (mut hits, processed) = hits(store, ls, window, search)?;
    if reverse {
        hits.reverse();
    }
    let matched = hits.len() as u64;
    let page: Vec<Hit> = hits.into_iter().skip(offset).take(line).collect();
    let mut rows = Vec::with_capacity(page.len());
    let mut cached: Option<(ShardId, u64, LogGroup)> = None;
    for hit in page {
        let fresh = !matches!(&cached, Some((s, q, _)) if *s == hit.shard && *q == hit.seq);
        if fresh {
            let shard = ls.shard(hit.shard)?;
            let batch = store.read(ls, &shard, hit.seq, hit.seq + 1, 1, usize::MAX)?;
            // Expired since the scan: the row is gone.
            let Some(g) = batch.groups.first() else {
                continue;
            };
            cached = Some((hit.shard, hit.seq, decode(&g.bytes)?));
        }
        if let Some((_, _, group)) = &cached {
            if let Some(row) = render(group, hit.index as usize) {
                rows.push(row);
            }
        }
    }
    Ok(Found {
        rows,
        matched,
        processed,
        columns: Vec::new(),
    })
}

/// One log of a group as an answer row: `__source__`, `__time__`, `__topic__`, the
/// nanosecond part if the writer sent one, `__tag__:key` per tag, then the log's pairs.
fn render(group: &LogGroup, index: usize) -> Option<LogRow> {
    let log = group.logs.get(index)?;
    let mut row = Vec::with_capacity(4 + group.log_tags.len() + log.contents.len());
    row.push((
        "__source__".to_string(),
        as_str(group.source.as_deref().unwrap_or_default()),
    ));
    row.push((
        "__time__".to_string(),
        log.time.unwrap_or_default().to_string(),
    ));
    row.push((
        "__topic__".to_string(),
        as_str(group.topic.as_deref().unwrap_or_default()),
    ));
    if let Some(ns) = log.time_ns {
        row.push(("__time_ns_part__".to_string(), ns.to_string()));
    }
    for t in &group.log_tags {
        row.push((format!("__tag__:{}", as_str(&t.key)), as_str(&t.value)));
    }
    for c in &log.contents {
        row.push((as_str(&c.key), as_str(&c.value)));
    }
    Some(row)
}

/// The SQL table of a query: every match of `search` in the window, with the columns the
/// index defines; also the number of logs looked at.
pub fn sql_table(
    store: &Store,
    ls: &Logstore,
    window: &Window,
    search: &Search,
    index: &IndexConfig,
) -> Result<(sls_sql::Table, u64)> {
    let mut builder = sls_sql::TableBuilder::new(&index.columns());
    let mut processed = 0u64;
    scan(store, ls, window, |_, _, group| {
        for (_, row) in rows_in(group, window) {
            processed += 1;
            if search.matches(&row) {
                builder.push(&row);
            }
        }
    })?;
    let table = builder.finish().map_err(|e| StorageError::Corrupt {
        key: "sql table".into(),
        reason: e.to_string(),
    })?;
    Ok((table, processed))
}

/// One histogram bucket: `[from, to)` and its matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Inclusive start, unix seconds.
    pub from: i64,
    /// Exclusive end, unix seconds.
    pub to: i64,
    /// Matches in it.
    pub count: u64,
}

/// The buckets of a window: at most [`MAX_BUCKETS`] of equal width (`interval` seconds when
/// the caller asks and that makes no more than the maximum), the last cut at `to`.
pub fn buckets(from: i64, to: i64, interval: Option<i64>) -> Vec<Bucket> {
    let span = (to - from).max(1);
    let least = (span + MAX_BUCKETS - 1) / MAX_BUCKETS;
    let width = interval.filter(|&i| i > 0).unwrap_or(least).max(least);
    let mut out = Vec::new();
    let mut start = from;
    while start < to || out.is_empty() {
        let end = (start + width).min(to.max(from + 1));
        out.push(Bucket {
            from: start,
            to: end,
            count: 0,
        });
        start = end;
    }
    out
}

/// GetHistograms: the matches of `search` per bucket.
pub fn histogram(
    store: &Store,
    ls: &Logstore,
    window: &Window,
    search: &Search,
    interval: Option<i64>,
) -> Result<Vec<Bucket>> {
    let mut out = buckets(window.from, window.to, interval);
    let width = out.first().map(|b| b.to - b.from).unwrap_or(1).max(1);
    scan(store, ls, window, |_, _, group| {
        for (_, row) in rows_in(group, window) {
            if search.matches(&row) {
                let i = ((i64::from(row.time) - window.from) / width) as usize;
                if let Some(b) = out.get_mut(i) {
                    b.count += 1;
                }
            }
        }
    })?;
    Ok(out)
}

/// The index of a logstore, parsed; `None` without one.
pub fn index_of(ls: &Logstore) -> Option<Arc<serde_json::Value>> {
    ls.record().index.map(Arc::new)
}

/// Parses a stored index (it was validated when stored).
pub fn parse_index(json: &serde_json::Value) -> std::result::Result<IndexConfig, String> {
    let bytes = serde_json::to_vec(json).map_err(|e| e.to_string())?;
    IndexConfig::parse(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_split_evenly_and_cover_the_window() {
        let b = buckets(0, 3600, None);
        assert_eq!(b.len(), 60);
        assert!(b.iter().all(|b| b.to - b.from == 60));
        assert_eq!((b[0].from, b[59].to), (0, 3600));
        // A short window: one bucket per second.
        assert_eq!(buckets(10, 13, None).len(), 3);
        // Uneven: 61 s in 2-second buckets, the last cut at `to`.
        let b = buckets(0, 61, None);
        assert_eq!(b.len(), 31);
        assert_eq!(b.last().map(|b| (b.from, b.to)), Some((60, 61)));
        // An interval that would make too many buckets is widened.
        assert_eq!(buckets(0, 3600, Some(1)).len(), 60);
        assert_eq!(buckets(0, 3600, Some(600)).len(), 6);
        // An empty window still answers one bucket.
        assert_eq!(buckets(5, 5, None).len(), 1);
    }
}
