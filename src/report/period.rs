//! The period report: per period and group, per clause, how the standards were kept: deadline
//! compliance, sampling status, targets, duty and window findings, repeat actions. Rendered as
//! a human table, JSON, or CSV for spreadsheets.
//!
//! The report is built from the evaluator's [`PeriodRecord`]s, asked for with
//! [`crate::period::PeriodTally::report_by`]: deadline verdicts and duty/window findings are grouped by
//! the report's unit and `group by` attributes; sampling and target clauses keep their own
//! periods and groups (a monthly sampling row stays monthly in a weekly report); repeat actions
//! are counted per report period of their instant. A `--period` filter keeps the rows whose
//! period shares a date with it.
//!
//! Percentages are rounded down to one decimal from exact integers: 2 of 3 is `66.6%`.

use crate::engine::PeriodSink;
use crate::engine::{EvalOptions, Evaluator};
use crate::eval::{rfc3339, ClauseRef, Summary};
use crate::event::Instant;
use crate::input::{ReadOptions, ReadStats};
use crate::period::calendar_period::CalendarPeriod;
use crate::period::group::Group;
use crate::period::records::PeriodRecord;
use crate::period::tally::{DrawSpec, ReportSpec};
use crate::policy::{ClauseBody, PeriodUnit, Policy};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

/// Reads `input` once through a streaming evaluator set up for a period report and/or a draw,
/// and returns the summary, the reader's counts and the period records. JSON Lines are parsed
/// on `threads` threads beside the evaluator (0: on the calling thread).
pub fn evaluate_periods<R: Read + Send>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    report: Option<ReportSpec>,
    draw: Option<DrawSpec>,
    threads: usize,
) -> std::io::Result<(Summary, ReadStats, PeriodSink)> {
    let mut evaluator = Evaluator::new(policies, eval_opts, PeriodSink::default());
    if let Some(r) = report {
        evaluator.periods_mut().report_by(r);
    }
    if let Some(d) = draw {
        evaluator.periods_mut().draw_for(d);
    }
    crate::check::feed(evaluator, input, read_opts, threads, |_| {})
}

/// The period records and summary one evaluator over the whole stream gives, from the
/// evaluator states of the partitions of a split (see [`Evaluator::merge`]), with the report
/// those states were tallying (`pledge serve --period --group-by`).
pub fn merged_periods(
    policies: &[Policy],
    states: &[(String, Vec<u8>)],
) -> Result<(Option<ReportSpec>, Summary, PeriodSink), crate::engine::MergeError> {
    let mut evaluator = Evaluator::merge(policies, PeriodSink::default(), states)?;
    let spec = evaluator.periods_mut().report_spec().cloned();
    let (summary, sink) = evaluator.finish();
    Ok((spec, summary, sink))
}

/// One row of the report: one clause in one period and group.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub period: CalendarPeriod,
    pub group: Group,
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub kind: &'static str,
    /// `met`, `breached`, `short`, `missed`, `no_verdict`, `empty`, `ok`, `findings`, `fired`,
    /// `none`.
    pub status: &'static str,
    /// Deadline verdicts.
    pub met: u64,
    pub breached: u64,
    pub pending: u64,
    /// Sampling.
    pub population: u64,
    pub required: u64,
    pub done: u64,
    pub missing: u64,
    /// Targets: hits among total, against the bound (per-mille).
    pub hits: u64,
    pub total: u64,
    pub bound: Option<(bool, u32)>,
    /// A measuring target's measure (then `hits` are the cases measured and `bound` is
    /// `None`).
    pub measure: Option<crate::period::records::MeasureOutcome>,
    /// An obligation clause's outcome, with the zone its due instant is shown in (then `hits`,
    /// `total` and `bound` are those of the target it follows).
    pub obligation: Option<(crate::period::records::ObligationOutcome, Tz)>,
    /// Duty and window findings, or repeat actions.
    pub findings: u64,
}

