//! Policies mangled at random (pieces cut, repeated, swapped, tokens and odd text thrown in),
//! in place of a fuzzer: whatever the text, reading it never panics; each diagnostic has a
//! stable code and its labels lie on the source, on character boundaries, and render; the API's
//! error gives a line and column for each; and a policy that still reads is evaluated against
//! the example stream without a panic.

use pledge::syntax::{parse_policy, render};
use pledge::{check_reader, Options, PolicySet};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped policies' texts, and their directory (includes resolve in it).
fn shipped() -> &'static [(PathBuf, String)] {
    static SHIPPED: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
            .expect("policies/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
            .collect();
        files.sort();
        assert!(files.len() >= 10, "{files:?}");
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("read");
                (p, text)
            })
            .collect()
    })
}

fn events() -> &'static [u8] {
    static EVENTS: OnceLock<Vec<u8>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        std::fs::read(root().join("examples/service-desk.jsonl")).expect("example stream")
    })
}

/// Pieces of the language and of the text around it, and text that is none of it.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    ",",
    "\n",
    "#",
    "==",
    "!=",
    ">=",
    "in",
    "and",
    "or",
    "not",
    "when",
    "from",
    "until",
    "within",
    "pause while",
    "every",
    "at",
    "after",
    "escalate",
    "warn",
    "sample",
    "target",
    "notify",
    "record",
    "deadline",
    "policy",
    "calendar",
    "0",
    "-1",
    "1.5",
    "100%",
    "150%",
    "0 minutes",
    "99999999999999999999 days",
    "1e309",
    "2026-02-30",
    "24:00",
    "25:61",
    "Asia/Nowhere",
    "zone \"UTC\"",
    "工作日",
    "小时",
    "\u{200b}",
    "\u{feff}",
    "é",
    "\\",
    "\\u{d800}",
    "\\u{110000}",
    "\"\"",
    "'",
    "`",
    "\t",
    "\r\n",
    "\0",
];

/// A character boundary of `text` at or before `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[derive(Debug, Clone)]
enum Mangle {
    Cut(usize, usize),
    Repeat(usize, usize, usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
    Truncate(usize),
    Nest(usize, usize),
}

fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        (any::<usize>(), 0..200usize).prop_map(|(a, n)| Mangle::Cut(a, n)),
        (any::<usize>(), 0..200usize, any::<usize>()).prop_map(|(a, n, b)| Mangle::Repeat(a, n, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Mangle::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mangle::SwapLines(a, b)),
        any::<usize>().prop_map(Mangle::Truncate),
        (any::<usize>(), 1..400usize).prop_map(|(a, n)| Mangle::Nest(a, n)),
    ]
}

fn apply(text: &mut String, m: &Mangle) {
    let len = text.len().max(1);
    match *m {
        Mangle::Cut(a, n) => {
            let a = boundary(text, a % len);
            let b = boundary(text, a + n);
            text.replace_range(a..b, "");
        }
        Mangle::Repeat(a, n, at) => {
            let a = boundary(text, a % len);
            let b = boundary(text, a + n);
            let piece = text[a..b].to_string();
            let at = boundary(text, at % len);
            text.insert_str(at, &piece);
        }
        Mangle::Insert(a, t) => {
            let a = boundary(text, a % len);
            text.insert_str(a, TOKENS[t]);
        }
        Mangle::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            *text = lines.join("\n");
        }
        Mangle::Truncate(a) => {
            let a = boundary(text, a % len);
            text.truncate(a);
        }
        Mangle::Nest(a, n) => {
            let a = boundary(text, a % len);
            let deep = format!("{}x{}", "(".repeat(n), ")".repeat(n));
            text.insert_str(a, &deep);
        }
    }
}

