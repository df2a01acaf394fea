//! pledge: service standards of property-management companies as code, checked against ticket
//! event streams.
//!
//! The pipeline, one module per step (these are the crate's internals; a host uses the API
//! below), from the vocabulary up to the command; a module uses only those above it in this
//! list or beside it (`tests/layering.rs` checks it):
//! - `value`, `event`, `limits`: attribute values, events and instants, the language's bounds;
//! - `calendar`: working hours, holidays and make-up days; business-time arithmetic;
//! - `policy`, `register`, `relevance`: checked policies, the event types they know, and what
//!   of a stream they read;
//! - `syntax`: policy source text → pest parse tree → checked policies, with miette
//!   diagnostics; and whole files back to their canonical layout (`pledge fmt`);
//! - `input`: JSON Lines, CSV and work-order exports in, with rejected lines; `gen`, the
//!   generated streams of the benchmark;
//! - `eval`: one case at a time: clocks, notifications, records;
//! - `period`: sampling, targets, repeat rules, duties and time windows per calendar period,
//!   and the reproducible sample draw;
//! - `engine`: the streaming evaluator, which drives both over a stream, keeps a compact state
//!   per case and writes records to a sink; partitions, snapshots and merges of its state; one
//!   case evaluated at once, the reference it is tested against;
//! - `check`: a whole stream through the evaluator, reading on several threads; `explain`: why
//!   a case got its records (the REPL's `:why`);
//! - `report`: human, JSON, JSONL, HTML, spreadsheet and period reports; `agenda`: what is
//!   overdue and what falls due next, for the duty desk;
//! - `api`: the embedding API below;
//! - `serve`: the monitoring service; `repl`: the what-if REPL; `policy_test`: the policy unit
//!   tests of `pledge test`;
//! - `cli`: the `pledge` command, a thin layer over this library. It, `serve`, `repl`
//!   and `policy_test` are behind the default feature `cli` (a host builds the library with
//!   `default-features = false`, without the command's dependencies).
//!
//! # Checking events from a program
//!
//! The embedding API is the handful of names at the top of this crate, which semver covers:
//! [`PolicySet`], [`check_reader`], [`check_path`], [`check_events`], [`Engine`], [`Record`],
//! [`Report`] and [`Options`], with the record types they hand out. The modules are the
//! internals that the command uses: private to the crate (its own tests reach them through
//! the feature `internals`, which is no part of the API) and free to change in any version.
//!
//! ```
//! use pledge::{check_reader, Engine, Options, PolicySet, Record, Status};
//!
//! let policies = PolicySet::from_text(
//!     r#"policy "desk" {
//!       deadline contact "投诉1小时内联系客户" {
//!         when kind == "complaint"
//!         until contacted
//!         within 1 hour
//!       }
//!     }"#,
//!     "desk.pledge",
//! )?;
//! let events = concat!(
//!     r#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}"#,
//!     "\n",
//!     r#"{"ticket":"T-1","at":"2026-03-02T09:40:00+08:00","type":"contacted"}"#,
//!     "\n",
//!     r#"{"ticket":"T-2","at":"2026-03-02T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}"#,
//!     "\n",
//!     "not json\n",
//! );
//! let report = check_reader(&policies, events.as_bytes(), &Options::default())?;
//! let verdicts: Vec<(&str, Status)> = report
//!     .records
//!     .iter()
//!     .filter_map(|r| match r {
//!         Record::Verdict(v) => Some((&*v.ticket, v.status)),
//!         _ => None,
//!     })
//!     .collect();
//! // T-2 was never contacted, but at the stream's last instant its hour has not run out.
//! assert_eq!(verdicts, [("T-1", Status::Met), ("T-2", Status::Pending)]);
//! // A bad line is a rejected record with its line number, never the end of the stream.
//! assert_eq!(report.summary_json()["rejected"], 1);
//!
//! // The same, one line at a time: each call returns the records that became final.
//! let mut engine = Engine::new(&policies, &Options::default());
//! let mut records = Vec::new();
//! for line in events.lines() {
//!     records.extend(engine.push_json(line.as_bytes()));
//! }
//! records.extend(engine.finish().records);
//! assert_eq!(records, report.records);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Without `internals`, what only the tests (or only the command, in a build without `cli`) use
// of the internal modules is unused; with it, nothing is (every module is public). Dead code is
// therefore not a signal here either way.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

