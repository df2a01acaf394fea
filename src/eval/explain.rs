//! Why a case got its verdicts: the facts behind each deadline clause, for a manager to read.
//!
//! [`explain_case`] replays the evaluation of one case ([`super::evaluate_case_full`] gives the
//! same verdicts) and keeps what a verdict is made of: whether each clause applies and which
//! attribute decided it, and per cycle the event that started the clock, the one that stopped
//! it, the pauses and their statuses, the limit and its calendar, every weekend, holiday and
//! make-up day between the start and the due time, the stages and the verdict.
//! [`Explanation::render`] turns it into plain sentences; the REPL's `:why` prints them.

use super::case::{case_facts, plan, resolve, CaseView, ClausePlan, CycleFacts};
use super::clock::Counting;
use super::verdict::{format_duration, Action, ActionStatus, Status, Verdict};
use crate::calendar::{Calendar, SpecialDate};
use crate::eval::case_ref::OnCase;
use crate::event::{Event, Instant};
use crate::policy::{ClauseBody, CmpOp, Condition, Limit, Policy};
use crate::syntax::{format_condition, format_limit, format_trigger};
use crate::value::{Attrs, Value};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use std::fmt::Write as _;
use std::sync::Arc;

/// Everything that went into the verdicts of one case.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub ticket: String,
    pub now: Instant,
    /// The zone instants are shown in when a clause gives none (the first policy's).
    pub zone: Tz,
    /// Events of the case up to `now`.
    pub events: usize,
    /// Whether the case has an `opened` event (without one no clause applies).
    pub opened: bool,
    /// The case attributes (`opened` and `updated` merged).
    pub attrs: Attrs,
    /// Deadline clauses, in policy and clause order.
    pub clauses: Vec<ClauseExplanation>,
    /// Clauses of other kinds, which `:why` does not explain: (kind, policy, name).
    pub other_clauses: Vec<(&'static str, String, String)>,
}

/// One deadline clause on the case.
#[derive(Debug, Clone)]
pub struct ClauseExplanation {
    pub policy: String,
    pub clause: String,
    pub title: Option<String>,
    pub applies: Applicability,
    /// Why no cycle was judged although the clause applies (no start event yet, ...).
    pub no_cycle: Option<String>,
    pub cycles: Vec<CycleExplanation>,
}

/// Whether a clause's `when` condition holds for the case, and because of which attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Applicability {
    /// No `when` line.
    Always,
    /// The condition holds; the values of the attributes it reads.
    Holds {
        condition: String,
        values: Vec<(String, Option<Value>)>,
    },
    /// The condition is false; one reason per failing comparison (`severity` is "minor").
    Fails {
        condition: String,
        reasons: Vec<String>,
    },
}

/// The values a condition read, as `kind = "complaint", no severity`.
pub fn values_text(values: &[(String, Option<Value>)]) -> String {
    let texts: Vec<String> = values
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k} = {v}"),
            None => format!("no {k}"),
        })
        .collect();
    texts.join(", ")
}

/// One cycle of a clause: the clock from start to stop and how the due time came about.
#[derive(Debug, Clone)]
pub struct CycleExplanation {
    pub cycle: u32,
    pub start: Instant,
    /// Type of the event that started the clock (`opened`, `reopened`, `dispatched`, ...).
    pub start_event: String,
    pub stop: Option<Instant>,
    pub stop_event: Option<String>,
    /// The limit as written (`within 2 workdays on office`).
    pub limit: String,
    /// The amount the clock counts (working time for calendar limits).
    pub amount: Duration,
    /// The counting calendar, `None` for wall-clock time.
    pub calendar: Option<Arc<Calendar>>,
    /// When counting began, if the clock started outside working hours.
    pub counting_from: Option<Instant>,
    pub pauses: Vec<PauseExplanation>,
    /// Dates between the start and the due time that were not ordinary working days.
    pub calendar_steps: Vec<CalendarStep>,
    /// The due time there would have been without any pause.
    pub due_without_pauses: Instant,
    pub verdict: Verdict,
    /// Stages as (1-based stage, its line as written, the action if it fired).
    pub stages: Vec<(usize, String, Option<Action>)>,
}

