//! Notification clauses on one case (SEMANTICS.md, "Notifications" and its fine print).
//!
//! A `notify` clause names the cases it applies to (`when kind == "notice" and topic in [...]`),
//! the event its limit counts from (`from`, default `opened`), an optional limit, the required
//! channels and audiences of `notified` events (all of them, or any one), an optional coverage
//! floor on `reached / total`, and an optional channel that the first contact must use.
//!
//! As for deadlines, evaluation is split in two so the streaming engine can finish a case before
//! `now` is known: `case_facts` extracts what the events say (`NoticeFacts`), and `resolve`
//! turns the facts into [`Finding`]s as of `now`.
//!
//! # Findings and their codes
//!
//! Codes are stable; tools may match on them.
//!
//! | code | when | `at` |
//! | --- | --- | --- |
//! | `notify.channel_missing` | a required channel (`all`), or every channel of an `any` set, has no `notified` event, and the window has closed | the due time (the `closed` event without a limit) |
//! | `notify.channel_late` | a required channel's first `notified` event is after the due time; for `any`, the earliest channel used, when none was on time | the late event |
//! | `notify.audience_missing` | as `channel_missing`, for `audience` | as above |
//! | `notify.audience_late` | as `channel_late`, for `audience` | the late event |
//! | `notify.coverage_short` | the coverage (see below) is below the floor once the window has closed | the event whose counts decided |
//! | `notify.coverage_unknown` | a floor is set, the window has closed, and no `notified` event carries usable `reached`/`total` counts | as `channel_missing` |
//! | `notify.first_contact_channel` | the first event matching the `first` trigger used a channel outside the list, or named none | that event |
//! | `notify.lead_unknown` | a lead time (`at least 15 days before starts_at`) is set and the case's attribute is missing or not a timestamp | the start |
//!
//! A lead time makes `ATTR − lead` a due time of every channel and audience (with a `within`
//! limit too, the earlier of the two), so a notice sent later is `channel_late` and none at all
//! `channel_missing`. The attribute is an RFC 3339 timestamp, or a local one in the policy zone.
//!
//! # Readings of the rules
//!
//! - **The start** is the first event matching `from` (default `opened`); a case whose start has
//!   not happened gets no findings ("no start, no verdict"). The clause applies when the case's
//!   attributes as merged up to `now` satisfy `when` and its effective dates hold on the start's
//!   date, as for deadlines. A notice is one case with one start: `reopened` does not start a new
//!   round of notices.
//! - **Which events count.** `notified` events at or after the start instant (one at the same
//!   instant counts, as a stop does for a deadline); earlier ones belong to no window. A channel
//!   (`attrs.channel`) or audience (`attrs.audience`) may be a string or a list of strings.
//! - **Timing.** A channel's first `notified` event decides it: at or before the due time is on
//!   time (the deciding instant is inclusive), after it is *late*. A channel never sent is
//!   *missing*, but only once the window has closed: while `now` is not past the due time, a
//!   channel not sent yet is not a finding (it may still be sent on time).
//! - **No limit.** A clause without a limit has no late findings; its window closes when the case
//!   is `closed` (the first `closed` at or after the start). Channels still missing then are
//!   missing; before that nothing is reported.
//! - **`any` sets** give at most one finding: none when some channel was used on time; else one
//!   *late* finding naming the earliest channel used; else one *missing* finding.
//! - **Coverage** is judged once the window has closed, on every `notified` event from the start
//!   up to `now` (counts may arrive after the limit: they describe the notices sent). It is the
//!   `reached/total` of the latest `notified` event with `channel: "all"` and usable counts, when
//!   the system reports the union; otherwise the highest `reached/total` among the notice's
//!   events, a lower bound of the households reached. Counts are usable when both are numbers,
//!   `total > 0` and `reached >= 0`. The comparison is exact: `reached × 1000 >= floor ×
//!   total`, so 94.9 % is short of a 95 % floor and 95 % exactly is not.
//! - **First contact.** `first contacted or acknowledged via phone`: the first event at or after
//!   the start matching the trigger must carry a `channel` in the list. It is decided by that
//!   event alone, so it is reported whatever `now` is; a case with no such event has no finding
//!   (how soon the first contact happens is a deadline clause's business). Combined with a `when`
//!   on the case (`segment == "elderly"`), it encodes a channel preference by segment.

use super::case::{names_role, plan_kind, CaseView, KindPlan};
use super::clock::resolve_limit;
use super::verdict::{format_duration, rfc3339, Finding};
use crate::eval::case_ref::OnCase;
use crate::event::{Event, Instant};
use crate::policy::{ClauseBody, Notify, Policy, Required, Trigger};
use crate::value::Value;
use chrono_tz::Tz;
use std::sync::Arc;

