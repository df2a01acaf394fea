//! Sampling clauses (SEMANTICS.md, "Sampling"): what one case contributes, and the exact
//! `required = ceil(ratio × population)`.
//!
//! A case is in the population of a sampling clause when the clause applies to it (`when`, on
//! the case's merged attributes) and it has a population event (`having`). It belongs to the
//! period of its **first** population event, read in the policy's zone, and to the group of its
//! `group by` attributes. It counts as *done* when it has an evidence event (default
//! `spot_checked`) whose `by` names the role (equal to it, or a list containing it) and whose
//! instant lies in `[period start, period end + lag)`. The check may come before the population
//! event within the period: the standard asks for checks in the period, not for an order.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use super::tally::names_role;
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::policy::{Clause, Sample};
use chrono_tz::Tz;

/// A case's place in a sampling clause: its period, group, and whether it was checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SampleMember {
    pub period: CalendarPeriod,
    pub group: Group,
    pub done: bool,
}

/// The case's membership in the clause's population, if any.
pub(crate) fn sample_member(
    clause: &Clause,
    sample: &Sample,
    zone: Tz,
    view: &CaseView<'_>,
) -> Option<SampleMember> {
    if !view.opened || !clause.applies.eval(&view.attrs) {
        return None;
    }
    let first = view
        .events
        .iter()
        .find(|e| sample.population.on_case(view.events, e))?;
    if !clause.holds_at(zone, first.at) {
        return None;
    }
    let period = CalendarPeriod::containing(sample.period, zone, first.at)?;
    let start = period.start(zone)?;
    let until = period.end(zone)?.checked_add_signed(sample.lag)?;
    let done = view.events.iter().any(|e| {
        e.at >= start
            && e.at < until
            && sample.evidence.on_case(view.events, e)
            && (sample.role == crate::policy::ANY_ROLE
                || names_role(e.attrs.get("by"), &sample.role))
    });
    Some(SampleMember {
        period,
        group: Group::of(&sample.group_by, &view.attrs),
        done,
    })
}

/// `ceil(ratio_permille × population / 1000)` on integers: 10 % of 11 is 2, 10 % of 30 is 3,
/// 100 % of 7 is 7. Saturates instead of overflowing.
pub fn required(ratio_permille: u32, population: u64) -> u64 {
    let product = u128::from(ratio_permille) * u128::from(population);
    let ceil = product.div_ceil(1000);
    u64::try_from(ceil).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::required;

    #[test]
    fn ceil_is_exact() {
        assert_eq!(required(100, 11), 2);
        assert_eq!(required(100, 10), 1);
        assert_eq!(required(100, 30), 3);
        assert_eq!(required(100, 0), 0);
        assert_eq!(required(1000, 7), 7);
        assert_eq!(required(25, 40), 1);
        assert_eq!(required(25, 41), 2);
        assert_eq!(required(u32::MAX, u64::MAX), u64::MAX);
    }
}
