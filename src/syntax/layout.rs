//! Whole policy files → one canonical layout, comments kept (`pledge fmt`).
//!
//! The layout is decided by the parse tree, never by the text as typed, so two files that differ
//! only in spacing come out the same and formatting twice changes nothing:
//!
//! - the policy, each calendar and each clause open with their header line ending in `{` and
//!   close with `}` on a line of its own; everything inside is indented by two more spaces;
//! - every declaration and every clause or calendar line is one line, its tokens separated by
//!   one space (none inside `a..b`, after `(` and `[`, before `,`, `)` and `]`, or between an
//!   event and its filter, as in `resolved(photo)`); a list loses its trailing comma;
//! - `from X` and the `until Y` right after it share a line when that fits in
//!   [`WIDTH`] columns, as the standards say it ("from opened until contacted"), whatever
//!   comments were between them;
//! - a blank line stays where the author had one or more between two lines, and nowhere else
//!   (not after `{`, not before `}`);
//! - a comment on a line of its own stays before the line it precedes, at that line's
//!   indentation; a comment after code stays at the end of that line, and trailing comments of
//!   consecutive lines are aligned; a comment inside a line that is joined (a condition written
//!   over several lines) moves above that line, in order;
//! - strings are written from their values ([`super::format::quote`]), so Chinese text stays as
//!   it is and only the escapes are canonical; numbers, dates, times and names are copied.
//!
//! Only tokens move: the formatted file holds the same tokens in the same order (except
//! trailing commas of lists), and the same comments in the same order, which [`format_source`]
//! checks on its own output before returning it. The lines of a clause keep their order too.
//! Formatting needs only the syntax: a file with a mistake the lowering reports (an unknown
//! event, a missing include) is formatted all the same, so that it can be fixed in a tidy file.

use super::diagnostics::PolicyDiagnostic;
use super::format::quote;
use super::grammar::{PolicyParser, Rule};
use super::lower::unescape;
use super::{prescan, recover_syntax_errors, PolicyErrors};
use crate::policy::Span;
use miette::NamedSource;
use pest::iterators::Pair;
use pest::Parser;
use std::sync::Arc;
use unicode_width::UnicodeWidthStr;

/// The widest a joined `from X until Y` line may be, in terminal columns (a Chinese character
/// counts two), indentation included.
pub const WIDTH: usize = 100;

/// Formats a whole policy file. `name` names the source in diagnostics (usually its path).
///
/// A file that does not parse is refused with its syntax diagnostics, as `pledge check` reports
/// them; nothing else is checked. The result parses to the same policy as `source`.
pub fn format_source(source: &str, name: &str) -> Result<String, PolicyErrors> {
    let named = Arc::new(NamedSource::new(name, source.to_string()).with_language("pledge"));
    let fail = |errors: Vec<PolicyDiagnostic>| PolicyErrors {
        name: name.to_string(),
        errors,
    };
    if let Some(e) = prescan(&named) {
        return Err(fail(vec![e]));
    }
    let file = match PolicyParser::parse(Rule::file, source) {
        Ok(mut pairs) => pairs.next(),
        Err(e) => return Err(fail(recover_syntax_errors(&named, &e).0)),
    };
    let Some(file) = file else {
        return Err(fail(vec![unsafe_output(&named)]));
    };
    // A `\u{..}` naming no character does not read: the file is left alone, as `pledge parse`
    // rejects it with the same diagnostic.
    let bad_escapes: Vec<PolicyDiagnostic> = file
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| p.as_rule() == Rule::string)
        .flat_map(|string| {
            let raw = string.clone().into_inner().next().map_or("", |p| p.as_str());
            let mut bad = Vec::new();
            unescape(raw, |hex| bad.push(hex.to_string()));
            let span = Span {
                start: string.as_span().start(),
                end: string.as_span().end(),
            };
            let named = &named;
            bad.into_iter().map(move |hex| {
                PolicyDiagnostic::error(
                    named,
                    "pledge::syntax::invalid_escape",
                    format!("`\\u{{{hex}}}` is not a character"),
                )
                .label(span, "in this string")
                .help("write a Unicode scalar value, such as `\\u{4E2D}`: not a surrogate (D800–DFFF) nor above 10FFFF")
            })
        })
        .collect();
    if !bad_escapes.is_empty() {
        return Err(fail(bad_escapes));
    }
    let tokens = lex(source, file.clone());
    let mut printer = Printer {
        tokens: &tokens,
        next: 0,
        lines: Vec::new(),
    };
    let policies: Vec<Pair<'_, Rule>> = file
        .into_inner()
        .filter(|p| p.as_rule() == Rule::policy)
        .collect();
    printer.body(&policies, 0);
    printer.comments_before(usize::MAX, 0);
    while matches!(printer.lines.last(), Some(Line::Blank)) {
        printer.lines.pop();
    }
    let out = render(&printer.lines);
    // The formatter moves tokens, never changes them: anything else is a bug in it, and the
    // file is better left as it is than rewritten wrongly.
    let again = PolicyParser::parse(Rule::file, &out)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .map(|f| lex(&out, f));
    match again {
        Some(again) if same_tokens(&tokens, &again) => Ok(out),
        _ => Err(fail(vec![unsafe_output(&named)])),
    }
}

