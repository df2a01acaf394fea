//! Snapshots of the evaluator: its whole compact state as bytes, and back.
//!
//! A snapshot is what a host persists together with its position in its source (the service's
//! store, [`crate::Engine::snapshot`]): postcard bytes of everything the evaluator keeps
//! between events, with the options and a fingerprint of the policies. What the policies
//! imply (plans, tracks, digest rules) is not in it: a restore derives it again from them.

use super::*;

impl<'p, S: Sink> Evaluator<'p, S> {
    /// The evaluator's state as bytes: everything it keeps between events (waiting events,
    /// cases, settling times, remembered tickets, running cycles of settled cases, period
    /// tallies, counts), with the options and a fingerprint of the policies. What the policies
    /// themselves imply is not in it: [`Evaluator::restore`] derives it again from them.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        // Resting cases are written as the cases they are.
        let mut resting: Vec<(TicketKey, CaseState)> = Vec::with_capacity(self.dormant.len());
        let mut unreadable = None;
        self.dormant.for_each(|key, case| match case.case() {
            Ok(case) => resting.push((key, case)),
            Err(e) => {
                unreadable.get_or_insert(e);
            }
        });
        if let Some(e) = unreadable {
            return Err(SnapshotError::Unwritable(e.to_string()));
        }
        if let Some(fault) = self.dormant.fault() {
            return Err(SnapshotError::Unwritable(fault));
        }
        let mut cases: Vec<(&TicketKey, &CaseState)> = self
            .cases
            .iter()
            .map(|(k, c)| (k, &**c))
            .chain(resting.iter().map(|(k, c)| (k, c)))
            .collect();
        cases.sort_unstable_by_key(|(k, _)| **k);
        self.write(cases)
    }

    /// A copy of the evaluator in memory, writing to `sink`: what [`Evaluator::snapshot`] and
    /// [`Evaluator::restore`] would give, without writing every case as bytes and reading it
    /// back. Cases at rest stay bytes in the copy (one copy of the arena), where a restore
    /// would wake them all. A live host forks to judge as of now (a summary, an agenda)
    /// while the original goes on; the changes the original tracks are not the copy's.
    ///
    /// `policies` are the evaluator's own (the same slice, which a host holding them in
    /// another owner borrows anew).
    pub(crate) fn fork<'q, T: Sink>(&self, policies: &'q [Policy], sink: T) -> Evaluator<'q, T> {
        let mut copy = self.fork_but_cases(policies, sink);
        copy.cases = self.cases.clone();
        copy.dormant = self.dormant.clone();
        copy.deferred = self.deferred.clone();
        copy.deferred_notices = self.deferred_notices.clone();
        copy.alarms = self.alarms.clone();
        copy
    }

    /// A copy of all but what is kept per case: the cases (awake and at rest), and what
    /// settled cases left for the end (`deferred`, `deferred_notices`).
    fn fork_but_cases<'q, T: Sink>(&self, policies: &'q [Policy], sink: T) -> Evaluator<'q, T> {
        debug_assert!(std::ptr::eq(policies, self.policies));
        let mut copy =
            Evaluator::with_relevance(policies, self.opts.clone(), sink, self.relevance.clone());
        copy.in_order = self.in_order.clone();
        copy.waiting = self.waiting.clone();
        copy.arrivals = self.arrivals;
        copy.case_attrs = self.case_attrs.clone();
        copy.settling = self.settling.clone();
        copy.finished = self.finished.clone();
        copy.watermark = self.watermark;
        copy.summary = self.summary.clone();
        copy.periods.copy_from(&self.periods);
        copy.partition = self.partition;
        copy.shadow = self.fork_shadow(policies);
        copy
    }

    /// [`Evaluator::fork`] narrowed to what the records about `ticket` come of, for a host
    /// that asks about one ticket: its case (awake, whether it rests here or not), its
    /// cycles and notifications settled with the end's `now` to come, the events still
    /// waiting out the reorder window and the cases they are for, and everything that is not
    /// per case (periods, alert periods, the settling queue, the settled tickets). Every
    /// verdict, action and finding naming a ticket comes of its own case and of those, so
    /// finishing the copy gives the records about `ticket` that finishing a whole fork gives,
    /// at the cost of one case rather than of every case kept.
    pub(crate) fn fork_ticket<'q, T: Sink>(
        &self,
        policies: &'q [Policy],
        sink: T,
        ticket: &str,
    ) -> Evaluator<'q, T> {
        let mut copy = self.fork_but_cases(policies, sink);
        let mut keys: Vec<TicketKey> = std::iter::once(TicketKey::of(ticket))
            .chain(self.in_order.iter().map(|w| w.key))
            .chain(self.waiting.iter().map(|w| w.0.key))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let case = match self.cases.get(&key) {
                Some(case) => Some(Arc::clone(case)),
                // As [`Evaluator::wake`] wakes it.
                None => self.dormant.get(key).and_then(|held| {
                    let (settles, bytes) = held.resting().split();
                    let mut case = postcard::from_bytes::<CaseState>(bytes).ok()?;
                    case.settle_queued = settles;
                    Some(Arc::new(case))
                }),
            };
            if let Some(case) = case {
                copy.cases.insert(key, case);
            }
        }
        for d in self.deferred.chunks.iter().flatten() {
            if &*d.ticket == ticket {
                copy.deferred.push(d.clone());
            }
        }
        copy.deferred_notices = self
            .deferred_notices
            .iter()
            .filter(|(t, _)| &**t == ticket)
            .cloned()
            .collect();
        copy
    }

    /// Remembers that a case changed (or settled), when changes are tracked.
    pub(super) fn mark_changed(&mut self, key: TicketKey) {
        if let Some(changed) = self.changed.as_mut() {
            changed.push(key);
        }
    }

    /// From now on, keeps the cases at rest in `file` (empty, readable and writable, used by
    /// nothing else) but for the latest few megabytes of them; see
    /// [`crate::Engine::spill_resting_to`].
    pub fn spill_resting_to(&mut self, file: std::fs::File) {
        self.dormant.spill_to(file);
    }

    /// What tells whether a read of the file of cases at rest failed, also after
    /// [`Evaluator::finish`] (should one, the records lack the cases it held).
    pub fn resting_faults(&self) -> super::dormant::RestingFaults {
        self.dormant.faults()
    }

    /// [`Evaluator::spill_resting_to`] with the cases at rest packed in chunks of `bytes`
    /// (at most a mebibyte) rather than a mebibyte, for tests that make a small stream spill.
    #[doc(hidden)]
    pub fn spill_resting_in_chunks(&mut self, file: std::fs::File, bytes: usize) {
        if self.dormant.is_empty() {
            self.dormant = super::dormant::Dormant::with_chunk_size(bytes);
        }
        self.dormant.spill_to(file);
    }

    /// From now on, remembers which cases change, for [`Evaluator::checkpoint`].
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(Changed::default);
    }

    /// The state in parts, for a host that keeps each case apart (the service's store): the
    /// rest of the state (a snapshot without cases), and each case changed since the previous
    /// checkpoint (or since [`Evaluator::track_changes`]), as its key and its bytes, or `None`
    /// when it settled. Writing only those keeps a commit's cost to what changed, not to every
    /// open case. [`Evaluator::restore_parts`] reads the rest and every kept case back. The
    /// rest is written into `room`, emptied first, so that a host can hand back the buffer of
    /// the previous one.
    pub fn checkpoint(&mut self, mut room: Vec<u8>) -> Result<Checkpoint, SnapshotError> {
        if let Some(fault) = self.dormant.fault() {
            return Err(SnapshotError::Unwritable(fault));
        }
        room.clear();
        room.reserve(self.last_rest + self.last_rest / 8 + 4096);
        let rest = self.write_into(Vec::new(), room)?;
        self.last_rest = rest.len();
        let changed = self.changed.as_mut().map(Changed::take).unwrap_or_default();
        let mut cases = Vec::with_capacity(changed.len());
        for key in changed {
            let bytes = match self.cases.get(&key) {
                // Written by the host, off this thread ([`CaseBytes::into_bytes`]).
                Some(case) => Some(CaseBytes(Held::Awake(key, Arc::clone(case)))),
                // A pair is written as its two parts one after the other.
                None => match self.dormant.get(key) {
                    Some(held) => {
                        let resting = held.resting();
                        let key = postcard::to_stdvec(&key)
                            .map_err(|e| SnapshotError::Unwritable(e.to_string()))?;
                        let mut bytes = Vec::with_capacity(key.len() + resting.case_bytes().len());
                        bytes.extend_from_slice(&key);
                        bytes.extend_from_slice(resting.case_bytes());
                        Some(CaseBytes(Held::Bytes(bytes)))
                    }
                    None => None,
                },
            };
            cases.push((key.0, bytes));
        }
        let released_rows = std::mem::take(&mut self.released_rows);
        Ok(Checkpoint {
            rest,
            cases,
            released_rows,
        })
    }

    fn write(&self, cases: Vec<(&TicketKey, &CaseState)>) -> Result<Vec<u8>, SnapshotError> {
        self.write_into(cases, Vec::new())
    }

    /// [`Evaluator::write`], appending to `out`.
    fn write_into(
        &self,
        cases: Vec<(&TicketKey, &CaseState)>,
        out: Vec<u8>,
    ) -> Result<Vec<u8>, SnapshotError> {
        let state = SnapshotRef {
            format: SNAPSHOT_FORMAT,
            fingerprint: policies_fingerprint(self.policies),
            now: self.opts.now,
            reorder_window_ms: self.opts.reorder_window.num_milliseconds(),
            retain_ms: self.opts.retain.num_milliseconds(),
            in_order: &self.in_order,
            waiting: &self.waiting,
            arrivals: self.arrivals,
            case_attrs: &self.case_attrs,
            cases,
            settling: &self.settling,
            finished: &self.finished,
            watermark: self.watermark,
            deferred: &self.deferred,
            summary: &self.summary,
            periods: self.periods.snapshot(),
            deferred_notices: &self.deferred_notices,
            alarms: self.alarms.as_ref().map(|a| a.told),
            partition: self.partition,
            shadow: self.shadow_state()?,
        };
        postcard::to_extend(&state, out).map_err(|e| SnapshotError::Unwritable(e.to_string()))
    }

    /// An evaluator of `policies` in the state [`Evaluator::snapshot`] wrote, with the options
    /// it had. Fails, changing nothing, when the bytes are not a snapshot of this version or
    /// were taken with other policies.
    pub fn restore(
        policies: &'p [Policy],
        sink: S,
        bytes: &[u8],
    ) -> Result<Evaluator<'p, S>, SnapshotError> {
        let state: SnapshotOwned =
            postcard::from_bytes(bytes).map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
        Self::from_state(policies, sink, state)
    }

    /// An evaluator in the state [`Evaluator::checkpoint`] wrote in parts: the latest rest, and
    /// the latest bytes of every case still kept. It tracks changes from there.
    pub fn restore_parts<C: AsRef<[u8]>>(
        policies: &'p [Policy],
        sink: S,
        rest: &[u8],
        cases: impl IntoIterator<Item = C>,
    ) -> Result<Evaluator<'p, S>, SnapshotError> {
        let mut state: SnapshotOwned =
            postcard::from_bytes(rest).map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
        for bytes in cases {
            let case: (TicketKey, CaseState) = postcard::from_bytes(bytes.as_ref())
                .map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
            state.cases.push(case);
        }
        let mut evaluator = Self::from_state(policies, sink, state)?;
        evaluator.track_changes();
        Ok(evaluator)
    }

    fn from_state(
        policies: &'p [Policy],
        sink: S,
        state: SnapshotOwned,
    ) -> Result<Evaluator<'p, S>, SnapshotError> {
        if state.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format(state.format));
        }
        if state.fingerprint != policies_fingerprint(policies) {
            return Err(SnapshotError::OtherPolicies);
        }
        // Bytes from disk: a negative window, or one past what a duration holds, is a damaged
        // snapshot.
        let window = |ms: i64, what: &str| {
            Duration::try_milliseconds(ms)
                .filter(|d| *d >= Duration::zero())
                .ok_or_else(|| SnapshotError::Unreadable(format!("its {what} is {ms} ms")))
        };
        let opts = EvalOptions {
            resting_in_memory: None,
            now: state.now,
            reorder_window: window(state.reorder_window_ms, "reorder window")?,
            retain: window(state.retain_ms, "retention")?,
        };
        let mut evaluator = Evaluator::new(policies, opts, sink);
        evaluator.in_order = state.in_order;
        evaluator.waiting = state.waiting;
        evaluator.arrivals = state.arrivals;
        evaluator.case_attrs = state.case_attrs;
        evaluator.cases = state
            .cases
            .into_iter()
            .map(|(k, c)| (k, Arc::new(c)))
            .collect();
        evaluator.settling = state.settling;
        // Every case restored comes up again to rest (cases at rest are restored in memory).
        for (key, case) in &evaluator.cases {
            evaluator
                .settling
                .push(after(case.arrived, REST_AFTER), *key);
        }
        evaluator.finished = state.finished;
        evaluator.watermark = state.watermark;
        evaluator.deferred = state.deferred;
        // The clause list comes from the policies; the counts from the snapshot.
        let mut summary = state.summary;
        if summary.clauses.len() != evaluator.summary.clauses.len() {
            return Err(SnapshotError::OtherPolicies);
        }
        for (restored, fresh) in summary.clauses.iter_mut().zip(&evaluator.summary.clauses) {
            restored.kind = fresh.kind;
        }
        evaluator.summary = summary;
        evaluator.periods.restore(state.periods);
        evaluator.deferred_notices = state.deferred_notices;
        evaluator.partition = state.partition;
        if let Some(shadow) = state.shadow {
            evaluator.restore_shadow(shadow)?;
        }
        if let Some(told) = state.alarms {
            // Which cases have something to say when is derived again from the cases.
            evaluator.watch_alerts();
            if let Some(alarms) = evaluator.alarms.as_mut() {
                alarms.told = told;
            }
        }
        Ok(evaluator)
    }
}

