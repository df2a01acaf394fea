//! Every shipped policy in `policies/` parses and checks, and every clause cites its catalogue
//! row and seed section.

use pledge::syntax::{load_policy, render};
use std::path::Path;

#[test]
fn every_shipped_policy_is_valid_and_cited() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("policies/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pledge"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut rows = std::collections::BTreeSet::new();
    for f in &files {
        let policy = match load_policy(f) {
            Ok(p) => p,
            Err(e) => panic!("{} does not check:\n{}", f.display(), render(&e, false)),
        };
        for c in &policy.clauses {
            let row = c
                .cite
                .row
                .as_deref()
                .unwrap_or_else(|| panic!("{}: clause `{}` cites no row", f.display(), c.name));
            assert!(
                c.cite.text.is_some(),
                "{}: clause `{}` cites no seed section",
                f.display(),
                c.name
            );
            assert!(
                c.title.is_some(),
                "{}: clause `{}` has no title",
                f.display(),
                c.name
            );
            rows.insert(row.to_string());
        }
    }
}
