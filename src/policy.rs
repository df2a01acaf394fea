//! The checked policy model: what a policy file means once parsed and validated.
//!
//! Nothing here knows about pest or source text beyond [`Span`]s kept for diagnostics and
//! explanations. The evaluator works only on these types, so a policy can also be built in code.

use crate::calendar::Calendar;
use crate::inline_str::InlineStr;
use crate::value::{Attrs, Value};
use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use std::sync::Arc;

/// A byte range in a policy source, for diagnostics. Ignored by equality.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end.saturating_sub(s.start)).into()
    }
}

/// A whole policy: named clauses over shared calendars.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    /// The zone of wall-clock anchors (`by 08:00 next day` without a calendar) and of periods.
    pub zone: Tz,
    pub calendars: Vec<Arc<Calendar>>,
    pub clauses: Vec<Clause>,
    /// Alert periods (`alert typhoon { ... }`) that `during` restricts duties to.
    pub alerts: Vec<Alert>,
}

impl Policy {
    pub fn clause(&self, name: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.name == name)
    }
}

/// Where a clause comes from: the catalogue row and the seed section.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Citation {
    /// Row id of the clause catalogue, e.g. `s000-complaint-contact-1h`.
    pub row: Option<String>,
    /// The standard's section, e.g. `seed 000 §一(三) 投诉处理`.
    pub text: Option<String>,
}

/// One clause: a named, titled, cited standard of a given kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub name: String,
    /// Human title, usually the Chinese wording of the standard.
    pub title: Option<String>,
    pub cite: Citation,
    /// Which cases the clause applies to (`when ...`); `Condition::Always` if not given.
    pub applies: Condition,
    /// Dates from which (inclusive) and until which (exclusive) this version of the clause holds.
    pub effective: Effective,
    pub body: ClauseBody,
    pub span: Span,
}

/// The validity interval of a clause version, in the policy's zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effective {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Effective {
    /// Whether the version holds on `date`: `from` inclusive, `until` exclusive.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| date >= f) && self.until.is_none_or(|u| date < u)
    }
}

impl Clause {
    /// Whether this clause version holds at `at`: its effective dates contain the local date of
    /// `at` in `zone` (the policy's). Every clause kind judges its versions this way.
    pub fn holds_at(&self, zone: chrono_tz::Tz, at: crate::event::Instant) -> bool {
        let eff = &self.effective;
        eff.from.is_none() && eff.until.is_none()
            || eff.contains(at.with_timezone(&zone).date_naive())
    }
}

/// What a clause checks. One variant per clause family of SEMANTICS.md.
#[derive(Debug, Clone, PartialEq)]
pub enum ClauseBody {
    Deadline(Deadline),
    Notify(Notify),
    Sample(Sample),
    Target(Target),
    Repeat(Repeat),
    Every(Duty),
    Window(Window),
    Record(Record),
}

impl ClauseBody {
    /// The keyword that introduces this kind of clause in the language.
    pub fn keyword(&self) -> &'static str {
        match self {
            ClauseBody::Deadline(_) => "deadline",
            ClauseBody::Notify(_) => "notify",
            ClauseBody::Sample(_) => "sample",
            ClauseBody::Target(_) => "target",
            ClauseBody::Repeat(_) => "repeat",
            ClauseBody::Every(_) => "every",
            ClauseBody::Window(_) => "window",
            ClauseBody::Record(_) => "record",
        }
    }
}

/// A notification clause (SEMANTICS.md, "Notifications"): required channels or audiences of
/// `notified` events, sent within a limit from the start event, with an optional coverage floor,
/// and an optional required channel for the first contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    /// From which event the limit counts (default `opened`).
    pub start: Trigger,
    /// How long after the start each channel may be first used; `None`: no timing finding.
    pub limit: Option<Limit>,
    /// Channels of `notified` events (`attrs.channel`).
    pub channels: Option<Required>,
    /// Audiences of `notified` events (`attrs.audience`).
    pub audiences: Option<Required>,
    /// Coverage floor on `reached / total`, in per-mille (950 = 95 %).
    pub coverage_permille: Option<u32>,
    /// `first contacted or acknowledged via phone`: the first such event must use one of these
    /// channels.
    pub first_contact: Option<(Trigger, Vec<String>)>,
    /// `at least 15 days before starts_at`: each required channel or audience must be first
    /// notified at least this long before a moment the case itself names.
    pub lead: Option<LeadTime>,
}