/// A pause of the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseExplanation {
    /// The pausing status (`waiting_customer`).
    pub status: String,
    pub from: Instant,
    /// `None`: still paused at `now`.
    pub until: Option<Instant>,
    /// The paused time as the clock counts it (working time on a calendar).
    pub counted: Duration,
    /// Whether it moved the due time (a pause starting at or after the due time does not).
    pub moved_due: bool,
}

/// A run of consecutive dates with the same reason, on the counting calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarStep {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub reason: SpecialDate,
}

/// Explains the deadline verdicts of one case's events (any order; those after `now` are
/// ignored) against `policies`, as of `now`.
pub fn explain_case(policies: &[Policy], events: &[Event], now: Instant) -> Explanation {
    let mut sorted: Vec<Event> = events.iter().filter(|e| e.at <= now).cloned().collect();
    sorted.sort_by(Event::canonical_cmp);
    let ticket = sorted
        .first()
        .or(events.first())
        .map(|e| e.ticket.to_string())
        .unwrap_or_default();
    let zone = policies
        .first()
        .map_or(crate::syntax::DEFAULT_ZONE, |p| p.zone);
    let view = CaseView::new(&sorted);
    let plans = plan(policies);
    let ticket_arc: Arc<str> = ticket.as_str().into();
    let mut clauses = Vec::new();
    for (index, p) in plans.iter().enumerate() {
        let applies = applicability(&p.clause.applies, &view.attrs);
        let mut facts = Vec::new();
        case_facts(&view, &plans, index, &mut facts);
        let cycles: Vec<CycleExplanation> = facts
            .iter()
            .map(|f| explain_cycle(f, p, &sorted, &ticket_arc, now))
            .collect();
        let no_cycle = if !matches!(applies, Applicability::Fails { .. }) && cycles.is_empty() {
            Some(if !view.opened {
                "the case has no `opened` event, so no clause applies".to_string()
            } else if !sorted.iter().any(|e| p.deadline.start.on_case(&sorted, e)) {
                format!(
                    "the clock has not started: no `{}` event yet",
                    format_trigger(&p.deadline.start)
                )
            } else {
                "this version of the clause is not in effect on the date the clock started"
                    .to_string()
            })
        } else {
            None
        };
        clauses.push(ClauseExplanation {
            policy: p.policy.to_string(),
            clause: p.name.to_string(),
            title: p.clause.title.clone(),
            applies,
            no_cycle,
            cycles,
        });
    }
    let other_clauses = policies
        .iter()
        .flat_map(|p| {
            p.clauses
                .iter()
                .filter(|c| !matches!(c.body, ClauseBody::Deadline(_)))
                .map(|c| (c.body.keyword(), p.name.clone(), c.name.clone()))
        })
        .collect();
    Explanation {
        ticket,
        now,
        zone,
        events: sorted.len(),
        opened: view.opened,
        attrs: view.attrs.clone().into_owned(),
        clauses,
        other_clauses,
    }
}

