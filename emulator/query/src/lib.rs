//! What SLS queries run on: the index configuration of a logstore (`index`), and the search
//! language before `|` (`search`), evaluated over stored logs one [`Row`] at a time. The SQL
//! after `|` is in the `sls-sql` crate.

pub mod index;
pub mod search;

use sls_protocol::proto::{LogContent, LogTag};

/// The type of an indexed key (`keys.{name}.type` in the index JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text: tokenized, searched by term.
    Text,
    /// 64-bit integer: numeric comparisons and ranges.
    Long,
    /// Floating point: numeric comparisons and ranges.
    Double,
    /// JSON: its sub-keys are indexed (`key.sub`).
    Json,
}

/// One stored log as a query sees it: the log's own fields and its LogGroup's topic, source
/// and tags.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Log time, unix seconds (`__time__`).
    pub time: u32,
    /// Nanosecond part of the log time, if the writer sent one.
    pub time_ns: Option<u32>,
    /// The LogGroup's topic (`__topic__`), empty if none.
    pub topic: &'a [u8],
    /// The LogGroup's source (`__source__`), empty if none.
    pub source: &'a [u8],
    /// The LogGroup's tags (`__tag__:key`).
    pub tags: &'a [LogTag],
    /// The log's key/value pairs, in order.
    pub contents: &'a [LogContent],
}

impl<'a> Row<'a> {
    /// The value of a field by its query name: `__topic__`, `__source__`, `__tag__:key`, or a
    /// content key (the first one, if a log repeats a key). `__time__` is a number: use
    /// [`Row::time`].
    pub fn value(&self, name: &str) -> Option<&'a [u8]> {
        match name {
            "__topic__" => Some(self.topic),
            "__source__" => Some(self.source),
            _ => match name.strip_prefix("__tag__:") {
                Some(tag) => self
                    .tags
                    .iter()
                    .find(|t| t.key.as_ref() == tag.as_bytes())
                    .map(|t| t.value.as_ref()),
                None => self
                    .contents
                    .iter()
                    .find(|c| c.key.as_ref() == name.as_bytes())
                    .map(|c| c.value.as_ref()),
            },
        }
    }
}
