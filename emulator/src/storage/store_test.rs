//! Metadata changes: multi-key deletes are one batch, data goes after, leftovers of a crash in
//! between are reclaimed at open.

use sls_protocol::types::{ShardId, UnixNanos};

use super::records::{floor_key, logs_tree_name, logstore_key};
use super::*;
use crate::config::Durability;

const NOW: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

async fn store_with_data() -> (Store, tempfile::TempDir) {
    let (store, dir) = Store::temporary_with_logstore(2, NOW).await;
    let put = PutLogs {
        project: "p",
        logstore: "l",
        route: Route::LoadBalance,
        group: b"group".to_vec(),
        client_ip: None,
        now: NOW,
        admit: &AdmitAll,
    };
    store.put_logs(put).await.unwrap();
    let group = ConsumerGroup {
        name: "g".into(),
        timeout: 20,
        order: false,
    };
    store.create_consumer_group("p", "l", group).await.unwrap();
    (store, dir)
}

fn has_tree(store: &Store, id: u64) -> bool {
    let name = logs_tree_name(id);
    store
        .inner
        .db
        .tree_names()
        .iter()
        .any(|n| n == name.as_bytes())
}

/// Every `meta` key that mentions logstore `id`.
fn meta_keys_of(store: &Store, id: u64) -> Vec<String> {
    let needle = format!("/{id}/");
    store
        .inner
        .meta
        .iter()
        .keys()
        .map(|k| String::from_utf8_lossy(&k.unwrap()).into_owned())
        .filter(|k| k.contains(&needle) || k.starts_with("logstore/"))
        .collect()
}

#[tokio::test]
async fn deleting_a_logstore_removes_every_key_and_its_tree() {
    let (store, _dir) = store_with_data().await;
    let id = store.logstore("p", "l").unwrap().id;
    store
        .inner
        .meta
        .insert(floor_key(id, ShardId(0)), &0u64.to_be_bytes())
        .unwrap();
    store
        .update_checkpoint("p", "l", "g", "", true, ShardId(0), "MTIz", UnixNanos(1))
        .await
        .unwrap();
    assert_eq!(
        meta_keys_of(&store, id).len(),
        4,
        "record, floor, group, checkpoint"
    );

    store.delete_logstore("p", "l").await.unwrap();
    assert_eq!(meta_keys_of(&store, id), Vec::<String>::new());
    assert!(!has_tree(&store, id));
    assert!(matches!(
        store.logstore("p", "l"),
        Err(StorageError::LogStoreNotExist(_))
    ));
}

#[tokio::test]
async fn deleting_a_project_removes_its_logstores() {
    let (store, _dir) = store_with_data().await;
    let id = store.logstore("p", "l").unwrap().id;
    store.delete_project("p").await.unwrap();
    assert_eq!(meta_keys_of(&store, id), Vec::<String>::new());
    assert!(!store.inner.meta.contains_key(b"project/p").unwrap());
    assert!(!has_tree(&store, id));
}

#[tokio::test]
async fn open_drops_the_data_a_crash_left_without_metadata() {
    let (store, dir) = store_with_data().await;
    let ls = store.logstore("p", "l").unwrap();
    let id = ls.id;
    // A crash after a shard's metadata went and before its data did.
    ls.tree
        .insert(logs_key_of(7), &b"\0\0\0\x01gone"[..])
        .unwrap();
    // A crash after the logstore's metadata went and before its tree did.
    store.inner.meta.remove(logstore_key("p", "l")).unwrap();
    let kept = store.inner.db.open_tree(logs_tree_name(id + 100)).unwrap();
    drop((ls, kept));
    store.flush().unwrap();
    drop(store);

    let store = Store::open(dir.path(), Durability::Fsync).unwrap();
    assert!(!has_tree(&store, id), "unnamed tree dropped");
    assert!(!has_tree(&store, id + 100));

    // And a shard's leftovers in a live logstore.
    drop(store);
    let (store, dir) = store_with_data().await;
    let ls = store.logstore("p", "l").unwrap();
    ls.tree
        .insert(logs_key_of(7), &b"\0\0\0\x01gone"[..])
        .unwrap();
    let before = ls.tree.len();
    drop(ls);
    drop(store);
    let store = Store::open(dir.path(), Durability::Fsync).unwrap();
    let ls = store.logstore("p", "l").unwrap();
    assert_eq!(ls.tree.len(), before - 1, "only shard 7's data removed");
    assert_eq!(ls.shards().iter().map(|s| s.end_seq()).sum::<u64>(), 1);
}

/// The data key of shard `shard`, sequence 0.
fn logs_key_of(shard: u32) -> Vec<u8> {
    let mut k = shard.to_be_bytes().to_vec();
    k.extend_from_slice(&0u64.to_be_bytes());
    k
}

fn put_req(group: &[u8], now: UnixNanos) -> PutLogs<'static> {
    PutLogs {
        project: "p",
        logstore: "l",
        route: Route::LoadBalance,
        group: group.to_vec(),
        client_ip: None,
        now,
        admit: &AdmitAll,
    }
}

fn read_all(store: &Store) -> Vec<Vec<u8>> {
    let ls = store.logstore("p", "l").unwrap();
    let shard = ls.shard(ShardId(0)).unwrap();
    let batch = store
        .read(&ls, &shard, 0, u64::MAX, 1000, usize::MAX)
        .unwrap();
    batch.groups.iter().map(|g| g.bytes.to_vec()).collect()
}

