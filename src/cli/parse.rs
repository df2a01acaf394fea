//! `pledge parse POLICY...` (alias `validate`): check policies without events.

use super::args::{load_policies_warning, ColorChoice};
use super::Outcome;
use crate::policy::{ClauseBody, Policy};
use crate::syntax::{format_limit, format_trigger};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Print only errors; exit 0 when every policy is valid.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: ParseArgs) -> Outcome {
    let Some(policies) = load_policies_warning(&args.policies, args.color.stderr(), !args.quiet)
    else {
        return Outcome::Invalid;
    };
    if !args.quiet {
        let mut out = String::new();
        for (path, policy) in args.policies.iter().zip(&policies) {
            describe(&mut out, &path.display().to_string(), policy);
        }
        print!("{out}");
    }
    Outcome::Clean
}

/// One line per clause: kind, name, what it measures, cited row, title.
fn describe(out: &mut String, path: &str, policy: &Policy) {
    let _ = writeln!(
        out,
        "{path}: policy `{}` ({}), {} clause(s), {} calendar(s)",
        policy.name,
        policy.zone,
        policy.clauses.len(),
        policy.calendars.len()
    );
    for clause in &policy.clauses {
        let what = match &clause.body {
            ClauseBody::Deadline(d) => format!(
                "{} → {} {}{}",
                format_trigger(&d.start),
                format_trigger(&d.stop),
                format_limit(&d.limit),
                if d.stages.is_empty() {
                    String::new()
                } else {
                    format!(", {} stage(s)", d.stages.len())
                }
            ),
            _ => String::new(),
        };
        let cite = clause.cite.row.as_deref().unwrap_or("-");
        let title = clause.title.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "  {:<8} {:<32} {:<44} [{cite}] {title}",
            clause.body.keyword(),
            clause.name,
            what
        );
    }
}