fn explain_cycle(
    facts: &CycleFacts,
    plan: &ClausePlan<'_>,
    events: &[Event],
    ticket: &Arc<str>,
    now: Instant,
) -> CycleExplanation {
    let d = plan.deadline;
    let mut actions = Vec::new();
    let verdict = resolve(facts, plan, ticket, now, &mut actions);
    let at = |t: Instant| events.iter().filter(move |e| e.at == t);
    let start_event = at(facts.start)
        .find(|e| d.start.on_case(events, e))
        .or_else(|| at(facts.start).find(|e| &*e.kind == "reopened"))
        .map_or_else(|| "?".to_string(), |e| e.kind.to_string());
    let stop_event = facts.stop.map(|s| {
        at(s)
            .find(|e| d.stop.on_case(events, e))
            .map_or_else(|| "?".to_string(), |e| e.kind.to_string())
    });
    let calendar = match (&facts.counting, &d.limit) {
        (Counting::Business(cal), _) => Some(Arc::clone(cal)),
        (
            Counting::Wall,
            Limit::NextAt {
                calendar,
                workday: true,
                ..
            },
        ) => Some(Arc::clone(calendar)),
        _ => None,
    };
    let counting_from = match &facts.counting {
        Counting::Business(cal) if !cal.is_working_moment(facts.start) => {
            Some(cal.next_working_moment(facts.start))
        }
        _ => None,
    };
    // Which pauses moved the due time: the same walk as `Clock::reach`.
    let mut pauses = Vec::new();
    let mut due = facts.counting.add(facts.start, facts.amount);
    let due_without_pauses = due;
    let mut extra = Duration::zero();
    for &(from, until) in &facts.pauses {
        let counted = facts
            .counting
            .between(from.max(facts.start), until.unwrap_or(now));
        let moved_due = from < due && counted > Duration::zero();
        if moved_due {
            extra += counted;
            due = facts.counting.add(facts.start, facts.amount + extra);
        }
        pauses.push(PauseExplanation {
            status: pausing_status(events, from),
            from,
            until,
            counted,
            moved_due,
        });
    }
    let calendar_steps = match &calendar {
        Some(cal) => {
            let first = facts.start.with_timezone(&cal.zone).date_naive();
            let last = verdict.due.with_timezone(&cal.zone).date_naive();
            group_steps(cal.special_dates(first, last))
        }
        None => Vec::new(),
    };
    let stages = d
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let fired = actions.iter().find(|a| a.stage == i + 1).cloned();
            (i + 1, describe_stage(s), fired)
        })
        .collect();
    CycleExplanation {
        cycle: facts.cycle,
        start: facts.start,
        start_event,
        stop: facts.stop,
        stop_event,
        limit: format_limit(&d.limit),
        amount: facts.amount,
        calendar,
        counting_from,
        pauses,
        calendar_steps,
        due_without_pauses,
        verdict,
        stages,
    }
}

/// The status in force at `from` (the pause began with it, or the clock started during it).
fn pausing_status(events: &[Event], from: Instant) -> String {
    events
        .iter()
        .filter(|e| &*e.kind == "status" && e.at <= from)
        .filter_map(|e| e.attrs.get("status").and_then(Value::as_str))
        .next_back()
        .unwrap_or("?")
        .to_string()
}

/// Consecutive dates with the same reason become one step.
fn group_steps(dates: Vec<(NaiveDate, SpecialDate)>) -> Vec<CalendarStep> {
    let mut out: Vec<CalendarStep> = Vec::new();
    for (date, reason) in dates {
        if let Some(last) = out.last_mut() {
            if last.reason == reason && last.last.succ_opt() == Some(date) {
                last.last = date;
                continue;
            }
        }
        out.push(CalendarStep {
            first: date,
            last: date,
            reason,
        });
    }
    out
}

fn describe_stage(stage: &crate::policy::Stage) -> String {
    let point = match &stage.point {
        crate::policy::StagePoint::After(d) => {
            format!("after {}", crate::syntax::format_duration(*d))
        }
        crate::policy::StagePoint::Fraction(p) => {
            format!("at {}%", f64::from(*p) / 10.0)
        }
    };
    format!("{} {} {}", point, stage.action.as_str(), stage.role)
}

/// Whether `condition` holds on `attrs`, with the attribute values that decided it.
pub fn applicability(condition: &Condition, attrs: &Attrs) -> Applicability {
    if *condition == Condition::Always {
        return Applicability::Always;
    }
    let text = format_condition(condition);
    if condition.eval(attrs) {
        let mut names = Vec::new();
        attributes_of(condition, &mut names);
        Applicability::Holds {
            condition: text,
            values: names
                .into_iter()
                .map(|n| {
                    let v = attrs.get(&n).cloned();
                    (n, v)
                })
                .collect(),
        }
    } else {
        let mut reasons = Vec::new();
        why_false(condition, attrs, &mut reasons);
        Applicability::Fails {
            condition: text,
            reasons,
        }
    }
}

