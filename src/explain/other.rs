//! Why a case got (or did not get) findings from the clauses that are not deadlines: which
//! notification channels were used and when, whether the case counts towards a sampling
//! population, a target, a repeat rule, a duty or a time window, in which period, and whether it
//! was drawn for checking. The REPL's `:why` prints it after the deadline clauses
//! ([`super::Explanation::render_with`]).
//!
//! Facts about the case itself are recomputed here from its events with the evaluator's own
//! functions (`notify::case_facts`, `sample_member`, `target_member`), so they cannot disagree
//! with it. What depends on other cases (a period's verdict, a repeat that fired, the findings)
//! is taken from the records of a whole evaluation, passed in [`Records`].
//!
//! **Draws.** Whether a case "was drawn" refers to the draw `pledge sample` makes with its
//! default seed, 0 ([`DRAW_SEED`]): the documented, reproducible draw of the period's
//! population (all cases of the same period and group, which is why [`Records::cases`] holds
//! every loaded case).

use super::{applicability, when, Applicability};
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::eval::notify::{self, CoverageFact, NoticeFacts};
use crate::eval::verdict::{format_duration, Finding, Verdict};
use crate::event::{Event, Instant};
use crate::period::draw::draw;
use crate::period::group::Group;
use crate::period::records::{PeriodRecord, SampleStatus, TargetStatus, TargetVerdict};
use crate::period::sampling::{required, sample_member};
use crate::period::target::target_member;
use crate::period::SampleVerdict;
use crate::policy::{Clause, ClauseBody, DutyRule, Measure, Policy, Required};
use crate::syntax::{format_limit, format_trigger};
use std::fmt::Write as _;
use std::sync::Arc;

/// The seed of the draw `:why` reports on: `pledge sample`'s default.
pub const DRAW_SEED: u64 = 0;

/// What a whole evaluation produced, and every loaded case (each sorted canonically), for the
/// facts that depend on other cases.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    pub verdicts: &'a [Verdict],
    pub findings: &'a [Finding],
    pub periods: &'a [PeriodRecord],
    pub cases: &'a [&'a [Event]],
}

/// The clauses other than deadlines on one case: a block of lines per clause that applies, and
/// one line per clause that does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtherExplanation {
    pub blocks: Vec<String>,
    pub not_applying: Vec<String>,
    /// The reasons of each line of `not_applying`, for a one-line summary of them.
    pub not_applying_reasons: Vec<Vec<String>>,
}

/// Explains every clause other than deadlines of `policies` on the case of `events`, as of
/// `now`.
pub fn explain_other_clauses(
    policies: &[Policy],
    events: &[Event],
    now: Instant,
    records: Records<'_>,
) -> OtherExplanation {
    let mut sorted: Vec<Event> = events.iter().filter(|e| e.at <= now).cloned().collect();
    sorted.sort_by(Event::canonical_cmp);
    let mut out = OtherExplanation::default();
    let Some(first) = sorted.first() else {
        return out;
    };
    let ticket: Arc<str> = Arc::from(&*first.ticket);
    let view = CaseView::new(&sorted);
    if !view.opened {
        return out;
    }
    let notice_plans = notify::plan(policies);
    let mut notice_facts = Vec::new();
    notify::case_facts(&view, &notice_plans, &mut notice_facts);
    let mut notice_index = 0;
    for policy in policies {
        for clause in &policy.clauses {
            let is_notice = matches!(clause.body, ClauseBody::Notify(_));
            let index = notice_index;
            if is_notice {
                notice_index += 1;
            }
            if matches!(clause.body, ClauseBody::Deadline(_)) {
                continue;
            }
            let name = format!("{}/{}", policy.name, clause.name);
            let applies = applicability(&clause.applies, &view.attrs);
            if let Applicability::Fails { condition, reasons } = &applies {
                out.not_applying.push(format!(
                    "  {name} ({}): `{condition}` is false: {}",
                    clause.body.keyword(),
                    reasons.join("; ")
                ));
                out.not_applying_reasons.push(reasons.clone());
                continue;
            }
            let mut text = String::new();
            let title = clause
                .title
                .as_deref()
                .map(|t| format!(" \"{t}\""))
                .unwrap_or_default();
            let _ = writeln!(text, "{name}{title} ({})", clause.body.keyword());
            match &applies {
                Applicability::Always => {
                    let _ = writeln!(text, "  applies to every case (no `when`)");
                }
                Applicability::Holds { condition, values } => {
                    let _ = writeln!(
                        text,
                        "  applies: `{condition}` holds ({})",
                        super::values_text(values)
                    );
                }
                Applicability::Fails { .. } => {}
            }
            let ctx = Context {
                policy,
                clause,
                view: &view,
                ticket: &ticket,
                now,
                records,
            };
            match &clause.body {
                ClauseBody::Notify(_) => {
                    let facts = notice_facts.iter().find(|f| f.plan == index);
                    explain_notice(&mut text, &ctx, facts);
                }
                ClauseBody::Sample(_) => explain_sample(&mut text, &ctx),
                ClauseBody::Target(_) => explain_target(&mut text, &ctx),
                ClauseBody::Repeat(_) => explain_repeat(&mut text, &ctx),
                ClauseBody::Every(_) | ClauseBody::Window(_) => {
                    explain_duty_or_window(&mut text, &ctx)
                }
                ClauseBody::Record(r) => explain_record(&mut text, &ctx, r),
                ClauseBody::Deadline(_) => {}
            }
            if matches!(
                clause.body,
                ClauseBody::Notify(_) | ClauseBody::Every(_) | ClauseBody::Window(_)
            ) {
                findings(&mut text, &ctx);
            }
            out.blocks.push(text);
        }
    }
    out
}

