//! Writes racing shard splits: a write whose shard closes between routing and appending
//! goes to the shard that holds its key now, and is never refused for it.

use sls_protocol::types::UnixNanos;

use super::{AdmitAll, LogstoreRecord, ProjectRecord, PutLogs, Result, Route, SplitAt, Store};

const NOW: i64 = 1_700_000_000_000_000_000;
const KEY: u128 = 0x4000_0000_0000_0000_0000_0000_0000_0001;

async fn store_with(shards: u32) -> (Store, tempfile::TempDir) {
    let (store, dir) = Store::open_temporary();
    store
        .create_project(ProjectRecord::new("p", 0))
        .await
        .unwrap();
    store
        .create_logstore(LogstoreRecord::new("p", "l", 0), shards, UnixNanos(NOW))
        .await
        .unwrap();
    (store, dir)
}

/// Writes `group` with hash key `key` as PutLogs does; returns the shard it landed in.
async fn put(store: &Store, key: u128, group: &[u8]) -> Result<u32> {
    let put = PutLogs {
        project: "p",
        logstore: "l",
        route: Route::HashKey { key, seqid: None },
        group: group.to_vec(),
        client_ip: None,
        now: UnixNanos::from_secs(1),
        admit: &AdmitAll,
    };
    Ok(store.put_logs(put).await?.shard.0)
}

/// Every LogGroup stored in a shard.
fn stored(store: &Store, shard: u32) -> Vec<Vec<u8>> {
    let ls = store.logstore("p", "l").unwrap();
    let sh = ls.shard(shard).unwrap();
    let batch = store.read(&ls, &sh, 0, u64::MAX, 1000, usize::MAX).unwrap();
    batch.groups.iter().map(|g| g.bytes.to_vec()).collect()
}

#[tokio::test]
async fn a_split_between_routing_and_appending_sends_the_write_to_the_child() {
    let (store, _dir) = store_with(1).await;
    let pause = store.pause_next_write();
    let writer = tokio::spawn({
        let store = store.clone();
        async move { put(&store, KEY, b"raced").await }
    });
    // The write has picked shard 0 and not locked it yet: split it now.
    pause.reached.notified().await;
    let split = store
        .split_shard("p", "l", 0, SplitAt::Key(KEY), UnixNanos(NOW + 1))
        .await
        .unwrap();
    let right = split[2].id;
    pause.resume.notify_one();

    let landed = writer
        .await
        .unwrap()
        .expect("a write racing a split is stored, not refused");
    assert_eq!(landed, right, "the key's shard now");
    assert_eq!(stored(&store, right), [b"raced"]);
    assert!(
        stored(&store, 0).is_empty(),
        "nothing after the parent closed"
    );
}