/// A lead time before a scheduled or forecast moment (seed 000: an activity is announced 15
/// days ahead; a typhoon warning goes out 3 days ahead). The moment is not an event but a case
/// attribute holding an RFC 3339 timestamp, because it lies in the future when the notices go
/// out.
///
/// Meaning: a required channel (or audience) whose first `notified` event is later than
/// `attr − before` is *late*. A case without the attribute, or with one that is not a
/// timestamp, cannot be checked: that is a finding of its own (lead unknown), as a coverage
/// floor without counts is, never a silent pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadTime {
    pub before: Duration,
    /// The case attribute holding the moment, e.g. `starts_at`, `expected_at`.
    pub attr: String,
}

/// A set of required names: all of them, or any one.
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    pub all: bool,
    pub names: Vec<String>,
}

/// Calendar periods of reports, sampling, targets and quotas, in the policy's zone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum PeriodUnit {
    Day,
    /// ISO week, Monday to Sunday.
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::Day => "day",
            PeriodUnit::Week => "week",
            PeriodUnit::Month => "month",
            PeriodUnit::Quarter => "quarter",
            PeriodUnit::Year => "year",
        }
    }
}

/// The sampling role that accepts evidence by anyone (any `by`, or none).
pub const ANY_ROLE: &str = "anyone";

/// A sampling clause (SEMANTICS.md, "Sampling").
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The population: cases (matching `when`) with this event; a case belongs to the period of
    /// its first population event.
    pub population: Trigger,
    /// Ratio in per-mille (100 = 10 %); required = ceil(ratio × population).
    pub ratio_permille: u32,
    /// Whose checks count (`attrs.by` of the evidence event). The role [`ANY_ROLE`]
    /// (`by anyone`) does not look at `by`: for standards that name no role, and for evidence
    /// that comes from the customer (a rating, a signature).
    pub role: String,
    pub period: PeriodUnit,
    /// The check event (default `spot_checked`).
    pub evidence: Trigger,
    /// Checks up to this long after the period's end still count.
    pub lag: chrono::Duration,
    /// Case attributes that split populations into groups (strata for drawing).
    pub group_by: Vec<String>,
}

/// What a target counts.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Cases with a `success` event among cases with an `among` event.
    Events { success: Trigger, among: Trigger },
    /// Verdicts of one status among all verdicts of a deadline clause.
    Verdicts { status: String, clause: String },
    /// A count or a duration statistic per period (`measure mean of resolved - opened per
    /// month`), held against its own bound (module `period::measure`).
    Stat(StatMeasure),
    /// `require EVENT within D after TARGET missed`: each (period, group) that another target
    /// of the policy misses owes an event of that group (module `period::obligation`).
    Obligation(Obligation),
}

/// An obligation triggered by a target's outcome: when target `target` misses a period in a
/// group, an `event` on a case of the same group (whose attributes hold the group's values, and
/// which the obligation clause's `when` applies to) must occur from the period's start to `within`
/// after its end, both included. The clause's `period` and `group_by` are the target's.
#[derive(Debug, Clone, PartialEq)]
pub struct Obligation {
    pub event: Trigger,
    pub within: Duration,
    /// The name of the target clause of the same policy whose misses create the duty.
    pub target: String,
}

/// What a measuring target computes per period and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// The start events (of the cases the clause applies to).
    Count,
    /// Arithmetic mean of the durations.
    Mean,
    /// The nearest-rank median (the 50th percentile).
    Median,
    /// The nearest-rank percentile, 1 to 100.
    Percentile(u8),
}

impl Statistic {
    /// The words of the statistic as a policy writes them: `count`, `percentile 90`, ...
    pub fn words(self) -> String {
        match self {
            Statistic::Count => "count".to_string(),
            Statistic::Mean => "mean".to_string(),
            Statistic::Median => "median".to_string(),
            Statistic::Percentile(p) => format!("percentile {p}"),
        }
    }
}

