//! The cases at rest, packed in an arena of their own, and written out to a file when the host
//! gives one.
//!
//! Half a million cases rest at once on a dense stream, each a record of about 150 bytes that
//! lives for days or weeks. Boxed one by one, they shared the allocator's pages with the
//! events' short-lived blocks of the same sizes: a page was freed only when every block on it
//! was, and the process held about a third more memory than it used. Here the records are
//! appended to chunks that hold nothing else; a chunk whose records have mostly gone (woken or
//! settled) has the rest copied out and is freed.
//!
//! A chunk is appended to until the next record does not fit; then it is *sealed*: never
//! written again, and shared (not copied) with the copies a live host forks to judge as of
//! now. With a spill file ([`Dormant::spill_to`], [`Dormant::holding`]), all but the latest few
//! sealed chunks are written to it and leave memory; a record is read back with one positioned
//! read when its case wakes or settles. The service, whose store holds every case anyway,
//! keeps in memory only the table of positions, the chunks being appended to and the latest
//! [`RESIDENT`]; a long check keeps the latest `--resting-memory` megabytes.
//!
//! The table that finds a record holds 8 bytes an entry: 24 bits of the key, which the table
//! hashes (so that growing it reads no record), and where the record lies. The record's
//! ticket, the first field of its case's bytes, gives its whole key, compared when those 24
//! bits match.
//!
//! A record is its length (4 bytes, little-endian), then a case's settling instant and its
//! bytes as a snapshot writes it ([`Resting`]).

use super::settle::Resting;
use super::state::{CaseState, TicketKey};
use crate::event::Instant;
use hashbrown::HashTable;
use spill::{SpillFile, Spilled};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

mod spill;

/// How many bytes a chunk holds: records are appended to the active one until the next does
/// not fit. A record longer than this (a case with thousands of kept events) has a chunk to
/// itself, which stays in memory.
const CHUNK: usize = 1 << 20;

/// Sealed chunks kept in memory when spilling, unless told otherwise: the latest records are
/// those a commit reads back (every case put to rest since the previous one) and those most
/// likely to wake.
pub(super) const RESIDENT: usize = 8;

/// Bits of an entry for the record's offset in its chunk (chunks are at most [`CHUNK`]; a
/// chunk of its own holds its record at 0), for the chunk's index, and for the key.
const OFFSET_BITS: u32 = 20;
const CHUNK_BITS: u32 = 20;
const PLACE_BITS: u32 = OFFSET_BITS + CHUNK_BITS;
/// At most this many chunks (a tebibyte of cases at rest); past it a case stays awake.
const MAX_CHUNKS: usize = 1 << CHUNK_BITS;

/// Where a record lies: its chunk's index, then its offset.
type Place = u64;

/// An entry of the table: 24 bits of the key, then the record's [`Place`].
type Entry = u64;

fn place(chunk: usize, offset: usize) -> Place {
    (chunk as u64) << OFFSET_BITS | offset as u64
}

fn chunk_of(place: Place) -> usize {
    (place >> OFFSET_BITS) as usize
}

fn offset_of(place: Place) -> usize {
    (place & ((1 << OFFSET_BITS) - 1)) as usize
}

fn entry(tag: u32, place: Place) -> Entry {
    u64::from(tag) << PLACE_BITS | place
}

fn place_of(entry: Entry) -> Place {
    entry & ((1 << PLACE_BITS) - 1)
}

fn tag_of(entry: Entry) -> u32 {
    (entry >> PLACE_BITS) as u32
}

/// The 24 bits of a key that its entry keeps.
fn tag(key: TicketKey) -> u32 {
    (key.0 >> 104) as u32
}

/// The table's hash of an entry: spread from its 24 bits of the key alone, so that the table
/// grows without reading a record.
fn table_hash(tag: u32) -> u64 {
    let x = u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// Bytes in front of a record's payload: its length.
const HEADER: usize = 4;

/// Records longer than this are not written (no case is; one would stay awake): a length
/// must fit the header.
const LONGEST: usize = 1 << 31;

/// Cases at rest part in two lanes by how they leave: most settle at an instant, about a month
/// after they closed, in about the order they came to rest, so that their chunks empty
/// together and are freed whole; some settle only when an event or the end of the stream comes
/// (open tickets that no deadline applies to). Mixed, the second kind would be left behind in
/// every chunk and copied out again and again.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lane {
    Settles = 0,
    Stays = 1,
}

