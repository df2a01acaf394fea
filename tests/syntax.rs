//! The policy language: valid programs lower to the expected model; invalid ones give
//! diagnostics with stable codes, the right underline, and all independent errors at once.

use pledge::policy::*;
use pledge::syntax::{parse_condition, parse_policy, render};
use pledge::value::{Attrs, Value};

fn ok(src: &str) -> Policy {
    match parse_policy(src, "test.pledge", None) {
        Ok(p) => p,
        Err(e) => panic!("expected a valid policy, got:\n{}", render(&e, false)),
    }
}

fn errs(src: &str) -> pledge::syntax::PolicyErrors {
    match parse_policy(src, "test.pledge", None) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

const CONTACT: &str = r#"
# 客户服务质量标准 (seed 000)
policy "customer-requests" {
  deadline complaint_contact "投诉1小时内联系客户核实" {
    cite s000-complaint-contact-1h "seed 000 §一(三) 投诉处理"
    when kind == "complaint"
    from opened until contacted
    within 1 hour
  }
}
"#;

#[test]
fn a_deadline_clause_lowers_to_the_model() {
    let p = ok(CONTACT);
    assert_eq!(p.name, "customer-requests");
    assert_eq!(p.zone, chrono_tz::Asia::Shanghai);
    let c = &p.clauses[0];
    assert_eq!(c.name, "complaint_contact");
    assert_eq!(c.title.as_deref(), Some("投诉1小时内联系客户核实"));
    assert_eq!(c.cite.row.as_deref(), Some("s000-complaint-contact-1h"));
    assert_eq!(c.cite.text.as_deref(), Some("seed 000 §一(三) 投诉处理"));
    assert_eq!(
        c.applies,
        Condition::Compare {
            attr: "kind".into(),
            op: CmpOp::Eq,
            value: Value::String("complaint".into())
        }
    );
    let ClauseBody::Deadline(d) = &c.body else {
        panic!("a deadline")
    };
    assert_eq!(d.start, Trigger::event("opened"));
    assert_eq!(d.stop, Trigger::event("contacted"));
    assert_eq!(d.limit, Limit::Elapsed(chrono::Duration::hours(1)));
    assert!(d.starts_at_opened());
}

#[test]
fn durations_are_words_and_may_combine() {
    for (text, secs) in [
        ("30 seconds", 30),
        ("1 second", 1),
        ("15 minutes", 900),
        ("8 hours", 28_800),
        ("3 days", 259_200),
        ("1 week", 604_800),
        ("1 hour 30 minutes", 5_400),
        ("1.5 hours", 5_400),
    ] {
        let src = format!("policy \"p\" {{ deadline d {{ until resolved within {text} }} }}");
        let p = ok(&src);
        let ClauseBody::Deadline(d) = &p.clauses[0].body else {
            panic!("a deadline")
        };
        assert_eq!(
            d.limit,
            Limit::Elapsed(chrono::Duration::seconds(secs)),
            "{text}"
        );
    }
}

#[test]
fn triggers_take_filters_and_alternatives() {
    let p = ok(r#"policy "p" {
        deadline d {
          from resolved
          until revisited(by == "management_dept") or progress(channel in ["sms", "app"])
          within 24 hours
          pause while status in ["waiting_customer", "waiting_parts"]
          at 80% warn supervisor
          after 48 hours escalate project_manager via [phone, app] "请协调资源"
        }
    }"#);
    let ClauseBody::Deadline(d) = &p.clauses[0].body else {
        panic!("a deadline")
    };
    assert_eq!(d.start, Trigger::event("resolved"));
    assert!(!d.starts_at_opened());
    assert_eq!(d.stop.matchers.len(), 2);
    let mut by = Attrs::new();
    by.insert("by", Value::String("management_dept".into()));
    assert!(d.stop.matches("revisited", &by));
    assert!(!d.stop.matches("revisited", &Attrs::new()));
    assert!(!d.stop.matches("progress", &by));
    assert_eq!(
        d.pause.as_ref().map(|p| p.statuses.clone()),
        Some(vec!["waiting_customer".into(), "waiting_parts".into()])
    );
    assert_eq!(d.stages.len(), 2);
    assert_eq!(d.stages[0].point, StagePoint::Fraction(800));
    assert_eq!(d.stages[0].action, ActionKind::Warn);
    assert_eq!(
        d.stages[1].point,
        StagePoint::After(chrono::Duration::hours(48))
    );
    assert_eq!(
        d.stages[1].channels,
        vec!["phone".to_string(), "app".to_string()]
    );
    assert_eq!(d.stages[1].message.as_deref(), Some("请协调资源"));
}

fn attrs(pairs: &[(&str, Value)]) -> Attrs {
    let mut a = Attrs::new();
    for (k, v) in pairs {
        a.insert(k, v.clone());
    }
    a
}

#[test]
fn conditions_follow_precedence_and_absence_rules() {
    let c = parse_condition(
        r#"kind == "complaint" and not cross_department or severity in ["urgent", "critical"]"#,
    )
    .unwrap();
    let s = |v: &str| Value::String(v.into());
    assert!(c.eval(&attrs(&[("kind", s("complaint"))])));
    assert!(!c.eval(&attrs(&[
        ("kind", s("complaint")),
        ("cross_department", Value::Bool(true))
    ])));
    assert!(c.eval(&attrs(&[
        ("kind", s("complaint")),
        ("cross_department", Value::Bool(false))
    ])));
    assert!(c.eval(&attrs(&[("severity", s("urgent"))])));
    assert!(!c.eval(&attrs(&[("kind", s("repair"))])));

    let n = parse_condition("score >= 4 and has satisfied").unwrap();
    assert!(n.eval(&attrs(&[
        ("score", Value::Number(4.0)),
        ("satisfied", Value::Null)
    ])));
    assert!(!n.eval(&attrs(&[
        ("score", Value::Number(3.5)),
        ("satisfied", Value::Bool(false))
    ])));
    assert!(
        !n.eval(&attrs(&[
            ("score", s("5")),
            ("satisfied", Value::Bool(true))
        ])),
        "text is not a number"
    );

    // Absent attributes make comparisons false, `!=` included.
    let ne = parse_condition(r#"channel != "phone""#).unwrap();
    assert!(!ne.eval(&Attrs::new()));
    assert!(ne.eval(&attrs(&[("channel", s("app"))])));
    // `not in` too (SEMANTICS.md: a condition on an attribute the case lacks is false); an
    // explicit `not` negates the false comparison.
    let not_in = parse_condition(r#"channel not in ["phone"]"#).unwrap();
    assert!(!not_in.eval(&Attrs::new()));
    assert!(not_in.eval(&attrs(&[("channel", s("app"))])));
    assert!(!not_in.eval(&attrs(&[("channel", s("phone"))])));
    let not = parse_condition(r#"not channel in ["phone"]"#).unwrap();
    assert!(not.eval(&Attrs::new()));
    let paren = parse_condition(r#"(a or b) and c"#).unwrap();
    assert!(!paren.eval(&attrs(&[("a", Value::Bool(true))])));
    assert!(paren.eval(&attrs(&[
        ("a", Value::Bool(true)),
        ("c", Value::Bool(true))
    ])));
}

#[test]
fn three_independent_mistakes_are_reported_together() {
    let e = errs(
        r#"policy "p" {
  deadline contact "联系" {
    when kind == "complaint"
    until contactd
    within 1 hour
  }
  deadline contact "again" {
    until resolved
    within 2 workdays on ofice
  }
  deadline late {
    until resolved
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::clause::unknown_event",
            "pledge::clause::duplicate_name",
            "pledge::calendar::unknown",
            "pledge::clause::missing_limit"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("contactd"));
    assert_eq!(
        e.errors[0]
            .help
            .as_deref()
            .map(|h| h.starts_with("did you mean `contacted`?")),
        Some(true)
    );
    assert_eq!(e.errors[1].underlined(), Some("contact"));
    assert_eq!(e.errors[2].underlined(), Some("ofice"));
}

#[test]
fn syntax_errors_in_several_clauses_are_all_reported() {
    let e = errs(
        r#"policy "p" {
  deadline a {
    until resolved
    within 8 hourz
  }
  deadline b {
    until resolved
    within 1 hour
  }
  deadline c {
    when kind = "repair"
    until resolved
    within 1 hour
  }
}"#,
    );
    assert_eq!(e.errors.len(), 2, "{}", render(&e, false));
    assert_eq!(
        e.codes(),
        vec![
            "pledge::syntax::unexpected_token",
            "pledge::syntax::single_equals"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("hourz"));
    assert_eq!(e.errors[1].underlined(), Some("="));
}

/// Slips of a Chinese input method: full-width characters where the language wants ASCII, and
/// a single `=` in a condition, are named as such (in either language), not answered with
/// the list of everything the grammar would take there.
#[test]
fn full_width_characters_and_a_single_equals_are_named() {
    let e = errs(
        r#"policy "desk" {
  deadline a "投诉1小时内联系" {
    when kind == “complaint”
    until contacted
    within 1 hour
  }
  deadline b "维修" {
    when kind == "repair"
    until resolved
    within ８ hours
  }
  deadline c "维修（中）" {
    when severity = "medium"
    until resolved
    within 3 days
  }
  deadline d（"x"） {
    until resolved
    within 3 days
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::syntax::full_width",
            "pledge::syntax::full_width",
            "pledge::syntax::single_equals",
            "pledge::syntax::full_width",
        ],
        "{}",
        render(&e, false)
    );
    let underlined: Vec<_> = e.errors.iter().map(|d| d.underlined()).collect();
    assert_eq!(underlined, [Some("“"), Some("８"), Some("="), Some("（")]);
    insta::assert_snapshot!(render(&e, false));
    let zh = pledge::syntax::messages::localize(&e, pledge::syntax::messages::Lang::Zh);
    insta::assert_snapshot!("full_width_zh", render(&zh, false));
}

#[test]
fn a_double_equals_and_full_width_text_in_strings_are_no_slip() {
    ok(r#"policy "desk" {
  allow missing_cite
  deadline a "投诉：１小时内“联系”" {
    when kind == "complaint（投诉）"
    until contacted
    within 1 hour
  }
}"#);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "policy \"p\" {{ deadline d {{ when {}a{} until resolved within 1 hour }} }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let e = errs(&deep);
    assert_eq!(e.codes(), vec!["pledge::syntax::too_deep"]);
    let nots = format!(
        "policy \"p\" {{ deadline d {{ when {} a until resolved within 1 hour }} }}",
        "not ".repeat(5000)
    );
    assert_eq!(errs(&nots).codes(), vec!["pledge::syntax::too_deep"]);
    assert!(parse_condition(&format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000))).is_err());
}

/// The limit is on nesting, wherever the lines break: 65 `not`s side by side are one level,
/// on one line or on 65; 65 nested ones are too deep on one line or on 65; a name that begins
/// with `not` is a name.
#[test]
fn nesting_is_counted_in_levels_not_per_line() {
    let clause = |when: &str| {
        format!(
            "policy \"p\" {{\n  allow missing_cite\n  deadline d \"t\" {{\n    when {when}\n    until resolved\n    within 1 hour\n  }}\n}}\n"
        )
    };
    let flat: Vec<String> = (0..65).map(|i| format!("not f{i:02}")).collect();
    ok(&clause(&flat.join(" and ")));
    ok(&clause(&flat.join("\n      and ")));
    let nested = |sep: &str| format!("{}a", vec!["not"; 65].join(sep) + sep);
    for sep in [" ", "\n      "] {
        let e = errs(&clause(&nested(sep)));
        assert_eq!(
            e.codes(),
            vec!["pledge::syntax::too_deep"],
            "{}",
            render(&e, false)
        );
    }
    // 64 levels of `not` and parentheses together are allowed; 65 are not.
    let mixed = |n: usize| format!("{}a{}", "not (".repeat(n / 2), ")".repeat(n / 2));
    ok(&clause(&mixed(64)));
    assert_eq!(
        errs(&clause(&mixed(66))).codes(),
        vec!["pledge::syntax::too_deep"]
    );
    let names: Vec<String> = (0..70).map(|i| format!("notice_{i:02}")).collect();
    ok(&clause(
        &names
            .iter()
            .map(|n| format!("{n} == true"))
            .collect::<Vec<_>>()
            .join(" or "),
    ));
}

#[test]
fn ordering_operators_need_numbers() {
    let e = errs(r#"policy "p" { deadline d { when score > "4" until resolved within 1 hour } }"#);
    assert_eq!(e.codes(), vec!["pledge::condition::ordering_needs_number"]);
    assert_eq!(e.errors[0].underlined(), Some("\"4\""));
}

#[test]
fn unknown_zone_and_bad_times_are_reported() {
    let e = errs(
        r#"policy "p" {
  zone "Asia/Shanghia"
  deadline d { until acknowledged by 25:00 next day }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec!["pledge::zone::unknown", "pledge::syntax::invalid_time"]
    );
    assert_eq!(
        e.errors[0].help.as_deref(),
        Some("did you mean `Asia/Shanghai`?")
    );
    assert_eq!(e.errors[1].underlined(), Some("25:00"));
    // Nothing near: the form of a zone name.
    let e = errs("policy \"p\" {\n  zone \"Beijing time\"\n}");
    assert!(e.errors[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("IANA zone name")));
}

#[test]
fn declared_events_extend_the_vocabulary() {
    let p = ok(
        r#"policy "p" { events plan_activated deadline d { until plan_activated within 5 minutes } }"#,
    );
    assert_eq!(p.clauses.len(), 1);
}

/// A `cite` whose id is a plain word is told what a row id looks like, on the id; a `cite`
/// with no id before the next line's keyword is still a `cite` with no id.
#[test]
fn a_cite_with_a_plain_word_for_its_row_id_says_what_a_row_id_is() {
    let e = errs(
        r#"policy "p" {
  deadline a "t" {
    cite row1 "seed 000"
    until contacted
    within 1 hour
  }
}"#,
    );
    assert_eq!(e.codes(), vec!["pledge::clause::row_id"]);
    assert_eq!(e.errors[0].underlined(), Some("row1"));
    assert!(e.errors[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("s000-complaint-contact-1h")));
    let p = ok(r#"policy "p" {
  deadline a "t" {
    cite
    until contacted
    within 1 hour
  }
}"#);
    assert_eq!(p.clauses[0].cite.row, None);
    let p =
        ok(r#"policy "p" { deadline a { cite s000-x "seed 000" until contacted within 1 hour } }"#);
    assert_eq!(p.clauses[0].cite.row.as_deref(), Some("s000-x"));
}

#[test]
fn duplicate_lines_are_errors() {
    let e = errs(
        r#"policy "p" { deadline d { until resolved until closed within 1 hour within 2 hours } }"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::clause::duplicate_line",
            "pledge::clause::duplicate_line"
        ]
    );
    // Each with help that fits the line: only a second `until` is about `until a or b`.
    let helps: Vec<Option<&str>> = e.errors.iter().map(|d| d.help.as_deref()).collect();
    assert_eq!(
        helps,
        [
            Some("keep one; to stop at the first of several events write `until a or b`"),
            Some("keep one of them")
        ]
    );
}

#[test]
fn clause_versions_with_disjoint_dates_may_share_a_name() {
    let p = ok(r#"policy "p" {
  deadline d { effective ..2026-07-01 until resolved within 8 hours }
}"#);
    assert_eq!(p.clauses[0].effective.from, None);
    assert_eq!(
        p.clauses[0].effective.until,
        chrono::NaiveDate::from_ymd_opt(2026, 7, 1)
    );
    // The formatter writes it back as it was written, and it reads the same.
    let text = pledge::syntax::format_clause(&p.clauses[0]);
    assert!(text.contains("effective ..2026-07-01\n"), "{text}");
    let again = ok(&format!("policy \"p\" {{\n{text}}}\n"));
    assert_eq!(again.clauses, p.clauses);
    ok(r#"policy "p" {
  deadline d { effective 2026-01-01..2026-07-01 until resolved within 8 hours }
  deadline d { effective 2026-07-01.. until resolved within 6 hours }
}"#);
    let e = errs(
        r#"policy "p" {
  deadline d { effective 2026-01-01..2026-07-02 until resolved within 8 hours }
  deadline d { effective 2026-07-01.. until resolved within 6 hours }
}"#,
    );
    assert_eq!(e.codes(), vec!["pledge::clause::duplicate_name"]);
}

#[test]
fn a_diagnostic_on_chinese_text_underlines_the_right_token() {
    let e = errs("policy \"客户诉求\" {\n  deadline 联系 { until resolved within 1 hour }\n}\n");
    let text = render(&e, false);
    insta::assert_snapshot!(text);
}

#[test]
fn unknown_event_diagnostic_renders_with_code_label_and_help() {
    let src = "policy \"p\" {\n  deadline complaint_contact \"投诉1小时内联系客户核实\" {\n    until contactd\n    within 1 hour\n  }\n}\n";
    let e = errs(src);
    insta::assert_snapshot!(render(&e, false));
}

#[test]
fn missing_brace_at_end_of_file() {
    let e = errs("policy \"p\" {\n  deadline d { until resolved within 1 hour }\n");
    assert_eq!(e.codes(), vec!["pledge::syntax::unexpected_end"]);
}

#[test]
fn every_clause_family_has_one_shape() {
    let p = ok(r#"policy "families" {
  events held
  notify outage "停水停电三重触达" {
    cite s000-notice-channels "seed 000 §一(二) 沟通方式"
    when kind == "notice" and topic in ["water_outage", "power_outage", "fee_change"]
    channels all [sms, notice_board, app_push]
    within 1 hour
    coverage at least 95%
  }
  notify elderly_phone "老年客户优先电话" {
    when segment == "elderly"
    first contacted or acknowledged via phone
  }
  sample management_check "公司管理部抽查10%投诉回访" {
    when kind == "complaint"
    having revisited
    ratio 10% by management_dept per month
    evidence spot_checked
    lag 7 days
    group by project
  }
  target satisfaction "月度满意度≥90%" {
    ratio rated(satisfied == true) among rated per month
    group by project
    at least 90%
  }
  target contact_breaches "投诉联系超时率" {
    ratio breached of complaint_contact per month
    at most 5%
  }
  repeat repeat_complaint "重复投诉启动专项整改" {
    when kind == "complaint"
    same unit, topic 2 times within 30 days
    then escalate project_manager "special_rectification"
  }
  every patrol "住宅区每2小时巡逻" {
    when kind == "area" and zone == "residential"
    patrolled every 2 hours
  }
  every drill "每季度演练" {
    when kind == "area"
    drilled at least 1 per quarter
  }
  every weekly_progress "复杂问题每周反馈" {
    when complex
    from opened until resolved
    progress every 7 days
  }
  window lift_maintenance "电梯维保0:00-5:00" {
    when kind == "asset" and asset_type == "lift"
    maintained only 00:00-05:00
  }
  window rubbish_rounds "垃圾清运时段" {
    cleaned only 07:00-09:00, 13:00-14:00, 19:00-21:00 on mon..sun
  }
  deadline complaint_contact "投诉1小时内联系" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
}"#);
    let kinds: Vec<&str> = p.clauses.iter().map(|c| c.body.keyword()).collect();
    assert_eq!(
        kinds,
        [
            "notify", "notify", "sample", "target", "target", "repeat", "every", "every", "every",
            "window", "window", "deadline"
        ]
    );
    let ClauseBody::Notify(n) = &p.clauses[0].body else {
        panic!()
    };
    assert_eq!(
        n.channels,
        Some(Required {
            all: true,
            names: vec!["sms".into(), "notice_board".into(), "app_push".into()]
        })
    );
    assert_eq!(n.coverage_permille, Some(950));
    assert_eq!(n.limit, Some(Limit::Elapsed(chrono::Duration::hours(1))));
    let ClauseBody::Sample(s) = &p.clauses[2].body else {
        panic!()
    };
    assert_eq!(
        (s.ratio_permille, s.role.as_str(), s.period),
        (100, "management_dept", PeriodUnit::Month)
    );
    assert_eq!(s.lag, chrono::Duration::days(7));
    assert_eq!(s.group_by, vec!["project".to_string()]);
    let ClauseBody::Target(t) = &p.clauses[4].body else {
        panic!()
    };
    assert_eq!(
        t.measure,
        Measure::Verdicts {
            status: "breached".into(),
            clause: "complaint_contact".into()
        }
    );
    assert!(!t.at_least);
    let ClauseBody::Repeat(r) = &p.clauses[5].body else {
        panic!()
    };
    assert_eq!(
        (r.same.clone(), r.times, r.within),
        (
            vec!["unit".to_string(), "topic".to_string()],
            2,
            chrono::Duration::days(30)
        )
    );
    let ClauseBody::Every(d) = &p.clauses[7].body else {
        panic!()
    };
    assert_eq!(
        d.rule,
        DutyRule::Quota {
            count: 1,
            per: PeriodUnit::Quarter,
            on: None
        }
    );
    let ClauseBody::Every(d) = &p.clauses[8].body else {
        panic!()
    };
    assert!(d.active.is_some());
    let ClauseBody::Window(w) = &p.clauses[10].body else {
        panic!()
    };
    assert_eq!(w.periods.len(), 3);
    assert_eq!(w.days.len(), 7);
}

#[test]
fn lines_of_another_clause_kind_are_misplaced() {
    let e = errs(
        r#"policy "p" {
  sample s { having revisited ratio 10% by supervisor per day within 1 hour }
  window w { maintained only 00:00-05:00 pause while status in ["x"] }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::clause::misplaced_line",
            "pledge::clause::misplaced_line"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("within 1 hour"));
}

#[test]
fn missing_required_lines_are_named() {
    let e = errs(
        r#"policy "p" {
  sample s { ratio 10% by supervisor per day }
  target t { ratio rated among rated per month }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::clause::missing_population",
            "pledge::clause::missing_bound"
        ]
    );
}

#[test]
fn formatted_clauses_parse_back_to_the_same_clauses() {
    let src = r#"policy "round-trip" {
  events plan_activated
  deadline a "投诉\"联系\"" {
    cite s000-complaint-contact-1h "seed 000 §一(三)"
    effective 2026-01-01..2026-07-01
    when kind == "complaint" and (severity in ["urgent", 3, true] or not has eta) and score >= 4.5
    from opened
    until revisited(by == "management_dept" or method != "online") or progress
    within 1 hour 30 minutes
    pause while status in ["waiting_customer"]
    at 80% warn supervisor
    at 150% escalate director via [phone, app] "再次升级"
    after 2 days notify project_manager
  }
  deadline b { until plan_activated by 08:00 next day }
  notify n { from resolved channels any [sms, app_push] audience all [ambulance_120] within 5 minutes coverage at least 95.5% first contacted via [phone, wechat] }
  sample s { when kind == "repair" having resolved ratio 2.5% by supervisor per week evidence spot_checked(passed == true) lag 3 days group by project, department }
  target t { ratio rated(satisfied == true) among rated per quarter group by project at least 90% }
  target u { ratio breached of a per month at most 5% }
  repeat r { when kind == "complaint" same unit, topic 3 times within 30 days then escalate project_manager via [phone] "special_rectification" }
  every e { when kind == "area" patrolled every 2 hours }
  every q { drilled at least 2 per year }
  every o { when complex from opened until resolved progress every 1 week }
  window w { maintained only 00:00-05:00, 22:00-24:00 on mon, tue, sat }
}"#;
    let first = ok(src);
    let mut again = String::from("policy \"round-trip\" {\n  events plan_activated\n");
    for c in &first.clauses {
        again.push_str(&pledge::syntax::format_clause(c));
    }
    again.push_str("}\n");
    let second = ok(&again);
    assert_eq!(first.clauses, second.clauses, "formatted:\n{again}");
    insta::assert_snapshot!(again);
}

#[test]
fn a_syntax_error_does_not_hide_mistakes_in_other_clauses() {
    let e = errs(
        r#"policy "p" {
  deadline a "投诉联系" {
    from opened until contactd
    within 1 hour
  }
  deadline b {
    from opened until resolved
    within 2 fortnights
  }
  deadline a {
    from opened until resolved
    within 1 hour
  }
}
"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::clause::unknown_event",
            "pledge::syntax::unexpected_token",
            "pledge::clause::duplicate_name",
        ]
    );
    insta::assert_snapshot!(render(&e, false));
}