/// Attribute names a condition reads, in order of first mention.
fn attributes_of(c: &Condition, out: &mut Vec<String>) {
    let mut push = |a: &String| {
        if !out.contains(a) {
            out.push(a.clone());
        }
    };
    match c {
        Condition::Always => {}
        Condition::Compare { attr, .. }
        | Condition::In { attr, .. }
        | Condition::Has(attr)
        | Condition::Truthy(attr)
        | Condition::CompareCase { attr, .. }
        | Condition::InRegister { attr, .. } => push(attr),
        Condition::Not(inner) => attributes_of(inner, out),
        Condition::And(parts) | Condition::Or(parts) => {
            for p in parts {
                attributes_of(p, out);
            }
        }
    }
}

fn shown(attrs: &Attrs, attr: &str) -> String {
    match attrs.get(attr) {
        None => format!("the case has no `{attr}`"),
        Some(v) => format!("`{attr}` is {v}"),
    }
}

/// One sentence per comparison that made `c` false.
fn why_false(c: &Condition, attrs: &Attrs, out: &mut Vec<String>) {
    match c {
        Condition::Always => {}
        Condition::Compare { attr, op, value } => {
            let wanted = match op {
                CmpOp::Eq => format!("not {value}"),
                CmpOp::Ne => format!("which the clause excludes (`!= {value}`)"),
                _ => format!("not {} {value}", op.as_str()),
            };
            match attrs.get(attr) {
                None => out.push(shown(attrs, attr)),
                Some(_) => out.push(format!("{}, {wanted}", shown(attrs, attr))),
            }
        }
        Condition::In { attr, values } => match attrs.get(attr) {
            None => out.push(shown(attrs, attr)),
            Some(_) => {
                let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                out.push(format!(
                    "{}, not one of [{}]",
                    shown(attrs, attr),
                    list.join(", ")
                ));
            }
        },
        Condition::Has(attr) => out.push(shown(attrs, attr)),
        Condition::CompareCase {
            attr,
            op,
            case_attr,
        } => out.push(format!(
            "{}, and the clause asks for `{attr} {} case.{case_attr}`",
            shown(attrs, attr),
            op.as_str()
        )),
        Condition::InRegister { attr, register, .. } => out.push(format!(
            "{}, and register `{}` has no row for it that holds then",
            shown(attrs, attr),
            register.name
        )),
        Condition::Truthy(attr) => match attrs.get(attr) {
            None => out.push(shown(attrs, attr)),
            Some(_) => out.push(format!("{}, not true", shown(attrs, attr))),
        },
        Condition::Not(inner) => {
            let mut names = Vec::new();
            attributes_of(inner, &mut names);
            let values: Vec<String> = names.iter().map(|n| shown(attrs, n)).collect();
            out.push(format!(
                "`{}` holds ({}), and the clause asks for it not to",
                format_condition(inner),
                values.join(", ")
            ));
        }
        Condition::And(parts) => {
            for p in parts.iter().filter(|p| !p.eval(attrs)) {
                why_false(p, attrs, out);
            }
        }
        Condition::Or(parts) => {
            for p in parts {
                why_false(p, attrs, out);
            }
        }
    }
}