impl Lane {
    fn of(payload: &[u8]) -> Lane {
        match Resting::from_bytes(payload).settles() {
            Some(_) => Lane::Settles,
            None => Lane::Stays,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Chunk {
    bytes: Bytes,
    /// Bytes of records appended.
    len: usize,
    /// Bytes of the records still found through the table.
    live: usize,
}

/// Below how many quarters of its bytes live a sealed chunk has its records copied out. In
/// memory, dead bytes are memory: three quarters. In the spill file they are only disk, and
/// copying out reads the whole chunk back and writes its records again: a quarter. (On the
/// dense benchmark stream the service's spill file peaked at 149 MB instead of 113, and
/// reclaiming chunks took 1.0 % of its samples instead of 2.2 %; see bench/RESULTS.md.)
fn copied_out_below(bytes: &Bytes) -> usize {
    match bytes {
        Bytes::Spilled(_) => 1,
        Bytes::Open(_) | Bytes::Sealed(_) => 3,
    }
}

/// Where a chunk's bytes are.
#[derive(Clone, Debug)]
enum Bytes {
    /// Being appended to; never grown past the capacity it was made with, so that it is one
    /// allocation of a fixed size.
    Open(Vec<u8>),
    /// Written in full, never changed again: shared with forked copies.
    Sealed(Arc<Vec<u8>>),
    /// In the spill file.
    Spilled(Arc<Spilled>),
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::Open(Vec::new())
    }
}

impl Chunk {
    /// Bytes that can still be appended.
    fn room(&self) -> usize {
        match &self.bytes {
            Bytes::Open(bytes) => bytes.capacity() - bytes.len(),
            _ => 0,
        }
    }

    /// All its records, read back from the spill file if they are there (`None`: they could
    /// not be, which the file notes as its fault).
    fn all(&self) -> Option<Cow<'_, [u8]>> {
        match &self.bytes {
            Bytes::Open(bytes) => Some(Cow::Borrowed(bytes)),
            Bytes::Sealed(bytes) => Some(Cow::Borrowed(&bytes[..])),
            Bytes::Spilled(spilled) => spilled.all().map(Cow::Owned),
        }
    }

    /// Bytes it holds in memory.
    #[cfg(test)]
    fn resident(&self) -> usize {
        match &self.bytes {
            Bytes::Open(bytes) => bytes.capacity(),
            Bytes::Sealed(bytes) => bytes.capacity(),
            Bytes::Spilled(_) => 0,
        }
    }
}

/// The cases at rest: each a record in an arena of chunks, found by its ticket's key.
#[derive(Clone, Debug)]
pub(super) struct Dormant {
    table: HashTable<Entry>,
    chunks: Vec<Chunk>,
    /// The chunks records are appended to (`None` before the first), per [`Lane`].
    active: [Option<usize>; 2],
    /// Indices of freed chunks, for reuse.
    spare: Vec<usize>,
    /// Where a record is written before it is copied in.
    scratch: Vec<u8>,
    chunk_size: usize,
    /// Where sealed chunks go ([`Dormant::spill_to`]).
    spill: Option<Arc<SpillFile>>,
    /// Chunks sealed in memory while spilling, oldest first (some since freed or spilled).
    sealed: VecDeque<usize>,
    /// How many of those are kept in memory.
    resident: usize,
}

impl Default for Dormant {
    fn default() -> Self {
        Dormant::with_chunk_size(CHUNK)
    }
}

/// The key of a record's payload, from the ticket in front of its case's bytes.
fn key_of(payload: &[u8]) -> TicketKey {
    TicketKey::of(ticket_of(payload))
}

/// The ticket of a record's payload, read in place.
fn ticket_of(payload: &[u8]) -> &str {
    let (_, case) = Resting::from_bytes(payload).split();
    // Records are written here from cases and always read back.
    postcard::take_from_bytes::<&str>(case).map_or("", |(ticket, _)| ticket)
}

impl Dormant {
    pub(super) fn with_chunk_size(chunk_size: usize) -> Dormant {
        Dormant {
            table: HashTable::new(),
            chunks: Vec::new(),
            active: [None, None],
            spare: Vec::new(),
            scratch: Vec::new(),
            chunk_size: chunk_size.clamp(HEADER + 1, CHUNK),
            spill: None,
            sealed: VecDeque::new(),
            resident: RESIDENT,
        }
    }

    /// An arena that keeps about `bytes` of sealed chunks in memory and the older ones in an
    /// anonymous temporary file (`None`, or no file to be had: all in memory).
    pub(super) fn holding(bytes: Option<usize>) -> Dormant {
        let mut dormant = Dormant::default();
        if let Some(bytes) = bytes {
            if let Ok(file) = tempfile::tempfile() {
                dormant.resident = (bytes / dormant.chunk_size).max(1);
                dormant.spill_to(file);
            }
        }
        dormant
    }

    /// From now on, sealed chunks but the latest few ([`RESIDENT`] unless made with
    /// [`Dormant::holding`]) are written to `file` (which
    /// must be empty, readable and writable, and used by nothing else) and leave memory.
    pub(super) fn spill_to(&mut self, file: File) {
        self.spill = Some(Arc::new(SpillFile::new(file, self.chunk_size)));
        self.sealed = (0..self.chunks.len())
            .filter(|&c| matches!(self.chunks[c].bytes, Bytes::Sealed(_)))
            .collect();
        self.spill_excess();
    }

