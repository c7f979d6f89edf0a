//! Typed API methods on [`crate::Client`], one module per API group (same grouping as the
//! emulator's `api/`).

mod consumer_group;
mod logs;
mod logstore;
mod project;
mod query;
mod shard;

pub use consumer_group::{Checkpoint, CheckpointUpdate, ConsumerGroup};
pub use logs::{CursorFrom, PullResult};
pub use logstore::{Logstore, LogstoreSpec};
pub use project::Project;
pub use query::{Histogram, LogQuery, LogsPage, QueryMeta};
pub use shard::{Shard, SplitAt};

/// `/logstores/{logstore}` plus `rest`.
fn ls_path(logstore: &str, rest: &str) -> String {
    format!("/logstores/{logstore}{rest}")
}
