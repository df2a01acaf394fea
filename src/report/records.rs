//! The machine-readable shape of every record, shared by `--format json` and `--format jsonl`.
//!
//! Each record is an object whose `record` field says what it is: `verdict`, `action`,
//! `finding`, `rejected`, `unopened` or `summary`. Instants are RFC 3339 with the offset of the
//! zone the clause counts in; durations are seconds (`*_seconds`), whole when whole and exact
//! decimals otherwise (`0.5`), so tools need not parse prose and sub-second lateness is never
//! `0`. The README documents every field; changing one is a breaking change.

use crate::eval::{rfc3339, Action, ClauseSummary, Finding, Rejected, Summary, Unopened, Verdict};
use crate::input::ReadStats;
use chrono::Duration;
use chrono_tz::Tz;
use serde::Serialize;

/// A duration written as an exact JSON number of seconds (see
/// [`crate::eval::verdict::decimal_seconds`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub Duration);

impl Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = crate::eval::verdict::decimal_seconds(self.0);
        match serde_json::value::RawValue::from_string(text) {
            Ok(raw) => raw.serialize(s),
            Err(_) => s.serialize_i64(self.0.num_seconds()),
        }
    }
}

fn seconds(d: Duration) -> Seconds {
    Seconds(d)
}

#[derive(Serialize)]
pub struct VerdictRecord<'a> {
    record: &'static str,
    ticket: &'a str,
    policy: &'a str,
    clause: &'a str,
    cycle: u32,
    status: &'static str,
    start: String,
    due: String,
    stop: Option<String>,
    paused: bool,
    paused_seconds: Seconds,
    overdue_seconds: Option<Seconds>,
    left_seconds: Option<Seconds>,
}

impl<'a> VerdictRecord<'a> {
    pub fn new(v: &'a Verdict) -> Self {
        VerdictRecord {
            record: "verdict",
            ticket: &v.ticket,
            policy: &v.policy,
            clause: &v.clause,
            cycle: v.cycle,
            status: v.status.as_str(),
            start: rfc3339(v.start, v.zone),
            due: rfc3339(v.due, v.zone),
            stop: v.stop.map(|s| rfc3339(s, v.zone)),
            paused: v.paused,
            paused_seconds: seconds(v.paused_time),
            overdue_seconds: v.overdue_by.map(seconds),
            left_seconds: v.time_left.map(seconds),
        }
    }
}

#[derive(Serialize)]
pub struct ActionRecord<'a> {
    record: &'static str,
    ticket: &'a str,
    policy: &'a str,
    clause: &'a str,
    cycle: u32,
    stage: usize,
    action: &'static str,
    role: &'a str,
    channels: Vec<&'a str>,
    message: Option<&'a str>,
    at: String,
    status: &'static str,
    evidence: Option<String>,
}

impl<'a> ActionRecord<'a> {
    pub fn new(a: &'a Action) -> Self {
        ActionRecord {
            record: "action",
            ticket: &a.ticket,
            policy: &a.policy,
            clause: &a.clause,
            cycle: a.cycle,
            stage: a.stage,
            action: a.kind.as_str(),
            role: &a.role,
            channels: a.channels.iter().map(|c| &**c).collect(),
            message: a.message.as_deref(),
            at: rfc3339(a.at, a.zone),
            status: a.status.as_str(),
            evidence: a.evidence.map(|e| rfc3339(e, a.zone)),
        }
    }
}

#[derive(Serialize)]
pub struct FindingRecord<'a> {
    record: &'static str,
    ticket: &'a str,
    policy: &'a str,
    clause: &'a str,
    code: &'static str,
    at: String,
    message: &'a str,
}

impl<'a> FindingRecord<'a> {
    pub fn new(f: &'a Finding) -> Self {
        FindingRecord {
            record: "finding",
            ticket: &f.ticket,
            policy: &f.policy,
            clause: &f.clause,
            code: f.code,
            at: rfc3339(f.at, f.zone),
            message: &f.message,
        }
    }
}

#[derive(Serialize)]
pub struct RejectedRecord<'a> {
    record: &'static str,
    line: u64,
    reason: &'a str,
    text: &'a str,
}

impl<'a> RejectedRecord<'a> {
    pub fn new(r: &'a Rejected) -> Self {
        RejectedRecord {
            record: "rejected",
            line: r.line,
            reason: &r.reason,
            text: &r.text,
        }
    }
}

#[derive(Serialize)]
pub struct UnopenedRecord<'a> {
    record: &'static str,
    ticket: &'a str,
    events: u64,
    first_line: u64,
}

impl<'a> UnopenedRecord<'a> {
    pub fn new(u: &'a Unopened) -> Self {
        UnopenedRecord {
            record: "unopened",
            ticket: &u.ticket,
            events: u.events,
            first_line: u.first_line,
        }
    }
}

