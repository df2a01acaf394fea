//! Every shipped policy in `policies/` parses and checks, and every clause cites its catalogue
//! row and seed section. Every row of the catalogue (listed in `policies/ROWS.txt` with its
//! family) is encoded by exactly one clause of the kind its family calls for (the rows the
//! catalogue files as `other` carry the family they are encoded with), and the list is the
//! catalogue of `spec/CLAUSES.md`; the deadline rows have a limit of the right kind.

use pledge::policy::{ClauseBody, Limit, Policy};
use pledge::syntax::{load_policy, render};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Catalogue rows of family `deadline-wallclock` (47).
const DEADLINE_WALLCLOCK_ROWS: [&str; 47] = [
    "s000-first-response",
    "s000-repair-tech-15m",
    "s000-repair-eta-15m",
    "s000-initial-feedback-24h",
    "s000-resolve-revisit-24h",
    "s000-repair-dispatch-10m",
    "s000-repair-revisit-24h",
    "s000-complaint-contact-1h",
    "s000-activity-recap-24h",
    "s000-toolbox-return-24h",
    "s000-emergency-plan-5m",
    "s000-typhoon-recovery-24h",
    "s000-medical-arrive-5m",
    "s000-bot-response-10s",
    "s000-dept-accept-15m",
    "s000-qc-fix-24h",
    "s001-repair-minor-8h",
    "s001-repair-medium-3d",
    "s001-written-inquiry-2d",
    "s001-mall-handover-10m",
    "s001-mall-business-impact-1h",
    "s001-mall-external-2d",
    "s001-mall-facility-3d",
    "s001-mall-grievance-3h",
    "s002-response-2h",
    "s002-urgent-immediate",
    "s003-urgent-repair-30m",
    "s003-inquiry-2h",
    "s003-facility-diagnosis-2h",
    "s003-facility-plan-48h",
    "s003-hygiene-arrive-30m",
    "s003-hygiene-fix-4h",
    "s003-dispute-mediate-24h",
    "s003-utility-response-15m",
    "s003-utility-fix-2h",
    "s003-fire-alarm-10m",
    "s003-flood-drain-6h",
    "s004-vk-gate-5m",
    "s004-vk-public-1h",
    "s004-vk-lobby-lift-1h",
    "s004-vk-lift-hall-3h",
    "s004-vk-fire-stair-1d",
    "s004-vk-garage-3h",
    "s004-vk-bin-two-thirds-1h",
    "s004-vk-kitchen-waste-2h",
    "s004-vk-after-rain-30m",
    "s004-jd-facility-timetable",
];

/// Catalogue rows of family `deadline-business` (14).
const DEADLINE_BUSINESS_ROWS: [&str; 14] = [
    "s000-night-message",
    "s000-complaint-own-dept-2wd",
    "s000-complaint-cross-dept-3wd",
    "s000-inquiry-written-3wd",
    "s000-activity-fix-3wd",
    "s000-movein-3wd",
    "s001-same-day",
    "s001-quality-fix-same-day",
    "s001-quality-reply-same-day",
    "s001-complained-dept-same-day",
    "s001-mall-feedback-1wd",
    "s003-attitude-apology-same-day",
    "s004-jd-repair-revisit-1wd",
    "s004-vk-construction-two-thirds",
];

/// Deadline rows the language cannot express exactly: each clause carries a `# NOTE:` comment
/// saying what is approximated (listed in policies/README.md), and no other deadline clause
/// does.
const APPROXIMATED_ROWS: [&str; 17] = [
    "s000-complaint-cross-dept-3wd",
    "s000-night-message",
    "s000-dept-accept-15m",
    "s002-urgent-immediate",
    "s001-quality-reply-same-day",
    "s001-complained-dept-same-day",
    "s004-jd-facility-timetable",
    "s001-mall-business-impact-1h",
    "s001-mall-grievance-3h",
    "s000-typhoon-recovery-24h",
    "s003-flood-drain-6h",
    "s000-activity-fix-3wd",
    "s000-movein-3wd",
    "s004-vk-bin-two-thirds-1h",
    "s004-vk-kitchen-waste-2h",
    "s004-vk-construction-two-thirds",
    "s004-vk-after-rain-30m",
];

/// Rows whose standard states two checks a clause cannot hold together: a participation
/// ratio and a count of activities (s003-result-events-12); households served and a survey
/// score (s003-result-satisfaction-15).
const TWO_CHECK_ROWS: [&str; 2] = ["s003-result-events-12", "s003-result-satisfaction-15"];

