//! Policy source text → checked [`crate::policy::Policy`], with miette diagnostics.
//!
//! One file per step:
//! - `grammar`: the pest parser over `grammar/pledge.pest`, and prose names for its rules;
//! - `lower`: parse tree → policy model, collecting every independent error;
//! - `schema`: the attribute schema (`attributes { ... }`) and the vocabulary of EVENTS.md;
//! - `lint`: named lints over a checked policy, one module per lint;
//! - `diagnostics`: errors with stable codes, spans, labels and help;
//! - `messages`: the same diagnostics in Chinese (`--lang zh`);
//! - `format`: clauses back to canonical source text;
//! - `layout`: whole files back to canonical source text, comments kept (`pledge fmt`).

mod diagnostics;
mod format;
mod grammar;
mod layout;
pub mod lint;
mod lower;
pub mod messages;
pub mod schema;

pub use diagnostics::PolicyDiagnostic;
pub(crate) use diagnostics::{closest, columns_before};
pub use format::format_record_item;
pub use format::{
    format_alert, format_clause, format_condition, format_duration, format_limit, format_trigger,
};
pub use layout::format_source;
pub use lower::{CONVENTIONAL_EVENTS, DEFAULT_ZONE};
pub use messages::Lang;
pub use schema::Schema;

use crate::limits::{MAX_CLAUSES, MAX_CONDITION_DEPTH, MAX_POLICY_BYTES};
use crate::policy::{Clause, Condition, Policy, Span};
use grammar::{PolicyParser, Rule};
use lower::Lowerer;
use miette::NamedSource;
use pest::Parser;
use std::path::Path;
use std::sync::Arc;

/// All errors of one policy source, reported together.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{} error(s) in policy `{name}`", errors.len())]
#[diagnostic(code(pledge::policy::invalid))]
pub struct PolicyErrors {
    pub name: String,
    #[related]
    pub errors: Vec<PolicyDiagnostic>,
}

impl PolicyErrors {
    /// The stable codes of all errors, in source order (for tests and tools).
    pub fn codes(&self) -> Vec<&'static str> {
        self.errors.iter().map(|e| e.code).collect()
    }
}

/// The name of the shared schema file the loader reads next to a policy file, when there is one.
pub const SCHEMA_FILE: &str = "attributes.pledge-schema";

/// A policy that checked, with the warnings of its lints.
#[derive(Debug, Clone)]
pub struct Linted {
    pub policy: Policy,
    /// Lint diagnostics (warnings, or errors for denied lints), in source order.
    pub lints: Vec<PolicyDiagnostic>,
}

impl Linted {
    /// Whether a denied lint fired.
    pub fn denied(&self) -> bool {
        self.lints
            .iter()
            .any(|d| d.severity == miette::Severity::Error)
    }
}

/// Parses and checks a policy source. `origin` names it in diagnostics (usually its path);
/// `base_dir` resolves `include calendar "..."` paths (none: includes are refused).
pub fn parse_policy(
    source: &str,
    origin: &str,
    base_dir: Option<&Path>,
) -> Result<Policy, PolicyErrors> {
    parse_policy_linted(source, origin, base_dir, &Schema::default(), &[]).map(|l| l.policy)
}

