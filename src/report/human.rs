//! The report a quality officer reads: per clause, how many cycles were met, breached and
//! pending; then the worst breached cases, missed actions, findings, rejected lines and cases
//! never opened.
//!
//! It is a [`Sink`] that keeps only what it will print: the `list` worst records per clause (a
//! bounded heap each) and the first rejected lines, so a report on ten million events needs no
//! more memory than one on ten. Numbers come first on each line and names last, so columns
//! stay aligned whatever the width of Chinese titles.

use super::records::compliance_percent;
use crate::engine::Sink;
use crate::eval::{
    format_duration, rfc3339, Action, ActionStatus, ClauseRef, Finding, Rejected, Status, Summary,
    Unopened, Verdict,
};
use crate::input::ReadStats;
use crate::limits::MAX_REJECTS_LISTED;
use chrono::Duration;
use chrono_tz::Tz;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;

/// Options of the human report.
#[derive(Debug, Clone, Copy)]
pub struct HumanOptions {
    /// How many breached cycles, missed actions and findings to list per clause.
    pub list: usize,
    /// ANSI colours (only on a terminal).
    pub color: bool,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            list: 10,
            color: false,
        }
    }
}

/// One listed line, ranked: larger `weight` first, then ticket, then cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ranked {
    weight: i64,
    ticket: Box<str>,
    cycle: u32,
    text: String,
}