/// A measuring target's measure and bound.
#[derive(Debug, Clone, PartialEq)]
pub struct StatMeasure {
    pub statistic: Statistic,
    /// The counted event (every one, in the period of its instant), or the start of each
    /// duration (a case's first such event, which places the duration in its period).
    pub start: Trigger,
    /// The end of each duration (the case's first such event); `None` for a count.
    pub stop: Option<Trigger>,
    /// Durations in working time on this calendar instead of wall-clock time.
    pub calendar: Option<Arc<Calendar>>,
    pub bound: StatBound,
    /// `each channel in ["app", "sms"]`: a count per listed value (module `period::each`).
    pub each: Option<EachValue>,
}

/// `each ATTR in [V, ...]` on a count: each listed value of the counted event's attribute is
/// counted and judged on its own, so that a value with no event in a period is a missed
/// verdict naming it.
#[derive(Debug, Clone, PartialEq)]
pub struct EachValue {
    pub attr: String,
    pub values: Vec<Value>,
}

/// What a measure is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatBound {
    /// `at most 24 hours` (a duration, in milliseconds) or `at least 12` (a count).
    Value { at_least: bool, value: i64 },
    /// `change at most -35% against previous year`: the relative change from the same
    /// period a year earlier, in per-mille.
    Change { at_least: bool, permille: i32 },
}

/// A target clause (SEMANTICS.md, "Targets and recurrence").
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub measure: Measure,
    pub period: PeriodUnit,
    pub group_by: Vec<String>,
    /// `at least` (true) or `at most` (false) this per-mille.
    pub at_least: bool,
    pub bound_permille: u32,
}

/// A recurrence rule: N matching cases sharing attributes within a window produce an action.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub same: Vec<String>,
    pub times: u32,
    /// Inclusive window between the `opened` times of the first and the last case.
    pub within: chrono::Duration,
    pub action: ActionKind,
    pub role: String,
    pub channels: Vec<String>,
    pub message: Option<String>,
}

/// A recurring duty on a subject (an asset, an area, or an open case).
#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    /// The duty event (`patrolled`, `inspected(result == "ok")`, ...).
    pub event: Trigger,
    pub rule: DutyRule,
    /// Optional active interval on the subject's own events (`from opened until resolved`):
    /// gaps are checked only while it runs.
    pub active: Option<(Trigger, Trigger)>,
    /// `during typhoon`: the duty holds only inside the periods of this alert of the policy
    /// (the name of one of [`Policy::alerts`]), see `period::alert`.
    pub during: Option<String>,
}

/// A stream-wide alert (`alert typhoon "台风预警" { when ... from raised until lifted }`):
/// periods opened and lifted by events of the cases it names, during which `during` duties
/// hold. Its periods are not a subject's own: they come from other cases of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub name: String,
    pub title: Option<String>,
    /// Which cases raise the alert (their attributes as merged at the raising event).
    pub applies: Condition,
    /// The event that opens a period and the one that lifts it, on the same case.
    pub from: Trigger,
    pub until: Trigger,
    pub span: Span,
}

/// How often a duty must recur.
#[derive(Debug, Clone, PartialEq)]
pub enum DutyRule {
    /// `every 2 hours`: no gap longer than the limit (wall clock or on a calendar).
    Gap(Limit),
    /// `at least 1 per quarter`: a count per calendar period. With a calendar (`at least 1 per
    /// day on office`, days only), only its working days are owed: "每个工作日".
    Quota {
        count: u32,
        per: PeriodUnit,
        on: Option<Arc<Calendar>>,
    },
    /// `covered from shift_started until shift_ended`: the union of the subject's intervals
    /// from a start (the duty's `event`) to its end event covers every instant of the range,
    /// judged per local day (see `period::cover`).
    Cover { until: Trigger },
    /// `contacted at least 1 per alert`: at least `count` duties inside each period of the
    /// clause's `during` alert (see `period::alert`).
    PerAlert { count: u32 },
}