/// What every clause's explanation reads.
struct Context<'a, 'e> {
    policy: &'a Policy,
    clause: &'a Clause,
    view: &'a CaseView<'e>,
    ticket: &'a Arc<str>,
    now: Instant,
    records: Records<'a>,
}

impl Context<'_, '_> {
    fn is_this_clause(&self, policy: &str, clause: &str) -> bool {
        policy == self.policy.name && clause == self.clause.name
    }
}

/// The case's findings of the clause, or that it has none.
fn findings(out: &mut String, ctx: &Context<'_, '_>) {
    let mine: Vec<&Finding> = ctx
        .records
        .findings
        .iter()
        .filter(|f| f.ticket == *ctx.ticket && ctx.is_this_clause(&f.policy, &f.clause))
        .collect();
    if mine.is_empty() {
        let _ = writeln!(out, "  no finding");
    }
    for f in mine {
        let _ = writeln!(out, "  finding `{}`: {}", f.code, f.message);
    }
}

/// The rule of an `every` clause and the events a duty or window clause looked at.
fn explain_duty_or_window(out: &mut String, ctx: &Context<'_, '_>) {
    let trigger = match &ctx.clause.body {
        ClauseBody::Every(d) => {
            let rule = match &d.rule {
                DutyRule::Gap(limit) => format!(
                    "every {}",
                    format_limit(limit).trim_start_matches("within ")
                ),
                DutyRule::Quota { count, per, on } => format!(
                    "at least {count} per {}{}",
                    per.as_str(),
                    on.as_ref()
                        .map(|c| format!(" (working days on {})", c.name))
                        .unwrap_or_default()
                ),
                DutyRule::PerAlert { count } => format!("at least {count} per alert"),
                DutyRule::Cover { until } => {
                    format!("starts a shift that `{}` ends", format_trigger(until))
                }
            };
            let _ = writeln!(out, "  duty: `{}` {rule}", format_trigger(&d.event));
            if let Some(alert) = &d.during {
                let _ = writeln!(out, "  during: the periods of alert `{alert}`");
            }
            &d.event
        }
        ClauseBody::Window(w) => {
            if w.each {
                let unit = if w.season.is_some() { "year" } else { "day" };
                let _ = writeln!(
                    out,
                    "  presence: each window of each {unit} on the subject's range owes an event"
                );
            }
            &w.event
        }
        _ => return,
    };
    let matching: Vec<&Event> = ctx
        .view
        .events
        .iter()
        .filter(|e| trigger.on_case(ctx.view.events, e))
        .collect();
    match matching.last() {
        None => {
            let _ = writeln!(out, "  no `{}` event", format_trigger(trigger));
        }
        Some(last) => {
            let z = ctx.policy.zone;
            let _ = writeln!(
                out,
                "  {} `{}` event(s), from {} to {}",
                matching.len(),
                format_trigger(trigger),
                when(matching[0].at, z),
                when(last.at, z)
            );
        }
    }
}

