//! `pledge report POLICY... --events FILE --period month [--group-by project]`: per period and
//! group, compliance per clause, sampling status, targets, duties; as a table, JSON or CSV.
//!
//! Exit codes as for `check`: 1 when a row shows a problem (breached, short, missed, findings,
//! a repeat action), else 0.

use super::args::{load_policies, parse_partition, ColorChoice, ReadArgs};
use super::periods::{evaluate, evaluate_into, usage, StreamOptions};
use super::Outcome;
use crate::engine::Partition;
use crate::eval::Summary;
use crate::period::calendar_period::parse_unit;
use crate::period::{CalendarPeriod, ReportSpec};
use crate::policy::{PeriodUnit, Policy};
use crate::report::html::{HtmlData, HtmlSink};
use crate::report::period::PeriodReport;
use crate::syntax::DEFAULT_ZONE;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PeriodReportFormat {
    /// A table per period and group.
    #[default]
    Human,
    /// `{"unit", "filter", "now", "rows": [...]}`.
    Json,
    /// One row per period, group and clause, for spreadsheets.
    Csv,
    /// An Excel workbook (needs `--output`): the rows of `csv` with typed cells.
    Xlsx,
    /// One self-contained HTML page: trends, heat map, targets, samples, worst breaches.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// The event stream: a JSON Lines or CSV file, or `-` for standard input; with `--map`, a
    /// work-order export (xlsx or CSV, one row per ticket).
    #[arg(
        long,
        short = 'e',
        value_name = "FILE",
        required_unless_present = "merge"
    )]
    pub events: Option<PathBuf>,
    /// Instead of reading events: combine the states of the instances of a split (`pledge
    /// serve --partition I/N --state DIR`, one DIR each) into the report one instance over
    /// the whole stream gives.
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["events", "map", "now", "partition", "tz", "input_format", "reorder_window", "retain"])]
    pub merge: Vec<PathBuf>,
    /// Judge only the tickets of partition I of N (`0/3`); every event still moves stream time.
    #[arg(long, value_name = "I/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// A unit (`day`, `week`, `month`, `quarter`, `year`), or one period (`2026-03`,
    /// `2026-W10`, ...) to report only the rows sharing a date with it.
    #[arg(long, short = 'p', value_name = "PERIOD", default_value = "month")]
    pub period: String,
    /// Case attributes to group deadline verdicts and findings by, e.g. `project,department`.
    #[arg(long, value_name = "ATTRS", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: PeriodReportFormat,
    /// Write the report to FILE instead of standard output (required by `--format xlsx`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Judge as of this instant (default: the time of the last event).
    #[arg(long, value_name = "INSTANT")]
    pub now: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Colour of diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: ReportArgs) -> Outcome {
    let Some(policies) = load_policies(&args.policies, args.color.stderr()) else {
        return Outcome::Invalid;
    };
    let (unit, filter) = match parse_unit(&args.period) {
        Some(unit) => (unit, None),
        None => match CalendarPeriod::parse(&args.period) {
            Ok(p) => (p.unit, Some(p)),
            Err(e) => {
                return usage(&format!(
                    "{e}, nor a unit like day, week, month, quarter or year"
                ))
            }
        },
    };
    let output = match super::output::open(
        args.output.as_deref(),
        args.format == PeriodReportFormat::Xlsx,
    ) {
        Ok(output) => output,
        Err(outcome) => return outcome,
    };
    let group_by: Vec<String> = args
        .group_by
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    if !args.merge.is_empty() {
        return super::merge::report(&args, &policies, unit, filter, &group_by, output);
    }
    let Some(events) = args.events.as_deref() else {
        return usage("give --events FILE or --merge DIR...");
    };
    let stream = StreamOptions {
        events,
        now: args.now.as_deref(),
        tz: args.read.tz.as_deref(),
        input_format: args.read.input_format,
        map: args.read.map.as_deref(),
        reorder_window: args.read.reorder_window,
        retain: args.read.retain,
        partition: args.partition,
    };
    let spec = ReportSpec {
        unit,
        group_by: group_by.clone(),
    };
    if args.format == PeriodReportFormat::Html {
        let (summary, sink) = match evaluate_into(&policies, &stream, spec, HtmlSink::default()) {
            Ok(r) => r,
            Err(o) => return o,
        };
        let source = events.display().to_string();
        let page = html_page(&policies, &summary, &sink, unit, filter, &source, &group_by);
        if let Err(o) = output.text(&page) {
            return o;
        }
        let report = PeriodReport::build(&policies, &sink.records, unit, filter, summary.now);
        return if report.has_problems() {
            Outcome::Problems
        } else {
            Outcome::Clean
        };
    }
    let (summary, sink) = match evaluate(&policies, &stream, Some(spec), None) {
        Ok(r) => r,
        Err(o) => return o,
    };
    render(
        &policies,
        &sink.records,
        &summary,
        unit,
        filter,
        args.format,
        &output,
    )
}

/// Writes the period report of `records` in `format`; the exit code.
pub(crate) fn render(
    policies: &[Policy],
    records: &[crate::period::PeriodRecord],
    summary: &Summary,
    unit: PeriodUnit,
    filter: Option<CalendarPeriod>,
    format: PeriodReportFormat,
    output: &super::output::Output,
) -> Outcome {
    let report = PeriodReport::build(policies, records, unit, filter, summary.now);
    let text = match format {
        PeriodReportFormat::Human | PeriodReportFormat::Html => report.render_human(),
        PeriodReportFormat::Json => {
            let mut json = report.to_json();
            // As `pledge check --format json` lists them in its summary.
            json["uncovered"] = summary
                .uncovered
                .iter()
                .map(|(calendar, year)| serde_json::json!({"calendar": &**calendar, "year": year}))
                .collect();
            let mut s = serde_json::to_string_pretty(&json).unwrap_or_default();
            s.push('\n');
            s
        }
        PeriodReportFormat::Csv => match report.to_csv() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Io;
            }
        },
        PeriodReportFormat::Xlsx => {
            let zone = policies.first().map_or(DEFAULT_ZONE, |p| p.zone);
            let json = serde_json::to_vec(&report.to_json()).unwrap_or_default();
            let written = output.workbook(&json, |doc| {
                crate::report::xlsx::period_report_workbook(doc, zone)
            });
            if let Err(e) = written {
                eprintln!("error: {e}");
                return Outcome::Io;
            }
            String::new()
        }
    };
    if format != PeriodReportFormat::Xlsx {
        if let Err(o) = output.text(&text) {
            return o;
        }
    }
    if report.has_problems() {
        Outcome::Problems
    } else {
        Outcome::Clean
    }
}

/// The HTML page of an evaluation whose sink kept what the page shows (`pledge report` and
/// `pledge check`).
pub(crate) fn html_page(
    policies: &[Policy],
    summary: &Summary,
    sink: &HtmlSink,
    unit: PeriodUnit,
    filter: Option<CalendarPeriod>,
    source: &str,
    group_by: &[String],
) -> String {
    let report = PeriodReport::build(policies, &sink.records, unit, filter, summary.now);
    HtmlData::build(policies, &report, sink, summary, source, group_by).render()
}
