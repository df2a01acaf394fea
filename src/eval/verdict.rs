//! The records the evaluator produces: verdicts, actions, rejected events, unopened cases, and
//! the closing summary.
//!
//! Records name policies and clauses by name (shared `Arc<str>`s, so a verdict costs no string
//! copies) and also carry a [`ClauseRef`] so that reports can look up titles and calendars
//! without searching by name.

use crate::event::Instant;
use crate::policy::ActionKind;
use chrono::{DateTime, Duration, SecondsFormat};
use chrono_tz::Tz;
use std::fmt;
use std::sync::Arc;

/// Position of a clause in the evaluator's policy list: `policies[policy].clauses[clause]`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ClauseRef {
    pub policy: usize,
    pub clause: usize,
}

/// The verdict of one cycle of a deadline clause on one case (SEMANTICS.md, "Deadline clauses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Stopped at or before the due time.
    Met,
    /// Stopped after the due time, or not stopped and `now` is past the due time.
    Breached,
    /// Not stopped and `now` is not past the due time.
    Pending,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Breached => "breached",
            Status::Pending => "pending",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cycle of one deadline clause on one case, judged as of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ticket: Arc<str>,
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    /// 1 for the first cycle; each accepted `reopened` starts the next one.
    pub cycle: u32,
    pub status: Status,
    /// When the clock started.
    pub start: Instant,
    /// When the clock reaches the limit (moved later by paused time).
    pub due: Instant,
    /// When the clock stopped, if it did by `now`.
    pub stop: Option<Instant>,
    /// True when the clock is paused at `now` (the due time then assumes the pause ends at `now`).
    pub paused: bool,
    /// Paused time that moved the due time, counted on the clause's clock (working time for
    /// calendar limits, wall time otherwise).
    pub paused_time: Duration,
    /// The zone in which the clause counts: its calendar's, or the policy's for wall-clock
    /// limits. Reports show instants in it.
    pub zone: Tz,
    /// For breached verdicts: `stop - due`, or `now - due` when not stopped.
    pub overdue_by: Option<Duration>,
    /// For pending verdicts: `due - now`.
    pub time_left: Option<Duration>,
    /// Stages of a clock still running at `now` that have not fired yet: their 1-based position
    /// in the clause and the instant they will fire at if the clock keeps running (an open pause
    /// assumed to end at `now`), soonest first. Empty once the clock stopped. The agenda lists
    /// the ones about to fire.
    pub next_stages: Vec<(usize, Instant)>,
    /// The case is closed (its latest `closed` is not followed by a `reopened`) as of `now`: a
    /// clock still running there is a breach for the report, nothing a duty desk can act on.
    pub case_closed: bool,
}