fn unsafe_output(named: &Arc<NamedSource<String>>) -> PolicyDiagnostic {
    PolicyDiagnostic::error(
        named,
        "pledge::fmt::internal",
        "the formatter could not lay out this file without changing it",
    )
    .help("the file was left as it is; please report it with the file attached")
}

/// What a token is, for spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A token of the grammar (a keyword, name, string, number, ...), by its rule.
    Word(Rule),
    /// Punctuation the grammar matches as literal text: `{ } ( ) [ ] , ..`.
    Punct,
    /// `# ...` to the end of its line, trailing spaces dropped.
    Comment,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// Byte offset in the source.
    start: usize,
    /// The canonical text.
    text: String,
    /// Line breaks between the previous token and this one.
    breaks: usize,
}

impl Token {
    fn is(&self, punct: &str) -> bool {
        self.kind == Kind::Punct && self.text == punct
    }
}

/// The same code tokens in the same order, and the same comments in the same order (a comment
/// inside a line moves above it, so the two orders are compared apart).
fn same_tokens(a: &[Token], b: &[Token]) -> bool {
    let parts = |tokens: &[Token], comments: bool| -> Vec<(Kind, String)> {
        tokens
            .iter()
            .filter(|t| (t.kind == Kind::Comment) == comments)
            .map(|t| (t.kind, t.text.clone()))
            .collect()
    };
    parts(a, false) == parts(b, false) && parts(a, true) == parts(b, true)
}

/// Every token of a parsed file in source order: the grammar's own tokens from the tree, and the
/// punctuation and comments (silent in the grammar) from the text between them.
fn lex(source: &str, file: Pair<'_, Rule>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut breaks = 0;
    let mut pos = 0;
    // Pre-order, so a token comes before the parts inside it (a string's content, a
    // percentage's number), which are skipped.
    for pair in file.into_inner().flatten() {
        let span = pair.as_span();
        if span.start() < pos || pair.as_rule() == Rule::EOI || !is_token(&pair) {
            continue;
        }
        scan_gap(source, pos, span.start(), &mut tokens, &mut breaks);
        tokens.push(Token {
            kind: Kind::Word(pair.as_rule()),
            start: span.start(),
            text: word_text(&pair),
            breaks,
        });
        breaks = 0;
        pos = span.end();
    }
    scan_gap(source, pos, source.len(), &mut tokens, &mut breaks);
    // `[a, b,]` is `[a, b]`: from the end, knowing whether the next code token closes a list.
    let mut closes = false;
    let mut keep = vec![true; tokens.len()];
    for (i, t) in tokens.iter().enumerate().rev() {
        if t.kind != Kind::Comment {
            keep[i] = !(closes && t.is(","));
            closes = t.is("]");
        }
    }
    tokens
        .into_iter()
        .zip(keep)
        .filter_map(|(t, keep)| keep.then_some(t))
        .collect()
}

/// Whether a pair is one token: an atomic rule (no inner pairs), or a string, time range,
/// percentage or `case.NAME` (atomic, but with inner pairs). An empty list `[ ]` has no inner pairs either,
/// but its brackets are punctuation, found in the text around.
fn is_token(pair: &Pair<'_, Rule>) -> bool {
    match pair.as_rule() {
        Rule::string | Rule::time_range | Rule::percent | Rule::case_ref => true,
        Rule::list | Rule::name_list => false,
        _ => pair.clone().into_inner().next().is_none(),
    }
}

fn word_text(pair: &Pair<'_, Rule>) -> String {
    if pair.as_rule() != Rule::string {
        return pair.as_str().to_string();
    }
    let raw = pair.clone().into_inner().next().map_or("", |p| p.as_str());
    let mut valid = true;
    let value = unescape(raw, |_| valid = false);
    // (A `\u{..}` naming no character was refused before: kept as written all the same.)
    if valid {
        quote(&value)
    } else {
        pair.as_str().to_string()
    }
}