/// [`parse_policy`] with a shared schema (which the policy's own `attributes` blocks extend)
/// and the lints run, `deny` naming those that are errors (`all`: every one).
pub fn parse_policy_linted(
    source: &str,
    origin: &str,
    base_dir: Option<&Path>,
    shared: &Schema,
    deny: &[String],
) -> Result<Linted, PolicyErrors> {
    let named = Arc::new(NamedSource::new(origin, source.to_string()).with_language("pledge"));
    let fail = |errors: Vec<PolicyDiagnostic>| PolicyErrors {
        name: origin.to_string(),
        errors,
    };
    if let Some(e) = prescan(&named) {
        return Err(fail(vec![e]));
    }
    let file = match PolicyParser::parse(Rule::file, source) {
        Ok(mut pairs) => pairs.next(),
        Err(e) => {
            let (mut errors, blanked) = recover_syntax_errors(&named, &e);
            // The rest of the policy, with the clauses that do not parse blanked out, is
            // lowered too, so that its mistakes are reported in the same run.
            if let Some(blanked) = blanked {
                if let Ok(mut pairs) = PolicyParser::parse(Rule::file, &blanked) {
                    let mut lowerer =
                        Lowerer::new(Arc::clone(&named), base_dir).with_schema(shared);
                    let _ = pairs.next().and_then(|f| lowerer.policy(f));
                    errors.extend(lowerer.errors);
                }
            }
            errors.sort_by_key(|e| e.primary_span().map_or(0, |s| s.start));
            return Err(fail(errors));
        }
    };
    let mut lowerer = Lowerer::new(Arc::clone(&named), base_dir).with_schema(shared);
    let policy = file.and_then(|f| lowerer.policy(f));
    let mut errors = std::mem::take(&mut lowerer.errors);
    if let Some(p) = &policy {
        if let Some(first_over) = p.clauses.get(MAX_CLAUSES) {
            errors.push(
                PolicyDiagnostic::error(
                    &named,
                    "pledge::limits::too_many_clauses",
                    format!("more than {MAX_CLAUSES} clauses"),
                )
                .label(
                    first_over.span,
                    format!("clause {} starts here", MAX_CLAUSES + 1),
                )
                .help("split the policy into several files"),
            );
        }
    }
    errors.sort_by_key(|e| e.primary_span().map_or(0, |s| s.start));
    match policy {
        Some(policy) if errors.is_empty() => {
            let cx = lint::Context {
                policy: &policy,
                facts: &lowerer.facts,
                schema: &lowerer.schema,
                source: &named,
            };
            let lints = lint::run(&cx, deny);
            Ok(Linted { policy, lints })
        }
        _ => Err(fail(errors)),
    }
}

/// Reads and parses a policy file, with the shared schema of its directory
/// ([`SCHEMA_FILE`]) when there is one.
pub fn load_policy(path: &Path) -> Result<Policy, PolicyErrors> {
    load_policy_linted(path, &[]).map(|l| l.policy)
}

/// [`load_policy`] with the lints run, `deny` naming those that are errors.
pub fn load_policy_linted(path: &Path, deny: &[String]) -> Result<Linted, PolicyErrors> {
    let shared = shared_schema(path)?;
    let origin = path.display().to_string();
    match crate::limits::read_text_at_most(path, MAX_POLICY_BYTES) {
        Ok(text) => parse_policy_linted(&text, &origin, path.parent(), &shared, deny),
        Err(e) => Err(unreadable(origin, e)),
    }
}

/// The shared schema of a policy file: its directory's [`SCHEMA_FILE`], or an empty schema
/// when there is none.
pub fn shared_schema(policy_path: &Path) -> Result<Schema, PolicyErrors> {
    match policy_path.parent().map(|d| d.join(SCHEMA_FILE)) {
        Some(file) if file.is_file() => load_schema(&file),
        _ => Ok(Schema::default()),
    }
}

/// Reads a shared schema file: `attributes { ... }` blocks and nothing else.
pub fn load_schema(path: &Path) -> Result<Schema, PolicyErrors> {
    let origin = path.display().to_string();
    match crate::limits::read_text_at_most(path, MAX_POLICY_BYTES) {
        Ok(text) => parse_schema(&text, &origin),
        Err(e) => Err(unreadable(origin, e)),
    }
}