    /// The first read of the spill file that failed: since then cases may be missing.
    pub(super) fn fault(&self) -> Option<String> {
        self.spill.as_ref().and_then(|s| s.fault())
    }

    /// What tells of a failed read of the spill file, also once the arena is gone.
    pub(super) fn faults(&self) -> RestingFaults {
        RestingFaults(self.spill.clone())
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Where the record of `key` lies, and its payload.
    fn find(&self, key: TicketKey) -> Option<Cow<'_, [u8]>> {
        let chunks = &self.chunks;
        let tag = tag(key);
        let mut found = None;
        self.table.find(table_hash(tag), |&e| {
            matches_key(chunks, e, tag, key, &mut found)
        })?;
        found
    }

    pub(super) fn contains(&self, key: TicketKey) -> bool {
        self.find(key).is_some()
    }

    /// The case at rest for `key`.
    pub(super) fn get(&self, key: TicketKey) -> Option<Held<'_>> {
        self.find(key).map(Held)
    }

    /// Calls `visit` with every case at rest, chunk by chunk (each read once).
    pub(super) fn for_each(&self, mut visit: impl FnMut(TicketKey, Resting<'_>)) {
        for (c, chunk) in self.chunks.iter().enumerate() {
            if chunk.live == 0 {
                continue;
            }
            let Some(bytes) = chunk.all() else {
                continue;
            };
            let mut offset = 0;
            while offset + HEADER <= chunk.len {
                let payload = record_in(&bytes, offset);
                let key = key_of(payload);
                if self.holds(key, place(c, offset)) {
                    visit(key, Resting::from_bytes(payload));
                }
                offset += HEADER + payload.len();
            }
        }
    }

    /// Whether the table finds the record of `key` at `place`.
    fn holds(&self, key: TicketKey, place: Place) -> bool {
        self.table
            .find(table_hash(tag(key)), |&e| place_of(e) == place)
            .is_some()
    }

    /// Puts `case` to rest for `key`, to settle at `settles`; a case already at rest for the
    /// key is replaced.
    pub(super) fn insert(
        &mut self,
        key: TicketKey,
        case: &CaseState,
        settles: Option<Instant>,
    ) -> postcard::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let mut written = Resting::encode(case, settles, &mut scratch);
        if written.is_ok() && !self.insert_payload(key, &scratch) {
            // Not a record a case can have, or the arena is full; it stays in memory.
            written = Err(postcard::Error::SerializeBufferFull);
        }
        self.scratch = scratch;
        written
    }

    /// Puts a payload as [`Resting`] reads it to rest for `key` (another evaluator's record);
    /// `false` when it cannot be (longer than a header tells, or the arena is full).
    pub(super) fn insert_payload(&mut self, key: TicketKey, payload: &[u8]) -> bool {
        if payload.len() >= LONGEST {
            return false;
        }
        self.remove(key);
        let Some(at) = self.append(payload) else {
            return false;
        };
        let tag = tag(key);
        self.table
            .insert_unique(table_hash(tag), entry(tag, at), |&e| table_hash(tag_of(e)));
        true
    }

    /// Takes the case at rest for `key` out; whether there was one.
    pub(super) fn remove(&mut self, key: TicketKey) -> bool {
        self.take(key, |_| Some(())).is_some()
    }

