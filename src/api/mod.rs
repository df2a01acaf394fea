//! The embedding API: what a host program (a ticketing system's plugin, a nightly job, the
//! Python package) uses, and what semver covers.
//!
//! - [`PolicySet`]: policies parsed from text or files, or a [`PolicyError`] whose
//!   [`Diagnostic`]s carry the codes, positions, messages and help that `pledge check` renders;
//! - [`check_reader`] and [`check_events`]: one-shot checks of a whole stream;
//! - [`Engine`]: the streaming evaluator for events that arrive one at a time, which hands
//!   back the [`Record`]s that became final after each call;
//! - [`Record`] and [`Report::summary_json`]: typed results that serialize to exactly the JSON
//!   of `pledge check --format jsonl` (one schema, documented in the README).
//!
//! The other modules of the crate are its internals: public so that its own tests and command
//! reach them, hidden from the documentation, and free to change between versions.

use crate::engine::{EvalOptions, Evaluator, Partition, Sink};
use crate::eval::{Action, Finding, Rejected, Summary, Unopened, Verdict};
use crate::event::{Event, Instant};
use crate::input::{Export, ExportKind, Format, Mapping, ReadOptions, ReadStats};
use crate::period::PeriodRecord;
use crate::policy::Policy;
use crate::report::records::{
    period_json, ActionRecord, FindingRecord, RejectedRecord, SummaryRecord, UnopenedRecord,
    VerdictRecord,
};
use crate::syntax::{self, PolicyErrors};
use chrono::Duration;
use chrono_tz::Tz;
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

mod engine;

pub(crate) use engine::{evaluator_state_of_parts, EngineCheckpoint, TakenCheckpoint};
pub use engine::{merge_states, Advanced, Engine, LineParser, ParsedLine};

// ---------------------------------------------------------------- policies

/// Policies to check events against, in order (the first one's zone shows `now` in the
/// summary). Cheap to clone: the policies are shared.
#[derive(Debug, Clone)]
pub struct PolicySet {
    policies: Arc<[Policy]>,
    /// Where each policy comes from (its file, or the name given to its text), for the
    /// diagnostic of two policies of one name.
    origins: Arc<[String]>,
}

impl PolicySet {
    /// Parses one policy from its source text. `name` names it in diagnostics (usually a
    /// file name). `include calendar "..."` is refused: text has no directory to resolve it in.
    pub fn from_text(text: &str, name: &str) -> Result<PolicySet, PolicyError> {
        syntax::parse_policy(text, name, None)
            .map(|p| PolicySet {
                policies: Arc::from([p]),
                origins: Arc::from([name.to_string()]),
            })
            .map_err(|e| PolicyError::new(vec![e]))
    }

    /// Reads and parses policy files; includes resolve relative to each file. Every file is
    /// read and every error of every file is reported, not only the first.
    pub fn from_files<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<PolicySet, PolicyError> {
        let mut policies = Vec::new();
        let mut origins = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            match syntax::load_policy(path.as_ref()) {
                Ok(p) => {
                    policies.push(p);
                    origins.push(path.as_ref().display().to_string());
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            if let Err(e) = syntax::distinct_policy_names(&policies, &origins) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(PolicySet {
                policies: policies.into(),
                origins: origins.into(),
            })
        } else {
            Err(PolicyError::new(errors))
        }
    }

    /// One policy file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PolicySet, PolicyError> {
        PolicySet::from_files([path])
    }

    /// The policies, in order.
    pub(crate) fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The names of the policies (`policy "NAME" { ... }`), in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.name.as_str())
    }

    /// Every clause as (policy name, clause name), in order: the names records carry.
    pub fn clauses(&self) -> impl Iterator<Item = (&str, &str)> {
        self.policies
            .iter()
            .flat_map(|p| p.clauses.iter().map(|c| (p.name.as_str(), c.name.as_str())))
    }

    /// The zone instants of the summary are shown in: the first policy's.
    pub fn zone(&self) -> Tz {
        self.policies
            .first()
            .map_or(syntax::DEFAULT_ZONE, |p| p.zone)
    }
}

