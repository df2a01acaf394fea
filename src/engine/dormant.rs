//! The cases at rest, packed in an arena of their own.
//!
//! Half a million cases rest at once on a dense stream, each a record of about 150 bytes that
//! lives for days or weeks. Boxed one by one, they shared the allocator's pages with the
//! events' short-lived blocks of the same sizes: a page was freed only when every block on it
//! was, and the process held about a third more memory than it used. Here the records are
//! appended to chunks that hold nothing else; a chunk whose records have mostly gone (woken or
//! settled) has the rest copied out and is freed. The table that finds a record holds only its
//! position, 8 bytes: the record's ticket, the first field of its case's bytes, gives its key.
//!
//! A record is its length (4 bytes, little-endian), then a case's settling instant and its
//! bytes as a snapshot writes it ([`Resting`]).

use super::settle::Resting;
use super::state::{CaseState, TicketKey};
use crate::event::Instant;
use hashbrown::HashTable;

/// How many bytes a chunk holds: records are appended to the active one until the next does
/// not fit. A record longer than this (a case with thousands of kept events) has a chunk to
/// itself.
const CHUNK: usize = 1 << 20;

/// Where a record lies: its chunk's index in the high half, its offset in the low half.
type Pos = u64;

fn pos(chunk: usize, offset: usize) -> Pos {
    (chunk as u64) << 32 | offset as u64
}

fn chunk_of(pos: Pos) -> usize {
    (pos >> 32) as usize
}

fn offset_of(pos: Pos) -> usize {
    (pos & u64::from(u32::MAX)) as usize
}

/// Bytes in front of a record's payload: its length, and in the top bit whether it has gone
/// (so that copying a chunk out looks up only the records still at rest).
const HEADER: usize = 4;
const GONE: u32 = 1 << 31;

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
    /// Records, appended; never grown past the capacity it was made with, so that it is one
    /// allocation of a fixed size.
    bytes: Vec<u8>,
    /// Bytes of the records still found through the table.
    live: usize,
}

/// The cases at rest: each a record in an arena of chunks, found by its ticket's key.
#[derive(Clone, Debug)]
pub(super) struct Dormant {
    /// Positions of the records, hashed by their key's low 64 bits.
    table: HashTable<Pos>,
    chunks: Vec<Chunk>,
    /// The chunks records are appended to (`None` before the first), per [`Lane`].
    active: [Option<usize>; 2],
    /// Indices of freed chunks, for reuse.
    spare: Vec<usize>,
    /// Where a record is written before it is copied in.
    scratch: Vec<u8>,
    chunk_size: usize,
}

impl Default for Dormant {
    fn default() -> Self {
        Dormant::with_chunk_size(CHUNK)
    }
}

/// The key of a record's payload, from the ticket in front of its case's bytes.
fn key_of(payload: &[u8]) -> TicketKey {
    let (_, case) = Resting::from_bytes(payload).split();
    match postcard::take_from_bytes::<&str>(case) {
        Ok((ticket, _)) => TicketKey::of(ticket),
        // Records are written here from cases and always read back.
        Err(_) => TicketKey(0),
    }
}

impl Dormant {
    pub(super) fn with_chunk_size(chunk_size: usize) -> Dormant {
        Dormant {
            table: HashTable::new(),
            chunks: Vec::new(),
            active: [None, None],
            spare: Vec::new(),
            scratch: Vec::new(),
            chunk_size: chunk_size.max(HEADER + 1),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The payload of the record at `pos`.
    fn payload(&self, pos: Pos) -> &[u8] {
        payload_in(&self.chunks, pos)
    }

    fn find(&self, key: TicketKey) -> Option<Pos> {
        let chunks = &self.chunks;
        self.table
            .find(key.short(), |&p| key_of(payload_in(chunks, p)) == key)
            .copied()
    }

    pub(super) fn contains(&self, key: TicketKey) -> bool {
        self.find(key).is_some()
    }

    /// The case at rest for `key`.
    pub(super) fn get(&self, key: TicketKey) -> Option<Resting<'_>> {
        self.find(key).map(|p| Resting::from_bytes(self.payload(p)))
    }

    /// Every case at rest, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (TicketKey, Resting<'_>)> + '_ {
        self.table.iter().map(|&p| {
            let payload = self.payload(p);
            (key_of(payload), Resting::from_bytes(payload))
        })
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
        if written.is_ok() && scratch.len() >= GONE as usize {
            // Not a record a case can have; it stays in memory.
            written = Err(postcard::Error::SerializeBufferFull);
        }
        if written.is_ok() {
            self.insert_payload(key, &scratch);
        }
        self.scratch = scratch;
        written
    }

