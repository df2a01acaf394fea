//! The text of `:summary` and `:diff` over every clause kind, from whole evaluations
//! ([`super::evaluation::Evaluation`]).
//!
//! Clauses are named `policy/clause` and paired across the baseline and the working copy by
//! those names (a what-if may add a clause, which shifts clause positions). Every list is in a
//! fixed order (by ticket, clause, period), never in the order of a hash map, and holds at most
//! [`LISTED`] lines, then says how many more there are.

use super::evaluation::Evaluation;
use crate::eval::{Action, ClauseSummary, Finding, Verdict};
use crate::explain::other::{sample_text, target_text};
use crate::explain::when;
use crate::period::records::{SampleStatus, TargetStatus};
use crate::period::{CalendarPeriod, PeriodRecord};
use crate::report::records::percent_rounded_down;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Lines listed per section of `:diff` before "... and N more".
pub const LISTED: usize = 20;

/// Verdict counts of one deadline clause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub met: u64,
    pub breached: u64,
    pub pending: u64,
}

impl Counts {
    fn of(c: &ClauseSummary) -> Counts {
        Counts {
            met: c.met,
            breached: c.breached,
            pending: c.pending,
        }
    }

    /// Met among judged verdicts (met or breached): pending ones are not judged yet.
    pub fn compliance(&self) -> String {
        match percent_rounded_down(self.met, self.met + self.breached) {
            Some(p) => format!("{p:.1}%"),
            None => "-".to_string(),
        }
    }

    pub fn short(&self) -> String {
        let mut s = format!(
            "{} ({}/{})",
            self.compliance(),
            self.met,
            self.met + self.breached
        );
        if self.pending > 0 {
            s.push_str(&format!(" +{}p", self.pending));
        }
        s
    }
}

fn name(c: &ClauseSummary) -> String {
    format!("{}/{}", c.policy, c.clause)
}

/// The period records of one clause (by its summary entry).
fn periods_of<'e>(eval: &'e Evaluation, c: &ClauseSummary) -> Vec<&'e PeriodRecord> {
    eval.periods
        .iter()
        .filter(|r| r.clause_ref() == c.clause_ref)
        .collect()
}

/// The findings of one clause, counted by code: `2 notify.channel_missing, 1 ...`.
fn findings_by_code(eval: &Evaluation, c: &ClauseSummary) -> (usize, String) {
    let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut tickets: BTreeSet<&str> = BTreeSet::new();
    for f in eval
        .findings
        .iter()
        .filter(|f| f.clause_ref == c.clause_ref)
    {
        *codes.entry(f.code).or_default() += 1;
        tickets.insert(&f.ticket);
    }
    let text = codes
        .iter()
        .map(|(code, n)| format!("{n} {code}"))
        .collect::<Vec<_>>()
        .join(", ");
    (tickets.len(), text)
}

/// The states of clauses that have nothing to report: the summary counts them in one line.
const QUIET_PERIODS: &str = "no case counted yet";
const QUIET_REPEAT: &str = "no repeat";
const QUIET_FINDINGS: &str = "no finding";

