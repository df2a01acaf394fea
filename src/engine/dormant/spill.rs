//! The file that sealed chunks of the arena of cases at rest are written to, and read back
//! from record by record: fixed slots of a chunk's size, positioned reads and writes, and the
//! first failure kept for the host.

use super::{header, HEADER};
use std::fs::File;
use std::sync::{Arc, Mutex};

/// The file sealed chunks are written to: fixed slots of a chunk's size, reused once no copy
/// of the evaluator holds the chunk that was in them. It is a cache of what the host's own
/// state holds, never read after the process ends.
#[derive(Debug)]
pub(crate) struct SpillFile {
    file: File,
    slot_size: usize,
    slots: Mutex<Slots>,
    /// The first read that failed: the evaluator's state is no longer whole, and its host
    /// must not commit it.
    fault: Mutex<Option<String>>,
    /// The bytes last read, from where the record asked for began: the same record is often
    /// asked for again at once (its settling instant, then the case), or the one after it.
    ahead: Mutex<ReadAhead>,
}

/// Bytes of a slot read ahead: see [`SpillFile::ahead`].
#[derive(Debug, Default)]
struct ReadAhead {
    slot: Option<u64>,
    start: usize,
    bytes: Vec<u8>,
}

impl ReadAhead {
    /// The bytes of `slot` from `offset` to `offset + len`, when they were read ahead.
    fn get(&self, slot: u64, offset: usize, len: usize) -> Option<&[u8]> {
        if self.slot != Some(slot) {
            return None;
        }
        let from = offset.checked_sub(self.start)?;
        self.bytes.get(from..from.checked_add(len)?)
    }
}

#[derive(Debug, Default)]
struct Slots {
    free: Vec<u64>,
    next: u64,
}

impl SpillFile {
    pub(super) fn new(file: File, slot_size: usize) -> SpillFile {
        SpillFile {
            file,
            slot_size,
            slots: Mutex::default(),
            fault: Mutex::default(),
            ahead: Mutex::default(),
        }
    }

    /// Writes a sealed chunk's records to a free slot; `None` (and the slot given back) when
    /// they cannot be written, and the chunk stays in memory.
    pub(super) fn write_chunk(self: &Arc<Self>, bytes: &[u8]) -> Option<Spilled> {
        let slot = self.take_slot();
        // What was read ahead in the slot was another chunk's.
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        if ahead.slot == Some(slot) {
            ahead.slot = None;
        }
        drop(ahead);
        match write_all_at(&self.file, bytes, self.at(slot, 0)) {
            Ok(()) => Some(Spilled {
                file: Arc::clone(self),
                slot,
                len: bytes.len(),
            }),
            Err(_) => {
                self.release(slot);
                None
            }
        }
    }

    fn take_slot(&self) -> u64 {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.free.pop().unwrap_or_else(|| {
            slots.next += 1;
            slots.next - 1
        })
    }