/// A time-window rule: events of a type must fall inside windows of the day (and week).
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub event: Trigger,
    pub periods: Vec<crate::calendar::Period>,
    /// Weekdays on which the windows apply; empty: every day.
    pub days: Vec<chrono::Weekday>,
    /// Zone in which the windows are read.
    pub zone: Tz,
    /// `only 04-01..05-31`: a window of the year instead of windows of the day (seed 002: air
    /// conditioning checked before summer, shut down before winter). When set, `periods` and
    /// `days` are empty and an event is inside if its local date (in `zone`) lies between the two
    /// days, both inclusive; a window whose end comes before its start runs across the new year
    /// (`11-15..02-15`).
    pub season: Option<(MonthDay, MonthDay)>,
    /// `... each day` / `... each year`: presence is checked too, so that a day (or a year) with
    /// no event at all in one of its windows is a finding and not a silent pass (seed 002's
    /// check before summer, seed 004's three cleanings a day). See `period::presence`.
    pub each: bool,
}

/// A day of the year, `MM-DD`, without a year; `02-29` is allowed (it matches only in leap
/// years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

/// A deadline clause: a clock from a start event to a stop event, with a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    /// Starts the clock; the first matching event of a cycle (default `opened`).
    pub start: Trigger,
    /// Stops the clock; the first matching event at or after the start.
    pub stop: Trigger,
    pub limit: Limit,
    pub pause: Option<Pause>,
    /// Warnings and escalations at points of the clock.
    pub stages: Vec<Stage>,
}

impl Deadline {
    /// True when the clock starts at `opened`, so reopen cycles start at the `reopened` event
    /// itself (SEMANTICS.md, "Reopen").
    pub fn starts_at_opened(&self) -> bool {
        self.start.matchers.len() == 1
            && self.start.matchers[0].event == "opened"
            && self.start.matchers[0].filter.is_none()
    }
}

/// One or more event patterns; the first event matching any of them counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub matchers: Vec<EventMatcher>,
}

impl Trigger {
    pub fn event(name: &str) -> Trigger {
        Trigger {
            matchers: vec![EventMatcher {
                event: name.into(),
                filter: None,
            }],
        }
    }

    pub fn matches<T: TypeName + ?Sized>(&self, event_type: &T, attrs: &Attrs) -> bool {
        self.matchers.iter().any(|m| m.matches(event_type, attrs))
    }

    /// Like [`Trigger::matches`], with the case's attributes as they stand at the end of the
    /// event's instant, for filters that compare with them (`channel == case.preferred_channel`).
    pub fn matches_in<T: TypeName + ?Sized>(
        &self,
        event_type: &T,
        attrs: &Attrs,
        case: &Attrs,
        at: Option<crate::event::Instant>,
    ) -> bool {
        self.matchers
            .iter()
            .any(|m| m.matches_in(event_type, attrs, case, at))
    }

    /// Whether a filter compares with a case attribute: matching then needs the case.
    pub fn compares_case(&self) -> bool {
        let mut refs = Vec::new();
        self.case_attributes(&mut refs);
        !refs.is_empty()
    }

    /// The case attributes the trigger's filters compare with, appended to `out`.
    pub fn case_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        for f in self.matchers.iter().filter_map(|m| m.filter.as_ref()) {
            f.case_attributes(out);
        }
    }
}

/// An event type name as matchers compare it: a `str`, or an event's own [`InlineStr`], which
/// compares fastest.
pub trait TypeName {
    fn is(&self, name: &InlineStr) -> bool;
}

impl TypeName for str {
    fn is(&self, name: &InlineStr) -> bool {
        self == name.as_str()
    }
}

impl TypeName for InlineStr {
    #[inline]
    fn is(&self, name: &InlineStr) -> bool {
        self == name
    }
}

/// An event type, optionally filtered by a condition on the event's own attributes:
/// `revisited(by == "management_dept")`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMatcher {
    /// Inline, so that matching an event's type compares two small arrays.
    pub event: InlineStr,
    pub filter: Option<Condition>,
}

impl EventMatcher {
    pub fn matches<T: TypeName + ?Sized>(&self, event_type: &T, attrs: &Attrs) -> bool {
        event_type.is(&self.event) && self.filter.as_ref().is_none_or(|f| f.eval(attrs))
    }