/// Whether a snapshot (or a checkpoint's rest) is of the layout this version reads, from its
/// first field alone.
pub(crate) fn snapshot_format_readable(bytes: &[u8]) -> Result<(), SnapshotError> {
    let (format, _) = postcard::take_from_bytes::<u32>(bytes)
        .map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
    match format {
        SNAPSHOT_FORMAT => Ok(()),
        other => Err(SnapshotError::Format(other)),
    }
}

/// This version's snapshot layout, for tests.
#[cfg(test)]
pub(crate) const SNAPSHOT_LAYOUT: u32 = SNAPSHOT_FORMAT;

/// The version of the snapshot layout: a snapshot of another layout is refused, never misread.
/// Layout 17: every instant of the state as seconds and nanoseconds, also those of cycles
/// judged at the end, of waiting events, of pauses and stage evidence, and a case's last event.
/// Layout 16: the hashes of settled tickets as their bytes in one piece per generation.
/// Layout 15: a case carries the numbers of the rows its host stored its kept events under.
/// Layout 14: the settling queue's later buckets each as its slots' bytes in one piece.
/// Layout 13: the settling queue's instants as seconds and nanoseconds. Layout 12: settled tickets remembered in four generations, three of them frozen; the
/// shadow of a partition that follows other partitions' alert cases. Layout 11: the first-only
/// digest rules a case has met as the indices of their bits. Layout 10: the instants of cases,
/// clocks, stopped cycles and kept events as seconds and nanoseconds. Layout 9: a clock's state
/// and a stopped cycle carry their track, the phase is one byte.
const SNAPSHOT_FORMAT: u32 = 17;

