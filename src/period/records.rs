//! The records of period clauses: sampling verdicts, target verdicts, repeat actions, drawn
//! samples and per-period compliance counts. The evaluator hands them to
//! [`crate::engine::Sink::period`] at the end of the stream, ordered by clause (policy and clause
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
    /// A measuring target's measure (then `hits` is the cases measured, `total` adds those
    /// still running, and `bound_permille` is unused); `None` for a ratio.
    pub measure: Option<MeasureOutcome>,
    /// An obligation clause's record (module `period::obligation`): the other fields are the
    /// missed verdict of the target it names, and `status` is the obligation's (`met`,
    /// `missed`, or `no_verdict` while it is pending).
    pub obligation: Option<ObligationOutcome>,
}

/// Where an obligation triggered by a missed period of its target stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ObligationOutcome {
    /// The target whose verdict was missed.
    pub target: Arc<str>,
    /// The required event, as the policy writes it.
    pub event: Arc<str>,
    pub within: chrono::Duration,
    /// The end of the window: the period's end plus `within` (inclusive).
    pub due: Instant,
    pub status: super::obligation::ObligationStatus,
}

impl ObligationOutcome {
    /// The stable code of the outcome when it is a finding: `target.obligation_missed`.
    pub fn code(&self) -> Option<&'static str> {
        (self.status == super::obligation::ObligationStatus::Missed)
            .then_some(super::obligation::MISSED_CODE)
    }

    /// One phrase: ``no `root_cause_analysed` by 2026-04-16T00:00:00+08:00 after
    /// `urgent_closure_98` missed``, ``... `root_cause_analysed` done ...``, ``... due ...``.
    pub fn text(&self, zone: Tz) -> String {
        use super::obligation::ObligationStatus;
        let due = crate::eval::rfc3339(self.due, zone);
        match self.status {
            ObligationStatus::Met => format!(
                "`{}` done by {due} after `{}` missed",
                self.event, self.target
            ),
            ObligationStatus::Missed => format!(
                "no `{}` by {due} after `{}` missed",
                self.event, self.target
            ),
            ObligationStatus::Pending => format!(
                "`{}` due by {due} after `{}` missed",
                self.event, self.target
            ),
        }
    }
}

/// What a measuring target measured in one period and group (module `period::measure`).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureOutcome {
    pub statistic: crate::policy::Statistic,
    /// A count, or a duration in milliseconds (a mean rounded down); `None` when nothing was
    /// measured.
    pub value: Option<i64>,
    /// Cases counted or measured.
    pub measured: u64,
    /// Cases with a start and no stop by the end of the stream (not measured).
    pub running: u64,
    pub bound: crate::policy::StatBound,
    /// The value of the same period a year earlier (a change bound only).
    pub previous: Option<i64>,
    /// The change from `previous`, in per-mille rounded toward zero.
    pub change_permille: Option<i64>,
}

impl MeasureOutcome {
    /// Whether the measure is a duration (not a count).
    pub fn is_duration(&self) -> bool {
        self.statistic != crate::policy::Statistic::Count
    }

    /// The value as a person reads it: `12`, `26 h 30 min`, or `-` when nothing was measured.
    pub fn value_text(&self, value: Option<i64>) -> String {
        match value {
            None => "-".to_string(),
            Some(v) if self.is_duration() => duration_text(v),
            Some(v) => v.to_string(),
        }
    }

