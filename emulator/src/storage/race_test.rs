//! Writes racing shard splits: a write whose shard closes between routing and appending
//! goes to the shard that holds its key now, and is never refused for it.

use sls_protocol::types::{ShardId, UnixNanos};

use super::{AdmitAll, PutLogs, Result, Route, SplitAt, Store};

const NOW: i64 = 1_700_000_000_000_000_000;
const KEY: u128 = 0x4000_0000_0000_0000_0000_0000_0000_0001;

async fn store_with(shards: u32) -> (Store, tempfile::TempDir) {
    let (store, dir) = Store::temporary_with_logstore(shards, UnixNanos(NOW)).await;
    (store, dir)
}

/// Writes `group` with hash key `key` as PutLogs does; returns the shard it landed in.
async fn put(store: &Store, key: u128, group: &[u8]) -> Result<ShardId> {
    let put = PutLogs {
        project: "p",
        logstore: "l",
        route: Route::HashKey { key, seqid: None },
        group: group.to_vec(),
        client_ip: None,
        now: UnixNanos::from_secs(1),
        admit: &AdmitAll,
    };
    Ok(store.put_logs(put).await?.shard)
}

/// Every LogGroup stored in a shard.
fn stored(store: &Store, shard: ShardId) -> Vec<Vec<u8>> {
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
        .split_shard("p", "l", ShardId(0), SplitAt::Key(KEY), UnixNanos(NOW + 1))
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
        stored(&store, ShardId(0)).is_empty(),
        "nothing after the parent closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_racing_repeated_splits_and_merges_never_fail_nor_lose_a_write() {
    const WRITERS: u64 = 4;
    const WRITES: u64 = 150;
    let (store, _dir) = store_with(2).await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..WRITES {
                    let payload = format!("{w}-{i}").into_bytes();
                    // Spread keys over the whole space; every other write is load-balanced.
                    let key = u128::from(w * WRITES + i)
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
                    let route = if i % 2 == 0 {
                        Route::HashKey { key, seqid: None }
                    } else {
                        Route::LoadBalance
                    };
                    let put = PutLogs {
                        project: "p",
                        logstore: "l",
                        route,
                        group: payload.clone(),
                        client_ip: None,
                        now: UnixNanos::from_secs(1),
                        admit: &AdmitAll,
                    };
                    let out = store.put_logs(put).await.unwrap_or_else(|e| {
                        panic!("write {w}-{i} failed: {e}");
                    });
                    acked.push((payload, out, (i % 2 == 0).then_some(key)));
                }
                acked
            })
        })
        .collect();
    let reshaper = tokio::spawn({
        let store = store.clone();
        async move {
            for n in 0..40u32 {
                let ls = store.logstore("p", "l").unwrap();
                let rw: Vec<_> = ls
                    .shards()
                    .into_iter()
                    .filter(|s| s.status() == crate::model::shard::ShardStatus::Readwrite)
                    .collect();
                let s = &rw[n as usize % rw.len()];
                let now = UnixNanos(NOW + i64::from(n) + 1);
                if n % 3 == 2 && rw.len() > 2 {
                    // Fails only without a readwrite right neighbour (the last shard).
                    let _ = store.merge_shard("p", "l", s.id, now).await;
                } else {
                    store
                        .split_shard("p", "l", s.id, SplitAt::Even(2), now)
                        .await
                        .unwrap();
                }
                tokio::task::yield_now().await;
            }
        }
    });
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    reshaper.await.unwrap();

    let ls = store.logstore("p", "l").unwrap();
    assert!(
        ls.shards().len() > 2,
        "the layout changed under the writers"
    );
    let mut found = std::collections::BTreeMap::new();
    for s in ls.shards() {
        let batch = store
            .read(&ls, &s, 0, u64::MAX, usize::MAX, usize::MAX)
            .unwrap();
        for g in batch.groups {
            let again = found.insert(g.bytes.to_vec(), (s.id, g.seq));
            assert!(again.is_none(), "stored twice: {:?}", g.bytes);
        }
    }
    assert_eq!(
        found.len(),
        acked.len(),
        "only acknowledged writes are stored"
    );
    for (payload, out, key) in acked {
        assert_eq!(found.get(&payload), Some(&(out.shard, out.seq)));
        if let Some(key) = key {
            let s = ls.shard(out.shard).unwrap();
            assert!(crate::model::shard::range_contains(
                s.begin_key,
                s.end_key,
                key
            ));
        }
    }
}