impl PolicySet {
    /// Several sets as one, in order: how a host combines policies read separately. Two
    /// policies of one name are refused (`pledge::policy::duplicate_name`), as on the command
    /// line: records name their policy, and the same policy twice would count every verdict
    /// twice.
    pub fn combine(sets: impl IntoIterator<Item = PolicySet>) -> Result<PolicySet, PolicyError> {
        let mut policies = Vec::new();
        let mut origins = Vec::new();
        for set in sets {
            policies.extend(set.policies.iter().cloned());
            origins.extend(set.origins.iter().cloned());
        }
        syntax::distinct_policy_names(&policies, &origins)
            .map_err(|e| PolicyError::new(vec![e]))?;
        Ok(PolicySet {
            policies: policies.into(),
            origins: origins.into(),
        })
    }
}

impl From<Vec<Policy>> for PolicySet {
    fn from(policies: Vec<Policy>) -> PolicySet {
        let origins = policies.iter().map(|p| p.name.clone()).collect();
        PolicySet {
            policies: policies.into(),
            origins,
        }
    }
}

/// One problem of a policy source: what `pledge check` draws under the source line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable code, e.g. `pledge::syntax::unexpected`.
    pub code: String,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to put it right, when there is advice to give.
    pub help: Option<String>,
    /// The file (or the name given to [`PolicySet::from_text`]).
    pub file: String,
    /// 1-based line of the first label; 0 when it has none.
    pub line: usize,
    /// 1-based column of the first label, counted in characters (a Chinese character is one);
    /// 0 when it has none.
    pub column: usize,
    /// Byte range of the first label in the source.
    pub span: Option<std::ops::Range<usize>>,
    /// What the first label says.
    pub label: Option<String>,
}

/// Policies that did not parse or check: every diagnostic of every file.
#[derive(Debug, Clone)]
pub struct PolicyError {
    diagnostics: Vec<Diagnostic>,
    rendered: String,
}

