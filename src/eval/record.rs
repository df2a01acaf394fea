//! Record clauses on one case: what the case's own history must show.
//!
//! A `record` clause holds items, each judged on its own over the case's events in canonical
//! order (timestamp order, whatever order they arrived in within the reorder window):
//!
//! | item | finding | when | `at` |
//! | --- | --- | --- | --- |
//! | `EV has a, b` | `record.field_missing` | a matching event lacks an attribute (absent, `null` or empty text) | the first such event |
//! | `EV has attr in [..]` | `record.value_outside` | a matching event (any trigger) has no such attribute or a value outside the set | the first such event |
//! | `steps A, B, C` | `record.out_of_order` | a step's first occurrence is before an earlier step's first occurrence | the earlier step's (later) event |
//! | `steps A, B, C` | `record.step_missing` | a step never happened, and the case is closed | the case's `closed` |
//! | `B only after A` | `record.out_of_order` | a `B` with no `A` at or before it | the first such `B` |
//! | `B at least N [after A]` | `record.count_short` | fewer than N `B` events (at or after the first `A`), and the case is closed | the case's `closed` |
//! | `B at least N distinct by` | `record.actors_short` | fewer than N distinct `by` values among them, and the case is closed | the case's `closed` |
//! | `no B within D after A` | `record.warranty_claim` | a `B` in `(A, A + D]` of the latest `A` before it | that `B` |
//! | `B at most D apart` | `record.gap` | two consecutive `B` events (in time order) more than D apart | the later of the two |
//! | `A followed by B` | `record.not_followed` | an `A` with no other `B` at or after its instant, and the case is closed | that `A` |
//! | `A followed by B within D` | `record.not_followed` | an `A` with no other `B` in `[A, A + D]`, and `A + D` is before `now` | that `A` |
//! | `EV before ATTR` | `record.not_before` | no `EV` at or before the case attribute's instant, and that instant is before `now` | the attribute's instant |
//! | `EV before ATTR` | `record.time_unknown` | the case attribute is missing or not a timestamp | the case's first event |
//!
//! # Readings of the rules
//!
//! - **Which cases.** A case that was opened, whose attributes as merged satisfy `when`, and
//!   whose clause version holds on the date of its first event. `opened` is the first step.
//! - **Fail at once.** Findings about what did happen (a missing field, a value outside the
//!   set, a step out of order, a claim inside a warranty window) are final the moment the event
//!   is seen: no later event can undo them, so they do not depend on `now`.
//! - **Missing things wait for the close.** A required step or count still short while the
//!   case is open is pending: no finding. It fails when the case is closed (its last
//!   `closed`/`reopened` is a `closed`), at that `closed` instant. Events within the retention
//!   after `closed` (a revisit after closing) still count, because the case is judged when it
//!   settles.
//! - **Once per case.** Each item gives at most one finding per case (warranty: one per fix),
//!   across reopens: a record is about the case, not one round of it.
//! - **Boundaries.** `only after` accepts an `A` at the same instant as the `B`. A warranty
//!   window includes its end (`A + D` exactly is a claim) and excludes the fix instant itself.
//!   A gap of exactly D is allowed (`at most`).
//! - **Gaps.** `B at most D apart` reads the instants of the case's `B` events in time order
//!   (the digest keeps them sorted, whatever order they arrived in): each gap between
//!   neighbours must be at most D. A case with fewer than two `B` events has no gap (whether
//!   there are enough is an `at least` item's business). Only the first too-long gap is a
//!   finding; its message counts the others.
//! - **Follow-ups.** `A followed by B` accepts a `B` at `A`'s own instant and one at exactly
//!   `A + D`. An event matching both `A` and `B` does not follow itself: it needs another `B`.
//!   A follow-up still possible is pending, never a finding: without `within`, while the case
//!   is open; with `within`, until `A + D` has passed `now` (an open case too: the window, not
//!   the close, decides). A case settled after its retention is final: nothing later is seen.
//! - **Due before a moment.** `EV before ATTR` reads the case attribute (as merged from
//!   `opened` and `updated`) as an RFC 3339 timestamp or a local one in the policy zone; an
//!   `EV` exactly at that instant is in time. Until the instant has passed `now` a missing
//!   `EV` is pending. A missing or unreadable attribute is a finding of its own
//!   (`record.time_unknown`), never a silent pass, as a notice's lead time.