/// The cases changed since the previous checkpoint: their keys as they come, repeats and all,
/// sorted and made unique when taken, and whenever the list has doubled since, so that it
/// stays within twice the cases it names. (A hash set of them cost a probe per event into a
/// table of tens of thousands of keys, mostly out of cache by then.)
#[derive(Clone, Debug, Default)]
pub(super) struct Changed {
    keys: Vec<TicketKey>,
    /// The length after the latest sort.
    unique: usize,
}

impl Changed {
    /// Below this many keys the list is not sorted before it is taken.
    const SORT_FROM: usize = 1 << 16;

    pub(super) fn push(&mut self, key: TicketKey) {
        self.keys.push(key);
        if self.keys.len() >= Self::SORT_FROM.max(2 * self.unique) {
            self.make_unique();
        }
    }

    fn make_unique(&mut self) {
        self.keys.sort_unstable();
        self.keys.dedup();
        self.unique = self.keys.len();
    }

    /// The keys, sorted and each once; the list starts empty again.
    pub(super) fn take(&mut self) -> Vec<TicketKey> {
        self.make_unique();
        self.unique = 0;
        std::mem::take(&mut self.keys)
    }
}

/// The state in parts: see [`Evaluator::checkpoint`].
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Everything but the cases, as a snapshot without cases.
    pub rest: Vec<u8>,
    /// Per case changed since the previous checkpoint, in key order: its key, and the case to
    /// write (`None`: it settled, forget it).
    pub cases: Vec<(u128, Option<CaseBytes>)>,
    /// The rows the host stored for cases that settled since the previous checkpoint
    /// ([`Evaluator::keep_row`]), to let go of.
    pub released_rows: Vec<u64>,
}

