//! pledge: service standards of property-management companies as code, checked against ticket
//! event streams.
//!
//! The pipeline, one module per step:
//! - [`syntax`]: policy source text → pest parse tree → checked [`policy::Policy`], with miette
//!   diagnostics;
//! - [`calendar`]: working hours, holidays and make-up days; business-time arithmetic;
//! - [`input`]: JSON Lines and CSV event streams, with rejected lines;
//! - [`eval`]: the streaming evaluator producing verdicts;
//! - [`period`]: sampling, targets, repeat rules, duties and time windows per calendar period,
//!   the reproducible sample draw and the period report;
//! - [`agenda`]: what is overdue and what falls due next, for the duty desk;
//! - [`report`]: human, JSON and JSONL reports;
//! - `cli`: the `pledge` command, a thin layer over this library; with `repl`, the what-if
//!   REPL, behind the default feature `cli` (a host builds the library with
//!   `default-features = false`, without the command's dependencies).

pub mod agenda;
pub mod calendar;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod eval;
pub mod event;
pub mod gen;
pub mod inline_str;
pub mod input;
pub mod limits;
pub mod period;
pub mod policy;
pub mod relevance;
#[cfg(feature = "cli")]
pub mod repl;
pub mod report;
pub mod syntax;
pub mod value;

pub use event::{Event, Instant};
pub use policy::{Clause, ClauseBody, Condition, Policy};
