//! The HTML report in a real browser, and the README's report example run as written.
//!
//! The README's example (a generated quarter of tickets, its report as a page) is run command by
//! command in a temporary directory; then Debian's `chromium`, headless, takes a screenshot of
//! the page, which must not be blank, prints it (on A4 sheets), and dumps its DOM, which must
//! hold the numbers `pledge report --format json` gives for the same input. When no browser is
//! installed the test installs one (`apt-get install -y chromium`, with `sudo` when not root)
//! and fails loudly if it cannot; `PLEDGE_SKIP_BROWSER=1` skips the browser part explicitly
//! (TESTING.md).

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::debian;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PLEDGE: &str = env!("CARGO_BIN_EXE_pledge");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of the README's HTML report example: the `sh` block that writes `report.html`,
/// continuation lines joined.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let block = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("--format html > report.html"))
        .expect("the README has a sh block writing report.html");
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Runs the README's example in `dir` (with the repository's `policies/` linked in) and returns
/// the commands, each as its words, redirection removed.
fn run_readme_example(dir: &Path) -> Vec<Vec<String>> {
    std::os::unix::fs::symlink(root().join("policies"), dir.join("policies")).unwrap();
    let mut ran = Vec::new();
    for line in readme_commands() {
        let (command, out) = match line.split_once(" > ") {
            Some((c, f)) => (c.to_string(), Some(f.trim().to_string())),
            None => (line.clone(), None),
        };
        let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        assert_eq!(
            words[0], "pledge",
            "a README command that is not pledge: {line}"
        );
        let output = Command::new(PLEDGE)
            .args(&words[1..])
            .current_dir(dir)
            .output()
            .expect("runs");
        let code = output.status.code();
        // `report` exits 1 when a row shows a problem, which the example has on purpose.
        assert!(
            matches!(code, Some(0) | Some(1)),
            "`{line}` exited {code:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(file) = out {
            std::fs::write(dir.join(file), &output.stdout).unwrap();
        }
        ran.push(words);
    }
    ran
}

/// Met and decided (met + breached) per `policy/clause` of the deadline rows of a report in
/// JSON, over all its periods and groups.
fn decided_per_clause(report: &Json) -> BTreeMap<String, (u64, u64)> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in report["rows"].as_array().expect("rows") {
        if row["kind"] != "deadline" {
            continue;
        }
        let key = format!(
            "{}/{}",
            row["policy"].as_str().unwrap(),
            row["clause"].as_str().unwrap()
        );
        let met = row["met"].as_u64().unwrap();
        let breached = row["breached"].as_u64().unwrap();
        let slot = out.entry(key).or_default();
        slot.0 += met;
        slot.1 += met + breached;
    }
    out
}

#[test]
fn the_readme_report_example_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let commands = run_readme_example(dir.path());
    assert!(commands.iter().any(|c| c[1] == "gen"), "{commands:?}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("first_response"), "{html}");
}

/// The browser: `chromium` or `chromium-browser` on the path, installed (with a font for
/// Chinese) when either is missing; `None` only with `PLEDGE_SKIP_BROWSER=1`.
fn browser() -> Option<PathBuf> {
    let names = ["chromium", "chromium-browser"];
    if let Some(found) = debian::on_path(&names) {
        if has_cjk_font() {
            return Some(found);
        }
    }
    if std::env::var("PLEDGE_SKIP_BROWSER").as_deref() == Ok("1") {
        return None;
    }
    debian::install(&["chromium", "fonts-wqy-microhei"]);
    let found = debian::on_path(&names);
    assert!(
        found.is_some(),
        "no chromium, and `apt-get install -y chromium` failed: install it, or set \
         PLEDGE_SKIP_BROWSER=1 to skip the browser test"
    );
    found
}

/// Whether a font for Chinese is installed (`fc-list :lang=zh`), so that the page's titles are
/// drawn as characters and not as empty boxes.
fn has_cjk_font() -> bool {
    Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .is_ok_and(|o| !o.stdout.trim_ascii().is_empty())
}

/// Runs the browser headless on `page` with `extra` arguments, killed after a minute.
fn headless(browser: &Path, profile: &Path, page: &Path, extra: &[String]) -> Output {
    headless_sized(browser, profile, page, (1280, 2000), extra)
}