/// A case as a checkpoint hands it out: the case itself, shared with the evaluator until the
/// host writes it ([`CaseBytes::into_bytes`]), or bytes already (a case at rest is bytes).
///
/// Writing a case is mostly waiting for memory (the case and its lists were last touched when
/// an event was applied, long out of cache by the checkpoint); a host that writes them on
/// another thread lets the evaluator go on meanwhile. A case the evaluator changes before the
/// host has written it is copied first, so the host writes it as it was at the checkpoint.
#[derive(Debug, Clone)]
pub struct CaseBytes(Held);

#[derive(Debug, Clone)]
enum Held {
    Awake(TicketKey, Arc<CaseState>),
    Bytes(Vec<u8>),
}

impl CaseBytes {
    /// The case's bytes, as [`Evaluator::restore_parts`] reads them. Let go of the case as soon
    /// as it is written, so that the evaluator need not copy it to change it.
    pub fn into_bytes(self) -> Result<Vec<u8>, SnapshotError> {
        match self.0 {
            Held::Awake(key, case) => super::raw_bytes::to_vec(&(key, &*case))
                .map_err(|e| SnapshotError::Unwritable(e.to_string())),
            Held::Bytes(bytes) => Ok(bytes),
        }
    }
}

/// Why [`crate::Engine::restore`] refused a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a snapshot of this version of pledge: {0}")]
    Unreadable(String),
    #[error("a snapshot of layout {0}, and this version of pledge reads layout {SNAPSHOT_FORMAT}")]
    Format(u32),
    #[error("the snapshot was taken with other policies")]
    OtherPolicies,
    /// Writing a snapshot failed: a defect of pledge, reported rather than written as a
    /// snapshot that could not be restored.
    #[error("the state could not be written as a snapshot: {0}")]
    Unwritable(String),
}

