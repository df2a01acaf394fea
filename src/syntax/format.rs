//! Clause → canonical source text. The REPL saves a working policy with it, and `:why` quotes
//! conditions with it; parsing the output gives the same clause back (tested).

use crate::calendar::Period;
use crate::policy::*;
use crate::value::Value;
use chrono::{Duration, NaiveTime, Weekday};
use std::fmt::Write;

/// Formats an alert declaration as it would be written in a policy file, indented by two
/// spaces.
pub fn format_alert(alert: &Alert) -> String {
    let mut out = format!("  alert {}", alert.name);
    if let Some(t) = &alert.title {
        let _ = write!(out, " {}", quote(t));
    }
    out.push_str(" {\n");
    if alert.applies != Condition::Always {
        let _ = writeln!(out, "    when {}", format_condition(&alert.applies));
    }
    let _ = writeln!(
        out,
        "    from {} until {}",
        format_trigger(&alert.from),
        format_trigger(&alert.until)
    );
    out.push_str("  }\n");
    out
}

/// Formats a clause as it would be written in a policy file, indented by two spaces.
pub fn format_clause(clause: &Clause) -> String {
    let mut out = String::new();
    let _ = write!(out, "  {} {}", clause.body.keyword(), clause.name);
    if let Some(t) = &clause.title {
        let _ = write!(out, " {}", quote(t));
    }
    out.push_str(" {\n");
    let mut line = |text: String| {
        out.push_str("    ");
        out.push_str(&text);
        out.push('\n');
    };
    if clause.cite.row.is_some() || clause.cite.text.is_some() {
        let mut c = "cite".to_string();
        if let Some(r) = &clause.cite.row {
            c.push(' ');
            c.push_str(r);
        }
        if let Some(t) = &clause.cite.text {
            c.push(' ');
            c.push_str(&quote(t));
        }
        line(c);
    }
    if clause.effective.from.is_some() || clause.effective.until.is_some() {
        let from = clause
            .effective
            .from
            .map(|d| d.to_string())
            .unwrap_or_default();
        let until = clause
            .effective
            .until
            .map(|d| d.to_string())
            .unwrap_or_default();
        line(format!("effective {from}..{until}"));
    }
    if clause.applies != Condition::Always {
        line(format!("when {}", format_condition(&clause.applies)));
    }
    match &clause.body {
        ClauseBody::Deadline(d) => {
            if d.start != Trigger::event("opened") {
                line(format!("from {}", format_trigger(&d.start)));
            }
            line(format!("until {}", format_trigger(&d.stop)));
            line(format_limit(&d.limit));
            if let Some(p) = &d.pause {
                let list: Vec<String> = p.statuses.iter().map(|s| quote(s)).collect();
                line(format!("pause while status in [{}]", list.join(", ")));
            }
            for s in &d.stages {
                let point = match &s.point {
                    StagePoint::After(d) => format!("after {}", format_duration(*d)),
                    StagePoint::Fraction(p) => format!("at {}%", permille(*p)),
                };
                line(format!(
                    "{point} {}",
                    format_action(s.action, &s.role, &s.channels, s.message.as_deref())
                ));
            }
        }
        ClauseBody::Notify(n) => {
            if n.start != Trigger::event("opened") {
                line(format!("from {}", format_trigger(&n.start)));
            }
            if let Some(r) = &n.channels {
                line(format!(
                    "channels {} [{}]",
                    if r.all { "all" } else { "any" },
                    r.names.join(", ")
                ));
            }
            if let Some(r) = &n.audiences {
                line(format!(
                    "audience {} [{}]",
                    if r.all { "all" } else { "any" },
                    r.names.join(", ")
                ));
            }
            if let Some(l) = &n.limit {
                line(format_limit(l));
            }
            if let Some(c) = n.coverage_permille {
                line(format!("coverage at least {}%", permille(c)));
            }
            if let Some(lead) = &n.lead {
                line(format!(
                    "at least {} before {}",
                    format_duration(lead.before),
                    lead.attr
                ));
            }
            if let Some((t, channels)) = &n.first_contact {
                line(format!(
                    "first {} via [{}]",
                    format_trigger(t),
                    channels.join(", ")
                ));
            }
        }
        ClauseBody::Sample(s) => {
            line(format!("having {}", format_trigger(&s.population)));
            line(format!(
                "ratio {}% by {} per {}",
                permille(s.ratio_permille),
                s.role,
                s.period.as_str()
            ));
            if s.evidence != Trigger::event("spot_checked") {
                line(format!("evidence {}", format_trigger(&s.evidence)));
            }
            if s.lag > Duration::zero() {
                line(format!("lag {}", format_duration(s.lag)));
            }
            if !s.group_by.is_empty() {
                line(format!("group by {}", s.group_by.join(", ")));
            }
        }
        ClauseBody::Target(Target {
            measure: Measure::Stat(m),
            period,
            group_by,
            ..
        }) => {
            for text in format_stat(m, *period, group_by) {
                line(text);
            }
        }
        ClauseBody::Target(Target {
            measure: Measure::Obligation(o),
            ..
        }) => {
            line(format!(
                "require {} within {} after {} missed",
                format_trigger(&o.event),
                format_duration(o.within),
                o.target
            ));
        }
        ClauseBody::Target(t) => {
            let measure = match &t.measure {
                Measure::Events { success, among } => format!(
                    "{} among {}",
                    format_trigger(success),
                    format_trigger(among)
                ),
                Measure::Verdicts { status, clause } => format!("{status} of {clause}"),
                Measure::Stat(_) | Measure::Obligation(_) => String::new(),
            };
            line(format!("ratio {measure} per {}", t.period.as_str()));
            if !t.group_by.is_empty() {
                line(format!("group by {}", t.group_by.join(", ")));
            }
            line(format!(
                "at {} {}%",
                if t.at_least { "least" } else { "most" },
                permille(t.bound_permille)
            ));
        }
        ClauseBody::Repeat(r) => {
            line(format!(
                "same {} {} times within {}",
                r.same.join(", "),
                r.times,
                format_duration(r.within)
            ));
            line(format!(
                "then {}",
                format_action(r.action, &r.role, &r.channels, r.message.as_deref())
            ));
        }
        ClauseBody::Every(d) => {
            if let Some(alert) = &d.during {
                line(format!("during {alert}"));
            }
            if let Some((from, until)) = &d.active {
                line(format!(
                    "from {} until {}",
                    format_trigger(from),
                    format_trigger(until)
                ));
            }
            match &d.rule {
                DutyRule::Gap(limit) => {
                    let l = format_limit(limit);
                    line(format!(
                        "{} every {}",
                        format_trigger(&d.event),
                        l.trim_start_matches("within ")
                    ));
                }
                DutyRule::Quota { count, per, on } => line(format!(
                    "{} at least {count} per {}{}",
                    format_trigger(&d.event),
                    per.as_str(),
                    on.as_ref()
                        .map(|c| format!(" on {}", c.name))
                        .unwrap_or_default()
                )),
                DutyRule::PerAlert { count } => line(format!(
                    "{} at least {count} per alert",
                    format_trigger(&d.event)
                )),
                DutyRule::Cover { until } => line(format!(
                    "covered from {} until {}",
                    format_trigger(&d.event),
                    format_trigger(until)
                )),
            }
        }
        ClauseBody::Window(w) => {
            let mut text = format_trigger(&w.event);
            if let Some((from, until)) = &w.season {
                let _ = write!(
                    text,
                    " only {:02}-{:02}..{:02}-{:02}",
                    from.month, from.day, until.month, until.day
                );
            } else {
                let ranges: Vec<String> = w.periods.iter().map(format_period).collect();
                let _ = write!(text, " only {}", ranges.join(", "));
            }
            if !w.days.is_empty() {
                let days: Vec<&str> = w.days.iter().map(|d| weekday_word(*d)).collect();
                let _ = write!(text, " on {}", days.join(", "));
            }
            if w.each {
                text.push_str(if w.season.is_some() {
                    " each year"
                } else {
                    " each day"
                });
            }
            line(text);
        }
        ClauseBody::Record(r) => {
            for item in &r.items {
                line(format_record_item(item));
            }
        }
    }
    out.push_str("  }\n");
    out
}

