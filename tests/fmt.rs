//! `pledge fmt`: one canonical layout for policy files. A messy file comes out in it with every
//! comment kept (snapshot); every shipped file is already in it; any layout of a policy,
//! however spaced and commented, formats to the same policy, and formatting twice changes
//! nothing (property tests); and the command rewrites, checks and refuses as documented,
//! through the real binary.

use assert_cmd::Command;
use pledge::policy::Policy;
use pledge::syntax::{format_source, parse_policy, render};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Everything a policy file can hold, laid out badly: blank lines at the top, runs of them,
/// odd indentation, several lines on one line and one line over several, comments of every
/// kind, spaces around `..` and before `,`, trailing commas, escapes in strings, Chinese titles.
const MESSY: &str = r#"


# 投诉处理 (a messy policy)   
#   indented text


policy   "messy"{   # the policy
zone "Asia/Shanghai"
      events planned ,mediated,
   reviewed
  include calendar "../calendars/cn-2026.toml" as cn_2026



  # office hours
     calendar office{
   hours mon .. fri 08:30-12:00 ,13:30-18:00   # morning, afternoon
      holidays cn_2026
    holiday 2026-05-06 .. 2026-05-08
   workday 2026-10-10
   workday   length 8 hours

  }
  deadline complaint_contact_1h
      "投诉1小时内联系客户核实详情" {
cite s000-complaint-contact-1h "seed 000 §一(三) 投诉处理"
  effective 2026-01-01 ..
    when kind=="complaint"and not( cross_department or severity in ["a" , "b",] )   # 只限投诉
   from opened until contacted  # stop
  within 1 hour 30 minutes
   pause while status in [ "waiting_customer" , ]
  at 80% warn supervisor
   after 2  hours escalate office_director via[phone,app]"超时\u{4e86}\t!"

  # dangling at the end of a clause
  }
  notify n1 "通知" {
    channels all [ sms ]
    audience any [ambulance_120]
    from opened
    within 2 workdays on office
    coverage at least 95.5%
    effective ..2026-07-01
  }
  notify n2"老年客户优先电话"{first contacted or acknowledged via phone}
notify n3 "活动前15天宣传" {
	channels all [notice_board, sms]
	at least 15 days before starts_at
}
  window w "w" { maintained only 00:00-05:00, 13:00-14:00 on mon..fri,sat }
  window w2 "w2" { inspected(level=="full") only 04-01 .. 05-31 }
  every e "e" { drilled at least 1 per quarter }
  every e2 "e2" { from opened
  until resolved patrolled every 2 business hours on office }
  repeat r "r" { same unit , topic 2 times within 30 days
then escalate project_manager "专项整改" }
  sample s "s" { having revisited ratio 10% by management_dept per month evidence revisited or rated lag 7 days group by project,department }
  target t "t" { ratio rated(satisfied == true) among rated per month at least 90% }
  target t2 { ratio breached of complaint_contact_1h per month at most 2% }
  deadline d3 "d" {
    # about until
    until
       resolved   # inside a line
       or progress(channel=="sms")
  same day on office }
  deadline d4 "d" { until resolved by 08:00 next workday on office }
  deadline d5 "d" { until resolved within 2 workdays on office }
  deadline d6 "d" { until resolved(x != null and y >= -1.5 and z) within 1 day }
} # end
# after
"#;

/// Where the policies of the tests resolve `include calendar "../calendars/..."`.
const POLICY_DIR: &str = "policies";

fn fmt(text: &str) -> String {
    format_source(text, "test.pledge").unwrap_or_else(|e| panic!("{}\n{text}", render(&e, false)))
}

fn policy(text: &str) -> Policy {
    parse_policy(text, "test.pledge", Some(Path::new(POLICY_DIR)))
        .unwrap_or_else(|e| panic!("{}\n{text}", render(&e, false)))
}

