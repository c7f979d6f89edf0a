//! Protobuf messages of SLS (SLS-API.md §5), the JSON PutLogs body (§4.7.3), and byte-level helpers.
//!
//! Messages are derived by hand with `prost` (no `protoc`); field numbers are what matters, names follow
//! the Go/Rust SDKs. Keys and values are opaque bytes ([`Bytes`]): the Python SDK sends non-UTF-8 values.
//!
//! The emulator is expected to store each LogGroup's serialized bytes as received and never re-encode
//! them: [`LogGroup::validate`] checks a body without materialising it, [`encode_log_group_tag`] appends
//! a tag to serialized bytes, and [`log_group_list_from_raw`] assembles a PullLogs body.
//! Compression and HTTP concerns do not belong here.

use bytes::Bytes;
use prost::encoding::{encode_varint, encoded_len_varint};
/// Re-exported so users can `encode_to_vec`/`decode` these messages without depending on `prost`.
pub use prost::Message;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::ProtocolError;

/// One key/value pair of a [`Log`] (`Log.Content` in the proto file).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogContent {
    /// Field 1: key (bytes, normally UTF-8).
    #[prost(bytes = "bytes", required, tag = "1")]
    pub key: Bytes,
    /// Field 2: value (bytes; the Python SDK may send non-UTF-8).
    #[prost(bytes = "bytes", required, tag = "2")]
    pub value: Bytes,
}

/// One log line.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Log {
    /// Field 1 (uint32, required on the wire): unix seconds. `None` only for a decoded log that lacked it,
    /// which [`LogGroup::validate`] rejects.
    #[prost(uint32, optional, tag = "1")]
    pub time: Option<u32>,
    /// Field 2: the log's fields, in order.
    #[prost(message, repeated, tag = "2")]
    pub contents: Vec<LogContent>,
    /// Field 4 (fixed32): nanosecond part 0..=999,999,999; presence is kept (Python always sends it).
    #[prost(fixed32, optional, tag = "4")]
    pub time_ns: Option<u32>,
}

/// One tag of a [`LogGroup`] (shown as `__tag__:{key}` in flat views).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogTag {
    /// Field 1: tag key.
    #[prost(bytes = "bytes", required, tag = "1")]
    pub key: Bytes,
    /// Field 2: tag value.
    #[prost(bytes = "bytes", required, tag = "2")]
    pub value: Bytes,
}

/// The unit of PutLogs (one per request) and of PullLogs (one per cursor).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogGroup {
    /// Field 1: the logs.
    #[prost(message, repeated, tag = "1")]
    pub logs: Vec<Log>,
    /// Field 2: "reserved" in Python/Node; Java strips it. Do not emit it.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub category: Option<Bytes>,
    /// Field 3: topic (`__topic__`).
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub topic: Option<Bytes>,
    /// Field 4: source (`__source__`), usually the client's IP.
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub source: Option<Bytes>,
    /// Field 5: machine UUID.
    #[prost(bytes = "bytes", optional, tag = "5")]
    pub machine_uuid: Option<Bytes>,
    /// Field 6: tags (`__tag__:k`), e.g. the producers' `__pack_id__`.
    #[prost(message, repeated, tag = "6")]
    pub log_tags: Vec<LogTag>,
}

/// A PullLogs body: LogGroups in cursor order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogGroupList {
    /// Field 1: the LogGroups.
    #[prost(message, repeated, tag = "1")]
    pub log_groups: Vec<LogGroup>,
}

/// Compression of one [`SlsLogPackage`] (Java batch mode, `x-log-mode: batch_group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SlsCompressType {
    /// Uncompressed.
    SlsCmpNone = 0,
    /// zlib-wrapped deflate.
    SlsCmpDeflate = 1,
    /// Raw LZ4 block.
    SlsCmpLz4 = 2,
    /// zstd frame.
    SlsCmpZstd = 3,
}

/// One compressed LogGroup of a Java `batchPutLogs` body (§4.7.4).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SlsLogPackage {
    /// Field 1: the compressed LogGroup.
    #[prost(bytes = "bytes", required, tag = "1")]
    pub data: Bytes,
    /// Field 2: uncompressed size of `data`.
    #[prost(int32, optional, tag = "2")]
    pub uncompress_size: Option<i32>,
    /// Field 3: compression of `data`, an [`SlsCompressType`] value.
    #[prost(enumeration = "SlsCompressType", optional, tag = "3")]
    pub compress_type: Option<i32>,
}

