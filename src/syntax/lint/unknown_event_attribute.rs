//! `unknown_event_attribute`: an event filter on an attribute that neither the schema
//! (`event NAME { ... }`) nor the conventional vocabulary of EVENTS.md gives that event. Such a
//! filter is false for every event that lacks the attribute, so a typo (`revisited(satisfed)`)
//! makes a clause wait for ever.

use super::{clauses, Context, Finding, Level, Lint};
use crate::syntax::diagnostics::closest;

pub(super) const LINT: Lint = Lint {
    name: "unknown_event_attribute",
    level: Level::Warn,
    description: "an event filter on an attribute the schema and EVENTS.md do not give that event",
    help: "declare it: `attributes { event NAME { ATTR: string } }`",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (i, _, facts) in clauses(cx) {
        for (event, attr, span) in &facts.event_attrs {
            let known = cx.schema.event_attr_names(event);
            // `opened` and `updated` carry case attributes: those are declared as such.
            let declare = if matches!(event.as_str(), "opened" | "updated") {
                format!("`attributes {{ {attr}: string }}`")
            } else {
                format!("`attributes {{ event {event} {{ {attr}: string }} }}`")
            };
            let mut d = cx.diagnostic(
                &LINT,
                format!("`{event}` events have no attribute `{attr}`"),
                *span,
                "not an attribute of this event",
            );
            if let Some(c) = closest(attr, known.iter().map(String::as_str)) {
                d.set_help(format!(
                    "did you mean `{c}`? to use a new attribute, declare it: {declare}"
                ));
            } else {
                d.set_help(format!("declare it: {declare}"));
            }
            out.push((Some(i), d));
        }
    }
}