/// Parses a shared schema's text (`origin` names it in diagnostics).
pub fn parse_schema(source: &str, origin: &str) -> Result<Schema, PolicyErrors> {
    let named = Arc::new(NamedSource::new(origin, source.to_string()).with_language("pledge"));
    let fail = |errors: Vec<PolicyDiagnostic>| PolicyErrors {
        name: origin.to_string(),
        errors,
    };
    if let Some(e) = prescan(&named) {
        return Err(fail(vec![e]));
    }
    let file = match PolicyParser::parse(Rule::schema_file, source) {
        Ok(mut pairs) => pairs.next(),
        Err(e) => return Err(fail(vec![diagnostics::from_pest(&named, &e, 0)])),
    };
    let mut lowerer = Lowerer::new(Arc::clone(&named), None);
    // A shared schema may describe events the policies declare: it names its own.
    for block in file.into_iter().flat_map(|f| f.into_inner()) {
        if block.as_rule() == Rule::attributes_decl {
            lowerer.attributes_shared(block);
        }
    }
    if lowerer.errors.is_empty() {
        Ok(lowerer.schema)
    } else {
        Err(fail(lowerer.errors))
    }
}

/// The policies of one run, read from `origins` (their files, in order), as errors when two
/// declare the same name: their clauses, records, alert keys and metrics would be told apart
/// by nothing (`repairs/repair_minor_8h` twice).
pub fn distinct_policy_names(policies: &[Policy], origins: &[String]) -> Result<(), PolicyErrors> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for (policy, origin) in policies.iter().zip(origins) {
        if let Some(first) = seen.insert(&policy.name, origin) {
            seen.insert(&policy.name, first);
            let named = Arc::new(NamedSource::new(origin.clone(), String::new()));
            errors.push(
                PolicyDiagnostic::error(
                    &named,
                    "pledge::policy::duplicate_name",
                    format!(
                        "policy `{}` is declared in `{first}` and again in `{origin}`",
                        policy.name
                    ),
                )
                .help("give each policy of a run its own name, or leave one of the files out"),
            );
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(PolicyErrors {
            name: origins.last().cloned().unwrap_or_default(),
            errors,
        }),
    }
}

fn unreadable(origin: String, e: std::io::Error) -> PolicyErrors {
    let named = Arc::new(NamedSource::new(origin.clone(), String::new()));
    PolicyErrors {
        name: origin.clone(),
        errors: vec![PolicyDiagnostic::error(
            &named,
            "pledge::io::unreadable",
            format!("cannot read `{origin}`: {e}"),
        )
        .help(if e.kind() == std::io::ErrorKind::InvalidData {
            "a policy file is UTF-8 text: save it as UTF-8"
        } else if crate::limits::is_too_large(&e) {
            "split it into several policy files"
        } else {
            "check the path and that the file may be read"
        })],
    }
}

/// Parses clauses and calendars typed on their own (the REPL's what-if input), in the context of
/// an existing policy whose zone and calendars they may use. Returns a copy of `base` with the
/// snippet's calendars (a calendar of the same name as one of `base` replaces it, and the
/// clauses of `base` that counted on the old one count on the new one), and the new clauses.
/// The clauses are not added to the policy: the caller decides what they replace.
pub fn parse_snippet(
    source: &str,
    origin: &str,
    base: &Policy,
) -> Result<(Policy, Vec<Clause>), PolicyErrors> {
    let named = Arc::new(NamedSource::new(origin, source.to_string()).with_language("pledge"));
    let fail = |errors: Vec<PolicyDiagnostic>| PolicyErrors {
        name: origin.to_string(),
        errors,
    };
    if let Some(e) = prescan(&named) {
        return Err(fail(vec![e]));
    }
    let snippet = match PolicyParser::parse(Rule::snippet, source) {
        Ok(mut pairs) => pairs.next(),
        Err(e) => return Err(fail(vec![diagnostics::from_pest(&named, &e, 0)])),
    };
    // The event types the base policy's clauses name were declared there: a what-if may name
    // them too (a redefined clause keeps its declared events).
    let used: Vec<String> = crate::relevance::Relevance::of(std::slice::from_ref(base))
        .types()
        .map(String::from)
        .collect();
    let mut lowerer = Lowerer::new(Arc::clone(&named), None).with_context(base, &used);
    let declarations: Vec<_> = snippet
        .map(|s| {
            s.into_inner()
                .filter(|p| p.as_rule() != Rule::EOI)
                .collect()
        })
        .unwrap_or_default();
    let clauses = lowerer.declarations(declarations);
    if !lowerer.errors.is_empty() {
        return Err(fail(lowerer.errors));
    }
    let mut policy = base.clone();
    policy.calendars = lowerer.calendars();
    policy.alerts = lowerer.alerts.clone();
    if !lowerer.replaced_calendars.is_empty() {
        for clause in &mut policy.clauses {
            rebind_calendars(clause, &policy.calendars);
        }
    }
    Ok((policy, clauses))
}

