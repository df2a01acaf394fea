//! What the evaluator keeps of one case between its events, and how it finds it.
//!
//! A dense stream keeps a million cases at once, so every byte of [`CaseState`] counts:
//! what most cases never need sits behind one pointer ([`Rare`], the replay log, the
//! digest), ids are kept as hashes ([`CaseIds`]), and a case is found by a 128-bit hash of its
//! ticket ([`TicketKey`]) rather than by its string. The size test in the engine pins the
//! sizes so that growth is a decision, not an accident.

use super::*;

/// Below this many ids a case finds duplicates by scanning them; from it on, by a map. Most
/// cases have a handful of events; assets with years of duties have thousands.
pub(super) const ID_SCAN_LIMIT: usize = 16;

/// The ids of a case's accepted events, as 64-bit hashes (xxh3) with the line of each: 16 bytes
/// an id, whatever its length. Two ids of one case with the same hash would be taken for a
/// duplicate; among a thousand ids the odds are about 1 in 10^13.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) enum CaseIds {
    #[default]
    None,
    Few(Vec<(u64, u64)>),
    #[allow(clippy::box_collection)] // most cases have few ids: the variant stays small
    Many(Box<HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>>),
}

impl CaseIds {
    pub(super) fn hash(id: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(id.as_bytes())
    }

    pub(super) fn line_of(&self, id: &str) -> Option<u64> {
        let h = Self::hash(id);
        match self {
            CaseIds::None => None,
            CaseIds::Few(ids) => ids.iter().find(|(i, _)| *i == h).map(|&(_, l)| l),
            CaseIds::Many(map) => map.get(&h).copied(),
        }
    }

    pub(super) fn insert(&mut self, id: &str, line: u64) {
        let h = Self::hash(id);
        match self {
            CaseIds::None => *self = CaseIds::Few(vec![(h, line)]),
            CaseIds::Few(ids) if ids.len() + 1 >= ID_SCAN_LIMIT => {
                let mut map: HashMap<u64, u64, BuildHasherDefault<IdentityHasher>> =
                    std::mem::take(ids).into_iter().collect();
                map.insert(h, line);
                *self = CaseIds::Many(Box::new(map));
            }
            CaseIds::Few(ids) => ids.push((h, line)),
            CaseIds::Many(map) => {
                map.insert(h, line);
            }
        }
    }
}

pub(super) use crate::hashed::IdentityHasher;

/// A ticket as the key of its open case: a 128-bit hash of its bytes (xxh3), so that finding
/// the case of an event compares two integers rather than chasing and comparing strings. Two
/// tickets with the same key would share a case; among ten million tickets the odds are about
/// 1 in 10^25.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub(super) struct TicketKey(pub(super) u128);

impl super::settling::Packed for TicketKey {
    type Packed = [u64; 2];
    const BYTES: usize = 16;
    fn put([high, low]: [u64; 2], out: &mut Vec<u8>) {
        out.extend_from_slice(&high.to_le_bytes());
        out.extend_from_slice(&low.to_le_bytes());
    }
    fn take(bytes: &[u8]) -> [u64; 2] {
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        [word(&bytes[..8]), word(&bytes[8..16])]
    }
    fn pack(self) -> [u64; 2] {
        [(self.0 >> 64) as u64, self.0 as u64]
    }
    fn unpack([high, low]: [u64; 2]) -> TicketKey {
        TicketKey(u128::from(high) << 64 | u128::from(low))
    }
}

impl TicketKey {
    pub(super) fn of(ticket: &str) -> TicketKey {
        TicketKey(xxhash_rust::xxh3::xxh3_128(ticket.as_bytes()))
    }

    /// 64 bits of the key, for the set of finished tickets.
    pub(super) fn short(self) -> u64 {
        self.0 as u64
    }
}

pub(super) type HashSet64 = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

/// A stage that asks for evidence (an escalation or a notification), by plan and stage.
#[derive(Debug, Clone, Copy)]
pub(super) struct StageKey {
    pub(super) plan: u32,
    pub(super) stage: u32,
}