    /// Takes the case at rest for `key` out if `read` makes something of it, and returns that
    /// (`None`: no case at rest, or `read` made nothing of it, and it stays). One probe of the
    /// table, however it turns out.
    pub(super) fn take<R>(
        &mut self,
        key: TicketKey,
        read: impl FnOnce(Resting<'_>) -> Option<R>,
    ) -> Option<R> {
        let chunks = &self.chunks;
        let tag = tag(key);
        let mut found = None;
        let entry = self
            .table
            .find_entry(table_hash(tag), |&e| {
                matches_key(chunks, e, tag, key, &mut found)
            })
            .ok()?;
        let payload = found?;
        let at = place_of(*entry.get());
        let read = read(Resting::from_bytes(&payload))?;
        entry.remove();
        let len = HEADER + payload.len();
        self.forget(at, len);
        Some(read)
    }

    /// Counts the record of `len` bytes at `at` gone, and frees or copies out its chunk when
    /// it is mostly gone.
    fn forget(&mut self, at: Place, len: usize) {
        let chunk = chunk_of(at);
        if let Some(c) = self.chunks.get_mut(chunk) {
            c.live = c.live.saturating_sub(len);
            self.reclaim(chunk);
        }
    }

    /// Appends a record to the chunks of its lane and returns where it lies (`None`: the
    /// arena has as many chunks as it can number).
    fn append(&mut self, payload: &[u8]) -> Option<Place> {
        let lane = Lane::of(payload);
        let len = HEADER + payload.len();
        let mut retired = None;
        let chunk = if len > self.chunk_size {
            // A chunk of its own, never appended to: freed when its record goes.
            self.new_chunk(len)?
        } else {
            match self.active[lane as usize] {
                Some(a) if self.chunks[a].room() >= len => a,
                previous => {
                    let a = self.new_chunk(self.chunk_size)?;
                    retired = previous;
                    self.active[lane as usize] = Some(a);
                    a
                }
            }
        };
        let c = &mut self.chunks[chunk];
        let offset = c.len;
        let Bytes::Open(bytes) = &mut c.bytes else {
            // New and active chunks are open.
            return None;
        };
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(payload);
        c.len += len;
        c.live += len;
        if len > self.chunk_size {
            self.seal(chunk);
        }
        // The chunk left behind is no longer spared for being appended to (after the record
        // is written: copying its records out appends too).
        if let Some(retired) = retired {
            self.seal(retired);
            self.reclaim(retired);
        }
        self.spill_excess();
        Some(place(chunk, offset))
    }

    fn new_chunk(&mut self, capacity: usize) -> Option<usize> {
        let chunk = Chunk {
            bytes: Bytes::Open(Vec::with_capacity(capacity)),
            len: 0,
            live: 0,
        };
        match self.spare.pop() {
            Some(i) => {
                self.chunks[i] = chunk;
                Some(i)
            }
            None if self.chunks.len() < MAX_CHUNKS => {
                self.chunks.push(chunk);
                Some(self.chunks.len() - 1)
            }
            None => None,
        }
    }

    /// Makes a chunk that is no longer appended to shareable, and queues it to be spilled.
    fn seal(&mut self, chunk: usize) {
        let c = &mut self.chunks[chunk];
        if let Bytes::Open(bytes) = &mut c.bytes {
            c.bytes = Bytes::Sealed(Arc::new(std::mem::take(bytes)));
            if self.spill.is_some() && c.len <= self.chunk_size {
                self.sealed.push_back(chunk);
            }
        }
    }

    /// Writes the oldest sealed chunks in memory to the spill file until `resident` are left. A chunk that cannot be written stays in memory.
    fn spill_excess(&mut self) {
        let Some(file) = self.spill.clone() else {
            return;
        };
        while self.sealed.len() > self.resident {
            let Some(c) = self.sealed.pop_front() else {
                break;
            };
            let Some(chunk) = self.chunks.get_mut(c) else {
                continue;
            };
            let Bytes::Sealed(bytes) = &chunk.bytes else {
                continue;
            };
            if chunk.len > self.chunk_size {
                continue;
            }
            if let Some(spilled) = file.write_chunk(&bytes[..chunk.len]) {
                chunk.bytes = Bytes::Spilled(Arc::new(spilled));
            }
        }
    }

    /// Frees a chunk that is not appended to once its records have gone, and copies out the
    /// records of one that is less than three quarters live, so that memory follows what is at
    /// rest (a quarter in the spill file: [`copied_out_below`]). (On the dense benchmark
    /// stream, half left a third of the chunks' bytes dead; seven eighths cost twice the
    /// copying of three quarters for a tenth less memory.)
    fn reclaim(&mut self, chunk: usize) {
        if self.active.contains(&Some(chunk)) {
            return;
        }
        let c = &self.chunks[chunk];
        if c.live == 0 {
            self.chunks[chunk] = Chunk::default();
            self.spare.push(chunk);
        } else if c.live * 4 < c.len * copied_out_below(&c.bytes) {
            self.evacuate(chunk);
        }
    }

    /// Copies the live records of `chunk` to the active chunk and frees it. A record is live
    /// when the table holds its place.
    fn evacuate(&mut self, chunk: usize) {
        let mut old = std::mem::take(&mut self.chunks[chunk]);
        // Only sealed chunks are copied out (the open ones are appended to).
        let bytes = match &old.bytes {
            Bytes::Sealed(bytes) => Some(Arc::clone(bytes)),
            Bytes::Spilled(spilled) => spilled.all().map(Arc::new),
            Bytes::Open(_) => None,
        };
        let Some(bytes) = bytes else {
            // Unreadable (the file's fault is noted): left as it is.
            self.chunks[chunk] = old;
            return;
        };
        let mut moved = 0;
        let mut offset = 0;
        while offset + HEADER <= old.len {
            let payload = record_in(&bytes, offset);
            let len = HEADER + payload.len();
            let key = key_of(payload);
            let here = place(chunk, offset);
            if self.holds(key, here) {
                let Some(there) = self.append(payload) else {
                    // No chunk to copy to: what is left stays where it is.
                    old.live = old.live.saturating_sub(moved);
                    self.chunks[chunk] = old;
                    return;
                };
                let tag = tag(key);
                if let Some(e) = self
                    .table
                    .find_mut(table_hash(tag), |&e| place_of(e) == here)
                {
                    *e = entry(tag, there);
                }
                moved += len;
            }
            offset += len;
        }
        self.spare.push(chunk);
    }

    /// Every case at rest, in the order of their tickets, to be taken out one at a time. The
    /// table is dropped before the list is made, and the list holds 16 bytes of a ticket: it
    /// comes at the end of the stream, on top of everything at rest.
    pub(super) fn into_ticket_order(self) -> TicketOrder {
        let Dormant { table, chunks, .. } = self;
        let mut places: Vec<Place> = table.into_iter().map(place_of).collect();
        // By chunk, so that each is read once.
        places.sort_unstable();
        let mut order: Vec<([u8; 16], Place)> = Vec::with_capacity(places.len());
        for run in places.chunk_by(|a, b| chunk_of(*a) == chunk_of(*b)) {
            let bytes = chunks.get(chunk_of(run[0])).and_then(Chunk::all);
            for &p in run {
                let ticket = bytes
                    .as_ref()
                    .map_or("", |b| ticket_of(record_in(b, offset_of(p))));
                order.push((prefix(ticket), p));
            }
        }
        drop(places);
        // Bytes compare as the strings do: a shorter ticket is padded with zeros, below any
        // byte of a longer one.
        order.sort_unstable_by_key(|&(prefix, _)| prefix);
        // Tickets alike in their first 16 bytes (`F-2026-round-001` of a thousand) are read
        // whole once each and sorted among themselves, rather than read at every comparison.
        for run in order.chunk_by_mut(|(a, _), (b, _)| a == b) {
            if run.len() > 1 {
                let mut whole: Vec<(String, Place)> = run
                    .iter()
                    .map(|&(_, p)| (ticket_of(&payload_in(&chunks, p)).to_owned(), p))
                    .collect();
                whole.sort_unstable();
                for ((_, to), (_, from)) in run.iter_mut().zip(whole) {
                    *to = from;
                }
            }
        }
        let mut order = TicketOrder {
            chunks,
            order: order.into_iter(),
            front: None,
        };
        order.advance();
        order
    }

    /// Bytes of records in chunks wherever they are, of those the bytes of records still at
    /// rest, and the bytes of chunks in memory.
    #[cfg(test)]
    fn footprint(&self) -> (usize, usize) {
        self.chunks.iter().fold((0, 0), |(held, live), c| {
            (held + c.resident().max(c.len), live + c.live)
        })
    }

    /// Bytes of chunks held in memory.
    #[cfg(test)]
    fn resident(&self) -> usize {
        self.chunks.iter().map(Chunk::resident).sum()
    }
}

/// Whether the entry `e` is that of `key`: its 24 bits first, then the record's ticket, whose
/// payload is kept in `found`.
fn matches_key<'c>(
    chunks: &'c [Chunk],
    e: Entry,
    tag: u32,
    key: TicketKey,
    found: &mut Option<Cow<'c, [u8]>>,
) -> bool {
    if tag_of(e) != tag {
        return false;
    }
    let payload = payload_in(chunks, place_of(e));
    let matches = key_of(&payload) == key;
    if matches {
        *found = Some(payload);
    }
    matches
}