/// The state of an action produced by a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionStatus {
    /// A warning: informational, it asks for no evidence, so it is only ever "due".
    Due,
    /// The stream holds the evidence (an `escalated` or `notified` event to the role at or after
    /// the stage instant, by `now`).
    Done,
    /// No evidence by `now`.
    Missed,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Due => "due",
            ActionStatus::Done => "done",
            ActionStatus::Missed => "missed",
        }
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stage that fired: its point passed while the clock ran, before it stopped and by `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub ticket: Arc<str>,
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub cycle: u32,
    /// 1-based position of the stage in the clause, as a reader counts the lines.
    pub stage: usize,
    /// The stage instant.
    pub at: Instant,
    pub kind: ActionKind,
    pub role: Arc<str>,
    pub channels: Arc<[Box<str>]>,
    pub message: Option<Arc<str>>,
    pub status: ActionStatus,
    /// The evidence event's instant when `status` is `Done`.
    pub evidence: Option<Instant>,
    pub zone: Tz,
}

/// An input record that was not evaluated, with the reason: produced by the reader (a line
/// that cannot be read) and by the evaluator (duplicates, events arriving after their case was
/// finished, whose `text` it leaves empty since it sees parsed events only).
pub use crate::input::Rejected;

/// Something a non-deadline clause found wrong with a case: a notification channel missing or
/// late, a coverage shortfall, a first contact on the wrong channel, a duty gap, an event outside
/// its time window. Deadline clauses speak through [`Verdict`]s and [`Action`]s instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub ticket: Arc<str>,
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    /// A stable, dotted code naming what was found, e.g. `notify.channel_missing`,
    /// `notify.coverage_short`, `duty.gap`, `window.outside`. Documented in the README; tools
    /// may match on it.
    pub code: &'static str,
    /// The instant the finding is about (the due time that passed, the late event, ...).
    pub at: Instant,
    /// One line for a quality officer, e.g. "no `app_push` notice by 2026-03-02T10:00:00+08:00".
    pub message: String,
    /// The zone reports show instants in.
    pub zone: Tz,
}

/// A case whose events never included `opened`: it gets no verdicts, but is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unopened {
    pub ticket: Arc<str>,
    /// How many (non-duplicate) events the case had.
    pub events: u64,
    /// The smallest line number among them.
    pub first_line: u64,
}

/// Per-clause counts of verdicts, actions and findings. The summary has one for every clause of
/// every policy, whatever its kind.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClauseSummary {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    /// The clause kind keyword: `deadline`, `notify`, `sample`, ... (not in a snapshot: it
    /// comes from the policy when the engine is restored).
    #[serde(skip)]
    pub kind: &'static str,
    pub title: Option<Arc<str>>,
    /// The row of the standards catalogue the clause cites, if any.
    pub cite: Option<Arc<str>>,
    pub met: u64,
    pub breached: u64,
    pub pending: u64,
    pub actions_due: u64,
    pub actions_done: u64,
    pub actions_missed: u64,
    pub findings: u64,
}

impl ClauseSummary {
    /// What the clause judged: deadline cycles (met, breached or pending); for record clauses,
    /// cases in the same three standings; for duties and time windows, the checks (gaps, quota
    /// periods, events in or out of their windows), met or not (each failed check is one
    /// finding); for samples and targets, their periods per group, met or not (a short sample
    /// or a missed target is one finding), and an obligation's periods still pending. Zero
    /// means the clause applied to nothing that could be judged, which a clause with every
    /// check met (`met == verdicts > 0`) is not.
    pub fn verdicts(&self) -> u64 {
        if self.counts_checks() {
            self.met + self.findings + self.pending
        } else {
            self.met + self.breached + self.pending
        }
    }

    /// Whether the clause judges whole cases, one standing per case (met, breached, pending)
    /// whatever its number of findings: record clauses.
    pub fn judges_cases(&self) -> bool {
        self.kind == "record"
    }

    /// Whether the clause counts checks rather than cycles: duties (`every`) and time windows,
    /// and the periods of samples and targets.
    pub fn counts_checks(&self) -> bool {
        matches!(self.kind, "every" | "window" | "sample" | "target")
    }

    /// `(met, decided)`: met and breached cycles, or met checks and all checks (pending cycles
    /// are not decided). Compliance is `met / decided` when `decided > 0`.
    pub fn decided(&self) -> (u64, u64) {
        if self.counts_checks() {
            (self.met, self.met + self.findings)
        } else {
            (self.met, self.met + self.breached)
        }
    }
}

/// What a whole evaluation came to.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// The instant verdicts are judged at; `None` only when there were no events and no `--now`.
    pub now: Option<Instant>,
    /// Events handed to the evaluator (accepted or not).
    pub events: u64,
    /// Events evaluated.
    pub accepted: u64,
    /// Events later than an explicit `now`: ignored, counted.
    pub after_now: u64,
    /// All rejected records: from the reader, duplicates and late events.
    pub rejected: u64,
    pub duplicates: u64,
    /// Events that arrived more than the reorder window out of order within their case.
    pub late: u64,
    /// Events that arrived after their case was settled (more than the retention after it
    /// was closed).
    pub expired: u64,
    /// Cases with an `opened` event.
    pub cases: u64,
    /// Cases without one.
    pub unopened: u64,
    /// One entry per clause, in policy and clause order.
    pub clauses: Vec<ClauseSummary>,
    /// Calendars asked about dates outside the years their holiday data covers, with those
    /// years, sorted: verdicts there assume no holidays and no make-up days, which may be
    /// wrong, so reports warn rather than trust them silently.
    pub uncovered: Vec<(Arc<str>, i32)>,
    /// Events of tickets of other partitions (`--partition`): read for their time only,
    /// neither applied nor rejected.
    pub elsewhere: u64,
}

impl Summary {
    /// Breached verdicts (deadline cycles): each is a `verdict` record. A record clause's
    /// breached cases are not added, since their findings are counted in [`Summary::findings`].
    pub fn breached(&self) -> u64 {
        self.clauses
            .iter()
            .filter(|c| !c.judges_cases())
            .map(|c| c.breached)
            .sum()
    }

    pub fn actions_missed(&self) -> u64 {
        self.clauses.iter().map(|c| c.actions_missed).sum()
    }

    pub fn findings(&self) -> u64 {
        self.clauses.iter().map(|c| c.findings).sum()
    }

    /// The counts of one clause.
    pub fn clause(&self, clause_ref: ClauseRef) -> Option<&ClauseSummary> {
        self.clauses.iter().find(|c| c.clause_ref == clause_ref)
    }
}

/// An instant as RFC 3339 in `zone`, with its offset; whole seconds unless it has a fraction.
pub fn rfc3339(t: Instant, zone: Tz) -> String {
    let local: DateTime<Tz> = t.with_timezone(&zone);
    local.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A duration as a quality officer reads it: `2 days 3 h`, `1 h 07 min`, `45 min`, `30 s`.
/// Below a minute, exact seconds with their decimals (`0.5 s`); from a minute on, rounded down
/// to the second.
pub fn format_duration(d: Duration) -> String {
    let negative = d < Duration::zero();
    let total = d.num_seconds().unsigned_abs();
    let sign = if negative { "-" } else { "" };
    if total < 60 {
        // Under a minute, the fraction of a second is shown: a clock stopped half a second
        // after its due time is breached, and "late by 0 s" would contradict the verdict.
        return format!("{sign}{} s", decimal_seconds(d.abs()));
    }
    let (days, rem) = (total / 86_400, total % 86_400);
    let (hours, rem) = (rem / 3600, rem % 3600);
    let (mins, secs) = (rem / 60, rem % 60);
    let mut out = String::from(sign);
    if days > 0 {
        out.push_str(&format!("{days} day{}", if days == 1 { "" } else { "s" }));
        // `6 days 0 h 05 min`, not `6 days 05 min`: the minutes are read after the hours.
        if hours > 0 || mins > 0 {
            out.push_str(&format!(" {hours} h"));
        }
        if mins > 0 {
            out.push_str(&format!(" {mins:02} min"));
        }
    } else if hours > 0 {
        out.push_str(&format!("{hours} h"));
        if mins > 0 {
            out.push_str(&format!(" {mins:02} min"));
        }
    } else if mins > 0 {
        out.push_str(&format!("{mins} min"));
        if secs > 0 {
            out.push_str(&format!(" {secs:02} s"));
        }
    } else {
        out.push_str(&format!("{secs} s"));
    }
    out
}

/// A duration as exact decimal seconds: `12`, `0.5`, `-3.000000001`; no exponent, no trailing
/// zeros. The JSON reports write durations this way, so sub-second lateness is never `0`.
pub fn decimal_seconds(d: Duration) -> String {
    let negative = d < Duration::zero();
    let nanos_total = i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos());
    let abs = nanos_total.unsigned_abs();
    let (secs, nanos) = (abs / 1_000_000_000, abs % 1_000_000_000);
    let sign = if negative { "-" } else { "" };
    if nanos == 0 {
        return format!("{sign}{secs}");
    }
    let frac = format!("{nanos:09}");
    format!("{sign}{secs}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_are_exact() {
        assert_eq!(decimal_seconds(Duration::zero()), "0");
        assert_eq!(decimal_seconds(Duration::seconds(90)), "90");
        assert_eq!(decimal_seconds(Duration::milliseconds(500)), "0.5");
        assert_eq!(
            decimal_seconds(Duration::nanoseconds(-1_000_000_001)),
            "-1.000000001"
        );
        assert_eq!(
            decimal_seconds(Duration::days(400) + Duration::nanoseconds(7)),
            "34560000.000000007"
        );
    }

    #[test]
    fn durations_read_aloud() {
        assert_eq!(format_duration(Duration::minutes(67)), "1 h 07 min");
        assert_eq!(format_duration(Duration::hours(2)), "2 h");
        assert_eq!(format_duration(Duration::days(1)), "1 day");
        assert_eq!(format_duration(Duration::hours(51)), "2 days 3 h");
        assert_eq!(
            format_duration(Duration::days(6) + Duration::minutes(5)),
            "6 days 0 h 05 min"
        );
        assert_eq!(
            format_duration(Duration::days(6) + Duration::minutes(166)),
            "6 days 2 h 46 min"
        );
        assert_eq!(format_duration(Duration::seconds(45)), "45 s");
        assert_eq!(format_duration(Duration::seconds(125)), "2 min 05 s");
        assert_eq!(format_duration(Duration::milliseconds(5)), "0.005 s");
        assert_eq!(format_duration(Duration::milliseconds(500)), "0.5 s");
        assert_eq!(format_duration(Duration::milliseconds(-1500)), "-1.5 s");
        assert_eq!(format_duration(Duration::nanoseconds(1)), "0.000000001 s");
        assert_eq!(format_duration(Duration::seconds(59)), "59 s");
        assert_eq!(format_duration(Duration::milliseconds(60_500)), "1 min");
        assert_eq!(format_duration(Duration::zero()), "0 s");
    }
}
