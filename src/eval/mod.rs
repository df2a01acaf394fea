//! Clauses evaluated on one case: deadlines (SEMANTICS.md, "Deadline clauses"), notifications
//! and records.
//!
//! - [`clock`]: limits as *(counting calendar, amount)*, and when a clock with pauses reaches an
//!   amount;
//! - [`case`]: one case: attributes, status timeline, cycles, verdicts and actions;
//! - [`notify`]: notification clauses on one case: channels, audiences, coverage, first
//!   contact, as [`Finding`]s;
//! - [`record`]: record clauses on one case: complete records, order of steps, counts,
//!   warranty windows, as [`Finding`]s;
//! - [`verdict`]: the records produced.
//!
//! The streaming evaluator that applies them to a whole stream, with the period clauses of
//! [`crate::period`], is [`crate::engine`], above both; why a case got its verdicts, in
//! sentences, is [`crate::explain`], above that.

pub mod case;
pub(crate) mod case_ref;
pub mod clock;
pub mod notify;
pub mod record;
pub(crate) mod record_before;
pub(crate) mod record_followed;
pub(crate) mod track;
pub mod verdict;

pub use verdict::{
    format_duration, rfc3339, Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected,
    Status, Summary, Unopened, Verdict,
};
