//! Tab completion and multi-line input for the terminal front-end (rustyline's `Helper`).
//!
//! What is offered depends on where the cursor is: command names after `:`, tickets after
//! `:why`, `:case` and `:ask`, clause names after `:show`, policy names after `:use`, file
//! paths after `:load`, `:events` and `:save`, attribute values inside a string, and otherwise
//! attribute names, event types, clause names and keywords of the language. The words come from
//! a [`Vocabulary`] the front-end refreshes from the session after every input.

use super::session::{Session, COMMANDS};
use super::text::DECLARATION_KEYWORDS;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::collections::BTreeSet;

/// Names known from the loaded policies and events.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub policies: BTreeSet<String>,
    pub clauses: BTreeSet<String>,
    pub calendars: BTreeSet<String>,
    pub tickets: BTreeSet<String>,
    pub event_types: BTreeSet<String>,
    pub attributes: BTreeSet<String>,
    /// String values of attributes (bounded in number).
    pub values: BTreeSet<String>,
}

/// Words of the language worth completing inside clauses and conditions.
const LANGUAGE_WORDS: &[&str] = &[
    "when",
    "from",
    "until",
    "within",
    "pause",
    "while",
    "status",
    "in",
    "and",
    "or",
    "not",
    "has",
    "hours",
    "minutes",
    "days",
    "business",
    "workdays",
    "on",
    "same",
    "day",
    "by",
    "next",
    "workday",
    "at",
    "after",
    "warn",
    "escalate",
    "notify",
    "to",
    "via",
    "cite",
    "effective",
    "holidays",
    "holiday",
];

/// Candidates for the word ending at `pos` in `line`: (start of the word, candidates).
pub fn candidates(vocab: &Vocabulary, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | ',' | '"'))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    let pick = |set: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        set.filter(|w| w.starts_with(word))
            .map(str::to_string)
            .collect()
    };
    let trimmed = before.trim_start();
    if trimmed.starts_with(':') && !trimmed.contains(char::is_whitespace) {
        let list = pick(&mut COMMANDS.iter().map(|c| c.0));
        return (before.len() - trimmed.len(), list);
    }
    let args_before = trimmed.split_whitespace().count() - usize::from(!word.is_empty());
    let command = trimmed.split_whitespace().next().unwrap_or("");
    let in_string = before.matches('"').count() % 2 == 1;
    let list = match command {
        ":why" | ":case" | ":ask" if args_before == 1 => {
            pick(&mut vocab.tickets.iter().map(String::as_str))
        }
        ":show" => pick(&mut vocab.clauses.iter().map(String::as_str)),
        ":use" | ":save" if args_before == 2 && command == ":save" => {
            pick(&mut vocab.policies.iter().map(String::as_str))
        }
        ":use" => pick(&mut vocab.policies.iter().map(String::as_str)),
        ":now" => pick(&mut ["latest"].into_iter()),
        _ if in_string => pick(&mut vocab.values.iter().map(String::as_str)),
        _ => {
            let mut all: BTreeSet<&str> = BTreeSet::new();
            all.extend(vocab.attributes.iter().map(String::as_str));
            all.extend(vocab.event_types.iter().map(String::as_str));
            all.extend(vocab.clauses.iter().map(String::as_str));
            all.extend(vocab.calendars.iter().map(String::as_str));
            all.extend(crate::syntax::CONVENTIONAL_EVENTS.iter().copied());
            all.extend(DECLARATION_KEYWORDS.iter().copied());
            all.extend(LANGUAGE_WORDS.iter().copied());
            if word.is_empty() {
                Vec::new()
            } else {
                pick(&mut all.into_iter())
            }
        }
    };
    (start, list)
}

/// The rustyline helper: completion, and multi-line input until braces balance.
pub struct ReplHelper {
    pub vocab: Vocabulary,
    files: FilenameCompleter,
}

impl ReplHelper {
    pub fn new(vocab: Vocabulary) -> ReplHelper {
        ReplHelper {
            vocab,
            files: FilenameCompleter::new(),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let command = line.split_whitespace().next().unwrap_or("");
        if matches!(command, ":load" | ":events" | ":save") && line[..pos].contains(' ') {
            let save_policy = command == ":save" && line[..pos].split_whitespace().count() >= 3;
            if !save_policy {
                return self.files.complete(line, pos, ctx);
            }
        }
        let (start, list) = candidates(&self.vocab, line, pos);
        Ok((
            start,
            list.into_iter()
                .map(|w| Pair {
                    replacement: replacement(line, start, pos, &w),
                    display: w,
                })
                .collect(),
        ))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if Session::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

/// What a candidate `word` for `line[start..pos]` is replaced with: a completed command is
/// followed by a space, ready for its argument; a value completed inside a string is closed
/// with its quote (unless one follows already), ready for what comes after it.
fn replacement(line: &str, start: usize, pos: usize, word: &str) -> String {
    if line[start..pos].starts_with(':') {
        return format!("{word} ");
    }
    let in_string = line[..pos].matches('"').count() % 2 == 1;
    if in_string && !line[pos..].starts_with('"') {
        format!("{word}\"")
    } else {
        word.to_string()
    }
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let mut v = Vocabulary::default();
        v.tickets
            .extend(["T-0301".to_string(), "T-0302".to_string()]);
        v.clauses.insert("dispatch_30min".to_string());
        v.attributes.insert("severity".to_string());
        v.values.insert("minor".to_string());
        v.policies.insert("repairs".to_string());
        v
    }

    #[test]
    fn commands_tickets_clauses_attributes_and_values() {
        let v = vocab();
        assert_eq!(candidates(&v, ":wh", 3), (0, vec![":why".to_string()]));
        assert_eq!(
            candidates(&v, ":why T-03", 9).1,
            vec!["T-0301".to_string(), "T-0302".to_string()]
        );
        assert_eq!(
            candidates(&v, ":show disp", 10),
            (6, vec!["dispatch_30min".to_string()])
        );
        let line = ":ask T-0301 sev";
        assert_eq!(
            candidates(&v, line, line.len()).1,
            vec!["severity".to_string()]
        );
        let line = ":ask T-0301 severity == \"mi";
        let (start, list) = candidates(&v, line, line.len());
        assert_eq!(list, vec!["minor".to_string()]);
        assert_eq!(&line[start..], "mi");
        assert_eq!(candidates(&v, ":use r", 6).1, vec!["repairs".to_string()]);
    }

    #[test]
    fn a_value_completed_in_a_string_closes_it_and_a_command_takes_a_space() {
        let line = ":ask T-0301 severity == \"mi";
        assert_eq!(
            replacement(line, line.len() - 2, line.len(), "minor"),
            "minor\""
        );
        // A quote after the cursor already closes it.
        let line = ":ask T-0301 severity == \"mi\"";
        let pos = line.len() - 1;
        assert_eq!(replacement(line, pos - 2, pos, "minor"), "minor");
        assert_eq!(replacement(":wh", 0, 3, ":why"), ":why ");
        assert_eq!(replacement(":why T-03", 5, 9, "T-0301"), "T-0301");
    }
}
