//! Policy diagnostics: a stable code, a message, labelled spans and help, with the whole source
//! attached so miette draws the underline in the right place (byte offsets, also on Chinese text).
//!
//! Style (after Cedar's guide): messages are lowercase without a final period, user input is in
//! backticks, and the fix goes in `help`.

use super::grammar::{describe, Rule};
use crate::policy::Span;
use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, NamedSource, Severity, SourceCode,
    SourceSpan, SpanContents,
};
use std::fmt;
use std::sync::Arc;

/// One problem in a policy source.
#[derive(Debug, Clone)]
pub struct PolicyDiagnostic {
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub labels: Vec<(Span, String)>,
    pub severity: Severity,
    pub source: Arc<NamedSource<String>>,
    /// The lint that found it (`allow NAME`), for lint diagnostics.
    pub lint: Option<&'static str>,
    /// `source` as miette is given it: columns in characters.
    in_chars: InChars,
}

/// The column, counted from 0, after `line_before` (a line's text before a position): its
/// characters as an editor shows them, so a byte-order mark (U+FEFF, which the grammar reads
/// as a blank and editors do not show) does not count.
pub(crate) fn columns_before(line_before: &str) -> usize {
    line_before.chars().filter(|&c| c != '\u{feff}').count()
}

/// A policy's source as miette reads it, with the column of a span's start counted in
/// characters, as everywhere else in pledge: miette counts bytes, so the `file:line:column`
/// heading of a diagnostic on Chinese text named a column far right of its label (the JSON
/// diagnostics and the editors count characters).
#[derive(Debug, Clone)]
struct InChars(Arc<NamedSource<String>>);

impl SourceCode for InChars {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self
            .0
            .read_span(span, context_lines_before, context_lines_after)?;
        if contents.column() == 0 {
            return Ok(contents);
        }
        let text = self.0.inner().as_str();
        let Some(before) = text.get(..span.offset()) else {
            return Ok(contents);
        };
        let line = before
            .rfind(['\n', '\r'])
            .map_or(before, |i| &before[i + 1..]);
        let mut in_chars = MietteSpanContents::new_named(
            self.0.name().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            columns_before(line),
            contents.line_count(),
        );
        if let Some(language) = contents.language() {
            in_chars = in_chars.with_language(language);
        }
        Ok(Box::new(in_chars))
    }
}

impl PolicyDiagnostic {
    pub fn error(
        source: &Arc<NamedSource<String>>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        PolicyDiagnostic {
            code,
            message: message.into(),
            help: None,
            labels: Vec::new(),
            severity: Severity::Error,
            source: Arc::clone(source),
            lint: None,
            in_chars: InChars(Arc::clone(source)),
        }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, text.into()));
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    /// Sets the help line in place (for diagnostics already pushed to a list).
    pub fn set_help(&mut self, text: impl Into<String>) -> &mut Self {
        self.help = Some(text.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// The first labelled span, for tests and tools.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|(s, _)| *s)
    }

    /// The source text under the first label, for tests that pin the underline.
    pub fn underlined(&self) -> Option<&str> {
        let span = self.primary_span()?;
        self.source.inner().get(span.start..span.end)
    }
}

impl fmt::Display for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyDiagnostic {}

impl Diagnostic for PolicyDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.in_chars)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (span, text))| {
                let text = if text.is_empty() {
                    None
                } else {
                    Some(text.clone())
                };
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, *span)
                } else {
                    LabeledSpan::new_with_span(text, *span)
                }
            },
        )))
    }
}

