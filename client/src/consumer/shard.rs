//! One shard's loop: resume, pull, process, checkpoint, drain on stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sls_protocol::codes;
use sls_protocol::cursor::decode_cursor;
use tokio::sync::watch;

use super::{Batch, ConsumerConfig, Processed, Processor, StartPosition};
use crate::api::{CheckpointUpdate, CursorFrom};
use crate::error::Result;
use crate::Client;

/// Where this shard resumes: the group's checkpoint, else the configured start position.
/// Returns the cursor and whether it is already the saved checkpoint.
async fn start_cursor(client: &Client, c: &ConsumerConfig, shard: u32) -> Result<(String, bool)> {
    let saved = client
        .get_checkpoints(&c.project, &c.logstore, &c.group, Some(shard))
        .await?;
    if let Some(cp) = saved.into_iter().find(|cp| !cp.checkpoint.is_empty()) {
        return Ok((cp.checkpoint, true));
    }
    let from = match c.start {
        StartPosition::Begin => CursorFrom::Begin,
        StartPosition::End => CursorFrom::End,
        StartPosition::Time(t) => CursorFrom::Time(t),
    };
    Ok((
        client
            .get_cursor(&c.project, &c.logstore, shard, from)
            .await?,
        false,
    ))
}

struct Checkpointer {
    client: Client,
    config: Arc<ConsumerConfig>,
    shard: u32,
    saved: Option<String>,
    last_save: Instant,
}

impl Checkpointer {
    /// Saves `cursor` unless it is saved already. `Err(())` when the shard is no longer ours.
    async fn save(&mut self, cursor: &str) -> Result<(), ()> {
        if self.saved.as_deref() == Some(cursor) {
            return Ok(());
        }
        let c = &self.config;
        let update = CheckpointUpdate {
            consumer: &c.consumer,
            shard: self.shard,
            checkpoint: cursor,
            force: false,
        };
        match self
            .client
            .update_checkpoint(&c.project, &c.logstore, &c.group, &update)
            .await
        {
            Ok(()) => {
                self.saved = Some(cursor.to_string());
                self.last_save = Instant::now();
                Ok(())
            }
            Err(e)
                if matches!(
                    e.code(),
                    Some(codes::ConsumerNotMatch | codes::ConsumerNotExist | codes::ShardNotExist)
                ) =>
            {
                tracing::warn!(shard = self.shard, error = %e, "shard no longer held; stopping it");
                Err(())
            }
            Err(e) => {
                // Kept for the next save; the next owner would re-read at most this batch.
                tracing::warn!(shard = self.shard, error = %e, "checkpoint not saved");
                Ok(())
            }
        }
    }
}

/// Whether two cursors point at the same place (their padding may differ).
fn same_cursor(a: &str, b: &str) -> bool {
    a == b || matches!((decode_cursor(a), decode_cursor(b)), (Ok(x), Ok(y)) if x == y)
}

/// Sleeps for `d` unless told to stop first; returns whether to stop.
async fn pause(d: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    let stop = tokio::select! {
        _ = stopped.wait_for(|s| *s) => true,
        _ = tokio::time::sleep(d) => false,
    };
    stop || *stopped.borrow()
}

pub(super) async fn run<P: Processor>(
    client: Client,
    config: Arc<ConsumerConfig>,
    shard: u32,
    mut processor: P,
    mut stopped: watch::Receiver<bool>,
) {
    let c = config.clone();
    let (mut cursor, from_checkpoint) = match start_cursor(&client, &c, shard).await {
        Ok(x) => x,
        Err(e) => {
            // The heartbeat loop restarts the shard at its next heartbeat if still assigned.
            tracing::warn!(shard, error = %e, "cannot find where to start");
            return;
        }
    };
    let mut cp = Checkpointer {
        client: client.clone(),
        config: config.clone(),
        shard,
        saved: from_checkpoint.then(|| cursor.clone()),
        last_save: Instant::now(),
    };
    processor.initialize(shard).await;
    let mut backoff = c.fetch_interval;
    let mut owned = true;
    while owned && !*stopped.borrow() {
        match client
            .pull_logs(&c.project, &c.logstore, shard, &cursor, c.batch_count, None)
            .await
        {
            Ok(r) if r.groups.is_empty() => {
                // Caught up: checkpoint the end, which is what finishes a readonly shard.
                owned = cp.save(&cursor).await.is_ok();
                if pause(backoff, &mut stopped).await {
                    break;
                }
                backoff = (backoff * 2).min(c.max_fetch_backoff);
            }
            Ok(r) => {
                backoff = c.fetch_interval;
                let batch = Batch {
                    shard,
                    cursor: cursor.clone(),
                    next_cursor: r.next_cursor.clone(),
                    groups: r.groups,
                };
                let (next, now) = match processor.process(&batch).await {
                    Processed::Done => (r.next_cursor, false),
                    Processed::Commit => (r.next_cursor, true),
                    Processed::RollbackTo(to) => (to, false),
                };
                cursor = next;
                if now || cp.last_save.elapsed() >= c.checkpoint_interval {
                    owned = cp.save(&cursor).await.is_ok();
                }
            }
            Err(e) if e.code() == Some("InvalidCursor") => {
                // Expired under us (ttl): start over from the checkpoint or the start position;
                // when that is the cursor just refused (the checkpoint expired too), from the
                // oldest retained data.
                tracing::warn!(shard, error = %e, "cursor out of range; resetting");
                let reset = match start_cursor(&client, &c, shard).await {
                    Ok((x, _)) if !same_cursor(&x, &cursor) => Ok(x),
                    Ok(_) => {
                        client
                            .get_cursor(&c.project, &c.logstore, shard, CursorFrom::Begin)
                            .await
                    }
                    Err(e) => Err(e),
                };
                match reset {
                    Ok(x) => cursor = x,
                    Err(_) => break,
                }
                // Never a tight loop, whatever the server keeps refusing.
                if pause(backoff, &mut stopped).await {
                    break;
                }
                backoff = (backoff * 2).min(c.max_fetch_backoff);
            }
            Err(e) => {
                tracing::debug!(shard, error = %e, "pull failed");
                if pause(backoff, &mut stopped).await {
                    break;
                }
                backoff = (backoff * 2).min(c.max_fetch_backoff);
            }
        }
    }
    if owned {
        let _ = cp.save(&cursor).await;
    }
    processor.shutdown(shard).await;
}
