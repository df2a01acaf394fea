//! The attribute schema and the named lints: each lint fires on a clause that has its defect
//! and not on the minimally different clause without it (snapshots of the rendered
//! diagnostics pin codes, spans, labels and help); `allow` silences a lint where it is
//! written; the schema turns misspelt attributes and values into errors with a "did you
//! mean"; the diagnostics read in Chinese with `Lang::Zh`; the shipped policies are clean.

use pledge::syntax::lint::LINTS;
use pledge::syntax::messages::{localize, translated};
use pledge::syntax::{
    load_policy, load_policy_linted, parse_policy_linted, render, Lang, PolicyDiagnostic,
    PolicyErrors, Schema,
};
use std::path::Path;

fn lints_with(src: &str, deny: &[&str]) -> Vec<PolicyDiagnostic> {
    let deny: Vec<String> = deny.iter().map(|s| s.to_string()).collect();
    match parse_policy_linted(src, "test.pledge", None, &Schema::default(), &deny) {
        Ok(l) => l.lints,
        Err(e) => panic!("expected a valid policy, got:\n{}", render(&e, false)),
    }
}

fn lints(src: &str) -> Vec<PolicyDiagnostic> {
    lints_with(src, &[])
}

fn names(src: &str) -> Vec<&'static str> {
    lints(src).iter().filter_map(|d| d.lint).collect()
}

fn errors(src: &str) -> PolicyErrors {
    match parse_policy_linted(src, "test.pledge", None, &Schema::default(), &[]) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn rendered(diagnostics: Vec<PolicyDiagnostic>) -> String {
    render(
        &PolicyErrors {
            name: "test.pledge".into(),
            errors: diagnostics,
        },
        false,
    )
}

/// A policy with a schema and one clause made of `lines`, cited.
fn clause(lines: &str) -> String {
    format!(
        r#"policy "p" {{
  attributes {{
    kind: "complaint" | "repair" | "inquiry"
    severity: "minor" | "major"
    score: number
    cross_department: bool
    project: string
  }}

  deadline c "投诉1小时内联系客户" {{
    cite s000-row-1 "seed 000 §一"
{lines}
  }}
}}
"#
    )
}

// ------------------------------------------------------------------------------ never_applies

#[test]
fn never_applies_fires_on_a_contradiction_and_not_on_an_alternative() {
    let bad = clause(
        "    when kind == \"complaint\" and kind == \"repair\"\n    until contacted\n    within 1 hour",
    );
    let d = lints(&bad);
    assert_eq!(names(&bad), ["never_applies"]);
    assert_eq!(d[0].code, "pledge::lint::never_applies");
    assert_eq!(
        d[0].underlined(),
        Some("when kind == \"complaint\" and kind == \"repair\"")
    );
    insta::assert_snapshot!("never_applies", rendered(d));
    let good = clause(
        "    when kind == \"complaint\" or kind == \"repair\"\n    until contacted\n    within 1 hour",
    );
    assert!(names(&good).is_empty());
}

/// The help names the attribute and values of the contradiction, and says something else
/// when there is no such pair (`score > 4 and score < 3`).
#[test]
fn never_applies_helps_with_the_condition_it_found() {
    let help = |when: &str| {
        let d = lints(&clause(&format!(
            "    when {when}\n    until contacted\n    within 1 hour"
        )));
        assert_eq!(d.len(), 1, "{when}");
        d[0].help.clone().unwrap_or_default()
    };
    assert_eq!(
        help("severity == \"minor\" and severity == \"major\""),
        "an attribute holds one value: to accept several write `severity in [\"minor\", \"major\"]`"
    );
    let bounds = help("score > 4 and score < 3");
    assert!(!bounds.contains(" in ["), "{bounds}");
    assert!(bounds.contains("bounds"), "{bounds}");
}