/// The state of a period clause: its latest period in full, and how many periods fell short.
fn period_state(eval: &Evaluation, c: &ClauseSummary) -> String {
    let records = periods_of(eval, c);
    let mut state = String::new();
    match c.kind {
        "sample" | "target" => {
            let latest = records.iter().filter_map(|r| period_of(r)).max();
            let (mut bad, mut judged, mut periods) = (0, 0, BTreeSet::new());
            for r in &records {
                let (ok, problem) = match r {
                    PeriodRecord::Sample(s) => (
                        s.status == SampleStatus::Met,
                        s.status == SampleStatus::Short,
                    ),
                    PeriodRecord::Target(t) => (
                        t.status == TargetStatus::Met,
                        t.status == TargetStatus::Missed,
                    ),
                    _ => continue,
                };
                if let Some(p) = period_of(r) {
                    periods.insert(p);
                }
                judged += u64::from(ok || problem);
                bad += u64::from(problem);
            }
            let in_latest: Vec<&&PeriodRecord> = records
                .iter()
                .filter(|r| latest.is_some() && period_of(r) == latest)
                .collect();
            match (latest, in_latest.as_slice()) {
                (None, _) => state.push_str(QUIET_PERIODS),
                (Some(p), [one]) => {
                    let _ = write!(state, "{}: {}", p.label(), record_text(one));
                }
                (Some(p), many) => {
                    let problems = many
                        .iter()
                        .filter(|r| crate::report::records::period_is_problem(r))
                        .count();
                    let _ = write!(
                        state,
                        "{}: {problems} of {} group(s) {}",
                        p.label(),
                        many.len(),
                        if c.kind == "sample" {
                            "short"
                        } else {
                            "missed"
                        }
                    );
                }
            }
            if periods.len() > 1 {
                let _ = write!(
                    state,
                    "; {bad} of {judged} period-group(s) {} in {} period(s)",
                    if c.kind == "sample" {
                        "short"
                    } else {
                        "missed"
                    },
                    periods.len()
                );
            }
        }
        "repeat" => {
            let fired: Vec<&crate::period::RepeatAction> = records
                .iter()
                .filter_map(|r| match r {
                    PeriodRecord::Repeat(a) => Some(a),
                    _ => None,
                })
                .collect();
            match fired.last() {
                None => state.push_str(QUIET_REPEAT),
                Some(a) => {
                    let _ = write!(
                        state,
                        "{} repeat(s) fired, each asking to {} `{}`",
                        fired.len(),
                        a.kind.as_str(),
                        a.role
                    );
                }
            }
        }
        _ => {}
    }
    state
}

/// The period of a sampling or target record.
fn period_of(r: &PeriodRecord) -> Option<CalendarPeriod> {
    match r {
        PeriodRecord::Sample(s) => Some(s.period),
        PeriodRecord::Target(t) => Some(t.period),
        _ => None,
    }
}

/// A period record's outcome in words.
fn record_text(r: &PeriodRecord) -> String {
    match r {
        PeriodRecord::Sample(s) => sample_text(s),
        PeriodRecord::Target(t) => target_text(t),
        PeriodRecord::Repeat(a) => format!(
            "{} case(s): {}; {} `{}` due {}",
            a.cases.len(),
            a.cases
                .iter()
                .map(|(t, _)| &**t)
                .collect::<Vec<_>>()
                .join(", "),
            a.kind.as_str(),
            a.role,
            when(a.at, a.zone)
        ),
        PeriodRecord::Draw(_) | PeriodRecord::Compliance(_) => String::new(),
    }
}

/// The state of any non-deadline clause, one line.
fn other_state(eval: &Evaluation, c: &ClauseSummary) -> String {
    match c.kind {
        "record" => {
            let cases = format!(
                "cases {} met, {} breached, {} pending",
                c.met, c.breached, c.pending
            );
            if c.findings == 0 {
                format!("{cases}; {QUIET_FINDINGS}")
            } else {
                let (_, codes) = findings_by_code(eval, c);
                format!("{cases}; {} finding(s): {codes}", c.findings)
            }
        }
        "notify" | "every" | "window" => {
            if c.findings == 0 {
                QUIET_FINDINGS.to_string()
            } else {
                let (cases, codes) = findings_by_code(eval, c);
                format!("{} finding(s) on {cases} case(s): {codes}", c.findings)
            }
        }
        _ => period_state(eval, c),
    }
}