/// Points every limit of `clause` at the calendar of the same name in `calendars`, after a
/// calendar was redefined.
pub fn rebind_calendars(clause: &mut Clause, calendars: &[Arc<crate::calendar::Calendar>]) {
    use crate::policy::{ClauseBody, DutyRule, Limit};
    let rebind = |limit: &mut Limit| {
        let cal = match limit {
            Limit::Elapsed(_) => return,
            Limit::BusinessTime { calendar, .. }
            | Limit::Workdays { calendar, .. }
            | Limit::SameDay { calendar }
            | Limit::NextAt { calendar, .. } => calendar,
        };
        // `by 08:00 next day` without a calendar counts on an unnamed 24×7 clock.
        if **cal == crate::calendar::Calendar::always(cal.zone) {
            return;
        }
        if let Some(new) = calendars.iter().find(|c| c.name == cal.name) {
            *cal = Arc::clone(new);
        }
    };
    match &mut clause.body {
        ClauseBody::Deadline(d) => rebind(&mut d.limit),
        ClauseBody::Notify(n) => {
            if let Some(l) = &mut n.limit {
                rebind(l);
            }
        }
        ClauseBody::Every(duty) => {
            if let DutyRule::Gap(l) = &mut duty.rule {
                rebind(l);
            }
        }
        ClauseBody::Sample(_)
        | ClauseBody::Target(_)
        | ClauseBody::Repeat(_)
        | ClauseBody::Window(_)
        | ClauseBody::Record(_) => {}
    }
}

/// Parses a condition typed alone (the REPL's `:ask`).
pub fn parse_condition(source: &str) -> Result<Condition, PolicyErrors> {
    let named = Arc::new(NamedSource::new("condition", source.to_string()));
    let fail = |errors: Vec<PolicyDiagnostic>| PolicyErrors {
        name: "condition".to_string(),
        errors,
    };
    if let Some(e) = prescan(&named) {
        return Err(fail(vec![e]));
    }
    let pair = match PolicyParser::parse(Rule::condition_alone, source) {
        Ok(mut pairs) => pairs.next().and_then(|p| p.into_inner().next()),
        Err(e) => return Err(fail(vec![diagnostics::from_pest(&named, &e, 0)])),
    };
    let mut lowerer = Lowerer::new(Arc::clone(&named), None);
    let cond = pair.and_then(|p| lowerer.condition(p, 0));
    match cond {
        Some(c) if lowerer.errors.is_empty() => Ok(c),
        _ => Err(fail(lowerer.errors)),
    }
}

/// Calls `f(byte offset, byte)` for every byte of policy text outside strings and comments,
/// until `f` returns false: for the checks that must not wait for the parser (nesting, the
/// REPL's "is this input complete").
pub fn for_each_code_byte(text: &str, mut f: impl FnMut(usize, u8) -> bool) {
    let (mut in_string, mut in_comment, mut escaped) = (false, false, false);
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if in_comment {
            in_comment = b != b'\n';
            continue;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'#' => in_comment = true,
            b'"' => in_string = true,
            _ => {
                if !f(i, b) {
                    return;
                }
            }
        }
    }
}