/// The punctuation and comments between two tokens of the grammar (`source[from..to]` holds
/// nothing else but whitespace).
fn scan_gap(source: &str, from: usize, to: usize, out: &mut Vec<Token>, breaks: &mut usize) {
    let Some(gap) = source.get(from..to) else {
        return;
    };
    let mut chars = gap.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let (text, end) = match c {
            '\n' => {
                *breaks += 1;
                continue;
            }
            c if c.is_whitespace() || c == '\u{feff}' => continue,
            '#' => {
                let end = gap[i..].find('\n').map_or(gap.len(), |n| i + n);
                (gap[i..end].trim_end().to_string(), end)
            }
            '.' if chars.peek().is_some_and(|&(_, n)| n == '.') => ("..".to_string(), i + 2),
            c => (c.to_string(), i + c.len_utf8()),
        };
        out.push(Token {
            kind: if c == '#' { Kind::Comment } else { Kind::Punct },
            start: from + i,
            text,
            breaks: *breaks,
        });
        *breaks = 0;
        while chars.peek().is_some_and(|&(j, _)| j < end) {
            chars.next();
        }
    }
}

/// Whether one space goes between two tokens on a line.
fn spaced(prev: &Token, next: &Token) -> bool {
    if next.is(",") || next.is(")") || next.is("]") || next.is(":") || prev.is("(") || prev.is("[")
    {
        return false;
    }
    if prev.is("..") {
        return false;
    }
    match prev.kind {
        Kind::Word(Rule::date | Rule::weekday | Rule::month_day) if next.is("..") => false,
        Kind::Word(Rule::name) if next.is("(") => false,
        _ => true,
    }
}

/// One output line.
#[derive(Debug)]
enum Line {
    Blank,
    Comment {
        indent: usize,
        text: String,
    },
    Code {
        indent: usize,
        text: String,
        /// Ends with `{`: no blank line may follow.
        opens: bool,
        trailing: Option<String>,
    },
}

struct Printer<'t> {
    tokens: &'t [Token],
    /// The first token not printed yet.
    next: usize,
    lines: Vec<Line>,
}