/// Stable finding codes of notification clauses.
pub mod code {
    pub const CHANNEL_MISSING: &str = "notify.channel_missing";
    pub const CHANNEL_LATE: &str = "notify.channel_late";
    pub const AUDIENCE_MISSING: &str = "notify.audience_missing";
    pub const AUDIENCE_LATE: &str = "notify.audience_late";
    pub const COVERAGE_SHORT: &str = "notify.coverage_short";
    pub const COVERAGE_UNKNOWN: &str = "notify.coverage_unknown";
    pub const FIRST_CONTACT_CHANNEL: &str = "notify.first_contact_channel";
}

/// A notification clause prepared for evaluation.
pub(crate) type NoticePlan<'p> = KindPlan<'p, Notify>;

/// The notification clauses of `policies`, in policy and clause order.
pub(crate) fn plan(policies: &[Policy]) -> Vec<NoticePlan<'_>> {
    plan_kind(policies, |body| match body {
        ClauseBody::Notify(b) => Some(b),
        _ => None,
    })
}

/// `reached` and `total` of one `notified` event.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Counts {
    pub reached: f64,
    pub total: f64,
    pub at: Instant,
    /// True for a report of the union (`channel: "all"`).
    pub union: bool,
}

impl Counts {
    fn of(event: &Event) -> Option<Counts> {
        let reached = event.attrs.get("reached").and_then(Value::as_f64)?;
        let total = event.attrs.get("total").and_then(Value::as_f64)?;
        let usable = reached.is_finite() && total.is_finite() && total > 0.0 && reached >= 0.0;
        usable.then(|| Counts {
            reached,
            total,
            at: event.at,
            union: names_role(event.attrs.get("channel"), "all"),
        })
    }

    /// `self` covers strictly more than `other`; exact for integer counts below 2^53.
    fn above(&self, other: &Counts) -> bool {
        self.reached * other.total > other.reached * self.total
    }

    /// Whether the ratio is at least `permille / 1000`.
    fn meets(&self, permille: u32) -> bool {
        self.reached * 1000.0 >= f64::from(permille) * self.total
    }

    /// The ratio in per-mille, rounded down, for messages: a shortfall never reads as the floor.
    fn permille(&self) -> f64 {
        (self.reached * 1000.0 / self.total).floor()
    }
}

/// What a coverage floor has to judge.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum CoverageFact {
    NoFloor,
    /// A floor, and no event with usable counts.
    Unknown(u32),
    /// A floor and the deciding counts.
    Known(u32, Counts),
}

/// The first event of the `first` trigger, when it used a channel outside the list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct WrongFirstContact {
    pub at: Instant,
    pub kind: Box<str>,
    /// The channel it used; `None` when it names none.
    pub channel: Option<String>,
}

/// The `now`-independent facts of one notification clause on one case.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct NoticeFacts {
    /// Index into the evaluator's notice plans.
    pub plan: usize,
    /// The due time of every channel and audience; `None` without a limit.
    pub due: Option<Instant>,
    /// The first `closed` at or after the start: closes the window of a clause without a limit.
    pub closed: Option<Instant>,
    /// The zone reports show instants in: the limit's calendar's, or the policy's.
    pub zone: Tz,
    /// Per required channel, in the clause's order: its first `notified` instant.
    pub channels: Vec<Option<Instant>>,
    /// Per required audience, in the clause's order: its first `notified` instant.
    pub audiences: Vec<Option<Instant>>,
    pub coverage: CoverageFact,
    pub first_contact: Option<WrongFirstContact>,
    /// With a lead time whose case attribute is missing or not a timestamp: the start instant
    /// (a `notify.lead_unknown` finding there, never a silent pass).
    pub lead_unknown: Option<Instant>,
}

impl NoticeFacts {
    /// The instant the window closed, if it has by `now`: the due time once `now` is past it;
    /// without a limit, the case's `closed` event.
    fn window_closed(&self, now: Instant) -> Option<Instant> {
        match self.due {
            Some(due) => (now > due).then_some(due),
            None => self.closed.filter(|&c| c <= now),
        }
    }

    /// True when the findings are the same for every `now` at or after `watermark`, the latest
    /// instant of the stream so far (itself at or after every event of the case).
    pub fn settled_by(&self, watermark: Instant) -> bool {
        match self.due {
            Some(due) => due < watermark,
            None => true,
        }
    }
}

/// Per required name, the instant of the first `notified` event naming it in `attr`.
fn first_notified(
    notified: &[&Event],
    required: Option<&Required>,
    attr: &str,
) -> Vec<Option<Instant>> {
    let Some(required) = required else {
        return Vec::new();
    };
    required
        .names
        .iter()
        .map(|name| {
            notified
                .iter()
                .find(|e| names_role(e.attrs.get(attr), name))
                .map(|e| e.at)
        })
        .collect()
}