/// Each item of a record clause and what the case's events say of it as of `now`.
fn explain_record(out: &mut String, ctx: &Context<'_, '_>, record: &crate::policy::Record) {
    let items = crate::eval::record::explain_items(
        record,
        ctx.view.events,
        &ctx.view.attrs,
        ctx.now,
        ctx.policy.zone,
    );
    let closed = ctx
        .view
        .events
        .iter()
        .rev()
        .find(|e| matches!(&*e.kind, "closed" | "reopened"))
        .is_some_and(|e| &*e.kind == "closed");
    for ((text, found), item) in items.into_iter().zip(&record.items) {
        let pending = found
            .is_none()
            .then(|| {
                crate::eval::record::item_pending(
                    item,
                    ctx.view.events,
                    &ctx.view.attrs,
                    ctx.now,
                    ctx.policy.zone,
                )
            })
            .flatten();
        match found {
            Some((code, what)) => {
                let _ = writeln!(out, "  `{text}`: finding `{code}`: {what}");
            }
            None if pending.is_some() => {
                let why = pending.unwrap_or_default();
                let _ = writeln!(out, "  `{text}`: pending ({why})");
            }
            None if closed => {
                let _ = writeln!(out, "  `{text}`: met");
            }
            None => {
                let _ = writeln!(
                    out,
                    "  `{text}`: no finding so far (the case is open: a step, count or follow-up still short is pending)"
                );
            }
        }
    }
}

fn explain_notice(out: &mut String, ctx: &Context<'_, '_>, facts: Option<&NoticeFacts>) {
    let ClauseBody::Notify(n) = &ctx.clause.body else {
        return;
    };
    let start = ctx
        .view
        .events
        .iter()
        .find(|e| n.start.on_case(ctx.view.events, e));
    let (Some(facts), Some(start)) = (facts, start) else {
        let why = match start {
            None => format!(
                "no notice to check yet: no `{}` event",
                format_trigger(&n.start)
            ),
            Some(_) => "this version of the clause is not in effect on the date the notice started"
                .to_string(),
        };
        let _ = writeln!(out, "  {why}");
        return;
    };
    let z = facts.zone;
    let _ = writeln!(out, "  starts {} at `{}`", when(start.at, z), start.kind);
    let window_open = match facts.due {
        Some(due) => {
            let _ = writeln!(out, "  due {}", when(due, z));
            ctx.now <= due
        }
        None => {
            match facts.closed.filter(|&c| c <= ctx.now) {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "  no time limit: the window closed with `closed` at {}",
                        when(c, z)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  no time limit: the window closes when the case is closed (not yet)"
                    );
                }
            }
            facts.closed.is_none_or(|c| c > ctx.now)
        }
    };
    let required = |out: &mut String,
                    noun: &str,
                    req: Option<&Required>,
                    firsts: &[Option<Instant>]| {
        let Some(req) = req else {
            return;
        };
        let _ = writeln!(
            out,
            "  {noun} ({} of):",
            if req.all { "all" } else { "any one" }
        );
        for (name, first) in req.names.iter().zip(firsts) {
            let state = match (first, facts.due) {
                (Some(at), Some(due)) if *at > due => {
                    format!("sent {}, {} late", when(*at, z), format_duration(*at - due))
                }
                (Some(at), Some(_)) => format!("sent {}, on time", when(*at, z)),
                (Some(at), None) => format!("sent {}", when(*at, z)),
                (None, _) if window_open => "not sent yet (the window is still open)".to_string(),
                (None, _) => "not sent: missing".to_string(),
            };
            let _ = writeln!(out, "    `{name}`: {state}");
        }
    };
    required(out, "channels", n.channels.as_ref(), &facts.channels);
    required(out, "audiences", n.audiences.as_ref(), &facts.audiences);
    match facts.coverage {
        CoverageFact::NoFloor => {}
        CoverageFact::Unknown(floor) => {
            let _ = writeln!(
                out,
                "  coverage: no `notified` event carries usable `reached` and `total` counts (floor {})",
                permille_text(f64::from(floor))
            );
        }
        CoverageFact::Known(floor, c) => {
            let ratio = (c.reached * 1000.0 / c.total).floor();
            let met = c.reached * 1000.0 >= f64::from(floor) * c.total;
            let _ = writeln!(
                out,
                "  coverage: {} of {} reached = {} ({}, {}) against a floor of {}: {}",
                c.reached,
                c.total,
                permille_text(ratio),
                if c.union {
                    "all channels together"
                } else {
                    "the best single channel"
                },
                when(c.at, z),
                permille_text(f64::from(floor)),
                if met { "met" } else { "short" }
            );
        }
    }
    if let Some((_, allowed)) = &n.first_contact {
        match &facts.first_contact {
            Some(w) => {
                let _ = writeln!(
                    out,
                    "  first contact: `{}` at {} used {}, not one of {}",
                    w.kind,
                    when(w.at, z),
                    w.channel
                        .as_deref()
                        .map_or("no channel".to_string(), |c| format!("`{c}`")),
                    allowed
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  first contact: on an allowed channel, or not yet made"
                );
            }
        }
    }
}