const CLAUSE_KEYWORDS: [&str; 8] = [
    "deadline", "notify", "sample", "target", "repeat", "every", "window", "record",
];

/// The catalogue rows of `policies/ROWS.txt`: row id → family, in file order.
fn catalogue() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/ROWS.txt");
    let text = std::fs::read_to_string(path).expect("policies/ROWS.txt exists");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, family) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("ROWS.txt: `{l}` is not `id family`"));
            (id.to_string(), family.trim().to_string())
        })
        .collect()
}

/// `policies/ROWS.txt` is the catalogue of `spec/CLAUSES.md` as it stands: the same row ids in
/// the same order, each with the family of its table row (the fifth column), except the rows
/// the catalogue files as `other` (no clause kind of SEMANTICS.md fits them), which the list
/// gives the kind pledge encodes them with (`record`, `target`, `duty-every`). A row added to
/// or changed in the catalogue must reach the list, and from there the policies.
#[test]
fn rows_list_is_the_catalogue_of_the_spec() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/CLAUSES.md");
    let text = std::fs::read_to_string(path).expect("spec/CLAUSES.md exists");
    let in_spec: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // `| id | section | original | reading | family | parameters | notes |`
            let id = cells.get(1)?;
            let is_row = id.len() > 5
                && id.starts_with('s')
                && id[1..4].bytes().all(|b| b.is_ascii_digit())
                && id.as_bytes()[4] == b'-';
            is_row.then(|| (id.to_string(), cells.get(5).unwrap_or(&"").to_string()))
        })
        .collect();
    assert!(
        in_spec.len() > 200,
        "the catalogue's rows are found ({})",
        in_spec.len()
    );
    let listed = catalogue();
    let ids = |rows: &[(String, String)]| rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&listed),
        ids(&in_spec),
        "the same rows in the same order"
    );
    for ((id, family), (_, in_catalogue)) in listed.iter().zip(&in_spec) {
        assert!(
            family == in_catalogue
                || (in_catalogue == "other"
                    && ["record", "target", "duty-every"].contains(&family.as_str())),
            "{id}: `{family}` in ROWS.txt, `{in_catalogue}` in the catalogue"
        );
    }
}

/// The clause kind each catalogue family is encoded with.
fn kind_for(family: &str) -> Option<&'static str> {
    Some(match family {
        "deadline-wallclock" | "deadline-business" | "escalation" => "deadline",
        "notification" => "notify",
        "sampling" => "sample",
        "target" => "target",
        "recurrence" => "repeat",
        "duty-every" => "every",
        "time-window" => "window",
        "record" => "record",
        _ => return None,
    })
}

struct Shipped {
    path: PathBuf,
    source: String,
    policy: Policy,
}

fn shipped() -> Vec<Shipped> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("policies/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pledge"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .into_iter()
        .map(|path| {
            let policy = match load_policy(&path) {
                Ok(p) => p,
                Err(e) => panic!("{} does not check:\n{}", path.display(), render(&e, false)),
            };
            let source = std::fs::read_to_string(&path).expect("readable");
            Shipped {
                path,
                source,
                policy,
            }
        })
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The clause name a row id gives: the seed prefix dropped, dashes to underscores
/// (`s000-complaint-contact-1h` → `complaint_contact_1h`).
fn name_for(row: &str) -> String {
    row.split_once('-')
        .map_or(row, |(_, rest)| rest)
        .replace('-', "_")
}

/// The comment lines directly above the line that introduces clause `name` in `source`.
fn comment_above(source: &str, name: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|k| CLAUSE_KEYWORDS.contains(&k)) && words.next() == Some(name)
        })
        .unwrap_or_else(|| panic!("clause `{name}` not found in its source"));
    let mut above = Vec::new();
    for l in lines[..at].iter().rev() {
        match l.trim_start() {
            c if c.starts_with('#') => above.push(c),
            _ => break,
        }
    }
    above.reverse();
    above.join("\n")
}

