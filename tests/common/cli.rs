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
