//! `--format jsonl` (one record per line) and `--format json` (one document), written as the
//! evaluator produces records, so output of any size needs no memory.
//!
//! The JSON document is `{"records": [...], "summary": {...}}`: the same records as JSON Lines,
//! in the same order, then the summary. It is written incrementally too.

use super::records::{
    ActionRecord, FindingRecord, RejectedRecord, SummaryRecord, UnopenedRecord, VerdictRecord,
};
use super::Records;
use crate::engine::Sink;
use crate::eval::{Action, ActionStatus, Finding, Rejected, Status, Summary, Unopened, Verdict};
use crate::input::ReadStats;
use chrono_tz::Tz;
use serde::Serialize;
use std::io::{self, Write};

/// A [`Sink`] writing records as JSON. Remembers the first write error and reports it from
/// [`MachineWriter::finish`].
pub struct MachineWriter<W: Write> {
    out: W,
    document: bool,
    records: Records,
    first: bool,
    error: Option<io::Error>,
}

impl<W: Write> MachineWriter<W> {
    /// `document`: one JSON document (`--format json`) rather than JSON Lines.
    pub fn new(out: W, document: bool, records: Records) -> MachineWriter<W> {
        MachineWriter {
            out,
            document,
            records,
            first: true,
            error: None,
        }
    }

    fn write<T: Serialize>(&mut self, record: &T) {
        if self.error.is_some() {
            return;
        }
        let result = (|| {
            if self.document {
                let sep: &[u8] = if self.first {
                    b"{\"records\":[\n"
                } else {
                    b",\n"
                };
                self.out.write_all(sep)?;
            }
            self.first = false;
            serde_json::to_writer(&mut self.out, record)?;
            if !self.document {
                self.out.write_all(b"\n")?;
            }
            Ok::<(), io::Error>(())
        })();
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Writes the summary, closes the document and flushes.
    pub fn finish(self, summary: &Summary, read: &ReadStats, zone: Tz) -> io::Result<W> {
        self.finish_grouped(summary, read, zone, None)
    }

    /// Like [`MachineWriter::finish`], the summary with its breakdown per group (`groups`) when
    /// `--group-by` asked for one.
    pub fn finish_grouped(
        mut self,
        summary: &Summary,
        read: &ReadStats,
        zone: Tz,
        groups: Option<&super::groups::GroupBreakdown>,
    ) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut record = SummaryRecord::new(summary, read, zone);
        record.groups = groups.map(super::groups::GroupBreakdown::to_json);
        if self.document {
            let open: &[u8] = if self.first { b"{\"records\":[" } else { b"\n" };
            self.out.write_all(open)?;
            self.out.write_all(b"],\n\"summary\":")?;
            serde_json::to_writer_pretty(&mut self.out, &record)?;
            self.out.write_all(b"}\n")?;
        } else {
            serde_json::to_writer(&mut self.out, &record)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink for MachineWriter<W> {
    fn verdict(&mut self, verdict: &Verdict) {
        let wanted = match self.records {
            Records::All => true,
            Records::Problems => verdict.status == Status::Breached,
            Records::None => false,
        };
        if wanted {
            self.write(&VerdictRecord::new(verdict));
        }
    }

    fn action(&mut self, action: &Action) {
        let wanted = match self.records {
            Records::All => true,
            Records::Problems => action.status == ActionStatus::Missed,
            Records::None => false,
        };
        if wanted {
            self.write(&ActionRecord::new(action));
        }
    }

    fn rejected(&mut self, rejected: &Rejected) {
        if self.records != Records::None {
            self.write(&RejectedRecord::new(rejected));
        }
    }

    fn unopened(&mut self, unopened: &Unopened) {
        if self.records != Records::None {
            self.write(&UnopenedRecord::new(unopened));
        }
    }

    fn finding(&mut self, finding: &Finding) {
        if self.records != Records::None {
            self.write(&FindingRecord::new(finding));
        }
    }

    fn period(&mut self, record: &crate::period::PeriodRecord) {
        let wanted = match self.records {
            Records::All => true,
            Records::Problems => super::records::period_is_problem(record),
            Records::None => false,
        };
        if wanted {
            if let Some(json) = super::records::period_json(record) {
                self.write(&json);
            }
        }
    }
}
