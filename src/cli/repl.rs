//! `pledge repl [POLICY...] [--events FILE]`: the interactive what-if session (see
//! [`crate::repl`]).

use super::args::ColorChoice;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReplArgs {
    /// Policy files (`.pledge`) to load.
    #[arg(value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// An event stream to load: a JSON Lines or CSV file (kept in memory); with `--map`, a
    /// work-order export (xlsx or CSV).
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// The mapping (TOML) of a work-order export's columns to events.
    #[arg(long, value_name = "FILE", requires = "events")]
    pub map: Option<PathBuf>,
    /// Judge as of this instant (as `:now` takes it). Default: the time of the last event.
    #[arg(long, value_name = "INSTANT")]
    pub now: Option<String>,
    /// History file. Default: `$PLEDGE_HISTORY`, else `pledge/history` in the data directory.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: ReplArgs) -> ExitCode {
    let color = match args.color {
        ColorChoice::Auto => None,
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
    };
    crate::repl::run(
        &args.policies,
        args.events.as_deref(),
        args.map.as_deref(),
        args.now.as_deref(),
        crate::repl::Options {
            history: args.history,
            color,
            plain: false,
        },
    )
}