/// [`headless`] in a window of `(width, height)`.
fn headless_sized(
    browser: &Path,
    profile: &Path,
    page: &Path,
    (width, height): (u32, u32),
    extra: &[String],
) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
        ])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");
    let started = Instant::now();
    // Read standard output while waiting, so that a large DOM cannot block the browser.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).ok();
        buf
    });
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            let stdout = reader.join().unwrap_or_default();
            let mut stderr = Vec::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_end(&mut e, &mut stderr).ok();
            }
            return Output {
                status,
                stdout,
                stderr,
            };
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_readme_report_in_a_headless_browser_is_not_blank_and_shows_the_numbers_of_json() {
    let Some(browser) = browser() else {
        eprintln!("PLEDGE_SKIP_BROWSER=1: the browser test is skipped");
        return;
    };
    assert!(
        has_cjk_font(),
        "no font for Chinese (`fc-list :lang=zh` is empty): install fonts-wqy-microhei or \
         fonts-noto-cjk"
    );
    let dir = tempfile::tempdir().unwrap();
    let commands = run_readme_example(dir.path());
    let page = dir.path().join("report.html");

    // The same report as JSON, for the numbers the page must show.
    let report = commands
        .iter()
        .find(|c| c[1] == "report")
        .expect("the example has a report command");
    let mut json_args: Vec<String> = report[1..].to_vec();
    let format = json_args.iter().position(|a| a == "--format").unwrap();
    json_args[format + 1] = "json".to_string();
    let output = Command::new(PLEDGE)
        .args(&json_args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let json: Json = serde_json::from_slice(&output.stdout).expect("report --format json");
    let expected = decided_per_clause(&json);
    assert!(expected.len() >= 10, "{expected:?}");

    let profile = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let out = headless(
        &browser,
        profile.path(),
        &page,
        &[format!("--screenshot={}", shot.display())],
    );
    assert!(
        out.status.success() && shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let channels = frame.color_type.samples();
    assert!(channels >= 3, "{:?}", frame.color_type);
    assert_eq!((frame.width, frame.height), (1280, 2000));
    let pixels = buf[..frame.buffer_size()].chunks(channels);
    let total = (frame.width * frame.height) as usize;
    let mut colours = std::collections::HashSet::new();
    let (mut ink, mut red, mut green) = (0usize, 0usize, 0usize);
    for p in pixels {
        let (r, g, b) = (p[0], p[1], p[2]);
        if (r, g, b) != (255, 255, 255) {
            ink += 1;
        }
        if r > 180 && g < 90 && b < 90 {
            red += 1;
        }
        if g > 120 && r < 90 && b < 110 {
            green += 1;
        }
        colours.insert((r >> 3, g >> 3, b >> 3));
    }
    assert!(
        ink * 20 > total,
        "only {ink} of {total} pixels are not white"
    );
    assert!(colours.len() > 50, "{} colours", colours.len());
    // The heat map and the trend bars: breached clauses in red, kept ones in green.
    assert!(red > 2000, "{red} red pixels");
    assert!(green > 500, "{green} green pixels");

    // Printed, the page is on A4 sheets (595 × 842 points).
    let profile = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    headless(
        &browser,
        profile.path(),
        &page,
        &[
            "--no-pdf-header-footer".to_string(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("the browser printed the page");
    assert!(bytes.starts_with(b"%PDF"));
    let text = String::from_utf8_lossy(&bytes);
    let sheets = text.matches("/MediaBox [0 0 594.9").count();
    assert!(sheets >= 2, "{sheets} A4 sheets");
    assert_eq!(
        sheets,
        text.matches("/MediaBox").count(),
        "every sheet is A4"
    );

    let profile = tempfile::tempdir().unwrap();
    let dom = headless(&browser, profile.path(), &page, &["--dump-dom".to_string()]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("服务标准执行报告"), "{dom}");
    for (clause, (met, decided)) in &expected {
        let needle =
            format!("data-clause=\"{clause}\" data-met=\"{met}\" data-decided=\"{decided}\"");
        assert!(dom.contains(&needle), "{needle} not in the page");
    }
}

/// On a window as narrow as a phone's (500 px, the narrowest headless window), the page does
/// not scroll sideways: a table wider than the window scrolls in its own box, so the headings
/// and the key numbers stay in view. The page is measured as laid out, by a script added to a
/// copy of it that writes the document's widths into the DOM.
#[test]
fn on_a_narrow_window_only_the_tables_scroll_sideways() {
    let Some(browser) = browser() else {
        eprintln!("PLEDGE_SKIP_BROWSER=1: the browser test is skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run_readme_example(dir.path());
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.matches("<table>").count() >= 3, "{html}");
    assert_eq!(
        html.matches("<div class=\"wide\"><table>").count(),
        html.matches("<table>").count(),
        "every table in a scroll box"
    );
    let probe = "<script>window.addEventListener('load', () => { \
        const d = document.documentElement; \
        const widest = Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth)); \
        document.body.dataset.widths = `${d.scrollWidth}/${d.clientWidth}/${widest}`; });</script>";
    let page = dir.path().join("probe.html");
    std::fs::write(&page, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let dom = headless_sized(
        &browser,
        profile.path(),
        &page,
        (500, 2000),
        &["--dump-dom".to_string()],
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let widths = dom
        .split("data-widths=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no widths in the page: {dom}"));
    let [page_width, window, widest]: [u32; 3] = widths
        .split('/')
        .map(|n| n.parse().expect("a width"))
        .collect::<Vec<_>>()
        .try_into()
        .expect("three widths");
    assert!(window <= 500, "{widths}");
    // The example's widest table is wider than the window, so the test can fail.
    assert!(widest > window, "{widths}");
    assert_eq!(page_width, window, "the page scrolls sideways: {widths}");
}