fn format_action(
    action: ActionKind,
    role: &str,
    channels: &[String],
    message: Option<&str>,
) -> String {
    let mut s = format!("{} {role}", action.as_str());
    if !channels.is_empty() {
        let _ = write!(s, " via [{}]", channels.join(", "));
    }
    if let Some(m) = message {
        let _ = write!(s, " {}", quote(m));
    }
    s
}

/// Formats a limit line (`within 8 hours`, `same day on office`, ...).
pub fn format_limit(limit: &Limit) -> String {
    match limit {
        Limit::Elapsed(d) => format!("within {}", format_duration(*d)),
        Limit::BusinessTime { amount, calendar } => {
            let text = format_duration(*amount);
            let business = match text.split_once(' ') {
                Some((n, unit)) if !text.contains(' ') || text.matches(' ').count() == 1 => {
                    format!("{n} business {unit}")
                }
                _ => text,
            };
            format!("within {business} on {}", calendar.name)
        }
        Limit::Workdays { days, calendar } => {
            format!(
                "within {days} {} on {}",
                if *days == 1 { "workday" } else { "workdays" },
                calendar.name
            )
        }
        Limit::SameDay { calendar } => format!("same day on {}", calendar.name),
        Limit::NextAt {
            time,
            workday,
            calendar,
        } => {
            let on = if calendar.is_always() {
                String::new()
            } else {
                format!(" on {}", calendar.name)
            };
            format!(
                "by {} next {}{on}",
                time.format("%H:%M"),
                if *workday { "workday" } else { "day" }
            )
        }
    }
}

