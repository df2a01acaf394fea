//! The state of a REPL session and its commands, with no terminal in sight: [`Session::execute`]
//! takes one complete input (a command or a clause typed for a what-if) and returns its text.
//!
//! The session keeps the loaded events **in memory**, grouped by ticket, so `:why`, `:case` and
//! `:ask` about any case are instant; an evaluation of every case takes seconds for a few hundred
//! thousand events. Larger streams go through `pledge check`, which streams.
//!
//! Two copies of the policies are kept: the *baseline*, as loaded from the files, and the
//! *working copy*, which what-if clauses change. Every change pushes the previous working copy on
//! an undo stack. Each copy is evaluated over all the events at once by the streaming evaluator
//! of `pledge check` (module `evaluation`), so every clause kind is covered: deadline verdicts
//! and stage actions, findings of notify, every and window clauses, and the period records of
//! sample, target and repeat clauses, which need every case of a period. The last two
//! evaluations are cached, so `:diff` after a what-if evaluates the working copy only.

use super::evaluation::{evaluate, Cache, Evaluation};
use super::save::saved_source;
use super::text::{
    declared_names, file_args, open_braces, quote_file_arg, skip_leading_comments,
    starts_a_declaration,
};
use crate::event::{Event, Instant};
use crate::explain::when;
use crate::input::parse_typed_instant;
use crate::input::{read_events, Export, ExportKind, Format, Mapping, ReadOptions, Record};
use crate::policy::Policy;
use crate::syntax::{parse_policy, parse_snippet, render};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one input came to: the text to show, and whether it succeeded (a script driving the
/// REPL through a pipe exits non-zero when any input failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub text: String,
    pub ok: bool,
    /// `:quit` was asked for.
    pub quit: bool,
}

impl Outcome {
    pub(super) fn ok(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            ok: true,
            quit: false,
        }
    }

    pub(super) fn fail(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            ok: false,
            quit: false,
        }
    }
}

/// A policy as loaded from its file: the text is kept so `:save` can write the working copy back
/// with the author's comments and layout around the clauses that changed.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    path: PathBuf,
    source: String,
    pub(super) policy: Policy,
}

/// The part of the session that what-if inputs change, and `:undo` restores.
#[derive(Debug, Clone, Default)]
pub(super) struct Working {
    pub(super) policies: Vec<Policy>,
    /// The text typed for each redefined or new calendar, by (policy index, calendar name):
    /// calendars are saved as typed, since a calendar built from a holiday schedule cannot be
    /// printed back as the one line that named the schedule.
    calendar_texts: BTreeMap<(usize, String), String>,
}

/// Commands with a one-line description and an example, for `:help` and completion.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (":help", "list the commands", ":help"),
    (
        ":load",
        "load policy files (a policy of the same name is replaced)",
        ":load policies/repairs.pledge",
    ),
    (
        ":events",
        "load an event file (JSON Lines or CSV), replacing the events",
        ":events examples/service-desk.jsonl",
    ),
    (
        ":reload",
        "read the policy and event files again; the working copy restarts from them",
        ":reload",
    ),
    (
        ":summary",
        "the state of every clause of the working copy: verdicts, actions, findings, periods",
        ":summary",
    ),
    (
        ":diff",
        "compare the working copy with the loaded policies: every clause, then what changed",
        ":diff",
    ),
    (":undo", "undo the last what-if change", ":undo"),
    (":reset", "drop every what-if change", ":reset"),
    (
        ":save",
        "write a policy of the working copy as source (the current one unless named)",
        ":save /tmp/repairs-what-if.pledge",
    ),
    (
        ":why",
        "explain what the clauses that apply made of one case (`all`: every clause)",
        ":why T-0309",
    ),
    (
        ":ask",
        "evaluate a condition on a case's attributes",
        ":ask T-0303 kind == \"repair\" and severity == \"minor\"",
    ),
    (
        ":case",
        "show a case's attributes and events",
        ":case T-0303",
    ),
    (":cases", "list the loaded cases", ":cases"),
    (
        ":clauses",
        "list the clauses of the working copy",
        ":clauses",
    ),
    (
        ":show",
        "print a clause of the working copy as source",
        ":show dispatch_30min",
    ),
    (
        ":use",
        "choose the policy new clauses go to",
        ":use repairs",
    ),
    (
        ":now",
        "set the as-of instant (`:now latest`: the last event's time)",
        ":now 2026-03-06T18:00",
    ),
    (":quit", "leave (Ctrl-D does too)", ":quit"),
];

