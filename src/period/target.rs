//! Targets (SEMANTICS.md, "Targets and recurrence"): ratios of cases per period and group
//! against a floor (`at least`) or a ceiling (`at most`).
//!
//! - `ratio SUCCESS among AMONG`: a case is counted when the clause applies to it and it has an
//!   `AMONG` event; it belongs to the period of its first `AMONG` event (in the policy's zone)
//!   and is a hit when it has a `SUCCESS` event by `now`, at any time (a rating given after the
//!   month ends still says whether the case satisfied).
//! - `ratio STATUS of CLAUSE`: every verdict of the deadline clause `CLAUSE` of the same policy,
//!   on a case the target applies to, counts in the period of its cycle's start; a hit when its
//!   status is `STATUS`.
//!
//! The verdict compares integers: `hits × 1000 >= bound × total` for a floor, `<=` for a
//! ceiling, so a ratio exactly at the bound meets it. A period without cases has no verdict.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use super::records::TargetStatus;
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::policy::{Clause, Target};
use chrono_tz::Tz;

/// A case's place in an event target: its period, group, and whether it is a hit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TargetMember {
    pub period: CalendarPeriod,
    pub group: Group,
    pub hit: bool,
}

/// The case's place in a `ratio SUCCESS among AMONG` target, if it counts.
pub(crate) fn target_member(
    clause: &Clause,
    target: &Target,
    success: &crate::policy::Trigger,
    among: &crate::policy::Trigger,
    zone: Tz,
    view: &CaseView<'_>,
) -> Option<TargetMember> {
    if !view.opened || !clause.applies.eval(&view.attrs) {
        return None;
    }
    let first = view.events.iter().find(|e| among.on_case(view.events, e))?;
    if !clause.holds_at(zone, first.at) {
        return None;
    }
    Some(TargetMember {
        period: CalendarPeriod::containing(target.period, zone, first.at)?,
        group: Group::of(&target.group_by, &view.attrs),
        hit: view.events.iter().any(|e| success.on_case(view.events, e)),
    })
}

/// The verdict of `hits` among `total` against the bound.
pub fn target_status(at_least: bool, bound_permille: u32, hits: u64, total: u64) -> TargetStatus {
    if total == 0 {
        return TargetStatus::NoVerdict;
    }
    let lhs = u128::from(hits) * 1000;
    let rhs = u128::from(bound_permille) * u128::from(total);
    let ok = if at_least { lhs >= rhs } else { lhs <= rhs };
    if ok {
        TargetStatus::Met
    } else {
        TargetStatus::Missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_at_the_bound_is_met() {
        assert_eq!(target_status(true, 900, 9, 10), TargetStatus::Met);
        assert_eq!(target_status(true, 900, 8, 10), TargetStatus::Missed);
        assert_eq!(target_status(false, 50, 1, 20), TargetStatus::Met);
        assert_eq!(target_status(false, 50, 2, 20), TargetStatus::Missed);
        assert_eq!(target_status(true, 900, 0, 0), TargetStatus::NoVerdict);
    }
}
