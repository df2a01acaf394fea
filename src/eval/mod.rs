//! Evaluation of deadline clauses over event streams (SEMANTICS.md, "Deadline clauses").
//!
//! - [`clock`]: limits as *(counting calendar, amount)*, and when a clock with pauses reaches an
//!   amount;
//! - [`case`]: one case: attributes, status timeline, cycles, verdicts and actions;
//! - [`notify`]: notification clauses on one case: channels, audiences, coverage, first
//!   contact, as [`Finding`]s;
//! - [`record`]: record clauses on one case: complete records, order of steps, counts,
//!   warranty windows, as [`Finding`]s;
//! - [`engine`]: the streaming [`Evaluator`] over a whole stream;
//! - [`verdict`]: the records produced.
//!
//! Why a case got its verdicts, in sentences, is [`crate::explain`], above this module and
//! [`crate::period`], whose clauses it explains too.

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