/// The body of a Java `batchPutLogs` request (§4.7.4).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SlsLogPackageList {
    /// Field 1: the packages.
    #[prost(message, repeated, tag = "1")]
    pub packages: Vec<SlsLogPackage>,
}

impl LogGroup {
    /// Decodes and validates one serialized LogGroup without materialising it; returns its number of logs.
    ///
    /// Accepts exactly what `prost` decodes into a [`LogGroup`] whose every [`Log`] has `time`, except that
    /// unknown fields of the deprecated group wire types (3/4) are rejected (Java's parser rejects them
    /// too). Unknown fields of other wire types are skipped; keys and values are not checked for UTF-8.
    ///
    /// # Errors
    /// [`ProtocolError::Protobuf`] if the bytes do not parse or a log has no `Time` (SLS: `PostBodyInvalid`).
    pub fn validate(bytes: &[u8]) -> Result<usize, ProtocolError> {
        walk_log_group(bytes).map_err(|e| ProtocolError::Protobuf(e.to_string()))
    }

    /// Decodes one serialized LogGroup into owned messages, with the checks of [`LogGroup::validate`].
    ///
    /// # Errors
    /// [`ProtocolError::Protobuf`] if the bytes do not parse or a log has no `Time`.
    pub fn decode_validated(bytes: &[u8]) -> Result<LogGroup, ProtocolError> {
        Self::validate(bytes)?;
        LogGroup::decode(bytes).map_err(|e| ProtocolError::Protobuf(e.to_string()))
    }

    /// Parses a JSON PutLogs body (SLS-API.md §4.7.3) into a LogGroup:
    ///
    /// ```json
    /// {"__topic__":"t","__source__":"10.0.0.1",
    ///  "__logs__":[{"__time__":1700000000,"__time_ns_part__":123,"k":"v"}],
    ///  "__tags__":{"tag1":"v1"}}
    /// ```
    ///
    /// `__time__` (required) and `__time_ns_part__` (optional, at most 999,999,999) may be numbers or
    /// numeric strings. Other values must be strings; numbers and booleans are accepted and stored as their
    /// JSON text. Log fields and tags keep their order in the body. `__topic__`, `__source__` and `__tags__`
    /// are optional (null counts as absent); unknown top-level keys are ignored.
    ///
    /// # Errors
    /// [`ProtocolError::Json`] when the body is not JSON of that shape, `__logs__` is missing, a log lacks
    /// `__time__`, a time does not fit in `u32`, or a value is null, an array or an object.
    pub fn from_json(body: &[u8]) -> Result<LogGroup, ProtocolError> {
        let parsed: JsonLogGroup =
            serde_json::from_slice(body).map_err(|e| ProtocolError::Json(e.to_string()))?;
        let logs = parsed
            .logs
            .ok_or_else(|| ProtocolError::Json("missing __logs__".to_owned()))?
            .into_iter()
            .enumerate()
            .map(|(index, fields)| json_log(index, fields))
            .collect::<Result<Vec<_>, _>>()?;
        let log_tags = parsed
            .tags
            .unwrap_or_default()
            .0
            .into_iter()
            .map(|(key, value)| {
                Ok(LogTag {
                    value: json_text(&value, &format!("__tags__.{key}"))?,
                    key: Bytes::from(key),
                })
            })
            .collect::<Result<Vec<_>, ProtocolError>>()?;
        Ok(LogGroup {
            logs,
            category: None,
            topic: optional_json_text(parsed.topic, "__topic__")?,
            source: optional_json_text(parsed.source, "__source__")?,
            machine_uuid: None,
            log_tags,
        })
    }
}

/// Serializes a [`LogTag`] as a LogGroup field-6 entry: `0x32`, varint length, LogTag bytes.
///
/// Appending the result to a serialized LogGroup adds the tag (protobuf concatenation appends repeated
/// fields), e.g. `__client_ip__`/`__receive_time__` for logstores with `appendMeta`.
pub fn encode_log_group_tag(key: &[u8], value: &[u8]) -> Vec<u8> {
    let tag_len = field_len(key.len()) + field_len(value.len());
    let mut out = Vec::with_capacity(field_len(tag_len));
    out.push(0x32);
    encode_varint(tag_len as u64, &mut out);
    out.push(0x0a);
    encode_varint(key.len() as u64, &mut out);
    out.extend_from_slice(key);
    out.push(0x12);
    encode_varint(value.len() as u64, &mut out);
    out.extend_from_slice(value);
    out
}