    /// One phrase: `mean 26 h 30 min over 12 cases (2 running), at most 24 h`, `count 65,
    /// change -35.0 % against 100 a year earlier, at most -35.0 %`.
    pub fn text(&self) -> String {
        use crate::policy::StatBound;
        let mut s = match self.value {
            _ if self.statistic == crate::policy::Statistic::Count => {
                format!("count {}", self.value_text(self.value))
            }
            None => format!("{}: nothing measured", self.statistic.words()),
            Some(_) => format!(
                "{} {} over {} case{}",
                self.statistic.words(),
                self.value_text(self.value),
                self.measured,
                if self.measured == 1 { "" } else { "s" }
            ),
        };
        if self.running > 0 {
            s.push_str(&format!(" ({} running)", self.running));
        }
        let side = |at_least: bool| if at_least { "at least" } else { "at most" };
        match self.bound {
            StatBound::Value { at_least, value } => {
                s.push_str(&format!(
                    ", {} {}",
                    side(at_least),
                    self.value_text(Some(value))
                ));
            }
            StatBound::Change { at_least, permille } => {
                match (self.previous, self.change_permille) {
                    (Some(p), Some(c)) => s.push_str(&format!(
                        ", change {} against {} a year earlier",
                        signed_percent(c),
                        self.value_text(Some(p))
                    )),
                    (Some(p), None) => {
                        s.push_str(&format!(", {} a year earlier", self.value_text(Some(p))))
                    }
                    _ => s.push_str(", nothing a year earlier"),
                }
                s.push_str(&format!(
                    ", change {} {}",
                    side(at_least),
                    signed_percent(i64::from(permille))
                ));
            }
        }
        s
    }
}

/// `-35.0 %`, `+12.5 %`.
fn signed_percent(permille: i64) -> String {
    let sign = if permille < 0 { "-" } else { "+" };
    let a = permille.unsigned_abs();
    format!("{sign}{}.{} %", a / 10, a % 10)
}

/// `26 h 30 min`, `45 min`, `12 s`: whole seconds, rounded down.
pub fn duration_text(ms: i64) -> String {
    let s = ms / 1000;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, sec) => format!("{m} min {sec} s"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

impl TargetVerdict {
    /// The ratio in per-mille, rounded down, for display; `None` for an empty period. Verdicts
    /// never use it: they compare `hits × 1000` with `bound × total` exactly.
    pub fn ratio_permille(&self) -> Option<u64> {
        (self.total > 0).then(|| self.hits.saturating_mul(1000) / self.total)
    }

    /// The ratio as reports show it, without the `%`: one decimal rounded down, but a ratio
    /// just over an `at most` bound, which would then read as the bound itself, gets a second
    /// decimal rounded up (51 of 1010 is `5.05` against "at most 5.0 %").
    pub fn ratio_text(&self) -> Option<String> {
        target_ratio_text(self.hits, self.total, self.at_least, self.bound_permille)
    }
}

/// A target's ratio as reports show it, in percent without the sign: one decimal rounded down,
/// as every percentage of a report; but a ratio just over an `at most` bound would then read as
/// the bound itself beside a `missed`, so it gets a second decimal, rounded up (51 of 1010 is
/// `5.05`, against "at most 5.0 %"). `None` for an empty period.
pub fn target_ratio_text(
    hits: u64,
    total: u64,
    at_least: bool,
    bound_permille: u32,
) -> Option<String> {
    if total == 0 {
        return None;
    }
    let (hits, total) = (u128::from(hits), u128::from(total));
    let permille = hits * 1000 / total;
    let over_at_most = !at_least && hits * 1000 > u128::from(bound_permille) * total;
    if over_at_most && permille == u128::from(bound_permille) {
        let per_ten_thousand = (hits * 10_000).div_ceil(total);
        return Some(format!(
            "{}.{:02}",
            per_ten_thousand / 100,
            per_ten_thousand % 100
        ));
    }
    Some(format!("{}.{}", permille / 10, permille % 10))
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

/// Where the period tallies put what they find: period records and the findings of duty,
/// window and cover clauses. The streaming evaluator's every sink is one
/// ([`crate::engine::Sink`]); this narrower trait keeps the tallies below the evaluator that
/// drives them.
pub trait PeriodOut {
    fn period(&mut self, record: &PeriodRecord);
    fn finding(&mut self, finding: &crate::eval::Finding);
}

/// The period records alone, for a tally that reads another clause's verdicts again.
impl PeriodOut for Vec<PeriodRecord> {
    fn period(&mut self, record: &PeriodRecord) {
        self.push(record.clone());
    }
    fn finding(&mut self, _: &crate::eval::Finding) {}
}
