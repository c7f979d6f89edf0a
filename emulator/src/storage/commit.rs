//! Group commit: makes sled's writes durable with one sync shared by every writer waiting.
//!
//! sled 0.34's `flush()` ends in `sync_file_range`, which is not an fsync (it neither persists
//! the file size nor flushes the disk cache), and values over ~128 KiB go to `blobs/` files
//! that sled never syncs. A commit here is therefore: `flush()`, fsync every blob file not yet
//! synced (and the blobs folder, for their names), then `fdatasync` of sled's `db` file.
//!
//! A writer inserts first and then asks for a commit; the commit thread takes every request
//! that has arrived, syncs once, and answers them all. Any insert made before a request was
//! queued is covered by the sync that answers it.
//!
//! LogGroups are the exception: their bytes go to segment files (`segments.rs`) and their
//! pointers ride in the request ([`IndexWrite`]). The thread fdatasyncs the segment files
//! first and only then applies the pointers to sled, so sled never holds a pointer to bytes
//! a crash could lose. Requests are queued under the shard's append lock, so one shard's
//! pointers are applied in sequence order.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<(), Arc<std::io::Error>>>;

/// A sled batch to apply once the segment files are synced (a LogGroup's pointer and its
/// sequence-id record), and what to forget once it is in sled.
pub(crate) struct IndexWrite {
    pub tree: sled::Tree,
    pub batch: sled::Batch,
    /// Called after the batch is applied (or failed): clears the write's pending state.
    pub done: Option<Box<dyn FnOnce() + Send>>,
}

struct Request {
    reply: Reply,
    index: Option<IndexWrite>,
}

/// Handle to the commit thread. Dropping it stops the thread (after the queued commits).
#[derive(Debug)]
pub(crate) struct Committer {
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the commit thread for the sled database stored in `dir`.
    pub(crate) fn start(
        db: sled::Db,
        dir: &Path,
        segments: super::segments::Pending,
    ) -> std::io::Result<Self> {
        let db_file = File::open(dir.join("db"))?;
        let blobs = dir.join("blobs");
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("sls-emu-commit".into())
            .spawn(move || {
                let mut synced = HashSet::new();
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    let mut replies = Vec::with_capacity(batch.len());
                    // 1. The bytes the pointers name.
                    let synced_segments =
                        super::segments::sync_pending(&segments).map_err(Arc::new);
                    // 2. The pointers, each batch alone: one that fails (its logstore was
                    //    dropped meanwhile) fails only its own writer.
                    for r in batch {
                        let mut own = synced_segments.clone();
                        if let Some(w) = r.index {
                            if own.is_ok() {
                                own = w
                                    .tree
                                    .apply_batch(w.batch)
                                    .map_err(|e| Arc::new(std::io::Error::other(e)));
                            }
                            if let Some(done) = w.done {
                                done();
                            }
                        }
                        replies.push((r.reply, own));
                    }
                    // 3. sled, for the pointers and every metadata change queued before.
                    let result = sync_once(&db, &db_file, &blobs, &mut synced).map_err(Arc::new);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "commit failed");
                    }
                    for (reply, own) in replies {
                        // A writer that stopped waiting (client gone) is not an error.
                        let _ = reply.send(own.and(result.clone()));
                    }
                }
            })?;
        Ok(Committer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Waits until everything inserted before this call is on disk.
    pub(crate) async fn commit(&self) -> Result<(), Arc<std::io::Error>> {
        wait(self.enqueue(None)).await
    }

    /// Queues a commit (with a LogGroup's pointer, applied after the segments are synced)
    /// without waiting: call it under the shard's lock, then [`wait`] outside it.
    pub(crate) fn enqueue(&self, index: Option<IndexWrite>) -> Queued {
        let (reply, rx) = oneshot::channel();
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Request { reply, index }).is_ok());
        Queued(sent.then_some(rx))
    }
}

/// A queued commit.
pub(crate) struct Queued(Option<oneshot::Receiver<Result<(), Arc<std::io::Error>>>>);

/// Waits for a queued commit.
pub(crate) async fn wait(q: Queued) -> Result<(), Arc<std::io::Error>> {
    let gone = || Arc::new(std::io::Error::other("commit thread stopped"));
    q.0.ok_or_else(gone)?.await.map_err(|_| gone())?
}

impl Drop for Committer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sync_once(
    db: &sled::Db,
    db_file: &File,
    blobs: &Path,
    synced: &mut HashSet<OsString>,
) -> std::io::Result<()> {
    db.flush().map_err(std::io::Error::other)?;
    sync_new_blobs(blobs, synced)?;
    db_file.sync_data()
}

/// fsyncs blob files not synced before, then the folder; forgets names sled removed.
fn sync_new_blobs(blobs: &Path, synced: &mut HashSet<OsString>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(blobs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut present = HashSet::new();
    let mut fresh = false;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !synced.contains(&name) {
            match File::open(entry.path()) {
                Ok(f) => f.sync_data()?,
                // sled may have garbage-collected it meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            fresh = true;
        }
        present.insert(name);
    }
    *synced = present;
    if fresh {
        sync_dir(blobs)?;
    }
    Ok(())
}

/// fsyncs a folder so that the names in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The folder holding `path`, for syncing a newly created entry.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