#[test]
fn never_applies_knows_the_schema_types() {
    // A bare `kind` is true only for the value `true`, which the schema's `kind` never takes.
    let bad = clause("    when kind\n    until contacted\n    within 1 hour");
    assert_eq!(names(&bad), ["never_applies"]);
    let good = clause("    when cross_department\n    until contacted\n    within 1 hour");
    assert!(names(&good).is_empty());
    // Numbers: a range with nothing in it, and one with something.
    let empty = clause("    when score > 4 and score < 3\n    until contacted\n    within 1 hour");
    assert_eq!(names(&empty), ["never_applies"]);
    // Beyond 2^53 a number plus 1 is the same float: a value above or below is still found.
    for cond in [
        "score > 9007199254740992",
        "score < -9007199254740992",
        "score > 100000000000000000000",
        "score >= 18014398509481984 and score > 18014398509481984",
    ] {
        let big = clause(&format!(
            "    when {cond}\n    until contacted\n    within 1 hour"
        ));
        assert!(names(&big).is_empty(), "{cond}: {:?}", names(&big));
    }
    let range = clause("    when score > 3 and score < 4\n    until contacted\n    within 1 hour");
    assert!(names(&range).is_empty());
    // Every value excluded, and one left.
    let all = clause(
        "    when kind in [\"complaint\", \"repair\"] and kind not in [\"complaint\", \"repair\"]\n    until contacted\n    within 1 hour",
    );
    assert_eq!(names(&all), ["never_applies"]);
    let one = clause(
        "    when kind != \"complaint\" and kind != \"repair\"\n    until contacted\n    within 1 hour",
    );
    assert!(names(&one).is_empty(), "an inquiry is neither");
}

#[test]
fn never_applies_looks_at_event_filters_too() {
    let bad =
        clause("    until revisited(satisfied == true and satisfied == false)\n    within 1 hour");
    let d = lints(&bad);
    assert_eq!(names(&bad), ["never_applies"]);
    assert_eq!(
        d[0].underlined(),
        Some("satisfied == true and satisfied == false")
    );
    let good =
        clause("    until revisited(satisfied == true or satisfied == false)\n    within 1 hour");
    assert!(names(&good).is_empty());
}

#[test]
fn without_a_schema_a_list_attribute_may_hold_both_values() {
    // `in` matches a list holding one of the values, so without a schema saying `tags` is one
    // text this may apply; `==` on both cannot.
    let src = |cond: &str| {
        format!("policy \"p\" {{\n  deadline c {{\n    cite s000-r-1 \"seed 000\"\n    when {cond}\n    until contacted\n    within 1 hour\n  }}\n}}\n")
    };
    assert!(names(&src("tags in [\"a\"] and tags in [\"b\"]")).is_empty());
    assert_eq!(
        names(&src("tags == \"a\" and tags == \"b\"")),
        ["never_applies"]
    );
}

// -------------------------------------------------------------------------------- cannot_fail

fn target(bound: &str) -> String {
    format!(
        "policy \"p\" {{\n  target t \"同类报修量同比下降35%\" {{\n    cite s003-r-1 \"seed 003\"\n    ratio rated(satisfied == true) among rated per month\n    {bound}\n  }}\n}}\n"
    )
}

