//! `--format html`: one self-contained page a director opens from an e-mail. Per clause the
//! compliance trend by period (an inline SVG bar chart), a heat map of groups (projects, or any
//! `--group-by` attribute) × clauses, targets with their thresholds, sampling status, the worst
//! breaches with due time and lateness, and from every clause a link to its breached cases.
//!
//! Two steps, so that what the page shows can be tested apart from its markup:
//! [`HtmlData::build`] computes every number and text of the page (a plain value, serialized to
//! JSON by the golden test), and [`HtmlData::render`] writes the markup from it alone.
//!
//! The page needs nothing else: CSS and SVG are inline, drawn by this module; no script, no
//! font file (a font stack with CJK fallbacks installed with the systems a director uses), no
//! network. Links from a clause to its breaches are anchors. Every string that comes from a
//! policy or an event (titles, names, ticket ids, attribute values) is escaped. It prints on
//! A4 (`@page`), sections kept whole where they fit.

use crate::engine::Sink;
use crate::eval::{format_duration, rfc3339, ClauseRef, Finding, Status, Summary, Verdict};
use crate::period::PeriodRecord;
use crate::policy::{ClauseBody, DutyRule, Policy};
use crate::report::period::{percent, PeriodReport, ReportRow};
use crate::syntax::format_limit;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

mod charts;
use charts::{gauge_svg, heat_colour, status_class, tone, trend_svg};

/// How many breached cycles and findings the page lists per clause, and how many breaches the
/// "worst breaches" table lists.
pub const LISTED_PER_CLAUSE: usize = 20;

/// How many groups the heat map has columns for (in the groups' order); a page with hundreds
/// of columns helps nobody, the JSON and CSV reports have them all.
pub const MAX_GROUPS: usize = 40;

/// A [`Sink`] keeping what the page needs: the period records (a period report must have been
/// asked for, [`crate::period::PeriodTally::report_by`]), the most overdue breached cycles and
/// the latest findings of each clause, and the first rejected lines. Memory is bounded whatever
/// the length of the stream.
#[derive(Debug, Default)]
pub struct HtmlSink {
    pub records: Vec<PeriodRecord>,
    breaches: BTreeMap<ClauseRef, Vec<Breach>>,
    findings: BTreeMap<ClauseRef, Vec<FindingItem>>,
    rejected: Vec<RejectedItem>,
}

/// A rejected line, as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedItem {
    pub line: u64,
    pub reason: String,
}

/// A breached cycle, as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub ticket: String,
    pub policy: String,
    pub clause: String,
    /// The anchor of the clause's section.
    pub anchor: String,
    pub cycle: u32,
    pub due: String,
    /// `None`: the clock has not stopped.
    pub stop: Option<String>,
    pub late_seconds: i64,
    /// `9 h 30 min`.
    pub late: String,
}

/// A finding, as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingItem {
    pub ticket: String,
    pub at: String,
    pub code: String,
    pub message: String,
    #[serde(skip)]
    sort: i64,
}

/// The anchor of a clause: its position, so that any name makes a valid id.
fn anchor(c: ClauseRef) -> String {
    format!("clause-{}-{}", c.policy, c.clause)
}

/// Keeps the `LISTED_PER_CLAUSE` first items of `list` by `key`, trimming only now and then.
fn keep<T, K: Ord>(list: &mut Vec<T>, key: impl Fn(&T) -> K) {
    if list.len() >= 4 * LISTED_PER_CLAUSE {
        list.sort_by_key(&key);
        list.truncate(LISTED_PER_CLAUSE);
    }
}

fn breach_order(b: &Breach) -> (std::cmp::Reverse<i64>, String, u32) {
    (std::cmp::Reverse(b.late_seconds), b.ticket.clone(), b.cycle)
}

fn finding_order(f: &FindingItem) -> (i64, String, String) {
    (f.sort, f.ticket.clone(), f.code.clone())
}