/// Rejects sources the parser must not recurse into: too large, or nested deeper than
/// [`MAX_CONDITION_DEPTH`] levels ([`deepest_nesting_past`]; pest and the lowering both
/// recurse on nesting).
fn prescan(named: &Arc<NamedSource<String>>) -> Option<PolicyDiagnostic> {
    let text = named.inner();
    if text.len() > MAX_POLICY_BYTES {
        return Some(
            PolicyDiagnostic::error(
                named,
                "pledge::limits::too_large",
                format!("policy is larger than {} bytes", MAX_POLICY_BYTES),
            )
            .help("split it into several policy files"),
        );
    }
    let too_deep = deepest_nesting_past(text, MAX_CONDITION_DEPTH);
    if let Some(i) = too_deep {
        return Some(
            PolicyDiagnostic::error(
                named,
                "pledge::syntax::too_deep",
                "condition is nested too deeply",
            )
            .label(
                Span {
                    start: i,
                    end: i + 1,
                },
                format!("more than {MAX_CONDITION_DEPTH} levels deep here"),
            )
            .help("split the condition, or use `attribute in [...]` instead of long chains"),
        );
    }
    None
}

/// Where the nesting of the code in `text` (outside strings and comments) first goes past
/// `limit` levels, if it does. A level is a bracket (`(` or `[`) still open, or a `not` applied
/// to what follows it: `not not x` is two levels, `not a and not b` one, however the source is
/// broken into lines (`pledge fmt` joins lines: a count that depended on them could refuse
/// what it writes). `not` counts as a whole word only (`notice` is a name), and a run of `not`
/// ends at any other token (`x not in [...]` is one level for the list).
fn deepest_nesting_past(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // Per open bracket, the `not`s in front of it; the run of `not`s since the last token.
    let mut open: Vec<usize> = Vec::new();
    let (mut nots_open, mut run) = (0usize, 0usize);
    let mut past = None;
    for_each_code_byte(text, |i, b| {
        match b {
            b'(' | b'[' => {
                open.push(run);
                nots_open += run;
                run = 0;
            }
            b')' | b']' => {
                nots_open -= open.pop().unwrap_or(0);
                run = 0;
            }
            b if word(b) && (i == 0 || !word(bytes[i - 1])) => {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| !word(c))
                    .map_or(bytes.len(), |n| i + n);
                if &bytes[i..end] == b"not" {
                    run += 1;
                } else {
                    run = 0;
                }
            }
            b if b.is_ascii_whitespace() || word(b) => {}
            _ => run = 0,
        }
        if open.len() + nots_open + run > limit {
            past = Some(i);
        }
        past.is_none()
    });
    past
}

/// After a syntax error, parses each clause and calendar on its own, so that independent
/// mistakes in several clauses are all reported at once. Also returns the source with the
/// failing clauses replaced by spaces (offsets unchanged), when every syntax error lies inside
/// a clause, so that the rest can be checked as well.
fn recover_syntax_errors(
    named: &Arc<NamedSource<String>>,
    first: &pest::error::Error<Rule>,
) -> (Vec<PolicyDiagnostic>, Option<String>) {
    let text = named.inner();
    let mut blanked = text.as_bytes().to_vec();
    let policy_close = text.rfind('}').unwrap_or(text.len());
    let first_diag = diagnostics::from_pest(named, first, 0);
    let first_pos = first_diag.primary_span().map_or(0, |s| s.start);
    let starts = clause_starts(text);
    let mut out = Vec::new();
    let mut covered_first = false;
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        match PolicyParser::parse(Rule::clause_alone, &text[start..]) {
            Ok(pairs) => {
                // A clause that parses but runs past the next header swallowed it: fine.
                let _ = pairs;
            }
            Err(e) => {
                let d = diagnostics::from_pest(named, &e, start);
                let pos = d.primary_span().map_or(0, |s| s.start);
                if pos >= start && pos <= end {
                    if pos == first_pos {
                        covered_first = true;
                    }
                    out.push(d);
                    // Keep the policy's closing brace when the last clause fails.
                    let stop = if end == text.len() { policy_close } else { end };
                    for b in blanked.iter_mut().take(stop).skip(start) {
                        if *b != b'\n' {
                            *b = b' ';
                        }
                    }
                }
            }
        }
    }
    let blanked = if covered_first {
        String::from_utf8(blanked).ok()
    } else {
        out.push(first_diag);
        None
    };
    out.sort_by_key(|e| e.primary_span().map_or(0, |s| s.start));
    out.dedup_by_key(|e| e.primary_span().map_or(0, |s| s.start));
    (out, blanked)
}

