//! The Python package (`python/`): built into a virtual environment with `pip install ./python`,
//! as the README says, and its tests (`python/tests`, pytest) run against the real binary.
//!
//! The environment lives in `target/python-env` and the package's build in
//! `target/python-build`, so that later runs reuse them.

#![cfg(feature = "cli")] // the tests compare with the real binary

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let status = cmd.status().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(status.success(), "{shown} failed: {status}");
}

/// `PATH` with the environment's scripts first, as activating it would (the build backend
/// runs `maturin` by name).
fn path_with(bin: &Path) -> std::ffi::OsString {
    let mut dirs = vec![bin.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("a PATH of valid directories")
}

#[test]
fn the_python_package_passes_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target");
    let env = target.join("python-env");
    let python: PathBuf = env.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&env));
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "maturin>=1.8,<2",
        "pytest>=8",
    ]));
    // The package's own build directory: the cargo running this test may hold the lock of
    // the main one.
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-build-isolation",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(root.join("python"))
        .env("PATH", path_with(&env.join("bin")))
        .env("CARGO_TARGET_DIR", target.join("python-build")));
    run(Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("python/tests"))
        .env("PLEDGE_BIN", env!("CARGO_BIN_EXE_pledge"))
        .current_dir(root));
}
