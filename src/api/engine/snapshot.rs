//! An engine's state as bytes: whole snapshots ([`Engine::snapshot`], [`Engine::restore`]),
//! the merge of the snapshots of partitions ([`merge_states`]), and checkpoints in parts for a
//! host's store (the rest and each changed case, [`Engine::take_checkpoint`]), read back by
//! [`Engine::restore_parts`].

use super::*;
use crate::engine::CaseBytes;

/// What an [`Engine`] snapshot holds besides the evaluator's state.
#[derive(serde::Deserialize)]
struct EngineSnapshot {
    tz: Option<Tz>,
    lines: u64,
    stats: ReadStats,
    explained: Option<Explained>,
    evaluator: Vec<u8>,
}

impl Engine {
    /// The engine's whole state as bytes: its open cases, waiting events, counts and options.
    /// A host persists them (with its position in its source) and continues later with
    /// [`Engine::restore`]: the records then are those of a run never interrupted.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        #[derive(Serialize)]
        struct Ref<'a> {
            tz: Option<Tz>,
            lines: u64,
            stats: ReadStats,
            explained: &'a Option<Explained>,
            evaluator: Vec<u8>,
        }
        let state = Ref {
            tz: self.read.tz,
            lines: self.lines,
            stats: self.stats,
            explained: &self.explained,
            evaluator: self.cell.borrow_dependent().snapshot()?,
        };
        postcard::to_stdvec(&state).map_err(|e| SnapshotError::Unwritable(e.to_string()))
    }

    /// An engine in the state of a [`Engine::snapshot`], with the options it had. Refused,
    /// with the reason, when the bytes are not a snapshot of this version or were taken with
    /// other policies.
    pub fn restore(policies: &PolicySet, bytes: &[u8]) -> Result<Engine, SnapshotError> {
        let state: EngineSnapshot =
            postcard::from_bytes(bytes).map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
        let cell = Cell::try_new(Arc::clone(&policies.policies), |policies| {
            Evaluator::restore(policies, Records::default(), &state.evaluator)
        })?;
        Ok(Engine::restored(
            cell,
            policies,
            state.tz,
            state.lines,
            state.stats,
            state.explained,
        ))
    }

    /// An engine around an evaluator restored or merged from states: it reads JSON Lines, with
    /// the zone and counts the state had.
    fn restored(
        cell: Cell,
        policies: &PolicySet,
        tz: Option<Tz>,
        lines: u64,
        stats: ReadStats,
        explained: Option<Explained>,
    ) -> Engine {
        let relevance = cell.borrow_dependent().relevance().clone();
        Engine {
            cell,
            zone: policies.zone(),
            read: ReadOptions {
                format: Format::Jsonl,
                tz,
                relevance: Some(Arc::new(relevance)),
                export: None,
            },
            lines,
            stats,
            explained,
        }
    }
}

/// The state of one engine over the whole stream, from the snapshots ([`Engine::snapshot`])
/// of the engines of the `N` partitions of a split ([`Options::partition`]), each named (e.g.
/// by where it was read from) for the messages: every partition once, all of one `N`, taken
/// with these policies and the same options. Each case was judged by one partition alone, so
/// cases unite and counts add; recurrence rules run again over the union of the partitions'
/// candidates (two complaints about one unit may fall in different partitions). States taken
/// at different stream times are judged at the latest of them. [`Engine::finish`] then gives
/// the records still to come and the summary of one engine.
pub fn merge_states(
    policies: &PolicySet,
    states: &[(String, Vec<u8>)],
) -> Result<Engine, MergeError> {
    let mut inner = Vec::new();
    let mut first: Option<EngineSnapshot> = None;
    for (name, bytes) in states {
        let state: EngineSnapshot =
            postcard::from_bytes(bytes).map_err(|e| MergeError::Snapshot {
                name: name.clone(),
                error: SnapshotError::Unreadable(e.to_string()),
            })?;
        inner.push((name.clone(), state.evaluator.clone()));
        if first.is_none() {
            first = Some(state);
        }
    }
    let first = first.ok_or(MergeError::Nothing)?;
    let cell = Cell::try_new(Arc::clone(&policies.policies), |policies| {
        Evaluator::merge(policies, Records::default(), &inner)
    })?;
    Ok(Engine::restored(
        cell,
        policies,
        first.tz,
        first.lines,
        first.stats,
        None,
    ))
}