/// Tells whether a read of the file of cases at rest failed
/// ([`crate::engine::Evaluator::resting_faults`]); kept by a host across the end of the
/// stream, when the arena itself is consumed.
#[derive(Clone, Debug, Default)]
pub struct RestingFaults(Option<Arc<SpillFile>>);

impl RestingFaults {
    /// The first read that failed (the cases there were not judged), if one did.
    pub fn fault(&self) -> Option<String> {
        self.0.as_ref().and_then(|s| s.fault())
    }

    /// `Err` with the fault, for a host that reports I/O errors.
    pub fn check(&self) -> std::io::Result<()> {
        match self.fault() {
            Some(fault) => Err(std::io::Error::other(fault)),
            None => Ok(()),
        }
    }
}

/// A case at rest, read ([`Dormant::get`]).
pub(super) struct Held<'a>(Cow<'a, [u8]>);

impl Held<'_> {
    pub(super) fn resting(&self) -> Resting<'_> {
        Resting::from_bytes(&self.0)
    }
}

/// The cases that were at rest, in the order of their tickets ([`Dormant::into_ticket_order`]).
pub(super) struct TicketOrder {
    chunks: Vec<Chunk>,
    order: std::vec::IntoIter<([u8; 16], Place)>,
    /// The next case's payload, read.
    front: Option<Vec<u8>>,
}

impl TicketOrder {
    fn advance(&mut self) {
        self.front = self
            .order
            .next()
            .map(|(_, p)| payload_in(&self.chunks, p).into_owned());
    }

    /// The next case's ticket.
    pub(super) fn peek(&self) -> Option<&str> {
        self.front.as_deref().map(ticket_of)
    }

    /// The next case, read back.
    pub(super) fn take(&mut self) -> Option<postcard::Result<CaseState>> {
        let front = self.front.take()?;
        self.advance();
        Some(Resting::from_bytes(&front).case())
    }
}

/// The first 16 bytes of a ticket, padded with zeros.
fn prefix(ticket: &str) -> [u8; 16] {
    let mut prefix = [0; 16];
    let n = ticket.len().min(16);
    prefix[..n].copy_from_slice(&ticket.as_bytes()[..n]);
    prefix
}