impl Sink for HtmlSink {
    fn verdict(&mut self, v: &Verdict) {
        if v.status != Status::Breached {
            return;
        }
        let late = v.overdue_by.unwrap_or_else(chrono::Duration::zero);
        let list = self.breaches.entry(v.clause_ref).or_default();
        list.push(Breach {
            ticket: v.ticket.to_string(),
            policy: v.policy.to_string(),
            clause: v.clause.to_string(),
            anchor: anchor(v.clause_ref),
            cycle: v.cycle,
            due: rfc3339(v.due, v.zone),
            stop: v.stop.map(|s| rfc3339(s, v.zone)),
            late_seconds: late.num_seconds(),
            late: format_duration(late),
        });
        keep(list, breach_order);
    }
    fn action(&mut self, _: &crate::eval::Action) {}
    fn rejected(&mut self, r: &crate::eval::Rejected) {
        if self.rejected.len() < LISTED_PER_CLAUSE {
            self.rejected.push(RejectedItem {
                line: r.line,
                reason: r.reason.clone(),
            });
        }
    }
    fn unopened(&mut self, _: &crate::eval::Unopened) {}
    fn finding(&mut self, f: &Finding) {
        let list = self.findings.entry(f.clause_ref).or_default();
        list.push(FindingItem {
            ticket: f.ticket.to_string(),
            at: rfc3339(f.at, f.zone),
            code: f.code.to_string(),
            message: f.message.clone(),
            sort: f.at.timestamp(),
        });
        keep(list, finding_order);
    }
    fn period(&mut self, record: &PeriodRecord) {
        if !matches!(record, PeriodRecord::Draw(_)) {
            self.records.push(record.clone());
        }
    }
}

/// Met among decided in one cell of the page (a period, a group, or the whole stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Cell {
    pub met: u64,
    /// Met and breached cycles, or all checks of a duty or window.
    pub decided: u64,
    pub pending: u64,
    pub findings: u64,
}

impl Cell {
    fn add(&mut self, r: &ReportRow) {
        match r.kind {
            "deadline" => {
                self.met += r.met;
                self.decided += r.met + r.breached;
                self.pending += r.pending;
            }
            "every" | "window" => {
                self.met += r.met;
                self.decided += r.checked();
            }
            _ => {}
        }
        self.findings += r.findings;
    }

    /// Per-mille rounded down; `None` when nothing was decided.
    pub fn permille(&self) -> Option<u64> {
        (self.decided > 0).then(|| self.met.saturating_mul(1000) / self.decided)
    }

    fn is_empty(&self) -> bool {
        self.decided == 0 && self.pending == 0 && self.findings == 0
    }
}

/// One clause on the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseData {
    pub anchor: String,
    pub policy: String,
    pub clause: String,
    /// What the heat map and the trend show: the clause's name, or `policy/clause` when
    /// another policy of the report has a clause of that name (as the text report does).
    pub shown: String,
    pub kind: String,
    pub title: Option<String>,
    /// The standard's threshold: `within 1 hour`, `every 2 hours`, `only 00:00-05:00`.
    pub threshold: String,
    pub total: Cell,
    /// Breached cycles (deadline clauses).
    pub breached: u64,
    /// One cell per period of [`HtmlData::periods`].
    pub trend: Vec<Cell>,
    /// One cell per group of [`HtmlData::groups`].
    pub heat: Vec<Cell>,
    /// The most overdue breached cycles, most overdue first.
    pub breaches: Vec<Breach>,
    /// The earliest findings.
    pub findings: Vec<FindingItem>,
}

/// A sampling clause in one period and group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleData {
    pub policy: String,
    pub clause: String,
    pub title: Option<String>,
    pub period: String,
    pub group: String,
    pub population: u64,
    pub required: u64,
    pub done: u64,
    pub missing: u64,
    pub status: String,
}

/// A target in one period and group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetData {
    pub policy: String,
    pub clause: String,
    pub title: Option<String>,
    pub period: String,
    pub group: String,
    pub hits: u64,
    pub total: u64,
    pub ratio_permille: Option<u64>,
    /// The ratio as shown (`5.05%` just over an `at most 5.0%`, see
    /// [`crate::period::target_ratio_text`]).
    pub ratio: Option<String>,
    /// `at least 90.0%`.
    pub bound: String,
    pub bound_permille: u32,
    pub status: String,
    /// A measuring target's value against its bound, in words (no gauge); `None` for a ratio.
    pub measure: Option<String>,
    /// An obligation clause's outcome in words, with the figures of the target it follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obligation: Option<String>,
}

