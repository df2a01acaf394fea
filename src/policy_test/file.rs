//! The `.pledge-test` file: TOML naming the policies under test, and cases of events with the
//! records they must (and must not) give.
//!
//! ```toml
//! policies = ["../complaints.pledge"]       # relative to this file
//! now = "2026-03-06 18:00"                  # optional; default: each case's last event
//! reorder_window = "1d"                     # optional, as `pledge check --reorder-window`
//! retain = "30d"                            # optional, as `pledge check --retain`
//! tz = "Asia/Shanghai"                      # optional; default: the first policy's zone
//!                                           # (given, it is also `--tz` for JSON lines)
//!
//! [[case]]
//! name = "contacted within the hour"
//! now = "2026-03-02 18:00"                  # optional, for this case only
//! events = '''
//! 2026-03-02 09:00  C-1  opened     kind=complaint
//! 2026-03-02 09:40  C-1  contacted
//! '''
//! expect = [
//!   { record = "verdict", clause = "complaint_contact_1h", ticket = "C-1", status = "met" },
//! ]
//! absent = [{ record = "action", ticket = "C-1" }]
//! complete = ["verdict"]                    # every verdict of the case is expected above
//! ```
//!
//! Everything is checked when the file is loaded, before any case runs, so that a typo is an
//! error with its line rather than an expectation that silently never matches: unknown keys,
//! record kinds and fields, times, durations, zones, compact event lines, policy files.

use super::compact::{parse_event_line, EventLineError};
use super::fields::{fields_of, INSTANT_FIELDS, RECORD_KINDS};
use crate::api::{Options, PolicySet};
use crate::policy::{Policy, Span};
use crate::syntax::{load_policy, PolicyDiagnostic, PolicyErrors, DEFAULT_ZONE};
use crate::Instant;
use chrono::Duration;
use chrono_tz::Tz;
use miette::NamedSource;
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// A test file, loaded and checked.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The file's path as found, which names its tests (`FILE::NAME`).
    pub name: String,
    /// The policies under test, in the order given.
    pub policies: PolicySet,
    /// The zone of local times in the file.
    pub zone: Tz,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One case: events, the options of its check, and what its records must show.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name, unique in its file.
    pub name: String,
    /// The events as JSON Lines, one line per line of `events` (blank for comments), so that
    /// a rejected record's line is the line within `events`.
    pub events: String,
    /// The file line of each line of `events` (index 0: line 1), for messages.
    pub event_lines: Vec<usize>,
    /// The options of the check: `now`, window, retention, zone.
    pub options: Options,
    /// Partial records each of which some record must match.
    pub expect: Vec<Expectation>,
    /// Partial records no record may match.
    pub absent: Vec<Expectation>,
    /// Record kinds whose every record must match an entry of `expect`.
    pub complete: Vec<String>,
}

/// A partial record and where it is written.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The fields the record must have, with their values.
    pub fields: toml::Table,
    /// The file line it is written on.
    pub line: usize,
}

impl Expectation {
    /// The record kind it names, if it names one.
    pub fn kind(&self) -> Option<&str> {
        self.fields.get("record").and_then(toml::Value::as_str)
    }
}

/// Policies already loaded in this run, by path: several test files usually test the same
/// policy, which is then parsed once.
#[derive(Debug, Default)]
pub struct PolicyCache {
    loaded: HashMap<PathBuf, Policy>,
    /// Policies whose diagnostics were already reported: another file naming them says so
    /// rather than repeating them.
    failed: std::collections::HashSet<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policies: Spanned<Vec<Spanned<String>>>,
    now: Option<Spanned<toml::Value>>,
    tz: Option<Spanned<String>>,
    reorder_window: Option<Spanned<String>>,
    retain: Option<Spanned<String>>,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    events: Spanned<String>,
    now: Option<Spanned<toml::Value>>,
    #[serde(default)]
    expect: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    absent: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    complete: Vec<Spanned<String>>,
}

/// Collects the diagnostics of one test file.
struct Loader<'a> {
    text: &'a str,
    named: Arc<NamedSource<String>>,
    errors: Vec<PolicyDiagnostic>,
}