// The crate's internal modules: private to the crate, or public (and hidden from the
// documentation) with the feature `internals`, which the crate's own tests turn on through a
// dev-dependency on itself. A host sees the embedding API alone. Each is declared twice, not
// through a macro, so that tools reading the module tree see it; the public declaration carries
// `cfg_attr(never, mutants::skip)`, which the compiler never applies (`never` is a cfg that is
// never set, see Cargo.toml) and which tells mutation testing (scripts/mutants) to walk each
// file once, not twice.
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod agenda;
#[cfg(not(feature = "internals"))]
mod agenda;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod calendar;
#[cfg(not(feature = "internals"))]
mod calendar;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod check;
#[cfg(not(feature = "internals"))]
mod check;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod engine;
#[cfg(not(feature = "internals"))]
mod engine;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod eval;
#[cfg(not(feature = "internals"))]
mod eval;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod event;
#[cfg(not(feature = "internals"))]
mod event;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod explain;
#[cfg(not(feature = "internals"))]
mod explain;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod gen;
#[cfg(not(feature = "internals"))]
mod gen;
mod hashed;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod inline_str;
#[cfg(not(feature = "internals"))]
mod inline_str;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod input;
#[cfg(not(feature = "internals"))]
mod input;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod limits;
#[cfg(not(feature = "internals"))]
mod limits;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod period;
#[cfg(not(feature = "internals"))]
mod period;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod policy;
#[cfg(not(feature = "internals"))]
mod policy;
#[cfg(all(feature = "cli", feature = "internals"))]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod policy_test;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod policy_test;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod register;
#[cfg(not(feature = "internals"))]
mod register;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod relevance;
#[cfg(not(feature = "internals"))]
mod relevance;
#[cfg(all(feature = "cli", feature = "internals"))]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod repl;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod repl;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod report;
#[cfg(not(feature = "internals"))]
mod report;
#[cfg(all(feature = "cli", feature = "internals"))]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod serve;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod serve;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod syntax;
#[cfg(not(feature = "internals"))]
mod syntax;
#[cfg(feature = "internals")]
#[doc(hidden)]
#[cfg_attr(never, mutants::skip)]
pub mod value;
#[cfg(not(feature = "internals"))]
mod value;

#[deny(missing_docs)] // every item of the embedding API is documented
mod api;
/// The `pledge` command, for the binary (`src/main.rs`); not part of the embedding API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;

pub use api::{
    check_events, check_path, check_path_to_json, check_reader, merge_states, Advanced, Diagnostic,
    Engine, LineParser, Options, ParsedLine, PolicyError, PolicySet, Record, Report,
};
pub use engine::{Alert, MergeError, Partition, SnapshotError};
pub use eval::{
    Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected, Status, Summary, Unopened,
    Verdict,
};
pub use event::{Event, Instant};
pub use inline_str::InlineStr;
pub use input::{ExportKind, Format, Mapping, MappingError, ReadStats};
pub use period::MeasureOutcome;
pub use period::{
    CalendarPeriod, ComplianceCount, Group, PeriodRecord, RepeatAction, SampleDraw, SampleStatus,
    SampleVerdict, TargetStatus, TargetVerdict,
};
pub use period::{ObligationOutcome, ObligationStatus};
pub use policy::{ActionKind, PeriodUnit};
pub use policy::{StatBound, Statistic};
pub use value::{Attrs, Value};