impl Ord for Ranked {
    /// "Better" (listed earlier) is greater, so a min-heap of `Reverse` drops the least worth
    /// listing first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.weight
            .cmp(&other.weight)
            .then_with(|| other.ticket.cmp(&self.ticket))
            .then_with(|| other.cycle.cmp(&self.cycle))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `limit` best-ranked lines of one list, and how many were offered.
#[derive(Debug, Default)]
struct Worst {
    heap: BinaryHeap<Reverse<Ranked>>,
    total: u64,
}

impl Worst {
    /// Counts one more line and keeps it if it ranks among the `limit` best. Its text is only
    /// written when it is kept: most breached cycles of a large stream are counted, not listed.
    fn offer(
        &mut self,
        limit: usize,
        weight: i64,
        ticket: &str,
        cycle: u32,
        text: impl FnOnce() -> String,
    ) {
        self.total += 1;
        if limit == 0 {
            return;
        }
        let mut item = Ranked {
            weight,
            ticket: ticket.into(),
            cycle,
            text: String::new(),
        };
        if self.heap.len() >= limit {
            match self.heap.peek() {
                Some(Reverse(least)) if item > *least => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        item.text = text();
        self.heap.push(Reverse(item));
    }

    fn sorted(&self) -> Vec<&Ranked> {
        let mut items: Vec<&Ranked> = self.heap.iter().map(|Reverse(r)| r).collect();
        items.sort_by(|a, b| b.cmp(a));
        items
    }
}

/// A [`Sink`] collecting the human report.
#[derive(Debug, Default)]
pub struct HumanReport {
    opts: HumanOptions,
    breached: BTreeMap<ClauseRef, Worst>,
    missed: BTreeMap<ClauseRef, Worst>,
    findings: BTreeMap<ClauseRef, Worst>,
    rejected: Vec<Rejected>,
    unopened: Vec<Unopened>,
    /// Short samples, missed targets and repeat actions, as lines (they are few: one per
    /// clause, period and group at most).
    periods: Vec<(ClauseRef, String)>,
}

/// `03-02 09:10`, with the seconds and their fraction when the instant has them: a stop is
/// shown as precisely as the due time it is compared with (`09:10:00.9` after `09:10:00.25`).
fn hm(t: chrono::DateTime<Tz>) -> String {
    use chrono::Timelike;
    if t.nanosecond() != 0 {
        t.format("%m-%d %H:%M:%S%.f").to_string()
    } else if t.second() != 0 {
        t.format("%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%m-%d %H:%M").to_string()
    }
}

impl HumanReport {
    pub fn new(opts: HumanOptions) -> HumanReport {
        HumanReport {
            opts,
            ..HumanReport::default()
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.opts.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Renders the report. `zone` shows `now` (the first policy's zone); `source` names the
    /// input in the heading.
    pub fn render(&self, summary: &Summary, read: &ReadStats, zone: Tz, source: &str) -> String {
        let mut out = String::new();
        let now = summary
            .now
            .map(|n| rfc3339(n, zone))
            .unwrap_or_else(|| "(no events)".to_string());
        let _ = writeln!(
            out,
            "{}",
            self.paint("1", &format!("pledge check: {source}, as of {now}"))
        );
        let _ = writeln!(
            out,
            "{} line{}, {} events evaluated, {} rejected ({} duplicate, {} late, {} after retention), {} after now; {} cases, {} never opened",
            read.lines,
            if read.lines == 1 { "" } else { "s" },
            summary.accepted,
            summary.rejected,
            summary.duplicates,
            summary.late,
            summary.expired,
            summary.after_now,
            summary.cases,
            summary.unopened,
        );
        for (calendar, year) in &summary.uncovered {
            let _ = writeln!(
                out,
                "{}",
                self.paint(
                    "33",
                    &format!("warning: {}", super::uncovered_warning(calendar, *year))
                )
            );
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "{}",
            self.paint(
                "1",
                "     met  breached   pending  compliance  actions missed  findings  clause"
            )
        );
        let mut policy = None;
        for c in &summary.clauses {
            if policy != Some(&c.policy) {
                let _ = writeln!(out, "  {}", self.paint("1", &c.policy));
                policy = Some(&c.policy);
            }
            let compliance = match compliance_percent(c) {
                Some(p) => format!("{p:.1} %"),
                None if c.kind == "deadline" || c.judges_cases() || c.counts_checks() => {
                    "-".to_string()
                }
                None => String::new(),
            };
            let numbers = if c.kind == "deadline" {
                format!(
                    "{:>8}  {:>8}  {:>8}  {:>10}  {:>14}  {:>8}",
                    c.met, c.breached, c.pending, compliance, c.actions_missed, c.findings
                )
            } else if c.judges_cases() {
                // Record clauses: cases met, breached (any finding) and pending (still open).
                format!(
                    "{:>8}  {:>8}  {:>8}  {:>10}  {:>14}  {:>8}",
                    c.met, c.breached, c.pending, compliance, "", c.findings
                )
            } else if c.counts_checks() {
                // Duties, windows, samples and targets: met checks, and each failed check is a
                // finding; an obligation's periods may still be pending.
                let pending = if c.pending > 0 {
                    c.pending.to_string()
                } else {
                    String::new()
                };
                format!(
                    "{:>8}  {:>8}  {:>8}  {:>10}  {:>14}  {:>8}",
                    c.met, "", pending, compliance, "", c.findings
                )
            } else {
                format!(
                    "{:>8}  {:>8}  {:>8}  {:>10}  {:>14}  {:>8}",
                    "", "", "", "", "", c.findings
                )
            };
            let numbers = if c.breached > 0 || c.actions_missed > 0 || c.findings > 0 {
                self.paint("31", &numbers)
            } else {
                numbers
            };
            let title = c
                .title
                .as_deref()
                .map(|t| format!("  {t}"))
                .unwrap_or_default();
            let kind = if c.kind == "deadline" {
                String::new()
            } else if c.judges_cases() {
                format!(" ({}, {} case(s) judged)", c.kind, c.verdicts())
            } else if c.counts_checks() && c.verdicts() == 0 {
                format!(" ({}, nothing checked)", c.kind)
            } else if c.counts_checks() {
                format!(" ({}, {} checked)", c.kind, c.verdicts())
            } else {
                format!(" ({})", c.kind)
            };
            let _ = writeln!(out, "{numbers}    {}{kind}{title}", c.clause);
        }
        self.section(
            &mut out,
            summary,
            "Breached",
            &self.breached,
            "breached cycles",
        );
        self.section(
            &mut out,
            summary,
            "Missed actions",
            &self.missed,
            "missed actions",
        );
        self.section(&mut out, summary, "Findings", &self.findings, "findings");
        if !self.periods.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                self.paint("1", "Sampling, targets and repeats needing attention")
            );
            let mut shown: BTreeMap<ClauseRef, usize> = BTreeMap::new();
            for (clause_ref, line) in &self.periods {
                let n = shown.entry(*clause_ref).or_default();
                *n += 1;
                if *n == 1 {
                    if let Some(c) = summary.clause(*clause_ref) {
                        let title = c
                            .title
                            .as_deref()
                            .map(|t| format!("  {t}"))
                            .unwrap_or_default();
                        let _ = writeln!(out, "  {}/{}{title}", c.policy, c.clause);
                    }
                }
                if *n <= self.opts.list.max(1) {
                    let _ = writeln!(out, "    {line}");
                } else if *n == self.opts.list.max(1) + 1 {
                    let _ = writeln!(out, "    ... more with --format jsonl or pledge report");
                }
            }
        }
        if summary.rejected > 0 {
            let _ = writeln!(
                out,
                "\n{}",
                self.paint("1", &format!("Rejected lines: {}", summary.rejected))
            );
            for r in self.rejected.iter().take(self.opts.list.max(1) * 2) {
                let _ = writeln!(out, "  line {}: {}", r.line, r.reason);
            }
            let shown = self.rejected.len().min(self.opts.list.max(1) * 2) as u64;
            if summary.rejected > shown {
                let _ = writeln!(
                    out,
                    "  ... and {} more (all of them with --format jsonl or --rejects FILE)",
                    summary.rejected - shown
                );
            }
        }
        if summary.unopened > 0 {
            let _ = writeln!(
                out,
                "\n{}",
                self.paint(
                    "1",
                    &format!("Cases never opened (no verdicts): {}", summary.unopened)
                )
            );
            for u in self.unopened.iter().take(self.opts.list.max(1)) {
                let _ = writeln!(
                    out,
                    "  {}: {} event(s), first on line {}",
                    u.ticket, u.events, u.first_line
                );
            }
            let shown = self.unopened.len().min(self.opts.list.max(1)) as u64;
            if summary.unopened > shown {
                let _ = writeln!(out, "  ... and {} more", summary.unopened - shown);
            }
        }
        out
    }

    fn section(
        &self,
        out: &mut String,
        summary: &Summary,
        heading: &str,
        lists: &BTreeMap<ClauseRef, Worst>,
        noun: &str,
    ) {
        if lists.values().all(|w| w.total == 0) {
            return;
        }
        let _ = writeln!(out, "\n{}", self.paint("1", heading));
        for (clause_ref, worst) in lists {
            let Some(c) = summary.clause(*clause_ref) else {
                continue;
            };
            let title = c
                .title
                .as_deref()
                .map(|t| format!("  {t}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}/{}{title}", c.policy, c.clause);
            for item in worst.sorted() {
                let _ = writeln!(out, "    {}", item.text);
            }
            let shown = worst.heap.len() as u64;
            if worst.total > shown {
                let _ = writeln!(
                    out,
                    "    ... {} {noun} in all (all of them with --format jsonl)",
                    worst.total
                );
            }
        }
    }
}

fn late_text(v: &Verdict) -> String {
    let zone = v.zone;
    let due = rfc3339(v.due, zone);
    let by = format_duration(v.overdue_by.unwrap_or_else(Duration::zero));
    match v.stop {
        Some(stop) => format!(
            "{}  cycle {}  due {due}  stopped {}  late by {by}",
            v.ticket,
            v.cycle,
            hm(stop.with_timezone(&zone))
        ),
        None => format!(
            "{}  cycle {}  due {due}  not stopped, overdue by {by}{}",
            v.ticket,
            v.cycle,
            if v.paused { " (paused)" } else { "" }
        ),
    }
}

impl Sink for HumanReport {
    fn period(&mut self, record: &crate::period::PeriodRecord) {
        use crate::period::PeriodRecord;
        if !super::records::period_is_problem(record) {
            return;
        }
        let group = |g: &crate::period::Group| {
            let label = g.to_string();
            if label.is_empty() {
                String::new()
            } else {
                format!(" [{label}]")
            }
        };
        let line = match record {
            PeriodRecord::Sample(s) => format!(
                "{}{}: {} of {} required checks by {} ({} cases), {} missing",
                s.period.label(),
                group(&s.group),
                s.done,
                s.required,
                s.role,
                s.population,
                s.missing
            ),
            PeriodRecord::Target(t) if t.obligation.is_some() => {
                let o = t.obligation.as_ref().expect("matched");
                format!(
                    "{}{}: {}, {}{}",
                    t.period.label(),
                    group(&t.group),
                    o.text(t.zone),
                    crate::explain::other::target_text(&crate::period::TargetVerdict {
                        obligation: None,
                        status: crate::period::TargetStatus::Missed,
                        ..t.clone()
                    })
                    .trim_end_matches(": missed"),
                    o.code().map_or(String::new(), |c| format!("  [{c}]"))
                )
            }
            PeriodRecord::Target(t) if t.measure.is_some() => format!(
                "{}{}: {}",
                t.period.label(),
                group(&t.group),
                t.measure.as_ref().map(|m| m.text()).unwrap_or_default()
            ),
            PeriodRecord::Target(t) => format!(
                "{}{}: {} of {} ({}), target {} {:.1} %",
                t.period.label(),
                group(&t.group),
                t.hits,
                t.total,
                t.ratio_text().map_or("-".to_string(), |p| format!("{p} %")),
                if t.at_least { "at least" } else { "at most" },
                f64::from(t.bound_permille) / 10.0
            ),
            PeriodRecord::Repeat(r) => format!(
                "{}  {}: {} {} after {} cases{}",
                r.ticket,
                rfc3339(r.at, r.zone),
                r.kind.as_str(),
                r.role,
                r.cases.len(),
                group(&r.key)
            ),
            _ => return,
        };
        self.periods.push((record.clause_ref(), line));
    }

    fn verdict(&mut self, verdict: &Verdict) {
        if verdict.status != Status::Breached {
            return;
        }
        let weight = verdict.overdue_by.map_or(0, |d| d.num_seconds());
        let limit = self.opts.list;
        self.breached.entry(verdict.clause_ref).or_default().offer(
            limit,
            weight,
            &verdict.ticket,
            verdict.cycle,
            || late_text(verdict),
        );
    }

    fn action(&mut self, action: &Action) {
        if action.status != ActionStatus::Missed {
            return;
        }
        let text = || {
            let channels = if action.channels.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = action.channels.iter().map(|c| &**c).collect();
                format!(" via {}", names.join(", "))
            };
            format!(
                "{}  cycle {}  stage {}: {} {}{channels} at {}, no evidence",
                action.ticket,
                action.cycle,
                action.stage,
                action.kind.as_str(),
                action.role,
                rfc3339(action.at, action.zone)
            )
        };
        // Oldest first: the longest-missed action is the worst.
        let limit = self.opts.list;
        self.missed.entry(action.clause_ref).or_default().offer(
            limit,
            -action.at.timestamp(),
            &action.ticket,
            action.cycle,
            text,
        );
    }

    fn rejected(&mut self, rejected: &Rejected) {
        if self.rejected.len() < MAX_REJECTS_LISTED {
            self.rejected.push(rejected.clone());
        }
    }

    fn unopened(&mut self, unopened: &Unopened) {
        if self.unopened.len() < MAX_REJECTS_LISTED {
            self.unopened.push(unopened.clone());
        }
    }

    fn finding(&mut self, finding: &Finding) {
        let text = || {
            format!(
                "{}  {}  {}: {}",
                finding.ticket,
                rfc3339(finding.at, finding.zone),
                finding.code,
                finding.message
            )
        };
        let limit = self.opts.list;
        self.findings.entry(finding.clause_ref).or_default().offer(
            limit,
            -finding.at.timestamp(),
            &finding.ticket,
            0,
            text,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_keeps_the_largest_and_writes_only_kept_lines() {
        let mut worst = Worst::default();
        let mut written = Vec::new();
        for (weight, ticket) in [(5, "A"), (9, "B"), (1, "C"), (9, "A"), (7, "D")] {
            worst.offer(2, weight, ticket, 1, || {
                written.push(ticket);
                ticket.to_string()
            });
        }
        let kept: Vec<&str> = worst.sorted().iter().map(|r| r.text.as_str()).collect();
        // Ties on weight: the smaller ticket ranks first.
        assert_eq!(kept, ["A", "B"]);
        assert_eq!(worst.total, 5);
        // C ranks below both kept lines when it arrives, so its text is never written.
        assert!(!written.contains(&"C"), "{written:?}");
    }

    /// The stop is written as precisely as the due time it is compared with.
    #[test]
    fn a_stop_has_its_seconds_and_their_fraction_when_it_has_them() {
        let zone = chrono_tz::Asia::Shanghai;
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&zone)
        };
        assert_eq!(hm(at("2026-03-02T09:00:00+08:00")), "03-02 09:00");
        assert_eq!(hm(at("2026-03-02T09:00:31+08:00")), "03-02 09:00:31");
        assert_eq!(hm(at("2026-03-02T09:10:00.9+08:00")), "03-02 09:10:00.900");
    }
}