/// The evaluator's full state (as [`Engine::snapshot`] holds it) from an engine's state in
/// parts (a service's store): its rest and the bytes of every case kept.
pub(crate) fn evaluator_state_of_parts(
    policies: &PolicySet,
    rest: &[u8],
    cases: &[Vec<u8>],
) -> Result<Vec<u8>, SnapshotError> {
    let (_, evaluator) = split_rest(rest)?;
    let evaluator = Evaluator::restore_parts(
        &policies.policies,
        crate::engine::Collect::default(),
        &evaluator,
        cases,
    )?;
    evaluator.snapshot()
}

/// An engine's state in parts (see [`Engine::take_checkpoint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineCheckpoint {
    /// Everything but the cases and the events kept to explain them.
    pub rest: Vec<u8>,
    /// Cases changed since the previous checkpoint: key and bytes (`None`: settled).
    pub cases: Vec<(u128, Option<Vec<u8>>)>,
    /// The kept events let go of and appended since the previous checkpoint.
    pub explained: Arc<ExplainedRows>,
}

/// An [`EngineCheckpoint`] whose changed cases are not written yet (see
/// [`Engine::take_checkpoint`]).
#[derive(Debug)]
pub(crate) struct TakenCheckpoint {
    rest: Vec<u8>,
    cases: Vec<(u128, Option<CaseBytes>)>,
    explained: Arc<ExplainedRows>,
}

impl TakenCheckpoint {
    /// The checkpoint with its changed cases written as bytes.
    pub(crate) fn written(self) -> Result<EngineCheckpoint, SnapshotError> {
        let cases = self
            .cases
            .into_iter()
            .map(|(key, case)| Ok((key, case.map(CaseBytes::into_bytes).transpose()?)))
            .collect::<Result<_, SnapshotError>>()?;
        Ok(EngineCheckpoint {
            rest: self.rest,
            cases,
            explained: self.explained,
        })
    }
}

/// What an [`EngineCheckpoint`]'s `rest` holds beside the evaluator's state.
///
/// The rest is the evaluator's bytes, then this head (postcard), then the head's length (4
/// bytes, little-endian): the evaluator writes its tens of megabytes straight into the
/// buffer the host hands in, and nothing copies them again. The rest so begins, as a
/// snapshot does, with the evaluator's snapshot layout, read without decoding the rest.
#[derive(Serialize, serde::Deserialize)]
struct RestHead {
    tz: Option<Tz>,
    lines: u64,
    stats: ReadStats,
    /// Whether events are kept to explain cases, and the prune counter.
    explain: Option<u32>,
}

/// The rest as versions before the head came last wrote it: the head, then the evaluator's
/// bytes with their length in front. Its first byte is `tz`'s tag, 0 or 1, which no layout
/// of the evaluator's bytes begins with, so a rest says which way it was written. Read so
/// that a store of the same snapshot layout continues.
#[derive(serde::Deserialize)]
struct HeadFirstRest {
    tz: Option<Tz>,
    lines: u64,
    stats: ReadStats,
    explain: Option<u32>,
    #[serde(with = "crate::engine::raw_bytes")]
    evaluator: Vec<u8>,
}