/// What identifies the policies a snapshot belongs to: a hash of their whole parsed form
/// (clauses, conditions, limits, calendars). The parsed form holds no hash maps, so its
/// debug text is the same in every process of one version.
pub(super) fn policies_fingerprint(policies: &[Policy]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("{policies:?}").as_bytes())
}

/// The state of an evaluator, by reference, as [`Evaluator::snapshot`] writes it; read back as
/// [`SnapshotOwned`], field for field.
#[derive(serde::Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    fingerprint: u64,
    #[serde(with = "crate::event::compact_instant::option")]
    now: Option<Instant>,
    reorder_window_ms: i64,
    retain_ms: i64,
    in_order: &'a VecDeque<Waiting>,
    waiting: &'a BinaryHeap<Reverse<Waiting>>,
    arrivals: u64,
    case_attrs: &'a Option<Option<Vec<Box<str>>>>,
    cases: Vec<(&'a TicketKey, &'a CaseState)>,
    settling: &'a SettleQueue<TicketKey>,
    finished: &'a Finished,
    #[serde(with = "crate::event::compact_instant::option")]
    watermark: Option<Instant>,
    deferred: &'a Chunked<Deferred>,
    summary: &'a Summary,
    periods: crate::period::tally::PeriodSnapshot<'a>,
    deferred_notices: &'a Vec<(Arc<str>, Vec<NoticeFacts>)>,
    /// Whether alerts are watched, and up to when they were told.
    #[serde(with = "told")]
    alarms: Option<Option<Instant>>,
    partition: Option<Partition>,
    shadow: Option<shadow::ShadowState>,
}

