//! Small typed values of the wire: shard ids, cursors, nanosecond times. Each keeps its raw
//! integer private-by-intent (use the accessors), so a shard id cannot be passed where a
//! sequence number or a time is wanted.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cursor::{decode_cursor, encode_cursor};
use crate::ProtocolError;

/// A shard's id within its logstore (`shardID` on the wire, a path segment of
/// `/shards/{id}`): a non-negative decimal integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShardId(pub u32);

impl ShardId {
    /// The id as an integer.
    pub fn get(self) -> u32 {
        self.0
    }

    /// Parses a path segment or query value: decimal digits only.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidShardId`] for anything else.
    pub fn parse(s: &str) -> Result<ShardId, ProtocolError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProtocolError::InvalidShardId(s.to_owned()));
        }
        s.parse()
            .map(ShardId)
            .map_err(|_| ProtocolError::InvalidShardId(s.to_owned()))
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq<u32> for ShardId {
    fn eq(&self, other: &u32) -> bool {
        self.0 == *other
    }
}

impl From<u32> for ShardId {
    fn from(v: u32) -> Self {
        ShardId(v)
    }
}

/// A cursor: an opaque position in a shard. On the wire it is base64 of a decimal `i64`
/// (SLS-API.md §7); clients may only rely on consecutive LogGroups having consecutive values.
/// A `Cursor` that exists has been validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(i64);

impl Cursor {
    /// The cursor with this integer value.
    pub fn from_value(v: i64) -> Cursor {
        Cursor(v)
    }

    /// The integer value (what `x-log-read-last-cursor` carries in plain decimal).
    pub fn value(self) -> i64 {
        self.0
    }

    /// Parses the base64 wire form.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidCursor`] when it is not base64 of a decimal `i64`.
    pub fn parse(s: &str) -> Result<Cursor, ProtocolError> {
        decode_cursor(s).map(Cursor)
    }

    /// The base64 wire form.
    pub fn encode(self) -> String {
        encode_cursor(self.0)
    }
}

impl fmt::Display for Cursor {
    /// The wire (base64) form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cursor, D::Error> {
        let s = String::deserialize(d)?;
        Cursor::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A point in time, nanoseconds since the Unix epoch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixNanos(pub i64);

impl UnixNanos {
    const PER_SEC: i64 = 1_000_000_000;

    /// The time `secs` seconds after the epoch.
    pub fn from_secs(secs: i64) -> UnixNanos {
        UnixNanos(secs.saturating_mul(Self::PER_SEC))
    }

    /// Nanoseconds since the epoch.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down, also before 1970).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::PER_SEC)
    }

    /// Whole microseconds since the epoch (rounded down).
    pub fn micros(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    /// Whole milliseconds since the epoch (rounded down).
    pub fn millis(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// The time `d` later, saturating (so a huge timeout means "never", not a wrap).
    pub fn saturating_add(self, d: Duration) -> UnixNanos {
        UnixNanos(
            self.0
                .saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        )
    }

    /// Seconds as the `u32` SLS stores receive times in (clamped).
    pub fn secs_u32(self) -> u32 {
        u32::try_from(self.secs().max(0)).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ids_are_plain_decimals() {
        assert_eq!(ShardId::parse("0").unwrap(), ShardId(0));
        assert_eq!(ShardId::parse("4294967295").unwrap(), ShardId(u32::MAX));
        for bad in ["", "-1", "+1", " 1", "1.0", "x", "4294967296"] {
            assert!(ShardId::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ShardId(7).to_string(), "7");
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor::from_value(1_700_000_000_000_000_000);
        assert_eq!(c.encode(), "MTcwMDAwMDAwMDAwMDAwMDAwMA==");
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        assert!(Cursor::parse("not a cursor").is_err());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Cursor>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Cursor>("\"!!\"").is_err());
    }

    #[test]
    fn times_round_down() {
        let t = UnixNanos(-1);
        assert_eq!((t.secs(), t.millis(), t.micros()), (-1, -1, -1));
        let t = UnixNanos::from_secs(5);
        assert_eq!((t.secs(), t.millis(), t.secs_u32()), (5, 5_000, 5));
        assert_eq!(UnixNanos::from_secs(-5).secs_u32(), 0);
        assert_eq!(
            UnixNanos(1).saturating_add(Duration::from_nanos(2)),
            UnixNanos(3)
        );
        assert_eq!(
            UnixNanos(1).saturating_add(Duration::MAX),
            UnixNanos(i64::MAX)
        );
    }
}