/// A REPL session: policies (baseline and working copy), events, and the as-of instant.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub(super) loaded: Vec<Loaded>,
    pub(super) working: Working,
    undo: Vec<Working>,
    /// Where new clauses go when no loaded clause has their name.
    pub(super) target: usize,
    events_path: Option<PathBuf>,
    /// The mapping the events were read with (`:events FILE --map MAPPING`), for `:reload`.
    events_map: Option<PathBuf>,
    pub(super) cases: BTreeMap<String, Vec<Event>>,
    rejected: u64,
    duplicates: u64,
    now: Option<Instant>,
    /// Bumped whenever events are loaded: part of the key of cached evaluations.
    events_generation: u64,
    /// The last evaluations (baseline and working copy).
    cache: Cache,
    /// Colour in diagnostics (on a terminal only).
    pub color: bool,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// Runs one complete input: a `:command`, or clauses and calendars typed for a what-if.
    pub fn execute(&mut self, input: &str) -> Outcome {
        // Comment lines alone (above a pasted clause, or on their own) are nothing to run.
        let trimmed = skip_leading_comments(input).trim();
        if trimmed.is_empty() {
            return Outcome::ok("");
        }
        if let Some(command) = trimmed.strip_prefix(':') {
            let (name, rest) = command
                .split_once(char::is_whitespace)
                .map_or((command, ""), |(n, r)| (n, r.trim()));
            return self.command(name, rest);
        }
        // A declaration keyword whose name is not one (`deadline 派单 "…" {`) goes to the parser,
        // which says what is wrong with the name, as `pledge parse` does.
        if declared_names(trimmed).is_empty() && !starts_a_declaration(trimmed) {
            let first = trimmed.split_whitespace().next().unwrap_or("");
            return Outcome::fail(format!(
                "error: `{first}` is neither a command nor a clause\n  help: commands start with `:` (`:help` lists them); a what-if starts with a clause keyword, e.g. `deadline dispatch_30min {{ ... }}`"
            ));
        }
        self.what_if(trimmed)
    }

    /// Whether `input` is complete: a command line always is, and so is anything that cannot
    /// start a what-if (`hello {` is an error at once, not a block that swallows the commands
    /// typed after it); clauses are once their braces balance (braces in strings and comments
    /// do not count).
    pub fn is_complete(input: &str) -> bool {
        let t = skip_leading_comments(input);
        !starts_a_declaration(t) || open_braces(t) <= 0
    }

    fn command(&mut self, name: &str, rest: &str) -> Outcome {
        match name {
            "help" | "h" | "?" => Outcome::ok(help()),
            "load" => self.load(rest),
            "events" => self.events(rest),
            "reload" => self.reload(),
            "summary" | "eval" => self.summary(),
            "diff" => self.diff(),
            "undo" => match self.undo.pop() {
                Some(previous) => {
                    self.working = previous;
                    Outcome::ok(format!(
                        "undone ({} change(s) left to undo)",
                        self.undo.len()
                    ))
                }
                None => Outcome::fail("error: nothing to undo"),
            },
            "reset" => {
                self.reset_working();
                Outcome::ok("the working copy is the loaded policies again")
            }
            "save" => self.save(rest),
            "why" => self.why(rest),
            "ask" => self.ask(rest),
            "case" => self.case(rest),
            "cases" => self.list_cases(),
            "clauses" => self.clauses(),
            "show" => self.show(rest),
            "use" => self.use_policy(rest),
            "now" => self.set_now(rest),
            "quit" | "q" | "exit" => Outcome {
                text: String::new(),
                ok: true,
                quit: true,
            },
            other => {
                let known: Vec<&str> = COMMANDS.iter().map(|c| &c.0[1..]).collect();
                let hint = known
                    .iter()
                    .find(|k| k.starts_with(other) || other.starts_with(**k))
                    .map(|k| format!("did you mean `:{k}`? "))
                    .unwrap_or_default();
                Outcome::fail(format!(
                    "error: unknown command `:{other}`\n  help: {hint}`:help` lists the commands"
                ))
            }
        }
    }

    // ----- loading -------------------------------------------------------------------------

    /// Loads policy files; each replaces a loaded policy of the same name, else is added.
    /// A path with spaces is quoted: `:load "my policies/repairs.pledge"`.
    pub fn load(&mut self, args: &str) -> Outcome {
        let paths = match file_args(args) {
            Ok(p) => p,
            Err(e) => return bad_args(":load", &e),
        };
        if paths.is_empty() {
            return Outcome::fail(
                "error: `:load` needs policy files\n  help: `:load policies/repairs.pledge`",
            );
        }
        let mut text = String::new();
        let mut ok = true;
        for p in &paths {
            match read_policy(Path::new(p)) {
                Ok(loaded) => {
                    let _ = writeln!(
                        text,
                        "loaded policy `{}` from `{p}`: {} clause(s), {} calendar(s)",
                        loaded.policy.name,
                        loaded.policy.clauses.len(),
                        loaded.policy.calendars.len()
                    );
                    match self
                        .loaded
                        .iter()
                        .position(|l| l.policy.name == loaded.policy.name)
                    {
                        Some(i) => self.loaded[i] = loaded,
                        None => self.loaded.push(loaded),
                    }
                }
                Err(e) => {
                    ok = false;
                    text.push_str(&self.render_error(e));
                }
            }
        }
        self.reset_working();
        if ok {
            Outcome::ok(text)
        } else {
            Outcome::fail(text)
        }
    }

    /// Loads an event file, replacing the events; `FILE --map MAPPING` reads a work-order
    /// export (xlsx or CSV) with its mapping. A path may be quoted or have its spaces escaped
    /// (`my\ events.jsonl`); otherwise the whole rest of the line (up to ` --map `) is the path,
    /// spaces included.
    pub fn events(&mut self, args: &str) -> Outcome {
        if args.is_empty() {
            return Outcome::fail("error: `:events` needs an event file\n  help: `:events examples/service-desk.jsonl`");
        }
        let (file, map) = match args.split_once(" --map ") {
            Some((file, map)) => (file.trim_end(), Some(map.trim())),
            None => (args, None),
        };
        let name = match one_path(file) {
            Ok(name) => name,
            Err(o) => return o,
        };
        let map = match map.map(one_path).transpose() {
            Ok(map) => map.map(PathBuf::from),
            Err(o) => return o,
        };
        let path = PathBuf::from(&name);
        match self.read_events(&path, map.as_deref()) {
            Ok(()) => {
                self.events_path = Some(path);
                self.events_map = map;
                Outcome::ok(self.events_line(&name))
            }
            Err(e) => Outcome::fail(e),
        }
    }

    fn events_line(&self, name: &str) -> String {
        let events: usize = self.cases.values().map(Vec::len).sum();
        let mut line = format!(
            "loaded {events} event(s) of {} from `{name}`",
            self.case_count()
        );
        if self.rejected > 0 || self.duplicates > 0 {
            let _ = write!(
                line,
                " ({} line(s) rejected, {} duplicate id(s) ignored; `pledge check` lists them)",
                self.rejected, self.duplicates
            );
        }
        line.push('\n');
        line
    }

    fn read_events(&mut self, path: &Path, map: Option<&Path>) -> Result<(), String> {
        let name = path.display().to_string();
        let export = match map {
            Some(map) => {
                let mapping = Mapping::from_file(map).map_err(|e| format!("error: {e}\n"))?;
                Some(Arc::new(Export {
                    kind: ExportKind::from_path(&name),
                    mapping,
                }))
            }
            None if ExportKind::from_path(&name) == ExportKind::Xlsx => {
                return Err(format!(
                    "error: `{name}` is a workbook\n  help: name the mapping of its columns: `:events {name} --map MAPPING.toml`\n"
                ));
            }
            None => None,
        };
        let file =
            std::fs::File::open(path).map_err(|e| format!("error: cannot read `{name}`: {e}\n"))?;
        let opts = ReadOptions {
            format: Format::from_path(&name),
            export,
            ..ReadOptions::default()
        };
        let mut cases: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        let mut rejected = 0;
        let mut duplicates = 0;
        read_events(file, &opts, |record| match record {
            Record::Event(e) => {
                let case = cases.entry(e.ticket.to_string()).or_default();
                // The first event with an id is kept, as `pledge check` does.
                if e.id.is_some() && case.iter().any(|o| o.id == e.id) {
                    duplicates += 1;
                } else {
                    case.push(e);
                }
            }
            Record::Rejected(_) => rejected += 1,
        })
        .map_err(|e| format!("error: cannot read `{name}`: {e}\n"))?;
        for events in cases.values_mut() {
            events.sort_by(Event::canonical_cmp);
        }
        self.cases = cases;
        self.events_generation += 1;
        self.rejected = rejected;
        self.duplicates = duplicates;
        Ok(())
    }

    fn reload(&mut self) -> Outcome {
        let paths: Vec<String> = self
            .loaded
            .iter()
            .map(|l| quote_file_arg(&l.path.display().to_string()))
            .collect();
        let mut text = String::new();
        let mut ok = true;
        if !paths.is_empty() {
            let o = self.load(&paths.join(" "));
            ok &= o.ok;
            text.push_str(&o.text);
        }
        if let Some(p) = self.events_path.clone() {
            let mut args = quote_file_arg(&p.display().to_string());
            if let Some(map) = &self.events_map {
                args.push_str(" --map ");
                args.push_str(&quote_file_arg(&map.display().to_string()));
            }
            let o = self.events(&args);
            ok &= o.ok;
            text.push_str(&o.text);
        }
        if paths.is_empty() && self.events_path.is_none() {
            return Outcome::fail(
                "error: nothing loaded yet\n  help: `:load POLICY` and `:events FILE`",
            );
        }
        Outcome {
            text,
            ok,
            quit: false,
        }
    }

    fn reset_working(&mut self) {
        self.working = Working {
            policies: self.loaded.iter().map(|l| l.policy.clone()).collect(),
            calendar_texts: BTreeMap::new(),
        };
        self.undo.clear();
        if self.target >= self.loaded.len() {
            self.target = 0;
        }
    }

    // ----- what-if -------------------------------------------------------------------------

    fn what_if(&mut self, source: &str) -> Outcome {
        if self.working.policies.is_empty() {
            return Outcome::fail(
                "error: no policy loaded to change\n  help: `:load POLICY` first",
            );
        }
        let names = declared_names(source);
        // The policy that has a clause or calendar of one of these names, else the current one.
        let index = names
            .iter()
            .find_map(|(kind, name)| {
                self.working.policies.iter().position(|p| {
                    if kind == "calendar" {
                        p.calendars.iter().any(|c| &c.name == name)
                    } else if kind == "alert" {
                        p.alerts.iter().any(|a| &a.name == name)
                    } else {
                        p.clause(name).is_some()
                    }
                })
            })
            .unwrap_or(self.target);
        let base = &self.working.policies[index];
        let (mut policy, clauses) = match parse_snippet(source, "input", base) {
            Ok(r) => r,
            Err(e) => return Outcome::fail(render(&e, self.color)),
        };
        let mut text = String::new();
        let mut new_texts = BTreeMap::new();
        for (kind, name) in names.iter().filter(|(k, _)| k == "calendar") {
            let existed = base.calendars.iter().any(|c| &c.name == name);
            if let Some(block) = super::text::block_of(source, kind, name) {
                new_texts.insert((index, name.clone()), block.to_string());
            }
            let _ = writeln!(
                text,
                "{} calendar `{name}` in policy `{}`",
                if existed { "replaced" } else { "added" },
                policy.name
            );
        }
        for (_, name) in names.iter().filter(|(k, _)| k == "alert") {
            let existed = base.alerts.iter().any(|a| &a.name == name);
            let _ = writeln!(
                text,
                "{} alert `{name}` in policy `{}`",
                if existed { "replaced" } else { "added" },
                policy.name
            );
        }
        let mut done: BTreeSet<&str> = BTreeSet::new();
        for clause in &clauses {
            if !done.insert(clause.name.as_str()) {
                continue;
            }
            let versions: Vec<_> = clauses
                .iter()
                .filter(|c| c.name == clause.name)
                .cloned()
                .collect();
            let at = policy.clauses.iter().position(|c| c.name == clause.name);
            policy.clauses.retain(|c| c.name != clause.name);
            let existed = at.is_some();
            let at = at.unwrap_or(policy.clauses.len()).min(policy.clauses.len());
            for (i, v) in versions.into_iter().enumerate() {
                policy.clauses.insert(at + i, v);
            }
            let _ = writeln!(
                text,
                "{} {} `{}` in policy `{}`",
                if existed { "replaced" } else { "added" },
                clause.body.keyword(),
                clause.name,
                policy.name
            );
        }
        let previous = self.working.clone();
        self.working.policies[index] = policy;
        self.working.calendar_texts.append(&mut new_texts);
        self.undo.push(previous);
        text.push_str("`:diff` compares with the loaded policies, `:undo` takes it back\n");
        Outcome::ok(text)
    }

    fn save(&mut self, args: &str) -> Outcome {
        let words = match file_args(args) {
            Ok(w) => w,
            Err(e) => return bad_args(":save", &e),
        };
        let mut parts = words.iter().map(String::as_str);
        let Some(file) = parts.next() else {
            return Outcome::fail(
                "error: `:save` needs a file name\n  help: `:save /tmp/what-if.pledge`",
            );
        };
        let index = match parts.next() {
            Some(name) => match self.policy_index(name) {
                Some(i) => i,
                None => return self.unknown_policy(name),
            },
            None => self.target,
        };
        let Some(loaded) = self.loaded.get(index) else {
            return Outcome::fail("error: no policy loaded to save\n  help: `:load POLICY` first");
        };
        let working = &self.working.policies[index];
        let texts: BTreeMap<String, String> = self
            .working
            .calendar_texts
            .iter()
            .filter(|((i, _), _)| *i == index)
            .map(|((_, n), t)| (n.clone(), t.clone()))
            .collect();
        let text = saved_source(&loaded.source, &loaded.policy, working, &texts);
        // The result must load back as the working copy; never write a file that does not.
        let base_dir = loaded.path.parent();
        match parse_policy(&text, file, base_dir) {
            Ok(p) if p == *working => {}
            Ok(_) => {
                return Outcome::fail(format!(
                    "error: the saved text of policy `{}` would not load back as the working copy; nothing written",
                    working.name
                ))
            }
            Err(e) => return Outcome::fail(render(&e, self.color)),
        }
        match std::fs::write(file, &text) {
            Ok(()) => Outcome::ok(format!(
                "saved the working copy of policy `{}` to `{file}`\n",
                working.name
            )),
            Err(e) => Outcome::fail(format!("error: cannot write `{file}`: {e}\n")),
        }
    }

    // ----- evaluation ----------------------------------------------------------------------

    /// The as-of instant: `:now`, or the latest event's time.
    pub fn now(&self) -> Option<Instant> {
        self.now.or_else(|| {
            self.cases
                .values()
                .filter_map(|events| events.iter().map(|e| e.at).max())
                .max()
        })
    }

    pub(super) fn zone(&self) -> Tz {
        self.working
            .policies
            .first()
            .map_or(crate::syntax::DEFAULT_ZONE, |p| p.zone)
    }

    /// The evaluation of `policies` over the loaded events as of `now`, cached.
    pub(super) fn evaluation(&self, policies: &[Policy]) -> Arc<Evaluation> {
        let Some(now) = self.now() else {
            return Arc::new(Evaluation::default());
        };
        self.cache.get(policies, now, self.events_generation, || {
            evaluate(policies, &self.cases, now)
        })
    }

    /// The cases loaded as `pledge check` counts them: those opened, and apart the tickets
    /// whose events hold no `opened` (reported as never opened).
    fn case_count(&self) -> String {
        let unopened = self
            .cases
            .values()
            .filter(|events| !events.iter().any(|e| &*e.kind == "opened"))
            .count();
        let opened = self.cases.len() - unopened;
        if unopened == 0 {
            format!("{opened} case(s)")
        } else {
            format!("{opened} case(s) and {unopened} never opened")
        }
    }

    fn baseline(&self) -> Vec<Policy> {
        self.loaded.iter().map(|l| l.policy.clone()).collect()
    }

    fn summary(&self) -> Outcome {
        if self.working.policies.is_empty() {
            return Outcome::fail("error: no policy loaded\n  help: `:load POLICY`");
        }
        let eval = self.evaluation(&self.working.policies);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} as of {}{}",
            self.case_count(),
            self.now().map_or("-".into(), |t| when(t, self.zone())),
            if self.undo.is_empty() {
                ""
            } else {
                " (working copy with what-if changes)"
            }
        );
        super::report::summary(&eval, &mut out);
        Outcome::ok(out)
    }

    fn diff(&self) -> Outcome {
        if self.working.policies.is_empty() {
            return Outcome::fail("error: no policy loaded\n  help: `:load POLICY`");
        }
        let before = self.evaluation(&self.baseline());
        let after = self.evaluation(&self.working.policies);
        Outcome::ok(super::report::diff(&before, &after))
    }

    fn policy_index(&self, name: &str) -> Option<usize> {
        self.working.policies.iter().position(|p| p.name == name)
    }

    fn unknown_policy(&self, name: &str) -> Outcome {
        let known: Vec<String> = self
            .working
            .policies
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        Outcome::fail(format!(
            "error: no policy `{name}` loaded\n  help: loaded: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    }

    fn use_policy(&mut self, name: &str) -> Outcome {
        match self.policy_index(name) {
            Some(i) => {
                self.target = i;
                Outcome::ok(format!("new clauses go to policy `{name}`\n"))
            }
            None => self.unknown_policy(name),
        }
    }

    fn set_now(&mut self, text: &str) -> Outcome {
        match text {
            "" => {}
            "latest" | "last" => self.now = None,
            t => match parse_typed_instant(t, self.zone()) {
                Ok(i) => self.now = Some(i),
                Err(e) => return Outcome::fail(format!("error: {e}\n")),
            },
        }
        let zone = self.zone();
        Outcome::ok(match (self.now, self.now()) {
            (Some(t), _) => format!("now is {}\n", when(t, zone)),
            (None, Some(t)) => format!("now is the last event's time, {}\n", when(t, zone)),
            (None, None) => "now is the last event's time (no events loaded)\n".to_string(),
        })
    }

    fn render_error(&self, e: crate::syntax::PolicyErrors) -> String {
        render(&e, self.color)
    }

    /// What completion offers: names from the loaded policies and data.
    pub fn vocabulary(&self) -> super::completion::Vocabulary {
        let mut v = super::completion::Vocabulary::default();
        for p in &self.working.policies {
            v.policies.insert(p.name.clone());
            for c in &p.clauses {
                v.clauses.insert(c.name.clone());
            }
            for c in &p.calendars {
                v.calendars.insert(c.name.clone());
            }
        }
        for (ticket, events) in &self.cases {
            v.tickets.insert(ticket.clone());
            for e in events {
                v.event_types.insert(e.kind.to_string());
                for (k, val) in e.attrs.iter() {
                    v.attributes.insert(k.to_string());
                    if let Some(s) = val.as_str() {
                        if v.values.len() < 10_000 {
                            v.values.insert(s.to_string());
                        }
                    }
                }
            }
        }
        v
    }
}

/// A command line whose file arguments cannot be read.
/// One path argument of `:events`: quoted, with escaped spaces, or the text as it is.
fn one_path(text: &str) -> Result<String, Outcome> {
    if text.starts_with(['"', '\'']) || text.contains("\\ ") {
        match file_args(text) {
            Ok(words) if words.len() == 1 => Ok(words[0].clone()),
            Ok(_) => Err(bad_args(
                ":events",
                "it takes one event file (and `--map MAPPING`)",
            )),
            Err(e) => Err(bad_args(":events", &e)),
        }
    } else {
        Ok(text.to_string())
    }
}

fn bad_args(command: &str, why: &str) -> Outcome {
    Outcome::fail(format!(
        "error: cannot read the arguments of `{command}`: {why}\n  help: quote a path with spaces: `{command} \"my file\"`"
    ))
}

fn read_policy(path: &Path) -> Result<Loaded, crate::syntax::PolicyErrors> {
    let source = match crate::limits::read_text_at_most(path, crate::limits::MAX_POLICY_BYTES) {
        Ok(s) => s,
        // The library's own diagnostic for an unreadable file.
        Err(_) => {
            return Err(match crate::syntax::load_policy(path) {
                Err(e) => e,
                Ok(_) => unreadable(path),
            })
        }
    };
    // The shared schema beside the file, as every command loads a policy.
    let schema = crate::syntax::shared_schema(path)?;
    let origin = path.display().to_string();
    let policy =
        crate::syntax::parse_policy_linted(&source, &origin, path.parent(), &schema, &[])?.policy;
    Ok(Loaded {
        path: path.to_path_buf(),
        source,
        policy,
    })
}

/// For a file that could not be read once but could the second time: report the first failure.
fn unreadable(path: &Path) -> crate::syntax::PolicyErrors {
    crate::syntax::PolicyErrors {
        name: path.display().to_string(),
        errors: Vec::new(),
    }
}

fn help() -> String {
    let mut out = String::from(
        "Type a command, or a clause or calendar to try it (it replaces the one of the same name\nin a working copy; input continues over lines until its braces close).\n\n",
    );
    for (name, what, example) in COMMANDS {
        let _ = writeln!(out, "  {name:<9} {what}\n            e.g. {example}");
    }
    out.push_str(
        "\nA what-if, e.g.:\n  deadline dispatch_30min \"维修30分钟内派单\" {\n    when kind == \"repair\"\n    until dispatched\n    within 30 minutes\n  }\nCtrl-C cancels the current input (and a clause half typed), Ctrl-D on an empty line leaves.\n",
    );
    out
}
