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

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<(), Arc<std::io::Error>>>;

/// Handle to the commit thread. Dropping it stops the thread (after the queued commits).
#[derive(Debug)]
pub(crate) struct Committer {
    tx: Option<mpsc::Sender<Reply>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the commit thread for the sled database stored in `dir`.
    pub(crate) fn start(db: sled::Db, dir: &Path) -> std::io::Result<Self> {
        let db_file = File::open(dir.join("db"))?;
        let blobs = dir.join("blobs");
        let (tx, rx) = mpsc::channel::<Reply>();
        let thread = std::thread::Builder::new()
            .name("sls-emu-commit".into())
            .spawn(move || {
                let mut synced = HashSet::new();
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    let result = sync_once(&db, &db_file, &blobs, &mut synced).map_err(Arc::new);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "commit failed");
                    }
                    for reply in batch {
                        // A writer that stopped waiting (client gone) is not an error.
                        let _ = reply.send(result.clone());
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
        let (reply, wait) = oneshot::channel();
        let gone = || Arc::new(std::io::Error::other("commit thread stopped"));
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send(reply)
            .map_err(|_| gone())?;
        wait.await.map_err(|_| gone())?
    }
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
