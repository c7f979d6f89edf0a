//! LogGroup payloads in append-only segment files; sled keeps a 25-byte pointer per LogGroup.
//!
//! Why: sled 0.34 keeps written values in memory whatever its `cache_capacity` (measured by
//! `benches/scale.rs`: RSS grows by the data size, ~210 MiB per million logs, to over 1 GiB),
//! while file data lives in the kernel's page cache, which does not count against the
//! process and is given back under pressure.
//!
//! Layout: `segments/{logstore id}/{shard id}/{first seq:020}.seg`, each a run of records
//! `len u32 BE ‖ crc32 u32 BE ‖ LogGroup bytes`, rolled over at [`SEGMENT_BYTES`]. A record is
//! written under the shard's append lock before its pointer goes into sled; the group commit
//! fdatasyncs the segment files (and new folders) touched since the last commit before it
//! syncs sled, so an acknowledged pointer always points at durable bytes. A crash can leave
//! pointers sled flushed on its own whose bytes did not reach the disk, and bytes past the
//! last pointer: [`recover_tail`] drops both at open (none of them was acknowledged).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sls_protocol::types::ShardId;

/// A segment file is closed and a new one started past this size (1 MiB in unit tests, so
/// they roll over cheaply).
pub(super) const SEGMENT_BYTES: u64 = if cfg!(test) { 1 << 20 } else { 64 << 20 };
const RECORD_HEADER: u64 = 8;
/// The byte after the receive time that marks a pointer value. A value holding the LogGroup
/// itself (stores written before segments) has a protobuf tag there, never 0.
const POINTER_MARK: u8 = 0;
/// receive time ‖ mark ‖ segment ‖ offset ‖ len.
pub(super) const POINTER_LEN: usize = 4 + 1 + 8 + 8 + 4;

/// Where a LogGroup's bytes are: segment (its first sequence number), offset of the record,
/// length of the LogGroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pointer {
    pub segment: u64,
    pub offset: u64,
    pub len: u32,
}

impl Pointer {
    /// The sled value: receive time first, as in inline values, so time lookups need no file.
    pub(super) fn encode(&self, receive_time: u32) -> [u8; POINTER_LEN] {
        let mut v = [0u8; POINTER_LEN];
        v[..4].copy_from_slice(&receive_time.to_be_bytes());
        v[4] = POINTER_MARK;
        v[5..13].copy_from_slice(&self.segment.to_be_bytes());
        v[13..21].copy_from_slice(&self.offset.to_be_bytes());
        v[21..25].copy_from_slice(&self.len.to_be_bytes());
        v
    }

    /// The pointer in a sled value, or `None` for an inline value.
    pub(super) fn decode(v: &[u8]) -> Option<Pointer> {
        if v.len() != POINTER_LEN || v[4] != POINTER_MARK {
            return None;
        }
        let u64_at = |i: usize| v[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        Some(Pointer {
            segment: u64_at(5)?,
            offset: u64_at(13)?,
            len: v[21..25].try_into().ok().map(u32::from_be_bytes)?,
        })
    }

    /// Where the record ends in its segment.
    pub(super) fn end(&self) -> u64 {
        self.offset + RECORD_HEADER + u64::from(self.len)
    }
}

/// The folder of one shard's segments in its logstore's folder.
pub(super) fn shard_dir(logstore_dir: &Path, shard: ShardId) -> PathBuf {
    logstore_dir.join(shard.get().to_string())
}

/// The folder of one logstore's segments.
pub(super) fn logstore_dir(root: &Path, logstore_id: u64) -> PathBuf {
    root.join("segments").join(logstore_id.to_string())
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.seg"))
}

/// Files and folders written since the last commit, to sync before sled.
#[derive(Debug, Default)]
pub(super) struct Unsynced {
    files: HashMap<PathBuf, Arc<File>>,
    dirs: Vec<PathBuf>,
}

impl Unsynced {
    /// Whether nothing waits for a sync.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// Shared by the writers (who add) and the commit thread (who syncs and clears).
pub(super) type Pending = Arc<Mutex<Unsynced>>;

/// fdatasyncs every file and fsyncs every folder written since the last call.
pub(super) fn sync_pending(pending: &Pending) -> io::Result<()> {
    let Unsynced { files, dirs } =
        std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()));
    for f in files.values() {
        f.sync_data()?;
    }
    for d in dirs {
        super::commit::sync_dir(&d)?;
    }
    Ok(())
}

/// The open segment a shard appends to (held under the shard's append lock).
#[derive(Debug)]
pub(super) struct Appender {
    dir: PathBuf,
    /// The shard's last record when the appender was made (where appends continue).
    tail: Option<Pointer>,
    active: Option<Active>,
}

#[derive(Debug)]
struct Active {
    first: u64,
    path: PathBuf,
    file: Arc<File>,
    len: u64,
}

