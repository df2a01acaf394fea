//! `pledge check POLICY... --events FILE|-`: evaluate a stream and report.

use super::args::{load_policies, open_stream, parse_partition, ColorChoice, ReadArgs};
use super::Outcome;
use crate::check::{check_split, Checked};
use crate::engine::{EvalOptions, Partition, Sink};
use crate::eval::Summary;
use crate::input::ReadOptions;
use crate::period::ReportSpec;
use crate::policy::PeriodUnit;
use crate::report::groups::{count_groups, WithGroups};
use crate::report::html::HtmlSink;
use crate::report::{HumanOptions, HumanReport, MachineWriter, Records, WithRejects};
use crate::syntax::DEFAULT_ZONE;
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::IsTerminal;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A report for people.
    #[default]
    Human,
    /// One JSON document: `{"records": [...], "summary": {...}}`.
    Json,
    /// One JSON record per line, each with a `record` field; the summary last.
    Jsonl,
    /// An Excel workbook (needs `--output`): a summary sheet per clause and a sheet per record
    /// type, with date-time cells in the first policy's zone.
    Xlsx,
    /// One self-contained HTML page (as `pledge report --format html`, by month).
    Html,
}

pub use super::args::InputFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RecordChoice {
    /// Every verdict, action, finding, rejected line and unopened case.
    #[default]
    All,
    /// Only breached verdicts, missed actions, findings, rejected lines and unopened cases.
    Problems,
    /// Only the summary.
    None,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// The event stream: a JSON Lines or CSV file, or `-` for standard input; with `--map`, a
    /// work-order export (xlsx or CSV, one row per ticket).
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: PathBuf,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of standard output (required by `--format xlsx`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Judge as of this instant (RFC 3339, or local time in the first policy's zone). Default:
    /// the time of the last event. Events after it are ignored and counted.
    #[arg(long, value_name = "INSTANT")]
    pub now: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also write every rejected line as JSON Lines (`line`, `reason`, `text`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Megabytes of cases at rest (closed and waiting out `--retain`, or quiet for a day) held
    /// in memory, the latest first; older ones go to an anonymous temporary file (in `TMPDIR`)
    /// and are read back when they wake or settle, so that memory follows how many tickets
    /// are open at once, not how long the stream is. `all`: hold them all in memory. The
    /// records are the same either way.
    #[arg(long, value_name = "MB|all", default_value = "64", value_parser = parse_resting_memory)]
    pub resting_memory: RestingMemory,
    /// Which records `json` and `jsonl` write.
    #[arg(long, value_enum, default_value_t)]
    pub records: RecordChoice,
    /// How many cases the human report lists per clause.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub list: usize,
    /// Case attributes to break the summary down by, e.g. `project` or `project,department`
    /// (their values as of the end of each case).
    #[arg(long, value_name = "ATTRS", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Judge only the tickets of partition I of N (`0/3`), as one instance of a split does;
    /// every event still moves stream time.
    #[arg(long, value_name = "I/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// Colour in the human report and diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// Threads parsing JSON Lines beside the evaluators (default: a quarter of the cores with
    /// several evaluators, else cores − 1; 0: parse on the thread that reads). The output is
    /// the same for any number.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Evaluators judging side by side, each the tickets of one partition (default: the cores
    /// but a quarter, which parse; 1 on one core). The records, their order and the summary are
    /// those of one evaluator, whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64),
          conflicts_with = "partition")]
    pub evaluators: Option<u16>,
    /// No progress bar (it is only ever drawn on a terminal, for a file).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: CheckArgs) -> Outcome {
    let Some(policies) = load_policies(&args.policies, args.color.stderr()) else {
        return Outcome::Invalid;
    };
    let zone: Tz = policies.first().map_or(DEFAULT_ZONE, |p| p.zone);
    let output =
        match super::output::open(args.output.as_deref(), args.format == ReportFormat::Xlsx) {
            Ok(output) => output,
            Err(outcome) => return outcome,
        };
    let stream = match open_stream(
        &args.events,
        args.read.input_format,
        args.read.map.as_deref(),
        args.read.tz.as_deref(),
        args.now.as_deref(),
        zone,
    ) {
        Ok(stream) => stream,
        Err(outcome) => return outcome,
    };
    let events_name = stream.name.clone();
    let rejects = match &args.rejects {
        Some(path) => match File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return Outcome::Io;
            }
        },
        None => None,
    };
    let read_opts = stream.read_opts;
    let eval_opts = EvalOptions {
        resting_in_memory: args.resting_memory.0.map(|mb| mb << 20),
        now: stream.now,
        reorder_window: args.read.reorder_window,
        retain: args.read.retain,
    };
    let records = match args.records {
        RecordChoice::All => Records::All,
        RecordChoice::Problems => Records::Problems,
        RecordChoice::None => Records::None,
    };
    // Split by tickets unless one evaluator (or one partition of a split) is asked for.
    let evaluators = match (args.evaluators, args.partition) {
        (_, Some(_)) => 1,
        (Some(n), None) => usize::from(n),
        (None, None) => crate::check::default_split().0,
    };
    let threads = args.threads.unwrap_or_else(|| {
        if evaluators > 1 {
            crate::check::default_split().1
        } else {
            default_threads()
        }
    });
    let progress = match stream.size {
        Some(total) if !args.quiet && io::stderr().is_terminal() => Some(progress_bar(total)),
        _ => None,
    };
    let group_by: Vec<String> = args
        .group_by
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    let run = Run {
        policies: &policies,
        input: stream.input,
        read_opts: &read_opts,
        eval_opts,
        rejects,
        threads,
        evaluators,
        progress: progress.clone(),
        group_by: &group_by,
        html: args.format == ReportFormat::Html,
        partition: args.partition,
    };
    let result = match args.format {
        ReportFormat::Human => {
            let report = HumanReport::new(HumanOptions {
                list: args.list,
                // A file gets colour only when asked for (`auto` looks at the terminal).
                color: match args.output {
                    Some(_) => args.color == ColorChoice::Always,
                    None => args.color.stdout(),
                },
            });
            run.go(WithGroups::new(report, &group_by))
                .and_then(|checked| {
                    let (report, groups) = checked.sink.finish(&checked.summary);
                    let mut text =
                        report.render(&checked.summary, &checked.read, zone, &events_name);
                    if !group_by.is_empty() {
                        text.push_str(&groups.render_human());
                    }
                    let mut out = output.writer();
                    out.write_all(text.as_bytes())?;
                    out.flush()?;
                    Ok(checked.summary)
                })
        }
        ReportFormat::Json | ReportFormat::Jsonl => {
            let document = args.format == ReportFormat::Json;
            let writer = MachineWriter::new(BufWriter::new(output.writer()), document, records);
            run.go(WithGroups::new(writer, &group_by))
                .and_then(|checked| {
                    let (writer, groups) = checked.sink.finish(&checked.summary);
                    let groups = (!group_by.is_empty()).then_some(&groups);
                    writer.finish_grouped(&checked.summary, &checked.read, zone, groups)?;
                    Ok(checked.summary)
                })
        }
        ReportFormat::Xlsx => {
            // The workbook is made from the JSON document, so the two cannot disagree.
            let writer = MachineWriter::new(Vec::new(), true, Records::All);
            run.go(writer).and_then(|checked| {
                let json = checked.sink.finish(&checked.summary, &checked.read, zone)?;
                output.workbook(&json, |doc| crate::report::xlsx::check_workbook(doc, zone))?;
                Ok(checked.summary)
            })
        }
        ReportFormat::Html => run.go(HtmlSink::default()).and_then(|checked| {
            let text = super::period_report::html_page(
                &policies,
                &checked.summary,
                &checked.sink,
                PeriodUnit::Month,
                None,
                &events_name,
                &group_by,
            );
            let mut out = output.writer();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(checked.summary)
        }),
    };
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    match result {
        Ok(summary) => outcome_of(&summary),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Io,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Io
        }
    }
}

