//! Why a case got its verdicts: the facts behind each deadline clause, for a manager to read.
//!
//! [`explain_case`] replays the evaluation of one case ([`crate::engine::evaluate_case_full`] gives the
//! same verdicts) and keeps what a verdict is made of: whether each clause applies and which
//! attribute decided it, and per cycle the event that started the clock, the one that stopped
//! it, the pauses and their statuses, the limit and its calendar, every weekend, holiday and
//! make-up day between the start and the due time, the stages and the verdict.
//! [`Explanation::render`] turns it into plain sentences; the REPL's `:why` prints them.
//! [`other`] does the same for the clauses that are not deadlines (notifications, sampling,
//! targets, repeats, duties, windows), whose facts come from [`crate::period`] too: which is
//! why explanations sit above both the per-case evaluation and the period aggregation.

pub mod other;
mod render;

pub use render::when;

use crate::calendar::{Calendar, SpecialDate};
use crate::eval::case::{case_facts, plan, resolve, CaseView, ClausePlan, CycleFacts};
use crate::eval::case_ref::OnCase;
use crate::eval::clock::Counting;
use crate::eval::verdict::{Action, Verdict};
use crate::event::{Event, Instant};
use crate::policy::{ClauseBody, CmpOp, Condition, Limit, Policy};
use crate::syntax::{format_condition, format_limit, format_trigger};
use crate::value::{Attrs, Value};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
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
