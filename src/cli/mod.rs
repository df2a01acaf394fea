//! The `pledge` command line: one file per subcommand, each a thin layer over the library.
//!
//! Exit codes (documented in the README, stable for scripts):
//! - 0: evaluated, nothing breached, no action missed, no finding;
//! - 1: evaluated, and something was breached, missed or found (`fmt --check`: a file is not
//!   formatted; `test`: a test failed);
//! - 2: the policy or the command line is invalid (nothing was evaluated; `test`: a test file
//!   or its policies);
//! - 3: an input or output could not be read or written.

mod agenda;
mod args;
mod check;
mod docs;
mod fmt;
mod gen;
mod lint;
mod merge;
mod output;
mod parse;
mod period_report;
mod periods;
mod publish;
mod repl;
mod sample;
mod serve;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// What a command came to, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Problems = 1,
    Invalid = 2,
    Io = 3,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        ExitCode::from(o as u8)
    }
}

/// Service standards as code: check ticket event streams against policies.
#[derive(Debug, Parser)]
#[command(name = "pledge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Language of policy diagnostics (messages, labels, help; codes do not change). Default:
    /// from LC_ALL, LC_MESSAGES or LANG (`zh_CN.UTF-8` gives Chinese), else English.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<args::LangArg>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an event stream against policies and report verdicts.
    Check(check::CheckArgs),
    /// List what is overdue and what falls due next, soonest first, for the duty desk.
    Agenda(agenda::AgendaArgs),
    /// Check policies without events: print their clauses, or their errors.
    #[command(alias = "validate")]
    Parse(parse::ParseArgs),
    /// Run the named lints over policies (`--deny NAME` or `all` makes them errors).
    Lint(lint::LintArgs),
    /// Draw the cases to spot-check for each sampling clause in a period, reproducibly.
    Sample(sample::SampleArgs),
    /// Per period and group: deadline compliance, sampling, targets, duties (table, JSON, CSV).
    Report(period_report::ReportArgs),
    /// Monitor live: follow events, keep state across crashes, answer an HTTP API, send alerts.
    Serve(serve::ServeArgs),
    /// Put an event stream on NATS JetStream, one event per message, for `serve --stream`.
    Publish(publish::PublishArgs),
    /// Interactive what-if session: try changed clauses, compare, ask why.
    Repl(repl::ReplArgs),
    /// Rewrite policy files in the canonical layout, comments kept (`--check`: only show a diff).
    Fmt(fmt::FmtArgs),
    /// Write a realistic, reproducible event stream (for benchmarks, demos and tests).
    Gen(gen::GenArgs),
    /// Run policy unit tests (`*.pledge-test`, default under policies/tests), like `cargo test`.
    Test(test::TestArgs),
    /// Print a completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(docs::CompletionsArgs),
    /// Print the manual page (roff), e.g. `pledge man > pledge.1`.
    Man,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ExitCode::SUCCESS
                }
                _ => Outcome::Invalid.into(),
            };
        }
    };
    args::set_lang(match cli.lang {
        Some(args::LangArg::En) => crate::syntax::Lang::En,
        Some(args::LangArg::Zh) => crate::syntax::Lang::Zh,
        None => crate::syntax::Lang::from_env(),
    });
    let outcome = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Agenda(args) => agenda::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Report(args) => period_report::run(args),
        Command::Repl(args) => return repl::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Test(args) => test::run(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man => docs::man(),
    };
    outcome.into()
}
