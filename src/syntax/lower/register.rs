//! Lowers `include register "staff.csv" as staff` (reads the file, relative to the policy
//! file, as an included holiday file is read) and the register lookups of event filters,
//! `by in staff(document == "health_certificate")`.

use crate::policy::*;
use crate::register::Register;
use crate::syntax::diagnostics::{closest, PolicyDiagnostic};
use crate::syntax::grammar::Rule;
use miette::NamedSource;
use pest::iterators::Pair;
use std::sync::Arc;

use super::include::FileKind;
use super::Lowerer;

/// A register is a CSV file next to the policy.
const REGISTER_FILE: FileKind = FileKind {
    extension: ".csv",
    unavailable: "registers cannot be included here",
    unavailable_help: "load the policy from a file: the register's path is relative to it",
    wrong_extension: (
        "pledge::register::not_csv",
        "`{path}` is not a register file",
        "expected a `.csv` file",
        "a register is a CSV file with a header naming a `key` column",
    ),
    unreadable: ("pledge::register::unreadable", "register "),
};

impl Lowerer<'_> {
    pub(super) fn include_register(&mut self, pair: Pair<'_, Rule>) {
        let Some(include) = self.include_parts(pair) else {
            return;
        };
        let alias = include.alias.clone();
        if self.registers.contains_key(&alias) {
            self.err(
                "pledge::register::duplicate_name",
                include.alias_span,
                format!("register `{alias}` is included twice"),
                "included again here",
            )
            .set_help("give each register its own name");
            return;
        }
        // Until it is read, lookups in it are not errors of their own.
        self.registers.insert(alias.clone(), None);
        let Some((full, text)) = self.read_include(&include, &REGISTER_FILE) else {
            return;
        };
        let (path, path_span) = (include.path.as_str(), include.path_span);
        let (register, errors) = Register::parse(&alias, path, &text, self.zone);
        if !errors.is_empty() {
            let file_source = Arc::new(NamedSource::new(full.display().to_string(), text));
            for e in &errors {
                let d = PolicyDiagnostic::error(
                    &file_source,
                    "pledge::register::bad_row",
                    format!("register `{path}` line {}: {}", e.line, e.reason),
                )
                .label(
                    Span {
                        start: e.start,
                        end: e.end,
                    },
                    "this row",
                )
                .help("columns: `key`, optional `valid_from` and `valid_until` (YYYY-MM-DD), then any others");
                self.errors.push(d);
            }
            self.err(
                "pledge::register::invalid",
                path_span,
                format!(
                    "register `{path}` has {} row(s) that cannot be read",
                    errors.len()
                ),
                "included here",
            )
            .set_help("the errors above name each row; fix them or leave the rows out");
            return;
        }
        self.registers.insert(alias, Some(Arc::new(register)));
    }

    /// `ATTR in REGISTER` or `ATTR in REGISTER(CONDITION)`, only in an event filter; the
    /// condition is over the register's columns.
    pub(super) fn register_test(
        &mut self,
        pair: Pair<'_, Rule>,
        depth: usize,
    ) -> Option<Condition> {
        let mut inner = pair
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::k_in | Rule::k_for));
        let attr_pair = inner.next()?;
        let name_pair = inner.next()?;
        let name = name_pair.as_str();
        let Some(register) = self.registers.get(name).cloned() else {
            // Not included (a broken include was reported where it is written).
            let help = match closest(name, self.registers.keys().map(String::as_str)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "include it first: `include register \"{name}.csv\" as {name}`; a list of values is written `[\"a\", \"b\"]`"
                ),
            };
            self.err(
                "pledge::register::unknown",
                Self::span(&name_pair),
                format!("no register named `{name}`"),
                "not an included register",
            )
            .set_help(help);
            return None;
        };
        let register = register?;
        if self.filter_event.is_none() {
            self.err(
                "pledge::register::outside_filter",
                Self::span(&name_pair),
                format!("register `{name}` is looked up by an event's attribute; this condition has no event"),
                "not inside an event filter",
            )
            .set_help(format!(
                "look it up in a trigger's filter: `arrived({} in {name})`",
                attr_pair.as_str()
            ));
            return None;
        }
        self.check_attribute(&attr_pair, &[]);
        let mut rest: Vec<Pair<'_, Rule>> = inner.collect();
        let span_pair = rest
            .last()
            .filter(|p| p.as_rule() == Rule::duration)
            .cloned();
        if span_pair.is_some() {
            rest.pop();
        }
        let days = match span_pair {
            None => 0,
            Some(d) => {
                let span = Self::span(&d);
                let duration = self.duration(d)?;
                let whole = duration.num_seconds() > 0 && duration.num_seconds() % 86_400 == 0;
                match u32::try_from(duration.num_days()).ok().filter(|_| whole) {
                    Some(n) => n,
                    None => {
                        self.err(
                            "pledge::register::days",
                            span,
                            "a register row holds on dates: `for` takes whole days",
                            "not a whole number of days",
                        )
                        .set_help("write `for 15 days` (or `for 2 weeks`)");
                        return None;
                    }
                }
            }
        };
        let filter = match rest.pop() {
            Some(c) => {
                let outer = self.register_columns.replace(register.columns.clone());
                let lowered = self.condition(c, depth + 1);
                self.register_columns = outer;
                Some(Box::new(lowered?))
            }
            None => None,
        };
        Some(Condition::InRegister {
            attr: attr_pair.as_str().to_string(),
            register,
            filter,
            days,
        })
    }

    /// Inside a register's row filter: whether `attr` is one of its columns (an error
    /// otherwise). `false` outside one: the caller checks the attribute as usual.
    pub(super) fn register_row_attribute(&mut self, attr: &str, span: Span) -> bool {
        let Some(columns) = self.register_columns.clone() else {
            return false;
        };
        if !columns.iter().any(|c| c == attr) {
            let help = match closest(attr, columns.iter().map(String::as_str)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the register's columns are: {}", columns.join(", ")),
            };
            self.err(
                "pledge::register::unknown_column",
                span,
                format!("the register has no column `{attr}`"),
                "not a column of the register",
            )
            .set_help(help);
        }
        true
    }
}