#[test]
fn cannot_fail_fires_on_bounds_every_period_meets() {
    let d = lints(&target("at most 100%"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "pledge::lint::cannot_fail");
    assert_eq!(d[0].underlined(), Some("at most 100%"));
    insta::assert_snapshot!("cannot_fail", rendered(d));
    assert_eq!(names(&target("at least 0%")), ["cannot_fail"]);
    assert!(names(&target("at most 99.9%")).is_empty());
    assert!(names(&target("at least 0.1%")).is_empty());
}

#[test]
fn cannot_fail_fires_on_a_sample_of_nothing_a_zero_coverage_and_a_zero_quota() {
    let sample = |pct: &str| {
        format!("policy \"p\" {{\n  sample s {{\n    cite s001-r-1 \"seed 001\"\n    having revisited\n    ratio {pct} by management_dept per month\n  }}\n}}\n")
    };
    assert_eq!(names(&sample("0%")), ["cannot_fail"]);
    assert!(names(&sample("1%")).is_empty());
    let notify = |pct: &str| {
        format!("policy \"p\" {{\n  notify n {{\n    cite s000-r-1 \"seed 000\"\n    channels all [sms]\n    within 1 hour\n    coverage at least {pct}\n  }}\n}}\n")
    };
    assert_eq!(names(&notify("0%")), ["cannot_fail"]);
    assert!(names(&notify("95%")).is_empty());
}

// ---------------------------------------------------------------------------- unused_calendar

fn calendar(limit: &str) -> String {
    format!(
        "policy \"p\" {{\n  calendar office {{\n    hours mon..fri 09:00-18:00\n  }}\n\n  deadline c {{\n    cite s000-r-1 \"seed 000\"\n    until resolved\n    {limit}\n  }}\n}}\n"
    )
}

#[test]
fn unused_calendar_fires_when_no_limit_counts_on_it() {
    let d = lints(&calendar("within 16 hours"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "pledge::lint::unused_calendar");
    assert_eq!(d[0].underlined(), Some("office"));
    insta::assert_snapshot!("unused_calendar", rendered(d));
    assert!(names(&calendar("within 2 workdays on office")).is_empty());
    assert!(names(&calendar("by 08:00 next workday on office")).is_empty());
}

// -------------------------------------------------------------------- unknown_event_attribute

#[test]
fn unknown_event_attribute_fires_on_an_attribute_no_one_gives_the_event() {
    let bad = clause("    until revisited(satisfed == true)\n    within 1 hour");
    let d = lints(&bad);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "pledge::lint::unknown_event_attribute");
    assert_eq!(d[0].underlined(), Some("satisfed"));
    assert!(d[0]
        .help
        .as_deref()
        .unwrap()
        .contains("did you mean `satisfied`?"));
    insta::assert_snapshot!("unknown_event_attribute", rendered(d));
    // EVENTS.md gives `revisited` its `satisfied`.
    assert!(names(&clause(
        "    until revisited(satisfied == true)\n    within 1 hour"
    ))
    .is_empty());
}

#[test]
fn an_event_attribute_declared_in_the_schema_is_known() {
    let src = "policy \"p\" {\n  attributes {\n    event resolved { photo: bool }\n  }\n  deadline c {\n    cite s000-r-1 \"seed 000\"\n    until resolved(photo)\n    within 1 hour\n  }\n}\n";
    assert!(names(src).is_empty());
    let undeclared = src.replace("event resolved { photo: bool }", "");
    assert_eq!(names(&undeclared), ["unknown_event_attribute"]);
}

// ---------------------------------------------------------------------------- shadowed_clause

fn two_deadlines(second_until: &str) -> String {
    format!(
        "policy \"p\" {{\n  deadline repair_dispatch_10m \"10分钟内派单\" {{\n    cite s000-r-1 \"seed 000\"\n    when kind == \"repair\"\n    from opened until dispatched\n    within 10 minutes\n  }}\n\n  deadline repair_tech_15m \"15分钟内联系维修人员\" {{\n    cite s000-r-2 \"seed 000\"\n    when kind == \"repair\"\n    from opened until {second_until}\n    within 15 minutes\n  }}\n}}\n"
    )
}

#[test]
fn shadowed_clause_fires_on_the_looser_of_two_clocks_and_not_on_different_ones() {
    let d = lints(&two_deadlines("dispatched"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "pledge::lint::shadowed_clause");
    assert_eq!(d[0].underlined(), Some("repair_tech_15m"));
    assert_eq!(d[0].labels.len(), 2, "the stricter clause is labelled too");
    insta::assert_snapshot!("shadowed_clause", rendered(d));
    assert!(names(&two_deadlines("arrived")).is_empty());
}

#[test]
fn a_looser_clause_with_stages_of_its_own_is_not_shadowed() {
    let src = two_deadlines("dispatched").replace(
        "within 15 minutes",
        "within 15 minutes\n    at 100% escalate supervisor",
    );
    assert!(names(&src).is_empty());
}

#[test]
fn shadowed_clause_compares_targets_on_the_same_ratio() {
    let src = |second: &str| {
        format!("policy \"p\" {{\n  target a {{\n    cite s000-r-1 \"seed 000\"\n    ratio rated(satisfied == true) among rated per month\n    at least 90%\n  }}\n  target b {{\n    cite s000-r-2 \"seed 000\"\n    ratio rated(satisfied == true) among rated per month\n    {second}\n  }}\n}}\n")
    };
    assert_eq!(names(&src("at least 80%")), ["shadowed_clause"]);
    assert!(names(&src("at most 5%")).is_empty());
}

// ------------------------------------------------------------------------------- missing_cite

#[test]
fn missing_cite_fires_on_a_clause_without_cite() {
    let bad = "policy \"p\" {\n  deadline c \"投诉1小时内联系\" {\n    until contacted\n    within 1 hour\n  }\n}\n";
    let d = lints(bad);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "pledge::lint::missing_cite");
    assert_eq!(d[0].underlined(), Some("c"));
    insta::assert_snapshot!("missing_cite", rendered(d));
    let good = bad.replace(
        "{\n    until",
        "{\n    cite s000-r-1 \"seed 000\"\n    until",
    );
    assert!(names(&good).is_empty());
}

// ------------------------------------------------------------------------------ allow and deny

#[test]
fn allow_on_a_clause_silences_its_lint_there_only() {
    let src = target("at most 100%").replace(
        "    ratio",
        "    # the language has no change between periods yet\n    allow cannot_fail\n    ratio",
    );
    assert!(names(&src).is_empty());
    let other = target("at most 100%").replace("    ratio", "    allow missing_cite\n    ratio");
    assert_eq!(names(&other), ["cannot_fail"]);
}

#[test]
fn allow_as_a_declaration_silences_a_lint_in_the_whole_policy() {
    let src = "policy \"p\" {\n  allow missing_cite\n  deadline a {\n    until contacted\n    within 1 hour\n  }\n  deadline b {\n    until resolved\n    within 1 day\n  }\n}\n";
    assert!(names(src).is_empty());
    assert_eq!(
        names(&src.replace("  allow missing_cite\n", "")),
        ["missing_cite", "missing_cite"]
    );
}

#[test]
fn an_unknown_lint_name_in_allow_is_an_error_with_a_suggestion() {
    let e =
        errors(&target("at most 100%").replace("    ratio", "    allow cannot_fial\n    ratio"));
    assert_eq!(e.codes(), ["pledge::lint::unknown"]);
    assert_eq!(e.errors[0].underlined(), Some("cannot_fial"));
    assert_eq!(
        e.errors[0].help.as_deref(),
        Some("did you mean `cannot_fail`?")
    );
}

#[test]
fn deny_makes_a_lint_an_error_and_all_denies_every_one() {
    let src = target("at most 100%");
    let warn = lints(&src);
    assert_eq!(warn[0].severity, miette::Severity::Warning);
    let denied = lints_with(&src, &["cannot_fail"]);
    assert_eq!(denied[0].severity, miette::Severity::Error);
    let other = lints_with(&src, &["missing_cite"]);
    assert_eq!(other[0].severity, miette::Severity::Warning);
    let all = lints_with(&src, &["all"]);
    assert_eq!(all[0].severity, miette::Severity::Error);
}

#[test]
fn the_lint_table_names_every_lint_once_with_a_level_description_and_help() {
    let names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
    assert_eq!(
        names,
        [
            "never_applies",
            "cannot_fail",
            "unused_calendar",
            "unknown_event_attribute",
            "shadowed_clause",
            "missing_cite"
        ]
    );
    for l in LINTS {
        assert_eq!(l.level.as_str(), "warn", "{}", l.name);
        assert!(
            !l.description.is_empty() && !l.help.is_empty(),
            "{}",
            l.name
        );
        assert_eq!(
            pledge::syntax::lint::code(l.name),
            format!("pledge::lint::{}", l.name)
        );
    }
}

// ----------------------------------------------------------------------------------- schema

#[test]
fn a_misspelt_value_is_an_error_with_a_did_you_mean() {
    let e = errors(&clause(
        "    when kind == \"complant\"\n    until contacted\n    within 1 hour",
    ));
    assert_eq!(e.codes(), ["pledge::schema::unknown_value"]);
    assert_eq!(e.errors[0].underlined(), Some("\"complant\""));
    assert_eq!(
        e.errors[0].help.as_deref(),
        Some("did you mean `\"complaint\"`?")
    );
    insta::assert_snapshot!("schema_unknown_value", render(&e, false));
    // In a list too, each value on its own.
    let e = errors(&clause(
        "    when severity in [\"minor\", \"majr\"]\n    until contacted\n    within 1 hour",
    ));
    assert_eq!(e.codes(), ["pledge::schema::unknown_value"]);
    assert_eq!(e.errors[0].underlined(), Some("\"majr\""));
}

#[test]
fn a_misspelt_attribute_is_an_error_with_a_did_you_mean() {
    let e = errors(&clause(
        "    when severty == \"minor\"\n    until contacted\n    within 1 hour",
    ));
    assert_eq!(e.codes(), ["pledge::schema::unknown_attribute"]);
    assert_eq!(e.errors[0].underlined(), Some("severty"));
    assert!(e.errors[0]
        .help
        .as_deref()
        .unwrap()
        .starts_with("did you mean `severity`?"));
    insta::assert_snapshot!("schema_unknown_attribute", render(&e, false));
    // `has` and a bare attribute are checked as well.
    assert_eq!(
        errors(&clause(
            "    when has projet\n    until contacted\n    within 1 hour"
        ))
        .codes(),
        ["pledge::schema::unknown_attribute"]
    );
}

#[test]
fn a_value_of_the_wrong_type_is_an_error() {
    let e = errors(&clause(
        "    when score == \"high\"\n    until contacted\n    within 1 hour",
    ));
    assert_eq!(e.codes(), ["pledge::schema::wrong_type"]);
    assert_eq!(e.errors[0].message, "`score` is a number, not text");
    // A string attribute takes any text; `null` is accepted by every type.
    let fine = clause(
        "    when project == \"jindi\" and score != null\n    until contacted\n    within 1 hour",
    );
    assert!(names(&fine).is_empty());
}

#[test]
fn an_attribute_declared_twice_is_an_error() {
    let src = clause("    until contacted\n    within 1 hour").replace(
        "    project: string\n",
        "    project: string\n    score: bool\n",
    );
    let e = errors(&src);
    assert_eq!(e.codes(), ["pledge::schema::duplicate_attribute"]);
    // In two blocks of the policy too, for a case or an event attribute: the later one does
    // not silently win.
    let two_blocks = "policy \"p\" {\n  attributes {\n    kind: \"complaint\"\n    event rated { score: number }\n  }\n  attributes {\n    kind: string\n    event rated { score: bool }\n  }\n}\n";
    let e = errors(two_blocks);
    assert_eq!(
        e.codes(),
        [
            "pledge::schema::duplicate_attribute",
            "pledge::schema::duplicate_attribute"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("kind"));
    assert_eq!(e.errors[1].underlined(), Some("score"));
}

#[test]
fn without_a_schema_any_attribute_and_value_is_accepted() {
    let src = "policy \"p\" {\n  deadline c {\n    cite s000-r-1 \"seed 000\"\n    when kind == \"complant\" and anything\n    until contacted\n    within 1 hour\n  }\n}\n";
    assert!(names(src).is_empty());
}

#[test]
fn the_loader_reads_the_shared_schema_beside_a_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.pledge");
    std::fs::write(
        &policy,
        "policy \"p\" {\n  deadline c {\n    cite s000-r-1 \"seed 000\"\n    when kind == \"complant\"\n    until contacted\n    within 1 hour\n  }\n}\n",
    )
    .unwrap();
    assert!(load_policy(&policy).is_ok(), "no schema: no check");
    std::fs::write(
        dir.path().join("attributes.pledge-schema"),
        "attributes {\n  kind: \"complaint\" | \"repair\"\n}\n",
    )
    .unwrap();
    let e = load_policy(&policy).unwrap_err();
    assert_eq!(e.codes(), ["pledge::schema::unknown_value"]);
    // A broken schema file is reported with its own name.
    std::fs::write(
        dir.path().join("attributes.pledge-schema"),
        "attributes { kind: }\n",
    )
    .unwrap();
    let e = load_policy(&policy).unwrap_err();
    assert_eq!(e.codes(), ["pledge::syntax::unexpected_token"]);
    assert!(e.name.ends_with("attributes.pledge-schema"), "{}", e.name);
}

#[test]
fn a_policy_block_refines_the_shared_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("attributes.pledge-schema"),
        "attributes {\n  kind: \"complaint\" | \"repair\"\n}\n",
    )
    .unwrap();
    let policy = dir.path().join("p.pledge");
    std::fs::write(
        &policy,
        "policy \"p\" {\n  attributes {\n    kind: \"complaint\" | \"repair\" | \"parcel\"\n  }\n  deadline c {\n    cite s000-r-1 \"seed 000\"\n    when kind == \"parcel\"\n    until closed\n    within 1 day\n  }\n}\n",
    )
    .unwrap();
    assert!(load_policy_linted(&policy, &[]).unwrap().lints.is_empty());
}