/// Byte offsets of lines that begin a clause or calendar (`deadline name`, `calendar office`, ...).
fn clause_starts(text: &str) -> Vec<usize> {
    const KINDS: &[&str] = &[
        "deadline", "notify", "sample", "target", "repeat", "every", "window", "record", "calendar",
    ];
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(kind) = KINDS.iter().find(|k| trimmed.starts_with(*k)) {
            let rest = &trimmed[kind.len()..];
            let mut chars = rest.chars();
            let boundary = chars.next().is_some_and(char::is_whitespace);
            let named = rest
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if boundary && named {
                out.push(offset + indent);
            }
        }
        offset += line.len();
    }
    out
}

/// Renders diagnostics as miette draws them: source excerpt, underline, label, code and help.
/// `color` only on a terminal; without it the output is stable text for logs and tests.
pub fn render(errors: &PolicyErrors, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for e in &errors.errors {
        // Writing into a String cannot fail. A label far along a long line is told in words:
        // the drawn underline is padded to its column, which miette cannot pad past 65,535.
        match far_along_its_line(e) {
            Some(places) => undrawn(&mut out, e, &places),
            None => {
                let _ = handler.render_report(&mut out, e);
            }
        }
        out.push('\n');
    }
    out
}

/// Farthest column at which a label is drawn under its line (any column past a few thousand
/// is past what a reader can follow in a drawing anyway, and miette cannot pad past 65,535).
const FARTHEST_DRAWN_COLUMN: usize = 4_000;

/// `origin:line:column` and label of each label of `e`, when one of them lies past
/// [`FARTHEST_DRAWN_COLUMN`] or spans more than a drawing can underline.
fn far_along_its_line(e: &PolicyDiagnostic) -> Option<Vec<(String, String)>> {
    use miette::Diagnostic;
    let source = e.source_code()?;
    let mut far = false;
    let mut places = Vec::new();
    for label in e.labels()? {
        let contents = source.read_span(label.inner(), 0, 0).ok()?;
        far |= contents.column() > FARTHEST_DRAWN_COLUMN || label.len() > FARTHEST_DRAWN_COLUMN;
        places.push((
            format!(
                "{}:{}:{}",
                contents.name().unwrap_or("policy"),
                contents.line() + 1,
                contents.column() + 1
            ),
            label.label().unwrap_or_default().to_string(),
        ));
    }
    far.then_some(places)
}

/// A diagnostic in words, with where each label lies instead of a drawing of its line.
fn undrawn(out: &mut String, e: &PolicyDiagnostic, places: &[(String, String)]) {
    use miette::Diagnostic;
    use std::fmt::Write as _;
    let code = e.code().map(|c| c.to_string()).unwrap_or_default();
    let _ = writeln!(out, "{code}\n\n  × {e}");
    for (place, label) in places {
        let _ = writeln!(out, "  at {place}: {label} (on a line too long to draw)");
    }
    if let Some(help) = e.help() {
        let _ = writeln!(out, "  help: {help}");
    }
}
