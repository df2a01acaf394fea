//! Lowers alert declarations (`alert typhoon "台风预警" { when ... from raised until lifted }`)
//! and the lines of `every` clauses that use them or cover a subject round the clock:
//! `during ALERT`, `EVENT at least N per alert` and `covered from START until END`.

use crate::policy::*;
use crate::syntax::diagnostics::closest;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers one `alert` declaration into the policy's alerts, reporting a name declared twice
    /// and a missing `from` or `until`.
    pub(super) fn alert_decl(&mut self, pair: Pair<'_, Rule>) {
        let span = Self::span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // k_alert
        let Some(name_pair) = inner.next() else {
            return;
        };
        let name = name_pair.as_str().to_string();
        let name_span = Self::span(&name_pair);
        let mut title = None;
        let (mut applies, mut from, mut until) = (None, None, None);
        // A line present whose event was refused (and said so): not also a missing line.
        let mut refused = false;
        for p in inner {
            match p.as_rule() {
                Rule::string => title = Some(self.string(p)),
                Rule::when_item => {
                    if let Some(c) = p.into_inner().find(|c| c.as_rule() == Rule::condition) {
                        applies = self.condition(c, 0);
                    }
                }
                Rule::from_item | Rule::until_item => {
                    let is_from = p.as_rule() == Rule::from_item;
                    let trigger = p
                        .into_inner()
                        .find(|t| t.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t));
                    refused |= trigger.is_none();
                    if is_from {
                        from = trigger;
                    } else {
                        until = trigger;
                    }
                }
                _ => {}
            }
        }
        if let Some((_, first)) = self.alert_spans.iter().find(|(n, _)| *n == name) {
            let first = *first;
            self.err(
                "pledge::alert::duplicate",
                name_span,
                format!("alert `{name}` is declared twice"),
                "declared again here",
            )
            .set_help("rename one of them");
            if let Some(last) = self.errors.last_mut() {
                last.labels.push((first, "first declared here".into()));
            }
            return;
        }
        let (Some(from), Some(until)) = (from, until) else {
            if refused {
                self.failed_alerts.insert(name);
                return;
            }
            self.err(
                "pledge::alert::missing_period",
                name_span,
                format!("alert `{name}` needs a `from` and an `until` line"),
                "this alert",
            )
            .set_help("say which events open and lift it: `from raised until lifted`");
            return;
        };
        self.alert_spans.push((name.clone(), name_span));
        let alert = Alert {
            name,
            title,
            applies: applies.unwrap_or(Condition::Always),
            from,
            until,
            span,
        };
        // A REPL what-if may redefine an alert of the policy it works on.
        match self.alerts.iter_mut().find(|a| a.name == alert.name) {
            Some(old) => *old = alert,
            None => self.alerts.push(alert),
        }
    }

    /// Lowers a `during`, `... per alert` or `covered` line of an `every` clause.
    pub(super) fn alert_line(
        &mut self,
        item: Pair<'_, Rule>,
        item_span: Span,
        clause: &mut ClauseParts,
    ) {
        match item.as_rule() {
            Rule::during_item => {
                let Some(n) = item.into_inner().find(|p| p.as_rule() == Rule::name) else {
                    return;
                };
                let name = n.as_str();
                let known =
                    self.alerts.iter().any(|a| a.name == name) || self.failed_alerts.contains(name);
                match known {
                    true => clause.during = Some((name.to_string(), item_span)),
                    false => {
                        let help = match closest(name, self.alerts.iter().map(|a| a.name.as_str())) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => "declare it in the policy: `alert NAME { when ... from raised until lifted }`".to_string(),
                        };
                        self.err(
                            "pledge::alert::unknown",
                            Self::span(&n),
                            format!("unknown alert `{name}`"),
                            "not declared in this policy",
                        )
                        .set_help(help);
                    }
                }
            }
            Rule::alert_quota_item => {
                let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                let trigger = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::trigger)
                    .cloned()
                    .and_then(|t| self.trigger(t));
                let count = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::number)
                    .and_then(|n| n.as_str().parse::<u32>().ok());
                match (trigger, count) {
                    (Some(t), Some(count)) if count >= 1 => {
                        clause.duty = Some((t, DutyRule::PerAlert { count }));
                        clause.per_alert = Some(item_span);
                    }
                    (Some(_), _) => {
                        self.err(
                            "pledge::every::bad_count",
                            item_span,
                            "a quota needs a whole number of at least 1",
                            "here",
                        )
                        .set_help(
                            "write a whole number of at least 1, such as `at least 1 per alert`",
                        );
                    }
                    _ => {}
                }
            }
            Rule::cover_item => {
                let mut triggers = item
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::trigger)
                    .map(|t| self.trigger(t));
                if let (Some(Some(start)), Some(Some(until))) = (triggers.next(), triggers.next()) {
                    clause.duty = Some((start, DutyRule::Cover { until }));
                }
            }
            _ => {}
        }
    }

    /// `... per alert` needs a `during` line to know which alert.
    pub(super) fn check_per_alert(&mut self, clause: &ClauseParts) {
        if let (Some(span), None) = (clause.per_alert, &clause.during) {
            self.err(
                "pledge::alert::per_alert_without_during",
                span,
                "`per alert` needs a `during` line naming the alert",
                "which alert?",
            )
            .set_help("add `during ALERT` to the clause");
        }
    }
}
