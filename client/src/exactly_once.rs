//! Exactly-once consumption: the sink, not SLS, decides where each shard resumes.
//!
//! [`ExactlyOnce`] wraps a [`TransactionalSink`] as a worker [`Processor`]. Every batch carries
//! its shard and cursor range; the sink writes the batch's output *and* the shard's next cursor
//! in one transaction, and refuses a batch that does not start at the cursor it has committed.
//! After a crash the worker may resume from an older SLS checkpoint: the first batch then does
//! not start at the sink's cursor, and the processor rolls the shard back to it. Whatever was
//! committed is never applied again; whatever was not is read again. The SLS checkpoint is only
//! a hint (it keeps balancing and readonly-shard completion working).
//!
//! [`SledSink`] is a concrete transactional sink on an embedded sled database.

use std::path::Path;
use std::sync::Arc;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use sls_protocol::cursor::decode_cursor;

use crate::consumer::{Batch, Processed, Processor};
use crate::error::{Error, Result};
use crate::LogGroup;

/// What a sink did with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// Output and cursor committed together.
    Applied,
    /// Not applied: the batch does not start where the sink's committed cursor is; read again
    /// from this cursor.
    ResumeFrom(String),
}

/// A sink that commits output and cursors atomically.
pub trait TransactionalSink: Send + Sync + 'static {
    /// Atomically: if the committed cursor is `from` (or there is none), apply `groups` and set
    /// the committed cursor to `to`; otherwise apply nothing and return where to resume.
    ///
    /// [`ExactlyOnce`] calls it on tokio's blocking pool, so it may block (disk, fsync).
    fn commit(&self, shard: u32, from: &str, to: &str, groups: &[LogGroup]) -> Result<Commit>;
}

/// A worker processor feeding a [`TransactionalSink`]. Create one per shard from the worker's
/// factory: `move |_shard| ExactlyOnce::new(sink.clone())`.
#[derive(Debug, Clone)]
pub struct ExactlyOnce<S> {
    sink: Arc<S>,
}

impl<S> ExactlyOnce<S> {
    /// Wraps a sink.
    pub fn new(sink: S) -> Self {
        ExactlyOnce {
            sink: Arc::new(sink),
        }
    }
}

impl<S: TransactionalSink> Processor for ExactlyOnce<S> {
    async fn process(&mut self, batch: &Batch) -> Processed {
        // The commit blocks (a transaction and an fsync for SledSink): keep it off the
        // runtime's workers.
        let sink = Arc::clone(&self.sink);
        let (shard, from, to, groups) = (
            batch.shard,
            batch.cursor.clone(),
            batch.next_cursor.clone(),
            batch.groups.clone(),
        );
        let outcome = match tokio::task::spawn_blocking(move || {
            sink.commit(shard, &from, &to, &groups)
        })
        .await
        {
            Ok(outcome) => outcome,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only when the runtime shuts down: nothing was applied.
                Err(e) => Err(Error::Sink(format!("commit task: {e}"))),
            },
        };
        match outcome {
            Ok(Commit::Applied) => Processed::Done,
            Ok(Commit::ResumeFrom(cursor)) => Processed::RollbackTo(cursor),
            Err(e) => {
                // Nothing was applied: read the batch again.
                tracing::warn!(shard = batch.shard, error = %e, "sink commit failed; retrying the batch");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                Processed::RollbackTo(batch.cursor.clone())
            }
        }
    }
}

/// A transactional sink on sled: every log is appended to the `output` tree under a fresh
/// sequence number, in the same transaction that moves the shard's cursor in `cursors`. A batch
/// replayed by mistake would therefore show up twice; the cursor check makes sure none is.
#[derive(Debug, Clone)]
pub struct SledSink {
    db: sled::Db,
    output: sled::Tree,
    cursors: sled::Tree,
}

fn sled_err(e: impl std::fmt::Display) -> Error {
    Error::Sink(e.to_string())
}

impl SledSink {
    /// Opens (or creates) the sink's database in `dir`.
    pub fn open(dir: &Path) -> Result<SledSink> {
        let db = sled::open(dir).map_err(sled_err)?;
        let output = db.open_tree("output").map_err(sled_err)?;
        let cursors = db.open_tree("cursors").map_err(sled_err)?;
        Ok(SledSink {
            db,
            output,
            cursors,
        })
    }

    /// Every log applied, as stored (each log's serialized contents), in apply order.
    pub fn outputs(&self) -> Result<Vec<Vec<u8>>> {
        self.output
            .iter()
            .values()
            .map(|v| v.map(|v| v.to_vec()).map_err(sled_err))
            .collect()
    }
}

impl TransactionalSink for SledSink {
    fn commit(&self, shard: u32, from: &str, to: &str, groups: &[LogGroup]) -> Result<Commit> {
        let key = shard.to_be_bytes();
        let result = (&self.output, &self.cursors).transaction(|(output, cursors)| {
            let committed = cursors.get(key)?;
            if let Some(c) = committed {
                let c = String::from_utf8_lossy(&c).into_owned();
                // Compare as cursor integers: padding may differ between sources.
                if decode_cursor(&c).ok() != decode_cursor(from).ok() {
                    return Ok(Commit::ResumeFrom(c));
                }
            }
            for g in groups {
                for log in &g.logs {
                    let seq = output.generate_id()?;
                    let bytes = sls_protocol::proto::Message::encode_to_vec(log);
                    output.insert(&seq.to_be_bytes(), bytes)?;
                }
            }
            cursors.insert(&key, to.as_bytes())?;
            Ok::<_, ConflictableTransactionError<()>>(Commit::Applied)
        });
        let outcome = match result {
            Ok(c) => c,
            Err(TransactionError::Abort(())) => return Err(sled_err("transaction aborted")),
            Err(TransactionError::Storage(e)) => return Err(sled_err(e)),
        };
        if outcome == Commit::Applied {
            // Durable before the source moves on (sled's flush; see the emulator's NOTES on
            // fsync for how much durability that buys).
            self.db.flush().map_err(sled_err)?;
        }
        Ok(outcome)
    }
}
