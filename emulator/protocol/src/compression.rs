//! Body compression (SLS-API.md §6): `x-log-compresstype`, `x-log-bodyrawsize` and `Accept-Encoding`.
//!
//! * `lz4`: a raw LZ4 block, no frame, no size prefix; the size travels only in `x-log-bodyrawsize`.
//! * `zstd`: a standard zstd frame.
//! * `deflate`: zlib-wrapped deflate (RFC 1950: `78 9c` header, Adler-32 trailer).
//!
//! [`decompress`] is safe against compression bombs: it never produces more than `raw_size + 1` bytes,
//! so callers only have to bound `raw_size` (the announced size) before calling it. Deciding *which*
//! requests honour `Accept-Encoding` (only PullLogs/GetLogsV2) is the caller's job.

use std::io::{Read, Write};

use flate2::{Decompress, FlushDecompress, Status};

use crate::ProtocolError;

/// A body compression, as named by `x-log-compresstype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompressType {
    /// Uncompressed (no `x-log-compresstype` header).
    None,
    /// Raw LZ4 block without size prefix.
    Lz4,
    /// Standard zstd frame.
    Zstd,
    /// zlib-wrapped deflate (RFC 1950).
    Deflate,
}

impl CompressType {
    /// Reads a request's `x-log-compresstype` value.
    ///
    /// `None` or an empty (or blank) value means [`CompressType::None`]; `lz4`, `zstd` and `deflate` are
    /// matched case-insensitively after trimming.
    ///
    /// # Errors
    /// [`ProtocolError::UnknownCompressType`] for any other value (SLS: `InvalidCompressType`).
    pub fn from_header(value: Option<&str>) -> Result<Self, ProtocolError> {
        let Some(value) = value else {
            return Ok(Self::None);
        };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            Ok(Self::None)
        } else if trimmed.eq_ignore_ascii_case("lz4") {
            Ok(Self::Lz4)
        } else if trimmed.eq_ignore_ascii_case("zstd") {
            Ok(Self::Zstd)
        } else if trimmed.eq_ignore_ascii_case("deflate") {
            Ok(Self::Deflate)
        } else {
            Err(ProtocolError::UnknownCompressType(value.to_owned()))
        }
    }

    /// The `x-log-compresstype` value to send, or `None` for [`CompressType::None`] (omit the header).
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Lz4 => Some("lz4"),
            Self::Zstd => Some("zstd"),
            Self::Deflate => Some("deflate"),
        }
    }

    /// Picks a PullLogs response encoding from an `Accept-Encoding` value.
    ///
    /// The value is split on commas, `;q=` parameters are ignored, tokens compare case-insensitively.
    /// Preference: `lz4`, then `zstd`, then `deflate`, whatever their order in the header. Absent, empty
    /// or anything else (`gzip`, `identity`, …) gives [`CompressType::None`].
    pub fn from_accept_encoding(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Self::None;
        };
        let listed = |name: &str| {
            value.split(',').any(|token| {
                let coding = token.split(';').next().unwrap_or_default().trim();
                coding.eq_ignore_ascii_case(name)
            })
        };
        if listed("lz4") {
            Self::Lz4
        } else if listed("zstd") {
            Self::Zstd
        } else if listed("deflate") {
            Self::Deflate
        } else {
            Self::None
        }
    }
}

/// zstd level used for compression; level 1 is what the Python SDK and the Go SDK (SpeedFastest) use.
const ZSTD_LEVEL: i32 = 1;
/// Smallest zstd window (log2) accepted when decompressing, whatever `raw_size` is: streaming encoders
/// use up to 2^23 for levels below 20, even for tiny inputs. It bounds the memory a hostile frame can make
/// the decoder reserve for small bodies.
const ZSTD_MIN_WINDOW_LOG: u32 = 23;
/// Largest zstd window (log2) the format allows on 64-bit targets.
const ZSTD_MAX_WINDOW_LOG: u32 = 31;

