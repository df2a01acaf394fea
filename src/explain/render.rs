//! Why a case got its verdicts, in words: the facts an [`Explanation`] holds turned into plain
//! sentences, one fact per line, with instants and calendars as a manager reads them.

use super::{
    values_text, Applicability, CalendarStep, ClauseExplanation, CycleExplanation, Explanation,
};
use crate::calendar::{Calendar, SpecialDate};
use crate::eval::verdict::{format_duration, ActionStatus, Status};
use crate::event::Instant;
use chrono::{Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use std::fmt::Write as _;

/// An instant as a manager reads it: `Thu 2026-10-08 09:30` in `zone` (seconds when not zero,
/// and their fraction when there is one).
pub fn when(t: Instant, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    if local.nanosecond() != 0 {
        // A fraction is written whole: a stop 0.65 s after its due time within one minute
        // reads as after it, not as the same `09:10`.
        local.format("%a %Y-%m-%d %H:%M:%S%.f").to_string()
    } else if local.second() == 0 {
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
    /// ([`crate::explain::other::explain_other_clauses`]), whose clauses that do not apply join
    /// the deadline clauses that do not.
    pub fn render_with(&self, others: &crate::explain::other::OtherExplanation) -> String {
        self.render_inner(Some(others), false)
    }

    /// Like [`Explanation::render_with`], with the clauses that do not apply summed up in one
    /// line (how many, and the attribute values that most often decided it) instead of one line
    /// each, so that the answer about a case fits a screen: most clauses of a set of policies
    /// are about other kinds of case. The REPL's `:why TICKET` prints this, `:why TICKET all`
    /// the full list.
    pub fn render_brief(&self, others: &crate::explain::other::OtherExplanation) -> String {
        self.render_inner(Some(others), true)
    }

    fn render_inner(
        &self,
        others: Option<&crate::explain::other::OtherExplanation>,
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
    use super::when;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> crate::event::Instant {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// As precise as the instant is: a stop 0.65 s after its due time within one minute reads
    /// as after it, not as the same `09:10`.
    #[test]
    fn an_instant_is_written_with_its_seconds_and_their_fraction_when_it_has_them() {
        let zone = chrono_tz::Asia::Shanghai;
        assert_eq!(
            when(at("2026-03-02T09:10:00+08:00"), zone),
            "Mon 2026-03-02 09:10"
        );
        assert_eq!(
            when(at("2026-03-02T09:10:43+08:00"), zone),
            "Mon 2026-03-02 09:10:43"
        );
        assert_eq!(
            when(at("2026-03-02T09:10:00.25+08:00"), zone),
            "Mon 2026-03-02 09:10:00.250"
        );
        assert_eq!(
            when(at("2026-03-02T01:10:00.9Z"), zone),
            "Mon 2026-03-02 09:10:00.900"
        );
    }
}
