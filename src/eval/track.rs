//! The cycles of a deadline clock, followed one event at a time.
//!
//! Deadline clauses that share their start trigger, stop trigger and pause statuses share a
//! **track**: the instants at which their clock starts, stops and pauses are the same; only the
//! limit, the condition and the stages differ, and those are applied when a cycle's record is
//! made. A case holds one [`TrackState`] per track whose start event it has seen: a few dozen
//! bytes, never the events.
//!
//! [`TrackState::step`] gives the cycles that [`super::case::for_each_cycle`] finds on the whole
//! sorted case (SEMANTICS.md, "Deadline clauses", "Reopen" and "Ties"), provided it is fed the
//! case's events in canonical order, each with a per-case sequence number. The whole-case
//! reading looks *back* within one instant in three places: a stop event at the start's instant
//! counts even when it sorts before the start event, a `reopened` at the stop's instant counts
//! even when it sorts before the stop, and a start event at the reopen's instant counts even when
//! it sorts before the reopen. So the state keeps the roles of the events of the current instant
//! (a handful at most) and rescans them at each transition. A property test in `tests/` checks
//! the equivalence on random cases.

use super::clock::PauseSpan;
use crate::event::Instant;
use crate::policy::{Deadline, Trigger};
use crate::value::Attrs;

/// The part of a deadline clause that decides its cycles and pauses.
#[derive(Debug)]
pub(crate) struct TrackSpec<'p> {
    pub start: &'p Trigger,
    pub stop: &'p Trigger,
    /// A reopen cycle starts at the `reopened` event itself.
    pub at_opened: bool,
    /// Statuses that pause the clock; empty: none.
    pub pausing: &'p [String],
}

impl<'p> TrackSpec<'p> {
    pub fn of(deadline: &'p Deadline) -> TrackSpec<'p> {
        TrackSpec {
            start: &deadline.start,
            stop: &deadline.stop,
            at_opened: deadline.starts_at_opened(),
            pausing: deadline.pause.as_ref().map_or(&[][..], |p| &p.statuses[..]),
        }
    }

    /// Whether two clauses share a track.
    pub fn same_as(&self, other: &TrackSpec<'_>) -> bool {
        self.start == other.start
            && self.stop == other.stop
            && self.at_opened == other.at_opened
            && self.pausing == other.pausing
    }

    /// What `kind` with `attrs` is to this track, on a case whose attributes are `case` at the
    /// end of the event's instant.
    pub fn roles(&self, kind: &str, attrs: &Attrs, case: &Attrs, at: Instant) -> Roles {
        let mut r = 0;
        if self.start.matches_in(kind, attrs, case, Some(at)) {
            r |= Roles::START;
        }
        if self.stop.matches_in(kind, attrs, case, Some(at)) {
            r |= Roles::STOP;
        }
        if kind == "reopened" {
            r |= Roles::REOPEN;
        }
        Roles(r)
    }

    /// Whether a status pauses this track's clock.
    pub fn pauses_on(&self, status: Option<&str>) -> bool {
        status.is_some_and(|s| self.pausing.iter().any(|p| p == s))
    }
}

/// The roles of one event on a track, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Roles(u8);

impl Roles {
    const START: u8 = 1;
    const STOP: u8 = 2;
    const REOPEN: u8 = 4;

    pub fn any(self) -> bool {
        self.0 != 0
    }
    pub fn start(self) -> bool {
        self.0 & Self::START != 0
    }
    fn stop(self) -> bool {
        self.0 & Self::STOP != 0
    }
    fn reopen(self) -> bool {
        self.0 & Self::REOPEN != 0
    }
}

/// Where a track is between its events. What each phase needs (the running cycle's start,
/// the start event's sequence number) is kept beside it in [`TrackState`], so that the phase
/// costs one byte rather than a tagged union's sixteen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
enum Phase {
    /// The clock runs since `start`.
    Running,
    /// The last cycle stopped.
    Stopped,
    /// Reopened; waiting for a start event (clauses not starting at `opened`).
    Reopened,
}

/// A cycle that has ended: its track, number, start, stop and pauses (kept until its case
/// settles, so as small as it can be: most cycles never paused, so the pauses cost one
/// pointer; the track's index sits in what would be padding, so that a case's list of them
/// costs 40 bytes an entry rather than 56 for a pair of index and cycle).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Stopped {
    /// The track (index into the evaluator's tracks).
    pub track: u16,
    pub cycle: u32,
    #[serde(with = "crate::event::compact_instant")]
    pub start: Instant,
    #[serde(with = "crate::event::compact_instant")]
    pub stop: Instant,
    pauses: Pauses,
}