/// Compresses `data` as `kind` describes.
///
/// lz4 gives a raw block without size prefix; zstd a standard frame (level 1, content size included);
/// deflate a zlib stream (default level, header `78 9c`); [`CompressType::None`] a copy.
///
/// # Errors
/// [`ProtocolError::Compress`] if the compressor reports an I/O error (it does not for in-memory data).
pub fn compress(kind: CompressType, data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    match kind {
        CompressType::None => Ok(data.to_vec()),
        CompressType::Lz4 => Ok(lz4_flex::block::compress(data)),
        CompressType::Zstd => zstd::bulk::compress(data, ZSTD_LEVEL)
            .map_err(|e| ProtocolError::Compress(format!("zstd: {e}"))),
        CompressType::Deflate => {
            let mut encoder = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(data.len() / 2 + 16),
                flate2::Compression::default(),
            );
            encoder
                .write_all(data)
                .and_then(|()| encoder.finish())
                .map_err(|e| ProtocolError::Compress(format!("deflate: {e}")))
        }
    }
}

/// Decompresses `data` to exactly `raw_size` bytes (the request's `x-log-bodyrawsize`).
///
/// Never produces more than `raw_size + 1` bytes, whatever the input: a compression bomb fails as soon as
/// its output passes `raw_size`. zstd frames may additionally make the decoder reserve a window of at most
/// `max(2^23, next_power_of_two(raw_size))` bytes, and a first frame that announces a content size larger
/// than `raw_size` is rejected before decoding. Callers must bound `raw_size` themselves (e.g. 10 MB for
/// PutLogs) before calling. Empty `data` with `raw_size == 0` is accepted for every kind.
///
/// # Errors
/// * [`ProtocolError::RawSizeMismatch`] when the output is shorter or longer than `raw_size` (for
///   [`CompressType::None`]: when `data.len() != raw_size`);
/// * [`ProtocolError::Decompress`] when the data is corrupt, truncated, or followed by trailing bytes, or
///   when `raw_size` is impossible (an lz4 block expands at most 255 times; no buffer can be reserved).
pub fn decompress(
    kind: CompressType,
    data: &[u8],
    raw_size: usize,
) -> Result<Vec<u8>, ProtocolError> {
    if data.is_empty() && raw_size == 0 {
        return Ok(Vec::new());
    }
    let out = match kind {
        CompressType::None => data.to_vec(),
        CompressType::Lz4 => decompress_lz4(data, raw_size)?,
        CompressType::Zstd => decompress_zstd(data, raw_size)?,
        CompressType::Deflate => decompress_zlib(data, raw_size)?,
    };
    if out.len() == raw_size {
        Ok(out)
    } else {
        Err(ProtocolError::RawSizeMismatch {
            expected: raw_size,
            actual: out.len(),
        })
    }
}

/// Most output one input byte of an LZ4 block can produce (a 255-valued match-length extension byte).
const LZ4_MAX_RATIO: usize = 255;

/// Decodes a raw LZ4 block into a buffer of exactly `raw_size` bytes.
fn decompress_lz4(data: &[u8], raw_size: usize) -> Result<Vec<u8>, ProtocolError> {
    // Each sequence costs at least 3 input bytes plus one per 255 bytes of match beyond 18, so an
    // announced size above 255 bytes per input byte cannot be right: refuse it before allocating.
    if raw_size > data.len().saturating_mul(LZ4_MAX_RATIO) {
        return Err(ProtocolError::Decompress(format!(
            "lz4: {} bytes cannot expand to x-log-bodyrawsize {raw_size}",
            data.len()
        )));
    }
    let mut out = vec![0u8; raw_size];
    match lz4_flex::block::decompress_into(data, &mut out) {
        Ok(written) => {
            out.truncate(written);
            Ok(out)
        }
        Err(lz4_flex::block::DecompressError::OutputTooSmall { expected, .. }) => {
            Err(ProtocolError::RawSizeMismatch {
                expected: raw_size,
                actual: expected.max(raw_size.saturating_add(1)),
            })
        }
        Err(e) => Err(ProtocolError::Decompress(format!("lz4: {e}"))),
    }
}

