//! Lints: clauses that are valid but almost certainly not what the standard means.
//!
//! A policy that parses and checks can still encode nothing: a condition no case satisfies, a
//! target that cannot be missed, a calendar no clause counts on. Each lint has a stable name
//! (used by `allow NAME` in a policy and `--deny NAME` on the command line), a default level, a
//! description and help, and lives in its own module with one `check` function over the
//! lowered policy and the spans the lowering kept.
//!
//! A lint's diagnostic has the code `pledge::lint::NAME`, is a warning, and becomes an error
//! when denied. `allow NAME` on a clause silences it for that clause, as a policy declaration
//! for the whole policy.

mod cannot_fail;
mod missing_cite;
mod never_applies;
mod shadowed_clause;
mod unknown_event_attribute;
mod unused_calendar;

use super::diagnostics::PolicyDiagnostic;
use super::grammar::Rule;
use super::schema::Schema;
use crate::policy::{Condition, Policy, Span};
use miette::NamedSource;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// How a lint reports by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Not reported unless denied.
    Allow,
    /// A warning: printed, the policy is used.
    Warn,
}

impl Level {
    /// The level's name in the lint table.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
        }
    }
}

/// One lint of the table.
#[derive(Debug, Clone, Copy)]
pub struct Lint {
    /// The stable name (`allow NAME`, `--deny NAME`, code `pledge::lint::NAME`).
    pub name: &'static str,
    pub level: Level,
    /// What it catches, in one sentence.
    pub description: &'static str,
    /// How to put it right.
    pub help: &'static str,
}

/// Every lint, in the order of the README's table.
pub const LINTS: &[Lint] = &[
    never_applies::LINT,
    cannot_fail::LINT,
    unused_calendar::LINT,
    unknown_event_attribute::LINT,
    shadowed_clause::LINT,
    missing_cite::LINT,
];

/// The lint of a given name.
pub fn lint(name: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.name == name)
}

/// What the lowering kept for the lints: spans and uses the policy model does not hold.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Calendars the policy declares, with the span of their name.
    pub calendars: Vec<(String, Span)>,
    /// Calendars some clause counts on.
    pub used_calendars: BTreeSet<String>,
    /// Policy-wide `allow` names.
    pub allows: Vec<(String, Span)>,
    /// One entry per lowered clause, in the order of [`Policy::clauses`].
    pub clauses: Vec<ClauseFacts>,
}

/// What the lowering kept of one clause.
#[derive(Debug, Default)]
pub(crate) struct ClauseFacts {
    pub name_span: Span,
    /// The span of each line, by grammar rule.
    pub lines: HashMap<Rule, Span>,
    /// `allow` names of the clause.
    pub allows: Vec<(String, Span)>,
    /// Event filters: the event, its condition and the condition's span.
    pub filters: Vec<(String, Condition, Span)>,
    /// Attributes of event filters that neither the schema nor EVENTS.md knows.
    pub event_attrs: Vec<(String, String, Span)>,
}

/// What a lint's `check` sees.
pub(crate) struct Context<'a> {
    pub policy: &'a Policy,
    pub facts: &'a Facts,
    pub schema: &'a Schema,
    pub source: &'a Arc<NamedSource<String>>,
}

impl Context<'_> {
    /// A diagnostic of lint `lint` with its primary label; the lint's help unless replaced.
    pub fn diagnostic(
        &self,
        lint: &Lint,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> PolicyDiagnostic {
        let mut d = PolicyDiagnostic::error(self.source, code(lint.name), message)
            .label(span, label)
            .help(lint.help)
            .warning();
        d.lint = Some(lint.name);
        d
    }
}

/// A lint's finding: which clause it is about (`None`: the policy), and the diagnostic.
pub(crate) type Finding = (Option<usize>, PolicyDiagnostic);

/// The stable code of a lint.
pub fn code(name: &str) -> &'static str {
    match name {
        "never_applies" => "pledge::lint::never_applies",
        "cannot_fail" => "pledge::lint::cannot_fail",
        "unused_calendar" => "pledge::lint::unused_calendar",
        "unknown_event_attribute" => "pledge::lint::unknown_event_attribute",
        "shadowed_clause" => "pledge::lint::shadowed_clause",
        _ => "pledge::lint::missing_cite",
    }
}

/// Runs every lint whose level is not `allow` (or that `deny` names) over a policy that
/// lowered without errors, drops what `allow` lines silence, and returns the diagnostics in
/// source order, as warnings.
pub(crate) fn run(cx: &Context<'_>, deny: &[String]) -> Vec<PolicyDiagnostic> {
    let mut found: Vec<Finding> = Vec::new();
    never_applies::check(cx, &mut found);
    cannot_fail::check(cx, &mut found);
    unused_calendar::check(cx, &mut found);
    unknown_event_attribute::check(cx, &mut found);
    shadowed_clause::check(cx, &mut found);
    missing_cite::check(cx, &mut found);
    let denied = |name: &str| deny.iter().any(|d| d == name || d == "all");
    let mut out: Vec<PolicyDiagnostic> = found
        .into_iter()
        .filter(|(clause, d)| {
            let Some(name) = d.lint else { return true };
            let enabled = lint(name).is_some_and(|l| l.level != Level::Allow) || denied(name);
            let allowed = cx.facts.allows.iter().any(|(n, _)| n == name)
                || clause
                    .and_then(|i| cx.facts.clauses.get(i))
                    .is_some_and(|c| c.allows.iter().any(|(n, _)| n == name));
            enabled && !allowed
        })
        .map(|(_, mut d)| {
            if d.lint.is_some_and(denied) {
                d.severity = miette::Severity::Error;
            }
            d
        })
        .collect();
    out.sort_by_key(|d| d.primary_span().map_or(0, |s| s.start));
    out
}

/// The clauses with their facts (the two lists are built together).
pub(crate) fn clauses<'a>(
    cx: &'a Context<'_>,
) -> impl Iterator<Item = (usize, &'a crate::policy::Clause, &'a ClauseFacts)> {
    cx.policy
        .clauses
        .iter()
        .zip(cx.facts.clauses.iter())
        .enumerate()
        .map(|(i, (c, f))| (i, c, f))
}