#[test]
fn lead_times_windows_of_the_year_and_any_role_lower_and_print_back() {
    let src = r#"policy "seasons" {
  events shutdown
  notify publicity "活动前15天宣传" {
    when kind == "activity"
    channels all [notice_board, sms]
    at least 15 days before starts_at
  }
  window pre_summer "夏季前全面检查" {
    inspected(level == "full") only 04-01..05-31
  }
  window winter "跨年窗口" {
    shutdown only 11-15..02-29
  }
  sample confirm "签字确认或线上评价" {
    having resolved
    ratio 100% by anyone per month
    evidence rated or revisited(signed)
  }
}"#;
    let p = ok(src);
    let ClauseBody::Notify(n) = &p.clauses[0].body else {
        panic!()
    };
    assert_eq!(
        n.lead,
        Some(LeadTime {
            before: chrono::Duration::days(15),
            attr: "starts_at".into()
        })
    );
    assert_eq!(n.limit, None);
    let ClauseBody::Window(w) = &p.clauses[1].body else {
        panic!()
    };
    assert_eq!(
        w.season,
        Some((
            MonthDay { month: 4, day: 1 },
            MonthDay { month: 5, day: 31 }
        ))
    );
    assert!(w.periods.is_empty() && w.days.is_empty());
    let ClauseBody::Window(w) = &p.clauses[2].body else {
        panic!()
    };
    assert_eq!(
        w.season,
        Some((
            MonthDay { month: 11, day: 15 },
            MonthDay { month: 2, day: 29 }
        ))
    );
    let ClauseBody::Sample(s) = &p.clauses[3].body else {
        panic!()
    };
    assert_eq!(s.role, ANY_ROLE);

    let mut again = String::from("policy \"seasons\" {\n  events shutdown\n");
    for c in &p.clauses {
        again.push_str(&pledge::syntax::format_clause(c));
    }
    again.push_str("}\n");
    assert!(again.contains("before starts_at"), "{again}");
    assert!(again.contains("only 04-01..05-31"), "{again}");
    assert_eq!(ok(&again).clauses, p.clauses, "formatted:\n{again}");
}