/// The head and the evaluator's bytes of a checkpoint's rest, either way it was written.
fn split_rest(rest: &[u8]) -> Result<(RestHead, std::borrow::Cow<'_, [u8]>), SnapshotError> {
    let unreadable = |e: &dyn fmt::Display| SnapshotError::Unreadable(e.to_string());
    if matches!(rest.first(), Some(0 | 1)) {
        let old: HeadFirstRest = postcard::from_bytes(rest).map_err(|e| unreadable(&e))?;
        let head = RestHead {
            tz: old.tz,
            lines: old.lines,
            stats: old.stats,
            explain: old.explain,
        };
        return Ok((head, std::borrow::Cow::Owned(old.evaluator)));
    }
    let cut = rest
        .len()
        .checked_sub(4)
        .ok_or_else(|| unreadable(&"a rest shorter than its frame"))?;
    let (body, len) = rest.split_at(cut);
    let len = u32::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
    let start = body
        .len()
        .checked_sub(len)
        .ok_or_else(|| unreadable(&"a rest whose head is longer than itself"))?;
    let (evaluator, head) = body.split_at(start);
    let head = postcard::from_bytes(head).map_err(|e| unreadable(&e))?;
    Ok((head, std::borrow::Cow::Borrowed(evaluator)))
}

/// A rest: the evaluator's bytes, then `head` and its length.
fn join_rest(evaluator: Vec<u8>, head: &RestHead) -> Result<Vec<u8>, SnapshotError> {
    let start = evaluator.len();
    let mut rest = postcard::to_extend(head, evaluator)
        .map_err(|e| SnapshotError::Unwritable(e.to_string()))?;
    let len =
        u32::try_from(rest.len() - start).map_err(|e| SnapshotError::Unwritable(e.to_string()))?;
    rest.extend_from_slice(&len.to_le_bytes());
    Ok(rest)
}

impl Engine {
    /// Whether this version can continue from a checkpoint's `rest`: what restoring it would
    /// refuse for its layout (a state written by another version), found without restoring
    /// anything. A host checks it before it changes anything of its store.
    pub(crate) fn rest_readable(rest: &[u8]) -> Result<(), SnapshotError> {
        let (_, evaluator) = split_rest(rest)?;
        crate::engine::snapshot_format_readable(&evaluator)
    }

    /// The `rest` of a checkpoint whose evaluator's state is of snapshot layout `format` (and
    /// empty beyond it), for tests of what refuses another layout.
    #[cfg(test)]
    pub(crate) fn rest_of_format(format: u32) -> Vec<u8> {
        let head = RestHead {
            tz: None,
            lines: 0,
            stats: ReadStats::default(),
            explain: Some(0),
        };
        join_rest(postcard::to_stdvec(&format).unwrap_or_default(), &head).unwrap_or_default()
    }