impl ReportRow {
    fn new(
        period: CalendarPeriod,
        group: Group,
        policy: Arc<str>,
        clause: Arc<str>,
        clause_ref: ClauseRef,
        kind: &'static str,
    ) -> ReportRow {
        ReportRow {
            period,
            group,
            policy,
            clause,
            clause_ref,
            kind,
            status: "none",
            met: 0,
            breached: 0,
            pending: 0,
            population: 0,
            required: 0,
            done: 0,
            missing: 0,
            hits: 0,
            total: 0,
            bound: None,
            measure: None,
            obligation: None,
            findings: 0,
        }
    }

    /// [`Self::ratio_permille`] as a percentage, `66.6%`; a target's just over an `at most`
    /// bound with a second decimal (see [`crate::period::target_ratio_text`]).
    pub fn ratio_text(&self) -> Option<String> {
        if let ("target", None, Some((at_least, bound))) = (self.kind, &self.measure, self.bound) {
            return crate::period::target_ratio_text(self.hits, self.total, at_least, bound)
                .map(|r| format!("{r}%"));
        }
        self.ratio_permille().map(percent)
    }

    /// Met among decided deadline verdicts, or hits among total for targets, in per-mille
    /// rounded down.
    pub fn ratio_permille(&self) -> Option<u64> {
        let (num, den) = match self.kind {
            "deadline" => (self.met, self.met + self.breached),
            "target" if self.measure.is_some() => return None,
            "target" => (self.hits, self.total),
            "every" | "window" => (self.met, self.checked()),
            _ => return None,
        };
        (den > 0).then(|| num.saturating_mul(1000) / den)
    }

    /// Duties and windows: the checks judged in the row (gaps, quota periods, events), met or
    /// not; every one not met is a finding.
    pub fn checked(&self) -> u64 {
        self.met + self.findings
    }

    /// One phrase for a person: `9 of 10 met (90.0%), 1 pending`, `42 checked, 40 met (95.2%)`,
    /// `nothing checked`, ...
    pub fn detail(&self) -> String {
        match self.kind {
            "deadline" => {
                let decided = self.met + self.breached;
                let mut s = match self.ratio_permille() {
                    Some(r) => format!("{} of {decided} met ({})", self.met, percent(r)),
                    None => "no decided verdict".to_string(),
                };
                if self.pending > 0 {
                    s.push_str(&format!(", {} pending", self.pending));
                }
                s
            }
            "sample" => match self.status {
                "empty" => "no population".to_string(),
                _ => {
                    let mut s = format!(
                        "{} of {} required checked, population {}",
                        self.done, self.required, self.population
                    );
                    if self.missing > 0 {
                        s.push_str(&format!(", {} missing", self.missing));
                    }
                    s
                }
            },
            "target" if self.obligation.is_some() => {
                let (o, zone) = self.obligation.as_ref().expect("matched");
                let target = ReportRow {
                    obligation: None,
                    ..self.clone()
                };
                format!("{}, {}", o.text(*zone), target.detail())
            }
            "target" if self.measure.is_some() => {
                self.measure.as_ref().map(|m| m.text()).unwrap_or_default()
            }
            "target" => {
                let bound = self.bound.map_or(String::new(), |(at_least, b)| {
                    format!(
                        ", {} {}",
                        if at_least { "at least" } else { "at most" },
                        percent(u64::from(b))
                    )
                });
                let ratio = self.bound.and_then(|(at_least, b)| {
                    crate::period::target_ratio_text(self.hits, self.total, at_least, b)
                });
                match (ratio, self.ratio_permille()) {
                    (Some(r), _) => format!("{} of {} ({r}%){bound}", self.hits, self.total),
                    (None, Some(r)) => {
                        format!("{} of {} ({}){bound}", self.hits, self.total, percent(r))
                    }
                    (None, None) => format!("no cases{bound}"),
                }
            }
            "repeat" => format!("{} actions", self.findings),
            "every" | "window" => match self.ratio_permille() {
                Some(r) => format!(
                    "{} checked, {} met ({}), {}",
                    self.checked(),
                    self.met,
                    percent(r),
                    findings_text(self.findings)
                ),
                None => "nothing checked".to_string(),
            },
            _ => findings_text(self.findings),
        }
    }
}

