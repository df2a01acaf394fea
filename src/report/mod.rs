//! Reports of a check: for people ([`human`], and [`html`] for a page to send), for programs
//! ([`machine`], with the record shapes in [`records`]), the breakdown per group of cases
//! ([`groups`]) and, with the `xlsx` feature, for spreadsheets (`xlsx`, made from the machine
//! format's document).
//!
//! Every report is a [`crate::engine::Sink`]: it receives records as the evaluator produces them
//! and keeps only what it prints.

pub mod groups;
pub mod html;
pub mod human;
pub mod machine;
pub mod period;
pub mod records;
#[cfg(feature = "xlsx")]
pub mod xlsx;

pub use human::{HumanOptions, HumanReport};
pub use machine::MachineWriter;

use crate::engine::Sink;
use crate::eval::{Action, Finding, Rejected, Unopened, Verdict};
use records::RejectedRecord;
use std::io::{self, Write};

/// Which records the machine formats write (the summary is always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Records {
    /// Every verdict, action, finding, rejected line and unopened case.
    #[default]
    All,
    /// Breached verdicts, missed actions, findings, rejected lines and unopened cases.
    Problems,
    /// The summary only.
    None,
}

/// A sink that also writes every rejected line, as JSON Lines (`line`, `reason`, `text`), to a
/// second output (`--rejects FILE`), then passes every record on.
pub struct WithRejects<S, W: Write> {
    pub inner: S,
    out: W,
    error: Option<io::Error>,
}

impl<S, W: Write> WithRejects<S, W> {
    pub fn new(inner: S, out: W) -> Self {
        WithRejects {
            inner,
            out,
            error: None,
        }
    }

    /// The inner sink, after flushing the rejects output.
    pub fn finish(mut self) -> io::Result<S> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.inner)
    }
}

impl<S: Sink, W: Write> Sink for WithRejects<S, W> {
    fn verdict(&mut self, verdict: &Verdict) {
        self.inner.verdict(verdict)
    }
    fn action(&mut self, action: &Action) {
        self.inner.action(action)
    }
    fn rejected(&mut self, rejected: &Rejected) {
        if self.error.is_none() {
            let result = serde_json::to_writer(&mut self.out, &RejectedRecord::new(rejected))
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"));
            if let Err(e) = result {
                self.error = Some(e);
            }
        }
        self.inner.rejected(rejected)
    }
    fn unopened(&mut self, unopened: &Unopened) {
        self.inner.unopened(unopened)
    }
    fn case_attrs(&mut self, ticket: &std::sync::Arc<str>, attrs: &crate::value::Attrs) {
        self.inner.case_attrs(ticket, attrs)
    }
    fn case_attrs_at_end(&mut self, ticket: &std::sync::Arc<str>, attrs: &crate::value::Attrs) {
        self.inner.case_attrs_at_end(ticket, attrs)
    }
    fn wants_case_attributes(&self) -> &[&'static str] {
        self.inner.wants_case_attributes()
    }
    fn finding(&mut self, finding: &Finding) {
        self.inner.finding(finding)
    }
    fn period(&mut self, record: &crate::period::PeriodRecord) {
        self.inner.period(record)
    }
}

/// What a report says of a year that calendar `calendar` has no holiday data for (after
/// `warning: `), in every command and format that judges one.
pub fn uncovered_warning(calendar: &str, year: i32) -> String {
    format!(
        "calendar `{calendar}` has no holiday data for {year}; verdicts there count ordinary \
         weekdays only"
    )
}