impl PolicyError {
    fn new(errors: Vec<PolicyErrors>) -> PolicyError {
        let mut diagnostics = Vec::new();
        let mut rendered = String::new();
        for e in &errors {
            rendered.push_str(&syntax::render(e, false));
            for d in &e.errors {
                let source = d.source.inner();
                let first = d.labels.first();
                let span = first.map(|(s, _)| s.start..s.end);
                let (line, column) = span.as_ref().map_or((0, 0), |s| {
                    let before = &source[..s.start.min(source.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    (line, column)
                });
                diagnostics.push(Diagnostic {
                    code: d.code.to_string(),
                    severity: match d.severity {
                        miette::Severity::Warning => "warning",
                        miette::Severity::Advice => "advice",
                        miette::Severity::Error => "error",
                    },
                    message: d.message.clone(),
                    help: d.help.clone(),
                    file: d.source.name().to_string(),
                    line,
                    column,
                    span,
                    label: first.map(|(_, l)| l.clone()),
                });
            }
        }
        PolicyError {
            diagnostics,
            rendered,
        }
    }

    /// Every diagnostic, per file in the order given, in source order within a file.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The stable codes, in the order of [`PolicyError::diagnostics`].
    pub fn codes(&self) -> Vec<&str> {
        self.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    /// The report as `pledge check` prints it (without colour): source excerpts, underlines,
    /// labels, codes and help.
    pub fn rendered(&self) -> &str {
        &self.rendered
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for PolicyError {}

// ---------------------------------------------------------------- options

/// How events are read and judged: the options of `pledge check` that a host sets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The instant verdicts are judged at (`--now`); `None`: the latest `at` of the stream.
    pub now: Option<Instant>,
    /// How far out of order a case's events may arrive (`--reorder-window`, default 1 day).
    pub reorder_window: Duration,
    /// How long after `closed` a case's follow-ups are applied (`--retain`, default 30 days; a
    /// case a longer warranty or follow-up window of a record clause may apply to is kept for
    /// that window).
    pub retain: Duration,
    /// The zone of timestamps without an offset (`--tz`); without it they are rejected.
    pub tz: Option<Tz>,
    /// JSON Lines or CSV, for [`check_reader`]; [`check_path`] goes by the file's extension.
    pub format: Format,
    /// Whether an [`Engine`] keeps the events of the cases it keeps, so that
    /// [`Engine::explain`] can say what the REPL's `:why` says. Off by default: the engine then
    /// holds compact state only; on, memory grows with the events of open cases.
    pub explain: bool,
    /// Threads parsing JSON Lines beside the evaluator in [`check_reader`] and [`check_path`]
    /// (`--threads`); 0 parses on the calling thread. The records are the same either way.
    pub threads: usize,
    /// Evaluators judging side by side in [`check_reader`] and [`check_path`], each the
    /// tickets of one partition (`--evaluators`; the README's "Several evaluators"; each
    /// follows the alert cases of the others). The records, their order and the summary are
    /// those of one evaluator.
    pub evaluators: usize,
    /// A work-order export and the mapping of its columns (`--map`): [`check_reader`] and
    /// [`check_path`] read the input as that export instead of an event stream.
    pub export: Option<Arc<Export>>,
    /// Only the tickets of this partition are judged (`--partition I/N`); the others' events
    /// still move stream time. See [`Partition`] and [`merge_states`].
    pub partition: Option<Partition>,
    /// The period report an engine tallies as it goes (the service's `--period`,
    /// `--group-by`), so that `pledge report --merge` can read it from its state.
    pub(crate) report: Option<crate::period::ReportSpec>,
}

impl Default for Options {
    fn default() -> Self {
        let eval = EvalOptions::default();
        Options {
            now: eval.now,
            reorder_window: eval.reorder_window,
            retain: eval.retain,
            tz: None,
            format: Format::Jsonl,
            threads: crate::check::default_split().1,
            evaluators: crate::check::default_split().0,
            explain: false,
            export: None,
            partition: None,
            report: None,
        }
    }
}

impl Options {
    /// Judges as of `now`; events after it are counted and ignored.
    pub fn now(mut self, now: Instant) -> Self {
        self.now = Some(now);
        self
    }

    /// How far out of order a case's events may arrive (`--reorder-window`).
    pub fn reorder_window(mut self, window: Duration) -> Self {
        self.reorder_window = window;
        self
    }

    /// How long after `closed` a case's follow-ups are applied (`--retain`).
    pub fn retain(mut self, retain: Duration) -> Self {
        self.retain = retain;
        self
    }

    /// The zone of timestamps without an offset (`--tz`).
    pub fn tz(mut self, tz: Tz) -> Self {
        self.tz = Some(tz);
        self
    }

    /// Keeps the events of kept cases for [`Engine::explain`].
    pub fn explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// Threads parsing JSON Lines beside the evaluator (`--threads`); 0: none.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Evaluators judging side by side (`--evaluators`); 1: one evaluator.
    pub fn evaluators(mut self, evaluators: usize) -> Self {
        self.evaluators = evaluators.max(1);
        self
    }

    /// Reads the input as a work-order export of `kind` with `mapping` (`--map`), e.g.
    /// `Mapping::from_file("orders.toml")`. [`check_path`] takes the kind from the file's
    /// extension instead. Reading workbooks needs the crate's `xlsx` feature.
    pub fn export(mut self, kind: ExportKind, mapping: Mapping) -> Self {
        self.export = Some(Arc::new(Export { kind, mapping }));
        self
    }

    /// JSON Lines or CSV, for [`check_reader`].
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Judges only the tickets of `partition` (`--partition I/N`): every event is read and
    /// moves stream time, only those of the partition's tickets are applied, and lines
    /// rejected before their ticket is known are counted by partition 0 alone. The states of
    /// the `N` partitions' engines combine with [`merge_states`] into the state of one engine.
    pub fn partition(mut self, partition: Partition) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Tallies a period report by `unit` and `group_by` as events come (the service).
    pub(crate) fn report(mut self, spec: crate::period::ReportSpec) -> Self {
        self.report = Some(spec);
        self
    }

    /// Applies the options an evaluator takes after it is made.
    fn setup<S: Sink>(&self, evaluator: &mut Evaluator<'_, S>) {
        if let Some(p) = self.partition {
            evaluator.partition(p);
        }
        if let Some(spec) = &self.report {
            evaluator.periods_mut().report_by(spec.clone());
        }
    }

    fn eval(&self) -> EvalOptions {
        EvalOptions {
            resting_in_memory: None,
            now: self.now,
            reorder_window: self.reorder_window,
            retain: self.retain,
        }
    }

    fn read(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            tz: self.tz,
            relevance: None,
            export: self.export.clone(),
        }
    }
}

// ---------------------------------------------------------------- records

/// One record of a check, as `pledge check --format jsonl` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A cycle of a deadline clause on a case.
    Verdict(Verdict),
    /// A stage of a deadline clause (escalation, notification, warning).
    Action(Action),
    /// A notification or duty finding.
    Finding(Finding),
    /// A sampling or target verdict of a period, or a repeat rule's action.
    Period(PeriodRecord),
    /// An input line or event that was not accepted, with its line number and reason.
    Rejected(Rejected),
    /// A case with events but no `opened`.
    Unopened(Unopened),
}

impl Record {
    /// The ticket the record is about, if it is about one.
    pub fn ticket(&self) -> Option<&str> {
        match self {
            Record::Verdict(v) => Some(&v.ticket),
            Record::Action(a) => Some(&a.ticket),
            Record::Finding(f) => Some(&f.ticket),
            Record::Unopened(u) => Some(&u.ticket),
            Record::Period(PeriodRecord::Repeat(r)) => Some(&r.ticket),
            Record::Period(_) | Record::Rejected(_) => None,
        }
    }

    /// The record as a JSON value: one line of `pledge check --format jsonl`.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing these records into a value cannot fail: their keys are strings and their
        // numbers finite.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Record::Verdict(v) => VerdictRecord::new(v).serialize(serializer),
            Record::Action(a) => ActionRecord::new(a).serialize(serializer),
            Record::Finding(f) => FindingRecord::new(f).serialize(serializer),
            Record::Rejected(r) => RejectedRecord::new(r).serialize(serializer),
            Record::Unopened(u) => UnopenedRecord::new(u).serialize(serializer),
            Record::Period(p) => period_json(p).serialize(serializer),
        }
    }
}