/// Reads `text` as the shipped file `path` would be read, and checks what comes back.
fn read_mangled(path: &Path, text: &str) -> Result<(), TestCaseError> {
    let dir = path.parent().expect("a directory");
    match parse_policy(text, "mangled.pledge", Some(dir)) {
        Ok(policy) => {
            // Still a policy: it is judged like any other, without a panic.
            let set = PolicySet::from(vec![policy]);
            let report = check_reader(&set, events(), &Options::default());
            prop_assert!(report.is_ok(), "{:?}", report.err());
        }
        Err(errors) => {
            prop_assert!(!errors.errors.is_empty());
            for d in &errors.errors {
                prop_assert!(
                    d.code.starts_with("pledge::"),
                    "code {:?} of {:?}",
                    d.code,
                    d.message
                );
                let source = d.source.inner();
                for (span, _) in &d.labels {
                    prop_assert!(
                        span.start <= span.end && span.end <= source.len(),
                        "{span:?} beyond {} bytes: {}",
                        source.len(),
                        d.message
                    );
                    prop_assert!(
                        source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
                        "{span:?} inside a character: {}",
                        d.message
                    );
                }
            }
            prop_assert!(!render(&errors, false).is_empty());
            // The embedding API's error: a line and column per diagnostic.
            let api = PolicySet::from_text(text, "mangled.pledge");
            prop_assert!(api.is_err() || text.contains("include"));
        }
    }
    Ok(())
}

/// How many mangled policies a run reads: 256, or `PLEDGE_MANGLED_CASES` for a longer campaign.
fn cases() -> u32 {
    std::env::var("PLEDGE_MANGLED_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_mangled_policy_reads_without_a_panic_and_its_diagnostics_lie_on_it(
        file in 0..32usize,
        mangles in prop::collection::vec(mangle(), 1..6),
    ) {
        let (path, original) = &shipped()[file % shipped().len()];
        let mut text = original.clone();
        for m in &mangles {
            apply(&mut text, m);
        }
        read_mangled(path, &text)?;
    }
}

/// Each kind of mangling, once on every shipped file at a few places: the cases the random
/// ones may miss in a short run.
#[test]
fn every_shipped_file_mangled_at_fixed_places_reads_without_a_panic() {
    for (path, original) in shipped() {
        for i in 0..24usize {
            let at = original.len() * i / 24;
            let manglings = [
                Mangle::Cut(at, 1 + i * 7),
                Mangle::Repeat(at, 40, at / 2),
                Mangle::Insert(at, i * 5 % TOKENS.len()),
                Mangle::SwapLines(i, i * 3 + 1),
                Mangle::Truncate(at),
                Mangle::Nest(at, 300),
            ];
            for m in &manglings {
                let mut text = original.clone();
                apply(&mut text, m);
                if let Err(e) = read_mangled(path, &text) {
                    panic!("{} after {m:?}: {e}", path.display());
                }
            }
        }
    }
}

/// A diagnostic far along a long line (an underline miette cannot pad past column 65,535) is
/// told in words instead of drawn, and says where: no text makes reading a policy panic.
#[test]
fn a_diagnostic_past_column_65535_renders_without_a_panic() {
    for spaces in [65_523usize, 65_524, 70_000, 200_000] {
        let text = format!("policy \"p\" {{{}@ }}\n", " ".repeat(spaces));
        let errors = parse_policy(&text, "long.pledge", None).expect_err("`@` is no token");
        let shown = render(&errors, false);
        assert!(
            shown.contains("pledge::syntax::"),
            "{}",
            &shown[..200.min(shown.len())]
        );
        assert!(
            shown.contains("long.pledge:1:"),
            "where it is: {}",
            &shown[..300.min(shown.len())]
        );
    }
    // A long line with its error near its start is still drawn.
    let text = format!("policy \"p\" {{ @ {}}}\n", " ".repeat(70_000));
    let errors = parse_policy(&text, "long.pledge", None).expect_err("`@` is no token");
    assert!(render(&errors, false).contains("╭─[long.pledge:1:"));
}