#[test]
fn bad_days_of_the_year_and_misplaced_lead_times_are_reported() {
    let e = errs(
        r#"policy "p" {
  window w { inspected only 02-30..13-01 }
  deadline d { until resolved within 1 hour at least 2 days before starts_at }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::syntax::invalid_date",
            "pledge::syntax::invalid_date",
            "pledge::clause::misplaced_line"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("02-30"));
    assert_eq!(e.errors[1].underlined(), Some("13-01"));
    assert_eq!(
        e.errors[2].underlined(),
        Some("at least 2 days before starts_at")
    );
}

/// The REPL's what-if input: a snippet may add a calendar, or redefine one, and the clauses that
/// counted on the old calendar then count on the new one.
#[test]
fn snippets_add_and_redefine_calendars() {
    let base = pledge::syntax::parse_policy(
        "policy \"p\" {\n  calendar office { hours mon..fri 09:00-18:00 }\n  deadline reply {\n    until progress\n    within 1 workday on office\n  }\n}\n",
        "p.pledge",
        None,
    )
    .unwrap();
    let (p, clauses) = pledge::syntax::parse_snippet(
        "calendar night { hours mon..sun 00:00-08:00 }",
        "input",
        &base,
    )
    .unwrap();
    assert!(clauses.is_empty());
    let names: Vec<&str> = p.calendars.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["office", "night"]);
    let (p, _) = pledge::syntax::parse_snippet(
        "calendar office { hours mon..fri 09:00-17:00 }",
        "input",
        &base,
    )
    .unwrap();
    assert_eq!(p.calendars.len(), 1);
    assert_eq!(p.calendars[0].workday_length, chrono::Duration::hours(8));
    let pledge::policy::ClauseBody::Deadline(d) = &p.clauses[0].body else {
        panic!("a deadline")
    };
    let pledge::policy::Limit::Workdays { calendar, .. } = &d.limit else {
        panic!("a workday limit")
    };
    assert_eq!(
        calendar.workday_length,
        chrono::Duration::hours(8),
        "rebound"
    );
    // Defined twice in the same snippet is still an error.
    let e = pledge::syntax::parse_snippet(
        "calendar x { hours mon 09:00-10:00 }\ncalendar x { hours mon 09:00-10:00 }",
        "input",
        &base,
    )
    .unwrap_err();
    assert_eq!(e.codes(), ["pledge::calendar::duplicate_name"]);
}