/// `95%`, `94.9%`.
fn permille_text(permille: f64) -> String {
    if permille % 10.0 == 0.0 {
        format!("{}%", permille / 10.0)
    } else {
        format!("{:.1}%", permille / 10.0)
    }
}

fn group_text(group: &Group) -> String {
    if group.values.is_empty() {
        String::new()
    } else {
        format!(" (group {})", group.label())
    }
}

fn explain_sample(out: &mut String, ctx: &Context<'_, '_>) {
    let ClauseBody::Sample(s) = &ctx.clause.body else {
        return;
    };
    let zone = ctx.policy.zone;
    let Some(m) = sample_member(ctx.clause, s, zone, ctx.view) else {
        let _ = writeln!(
            out,
            "  not in the population: no `{}` event (in the clause's effective dates)",
            format_trigger(&s.population)
        );
        return;
    };
    let role = if s.role == crate::policy::ANY_ROLE {
        "anyone".to_string()
    } else {
        format!("`{}`", s.role)
    };
    let evidence = format_trigger(&s.evidence);
    let _ = writeln!(
        out,
        "  in the population of {}{}: {}",
        m.period.label(),
        group_text(&m.group),
        if m.done {
            format!("checked (a `{evidence}` event by {role})")
        } else {
            format!("not checked (no `{evidence}` event by {role} in the period or its lag)")
        }
    );
    let verdict = ctx.records.periods.iter().find_map(|r| match r {
        PeriodRecord::Sample(v)
            if ctx.is_this_clause(&v.policy, &v.clause)
                && v.period == m.period
                && v.group == m.group =>
        {
            Some(v)
        }
        _ => None,
    });
    if let Some(v) = verdict {
        let _ = writeln!(out, "  the period: {}", sample_text(v));
    }
    // The draw of the same period and group, over every loaded case.
    let mut population: Vec<Arc<str>> = Vec::new();
    for events in ctx.records.cases {
        let upto = events.partition_point(|e| e.at <= ctx.now);
        let view = CaseView::new(&events[..upto]);
        if let Some(other) = sample_member(ctx.clause, s, zone, &view) {
            if other.period == m.period && other.group == m.group {
                if let Some(e) = events.first() {
                    population.push(Arc::from(&*e.ticket));
                }
            }
        }
    }
    let needed = required(s.ratio_permille, population.len() as u64);
    let drawn = draw(&population, needed, DRAW_SEED);
    match drawn.iter().position(|(t, _)| *t == *ctx.ticket) {
        Some(rank) => {
            let _ = writeln!(
                out,
                "  drawn for checking: rank {} of {needed} in the draw of `pledge sample` (seed {DRAW_SEED})",
                rank + 1
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  not drawn: the draw of `pledge sample` (seed {DRAW_SEED}) takes {needed} of {} case(s)",
                population.len()
            );
        }
    }
}

/// `1 of 2 required checks done among 4 case(s): short`.
pub fn sample_text(v: &SampleVerdict) -> String {
    match v.status {
        SampleStatus::Empty => "no case in the population".to_string(),
        status => format!(
            "{} of {} required check(s) done among {} case(s): {}",
            v.done,
            v.required,
            v.population,
            status.as_str()
        ),
    }
}