    /// Like [`EventMatcher::matches`], with the case's attributes for [`Condition::CompareCase`].
    pub fn matches_in<T: TypeName + ?Sized>(
        &self,
        event_type: &T,
        attrs: &Attrs,
        case: &Attrs,
        at: Option<crate::event::Instant>,
    ) -> bool {
        event_type.is(&self.event)
            && self
                .filter
                .as_ref()
                .is_none_or(|f| f.eval_in(attrs, case, at))
    }
}

/// How long a clock may run. Wall-clock limits count every second; the others count on a
/// calendar (SEMANTICS.md, "Limits and calendars").
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// `within 8 hours`: wall-clock time (a day is 24 hours).
    Elapsed(Duration),
    /// `within 4 business hours on office`: working time on the calendar.
    BusinessTime {
        amount: Duration,
        calendar: Arc<Calendar>,
    },
    /// `within 2 workdays on office`: N × the calendar's workday length of working time.
    Workdays { days: u32, calendar: Arc<Calendar> },
    /// `same day on office`: the end of the working day on which the clock started.
    SameDay { calendar: Arc<Calendar> },
    /// `by 08:00 next day` / `by 08:00 next workday on office`: the first such wall-clock time
    /// strictly after the start (on a working date of the calendar for `next workday`).
    NextAt {
        time: NaiveTime,
        workday: bool,
        /// The calendar whose zone (and, for `next workday`, working dates) are used.
        calendar: Arc<Calendar>,
    },
}

/// Pauses the clock while the case's status (set by `status` events) is one of `statuses`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pause {
    pub statuses: Vec<String>,
}

/// A point on a deadline's clock at which something must happen.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub point: StagePoint,
    pub action: ActionKind,
    /// The role to act: `supervisor`, `project_manager`, ...
    pub role: String,
    /// Channels for the action, if the standard names them.
    pub channels: Vec<String>,
    pub message: Option<String>,
    pub span: Span,
}

/// Where a stage sits on the clock.
#[derive(Debug, Clone, PartialEq)]
pub enum StagePoint {
    /// `after 48 hours`: elapsed time on the clause's own clock.
    After(Duration),
    /// `at 80%`: a fraction of the limit, in per-mille to stay exact (800 = 80 %).
    Fraction(u32),
}

/// What a stage asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Warn,
    Escalate,
    Notify,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Warn => "warn",
            ActionKind::Escalate => "escalate",
            ActionKind::Notify => "notify",
        }
    }
}

