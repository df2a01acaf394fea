//! pledge: service standards of property-management companies as code, checked against ticket
//! event streams.
//!
//! The pipeline, one module per step:
//! - [`syntax`]: policy source text → pest parse tree → checked [`policy::Policy`], with miette
//!   diagnostics; and whole files back to their canonical layout (`pledge fmt`);
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
//!
//! # Checking events from a program
//!
//! ```
//! use pledge::eval::{Collect, EvalOptions, Status};
//! use pledge::input::ReadOptions;
//!
//! let policy = pledge::syntax::parse_policy(
//!     r#"policy "desk" {
//!       deadline contact "投诉1小时内联系客户" {
//!         when kind == "complaint"
//!         until contacted
//!         within 1 hour
//!       }
//!     }"#,
//!     "desk.pledge",
//!     None,
//! )
//! .map_err(|e| pledge::syntax::render(&e, false))
//! .expect("a valid policy");
//! let events = concat!(
//!     r#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}"#,
//!     "\n",
//!     r#"{"ticket":"T-1","at":"2026-03-02T09:40:00+08:00","type":"contacted"}"#,
//!     "\n",
//!     r#"{"ticket":"T-2","at":"2026-03-02T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}"#,
//!     "\n",
//!     "not json\n",
//! );
//! let checked = pledge::check::check(
//!     &[policy],
//!     events.as_bytes(),
//!     &ReadOptions::default(),
//!     EvalOptions::default(),
//!     Collect::default(),
//! )?;
//! let verdicts: Vec<(&str, Status)> = checked
//!     .sink
//!     .verdicts
//!     .iter()
//!     .map(|v| (&*v.ticket, v.status))
//!     .collect();
//! // T-2 was never contacted, but at the stream's last instant its hour has not run out.
//! assert_eq!(verdicts, [("T-1", Status::Met), ("T-2", Status::Pending)]);
//! // A bad line is a rejected record with its line number, never the end of the stream.
//! assert_eq!(checked.sink.rejected[0].line, 4);
//! # Ok::<(), std::io::Error>(())
//! ```

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