    fn release(&self, slot: u64) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.free.push(slot);
    }

    fn at(&self, slot: u64, offset: usize) -> u64 {
        slot * self.slot_size as u64 + offset as u64
    }

    /// Reads `buf` from `at`; `false` (and the fault noted) when it could not.
    fn read(&self, buf: &mut [u8], at: u64) -> bool {
        match read_exact_at(&self.file, buf, at) {
            Ok(()) => true,
            Err(e) => {
                self.fail(format!(
                    "cannot read {} bytes at {at} of the file of cases at rest: {e}",
                    buf.len()
                ));
                false
            }
        }
    }

    pub(super) fn fail(&self, what: String) {
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        fault.get_or_insert(what);
    }

    pub(super) fn fault(&self) -> Option<String> {
        self.fault.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A sealed chunk in the spill file; its slot is given back when the last copy goes.
#[derive(Debug)]
pub(super) struct Spilled {
    file: Arc<SpillFile>,
    slot: u64,
    len: usize,
}

/// Bytes read at once for a record: its header, all of most cases, and what follows it in the
/// chunk, kept for the next read ([`SpillFile::ahead`]). Counted on the dense 10 M stream of
/// `bench/`, keeping them saves 8 % of the reads (1.58 M against 1.71 M: a case read for its
/// settling instant and then taken, a neighbour); reading 4 KiB or 64 KiB ahead saved only
/// 13 % and 15 %, because cases settle in another order than they went to rest, and each miss
/// then copies the whole window.
const READ_AHEAD: usize = 512;

impl Spilled {
    /// The payload of the record at `offset` (empty when it could not be read).
    pub(super) fn payload(&self, offset: usize) -> Vec<u8> {
        let Some(left) = self.len.checked_sub(offset).filter(|&l| l >= HEADER) else {
            self.file
                .fail(format!("no record at {offset} of a chunk of {}", self.len));
            return Vec::new();
        };
        let mut ahead = self.file.ahead.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(head) = ahead.get(self.slot, offset, HEADER) {
            let len = HEADER + header(head, 0) as usize;
            if let Some(record) = ahead.get(self.slot, offset, len).filter(|_| len <= left) {
                return record[HEADER..].to_vec();
            }
        }
        let mut buf = std::mem::take(&mut ahead.bytes);
        ahead.slot = None;
        buf.clear();
        buf.resize(left.min(READ_AHEAD), 0);
        if !self.file.read(&mut buf, self.file.at(self.slot, offset)) {
            return Vec::new();
        }
        // (`buf` holds at least a header: `left` does, and so does a first read.)
        let len = HEADER + header(&buf, 0) as usize;
        if len > left {
            self.file
                .fail(format!("a record at {offset} overruns its chunk"));
            return Vec::new();
        }
        if len <= buf.len() {
            let record = buf[HEADER..len].to_vec();
            *ahead = ReadAhead {
                slot: Some(self.slot),
                start: offset,
                bytes: buf,
            };
            return record;
        }
        drop(ahead);
        let read = buf.len();
        buf.resize(len, 0);
        if !self
            .file
            .read(&mut buf[read..], self.file.at(self.slot, offset + read))
        {
            return Vec::new();
        }
        buf.drain(..HEADER);
        buf
    }

    pub(super) fn all(&self) -> Option<Vec<u8>> {
        let mut buf = vec![0; self.len];
        self.file
            .read(&mut buf, self.file.at(self.slot, 0))
            .then_some(buf)
    }
}

impl Drop for Spilled {
    fn drop(&mut self) {
        self.file.release(self.slot);
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => {
                buf = &buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(not(any(unix, windows)))]
fn write_all_at(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records laid out as the arena lays them: a little-endian length, then the payload.
    fn chunk(payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        let (mut bytes, mut offsets) = (Vec::new(), Vec::new());
        for p in payloads {
            offsets.push(bytes.len());
            bytes.extend_from_slice(&(p.len() as u32).to_le_bytes());
            bytes.extend_from_slice(p);
        }
        (bytes, offsets)
    }

    /// Records read one after another come from what the first read brought, and what was
    /// read ahead in a slot is never taken for the records of the next chunk written there.
    #[test]
    fn read_ahead_answers_the_next_records_and_never_outlives_its_chunk() {
        let file = Arc::new(SpillFile::new(tempfile::tempfile().unwrap(), 1 << 14));
        let long = vec![7u8; READ_AHEAD * 2];
        let (bytes, offsets) = chunk(&[b"first", b"second", &long, b"after the long one"]);
        let a = file.write_chunk(&bytes).unwrap();
        assert_eq!(a.payload(offsets[0]), b"first");
        // Answered from the bytes read ahead: the file's bytes there changed behind its back.
        write_all_at(&file.file, b"XXXXXX", file.at(a.slot, offsets[1] + HEADER)).unwrap();
        assert_eq!(a.payload(offsets[1]), b"second");
        // A record longer than what is read ahead is read whole, and so is the one after.
        assert_eq!(a.payload(offsets[2]), long);
        assert_eq!(a.payload(offsets[3]), b"after the long one");
        drop(a);
        let (bytes, offsets) = chunk(&[b"first", b"second"]);
        let c = file.write_chunk(&bytes).unwrap();
        assert_eq!(c.payload(offsets[0]), b"first");
        let slot = c.slot;
        drop(c);
        // The same layout in the same slot, other bytes: read as they are now.
        let (bytes, offsets) = chunk(&[b"FIRST", b"SECOND"]);
        let d = file.write_chunk(&bytes).unwrap();
        assert_eq!(d.slot, slot, "the slot is reused");
        assert_eq!(d.payload(offsets[1]), b"SECOND");
        assert_eq!(d.payload(offsets[0]), b"FIRST");
        assert!(file.fault().is_none());
    }
}