// ----------------------------------------------------------------------------------- Chinese

#[test]
fn lint_diagnostics_read_in_chinese_with_codes_and_spans_unchanged() {
    let d = lints(&two_deadlines("dispatched"));
    let zh = localize(
        &PolicyErrors {
            name: "test.pledge".into(),
            errors: d.clone(),
        },
        Lang::Zh,
    );
    assert_eq!(zh.errors[0].code, d[0].code);
    assert_eq!(zh.errors[0].primary_span(), d[0].primary_span());
    insta::assert_snapshot!("shadowed_clause_zh", render(&zh, false));
}

#[test]
fn schema_and_parse_errors_read_in_chinese() {
    let e = errors(&clause(
        "    when kind == \"complant\"\n    until contacted\n    within 1 hour",
    ));
    insta::assert_snapshot!(
        "schema_unknown_value_zh",
        render(&localize(&e, Lang::Zh), false)
    );
    let e = errors("policy \"p\" {\n  deadline 投诉 \"投诉1小时内联系\" {\n    until contacted\n    within 1 hour\n  }\n}\n");
    let zh = localize(&e, Lang::Zh);
    assert_eq!(zh.errors[0].code, "pledge::syntax::unexpected_token");
    assert_eq!(
        zh.errors[0].underlined(),
        Some("投诉"),
        "the span is on the Chinese name"
    );
    insta::assert_snapshot!("syntax_error_zh", render(&zh, false));
}