/// The comments of a policy text, in order (a `#` outside strings to the end of its line).
fn comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut comment) = (false, false, None);
    for (i, c) in text.char_indices() {
        if let Some(start) = comment {
            if c == '\n' {
                out.push(text[start..i].trim_end().to_string());
                comment = None;
            }
        } else if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            quoted = true;
        } else if c == '#' {
            comment = Some(i);
        }
    }
    if let Some(start) = comment {
        out.push(text[start..].trim_end().to_string());
    }
    out
}

/// The shipped policy files: `policies/`, `examples/` (at any depth) and `bench/`.
fn shipped() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "pledge") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["policies", "examples", "bench"] {
        walk(Path::new(dir), &mut out);
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The layout
// ---------------------------------------------------------------------------------------------

#[test]
fn a_messy_policy_comes_out_in_the_canonical_layout() {
    insta::assert_snapshot!(fmt(MESSY));
}

#[test]
fn the_messy_policy_keeps_its_meaning_and_every_comment_in_order() {
    let formatted = fmt(MESSY);
    assert_eq!(policy(&formatted), policy(MESSY));
    assert_eq!(comments(&formatted), comments(MESSY));
    assert_eq!(comments(MESSY).len(), 12, "{:?}", comments(MESSY));
    assert_eq!(fmt(&formatted), formatted);
}

#[test]
fn every_shipped_policy_file_is_already_formatted() {
    let files = shipped();
    assert!(files.len() >= 15, "{files:?}");
    for path in files {
        let text = read(&path);
        let formatted = format_source(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{}", render(&e, false)));
        if formatted != text {
            let first = text
                .lines()
                .zip(formatted.lines())
                .position(|(a, b)| a != b)
                .map_or(text.lines().count().min(formatted.lines().count()), |i| i);
            panic!(
                "{} is not formatted (run `pledge fmt {0}`); first difference on line {}",
                path.display(),
                first + 1
            );
        }
    }
}

#[test]
fn blank_lines_collapse_to_one_and_never_open_or_close_a_block() {
    let text = "policy \"p\" {\n\n\n  zone \"Asia/Shanghai\"\n\n\n\n  events a\n  events b\n\n}\n";
    assert_eq!(
        fmt(text),
        "policy \"p\" {\n  zone \"Asia/Shanghai\"\n\n  events a\n  events b\n}\n"
    );
}

#[test]
fn comments_stay_before_after_or_beside_their_line() {
    let text = "# top\npolicy \"p\" { # header\n  # before zone\n  zone \"Asia/Shanghai\" # beside zone\n\n  # before the end\n} # after the policy\n# last\n";
    assert_eq!(
        fmt(text),
        "# top\npolicy \"p\" {  # header\n  # before zone\n  zone \"Asia/Shanghai\"  # beside zone\n\n  # before the end\n}  # after the policy\n# last\n"
    );
}

#[test]
fn trailing_comments_of_consecutive_lines_line_up_counting_chinese_as_two_columns() {
    let text = "policy \"p\" {\n  deadline d \"投诉\" { # 一\n    until resolved # 二\n    within 1 hour\n  }\n}\n";
    assert_eq!(
        fmt(text),
        "policy \"p\" {\n  deadline d \"投诉\" {  # 一\n    until resolved     # 二\n    within 1 hour\n  }\n}\n"
    );
}

#[test]
fn a_comment_inside_a_line_moves_above_it() {
    let text = "policy \"p\" {\n  deadline d {\n    until resolved # done\n      or closed\n    within 1 hour\n  }\n}\n";
    assert_eq!(
        fmt(text),
        "policy \"p\" {\n  deadline d {\n    # done\n    until resolved or closed\n    within 1 hour\n  }\n}\n"
    );
}

#[test]
fn from_and_until_share_a_line_when_it_fits_in_100_columns() {
    let short = "policy \"p\" {\n  deadline d {\n    from opened\n    until resolved\n    within 1 hour\n  }\n}\n";
    assert!(fmt(short).contains("\n    from opened until resolved\n"));
    let filter = "channel in [\"letter\", \"email\", \"app\"]";
    let long = format!(
        "policy \"p\" {{\n  deadline d {{\n    from opened until progress({filter}) or resolved({filter})\n    within 1 hour\n  }}\n}}\n"
    );
    let formatted = fmt(&long);
    assert!(
        formatted.contains("\n    from opened\n    until progress("),
        "{formatted}"
    );
    // A comment between them moves above, as one inside any line does.
    let commented = "policy \"p\" {\n  deadline d {\n    from opened # start\n    until resolved # stop\n    within 1 hour\n  }\n}\n";
    assert!(fmt(commented).contains("\n    # start\n    from opened until resolved  # stop\n"));
}

#[test]
fn strings_are_written_from_their_values() {
    let text = "policy \"a\\u{4e86}\\\"b\\\\c\\td\\u{7}\" {\n}\n";
    assert_eq!(fmt(text), "policy \"a了\\\"b\\\\c\\td\\u{7}\" {\n}\n");
    // A `\u{..}` naming no character does not read: the file is refused, as `pledge parse`
    // refuses it, with the same diagnostic.
    for hex in ["d800", "DFFF", "110000"] {
        let bad = format!("policy \"a\\u{{{hex}}}\"   {{\n}}\n");
        let errors = format_source(&bad, "bad.pledge").expect_err("refused");
        assert_eq!(errors.codes(), ["pledge::syntax::invalid_escape"], "{hex}");
    }
}

#[test]
fn a_file_that_does_not_parse_is_refused_with_its_syntax_diagnostics() {
    let broken = "policy \"p\" {\n  deadline a { until }\n  deadline b { within 1 fortnight }\n}\n";
    let errors = format_source(broken, "broken.pledge").expect_err("refused");
    assert_eq!(
        errors.codes(),
        [
            "pledge::syntax::unexpected_token",
            "pledge::syntax::unexpected_token"
        ]
    );
    let rendered = render(&errors, false);
    assert!(rendered.contains("broken.pledge:2:"), "{rendered}");
    assert!(rendered.contains("broken.pledge:3:"), "{rendered}");
    // A mistake only the checker finds is not the formatter's business.
    let unknown_event = "policy \"p\" {\n  deadline d { until frobnicated within 1 hour }\n}\n";
    assert!(format_source(unknown_event, "x").is_ok());
    assert!(parse_policy(unknown_event, "x", None).is_err());
}

// ---------------------------------------------------------------------------------------------
// Any layout of a policy formats to the same policy
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator for the choices of [`relayout`].
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn spaces(&mut self) -> &'static str {
        ["", " ", "  ", "\t", "   \t ", "\u{3000}"][self.below(6) as usize]
    }

    fn comment(&mut self) -> &'static str {
        [
            "#",
            "# 注释",
            "# a \"quoted\" {brace} [list] (paren), 80%",
            "#   trailing spaces   ",
            "## double",
        ][self.below(5) as usize]
    }
}