/// `75% < 80% (3 of 4): missed`; for an obligation, ``no `root_cause_analysed` by
/// 2026-04-16T00:00:00+08:00 after `urgent_closure_98` missed (50.0% < 98.0%, 1 of 2): missed``.
pub fn target_text(v: &TargetVerdict) -> String {
    if let Some(o) = &v.obligation {
        let target = TargetVerdict {
            obligation: None,
            status: TargetStatus::Missed,
            ..v.clone()
        };
        let figures = target_text(&target);
        let figures = figures.strip_suffix(": missed").unwrap_or(&figures);
        return format!("{}, {figures}: {}", o.text(v.zone), o.status.as_str());
    }
    if let Some(m) = &v.measure {
        return format!("{}: {}", m.text(), v.status.as_str());
    }
    let Some(ratio) = v.ratio_permille() else {
        return "no case: no verdict".to_string();
    };
    let cmp = match (v.at_least, v.status == TargetStatus::Met) {
        (true, true) => "≥",
        (true, false) => "<",
        (false, true) => "≤",
        (false, false) => ">",
    };
    // A ratio just over an `at most` bound shows a second decimal, not the bound itself.
    let shown = match v.ratio_text() {
        Some(text) if ratio == u64::from(v.bound_permille) && v.status != TargetStatus::Met => {
            format!("{text}%")
        }
        _ => permille_text(ratio as f64),
    };
    format!(
        "{shown} {cmp} {} ({} of {}): {}",
        permille_text(f64::from(v.bound_permille)),
        v.hits,
        v.total,
        v.status.as_str()
    )
}

fn explain_target(out: &mut String, ctx: &Context<'_, '_>) {
    let ClauseBody::Target(t) = &ctx.clause.body else {
        return;
    };
    let zone = ctx.policy.zone;
    let period_of = |period, group: &Group| {
        ctx.records.periods.iter().find_map(|r| match r {
            PeriodRecord::Target(v)
                if ctx.is_this_clause(&v.policy, &v.clause)
                    && v.period == period
                    && v.group == *group =>
            {
                Some(v)
            }
            _ => None,
        })
    };
    match &t.measure {
        Measure::Events { success, among } => {
            let Some(m) = target_member(ctx.clause, t, success, among, zone, ctx.view) else {
                let _ = writeln!(
                    out,
                    "  not counted: no `{}` event (in the clause's effective dates)",
                    format_trigger(among)
                );
                return;
            };
            let _ = writeln!(
                out,
                "  counts in {}{}: {}",
                m.period.label(),
                group_text(&m.group),
                if m.hit {
                    format!("a hit (has `{}`)", format_trigger(success))
                } else {
                    format!("not a hit (no `{}` event)", format_trigger(success))
                }
            );
            if let Some(v) = period_of(m.period, &m.group) {
                let _ = writeln!(out, "  the period: {}", target_text(v));
            }
        }
        Measure::Stat(m) => {
            use crate::period::measure::{measure_member, Sample};
            let samples = measure_member(ctx.clause, t, m, zone, ctx.view);
            if samples.is_empty() {
                let _ = writeln!(
                    out,
                    "  not counted: no `{}` event (in the clause's effective dates){}",
                    format_trigger(&m.start),
                    m.stop.as_ref().map_or_else(String::new, |s| format!(
                        ", or a `{}` before it",
                        format_trigger(s)
                    ))
                );
                return;
            }
            // Counted events of one period and group are told once, with their number.
            let mut rows: Vec<(_, _, Sample, usize)> = Vec::new();
            for (period, group, sample) in samples {
                match rows.last_mut() {
                    Some((p, g, Sample::Counted, n))
                        if sample == Sample::Counted && *p == period && *g == group =>
                    {
                        *n += 1
                    }
                    _ => rows.push((period, group, sample, 1)),
                }
            }
            let mut shown = Vec::new();
            for (period, group, sample, n) in rows {
                let what = match sample {
                    Sample::Counted => {
                        format!("{n} `{}` event(s) counted", format_trigger(&m.start))
                    }
                    Sample::Running => format!(
                        "running (no `{}` yet): not measured",
                        m.stop.as_ref().map_or_else(String::new, format_trigger)
                    ),
                    Sample::Duration(ms) => format!(
                        "a duration of {}",
                        crate::period::records::duration_text(
                            i64::try_from(ms).unwrap_or(i64::MAX)
                        )
                    ),
                    // A listed value (`each`) this case's event does not carry.
                    Sample::Present => continue,
                };
                let _ = writeln!(
                    out,
                    "  counts in {}{}: {what}",
                    period.label(),
                    group_text(&group)
                );
                if shown.contains(&period) {
                    continue;
                }
                shown.push(period);
                if let Some(v) = period_of(period, &group) {
                    let _ = writeln!(out, "  the period: {}", target_text(v));
                }
            }
        }
        Measure::Obligation(o) => explain_obligation(out, ctx, o),
        Measure::Verdicts { status, clause } => {
            let group = Group::of(&t.group_by, &ctx.view.attrs);
            let mine: Vec<&Verdict> = ctx
                .records
                .verdicts
                .iter()
                .filter(|v| {
                    v.ticket == *ctx.ticket && *v.policy == ctx.policy.name && *v.clause == **clause
                })
                .collect();
            if mine.is_empty() {
                let _ = writeln!(out, "  not counted: the case has no verdict of `{clause}`");
            }
            for v in mine {
                let Some(period) =
                    crate::period::CalendarPeriod::containing(t.period, zone, v.start)
                else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "  `{clause}` cycle {} ({}) counts in {}{}: {}",
                    v.cycle,
                    v.status,
                    period.label(),
                    group_text(&group),
                    if v.status.as_str() == status {
                        "a hit"
                    } else {
                        "not a hit"
                    }
                );
                if let Some(r) = period_of(period, &group) {
                    let _ = writeln!(out, "  the period {}: {}", period.label(), target_text(r));
                }
            }
        }
    }
}

