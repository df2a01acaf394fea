//! The records of period clauses: sampling verdicts, target verdicts, repeat actions, drawn
//! samples and per-period compliance counts. The evaluator hands them to
//! [`crate::eval::Sink::period`] at the end of the stream, ordered by clause (policy and clause
//! order), then period, then group.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use crate::eval::ClauseRef;
use crate::event::Instant;
use crate::policy::ActionKind;
use chrono_tz::Tz;
use std::sync::Arc;

/// One record of a period clause.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodRecord {
    Sample(SampleVerdict),
    Target(TargetVerdict),
    Repeat(RepeatAction),
    Draw(SampleDraw),
    Compliance(ComplianceCount),
}

impl PeriodRecord {
    pub fn clause_ref(&self) -> ClauseRef {
        match self {
            PeriodRecord::Sample(r) => r.clause_ref,
            PeriodRecord::Target(r) => r.clause_ref,
            PeriodRecord::Repeat(r) => r.clause_ref,
            PeriodRecord::Draw(r) => r.clause_ref,
            PeriodRecord::Compliance(r) => r.clause_ref,
        }
    }
}

/// The state of a sampling clause in one period and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SampleStatus {
    /// `done >= required`, with a population.
    Met,
    /// `done < required`.
    Short,
    /// No population in the period: nothing was required (and nothing is claimed).
    Empty,
}

impl SampleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleStatus::Met => "met",
            SampleStatus::Short => "short",
            SampleStatus::Empty => "empty",
        }
    }
}

/// A sampling clause in one period and group (SEMANTICS.md, "Sampling").
#[derive(Debug, Clone, PartialEq)]
pub struct SampleVerdict {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub period: CalendarPeriod,
    /// The policy's zone, in which the period is read.
    pub zone: Tz,
    pub group: Group,
    /// The role whose checks count.
    pub role: Arc<str>,
    /// Cases whose first population event falls in the period.
    pub population: u64,
    /// `ceil(ratio × population)`, computed on exact integers.
    pub required: u64,
    /// Cases of the population checked by the role in the period or its lag.
    pub done: u64,
    pub status: SampleStatus,
    /// `required - done` when short, else 0.
    pub missing: u64,
}

/// The state of a target in one period and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetStatus {
    /// The ratio is on the right side of the bound (exactly at it counts as met).
    Met,
    /// It is not.
    Missed,
    /// No case in the period: no verdict, not a perfect one.
    NoVerdict,
}

impl TargetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Met => "met",
            TargetStatus::Missed => "missed",
            TargetStatus::NoVerdict => "no_verdict",
        }
    }
}

/// A target clause in one period and group (SEMANTICS.md, "Targets and recurrence").
#[derive(Debug, Clone, PartialEq)]
pub struct TargetVerdict {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub period: CalendarPeriod,
    pub zone: Tz,
    pub group: Group,
    /// Cases with the success event, or verdicts of the counted status.
    pub hits: u64,
    /// Cases with the `among` event, or all verdicts of the clause.
    pub total: u64,
    /// `at least` (a floor) or `at most` (a ceiling).
    pub at_least: bool,
    pub bound_permille: u32,
    pub status: TargetStatus,
}

impl TargetVerdict {
    /// The ratio in per-mille, rounded down, for display; `None` for an empty period. Verdicts
    /// never use it: they compare `hits × 1000` with `bound × total` exactly.
    pub fn ratio_permille(&self) -> Option<u64> {
        (self.total > 0).then(|| self.hits.saturating_mul(1000) / self.total)
    }
}

/// A recurrence rule that fired: `times` matching cases sharing the `same` attributes within
/// the window, the last of them opened at `at` (SEMANTICS.md, "Repeat complaints").
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatAction {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    /// The case that completed the repeat (the latest opened).
    pub ticket: Arc<str>,
    /// When it was opened: the instant the action is due.
    pub at: Instant,
    /// The shared attribute values.
    pub key: Group,
    /// Every case of the key opened within the window up to and including `ticket`, oldest
    /// first, with its `opened` instant.
    pub cases: Vec<(Arc<str>, Instant)>,
    pub kind: ActionKind,
    pub role: Arc<str>,
    pub channels: Arc<[Box<str>]>,
    pub message: Option<Arc<str>>,
    pub zone: Tz,
}

/// The cases drawn for checking by a sampling clause in one period and group (module
/// `period::draw` describes the algorithm).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDraw {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub period: CalendarPeriod,
    pub zone: Tz,
    pub group: Group,
    pub role: Arc<str>,
    pub seed: u64,
    pub population: u64,
    pub required: u64,
    /// The drawn tickets in rank order, each with its rank key.
    pub drawn: Vec<(Arc<str>, u64)>,
}

/// Per-period counts of one clause in one report group: deadline verdicts (by the period of
/// their start) and findings of duties and windows (by the period of their instant).
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceCount {
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub kind: &'static str,
    pub period: CalendarPeriod,
    pub zone: Tz,
    pub group: Group,
    pub met: u64,
    pub breached: u64,
    pub pending: u64,
    pub findings: u64,
}