#[derive(Serialize)]
pub struct ClauseCounts<'a> {
    policy: &'a str,
    clause: &'a str,
    kind: &'static str,
    title: Option<&'a str>,
    cite: Option<&'a str>,
    verdicts: u64,
    met: u64,
    breached: u64,
    pending: u64,
    /// Met among decided verdicts (met + breached), in percent with one decimal; `null` when
    /// nothing is decided yet.
    compliance_percent: Option<f64>,
    actions_due: u64,
    actions_done: u64,
    actions_missed: u64,
    findings: u64,
}

/// Met among met and breached (for duties and windows: met checks among all checks), in
/// percent rounded to one decimal.
pub fn compliance_percent(c: &ClauseSummary) -> Option<f64> {
    let (met, decided) = c.decided();
    percent_rounded_down(met, decided)
}

/// `met` of `decided` in percent, rounded down to one decimal from exact integers (2 of 3 is
/// 66.6), as the period report and the HTML page round: a summary never shows a clause at a
/// threshold it has not reached (1,799 of 2,000 is 89.9, not 90.0). `None` when nothing was
/// decided.
pub fn percent_rounded_down(met: u64, decided: u64) -> Option<f64> {
    (decided > 0).then(|| (u128::from(met) * 1000 / u128::from(decided)) as f64 / 10.0)
}

impl<'a> ClauseCounts<'a> {
    fn new(c: &'a ClauseSummary) -> Self {
        ClauseCounts {
            policy: &c.policy,
            clause: &c.clause,
            kind: c.kind,
            title: c.title.as_deref(),
            cite: c.cite.as_deref(),
            verdicts: c.verdicts(),
            met: c.met,
            breached: c.breached,
            pending: c.pending,
            compliance_percent: compliance_percent(c),
            actions_due: c.actions_due,
            actions_done: c.actions_done,
            actions_missed: c.actions_missed,
            findings: c.findings,
        }
    }
}

#[derive(Serialize)]
pub struct SummaryRecord<'a> {
    record: &'static str,
    now: Option<String>,
    lines: u64,
    events: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    late: u64,
    /// Events that arrived after their case was settled (`--retain` after `closed`).
    expired: u64,
    after_now: u64,
    /// Events of other partitions' tickets (`--partition`; absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    elsewhere: Option<u64>,
    cases: u64,
    unopened: u64,
    breached: u64,
    actions_missed: u64,
    findings: u64,
    /// Calendar years outside the holiday data of a calendar that verdicts used.
    uncovered: Vec<UncoveredYear<'a>>,
    clauses: Vec<ClauseCounts<'a>>,
    /// The breakdown per group of `--group-by` (absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct UncoveredYear<'a> {
    calendar: &'a str,
    year: i32,
}

impl<'a> SummaryRecord<'a> {
    /// `zone` is the zone `now` is shown in (the first policy's).
    pub fn new(s: &'a Summary, read: &ReadStats, zone: Tz) -> Self {
        SummaryRecord {
            record: "summary",
            now: s.now.map(|n| rfc3339(n, zone)),
            lines: read.lines,
            events: s.events,
            accepted: s.accepted,
            rejected: s.rejected,
            duplicates: s.duplicates,
            late: s.late,
            expired: s.expired,
            after_now: s.after_now,
            elsewhere: (s.elsewhere > 0).then_some(s.elsewhere),
            cases: s.cases,
            unopened: s.unopened,
            breached: s.breached(),
            actions_missed: s.actions_missed(),
            findings: s.findings(),
            uncovered: s
                .uncovered
                .iter()
                .map(|(calendar, year)| UncoveredYear {
                    calendar,
                    year: *year,
                })
                .collect(),
            clauses: s.clauses.iter().map(ClauseCounts::new).collect(),
            groups: None,
        }
    }
}