impl Printer<'_> {
    /// The index after the last code token of a pair ending at byte `end`. A pair that ends in
    /// an optional or repeated part (`events a, b`) also spans the whitespace and comments pest
    /// skipped looking for one more: those comments belong to what follows.
    fn end_of(&self, end: usize) -> usize {
        let mut i = self.tokens.partition_point(|t| t.start < end);
        while i > self.next && self.tokens[i - 1].kind == Kind::Comment {
            i -= 1;
        }
        i
    }

    /// A blank line if the author left one (`breaks` ≥ 2) and it falls between two lines of
    /// the same block.
    fn blank_if(&mut self, breaks: usize) {
        let after_line = matches!(
            self.lines.last(),
            Some(Line::Comment { .. } | Line::Code { opens: false, .. })
        );
        if breaks >= 2 && after_line {
            self.lines.push(Line::Blank);
        }
    }

    /// Prints, as comment lines, every token before byte `pos`: the comments before a line, or
    /// before the `}` of a block.
    fn comments_before(&mut self, pos: usize, indent: usize) {
        while let Some(t) = self.tokens.get(self.next).filter(|t| t.start < pos) {
            self.blank_if(t.breaks);
            self.lines.push(Line::Comment {
                indent,
                text: t.text.clone(),
            });
            self.next += 1;
        }
    }

    /// The code of tokens `from..to` on one line (comments left out).
    fn code(&self, from: usize, to: usize) -> String {
        let mut text = String::new();
        let mut prev: Option<&Token> = None;
        for t in self.tokens.get(from..to).unwrap_or_default() {
            if t.kind == Kind::Comment {
                continue;
            }
            if prev.is_some_and(|p| spaced(p, t)) {
                text.push(' ');
            }
            text.push_str(&t.text);
            prev = Some(t);
        }
        text
    }

    /// Prints the tokens up to index `to` as one line, the comments among them above it.
    fn line(&mut self, to: usize, indent: usize) {
        let from = self.next;
        if let Some(first) = self.tokens.get(from) {
            // Never a blank line before a `}`.
            if !first.is("}") {
                self.blank_if(first.breaks);
            }
        }
        for t in self.tokens.get(from..to).unwrap_or_default() {
            if t.kind == Kind::Comment {
                self.lines.push(Line::Comment {
                    indent,
                    text: t.text.clone(),
                });
            }
        }
        let text = self.code(from, to);
        let opens = text.ends_with('{');
        self.lines.push(Line::Code {
            indent,
            text,
            opens,
            trailing: None,
        });
        self.next = to.max(from);
    }

    /// A comment right after the last printed code, on the same source line, stays there.
    fn trailing(&mut self) {
        let Some(t) = self.tokens.get(self.next) else {
            return;
        };
        if t.kind != Kind::Comment || t.breaks > 0 {
            return;
        }
        if let Some(Line::Code { trailing, .. }) = self.lines.last_mut() {
            if trailing.is_none() {
                *trailing = Some(t.text.clone());
                self.next += 1;
            }
        }
    }

    /// The declarations or lines of a block (or the policy of a file), at `indent`.
    fn body(&mut self, children: &[Pair<'_, Rule>], indent: usize) {
        let mut k = 0;
        while let Some(child) = children.get(k) {
            let span = child.as_span();
            self.comments_before(span.start(), indent);
            match child.as_rule() {
                Rule::policy
                | Rule::calendar_decl
                | Rule::alert_decl
                | Rule::clause
                | Rule::attributes_decl
                | Rule::event_attributes => self.block(child.clone(), indent),
                rule => {
                    let mut to = self.end_of(span.end());
                    let until = children
                        .get(k + 1)
                        .filter(|n| rule == Rule::from_item && n.as_rule() == Rule::until_item);
                    if let Some(until) = until {
                        // Comments between them move above the joined line, as those inside
                        // any line do: keeping them apart instead would join them next time.
                        let both = self.end_of(until.as_span().end());
                        if indent + self.code(self.next, both).width() <= WIDTH {
                            to = both;
                            k += 1;
                        }
                    }
                    self.line(to, indent);
                }
            }
            self.trailing();
            k += 1;
        }
    }

    /// A policy, calendar or clause: its header line up to `{`, its lines, its `}`.
    fn block(&mut self, pair: Pair<'_, Rule>, indent: usize) {
        let end = self.end_of(pair.as_span().end());
        let Some(brace) = (self.next..end).find(|&i| self.tokens[i].is("{")) else {
            // Every block has braces; should one not, print it as one line rather than lose it.
            self.line(end, indent);
            return;
        };
        self.line(brace + 1, indent);
        self.trailing();
        let open = self.tokens[brace].start;
        let children: Vec<Pair<'_, Rule>> = pair
            .into_inner()
            .filter(|c| c.as_span().start() > open)
            .collect();
        self.body(&children, indent + 2);
        // The closing `}`: the block's last one (an event's attributes may be followed by a
        // `,`, which closes the line with it).
        let close = (brace + 1..end)
            .rev()
            .find(|&i| self.tokens[i].is("}"))
            .unwrap_or(end.saturating_sub(1))
            .max(self.next);
        let close_at = self.tokens.get(close).map_or(usize::MAX, |t| t.start);
        self.comments_before(close_at, indent + 2);
        while matches!(self.lines.last(), Some(Line::Blank)) {
            self.lines.pop();
        }
        self.line(end.max(close + 1), indent);
        self.trailing();
    }
}

/// The lines as text. Trailing comments of consecutive lines share a column, two spaces after
/// the longest code among them.
fn render(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        // The run of consecutive lines with trailing comments starting here, and its column.
        let run = lines[i..]
            .iter()
            .take_while(|l| {
                matches!(
                    l,
                    Line::Code {
                        trailing: Some(_),
                        ..
                    }
                )
            })
            .count();
        let column = lines[i..i + run]
            .iter()
            .map(|l| match l {
                Line::Code { indent, text, .. } => indent + text.width(),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
            + 2;
        for line in &lines[i..i + run.max(1)] {
            match line {
                Line::Blank => {}
                Line::Comment { indent, text } => {
                    push_indent(&mut out, *indent);
                    out.push_str(text);
                }
                Line::Code {
                    indent,
                    text,
                    trailing,
                    ..
                } => {
                    push_indent(&mut out, *indent);
                    out.push_str(text);
                    if let Some(comment) = trailing {
                        let pad = column.saturating_sub(indent + text.width()).max(1);
                        out.extend(std::iter::repeat_n(' ', pad));
                        out.push_str(comment);
                    }
                }
            }
            out.push('\n');
        }
        i += run.max(1);
    }
    out
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}