/// The `:summary` table: deadline clauses with their verdict counts and, when any stage fired,
/// their actions; then every other clause with its state.
pub(crate) fn summary(eval: &Evaluation, out: &mut String) {
    let deadlines: Vec<&ClauseSummary> = eval
        .summary
        .clauses
        .iter()
        .filter(|c| c.kind == "deadline")
        .collect();
    let _ = writeln!(
        out,
        "  {:<44} {:>5} {:>8} {:>7} {:>10}",
        "clause", "met", "breached", "pending", "compliance"
    );
    let mut silent = 0;
    for c in &deadlines {
        if c.verdicts() == 0 {
            silent += 1;
            continue;
        }
        let n = Counts::of(c);
        let _ = writeln!(
            out,
            "  {:<44} {:>5} {:>8} {:>7} {:>10}",
            name(c),
            n.met,
            n.breached,
            n.pending,
            n.compliance()
        );
    }
    if silent > 0 {
        let _ = writeln!(
            out,
            "  {silent} deadline clause(s) applied to no case (`:clauses` lists them all)"
        );
    }
    let staged: Vec<&&ClauseSummary> = deadlines
        .iter()
        .filter(|c| c.actions_due + c.actions_done + c.actions_missed > 0)
        .collect();
    if !staged.is_empty() {
        let _ = writeln!(
            out,
            "  {:<44} {:>5} {:>8} {:>7}",
            "stage actions", "due", "done", "missed"
        );
        for c in staged {
            let _ = writeln!(
                out,
                "  {:<44} {:>5} {:>8} {:>7}",
                name(c),
                c.actions_due,
                c.actions_done,
                c.actions_missed
            );
        }
    }
    let others: Vec<&ClauseSummary> = eval
        .summary
        .clauses
        .iter()
        .filter(|c| c.kind != "deadline")
        .collect();
    let states: Vec<(&ClauseSummary, String)> =
        others.iter().map(|c| (*c, other_state(eval, c))).collect();
    let quiet = states
        .iter()
        .filter(|(_, s)| [QUIET_PERIODS, QUIET_REPEAT, QUIET_FINDINGS].contains(&s.as_str()))
        .count();
    if quiet < states.len() {
        let _ = writeln!(out, "  {:<44} {:<7} state", "other clauses", "kind");
        for (c, state) in &states {
            if [QUIET_PERIODS, QUIET_REPEAT, QUIET_FINDINGS].contains(&state.as_str()) {
                continue;
            }
            let _ = writeln!(out, "  {:<44} {:<7} {state}", name(c), c.kind);
        }
    }
    if quiet > 0 {
        let _ = writeln!(
            out,
            "  {quiet} other clause(s) found nothing: no finding, no repeat, no case counted (`:clauses` lists them all)"
        );
    }
}

/// A clause's state in a `:diff` column: compliance for deadlines, finding counts, checks done
/// of required, periods met and missed, repeats.
fn short_state(eval: &Evaluation, c: &ClauseSummary) -> String {
    match c.kind {
        "deadline" => {
            let mut s = Counts::of(c).short();
            if c.actions_missed > 0 {
                let _ = write!(s, " {}!", c.actions_missed);
            }
            s
        }
        "record" => format!("{} {}f", Counts::of(c).short(), c.findings),
        "notify" | "every" | "window" => format!("{} finding(s)", c.findings),
        "sample" => {
            let (mut done, mut required) = (0, 0);
            for r in periods_of(eval, c) {
                if let PeriodRecord::Sample(s) = r {
                    done += s.done.min(s.required);
                    required += s.required;
                }
            }
            format!("{done}/{required} checked")
        }
        "target" => {
            let (mut met, mut missed) = (0, 0);
            for r in periods_of(eval, c) {
                if let PeriodRecord::Target(t) = r {
                    met += u64::from(t.status == TargetStatus::Met);
                    missed += u64::from(t.status == TargetStatus::Missed);
                }
            }
            format!("{met} met, {missed} missed")
        }
        "repeat" => format!("{} repeat(s)", c.actions_due),
        _ => String::new(),
    }
}

/// Writes `lines` under `title`, at most [`LISTED`] of them.
fn section(out: &mut String, title: String, lines: &[String]) {
    let _ = writeln!(out, "{title}");
    for line in lines.iter().take(LISTED) {
        let _ = writeln!(out, "{line}");
    }
    if lines.len() > LISTED {
        let _ = writeln!(out, "  ... and {} more", lines.len() - LISTED);
    }
}

/// The `:diff` text: per clause before and after, then the verdicts, actions, findings and
/// period records that changed.
pub(crate) fn diff(before: &Evaluation, after: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  {:<44} {:>16} {:>16}", "clause", "before", "after");
    let mut names: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for (side, eval) in [(0, before), (1, after)] {
        for c in &eval.summary.clauses {
            let n = name(c);
            let state = short_state(eval, c);
            let row = rows.entry(n.clone()).or_insert_with(|| {
                names.push(n.clone());
                (None, None)
            });
            if side == 0 {
                row.0 = Some(state);
            } else {
                row.1 = Some(state);
            }
        }
    }
    let mut changed_rows = 0;
    for n in &names {
        let (b, a) = &rows[n];
        if b == a {
            continue;
        }
        changed_rows += 1;
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".to_string());
        let _ = writeln!(out, "  {:<44} {:>16} {:>16}", n, show(b), show(a));
    }
    if changed_rows == 0 {
        let _ = writeln!(out, "  (no clause's counts changed)");
    }
    verdicts(&mut out, &before.verdicts, &after.verdicts);
    actions(&mut out, &before.actions, &after.actions);
    findings(&mut out, &before.findings, &after.findings);
    periods(&mut out, &before.periods, &after.periods);
    out
}