/// What a case's events do for an obligation clause: the periods each required event marks in
/// its group, and where the obligation of each stands (owed only where the target missed).
fn explain_obligation(out: &mut String, ctx: &Context<'_, '_>, o: &crate::policy::Obligation) {
    use crate::period::obligation::obligation_marks;
    let zone = ctx.policy.zone;
    let Some(ClauseBody::Target(target)) = ctx
        .policy
        .clauses
        .iter()
        .find(|c| c.name == o.target)
        .map(|c| &c.body)
    else {
        let _ = writeln!(out, "  no target `{}` in the policy", o.target);
        return;
    };
    let marks = obligation_marks(
        ctx.clause,
        o,
        target.period,
        &target.group_by,
        zone,
        ctx.view,
    );
    if marks.is_empty() {
        let group = Group::of(&target.group_by, &ctx.view.attrs);
        let why = if group.complete() {
            format!("no `{}` event", format_trigger(&o.event))
        } else {
            format!("no value for `{}`", target.group_by.join("`, `"))
        };
        let _ = writeln!(out, "  counts for no period of `{}`: {why}", o.target);
        return;
    }
    for (period, group, at) in marks {
        let record = ctx.records.periods.iter().find_map(|r| match r {
            PeriodRecord::Target(v)
                if ctx.is_this_clause(&v.policy, &v.clause)
                    && v.period == period
                    && v.group.values.starts_with(&group.values) =>
            {
                Some(v)
            }
            _ => None,
        });
        let standing = match record {
            Some(v) => target_text(v),
            None => format!("`{}` did not miss it: nothing owed", o.target),
        };
        let _ = writeln!(
            out,
            "  `{}` at {} counts for {}{}: {standing}",
            format_trigger(&o.event),
            crate::eval::rfc3339(at, zone),
            period.label(),
            group_text(&group),
        );
    }
}

fn explain_repeat(out: &mut String, ctx: &Context<'_, '_>) {
    let ClauseBody::Repeat(r) = &ctx.clause.body else {
        return;
    };
    let key = Group::of(&r.same, &ctx.view.attrs);
    if !key.complete() {
        let missing: Vec<String> = key
            .values
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        let _ = writeln!(out, "  not counted: the case has no {}", missing.join(", "));
        return;
    }
    let fired: Vec<_> = ctx
        .records
        .periods
        .iter()
        .filter_map(|rec| match rec {
            PeriodRecord::Repeat(a)
                if ctx.is_this_clause(&a.policy, &a.clause)
                    && a.cases.iter().any(|(t, _)| *t == *ctx.ticket) =>
            {
                Some(a)
            }
            _ => None,
        })
        .collect();
    let rule = format!(
        "{} case(s) with the same {} within {}",
        r.times,
        r.same.join(", "),
        format_duration(r.within)
    );
    if fired.is_empty() {
        let _ = writeln!(out, "  counted under {}: no repeat ({rule})", key.label());
    }
    for a in fired {
        let tickets: Vec<&str> = a.cases.iter().map(|(t, _)| &**t).collect();
        let _ = writeln!(
            out,
            "  part of a repeat ({rule}): {}; {} `{}` due {}",
            tickets.join(", "),
            a.kind.as_str(),
            a.role,
            when(a.at, a.zone)
        );
    }
}
