//! Settling: when a case is final, what it emits then, and what is remembered of it after.
//!
//! A case settles the retention after its latest `closed` (or, not closed, after its latest
//! event when it may idle out: [`Evaluator::may_idle_out`]), or at the end of the stream.
//! Then its stopped cycles are judged, its running cycles are judged against `now` or kept
//! as small [`Deferred`] cycles until the end, and its ticket is remembered for a while
//! ([`Finished`]) so that a late event for it is rejected with its reason rather than
//! starting a new case. Kept apart from the per-event path so that each can be read alone.

use super::*;

/// How long, in stream time, a settled case is remembered so that an event for it is rejected
/// as arriving after the retention: at least this long (or twice the longest retention), at
/// most a third more ([`Finished`]). After that, an event for the ticket starts a new case, reported as never opened
/// unless it is an `opened`; either way the line is reported. Remembering every settled ticket
/// would make memory grow with the stream.
pub const FINISHED_MEMORY: Duration = Duration::days(30);

/// How long a case is quiet (no event arrived, in stream time) before it is put to rest as its
/// snapshot bytes ([`Resting`]). Most cases of a busy desk are closed and wait out the
/// retention for follow-ups that, when they come, mostly come within hours: a day keeps those
/// in memory and puts the rest of a month's cases to rest. (On the dense benchmark stream,
/// half a day or three days cost more time or memory for little gain.)
pub(super) const REST_AFTER: Duration = Duration::hours(24);

/// `t + d`, or the end of time.
pub(super) fn after(t: Instant, d: Duration) -> Instant {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A case at rest: when it settles unless an event wakes it first, followed by its bytes as a
/// snapshot writes a case (without its key: its ticket, in front of its bytes, gives it). The
/// bytes lie in the arena of cases at rest ([`super::dormant::Dormant`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Resting<'a> {
    bytes: &'a [u8],
}

/// The settling instant in front of a resting case's bytes.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Settles(#[serde(with = "crate::event::compact_instant::option")] Option<Instant>);

impl<'a> Resting<'a> {
    /// Writes `case`, to settle at `settles` (`None`: only an event or the end), to `out`.
    pub(super) fn encode(
        case: &CaseState,
        settles: Option<Instant>,
        out: &mut Vec<u8>,
    ) -> postcard::Result<()> {
        let bytes = postcard::to_extend(&Settles(settles), std::mem::take(out))?;
        *out = postcard::to_extend(case, bytes)?;
        Ok(())
    }

    /// The bytes [`Resting::encode`] wrote.
    pub(super) fn from_bytes(bytes: &'a [u8]) -> Resting<'a> {
        Resting { bytes }
    }

    /// The bytes [`Resting::encode`] wrote, as they are.
    pub(super) fn bytes(self) -> &'a [u8] {
        self.bytes
    }

    /// The instant in front, and the case's bytes after it.
    pub(super) fn split(self) -> (Option<Instant>, &'a [u8]) {
        match postcard::take_from_bytes::<Settles>(self.bytes) {
            Ok((Settles(settles), rest)) => (settles, rest),
            Err(_) => (None, &[]),
        }
    }

    /// When it settles unless an event wakes it first.
    pub(super) fn settles(self) -> Option<Instant> {
        self.split().0
    }

    /// The case's bytes, as a snapshot writes it.
    pub(super) fn case_bytes(self) -> &'a [u8] {
        self.split().1
    }

    /// The case as it was put to rest.
    pub(super) fn case(self) -> postcard::Result<CaseState> {
        postcard::from_bytes(self.case_bytes())
    }

    /// Its ticket, read from the front of its case's bytes (a case's first field).
    #[cfg(test)]
    pub(super) fn ticket(self) -> InlineStr {
        postcard::take_from_bytes::<InlineStr>(self.case_bytes())
            .map_or_else(|_| InlineStr::new(""), |(t, _)| t)
    }
}