impl Appender {
    /// The appender of a shard whose last record is `tail`, if any.
    pub(super) fn new(dir: PathBuf, tail: Option<Pointer>) -> Appender {
        Appender {
            dir,
            tail,
            active: None,
        }
    }

    /// Appends `bytes` as the record of `seq`, and registers the file (and any new folder)
    /// for the next commit to sync; `pending` is `None` with buffered durability, where
    /// nothing is synced.
    pub(super) fn append(
        &mut self,
        seq: u64,
        bytes: &[u8],
        pending: Option<&Pending>,
    ) -> io::Result<Pointer> {
        let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("LogGroup too large"))?;
        if self.active.is_none() {
            let tail = self.tail.take();
            self.active = self.reopen(tail)?;
        }
        let roll = self.active.as_ref().is_none_or(|a| a.len >= SEGMENT_BYTES);
        if roll {
            self.active = Some(self.create(seq, pending)?);
        }
        let a = self
            .active
            .as_mut()
            .ok_or_else(|| io::Error::other("no active segment"))?;
        let mut header = [0u8; RECORD_HEADER as usize];
        header[..4].copy_from_slice(&len.to_be_bytes());
        header[4..].copy_from_slice(&crc32fast::hash(bytes).to_be_bytes());
        // Header and body written in place: no copy of the LogGroup.
        a.file.write_all_at(&header, a.len)?;
        a.file.write_all_at(bytes, a.len + RECORD_HEADER)?;
        let p = Pointer {
            segment: a.first,
            offset: a.len,
            len,
        };
        a.len = p.end();
        if let Some(pending) = pending {
            let mut unsynced = pending.lock().unwrap_or_else(|e| e.into_inner());
            if !unsynced.files.contains_key(&a.path) {
                unsynced.files.insert(a.path.clone(), a.file.clone());
            }
        }
        Ok(p)
    }

    /// Continues the segment of the shard's last record (cut to that record's end at open).
    fn reopen(&self, tail: Option<Pointer>) -> io::Result<Option<Active>> {
        let Some(t) = tail else { return Ok(None) };
        let path = segment_path(&self.dir, t.segment);
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        Ok(Some(Active {
            first: t.segment,
            path,
            file: Arc::new(file),
            len: t.end(),
        }))
    }

    fn create(&self, first: u64, pending: Option<&Pending>) -> io::Result<Active> {
        let fresh_dir = !self.dir.exists();
        std::fs::create_dir_all(&self.dir)?;
        let path = segment_path(&self.dir, first);
        // A leftover file of this name holds no acknowledged record (its pointers would have
        // named it as the tail): start it again.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        if let Some(pending) = pending {
            let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
            p.dirs.push(self.dir.clone());
            if fresh_dir {
                // The shard's folder and the logstore's folder are new names in their parents.
                let mut d = self.dir.clone();
                for _ in 0..3 {
                    if !d.pop() {
                        break;
                    }
                    p.dirs.push(d.clone());
                }
            }
        }
        Ok(Active {
            first,
            path,
            file: Arc::new(file),
            len: 0,
        })
    }
}

/// Reads one shard's LogGroups, keeping the segment file of the last read open: a PullLogs
/// reads up to 1,000 consecutive groups, mostly from one file.
pub(super) struct Reader<'a> {
    dir: &'a Path,
    open: Option<(u64, File)>,
}

impl<'a> Reader<'a> {
    /// A reader of the segments in `dir`.
    pub(super) fn new(dir: &'a Path) -> Reader<'a> {
        Reader { dir, open: None }
    }

    /// The LogGroup a pointer names, its length and checksum checked.
    pub(super) fn read(&mut self, p: Pointer) -> io::Result<sled::IVec> {
        let file = match &self.open {
            Some((segment, f)) if *segment == p.segment => f,
            _ => {
                let f = File::open(segment_path(self.dir, p.segment))?;
                &self.open.insert((p.segment, f)).1
            }
        };
        let mut buf = vec![0u8; RECORD_HEADER as usize + p.len as usize];
        file.read_exact_at(&mut buf, p.offset)?;
        check_record(&buf, p.len).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("segment {} offset {}: bad record", p.segment, p.offset),
            )
        })?;
        Ok(sled::IVec::from(&buf[RECORD_HEADER as usize..]))
    }
}

/// Whether `record` (header and body) is whole: the length matches and the checksum holds.
fn check_record(record: &[u8], len: u32) -> Option<()> {
    let stored_len = u32::from_be_bytes(record.get(..4)?.try_into().ok()?);
    let crc = u32::from_be_bytes(record.get(4..8)?.try_into().ok()?);
    let body = record.get(RECORD_HEADER as usize..)?;
    (stored_len == len && body.len() == len as usize && crc32fast::hash(body) == crc).then_some(())
}

