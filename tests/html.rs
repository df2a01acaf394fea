//! The HTML report: the data it shows (a golden file, not its pixels), its markup's
//! self-containment and escaping. The page in a real browser is `tests/html_browser.rs`.

use pledge::check::check_parallel_with;
use pledge::engine::EvalOptions;
use pledge::input::{Format, ReadOptions};
use pledge::period::ReportSpec;
use pledge::policy::{PeriodUnit, Policy};
use pledge::report::html::{HtmlData, HtmlSink};
use pledge::report::period::PeriodReport;
use pledge::syntax::{load_policy, parse_policy};
use std::path::Path;

/// The page's data for `events` (JSON Lines) against `policies`, by `unit` and `group_by`.
fn page(policies: &[Policy], events: &[u8], unit: PeriodUnit, group_by: &[&str]) -> HtmlData {
    let group_by: Vec<String> = group_by.iter().map(|s| s.to_string()).collect();
    let read = ReadOptions {
        format: Format::Jsonl,
        ..ReadOptions::default()
    };
    let spec = ReportSpec {
        unit,
        group_by: group_by.clone(),
    };
    let checked = check_parallel_with(
        policies,
        events,
        &read,
        EvalOptions::default(),
        HtmlSink::default(),
        0,
        |_| {},
        |e| e.periods_mut().report_by(spec),
    )
    .expect("reads");
    let report = PeriodReport::build(
        policies,
        &checked.sink.records,
        unit,
        None,
        checked.summary.now,
    );
    HtmlData::build(
        policies,
        &report,
        &checked.sink,
        &checked.summary,
        "service-desk.jsonl",
        &group_by,
    )
}

fn shipped(names: &[&str]) -> Vec<Policy> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    names
        .iter()
        .map(|n| load_policy(&root.join("policies").join(n)).expect("a shipped policy loads"))
        .collect()
}

/// The README's example, by day and project: every number the page shows, as JSON.
#[test]
fn the_data_of_the_service_desk_page() {
    let policies = shipped(&["customer-requests.pledge", "repairs.pledge"]);
    let events =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service-desk.jsonl"))
            .unwrap();
    let data = page(&policies, &events, PeriodUnit::Day, &["project"]);
    // Spot checks of what examples/README.md says, so that the golden file cannot drift
    // into nonsense unnoticed.
    let minor = data
        .clauses
        .iter()
        .find(|c| c.clause == "repair_minor_8h")
        .expect("repair_minor_8h is on the page");
    assert_eq!(
        (minor.total.met, minor.total.decided, minor.total.pending),
        (2, 3, 1)
    );
    assert_eq!(minor.breaches[0].ticket, "T-0305");
    assert_eq!(minor.shown, "repair_minor_8h");
    assert_eq!(minor.breaches[0].late, "9 h 30 min");
    assert_eq!(data.rejected, 4);
    assert_eq!(data.periods.len(), 5, "{:?}", data.periods);
    let json = serde_json::to_string_pretty(&data).unwrap();
    insta::assert_snapshot!("html_data_service_desk", json);
}

const HOSTILE: &str = r#"policy "p<&>" {
  deadline contact "<script>alert('投诉')</script> & \"1小时\"" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
  every patrol "巡逻<b>" {
    when kind == "area"
    patrolled every 2 hours
  }
}
"#;