#[test]
fn every_shipped_policy_is_valid_and_cited() {
    for s in shipped() {
        let f = s.path.display();
        for c in &s.policy.clauses {
            let row = c
                .cite
                .row
                .as_deref()
                .unwrap_or_else(|| panic!("{f}: clause `{}` cites no row", c.name));
            let text = c
                .cite
                .text
                .as_deref()
                .unwrap_or_else(|| panic!("{f}: clause `{}` cites no seed section", c.name));
            assert!(c.title.is_some(), "{f}: clause `{}` has no title", c.name);
            // Row ids are `sNNN-...` for seeds 000-004, and the section cites the same seed.
            let seed = row
                .strip_prefix('s')
                .and_then(|r| r.get(..3))
                .filter(|n| ["000", "001", "002", "003", "004"].contains(n))
                .unwrap_or_else(|| {
                    panic!(
                        "{f}: clause `{}`: `{row}` is not a catalogue row id",
                        c.name
                    )
                });
            assert!(
                text.starts_with(&format!("seed {seed} ")),
                "{f}: clause `{}` cites row {row} but section `{text}`",
                c.name
            );
        }
    }
}

#[test]
fn every_deadline_row_is_encoded_by_exactly_one_clause() {
    let mut cited: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut limits: BTreeMap<String, Limit> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for s in shipped() {
        for c in &s.policy.clauses {
            let row = c.cite.row.clone().unwrap_or_default();
            cited.entry(row.clone()).or_default().push(format!(
                "{}: {}",
                file_name(&s.path),
                c.name
            ));
            #[allow(irrefutable_let_patterns)]
            if let ClauseBody::Deadline(d) = &c.body {
                limits.insert(row.clone(), d.limit.clone());
            }
            names.insert(row, c.name.clone());
        }
    }
    // No row is encoded twice, whatever its family (other families are added later), except
    // a row whose standard states two checks of different kinds, one clause each.
    for (row, clauses) in &cited {
        let expected = if TWO_CHECK_ROWS.contains(&row.as_str()) {
            2
        } else {
            1
        };
        assert_eq!(clauses.len(), expected, "row {row} is cited by {clauses:?}");
    }
    let all: Vec<&str> = DEADLINE_WALLCLOCK_ROWS
        .iter()
        .chain(DEADLINE_BUSINESS_ROWS.iter())
        .copied()
        .collect();
    let unique: std::collections::BTreeSet<&str> = all.iter().copied().collect();
    assert_eq!(unique.len(), 61, "the two lists hold 61 distinct rows");
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|r| !cited.contains_key(*r))
        .collect();
    assert!(missing.is_empty(), "rows not encoded: {missing:?}");
    for row in all {
        assert_eq!(
            names[row],
            name_for(row),
            "the clause of row {row} is named after the row"
        );
    }
    for row in DEADLINE_WALLCLOCK_ROWS
        .iter()
        .chain(DEADLINE_BUSINESS_ROWS.iter())
    {
        assert!(
            limits.contains_key(*row),
            "row {row} is not a deadline clause"
        );
    }
    for row in DEADLINE_WALLCLOCK_ROWS {
        assert!(
            matches!(limits[row], Limit::Elapsed(_)),
            "row {row} is wall-clock but its limit is {:?}",
            limits[row]
        );
    }
    for row in DEADLINE_BUSINESS_ROWS {
        assert!(
            !matches!(limits[row], Limit::Elapsed(_)),
            "row {row} counts on a calendar but its limit is wall-clock"
        );
    }
}

#[test]
fn approximated_rows_and_only_they_carry_a_note() {
    let rows: Vec<&str> = DEADLINE_WALLCLOCK_ROWS
        .iter()
        .chain(DEADLINE_BUSINESS_ROWS.iter())
        .copied()
        .collect();
    for s in shipped() {
        for c in &s.policy.clauses {
            let row = c.cite.row.as_deref().unwrap_or_default();
            if !rows.contains(&row) {
                continue;
            }
            let has_note = comment_above(&s.source, &c.name).contains("# NOTE:");
            assert_eq!(
                has_note,
                APPROXIMATED_ROWS.contains(&row),
                "{}: clause `{}` (row {row}): a `# NOTE:` above it iff the row is listed as approximated",
                file_name(&s.path),
                c.name
            );
        }
    }
}

#[test]
fn policy_files_open_with_a_header_naming_their_seeds() {
    for s in shipped() {
        let header: String = s
            .source
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !header.is_empty(),
            "{} starts without a comment header",
            s.path.display()
        );
        for c in &s.policy.clauses {
            let seed = c.cite.text.as_deref().unwrap_or_default();
            let seed = seed.get(..8).unwrap_or(seed); // "seed 000"
            assert!(
                header.contains(seed),
                "{}: the header does not name {seed}, cited by `{}`",
                s.path.display(),
                c.name
            );
        }
    }
}