// ---------------------------------------------------------------- presence in each window

#[test]
fn each_day_and_each_year_round_trip_through_the_formatter() {
    let src = r#"policy "p" {
  window d { cleaned(round) only 07:00-09:00, 13:00-14:00 on mon..fri each day }
  window y { inspected(level == "full") only 04-01..05-31 each year }
  window n { maintained only 00:00-05:00 }
}"#;
    let first = ok(src);
    let each: Vec<bool> = first
        .clauses
        .iter()
        .map(|c| match &c.body {
            pledge::policy::ClauseBody::Window(w) => w.each,
            _ => panic!("not a window"),
        })
        .collect();
    assert_eq!(each, [true, true, false]);
    let mut again = String::from("policy \"p\" {\n");
    for c in &first.clauses {
        again.push_str(&pledge::syntax::format_clause(c));
    }
    again.push_str("}\n");
    assert!(again.contains(" each day\n"), "{again}");
    assert!(again.contains("only 04-01..05-31 each year\n"), "{again}");
    assert_eq!(ok(&again).clauses, first.clauses, "formatted:\n{again}");
}

#[test]
fn each_with_the_wrong_unit_is_an_error_with_help() {
    let e = errs(
        "policy \"p\" {\n  window w { inspected only 04-01..05-31 each day }\n  window v { cleaned only 07:00-09:00 each week }\n}\n",
    );
    assert_eq!(
        e.codes(),
        vec!["pledge::window::each_unit", "pledge::window::each_unit"]
    );
    insta::assert_snapshot!(render(&e, false));
}