/// An instant as a manager reads it: `Thu 2026-10-08 09:30` in `zone` (seconds when not zero).
pub fn when(t: Instant, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    if local.format("%S").to_string() == "00" {
        local.format("%a %Y-%m-%d %H:%M").to_string()
    } else {
        local.format("%a %Y-%m-%d %H:%M:%S").to_string()
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%a %Y-%m-%d").to_string()
}

impl CalendarStep {
    /// `Thu 2026-10-01 – Wed 2026-10-07: holiday 国庆节、中秋节, not counted`
    pub fn describe(&self) -> String {
        let dates = if self.first == self.last {
            day(self.first)
        } else {
            format!("{} – {}", day(self.first), day(self.last))
        };
        let what = match &self.reason {
            SpecialDate::Weekend => "weekend, not counted".to_string(),
            SpecialDate::Holiday(Some(name)) => format!("holiday {name}, not counted"),
            SpecialDate::Holiday(None) => "holiday, not counted".to_string(),
            SpecialDate::MakeupDay(Some(name)) => {
                format!("make-up working day ({name}), counted")
            }
            SpecialDate::MakeupDay(None) => "make-up working day, counted".to_string(),
        };
        format!("{dates}: {what}")
    }
}

impl Explanation {
    /// The explanation as plain text, one fact per line.
    pub fn render(&self) -> String {
        self.render_inner(None, false)
    }

    /// The explanation followed by that of the clauses of other kinds
    /// ([`super::explain_other::explain_other_clauses`]), whose clauses that do not apply join
    /// the deadline clauses that do not.
    pub fn render_with(&self, others: &super::explain_other::OtherExplanation) -> String {
        self.render_inner(Some(others), false)
    }

    /// Like [`Explanation::render_with`], with the clauses that do not apply summed up in one
    /// line (how many, and the attribute values that most often decided it) instead of one line
    /// each, so that the answer about a case fits a screen: most clauses of a set of policies
    /// are about other kinds of case. The REPL's `:why TICKET` prints this, `:why TICKET all`
    /// the full list.
    pub fn render_brief(&self, others: &super::explain_other::OtherExplanation) -> String {
        self.render_inner(Some(others), true)
    }

    fn render_inner(
        &self,
        others: Option<&super::explain_other::OtherExplanation>,
        brief: bool,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "case {} as of {} ({} event{})",
            self.ticket,
            when(self.now, self.zone),
            self.events,
            if self.events == 1 { "" } else { "s" }
        );
        if !self.opened {
            let _ = writeln!(
                out,
                "  the case has no `opened` event, so no clause applies to it"
            );
            return out;
        }
        let attrs: Vec<String> = self
            .attrs
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let _ = writeln!(out, "  attributes: {}", attrs.join(", "));
        let (applying, not_applying): (Vec<_>, Vec<_>) = self
            .clauses
            .iter()
            .partition(|c| !matches!(c.applies, Applicability::Fails { .. }));
        for c in &applying {
            out.push('\n');
            render_clause(&mut out, c);
        }
        if let Some(others) = others {
            for block in &others.blocks {
                out.push('\n');
                out.push_str(block);
            }
        }
        let others_not_applying = others.map_or(&[][..], |o| &o.not_applying[..]);
        if brief {
            let mut reasons: Vec<&[String]> = not_applying
                .iter()
                .filter_map(|c| match &c.applies {
                    Applicability::Fails { reasons, .. } => Some(&reasons[..]),
                    _ => None,
                })
                .collect();
            if let Some(o) = others {
                reasons.extend(o.not_applying_reasons.iter().map(Vec::as_slice));
            }
            if !reasons.is_empty() {
                let more = if applying.is_empty() && others.is_none_or(|o| o.blocks.is_empty()) {
                    ""
                } else {
                    " more"
                };
                let _ = writeln!(
                    out,
                    "\n{}{more} {} not apply, because {}: `:why {} all` lists them",
                    reasons.len(),
                    if reasons.len() == 1 {
                        "clause does"
                    } else {
                        "clauses do"
                    },
                    deciding_facts(&reasons),
                    self.ticket
                );
            }
        } else if !not_applying.is_empty() || !others_not_applying.is_empty() {
            let _ = writeln!(out, "\ndoes not apply:");
            for c in &not_applying {
                if let Applicability::Fails { condition, reasons } = &c.applies {
                    let _ = writeln!(
                        out,
                        "  {}/{}: `{condition}` is false: {}",
                        c.policy,
                        c.clause,
                        reasons.join("; ")
                    );
                }
            }
        }
        if !brief {
            for line in others_not_applying {
                let _ = writeln!(out, "{line}");
            }
        }
        if !self.other_clauses.is_empty() && others.is_none() {
            let _ = writeln!(
                out,
                "\n{} clause(s) of other kinds (notify, sample, ...) are checked by `pledge check`, not explained here",
                self.other_clauses.len()
            );
        }
        out
    }
}