/// What is kept of one case between its events: never the events themselves, except those
/// of the types notification and period clauses read (`digest`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct CaseState {
    /// Inline: most tickets fit in 22 bytes, and a shared string would cost every kept case a
    /// heap block of its own; sinks get a shared copy made when the case settles.
    pub(super) ticket: InlineStr,
    /// Accepted events, applied or waiting, relevant or not.
    pub(super) count: u64,
    pub(super) first_line: u64,
    pub(super) opened: bool,
    /// `attrs` of `opened` merged with every `updated`, in canonical order.
    pub(super) attrs: Attrs,
    /// The `status` of the latest `status` event.
    pub(super) status: Option<InlineStr>,
    /// The sequence number of the next applied event.
    pub(super) seq: u32,
    /// The latest instant applied.
    #[serde(with = "crate::event::compact_instant::option")]
    pub(super) applied: Option<Instant>,
    /// The latest `closed` not followed by a `reopened`.
    #[serde(with = "crate::event::compact_instant::option")]
    pub(super) closed: Option<Instant>,
    /// The latest settling instant queued for the case and not yet come up, so that putting
    /// it to rest does not queue the same instant twice (a closed case is queued to settle
    /// when it closes, and again when it rests: a quarter of the queue was such twins). Not in
    /// snapshots: a restored case is queued afresh.
    #[serde(skip)]
    pub(super) settle_queued: Option<Instant>,
    /// The watermark when the case's latest event arrived.
    #[serde(with = "crate::event::compact_instant")]
    pub(super) arrived: Instant,
    pub(super) ids: CaseIds,
    /// Per started track (index into the evaluator's tracks), its state.
    pub(super) tracks: Vec<TrackState>,
    /// Cycles that stopped, per track: judged when the case settles, with its attributes as
    /// merged by then (SEMANTICS.md: applicability uses the attributes as merged up to `now`,
    /// and a repair is often reclassified when its work order is closed out, after the fix).
    pub(super) stopped: Vec<Stopped>,
    /// What few cases have, boxed so that the others pay one pointer for it.
    pub(super) rare: Option<Box<Rare>>,
    /// From the first clock not followed because of the case's `kind`: the events that start,
    /// stop or pause clocks, so that a reclassified case can follow its new kind's clocks from
    /// the start (SEMANTICS.md: "a reclassified case is judged as reclassified").
    pub(super) log: Option<Box<ReplayLog>>,
    /// Events the notification and period clauses read, evaluated when the case settles.
    /// (Boxed: policies without such clauses pay one pointer.)
    pub(super) digest: Option<Box<Digest>>,
    /// Where a host stores the case's kept events ([`Evaluator::keep_row`]); empty otherwise.
    pub(super) rows: RowNumbers,
}

/// The parts of a case's state that most cases never need.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Rare {
    /// Evidence for stages: index into the evaluator's stage keys, and instant.
    #[serde(with = "stage_evidence")]
    pub(super) evidence: Vec<(u32, Instant)>,
}

impl CaseState {
    pub(super) fn new(ticket: &str, line: u64, arrived: Instant) -> CaseState {
        CaseState {
            ticket: InlineStr::new(ticket),
            count: 0,
            first_line: line,
            opened: false,
            attrs: Attrs::new(),
            status: None,
            seq: 0,
            applied: None,
            closed: None,
            settle_queued: None,
            arrived,
            ids: CaseIds::None,
            tracks: Vec::new(),
            stopped: Vec::new(),
            rare: None,
            log: None,
            digest: None,
            rows: RowNumbers::default(),
        }
    }

    /// When the case may be settled. A closed case: the retention past its latest `closed`,
    /// and at least the reorder window past the watermark at which its latest event arrived (a
    /// file concatenated per project brings old cases long after the watermark has moved on,
    /// and their follow-ups with them). A case that is not closed: the retention past the
    /// watermark at which its latest event arrived, so that a ticket left open and forgotten
    /// costs memory for the retention, not for the rest of the stream (memory follows the
    /// stream's density, not its length).
    ///
    /// `retain` is the case's own retention after `closed` ([`Evaluator::retention`]): at least
    /// `--retain`, longer when a warranty or follow-up window of a record clause may apply.
    pub(super) fn settles_at(&self, opts: &EvalOptions, retain: Duration) -> Instant {
        let after =
            |t: Instant, d: Duration| t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC);
        match self.closed {
            Some(closed) => after(closed, retain).max(after(self.arrived, opts.reorder_window)),
            None => after(self.arrived, opts.retain),
        }
    }

    pub(super) fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    pub(super) fn evidence(&self) -> &[(u32, Instant)] {
        self.rare.as_ref().map_or(&[], |r| &r.evidence[..])
    }

    pub(super) fn track(&mut self, track: u16) -> Option<&mut TrackState> {
        self.tracks.iter_mut().find(|s| s.track == track)
    }
}

/// [`Rare::evidence`] with compact instants.
mod stage_evidence {
    use crate::event::compact_instant::Compact;
    use crate::event::Instant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[(u32, Instant)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&(stage, at)| (stage, Compact(at))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, Instant)>, D::Error> {
        Ok(Vec::<(u32, Compact)>::deserialize(d)?
            .into_iter()
            .map(|(stage, at)| (stage, at.0))
            .collect())
    }
}
