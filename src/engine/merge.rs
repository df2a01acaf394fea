//! Merging the states of the partitions of a split (`--partition I/N`) into the state one
//! evaluator over the whole stream would have.
//!
//! Each case lives in exactly one partition, so the cases, their waiting events, settling
//! times and running cycles are united as they are; counts add; the period tallies merge (see
//! [`crate::period::tally`]: counters add, recurrence candidates are united and the rules run
//! again). Every partition read the whole stream, so their stream times agree; where they do
//! not (a live service commits on its own clock), each is first moved to the latest of them,
//! and the merge is judged there.

use super::*;

/// Why the states of a split could not be merged; each names the state by the name its caller
/// gave it (the service's directory for `pledge report --merge`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no state to merge")]
    Nothing,
    #[error("`{name}`: {error}")]
    Snapshot { name: String, error: SnapshotError },
    #[error(
        "`{name}` is partition {theirs} and `{first}` is partition {ours}: the instances of one split have the same N"
    )]
    OtherCount {
        name: String,
        theirs: String,
        first: String,
        ours: String,
    },
    #[error("partition {partition} is given twice: `{first}` and `{name}`")]
    Twice {
        partition: String,
        first: String,
        name: String,
    },
    #[error("partition {partition} is missing: give the state of every instance of the split")]
    Missing { partition: String },
    #[error("`{name}` was evaluated with other options than `{first}` ({what})")]
    OtherOptions {
        name: String,
        first: String,
        what: &'static str,
    },
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// One evaluator in the state a single evaluator over the whole stream would have, from the
    /// snapshots of the `N` partitions of a split (`(name, bytes)`, in any order; a single
    /// unpartitioned snapshot is a split of one). Records that become final while the states
    /// are brought to the same instant go to `sink` (from partition 0) or are dropped.
    pub fn merge(
        policies: &'p [Policy],
        sink: S,
        states: &[(String, Vec<u8>)],
    ) -> Result<Evaluator<'p, S>, MergeError> {
        let mut restored: Vec<(String, Partition, Evaluator<'p, Collect>)> = Vec::new();
        for (name, bytes) in states {
            let e = Evaluator::restore(policies, Collect::default(), bytes).map_err(|error| {
                MergeError::Snapshot {
                    name: name.clone(),
                    error,
                }
            })?;
            let p = e.partition.unwrap_or(Partition { index: 0, count: 1 });
            restored.push((name.clone(), p, e));
        }
        let Some((first_name, first_p, first)) = restored.first() else {
            return Err(MergeError::Nothing);
        };
        let (first_name, count) = (first_name.clone(), first_p.count);
        let opts = first.opts.clone();
        let spec = first.periods.report_spec().cloned();
        for (name, p, e) in &restored {
            if p.count != count {
                return Err(MergeError::OtherCount {
                    name: name.clone(),
                    theirs: p.to_string(),
                    first: first_name.clone(),
                    ours: first_p.to_string(),
                });
            }
            let what = if e.opts.now != opts.now {
                Some("--now")
            } else if e.opts.reorder_window != opts.reorder_window {
                Some("--reorder-window")
            } else if e.opts.retain != opts.retain {
                Some("--retain")
            } else if e.periods.report_spec() != spec.as_ref() {
                Some("--period, --group-by")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(MergeError::OtherOptions {
                    name: name.clone(),
                    first: first_name.clone(),
                    what,
                });
            }
        }
        restored.sort_by_key(|(_, p, _)| p.index);
        for pair in restored.windows(2) {
            if pair[0].1 == pair[1].1 {
                return Err(MergeError::Twice {
                    partition: pair[0].1.to_string(),
                    first: pair[0].0.clone(),
                    name: pair[1].0.clone(),
                });
            }
        }
        for index in 0..count {
            if restored
                .get(index as usize)
                .is_none_or(|r| r.1.index != index)
            {
                return Err(MergeError::Missing {
                    partition: Partition { index, count }.to_string(),
                });
            }
        }
        let latest = restored.iter().filter_map(|r| r.2.watermark).max();
        let mut parts = restored.into_iter();
        let Some((zero_name, _, zero)) = parts.next() else {
            return Err(MergeError::Nothing);
        };
        drop(zero);
        // Partition 0 again, with the caller's sink.
        let bytes = states
            .iter()
            .find(|(name, _)| *name == zero_name)
            .map_or(&[][..], |(_, b)| &b[..]);
        let mut merged =
            Evaluator::restore(policies, sink, bytes).map_err(|error| MergeError::Snapshot {
                name: zero_name.clone(),
                error,
            })?;
        let parts = parts.map(|(_, _, e)| e);
        if let Some(at) = latest {
            merged.advance(at);
        }
        for mut part in parts {
            if let Some(at) = latest {
                part.advance(at);
            }
            merged.absorb(part);
        }
        merged.partition = None;
        merged.drop_shadow();
        merged.summary.elsewhere = 0;
        // One evaluator now: recurrence rules prune as a single one does.
        merged.periods.keep_repeat_candidates(false);
        Ok(merged)
    }

    /// The partitions of one stream judged side by side, each to the end of its cases
    /// ([`Evaluator::finish_cases`]), as one evaluator: the counts add up, the period tallies
    /// are united and judged once, their records going to `sink`. Returns the summary.
    pub(crate) fn finish_split<T: Sink>(
        mut self,
        others: Vec<Evaluator<'p, S>>,
        sink: &mut T,
    ) -> Summary {
        let now = self.summary.now;
        let mut others = others;
        {
            let mut tallies: Vec<&mut PeriodTally<'p>> =
                others.iter_mut().map(|o| &mut o.periods).collect();
            self.periods.replay_repeats(&mut tallies);
        }
        for other in others {
            self.absorb(other);
        }
        self.partition = None;
        self.drop_shadow();
        self.summary.elsewhere = 0;
        // One evaluator now: recurrence rules prune as a single one does.
        self.periods.keep_repeat_candidates(false);
        self.periods.finish(now, sink, &mut self.summary);
        if let Some(now) = now {
            self.note_duty_coverage(now);
        }
        std::mem::take(&mut self.summary)
    }

    /// Takes in the state of another partition at the same stream time.
    fn absorb<T: Sink>(&mut self, mut other: Evaluator<'p, T>) {
        for w in other.in_order.drain(..) {
            self.waiting.push(Reverse(w));
        }
        self.waiting.extend(other.waiting.drain());
        self.arrivals = self.arrivals.max(other.arrivals);
        self.cases.extend(other.cases.drain());
        let dormant = &mut self.dormant;
        let cases = &mut self.cases;
        other.dormant.for_each(|key, resting| {
            if !dormant.insert_payload(key, resting.bytes()) {
                // The arena is full: the case stays awake, as `wake` brings it back.
                if let Ok(mut case) = resting.case() {
                    case.settle_queued = resting.settles();
                    cases.insert(key, Arc::new(case));
                }
            }
        });
        self.settling.absorb(std::mem::take(&mut other.settling));
        self.finished.absorb(std::mem::take(&mut other.finished));
        for d in std::mem::take(&mut other.deferred).into_iter() {
            self.deferred.push(d);
        }
        let (mine, theirs) = (&mut self.summary, &other.summary);
        mine.events += theirs.events;
        mine.accepted += theirs.accepted;
        mine.after_now += theirs.after_now;
        mine.rejected += theirs.rejected;
        mine.duplicates += theirs.duplicates;
        mine.late += theirs.late;
        mine.expired += theirs.expired;
        mine.cases += theirs.cases;
        mine.unopened += theirs.unopened;
        for (m, t) in mine.clauses.iter_mut().zip(&theirs.clauses) {
            m.met += t.met;
            m.breached += t.breached;
            m.pending += t.pending;
            m.actions_due += t.actions_due;
            m.actions_done += t.actions_done;
            m.actions_missed += t.actions_missed;
            m.findings += t.findings;
        }
        mine.uncovered.extend(theirs.uncovered.iter().cloned());
        mine.uncovered.sort();
        mine.uncovered.dedup();
        self.periods.absorb(&mut other.periods);
        self.deferred_notices
            .append(&mut std::mem::take(&mut other.deferred_notices));
        self.watermark = self.watermark.max(other.watermark);
    }
}
