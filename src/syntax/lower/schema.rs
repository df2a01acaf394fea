//! Lowers `attributes { ... }` blocks and `allow` lines, and checks the attributes and values
//! of conditions against the schema.

use crate::policy::Span;
use crate::syntax::diagnostics::closest;
use crate::syntax::grammar::Rule;
use crate::syntax::lint::LINTS;
use crate::syntax::schema::{AttrType, Schema};
use crate::value::Value;
use pest::iterators::Pair;
use std::collections::BTreeMap;

use super::Lowerer;

impl Lowerer<'_> {
    /// Adds an `attributes` block to the schema. An attribute declared twice in the policy's
    /// own blocks (in one block or in two) is an error; one the shared schema declared is
    /// refined.
    pub(crate) fn attributes(&mut self, pair: Pair<'_, Rule>) {
        self.attributes_in(pair, true)
    }

    /// Adds an `attributes` block of a shared schema file, which may describe events that
    /// only some policies declare.
    pub(crate) fn attributes_shared(&mut self, pair: Pair<'_, Rule>) {
        self.attributes_in(pair, false)
    }

    fn attributes_in(&mut self, pair: Pair<'_, Rule>, check_events: bool) {
        let mut own = Schema::default();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::attribute_decl => {
                    if let Some((name, span, ty)) = self.attribute_decl(item) {
                        let again =
                            check_events && !self.own_attributes.insert((None, name.clone()));
                        if own.case.insert(name.clone(), ty).is_some() || again {
                            self.duplicate_attribute(&name, span);
                        }
                    }
                }
                Rule::event_attributes => {
                    let mut inner = item.into_inner();
                    inner.next(); // k_event
                    let Some(event) = inner.next() else { continue };
                    let event_name = event.as_str().to_string();
                    if check_events && !self.events.contains(&event_name) {
                        let help = match closest(&event_name, self.events.iter().map(String::as_str)) {
                            Some(c) => format!("did you mean `{c}`? to use a new event type, declare it: `events {event_name}`"),
                            None => format!("declare it in the policy: `events {event_name}`"),
                        };
                        self.err(
                            "pledge::clause::unknown_event",
                            Self::span(&event),
                            format!("unknown event type `{event_name}`"),
                            "not a known event type",
                        )
                        .set_help(help);
                    }
                    let mut attrs = BTreeMap::new();
                    for decl in inner.filter(|p| p.as_rule() == Rule::attribute_decl) {
                        if let Some((name, span, ty)) = self.attribute_decl(decl) {
                            let again = check_events
                                && !self
                                    .own_attributes
                                    .insert((Some(event_name.clone()), name.clone()));
                            if attrs.insert(name.clone(), ty).is_some() || again {
                                self.duplicate_attribute(&name, span);
                            }
                        }
                    }
                    own.events.entry(event_name).or_default().extend(attrs);
                }
                _ => {}
            }
        }
        self.schema.extend(&own);
    }

    fn duplicate_attribute(&mut self, name: &str, span: Span) {
        self.err(
            "pledge::schema::duplicate_attribute",
            span,
            format!("attribute `{name}` is declared twice"),
            "declared again here",
        )
        .set_help("keep one declaration, listing all its values");
    }

    fn attribute_decl(&mut self, pair: Pair<'_, Rule>) -> Option<(String, Span, AttrType)> {
        let mut inner = pair.into_inner();
        let name = inner.next()?;
        let ty = inner.next()?;
        let mut values = Vec::new();
        let mut named = None;
        for p in ty.into_inner() {
            match p.as_rule() {
                Rule::type_name => {
                    named = Some(match p.as_str() {
                        "string" => AttrType::String,
                        "number" => AttrType::Number,
                        "bool" => AttrType::Bool,
                        "time" => AttrType::Time,
                        _ => AttrType::Any,
                    })
                }
                Rule::string => {
                    let v = self.string(p);
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
                _ => {}
            }
        }
        let ty = named.unwrap_or(AttrType::OneOf(values));
        Some((name.as_str().to_string(), Self::span(&name), ty))
    }

    /// The lint names of an `allow` line, each with its span; an unknown name is an error.
    pub(crate) fn allow_names(&mut self, pair: Pair<'_, Rule>) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        for n in pair.into_inner().filter(|p| p.as_rule() == Rule::name) {
            let name = n.as_str();
            let span = Self::span(&n);
            if LINTS.iter().any(|l| l.name == name) {
                out.push((name.to_string(), span));
                continue;
            }
            let help = match closest(name, LINTS.iter().map(|l| l.name)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "the lints are {}",
                    LINTS
                        .iter()
                        .map(|l| format!("`{}`", l.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.err(
                "pledge::lint::unknown",
                span,
                format!("unknown lint `{name}`"),
                "not a lint",
            )
            .set_help(help);
        }
        out
    }

    /// Checks a condition's attribute (and the literals it is compared with) against the
    /// schema: for a case condition, an undeclared attribute or a value an enumerated one does
    /// not take is an error; for an event filter, an attribute neither the schema nor EVENTS.md
    /// knows is left to the lint `unknown_event_attribute`.
    pub(super) fn check_attribute(&mut self, name: &Pair<'_, Rule>, literals: &[(Value, Span)]) {
        let attr = name.as_str();
        let span = Self::span(name);
        if self.register_row_attribute(attr, span) {
            return;
        }
        let ty = match self.filter_event.clone() {
            Some(event) => {
                let known = self.schema.event_attr(&event, attr).or_else(|| {
                    // `opened` and `updated` carry case attributes.
                    matches!(event.as_str(), "opened" | "updated")
                        .then(|| self.schema.case.get(attr).cloned())
                        .flatten()
                });
                match known {
                    Some(t) => t,
                    None => {
                        self.pending
                            .event_attrs
                            .push((event.clone(), attr.to_string(), span));
                        return;
                    }
                }
            }
            None if self.schema.is_empty() => return,
            None => match self.schema.case.get(attr) {
                Some(t) => t.clone(),
                None => {
                    let help = match closest(attr, self.schema.case.keys().map(String::as_str)) {
                        Some(c) => format!("did you mean `{c}`? to use a new attribute, declare it: `attributes {{ {attr}: string }}`"),
                        None => format!("declare it in the schema: `attributes {{ {attr}: string }}`"),
                    };
                    self.err(
                        "pledge::schema::unknown_attribute",
                        span,
                        format!("unknown case attribute `{attr}`"),
                        "not in the attribute schema",
                    )
                    .set_help(help);
                    return;
                }
            },
        };
        for (value, value_span) in literals {
            if ty.admits(value) {
                continue;
            }
            match (&ty, value) {
                (AttrType::OneOf(values), Value::String(s)) => {
                    let help = match closest(s, values.iter().map(String::as_str)) {
                        Some(c) => format!("did you mean `\"{c}\"`?"),
                        None => format!("`{attr}` is one of {}", ty.describe()),
                    };
                    self.err(
                        "pledge::schema::unknown_value",
                        *value_span,
                        format!("`{attr}` has no value `\"{s}\"`"),
                        "not a value of the schema",
                    )
                    .set_help(help);
                }
                _ => {
                    self.err(
                        "pledge::schema::wrong_type",
                        *value_span,
                        format!(
                            "`{attr}` is a {}, not {}",
                            ty_word(&ty),
                            super::conditions::value_kind(value)
                        ),
                        "never equal",
                    )
                    .set_help(format!("the schema declares `{attr}: {}`", ty.describe()));
                }
            }
        }
    }
}

fn ty_word(ty: &AttrType) -> &'static str {
    match ty {
        AttrType::String | AttrType::OneOf(_) => "string",
        AttrType::Number => "number",
        AttrType::Bool => "bool",
        AttrType::Time => "time",
        AttrType::Any => "value",
    }
}
