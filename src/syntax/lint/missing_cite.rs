//! `missing_cite`: a clause that names no catalogue row. An audit traces every clause back to
//! the line of the standard it encodes; a clause without `cite` cannot be traced.

use super::{clauses, Context, Finding, Level, Lint};

pub(super) const LINT: Lint = Lint {
    name: "missing_cite",
    level: Level::Warn,
    description: "a clause without a `cite` line naming the catalogue row it encodes",
    help: "add `cite ROW-ID \"seed NNN §...\"`, the row and section of the standard",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (i, clause, facts) in clauses(cx) {
        if clause.cite.row.is_none() && clause.cite.text.is_none() {
            out.push((
                Some(i),
                cx.diagnostic(
                    &LINT,
                    format!("clause `{}` cites no standard", clause.name),
                    facts.name_span,
                    "no `cite` line",
                ),
            ));
        }
    }
}