    /// Puts a payload as [`Resting`] reads it to rest for `key` (another evaluator's record).
    pub(super) fn insert_payload(&mut self, key: TicketKey, payload: &[u8]) {
        self.remove(key);
        let at = self.append(payload);
        let chunks = &self.chunks;
        self.table
            .insert_unique(key.short(), at, |&p| key_of(payload_in(chunks, p)).short());
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
        let entry = self
            .table
            .find_entry(key.short(), |&p| key_of(payload_in(chunks, p)) == key)
            .ok()?;
        let at = *entry.get();
        let read = read(Resting::from_bytes(payload_in(chunks, at)))?;
        entry.remove();
        self.forget(at);
        Some(read)
    }

    /// Marks the record at `at` gone, and frees or copies out its chunk when it is mostly gone.
    fn forget(&mut self, at: Pos) {
        let (chunk, offset) = (chunk_of(at), offset_of(at));
        let bytes = &mut self.chunks[chunk].bytes;
        let len = record_len(bytes, offset);
        let header = header(bytes, offset) | GONE;
        bytes[offset..offset + HEADER].copy_from_slice(&header.to_le_bytes());
        self.chunks[chunk].live -= len;
        self.reclaim(chunk);
    }

    /// Appends a record to the chunks of its lane and returns where it lies.
    fn append(&mut self, payload: &[u8]) -> Pos {
        let lane = Lane::of(payload);
        let len = HEADER + payload.len();
        let mut retired = None;
        let chunk = if len > self.chunk_size {
            // A chunk of its own, never appended to: freed when its record goes.
            self.new_chunk(len)
        } else {
            match self.active[lane as usize] {
                Some(a) if self.chunks[a].bytes.capacity() - self.chunks[a].bytes.len() >= len => a,
                previous => {
                    retired = previous;
                    let a = self.new_chunk(self.chunk_size);
                    self.active[lane as usize] = Some(a);
                    a
                }
            }
        };
        let c = &mut self.chunks[chunk];
        let offset = c.bytes.len();
        c.bytes
            .extend_from_slice(&(payload.len() as u32).to_le_bytes());
        c.bytes.extend_from_slice(payload);
        c.live += len;
        // The chunk left behind is no longer spared for being appended to (after the record
        // is written: copying its records out appends too).
        if let Some(retired) = retired {
            self.reclaim(retired);
        }
        pos(chunk, offset)
    }

    fn new_chunk(&mut self, capacity: usize) -> usize {
        let chunk = Chunk {
            bytes: Vec::with_capacity(capacity),
            live: 0,
        };
        match self.spare.pop() {
            Some(i) => {
                self.chunks[i] = chunk;
                i
            }
            None => {
                self.chunks.push(chunk);
                self.chunks.len() - 1
            }
        }
    }

    /// Frees a chunk that is not appended to once its records have gone, and copies out the
    /// records of one that is less than three quarters live, so that memory follows what is at
    /// rest. (On the dense benchmark stream, half left a third of the chunks' bytes dead; seven
    /// eighths cost twice the copying of three quarters for a tenth less memory.)
    fn reclaim(&mut self, chunk: usize) {
        if self.active.contains(&Some(chunk)) {
            return;
        }
        let c = &self.chunks[chunk];
        if c.live == 0 {
            self.chunks[chunk] = Chunk::default();
            self.spare.push(chunk);
        } else if c.live * 4 < c.bytes.len() * 3 {
            self.evacuate(chunk);
        }
    }