impl Loader<'_> {
    fn error(&mut self, code: &'static str, message: String, span: Range<usize>, label: &str) {
        let d = PolicyDiagnostic::error(&self.named, code, message).label(to_span(span), label);
        self.errors.push(d);
    }

    fn error_help(
        &mut self,
        code: &'static str,
        message: String,
        span: Range<usize>,
        label: &str,
        help: &str,
    ) {
        let d = PolicyDiagnostic::error(&self.named, code, message)
            .label(to_span(span), label)
            .help(help);
        self.errors.push(d);
    }

    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }
}

fn to_span(r: Range<usize>) -> Span {
    Span {
        start: r.start,
        end: r.end,
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// Loads a test file and its policies. `Err` holds every problem found: diagnostics in the
/// test file first, then those of its policies.
pub fn load(path: &Path, cache: &mut PolicyCache) -> Result<TestFile, Vec<PolicyErrors>> {
    let name = path.display().to_string();
    let text = match crate::limits::read_text_at_most(path, crate::limits::MAX_POLICY_BYTES) {
        Ok(text) => text,
        Err(e) => {
            let named = Arc::new(NamedSource::new(name.clone(), String::new()));
            let d = PolicyDiagnostic::error(
                &named,
                "pledge::test::unreadable",
                format!("cannot read `{name}`: {e}"),
            );
            return Err(vec![PolicyErrors {
                name,
                errors: vec![d],
            }]);
        }
    };
    let named = Arc::new(NamedSource::new(name.clone(), text.clone()).with_language("toml"));
    let mut loader = Loader {
        text: &text,
        named,
        errors: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(&text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            loader.error_help(
                "pledge::test::invalid",
                crate::calendar::holidays::first_line_lowercase(e.message(), "invalid test file"),
                span,
                "here",
                "a test file is TOML: `policies = [...]`, then `[[case]]` tables with `name`, \
                 `events` and `expect`",
            );
            return Err(vec![PolicyErrors {
                name,
                errors: loader.errors,
            }]);
        }
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let (policies, policy_errors) = load_policies(&mut loader, &raw, dir, cache);
    let loaded_all = policy_errors.is_empty();
    let file = build(&mut loader, raw, policies, loaded_all, &name);
    let mut errors = Vec::new();
    if !loader.errors.is_empty() {
        errors.push(PolicyErrors {
            name,
            errors: loader.errors,
        });
    }
    errors.extend(policy_errors);
    match file {
        Some(file) if errors.is_empty() => Ok(file),
        _ => Err(errors),
    }
}

/// The policies named by the file, from the cache or their files.
fn load_policies(
    loader: &mut Loader,
    raw: &RawFile,
    dir: &Path,
    cache: &mut PolicyCache,
) -> (Vec<Policy>, Vec<PolicyErrors>) {
    let mut policies = Vec::new();
    let mut errors = Vec::new();
    if raw.policies.get_ref().is_empty() {
        loader.error_help(
            "pledge::test::no_policies",
            "the test names no policy".into(),
            raw.policies.span(),
            "empty",
            "name the policy files under test, relative to this file: \
             `policies = [\"../complaints.pledge\"]`",
        );
    }
    for entry in raw.policies.get_ref() {
        let path = dir.join(entry.get_ref());
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(policy) = cache.loaded.get(&key) {
            policies.push(policy.clone());
            continue;
        }
        if cache.failed.contains(&key) {
            loader.error(
                "pledge::test::policy_invalid",
                format!("the policy `{}` is not valid (see above)", path.display()),
                entry.span(),
                "this policy",
            );
            continue;
        }
        if let Err(e) = std::fs::metadata(&path) {
            loader.error(
                "pledge::test::policy_unreadable",
                format!("cannot read policy `{}`: {e}", path.display()),
                entry.span(),
                "this policy",
            );
            continue;
        }
        match load_policy(&path) {
            Ok(policy) => {
                cache.loaded.insert(key, policy.clone());
                policies.push(policy);
            }
            Err(e) => {
                cache.failed.insert(key);
                errors.push(e);
            }
        }
    }
    (policies, errors)
}

/// The file's settings and cases, checked; `None` when something is wrong (the diagnostics are
/// in `loader`).
fn build(
    loader: &mut Loader,
    raw: RawFile,
    policies: Vec<Policy>,
    loaded_all: bool,
    name: &str,
) -> Option<TestFile> {
    let policies = PolicySet::from(policies);
    // What an expected record may name: known only when every policy loaded.
    let known = loaded_all.then(|| Names::of(&policies));
    let tz = raw.tz.as_ref().and_then(|tz| {
        let parsed = tz.get_ref().parse::<Tz>();
        if parsed.is_err() {
            loader.error_help(
                "pledge::test::zone",
                format!("`{}` is not an IANA time zone", tz.get_ref()),
                tz.span(),
                "unknown zone",
                "write a zone like `Asia/Shanghai`",
            );
        }
        parsed.ok()
    });
    let zone = tz.unwrap_or_else(|| policies.policies().first().map_or(DEFAULT_ZONE, |p| p.zone));
    let file_now = raw.now.as_ref().and_then(|now| instant(loader, now, zone));
    let mut options = Options::default().threads(0);
    if let Some(tz) = tz {
        options = options.tz(tz);
    }
    if let Some(window) = raw.reorder_window.as_ref() {
        if let Some(d) = duration(loader, window) {
            options = options.reorder_window(d);
        }
    }
    if let Some(retain) = raw.retain.as_ref() {
        if let Some(d) = duration(loader, retain) {
            options = options.retain(d);
        }
    }
    if options.retain < options.reorder_window {
        let span = raw
            .retain
            .as_ref()
            .or(raw.reorder_window.as_ref())
            .map_or(0..0, Spanned::span);
        loader.error(
            "pledge::test::retain",
            "`retain` is shorter than `reorder_window`".into(),
            span,
            "here",
        );
    }
    if raw.case.is_empty() {
        loader.error_help(
            "pledge::test::no_cases",
            "the file has no test case".into(),
            0..0,
            "",
            "add `[[case]]` tables, each with `name`, `events` and `expect`",
        );
    }
    let mut cases: Vec<Case> = Vec::new();
    let mut names: HashMap<String, Range<usize>> = HashMap::new();
    for raw_case in raw.case {
        let case_name = raw_case.name.get_ref().trim().to_string();
        let name_span = raw_case.name.span();
        if case_name.is_empty() {
            loader.error(
                "pledge::test::case_name",
                "a case needs a name".into(),
                name_span.clone(),
                "empty",
            );
        } else if let Some(first) = names.get(&case_name) {
            let d = PolicyDiagnostic::error(
                &loader.named,
                "pledge::test::duplicate_case",
                format!("two cases are named `{case_name}`"),
            )
            .label(to_span(name_span.clone()), "this name")
            .label(to_span(first.clone()), "is already used here")
            .help("each case needs its own name: it names the test");
            loader.errors.push(d);
        } else {
            names.insert(case_name.clone(), name_span.clone());
        }
        let now = match &raw_case.now {
            Some(now) => instant(loader, now, zone),
            None => file_now,
        };
        let (events, event_lines) = events(loader, &raw_case.events, zone);
        let expect = expectations(loader, &raw_case.expect, zone, known.as_ref());
        let absent = expectations(loader, &raw_case.absent, zone, known.as_ref());
        let mut complete = Vec::new();
        for kind in &raw_case.complete {
            if RECORD_KINDS.contains(&kind.get_ref().as_str()) {
                complete.push(kind.get_ref().clone());
            } else {
                unknown_kind(loader, kind.get_ref(), kind.span());
            }
        }
        // Entries that were there but wrong have their own errors: the case expects something.
        if raw_case.expect.is_empty() && raw_case.absent.is_empty() && raw_case.complete.is_empty()
        {
            loader.error_help(
                "pledge::test::empty_case",
                format!("the case `{case_name}` expects nothing"),
                name_span,
                "this case",
                "add `expect = [...]` (records that must appear), `absent = [...]` (records \
                 that must not) or `complete = [\"verdict\"]` (no verdict beyond those expected)",
            );
        }
        let mut case_options = options.clone();
        case_options.now = now;
        cases.push(Case {
            name: case_name,
            events,
            event_lines,
            options: case_options,
            expect,
            absent,
            complete,
        });
    }
    loader.errors.is_empty().then(|| TestFile {
        name: name.to_string(),
        policies,
        zone,
        cases,
    })
}

/// `now`: RFC 3339, a local `2026-03-06 18:00` or a date, as a string or a TOML date-time.
fn instant(loader: &mut Loader, value: &Spanned<toml::Value>, zone: Tz) -> Option<Instant> {
    let text = match value.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            loader.error(
                "pledge::test::instant",
                format!("`now` must be a date and time, not a {}", other.type_str()),
                value.span(),
                "here",
            );
            return None;
        }
    };
    match crate::input::parse_typed_instant(&text, zone) {
        Ok(at) => Some(at),
        Err(message) => {
            loader.error(
                "pledge::test::instant",
                message,
                value.span(),
                "not an instant",
            );
            None
        }
    }
}

fn duration(loader: &mut Loader, value: &Spanned<String>) -> Option<Duration> {
    match crate::input::parse_typed_duration(value.get_ref()) {
        Ok(d) if d > Duration::zero() => Some(d),
        Ok(_) => {
            loader.error(
                "pledge::test::duration",
                format!("`{}` is not a positive duration", value.get_ref()),
                value.span(),
                "here",
            );
            None
        }
        Err(message) => {
            loader.error(
                "pledge::test::duration",
                message,
                value.span(),
                "not a duration",
            );
            None
        }
    }
}

/// The events of a case as JSON Lines, and the file line of each of its lines.
fn events(loader: &mut Loader, value: &Spanned<String>, zone: Tz) -> (String, Vec<usize>) {
    let text = value.get_ref();
    let starts = value_line_starts(loader.text, value.span(), text);
    let first_line = loader.line(value.span().start);
    let mut out = String::new();
    let mut lines = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let file_line = starts
            .as_ref()
            .and_then(|s| s.get(i))
            .map_or(first_line + i, |(start, _)| loader.line(*start));
        lines.push(file_line);
        match parse_event_line(line, zone) {
            Ok(parsed) => {
                out.push_str(&parsed.to_jsonl());
                out.push('\n');
            }
            Err(e) => {
                let span = line_error_span(&e, starts.as_ref().and_then(|s| s.get(i)), line)
                    .unwrap_or_else(|| value.span());
                event_line_error(loader, e, span);
                out.push('\n');
            }
        }
    }
    (out, lines)
}