/// Everything the page shows (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HtmlData {
    /// The input, as named on the command line.
    pub source: String,
    pub now: Option<String>,
    pub unit: String,
    pub filter: Option<String>,
    /// The group attributes, `[]` for one group `all`.
    pub group_by: Vec<String>,
    pub cases: u64,
    pub events: u64,
    pub rejected: u64,
    pub rejected_lines: Vec<RejectedItem>,
    /// Warnings of years a calendar has no holiday data for ([`super::uncovered_warning`]).
    pub uncovered: Vec<String>,
    /// Over every deadline, duty and window clause.
    pub total: Cell,
    pub breached: u64,
    pub findings: u64,
    /// Labels of the report's periods, in order.
    pub periods: Vec<String>,
    /// Labels of the groups, in order (`-` for a missing value), at most [`MAX_GROUPS`].
    pub groups: Vec<String>,
    /// Groups beyond [`MAX_GROUPS`], left out of the heat map (their counts are in the totals).
    pub groups_left_out: usize,
    /// Deadline, duty, window and notification clauses that judged something.
    pub clauses: Vec<ClauseData>,
    /// `policy/clause` of the deadline, duty and window clauses that judged nothing (no case
    /// they apply to, or none decided).
    pub idle: Vec<String>,
    /// `policy/clause` of the notification and record clauses without a finding (the page counts
    /// them by their findings alone).
    pub quiet_notices: Vec<String>,
    pub samples: Vec<SampleData>,
    pub targets: Vec<TargetData>,
    /// The most overdue breaches of all clauses.
    pub worst: Vec<Breach>,
}

/// The threshold of a clause as the policy states it.
fn threshold(body: &ClauseBody) -> String {
    match body {
        ClauseBody::Deadline(d) => format_limit(&d.limit),
        ClauseBody::Every(d) => match &d.rule {
            DutyRule::Gap(limit) => {
                let l = format_limit(limit);
                format!("every {}", l.strip_prefix("within ").unwrap_or(&l))
            }
            DutyRule::Quota { count, per, on } => format!(
                "at least {count} per {}{}",
                per.as_str(),
                on.as_ref()
                    .map(|c| format!(" on {}", c.name))
                    .unwrap_or_default()
            ),
            DutyRule::PerAlert { count } => format!("at least {count} per alert"),
            DutyRule::Cover { until } => {
                format!(
                    "covered from {} until {}",
                    crate::syntax::format_trigger(&d.event),
                    crate::syntax::format_trigger(until)
                )
            }
        },
        ClauseBody::Window(w) => {
            let text = match w.season {
                Some((from, to)) => format!(
                    "only {:02}-{:02}..{:02}-{:02}",
                    from.month, from.day, to.month, to.day
                ),
                None => {
                    let p: Vec<String> = w.periods.iter().map(|p| p.to_string()).collect();
                    format!("only {}", p.join(", "))
                }
            };
            match (w.each, w.season.is_some()) {
                (false, _) => text,
                (true, true) => format!("{text} each year"),
                (true, false) => format!("{text} each day"),
            }
        }
        ClauseBody::Notify(_) => "notification".to_string(),
        ClauseBody::Record(r) => format!("{} record item(s)", r.items.len()),
        ClauseBody::Sample(s) => format!(
            "{} by {} per {}",
            percent(u64::from(s.ratio_permille)),
            s.role,
            s.period.as_str()
        ),
        ClauseBody::Target(t) => format!(
            "{} {}",
            if t.at_least { "at least" } else { "at most" },
            percent(u64::from(t.bound_permille))
        ),
        ClauseBody::Repeat(_) => "repeat".to_string(),
    }
}

