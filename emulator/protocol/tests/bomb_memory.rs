//! Compression bombs must not make `decompress` allocate their full output.
//!
//! This binary holds a single test so that the process's peak resident memory (`VmHWM`, Linux only)
//! reflects what `decompress` does and nothing running in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::io::Write;

use sls_protocol::compression::{decompress, CompressType};
use sls_protocol::ProtocolError;

const MIB: usize = 1024 * 1024;
/// Decompressed size of every bomb.
const BOMB_SIZE: usize = 100 * MIB;

/// Peak resident set size of this process in bytes, if the platform tells.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A compressed body and how it is compressed.
type Bomb = (CompressType, Vec<u8>);

/// 100 MiB of zeros, compressed by streaming so that building the bomb stays small too.
fn bombs() -> Result<Vec<Bomb>, Box<dyn Error>> {
    let chunk = vec![0u8; MIB];
    let mut zstd_stream = zstd::stream::write::Encoder::new(Vec::new(), 1)?;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..BOMB_SIZE / MIB {
        zstd_stream.write_all(&chunk)?;
        zlib.write_all(&chunk)?;
    }
    // lz4 is a single block; a zeroed allocation is never touched by reading it.
    let lz4 = lz4_flex::block::compress(&vec![0u8; BOMB_SIZE]);
    let zstd_bulk = zstd::bulk::compress(&vec![0u8; BOMB_SIZE], 1)?;
    Ok(vec![
        (CompressType::Lz4, lz4),
        (CompressType::Zstd, zstd_stream.finish()?),
        (CompressType::Zstd, zstd_bulk),
        (CompressType::Deflate, zlib.finish()?),
    ])
}

#[test]
fn bombs_with_a_small_raw_size_stay_small() -> Result<(), Box<dyn Error>> {
    let bombs = bombs()?;
    let before = peak_rss();
    for (kind, bomb) in &bombs {
        assert!(bomb.len() < MIB, "{kind:?} bomb is {} bytes", bomb.len());
        let result = decompress(*kind, bomb, 1000);
        assert!(
            matches!(
                result,
                Err(ProtocolError::RawSizeMismatch { expected: 1000, actual }) if actual > 1000
            ),
            "{kind:?}: {result:?}"
        );
    }
    if let (Some(before), Some(after)) = (before, peak_rss()) {
        let grown = after.saturating_sub(before);
        assert!(
            grown < 16 * MIB,
            "peak RSS grew by {grown} bytes while decompressing bombs"
        );
    }
    Ok(())
}