/// Where in the file an error within a line of `events` is: exact when the line is written in
/// the file as it reads (no escapes), else the whole line.
fn line_error_span(
    e: &EventLineError,
    start: Option<&(usize, &str)>,
    line: &str,
) -> Option<Range<usize>> {
    let (start, raw) = start?;
    if *raw == line || raw.strip_suffix('\r') == Some(line) {
        let end = if e.span.is_empty() {
            e.span.end + line[e.span.end..].chars().next().map_or(0, char::len_utf8)
        } else {
            e.span.end
        };
        Some(start + e.span.start..start + end)
    } else {
        Some(*start..start + raw.len())
    }
}

fn event_line_error(loader: &mut Loader, e: EventLineError, span: Range<usize>) {
    let mut d = PolicyDiagnostic::error(&loader.named, "pledge::test::event_line", e.message)
        .label(to_span(span), "here");
    if let Some(help) = e.help {
        d = d.help(help);
    }
    loader.errors.push(d);
}

/// The byte offset in the file and the raw text of each line of a string value, when the
/// value's lines are the literal's lines (no line-ending backslash in a `"""` string).
fn value_line_starts<'t>(
    source: &'t str,
    span: Range<usize>,
    value: &str,
) -> Option<Vec<(usize, &'t str)>> {
    let raw = source.get(span.clone())?;
    let delimiter = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        1
    } else {
        return None;
    };
    let mut start = span.start + delimiter;
    let end = span.end.checked_sub(delimiter)?;
    if delimiter == 3 {
        // TOML drops a newline right after the opening delimiter.
        if source[start..].starts_with("\r\n") {
            start += 2;
        } else if source[start..].starts_with('\n') {
            start += 1;
        }
    }
    let content = source.get(start..end)?;
    let mut out = Vec::new();
    let mut offset = start;
    for line in content.split('\n') {
        out.push((offset, line));
        offset += line.len() + 1;
    }
    (out.len() == value.split('\n').count()).then_some(out)
}