/// Hashes of finished tickets, in generations of a third of the memory asked for
/// ([`FINISHED_MEMORY`], or twice the longest retention, if longer): the one being filled, a
/// set, and the three before it, each frozen into a sorted slice when the next began (8 bytes
/// a ticket, where a set holds 10 to 20). The oldest is forgotten when a fourth is frozen, so a
/// ticket is remembered at least the memory asked for and at most a third more. Generations
/// of the whole memory, two of them, held up to twice it: the tickets of four months where two
/// were asked for, so memory grew with the length of a stream up to four months.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Finished {
    current: Recent,
    /// Newest first, each sorted.
    #[serde(with = "frozen_bytes")]
    frozen: VecDeque<Box<[u64]>>,
    since: Option<Instant>,
}

impl Finished {
    /// How many generations are frozen: the memory asked for is split into this many.
    const FROZEN: usize = 3;

    /// Whether the ticket of `hash` settled recently, and if so whether it settled idle (never
    /// closed, no event for the retention) rather than closed. The lowest bit of a remembered
    /// hash says which: 63 bits are left to tell tickets apart.
    pub(super) fn contains(&self, hash: u64) -> Option<bool> {
        let closed = hash & !1;
        let (mut as_closed, mut as_idle) = (
            self.current.contains(&closed),
            self.current.contains(&(hash | 1)),
        );
        for generation in &self.frozen {
            let (c, i) = pair_in(generation, closed);
            as_closed |= c;
            as_idle |= i;
        }
        match (as_closed, as_idle) {
            (true, _) => Some(false),
            (false, true) => Some(true),
            (false, false) => None,
        }
    }

    pub(super) fn insert(&mut self, hash: u64, idle: bool) {
        self.current.insert(if idle { hash | 1 } else { hash & !1 });
    }

    /// Freezes the current generation when it has lasted a third of `memory`, and forgets the
    /// oldest frozen ones. Generations keep their length across a gap in the stream: a jump
    /// over several of them freezes empty ones, so a ticket is never remembered longer for the
    /// stream's being quiet.
    pub(super) fn advance(&mut self, watermark: Instant, memory: Duration) {
        let since = *self.since.get_or_insert(watermark);
        let generation = (memory / Self::FROZEN as i32).num_seconds().max(1);
        let passed = (watermark - since).num_seconds() / generation;
        if passed < 1 {
            return;
        }
        let mut frozen = std::mem::take(&mut self.current).order;
        frozen.sort_unstable();
        self.frozen.push_front(frozen.into_boxed_slice());
        for _ in 1..passed.min(Self::FROZEN as i64 + 1) {
            self.frozen.push_front(Box::default());
        }
        self.frozen.truncate(Self::FROZEN);
        self.since = since
            .checked_add_signed(Duration::seconds(generation * passed))
            .or(Some(watermark));
    }

    /// Adds what another partition remembers, at the same stream time (so in the same
    /// generations).
    pub(super) fn absorb(&mut self, other: Finished) {
        for hash in other.current.order {
            self.current.insert(hash);
        }
        for (i, theirs) in other.frozen.into_iter().enumerate() {
            match self.frozen.get_mut(i) {
                Some(mine) => {
                    let mut both = std::mem::take(mine).into_vec();
                    both.extend_from_slice(&theirs);
                    both.sort_unstable();
                    both.dedup();
                    *mine = both.into_boxed_slice();
                }
                None => self.frozen.push_back(theirs),
            }
        }
        self.since = self.since.max(other.since);
    }
}

/// The generation of finished tickets being filled: a set to look them up, and the same hashes
/// in the order they came, which is how it is written in a snapshot. The service commits its
/// state in parts cut by their content and writes only the parts that changed
/// (`serve::restparts`): written in the set's order, each commit's new tickets would fall all
/// over the generation's bytes and change every part of it; in the order they came, they are
/// appended at its end. (A set written as a sequence reads back from one: the layout is that
/// of the set it replaces.)
#[derive(Clone, Default)]
struct Recent {
    set: HashSet64,
    order: Vec<u64>,
}

impl Recent {
    fn contains(&self, hash: &u64) -> bool {
        self.set.contains(hash)
    }

    fn insert(&mut self, hash: u64) {
        if self.set.insert(hash) {
            self.order.push(hash);
        }
    }
}