fn cycle_text(cycle: u32) -> String {
    if cycle > 1 {
        format!(" cycle {cycle}")
    } else {
        String::new()
    }
}

fn verdicts(out: &mut String, before: &[Verdict], after: &[Verdict]) {
    let key = |v: &Verdict| {
        (
            v.policy.to_string(),
            v.clause.to_string(),
            v.ticket.to_string(),
            v.cycle,
        )
    };
    let b: BTreeMap<_, &Verdict> = before.iter().map(|v| (key(v), v)).collect();
    let a: BTreeMap<_, &Verdict> = after.iter().map(|v| (key(v), v)).collect();
    let keys: BTreeSet<_> = b.keys().chain(a.keys()).cloned().collect();
    let mut changed: Vec<String> = Vec::new();
    let mut moved = 0;
    for k in &keys {
        let (vb, va) = (b.get(k), a.get(k));
        let status = |v: Option<&&Verdict>| v.map_or("none", |v| v.status.as_str());
        let due = |v: Option<&&Verdict>| v.map_or("-".to_string(), |v| when(v.due, v.zone));
        if status(vb) != status(va) {
            changed.push(format!(
                "  {} {}/{}{}: {} → {} (due {} → {})",
                k.2,
                k.0,
                k.1,
                cycle_text(k.3),
                status(vb),
                status(va),
                due(vb),
                due(va)
            ));
        } else if vb.map(|v| v.due) != va.map(|v| v.due) {
            moved += 1;
        }
    }
    if changed.is_empty() {
        let _ = writeln!(out, "no verdict changed status");
    } else {
        section(
            out,
            format!("{} verdict(s) changed status:", changed.len()),
            &changed,
        );
    }
    if moved > 0 {
        let _ = writeln!(
            out,
            "{moved} verdict(s) kept their status with a different due time"
        );
    }
}

fn actions(out: &mut String, before: &[Action], after: &[Action]) {
    let key = |a: &Action| {
        (
            a.ticket.to_string(),
            a.policy.to_string(),
            a.clause.to_string(),
            a.cycle,
            a.stage,
        )
    };
    let b: BTreeMap<_, &Action> = before.iter().map(|a| (key(a), a)).collect();
    let a: BTreeMap<_, &Action> = after.iter().map(|a| (key(a), a)).collect();
    let keys: BTreeSet<_> = b.keys().chain(a.keys()).cloned().collect();
    let mut changed = Vec::new();
    for k in &keys {
        let (x, y) = (b.get(k), a.get(k));
        let status = |v: Option<&&Action>| v.map_or("not reached", |v| v.status.as_str());
        if status(x) != status(y) {
            let any = x.or(y).copied();
            let what = any.map_or(String::new(), |a| {
                format!(
                    " ({} `{}` at {})",
                    a.kind.as_str(),
                    a.role,
                    when(a.at, a.zone)
                )
            });
            changed.push(format!(
                "  {} {}/{}{} stage {}{what}: {} → {}",
                k.0,
                k.1,
                k.2,
                cycle_text(k.3),
                k.4,
                status(x),
                status(y)
            ));
        }
    }
    if !changed.is_empty() {
        section(
            out,
            format!("{} stage action(s) changed:", changed.len()),
            &changed,
        );
    }
}