/// A sink that turns everything into [`Record`]s, in the evaluator's order: kept until the
/// host takes them, or handed on at once ([`Engine::finish_to`]); or only some of them, for a
/// host that asks about one ticket or about the counts alone ([`Only`]).
#[derive(Debug, Default)]
struct Records {
    kept: Vec<Record>,
    to: Option<SyncSender<Record>>,
    only: Only,
}

/// Which records a [`Records`] sink keeps.
#[derive(Debug, Default)]
enum Only {
    #[default]
    All,
    /// None: the host wants the summary (each record is still counted in it).
    Nothing,
    /// The records about this ticket.
    Ticket(Box<str>),
}

impl Records {
    /// Whether a record about `ticket` is kept.
    fn wants(&self, ticket: Option<&str>) -> bool {
        match &self.only {
            Only::All => true,
            Only::Nothing => false,
            Only::Ticket(only) => ticket == Some(&**only),
        }
    }

    /// Keeps the record `make` gives when the sink wants a record about `ticket`: a record
    /// not wanted is not even copied.
    fn keep(&mut self, ticket: Option<&str>, make: impl FnOnce() -> Record) {
        if !self.wants(ticket) {
            return;
        }
        let record = make();
        match &self.to {
            // A receiver that hung up has failed on its own; its host reports that.
            Some(to) => _ = to.send(record),
            None => self.kept.push(record),
        }
    }
}

impl Sink for Records {
    /// A case's `project` is kept for an agenda drawn from a fork (see
    /// [`Engine::fork_into`]), which counts items per project.
    fn wants_case_attributes(&self) -> &[&'static str] {
        &["project"]
    }
    fn verdict(&mut self, verdict: &Verdict) {
        self.keep(Some(&verdict.ticket), || Record::Verdict(verdict.clone()));
    }
    fn action(&mut self, action: &Action) {
        self.keep(Some(&action.ticket), || Record::Action(action.clone()));
    }
    fn rejected(&mut self, rejected: &Rejected) {
        self.keep(None, || Record::Rejected(rejected.clone()));
    }
    fn unopened(&mut self, unopened: &Unopened) {
        self.keep(Some(&unopened.ticket), || {
            Record::Unopened(unopened.clone())
        });
    }
    fn finding(&mut self, finding: &Finding) {
        self.keep(Some(&finding.ticket), || Record::Finding(finding.clone()));
    }
    fn period(&mut self, record: &PeriodRecord) {
        // Draws and per-period counts are asked for by `pledge sample` and `pledge report`,
        // never by a check.
        if period_json(record).is_some() {
            let ticket = match record {
                PeriodRecord::Repeat(r) => Some(&*r.ticket),
                _ => None,
            };
            self.keep(ticket, || Record::Period(record.clone()));
        }
    }
}

/// The outcome of a whole check: every record in `pledge check`'s order, the summary and the
/// reader's counts.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every record, in the order `pledge check` writes them.
    pub records: Vec<Record>,
    /// The counts of the whole check, per clause.
    pub summary: Summary,
    /// What the reader counted (lines, bytes, blank lines); zero for events given as values.
    pub read: ReadStats,
    zone: Tz,
}