impl serde::Serialize for Recent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        hash_bytes::serialize(&self.order, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Recent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hashes = hash_bytes::deserialize(deserializer)?;
        let mut recent = Recent {
            set: HashSet64::with_capacity_and_hasher(hashes.len(), Default::default()),
            order: Vec::with_capacity(hashes.len()),
        };
        for hash in hashes {
            recent.insert(hash);
        }
        Ok(recent)
    }
}

/// Hashes of settled tickets written as their little-endian bytes in one piece, where serde
/// writes a sequence of varints one by one: a million of them or more (the tickets settled in
/// the last two months of a dense stream) are most of the rest of the state the service
/// writes at every commit, and a copy of their memory is a fraction of the time of encoding
/// each.
mod hash_bytes {
    pub(super) fn serialize<S: serde::Serializer>(hashes: &[u64], s: S) -> Result<S::Ok, S::Error> {
        #[cfg(target_endian = "little")]
        {
            // SAFETY: `u64` has no padding and every byte of it is a valid `u8`; the slice
            // covers exactly the memory of `hashes`, which it borrows, and on a little-endian
            // machine that memory is the little-endian bytes of each hash.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    hashes.as_ptr().cast::<u8>(),
                    std::mem::size_of_val(hashes),
                )
            };
            s.serialize_bytes(bytes)
        }
        #[cfg(not(target_endian = "little"))]
        {
            let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
            s.serialize_bytes(&bytes)
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<u64>, D::Error> {
        let bytes = crate::engine::raw_bytes::deserialize(d)?;
        if bytes.len() % 8 != 0 {
            return Err(serde::de::Error::invalid_length(
                bytes.len(),
                &"8 bytes a hash",
            ));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }
}

/// The frozen generations of [`Finished`], each as [`hash_bytes`].
mod frozen_bytes {
    use std::collections::VecDeque;

    pub(super) fn serialize<S: serde::Serializer>(
        frozen: &VecDeque<Box<[u64]>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        struct Generation<'a>(&'a [u64]);
        impl serde::Serialize for Generation<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::hash_bytes::serialize(self.0, s)
            }
        }
        s.collect_seq(frozen.iter().map(|g| Generation(g)))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<VecDeque<Box<[u64]>>, D::Error> {
        struct Generation(Box<[u64]>);
        impl<'de> serde::Deserialize<'de> for Generation {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Generation(
                    super::hash_bytes::deserialize(d)?.into_boxed_slice(),
                ))
            }
        }
        let generations: Vec<Generation> = serde::Deserialize::deserialize(d)?;
        Ok(generations.into_iter().map(|g| g.0).collect())
    }
}

/// Whether `even` and `even | 1` are in `sorted`, a sorted slice of hashes. Hashes are spread
/// evenly over the 64 bits, so the place of `even` is guessed from its value and the search
/// widens from there: a ticket new to the stream (the usual question) costs a cache line or
/// two per generation, where a binary search over a million entries costs twenty.
fn pair_in(sorted: &[u64], even: u64) -> (bool, bool) {
    let len = sorted.len();
    if len == 0 {
        return (false, false);
    }
    let guess = ((u128::from(even) * len as u128) >> 64) as usize;
    let (mut lo, mut hi) = (guess, guess + 1);
    let mut step = 16;
    // Widen until `sorted[lo] <= even` (or lo is 0) and `even | 1 < sorted[hi]` (or hi is len).
    while lo > 0 && sorted[lo] > even {
        lo = lo.saturating_sub(step);
        step *= 2;
    }
    step = 16;
    while hi < len && sorted[hi] <= (even | 1) {
        hi = (hi + step).min(len);
        step *= 2;
    }
    let window = &sorted[lo..hi];
    let at = window.partition_point(|&h| h < even);
    let closed = window.get(at) == Some(&even);
    let idle = window[at..].iter().take(2).any(|&h| h == even | 1);
    (closed, idle)
}