use super::case::{plan_kind, CaseView, KindPlan};
use super::verdict::{format_duration, rfc3339, Finding};
use crate::event::{Event, Instant};
use crate::policy::{ClauseBody, Policy, Record, RecordItem, Trigger};
use crate::syntax::format_record_item;
use crate::value::{Attrs, Value};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Stable finding codes of record clauses.
pub mod code {
    pub const FIELD_MISSING: &str = "record.field_missing";
    pub const VALUE_OUTSIDE: &str = "record.value_outside";
    pub const STEP_MISSING: &str = "record.step_missing";
    pub const OUT_OF_ORDER: &str = "record.out_of_order";
    pub const COUNT_SHORT: &str = "record.count_short";
    pub const ACTORS_SHORT: &str = "record.actors_short";
    pub const WARRANTY_CLAIM: &str = "record.warranty_claim";
    pub const GAP: &str = "record.gap";
    pub const NOT_FOLLOWED: &str = "record.not_followed";
    pub const NOT_BEFORE: &str = "record.not_before";
    pub const TIME_UNKNOWN: &str = "record.time_unknown";
}

/// A record clause prepared for evaluation.
pub(crate) type RecordPlan<'p> = KindPlan<'p, Record>;

/// The record clauses of `policies`, in policy and clause order.
pub(crate) fn plan(policies: &[Policy]) -> Vec<RecordPlan<'_>> {
    plan_kind(policies, |body| match body {
        ClauseBody::Record(b) => Some(b),
        _ => None,
    })
}

/// `90 days` for a whole number of days (as a warranty is written), else the usual form.
pub(super) fn days_or(d: chrono::Duration) -> String {
    if d.num_seconds() > 0 && d.num_seconds() % 86_400 == 0 {
        format!("{} days", d.num_days())
    } else {
        format_duration(d)
    }
}

/// Whether an attribute is filled in: present, not `null`, not empty (or blank) text.
fn filled(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::List(l)) => !l.is_empty(),
        Some(_) => true,
    }
}

/// Whether `value` is one of `allowed` (a list: every element is).
fn value_in(value: Option<&Value>, allowed: &[Value]) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::List(items)) => !items.is_empty() && items.iter().all(|v| allowed.contains(v)),
        Some(v) => allowed.contains(v),
    }
}

pub(super) fn matches(t: &Trigger, e: &Event) -> bool {
    t.matches(&e.kind, &e.attrs)
}

/// The instant the case was closed, when its last `closed` or `reopened` is a `closed`.
fn closed_at(events: &[Event]) -> Option<Instant> {
    events
        .iter()
        .rev()
        .find(|e| matches!(&*e.kind, "closed" | "reopened"))
        .filter(|e| &*e.kind == "closed")
        .map(|e| e.at)
}

/// What one item is judged on: the case's events, its merged attributes, whether and when it
/// was closed, and up to when its history is known (`now`, or the end of time for a case
/// settled after its retention: nothing later can arrive).
pub(crate) struct Facts<'a> {
    pub events: &'a [Event],
    pub attrs: &'a Attrs,
    pub closed: Option<Instant>,
    pub now: Instant,
    pub zone: Tz,
}

/// Appends the findings of every record clause that applies to the case. `view.events` must
/// hold every event the items read (the engine's digest keeps them) and every `closed` and
/// `reopened`. `now` is when the case is judged (see [`Facts`]).
///
/// Returns the case's standing on each clause that applies, by plan index, for the summary's
/// counts: a case is judged once per clause, met when it is closed with no finding, breached
/// with any finding, and pending while it is open with none (what it lacks may still come).
pub(crate) fn case_findings(
    view: &CaseView<'_>,
    plans: &[RecordPlan<'_>],
    ticket: &Arc<str>,
    now: Instant,
    out: &mut Vec<Finding>,
) -> Vec<(usize, Standing)> {
    let mut standings = Vec::new();
    if !view.opened {
        return standings;
    }
    let Some(first) = view.events.first() else {
        return standings;
    };
    let closed = closed_at(view.events);
    for (index, plan) in plans.iter().enumerate() {
        if !view.applies(&plan.guard, &plan.clause.applies)
            || !plan.clause.holds_at(plan.policy_zone, first.at)
        {
            continue;
        }
        let before = out.len();
        let zone = plan.policy_zone;
        let mut push = |code: &'static str, at: Instant, item: &RecordItem, what: String| {
            out.push(Finding {
                ticket: ticket.clone(),
                policy: plan.policy.clone(),
                clause: plan.name.clone(),
                clause_ref: plan.clause_ref,
                code,
                at,
                message: format!("{what} (`{}`)", format_record_item(item)),
                zone,
            })
        };
        let facts = Facts {
            events: view.events,
            attrs: &view.attrs,
            closed,
            now,
            zone,
        };
        for item in &plan.body.items {
            judge(item, &facts, &mut push);
        }
        let standing = if out.len() > before {
            Standing::Breached
        } else if closed.is_none() || plan.body.items.iter().any(|i| waits(i, &facts)) {
            Standing::Pending
        } else {
            Standing::Met
        };
        standings.push((index, standing));
    }
    standings
}