/// The policies and clauses a test's records may name.
struct Names {
    policies: Vec<String>,
    clauses: Vec<String>,
}

impl Names {
    fn of(set: &PolicySet) -> Names {
        let mut clauses: Vec<String> = set
            .policies()
            .iter()
            .flat_map(|p| p.clauses.iter().map(|c| c.name.clone()))
            .collect();
        clauses.sort();
        clauses.dedup();
        Names {
            policies: set.policies().iter().map(|p| p.name.clone()).collect(),
            clauses,
        }
    }

    /// Why a field's value can match no record, if it cannot: a policy or clause no policy of
    /// the test has, a verdict's status other than `met`, `breached` or `pending`. In `absent`
    /// such a typo would pass whatever the policies do.
    fn impossible(
        &self,
        kind: Option<&str>,
        key: &str,
        value: &toml::Value,
    ) -> Option<(String, String)> {
        let toml::Value::String(text) = value else {
            return None;
        };
        let (what, known): (&str, Vec<&str>) = match key {
            "clause" => ("clause", self.clauses.iter().map(String::as_str).collect()),
            "policy" => ("policy", self.policies.iter().map(String::as_str).collect()),
            "status" if kind == Some("verdict") => {
                ("verdict status", vec!["met", "breached", "pending"])
            }
            _ => return None,
        };
        if known.contains(&text.as_str()) {
            return None;
        }
        let help = match crate::syntax::closest(text, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if known.len() <= 12 => format!("the test's {what}s: {}", known.join(", ")),
            None => format!("no {what} of the test's policies has this name"),
        };
        Some((
            format!("no {what} is called `{text}`: this record can match nothing"),
            help,
        ))
    }
}