    /// From now on, keeps the cases at rest (closed and waiting out their retention, or quiet
    /// for a day) in the file at `path` rather than in memory, but for the latest few
    /// megabytes; a case is read back when an event wakes it or it settles. The file is
    /// created or emptied, and is a cache of this process alone: the state a host persists
    /// (a snapshot or checkpoint) holds the cases themselves. Should a read of it fail later,
    /// the next checkpoint fails rather than commit a state missing cases.
    pub fn spill_resting_to(&mut self, path: &std::path::Path) -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        self.cell
            .with_dependent_mut(|_, e| e.spill_resting_to(file));
        Ok(())
    }

    /// From now on, remembers which cases change, for [`Engine::take_checkpoint`]; an explaining
    /// engine no longer keeps the events of its cases itself but hands them to its host, which
    /// stores them (as rows appended once) and gives them back to
    /// [`Engine::explain_events`].
    pub(crate) fn track_changes(&mut self) {
        self.cell.with_dependent_mut(|_, e| e.track_changes());
        if let Some(explained) = self.explained.as_mut() {
            if explained.outside.is_none() {
                let mut outside = Outside::default();
                // Numbered from 1, below the number of any later push.
                let mut numbers = 1..;
                for (ticket, events) in std::mem::take(&mut explained.events) {
                    let key = case_key(&ticket);
                    for (event, n) in events.iter().zip(&mut numbers) {
                        // (The events of a case settled since the last pruning are let go of.)
                        if self.cell.with_dependent_mut(|_, e| e.keep_row(key, n)) {
                            let bytes = postcard::to_stdvec(event).unwrap_or_default();
                            outside.appended.push((n, bytes));
                        }
                    }
                }
                explained.outside = Some(outside);
            }
        }
    }

    /// [`Engine::take_checkpoint`] with its cases written at once.
    #[cfg(test)]
    pub(crate) fn checkpoint_into(
        &mut self,
        room: Vec<u8>,
    ) -> Result<EngineCheckpoint, SnapshotError> {
        self.take_checkpoint(room)?.written()
    }

    /// The state in parts, for a store that keeps each case apart: what changed since the
    /// previous checkpoint, and the rest whole. Its cost follows the cases that changed, not
    /// every case kept (the service commits one per batch). The rest is written into `room`
    /// (emptied first): a host that hands back the previous checkpoint's rest reuses its tens
    /// of megabytes. The changed cases are handed out as they are, for the host to write with
    /// [`TakenCheckpoint::written`] on another thread while this engine goes on.
    pub(crate) fn take_checkpoint(
        &mut self,
        room: Vec<u8>,
    ) -> Result<TakenCheckpoint, SnapshotError> {
        let parts = self.cell.with_dependent_mut(|_, e| e.checkpoint(room))?;
        let head = RestHead {
            tz: self.read.tz,
            lines: self.lines,
            stats: self.stats,
            explain: self.explained.as_ref().map(|x| x.since_prune),
        };
        let rest = join_rest(parts.rest, &head)?;
        let mut explained = Arc::default();
        if let Some(outside) = self.explained.as_mut().and_then(|x| x.outside.as_mut()) {
            // The cases that settled since the previous checkpoint let go of their events.
            outside.dropped.extend_from_slice(&parts.released_rows);
            let mut dropped = std::mem::take(&mut outside.dropped);
            let mut appended = std::mem::take(&mut outside.appended);
            if !dropped.is_empty() && !appended.is_empty() {
                // A row appended since the last checkpoint and let go of already is neither
                // written nor let go of: the store never has it.
                let fresh: std::collections::HashSet<u64> =
                    appended.iter().map(|(n, _)| *n).collect();
                let gone: std::collections::HashSet<u64> = dropped
                    .iter()
                    .copied()
                    .filter(|n| fresh.contains(n))
                    .collect();
                if !gone.is_empty() {
                    appended.retain(|(n, _)| !gone.contains(n));
                    dropped.retain(|n| !gone.contains(n));
                }
            }
            explained = Arc::new(ExplainedRows { dropped, appended });
            outside.in_flight = Arc::clone(&explained);
        }
        Ok(TakenCheckpoint {
            rest,
            cases: parts.cases,
            explained,
        })
    }

    /// How many rows of kept events the host stores for this engine (and it has yet to).
    #[cfg(all(test, feature = "cli"))]
    pub(crate) fn explained_row_count(&self) -> usize {
        self.cell.borrow_dependent().kept_row_count()
    }

    /// The host has stored what the last checkpoint handed out about the kept events.
    pub(crate) fn explained_stored(&mut self) {
        if let Some(outside) = self.explained.as_mut().and_then(|x| x.outside.as_mut()) {
            outside.in_flight = Arc::default();
        }
    }

    /// The rows of the kept events of `ticket`, in order: the number of each, and its bytes
    /// when the host has not stored it yet (`None`: read it from the store).
    pub(crate) fn explained_rows(&self, ticket: &str) -> Vec<(u64, Option<Vec<u8>>)> {
        let Some(outside) = self.explained.as_ref().and_then(|x| x.outside.as_ref()) else {
            return Vec::new();
        };
        let Some(rows) = self.cell.borrow_dependent().kept_rows(case_key(ticket)) else {
            return Vec::new();
        };
        let unstored = |n: u64| {
            [&outside.appended, &outside.in_flight.appended]
                .into_iter()
                .find_map(|part| {
                    let i = part.binary_search_by_key(&n, |(m, _)| *m).ok()?;
                    Some(part[i].1.clone())
                })
        };
        rows.into_iter().map(|n| (n, unstored(n))).collect()
    }

    /// An engine in the state its checkpoints wrote: the latest rest and the latest bytes of
    /// every case kept (each with the numbers of the rows its host stores its kept events
    /// under). It tracks changes from there.
    pub(crate) fn restore_parts<C: AsRef<[u8]>>(
        policies: &PolicySet,
        rest: &[u8],
        cases: impl IntoIterator<Item = C>,
    ) -> Result<Engine, SnapshotError> {
        let (state, evaluator) = split_rest(rest)?;
        let cell = Cell::try_new(Arc::clone(&policies.policies), |policies| {
            Evaluator::restore_parts(policies, Records::default(), &evaluator, cases)
        })?;
        let explained = state.explain.map(|since_prune| Explained {
            events: Default::default(),
            since_prune,
            outside: Some(Outside::default()),
        });
        Ok(Engine::restored(
            cell,
            policies,
            state.tz,
            state.lines,
            state.stats,
            explained,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::engine_with_cases;
    use super::*;

    /// Stores written before the head came last hold rests head first: they are read as they
    /// were, so a store of the same snapshot layout continues.
    #[test]
    fn a_rest_written_head_first_reads_as_written_head_last() {
        #[derive(Serialize)]
        struct HeadFirst<'a> {
            tz: Option<Tz>,
            lines: u64,
            stats: ReadStats,
            explain: Option<u32>,
            #[serde(with = "crate::engine::raw_bytes")]
            evaluator: &'a [u8],
        }
        let (policies, mut engine) = engine_with_cases();
        let checkpoint = engine
            .checkpoint_into(b"stale bytes".to_vec())
            .expect("checkpoint");
        let (head, evaluator) = split_rest(&checkpoint.rest).expect("split");
        assert!(
            checkpoint.rest.starts_with(&evaluator),
            "the evaluator's bytes come first"
        );
        assert_eq!(head.lines, 3);
        let old = postcard::to_stdvec(&HeadFirst {
            tz: head.tz,
            lines: head.lines,
            stats: head.stats,
            explain: head.explain,
            evaluator: &evaluator,
        })
        .expect("old layout");
        assert_ne!(old, checkpoint.rest);
        Engine::rest_readable(&old).expect("readable");
        let cases: Vec<Vec<u8>> = checkpoint
            .cases
            .iter()
            .filter_map(|(_, b)| b.clone())
            .collect();
        let from_new =
            Engine::restore_parts(&policies, &checkpoint.rest, cases.clone()).expect("new");
        let from_old = Engine::restore_parts(&policies, &old, cases).expect("old");
        assert_eq!(from_new.lines_read(), 3);
        assert_eq!(from_old.lines_read(), 3);
        assert_eq!(from_new.open_cases(), 3);
        assert_eq!(
            from_new.snapshot().expect("snapshot"),
            from_old.snapshot().expect("snapshot")
        );
    }

    /// A damaged rest is refused with a reason, whatever its bytes: cut at any length, or
    /// with any one byte changed.
    #[test]
    fn a_damaged_rest_is_refused_never_misread() {
        let (policies, mut engine) = engine_with_cases();
        let rest = engine.checkpoint_into(Vec::new()).expect("checkpoint").rest;
        for len in 0..rest.len() {
            assert!(
                Engine::restore_parts(&policies, &rest[..len], Vec::<Vec<u8>>::new()).is_err(),
                "a rest cut at {len} of {} bytes was restored",
                rest.len()
            );
        }
        let frame = rest.len() - 4;
        let mut long = rest.clone();
        long[frame..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            split_rest(&long),
            Err(SnapshotError::Unreadable(_))
        ));
        for i in 0..rest.len() {
            let mut bad = rest.clone();
            bad[i] ^= 0x5a;
            let _ = Engine::rest_readable(&bad);
            let _ = Engine::restore_parts(&policies, &bad, Vec::<Vec<u8>>::new());
        }
        assert!(matches!(
            Engine::rest_readable(&Engine::rest_of_format(12)),
            Err(SnapshotError::Format(12))
        ));
    }
}