/// Lays a policy text out anew: every run of whitespace between tokens, and every place
/// beside punctuation (`, ( ) [ ] { } ..`) where whitespace may go, gets other whitespace.
///
/// With `comments` false, only what the formatter must undo changes: spaces and tabs anywhere,
/// one line break or none where there was one or none (never next to a comment, never making
/// or removing a blank line), a trailing comma in lists, and characters of strings written as
/// `\u{..}` escapes; so the canonical layout of the result is the original's.
/// With `comments` true, comments and blank lines are added too.
fn relayout(text: &str, rng: &mut Rng, comments: bool) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    // The whitespace after a comment holds the line break that ends it.
    let mut after_comment = false;
    // The last character of code written (not whitespace, not a comment).
    let mut last_code = ' ';
    // Some trivia to put where there was none (beside punctuation).
    let extra = |rng: &mut Rng, out: &mut String| {
        if rng.chance(40) {
            out.push_str(rng.spaces());
        }
        if comments && rng.chance(10) {
            out.push(' ');
            out.push_str(rng.comment());
            out.push('\n');
            if rng.chance(30) {
                out.push('\n');
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        out.push(chars[i]);
                        out.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    if !chars[i].is_ascii() && rng.chance(30) {
                        out.push_str(&format!("\\u{{{:x}}}", u32::from(chars[i])));
                    } else {
                        out.push(chars[i]);
                    }
                    i += 1;
                }
                out.push('"');
                last_code = '"';
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
                if comments && rng.chance(20) {
                    out.push_str("   ");
                }
                after_comment = true;
            }
            c if c.is_whitespace() => {
                let start = i;
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                let breaks = chars[start..i].iter().filter(|&&c| c == '\n').count();
                let before_comment = chars.get(i) == Some(&'#');
                let keep = before_comment || after_comment || breaks >= 2 || i == chars.len();
                after_comment = false;
                let breaks = if keep { breaks } else { rng.below(2) as usize };
                out.push_str(rng.spaces());
                if breaks == 0 {
                    out.push(' ');
                }
                for _ in 0..breaks {
                    out.push('\n');
                    out.push_str(rng.spaces());
                }
                if comments && !before_comment && rng.chance(15) {
                    if breaks == 0 {
                        out.push(' ');
                    }
                    out.push_str(rng.comment());
                    out.push('\n');
                    if rng.chance(30) {
                        out.push('\n');
                    }
                    out.push_str(rng.spaces());
                }
            }
            ',' | '(' | ')' | '[' | ']' | '{' | '}' => {
                if c == ']' && !matches!(last_code, '[' | ',') && rng.chance(30) {
                    out.push(',');
                }
                extra(rng, &mut out);
                out.push(c);
                last_code = c;
                i += 1;
                extra(rng, &mut out);
            }
            '.' if chars.get(i + 1) == Some(&'.') => {
                extra(rng, &mut out);
                out.push_str("..");
                last_code = '.';
                i += 2;
                extra(rng, &mut out);
            }
            c => {
                out.push(c);
                last_code = c;
                i += 1;
            }
        }
    }
    out
}

