//! `pledge gen --cases N --seed S`: write a realistic, reproducible event stream.

use super::Outcome;
use crate::gen::{generate, GenError, GenOptions};
use chrono::Datelike;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Tickets to open over the span (places and equipment with duties come on top).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub cases: u64,
    /// The seed: the same options give the same bytes on every machine.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// First day of the span, a date in +08:00 (the span lies between 1970 and the end of 9998).
    #[arg(long, default_value = "2026-01-01", value_name = "DATE", value_parser = parse_date)]
    pub start: chrono::NaiveDate,
    /// Length of the span in days; the stream is a snapshot at its end.
    #[arg(long, default_value_t = 365, value_name = "N")]
    pub days: u32,
    /// Places and equipment with episodes (default: one per 4,000 tickets, 9 to 90); 0 also
    /// leaves out the projects' routine subjects (organisations, places, residents).
    #[arg(long, value_name = "N")]
    pub assets: Option<u32>,
    /// Projects (estates), the last a shopping centre (default: one per 20,000 tickets, 2 to 24).
    #[arg(long, value_name = "N")]
    pub projects: Option<u32>,
    /// Fraction of lines to displace (out-of-order input), between 0 and 1.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    pub shuffle: f64,
    /// How many lines a displaced line moves at most.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_displacement: u64,
    /// A named profile: `dense` leaves 30 % of tickets never closed and closes 70 % soon after
    /// their first resolution, so revisits, ratings, spot checks and reopens follow `closed`
    /// (use with `--days 90 --cases 1000000` for a busy quarter of ten million events).
    #[arg(long, value_enum, value_name = "PROFILE")]
    pub profile: Option<GenProfile>,
    /// Share of tickets that never get `closed`, between 0 and 1 (overrides the profile's).
    #[arg(long, value_name = "FRACTION")]
    pub never_closed: Option<f64>,
    /// Share of tickets closed soon after their first resolution, between 0 and 1 (overrides
    /// the profile's).
    #[arg(long, value_name = "FRACTION")]
    pub close_on_resolve: Option<f64>,
    /// Do not print what was written (printed to standard error only with `--out`).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Named generator profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenProfile {
    /// Tickets that never close and follow-ups after `closed`.
    Dense,
}

fn permille(share: f64) -> u32 {
    if (0.0..=1.0).contains(&share) {
        (share * 1000.0).round() as u32
    } else {
        u32::MAX
    }
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date: use `YYYY-MM-DD`, like `2026-01-01`"))
}

pub fn run(args: GenArgs) -> Outcome {
    let opts = GenOptions {
        cases: args.cases,
        seed: args.seed,
        start: (args.start.year(), args.start.month(), args.start.day()),
        days: args.days,
        assets: args.assets,
        projects: args.projects,
        shuffle: args.shuffle,
        max_displacement: args.max_displacement,
        ..GenOptions::default()
    };
    let mut opts = match args.profile {
        Some(GenProfile::Dense) => opts.dense(),
        None => opts,
    };
    if let Some(share) = args.never_closed {
        opts.never_closed_permille = permille(share);
    }
    if let Some(share) = args.close_on_resolve {
        opts.close_on_resolve_permille = permille(share);
    }
    if let Err(e) = opts.validate() {
        eprintln!("error: {e}");
        return Outcome::Invalid;
    }
    let result = match &args.out {
        Some(path) => match File::create(path) {
            Ok(f) => write(&opts, BufWriter::with_capacity(1 << 20, f)),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return Outcome::Io;
            }
        },
        None => write(
            &opts,
            BufWriter::with_capacity(1 << 20, io::stdout().lock()),
        ),
    };
    match result {
        Ok(stats) => {
            if let (Some(path), false) = (&args.out, args.quiet) {
                eprintln!(
                    "wrote {} events ({} tickets, {} places and equipment, {} other cases, {} bytes) to `{}`",
                    stats.events,
                    stats.cases,
                    stats.assets + stats.subjects,
                    stats.services,
                    stats.bytes,
                    path.display()
                );
            }
            Outcome::Clean
        }
        Err(GenError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Io,
        Err(GenError::Io(e)) => {
            eprintln!("error: {e}");
            Outcome::Io
        }
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Invalid
        }
    }
}

fn write<W: Write>(opts: &GenOptions, out: W) -> Result<crate::gen::GenStats, GenError> {
    generate(opts, out)
}
