//! `pledge sample POLICY... --events FILE --period 2026-03 [--seed S]`: the cases to check for
//! each sampling clause, drawn reproducibly (the algorithm is documented in
//! `pledge::period::draw`).

use super::args::{load_policies, ColorChoice, ReadArgs};
use super::periods::{evaluate, print, usage, StreamOptions};
use super::Outcome;
use crate::period::{CalendarPeriod, DrawSpec, PeriodRecord, SampleDraw};
use crate::policy::ClauseBody;
use crate::report::period::percent;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SampleFormat {
    /// One block per clause, period and group.
    #[default]
    Human,
    /// `{"period", "seed", "draws": [...]}`.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// The event stream: a JSON Lines or CSV file, or `-` for standard input; with `--map`, a
    /// work-order export (xlsx or CSV, one row per ticket).
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: PathBuf,
    /// The period to draw for: `2026-03`, `2026-W10`, `2026-Q1`, `2026-03-02` or `2026`. Each
    /// sampling clause draws for each of its own periods that share a date with it.
    #[arg(long, short = 'p', value_name = "PERIOD")]
    pub period: String,
    /// The seed of the draw; the same seed draws the same cases.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: SampleFormat,
    /// Judge as of this instant (default: the time of the last event).
    #[arg(long, value_name = "INSTANT")]
    pub now: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Colour of diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: SampleArgs) -> Outcome {
    let Some(policies) = load_policies(&args.policies, args.color.stderr()) else {
        return Outcome::Invalid;
    };
    let period = match CalendarPeriod::parse(&args.period) {
        Ok(p) => p,
        Err(e) => return usage(&e.to_string()),
    };
    let ratios: Vec<(usize, usize, u32)> = policies
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| {
            p.clauses
                .iter()
                .enumerate()
                .filter_map(move |(ci, c)| match &c.body {
                    ClauseBody::Sample(s) => Some((pi, ci, s.ratio_permille)),
                    _ => None,
                })
        })
        .collect();
    if ratios.is_empty() {
        return usage("the policies have no `sample` clause to draw for");
    }
    let stream = StreamOptions {
        events: &args.events,
        now: args.now.as_deref(),
        tz: args.read.tz.as_deref(),
        input_format: args.read.input_format,
        map: args.read.map.as_deref(),
        reorder_window: args.read.reorder_window,
        retain: args.read.retain,
        partition: None,
    };
    let spec = DrawSpec {
        period,
        seed: args.seed,
    };
    let (_, sink) = match evaluate(&policies, &stream, None, Some(spec)) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let draws: Vec<&SampleDraw> = sink
        .records
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Draw(d) => Some(d),
            _ => None,
        })
        .collect();
    let ratio_of = |d: &SampleDraw| {
        ratios
            .iter()
            .find(|(pi, ci, _)| (*pi, *ci) == (d.clause_ref.policy, d.clause_ref.clause))
            .map_or(0, |r| r.2)
    };
    let text = match args.format {
        SampleFormat::Human => {
            let mut out = format!("sample draw for {}, seed {}\n", period.label(), args.seed);
            for d in &draws {
                out.push_str(&format!(
                    "\n{} {} {}: {} of {} cases ({} by {})\n",
                    d.clause,
                    d.period.label(),
                    d.group.label(),
                    d.drawn.len(),
                    d.population,
                    percent(u64::from(ratio_of(d))),
                    d.role
                ));
                for (ticket, _) in &d.drawn {
                    out.push_str(&format!("  {ticket}\n"));
                }
            }
            out
        }
        SampleFormat::Json => {
            let draws: Vec<serde_json::Value> = draws
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "policy": &*d.policy,
                        "clause": &*d.clause,
                        "period": d.period.label(),
                        "group": d.group.to_json(),
                        "role": &*d.role,
                        "ratio_permille": ratio_of(d),
                        "population": d.population,
                        "required": d.required,
                        "drawn": d.drawn.iter().map(|(t, k)| serde_json::json!({
                            "ticket": &**t, "rank_key": format!("{k:016x}")
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "period": period.label(),
                "seed": args.seed,
                "algorithm": "xxh3_64_with_seed(ticket, seed), ascending, ties by ticket",
                "draws": draws,
            });
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    match print(&text) {
        Ok(()) => Outcome::Clean,
        Err(o) => o,
    }
}
