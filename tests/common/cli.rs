//! The real binary, run from the repository's root with a fixed environment: no colour, and
//! the language of messages decided by the test rather than the machine's locale.

use assert_cmd::Command;

/// `pledge`, from the repository's root, without colour and in English unless a test says
/// otherwise.
pub fn pledge() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledge"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C");
    cmd
}

/// `pledge ARGS`: its exit code and standard output (standard error may carry lints).
pub fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = pledge().args(args).output().expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    (out.status.code(), text)
}

/// `pledge fmt -` gives the policy file at `path` (from the repository's root) back unchanged:
/// the file is in the canonical form, and formatting keeps every item of it.
pub fn assert_fmt_keeps(path: &str) {
    let source =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    let out = pledge()
        .args(["fmt", "-"])
        .write_stdin(source.clone())
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), source);
}

/// `pledge repl ARGS` with `script` piped in (no prompt on a pipe): its standard output.
pub fn repl(args: &[&str], script: &str) -> String {
    let out = pledge()
        .arg("repl")
        .args(args)
        .write_stdin(script)
        .output()
        .expect("runs");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every one of `needles` occurs in `text`; the first missing one is named with the text.
pub fn assert_contains_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