/// The partial records of `expect` or `absent`, their kinds and fields checked.
fn expectations(
    loader: &mut Loader,
    raw: &[Spanned<toml::Table>],
    zone: Tz,
    names: Option<&Names>,
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for entry in raw {
        let fields = entry.get_ref();
        let span = entry.span();
        let kind = match fields.get("record") {
            None => None,
            Some(toml::Value::String(kind)) if RECORD_KINDS.contains(&kind.as_str()) => {
                Some(kind.as_str())
            }
            Some(toml::Value::String(kind)) => {
                unknown_kind(loader, kind, span.clone());
                continue;
            }
            Some(_) => {
                loader.error(
                    "pledge::test::record_kind",
                    "`record` must be a string, like `record = \"verdict\"`".into(),
                    span.clone(),
                    "here",
                );
                continue;
            }
        };
        let known = fields_of(kind);
        let unknown: Vec<&String> = fields
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        if let Some(key) = unknown.first() {
            let of = kind.map_or("any record".to_string(), |k| format!("a `{k}` record"));
            loader.error_help(
                "pledge::test::unknown_field",
                format!("`{key}` is not a field of {of}"),
                span.clone(),
                "in this record",
                &format!("the fields are: {}", known.join(", ")),
            );
            continue;
        }
        if let Some((key, why)) = fields.iter().find_map(|(key, value)| {
            INSTANT_FIELDS
                .contains(&key.as_str())
                .then(|| not_an_instant(value, zone))
                .flatten()
                .map(|why| (key, why))
        }) {
            loader.error_help(
                "pledge::test::instant",
                format!("`{key}` is not an instant: {why}"),
                span.clone(),
                "in this record",
                "write it like \"2026-03-06 18:00\" (in the test's zone) or in RFC 3339",
            );
            continue;
        }
        if let Some((why, help)) = names.and_then(|names| {
            fields
                .iter()
                .find_map(|(key, value)| names.impossible(kind, key, value))
        }) {
            loader.error_help(
                "pledge::test::unknown_value",
                why,
                span.clone(),
                "in this record",
                &help,
            );
            continue;
        }
        if fields.is_empty() {
            loader.error(
                "pledge::test::empty_record",
                "an empty record matches every record".into(),
                span.clone(),
                "empty",
            );
            continue;
        }
        out.push(Expectation {
            fields: fields.clone(),
            line: loader.line(span.start),
        });
    }
    out
}

/// Why an expected value of an instant field could never match one, if it could not.
fn not_an_instant(value: &toml::Value, zone: Tz) -> Option<String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            let kind = other.type_str();
            let a = if kind.starts_with(['a', 'i']) {
                "an"
            } else {
                "a"
            };
            return Some(format!("{a} {kind}, not a date and time"));
        }
    };
    // The help of the error says what an instant looks like.
    crate::input::parse_typed_instant(&text, zone)
        .err()
        .map(|_| format!("`{text}`"))
}

fn unknown_kind(loader: &mut Loader, kind: &str, span: Range<usize>) {
    loader.error_help(
        "pledge::test::record_kind",
        format!("`{kind}` is not a kind of record"),
        span,
        "here",
        &format!("the kinds are: {}", RECORD_KINDS.join(", ")),
    );
}