fn segment_files(dir: &std::path::Path, ls: u64) -> Vec<std::path::PathBuf> {
    let shard = segments::shard_dir(&segments::logstore_dir(dir, ls), ShardId(0));
    let mut files: Vec<_> = std::fs::read_dir(shard)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Stores written before segments keep their LogGroups inside sled: they stay readable, and
/// new writes go to segments after them.
#[tokio::test]
async fn old_inline_entries_and_segment_entries_read_together() {
    let (store, dir) = Store::temporary_with_logstore(1, NOW).await;
    let id = store.logstore("p", "l").unwrap().id;
    let tree = store.inner.db.open_tree(logs_tree_name(id)).unwrap();
    let mut inline = 1_700_000_000u32.to_be_bytes().to_vec();
    inline.extend_from_slice(b"\x0a\x03old");
    tree.insert(super::logs::key(ShardId(0), 0), inline)
        .unwrap();
    drop((store, tree));
    let store = Store::open(dir.path(), Durability::Fsync).unwrap();
    store.put_logs(put_req(b"\x0a\x03new", NOW)).await.unwrap();
    assert_eq!(
        read_all(&store),
        [b"\x0a\x03old".to_vec(), b"\x0a\x03new".to_vec()]
    );
    assert_eq!(segment_files(dir.path(), id).len(), 1);
    drop(store);
    let store = Store::open(dir.path(), Durability::Fsync).unwrap();
    assert_eq!(
        read_all(&store),
        [b"\x0a\x03old".to_vec(), b"\x0a\x03new".to_vec()]
    );
}

/// A closed buffered store whose one-shard logstore holds groups a, b and c; its id.
async fn buffered_store_with_abc() -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Durability::Buffered).unwrap();
    store
        .create_project(ProjectRecord::new("p", 0))
        .await
        .unwrap();
    store
        .create_logstore(LogstoreRecord::new("p", "l", 0), 1, NOW)
        .await
        .unwrap();
    let id = store.logstore("p", "l").unwrap().id;
    for g in [b"\x0a\x01a", b"\x0a\x01b", b"\x0a\x01c"] {
        store.put_logs(put_req(g, NOW)).await.unwrap();
    }
    store.flush().unwrap();
    // Nothing ever syncs segments here: nothing may wait for it (open files would pile up).
    assert!(store.inner.segments.lock().unwrap().is_empty());
    drop(store);
    (dir, id)
}

/// With buffered durability a crash can tear the last records of a segment: their pointers
/// are dropped at open, and the next write reuses the sequence number and the bytes.
#[tokio::test]
async fn a_torn_segment_tail_is_dropped_at_open() {
    let (dir, id) = buffered_store_with_abc().await;
    let file = segment_files(dir.path(), id).pop().unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let store = Store::open(dir.path(), Durability::Buffered).unwrap();
    assert_eq!(
        read_all(&store),
        [b"\x0a\x01a".to_vec(), b"\x0a\x01b".to_vec()]
    );
    let again = store.put_logs(put_req(b"\x0a\x01d", NOW)).await.unwrap();
    assert_eq!(again.seq, 2);
    assert_eq!(
        read_all(&store),
        [
            b"\x0a\x01a".to_vec(),
            b"\x0a\x01b".to_vec(),
            b"\x0a\x01d".to_vec()
        ]
    );
}

/// TTL expiry removes whole segment files below the new floor; deleting the logstore removes
/// its folder.
#[tokio::test]
async fn expiry_and_deletion_free_segment_files() {
    let (store, dir) = Store::temporary_with_logstore(1, NOW).await;
    let id = store.logstore("p", "l").unwrap().id;
    let big = vec![0x0a; (segments::SEGMENT_BYTES / 2) as usize];
    let old = UnixNanos(NOW.0 - 40 * 86_400 * 1_000_000_000);
    for _ in 0..4 {
        store.put_logs(put_req(&big, old)).await.unwrap();
    }
    store.put_logs(put_req(b"\x0a\x01z", NOW)).await.unwrap();
    assert_eq!(segment_files(dir.path(), id).len(), 3);
    let removed = store.expire(NOW.secs()).unwrap();
    assert_eq!(removed, 4);
    assert_eq!(
        segment_files(dir.path(), id).len(),
        1,
        "only the live segment is left"
    );
    assert_eq!(read_all(&store), [b"\x0a\x01z".to_vec()]);
    store.delete_logstore("p", "l").await.unwrap();
    assert!(!segments::logstore_dir(dir.path(), id).exists());
}

/// With buffered durability the disk may keep a later record and lose an earlier one: the
/// index is cut before the first torn record, not just at the end.
#[tokio::test]
async fn a_record_torn_before_whole_ones_cuts_the_index_there() {
    let (dir, id) = buffered_store_with_abc().await;
    // Record b (the second, 8 + 3 bytes after the first's 11) lost its last byte's value.
    let file = segment_files(dir.path(), id).pop().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[11 + 8 + 2] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let store = Store::open(dir.path(), Durability::Buffered).unwrap();
    assert_eq!(read_all(&store), [b"\x0a\x01a".to_vec()]);
    let again = store.put_logs(put_req(b"\x0a\x01d", NOW)).await.unwrap();
    assert_eq!(again.seq, 1);
    assert_eq!(
        read_all(&store),
        [b"\x0a\x01a".to_vec(), b"\x0a\x01d".to_vec()]
    );
}
