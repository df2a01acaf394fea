//! Policy source text → checked [`crate::policy::Policy`], with miette diagnostics.
//!
//! Steps, one file each: `grammar` (the pest parser over `grammar/pledge.pest`), `lower`
//! (parse tree → policy model, collecting every independent error), `diagnostics` (errors with
//! stable codes, spans, labels and help).

use crate::policy::Policy;
use std::path::Path;

/// All errors of one policy source, reported together.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("policy `{name}` has {} error(s)", errors.len())]
pub struct PolicyErrors {
    pub name: String,
    #[related]
    pub errors: Vec<miette::Report>,
}

/// Parses and checks a policy source. `origin` names it in diagnostics (usually its path);
/// `base_dir` resolves `include calendar "..."` paths (none: includes are refused).
pub fn parse_policy(
    source: &str,
    origin: &str,
    base_dir: Option<&Path>,
) -> Result<Policy, PolicyErrors> {
    let _ = (source, base_dir);
    Err(PolicyErrors {
        name: origin.to_string(),
        errors: vec![miette::miette!("not implemented yet")],
    })
}

/// Reads and parses a policy file.
pub fn load_policy(path: &Path) -> Result<Policy, PolicyErrors> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_policy(&text, &origin, path.parent()),
        Err(e) => Err(PolicyErrors {
            name: origin.clone(),
            errors: vec![miette::miette!(
                code = "pledge::io::unreadable",
                "cannot read `{origin}`: {e}"
            )],
        }),
    }
}
