//! Settling: when a case is final, what it emits then, and what is remembered of it after.
//!
//! A case settles the retention after its latest `closed` (or, not closed, after its latest
//! event when it may idle out: [`Evaluator::may_idle_out`]), or at the end of the stream.
//! Then its stopped cycles are judged, its running cycles are judged against `now` or kept
//! as small [`Deferred`] cycles until the end, and its ticket is remembered for a while
//! ([`Finished`]) so that a late event for it is rejected with its reason rather than
//! starting a new case. Kept apart from the per-event path so that each can be read alone.

use super::*;

mod finished;
pub(super) use finished::Finished;

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
    #[serde(with = "crate::event::compact_instant")]
    pub(super) start: Instant,
    /// Whether the case was closed when it settled (else it settled idle).
    pub(super) closed: bool,
    pub(super) extra: Option<Box<DeferredExtra>>,
}

/// The pauses and stage evidence of a [`Deferred`] cycle that has any.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct DeferredExtra {
    #[serde(with = "boxed_spans")]
    pub(super) pauses: Box<[PauseSpan]>,
    #[serde(with = "boxed_evidence")]
    pub(super) evidence: StageEvidence,
}

/// Per stage, the instants of its evidence.
pub(super) type StageEvidence = Box<[Box<[Instant]>]>;

/// [`DeferredExtra::pauses`] with compact instants.
mod boxed_spans {
    use super::PauseSpan;
    use crate::event::compact_instant::spans;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[PauseSpan], s: S) -> Result<S::Ok, S::Error> {
        spans::serialize(v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<[PauseSpan]>, D::Error> {
        Ok(spans::deserialize(d)?.into_boxed_slice())
    }
}

/// [`DeferredExtra::evidence`] with compact instants.
mod boxed_evidence {
    use crate::event::compact_instant::Compact;
    use crate::event::Instant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Box<[Instant]>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|stage| stage.iter().map(|&at| Compact(at)).collect::<Vec<_>>()),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<super::StageEvidence, D::Error> {
        Ok(Vec::<Vec<Compact>>::deserialize(d)?
            .into_iter()
            .map(|stage| stage.into_iter().map(|c| c.0).collect())
            .collect())
    }
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

    /// When the case settles (see [`CaseState::settles_at`]), with its [`Self::retention`];
    /// a closed case no earlier than the end of a sample's period plus its lag when it is a
    /// member of that sample, so that a check may come until then, however long the period.
    pub(super) fn settles(&self, case: &CaseState) -> Instant {
        self.settles_from(case, case.settles_at(&self.opts, self.retention(case)))
    }

    /// The retention an event of this closed case at `at` comes after, if it comes after it
    /// (decided by its instant, whenever it arrived): the case's close plus its retention, or
    /// later while a sample may still count a check for it, before the event's frontier. (A
    /// case's settling also waits for the window after its latest arrival, which depends on
    /// the order of the stream; what is after the retention must not.)
    pub(super) fn after_retention(&self, case: &CaseState, at: Instant) -> Option<Duration> {
        let closed = case.closed?;
        let frontier = at
            .checked_sub_signed(self.opts.reorder_window)
            .unwrap_or(at);
        let plain = closed
            .checked_add_signed(self.retention(case))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if plain >= frontier {
            return None;
        }
        // A sample's hold is looked for only past the plain end.
        let end = self.settles_from(case, plain);
        (end < frontier).then(|| end - closed)
    }

    /// `at`, or later when the case is a member of a sample that may still count a check.
    fn settles_from(&self, case: &CaseState, at: Instant) -> Instant {
        let Some(digest) = case.digest.as_deref().filter(|_| case.closed.is_some()) else {
            return at;
        };
        // Most cases settle after any sample could still count a check for them: no view of
        // the case is built for those.
        let Some(latest) = digest.last.as_ref().map(|l| l.0).max(case.applied) else {
            return at;
        };
        let kind = case.attrs.get(crate::eval::case::GUARD_ATTR);
        if self
            .periods
            .sample_hold_bound(kind, latest)
            .is_none_or(|bound| bound <= at)
        {
            return at;
        }
        let events = digest_events(digest.clone(), &case.ticket);
        let view = CaseView::from_parts(&events, &case.attrs, case.opened);
        self.periods
            .sample_hold(&view)
            .map_or(at, |hold| at.max(hold))
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
                if let Some(case) = self.cases.get_mut(&key).map(unshare) {
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
                self.cases.insert(key, Arc::new(case));
                Some(true)
            }
            None => at_rest.then_some(false),
        }
    }

    /// Settles a case: emits what waited for it; running cycles wait when `now` is not known.
    pub(super) fn settle_case(&mut self, case: Arc<CaseState>, at_end: bool) {
        // Unshared but for a checkpoint its host has not written yet.
        let mut case = Arc::unwrap_or_clone(case);
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
        let kept = case.digest.take().map(|d| *d).unwrap_or_default();
        let digest = digest_events(kept, &case.ticket);
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
        if known_now.is_none()
            && !running.is_empty()
            && !self.sink.wants_case_attributes().is_empty()
        {
            self.sink.case_attrs_at_end(&ticket, &case.attrs);
        }
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

/// The events a case's digest kept for its notification and period clauses, in canonical
/// order (what a [`CaseView`] of them reads), its latest event last.
fn digest_events(kept: Digest, ticket: &InlineStr) -> Vec<Event> {
    let mut digest: Vec<Event> = kept
        .events
        .into_iter()
        .map(|k| Event {
            ticket: ticket.clone(),
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
                ticket: ticket.clone(),
                at,
                kind,
                id: None,
                attrs: Attrs::new(),
                line: 0,
            });
        }
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::Chunked;

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
