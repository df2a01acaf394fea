//! `pledge lint POLICY... [--deny NAME|all] [--format json]`: the named lints of each policy
//! (see [`crate::syntax::lint`]), with its errors if it has any.

use super::args::{lang, render_diagnostics, ColorChoice};
use super::Outcome;
use crate::syntax::lint::LINTS;
use crate::syntax::messages::localize_one;
use crate::syntax::{load_policy_linted, PolicyDiagnostic, PolicyErrors};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Policy files (`.pledge`); each uses the `attributes.pledge-schema` of its directory
    /// when there is one.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Make a lint an error (repeatable; `all`: every lint). Exit 1 when a denied lint fires.
    #[arg(long, value_name = "NAME")]
    pub deny: Vec<String>,
    /// `human` (diagnostics as `pledge check` draws them) or `json` (one document).
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

/// `--format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LintFormat {
    #[default]
    Human,
    Json,
}

pub fn run(args: LintArgs) -> Outcome {
    for name in &args.deny {
        if name != "all" && !LINTS.iter().any(|l| l.name == name) {
            let known: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
            return super::args::usage(&format!(
                "`{name}` is not a lint; the lints are {} (or `all`)",
                known.join(", ")
            ));
        }
    }
    let mut failed = false;
    let (mut warnings, mut errors) = (0usize, 0usize);
    let mut json = Vec::new();
    let mut human = String::new();
    for path in &args.policies {
        let diagnostics = match load_policy_linted(path, &args.deny) {
            Ok(linted) => linted.lints,
            Err(e) => e.errors,
        };
        for d in &diagnostics {
            if d.severity == miette::Severity::Error {
                errors += 1;
                failed = true;
            } else {
                warnings += 1;
            }
        }
        match args.format {
            LintFormat::Json => json.extend(diagnostics.iter().map(to_json)),
            LintFormat::Human if !diagnostics.is_empty() => {
                let all = PolicyErrors {
                    name: path.display().to_string(),
                    errors: diagnostics,
                };
                human.push_str(&render_diagnostics(&all, args.color.stdout()));
            }
            LintFormat::Human => {}
        }
    }
    match args.format {
        LintFormat::Json => {
            let doc = serde_json::json!({
                "diagnostics": json,
                "warnings": warnings,
                "errors": errors,
            });
            println!("{doc:#}");
        }
        LintFormat::Human => {
            print!("{human}");
            eprintln!(
                "{} polic{}: {errors} error(s), {warnings} warning(s)",
                args.policies.len(),
                if args.policies.len() == 1 { "y" } else { "ies" }
            );
        }
    }
    if failed {
        Outcome::Problems
    } else {
        Outcome::Clean
    }
}

/// One diagnostic as JSON: its code, lint, severity, position (line and column in
/// characters, 1-based), message, label and help, in the language of the run.
fn to_json(d: &PolicyDiagnostic) -> serde_json::Value {
    let d = localize_one(d, lang());
    let source = d.source.inner();
    let first = d.labels.first();
    let (line, column) = first.map_or((0, 0), |(s, _)| {
        let before = source.get(..s.start.min(source.len())).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, crate::syntax::columns_before)
            + 1;
        (line, column)
    });
    serde_json::json!({
        "code": d.code,
        "lint": d.lint,
        "severity": match d.severity {
            miette::Severity::Error => "error",
            miette::Severity::Warning => "warning",
            miette::Severity::Advice => "advice",
        },
        "file": d.source.name(),
        "line": line,
        "column": column,
        "message": d.message,
        "label": first.map(|(_, l)| l.clone()),
        "help": d.help,
    })
}
