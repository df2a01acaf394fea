//! Helpers shared by every part of the lowering: spans, diagnostics, string literals.

use crate::policy::*;
use crate::syntax::diagnostics::PolicyDiagnostic;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::Lowerer;

impl Lowerer<'_> {
    pub(super) fn err(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut PolicyDiagnostic {
        let d = PolicyDiagnostic::error(&self.source, code, message).label(span, label);
        self.errors.push(d);
        self.errors.last_mut().expect("just pushed")
    }

    /// The span of a parse node without the whitespace and comments pest lets an optional
    /// trailing part consume, so underlines end at the last token.
    pub(super) fn span(pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let text = pair.as_str();
        let mut end = s.start() + text.trim_end().len();
        // A trailing comment is not part of the node either.
        let trimmed = &text[..end - s.start()];
        if let Some(last_line_start) = trimmed.rfind('\n') {
            let last = &trimmed[last_line_start..];
            if last.trim_start().starts_with('#') {
                end = s.start() + trimmed[..last_line_start].trim_end().len();
            }
        }
        Span {
            start: s.start(),
            end,
        }
    }

    /// The value of a string literal, escapes resolved.
    pub(crate) fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let span = Self::span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut bad = Vec::new();
        let out = unescape(raw, |hex| bad.push(hex.to_string()));
        for hex in bad {
            self.err(
                "pledge::syntax::invalid_escape",
                span,
                format!("`\\u{{{hex}}}` is not a character"),
                "in this string",
            )
            .set_help("write a Unicode scalar value, such as `\\u{4E2D}`: not a surrogate (D800–DFFF) nor above 10FFFF");
        }
        out
    }
}

/// Resolves the escapes of a string literal's inside (between the quotes). Each `\u{..}` that
/// names no character is left out and its hex digits passed to `bad`: the lowering reports it,
/// the formatter keeps such a literal as written.
pub(crate) fn unescape(raw: &str, mut bad: impl FnMut(&str)) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => bad(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

pub(super) fn period_unit(text: &str) -> PeriodUnit {
    match text {
        "day" => PeriodUnit::Day,
        "week" => PeriodUnit::Week,
        "month" => PeriodUnit::Month,
        "quarter" => PeriodUnit::Quarter,
        _ => PeriodUnit::Year,
    }
}

pub(super) fn action_kind(text: &str) -> ActionKind {
    match text {
        "warn" => ActionKind::Warn,
        "notify" => ActionKind::Notify,
        _ => ActionKind::Escalate,
    }
}