    /// Copies the live records of `chunk` to the active chunk and frees it. A record is live
    /// when the table holds its position.
    fn evacuate(&mut self, chunk: usize) {
        let old = std::mem::take(&mut self.chunks[chunk]);
        let mut offset = 0;
        while offset < old.bytes.len() {
            let len = record_len(&old.bytes, offset);
            if header(&old.bytes, offset) & GONE == 0 {
                let payload = &old.bytes[offset + HEADER..offset + len];
                let here = pos(chunk, offset);
                let there = self.append(payload);
                let hash = key_of(payload).short();
                if let Some(slot) = self.table.find_mut(hash, |&p| p == here) {
                    *slot = there;
                }
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
        let places: Vec<Pos> = table.into_iter().collect();
        let mut order: Vec<([u8; 16], Pos)> = places
            .into_iter()
            .map(|p| (prefix(ticket_in(&chunks, p)), p))
            .collect();
        // Bytes compare as the strings do: a shorter ticket is padded with zeros, below any
        // byte of a longer one. Tickets alike in their first 16 bytes are compared whole.
        order.sort_unstable_by(|(a, p), (b, q)| {
            a.cmp(b)
                .then_with(|| ticket_in(&chunks, *p).cmp(ticket_in(&chunks, *q)))
        });
        TicketOrder {
            chunks,
            order: order.into_iter(),
        }
    }

    /// Bytes held in chunks, and of those the bytes of records still at rest.
    #[cfg(test)]
    fn footprint(&self) -> (usize, usize) {
        self.chunks.iter().fold((0, 0), |(held, live), c| {
            (held + c.bytes.capacity(), live + c.live)
        })
    }
}

/// The cases that were at rest, in the order of their tickets ([`Dormant::into_ticket_order`]).
pub(super) struct TicketOrder {
    chunks: Vec<Chunk>,
    order: std::vec::IntoIter<([u8; 16], Pos)>,
}

impl TicketOrder {
    /// The next case's ticket.
    pub(super) fn peek(&self) -> Option<&str> {
        let (_, p) = self.order.as_slice().first()?;
        Some(ticket_in(&self.chunks, *p))
    }

    /// The next case, read back.
    pub(super) fn take(&mut self) -> Option<postcard::Result<CaseState>> {
        let (_, p) = self.order.next()?;
        Some(Resting::from_bytes(payload_in(&self.chunks, p)).case())
    }
}

/// The first 16 bytes of a ticket, padded with zeros.
fn prefix(ticket: &str) -> [u8; 16] {
    let mut prefix = [0; 16];
    let n = ticket.len().min(16);
    prefix[..n].copy_from_slice(&ticket.as_bytes()[..n]);
    prefix
}

/// The ticket of the record at `pos`, read in place.
fn ticket_in(chunks: &[Chunk], pos: Pos) -> &str {
    let (_, case) = Resting::from_bytes(payload_in(chunks, pos)).split();
    postcard::take_from_bytes::<&str>(case).map_or("", |(ticket, _)| ticket)
}

fn payload_in(chunks: &[Chunk], pos: Pos) -> &[u8] {
    let bytes = &chunks[chunk_of(pos)].bytes;
    let offset = offset_of(pos);
    &bytes[offset + HEADER..offset + record_len(bytes, offset)]
}

/// The whole length of the record at `offset`, header included.
fn record_len(bytes: &[u8], offset: usize) -> usize {
    HEADER + (header(bytes, offset) & !GONE) as usize
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
        /// twice the bytes of what is at rest (plus the chunks being appended to).
        #[test]
        fn behaves_as_a_map(ops in prop::collection::vec(op(), 1..400), chunk in 64usize..4096) {
            let mut dormant = Dormant::with_chunk_size(chunk);
            let mut model: BTreeMap<String, (u64, Option<i64>)> = BTreeMap::new();
            for op in ops {
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
                // below three quarters live: with records under a third of a chunk, every
                // chunk but the two appended to is at least half live.
                let (held, live) = dormant.footprint();
                if chunk >= 3 * 400 {
                    prop_assert!(held <= 2 * live + 2 * chunk, "{held} held for {live}");
                }
            }
            for (ticket, (count, settles)) in &model {
                let key = TicketKey::of(ticket);
                let resting = dormant.get(key).expect("at rest");
                let case = resting.case().unwrap();
                prop_assert_eq!(&*case.ticket, ticket.as_str());
                prop_assert_eq!(case.count, *count);
                prop_assert_eq!(resting.settles().map(|s| s.timestamp()), *settles);
                prop_assert_eq!(&*resting.ticket(), ticket.as_str());
            }
            let mut listed: Vec<String> =
                dormant.iter().map(|(_, r)| r.ticket().to_string()).collect();
            listed.sort();
            prop_assert_eq!(listed, model.keys().cloned().collect::<Vec<_>>());
            prop_assert!(dormant.iter().all(|(k, r)| k == TicketKey::of(&r.ticket())));
        }
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
                dormant.get(TicketKey::of(t)).unwrap().case().unwrap().count,
                7
            );
        }
    }
}
