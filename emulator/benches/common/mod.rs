//! What the benches share: the workload's LogGroups and the signatures' clock.

use prost::Message;
use sls_protocol::proto::{Log, LogContent, LogGroup};

/// Now, unix seconds (the signatures' date).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `logs` logs of ~250 raw bytes (a level, a request id made of `seed` and the index, an
/// access-log message, a host), stamped `time`, as protobuf.
pub fn log_group(logs: usize, seed: u64, time: u32) -> Vec<u8> {
    let logs = (0..logs)
        .map(|i| Log {
            time: Some(time),
            contents: vec![
                LogContent { key: "level".into(), value: "INFO".into() },
                LogContent { key: "request_id".into(), value: format!("{seed:08}-{i:08}").into() },
                LogContent {
                    key: "message".into(),
                    value: format!("GET /api/v1/items/{i} 200 {} ms user=u{} agent=Mozilla/5.0 (X11; Linux x86_64) path=/srv/app/handlers/items.rs:{}", i % 97, i % 13, i % 500).into(),
                },
                LogContent { key: "host".into(), value: format!("web-{:02}.prod.example", i % 16).into() },
            ],
            time_ns: None,
        })
        .collect();
    LogGroup {
        logs,
        topic: Some("bench".into()),
        source: Some("10.0.0.1".into()),
        ..Default::default()
    }
    .encode_to_vec()
}