impl HtmlData {
    /// The page's data: `report` built from `sink.records` (the report's rows), the breaches and
    /// findings `sink` kept, the stream's counts from `summary`.
    pub fn build(
        policies: &[Policy],
        report: &PeriodReport,
        sink: &HtmlSink,
        summary: &Summary,
        source: &str,
        group_by: &[String],
    ) -> HtmlData {
        let counted = |r: &&ReportRow| {
            matches!(
                r.kind,
                "deadline" | "every" | "window" | "notify" | "record"
            )
        };
        let periods: BTreeSet<_> = report
            .rows
            .iter()
            .filter(counted)
            .map(|r| (r.period.first_date(), r.period.unit, r.period.label()))
            .collect();
        let periods: Vec<String> = periods.into_iter().map(|p| p.2).collect();
        let groups: BTreeSet<_> = report
            .rows
            .iter()
            .filter(counted)
            .map(|r| r.group.clone())
            .collect();
        let mut groups: Vec<_> = groups.into_iter().collect();
        let groups_left_out = groups.len().saturating_sub(MAX_GROUPS);
        groups.truncate(MAX_GROUPS);
        let mut clauses = Vec::new();
        let mut idle = Vec::new();
        let mut quiet_notices = Vec::new();
        let mut total = Cell::default();
        let mut breached = 0;
        for (pi, policy) in policies.iter().enumerate() {
            for (ci, clause) in policy.clauses.iter().enumerate() {
                let clause_ref = ClauseRef {
                    policy: pi,
                    clause: ci,
                };
                let kind = clause.body.keyword();
                if !matches!(kind, "deadline" | "every" | "window" | "notify" | "record") {
                    continue;
                }
                let rows: Vec<&ReportRow> = report
                    .rows
                    .iter()
                    .filter(|r| r.clause_ref == clause_ref)
                    .collect();
                let mut data = ClauseData {
                    anchor: anchor(clause_ref),
                    policy: policy.name.clone(),
                    clause: clause.name.clone(),
                    shown: clause.name.clone(),
                    kind: kind.to_string(),
                    title: clause.title.clone(),
                    threshold: threshold(&clause.body),
                    total: Cell::default(),
                    breached: 0,
                    trend: vec![Cell::default(); periods.len()],
                    heat: vec![Cell::default(); groups.len()],
                    breaches: Vec::new(),
                    findings: Vec::new(),
                };
                for r in &rows {
                    data.total.add(r);
                    data.breached += r.breached;
                    let label = r.period.label();
                    if let Some(i) = periods.iter().position(|p| *p == label) {
                        data.trend[i].add(r);
                    }
                    if let Some(i) = groups.iter().position(|g| *g == r.group) {
                        data.heat[i].add(r);
                    }
                }
                if data.total.is_empty() {
                    // A notification clause counts findings only: without one it may have
                    // judged many cases, or none.
                    let list = if matches!(kind, "notify" | "record") {
                        &mut quiet_notices
                    } else {
                        &mut idle
                    };
                    list.push(format!("{}/{}", policy.name, clause.name));
                    continue;
                }
                if let Some(list) = sink.breaches.get(&clause_ref) {
                    let mut list = list.clone();
                    list.sort_by_key(breach_order);
                    list.truncate(LISTED_PER_CLAUSE);
                    data.breaches = list;
                }
                if let Some(list) = sink.findings.get(&clause_ref) {
                    let mut list = list.clone();
                    list.sort_by_key(finding_order);
                    list.truncate(LISTED_PER_CLAUSE);
                    data.findings = list;
                }
                if !matches!(kind, "notify" | "record") {
                    total.met += data.total.met;
                    total.decided += data.total.decided;
                    total.pending += data.total.pending;
                }
                total.findings += data.total.findings;
                breached += data.breached;
                clauses.push(data);
            }
        }
        let mut named: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for c in &clauses {
            *named.entry(c.clause.clone()).or_default() += 1;
        }
        for c in &mut clauses {
            if named.get(&c.clause).is_some_and(|&n| n > 1) {
                c.shown = format!("{}/{}", c.policy, c.clause);
            }
        }
        let title_of = |c: ClauseRef| {
            policies
                .get(c.policy)
                .and_then(|p| p.clauses.get(c.clause))
                .and_then(|c| c.title.clone())
        };
        let mut samples = Vec::new();
        let mut targets = Vec::new();
        for r in &report.rows {
            match r.kind {
                "sample" => samples.push(SampleData {
                    policy: r.policy.to_string(),
                    clause: r.clause.to_string(),
                    title: title_of(r.clause_ref),
                    period: r.period.label(),
                    group: r.group.label(),
                    population: r.population,
                    required: r.required,
                    done: r.done,
                    missing: r.missing,
                    status: r.status.to_string(),
                }),
                "target" => {
                    let (at_least, bound) = r.bound.unwrap_or((true, 0));
                    targets.push(TargetData {
                        policy: r.policy.to_string(),
                        clause: r.clause.to_string(),
                        title: title_of(r.clause_ref),
                        period: r.period.label(),
                        group: r.group.label(),
                        hits: r.hits,
                        total: r.total,
                        ratio_permille: r.ratio_permille(),
                        ratio: crate::period::target_ratio_text(r.hits, r.total, at_least, bound)
                            .map(|r| format!("{r}%")),
                        bound: format!(
                            "{} {}",
                            if at_least { "at least" } else { "at most" },
                            percent(u64::from(bound))
                        ),
                        bound_permille: bound,
                        status: r.status.to_string(),
                        measure: r.measure.as_ref().map(|m| m.text()),
                        obligation: r.obligation.is_some().then(|| r.detail()),
                    })
                }
                _ => {}
            }
        }
        let mut worst: Vec<Breach> = clauses
            .iter()
            .flat_map(|c| c.breaches.iter().cloned())
            .collect();
        worst.sort_by_key(breach_order);
        worst.truncate(LISTED_PER_CLAUSE);
        HtmlData {
            source: source.to_string(),
            now: report.now.map(|n| rfc3339(n, report.zone)),
            unit: report.unit.as_str().to_string(),
            filter: report.filter.map(|f| f.label()),
            group_by: group_by.to_vec(),
            cases: summary.cases,
            events: summary.accepted,
            rejected: summary.rejected,
            rejected_lines: sink.rejected.clone(),
            uncovered: summary
                .uncovered
                .iter()
                .map(|(calendar, year)| super::uncovered_warning(calendar, *year))
                .collect(),
            total,
            breached,
            findings: total.findings,
            periods,
            groups: groups.iter().map(|g| g.label()).collect(),
            groups_left_out,
            clauses,
            idle,
            quiet_notices,
            samples,
            targets,
            worst,
        }
    }

