//! `pledge test [PATH...]`: run policy unit tests (`*.pledge-test`) and report like
//! `cargo test`, so that a standard's author checks a policy change the way a developer checks
//! code. The format and the runner are in [`crate::policy_test`].

use super::args::{usage, ColorChoice};
use super::Outcome;
use crate::policy_test::{
    discover, load, render_failures, run_case, Case, PolicyCache, TestFile, DEFAULT_DIR,
};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test files (`.pledge-test`), or directories searched for them [default: policies/tests]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run only the tests whose `FILE::NAME` contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Colour in the results and diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: TestArgs) -> Outcome {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(DEFAULT_DIR)]
    } else {
        args.paths
    };
    let files = match discover(&paths) {
        Ok(files) => files,
        Err(message) => return usage(&message),
    };
    // Every file is loaded before any case runs: a test that cannot be read is reported with
    // the others, as a compiler reports every error before anything is run.
    let mut cache = PolicyCache::default();
    let mut loaded = Vec::new();
    let mut invalid = false;
    for path in &files {
        match load(path, &mut cache) {
            Ok(file) => loaded.push(file),
            Err(errors) => {
                invalid = true;
                for e in &errors {
                    eprint!(
                        "{}",
                        super::args::render_diagnostics(e, args.color.stderr())
                    );
                }
            }
        }
    }
    if invalid {
        eprintln!("error: some test files could not be loaded; no test was run");
        return Outcome::Invalid;
    }
    let all: Vec<(&TestFile, &Case)> = loaded
        .iter()
        .flat_map(|f| f.cases.iter().map(move |c| (f, c)))
        .collect();
    let selected: Vec<(&TestFile, &Case)> = all
        .iter()
        .copied()
        .filter(|(f, c)| {
            args.filter
                .as_ref()
                .is_none_or(|text| test_name(f, c).contains(text.as_str()))
        })
        .collect();
    let color = args.color.stdout();
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    println!(
        "running {} test{}",
        selected.len(),
        if selected.len() == 1 { "" } else { "s" }
    );
    let mut failed = Vec::new();
    for (file, case) in &selected {
        let report = run_case(file, case);
        let name = test_name(file, case);
        if report.passed() {
            println!("test {name} ... {}", paint("ok", "32"));
        } else {
            println!("test {name} ... {}", paint("FAILED", "31"));
            failed.push((name, render_failures(file, &report)));
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for (name, text) in &failed {
            print!("\n---- {name} ----\n{text}");
        }
        println!("\nfailures:");
        for (name, _) in &failed {
            println!("    {name}");
        }
    }
    let filtered = all.len() - selected.len();
    println!(
        "\ntest result: {}. {} passed; {} failed{}",
        if failed.is_empty() {
            paint("ok", "32")
        } else {
            paint("FAILED", "31")
        },
        selected.len() - failed.len(),
        failed.len(),
        if args.filter.is_some() {
            format!("; {filtered} filtered out")
        } else {
            String::new()
        }
    );
    if failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Problems
    }
}

fn test_name(file: &TestFile, case: &Case) -> String {
    format!("{}::{}", file.name, case.name)
}
