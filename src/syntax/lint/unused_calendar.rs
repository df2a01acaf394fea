//! `unused_calendar`: a declared calendar no clause counts on. Usually a limit that was meant
//! to be `on` it and counts wall-clock time instead.

use super::{Context, Finding, Level, Lint};

pub(super) const LINT: Lint = Lint {
    name: "unused_calendar",
    level: Level::Warn,
    description: "a calendar that no limit, duty or anchor counts on",
    help: "count a limit on it (`within 2 workdays on NAME`) or remove it",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (name, span) in &cx.facts.calendars {
        if !cx.facts.used_calendars.contains(name) {
            out.push((
                None,
                cx.diagnostic(
                    &LINT,
                    format!("calendar `{name}` is never used"),
                    *span,
                    "declared here, used by no clause",
                ),
            ));
        }
    }
}