/// Converts a pest error into a diagnostic: prose instead of rule names, the offending token
/// underlined, byte offsets (shifted by `offset` when a part of the source was parsed alone).
pub(crate) fn from_pest(
    source: &Arc<NamedSource<String>>,
    error: &pest::error::Error<Rule>,
    offset: usize,
) -> PolicyDiagnostic {
    let text = source.inner();
    let pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    } + offset;
    let found = token_at(text, pos);
    let span = Span {
        start: pos,
        end: pos
            + found.len().max(if pos < text.len() {
                next_char_len(text, pos)
            } else {
                0
            }),
    };
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&'static str> = positives.iter().map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            names
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found_text = if pos >= text.len() {
        "the end of the file".to_string()
    } else if found.is_empty() {
        format!("`{}`", &text[pos..pos + next_char_len(text, pos)])
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_or(&expected))
    };
    let here = text.get(pos..).and_then(|t| t.chars().next());
    // A quality officer types with a Chinese input method on: its full-width characters, and
    // a single `=`, are the commonest slips, and a list of everything the grammar would take
    // next does not name them.
    if let Some((wide, ascii)) = here.and_then(|c| Some((c, half_width(c)?))) {
        let span = Span {
            start: pos,
            end: pos + wide.len_utf8(),
        };
        return PolicyDiagnostic::error(
            source,
            "pledge::syntax::full_width",
            format!("`{wide}` is a full-width character; its half-width form is `{ascii}`"),
        )
        .label(span, "full-width")
        .help(
            "switch the input method to half-width (English) punctuation outside strings; \
             Chinese text belongs inside `\"...\"`",
        );
    }
    if here == Some('=')
        && !text[pos..].starts_with("==")
        && expected.contains(&describe(Rule::cmp_op))
    {
        return PolicyDiagnostic::error(
            source,
            "pledge::syntax::single_equals",
            "`=` is not a comparison",
        )
        .label(
            Span {
                start: pos,
                end: pos + 1,
            },
            "write `==`",
        )
        .help(
            "conditions compare with `==`, `!=`, `<`, `<=`, `>`, `>=` or `in [...]`, \
             e.g. `when kind == \"repair\"`",
        );
    }
    // `withn 1 hour`: the grammar reads a mistyped line keyword as an event starting a line of
    // a record or a duty, and stumbles on the word after it. Said of the keyword instead.
    if let Some(d) = mistyped_line_keyword(source, text, pos) {
        return d;
    }
    let non_ascii_name =
        expected.contains(&"a name") && found.chars().next().is_some_and(|c| !c.is_ascii());
    let (code, help) = if pos >= text.len() {
        (
            "pledge::syntax::unexpected_end",
            "a `{` may be missing its `}`".to_string(),
        )
    } else if non_ascii_name {
        (
            "pledge::syntax::unexpected_token",
            "names are ASCII letters, digits and `_` (e.g. `complaint_contact`); put Chinese text in the title string".to_string(),
        )
    } else if expected.contains(&"a condition")
        && found.chars().next().is_some_and(|c| !c.is_ascii())
    {
        (
            "pledge::syntax::unexpected_token",
            "attribute names are ASCII letters, digits and `_` (e.g. `severity`); Chinese text belongs in a string value, e.g. `severity == \"紧急\"`".to_string(),
        )
    } else {
        (
            "pledge::syntax::unexpected_token",
            "see the language reference in the README for the lines each clause accepts"
                .to_string(),
        )
    };
    PolicyDiagnostic::error(source, code, message)
        .label(
            span,
            if expected.is_empty() {
                "here".to_string()
            } else {
                format!("expected {}", join_or(&expected))
            },
        )
        .help(help)
}

/// Words that begin a line of a clause or a calendar.
const LINE_KEYWORDS: &[&str] = &[
    "when",
    "from",
    "until",
    "within",
    "pause",
    "same",
    "by",
    "at",
    "after",
    "cite",
    "effective",
    "channels",
    "audience",
    "coverage",
    "first",
    "ratio",
    "having",
    "evidence",
    "lag",
    "group",
    "require",
    "measure",
    "change",
    "then",
    "steps",
    "during",
    "covered",
    "hours",
    "holidays",
    "holiday",
    "workday",
    "zone",
    "include",
    "events",
    "allow",
];

/// A diagnostic for a line whose first word is a near miss of a line keyword (`withn`,
/// `untill`, `whn`), when the parse failed right after that word: the grammar took the word for
/// an event (a record's or a duty's line starts with one) and stumbled on the next token.
fn mistyped_line_keyword(
    source: &Arc<NamedSource<String>>,
    text: &str,
    pos: usize,
) -> Option<PolicyDiagnostic> {
    let line_start = text.get(..pos)?.rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..pos];
    let indent = line.len() - line.trim_start().len();
    let first = line.split_whitespace().next()?;
    // The error is at the word after the first one: nothing but spaces between them.
    if !line.trim_start()[first.len()..].trim().is_empty()
        || !first.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        || LINE_KEYWORDS.contains(&first)
        || crate::syntax::CONVENTIONAL_EVENTS.contains(&first)
    {
        return None;
    }
    let near = closest(first, LINE_KEYWORDS.iter().copied())?;
    let start = line_start + indent;
    Some(
        PolicyDiagnostic::error(
            source,
            "pledge::syntax::unknown_line",
            format!("`{first}` does not begin a line of a clause; did you mean `{near}`?"),
        )
        .label(
            Span {
                start,
                end: start + first.len(),
            },
            format!("did you mean `{near}`?"),
        )
        .help("see the language reference in the README for the lines each clause accepts"),
    )
}

/// The ASCII character the language wants where a Chinese input method typed `c`: full-width
/// forms (`＝`, `８`, `（`, `：`, `，`), typographic quotes and the ideographic comma and space.
fn half_width(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '“' | '”' | '‘' | '’' | '「' | '」' => Some('"'),
        '、' => Some(','),
        '。' => Some('.'),
        '【' => Some('['),
        '】' => Some(']'),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

fn next_char_len(text: &str, pos: usize) -> usize {
    text.get(pos..)
        .and_then(|t| t.chars().next())
        .map_or(0, char::len_utf8)
}

/// The word (letters, digits, `_`, `-`, `.`, `:` or any non-ASCII letters) starting at `pos`.
fn token_at(text: &str, pos: usize) -> &str {
    let Some(rest) = text.get(pos..) else {
        return "";
    };
    let end = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '%')))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The closest candidate to `word` by edit distance, for "did you mean" help.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if d <= (word.chars().count() / 3).max(1) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