/// The counts that decide coverage (see the module doc).
fn coverage(notified: &[&Event], floor: Option<u32>) -> CoverageFact {
    let Some(floor) = floor else {
        return CoverageFact::NoFloor;
    };
    let mut union: Option<Counts> = None;
    let mut best: Option<Counts> = None;
    for counts in notified.iter().filter_map(|e| Counts::of(e)) {
        if counts.union {
            // Events are in canonical order: the last one is the latest report.
            union = Some(counts);
        } else if best.is_none_or(|b| counts.above(&b)) {
            best = Some(counts);
        }
    }
    match union.or(best) {
        Some(c) => CoverageFact::Known(floor, c),
        None => CoverageFact::Unknown(floor),
    }
}

/// The first event matching `trigger` at or after `start`, when it did not use a channel of
/// `allowed`.
fn first_contact(
    events: &[Event],
    start: Instant,
    trigger: &Trigger,
    allowed: &[String],
) -> Option<WrongFirstContact> {
    let first = events
        .iter()
        .filter(|e| e.at >= start)
        .find(|e| trigger.on_case(events, e))?;
    let channel = first.attrs.get("channel");
    if allowed.iter().any(|c| names_role(channel, c)) {
        return None;
    }
    let channel = channel.map(|v| match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    });
    Some(WrongFirstContact {
        at: first.at,
        kind: first.kind.as_str().into(),
        channel,
    })
}