/// The facts that kept clauses from applying, most frequent first, with how many clauses each
/// kept out: `` `kind` is "repair" (12), `severity` is "minor" (9), … ``. A fact is a reason
/// without what the clause wanted (`` `kind` is "repair" `` of `` `kind` is "repair", not
/// "complaint" ``), counted once per clause; the two most frequent are named.
fn deciding_facts(reasons: &[&[String]]) -> String {
    let mut counts: Vec<(String, usize, usize)> = Vec::new(); // fact, clauses, first seen
    for clause in reasons {
        let mut facts: Vec<&str> = clause
            .iter()
            .map(|r| r.split(", not ").next().unwrap_or(r))
            .map(|r| r.split(", which ").next().unwrap_or(r))
            .collect();
        facts.sort_unstable();
        facts.dedup();
        for fact in facts {
            match counts.iter_mut().find(|(f, _, _)| f == fact) {
                Some(entry) => entry.1 += 1,
                None => {
                    let seen = counts.len();
                    counts.push((fact.to_string(), 1, seen));
                }
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let mut parts: Vec<String> = counts
        .iter()
        .take(2)
        .map(|(fact, n, _)| format!("{fact} ({n})"))
        .collect();
    if counts.len() > 2 {
        parts.push("…".to_string());
    }
    parts.join(", ")
}

fn render_clause(out: &mut String, c: &ClauseExplanation) {
    let title = c
        .title
        .as_deref()
        .map(|t| format!(" \"{t}\""))
        .unwrap_or_default();
    let _ = writeln!(out, "{}/{}{title}", c.policy, c.clause);
    match &c.applies {
        Applicability::Always => {
            let _ = writeln!(out, "  applies to every case (no `when`)");
        }
        Applicability::Holds { condition, values } => {
            let _ = writeln!(
                out,
                "  applies: `{condition}` holds ({})",
                values_text(values)
            );
        }
        Applicability::Fails { .. } => {}
    }
    if let Some(why) = &c.no_cycle {
        let _ = writeln!(out, "  no verdict: {why}");
    }
    for cy in &c.cycles {
        render_cycle(out, cy, c.cycles.len() > 1);
    }
}

fn render_cycle(out: &mut String, cy: &CycleExplanation, numbered: bool) {
    let z = cy.verdict.zone;
    let pad = if numbered {
        let _ = writeln!(out, "  cycle {}:", cy.cycle);
        "    "
    } else {
        "  "
    };
    let _ = writeln!(
        out,
        "{pad}clock starts {} at `{}`",
        when(cy.start, z),
        cy.start_event
    );
    match &cy.calendar {
        Some(cal) => {
            let _ = writeln!(
                out,
                "{pad}limit: {} = {} of working time on calendar `{}` ({})",
                cy.limit,
                format_duration(cy.amount),
                cal.name,
                hours_text(cal)
            );
        }
        None => {
            let _ = writeln!(out, "{pad}limit: {} (wall-clock time)", cy.limit);
        }
    }
    if let Some(t) = cy.counting_from {
        let _ = writeln!(
            out,
            "{pad}outside working hours at the start: counting begins {}",
            when(t, z)
        );
    }
    for step in &cy.calendar_steps {
        let _ = writeln!(out, "{pad}calendar: {}", step.describe());
    }
    if cy.calendar.is_some() && cy.verdict.due - cy.start > Duration::hours(24) {
        let _ = writeln!(
            out,
            "{pad}calendar: nights and breaks outside working hours are not counted"
        );
    }
    for p in &cy.pauses {
        let until = match p.until {
            Some(u) => format!("to {}", when(u, z)),
            None => "and still paused".to_string(),
        };
        let effect = if p.moved_due {
            format!(
                "{} paused{}, moves the due time by as much",
                format_duration(p.counted),
                if p.until.is_none() { " so far" } else { "" }
            )
        } else {
            "began after the due time, so it does not move it".to_string()
        };
        let _ = writeln!(
            out,
            "{pad}pause: status `{}` from {} {until}: {effect}",
            p.status,
            when(p.from, z)
        );
    }
    if cy.due_without_pauses != cy.verdict.due {
        let _ = writeln!(
            out,
            "{pad}due {} (without the pauses: {})",
            when(cy.verdict.due, z),
            when(cy.due_without_pauses, z)
        );
    } else {
        let _ = writeln!(out, "{pad}due {}", when(cy.verdict.due, z));
    }
    match (&cy.stop, &cy.stop_event) {
        (Some(s), Some(ev)) => {
            let _ = writeln!(out, "{pad}clock stops {} at `{ev}`", when(*s, z));
        }
        _ => {
            let _ = writeln!(out, "{pad}clock still running");
        }
    }
    for (n, text, action) in &cy.stages {
        let state = match action {
            None => "not reached".to_string(),
            Some(a) => match a.status {
                ActionStatus::Due => format!("reached {}", when(a.at, z)),
                ActionStatus::Done => format!(
                    "reached {}, done {}",
                    when(a.at, z),
                    a.evidence.map_or_else(String::new, |e| when(e, z))
                ),
                ActionStatus::Missed => format!("reached {}, missed", when(a.at, z)),
            },
        };
        let _ = writeln!(out, "{pad}stage {n} ({text}): {state}");
    }
    let v = &cy.verdict;
    let verdict = match v.status {
        Status::Met => match v.stop {
            Some(s) => format!("met, {} before the due time", format_duration(v.due - s)),
            None => "met".to_string(),
        },
        Status::Breached => format!(
            "breached, {} late",
            format_duration(v.overdue_by.unwrap_or_default())
        ),
        Status::Pending => format!(
            "pending, {} left",
            format_duration(v.time_left.unwrap_or_default())
        ),
    };
    let _ = writeln!(out, "{pad}verdict: {verdict}");
}

/// The ordinary weekly hours of a calendar: `mon-fri 08:30-12:00, 13:30-18:00`.
fn hours_text(cal: &Calendar) -> String {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut groups: Vec<(usize, usize, String)> = Vec::new();
    for (i, periods) in cal.week.iter().enumerate() {
        if periods.is_empty() {
            continue;
        }
        let text: Vec<String> = periods.iter().map(ToString::to_string).collect();
        let text = text.join(", ");
        match groups.last_mut() {
            Some((_, last, t)) if *last + 1 == i && *t == text => *last = i,
            _ => groups.push((i, i, text)),
        }
    }
    groups
        .iter()
        .map(|(a, b, t)| {
            if a == b {
                format!("{} {t}", DAYS[*a])
            } else {
                format!("{}-{} {t}", DAYS[*a], DAYS[*b])
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, Value)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (Box::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn a_false_condition_names_the_attribute_that_decided_it() {
        let c = crate::syntax::parse_condition(r#"kind == "complaint" and severity == "major""#)
            .unwrap();
        let a = attrs(&[
            ("kind", Value::String("complaint".into())),
            ("severity", Value::String("minor".into())),
        ]);
        match applicability(&c, &a) {
            Applicability::Fails { reasons, .. } => {
                assert_eq!(reasons, vec![r#"`severity` is "minor", not "major""#]);
            }
            other => panic!("expected a failing condition, got {other:?}"),
        }
        let b = attrs(&[("kind", Value::String("complaint".into()))]);
        match applicability(&c, &b) {
            Applicability::Fails { reasons, .. } => {
                assert_eq!(reasons, vec!["the case has no `severity`"]);
            }
            other => panic!("expected a failing condition, got {other:?}"),
        }
    }

    #[test]
    fn a_holding_condition_lists_the_values_it_read() {
        let c = crate::syntax::parse_condition(r#"kind in ["complaint", "inquiry"]"#).unwrap();
        let a = attrs(&[("kind", Value::String("inquiry".into()))]);
        assert_eq!(
            applicability(&c, &a),
            Applicability::Holds {
                condition: r#"kind in ["complaint", "inquiry"]"#.to_string(),
                values: vec![("kind".to_string(), Some(Value::String("inquiry".into())))],
            }
        );
        assert_eq!(applicability(&Condition::Always, &a), Applicability::Always);
    }

    #[test]
    fn steps_group_consecutive_dates_of_one_reason() {
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let name = Some("国庆节".to_string());
        let steps = group_steps(vec![
            (d(9, 27), SpecialDate::MakeupDay(None)),
            (d(10, 1), SpecialDate::Holiday(name.clone())),
            (d(10, 2), SpecialDate::Holiday(name.clone())),
            (d(10, 3), SpecialDate::Holiday(name.clone())),
            (d(10, 10), SpecialDate::Weekend),
        ]);
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[1].describe(),
            "Thu 2026-10-01 – Sat 2026-10-03: holiday 国庆节, not counted"
        );
    }
}
