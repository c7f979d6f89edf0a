//! Time-driven behaviour on a manual clock: cursors by receive time, GetCursorTime, ttl
//! expiry (and that expired sequence numbers are never reused, even across restarts).

use std::sync::Arc;

use serde_json::json;
use sls_emulator::clock::Clock;
use sls_emulator::testing::{ManualClock, TestServer};
use sls_protocol::cursor::decode_cursor;

use crate::support::{Client, Req};

const P: &str = "time-test";
const L: &str = "ls";

async fn cursor_time(c: &Client, cursor: &str) -> i64 {
    let r = c
        .send(
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "cursor_time")
                .q("cursor", cursor),
        )
        .await;
    r.assert_ok();
    r.json()["cursor_time"].as_i64().unwrap()
}

#[tokio::test]
async fn cursors_by_receive_time() {
    let clock = Arc::new(ManualClock::at_secs(1_800_000_000));
    // Signed requests carry the real date; the skew check would reject them on a fake clock.
    let server = TestServer::start_with_clock(|c| c.max_skew_secs = 0, clock.clone())
        .await
        .unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    let empty_begin = c.cursor(P, L, 0, "begin").await;
    assert_eq!(
        empty_begin,
        c.cursor(P, L, 0, "end").await,
        "empty shard: begin == end"
    );
    c.put(P, L, &["a".into()], None).await.assert_ok();
    clock.advance_secs(10);
    c.put(P, L, &["b".into()], None).await.assert_ok();
    c.put(P, L, &["c".into()], None).await.assert_ok();
    clock.advance_secs(10);

    let begin = c.cursor(P, L, 0, "begin").await;
    let end = c.cursor(P, L, 0, "end").await;
    assert_eq!(begin, empty_begin);
    assert_eq!(
        decode_cursor(&end).unwrap() - decode_cursor(&begin).unwrap(),
        3
    );
    assert_eq!(c.cursor(P, L, 0, "1799999999").await, begin);
    assert_eq!(c.cursor(P, L, 0, "1800000000").await, begin);
    let second = c.cursor(P, L, 0, "1800000001").await;
    assert_eq!(
        decode_cursor(&second).unwrap(),
        decode_cursor(&begin).unwrap() + 1
    );
    assert_eq!(c.cursor(P, L, 0, "1800000010").await, second);
    assert_eq!(c.cursor(P, L, 0, "1800000011").await, end);
    assert_eq!(cursor_time(&c, &begin).await, 1_800_000_000);
    assert_eq!(cursor_time(&c, &second).await, 1_800_000_010);
    assert_eq!(
        cursor_time(&c, &end).await,
        1_800_000_010,
        "end: the last group's time"
    );

    // A clock stepping back does not make receive times go backwards.
    clock.advance_secs(-100);
    c.put(P, L, &["d".into()], None).await.assert_ok();
    let last = decode_cursor(&c.cursor(P, L, 0, "end").await).unwrap() - 1;
    let last = sls_protocol::cursor::encode_cursor(last);
    assert_eq!(cursor_time(&c, &last).await, 1_800_000_010);
}

#[tokio::test]
async fn ttl_expiry_moves_begin_and_never_reuses_cursors() {
    let clock = Arc::new(ManualClock::at_secs(1_800_000_000));
    let server = TestServer::start_with_clock(|c| c.max_skew_secs = 0, clock.clone())
        .await
        .unwrap();
    let c = Client::new(&server);
    c.setup(P, L, 1).await;
    c.send(Req::new("PUT", Some(P), &format!("/logstores/{L}")).json(json!({"ttl": 1})))
        .await
        .assert_ok();
    for i in 0..3 {
        c.put(P, L, &[format!("old-{i}")], None).await.assert_ok();
    }
    clock.advance_secs(86_400 / 2);
    c.put(P, L, &["young".into()], None).await.assert_ok();
    let old_begin = c.cursor(P, L, 0, "begin").await;

    clock.advance_secs(86_400 / 2 + 1);
    assert_eq!(server.store().expire(clock.now_secs()).unwrap(), 3);
    assert_eq!(c.read_ids(P, L, 0).await, vec!["young".to_string()]);
    let begin = c.cursor(P, L, 0, "begin").await;
    assert_eq!(
        decode_cursor(&begin).unwrap(),
        decode_cursor(&old_begin).unwrap() + 3
    );
    let r = c
        .send(
            Req::new("GET", Some(P), &format!("/logstores/{L}/shards/0"))
                .q("type", "log")
                .q("cursor", &old_begin)
                .q("count", "10"),
        )
        .await;
    r.assert_error(400, "InvalidCursor");

    // Everything expires; after a restart the next write still gets a fresh cursor.
    clock.advance_secs(2 * 86_400);
    assert_eq!(server.store().expire(clock.now_secs()).unwrap(), 1);
    let end_before = c.cursor(P, L, 0, "end").await;
    assert_eq!(c.cursor(P, L, 0, "begin").await, end_before);
    let server = server.restart().await.unwrap();
    let c = Client::new(&server);
    assert_eq!(c.cursor(P, L, 0, "begin").await, end_before);
    assert_eq!(c.cursor(P, L, 0, "end").await, end_before);
    c.put(P, L, &["new".into()], None).await.assert_ok();
    assert_eq!(c.read_ids(P, L, 0).await, vec!["new".to_string()]);
    assert_eq!(c.cursor(P, L, 0, "begin").await, end_before);
}