/// A running cycle of a settled case, resolved at the end of the stream.
///
/// Without an explicit `now`, a stream of a year can leave one per case (every ticket that
/// is never closed leaves its running cycles here once it has been idle for the retention),
/// so it is kept small: its stop is known to be absent, what the clause's limit gives for its
/// start (counting, amount, zone) is derived again when it is resolved, and pauses and
/// evidence, which most cycles lack, share one optional box.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Deferred {
    /// Inline rather than shared: the shared ticket of a case costs a heap block of its own.
    pub(super) ticket: InlineStr,
    pub(super) plan: u32,
    pub(super) cycle: u32,
    pub(super) start: Instant,
    /// Whether the case was closed when it settled (else it settled idle).
    pub(super) closed: bool,
    pub(super) extra: Option<Box<DeferredExtra>>,
}

/// The pauses and stage evidence of a [`Deferred`] cycle that has any.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct DeferredExtra {
    pub(super) pauses: Box<[PauseSpan]>,
    pub(super) evidence: Box<[Box<[Instant]>]>,
}

impl Deferred {
    pub(super) fn new(ticket: &str, facts: CycleFacts, closed: bool) -> Deferred {
        debug_assert!(facts.stop.is_none(), "only running cycles wait");
        let extra = (!facts.pauses.is_empty() || !facts.evidence.is_empty()).then(|| {
            Box::new(DeferredExtra {
                pauses: facts.pauses.into_boxed_slice(),
                evidence: facts.evidence.into_boxed_slice(),
            })
        });
        Deferred {
            ticket: InlineStr::new(ticket),
            plan: facts.plan as u32,
            cycle: facts.cycle,
            start: facts.start,
            closed,
            extra,
        }
    }

    /// The facts this was made from.
    pub(super) fn facts(self, plans: &[ClausePlan<'_>]) -> (Arc<str>, CycleFacts) {
        let plan = &plans[self.plan as usize];
        let (counting, amount, zone) =
            resolve_limit(&plan.deadline.limit, self.start, plan.policy_zone);
        let (pauses, evidence) = match self.extra {
            Some(extra) => (extra.pauses.into_vec(), extra.evidence.into_vec()),
            None => (Vec::new(), Vec::new()),
        };
        let facts = CycleFacts {
            plan: self.plan as usize,
            cycle: self.cycle,
            start: self.start,
            stop: None,
            counting,
            amount,
            zone,
            pauses,
            evidence,
        };
        (Arc::from(&*self.ticket), facts)
    }
}

/// A list that grows by chunks of fixed size: for lists that may reach a million entries,
/// where a `Vec` would copy itself when doubling and hold up to twice the memory it needs.
#[derive(Clone)]
pub(super) struct Chunked<T> {
    pub(super) chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new() }
    }
}

impl<T: serde::Serialize> serde::Serialize for Chunked<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // With its length up front: a compact format writes the length first.
        use serde::ser::SerializeSeq;
        let len = self.chunks.iter().map(Vec::len).sum();
        let mut seq = serializer.serialize_seq(Some(len))?;
        for item in self.chunks.iter().flatten() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Chunked<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut chunked = Chunked::default();
        for item in Vec::<T>::deserialize(deserializer)? {
            chunked.push(item);
        }
        Ok(chunked)
    }
}

impl<T> Chunked<T> {
    const CHUNK: usize = 1 << 14;

    pub(super) fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
    }

    pub(super) fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }

    /// The items in the order of `compare`, items it holds equal in the order they were
    /// pushed. Sorts an index of the items rather than a copy of them: at the end of a long
    /// stream the list holds hundreds of thousands of entries, and a sorted copy (with a
    /// stable sort's buffer) would add to the peak twice what the list itself holds.
    pub(super) fn into_sorted_by(
        self,
        compare: impl Fn(&T, &T) -> std::cmp::Ordering,
    ) -> impl Iterator<Item = T> {
        fn at<T>(chunks: &[Vec<T>], i: usize) -> Option<&T> {
            chunks
                .get(i / Chunked::<T>::CHUNK)?
                .get(i % Chunked::<T>::CHUNK)
        }
        let len: usize = self.chunks.iter().map(Vec::len).sum();
        let mut order: Vec<usize> = (0..len).collect();
        order.sort_unstable_by(|&a, &b| {
            match (at(&self.chunks, a), at(&self.chunks, b)) {
                (Some(x), Some(y)) => compare(x, y),
                _ => std::cmp::Ordering::Equal,
            }
            .then(a.cmp(&b))
        });
        // Every chunk but the last is full, so `i / CHUNK` and `i % CHUNK` find item `i`.
        let mut slots: Vec<Vec<Option<T>>> = self
            .chunks
            .into_iter()
            .map(|chunk| chunk.into_iter().map(Some).collect())
            .collect();
        order.into_iter().filter_map(move |i| {
            slots
                .get_mut(i / Self::CHUNK)?
                .get_mut(i % Self::CHUNK)?
                .take()
        })
    }
}

