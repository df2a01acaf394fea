//! The real components the tests drive (Debian's `chromium`, `nats-server`), installed when
//! missing, as the README's test command promises on a fresh machine: `apt-get install -y`,
//! as root or through `sudo -n`, with the package lists updated only if the first attempt
//! fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The first of `names` found on `PATH`.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Installs Debian `packages`; whether `apt-get` succeeded.
pub fn install(packages: &[&str]) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut c = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        c.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut args = vec!["install", "-y"];
    args.extend_from_slice(packages);
    apt(&args) || (apt(&["update"]) && apt(&args))
}

/// The path of `binary`, installing `package` first when it is not on `PATH`; panics with what
/// to do when it cannot be had.
pub fn require(binary: &str, package: &str) -> PathBuf {
    if let Some(found) = on_path(&[binary]) {
        return found;
    }
    install(&[package]);
    on_path(&[binary]).unwrap_or_else(|| {
        panic!("no `{binary}`, and `apt-get install -y {package}` failed: install it first")
    })
}
