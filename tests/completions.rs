//! `pledge completions SHELL` and `pledge man`, through the real binary.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;

const SUBCOMMANDS: [&str; 14] = [
    "check",
    "agenda",
    "parse",
    "lint",
    "sample",
    "report",
    "repl",
    "serve",
    "publish",
    "fmt",
    "gen",
    "test",
    "completions",
    "man",
];

fn pledge(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("pledge")
        .expect("the pledge binary is built")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

#[test]
fn completion_scripts_name_every_subcommand_and_option() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, script) = pledge(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no `{sub}`");
        }
        // (fish writes `-l retain`, the others `--retain`.)
        for option in [
            "reorder-window",
            "retain",
            "include-closed",
            "profile",
            "deny",
            "lang",
            "token-file",
            "now-from-events",
        ] {
            assert!(script.contains(option), "{shell}: no `{option}`");
        }
    }
}

#[test]
fn the_bash_script_is_valid_bash() {
    let (_, script) = pledge(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pledge.bash");
    std::fs::write(&path, script).expect("write");
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .expect("bash runs");
    assert!(status.success());
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let (code, out) = pledge(&["completions", "tcsh"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
}

#[test]
fn the_manual_page_is_roff_with_every_subcommand() {
    let (code, page) = pledge(&["man"]);
    assert_eq!(code, Some(0));
    assert!(page.contains(".TH pledge 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("pledge\\-{sub}")),
            "no `{sub}` in the page"
        );
    }
}
