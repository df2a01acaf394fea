//! `pledge fmt [--check] FILE...`: policy files in the canonical layout, comments kept
//! ([`crate::syntax::format_source`]), so that reviews of a standard's change show the change
//! and not the spacing.

use super::args::ColorChoice;
use super::Outcome;
use crate::syntax::format_source;
use std::io::{self, Read, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Policy files (`.pledge`) to rewrite in place; `-` reads standard input and writes the
    /// formatted policy to standard output.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Change nothing: print a unified diff for each file that is not formatted, and exit 1 if
    /// there is one.
    #[arg(long)]
    pub check: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: FmtArgs) -> Outcome {
    let mut worst = Outcome::Clean;
    let mut stdout = io::stdout().lock();
    for path in &args.files {
        let name = path.display().to_string();
        let stdin = name == "-";
        let text = if stdin {
            let mut text = String::new();
            io::stdin().read_to_string(&mut text).map(|_| text)
        } else {
            crate::limits::read_text_at_most(path, crate::limits::MAX_POLICY_BYTES)
        };
        let outcome = match text {
            Err(e) => {
                eprintln!("error: cannot read `{name}`: {e}");
                Outcome::Io
            }
            Ok(text) => match format_source(&text, &name) {
                Err(errors) => {
                    eprint!(
                        "{}",
                        super::args::render_diagnostics(&errors, args.color.stderr())
                    );
                    Outcome::Invalid
                }
                Ok(formatted) if args.check => {
                    if formatted == text {
                        Outcome::Clean
                    } else {
                        // A minimal diff can take quadratic time on a huge file with many
                        // moved lines; past the timeout a larger, still correct one is shown.
                        let diff = similar::TextDiff::configure()
                            .timeout(std::time::Duration::from_secs(1))
                            .diff_lines(&text, &formatted)
                            .unified_diff()
                            .context_radius(3)
                            .header(&name, &name)
                            .to_string();
                        let written = stdout.write_all(diff.as_bytes());
                        after_write(written, "standard output", Outcome::Problems)
                    }
                }
                Ok(formatted) if stdin => {
                    let written = stdout.write_all(formatted.as_bytes());
                    after_write(written, "standard output", Outcome::Clean)
                }
                // Untouched when already formatted: its modification time says when the
                // standard last changed.
                Ok(formatted) if formatted == text => Outcome::Clean,
                Ok(formatted) => {
                    let written = std::fs::write(path, formatted);
                    after_write(written, &format!("`{name}`"), Outcome::Clean)
                }
            },
        };
        if outcome as u8 > worst as u8 {
            worst = outcome;
        }
    }
    let flushed = after_write(stdout.flush(), "standard output", worst);
    if flushed as u8 > worst as u8 {
        worst = flushed;
    }
    worst
}

/// `done` once written; exit code 3 if it could not be. A closed pipe
/// (`pledge fmt --check x | head`) is the reader's choice, not a failure.
fn after_write(result: io::Result<()>, what: &str, done: Outcome) -> Outcome {
    match result {
        Ok(()) => done,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => done,
        Err(e) => {
            eprintln!("error: cannot write {what}: {e}");
            Outcome::Io
        }
    }
}
