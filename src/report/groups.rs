//! `--group-by` for `pledge check`: the summary's counts broken down per group of cases, so a
//! director sees which project or department breaches.
//!
//! The group of a case is the value of each `--group-by` attribute on the case as of the end:
//! its attributes as merged (the `attrs` of `opened` and of later events) when the case is
//! settled, the same attributes its verdicts are judged on. A case without the attribute is in
//! the group of cases without it, shown `-` (`null` in JSON).
//!
//! The counts come from the evaluator's per-period compliance tally
//! ([`crate::period::PeriodTally::report_by`], by year), summed over the years: deadline cycles
//! by status, checks of duties and windows met, and findings of notification, duty and window
//! clauses. Sampling clauses and targets have their own `group by` and are not broken down.

use super::records::{compliance_percent, percent_rounded_down};
use crate::engine::Sink;
use crate::eval::{ClauseRef, ClauseSummary, Summary};
use crate::period::{Group, PeriodRecord, PeriodTally, ReportSpec};
use crate::policy::PeriodUnit;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Asks `tally` for the counts a [`GroupBreakdown`] sums (call before the first event).
pub fn count_groups(tally: &mut PeriodTally<'_>, group_by: &[String]) {
    tally.report_by(ReportSpec {
        unit: PeriodUnit::Year,
        group_by: group_by.to_vec(),
    });
}

/// A sink that sums the compliance records of [`count_groups`] per group and clause, and passes
/// every other record on to `inner`.
pub struct WithGroups<S> {
    pub inner: S,
    by: Vec<String>,
    counts: BTreeMap<(Group, ClauseRef), [u64; 4]>,
}

impl<S> WithGroups<S> {
    pub fn new(inner: S, group_by: &[String]) -> Self {
        WithGroups {
            inner,
            by: group_by.to_vec(),
            counts: BTreeMap::new(),
        }
    }

    /// The breakdown, with the names, kinds and titles of the clauses from `summary`; and the
    /// inner sink.
    pub fn finish(self, summary: &Summary) -> (S, GroupBreakdown) {
        let mut groups: Vec<GroupCounts> = Vec::new();
        for ((group, clause_ref), [met, breached, pending, findings]) in self.counts {
            let Some(c) = summary.clause(clause_ref) else {
                continue;
            };
            if groups.last().is_none_or(|g| g.group != group) {
                groups.push(GroupCounts {
                    group: group.clone(),
                    clauses: Vec::new(),
                });
            }
            if let Some(g) = groups.last_mut() {
                g.clauses.push(ClauseSummary {
                    met,
                    breached,
                    pending,
                    findings,
                    actions_due: 0,
                    actions_done: 0,
                    actions_missed: 0,
                    ..c.clone()
                });
            }
        }
        for g in &mut groups {
            g.clauses.sort_by_key(|c| c.clause_ref);
        }
        (
            self.inner,
            GroupBreakdown {
                by: self.by,
                groups,
            },
        )
    }
}

impl<S: Sink> Sink for WithGroups<S> {
    fn verdict(&mut self, verdict: &crate::eval::Verdict) {
        self.inner.verdict(verdict)
    }
    fn action(&mut self, action: &crate::eval::Action) {
        self.inner.action(action)
    }
    fn rejected(&mut self, rejected: &crate::eval::Rejected) {
        self.inner.rejected(rejected)
    }
    fn unopened(&mut self, unopened: &crate::eval::Unopened) {
        self.inner.unopened(unopened)
    }
    fn finding(&mut self, finding: &crate::eval::Finding) {
        self.inner.finding(finding)
    }
    fn case_attrs(&mut self, ticket: &std::sync::Arc<str>, attrs: &crate::value::Attrs) {
        self.inner.case_attrs(ticket, attrs)
    }
    fn case_attrs_at_end(&mut self, ticket: &std::sync::Arc<str>, attrs: &crate::value::Attrs) {
        self.inner.case_attrs_at_end(ticket, attrs)
    }
    fn wants_case_attributes(&self) -> &[&'static str] {
        self.inner.wants_case_attributes()
    }
    fn period(&mut self, record: &PeriodRecord) {
        if let PeriodRecord::Compliance(c) = record {
            let slot = self
                .counts
                .entry((c.group.clone(), c.clause_ref))
                .or_default();
            slot[0] += c.met;
            slot[1] += c.breached;
            slot[2] += c.pending;
            slot[3] += c.findings;
        } else {
            self.inner.period(record)
        }
    }
}

