//! The service's state in `DIR/state.redb`: one embedded, crash-safe database.
//!
//! One write transaction per batch commits together the engine's state, the source's position,
//! the records that became final in the batch and the alerts it raised (the outbox). After a
//! crash the database holds exactly the last committed batch, so the service restores the state
//! and re-reads its source from the stored position: a line before it is never applied twice,
//! a line after it is applied once.
//!
//! The engine's state is kept in parts: each case in a row of its own, rewritten only when the
//! case changed in the batch, and the rest whole. The events kept to explain a case (`GET
//! /cases/{ticket}`) are rows of their own, one per event, appended once and removed when the
//! case settles: memory holds none of them, and a commit writes each event once. A commit
//! therefore costs what the batch changed, not every open case.
//!
//! Final records are written a row per batch (the batch's records as JSON lines, keyed by the
//! number of its first record), with an index of each ticket's record numbers.
//!
//! The layout of the tables is numbered ([`LAYOUT`]): a store of the previous layout (whose
//! kept events were one row per ticket, rewritten whole) is migrated when opened; a store of a
//! later layout is refused.
//!
//! Every table and key is named after a partition (`p0` for the one partition of a single
//! instance, `pI` for `--partition I/N`), so that a scale-out over partitions of a source adds
//! partitions to the same store.
//!
//! `pledge report --merge` needs nothing but the engine's state ([`Store::partitions`]: its rest
//! and its cases): the rest carries the partition and the period report the engine tallies, so
//! they are committed in the same transaction as the rest of the state by construction.

use super::source::Position;
use crate::api::EngineCheckpoint;
use crate::event::Event;
use redb::{
    Database, MultimapTableDefinition, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};
use std::path::Path;

/// What went wrong with the store, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "state store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

fn e<E: Into<redb::Error>>(err: E) -> StoreError {
    StoreError(err.into().to_string())
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The state of one partition as committed: the rest of the engine's state (its cases are read
/// with [`Store::cases`]) and the source's position.
#[derive(Debug, Clone)]
pub struct Committed {
    pub rest: Vec<u8>,
    pub position: Position,
}

/// What one batch commits.
pub struct Batch<'a> {
    pub state: &'a EngineCheckpoint,
    pub position: &'a Position,
    /// Final records as JSON lines, with the ticket each is about.
    pub records: &'a [(Option<String>, String)],
    /// Alerts to deliver: (idempotency key, JSON body), entered in the outbox of each target.
    pub alerts: &'a [(String, String)],
    pub targets: &'a [Target],
}

/// Where alerts go: each target has its own outbox, emptied by its own deliverer, so that a
/// receiver that is down holds back nothing sent to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Webhook,
    Nats,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Webhook => "webhook",
            Target::Nats => "nats",
        }
    }
}

/// The store of one partition.
pub struct Store {
    db: Database,
    state: TableDefinition<'static, &'static str, &'static [u8]>,
    cases: TableDefinition<'static, u128, &'static [u8]>,
    /// Layout 1: per ticket, its kept events whole (read only to migrate).
    explained: TableDefinition<'static, &'static str, &'static [u8]>,
    /// Per kept event: its row number (the engine's count of events when it came, so rows are
    /// appended at the end of the table) and the event's bytes, which name its ticket.
    why: TableDefinition<'static, u64, &'static [u8]>,
    records: TableDefinition<'static, u64, &'static str>,
    tickets: MultimapTableDefinition<'static, &'static str, u64>,
    /// Per [`Target`], in its order.
    outboxes: [TableDefinition<'static, &'static str, &'static str>; 2],
}

const REST: &str = "rest";
/// The key of the layout's number in the state table.
const LAYOUT_KEY: &str = "layout";
/// The layout this version writes: 2, the kept events one row per event. A store without the
/// key is of layout 1.
pub const LAYOUT: u32 = 2;

/// Bytes of the store's page cache. Commits append and remove rows near the tables' ends, so a
/// small cache serves them: on the dense 1 M backlog, 16 MiB took 40 to 80 MB off the peak RSS
/// of 64 MiB at the same speed.
const STORE_CACHE: usize = 16 << 20;
const POSITION: &str = "position";

impl Store {
    /// Opens (or creates) `dir/state.redb` for partition `partition`.
    pub fn open(dir: &Path, partition: u32) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|err| StoreError(format!("cannot create `{}`: {err}", dir.display())))?;
        // redb caches up to 1 GiB of pages by default: the service keeps its own state in
        // memory, so the store's cache is kept small (it serves `/records` and `/cases`).
        let db = redb::Builder::new()
            .set_cache_size(STORE_CACHE)
            .create(dir.join("state.redb"))
            .map_err(e)?;
        // Table names must live as long as the process; there is one store per process.
        let name =
            |what: &str| -> &'static str { Box::leak(format!("p{partition}/{what}").into()) };
        let store = Store {
            db,
            state: TableDefinition::new(name("state")),
            cases: TableDefinition::new(name("cases")),
            explained: TableDefinition::new(name("explained")),
            why: TableDefinition::new(name("why")),
            records: TableDefinition::new(name("records")),
            tickets: MultimapTableDefinition::new(name("tickets")),
            outboxes: [
                TableDefinition::new(name("outbox")),
                TableDefinition::new(name("outbox-nats")),
            ],
        };
        let tx = store.db.begin_write().map_err(e)?;
        store.upgrade(&tx, dir)?;
        tx.open_table(store.cases).map_err(e)?;
        tx.open_table(store.why).map_err(e)?;
        tx.open_table(store.records).map_err(e)?;
        tx.open_multimap_table(store.tickets).map_err(e)?;
        for outbox in store.outboxes {
            tx.open_table(outbox).map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(store)
    }