/// Comparison operators of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition over attributes (of a case, or of one event for event filters).
///
/// A condition on an attribute that is absent is false, whatever the operator: `false` and
/// absent are different (SEMANTICS.md, "Applicability"). Nesting depth is bounded by the parser
/// (see `crate::limits`), so evaluation recursion is bounded too.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No `when` line: every case.
    Always,
    /// `attr == value`, `attr < 3`, ... Ordering operators hold only between two numbers.
    Compare {
        attr: String,
        op: CmpOp,
        value: Value,
    },
    /// `attr in ["a", "b"]`; for a list-valued attribute, any element in the set.
    In {
        attr: String,
        values: Vec<Value>,
    },
    /// `has attr`: the attribute is present (any value, even `null` or `false`).
    Has(String),
    /// A bare `attr`: the attribute is `true`.
    Truthy(String),
    /// `channel == case.preferred_channel`, only in an event filter: the event's attribute
    /// compared with the case's, as the case stands at the end of the event's instant. False
    /// when either is absent. Evaluated without the case (`eval`), it is false.
    CompareCase {
        attr: String,
        op: CmpOp,
        case_attr: String,
    },
    /// `by in staff(document == "health_certificate")`, only in an event filter: the register
    /// has a row whose `key` is the event's attribute, valid on the event's date, whose columns
    /// satisfy the filter (see [`crate::register`]). False when the attribute is absent.
    InRegister {
        attr: String,
        register: Arc<crate::register::Register>,
        filter: Option<Box<Condition>>,
        /// `for 15 days`: one row valid on each of that many dates from the event's (0: the
        /// event's date alone).
        days: u32,
    },
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    /// Evaluates on `attrs` alone: a comparison with a case attribute is false.
    pub fn eval(&self, attrs: &Attrs) -> bool {
        self.eval_in(attrs, &Attrs::new(), None)
    }

    /// Evaluates on an event's `attrs`, with `case` for comparisons with case attributes and
    /// the event's instant `at` for registers' validity dates.
    pub fn eval_in(&self, attrs: &Attrs, case: &Attrs, at: Option<crate::event::Instant>) -> bool {
        match self {
            Condition::Always => true,
            Condition::Compare { attr, op, value } => match attrs.get(attr) {
                None => false,
                Some(actual) => compare(actual, *op, value),
            },
            Condition::In { attr, values } => match attrs.get(attr) {
                None => false,
                Some(Value::List(items)) => {
                    items.iter().any(|i| values.iter().any(|v| i.same_as(v)))
                }
                Some(actual) => values.iter().any(|v| actual.same_as(v)),
            },
            Condition::Has(attr) => attrs.get(attr).is_some(),
            Condition::Truthy(attr) => matches!(attrs.get(attr), Some(Value::Bool(true))),
            Condition::CompareCase {
                attr,
                op,
                case_attr,
            } => match (attrs.get(attr), case_attr_value(attrs, case, case_attr)) {
                (Some(actual), Some(expected)) => compare(actual, *op, expected),
                _ => false,
            },
            Condition::InRegister {
                attr,
                register,
                filter,
                days,
            } => attrs
                .get(attr)
                .is_some_and(|key| register.holds(key, at, filter.as_deref(), *days)),
            Condition::Not(inner) => !inner.eval_in(attrs, case, at),
            Condition::And(parts) => parts.iter().all(|p| p.eval_in(attrs, case, at)),
            Condition::Or(parts) => parts.iter().any(|p| p.eval_in(attrs, case, at)),
        }
    }

    /// The case attributes the condition compares with (`case.NAME`), appended to `out`.
    pub fn case_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::CompareCase { case_attr, .. } => out.push(case_attr),
            Condition::Not(inner) => inner.case_attributes(out),
            Condition::And(parts) | Condition::Or(parts) => {
                for p in parts {
                    p.case_attributes(out);
                }
            }
            _ => {}
        }
    }
}

/// The key under which an event kept for later reading carries the value case attribute
/// `name` had at the end of its instant: `case.NAME`. An event's own attribute names never hold
/// a dot in the vocabulary, so the key cannot shadow one.
pub fn case_snapshot_key(name: &str) -> String {
    format!("case.{name}")
}

/// The case's value of `name` for a comparison on an event: the snapshot the event carries
/// (see [`case_snapshot_key`]) when it was kept for later reading, else the case's.
fn case_attr_value<'a>(attrs: &'a Attrs, case: &'a Attrs, name: &str) -> Option<&'a Value> {
    attrs
        .get(&case_snapshot_key(name))
        .or_else(|| case.get(name))
}

impl Condition {
    /// Strings that attribute `attr` must be among for the condition to hold, when the
    /// condition says so (`attr == "x"`, `attr in ["x", "y"]`, either inside an `and`, or every
    /// branch of an `or`): then the condition is false unless the attribute is one of them or
    /// a list (`in` also matches a list holding one of them). `None`: no such requirement.
    ///
    /// The attributes the condition reads, appended to `out`.
    pub fn attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::Always => {}
            Condition::Compare { attr, .. }
            | Condition::In { attr, .. }
            | Condition::Has(attr)
            | Condition::Truthy(attr)
            | Condition::CompareCase { attr, .. }
            | Condition::InRegister { attr, .. } => out.push(attr),
            Condition::Not(inner) => inner.attributes(out),
            Condition::And(parts) | Condition::Or(parts) => {
                for p in parts {
                    p.attributes(out);
                }
            }
        }
    }

    /// Lets evaluation rule out, with one comparison, the many clauses written for another
    /// `kind` of case.
    pub fn required_strings(&self, attr: &str) -> Option<Vec<&str>> {
        match self {
            Condition::Compare {
                attr: a,
                op: CmpOp::Eq,
                value: Value::String(s),
            } if a == attr => Some(vec![&**s]),
            Condition::In { attr: a, values } if a == attr => {
                values.iter().map(Value::as_str).collect()
            }
            Condition::And(parts) => parts.iter().find_map(|p| p.required_strings(attr)),
            Condition::Or(parts) if !parts.is_empty() => {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(p.required_strings(attr)?);
                }
                Some(all)
            }
            _ => None,
        }
    }
}