impl Stopped {
    /// The pauses, as a list.
    pub fn pause_list(&self) -> Vec<PauseSpan> {
        self.pauses.as_slice().to_vec()
    }
}

/// The pauses of a running cycle: most clocks never pause, so none costs one pointer.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[allow(clippy::box_collection)] // one pointer in the state of every clock, not three words
struct Pauses(#[serde(with = "optional_spans")] Option<Box<Vec<PauseSpan>>>);

/// [`Pauses`] with compact instants.
#[allow(clippy::box_collection)]
mod optional_spans {
    use super::PauseSpan;
    use crate::event::compact_instant::spans;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The spans, read.
    #[derive(Deserialize)]
    struct Spans(#[serde(deserialize_with = "spans::deserialize")] Vec<PauseSpan>);

    pub fn serialize<S: Serializer>(
        v: &Option<Box<Vec<PauseSpan>>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_deref().map(|v| SpansRef(v)).serialize(s)
    }

    /// The spans, written.
    struct SpansRef<'a>(&'a [PauseSpan]);

    impl Serialize for SpansRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            spans::serialize(self.0, s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Box<Vec<PauseSpan>>>, D::Error> {
        Ok(Option::<Spans>::deserialize(d)?.map(|s| Box::new(s.0)))
    }
}

impl Pauses {
    fn push(&mut self, span: PauseSpan) {
        self.0.get_or_insert_with(Box::default).push(span);
    }
    fn last_mut(&mut self) -> Option<&mut PauseSpan> {
        self.0.as_mut().and_then(|v| v.last_mut())
    }
    fn pop(&mut self) {
        if let Some(v) = self.0.as_mut() {
            v.pop();
        }
    }
    fn as_slice(&self) -> &[PauseSpan] {
        self.0.as_deref().map_or(&[], |v| &v[..])
    }
    fn take(&mut self) -> Vec<PauseSpan> {
        self.0.take().map(|b| *b).unwrap_or_default()
    }
}

/// The state of one track on one case, from its first start event on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
///
/// Fixed at 40 bytes (a million cases keep one or two each on a dense stream): the phase is
/// one byte beside the running cycle's start, and the track's index is kept here rather than
/// beside it in the case's list, where alignment would cost eight bytes more.
pub(crate) struct TrackState {
    /// The track (index into the evaluator's tracks).
    pub track: u16,
    phase: Phase,
    /// [`TrackState::AT_OPENED`]: a reopen cycle starts at the `reopened` itself;
    /// [`TrackState::PAUSED`]: the case's status pauses this track now. (Bits of one byte:
    /// two booleans would take the state past 40 bytes.)
    flags: u8,
    cycle: u32,
    /// The running cycle's start (when `phase` is `Running`; else the last cycle's).
    #[serde(with = "crate::event::compact_instant")]
    start: Instant,
    /// The sequence number of the last cycle's start event.
    start_seq: u32,
    /// Stop and reopen events with a smaller sequence number are consumed.
    stop_from: u32,
    reopen_from: u32,
    /// Pauses of the running cycle, clipped to its start; the last may be open.
    pauses: Pauses,
}

impl TrackState {
    const AT_OPENED: u8 = 1;
    const PAUSED: u8 = 2;

    fn paused(&self) -> bool {
        self.flags & Self::PAUSED != 0
    }

    /// A track whose first start event is the last of `now`: the roles of this instant's
    /// events so far, in canonical order with their sequence numbers (a stop sorting before the
    /// start at the same instant counts). `paused` says whether the case's status pauses the
    /// track now. Cycles that stop at once are appended to `out`. `None` when the last event of
    /// `now` is not a start event.
    pub fn start(
        spec: &TrackSpec<'_>,
        track: u16,
        at: Instant,
        now: &[(u32, Roles)],
        paused: bool,
        out: &mut Vec<Stopped>,
    ) -> Option<TrackState> {
        let &(seq, roles) = now.last()?;
        if !roles.start() {
            return None;
        }
        let mut state = TrackState {
            track,
            phase: Phase::Running,
            start: at,
            start_seq: seq,
            cycle: 1,
            flags: if spec.at_opened { Self::AT_OPENED } else { 0 }
                | if paused { Self::PAUSED } else { 0 },
            stop_from: 0,
            reopen_from: 0,
            pauses: Pauses(paused.then(|| Box::new(vec![(at, None)]))),
        };
        state.settle(at, now, out);
        Some(state)
    }

    /// The running cycle's number, start and pauses, if the clock runs.
    pub fn running(&self) -> Option<(u32, Instant, &[PauseSpan])> {
        match self.phase {
            Phase::Running => Some((self.cycle, self.start, self.pauses.as_slice())),
            _ => None,
        }
    }

    /// One event of the case at `at`, the last of `now`: the roles on this track of this
    /// instant's events so far, in canonical order with their sequence numbers. Cycles that
    /// stop are appended to `out`.
    pub fn step(&mut self, at: Instant, now: &[(u32, Roles)], out: &mut Vec<Stopped>) {
        self.settle(at, now, out);
    }

    /// The case's status changed at `at`; `pausing` says whether the new one pauses this
    /// track. A run of pausing statuses is one pause.
    pub fn status(&mut self, at: Instant, pausing: bool) {
        if pausing == self.paused() {
            return;
        }
        self.flags ^= Self::PAUSED;
        if self.phase != Phase::Running {
            return;
        }
        let start = self.start;
        if pausing {
            self.pauses.push((at.max(start), None));
        } else if let Some(last) = self.pauses.last_mut() {
            if at > last.0 {
                last.1 = Some(at);
            } else {
                self.pauses.pop();
            }
        }
    }

    /// The first event of this instant from sequence `from` on with the role `has`.
    fn first(now: &[(u32, Roles)], from: u32, has: fn(Roles) -> bool) -> Option<u32> {
        now.iter()
            .filter(|&&(seq, roles)| seq >= from && has(roles))
            .map(|&(seq, _)| seq)
            .min()
    }

    /// Takes the transitions the events of the current instant allow.
    fn settle(&mut self, at: Instant, now: &[(u32, Roles)], out: &mut Vec<Stopped>) {
        loop {
            match self.phase {
                Phase::Running => {
                    let start = self.start;
                    let Some(seq) = Self::first(now, self.stop_from, Roles::stop) else {
                        return;
                    };
                    let stop = at;
                    self.stop_from = seq + 1;
                    let mut pauses = self.pauses.take();
                    if let Some(last) = pauses.last_mut() {
                        if last.1.is_none() {
                            last.1 = Some(stop);
                        }
                    }
                    pauses.retain(|&(from, until)| until.is_some_and(|u| u > from));
                    out.push(Stopped {
                        track: self.track,
                        cycle: self.cycle,
                        start,
                        stop,
                        pauses: Pauses((!pauses.is_empty()).then(|| {
                            pauses.shrink_to_fit();
                            Box::new(pauses)
                        })),
                    });
                    self.phase = Phase::Stopped;
                }
                Phase::Stopped => {
                    let Some(seq) = Self::first(now, self.reopen_from, Roles::reopen) else {
                        return;
                    };
                    self.reopen_from = seq + 1;
                    self.phase = Phase::Reopened;
                }
                Phase::Reopened => {
                    // The reopen is at this instant: a start event of this instant counts even
                    // when it sorts before the reopen, but never the previous cycle's own.
                    let start_seq = if self.flags & Self::AT_OPENED != 0 {
                        self.start_seq
                    } else {
                        match Self::first(now, self.start_seq + 1, Roles::start) {
                            Some(seq) => seq,
                            None => return,
                        }
                    };
                    self.cycle = self.cycle.saturating_add(1);
                    let start = at;
                    self.phase = Phase::Running;
                    self.start = start;
                    self.start_seq = start_seq;
                    if self.paused() {
                        self.pauses.push((start, None));
                    }
                }
            }
        }
    }
}