/// Decodes zstd frames, stopping after `raw_size + 1` output bytes.
fn decompress_zstd(data: &[u8], raw_size: usize) -> Result<Vec<u8>, ProtocolError> {
    // A first frame that announces more than raw_size bytes can never match: fail before decoding
    // (and before the decoder sizes its buffers from that announcement).
    if let Ok(Some(announced)) = zstd::zstd_safe::get_frame_content_size(data) {
        if usize::try_from(announced).map_or(true, |n| n > raw_size) {
            return Err(ProtocolError::RawSizeMismatch {
                expected: raw_size,
                actual: usize::try_from(announced).unwrap_or(usize::MAX),
            });
        }
    }
    let zstd_error = |e: std::io::Error| ProtocolError::Decompress(format!("zstd: {e}"));
    let mut decoder = zstd::stream::read::Decoder::with_buffer(data).map_err(zstd_error)?;
    decoder
        .window_log_max(zstd_window_log_max(raw_size))
        .map_err(zstd_error)?;
    let mut out = output_buffer(raw_size.saturating_add(1))?;
    read_bounded(decoder, raw_size, &mut out).map_err(zstd_error)?;
    Ok(out)
}

/// Smallest power-of-two window (log2) covering `raw_size`, clamped to the accepted range.
fn zstd_window_log_max(raw_size: usize) -> u32 {
    let needed = usize::BITS - raw_size.saturating_sub(1).leading_zeros();
    needed.clamp(ZSTD_MIN_WINDOW_LOG, ZSTD_MAX_WINDOW_LOG)
}

/// An empty buffer with room for `capacity` bytes. Pages are only touched when written, so a large
/// capacity costs address space, not memory; an impossible one is an error instead of a panic.
fn output_buffer(capacity: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    out.try_reserve_exact(capacity).map_err(|_| {
        ProtocolError::Decompress(format!("cannot reserve {capacity} bytes for the output"))
    })?;
    Ok(out)
}

/// Reads at most `raw_size + 1` bytes from `reader` into `out`.
fn read_bounded(reader: impl Read, raw_size: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
    let limit = raw_size.saturating_add(1);
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_end(out)?;
    Ok(())
}