/// Policies with random titles, numbers and names filled into a few shapes.
fn template() -> impl Strategy<Value = String> {
    let title = "\\PC{0,12}";
    (
        0..4usize,
        title,
        title,
        1..200u32,
        1..100u32,
        0..10u32,
        prop::sample::select(vec!["minutes", "hours", "days", "weeks"]),
    )
        .prop_map(|(shape, t1, t2, n, pct, tenths, unit)| {
            let (t1, t2) = (literal(&t1), literal(&t2));
            let times = n + 1;
            match shape {
                0 => format!(
                    "# {t1}\npolicy {t1} {{\n  zone \"Asia/Shanghai\"\n\n  calendar office {{\n    hours mon..fri 08:30-12:00, 13:30-18:00\n    holidays \"cn\"\n    holiday 2026-05-06..2026-05-08\n  }}\n\n  # {n} {unit}\n  deadline d_{n} {t2} {{\n    cite s000-row-{n} {t1}\n    effective 2026-01-01..\n    when kind == \"complaint\" and not (a or b in [\"x\", {n}, true, null])\n    from opened until resolved(by == {t2}) or closed\n    within {n} {unit}\n    pause while status in [{t1}]\n    at {pct}.{tenths}% warn supervisor via [sms, app] {t2}\n    after {n} {unit} escalate director\n  }}\n\n  deadline w_{n} {{\n    until contacted\n    within {pct} workdays on office\n  }}\n}}\n"
                ),
                1 => format!(
                    "policy \"p\" {{\n  notify n {t1} {{\n    channels any [sms, app_push]\n    audience all [ambulance_120]\n    within {n} {unit}\n    coverage at least {pct}%\n  }}\n  # {t2}\n  sample s {t2} {{\n    having revisited\n    ratio {pct}% by management_dept per month\n    evidence revisited or rated(score >= {tenths})\n    lag {n} days\n    group by project, department\n  }}\n\n  target t {{\n    ratio rated(satisfied == true) among rated per quarter\n    at least {pct}.{tenths}%\n  }}\n}}\n"
                ),
                3 => format!(
                    "policy \"p\" {{\n  attributes {{\n    kind: \"complaint\" | \"repair\",\n    score: number\n    event rated {{ score: number, satisfied: bool }}\n  }}\n  allow missing_cite, unused_calendar\n  # {t2}\n  deadline d_{n} {t1} {{\n    allow never_applies\n    when kind in [\"complaint\", \"repair\"] and score >= {tenths}\n    until rated(satisfied)\n    within {n} {unit}\n  }}\n}}\n"
                ),
                _ => format!(
                    "policy \"p\" {{\n  zone \"Asia/Shanghai\"\n  events drilled, patrolled\n  every e {t1} {{\n    when kind == \"area\"\n    drilled at least {n} per year\n  }}\n  every g {{\n    from opened until resolved\n    patrolled every {n} {unit}\n  }}\n  window w {t2} {{\n    maintained only 00:00-05:00, 22:00-23:30 on mon..fri, sun\n  }}\n  window s {{\n    inspected only 04-01..05-31\n  }}\n  repeat r {t2} {{\n    same unit, topic {times} times within {n} {unit}\n    then notify manager via sms {t1}\n  }}\n}}\n"
                ),
            }
        })
}