/// A line whose value is refused is one mistake: the clause is not also said to lack it. A
/// line that is really missing still is.
#[test]
fn a_refused_value_is_not_also_a_missing_line() {
    let one = |body: &str| {
        errs(&format!(
            "policy \"p\" {{\n  allow missing_cite\n  {body}\n}}\n"
        ))
        .codes()
    };
    assert_eq!(
        one("sample a \"t\" { having resolved\n ratio 200% by management_dept per month\n evidence spot_checked }"),
        vec!["pledge::sample::ratio_over_100"]
    );
    assert_eq!(
        one("target a \"t\" { ratio rated(satisfied == true) among rated per month\n at least -10% }"),
        vec!["pledge::syntax::bad_percentage"]
    );
    assert_eq!(
        one("repeat a \"t\" { same unit 0 times within 30 days\n then escalate project_manager }"),
        vec!["pledge::repeat::bad_count"]
    );
    assert_eq!(
        one("sample a \"t\" { having resolved\n evidence spot_checked }"),
        vec!["pledge::clause::missing_ratio"]
    );
}

/// Every refused value says how to write it: a `help` line on each diagnostic.
#[test]
fn refused_values_come_with_help() {
    for (body, code) in [
        ("deadline a \"t\" { until resolved\n within 99999999999 days }", "pledge::syntax::duration_out_of_range"),
        ("target a \"t\" { ratio rated(satisfied == true) among rated per month\n at least -10% }", "pledge::syntax::bad_percentage"),
        ("sample a \"t\" { having resolved\n ratio 200% by management_dept per month\n evidence spot_checked }", "pledge::sample::ratio_over_100"),
        ("every a \"t\" { drilled at least 0 per quarter }", "pledge::every::bad_count"),
        ("repeat a \"t\" { same unit 0 times within 30 days\n then escalate project_manager }", "pledge::repeat::bad_count"),
        ("deadline a \"\\u{d800}\" { until resolved\n within 1 hour }", "pledge::syntax::invalid_escape"),
    ] {
        let e = errs(&format!("policy \"p\" {{\n  allow missing_cite\n  {body}\n}}\n"));
        assert_eq!(e.codes(), vec![code], "{}", render(&e, false));
        assert!(e.errors[0].help.is_some(), "{code} has no help");
    }
}