/// Decodes a zlib stream into at most `raw_size + 1` bytes; the stream must end exactly at the end of
/// `data` (Adler-32 checked).
fn decompress_zlib(data: &[u8], raw_size: usize) -> Result<Vec<u8>, ProtocolError> {
    let limit = raw_size.saturating_add(1);
    let mut out = output_buffer(limit)?;
    let mut inflater = Decompress::new(true);
    loop {
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or_default();
        let before = (inflater.total_in(), inflater.total_out());
        // decompress_vec writes only into the spare capacity, so `out` never grows past `limit`.
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::Finish)
            .map_err(|e| ProtocolError::Decompress(format!("deflate: {e}")))?;
        if out.len() >= limit {
            // More output than announced: stop here, whatever the rest of the stream holds.
            return Ok(out);
        }
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                if before == (inflater.total_in(), inflater.total_out()) {
                    return Err(ProtocolError::Decompress(
                        "deflate: truncated zlib stream".to_owned(),
                    ));
                }
            }
        }
    }
    let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
    if consumed != data.len() {
        return Err(ProtocolError::Decompress(format!(
            "deflate: {} trailing bytes after the zlib stream",
            data.len().saturating_sub(consumed)
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    const ALL: [CompressType; 4] = [
        CompressType::None,
        CompressType::Lz4,
        CompressType::Zstd,
        CompressType::Deflate,
    ];

    /// The 65-byte LogGroup of SLS-API.md §5.3.
    const VECTOR_HEX: &str = "0a130880e2cfaa0612060a016b120176257b0000001a05746f706963220831302e302e302e3132190a0b5f5f7061636b5f69645f5f120a35463343324131422d30";

    #[test]
    fn header_values_parse() {
        assert_eq!(CompressType::from_header(None).unwrap(), CompressType::None);
        assert_eq!(
            CompressType::from_header(Some("")).unwrap(),
            CompressType::None
        );
        assert_eq!(
            CompressType::from_header(Some("  ")).unwrap(),
            CompressType::None
        );
        assert_eq!(
            CompressType::from_header(Some("lz4")).unwrap(),
            CompressType::Lz4
        );
        assert_eq!(
            CompressType::from_header(Some(" LZ4 ")).unwrap(),
            CompressType::Lz4
        );
        assert_eq!(
            CompressType::from_header(Some("Zstd")).unwrap(),
            CompressType::Zstd
        );
        assert_eq!(
            CompressType::from_header(Some("deflate")).unwrap(),
            CompressType::Deflate
        );
        for bad in ["gzip", "lz4,zstd", "none", "snappy"] {
            assert!(matches!(
                CompressType::from_header(Some(bad)),
                Err(ProtocolError::UnknownCompressType(v)) if v == bad
            ));
        }
        for kind in ALL {
            let value = kind.header_value();
            assert_eq!(CompressType::from_header(value).unwrap(), kind);
        }
        assert_eq!(CompressType::None.header_value(), None);
    }

    #[test]
    fn accept_encoding_preferences() {
        use CompressType as C;
        assert_eq!(C::from_accept_encoding(None), C::None);
        assert_eq!(C::from_accept_encoding(Some("")), C::None);
        assert_eq!(C::from_accept_encoding(Some("lz4")), C::Lz4);
        assert_eq!(C::from_accept_encoding(Some("zstd")), C::Zstd);
        assert_eq!(C::from_accept_encoding(Some("deflate")), C::Deflate);
        assert_eq!(C::from_accept_encoding(Some("gzip, deflate")), C::Deflate);
        assert_eq!(C::from_accept_encoding(Some("zstd, lz4")), C::Lz4);
        assert_eq!(
            C::from_accept_encoding(Some("deflate;q=1.0, ZSTD;q=0.5")),
            C::Zstd
        );
        assert_eq!(C::from_accept_encoding(Some("gzip")), C::None);
        assert_eq!(C::from_accept_encoding(Some("identity")), C::None);
        assert_eq!(C::from_accept_encoding(Some("lz4x")), C::None);
    }

    /// A literal-only LZ4 block (what Go's `copyIncompressible` emits), for inputs of 15..=269 bytes.
    fn literal_only_lz4_block(raw: &[u8]) -> Vec<u8> {
        let extra = u8::try_from(raw.len() - 15).unwrap();
        let mut block = vec![0xf0, extra];
        block.extend_from_slice(raw);
        block
    }

    #[test]
    fn spec_vector_lz4_blocks() {
        // §5.3: the LogGroup's block is `f032` + 65 raw bytes; the PullLogs example (§4.6) sends the
        // one-element LogGroupList as `f034` + 67 raw bytes.
        let raw = hex::decode(VECTOR_HEX).unwrap();
        let group_block = literal_only_lz4_block(&raw);
        assert_eq!(group_block.len(), 67);
        assert_eq!(&group_block[..2], &[0xf0, 0x32]);
        assert_eq!(
            decompress(CompressType::Lz4, &group_block, 65).unwrap(),
            raw
        );
        let mut list = vec![0x0a, 0x41];
        list.extend_from_slice(&raw);
        let list_block = literal_only_lz4_block(&list);
        assert_eq!(list_block.len(), 69);
        assert_eq!(&list_block[..2], &[0xf0, 0x34]);
        assert_eq!(
            decompress(CompressType::Lz4, &list_block, 67).unwrap(),
            list
        );
        // Our own encoder finds the short repeat in "10.0.0.1", so its block differs, but it is a raw
        // block without size prefix and round-trips.
        for data in [&raw, &list] {
            let block = compress(CompressType::Lz4, data).unwrap();
            assert_eq!(
                lz4_flex::block::decompress(&block, data.len()).unwrap(),
                *data
            );
            assert_eq!(
                decompress(CompressType::Lz4, &block, data.len()).unwrap(),
                *data
            );
        }
    }

    #[test]
    fn spec_vector_zlib_and_zstd_shapes() {
        let raw = hex::decode(VECTOR_HEX).unwrap();
        let zlib = compress(CompressType::Deflate, &raw).unwrap();
        assert_eq!(&zlib[..2], &[0x78, 0x9c]);
        assert_eq!(decompress(CompressType::Deflate, &zlib, 65).unwrap(), raw);
        let zstd = compress(CompressType::Zstd, &raw).unwrap();
        assert_eq!(&zstd[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(decompress(CompressType::Zstd, &zstd, 65).unwrap(), raw);
    }

    #[test]
    fn empty_bodies() {
        for kind in ALL {
            assert!(decompress(kind, b"", 0).unwrap().is_empty());
            let packed = compress(kind, b"").unwrap();
            assert!(decompress(kind, &packed, 0).unwrap().is_empty(), "{kind:?}");
            assert!(decompress(kind, &packed, 1).is_err(), "{kind:?}");
        }
    }

    #[test]
    fn none_checks_the_length() {
        assert_eq!(decompress(CompressType::None, b"abc", 3).unwrap(), b"abc");
        assert!(matches!(
            decompress(CompressType::None, b"abc", 2),
            Err(ProtocolError::RawSizeMismatch {
                expected: 2,
                actual: 3
            })
        ));
    }

    #[test]
    fn wrong_raw_size_reports_a_mismatch() {
        let data = b"hello hello hello hello hello hello".repeat(10);
        for kind in [CompressType::Lz4, CompressType::Zstd, CompressType::Deflate] {
            let packed = compress(kind, &data).unwrap();
            assert!(
                matches!(
                    decompress(kind, &packed, data.len() - 1),
                    Err(ProtocolError::RawSizeMismatch { expected, actual })
                        if expected == data.len() - 1 && actual >= data.len()
                ),
                "{kind:?} smaller"
            );
            assert!(
                matches!(
                    decompress(kind, &packed, data.len() + 1),
                    Err(ProtocolError::RawSizeMismatch { .. }) | Err(ProtocolError::Decompress(_))
                ),
                "{kind:?} larger"
            );
        }
    }

    #[test]
    fn truncated_and_trailing_data_fail() {
        let data = b"some log data that compresses, some log data that compresses".repeat(4);
        for kind in [CompressType::Lz4, CompressType::Zstd, CompressType::Deflate] {
            let packed = compress(kind, &data).unwrap();
            let cut = &packed[..packed.len() - 1];
            assert!(
                decompress(kind, cut, data.len()).is_err(),
                "{kind:?} truncated"
            );
            let mut extended = packed.clone();
            extended.extend_from_slice(b"\x00garbage");
            assert!(
                decompress(kind, &extended, data.len()).is_err(),
                "{kind:?} trailing"
            );
        }
    }

    /// 100 MB of zeros, compressed once per test binary run.
    fn zero_bomb(kind: CompressType) -> Vec<u8> {
        let zeros = vec![0u8; 100 * 1024 * 1024];
        compress(kind, &zeros).unwrap()
    }

    #[test]
    fn bombs_fail_fast_with_a_small_raw_size() {
        for kind in [CompressType::Lz4, CompressType::Zstd, CompressType::Deflate] {
            let bomb = zero_bomb(kind);
            assert!(
                bomb.len() < 1024 * 1024,
                "{kind:?} bomb is {} bytes",
                bomb.len()
            );
            let start = Instant::now();
            let result = decompress(kind, &bomb, 1000);
            assert!(
                matches!(result, Err(ProtocolError::RawSizeMismatch { expected: 1000, actual }) if actual > 1000),
                "{kind:?}: {result:?}"
            );
            // Decoding 100 MB would take far longer in a debug build; 1001 bytes take microseconds.
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "{kind:?} took {:?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn zstd_bomb_without_content_size_stops_at_the_limit() {
        // A streaming encoder does not write the content size, so the early check cannot help: the
        // bounded read must.
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        let chunk = vec![0u8; 1024 * 1024];
        for _ in 0..100 {
            encoder.write_all(&chunk).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&bomb).unwrap(),
            None
        );
        let start = Instant::now();
        let result = decompress(CompressType::Zstd, &bomb, 1000);
        assert!(matches!(
            result,
            Err(ProtocolError::RawSizeMismatch {
                expected: 1000,
                actual: 1001
            })
        ));
        assert!(start.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn absurd_raw_sizes_fail_without_panicking() {
        let data = b"abcdefgh".repeat(100);
        for kind in ALL {
            let packed = compress(kind, &data).unwrap();
            for raw_size in [usize::MAX, usize::MAX / 2, 1 << 40] {
                assert!(
                    decompress(kind, &packed, raw_size).is_err(),
                    "{kind:?} {raw_size}"
                );
            }
        }
        assert!(matches!(
            decompress(CompressType::Lz4, &[0x00], 256),
            Err(ProtocolError::Decompress(_))
        ));
    }

    #[test]
    fn lz4_at_its_highest_ratio_still_decodes() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let packed = compress(CompressType::Lz4, &zeros).unwrap();
        // Close to the 255:1 bound the size check relies on.
        assert!(packed.len() * 250 < zeros.len(), "{}", packed.len());
        assert_eq!(
            decompress(CompressType::Lz4, &packed, zeros.len()).unwrap(),
            zeros
        );
    }

    #[test]
    fn zstd_window_limits() {
        assert_eq!(zstd_window_log_max(0), ZSTD_MIN_WINDOW_LOG);
        assert_eq!(zstd_window_log_max(1000), ZSTD_MIN_WINDOW_LOG);
        assert_eq!(zstd_window_log_max(1 << 23), 23);
        assert_eq!(zstd_window_log_max((1 << 23) + 1), 24);
        assert_eq!(zstd_window_log_max(10 * 1024 * 1024), 24);
        assert_eq!(zstd_window_log_max(usize::MAX), ZSTD_MAX_WINDOW_LOG);
    }

    #[test]
    fn zstd_multi_frame_and_streamed_bodies_decode() {
        let a = b"first frame ".repeat(20);
        let b = b"second frame ".repeat(20);
        let mut both = compress(CompressType::Zstd, &a).unwrap();
        both.extend(compress(CompressType::Zstd, &b).unwrap());
        let mut expected = a.clone();
        expected.extend_from_slice(&b);
        assert_eq!(
            decompress(CompressType::Zstd, &both, expected.len()).unwrap(),
            expected
        );

        let streamed = zstd::stream::encode_all(&expected[..], 3).unwrap();
        assert_eq!(
            decompress(CompressType::Zstd, &streamed, expected.len()).unwrap(),
            expected
        );
    }

    proptest! {
        #[test]
        fn round_trip_every_kind(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            for kind in ALL {
                let packed = compress(kind, &data).unwrap();
                prop_assert_eq!(&decompress(kind, &packed, data.len()).unwrap(), &data);
            }
        }

        #[test]
        fn round_trip_compressible(data in proptest::collection::vec(0u8..4, 0..20000)) {
            for kind in ALL {
                let packed = compress(kind, &data).unwrap();
                prop_assert_eq!(&decompress(kind, &packed, data.len()).unwrap(), &data);
            }
        }

        #[test]
        fn wrong_raw_size_fails(
            data in proptest::collection::vec(any::<u8>(), 1..2048),
            delta in 1usize..64,
            grow in any::<bool>(),
        ) {
            let wrong = if grow { data.len() + delta } else { data.len().saturating_sub(delta) };
            for kind in ALL {
                let packed = compress(kind, &data).unwrap();
                prop_assert!(decompress(kind, &packed, wrong).is_err());
            }
        }

        #[test]
        fn garbage_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..512),
            raw_size in 0usize..4096,
        ) {
            for kind in ALL {
                if let Ok(out) = decompress(kind, &data, raw_size) {
                    prop_assert_eq!(out.len(), raw_size);
                }
            }
        }

        #[test]
        fn garbage_with_valid_magic_never_panics(
            tail in proptest::collection::vec(any::<u8>(), 0..256),
            raw_size in 0usize..4096,
        ) {
            let mut zstd = vec![0x28, 0xb5, 0x2f, 0xfd];
            zstd.extend_from_slice(&tail);
            let mut zlib = vec![0x78, 0x9c];
            zlib.extend_from_slice(&tail);
            for (kind, data) in [(CompressType::Zstd, zstd), (CompressType::Deflate, zlib)] {
                if let Ok(out) = decompress(kind, &data, raw_size) {
                    prop_assert_eq!(out.len(), raw_size);
                }
            }
        }
    }
}
