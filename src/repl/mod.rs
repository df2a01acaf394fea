//! `pledge repl`: load policies and events, try changed clauses on a working copy, compare,
//! and ask why a case got its verdicts.
//!
//! - `session`: the state and every command, as a pure [`Session::execute`] (no terminal);
//! - `evaluation`: one evaluation of every clause kind, as `pledge check` makes it, cached;
//! - `report`: the text of `:summary` and `:diff` over every clause kind;
//! - `text`: brace balance and declaration names of typed policy text;
//! - `save`: the working copy written back as source;
//! - `completion`: tab completion and multi-line input for rustyline;
//! - `front`: the terminal (rustyline) and pipe front-ends.

pub mod completion;
mod evaluation;
pub mod front;
mod inspect;
mod report;
mod save;
pub mod session;
pub mod text;

pub use front::{history_path, Options};
pub use session::{Outcome, Session, COMMANDS};

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Starts a REPL with `policies` and `events` loaded (a work-order export with its mapping
/// `map`) and, if given, the as-of instant `now` (as `:now` takes it). Returns the exit status:
/// on a pipe, 1 if any input failed.
pub fn run(
    policies: &[PathBuf],
    events: Option<&Path>,
    map: Option<&Path>,
    now: Option<&str>,
    opts: Options,
) -> ExitCode {
    let mut startup = Vec::new();
    if !policies.is_empty() {
        let paths: Vec<String> = policies
            .iter()
            .map(|p| text::quote_file_arg(&p.display().to_string()))
            .collect();
        startup.push(format!(":load {}", paths.join(" ")));
    }
    if let Some(e) = events {
        let mut line = format!(":events {}", text::quote_file_arg(&e.display().to_string()));
        if let Some(m) = map {
            line.push_str(" --map ");
            line.push_str(&text::quote_file_arg(&m.display().to_string()));
        }
        startup.push(line);
    }
    if let Some(n) = now {
        startup.push(format!(":now {n}"));
    }
    front::run_session(Session::new(), &opts, &startup)
}

#[cfg(test)]
mod tests;