/// `no findings`, `1 finding`, `3 findings`.
fn findings_text(n: u64) -> String {
    match n {
        0 => "no findings".to_string(),
        1 => "1 finding".to_string(),
        n => format!("{n} findings"),
    }
}

/// `900` → `90.0%`.
pub fn percent(permille: u64) -> String {
    format!("{}.{}%", permille / 10, permille % 10)
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodReport {
    pub unit: PeriodUnit,
    pub filter: Option<CalendarPeriod>,
    pub now: Option<Instant>,
    pub zone: Tz,
    /// Ordered by period start, period unit, group, then clause.
    pub rows: Vec<ReportRow>,
}

impl PeriodReport {
    /// Builds the report from the period records of an evaluation with `report_by(unit, ..)`.
    pub fn build(
        policies: &[Policy],
        records: &[PeriodRecord],
        unit: PeriodUnit,
        filter: Option<CalendarPeriod>,
        now: Option<Instant>,
    ) -> PeriodReport {
        let zone = policies
            .first()
            .map_or(crate::calendar::DEFAULT_ZONE, |p| p.zone);
        let mut rows = Vec::new();
        // Deadline, duty and window counts, completed with zero rows for every duty and window
        // clause in every (period, group) the report has.
        let mut counted: BTreeMap<(ClauseRef, CalendarPeriod, Group), ReportRow> = BTreeMap::new();
        let mut cells: BTreeSet<(CalendarPeriod, Group)> = BTreeSet::new();
        let mut repeats: BTreeMap<(ClauseRef, CalendarPeriod), ReportRow> = BTreeMap::new();
        for r in records {
            match r {
                PeriodRecord::Compliance(c) => {
                    cells.insert((c.period, c.group.clone()));
                    let mut row = ReportRow::new(
                        c.period,
                        c.group.clone(),
                        c.policy.clone(),
                        c.clause.clone(),
                        c.clause_ref,
                        c.kind,
                    );
                    row.met = c.met;
                    row.breached = c.breached;
                    row.pending = c.pending;
                    row.findings = c.findings;
                    counted.insert((c.clause_ref, c.period, c.group.clone()), row);
                }
                PeriodRecord::Sample(s) => {
                    let mut row = ReportRow::new(
                        s.period,
                        s.group.clone(),
                        s.policy.clone(),
                        s.clause.clone(),
                        s.clause_ref,
                        "sample",
                    );
                    row.status = s.status.as_str();
                    row.population = s.population;
                    row.required = s.required;
                    row.done = s.done;
                    row.missing = s.missing;
                    rows.push(row);
                }
                PeriodRecord::Target(t) => {
                    let mut row = ReportRow::new(
                        t.period,
                        t.group.clone(),
                        t.policy.clone(),
                        t.clause.clone(),
                        t.clause_ref,
                        "target",
                    );
                    row.status = t.status.as_str();
                    row.hits = t.hits;
                    row.total = t.total;
                    row.bound = Some((t.at_least, t.bound_permille));
                    if t.measure.is_some() {
                        row.bound = None;
                        row.measure = t.measure.clone();
                    }
                    if let Some(o) = &t.obligation {
                        if o.status == crate::period::ObligationStatus::Pending {
                            row.status = "pending";
                        }
                        row.obligation = Some((o.clone(), t.zone));
                    }
                    rows.push(row);
                }
                PeriodRecord::Repeat(a) => {
                    let Some(period) = CalendarPeriod::containing(unit, a.zone, a.at) else {
                        continue;
                    };
                    let row = repeats.entry((a.clause_ref, period)).or_insert_with(|| {
                        let mut row = ReportRow::new(
                            period,
                            Group::all(),
                            a.policy.clone(),
                            a.clause.clone(),
                            a.clause_ref,
                            "repeat",
                        );
                        row.status = "fired";
                        row
                    });
                    row.findings += 1;
                }
                PeriodRecord::Draw(_) => {}
            }
        }
        for (pi, policy) in policies.iter().enumerate() {
            let name: Arc<str> = policy.name.as_str().into();
            for (ci, clause) in policy.clauses.iter().enumerate() {
                let kind = clause.body.keyword();
                // Deadline rows exist where there were verdicts; a notification, duty or window
                // clause without findings is worth a row saying so.
                if !matches!(
                    clause.body,
                    ClauseBody::Notify(_)
                        | ClauseBody::Every(_)
                        | ClauseBody::Window(_)
                        | ClauseBody::Record(_)
                ) {
                    continue;
                }
                let clause_ref = ClauseRef {
                    policy: pi,
                    clause: ci,
                };
                for (period, group) in &cells {
                    counted
                        .entry((clause_ref, *period, group.clone()))
                        .or_insert_with(|| {
                            ReportRow::new(
                                *period,
                                group.clone(),
                                name.clone(),
                                clause.name.as_str().into(),
                                clause_ref,
                                kind,
                            )
                        });
                }
            }
        }
        for mut row in counted.into_values() {
            row.status = match row.kind {
                "deadline" if row.breached > 0 => "breached",
                "deadline" if row.met > 0 => "met",
                "deadline" if row.pending > 0 => "pending",
                "deadline" => "none",
                _ if row.findings > 0 => "findings",
                // A duty or window that judged nothing in the row: no subject, or none decided.
                "every" | "window" if row.met == 0 => "none",
                _ => "ok",
            };
            rows.push(row);
        }
        rows.extend(repeats.into_values());
        if let Some(f) = filter {
            rows.retain(|r| r.period.overlaps(&f));
        }
        rows.sort_by(|a, b| {
            (a.period.first_date(), a.period.unit, &a.group, a.clause_ref).cmp(&(
                b.period.first_date(),
                b.period.unit,
                &b.group,
                b.clause_ref,
            ))
        });
        PeriodReport {
            unit,
            filter,
            now,
            zone,
            rows,
        }
    }

    /// Whether any row shows a problem: a breached deadline, a short sample, a missed target, a
    /// finding or a repeat action.
    pub fn has_problems(&self) -> bool {
        self.rows.iter().any(|r| {
            matches!(
                r.status,
                "breached" | "short" | "missed" | "findings" | "fired"
            )
        })
    }

    /// A table per period and group, for people.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("period report by {}", self.unit.as_str()));
        if let Some(f) = self.filter {
            out.push_str(&format!(", {}", f.label()));
        }
        if let Some(now) = self.now {
            out.push_str(&format!(", as of {}", rfc3339(now, self.zone)));
        }
        out.push('\n');
        if self.rows.is_empty() {
            out.push_str("\nno period rows\n");
            return out;
        }
        // A clause name two policies share (`hotline_24h` of the desk and of the repairs) is
        // written with its policy, else the two rows are told apart by nothing.
        let mut policies_of: std::collections::HashMap<&str, &str> =
            std::collections::HashMap::new();
        let mut shared: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for r in &self.rows {
            if *policies_of.entry(&r.clause).or_insert(&r.policy) != &*r.policy {
                shared.insert(&r.clause);
            }
        }
        let shown = |r: &ReportRow| {
            if shared.contains(&*r.clause) {
                format!("{}/{}", r.policy, r.clause)
            } else {
                r.clause.to_string()
            }
        };
        let width = self
            .rows
            .iter()
            .map(|r| shown(r).chars().count())
            .max()
            .unwrap_or(6);
        let mut last: Option<(CalendarPeriod, &Group)> = None;
        for r in &self.rows {
            if last != Some((r.period, &r.group)) {
                out.push_str(&format!("\n{}  {}\n", r.period.label(), r.group.label()));
                last = Some((r.period, &r.group));
            }
            out.push_str(&format!(
                "  {:<width$}  {:<8}  {:<10}  {}\n",
                shown(r),
                r.kind,
                r.status,
                r.detail(),
            ));
        }
        out
    }

    /// `{"unit", "filter", "now", "rows": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut o = json!({
                    "period": r.period.label(),
                    "unit": r.period.unit.as_str(),
                    "group": r.group.to_json(),
                    "policy": &*r.policy,
                    "clause": &*r.clause,
                    "kind": r.kind,
                    "status": r.status,
                    "detail": r.detail(),
                });
                let extra = match r.kind {
                    "deadline" => json!({"met": r.met, "breached": r.breached,
                        "pending": r.pending, "ratio_permille": r.ratio_permille()}),
                    "sample" => json!({"population": r.population, "required": r.required,
                        "done": r.done, "missing": r.missing}),
                    "target" => json!({"hits": r.hits, "total": r.total,
                        "ratio_permille": r.ratio_permille(),
                        "bound": r.bound.map(|(at_least, b)| json!({
                            "at_least": at_least, "permille": b}))}),
                    "repeat" => json!({"actions": r.findings}),
                    "every" | "window" => json!({"checked": r.checked(), "met": r.met,
                        "findings": r.findings, "ratio_permille": r.ratio_permille()}),
                    _ => json!({"findings": r.findings}),
                };
                if let (Some(o), serde_json::Value::Object(extra)) = (o.as_object_mut(), extra) {
                    o.extend(extra);
                }
                if let (Some(o), Some(m)) = (o.as_object_mut(), &r.measure) {
                    o.insert("measure".into(), crate::report::records::measure_json(m));
                }
                if let (Some(o), Some((ob, zone))) = (o.as_object_mut(), &r.obligation) {
                    o.insert(
                        "obligation".into(),
                        crate::report::records::obligation_json(ob, *zone),
                    );
                }
                o
            })
            .collect();
        json!({
            "unit": self.unit.as_str(),
            "filter": self.filter.map(|f| f.label()),
            "now": self.now.map(|n| rfc3339(n, self.zone)),
            "rows": rows,
        })
    }

    /// CSV with one header line and fixed columns; empty cells where a column does not apply.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "period",
            "group",
            "policy",
            "clause",
            "kind",
            "status",
            "met",
            "breached",
            "pending",
            "population",
            "required",
            "done",
            "missing",
            "hits",
            "total",
            "ratio",
            "bound",
            "findings",
            "detail",
        ])?;
        for r in &self.rows {
            let n = |v: u64, on: bool| if on { v.to_string() } else { String::new() };
            let (dl, sa, ta) = (r.kind == "deadline", r.kind == "sample", r.kind == "target");
            let checks = matches!(r.kind, "every" | "window");
            let other = !(dl || sa || ta);
            w.write_record([
                r.period.label(),
                r.group.label(),
                r.policy.to_string(),
                r.clause.to_string(),
                r.kind.to_string(),
                r.status.to_string(),
                n(r.met, dl || checks),
                n(r.breached, dl),
                n(r.pending, dl),
                n(r.population, sa),
                n(r.required, sa),
                n(r.done, sa),
                n(r.missing, sa),
                // A measuring target's cases are not hits among a total: its value and bound
                // are in `detail`.
                n(r.hits, ta && r.measure.is_none()),
                n(r.total, ta && r.measure.is_none()),
                r.ratio_text().unwrap_or_default(),
                r.bound
                    .map(|(_, b)| percent(u64::from(b)))
                    .unwrap_or_default(),
                n(r.findings, other),
                r.detail(),
            ])?;
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
