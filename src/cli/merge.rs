//! `pledge report POLICY... --merge DIR...`: the period report of the instances of a split
//! (`pledge serve --partition I/N --state DIR`), combined into what one instance over the whole
//! stream gives (see `crate::engine::partition` and the merge of `crate::engine::Evaluator`).

use super::args::usage;
use super::output::Output;
use super::period_report::{render, PeriodReportFormat, ReportArgs};
use super::Outcome;
use crate::period::CalendarPeriod;
use crate::policy::{PeriodUnit, Policy};
use crate::report::period::merged_periods;
use crate::serve::store::Store;

/// Reads the committed state of every directory, merges them and writes the report.
pub fn report(
    args: &ReportArgs,
    policies: &[Policy],
    unit: PeriodUnit,
    filter: Option<CalendarPeriod>,
    group_by: &[String],
    output: Output,
) -> Outcome {
    if args.format == PeriodReportFormat::Html {
        return usage(
            "`--format html` shows single cases (the worst breaches), which the states of a service do not keep: with --merge, use human, json, csv or xlsx",
        );
    }
    let set = crate::api::PolicySet::from(policies.to_vec());
    let mut states = Vec::new();
    for dir in &args.merge {
        let snapshots = match Store::partitions(dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}", e.0);
                return Outcome::Io;
            }
        };
        let single = snapshots.len() == 1;
        for (number, rest, cases) in snapshots {
            let name = if single {
                dir.display().to_string()
            } else {
                format!("{} (p{number})", dir.display())
            };
            match crate::api::evaluator_state_of_parts(&set, &rest, &cases) {
                Ok(b) => states.push((name, b)),
                Err(e) => return usage(&format!("`{name}`: {e}")),
            }
        }
    }
    let (spec, summary, sink) = match merged_periods(policies, &states) {
        Ok(r) => r,
        Err(e) => return usage(&e.to_string()),
    };
    let tallied = spec.as_ref().map(|s| (s.unit, &s.group_by[..]));
    if tallied != Some((unit, group_by)) {
        let said = match &spec {
            Some(s) if s.group_by.is_empty() => format!("`--period {}`", unit_name(s.unit)),
            Some(s) => format!(
                "`--period {} --group-by {}`",
                unit_name(s.unit),
                s.group_by.join(",")
            ),
            None => "no period report".to_string(),
        };
        return usage(&format!(
            "the instances tallied their report with {said}: a merged report has the unit and groups the service was started with"
        ));
    }
    render(
        policies,
        &sink.records,
        &summary,
        unit,
        filter,
        args.format,
        &output,
    )
}

fn unit_name(unit: PeriodUnit) -> &'static str {
    match unit {
        PeriodUnit::Day => "day",
        PeriodUnit::Week => "week",
        PeriodUnit::Month => "month",
        PeriodUnit::Quarter => "quarter",
        PeriodUnit::Year => "year",
    }
}