/// Whether an item with no finding may still get one on a closed case: a follow-up whose
/// window has not passed `now`, an event due before an instant still to come.
fn waits(item: &RecordItem, facts: &Facts<'_>) -> bool {
    match item {
        RecordItem::FollowedBy {
            event,
            then,
            within,
        } => super::record_followed::waiting(facts, event, then, *within).is_some(),
        RecordItem::Before { event, attr } => super::record_before::instant_of(facts, attr)
            .is_some_and(|due| {
                due >= facts.now
                    && !facts
                        .events
                        .iter()
                        .any(|e| matches(event, e) && e.at <= due)
            }),
        _ => false,
    }
}

/// How a case stands on one record clause when it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Closed, and every item holds.
    Met,
    /// At least one finding.
    Breached,
    /// No finding yet, and one may still come: the case is open, or a follow-up's window or
    /// a due instant has not passed `now`.
    Pending,
}

/// The finding of one item on a case's events, if any.
fn judge(
    item: &RecordItem,
    facts: &Facts<'_>,
    push: &mut impl FnMut(&'static str, Instant, &RecordItem, String),
) {
    let (events, closed, zone) = (facts.events, facts.closed, facts.zone);
    let when = |at: Instant| rfc3339(at, zone);
    match item {
        RecordItem::Fields { event, attrs } => {
            let mut bad = events.iter().filter_map(|e| {
                if !matches(event, e) {
                    return None;
                }
                let missing: Vec<&str> = attrs
                    .iter()
                    .filter(|a| !filled(e.attrs.get(a.as_str())))
                    .map(String::as_str)
                    .collect();
                (!missing.is_empty()).then_some((e, missing))
            });
            if let Some((e, missing)) = bad.next() {
                let more = bad.count();
                let others = if more > 0 {
                    format!("; {more} later `{}` event(s) lack fields too", e.kind)
                } else {
                    String::new()
                };
                push(
                    code::FIELD_MISSING,
                    e.at,
                    item,
                    format!(
                        "`{}` at {} lacks {}{others}",
                        e.kind,
                        when(e.at),
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        RecordItem::Value {
            event,
            attr,
            values,
        } => {
            let bad = events
                .iter()
                .filter(|e| matches(event, e))
                .find(|e| !value_in(e.attrs.get(attr.as_str()), values));
            if let Some(e) = bad {
                let got = match e.attrs.get(attr.as_str()) {
                    None | Some(Value::Null) => "no value".to_string(),
                    Some(v) => format!("`{v}`"),
                };
                push(
                    code::VALUE_OUTSIDE,
                    e.at,
                    item,
                    format!("`{}` at {} has {got} for `{attr}`", e.kind, when(e.at)),
                );
            }
        }
        RecordItem::Steps(steps) => {
            let firsts: Vec<Option<&Event>> = steps
                .iter()
                .map(|s| events.iter().find(|e| matches(s, e)))
                .collect();
            // The first step whose first occurrence comes before an earlier step's.
            let mut latest: Option<&Event> = None;
            let mut disorder = None;
            for f in firsts.iter().flatten() {
                if let Some(l) = latest {
                    if f.at < l.at {
                        disorder = Some((*f, l));
                        break;
                    }
                }
                if latest.is_none_or(|l| f.at >= l.at) {
                    latest = Some(f);
                }
            }
            if let Some((early, late)) = disorder {
                push(
                    code::OUT_OF_ORDER,
                    late.at,
                    item,
                    format!(
                        "`{}` at {} came before `{}` at {}",
                        early.kind,
                        when(early.at),
                        late.kind,
                        when(late.at)
                    ),
                );
            }
            if let Some(end) = closed {
                let missing: Vec<String> = steps
                    .iter()
                    .zip(&firsts)
                    .filter(|(_, f)| f.is_none())
                    .map(|(s, _)| format!("`{}`", crate::syntax::format_trigger(s)))
                    .collect();
                if !missing.is_empty() {
                    push(
                        code::STEP_MISSING,
                        end,
                        item,
                        format!("no {} by the close at {}", missing.join(", "), when(end)),
                    );
                }
            }
        }
        RecordItem::OnlyAfter { event, after } => {
            let first_after = events.iter().find(|e| matches(after, e)).map(|e| e.at);
            let bad = events
                .iter()
                .filter(|e| matches(event, e))
                .find(|e| first_after.is_none_or(|a| a > e.at));
            if let Some(e) = bad {
                push(
                    code::OUT_OF_ORDER,
                    e.at,
                    item,
                    format!(
                        "`{}` at {} with no `{}` before it",
                        e.kind,
                        when(e.at),
                        crate::syntax::format_trigger(after)
                    ),
                );
            }
        }
        RecordItem::AtLeast {
            event,
            count,
            distinct_by,
            after,
        } => {
            let Some(end) = closed else { return };
            let from = match after {
                Some(a) => match events.iter().find(|e| matches(a, e)) {
                    Some(e) => e.at,
                    // No start, no requirement.
                    None => return,
                },
                None => match events.first() {
                    Some(e) => e.at,
                    None => return,
                },
            };
            let counted = events.iter().filter(|e| e.at >= from && matches(event, e));
            let (got, code, noun) = if *distinct_by {
                // At most `count` distinct actors are ever needed.
                let mut actors: BTreeSet<String> = BTreeSet::new();
                for e in counted {
                    if let Some(by) = e.attrs.get("by").filter(|v| filled(Some(v))) {
                        actors.insert(by.to_string());
                        if actors.len() >= *count as usize {
                            break;
                        }
                    }
                }
                (actors.len(), code::ACTORS_SHORT, "distinct `by`")
            } else {
                (
                    counted.take(*count as usize).count(),
                    code::COUNT_SHORT,
                    "events",
                )
            };
            if got < *count as usize {
                push(
                    code,
                    end,
                    item,
                    format!(
                        "{got} {noun} of {count} required by the close at {}",
                        when(end)
                    ),
                );
            }
        }
        RecordItem::Warranty {
            event,
            within,
            after,
        } => {
            let mut fix: Option<&Event> = None;
            let mut claimed = false;
            for e in events {
                if matches(after, e) {
                    fix = Some(e);
                    claimed = false;
                    continue;
                }
                if !matches(event, e) || claimed {
                    continue;
                }
                if let Some(f) = fix {
                    if e.at > f.at && e.at - f.at <= *within {
                        claimed = true;
                        push(
                            code::WARRANTY_CLAIM,
                            e.at,
                            item,
                            format!(
                                "`{}` at {}, {} after `{}` at {} (warranty {})",
                                e.kind,
                                when(e.at),
                                format_duration(e.at - f.at),
                                f.kind,
                                when(f.at),
                                days_or(*within)
                            ),
                        );
                    }
                }
            }
        }
        RecordItem::Gap { event, apart } => {
            if let Some((from, to, more)) = first_gap(events, event, *apart) {
                let others = if more > 0 {
                    format!("; {more} later gap(s) too long as well")
                } else {
                    String::new()
                };
                push(
                    code::GAP,
                    to.at,
                    item,
                    format!(
                        "`{}` at {} came {} after `{}` at {} (at most {}){others}",
                        to.kind,
                        when(to.at),
                        format_duration(to.at - from.at),
                        from.kind,
                        when(from.at),
                        format_duration(*apart)
                    ),
                );
            }
        }
        RecordItem::FollowedBy {
            event,
            then,
            within,
        } => super::record_followed::judge(facts, (event, then, *within), &mut |at, what| {
            push(code::NOT_FOLLOWED, at, item, what)
        }),
        RecordItem::Before { event, attr } => {
            super::record_before::judge(facts, event, attr, &mut |code, at, what| {
                push(code, at, item, what)
            })
        }
    }
}

/// The first pair of consecutive `event`s (in the slice's time order) more than `apart` apart,
/// and how many later pairs are too.
fn first_gap<'e>(
    events: &'e [Event],
    event: &Trigger,
    apart: chrono::Duration,
) -> Option<(&'e Event, &'e Event, usize)> {
    let mut prev: Option<&Event> = None;
    let mut first = None;
    let mut more = 0;
    for e in events.iter().filter(|e| matches(event, e)) {
        if let Some(p) = prev {
            if e.at - p.at > apart {
                if first.is_none() {
                    first = Some((p, e));
                } else {
                    more += 1;
                }
            }
        }
        prev = Some(e);
    }
    first.map(|(a, b)| (a, b, more))
}

/// Each item of `record` with its finding on a case's events, if any: for `:why`.
pub(crate) fn explain_items(
    record: &Record,
    events: &[Event],
    attrs: &Attrs,
    now: Instant,
    zone: Tz,
) -> Vec<(String, Option<(&'static str, String)>)> {
    let facts = Facts {
        events,
        attrs,
        closed: closed_at(events),
        now,
        zone,
    };
    record
        .items
        .iter()
        .map(|item| {
            let mut found = None;
            judge(item, &facts, &mut |code, _, _, what| {
                found.get_or_insert((code, what));
            });
            (format_record_item(item), found)
        })
        .collect()
}

/// Why an item with no finding on a case still waits on something that can come, if it does:
/// a follow-up not yet due, an event due at an instant not yet passed. `:why` says "pending"
/// for these rather than "met", even on a closed case.
pub(crate) fn item_pending(
    item: &RecordItem,
    events: &[Event],
    attrs: &Attrs,
    now: Instant,
    zone: Tz,
) -> Option<String> {
    let facts = Facts {
        events,
        attrs,
        closed: closed_at(events),
        now,
        zone,
    };
    match item {
        RecordItem::FollowedBy {
            event,
            then,
            within,
        } => super::record_followed::waiting(&facts, event, then, *within).map(|at| match within {
            Some(d) => format!(
                "its follow-up is due by {}, after now",
                at.checked_add_signed(*d)
                    .map_or_else(|| "the end of time".to_string(), |t| rfc3339(t, zone))
            ),
            None => format!(
                "the `{}` at {} waits for its follow-up while the case is open",
                crate::syntax::format_trigger(event),
                rfc3339(at, zone)
            ),
        }),
        RecordItem::Before { event, attr } => super::record_before::instant_of(&facts, attr)
            .filter(|&due| due >= now && !events.iter().any(|e| matches(event, e) && e.at <= due))
            .map(|due| format!("due by `{attr}` {}, after now", rfc3339(due, zone))),
        _ => None,
    }
}

/// The longest warranty or follow-up window of a record clause, if it has one: a closed case
/// the clause applies to is kept that long (at least `--retain`), so that a claim or a
/// follow-up inside the window is seen.
pub(crate) fn longest_window(record: &Record) -> Option<chrono::Duration> {
    record
        .items
        .iter()
        .filter_map(|item| match item {
            RecordItem::FollowedBy {
                within: Some(within),
                ..
            }
            | RecordItem::Warranty { within, .. } => Some(*within),
            _ => None,
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_window_is_of_warranties_and_timed_follow_ups() {
        let src = "policy \"p\" {\n  record w {\n    no reopened within 90 days after resolved\n    \
                   rated followed by reopened within 45 days\n    rated followed by revisited\n  }\n  \
                   record n {\n    resolved has by\n  }\n}\n";
        let policy = crate::syntax::parse_policy(src, "w.pledge", None).unwrap();
        let policies = [policy];
        let plans = plan(&policies);
        assert_eq!(
            longest_window(plans[0].body),
            Some(chrono::Duration::days(90))
        );
        assert_eq!(longest_window(plans[1].body), None);
    }

    #[test]
    fn filled_and_value_in_read_absent_null_blank_and_lists() {
        assert!(!filled(None));
        assert!(!filled(Some(&Value::Null)));
        assert!(!filled(Some(&Value::String("  ".into()))));
        assert!(filled(Some(&Value::Bool(false))));
        let allowed = [Value::String("phone".into()), Value::String("visit".into())];
        assert!(value_in(Some(&Value::String("phone".into())), &allowed));
        assert!(!value_in(Some(&Value::String("sms".into())), &allowed));
        assert!(!value_in(None, &allowed));
        let list = Value::List(vec![
            Value::String("phone".into()),
            Value::String("sms".into()),
        ]);
        assert!(!value_in(Some(&list), &allowed));
    }
}