/// Titles, policy names, ticket ids and attribute values come from users: all are escaped, and
/// the page loads nothing from anywhere.
#[test]
fn the_page_escapes_what_users_wrote_and_needs_nothing_else() {
    let policy = parse_policy(HOSTILE, "hostile.pledge", None).expect("parses");
    let events = concat!(
        r#"{"ticket":"<img src=x onerror=alert(1)>","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"<i>金地</i>"}}"#,
        "\n",
        r#"{"ticket":"<img src=x onerror=alert(1)>","at":"2026-03-02T11:00:00+08:00","type":"contacted"}"#,
        "\n",
        r#"{"ticket":"A&1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"area","project":"\"q\""}}"#,
        "\n",
        r#"{"ticket":"A&1","at":"2026-03-02T13:00:00+08:00","type":"patrolled"}"#,
        "\n",
    );
    let policies = vec![policy];
    let data = page(
        &policies,
        events.as_bytes(),
        PeriodUnit::Month,
        &["project"],
    );
    assert_eq!(data.groups, ["\"q\"", "<i>金地</i>"]);
    let html = data.render();
    for raw in [
        "<script>",
        "<img",
        "<i>金地",
        "巡逻<b>",
        "p<&>",
        "A&1",
        "\"q\"",
    ] {
        assert!(!html.contains(raw), "unescaped {raw:?} in the page");
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;投诉&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;i&gt;金地&lt;/i&gt;"));
    assert!(html.contains("A&amp;1"));
    // Self-contained: no script, no external resource, no web font; A4 print rules.
    for external in [
        "<script",
        "src=\"http",
        "href=\"http",
        "@import",
        "@font-face",
        "url(",
    ] {
        assert!(!html.contains(external), "{external:?} in the page");
    }
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("\"Noto Sans CJK SC\""));
    assert!(html.contains("<svg class=\"trend\""));
    // The breach of 1 hour past its due is listed under its clause, which the heat map links to.
    let contact = &data.clauses[0];
    assert_eq!(contact.breaches.len(), 1);
    assert_eq!(contact.breaches[0].late, "1 h");
    assert!(html.contains(&format!("id=\"{}\"", contact.anchor)));
    assert!(html.contains(&format!("href=\"#{}\"", contact.anchor)));
}

/// Hundreds of groups or periods do not make a page nobody can read: the heat map has at most
/// `MAX_GROUPS` columns and says how many are left out; a trend is drawn at most 240 px wide.
#[test]
fn many_groups_and_periods_stay_readable() {
    let policy = parse_policy(
        "policy \"p\" {\n  deadline contact {\n    until contacted\n    within 1 hour\n  }\n}\n",
        "p.pledge",
        None,
    )
    .expect("parses");
    let mut events = String::new();
    for i in 0..45 {
        let day = 1 + i % 28;
        events.push_str(&format!(
            "{{\"ticket\":\"T-{i}\",\"at\":\"2026-03-{day:02}T09:00:00+08:00\",\"type\":\"opened\",\"attrs\":{{\"project\":\"p{i:02}\"}}}}\n"
        ));
    }
    let policies = vec![policy];
    let data = page(&policies, events.as_bytes(), PeriodUnit::Day, &["project"]);
    assert_eq!(data.groups.len(), pledge::report::html::MAX_GROUPS);
    assert_eq!(data.groups_left_out, 45 - pledge::report::html::MAX_GROUPS);
    assert_eq!(data.periods.len(), 28);
    // No case was contacted: the totals count all 45, shown or not (the last, opened at `now`,
    // is still pending).
    assert_eq!((data.total.decided, data.total.pending), (44, 1));
    let html = data.render();
    assert!(html.contains("5 more groups are left out here"));
    assert!(
        html.contains("<svg class=\"trend\" width=\"240\""),
        "{html}"
    );
}

/// A clause name two policies share is shown with its policy in the heat map and the trend, as
/// the text report does; a name of one policy alone is shown as it is.
#[test]
fn a_clause_name_two_policies_share_is_shown_with_its_policy() {
    let policy = |name: &str, extra: &str| {
        let src = format!(
            "policy \"{name}\" {{\n  deadline contact {{ until contacted within 1 hour }}\n{extra}}}\n"
        );
        parse_policy(&src, &format!("{name}.pledge"), None).expect("parses")
    };
    let policies = [
        policy("desk", ""),
        policy(
            "mall",
            "  deadline resolve { until resolved within 8 hours }\n",
        ),
    ];
    let events = b"{\"ticket\":\"A\",\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"opened\"}\n\
{\"ticket\":\"A\",\"at\":\"2026-03-02T09:30:00+08:00\",\"type\":\"contacted\"}\n";
    let data = page(&policies, events, PeriodUnit::Day, &[]);
    let shown: Vec<&str> = data.clauses.iter().map(|c| c.shown.as_str()).collect();
    assert_eq!(shown, ["desk/contact", "mall/contact", "resolve"]);
    let html = data.render();
    assert!(
        html.contains(">desk/contact</a>") && html.contains(">mall/contact</a>"),
        "{html}"
    );
}