/// Whether the record a pointer names is whole on disk (what recovery keeps).
pub(super) fn is_whole(reader: &mut Reader<'_>, p: Pointer) -> bool {
    reader.read(p).is_ok()
}

/// Removes the segment files wholly below `begin` (the TTL floor): a file can go once the
/// next one starts at or below `begin`. The last file is never removed.
pub(super) fn remove_below(dir: &Path, begin: u64) -> io::Result<u64> {
    let firsts = list(dir)?;
    let mut removed = 0;
    for pair in firsts.windows(2) {
        if pair[1] <= begin {
            std::fs::remove_file(segment_path(dir, pair[0]))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Cuts what follows a shard's last pointer (`None`: the shard has no pointer): files after
/// its segment go, and its segment is cut at the record's end. Run at open, so appends and
/// TTL expiry only ever see segments that pointers name.
pub(super) fn cut_after(dir: &Path, tail: Option<Pointer>) -> io::Result<()> {
    for first in list(dir)? {
        if tail.is_none_or(|t| first > t.segment) {
            std::fs::remove_file(segment_path(dir, first))?;
        }
    }
    if let Some(t) = tail {
        let path = segment_path(dir, t.segment);
        let file = OpenOptions::new().write(true).open(&path)?;
        if file.metadata()?.len() > t.end() {
            file.set_len(t.end())?;
            file.sync_data()?;
        }
    }
    Ok(())
}

/// The first sequence numbers of a shard's segment files, in order (none if no folder).
fn list(dir: &Path) -> io::Result<Vec<u64>> {
    let mut firsts: Vec<u64> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".seg")?
                    .parse::<u64>()
                    .ok()
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    firsts.sort_unstable();
    Ok(firsts)
}

/// Removes a folder of segments and everything in it (a deleted shard or logstore).
pub(super) fn remove_dir(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip_and_inline_values_are_not_pointers() {
        let p = Pointer {
            segment: 7,
            offset: 1 << 40,
            len: 12345,
        };
        let v = p.encode(1_700_000_000);
        assert_eq!(Pointer::decode(&v), Some(p));
        // An inline value: receive time, then a LogGroup (first byte a protobuf tag).
        let mut inline = 1_700_000_000u32.to_be_bytes().to_vec();
        inline.extend_from_slice(&[0x0a; 21]);
        assert_eq!(Pointer::decode(&inline), None);
    }

    #[test]
    fn appended_records_read_back_roll_over_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("s");
        let pending = Pending::default();
        let mut a = Appender::new(shard.clone(), None);
        let big = vec![7u8; (SEGMENT_BYTES / 2) as usize];
        let p0 = a.append(0, &big, Some(&pending)).unwrap();
        let p1 = a.append(1, b"one", Some(&pending)).unwrap();
        let p2 = a.append(2, &big, Some(&pending)).unwrap();
        let p3 = a.append(3, b"three", Some(&pending)).unwrap();
        assert_eq!((p0.segment, p1.segment, p2.segment), (0, 0, 0));
        assert_eq!(p3.segment, 3, "a full segment rolls over");
        assert_eq!(&*Reader::new(&shard).read(p1).unwrap(), b"one");
        assert_eq!(&*Reader::new(&shard).read(p3).unwrap(), b"three");
        sync_pending(&pending).unwrap();
        assert_eq!(
            remove_below(&shard, 2).unwrap(),
            0,
            "seq 2 still lives in segment 0"
        );
        assert_eq!(remove_below(&shard, 3).unwrap(), 1);
        assert!(Reader::new(&shard).read(p1).is_err());
        assert_eq!(&*Reader::new(&shard).read(p3).unwrap(), b"three");
    }

    #[test]
    fn a_torn_tail_is_cut_on_reopen_and_detected_before() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("s");
        let pending = Pending::default();
        let mut a = Appender::new(shard.clone(), None);
        let p0 = a.append(0, b"kept", Some(&pending)).unwrap();
        let p1 = a.append(1, b"torn-record", Some(&pending)).unwrap();
        // The crash: the second record lost its last bytes.
        let f = OpenOptions::new()
            .write(true)
            .open(segment_path(&shard, 0))
            .unwrap();
        f.set_len(p1.end() - 3).unwrap();
        assert!(is_whole(&mut Reader::new(&shard), p0));
        assert!(!is_whole(&mut Reader::new(&shard), p1));
        // Cut at the last whole record (as at open), the next append overwrites the torn bytes.
        cut_after(&shard, Some(p0)).unwrap();
        let mut b = Appender::new(shard.clone(), Some(p0));
        let p1b = b.append(1, b"again", Some(&pending)).unwrap();
        assert_eq!(p1b.offset, p0.end());
        assert_eq!(&*Reader::new(&shard).read(p1b).unwrap(), b"again");
        assert_eq!(
            std::fs::metadata(segment_path(&shard, 0)).unwrap().len(),
            p1b.end()
        );
    }
}