impl Report {
    /// The summary as `pledge check --format json` prints it (`"record": "summary"`).
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::to_value(SummaryRecord::new(&self.summary, &self.read, self.zone))
            .unwrap_or(serde_json::Value::Null)
    }

    /// The summary as `pledge check --format json` prints it, keys in its order, indented.
    pub(crate) fn summary_pretty(&self) -> String {
        serde_json::to_string_pretty(&SummaryRecord::new(&self.summary, &self.read, self.zone))
            .unwrap_or_default()
    }

    /// The whole report as `pledge check --format json` prints it:
    /// `{"records": [...], "summary": {...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "records": self.records.iter().map(Record::to_json).collect::<Vec<_>>(),
            "summary": self.summary_json(),
        })
    }
}

// ---------------------------------------------------------------- one-shot checks

/// Checks a stream in `options.format` (JSON Lines or CSV), as `pledge check` does. Bad lines
/// are rejected records; only an I/O error of `input` fails the call.
pub fn check_reader<R: Read + Send>(
    policies: &PolicySet,
    input: R,
    options: &Options,
) -> std::io::Result<Report> {
    let checked = check_with(policies, input, options, Records::default())?;
    Ok(Report {
        records: checked.sink.kept,
        summary: checked.summary,
        read: checked.read,
        zone: policies.zone(),
    })
}

/// One check of `input` into `sink`, split by tickets as `pledge check` does (see
/// [`Options::evaluators`]), or one partition's with [`Options::partition`].
fn check_with<R: Read + Send, S: Sink>(
    policies: &PolicySet,
    input: R,
    options: &Options,
    sink: S,
) -> std::io::Result<crate::check::Checked<S>> {
    crate::check::check_split(
        &policies.policies,
        input,
        &options.read(),
        options.eval(),
        sink,
        options.threads,
        options.evaluators,
        options.partition,
        |_| {},
        |tally| {
            if let Some(spec) = &options.report {
                tally.report_by(spec.clone());
            }
        },
    )
}

/// The options with the format (and an export's kind) of `path`'s extension.
fn by_extension(options: &Options, path: &Path) -> Options {
    let name = path.to_string_lossy();
    let mut options = options.clone().format(Format::from_path(&name));
    if let Some(export) = &options.export {
        options.export = Some(Arc::new(Export {
            kind: ExportKind::from_path(&name),
            mapping: export.mapping.clone(),
        }));
    }
    options
}

/// Checks a file: CSV if its name ends in `.csv`, JSON Lines otherwise; with
/// [`Options::export`], a work-order export (a workbook by its extension, else CSV).
pub fn check_path(
    policies: &PolicySet,
    path: impl AsRef<Path>,
    options: &Options,
) -> std::io::Result<Report> {
    let path = path.as_ref();
    let file = std::fs::File::open(path)?;
    let options = by_extension(options, path);
    check_reader(policies, std::io::BufReader::new(file), &options)
}

/// Checks a file (CSV by its extension, JSON Lines otherwise) and writes the document of
/// `pledge check --format json` to `out` as the records become final, so that memory follows
/// the open cases rather than the records. Returns the summary and `out`.
pub fn check_path_to_json<W: std::io::Write>(
    policies: &PolicySet,
    path: impl AsRef<Path>,
    options: &Options,
    out: W,
) -> std::io::Result<(Summary, W)> {
    let path = path.as_ref();
    let file = std::fs::File::open(path)?;
    let options = by_extension(options, path);
    let writer = crate::report::MachineWriter::new(out, true, crate::report::Records::All);
    let checked = check_with(policies, std::io::BufReader::new(file), &options, writer)?;
    let out = checked
        .sink
        .finish(&checked.summary, &checked.read, policies.zone())?;
    Ok((checked.summary, out))
}

/// Checks events a program already has. Their `line` fields are kept as given (0 if the
/// program has none) and name them in rejected records.
pub fn check_events(
    policies: &PolicySet,
    events: impl IntoIterator<Item = Event>,
    options: &Options,
) -> Report {
    let mut engine = Engine::new(policies, options);
    let mut records = Vec::new();
    for event in events {
        records.extend(engine.push(event));
    }
    let mut report = engine.finish();
    records.append(&mut report.records);
    report.records = records;
    report
}