/// Why an event for a settled case is rejected: its case was closed and kept the retention,
/// or it was never closed and had no event for the retention (`idle`).
pub(super) fn expired_reason(ticket: &str, retain: Duration, idle: bool) -> String {
    if idle {
        format!(
            "event for `{ticket}` arrived after its case was settled: it was not closed and had \
             no event for more than {}; raise --retain to keep idle cases longer",
            format_duration(retain)
        )
    } else {
        format!(
            "event for `{ticket}` arrived after its case was settled: more than {} after it was \
             closed; raise --retain to keep closed cases longer",
            format_duration(retain)
        )
    }
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// How long the case is kept after `closed`: `--retain`, or the longest warranty or
    /// follow-up window of a record clause that may apply to it (by its `kind` and its `when`
    /// on the attributes as merged so far), so that a claim 60 days after a repair is seen by
    /// a 3-month warranty without raising `--retain` for every case.
    pub(super) fn retention(&self, case: &CaseState) -> Duration {
        let kind = case.attrs.get(crate::eval::case::GUARD_ATTR);
        self.long_windows
            .iter()
            .filter(|&&(p, _)| {
                let plan = &self.records[p as usize];
                plan.guard.may_hold(kind) && plan.clause.applies.eval(&case.attrs)
            })
            .map(|&(_, window)| window)
            .fold(self.opts.retain, Duration::max)
    }

    /// The longest any case is kept after `closed`.
    pub(super) fn longest_retention(&self) -> Duration {
        self.long_windows
            .iter()
            .map(|&(_, window)| window)
            .fold(self.opts.retain, Duration::max)
    }

    /// Whether the case, not closed, may settle after the retention without events: only a
    /// ticket in the deadlines' sense, one a deadline clause applies to, and neither a subject
    /// (`kind: asset` or `area`, SEMANTICS.md: an area, a lift, a building) nor a case a
    /// notification, period or record clause has kept an event of. Subjects, companies,
    /// projects, replantings under warranty and the other cases no deadline follows may be
    /// quiet for months (a drill a quarter, fire equipment tested yearly, a root-cause
    /// analysis after a month's target); they are kept until they are closed.
    pub(super) fn may_idle_out(&self, case: &CaseState) -> bool {
        let kind = case.attrs.get(crate::eval::case::GUARD_ATTR);
        let subject = kind
            .and_then(Value::as_str)
            .is_some_and(|kind| SUBJECT_KINDS.contains(&kind));
        !subject
            && case.digest.as_ref().is_none_or(|d| d.events.is_empty())
            && self.some_deadline_applies(case)
    }

    /// Whether a deadline clause applies to the case with its attributes as merged so far.
    fn some_deadline_applies(&self, case: &CaseState) -> bool {
        let kind = case.attrs.get(crate::eval::case::GUARD_ATTR);
        self.plans
            .iter()
            .any(|p| p.guard.may_hold(kind) && p.clause.applies.eval(&case.attrs))
    }

    /// A case that came up and does not settle yet (`settles`: when it will, `None` when only
    /// an event or the end of the stream can settle it). Quiet for [`REST_AFTER`], it is put
    /// to rest as its snapshot bytes (running clocks too: the alarms read a resting case from
    /// its bytes); otherwise it comes up again when it may rest or settle. Either way its
    /// records are those it would have had in memory: resting changes what a case costs, not
    /// what it is.
    pub(super) fn rest_or_wait(&mut self, key: TicketKey, when: Instant, settles: Option<Instant>) {
        let Some(case) = self.cases.get(&key) else {
            return;
        };
        // An instant already coming up for it (at rest, a case keeps its settling instant
        // queued: see `wake`).
        let queued = case.settle_queued;
        let rests_at = after(case.arrived, REST_AFTER);
        let next = if rests_at > when {
            Some(rests_at)
        } else {
            match self.dormant.insert(key, case, settles) {
                Ok(()) => {
                    self.cases.remove(&key);
                    None
                }
                // Unwritable states do not exist; should one, it stays in memory.
                Err(_) => Some(after(when, REST_AFTER)),
            }
        };
        let next = match (next, settles) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(next) = next.filter(|&next| Some(next) != queued) {
            self.settling.push(next, key);
            if Some(next) == settles {
                if let Some(case) = self.cases.get_mut(&key) {
                    case.settle_queued = settles;
                }
            }
        }
    }

    /// Brings a resting case back into memory as it was put to rest; whether it was at rest.
    pub(super) fn wake(&mut self, key: TicketKey) -> bool {
        self.wake_if(key, |_| true) == Some(true)
    }

    /// Brings a resting case back into memory if `due` holds of its settling instant: `None`
    /// when it is not at rest, else whether it woke.
    pub(super) fn wake_if(
        &mut self,
        key: TicketKey,
        due: impl FnOnce(Option<Instant>) -> bool,
    ) -> Option<bool> {
        let mut at_rest = false;
        let woken = self.dormant.take(key, |resting| {
            at_rest = true;
            let (settles, bytes) = resting.split();
            if !due(settles) {
                return None;
            }
            // Bytes written by this evaluator a moment ago always read back; should they not,
            // the case stays at rest rather than being replaced by an empty one.
            let mut case = postcard::from_bytes::<CaseState>(bytes).ok()?;
            // A case rests with an entry of the settling queue at its settling instant.
            case.settle_queued = settles;
            Some(case)
        });
        match woken {
            Some(case) => {
                self.cases.insert(key, Box::new(case));
                Some(true)
            }
            None => at_rest.then_some(false),
        }
    }

    /// Settles a case: emits what waited for it; running cycles wait when `now` is not known.
    pub(super) fn settle_case(&mut self, mut case: Box<CaseState>, at_end: bool) {
        // Its host lets go of the events it stored for it with the next checkpoint.
        if self.changed.is_some() && !case.rows.is_empty() {
            self.released_rows.extend(case.rows.iter());
        }
        let ticket: Arc<str> = Arc::from(&*case.ticket);
        if !case.opened {
            self.summary.unopened += 1;
            let unopened = Unopened {
                ticket,
                events: case.count,
                first_line: case.first_line,
            };
            self.sink.unopened(&unopened);
            return;
        }
        self.summary.cases += 1;
        let known_now = if at_end {
            self.final_now()
        } else {
            self.opts.now
        };
        let fallback_now = self.watermark.unwrap_or(DateTime::<Utc>::MIN_UTC);
        // Stopped cycles, in clause and cycle order; their stop is at or before any `now`.
        let mut stopped: Vec<(u32, Stopped)> = Vec::new();
        for st in std::mem::take(&mut case.stopped) {
            for &p in &self.track_plans[st.track as usize] {
                stopped.push((p, st.clone()));
            }
        }
        stopped.sort_by_key(|(p, st)| (*p, st.cycle));
        let judged_at = known_now.unwrap_or(fallback_now);
        for (p, st) in stopped {
            let now = judged_at.max(st.stop);
            self.cycle_stopped(&ticket, &case, p, st, now);
        }
        let mut running = Vec::new();
        for state in &case.tracks {
            let t = &state.track;
            let Some((cycle, start, pauses)) = state.running() else {
                continue;
            };
            for &p in &self.track_plans[*t as usize] {
                let p = p as usize;
                if self.applies(&case, p, start) {
                    running.push(self.facts(&case, p, cycle, start, None, pauses.to_vec()));
                }
            }
        }
        running.sort_by_key(|f| (f.plan, f.cycle));
        let ticket_inline = case.ticket.clone();
        let kept = case.digest.take().map(|d| *d).unwrap_or_default();
        let mut digest: Vec<Event> = kept
            .events
            .into_iter()
            .map(|k| Event {
                ticket: ticket_inline.clone(),
                at: k.at,
                kind: k.kind,
                id: None,
                attrs: k.attrs,
                line: 0,
            })
            .collect();
        digest.sort_by(Event::canonical_cmp);
        if let Some((at, kind)) = kept.last {
            let is_last = |e: &Event| e.at == at && e.kind == kind;
            if !digest.last().is_some_and(is_last) {
                digest.push(Event {
                    ticket: case.ticket.clone(),
                    at,
                    kind,
                    id: None,
                    attrs: Attrs::new(),
                    line: 0,
                });
            }
        }
        let view = CaseView::from_parts(&digest, &case.attrs, case.opened);
        self.periods.case(
            &ticket,
            &view,
            &running,
            known_now,
            fallback_now,
            &mut self.sink,
            &mut self.summary,
        );
        for f in running {
            match known_now {
                Some(now) => self.emit(&ticket, &f, now, Some(&case.attrs), case.closed.is_some()),
                None => self
                    .deferred
                    .push(Deferred::new(&ticket, f, case.closed.is_some())),
            }
        }
        self.notices_of_case(&ticket, &view, known_now);
        // A case settled after its retention is final: nothing later can arrive, so every
        // follow-up window and due instant of its record clauses has passed.
        let record_now = if at_end {
            judged_at
        } else {
            self.opts.now.unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        self.records_of_case(&ticket, &view, record_now);
    }
}

#[cfg(test)]
mod tests {
    use super::{Chunked, Finished, Recent};
    use chrono::{Duration, TimeZone, Utc};

    /// A ticket is remembered at least the memory asked for and at most a third more, whether
    /// stream time moves day by day or jumps; closed and idle are told apart; partitions'
    /// memories unite.
    #[test]
    fn settled_tickets_are_remembered_the_memory_asked_for_and_at_most_a_third_more() {
        let memory = Duration::days(60);
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        for settled_on in [0, 5, 19, 20, 33] {
            let mut finished = Finished::default();
            let mut last_seen = None;
            for day in 0..200 {
                let now = start + Duration::days(day);
                finished.advance(now, memory);
                if day == settled_on {
                    finished.insert(42, false);
                    finished.insert(7, true);
                }
                if day >= settled_on && finished.contains(42) == Some(false) {
                    assert_eq!(finished.contains(7), Some(true));
                    last_seen = Some(day);
                }
            }
            let kept = last_seen.expect("remembered once settled") - settled_on;
            assert!(
                (60..80).contains(&kept),
                "settled on day {settled_on}: kept {kept} days"
            );
        }
        // A jump over the whole memory forgets everything before it.
        let mut finished = Finished::default();
        finished.advance(start, memory);
        finished.insert(42, false);
        finished.advance(start + Duration::days(59), memory);
        assert_eq!(finished.contains(42), Some(false));
        finished.advance(start + Duration::days(400), memory);
        assert_eq!(finished.contains(42), None);
        assert_eq!(finished.frozen.len(), Finished::FROZEN);
        // Two partitions' memories, united, remember both.
        let (mut a, mut b) = (Finished::default(), Finished::default());
        for f in [&mut a, &mut b] {
            f.advance(start, memory);
        }
        a.insert(2, false);
        b.insert(4, true);
        for f in [&mut a, &mut b] {
            f.advance(start + Duration::days(25), memory);
        }
        b.insert(6, false);
        a.absorb(b);
        assert_eq!(
            (a.contains(2), a.contains(4), a.contains(6), a.contains(8)),
            (Some(false), Some(true), Some(false), None)
        );
    }

    /// Frozen generations and the one being filled read back as written: every ticket is
    /// remembered as it was, closed or idle, and the bytes are the same again.
    #[test]
    fn remembered_tickets_read_back_from_their_bytes() {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut finished = Finished::default();
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut hashes = Vec::new();
        for day in 0..70 {
            finished.advance(start + Duration::days(day), Duration::days(60));
            for _ in 0..50 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                finished.insert(state, state % 3 == 0);
                hashes.push(state);
            }
        }
        assert_eq!(finished.frozen.len(), Finished::FROZEN);
        let bytes = postcard::to_stdvec(&finished).unwrap();
        let read: Finished = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_stdvec(&read).unwrap(), bytes);
        for &h in &hashes {
            assert_eq!(read.contains(h), finished.contains(h), "{h}");
        }
        assert!(
            hashes
                .iter()
                .filter(|&&h| read.contains(h).is_some())
                .count()
                > 2000
        );
        // Cut anywhere, the bytes are refused rather than misread.
        for len in (0..bytes.len()).step_by(97) {
            assert!(
                postcard::from_bytes::<Finished>(&bytes[..len]).is_err(),
                "{len}"
            );
        }
    }

    /// The guessed search finds what a binary search finds, for present and absent pairs, at
    /// the ends of the range and in slices of any length.
    #[test]
    fn the_generation_being_filled_is_written_in_the_order_it_came_and_reads_as_a_set() {
        let mut recent = Recent::default();
        for hash in [90, 12, 90, 55, 3] {
            recent.insert(hash);
        }
        let bytes = postcard::to_stdvec(&recent).unwrap();
        // The hashes' little-endian bytes in one piece, after their length in bytes.
        let mut expected = vec![32u8];
        for hash in [90u64, 12, 55, 3] {
            expected.extend_from_slice(&hash.to_le_bytes());
        }
        assert_eq!(bytes, expected);
        // Bytes that are not whole hashes are refused.
        assert!(postcard::from_bytes::<Recent>(&[3, 1, 2, 3]).is_err());
        let again: Recent = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(again.order, [90, 12, 55, 3]);
        assert!(again.contains(&55) && !again.contains(&56));
        // Appending to it leaves the bytes written before it as they were.
        recent.insert(77);
        let longer = postcard::to_stdvec(&recent).unwrap();
        assert_eq!(longer[1..bytes.len()], bytes[1..]);
    }

    #[test]
    fn the_guessed_search_finds_what_a_binary_search_finds() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in [0usize, 1, 2, 3, 17, 1000, 40_000] {
            let mut sorted: Vec<u64> = (0..len).map(|_| next()).collect();
            sorted.extend([0, 1, u64::MAX - 1, u64::MAX]);
            sorted.sort_unstable();
            sorted.dedup();
            let mut probes: Vec<u64> = sorted.iter().map(|h| h & !1).collect();
            probes.extend((0..500).map(|_| next() & !1));
            for even in probes {
                let expected = (
                    sorted.binary_search(&even).is_ok(),
                    sorted.binary_search(&(even | 1)).is_ok(),
                );
                assert_eq!(super::pair_in(&sorted, even), expected, "{len} {even}");
            }
        }
    }

    /// Across chunks, in the order of the comparison, ties in the order pushed: what a stable
    /// sort of the whole list gives.
    #[test]
    fn a_chunked_list_sorted_by_index_is_a_stable_sort() {
        let n = Chunked::<(u32, u32)>::CHUNK * 2 + 77;
        let mut list = Chunked::default();
        let mut plain = Vec::new();
        for i in 0..n as u32 {
            // Keys repeat, so ties span chunks; the second field says where each was pushed.
            let item = (i.wrapping_mul(2_654_435_761) % 97, i);
            list.push(item);
            plain.push(item);
        }
        plain.sort_by_key(|&(key, _)| key);
        let sorted: Vec<(u32, u32)> = list.into_sorted_by(|a, b| a.0.cmp(&b.0)).collect();
        assert_eq!(sorted, plain);
        assert!(Chunked::<u8>::default()
            .into_sorted_by(|a, b| a.cmp(b))
            .next()
            .is_none());
    }
}