/// Formats a duration with the largest whole units (`1 hour 30 minutes`).
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.num_seconds();
    if secs == 0 {
        return "0 seconds".into();
    }
    let mut parts = Vec::new();
    for (unit, size) in [
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
        ("second", 1),
    ] {
        let n = secs / size;
        if n > 0 {
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
            secs -= n * size;
        }
    }
    parts.join(" ")
}

fn format_period(p: &Period) -> String {
    let close = p.close.map_or_else(
        || "24:00".to_string(),
        |c: NaiveTime| c.format("%H:%M").to_string(),
    );
    format!("{}-{close}", p.open.format("%H:%M"))
}

fn weekday_word(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// The lines of a measuring target: `measure ...`, `group by ...`, then its bound.
fn format_stat(m: &StatMeasure, period: PeriodUnit, group_by: &[String]) -> Vec<String> {
    let mut of = format_trigger(&m.start);
    if let Some(stop) = &m.stop {
        of = format!("{} - {of}", format_trigger(stop));
    }
    let mut measure = format!(
        "measure {} of {of} per {}",
        m.statistic.words(),
        period.as_str()
    );
    if let Some(c) = &m.calendar {
        let _ = write!(measure, " on {}", c.name);
    }
    if let Some(each) = &m.each {
        let _ = write!(
            measure,
            " each {} in [{}]",
            each.attr,
            each.values
                .iter()
                .map(format_value)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut lines = vec![measure];
    if !group_by.is_empty() {
        lines.push(format!("group by {}", group_by.join(", ")));
    }
    let side = |at_least: bool| if at_least { "least" } else { "most" };
    lines.push(match m.bound {
        StatBound::Value { at_least, value } if m.statistic == Statistic::Count => {
            format!("at {} {value}", side(at_least))
        }
        StatBound::Value { at_least, value } => format!(
            "at {} {}",
            side(at_least),
            format_duration(Duration::milliseconds(value))
        ),
        StatBound::Change { at_least, permille } => {
            let sign = if permille < 0 { "-" } else { "" };
            format!(
                "change at {} {sign}{}% against previous year",
                side(at_least),
                self::permille(permille.unsigned_abs())
            )
        }
    });
    lines
}

fn permille(p: u32) -> String {
    if p % 10 == 0 {
        (p / 10).to_string()
    } else {
        format!("{}.{}", p / 10, p % 10)
    }
}

/// Formats an event trigger (`resolved or progress(channel == "sms")`).
/// One item of a record clause, as written.
pub fn format_record_item(item: &RecordItem) -> String {
    match item {
        RecordItem::Fields { event, attrs } => {
            format!("{} has {}", format_trigger(event), attrs.join(", "))
        }
        RecordItem::Value {
            event,
            attr,
            values,
        } => format!(
            "{} has {attr} in [{}]",
            format_trigger(event),
            values
                .iter()
                .map(format_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RecordItem::Steps(steps) => format!(
            "steps {}",
            steps
                .iter()
                .map(format_trigger)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RecordItem::OnlyAfter { event, after } => {
            format!(
                "{} only after {}",
                format_trigger(event),
                format_trigger(after)
            )
        }
        RecordItem::AtLeast {
            event,
            count,
            distinct_by,
            after,
        } => {
            let mut text = format!("{} at least {count}", format_trigger(event));
            if *distinct_by {
                text.push_str(" distinct by");
            }
            if let Some(a) = after {
                let _ = write!(text, " after {}", format_trigger(a));
            }
            text
        }
        RecordItem::Warranty {
            event,
            within,
            after,
        } => format!(
            "no {} within {} after {}",
            format_trigger(event),
            if within.num_seconds() > 0 && within.num_seconds() % 86_400 == 0 {
                format!("{} days", within.num_days())
            } else {
                format_duration(*within)
            },
            format_trigger(after)
        ),
        RecordItem::Gap { event, apart } => {
            format!(
                "{} at most {} apart",
                format_trigger(event),
                format_duration(*apart)
            )
        }
        RecordItem::FollowedBy {
            event,
            then,
            within,
        } => {
            let mut text = format!(
                "{} followed by {}",
                format_trigger(event),
                format_trigger(then)
            );
            if let Some(d) = within {
                let _ = write!(text, " within {}", days_or_duration(*d));
            }
            text
        }
        RecordItem::Before { event, attr } => format!("{} before {attr}", format_trigger(event)),
    }
}

/// `7 days` for a whole number of days (as a warranty or follow-up is written), else the usual
/// form.
fn days_or_duration(d: chrono::Duration) -> String {
    if d.num_seconds() > 0 && d.num_seconds() % 86_400 == 0 {
        format!("{} days", d.num_days())
    } else {
        format_duration(d)
    }
}

pub fn format_trigger(t: &Trigger) -> String {
    t.matchers
        .iter()
        .map(|m| match &m.filter {
            Some(f) => format!("{}({})", m.event, format_condition(f)),
            None => m.event.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Formats a condition with the parentheses its structure needs.
pub fn format_condition(c: &Condition) -> String {
    fn prec(c: &Condition) -> u8 {
        match c {
            Condition::Or(_) => 1,
            Condition::And(_) => 2,
            _ => 3,
        }
    }
    fn wrap(c: &Condition, min: u8) -> String {
        let s = format_condition(c);
        if prec(c) < min {
            format!("({s})")
        } else {
            s
        }
    }
    match c {
        Condition::Always => "true".into(),
        Condition::Compare { attr, op, value } => {
            format!("{attr} {} {}", op.as_str(), format_value(value))
        }
        Condition::In { attr, values } => {
            format!(
                "{attr} in [{}]",
                values
                    .iter()
                    .map(format_value)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Condition::Has(a) => format!("has {a}"),
        Condition::Truthy(a) => a.clone(),
        Condition::CompareCase {
            attr,
            op,
            case_attr,
        } => format!("{attr} {} case.{case_attr}", op.as_str()),
        Condition::InRegister {
            attr,
            register,
            filter,
            days,
        } => {
            let lookup = match filter {
                Some(f) => format!("{attr} in {}({})", register.name, format_condition(f)),
                None => format!("{attr} in {}", register.name),
            };
            match days {
                0 => lookup,
                1 => format!("{lookup} for 1 day"),
                n => format!("{lookup} for {n} days"),
            }
        }
        Condition::Not(inner) => format!("not {}", wrap(inner, 3)),
        Condition::And(parts) => parts
            .iter()
            .map(|p| wrap(p, 3))
            .collect::<Vec<_>>()
            .join(" and "),
        Condition::Or(parts) => parts
            .iter()
            .map(|p| wrap(p, 2))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

pub(crate) fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

/// A string literal whose value is `s`: Chinese and every other printable character as it is,
/// quotes, backslashes and control characters escaped (an invisible character in a title
/// would otherwise be lost on a reader).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