/// The wording of a finding's message with its numbers (instants, durations, counts) blanked:
/// two findings of one case, clause and code with the same shape are the same finding with
/// other times (a what-if moved its due time), not one that disappeared and another that
/// appeared.
fn shape(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

fn findings(out: &mut String, before: &[Finding], after: &[Finding]) {
    type Key = (String, String, String, &'static str, String);
    let key = |f: &Finding| -> Key {
        (
            f.ticket.to_string(),
            f.policy.to_string(),
            f.clause.to_string(),
            f.code,
            shape(&f.message),
        )
    };
    let group = |fs: &[Finding]| {
        let mut m: BTreeMap<Key, Vec<String>> = BTreeMap::new();
        for f in fs {
            m.entry(key(f)).or_default().push(f.message.clone());
        }
        for messages in m.values_mut() {
            messages.sort();
        }
        m
    };
    let (b, a) = (group(before), group(after));
    let keys: BTreeSet<&Key> = b.keys().chain(a.keys()).collect();
    let (mut appeared, mut gone, mut moved) = (Vec::new(), Vec::new(), 0);
    let none = Vec::new();
    for k in keys {
        let (x, y) = (b.get(k).unwrap_or(&none), a.get(k).unwrap_or(&none));
        // Identical messages first, then the rest in sorted order, pair up as moved.
        let x_only: Vec<&String> = x.iter().filter(|m| !y.contains(m)).collect();
        let y_only: Vec<&String> = y.iter().filter(|m| !x.contains(m)).collect();
        let paired = x_only.len().min(y_only.len());
        moved += paired;
        let line = |m: &str| format!("{} {}/{} `{}`: {m}", k.0, k.1, k.2, k.3);
        for m in &y_only[paired..] {
            appeared.push(format!("  + {}", line(m)));
        }
        for m in &x_only[paired..] {
            gone.push(format!("  - {}", line(m)));
        }
    }
    if !appeared.is_empty() {
        section(
            out,
            format!("{} finding(s) appeared:", appeared.len()),
            &appeared,
        );
    }
    if !gone.is_empty() {
        section(
            out,
            format!("{} finding(s) disappeared:", gone.len()),
            &gone,
        );
    }
    if moved > 0 {
        let _ = writeln!(
            out,
            "{moved} finding(s) stayed with other times in their message"
        );
    }
}

fn periods(out: &mut String, before: &[PeriodRecord], after: &[PeriodRecord]) {
    // (clause, period or repeat case, group) → outcome.
    let key = |r: &PeriodRecord| -> Option<(String, String, String)> {
        match r {
            PeriodRecord::Sample(s) => Some((
                format!("{}/{}", s.policy, s.clause),
                s.period.label(),
                s.group.label(),
            )),
            PeriodRecord::Target(t) => Some((
                format!("{}/{}", t.policy, t.clause),
                t.period.label(),
                t.group.label(),
            )),
            PeriodRecord::Repeat(a) => Some((
                format!("{}/{}", a.policy, a.clause),
                format!("repeat on {}", a.ticket),
                a.key.label(),
            )),
            PeriodRecord::Draw(_) | PeriodRecord::Compliance(_) => None,
        }
    };
    // Its text, and its outcome: `met`, `missed`, `short`, ... (a repeat action has none
    // beyond being there).
    let outcome = |r: &PeriodRecord| {
        let status = match r {
            PeriodRecord::Sample(s) => format!("{:?}", s.status),
            PeriodRecord::Target(t) => format!("{:?}", t.status),
            _ => String::new(),
        };
        (record_text(r), status)
    };
    let map = |rs: &[PeriodRecord]| -> BTreeMap<(String, String, String), (String, String)> {
        rs.iter()
            .filter_map(|r| key(r).map(|k| (k, outcome(r))))
            .collect()
    };
    let (b, a) = (map(before), map(after));
    let keys: BTreeSet<_> = b.keys().chain(a.keys()).collect();
    // Outcomes that changed come first, in a section of their own: a bound or a count moving
    // on dozens of periods must not hide the few that went from missed to met.
    let (mut flipped, mut moved) = (Vec::new(), Vec::new());
    for k in keys {
        let (x, y) = (b.get(k), a.get(k));
        if x == y {
            continue;
        }
        let group = if k.2 == "all" {
            String::new()
        } else {
            format!(" ({})", k.2)
        };
        let show =
            |s: Option<&(String, String)>| s.map_or_else(|| "none".to_string(), |s| s.0.clone());
        let line = format!("  {} {}{group}: {} → {}", k.0, k.1, show(x), show(y));
        match (x, y) {
            (Some(x), Some(y)) if x.1 == y.1 => moved.push(line),
            _ => flipped.push(line),
        }
    }
    if !flipped.is_empty() {
        section(
            out,
            format!("{} period record(s) changed outcome:", flipped.len()),
            &flipped,
        );
    }
    if !moved.is_empty() {
        section(
            out,
            format!(
                "{} period record(s) changed only in their numbers:",
                moved.len()
            ),
            &moved,
        );
    }
}