/// Parser threads when `--threads` is not given.
pub(crate) fn default_threads() -> usize {
    crate::check::default_parser_threads()
}

/// Exit 1 when anything needs attention.
fn outcome_of(summary: &Summary) -> Outcome {
    if summary.breached() > 0 || summary.actions_missed() > 0 || summary.findings() > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    }
}

/// The parts of one check, so the sink can be chosen by format.
struct Run<'a> {
    policies: &'a [crate::policy::Policy],
    input: Box<dyn Read + Send + 'a>,
    read_opts: &'a ReadOptions,
    eval_opts: EvalOptions,
    rejects: Option<BufWriter<File>>,
    threads: usize,
    /// `--evaluators`: more than one judges a split side by side.
    evaluators: usize,
    progress: Option<ProgressBar>,
    /// `--group-by`: counted per group (and per month for the HTML page).
    group_by: &'a [String],
    html: bool,
    partition: Option<Partition>,
}

/// A progress bar on standard error: bytes, throughput and time left.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    let style =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

impl Run<'_> {
    fn go<S: Sink>(mut self, sink: S) -> io::Result<Checked<S>> {
        match self.rejects.take() {
            Some(out) => {
                let checked = self.check(WithRejects::new(sink, out))?;
                Ok(Checked {
                    summary: checked.summary,
                    read: checked.read,
                    sink: checked.sink.finish()?,
                })
            }
            None => self.check(sink),
        }
    }

    fn check<S: Sink>(self, sink: S) -> io::Result<Checked<S>> {
        let bar = self.progress;
        let on_progress = |bytes: u64| {
            if let Some(bar) = &bar {
                bar.set_position(bytes);
            }
        };
        let (group_by, html, partition) = (self.group_by, self.html, self.partition);
        let setup = |tally: &mut crate::period::PeriodTally<'_>| {
            if html {
                tally.report_by(ReportSpec {
                    unit: PeriodUnit::Month,
                    group_by: group_by.to_vec(),
                });
            } else if !group_by.is_empty() {
                count_groups(tally, group_by);
            }
        };
        check_split(
            self.policies,
            self.input,
            self.read_opts,
            self.eval_opts,
            sink,
            self.threads,
            self.evaluators,
            partition,
            on_progress,
            setup,
        )
    }
}

/// `--resting-memory`: bytes of cases at rest held in memory (`None`: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestingMemory(pub Option<usize>);

fn parse_resting_memory(text: &str) -> Result<RestingMemory, String> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(RestingMemory(None));
    }
    match text.trim().parse::<usize>() {
        Ok(mb) if mb <= 1 << 30 => Ok(RestingMemory(Some(mb))),
        _ => Err(format!(
            "`{text}` is not a number of megabytes (up to 1073741824) or `all`"
        )),
    }
}
