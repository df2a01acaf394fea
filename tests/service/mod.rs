//! What the end-to-end tests of `pledge serve` share (`serve.rs`, `serve_nats.rs`): the running
//! service, its metrics, the README's blocks, the shipped policies and a seeded generator.
#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pledge");

pub fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A running `pledge serve` on a loopback port the system chooses, killed (SIGKILL) and reaped
/// when dropped.
pub struct Service {
    child: Child,
    pub url: String,
}

impl Service {
    pub fn start(args: &[&str]) -> Service {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pledge serve");
        let mut first = String::new();
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        reader.read_line(&mut first).expect("first line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        // Keep draining standard output so that the service never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Service { child, url }
    }

    /// A service started by the caller (e.g. with its standard input piped), with no URL.
    pub fn from_child(child: Child) -> Service {
        Service {
            child,
            url: String::new(),
        }
    }

    pub fn kill(self) {
        drop(self);
    }

    /// The service's process id (to send it a signal).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits (bounded) for the service to exit by itself.
    pub fn wait(mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "the service did not stop in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of an unlabelled (or exactly labelled) metric in `/metrics` text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// The first fenced block of `lang` after `heading` in the README.
pub fn readme_block(heading: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(root("README.md")).expect("README.md");
    let section = &readme[readme.find(heading).expect("the heading")..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a block") + fence.len();
    let end = start + section[start..].find("```").expect("its end");
    section[start..end].to_string()
}

/// The shipped policy files, sorted.
pub fn shipped_policies() -> Vec<String> {
    let mut policies: Vec<PathBuf> = std::fs::read_dir(root("policies"))
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    policies.sort();
    policies.iter().map(|p| p.display().to_string()).collect()
}

/// A tiny seeded generator for the moments of kills and sizes of bursts (the same on every
/// run).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}