/// The payload of the record at `place`, read back from the spill file if it is there (empty
/// when it cannot be, which the file notes as its fault).
fn payload_in(chunks: &[Chunk], place: Place) -> Cow<'_, [u8]> {
    let offset = offset_of(place);
    match chunks.get(chunk_of(place)).map(|c| &c.bytes) {
        Some(Bytes::Open(bytes)) => Cow::Borrowed(record_in(bytes, offset)),
        Some(Bytes::Sealed(bytes)) => Cow::Borrowed(record_in(bytes, offset)),
        Some(Bytes::Spilled(spilled)) => Cow::Owned(spilled.payload(offset)),
        None => Cow::Borrowed(&[]),
    }
}

/// The payload of the record at `offset` of a chunk's bytes (empty past their end).
fn record_in(bytes: &[u8], offset: usize) -> &[u8] {
    if offset + HEADER > bytes.len() {
        return &[];
    }
    let end = offset + HEADER + header(bytes, offset) as usize;
    bytes.get(offset + HEADER..end).unwrap_or(&[])
}

fn header(bytes: &[u8], offset: usize) -> u32 {
    let mut header = [0; HEADER];
    header.copy_from_slice(&bytes[offset..offset + HEADER]);
    u32::from_le_bytes(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn case(ticket: &str, count: u64) -> CaseState {
        let at = "2026-03-02T09:00:00Z".parse().unwrap();
        let mut case = CaseState::new(ticket, 1, at);
        case.count = count;
        case
    }

    fn ticket(n: u16) -> String {
        // Some tickets long enough to leave the inline form, some long enough to overflow a
        // small chunk on their own.
        match n % 7 {
            0 => format!("T-{n}-{}", "x".repeat(40)),
            1 => format!("LONG-{n}-{}", "y".repeat(300)),
            _ => format!("T-{n}"),
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Rest(u16, u64),
        Wake(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u16..60, 0u64..1000).prop_map(|(t, c)| Op::Rest(t, c)),
            (0u16..60).prop_map(Op::Wake),
        ]
    }

    proptest! {
        /// Whatever is put to rest and taken out, in whatever order, the arena finds exactly
        /// what a map would hold, reads back every case as it was, and holds at most about
        /// twice the bytes of what is at rest (plus the chunks being appended to; five times
        /// in the spill file). Spilling changes where the bytes are, not what is found, and
        /// keeps at most the chunks appended to and [`RESIDENT`] others in memory. A copy made
        /// halfway reads what was at rest then, however the original goes on (reusing the
        /// file's slots).
        #[test]
        fn behaves_as_a_map(
            ops in prop::collection::vec(op(), 1..400),
            chunk in 64usize..4096,
            spill in any::<bool>(),
        ) {
            let mut dormant = Dormant::with_chunk_size(chunk);
            if spill {
                dormant.spill_to(tempfile::tempfile().unwrap());
            }
            let mut model = Model::new();
            let half = ops.len() / 2;
            let mut fork = None;
            for (n, op) in ops.into_iter().enumerate() {
                if n == half {
                    fork = Some((dormant.clone(), model.clone()));
                }
                match op {
                    Op::Rest(t, count) => {
                        let ticket = ticket(t);
                        let settles = (count % 3 == 0).then(|| count as i64 * 3600);
                        let at = settles.map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap());
                        dormant.insert(TicketKey::of(&ticket), &case(&ticket, count), at).unwrap();
                        model.insert(ticket, (count, settles));
                    }
                    Op::Wake(t) => {
                        let ticket = ticket(t);
                        prop_assert_eq!(
                            dormant.remove(TicketKey::of(&ticket)),
                            model.remove(&ticket).is_some()
                        );
                    }
                }
                prop_assert_eq!(dormant.len(), model.len());
                // A chunk is appended to until the next record does not fit, and copied out
                // below three quarters live (a quarter in the spill file): with records under
                // a third of a chunk, every chunk but the two appended to is at least half
                // live (a fifth in the file).
                let (held, live) = dormant.footprint();
                if chunk >= 3 * 400 {
                    let times = if spill { 5 } else { 2 };
                    prop_assert!(held <= times * live + 2 * chunk, "{held} held for {live}");
                    if spill {
                        let resident = dormant.resident();
                        prop_assert!(resident <= (RESIDENT + 2) * chunk, "{resident} in memory");
                    }
                }
            }
            prop_assert!(dormant.fault().is_none());
            finds_what_the_model_holds(&dormant, &model)?;
            if let Some((fork, model)) = fork {
                finds_what_the_model_holds(&fork, &model)?;
            }
        }
    }

    type Model = BTreeMap<String, (u64, Option<i64>)>;

    /// Every case of `model` is found, read back and listed as it was put to rest, and nothing
    /// else; in ticket order at the end.
    fn finds_what_the_model_holds(dormant: &Dormant, model: &Model) -> Result<(), TestCaseError> {
        prop_assert_eq!(dormant.len(), model.len());
        for (ticket, (count, settles)) in model {
            let key = TicketKey::of(ticket);
            prop_assert!(dormant.contains(key));
            let held = dormant.get(key).expect("at rest");
            let resting = held.resting();
            let case = resting.case().unwrap();
            prop_assert_eq!(&*case.ticket, ticket.as_str());
            prop_assert_eq!(case.count, *count);
            prop_assert_eq!(resting.settles().map(|s| s.timestamp()), *settles);
            prop_assert_eq!(&*resting.ticket(), ticket.as_str());
        }
        let mut listed = Vec::new();
        dormant.for_each(|k, r| listed.push((k, r.ticket().to_string())));
        prop_assert!(listed.iter().all(|(k, t)| *k == TicketKey::of(t)));
        let mut listed: Vec<String> = listed.into_iter().map(|(_, t)| t).collect();
        listed.sort();
        prop_assert_eq!(&listed, &model.keys().cloned().collect::<Vec<_>>());
        let mut order = dormant.clone().into_ticket_order();
        for (ticket, (count, _)) in model {
            prop_assert_eq!(order.peek(), Some(ticket.as_str()));
            prop_assert_eq!(order.take().unwrap().unwrap().count, *count);
        }
        prop_assert!(order.peek().is_none());
        prop_assert!(dormant.fault().is_none());
        Ok(())
    }

    /// In ticket order whatever the lengths: alike in their first 16 bytes, shorter, longer.
    #[test]
    fn cases_at_rest_come_out_in_ticket_order() {
        let mut tickets: Vec<String> = vec![
            "T-2026-000010".into(),
            "T-2026-00001".into(),
            "A-binjiang-patrol-003".into(),
            "A-binjiang-patrol-0031".into(),
            "A-binjiang-patrol-002".into(),
            "A-binjiang-patrol".into(),
            "A-binjiang-patro".into(),
            "B".into(),
            "维修-001".into(),
            "".into(),
        ];
        tickets.extend((0..300).map(|n| format!("X-{}", (n * 7919) % 1000)));
        tickets.sort();
        tickets.dedup();
        let mut dormant = Dormant::with_chunk_size(512);
        for (n, t) in tickets.iter().enumerate().rev() {
            dormant
                .insert(TicketKey::of(t), &case(t, n as u64), None)
                .unwrap();
        }
        let mut order = dormant.into_ticket_order();
        for (n, t) in tickets.iter().enumerate() {
            assert_eq!(order.peek(), Some(t.as_str()));
            assert_eq!(order.take().unwrap().unwrap().count, n as u64);
        }
        assert!(order.peek().is_none() && order.take().is_none());
    }

    /// An arena of `chunk_size` with cases `T-0` to `T-{n-1}` at rest, each of `count`.
    fn filled(chunk_size: usize, n: usize, count: u64) -> (Dormant, Vec<String>) {
        let mut dormant = Dormant::with_chunk_size(chunk_size);
        let tickets: Vec<String> = (0..n).map(|n| format!("T-{n}")).collect();
        for t in &tickets {
            dormant
                .insert(TicketKey::of(t), &case(t, count), None)
                .unwrap();
        }
        (dormant, tickets)
    }

    #[test]
    fn a_chunk_whose_records_all_went_is_freed() {
        let (mut dormant, tickets) = filled(256, 40, 1);
        let (held, _) = dormant.footprint();
        assert!(held >= 256 * 3, "several chunks: {held}");
        for t in &tickets {
            assert!(dormant.remove(TicketKey::of(t)));
        }
        assert!(dormant.is_empty());
        // Only the chunk being appended to is still held.
        assert_eq!(dormant.footprint(), (256, 0));
        assert!(!dormant.remove(TicketKey::of("T-0")));
    }

    #[test]
    fn a_half_empty_chunk_is_copied_out() {
        let (mut dormant, tickets) = filled(512, 60, 7);
        // Every other case wakes: the chunks behind fall under half live and are copied out.
        for t in tickets.iter().step_by(2) {
            dormant.remove(TicketKey::of(t));
        }
        let (held, live) = dormant.footprint();
        assert!(held <= live + 2 * 512, "{held} held for {live}");
        for t in tickets.iter().skip(1).step_by(2) {
            assert_eq!(
                dormant
                    .get(TicketKey::of(t))
                    .unwrap()
                    .resting()
                    .case()
                    .unwrap()
                    .count,
                7
            );
        }
    }

    /// 8,000 cases at rest in chunks of 4 KiB with a spill file, and their tickets.
    fn spilled_8000() -> (Dormant, Vec<String>) {
        let mut dormant = Dormant::with_chunk_size(4096);
        dormant.spill_to(tempfile::tempfile().unwrap());
        let tickets: Vec<String> = (0..8000).map(|n| format!("T-{n}")).collect();
        for t in &tickets {
            dormant.insert(TicketKey::of(t), &case(t, 3), None).unwrap();
        }
        (dormant, tickets)
    }

    /// With a spill file, most chunks leave memory and every case is still found; a copy
    /// shares the chunks rather than copying them.
    #[test]
    fn spilled_chunks_leave_memory() {
        let (mut dormant, tickets) = spilled_8000();
        let (held, live) = dormant.footprint();
        assert!(held >= 20 * 4096 && live > 0, "{held} for {live}");
        assert!(
            dormant.resident() <= (RESIDENT + 2) * 4096,
            "{}",
            dormant.resident()
        );
        let fork = dormant.clone();
        for t in tickets.iter().step_by(3) {
            assert!(dormant.remove(TicketKey::of(t)));
        }
        for t in &tickets {
            assert_eq!(
                fork.get(TicketKey::of(t))
                    .unwrap()
                    .resting()
                    .case()
                    .unwrap()
                    .count,
                3
            );
        }
        assert!(dormant.fault().is_none() && fork.fault().is_none());
    }

    /// The chunks in the spill file: how many, and how many of them are under a quarter and
    /// under three quarters live.
    fn spilled_liveness(dormant: &Dormant) -> (usize, usize, usize) {
        let spilled = dormant
            .chunks
            .iter()
            .filter(|c| matches!(c.bytes, Bytes::Spilled(_)));
        spilled.fold((0, 0, 0), |(all, quarter, three), c| {
            (
                all + 1,
                quarter + usize::from(c.live * 4 < c.len),
                three + usize::from(c.live * 4 < c.len * 3),
            )
        })
    }

    /// In the spill file, dead bytes are disk only: a chunk half live stays where it is
    /// (copying it out would read it back and write its records again), and one under a
    /// quarter live is copied out.
    #[test]
    fn a_spilled_chunk_is_copied_out_only_below_a_quarter_live() {
        let (mut dormant, tickets) = spilled_8000();
        let (before, _, _) = spilled_liveness(&dormant);
        assert!(before >= 20, "{before} chunks spilled");
        for t in tickets.iter().step_by(2) {
            assert!(dormant.remove(TicketKey::of(t)));
        }
        let (after, quarter, three) = spilled_liveness(&dormant);
        assert_eq!((after, quarter), (before, 0));
        assert!(
            three >= before - 1,
            "{three} of {after} chunks under three quarters live"
        );
        // Four in five of those gone too: every chunk that fell under a quarter was copied out.
        for (n, t) in tickets
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 2 == 1 && n % 5 != 0)
        {
            assert!(dormant.remove(TicketKey::of(t)), "{n}");
        }
        let (left, quarter, _) = spilled_liveness(&dormant);
        assert_eq!(quarter, 0);
        assert!(left < before / 2, "{left} of {before} chunks still spilled");
        for (n, t) in tickets.iter().enumerate() {
            let kept = n % 2 == 1 && n % 5 == 0;
            assert_eq!(dormant.get(TicketKey::of(t)).is_some(), kept, "{n}");
        }
        assert!(dormant.fault().is_none());
    }

    /// A chunk that cannot be written stays in memory, and everything is found.
    #[test]
    fn a_spill_file_that_cannot_be_written_keeps_chunks_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spill");
        std::fs::write(&path, b"").unwrap();
        let mut dormant = Dormant::with_chunk_size(4096);
        dormant.spill_to(File::open(&path).unwrap());
        let tickets: Vec<String> = (0..8000).map(|n| format!("T-{n}")).collect();
        for t in &tickets {
            dormant.insert(TicketKey::of(t), &case(t, 5), None).unwrap();
        }
        assert!(dormant.resident() >= 20 * 4096);
        for t in &tickets {
            assert!(dormant.remove(TicketKey::of(t)));
        }
        assert!(dormant.is_empty() && dormant.fault().is_none());
    }

    /// A spill file cut short under the arena: reads fail without a panic, the cases there are
    /// not found, and the fault is told (the service then stops before committing).
    #[test]
    fn a_spill_file_cut_short_is_a_fault_not_a_panic() {
        let file = tempfile::tempfile().unwrap();
        let other = file.try_clone().unwrap();
        let mut dormant = Dormant::with_chunk_size(4096);
        dormant.spill_to(file);
        let tickets: Vec<String> = (0..8000).map(|n| format!("T-{n}")).collect();
        for t in &tickets {
            dormant.insert(TicketKey::of(t), &case(t, 5), None).unwrap();
        }
        other.set_len(0).unwrap();
        assert!(dormant.fault().is_none());
        assert!(dormant.get(TicketKey::of("T-0")).is_none());
        assert!(dormant.fault().is_some());
        // Whatever is asked of it now, nothing panics.
        for t in &tickets {
            dormant.remove(TicketKey::of(t));
        }
        dormant.for_each(|_, _| {});
        let mut order = dormant.clone().into_ticket_order();
        while order.take().is_some() {}
        for t in &tickets {
            let _ = dormant.insert(TicketKey::of(t), &case(t, 6), None);
        }
        assert!(dormant.fault().is_some());
    }
}
