//! The crate's modules depend on each other one way, from the vocabulary up to the command:
//! a module names (`crate::NAME`) only modules of its own layer or below. A module that
//! reaches up makes a circle sooner or later (the evaluator importing the reports that read
//! it), and this test says where, with the file and line.
//!
//! Test code (after a file's first `#[cfg(test)]`) and comments are not read: a test may use
//! anything, and a doc link is no dependency.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module's layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    // The vocabulary: values, events, limits, tables keyed by hashes.
    ("limits", 0),
    ("inline_str", 0),
    ("hashed", 0),
    ("value", 0),
    ("event", 0),
    // What a policy is, its calendars, its register of event types, what it reads.
    ("calendar", 1),
    ("policy", 1),
    ("register", 1),
    ("relevance", 1),
    // Policy text in and out.
    ("syntax", 2),
    // Event streams in.
    ("input", 3),
    ("gen", 3),
    // One case at a time: clocks, notifications, records; the streaming evaluator.
    ("eval", 4),
    // Across cases: periods, samples, targets, repeats, duties.
    ("period", 5),
    // The streaming evaluator, which drives both, and one case evaluated at once.
    ("engine", 6),
    // Whole runs and why a case got its records.
    ("check", 7),
    ("explain", 7),
    // What people read.
    ("report", 8),
    ("agenda", 8),
    // The embedding API, and what is built on it.
    ("api", 9),
    ("repl", 10),
    ("policy_test", 10),
    ("serve", 10),
    ("cli", 11),
];

/// Known exceptions, each with its reason; an entry that no longer matches anything fails the
/// test too, so the list only shrinks.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_depend_only_on_their_layer_and_below() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut reached = Vec::new();
    let mut used_exceptions = vec![false; EXCEPTIONS.len()];
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        if matches!(top, "lib" | "main") {
            continue;
        }
        let Some(&own) = layers.get(top) else {
            reached.push(format!("src/{rel}: module `{top}` has no layer in LAYERS"));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some(&theirs) = layers.get(name.as_str()) else {
                    continue; // a re-export at the crate's top, or the crate's own items
                };
                if theirs <= own {
                    continue;
                }
                if let Some(i) = EXCEPTIONS
                    .iter()
                    .position(|(path, module, _)| rel.starts_with(path) && *module == name)
                {
                    used_exceptions[i] = true;
                    continue;
                }
                reached.push(format!(
                    "src/{rel}:{}: `{top}` (layer {own}) uses `crate::{name}` (layer {theirs})",
                    n + 1
                ));
            }
        }
    }
    assert!(
        reached.is_empty(),
        "modules reaching up:\n{}",
        reached.join("\n")
    );
    for (i, used) in used_exceptions.iter().enumerate() {
        assert!(
            used,
            "the exception {:?} no longer applies: remove it from EXCEPTIONS",
            EXCEPTIONS[i]
        );
    }
}
