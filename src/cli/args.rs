//! Parsers for option values shared by the subcommands, and loading of policy files.

use super::Outcome;
use crate::input::{parse_typed_instant, Export, ExportKind, Format, Mapping, ReadOptions};
use crate::policy::Policy;
use crate::syntax::messages::localize;
use crate::syntax::{load_policy_linted, render, Lang, PolicyErrors};
use crate::Instant;
use chrono_tz::Tz;
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// `--partition I/N`.
pub fn parse_partition(text: &str) -> Result<crate::engine::Partition, String> {
    crate::engine::Partition::parse(text)
}

/// A time zone by IANA name.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>()
        .map_err(|_| format!("`{text}` is not an IANA time zone, like `Asia/Shanghai`"))
}

/// `--lang` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    /// English.
    En,
    /// Chinese (简体中文).
    Zh,
}

/// The language of diagnostics for this run, set once from `--lang` or the locale.
static LANG: std::sync::OnceLock<Lang> = std::sync::OnceLock::new();

/// Sets the language of diagnostics (the first call wins).
pub fn set_lang(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The language of diagnostics.
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or_default()
}

/// Renders policy diagnostics in the language of the run.
pub fn render_diagnostics(errors: &PolicyErrors, color: bool) -> String {
    render(&localize(errors, lang()), color)
}

/// Loads every policy, rendering all errors of all files, and the warnings of their lints, to
/// standard error. `None` if any file is invalid.
pub fn load_policies(paths: &[PathBuf], color: bool) -> Option<Vec<Policy>> {
    load_policies_warning(paths, color, true)
}

/// [`load_policies`], printing the lints' warnings only when `warnings` (`parse --quiet`
/// prints errors only).
pub fn load_policies_warning(
    paths: &[PathBuf],
    color: bool,
    warnings: bool,
) -> Option<Vec<Policy>> {
    let mut policies = Vec::new();
    let mut failed = false;
    for path in paths {
        match load_policy_linted(path, &[]) {
            Ok(linted) => {
                if warnings && !linted.lints.is_empty() {
                    let warnings = PolicyErrors {
                        name: path.display().to_string(),
                        errors: linted.lints,
                    };
                    eprint!("{}", render_diagnostics(&warnings, color));
                }
                policies.push(linted.policy)
            }
            Err(errors) => {
                failed = true;
                eprint!("{}", render_diagnostics(&errors, color));
            }
        }
    }
    if !failed {
        let origins: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        if let Err(errors) = crate::syntax::distinct_policy_names(&policies, &origins) {
            failed = true;
            eprint!("{}", render_diagnostics(&errors, color));
        }
    }
    (!failed).then_some(policies)
}

/// `--input-format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// From the file name: `.csv` is CSV, anything else (and `-`) JSON Lines.
    #[default]
    Auto,
    Jsonl,
    Csv,
    /// An Excel workbook (a work-order export; needs `--map`).
    Xlsx,
}

/// How the commands that judge a stream (`check`, `agenda`, `report`, `sample`) read it (a
/// work-order export's mapping, naive timestamps' zone, format, reorder window, retention):
/// one set of options, so that each means the same, with the same default and help, in all
/// four.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// The mapping (TOML) of a work-order export's columns to events: ticket, timestamp columns
    /// and the event types they make, attribute columns, value tables, zone.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Zone of event timestamps that carry no UTC offset (without it they are rejected).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Input format.
    #[arg(long, value_enum, default_value_t)]
    pub input_format: InputFormat,
    /// How far out of order events may arrive: each waits this long (in stream time) before
    /// it is applied; an event older than what its case has applied is rejected as late.
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = crate::input::parse_typed_duration)]
    pub reorder_window: chrono::Duration,
    /// How long after its latest `closed` a case is kept, so that follow-ups (revisits,
    /// ratings, spot checks, reopens) are applied to it; also how long a ticket not closed that
    /// a deadline clause applies to is kept without events before it is judged like a closed
    /// one. A closed case under a longer warranty or follow-up window of a record clause is
    /// kept for that window.
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = crate::input::parse_typed_duration)]
    pub retain: chrono::Duration,
}