/// Builds a serialized [`LogGroupList`] from already-serialized LogGroups: for each group `0x0A`,
/// varint length, the bytes as given. Nothing is decoded or re-encoded.
pub fn log_group_list_from_raw<'a, I: IntoIterator<Item = &'a [u8]>>(groups: I) -> Vec<u8> {
    let mut out = Vec::new();
    for group in groups {
        out.reserve(field_len(group.len()));
        out.push(0x0a);
        encode_varint(group.len() as u64, &mut out);
        out.extend_from_slice(group);
    }
    out
}

/// Size of a length-delimited field with a one-byte key and a `len`-byte payload.
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

// ---------------------------------------------------------------------------------------------------
// Non-allocating LogGroup walk.

/// Protobuf wire types.
const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_START_GROUP: u8 = 3;
const WIRE_END_GROUP: u8 = 4;
const WIRE_FIXED32: u8 = 5;

/// Why a walk failed; rendered into [`ProtocolError::Protobuf`].
#[derive(Debug)]
enum WalkError {
    /// Malformed wire data inside the given message.
    Wire {
        message: &'static str,
        problem: &'static str,
    },
    /// A known field arrived with the wrong wire type.
    WireType {
        message: &'static str,
        tag: u32,
        wire_type: u8,
    },
    /// A Log (0-based index) without field 1.
    MissingTime { log: usize },
    /// An error inside the Log with this 0-based index.
    InLog { log: usize, source: Box<WalkError> },
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Wire { message, problem } => write!(f, "{message}: {problem}"),
            Self::WireType {
                message,
                tag,
                wire_type,
            } => write!(f, "{message}: field {tag} has wrong wire type {wire_type}"),
            Self::MissingTime { log } => write!(f, "log #{log} has no Time (field 1)"),
            Self::InLog { log, source } => write!(f, "log #{log}: {source}"),
        }
    }
}

/// A cursor over one message's bytes.
struct WireReader<'a> {
    buf: &'a [u8],
    message: &'static str,
}

impl<'a> WireReader<'a> {
    fn new(buf: &'a [u8], message: &'static str) -> Self {
        Self { buf, message }
    }

    fn error(&self, problem: &'static str) -> WalkError {
        WalkError::Wire {
            message: self.message,
            problem,
        }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// LEB128 varint of at most 10 bytes that fits in a u64 (as prost requires).
    fn varint(&mut self) -> Result<u64, WalkError> {
        let mut value: u64 = 0;
        for (index, &byte) in self.buf.iter().enumerate().take(10) {
            if index == 9 && byte > 1 {
                return Err(self.error("varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte < 0x80 {
                self.buf = self.buf.get(index + 1..).unwrap_or_default();
                return Ok(value);
            }
        }
        Err(self.error("truncated or overlong varint"))
    }

    fn bytes(&mut self, len: u64) -> Result<&'a [u8], WalkError> {
        let len = usize::try_from(len).map_err(|_| self.error("length does not fit"))?;
        let (head, tail) = self
            .buf
            .split_at_checked(len)
            .ok_or_else(|| self.error("field extends past the end of the message"))?;
        self.buf = tail;
        Ok(head)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], WalkError> {
        let len = self.varint()?;
        self.bytes(len)
    }

    /// Field key: (tag, wire type), with prost's checks.
    fn key(&mut self) -> Result<(u32, u8), WalkError> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| self.error("field key too large"))?;
        let tag = key >> 3;
        let wire_type = (key & 7) as u8;
        if tag == 0 {
            return Err(self.error("field number 0"));
        }
        if wire_type > WIRE_FIXED32 {
            return Err(self.error("invalid wire type"));
        }
        Ok((tag, wire_type))
    }