    /// The page.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let title = format!("pledge report: {}", self.source);
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            esc(&title)
        );
        self.header(&mut o);
        self.heat_map(&mut o);
        self.clause_table(&mut o);
        self.targets(&mut o);
        self.samples(&mut o);
        self.worst(&mut o);
        self.details(&mut o);
        o.push_str("</body>\n</html>\n");
        o
    }

    fn header(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "<header><h1>服务标准执行报告 <span class=\"en\">Service standards report</span></h1>"
        );
        let mut facts = vec![format!("<b>{}</b>", esc(&self.source))];
        if let Some(now) = &self.now {
            facts.push(format!("as of {}", esc(now)));
        }
        facts.push(format!("by {}", esc(&self.unit)));
        if let Some(f) = &self.filter {
            facts.push(format!("period {}", esc(f)));
        }
        if !self.group_by.is_empty() {
            facts.push(format!("grouped by {}", esc(&self.group_by.join(" / "))));
        }
        let _ = writeln!(o, "<p class=\"facts\">{}</p>", facts.join(" · "));
        let kpis = [
            ("cases", self.cases.to_string(), ""),
            ("events", self.events.to_string(), ""),
            ("rejected lines", self.rejected.to_string(), ""),
            (
                "compliance",
                self.total.permille().map_or("-".to_string(), percent),
                tone(self.total.permille()),
            ),
            (
                "breached cycles",
                self.breached.to_string(),
                if self.breached > 0 { "bad" } else { "good" },
            ),
            (
                "findings",
                self.findings.to_string(),
                if self.findings > 0 { "bad" } else { "good" },
            ),
        ];
        o.push_str("<div class=\"kpis\">");
        for (name, value, class) in kpis {
            let _ = write!(
                o,
                "<div class=\"kpi {class}\" data-kpi=\"{}\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
                esc(name),
                esc(&value),
                esc(name)
            );
        }
        o.push_str("</div>\n");
        for warning in &self.uncovered {
            let _ = writeln!(o, "<p class=\"warning\">warning: {}</p>", esc(warning));
        }
        if !self.rejected_lines.is_empty() {
            o.push_str("<details class=\"rejected\"><summary>Rejected lines</summary><ul>");
            for r in &self.rejected_lines {
                let _ = write!(o, "<li>line {}: {}</li>", r.line, esc(&r.reason));
            }
            o.push_str("</ul></details>\n");
        }
        o.push_str("</header>\n");
    }

    fn clause_table(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "<section class=\"clauses\"><h2>合规趋势 <span class=\"en\">Compliance by clause and {}</span></h2>",
            esc(&self.unit)
        );
        if self.clauses.is_empty() {
            o.push_str("<p>No clause judged anything.</p>\n");
        } else {
            self.clause_rows(o);
        }
        if !self.idle.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"idle\"><b>Judged nothing</b> (no case they apply to, or nothing decided yet): {}</p>",
                self.idle.iter().map(|s| esc(s)).collect::<Vec<_>>().join(", ")
            );
        }
        if !self.quiet_notices.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"idle\"><b>Notification and record clauses without a finding</b>: {}</p>",
                self.quiet_notices
                    .iter()
                    .map(|s| esc(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        o.push_str("</section>\n");
    }

    fn clause_rows(&self, o: &mut String) {
        o.push_str(
            "<div class=\"wide\"><table><thead><tr><th>clause</th><th>threshold</th><th class=\"n\">met</th>\
             <th class=\"n\">decided</th><th class=\"n\">pending</th><th class=\"n\">findings</th>\
             <th class=\"n\">compliance</th><th>trend</th></tr></thead><tbody>\n",
        );
        for c in &self.clauses {
            // Notification and record clauses are counted here by their findings alone (the
            // period report's rows): a 0 under met, decided and pending would say they judged
            // nothing.
            let by_findings = matches!(c.kind.as_str(), "notify" | "record");
            let count = |n: u64| {
                if by_findings {
                    "<span title=\"counted by findings only\">–</span>".to_string()
                } else {
                    n.to_string()
                }
            };
            let _ = writeln!(
                o,
                "<tr data-clause=\"{}/{}\" data-met=\"{}\" data-decided=\"{}\" data-breached=\"{}\" data-findings=\"{}\">\
                 <td>{}</td><td class=\"th\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td>{}</td></tr>",
                esc(&c.policy),
                esc(&c.clause),
                c.total.met,
                c.total.decided,
                c.breached,
                c.total.findings,
                clause_link(c),
                esc(&c.threshold),
                count(c.total.met),
                count(c.total.decided),
                count(c.total.pending),
                c.total.findings,
                tone(c.total.permille()),
                c.total.permille().map_or("-".to_string(), percent),
                trend_svg(c, &self.periods),
            );
        }
        o.push_str("</tbody></table></div>\n");
    }

    fn heat_map(&self, o: &mut String) {
        let by = if self.group_by.is_empty() {
            "group".to_string()
        } else {
            self.group_by.join(" / ")
        };
        let _ = writeln!(
            o,
            "<section class=\"heat\"><h2>热力图 <span class=\"en\">{} × clause</span></h2>",
            esc(&by)
        );
        if self.clauses.is_empty() {
            o.push_str("<p>Nothing to show.</p></section>\n");
            return;
        }
        o.push_str("<div class=\"wide\"><table><thead><tr><th>clause</th>");
        for g in &self.groups {
            let _ = write!(o, "<th class=\"n\">{}</th>", esc(g));
        }
        o.push_str("</tr></thead><tbody>\n");
        for c in &self.clauses {
            let _ = write!(o, "<tr><td>{}</td>", clause_link(c));
            for (g, cell) in self.groups.iter().zip(&c.heat) {
                let p = cell.permille();
                let text = match p {
                    Some(p) => percent(p),
                    None if cell.findings == 1 => "1 finding".to_string(),
                    None if cell.findings > 0 => format!("{} findings", cell.findings),
                    None if cell.pending > 0 => format!("{} pending", cell.pending),
                    None => String::new(),
                };
                let _ = write!(
                    o,
                    "<td class=\"cell\" style=\"background:{}\" data-group=\"{}\" title=\"{}: {} of {} met\"><a href=\"#{}\">{}</a></td>",
                    heat_colour(p, cell),
                    esc(g),
                    esc(g),
                    cell.met,
                    cell.decided,
                    esc(&c.anchor),
                    esc(&text)
                );
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody></table></div>\n");
        if self.groups_left_out > 0 {
            let _ = writeln!(
                o,
                "<p class=\"more\">{} more groups are left out here (all of them with \
                 --format json or csv).</p>",
                self.groups_left_out
            );
        }
        o.push_str(
            "<p class=\"legend\"><span style=\"background:#1a9850\"></span>100% \
             <span style=\"background:#fee08b\"></span>80% <span style=\"background:#d73027\"></span>≤50% \
             · empty: nothing decided</p></section>\n",
        );
    }

    fn targets(&self, o: &mut String) {
        if self.targets.is_empty() {
            return;
        }
        o.push_str(
            "<section class=\"targets\"><h2>目标 <span class=\"en\">Targets</span></h2>\
             <div class=\"wide\"><table><thead><tr><th>target</th><th>period</th><th>group</th><th class=\"n\">hits</th>\
             <th class=\"n\">total</th><th>ratio against the threshold</th><th>status</th></tr></thead><tbody>\n",
        );
        for t in &self.targets {
            if let Some(text) = t.obligation.as_ref().or(t.measure.as_ref()) {
                let _ = writeln!(
                    o,
                    "<tr data-target=\"{}/{}\"><td>{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td>{}</td><td class=\"{}\">{}</td></tr>",
                    esc(&t.policy),
                    esc(&t.clause),
                    esc(&t.clause),
                    title_span(&t.title),
                    esc(&t.period),
                    esc(&t.group),
                    t.hits,
                    t.total,
                    esc(text),
                    status_class(&t.status),
                    esc(&t.status)
                );
                continue;
            }
            let _ = writeln!(
                o,
                "<tr data-target=\"{}/{}\"><td>{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td>{} {} {}</td><td class=\"{}\">{}</td></tr>",
                esc(&t.policy),
                esc(&t.clause),
                esc(&t.clause),
                title_span(&t.title),
                esc(&t.period),
                esc(&t.group),
                t.hits,
                t.total,
                gauge_svg(t.ratio_permille, t.bound_permille, t.status == "met"),
                t.ratio.clone().unwrap_or_else(|| "-".to_string()),
                esc(&t.bound),
                status_class(&t.status),
                esc(&t.status)
            );
        }
        o.push_str("</tbody></table></div></section>\n");
    }

    fn samples(&self, o: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        o.push_str(
            "<section class=\"samples\"><h2>抽查 <span class=\"en\">Sampling</span></h2>\
             <div class=\"wide\"><table><thead><tr><th>sample</th><th>period</th><th>group</th><th class=\"n\">population</th>\
             <th class=\"n\">required</th><th class=\"n\">done</th><th class=\"n\">missing</th><th>status</th></tr></thead><tbody>\n",
        );
        for s in &self.samples {
            let _ = writeln!(
                o,
                "<tr data-sample=\"{}/{}\"><td>{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"{}\">{}</td></tr>",
                esc(&s.policy),
                esc(&s.clause),
                esc(&s.clause),
                title_span(&s.title),
                esc(&s.period),
                esc(&s.group),
                s.population,
                s.required,
                s.done,
                s.missing,
                status_class(&s.status),
                esc(&s.status)
            );
        }
        o.push_str("</tbody></table></div></section>\n");
    }

    fn worst(&self, o: &mut String) {
        if self.worst.is_empty() {
            return;
        }
        o.push_str(
            "<section class=\"worst\"><h2>最严重超时 <span class=\"en\">Worst breaches</span></h2>\
             <div class=\"wide\"><table><thead><tr><th>ticket</th><th>clause</th><th class=\"n\">cycle</th><th>due</th>\
             <th>stopped</th><th class=\"n\">late by</th></tr></thead><tbody>\n",
        );
        for b in &self.worst {
            let _ = writeln!(o, "<tr>{}</tr>", breach_cells(b, true));
        }
        o.push_str("</tbody></table></div></section>\n");
    }

    fn details(&self, o: &mut String) {
        o.push_str("<section class=\"details\"><h2>违约明细 <span class=\"en\">Breached cases and findings by clause</span></h2>\n");
        for c in &self.clauses {
            let _ = writeln!(
                o,
                "<article id=\"{}\"><h3>{}/{}{}</h3><p class=\"sub\">{} · {} of {} met{}</p>",
                esc(&c.anchor),
                esc(&c.policy),
                esc(&c.clause),
                title_span(&c.title),
                esc(&c.threshold),
                c.total.met,
                c.total.decided,
                if c.total.pending > 0 {
                    format!(", {} pending", c.total.pending)
                } else {
                    String::new()
                }
            );
            if c.breaches.is_empty() && c.findings.is_empty() {
                o.push_str("<p class=\"ok\">Nothing breached, nothing found.</p>");
            }
            if !c.breaches.is_empty() {
                o.push_str(
                    "<div class=\"wide\"><table><thead><tr><th>ticket</th><th class=\"n\">cycle</th><th>due</th><th>stopped</th>\
                     <th class=\"n\">late by</th></tr></thead><tbody>",
                );
                for b in &c.breaches {
                    let _ = write!(o, "<tr>{}</tr>", breach_cells(b, false));
                }
                o.push_str("</tbody></table></div>");
                if c.breached > c.breaches.len() as u64 {
                    let _ = write!(
                        o,
                        "<p class=\"more\">{} breached cycles in all; the {} most overdue are listed.</p>",
                        c.breached,
                        c.breaches.len()
                    );
                }
            }
            if !c.findings.is_empty() {
                o.push_str("<ul class=\"findings\">");
                for f in &c.findings {
                    let _ = write!(
                        o,
                        "<li><b>{}</b> {} <code>{}</code> {}</li>",
                        esc(&f.ticket),
                        esc(&f.at),
                        esc(&f.code),
                        esc(&f.message)
                    );
                }
                o.push_str("</ul>");
                if c.total.findings > c.findings.len() as u64 {
                    let _ = write!(
                        o,
                        "<p class=\"more\">{} findings in all; the first {} are listed.</p>",
                        c.total.findings,
                        c.findings.len()
                    );
                }
            }
            o.push_str("</article>\n");
        }
        o.push_str("</section>\n");
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn title_span(title: &Option<String>) -> String {
    title
        .as_deref()
        .map(|t| format!(" <span class=\"title\">{}</span>", esc(t)))
        .unwrap_or_default()
}

fn clause_link(c: &ClauseData) -> String {
    format!(
        "<a href=\"#{}\">{}</a>{}",
        esc(&c.anchor),
        esc(&c.shown),
        title_span(&c.title)
    )
}

fn breach_cells(b: &Breach, with_clause: bool) -> String {
    let clause = if with_clause {
        format!(
            "<td><a href=\"#{}\">{}/{}</a></td>",
            esc(&b.anchor),
            esc(&b.policy),
            esc(&b.clause)
        )
    } else {
        String::new()
    };
    format!(
        "<td>{}</td>{clause}<td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n bad\">{}</td>",
        esc(&b.ticket),
        b.cycle,
        esc(&b.due),
        b.stop
            .as_deref()
            .map_or("not stopped".to_string(), esc),
        esc(&b.late)
    )
}

/// The page's style sheet, inlined into every page.
const CSS: &str = include_str!("html/page.css");