/// A period record of `pledge check` as JSON: `sample` (a sampling verdict), `target` (a target
/// verdict) or `repeat` (a recurrence action). Draws and per-period counts belong to
/// `pledge sample` and `pledge report`, and give `None`.
pub fn period_json(record: &crate::period::PeriodRecord) -> Option<serde_json::Value> {
    use crate::period::PeriodRecord;
    use serde_json::json;
    match record {
        PeriodRecord::Sample(s) => Some(json!({
            "record": "sample",
            "policy": &*s.policy,
            "clause": &*s.clause,
            "period": s.period.label(),
            "group": s.group.to_json(),
            "role": &*s.role,
            "population": s.population,
            "required": s.required,
            "done": s.done,
            "status": s.status.as_str(),
            "missing": s.missing,
        })),
        PeriodRecord::Target(t) => Some(json!({
            "record": "target",
            "policy": &*t.policy,
            "clause": &*t.clause,
            "period": t.period.label(),
            "group": t.group.to_json(),
            "hits": t.hits,
            "total": t.total,
            "ratio_percent": t.ratio_permille().filter(|_| t.measure.is_none()).map(|p| p as f64 / 10.0),
            "bound": if t.at_least { "at least" } else { "at most" },
            "bound_percent": (t.measure.is_none()).then(|| f64::from(t.bound_permille) / 10.0),
            "status": t.status.as_str(),
        }))
        .map(|mut o| {
            if let Some(map) = o.as_object_mut() {
                let m = t.measure.as_ref().map_or(serde_json::Value::Null, measure_json);
                map.insert("measure".into(), m);
                let ob = t
                    .obligation
                    .as_ref()
                    .map_or(serde_json::Value::Null, |ob| obligation_json(ob, t.zone));
                map.insert("obligation".into(), ob);
            }
            o
        }),
        PeriodRecord::Repeat(r) => Some(json!({
            "record": "repeat",
            "policy": &*r.policy,
            "clause": &*r.clause,
            "ticket": &*r.ticket,
            "at": rfc3339(r.at, r.zone),
            "key": r.key.to_json(),
            "cases": r.cases.iter().map(|(t, at)| json!({"ticket": &**t, "opened": rfc3339(*at, r.zone)})).collect::<Vec<_>>(),
            "action": r.kind.as_str(),
            "role": &*r.role,
            "channels": r.channels.iter().map(|c| &**c).collect::<Vec<_>>(),
            "message": r.message.as_deref(),
        })),
        PeriodRecord::Draw(_) | PeriodRecord::Compliance(_) => None,
    }
}

/// An obligation clause's outcome as JSON: the target it follows, the required event, the
/// window (`within_seconds` after the period's end), the due instant, the status (`met`,
/// `missed`, `pending`) and, when missed, its code `target.obligation_missed`.
pub fn obligation_json(
    o: &crate::period::ObligationOutcome,
    zone: chrono_tz::Tz,
) -> serde_json::Value {
    serde_json::json!({
        "target": &*o.target,
        "event": &*o.event,
        "within_seconds": o.within.num_milliseconds() as f64 / 1000.0,
        "due": rfc3339(o.due, zone),
        "status": o.status.as_str(),
        "code": o.code(),
    })
}

/// A measuring target's measure as JSON: the statistic, the value (a count, or milliseconds
/// with the seconds beside them), the cases measured and running, the bound, and for a
/// change bound the value a year earlier and the change in per-mille.
pub fn measure_json(m: &crate::period::MeasureOutcome) -> serde_json::Value {
    use crate::policy::StatBound;
    use serde_json::json;
    let unit = if m.is_duration() { "ms" } else { "count" };
    let bound = match m.bound {
        StatBound::Value { at_least, value } => json!({
            "kind": if at_least { "at least" } else { "at most" },
            "value": value,
        }),
        StatBound::Change { at_least, permille } => json!({
            "kind": if at_least { "change at least" } else { "change at most" },
            "change_permille": permille,
            "against": "previous year",
        }),
    };
    json!({
        "statistic": m.statistic.words(),
        "unit": unit,
        "value": m.value,
        "measured": m.measured,
        "running": m.running,
        "bound": bound,
        "previous": m.previous,
        "change_permille": m.change_permille,
        "text": m.text(),
    })
}

/// Whether a period record needs attention: a short sample, a missed target, a repeat action.
pub fn period_is_problem(record: &crate::period::PeriodRecord) -> bool {
    use crate::period::{PeriodRecord, SampleStatus, TargetStatus};
    match record {
        PeriodRecord::Sample(s) => s.status == SampleStatus::Short,
        PeriodRecord::Target(t) => t.status == TargetStatus::Missed,
        PeriodRecord::Repeat(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::percent_rounded_down;

    #[test]
    fn compliance_is_rounded_down_so_it_never_reaches_a_threshold_it_missed() {
        assert_eq!(percent_rounded_down(1_799, 2_000), Some(89.9));
        assert_eq!(percent_rounded_down(1_999, 2_000), Some(99.9));
        assert_eq!(percent_rounded_down(2, 3), Some(66.6));
        assert_eq!(percent_rounded_down(1, 3), Some(33.3));
        assert_eq!(percent_rounded_down(3, 3), Some(100.0));
        assert_eq!(percent_rounded_down(0, 7), Some(0.0));
        assert_eq!(percent_rounded_down(0, 0), None);
        assert_eq!(percent_rounded_down(u64::MAX, u64::MAX), Some(100.0));
    }
}