    /// Skips an unknown field's payload.
    fn skip(&mut self, wire_type: u8) -> Result<(), WalkError> {
        match wire_type {
            WIRE_VARINT => self.varint().map(drop),
            WIRE_FIXED64 => self.bytes(8).map(drop),
            WIRE_LEN => self.len_delimited().map(drop),
            WIRE_FIXED32 => self.bytes(4).map(drop),
            WIRE_START_GROUP | WIRE_END_GROUP => Err(self.error("group fields are not supported")),
            _ => Err(self.error("invalid wire type")),
        }
    }

    fn wrong_type(&self, tag: u32, wire_type: u8) -> WalkError {
        WalkError::WireType {
            message: self.message,
            tag,
            wire_type,
        }
    }
}

/// Walks a serialized LogGroup; returns its number of logs.
fn walk_log_group(bytes: &[u8]) -> Result<usize, WalkError> {
    let mut reader = WireReader::new(bytes, "LogGroup");
    let mut logs = 0usize;
    while !reader.is_empty() {
        match reader.key()? {
            (1, WIRE_LEN) => {
                let log = reader.len_delimited()?;
                walk_log(log).map_err(|e| match e {
                    WalkError::MissingTime { .. } => WalkError::MissingTime { log: logs },
                    other => WalkError::InLog {
                        log: logs,
                        source: Box::new(other),
                    },
                })?;
                logs += 1;
            }
            (2..=5, WIRE_LEN) => {
                reader.len_delimited()?;
            }
            (6, WIRE_LEN) => walk_pair(reader.len_delimited()?, "LogTag")?,
            (tag @ 1..=6, wire_type) => return Err(reader.wrong_type(tag, wire_type)),
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    Ok(logs)
}

/// Walks a serialized Log; fails with `MissingTime` when field 1 is absent.
fn walk_log(bytes: &[u8]) -> Result<(), WalkError> {
    let mut reader = WireReader::new(bytes, "Log");
    let mut has_time = false;
    while !reader.is_empty() {
        match reader.key()? {
            (1, WIRE_VARINT) => {
                reader.varint()?;
                has_time = true;
            }
            (2, WIRE_LEN) => walk_pair(reader.len_delimited()?, "Log.Content")?,
            (4, WIRE_FIXED32) => {
                reader.bytes(4)?;
            }
            (tag @ (1 | 2 | 4), wire_type) => return Err(reader.wrong_type(tag, wire_type)),
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    if has_time {
        Ok(())
    } else {
        Err(WalkError::MissingTime { log: 0 })
    }
}

/// Walks a key/value message (Log.Content or LogTag): fields 1 and 2 are length-delimited.
fn walk_pair(bytes: &[u8], message: &'static str) -> Result<(), WalkError> {
    let mut reader = WireReader::new(bytes, message);
    while !reader.is_empty() {
        match reader.key()? {
            (1 | 2, WIRE_LEN) => {
                reader.len_delimited()?;
            }
            (tag @ (1 | 2), wire_type) => return Err(reader.wrong_type(tag, wire_type)),
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// JSON PutLogs body.

/// Top level of a JSON PutLogs body.
#[derive(Deserialize)]
struct JsonLogGroup {
    #[serde(rename = "__topic__", default)]
    topic: Option<Value>,
    #[serde(rename = "__source__", default)]
    source: Option<Value>,
    #[serde(rename = "__logs__", default)]
    logs: Option<Vec<OrderedObject>>,
    #[serde(rename = "__tags__", default)]
    tags: Option<OrderedObject>,
}

/// A JSON object whose entries keep their order (and duplicates), unlike `serde_json::Map`.
#[derive(Default)]
struct OrderedObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedObject(entries))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Converts one `__logs__` entry.
fn json_log(index: usize, fields: OrderedObject) -> Result<Log, ProtocolError> {
    let mut time = None;
    let mut time_ns = None;
    let mut contents = Vec::with_capacity(fields.0.len());
    for (key, value) in fields.0 {
        match key.as_str() {
            "__time__" => time = Some(json_u32(&value, index, "__time__")?),
            "__time_ns_part__" if value.is_null() => time_ns = None,
            "__time_ns_part__" => {
                let ns = json_u32(&value, index, "__time_ns_part__")?;
                if ns > 999_999_999 {
                    return Err(ProtocolError::Json(format!(
                        "log #{index}: __time_ns_part__ {ns} is not below 10^9"
                    )));
                }
                time_ns = Some(ns);
            }
            _ => {
                let value = json_text(&value, &format!("log #{index} field {key:?}"))?;
                contents.push(LogContent {
                    key: Bytes::from(key),
                    value,
                });
            }
        }
    }
    let time = time.ok_or_else(|| ProtocolError::Json(format!("log #{index} has no __time__")))?;
    Ok(Log {
        time: Some(time),
        contents,
        time_ns,
    })
}

/// A `u32` given as a JSON number or a string of decimal digits.
fn json_u32(value: &Value, index: usize, name: &str) -> Result<u32, ProtocolError> {
    let parsed = match value {
        Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u32>().ok()
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        ProtocolError::Json(format!(
            "log #{index}: {name} must be an unsigned 32-bit integer, got {value}"
        ))
    })
}

/// A field value: strings as they are, numbers and booleans as their JSON text.
fn json_text(value: &Value, what: &str) -> Result<Bytes, ProtocolError> {
    match value {
        Value::String(s) => Ok(Bytes::from(s.clone())),
        Value::Number(n) => Ok(Bytes::from(n.to_string())),
        Value::Bool(b) => Ok(Bytes::from(b.to_string())),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(ProtocolError::Json(format!(
            "{what} must be a string, got {value}"
        ))),
    }
}

/// An optional top-level string (null counts as absent).
fn optional_json_text(value: Option<Value>, what: &str) -> Result<Option<Bytes>, ProtocolError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => json_text(&value, what).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// SLS-API.md §5.3.
    const VECTOR_HEX: &str = "0a130880e2cfaa0612060a016b120176257b0000001a05746f706963220831302e302e302e3132190a0b5f5f7061636b5f69645f5f120a35463343324131422d30";

    fn vector_group() -> LogGroup {
        LogGroup {
            logs: vec![Log {
                time: Some(1_700_000_000),
                contents: vec![LogContent {
                    key: Bytes::from_static(b"k"),
                    value: Bytes::from_static(b"v"),
                }],
                time_ns: Some(123),
            }],
            category: None,
            topic: Some(Bytes::from_static(b"topic")),
            source: Some(Bytes::from_static(b"10.0.0.1")),
            machine_uuid: None,
            log_tags: vec![LogTag {
                key: Bytes::from_static(b"__pack_id__"),
                value: Bytes::from_static(b"5F3C2A1B-0"),
            }],
        }
    }

    #[test]
    fn spec_vector_encodes_exactly() {
        let encoded = vector_group().encode_to_vec();
        assert_eq!(encoded.len(), 65);
        assert_eq!(hex::encode(&encoded), VECTOR_HEX);
    }

    #[test]
    fn spec_vector_decodes_and_validates() {
        let bytes = hex::decode(VECTOR_HEX).unwrap();
        assert_eq!(LogGroup::decode(&bytes[..]).unwrap(), vector_group());
        assert_eq!(LogGroup::validate(&bytes).unwrap(), 1);
        assert_eq!(LogGroup::decode_validated(&bytes).unwrap(), vector_group());
    }

    #[test]
    fn spec_vector_as_a_list() {
        let bytes = hex::decode(VECTOR_HEX).unwrap();
        let list = log_group_list_from_raw([&bytes[..]]);
        assert_eq!(list.len(), 67);
        assert_eq!(&list[..2], &[0x0a, 0x41]);
        let encoded = LogGroupList {
            log_groups: vec![vector_group()],
        }
        .encode_to_vec();
        assert_eq!(list, encoded);
        let decoded = LogGroupList::decode(&list[..]).unwrap();
        assert_eq!(decoded.log_groups, vec![vector_group()]);
    }

    #[test]
    fn list_from_raw_handles_many_and_large_groups() {
        assert!(log_group_list_from_raw(std::iter::empty::<&[u8]>()).is_empty());
        let small = hex::decode(VECTOR_HEX).unwrap();
        let mut big_group = vector_group();
        big_group.logs[0].contents[0].value = Bytes::from(vec![b'x'; 300]);
        let big = big_group.encode_to_vec();
        let list = log_group_list_from_raw([&small[..], &big[..], &small[..]]);
        let decoded = LogGroupList::decode(&list[..]).unwrap();
        assert_eq!(
            decoded.log_groups,
            vec![vector_group(), big_group, vector_group()]
        );
    }

    #[test]
    fn appended_tag_is_a_new_tag() {
        let mut bytes = hex::decode(VECTOR_HEX).unwrap();
        bytes.extend(encode_log_group_tag(b"__client_ip__", b"127.0.0.1"));
        bytes.extend(encode_log_group_tag(b"", &[0xff; 200]));
        let group = LogGroup::decode_validated(&bytes).unwrap();
        assert_eq!(group.log_tags.len(), 3);
        assert_eq!(group.log_tags[1].key, "__client_ip__");
        assert_eq!(group.log_tags[1].value, "127.0.0.1");
        assert_eq!(group.log_tags[2].key, "");
        assert_eq!(group.log_tags[2].value, vec![0xff; 200]);
        let expected = LogTag {
            key: Bytes::from_static(b"k"),
            value: Bytes::from_static(b"v"),
        };
        let mut field = vec![0x32];
        field.extend(expected.encode_length_delimited_to_vec());
        assert_eq!(encode_log_group_tag(b"k", b"v"), field);
    }

    #[test]
    fn missing_time_is_rejected() {
        let mut group = vector_group();
        group.logs.push(Log {
            time: None,
            contents: vec![],
            time_ns: None,
        });
        let bytes = group.encode_to_vec();
        let err = LogGroup::validate(&bytes).unwrap_err();
        assert!(matches!(&err, ProtocolError::Protobuf(m) if m.contains("log #1 has no Time")));
        assert!(LogGroup::decode_validated(&bytes).is_err());
    }

    #[test]
    fn empty_group_and_empty_logs() {
        assert_eq!(LogGroup::validate(&[]).unwrap(), 0);
        // A log with only a time, and an empty content pair.
        let group = LogGroup {
            logs: vec![
                Log {
                    time: Some(0),
                    contents: vec![],
                    time_ns: None,
                },
                Log {
                    time: Some(u32::MAX),
                    contents: vec![LogContent::default()],
                    time_ns: Some(0),
                },
            ],
            ..LogGroup::default()
        };
        assert_eq!(LogGroup::validate(&group.encode_to_vec()).unwrap(), 2);
    }

    #[test]
    fn malformed_bytes_are_rejected() {
        let valid = hex::decode(VECTOR_HEX).unwrap();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", valid[..valid.len() - 1].to_vec()),
            ("bad length", vec![0x0a, 0x05, 0x08]),
            ("field zero", vec![0x00, 0x01]),
            ("wire type 6", vec![0x0e]),
            ("group", vec![0x3b, 0x3c]),
            ("logs as varint", vec![0x08, 0x01]),
            ("topic as fixed32", vec![0x1d, 0, 0, 0, 0]),
            ("time as length", vec![0x0a, 0x03, 0x0a, 0x01, 0x00]),
            (
                "time_ns as varint",
                vec![0x0a, 0x04, 0x08, 0x01, 0x20, 0x01],
            ),
            ("overlong varint", vec![0x0a, 0x02, 0x08, 0xff]),
            (
                "varint overflow",
                vec![
                    0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                ],
            ),
            (
                "content key as varint",
                vec![0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x08, 0x01],
            ),
            ("json", b"{\"__logs__\":[]}".to_vec()),
        ];
        for (name, bytes) in cases {
            let walked = LogGroup::validate(&bytes);
            assert!(
                matches!(walked, Err(ProtocolError::Protobuf(_))),
                "{name}: {walked:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let mut bytes = hex::decode(VECTOR_HEX).unwrap();
        // Unknown varint, fixed64, length-delimited and fixed32 fields at the top level.
        bytes.extend([0x38, 0x96, 0x01]);
        bytes.extend([0x41, 1, 2, 3, 4, 5, 6, 7, 8]);
        bytes.extend([0x4a, 0x02, 0xaa, 0xbb]);
        bytes.extend([0x55, 1, 2, 3, 4]);
        // A log with time plus an unknown field 3 and a content with an unknown field 3.
        bytes.extend([
            0x0a, 0x0a, 0x08, 0x01, 0x18, 0x07, 0x12, 0x04, 0x1a, 0x02, 0x61, 0x62,
        ]);
        assert_eq!(LogGroup::validate(&bytes).unwrap(), 2);
        assert_eq!(LogGroup::decode(&bytes[..]).unwrap().logs.len(), 2);
    }

    #[test]
    fn non_utf8_values_are_accepted() {
        let group = LogGroup {
            logs: vec![Log {
                time: Some(1),
                contents: vec![LogContent {
                    key: Bytes::from_static(b"bin"),
                    value: Bytes::from_static(&[0xff, 0xfe, 0x00, 0x80]),
                }],
                time_ns: None,
            }],
            ..LogGroup::default()
        };
        let bytes = group.encode_to_vec();
        assert_eq!(LogGroup::decode_validated(&bytes).unwrap(), group);
    }

    #[test]
    fn json_body_from_the_spec() {
        let body = br#"{"__topic__":"t","__source__":"10.0.0.1",
            "__logs__":[{"__time__":1700000000,"__time_ns_part__":123,"k":"v"}],
            "__tags__":{"tag1":"v1"}}"#;
        let group = LogGroup::from_json(body).unwrap();
        assert_eq!(
            group,
            LogGroup {
                logs: vec![Log {
                    time: Some(1_700_000_000),
                    contents: vec![LogContent {
                        key: Bytes::from_static(b"k"),
                        value: Bytes::from_static(b"v"),
                    }],
                    time_ns: Some(123),
                }],
                category: None,
                topic: Some(Bytes::from_static(b"t")),
                source: Some(Bytes::from_static(b"10.0.0.1")),
                machine_uuid: None,
                log_tags: vec![LogTag {
                    key: Bytes::from_static(b"tag1"),
                    value: Bytes::from_static(b"v1"),
                }],
            }
        );
        assert_eq!(LogGroup::validate(&group.encode_to_vec()).unwrap(), 1);
    }

    #[test]
    fn json_keeps_field_order_and_renders_scalars() {
        let body = br#"{"__logs__":[{"z":"1","__time__":"1700000000","a":2,"m":true,"a":"dup","n":-1.5}]}"#;
        let group = LogGroup::from_json(body).unwrap();
        let log = &group.logs[0];
        assert_eq!(log.time, Some(1_700_000_000));
        assert_eq!(log.time_ns, None);
        let pairs: Vec<(&[u8], &[u8])> = log
            .contents
            .iter()
            .map(|c| (&c.key[..], &c.value[..]))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (&b"z"[..], &b"1"[..]),
                (b"a", b"2"),
                (b"m", b"true"),
                (b"a", b"dup"),
                (b"n", b"-1.5"),
            ]
        );
        assert_eq!(group.topic, None);
        assert_eq!(group.source, None);
        assert!(group.log_tags.is_empty());
    }

    #[test]
    fn json_rejects_bad_bodies() {
        for (name, body) in [
            ("not json", &b"nope"[..]),
            ("not an object", b"[]"),
            ("no logs", b"{\"__topic__\":\"t\"}"),
            ("logs not an array", b"{\"__logs__\":{}}"),
            ("log not an object", b"{\"__logs__\":[1]}"),
            ("missing time", b"{\"__logs__\":[{\"k\":\"v\"}]}"),
            ("negative time", b"{\"__logs__\":[{\"__time__\":-1}]}"),
            ("float time", b"{\"__logs__\":[{\"__time__\":1.5}]}"),
            (
                "time too big",
                b"{\"__logs__\":[{\"__time__\":4294967296}]}",
            ),
            ("time text", b"{\"__logs__\":[{\"__time__\":\"soon\"}]}"),
            (
                "signed time text",
                b"{\"__logs__\":[{\"__time__\":\"+1\"}]}",
            ),
            (
                "ns too big",
                b"{\"__logs__\":[{\"__time__\":1,\"__time_ns_part__\":1000000000}]}",
            ),
            (
                "null value",
                b"{\"__logs__\":[{\"__time__\":1,\"k\":null}]}",
            ),
            (
                "object value",
                b"{\"__logs__\":[{\"__time__\":1,\"k\":{}}]}",
            ),
            ("array tag", b"{\"__logs__\":[],\"__tags__\":{\"t\":[]}}"),
            ("tags not object", b"{\"__logs__\":[],\"__tags__\":[]}"),
            ("topic object", b"{\"__logs__\":[],\"__topic__\":{}}"),
        ] {
            let result = LogGroup::from_json(body);
            assert!(
                matches!(result, Err(ProtocolError::Json(_))),
                "{name}: {result:?}"
            );
        }
    }

    #[test]
    fn json_accepts_empty_logs_and_null_optionals() {
        let group =
            LogGroup::from_json(br#"{"__logs__":[],"__topic__":null,"__tags__":null,"x":1}"#)
                .unwrap();
        assert_eq!(group, LogGroup::default());
    }

    fn arb_bytes(max: usize) -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
    }

    fn arb_pair() -> impl Strategy<Value = (Bytes, Bytes)> {
        (arb_bytes(16), arb_bytes(300))
    }

    fn arb_log() -> impl Strategy<Value = Log> {
        (
            any::<u32>(),
            proptest::collection::vec(arb_pair(), 0..6),
            proptest::option::of(0u32..1_000_000_000),
        )
            .prop_map(|(time, contents, time_ns)| Log {
                time: Some(time),
                contents: contents
                    .into_iter()
                    .map(|(key, value)| LogContent { key, value })
                    .collect(),
                time_ns,
            })
    }

    fn arb_group() -> impl Strategy<Value = LogGroup> {
        (
            proptest::collection::vec(arb_log(), 0..8),
            proptest::option::of(arb_bytes(8)),
            proptest::option::of(arb_bytes(20)),
            proptest::option::of(arb_bytes(20)),
            proptest::option::of(arb_bytes(20)),
            proptest::collection::vec(arb_pair(), 0..4),
        )
            .prop_map(
                |(logs, category, topic, source, machine_uuid, tags)| LogGroup {
                    logs,
                    category,
                    topic,
                    source,
                    machine_uuid,
                    log_tags: tags
                        .into_iter()
                        .map(|(key, value)| LogTag { key, value })
                        .collect(),
                },
            )
    }

    proptest! {
        #[test]
        fn encode_validate_round_trip(group in arb_group()) {
            let bytes = group.encode_to_vec();
            prop_assert_eq!(LogGroup::validate(&bytes).unwrap(), group.logs.len());
            prop_assert_eq!(LogGroup::decode_validated(&bytes).unwrap(), group);
        }

        #[test]
        fn list_from_raw_matches_prost(groups in proptest::collection::vec(arb_group(), 0..4)) {
            let raw: Vec<Vec<u8>> = groups.iter().map(|g| g.encode_to_vec()).collect();
            let list = log_group_list_from_raw(raw.iter().map(Vec::as_slice));
            let expected = LogGroupList { log_groups: groups }.encode_to_vec();
            prop_assert_eq!(list, expected);
        }

        #[test]
        fn appended_tags_round_trip(
            group in arb_group(),
            tags in proptest::collection::vec(arb_pair(), 1..4),
        ) {
            let mut bytes = group.encode_to_vec();
            for (key, value) in &tags {
                bytes.extend(encode_log_group_tag(key, value));
            }
            let decoded = LogGroup::decode_validated(&bytes).unwrap();
            let added: Vec<(Bytes, Bytes)> = decoded.log_tags[group.log_tags.len()..]
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            prop_assert_eq!(added, tags);
        }

        /// Whatever the walk accepts, prost accepts too, with the same number of logs, all timed.
        #[test]
        fn walk_agrees_with_prost_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(count) = LogGroup::validate(&bytes) {
                let decoded = LogGroup::decode(&bytes[..]).unwrap();
                prop_assert_eq!(decoded.logs.len(), count);
                prop_assert!(decoded.logs.iter().all(|log| log.time.is_some()));
            }
        }

        /// Same on mutations of valid groups, where the walk gets much further.
        #[test]
        fn walk_agrees_with_prost_on_mutations(
            group in arb_group(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = group.encode_to_vec();
            if bytes.is_empty() {
                return Ok(());
            }
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            match LogGroup::validate(&bytes) {
                Ok(count) => {
                    let decoded = LogGroup::decode(&bytes[..]).unwrap();
                    prop_assert_eq!(decoded.logs.len(), count);
                    prop_assert!(decoded.logs.iter().all(|log| log.time.is_some()));
                }
                Err(ProtocolError::Protobuf(message)) => {
                    // The walk stops at the first problem, at the same place prost would; only group
                    // fields (which prost skips) may make it stricter than prost.
                    if !message.contains("group fields") {
                        if let Ok(decoded) = LogGroup::decode(&bytes[..]) {
                            prop_assert!(decoded.logs.iter().any(|log| log.time.is_none()));
                        }
                    }
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }
}