#[test]
fn the_office_calendar_is_the_same_in_every_file() {
    let mut blocks = BTreeMap::new();
    for s in shipped() {
        if let Some(at) = s.source.find("calendar office {") {
            let end = s.source[at..].find('}').expect("closed") + at;
            blocks.insert(file_name(&s.path), s.source[at..=end].to_string());
        }
    }
    assert!(!blocks.is_empty());
    let first = blocks.values().next().unwrap().clone();
    assert!(first.contains("hours mon..fri 08:30-12:00, 13:30-18:00"));
    assert!(first.contains("holidays \"cn\""));
    for (file, block) in &blocks {
        assert_eq!(block, &first, "{file} defines a different office calendar");
    }
}

/// The due instant of a deadline limit started at `start`, by the rules of SEMANTICS.md.
fn due(limit: &Limit, start: pledge::Instant) -> pledge::Instant {
    match limit {
        Limit::Elapsed(d) => start + *d,
        Limit::BusinessTime { amount, calendar } => calendar.add_working(start, *amount),
        Limit::Workdays { days, calendar } => {
            calendar.add_working(start, calendar.workday_amount(*days))
        }
        Limit::SameDay { calendar } => calendar.end_of_working_day(start),
        Limit::NextAt {
            time,
            workday,
            calendar,
        } => calendar.next_at(start, *time, *workday),
    }
}

fn at(text: &str) -> pledge::Instant {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&chrono::Utc)
}

/// The calendars of the shipped policies, read on worked examples a quality officer can check
/// by hand against the 2026 holiday notice (国庆节 1-7 October, make-up day Saturday 10 October).
#[test]
fn the_calendars_read_as_documented() {
    let policies = shipped();
    let limit = |clause: &str| -> Limit {
        let c = policies
            .iter()
            .find_map(|s| s.policy.clause(clause))
            .unwrap_or_else(|| panic!("no clause `{clause}`"));
        #[allow(irrefutable_let_patterns)]
        let ClauseBody::Deadline(d) = &c.body
        else {
            panic!("`{clause}` is not a deadline")
        };
        d.limit.clone()
    };
    let cases = [
        // office: 2 workdays = 16 h of 08:30-12:00, 13:30-18:00; 1 h on 30 September, the
        // holiday week skipped, 8 h on Thursday 8 October, 7 h on Friday 9 October.
        (
            "complaint_own_dept_2wd",
            "2026-09-30T17:00:00+08:00",
            "2026-10-09T17:00:00+08:00",
        ),
        // office: a make-up Saturday is an ordinary working day.
        (
            "quality_fix_same_day",
            "2026-10-10T10:00:00+08:00",
            "2026-10-10T18:00:00+08:00",
        ),
        // office: after closing time, "same day" is the end of the next working day.
        (
            "quality_fix_same_day",
            "2026-09-30T18:00:00+08:00",
            "2026-10-08T18:00:00+08:00",
        ),
        // no calendar: the first 08:00 strictly after the message, holidays and weekends alike.
        (
            "night_message",
            "2026-10-03T23:10:00+08:00",
            "2026-10-04T08:00:00+08:00",
        ),
        (
            "night_message",
            "2026-10-06T00:30:00+08:00",
            "2026-10-06T08:00:00+08:00",
        ),
        // mall: trading 10:00-22:00 every day, holidays included; 1 workday = 12 h of trading.
        (
            "mall_feedback_1wd",
            "2026-10-01T21:00:00+08:00",
            "2026-10-02T21:00:00+08:00",
        ),
        // haulage: "当日" is the calendar day, to midnight, holidays included.
        (
            "vk_construction_two_thirds",
            "2026-10-01T15:00:00+08:00",
            "2026-10-02T00:00:00+08:00",
        ),
        // wall-clock days are 24 h: "3天" from a Friday evening ends on Monday evening.
        (
            "repair_medium_3d",
            "2026-10-09T19:00:00+08:00",
            "2026-10-12T19:00:00+08:00",
        ),
    ];
    for (clause, start, expected) in cases {
        assert_eq!(
            due(&limit(clause), at(start)),
            at(expected),
            "`{clause}` started {start}"
        );
    }
}