fn compare(actual: &Value, op: CmpOp, expected: &Value) -> bool {
    match op {
        CmpOp::Eq => actual.same_as(expected),
        CmpOp::Ne => !actual.same_as(expected),
        _ => match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => match op {
                CmpOp::Lt => a < b,
                CmpOp::Le => a <= b,
                CmpOp::Gt => a > b,
                CmpOp::Ge => a >= b,
                CmpOp::Eq | CmpOp::Ne => unreachable!("handled above"),
            },
            _ => false,
        },
    }
}

/// A record clause: what a case's own history must show (complete records, the order of its
/// steps, counts and distinct actors, warranty windows). Each item is judged on its own; see
/// `eval::record` for when.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The items, in the clause's order (findings name the item by its index and text).
    pub items: Vec<RecordItem>,
}

/// One line of a record clause.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordItem {
    /// `opened has location, contact`: every matching event carries each attribute (present,
    /// not `null`, not an empty string).
    Fields { event: Trigger, attrs: Vec<String> },
    /// `revisited has method in ["visit", "phone"]`: every matching event carries the attribute
    /// with one of these values (a list-valued attribute: every element). Any trigger:
    /// `updated(by == "department_manager") has valid in [true, false]`.
    Value {
        event: Trigger,
        attr: String,
        values: Vec<Value>,
    },
    /// `steps opened, dispatched, resolved`: each step happens, first occurrences in this order.
    Steps(Vec<Trigger>),
    /// `progress only after reviewed`: every matching event has an `after` event at or before it.
    OnlyAfter { event: Trigger, after: Trigger },
    /// `revisited at least 3 after mediated`, `confirmed at least 2 distinct by`.
    AtLeast {
        event: Trigger,
        count: u32,
        /// Count distinct `by` values instead of events.
        distinct_by: bool,
        /// Count only events at or after the first of these (none: no requirement).
        after: Option<Trigger>,
    },
    /// `no reopened within 90 days after resolved`: an event in the window after a fix.
    Warranty {
        event: Trigger,
        within: Duration,
        after: Trigger,
    },
    /// `cleaned at most 15 minutes apart`: consecutive matching events of the case, in time
    /// order, are at most `apart` from each other (a round's stops along its route).
    Gap { event: Trigger, apart: Duration },
    /// `rated(satisfied == false) followed by reopened within 7 days`: every `event` has a later
    /// `then` (within `within` of it when given). See `eval::record` for the edges.
    FollowedBy {
        event: Trigger,
        then: Trigger,
        within: Option<Duration>,
    },
    /// `inspected(target == "drainage") before expected_at`: an `event` at or before the instant
    /// held in the case attribute `attr` (a timestamp).
    Before { event: Trigger, attr: String },
}

impl Record {
    /// Every event pattern the items read (an attribute item reads its event type), so a
    /// streaming evaluator knows which events of a case to keep.
    pub fn triggers(&self) -> Vec<std::borrow::Cow<'_, Trigger>> {
        use std::borrow::Cow;
        let mut out = Vec::new();
        for item in &self.items {
            match item {
                RecordItem::Fields { event, .. } => out.push(Cow::Borrowed(event)),
                RecordItem::Value { event, .. } => out.push(Cow::Borrowed(event)),
                RecordItem::Steps(steps) => out.extend(steps.iter().map(Cow::Borrowed)),
                RecordItem::OnlyAfter { event, after }
                | RecordItem::Warranty { event, after, .. } => {
                    out.push(Cow::Borrowed(event));
                    out.push(Cow::Borrowed(after));
                }
                RecordItem::AtLeast { event, after, .. } => {
                    out.push(Cow::Borrowed(event));
                    out.extend(after.iter().map(Cow::Borrowed));
                }
                RecordItem::Gap { event, .. } => out.push(Cow::Borrowed(event)),
                RecordItem::FollowedBy { event, then, .. } => {
                    out.push(Cow::Borrowed(event));
                    out.push(Cow::Borrowed(then));
                }
                RecordItem::Before { event, .. } => out.push(Cow::Borrowed(event)),
            }
        }
        out
    }
}