/// A policy on which every lint fires once.
const EVERY_LINT: &str = r#"policy "p" {
  attributes {
    kind: "complaint" | "repair"
  }
  calendar office {
    hours mon..fri 09:00-18:00
  }
  deadline a {
    when kind == "complaint" and kind == "repair"
    until revisited(satisfed)
    within 10 minutes
  }
  deadline b {
    cite s000-r-1 "seed 000"
    when kind == "complaint" and kind == "repair"
    until revisited(satisfed)
    within 15 minutes
  }
  target t {
    cite s000-r-2 "seed 000"
    ratio rated among opened per month
    at most 100%
  }
}
"#;

#[test]
fn every_lint_diagnostic_is_translated_whole() {
    let d = lints(EVERY_LINT);
    let mut fired: Vec<&str> = d.iter().filter_map(|d| d.lint).collect();
    fired.sort_unstable();
    fired.dedup();
    assert_eq!(fired.len(), LINTS.len(), "{fired:?}");
    let zh = localize(
        &PolicyErrors {
            name: "test.pledge".into(),
            errors: d,
        },
        Lang::Zh,
    );
    let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for e in &zh.errors {
        assert!(chinese(&e.message), "{}", e.message);
        assert!(
            chinese(e.help.as_deref().unwrap_or_default()),
            "{:?}",
            e.help
        );
        for (_, label) in &e.labels {
            assert!(chinese(label), "{label}");
        }
    }
}