    /// Checks the layout of the store, migrating one of layout 1 (in the transaction that
    /// opens the store): each ticket's kept events become rows of their own.
    fn upgrade(&self, tx: &redb::WriteTransaction, dir: &Path) -> Result<()> {
        let mut state = tx.open_table(self.state).map_err(e)?;
        let layout = match state.get(LAYOUT_KEY).map_err(e)? {
            Some(v) => {
                let bytes = v.value();
                let number = <[u8; 4]>::try_from(bytes).map(u32::from_le_bytes);
                number.map_err(|_| StoreError("unreadable layout number".into()))?
            }
            // A new store, or one of layout 1 (which has a rest without a layout).
            None if state.get(REST).map_err(e)?.is_none() => LAYOUT,
            None => 1,
        };
        if layout > LAYOUT {
            return Err(StoreError(format!(
                "`{}` is of layout {layout}, written by a later version of pledge (this one reads layouts up to {LAYOUT}); start with another --state directory",
                dir.display()
            )));
        }
        if layout == 1 {
            let mut why = tx.open_table(self.why).map_err(e)?;
            // Numbered from 1 in the order of the old rows: below the number of any event the
            // engine has yet to take (its count of events is at least theirs).
            let mut numbers = 1..;
            if let Ok(old) = tx.open_table(self.explained) {
                for row in old.iter().map_err(e)? {
                    let (_, bytes) = row.map_err(e)?;
                    let events: Vec<Event> =
                        postcard::from_bytes(bytes.value()).map_err(|err| {
                            StoreError(format!("cannot migrate the kept events of layout 1: {err}"))
                        })?;
                    for (event, n) in events.iter().zip(&mut numbers) {
                        let bytes = postcard::to_stdvec(event)
                            .map_err(|err| StoreError(err.to_string()))?;
                        why.insert(n, bytes.as_slice()).map_err(e)?;
                    }
                }
            }
            drop(why);
            tx.delete_table(self.explained).map_err(e)?;
        }
        state
            .insert(LAYOUT_KEY, LAYOUT.to_le_bytes().as_slice())
            .map_err(e)?;
        Ok(())
    }