/// A syntax error inside a record clause is recovered from as one inside any clause: the
/// mistakes of the other clauses are reported with it.
#[test]
fn a_syntax_error_in_a_record_clause_leaves_the_other_clauses_checked() {
    let e = errs(
        "policy \"p\" {\n  allow missing_cite\n  record r \"t\" {\n    revisited has method in [\"visit\" \"phone\"]\n  }\n  deadline d \"t\" {\n    until contactd\n    within 1 hour\n  }\n}\n",
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::syntax::unexpected_token",
            "pledge::clause::unknown_event"
        ],
        "{}",
        render(&e, false)
    );
}

/// `ratio STATUS of CLAUSE` names a deadline clause of the policy: a misspelt name, or a clause
/// of another kind, would count nothing in every period.
#[test]
fn a_verdict_target_names_a_deadline_clause() {
    let e = errs(
        r#"policy "p" {
  deadline contact {
    until contacted
    within 1 hour
  }
  sample check {
    having revisited
    ratio 10% by supervisor per month
  }
  target misspelt {
    ratio breached of contactt per month
    at most 5%
  }
  target of_a_sample {
    ratio met of check per month
    at least 90%
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::target::unknown_clause",
            "pledge::target::unknown_clause"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("contactt"));
    assert_eq!(e.errors[0].help.as_deref(), Some("did you mean `contact`?"));
    assert_eq!(e.errors[1].underlined(), Some("check"));
    assert!(e.errors[1].message.contains("is not a deadline clause"));
}

/// `at least N per day on CALENDAR`: a quota owed on the calendar's working days; only a day
/// can be one, and the calendar must exist. The formatter writes it back as read.
#[test]
fn a_quota_per_working_day_names_its_calendar() {
    let p = ok(r#"policy "p" {
  events meeting_held
  calendar office { hours mon..fri 09:00-18:00 }
  every daily_meeting {
    when kind == "project"
    meeting_held at least 1 per day on office
  }
}"#);
    let ClauseBody::Every(d) = &p.clauses[0].body else {
        panic!("an every clause")
    };
    let DutyRule::Quota { count, per, on } = &d.rule else {
        panic!("a quota: {:?}", d.rule)
    };
    assert_eq!((*count, *per), (1, PeriodUnit::Day));
    assert_eq!(on.as_ref().map(|c| c.name.as_str()), Some("office"));
    let text = pledge::syntax::format_clause(&p.clauses[0]);
    assert!(
        text.contains("meeting_held at least 1 per day on office"),
        "{text}"
    );
    let e = errs(
        r#"policy "p" {
  events meeting_held
  calendar office { hours mon..fri 09:00-18:00 }
  every weekly {
    meeting_held at least 1 per week on office
  }
  every daily {
    meeting_held at least 1 per day on ofice
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::every::calendar_needs_day",
            "pledge::calendar::unknown"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("on office"));
    assert_eq!(e.errors[1].underlined(), Some("ofice"));
}

/// `3 days on office` would be 72 hours of working time, eight workdays of nine hours: never
/// what "三个工作日" means, so it is an error pointing at the duration, with the forms meant.
/// Hours and minutes on a calendar are working time, as documented.
#[test]
fn days_or_weeks_on_a_calendar_are_an_error_and_hours_are_working_time() {
    let e = errs(
        r#"policy "p" {
  calendar office { hours mon..fri 09:00-18:00 }
  deadline a { until resolved
    within 3 days on office }
  deadline b { until resolved
    within 1 week on office }
  deadline c { until resolved
    within 1 day 4 hours on office }
  every patrol {
    patrolled every 2 days on office
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        vec!["pledge::calendar::days_of_working_time"; 4],
        "{e:?}"
    );
    assert_eq!(e.errors[0].underlined(), Some("3 days"));
    assert_eq!(e.errors[1].underlined(), Some("1 week"));
    assert!(e.errors[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("`3 workdays on office`")));
    let ok = parse_policy(
        r#"policy "p" {
  calendar office { hours mon..fri 09:00-18:00 }
  deadline a { until resolved
    within 8 hours on office }
  deadline b { until resolved
    within 3 days }
}"#,
        "ok.pledge",
        None,
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

/// Values that make a standard meaningless are errors where they are written: a limit or a
/// duty's gap of no time (every clock not stopped at its start breached, every gap a finding),
/// a target's bound or a notice's coverage above 100 % (never met).
#[test]
fn zero_limits_and_shares_above_100_percent_are_errors() {
    let e = errs(
        r#"policy "p" {
  calendar office { hours mon..fri 09:00-18:00 }
  deadline a { until resolved
    within 0 minutes }
  deadline b { until resolved
    within 0 workdays on office }
  deadline c { until resolved
    within 0 business hours on office }
  every patrol {
    patrolled every 0 hours
  }
  target t {
    ratio rated(satisfied == true) among rated per month
    at least 200%
  }
  notify n {
    channels all [sms]
    coverage at least 150%
  }
}"#,
    );
    assert_eq!(
        e.codes(),
        [
            "pledge::limits::zero",
            "pledge::limits::zero",
            "pledge::limits::zero",
            "pledge::limits::zero",
            "pledge::limits::share_over_100",
            "pledge::limits::share_over_100",
        ],
        "{e:?}"
    );
    assert_eq!(e.errors[0].underlined(), Some("0 minutes"));
    assert_eq!(e.errors[1].underlined(), Some("0 workdays"));
    assert_eq!(e.errors[4].underlined(), Some("200%"));
    assert_eq!(e.errors[5].underlined(), Some("150%"));
    // At the edges: a second, 100 %.
    let ok = parse_policy(
        r#"policy "p" {
  deadline a { until resolved
    within 1 second }
  target t {
    ratio rated(satisfied == true) among rated per month
    at least 100%
  }
  notify n {
    channels all [sms]
    coverage at least 100%
  }
}"#,
        "ok.pledge",
        None,
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

/// A mistyped line keyword is named, with the keyword meant, where it is typed: the grammar
/// would otherwise read `withn` as an event starting a record's line and stumble on `1`.
#[test]
fn a_mistyped_line_keyword_is_named_with_the_keyword_meant() {
    for (line, typo, meant) in [
        ("withn 1 hour", "withn", "within"),
        ("untill resolved", "untill", "until"),
        ("whn kind == \"repair\"", "whn", "when"),
    ] {
        let e = errs(&format!(
            "policy \"p\" {{\n  deadline d {{\n    until resolved\n    within 1 hour\n    {line}\n  }}\n}}\n"
        ));
        assert_eq!(e.codes(), ["pledge::syntax::unknown_line"], "{line}");
        assert_eq!(e.errors[0].underlined(), Some(typo), "{line}");
        assert!(
            e.errors[0]
                .message
                .contains(&format!("did you mean `{meant}`?")),
            "{}",
            e.errors[0].message
        );
    }
    // An event starting a record's line, mistyped further on, is not taken for a keyword.
    let e = errs(
        "policy \"p\" {\n  record r {\n    resolved followd by revisited within 1 day\n  }\n}\n",
    );
    assert_ne!(e.codes(), ["pledge::syntax::unknown_line"]);
}

/// A Chinese attribute name in a condition is told where Chinese text belongs.
#[test]
fn a_chinese_attribute_name_is_told_where_chinese_text_belongs() {
    let e = errs(
        "policy \"p\" {\n  deadline d \"维修\" {\n    when kind == \"repair\" and 等级 == 1\n    until resolved\n    within 1 hour\n  }\n}\n",
    );
    assert_eq!(e.codes(), ["pledge::syntax::unexpected_token"]);
    assert_eq!(e.errors[0].underlined(), Some("等级"));
    assert!(e.errors[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("Chinese text belongs in a string value")));
}

/// An event the policy does not know is one mistake, reported once: the alert whose `from`
/// names it, the `during` naming that alert, the `per alert` quota and the cover line are not
/// also reported as missing or unknown.
#[test]
fn an_unknown_event_is_not_also_a_missing_line_or_an_unknown_alert() {
    let e = errs(
        r#"policy "p" {
  alert typhoon "台风预警" {
    when kind == "weather_warning"
    from raised(category == "typhoon") until lifted
  }
  every elder_storm_check "台风暴雨期间询问空巢老人" {
    when kind == "resident"
    during typhoon
    contacted at least 1 per alert
  }
  every hotline_24h "提供24小时客服热线" {
    when kind == "hotline"
    covered from shift_started until shift_ended
  }
}"#,
    );
    let codes = e.codes();
    assert!(
        codes.iter().all(|c| *c == "pledge::clause::unknown_event"),
        "{codes:?}"
    );
    assert_eq!(
        codes.len(),
        4,
        "raised, lifted, shift_started, shift_ended: {codes:?}"
    );
}
