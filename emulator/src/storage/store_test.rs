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