/// The clauses of one group that judged something there, in policy and clause order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCounts {
    pub group: Group,
    pub clauses: Vec<ClauseSummary>,
}

impl GroupCounts {
    /// `(met, decided, breached, pending, findings)` over the group's clauses: cycles and
    /// checks met among those decided, as each clause counts them.
    pub fn totals(&self) -> (u64, u64, u64, u64, u64) {
        let mut t = (0, 0, 0, 0, 0);
        for c in &self.clauses {
            let (met, decided) = c.decided();
            t.0 += met;
            t.1 += decided;
            t.2 += c.breached;
            t.3 += c.pending;
            t.4 += c.findings;
        }
        t
    }
}

/// The summary per group (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBreakdown {
    /// The `--group-by` attributes.
    pub by: Vec<String>,
    /// Ordered by the group's values (a missing value first).
    pub groups: Vec<GroupCounts>,
}

impl GroupBreakdown {
    /// The section the human report ends its table with.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nBy {} (as of the end of each case; `-`: cases without it)",
            self.by.join(" / ")
        );
        let _ = writeln!(
            out,
            "     met  breached   pending  compliance  findings  group / clause"
        );
        if self.groups.is_empty() {
            let _ = writeln!(out, "  no clause judged any case");
        }
        for g in &self.groups {
            let (met, decided, breached, pending, findings) = g.totals();
            let _ = writeln!(
                out,
                "{:>8}  {:>8}  {:>8}  {:>10}  {:>8}  {}",
                met,
                breached,
                pending,
                percent(met, decided),
                findings,
                g.group.label()
            );
            for c in &g.clauses {
                let (met, decided) = c.decided();
                let (breached, pending) = if c.kind == "deadline" {
                    (c.breached.to_string(), c.pending.to_string())
                } else {
                    (String::new(), String::new())
                };
                let _ = writeln!(
                    out,
                    "{:>8}  {:>8}  {:>8}  {:>10}  {:>8}      {}/{}",
                    if c.kind == "notify" {
                        String::new()
                    } else {
                        c.met.to_string()
                    },
                    breached,
                    pending,
                    percent(met, decided),
                    c.findings,
                    c.policy,
                    c.clause
                );
            }
        }
        out
    }

    /// `{"by": [...], "groups": [{"group", "label", "met", "breached", "pending",
    /// "findings", "compliance_percent", "clauses": [...]}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let groups: Vec<serde_json::Value> = self
            .groups
            .iter()
            .map(|g| {
                let (met, decided, breached, pending, findings) = g.totals();
                let clauses: Vec<serde_json::Value> = g
                    .clauses
                    .iter()
                    .map(|c| {
                        json!({
                            "policy": &*c.policy,
                            "clause": &*c.clause,
                            "kind": c.kind,
                            "verdicts": c.verdicts(),
                            "met": c.met,
                            "breached": c.breached,
                            "pending": c.pending,
                            "findings": c.findings,
                            "compliance_percent": compliance_percent(c),
                        })
                    })
                    .collect();
                json!({
                    "group": g.group.to_json(),
                    "label": g.group.label(),
                    "met": met,
                    "breached": breached,
                    "pending": pending,
                    "findings": findings,
                    "compliance_percent": percent_rounded_down(met, decided),
                    "clauses": clauses,
                })
            })
            .collect();
        json!({ "by": self.by, "groups": groups })
    }
}

/// `75.0 %`, or `-` when nothing was decided.
fn percent(met: u64, decided: u64) -> String {
    match percent_rounded_down(met, decided) {
        Some(p) => format!("{p:.1} %"),
        None => "-".to_string(),
    }
}
