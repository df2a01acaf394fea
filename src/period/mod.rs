//! Period clauses: sampling, targets, recurrence rules, recurring duties and time windows
//! (SEMANTICS.md, "Sampling", "Targets and recurrence", "Recurring duties and time windows"),
//! and the period report.
//!
//! - [`calendar_period`]: day, ISO week, month, quarter and year periods in a zone, their
//!   bounds and labels (`2026-03`, `2026-W10`, ...);
//! - [`group`]: the values of `group by` / `same` attributes of a case;
//! - [`sampling`], [`target`], [`repeat`]: what one case contributes to each;
//! - [`measure`]: counts and duration statistics of measuring targets, and their verdicts;
//! - [`each`]: a count per listed value (`each channel in [...]`);
//! - [`obligation`]: obligations triggered by a target's missed periods (`require EVENT within
//!   D after TARGET missed`);
//! - [`duty`], [`window`]: the findings of `every` and `window` clauses on one case;
//! - [`tally`]: the evaluator's per (clause, period, group) state, and (`tally::finish`) the
//!   records it emits at the end;
//! - [`draw`]: the documented, reproducible sample draw;
//! - [`records`]: the records;
//! - [`report`]: the period report (human table, JSON, CSV).
//!
//! # Finding codes
//!
//! | code | clause | meaning |
//! | --- | --- | --- |
//! | `duty.gap` | `every P` | a gap longer than `P` between the range start, duties, and a closed range end |
//! | `duty.overdue` | `every P` | the last duty (or the range start) is more than `P` before `now` |
//! | `duty.quota_short` | `at least N per PERIOD` | a complete period with fewer than `N` duties |
//! | `window.outside` | `window` | an event outside its windows of the day or week |
//! | `window.missed` | `window ... each day/year` | a whole window on the subject's range with no event in it |
//! | `cover.gap` | `covered from A until B` | a day of the range with an instant no shift covers (see [`cover`]) |
//! | `duty.alert_short` | `at least N per alert` | an alert period (lifted) with fewer than `N` duties (see [`alert`]) |
//! | `target.obligation_missed` | `require EV within D after T missed` | a period and group that `T` missed with no `EV` by its end plus `D` (see [`obligation`]) |

pub mod alert;
pub mod calendar_period;
pub mod cover;
pub mod draw;
pub mod duty;
pub mod each;
pub mod group;
pub mod measure;
pub mod obligation;
pub mod presence;
pub mod records;
pub mod repeat;
pub mod sampling;
pub mod tally;
pub mod target;
pub mod window;

pub use calendar_period::{CalendarPeriod, ParsePeriodError};
pub use group::Group;
pub use obligation::ObligationStatus;
pub(crate) use records::target_ratio_text;
pub use records::{
    ComplianceCount, MeasureOutcome, ObligationOutcome, PeriodOut, PeriodRecord, RepeatAction,
    SampleDraw, SampleStatus, SampleVerdict, TargetStatus, TargetVerdict,
};
pub(crate) use repeat::SettleOrder;
pub use tally::{DrawSpec, PeriodTally, ReportSpec};
