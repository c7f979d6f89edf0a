//! JSON bodies of the SLS API as the service spells them, for the emulator (which writes
//! them) and clients (which read them). Field names follow the wire (`shardID`,
//! `inclusiveBeginKey`, `cursor_time`, …), including its inconsistent casing.

use serde::{Deserialize, Serialize};

use crate::hash::parse_hash_key;
use crate::types::{Cursor, ShardId};
use crate::ProtocolError;

/// Every SLS error answer: `{"errorCode", "errorMessage"}` with a non-200 status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The code (see [`crate::codes`]).
    #[serde(rename = "errorCode")]
    pub code: String,
    /// A human message (never empty: Node's SDK ignores errors whose message is empty).
    #[serde(rename = "errorMessage")]
    pub message: String,
}

/// One shard in the ListShards, SplitShard and MergeShards answers (arrays of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Id.
    #[serde(rename = "shardID")]
    pub id: ShardId,
    /// `readwrite` or `readonly`.
    pub status: String,
    /// Inclusive begin of the hash range (32 lower-case hex digits).
    #[serde(rename = "inclusiveBeginKey")]
    pub begin_key: String,
    /// Exclusive end of the hash range.
    #[serde(rename = "exclusiveEndKey")]
    pub end_key: String,
    /// Creation time, unix seconds.
    #[serde(rename = "createTime")]
    pub create_time: i64,
}

impl ShardInfo {
    /// Whether it accepts writes.
    pub fn is_readwrite(&self) -> bool {
        self.status == "readwrite"
    }

    /// The hash range as numbers: `[begin, end)`.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidHashKey`] when a key is not 1 to 32 hex digits.
    pub fn range(&self) -> Result<(u128, u128), ProtocolError> {
        Ok((
            parse_hash_key(&self.begin_key)?,
            parse_hash_key(&self.end_key)?,
        ))
    }
}

/// GetCursor's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorBody {
    /// The cursor.
    pub cursor: Cursor,
}

/// GetCursorTime's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorTimeBody {
    /// Unix seconds.
    pub cursor_time: i64,
}

/// ListLogStores' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogstoreList {
    /// Names on this page.
    pub count: u64,
    /// Names matching the filter.
    pub total: u64,
    /// The names.
    pub logstores: Vec<String>,
}

/// A consumer group: ListConsumerGroup entries, and the CreateConsumerGroup body
/// (`consumerGroup` there instead of `name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupInfo {
    /// Name.
    #[serde(alias = "consumerGroup")]
    pub name: String,
    /// Seconds without a heartbeat after which a consumer is removed.
    pub timeout: u32,
    /// Children are consumed only after their parents.
    pub order: bool,
}

/// One entry of GetCheckPoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Shard.
    pub shard: ShardId,
    /// The saved cursor, `""` when never saved.
    pub checkpoint: String,
    /// When it was saved, microseconds.
    #[serde(rename = "updateTime")]
    pub update_time_us: i64,
    /// Who saved it (always present, maybe empty).
    pub consumer: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_follow_the_wire() {
        let shard = ShardInfo {
            id: ShardId(3),
            status: "readwrite".into(),
            begin_key: "00".repeat(16),
            end_key: "ff".repeat(16),
            create_time: 1,
        };
        let v = serde_json::to_value(&shard).unwrap();
        assert_eq!(v["shardID"], 3);
        assert!(v["inclusiveBeginKey"].is_string() && v["exclusiveEndKey"].is_string());
        let cp = CheckpointInfo {
            shard: ShardId(1),
            checkpoint: String::new(),
            update_time_us: 5,
            consumer: "c".into(),
        };
        assert_eq!(
            serde_json::to_value(&cp).unwrap(),
            json!({"shard": 1, "checkpoint": "", "updateTime": 5, "consumer": "c"})
        );
        let e: ErrorBody =
            serde_json::from_value(json!({"errorCode": "X", "errorMessage": "m"})).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("X", "m"));
        let cursor = CursorBody {
            cursor: Cursor::from_value(7),
        };
        assert_eq!(
            serde_json::to_value(cursor).unwrap(),
            json!({"cursor": "Nw=="})
        );
    }
}