#[derive(serde::Deserialize)]
struct SnapshotOwned {
    format: u32,
    fingerprint: u64,
    #[serde(with = "crate::event::compact_instant::option")]
    now: Option<Instant>,
    reorder_window_ms: i64,
    retain_ms: i64,
    in_order: VecDeque<Waiting>,
    waiting: BinaryHeap<Reverse<Waiting>>,
    arrivals: u64,
    case_attrs: Option<Option<Vec<Box<str>>>>,
    cases: Vec<(TicketKey, CaseState)>,
    settling: SettleQueue<TicketKey>,
    finished: Finished,
    #[serde(with = "crate::event::compact_instant::option")]
    watermark: Option<Instant>,
    deferred: Chunked<Deferred>,
    summary: Summary,
    periods: crate::period::tally::PeriodRestored,
    deferred_notices: Vec<(Arc<str>, Vec<NoticeFacts>)>,
    #[serde(with = "told")]
    alarms: Option<Option<Instant>>,
    partition: Option<Partition>,
    shadow: Option<shadow::ShadowState>,
}

/// Whether alerts are watched, and up to when they were told, with a compact instant.
mod told {
    use crate::event::compact_instant::Compact;
    use crate::event::Instant;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<Instant>>, s: S) -> Result<S::Ok, S::Error> {
        v.map(|told| told.map(Compact)).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<Instant>>, D::Error> {
        Ok(Option::<Option<Compact>>::deserialize(d)?.map(|told| told.map(|c| c.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Changed, TicketKey};

    #[test]
    fn changed_cases_come_out_sorted_once_each_and_the_list_stays_within_twice_them() {
        let mut changed = Changed::default();
        // Three cases changed a hundred thousand times in all.
        for i in 0..100_000u128 {
            changed.push(TicketKey((i * 7) % 3));
            assert!(
                changed.keys.len() <= Changed::SORT_FROM,
                "{}",
                changed.keys.len()
            );
        }
        assert_eq!(
            changed.take(),
            [TicketKey(0), TicketKey(1), TicketKey(2)],
            "sorted, each once"
        );
        assert!(changed.take().is_empty(), "taking empties it");
        // Many distinct cases: sorted as the list doubles, never more than twice them.
        for i in (0..200_000u128).rev() {
            changed.push(TicketKey(i));
            changed.push(TicketKey(i));
            assert!(changed.keys.len() <= 2 * 200_000);
        }
        let keys = changed.take();
        assert_eq!(keys.len(), 200_000);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}

#[cfg(test)]
mod readme {
    /// The README tells operators which snapshot layout this version reads (a state of another
    /// is refused): it must say the one the code writes.
    #[test]
    fn the_readme_names_this_versions_snapshot_layout() {
        let readme = include_str!("../../README.md");
        let said = format!(
            "(the snapshot layout, {} in this version)",
            super::SNAPSHOT_FORMAT
        );
        assert!(readme.contains(&said), "README.md should say {said:?}");
    }
}