/// An event stream named on the command line, opened, with how to read it and the `--now` it
/// is judged at.
pub struct Stream {
    pub input: Box<dyn Read + Send>,
    /// The file's name as given (`-` for standard input), for messages.
    pub name: String,
    /// The file's size, for a progress bar; `None` for standard input.
    pub size: Option<u64>,
    pub read_opts: ReadOptions,
    pub now: Option<Instant>,
}

/// Opens `--events` and reads `--input-format`, `--map`, `--tz` and `--now` (local times in
/// `--tz`, else in `zone`, the first policy's), as every subcommand that reads events does. `Err`
/// is the exit code, after a message on standard error.
pub fn open_stream(
    events: &Path,
    input_format: InputFormat,
    map: Option<&Path>,
    tz: Option<&str>,
    now: Option<&str>,
    zone: Tz,
) -> Result<Stream, Outcome> {
    let tz = tz.map(parse_zone).transpose().map_err(|e| usage(&e))?;
    let now = now
        .map(|text| parse_typed_instant(text, tz.unwrap_or(zone)))
        .transpose()
        .map_err(|e| usage(&e))?;
    let name = events.display().to_string();
    let export = export_of(&name, input_format, map)?;
    let format = match input_format {
        InputFormat::Auto => Format::from_path(&name),
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Csv | InputFormat::Xlsx => Format::Csv,
    };
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if name == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        match File::open(events) {
            Ok(f) => {
                let size = f.metadata().ok().map(|m| m.len());
                (Box::new(f), size)
            }
            Err(e) => {
                eprintln!("error: cannot read `{name}`: {e}");
                return Err(Outcome::Io);
            }
        }
    };
    Ok(Stream {
        input,
        name,
        size,
        read_opts: ReadOptions {
            format,
            tz,
            export,
            ..ReadOptions::default()
        },
        now,
    })
}

/// `--map`: the export to read instead of an event stream, its kind from `--input-format` or
/// the file name. A workbook without a mapping, or a mapping for JSON Lines, is a usage error.
fn export_of(
    name: &str,
    input_format: InputFormat,
    map: Option<&Path>,
) -> Result<Option<std::sync::Arc<Export>>, Outcome> {
    let by_name = ExportKind::from_path(name);
    let Some(map) = map else {
        if input_format == InputFormat::Xlsx
            || (input_format == InputFormat::Auto && by_name == ExportKind::Xlsx)
        {
            return Err(usage(&format!(
                "`{name}` is a workbook: name the mapping of its columns to events with \
                 `--map FILE` (see examples/orders.toml)"
            )));
        }
        return Ok(None);
    };
    let kind = match input_format {
        InputFormat::Auto => by_name,
        InputFormat::Csv => ExportKind::Csv,
        InputFormat::Xlsx => ExportKind::Xlsx,
        InputFormat::Jsonl => {
            return Err(usage(
                "`--map` reads work-order exports (xlsx or CSV), not JSON Lines",
            ))
        }
    };
    let mapping = Mapping::from_file(map).map_err(|e| usage(&e.to_string()))?;
    warn_of_mistyped_events(&mapping);
    Ok(Some(std::sync::Arc::new(Export { kind, mapping })))
}

/// An event type of the mapping a letter or two from one of EVENTS.md (`dispatchd`) makes
/// events no clause reads: said on standard error, with the type it likely means. A type of
/// the company's own, far from every conventional one, is left alone.
fn warn_of_mistyped_events(mapping: &Mapping) {
    use crate::syntax::{closest, CONVENTIONAL_EVENTS};
    for event in &mapping.events {
        if CONVENTIONAL_EVENTS.contains(&event.kind.as_str()) {
            continue;
        }
        if let Some(near) = closest(&event.kind, CONVENTIONAL_EVENTS.iter().copied()) {
            eprintln!(
                "warning: mapping `{}`: event type `{}` is not one of EVENTS.md: did you mean \
                 `{near}`? (a type of your own is declared in the policy: `events {}`)",
                mapping.name, event.kind, event.kind
            );
        }
    }
}

/// A usage error: the message on standard error, exit code 2.
pub fn usage(message: &str) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Invalid
}

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn stdout(self) -> bool {
        self.resolve(std::io::stdout().is_terminal())
    }

    pub fn stderr(self) -> bool {
        self.resolve(std::io::stderr().is_terminal())
    }

    fn resolve(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}