#[test]
fn the_translation_table_has_a_known_size() {
    // New messages are added to the table deliberately; English is the fallback.
    assert_eq!(translated(), 203);
}

// ---------------------------------------------------------------------------- shipped policies

#[test]
fn the_shipped_policies_are_lint_clean_with_a_known_number_of_allows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut allows = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "pledge") {
            continue;
        }
        files += 1;
        let linted = load_policy_linted(&path, &["all".to_string()])
            .unwrap_or_else(|e| panic!("{}:\n{}", path.display(), render(&e, false)));
        assert!(
            linted.lints.is_empty(),
            "{}",
            rendered(linted.lints.clone())
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(rest) = line.trim_start().strip_prefix("allow ") {
                // Each allow says why, in the comment right above it.
                assert!(
                    lines[i - 1].trim_start().starts_with('#'),
                    "{}:{}: an allow without a comment",
                    path.display(),
                    i + 1
                );
                allows.push(rest.trim().to_string());
            }
        }
    }
    assert_eq!(files, 13);
    allows.sort();
    assert_eq!(
        allows,
        [
            "cannot_fail",
            "cannot_fail",
            "shadowed_clause",
            "shadowed_clause"
        ]
    );
}

#[test]
fn the_readme_examples_of_schemas_and_allows_are_valid_formatted_and_lint_clean() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut seen = 0;
    for block in readme.split("```pledge\n").skip(1) {
        let block = block.split("```").next().unwrap();
        if !(block.contains("attributes {") || block.contains("  allow ")) {
            continue;
        }
        seen += 1;
        assert!(lints(block).is_empty(), "{}", rendered(lints(block)));
        assert_eq!(
            pledge::syntax::format_source(block, "README").unwrap(),
            block,
            "formatted as written"
        );
    }
    assert_eq!(seen, 2);
}

#[test]
fn a_policy_schema_names_only_events_the_policy_knows() {
    let src = |events: &str| {
        format!("policy \"p\" {{\n  {events}\n  attributes {{\n    event rectifed {{ by: string }}\n  }}\n  deadline c {{\n    cite s000-r-1 \"seed 000\"\n    until resolved\n    within 1 hour\n  }}\n}}\n")
    };
    let e = errors(&src(""));
    assert_eq!(e.codes(), ["pledge::clause::unknown_event"]);
    assert_eq!(e.errors[0].underlined(), Some("rectifed"));
    assert!(lints(&src("events rectifed")).is_empty());
}
