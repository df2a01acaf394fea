//! The session's read-only commands about cases and clauses: `:why`, `:ask`, `:case`,
//! `:cases`, `:clauses` and `:show`. They change nothing; each answers from the loaded events
//! (kept by ticket) and the working copy, evaluated once and cached by the session.

use super::session::{Outcome, Session};
use crate::event::Event;
use crate::explain::explain_case;
use crate::explain::other::{explain_other_clauses, Records};
use crate::explain::{applicability, when, Applicability};
use crate::syntax::{format_clause, parse_condition, render};
use std::fmt::Write as _;

impl Session {
    pub(super) fn ticket_events(&self, ticket: &str) -> Result<&[Event], Outcome> {
        if ticket.is_empty() {
            return Err(Outcome::fail("error: which case?\n  help: give a ticket, e.g. `:why T-0309` (`:cases` lists them)"));
        }
        match self.cases.get(ticket) {
            Some(e) => Ok(e),
            None => {
                let similar: Vec<&str> = self
                    .cases
                    .keys()
                    .filter(|k| k.contains(ticket) || ticket.contains(k.as_str()))
                    .map(String::as_str)
                    .take(5)
                    .collect();
                let help = if similar.is_empty() {
                    "`:cases` lists the loaded cases".to_string()
                } else {
                    format!(
                        "did you mean {}?",
                        similar
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                Err(Outcome::fail(format!(
                    "error: no case `{ticket}` in the loaded events\n  help: {help}"
                )))
            }
        }
    }

    /// `:why TICKET [all]`: the clauses that apply in full; those that do not in one line, or
    /// each on its own line with `all`.
    pub(super) fn why(&self, args: &str) -> Outcome {
        let (ticket, all) = match args.rsplit_once(char::is_whitespace) {
            Some((ticket, "all")) => (ticket.trim_end(), true),
            // `:why T-1042 bogus`: a known ticket and a word that is not `all`.
            Some((ticket, word)) if !self.cases.contains_key(args) => {
                if self.cases.contains_key(ticket.trim_end()) {
                    return Outcome::fail(format!(
                        "error: `:why` takes a ticket and, after it, only `all`, not `{word}`\n  help: `:why {} all` explains every clause, those that do not apply too",
                        ticket.trim_end()
                    ));
                }
                (args, false)
            }
            _ => (args, false),
        };
        let events = match self.ticket_events(ticket) {
            Ok(e) => e,
            Err(o) => return o,
        };
        let Some(now) = self.now() else {
            return Outcome::fail("error: no events loaded");
        };
        let policies = &self.working.policies;
        let eval = self.evaluation(policies);
        let cases: Vec<&[Event]> = self.cases.values().map(Vec::as_slice).collect();
        let records = Records {
            verdicts: &eval.verdicts,
            findings: &eval.findings,
            periods: &eval.periods,
            cases: &cases,
        };
        let others = explain_other_clauses(policies, events, now, records);
        let explanation = explain_case(policies, events, now);
        Outcome::ok(if all {
            explanation.render_with(&others)
        } else {
            explanation.render_brief(&others)
        })
    }

    pub(super) fn ask(&self, args: &str) -> Outcome {
        let (ticket, expr) = args
            .split_once(char::is_whitespace)
            .map_or((args, ""), |(t, e)| (t, e.trim()));
        let events = match self.ticket_events(ticket) {
            Ok(e) => e,
            Err(o) => return o,
        };
        if expr.is_empty() {
            return Outcome::fail(format!(
                "error: `:ask` needs a condition after the ticket\n  help: `:ask {ticket} kind == \"complaint\"`"
            ));
        }
        let condition = match parse_condition(expr) {
            Ok(c) => c,
            Err(e) => return Outcome::fail(render(&e, self.color)),
        };
        let attrs = self.attrs_of(events);
        let text = match applicability(&condition, &attrs) {
            Applicability::Always => "true\n".to_string(),
            Applicability::Holds { values, .. } => {
                format!("true ({})\n", crate::explain::values_text(&values))
            }
            Applicability::Fails { reasons, .. } => {
                format!("false: {}\n", reasons.join("; "))
            }
        };
        Outcome::ok(text)
    }

    /// Case attributes as of `now`: `opened` and `updated` merged, later winning.
    pub(super) fn attrs_of(&self, events: &[Event]) -> crate::value::Attrs {
        let now = self.now();
        let mut attrs = crate::value::Attrs::new();
        for e in events.iter().filter(|e| now.is_none_or(|n| e.at <= n)) {
            if matches!(&*e.kind, "opened" | "updated") {
                attrs.merge(&e.attrs);
            }
        }
        attrs
    }

    pub(super) fn case(&self, ticket: &str) -> Outcome {
        let events = match self.ticket_events(ticket) {
            Ok(e) => e,
            Err(o) => return o,
        };
        let zone = self.zone();
        let now = self.now();
        let mut out = String::new();
        let attrs: Vec<String> = self
            .attrs_of(events)
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let _ = writeln!(out, "case {ticket}: {}", attrs.join(", "));
        for e in events {
            let after = now.is_some_and(|n| e.at > n);
            let a: Vec<String> = e.attrs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let line = format!(
                "  {}  {:<13} {}{}",
                when(e.at, zone),
                e.kind,
                a.join(", "),
                if after { "  (after now, ignored)" } else { "" }
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        Outcome::ok(out)
    }

    pub(super) fn list_cases(&self) -> Outcome {
        if self.cases.is_empty() {
            return Outcome::ok("no events loaded (`:events FILE`)\n");
        }
        let mut out = String::new();
        for (ticket, events) in &self.cases {
            let attrs = self.attrs_of(events);
            let kind = attrs
                .get("kind")
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = writeln!(out, "  {ticket:<12} {:>3} event(s) {kind}", events.len());
        }
        Outcome::ok(out)
    }

    pub(super) fn clauses(&self) -> Outcome {
        let mut out = String::new();
        for (i, p) in self.working.policies.iter().enumerate() {
            let current = if i == self.target { " (current)" } else { "" };
            let _ = writeln!(out, "policy `{}`{current}", p.name);
            for c in &p.clauses {
                let changed = self.loaded.get(i).is_none_or(|l| {
                    l.policy
                        .clauses
                        .iter()
                        .filter(|o| o.name == c.name)
                        .collect::<Vec<_>>()
                        != p.clauses
                            .iter()
                            .filter(|o| o.name == c.name)
                            .collect::<Vec<_>>()
                });
                let _ = writeln!(
                    out,
                    "  {:<9} {}{}",
                    c.body.keyword(),
                    c.name,
                    if changed { "  (what-if)" } else { "" }
                );
            }
        }
        if out.is_empty() {
            out.push_str("no policy loaded (`:load POLICY`)\n");
        }
        Outcome::ok(out)
    }

    pub(super) fn show(&self, name: &str) -> Outcome {
        let found: Vec<String> = self
            .working
            .policies
            .iter()
            .flat_map(|p| p.clauses.iter())
            .filter(|c| c.name == name)
            .map(format_clause)
            .collect();
        if found.is_empty() {
            return Outcome::fail(format!(
                "error: no clause `{name}` in the working copy\n  help: `:clauses` lists them"
            ));
        }
        Outcome::ok(found.join("\n"))
    }
}