#[test]
fn the_row_list_matches_the_catalogue_counts() {
    let rows = catalogue();
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, family) in &rows {
        *per_family.entry(family.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("deadline-wallclock", 47),
        ("deadline-business", 14),
        ("escalation", 13),
        ("notification", 15),
        ("sampling", 14),
        ("target", 22),
        ("recurrence", 2),
        ("duty-every", 65),
        ("time-window", 4),
        ("record", 23),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_family, expected);
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 219, "row ids are distinct");
    // The hand-kept deadline lists above agree with the file.
    for row in DEADLINE_WALLCLOCK_ROWS {
        assert!(
            rows.contains(&(row.to_string(), "deadline-wallclock".to_string())),
            "{row}"
        );
    }
    for row in DEADLINE_BUSINESS_ROWS {
        assert!(
            rows.contains(&(row.to_string(), "deadline-business".to_string())),
            "{row}"
        );
    }
}

#[test]
fn every_catalogue_row_is_encoded_once_by_a_clause_of_its_family() {
    let rows: BTreeMap<String, String> = catalogue().into_iter().collect();
    let mut cited: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in shipped() {
        for c in &s.policy.clauses {
            let row = c.cite.row.clone().unwrap_or_default();
            let at = format!("{}: {}", file_name(&s.path), c.name);
            let family = rows
                .get(&row)
                .unwrap_or_else(|| panic!("{at} cites `{row}`, which is not in ROWS.txt"));
            let kind = kind_for(family).unwrap_or_else(|| {
                panic!("{at} cites `{row}` of family `{family}`, which no clause encodes")
            });
            assert_eq!(
                c.body.keyword(),
                kind,
                "{at}: row {row} of family `{family}` is encoded as a `{kind}` clause"
            );
            if family == "escalation" {
                let ClauseBody::Deadline(d) = &c.body else {
                    unreachable!("checked above")
                };
                assert!(
                    !d.stages.is_empty(),
                    "{at}: escalation row {row} needs a stage that escalates"
                );
            }
            // The second clause of a two-check row adds a word to the row's name.
            let second = TWO_CHECK_ROWS.contains(&row.as_str())
                && c.name.starts_with(&format!("{}_", name_for(&row)));
            assert!(
                c.name == name_for(&row) || second,
                "{at}: the clause is named after row {row}"
            );
            cited.entry(row).or_default().push(at);
        }
    }
    for (row, clauses) in &cited {
        let expected = if TWO_CHECK_ROWS.contains(&row.as_str()) {
            2
        } else {
            1
        };
        assert_eq!(clauses.len(), expected, "row {row} is cited by {clauses:?}");
    }
    let missing: Vec<&String> = rows
        .iter()
        .filter(|(row, family)| kind_for(family).is_some() && !cited.contains_key(*row))
        .map(|(row, _)| row)
        .collect();
    assert!(missing.is_empty(), "rows not encoded: {missing:?}");
}

/// Rows whose clause approximates the standard say so in a `# NOTE:` comment right above the
/// clause, and the README lists each of them among the approximated rows.
#[test]
fn every_note_is_listed_in_the_readme() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/README.md"))
            .expect("policies/README.md exists");
    let mut noted = 0;
    for s in shipped() {
        for c in &s.policy.clauses {
            if comment_above(&s.source, &c.name).contains("# NOTE:") {
                noted += 1;
                let row = c.cite.row.as_deref().unwrap_or_default();
                assert!(
                    readme.contains(&format!("`{row}`")),
                    "{}: `{}` carries a NOTE but README.md does not list `{row}`",
                    file_name(&s.path),
                    c.name
                );
            }
        }
    }
    assert!(noted > 0);
}

#[test]
fn windows_of_the_year_and_lead_times_read_as_written() {
    let policies = shipped();
    let clause = |name: &str| {
        policies
            .iter()
            .find_map(|s| s.policy.clause(name))
            .unwrap_or_else(|| panic!("no clause `{name}`"))
    };
    let ClauseBody::Window(w) = &clause("ac_pre_summer").body else {
        panic!("not a window")
    };
    assert_eq!(
        w.season,
        Some((
            pledge::policy::MonthDay { month: 4, day: 1 },
            pledge::policy::MonthDay { month: 5, day: 31 }
        ))
    );
    assert!(w.periods.is_empty());
    let ClauseBody::Notify(n) = &clause("activity_publicity_15d").body else {
        panic!("not a notify")
    };
    let lead = n.lead.as_ref().expect("a lead time");
    assert_eq!(
        (lead.before, lead.attr.as_str()),
        (chrono::Duration::days(15), "starts_at")
    );
    let ClauseBody::Sample(s) = &clause("complaint_confirm").body else {
        panic!("not a sample")
    };
    assert_eq!(s.role, pledge::policy::ANY_ROLE);
}