/// Appends the facts of every notification clause that applies to the case.
pub(crate) fn case_facts(
    view: &CaseView<'_>,
    plans: &[NoticePlan<'_>],
    out: &mut Vec<NoticeFacts>,
) {
    if !view.opened {
        return;
    }
    for (index, plan) in plans.iter().enumerate() {
        if !view.applies(&plan.guard, &plan.clause.applies) {
            continue;
        }
        let n = plan.body;
        let Some(start_event) = view.events.iter().find(|e| n.start.on_case(view.events, e)) else {
            continue;
        };
        let start = start_event.at;
        if !plan.clause.holds_at(plan.policy_zone, start) {
            continue;
        }
        let (due, zone) = match &n.limit {
            Some(limit) => {
                let (counting, amount, zone) = resolve_limit(limit, start, plan.policy_zone);
                (Some(counting.add(start, amount)), zone)
            }
            None => (None, plan.policy_zone),
        };
        // A lead time (`at least 15 days before starts_at`) is a due time too: the case's
        // timestamp attribute minus the lead; with a limit as well, the earlier one holds.
        let mut lead_unknown = None;
        let due = match &n.lead {
            Some(lead) => {
                let at = view
                    .attrs
                    .get(&lead.attr)
                    .and_then(crate::value::Value::as_str)
                    .and_then(|s| crate::input::parse_timestamp(s, Some(plan.policy_zone)).ok())
                    .and_then(|t| t.checked_sub_signed(lead.before));
                match at {
                    Some(lead_due) => Some(due.map_or(lead_due, |d: Instant| d.min(lead_due))),
                    None => {
                        lead_unknown = Some(start);
                        due
                    }
                }
            }
            None => due,
        };
        let from = view.events.partition_point(|e| e.at < start);
        let after = &view.events[from..];
        let notified: Vec<&Event> = after.iter().filter(|e| &*e.kind == "notified").collect();
        out.push(NoticeFacts {
            plan: index,
            due,
            closed: after.iter().find(|e| &*e.kind == "closed").map(|e| e.at),
            zone,
            channels: first_notified(&notified, n.channels.as_ref(), "channel"),
            audiences: first_notified(&notified, n.audiences.as_ref(), "audience"),
            coverage: coverage(&notified, n.coverage_permille),
            first_contact: n
                .first_contact
                .as_ref()
                .and_then(|(trigger, allowed)| first_contact(view.events, start, trigger, allowed)),
            lead_unknown,
        });
    }
}

/// `95 %`, `94.9 %`: a per-mille value as a quality officer reads it.
fn percent(permille: f64) -> String {
    if permille % 10.0 == 0.0 {
        format!("{} %", permille / 10.0)
    } else {
        format!("{:.1} %", permille / 10.0)
    }
}

fn names_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One kind of required names (channels or audiences) and how findings about it read.
struct RequiredKind {
    missing: &'static str,
    late: &'static str,
    /// `notice on` for channels, `notice to` for audiences.
    noun: &'static str,
    /// `notice sent` for channels, `notified` for audiences.
    sent: &'static str,
}

const CHANNELS: RequiredKind = RequiredKind {
    missing: code::CHANNEL_MISSING,
    late: code::CHANNEL_LATE,
    noun: "notice on",
    sent: "notice sent",
};

const AUDIENCES: RequiredKind = RequiredKind {
    missing: code::AUDIENCE_MISSING,
    late: code::AUDIENCE_LATE,
    noun: "notice to",
    sent: "notified",
};

/// The findings of one notification clause on one case as of `now`, appended to `out` (in no
/// particular order: the caller sorts).
pub(crate) fn resolve(
    facts: &NoticeFacts,
    plan: &NoticePlan<'_>,
    ticket: &Arc<str>,
    now: Instant,
    out: &mut Vec<Finding>,
) {
    let zone = facts.zone;
    let mut push = |code: &'static str, at: Instant, message: String| {
        out.push(Finding {
            ticket: ticket.clone(),
            policy: plan.policy.clone(),
            clause: plan.name.clone(),
            clause_ref: plan.clause_ref,
            code,
            at,
            message,
            zone,
        })
    };
    let closed = facts.window_closed(now);
    let n = plan.body;
    if let (Some(at), Some(lead)) = (facts.lead_unknown, &n.lead) {
        push(
            "notify.lead_unknown",
            at,
            format!(
                "the case has no timestamp `{}` to count the lead time of {} back from",
                lead.attr,
                format_duration(lead.before)
            ),
        );
    }
    let groups = [
        (n.channels.as_ref(), &facts.channels, &CHANNELS),
        (n.audiences.as_ref(), &facts.audiences, &AUDIENCES),
    ];
    for (required, firsts, kind) in groups {
        let Some(required) = required else {
            continue;
        };
        let late_by = |at: Instant| facts.due.filter(|&due| at > due).map(|due| (due, at - due));
        let late_message = |name: &str, at: Instant, due: Instant, by| {
            format!(
                "`{name}` {} at {}, {} after the limit (due {})",
                kind.sent,
                rfc3339(at, zone),
                format_duration(by),
                rfc3339(due, zone)
            )
        };
        let deadline_text = |at: Instant| match facts.due {
            Some(_) => format!("by {}", rfc3339(at, zone)),
            None => format!("before the case was closed at {}", rfc3339(at, zone)),
        };
        if required.all {
            for (name, first) in required.names.iter().zip(firsts.iter()) {
                match first {
                    Some(at) => {
                        if let Some((due, by)) = late_by(*at) {
                            push(kind.late, *at, late_message(name, *at, due, by));
                        }
                    }
                    None => {
                        if let Some(end) = closed {
                            let text = format!("no {} `{name}` {}", kind.noun, deadline_text(end));
                            push(kind.missing, end, text);
                        }
                    }
                }
            }
        } else {
            let used = required
                .names
                .iter()
                .zip(firsts.iter())
                .filter_map(|(name, first)| first.map(|at| (at, name)))
                .min();
            match used {
                Some((at, name)) => {
                    if let Some((due, by)) = late_by(at) {
                        push(kind.late, at, late_message(name, at, due, by));
                    }
                }
                None => {
                    if let Some(end) = closed {
                        let text = format!(
                            "no {} any of {} {}",
                            kind.noun,
                            names_list(&required.names),
                            deadline_text(end)
                        );
                        push(kind.missing, end, text);
                    }
                }
            }
        }
    }
    if let Some(end) = closed {
        match facts.coverage {
            CoverageFact::NoFloor => {}
            CoverageFact::Unknown(floor) => push(
                code::COVERAGE_UNKNOWN,
                end,
                format!(
                    "no `notified` event reports `reached` and `total` as numbers (`total` above \
                     0), so the coverage floor of {} cannot be checked",
                    percent(f64::from(floor))
                ),
            ),
            CoverageFact::Known(floor, counts) => {
                if !counts.meets(floor) {
                    let basis = if counts.union {
                        "all channels"
                    } else {
                        "best single channel, a lower bound"
                    };
                    push(
                        code::COVERAGE_SHORT,
                        counts.at,
                        format!(
                            "coverage {} ({} of {} reached, {basis}) is below the floor of {}",
                            percent(counts.permille()),
                            Value::Number(counts.reached),
                            Value::Number(counts.total),
                            percent(f64::from(floor))
                        ),
                    );
                }
            }
        }
    }
    if let (Some(wrong), Some((_, allowed))) = (&facts.first_contact, &n.first_contact) {
        let used = match &wrong.channel {
            Some(c) => format!("used `{c}`"),
            None => "names no channel".to_string(),
        };
        push(
            code::FIRST_CONTACT_CHANNEL,
            wrong.at,
            format!(
                "first `{}` {used}; required: {}",
                wrong.kind,
                names_list(allowed)
            ),
        );
    }
}

/// The canonical order of one case's findings: clause order, then instant, then code (then
/// message, so equal keys still have one order).
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.clause_ref, a.at, a.code, &a.message).cmp(&(b.clause_ref, b.at, b.code, &b.message))
    });
}