    /// The last committed state, if any batch was ever committed.
    pub fn committed(&self) -> Result<Option<Committed>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.state).map_err(e)?;
        let rest = table.get(REST).map_err(e)?.map(|v| v.value().to_vec());
        let position = table.get(POSITION).map_err(e)?.map(|v| v.value().to_vec());
        match (rest, position) {
            (Some(rest), Some(position)) => {
                let position = serde_json::from_slice(&position)
                    .map_err(|err| StoreError(format!("unreadable source position: {err}")))?;
                Ok(Some(Committed { rest, position }))
            }
            _ => Ok(None),
        }
    }

    /// The committed state of every partition held in `dir/state.redb`, by partition number
    /// (`pledge report --merge`): its rest and the bytes of every case kept. The store is
    /// opened read-only in effect: nothing is created, and a store still held by a running
    /// service is refused with its reason.
    #[allow(clippy::type_complexity)]
    pub fn partitions(dir: &Path) -> Result<Vec<(u32, Vec<u8>, Vec<Vec<u8>>)>> {
        let path = dir.join("state.redb");
        if !path.is_file() {
            return Err(StoreError(format!(
                "no state in `{}`: `state.redb` is missing (the directory of `pledge serve --state`)",
                dir.display()
            )));
        }
        let db = Database::open(&path).map_err(|err| {
            let held = matches!(err, redb::DatabaseError::DatabaseAlreadyOpen);
            StoreError(format!(
                "cannot open `{}`: {}{}",
                path.display(),
                redb::Error::from(err),
                if held {
                    " (its service is still running: a running service holds its store alone; stop it with SIGTERM, which commits, then merge)"
                } else {
                    ""
                }
            ))
        })?;
        let tx = db.begin_read().map_err(e)?;
        let mut numbers = Vec::new();
        for handle in tx.list_tables().map_err(e)? {
            let number = handle
                .name()
                .strip_prefix('p')
                .and_then(|n| n.strip_suffix("/state"))
                .and_then(|n| n.parse::<u32>().ok());
            numbers.extend(number);
        }
        numbers.sort_unstable();
        let mut out = Vec::new();
        for number in numbers {
            let name = format!("p{number}/state");
            let state: TableDefinition<'_, &str, &[u8]> = TableDefinition::new(&name);
            let table = tx.open_table(state).map_err(e)?;
            let Some(rest) = table.get(REST).map_err(e)?.map(|v| v.value().to_vec()) else {
                continue;
            };
            let name = format!("p{number}/cases");
            let cases: TableDefinition<'_, u128, &[u8]> = TableDefinition::new(&name);
            let mut kept = Vec::new();
            if let Ok(table) = tx.open_table(cases) {
                for row in table.iter().map_err(e)? {
                    kept.push(row.map_err(e)?.1.value().to_vec());
                }
            }
            out.push((number, rest, kept));
        }
        if out.is_empty() {
            return Err(StoreError(format!(
                "no committed state in `{}`: the service committed no batch",
                dir.display()
            )));
        }
        Ok(out)
    }

    /// Commits one batch: all of it, or (after a crash) none of it.
    pub fn commit(&self, batch: &Batch<'_>) -> Result<()> {
        let position = serde_json::to_vec(batch.position)
            .map_err(|err| StoreError(format!("cannot write the source position: {err}")))?;
        let tx = self.db.begin_write().map_err(e)?;
        {
            let mut state = tx.open_table(self.state).map_err(e)?;
            state.insert(REST, batch.state.rest.as_slice()).map_err(e)?;
            state.insert(POSITION, position.as_slice()).map_err(e)?;
            let mut cases = tx.open_table(self.cases).map_err(e)?;
            for (key, bytes) in &batch.state.cases {
                match bytes {
                    Some(bytes) => drop(cases.insert(*key, bytes.as_slice()).map_err(e)?),
                    None => drop(cases.remove(*key).map_err(e)?),
                }
            }
            let mut why = tx.open_table(self.why).map_err(e)?;
            for n in &batch.state.explained.dropped {
                why.remove(*n).map_err(e)?;
            }
            for (n, bytes) in &batch.state.explained.appended {
                why.insert(*n, bytes.as_slice()).map_err(e)?;
            }
            let mut records = tx.open_table(self.records).map_err(e)?;
            let mut tickets = tx.open_multimap_table(self.tickets).map_err(e)?;
            if !batch.records.is_empty() {
                // The batch's records are one row (numbered by its first record): one insert
                // per batch, and the ticket index one per record.
                let first = records
                    .last()
                    .map_err(e)?
                    .map_or(0, |(k, v)| k.value() + lines_in(v.value()));
                let size = batch.records.iter().map(|(_, l)| l.len() + 1).sum();
                let mut row = String::with_capacity(size);
                for (seq, (ticket, line)) in (first..).zip(batch.records) {
                    if seq > first {
                        row.push('\n');
                    }
                    row.push_str(line);
                    if let Some(ticket) = ticket {
                        tickets.insert(ticket.as_str(), seq).map_err(e)?;
                    }
                }
                records.insert(first, row.as_str()).map_err(e)?;
            }
            for target in batch.targets {
                let mut outbox = tx.open_table(self.outbox_of(*target)).map_err(e)?;
                for (key, body) in batch.alerts {
                    outbox.insert(key.as_str(), body.as_str()).map_err(e)?;
                }
            }
        }
        tx.commit().map_err(e)
    }

    /// Every committed case as its bytes, and the rows of kept events (ticket and number, in
    /// order of number).
    #[allow(clippy::type_complexity)]
    pub fn cases(&self) -> Result<(Vec<Vec<u8>>, Vec<(String, u64)>)> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.cases).map_err(e)?;
        let mut cases = Vec::new();
        for row in table.iter().map_err(e)? {
            cases.push(row.map_err(e)?.1.value().to_vec());
        }
        let table = tx.open_table(self.why).map_err(e)?;
        let mut rows = Vec::new();
        for row in table.iter().map_err(e)? {
            let (k, v) = row.map_err(e)?;
            let event: Event = postcard::from_bytes(v.value())
                .map_err(|err| StoreError(format!("unreadable kept event: {err}")))?;
            rows.push((event.ticket.to_string(), k.value()));
        }
        Ok((cases, rows))
    }

    /// The committed kept events numbered `numbers`, as their bytes (`None`: no such row).
    pub fn kept_events(&self, numbers: &[u64]) -> Result<Vec<Option<Vec<u8>>>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.why).map_err(e)?;
        let mut out = Vec::with_capacity(numbers.len());
        for n in numbers {
            out.push(table.get(*n).map_err(e)?.map(|v| v.value().to_vec()));
        }
        Ok(out)
    }

    /// The committed records from number `since` on (at most `limit`), as JSON lines.
    pub fn records(&self, since: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.records).map_err(e)?;
        // The row that holds record `since` starts at or before it.
        let start = match table.range(..=since).map_err(e)?.next_back() {
            Some(row) => row.map_err(e)?.0.value(),
            None => since,
        };
        let mut out = Vec::new();
        for row in table.range(start..).map_err(e)? {
            let (k, v) = row.map_err(e)?;
            for (seq, line) in (k.value()..).zip(v.value().split('\n')) {
                if seq >= since {
                    out.push((seq, line.to_string()));
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The committed records about `ticket`, in order.
    pub fn records_of(&self, ticket: &str) -> Result<Vec<String>> {
        let tx = self.db.begin_read().map_err(e)?;
        let tickets = tx.open_multimap_table(self.tickets).map_err(e)?;
        let records = tx.open_table(self.records).map_err(e)?;
        let mut out = Vec::new();
        for seq in tickets.get(ticket).map_err(e)? {
            let seq = seq.map_err(e)?.value();
            if let Some(row) = records.range(..=seq).map_err(e)?.next_back() {
                let (k, v) = row.map_err(e)?;
                let nth = usize::try_from(seq - k.value()).unwrap_or(usize::MAX);
                out.extend(v.value().split('\n').nth(nth).map(str::to_string));
            }
        }
        Ok(out)
    }

    fn outbox_of(&self, target: Target) -> TableDefinition<'static, &'static str, &'static str> {
        self.outboxes[target as usize]
    }

    /// Alerts not yet delivered to `target`, in key order.
    pub fn outbox(&self, target: Target, limit: usize) -> Result<Vec<(String, String)>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.outbox_of(target)).map_err(e)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(e)?.take(limit) {
            let (k, v) = row.map_err(e)?;
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    /// How many alerts wait for delivery to `target`.
    pub fn outbox_len(&self, target: Target) -> Result<u64> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.outbox_of(target)).map_err(e)?;
        table.len().map_err(e)
    }

    /// Removes alerts delivered to `target`, in one transaction.
    pub fn delivered(&self, target: Target, keys: &[&str]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(e)?;
        {
            let mut outbox = tx.open_table(self.outbox_of(target)).map_err(e)?;
            for key in keys {
                outbox.remove(*key).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }
}

/// Records in a row of the records table: one per line (a record's JSON has no line end).
fn lines_in(row: &str) -> u64 {
    memchr::memchr_iter(b'\n', row.as_bytes()).count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Engine, Options, PolicySet};
    use crate::gen::{generate, GenOptions};

    /// The shipped policies, and a dense month in which cases settle (a short retention) while
    /// shuffled events wait out the window.
    fn setting() -> (PolicySet, Vec<Vec<u8>>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("policies/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
            .collect();
        paths.sort();
        let policies = PolicySet::from_files(&paths).expect("the shipped policies");
        let opts = GenOptions {
            cases: 400,
            seed: 9,
            days: 30,
            shuffle: 0.05,
            max_displacement: 40,
            never_closed_permille: 300,
            close_on_resolve_permille: 700,
            ..GenOptions::default()
        };
        let mut out = Vec::new();
        generate(&opts, &mut out).expect("generate");
        let lines = out.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        (policies, lines)
    }

    fn options() -> Options {
        Options::default()
            .reorder_window(chrono::Duration::hours(2))
            .retain(chrono::Duration::days(2))
            .explain(true)
    }

    /// Committing checkpoints (only the cases that changed) and restoring from the store at
    /// many points gives the records and summary of one uninterrupted engine, and the kept
    /// events that explain a case.
    #[test]
    fn restoring_from_committed_checkpoints_continues_exactly() {
        let (policies, lines) = setting();
        let mut whole = Engine::new(&policies, &options());
        let mut expected = Vec::new();
        for line in &lines {
            expected.extend(whole.push_json(line));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0).expect("store");
        let mut engine = Engine::new(&policies, &options());
        engine.track_changes();
        let mut got = Vec::new();
        let (mut restores, mut partial_commits) = (0, 0);
        for (i, line) in lines.iter().enumerate() {
            got.extend(engine.push_json(line));
            if i % 97 == 96 {
                let state = engine.checkpoint().expect("checkpoint");
                assert!(state.cases.len() < engine.open_cases().max(1) * 2);
                partial_commits += usize::from(state.cases.len() < engine.open_cases());
                let position = Position::Stdin {
                    lines: i as u64 + 1,
                };
                store
                    .commit(&Batch {
                        state: &state,
                        position: &position,
                        records: &[],
                        alerts: &[],
                        targets: &[],
                    })
                    .expect("commit");
                engine.explained_stored();
                if i % 3 == 0 {
                    let committed = store.committed().expect("read").expect("committed");
                    let (cases, explained) = store.cases().expect("cases");
                    assert_eq!(cases.len(), engine.open_cases());
                    engine = Engine::restore_parts(&policies, &committed.rest, cases, explained)
                        .expect("restore");
                    restores += 1;
                }
            }
        }
        assert!(restores > 10, "{restores}");
        assert!(partial_commits > 10, "{partial_commits}");
        let explained: std::collections::BTreeSet<String> = lines
            .iter()
            .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
            .filter_map(|v| v["ticket"].as_str().map(str::to_string))
            .filter(|t| whole.explain(t).is_some())
            .collect();
        assert!(explained.len() > 100, "{}", explained.len());
        for ticket in &explained {
            let rows = engine.explained_rows(ticket);
            let numbers: Vec<u64> = rows.iter().map(|(n, _)| *n).collect();
            let stored = store.kept_events(&numbers).expect("kept events");
            let events: Vec<Event> = rows
                .into_iter()
                .zip(stored)
                .map(|((_, unstored), stored)| {
                    let bytes = unstored.or(stored).expect("a row");
                    postcard::from_bytes(&bytes).expect("an event")
                })
                .collect();
            let got = (!events.is_empty())
                .then(|| engine.explain_events(ticket, &events))
                .flatten();
            assert_eq!(got, whole.explain(ticket), "{ticket}");
        }
        let (got_end, expected_end) = (engine.finish(), whole.finish());
        got.extend(got_end.records.iter().cloned());
        expected.extend(expected_end.records.iter().cloned());
        assert!(expected.len() > 1000, "{}", expected.len());
        assert!(got == expected, "the records differ");
        assert_eq!(got_end.summary_json(), expected_end.summary_json());
    }

    /// A store of layout 1 (each ticket's kept events in one row, rewritten whole) is migrated
    /// when opened: the events become rows of their own, in order; a store of a later layout
    /// than this version writes is refused with the reason.
    #[test]
    fn a_store_of_layout_1_is_migrated_and_a_later_layout_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |hm: &str| {
            format!("2026-03-02T{hm}:00+08:00")
                .parse()
                .expect("instant")
        };
        let events = vec![
            Event::new("T-1", at("09:00"), "opened").with_attr("project", "north"),
            Event::new("T-1", at("09:30"), "contacted"),
        ];
        let position = serde_json::to_vec(&Position::Stdin { lines: 2 }).expect("position");
        {
            let db = Database::create(dir.path().join("state.redb")).expect("db");
            let tx = db.begin_write().expect("tx");
            {
                let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("p0/state");
                let mut state = tx.open_table(def).expect("state");
                state.insert(REST, b"the rest".as_slice()).expect("rest");
                state.insert(POSITION, position.as_slice()).expect("pos");
                let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("p0/explained");
                let mut old = tx.open_table(def).expect("explained");
                let bytes = postcard::to_stdvec(&events).expect("bytes");
                old.insert("T-1", bytes.as_slice()).expect("row");
            }
            tx.commit().expect("commit");
        }
        let store = Store::open(dir.path(), 0).expect("migrated");
        let committed = store.committed().expect("read").expect("committed");
        assert_eq!(committed.rest, b"the rest");
        let (cases, rows) = store.cases().expect("cases");
        assert!(cases.is_empty());
        assert_eq!(rows, [("T-1".to_string(), 1), ("T-1".to_string(), 2)]);
        let kept: Vec<Event> = store
            .kept_events(&[1, 2])
            .expect("kept")
            .into_iter()
            .map(|b| postcard::from_bytes(&b.expect("a row")).expect("event"))
            .collect();
        assert_eq!(kept, events);
        {
            let tx = store.db.begin_read().expect("tx");
            let names: Vec<String> = tx
                .list_tables()
                .expect("tables")
                .map(|h| h.name().to_string())
                .collect();
            assert!(!names.contains(&"p0/explained".to_string()), "{names:?}");
        }
        // Opened again: already of this layout, nothing changes.
        drop(store);
        let store = Store::open(dir.path(), 0).expect("reopened");
        assert_eq!(store.cases().expect("cases").1.len(), 2);
        {
            let tx = store.db.begin_write().expect("tx");
            tx.open_table(store.state)
                .expect("state")
                .insert(LAYOUT_KEY, (LAYOUT + 1).to_le_bytes().as_slice())
                .expect("layout");
            tx.commit().expect("commit");
        }
        drop(store);
        let refused = Store::open(dir.path(), 0).err().expect("refused");
        assert!(
            refused.0.contains(&format!("is of layout {}", LAYOUT + 1)),
            "{refused}"
        );
    }

    /// Records are written a row per batch: read back by number (from any record on, in pages
    /// that cut rows) and by ticket, as if each were a row of its own.
    #[test]
    fn records_written_a_row_per_batch_read_back_by_number_and_by_ticket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0).expect("store");
        let state = EngineCheckpoint {
            rest: Vec::new(),
            cases: Vec::new(),
            explained: Default::default(),
        };
        let line =
            |t: &str, n: u64| format!("{{\"record\":\"verdict\",\"ticket\":\"{t}\",\"n\":{n}}}");
        let batches = [
            vec![("A", 0), ("B", 1), ("A", 2)],
            vec![],
            vec![("C", 3)],
            vec![("A", 4), ("B", 5)],
        ];
        for (i, batch) in batches.iter().enumerate() {
            let records: Vec<(Option<String>, String)> = batch
                .iter()
                .map(|(t, n)| (Some(t.to_string()), line(t, *n)))
                .collect();
            let position = Position::Stdin { lines: i as u64 };
            store
                .commit(&Batch {
                    state: &state,
                    position: &position,
                    records: &records,
                    alerts: &[],
                    targets: &[],
                })
                .expect("commit");
        }
        let all = store.records(0, 100).expect("records");
        let want: Vec<(u64, String)> = [("A", 0), ("B", 1), ("A", 2), ("C", 3), ("A", 4), ("B", 5)]
            .iter()
            .map(|(t, n)| (*n, line(t, *n)))
            .collect();
        assert_eq!(all, want);
        assert_eq!(store.records(2, 2).expect("page"), want[2..4].to_vec());
        assert_eq!(store.records(1, 1).expect("page"), want[1..2].to_vec());
        assert_eq!(store.records(5, 10).expect("page"), want[5..].to_vec());
        assert!(store.records(6, 10).expect("page").is_empty());
        assert_eq!(
            store.records_of("A").expect("A"),
            [line("A", 0), line("A", 2), line("A", 4)]
        );
        assert_eq!(store.records_of("C").expect("C"), [line("C", 3)]);
        assert!(store.records_of("D").expect("D").is_empty());
    }
}