/// A string literal for `value`, each character written as itself or as an escape.
fn literal(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || u32::from(c) % 3 == 0 => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the spacing, line breaks, trailing commas and escapes of a shipped policy,
    /// formatting gives the shipped file back.
    #[test]
    fn a_shipped_policy_laid_out_anyhow_formats_back_to_itself(
        file in 0..shipped().len(),
        seed in any::<u64>(),
    ) {
        let path = &shipped()[file];
        let original = read(path);
        let messy = relayout(&original, &mut Rng(seed | 1), false);
        prop_assert_eq!(fmt(&messy), original, "{}:\n{}", path.display(), messy);
    }

    /// With comments and blank lines added too, the formatted policy is the same policy, keeps
    /// every comment in order, and formatting it again changes nothing.
    #[test]
    fn formatting_keeps_the_policy_and_every_comment_and_is_idempotent(
        source in prop_oneof![
            (0..shipped().len()).prop_map(|i| read(&shipped()[i])),
            Just(MESSY.to_string()),
            template(),
        ],
        seed in any::<u64>(),
    ) {
        let text = relayout(&source, &mut Rng(seed | 1), true);
        let formatted = fmt(&text);
        prop_assert_eq!(policy(&formatted), policy(&text), "{}", text);
        prop_assert_eq!(comments(&formatted), comments(&text), "{}", text);
        prop_assert_eq!(fmt(&formatted), formatted.clone(), "{}", text);
    }
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

fn pledge() -> Command {
    let mut cmd = Command::cargo_bin("pledge").expect("the pledge binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

/// A temporary directory holding the file `name` with `text` (formatting never reads the
/// calendars a policy includes).
fn file_with(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

#[test]
fn check_prints_a_diff_of_an_unformatted_file_exits_1_and_changes_nothing() {
    let (_dir, path) = file_with("messy.pledge", MESSY);
    let (code, out, err) = run(pledge().arg("fmt").arg("--check").arg(&path));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err, "");
    let name = path.display().to_string();
    assert!(
        out.starts_with(&format!("--- {name}\n+++ {name}\n@@ ")),
        "{out}"
    );
    assert!(
        out.contains("\n-policy   \"messy\"{   # the policy\n"),
        "{out}"
    );
    assert!(
        out.contains("\n+policy \"messy\" {  # the policy\n"),
        "{out}"
    );
    assert!(out.contains("\n+    when kind == \"complaint\" and not (cross_department or severity in [\"a\", \"b\"])  # 只限投诉\n"), "{out}");
    assert_eq!(read(&path), MESSY);
}

#[test]
fn check_on_formatted_files_prints_nothing_and_exits_0() {
    let (code, out, err) = run(pledge().arg("fmt").arg("--check").args(shipped()));
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
}

#[test]
fn fmt_rewrites_an_unformatted_file_in_place_and_leaves_a_formatted_one_alone() {
    let (dir, path) = file_with("messy.pledge", MESSY);
    let tidy = dir.path().join("tidy.pledge");
    std::fs::write(&tidy, fmt(MESSY)).expect("write");
    let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(&tidy)
        .and_then(|f| f.set_modified(long_ago))
        .expect("set mtime");
    let (code, out, err) = run(pledge().arg("fmt").arg(&path).arg(&tidy));
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    assert_eq!(read(&path), fmt(MESSY));
    let modified = std::fs::metadata(&tidy)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(
        modified, long_ago,
        "an already formatted file is not written"
    );
    let (code, _, _) = run(pledge().arg("fmt").arg("--check").arg(&path));
    assert_eq!(code, Some(0));
}

#[test]
fn a_broken_file_exits_2_with_its_diagnostics_and_is_left_alone() {
    let broken = "policy \"p\" {\n  deadline d { until\n}\n";
    let (_dir, path) = file_with("broken.pledge", broken);
    let (_other, messy) = file_with("messy.pledge", MESSY);
    for check in [true, false] {
        let mut cmd = pledge();
        cmd.arg("fmt").args(check.then_some("--check")).arg(&path);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(out, "");
        assert!(err.contains("pledge::syntax::unexpected_token"), "{err}");
        assert!(err.contains("broken.pledge:3:1"), "{err}");
        assert_eq!(read(&path), broken);
    }
    // The same exit code as `pledge check` on it.
    let (code, _, _) = run(pledge().arg("check").arg(&path).args(["--events", "-"]));
    assert_eq!(code, Some(2));
    // The other files are formatted all the same; the worst outcome is the exit code.
    let (code, _, _) = run(pledge().arg("fmt").arg(&path).arg(&messy));
    assert_eq!(code, Some(2));
    assert_eq!(read(&messy), fmt(MESSY));
}

#[test]
fn a_dash_reads_standard_input_and_writes_standard_output() {
    let (code, out, err) = run(pledge().args(["fmt", "-"]).write_stdin(MESSY));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert_eq!(out, fmt(MESSY));
    let (code, out, _) = run(pledge().args(["fmt", "--check", "-"]).write_stdin(MESSY));
    assert_eq!(code, Some(1));
    assert!(out.starts_with("--- -\n+++ -\n@@ "), "{out}");
    let tidy = fmt(MESSY);
    let (code, out, _) = run(pledge()
        .args(["fmt", "--check", "-"])
        .write_stdin(tidy.as_str()));
    assert_eq!((code, out.as_str()), (Some(0), ""));
}

#[test]
fn an_unreadable_file_exits_3() {
    let (code, _, err) = run(pledge().args(["fmt", "no/such/policy.pledge"]));
    assert_eq!(code, Some(3));
    assert!(err.contains("cannot read `no/such/policy.pledge`"), "{err}");
}

/// A condition laid over many lines is joined onto one: the result must still parse, with
/// the same meaning, however many terms it has (the nesting limit counts levels, not lines).
#[test]
fn a_long_condition_over_many_lines_formats_to_a_policy_that_parses() {
    let terms: Vec<String> = (0..80).map(|i| format!("not f{i:02}")).collect();
    let text = format!(
        "policy \"p\" {{\n  allow missing_cite\n  deadline d \"t\" {{\n    when {}\n    until resolved\n    within 1 hour\n  }}\n}}\n",
        terms.join("\n      and ")
    );
    let formatted = fmt(&text);
    assert_eq!(policy(&formatted), policy(&text), "{formatted}");
}

/// An event's attributes followed by a comma close on one line, `},`, at the indent of
/// `event`.
#[test]
fn an_event_block_followed_by_a_comma_closes_on_its_own_line() {
    let text = "policy \"k\" {\n  attributes {\n    kind: \"complaint\" | \"repair\"\n    event revisited { method: \"visit\" | \"phone\", satisfied: bool },\n    score: number\n  }\n}\n";
    let want = "policy \"k\" {\n  attributes {\n    kind: \"complaint\" | \"repair\"\n    event revisited {\n      method: \"visit\" | \"phone\",\n      satisfied: bool\n    },\n    score: number\n  }\n}\n";
    assert_eq!(fmt(text), want);
    assert_eq!(fmt(want), want);
}
