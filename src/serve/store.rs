//! The service's state in `DIR/state.redb`: one embedded, crash-safe database.
//!
//! One write transaction per batch commits together the engine's state, the source's position,
//! the records that became final in the batch and the alerts it raised (the outbox). After a
//! crash the database holds exactly the last committed batch, so the service restores the state
//! and re-reads its source from the stored position: a line before it is never applied twice,
//! a line after it is applied once.
//!
//! The engine's state is kept in parts: the cases that changed in the batch, appended to a log
//! of rows ([`super::caselog`]: rows whose entries are all superseded are deleted, the oldest
//! compacted when the log holds more than twice what is current), and the rest in parts cut
//! by their content ([`super::restparts`]), of which a commit writes those that changed. The
//! events kept to explain a case (`GET /cases/{ticket}`) are rows of their own, one per event,
//! appended once; when the case settles, their numbers are appended to a list of rows let go
//! of, and the rows are removed together when that list holds a quarter of them. Memory holds none
//! of the events, and a commit writes each event once. A commit therefore costs what the
//! batch changed, not every open case, and writes it at its size: a change at a key the store
//! has to find (a case rewritten in place, an event removed at settling) rewrites a whole page
//! of the table, and on a dense stream those pages were about every page of the table at
//! every commit.
//!
//! Final records are written a row per batch (the batch's records as JSON lines, keyed by the
//! number of its first record), with an index of each ticket's record numbers.
//!
//! The layout of the tables is numbered ([`LAYOUT`]): a store of an earlier layout (layout 4:
//! the rest whole; layout 2: each case a row of its own, rewritten in place; layout 1: also
//! the kept events one row per ticket, rewritten whole) is migrated when opened; a store of a
//! later layout is refused.
//!
//! Every table and key is named after a partition (`p0` for the one partition of a single
//! instance, `pI` for `--partition I/N`), so that a scale-out over partitions of a source adds
//! partitions to the same store.
//!
//! `pledge report --merge` needs nothing but the engine's state ([`Store::partitions`]: its rest
//! and its cases): the rest carries the partition and the period report the engine tallies, so
//! they are committed in the same transaction as the rest of the state by construction.

use super::caselog::{self, CaseLog};
use super::kept;
use super::restparts::Parts;
use super::source::Position;
use crate::api::EngineCheckpoint;
use crate::event::Event;
use redb::{
    Database, MultimapTableDefinition, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

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
    /// Layouts 1 and 2: each case a row of its own (read only to migrate).
    cases: TableDefinition<'static, u128, &'static [u8]>,
    /// The log of cases ([`caselog`]): rows by number.
    case_log: TableDefinition<'static, u64, &'static [u8]>,
    /// Layout 1: per ticket, its kept events whole (read only to migrate).
    explained: TableDefinition<'static, &'static str, &'static [u8]>,
    /// Layouts 2 and 3: per kept event, its number and its bytes (read only to migrate).
    why: TableDefinition<'static, u64, &'static [u8]>,
    /// The kept events in rows of many ([`kept`]): each numbered by the engine's count of
    /// events when it came (so rows are appended at the end of the table), its bytes naming
    /// its ticket.
    kept: TableDefinition<'static, u64, &'static [u8]>,
    /// The numbers of kept events let go of, not yet removed from `kept`: one row per commit
    /// that let go of any (numbered in order), the numbers as little-endian `u64`s.
    dropped: TableDefinition<'static, u64, &'static [u8]>,
    /// The parts of the rest of the engine's state, by key ([`super::restparts`]); the state
    /// table lists the current ones under [`REST_PARTS`].
    rest_parts: TableDefinition<'static, u128, &'static [u8]>,
    records: TableDefinition<'static, u64, &'static str>,
    tickets: MultimapTableDefinition<'static, &'static str, u64>,
    /// Per [`Target`], in its order.
    outboxes: [TableDefinition<'static, &'static str, &'static str>; 2],
    book: Mutex<Book>,
}

/// What the store knows of its tables in memory, to decide what a commit rewrites.
#[derive(Debug, Default)]
struct Book {
    log: CaseLog,
    kept: kept::KeptRows,
    /// The parts of the rest committed last.
    rest: Parts,
    /// The numbers of the kept events stored, as read when the store opened, until
    /// [`Store::cases`] takes them.
    opened: Option<Vec<u64>>,
    /// A commit failed: the book may no longer match the tables.
    broken: bool,
    /// Rows of cases compacted since the store opened.
    compacted: u64,
}

/// The table of case rows, as the case log uses it.
struct LogRows<'a, 'tx>(&'a mut redb::Table<'tx, u64, &'static [u8]>);

impl caselog::Rows for LogRows<'_, '_> {
    type Error = StoreError;
    fn write(&mut self, number: u64, row: &[u8]) -> Result<()> {
        self.0.insert(number, row).map(drop).map_err(e)
    }
    fn read(&mut self, number: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(number).map_err(e)?.map(|v| v.value().to_vec()))
    }
    fn remove(&mut self, number: u64) -> Result<()> {
        self.0.remove(number).map(drop).map_err(e)
    }
}

/// The case log of a table of case rows, read in order.
fn read_log(table: &impl ReadableTable<u64, &'static [u8]>) -> Result<CaseLog> {
    let mut log = CaseLog::default();
    for row in table.iter().map_err(e)? {
        let (k, v) = row.map_err(e)?;
        log.read(k.value(), v.value())
            .map_err(|err| StoreError(format!("unreadable case row {}: {err}", k.value())))?;
    }
    log.opened();
    Ok(log)
}

/// The bytes of every case current in `log`, in order of key.
fn current_cases(
    log: &CaseLog,
    table: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Vec<Vec<u8>>> {
    let mut cases = Vec::with_capacity(log.cases());
    for row in table.iter().map_err(e)? {
        let (k, v) = row.map_err(e)?;
        for entry in caselog::entries(v.value()) {
            let (key, bytes) = entry.map_err(StoreError)?;
            if let Some(bytes) = bytes.filter(|_| log.is_current(k.value(), key)) {
                cases.push((key, bytes.to_vec()));
            }
        }
    }
    cases.sort_unstable_by_key(|(key, _)| *key);
    Ok(cases.into_iter().map(|(_, bytes)| bytes).collect())
}

/// What the store knows of its rows of kept events, and the kept events of the cases kept
/// (ticket and number, in order of number).
fn read_kept(
    tx: &redb::ReadTransaction,
    table: TableDefinition<'static, u64, &'static [u8]>,
    dropped: TableDefinition<'static, u64, &'static [u8]>,
) -> Result<(kept::KeptRows, Vec<u64>)> {
    let let_go = dropped_numbers(&tx.open_table(dropped).map_err(e)?)?;
    let mut rows = kept::KeptRows::default();
    rows.listed(let_go.len() as u64);
    let mut out = Vec::new();
    for row in tx.open_table(table).map_err(e)?.iter().map_err(e)? {
        let (k, v) = row.map_err(e)?;
        for (n, _) in rows
            .read(k.value(), v.value(), &let_go)
            .map_err(StoreError)?
        {
            out.push(n);
        }
    }
    Ok((rows, out))
}

/// The numbers of kept events let go of and not removed yet.
fn dropped_numbers(table: &impl ReadableTable<u64, &'static [u8]>) -> Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for row in table.iter().map_err(e)? {
        let (_, v) = row.map_err(e)?;
        let bytes = v.value();
        numbers.extend(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default())),
        );
    }
    numbers.sort_unstable();
    numbers.dedup();
    Ok(numbers)
}

/// Layouts 1 to 4: the rest of the engine's state whole (read only to migrate).
const REST: &str = "rest";
/// The keys of the rest's parts, in order ([`Parts`]).
const REST_PARTS: &str = "rest-parts";
/// The key of the layout's number in the state table.
const LAYOUT_KEY: &str = "layout";
/// The layout this version writes: 5, the rest of the engine's state in parts cut by their
/// content. Layout 4: the rest whole, the kept events in rows of many, their instants as
/// seconds and nanoseconds; 3: the cases a
/// log of rows, the kept events let go of removed together; 2: each case a row of its own,
/// rewritten in place, and each kept event a row of its own, removed when let go of; 1: the
/// kept events one row per ticket. A store without the key is of layout 1.
pub const LAYOUT: u32 = 5;

/// Bytes of the store's page cache. Commits append and remove rows near the tables' ends, so a
/// small cache serves them: on the dense 1 M backlog, 16 MiB took 40 to 80 MB off the peak RSS
/// of 64 MiB at the same speed, and on the dense 10 M stream 4 MiB took another 20 MB off that
/// of 16 MiB at the same speed (bench/RESULTS.md).
const STORE_CACHE: usize = 4 << 20;
const POSITION: &str = "position";

/// The committed rest of the partition whose state table is `state`: assembled from its
/// parts (in the table named `parts`), or whole as layouts 1 to 4 wrote it; `None` before the
/// first commit.
fn read_rest(
    tx: &redb::ReadTransaction,
    state: &impl ReadableTable<&'static str, &'static [u8]>,
    parts: &str,
) -> Result<Option<Vec<u8>>> {
    let Some(list) = state.get(REST_PARTS).map_err(e)? else {
        return Ok(state.get(REST).map_err(e)?.map(|v| v.value().to_vec()));
    };
    let list = Parts::from_bytes(list.value()).map_err(StoreError)?;
    let definition: TableDefinition<'_, u128, &[u8]> = TableDefinition::new(parts);
    let table = tx.open_table(definition).map_err(e)?;
    let rest = list.assemble(|key| {
        let part = table.get(key).map_err(|err| e(err).0)?;
        Ok(part.map(|v| v.value().to_vec()))
    });
    rest.map(Some).map_err(StoreError)
}

impl Store {
    /// Opens (or creates) `dir/state.redb` for partition `partition`, after checking with
    /// `readable` that this version can continue from the committed state (see
    /// [`Store::refuse_unreadable`]).
    pub fn open_checked(
        dir: &Path,
        partition: u32,
        readable: impl Fn(&[u8]) -> std::result::Result<(), String>,
    ) -> Result<Store> {
        Store::refuse_unreadable(dir, partition, readable)?;
        Store::open(dir, partition)
    }

    /// Opening or reading a damaged file (cut short, a byte changed on disk) can panic inside
    /// the database rather than fail: `f` runs with such a panic caught, and turned into the
    /// error of a damaged store, without the panic's own message on standard error.
    fn guarded<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        std::panic::set_hook(hook);
        outcome.unwrap_or_else(|panic| {
            let what = Some(super::panic_text(&*panic))
                .filter(|text| !text.is_empty())
                .unwrap_or_else(|| "an inconsistency".to_string());
            Err(StoreError(format!(
                "`{}` is damaged and cannot be read ({what}); it was left as it is: replay the \
                 source into another --state directory",
                dir.join("state.redb").display()
            )))
        })
    }

    /// Refuses a store whose committed state (its rest) `readable` says this version cannot
    /// continue from, before anything in it is migrated: the version that wrote it can still
    /// open it. A missing store, or one without a committed state, passes.
    pub fn refuse_unreadable(
        dir: &Path,
        partition: u32,
        readable: impl Fn(&[u8]) -> std::result::Result<(), String>,
    ) -> Result<()> {
        Store::guarded(dir, || {
            Store::refuse_unreadable_unguarded(dir, partition, readable)
        })
    }

    fn refuse_unreadable_unguarded(
        dir: &Path,
        partition: u32,
        readable: impl Fn(&[u8]) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let path = dir.join("state.redb");
        if !path.is_file() {
            return Ok(());
        }
        let db = Database::open(&path).map_err(e)?;
        let tx = db.begin_read().map_err(e)?;
        let name = format!("p{partition}/state");
        let state: TableDefinition<'_, &str, &[u8]> = TableDefinition::new(&name);
        let Ok(table) = tx.open_table(state) else {
            return Ok(());
        };
        let Some(rest) = read_rest(&tx, &table, &format!("p{partition}/rest-parts"))? else {
            return Ok(());
        };
        readable(&rest).map_err(|reason| {
            StoreError(format!(
                "cannot continue from the state in `{}`: {reason}; it was left as it is (replay the source into another --state directory, or continue with the version that wrote it)",
                dir.display()
            ))
        })
    }

    /// Opens (or creates) `dir/state.redb` for partition `partition`.
    pub fn open(dir: &Path, partition: u32) -> Result<Store> {
        Store::guarded(dir, || Store::open_unguarded(dir, partition))
    }

    fn open_unguarded(dir: &Path, partition: u32) -> Result<Store> {
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
            case_log: TableDefinition::new(name("case-log")),
            explained: TableDefinition::new(name("explained")),
            why: TableDefinition::new(name("why")),
            kept: TableDefinition::new(name("kept-events")),
            dropped: TableDefinition::new(name("why-dropped")),
            rest_parts: TableDefinition::new(name("rest-parts")),
            records: TableDefinition::new(name("records")),
            tickets: MultimapTableDefinition::new(name("tickets")),
            outboxes: [
                TableDefinition::new(name("outbox")),
                TableDefinition::new(name("outbox-nats")),
            ],
            book: Mutex::default(),
        };
        let tx = store.db.begin_write().map_err(e)?;
        store.upgrade(&tx, dir)?;
        tx.open_table(store.case_log).map_err(e)?;
        tx.open_table(store.kept).map_err(e)?;
        tx.open_table(store.dropped).map_err(e)?;
        tx.open_table(store.rest_parts).map_err(e)?;
        tx.open_table(store.records).map_err(e)?;
        tx.open_multimap_table(store.tickets).map_err(e)?;
        for outbox in store.outboxes {
            tx.open_table(outbox).map_err(e)?;
        }
        tx.commit().map_err(e)?;
        {
            let tx = store.db.begin_read().map_err(e)?;
            let log = read_log(&tx.open_table(store.case_log).map_err(e)?)?;
            let (kept, opened) = read_kept(&tx, store.kept, store.dropped)?;
            let state = tx.open_table(store.state).map_err(e)?;
            let rest = match state.get(REST_PARTS).map_err(e)? {
                Some(list) => Parts::from_bytes(list.value()).map_err(StoreError)?,
                None => Parts::default(),
            };
            *store.book() = Book {
                log,
                kept,
                rest,
                opened: Some(opened),
                ..Book::default()
            };
        }
        Ok(store)
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
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
            // Numbered from 1 in the order of the old rows: below the number of any event the
            // engine has yet to take (its count of events is at least theirs).
            let mut events = Vec::new();
            if let Ok(old) = tx.open_table(self.explained) {
                for row in old.iter().map_err(e)? {
                    let (_, bytes) = row.map_err(e)?;
                    let kept: Vec<LegacyEvent> =
                        postcard::from_bytes(bytes.value()).map_err(|err| {
                            StoreError(format!("cannot migrate the kept events of layout 1: {err}"))
                        })?;
                    for event in kept {
                        let bytes = postcard::to_stdvec(&Event::from(event))
                            .map_err(|err| StoreError(err.to_string()))?;
                        events.push((events.len() as u64 + 1, bytes));
                    }
                }
            }
            let mut table = tx.open_table(self.kept).map_err(e)?;
            kept::KeptRows::default()
                .append(&mut table, events)
                .map_err(StoreError)?;
            drop(table);
            tx.delete_table(self.explained).map_err(e)?;
        } else if layout < 4 {
            // Each kept event a row of its own (but those let go of) becomes an entry of a row
            // of many.
            let gone = match tx.open_table(self.dropped) {
                Ok(table) => dropped_numbers(&table)?,
                Err(_) => Vec::new(),
            };
            let mut events = Vec::new();
            if let Ok(old) = tx.open_table(self.why) {
                for row in old.iter().map_err(e)? {
                    let (k, v) = row.map_err(e)?;
                    if gone.binary_search(&k.value()).is_err() {
                        events.push((k.value(), reencoded(v.value())?));
                    }
                }
            }
            let mut table = tx.open_table(self.kept).map_err(e)?;
            kept::KeptRows::default()
                .append(&mut table, events)
                .map_err(StoreError)?;
            drop(table);
            tx.delete_table(self.why).map_err(e)?;
            tx.delete_table(self.dropped).map_err(e)?;
        }
        if layout < 3 {
            // Each case a row of its own becomes an entry of the case log.
            let mut cases = Vec::new();
            if let Ok(old) = tx.open_table(self.cases) {
                for row in old.iter().map_err(e)? {
                    let (k, v) = row.map_err(e)?;
                    cases.push((k.value(), Some(v.value().to_vec())));
                }
            }
            let mut log = tx.open_table(self.case_log).map_err(e)?;
            CaseLog::default().commit(&cases, &mut LogRows(&mut log))?;
            drop(log);
            tx.delete_table(self.cases).map_err(e)?;
        }
        if layout < 5 {
            // The rest whole becomes its parts.
            let rest = state.remove(REST).map_err(e)?.map(|v| v.value().to_vec());
            if let Some(rest) = rest {
                let mut list = Parts::default();
                let change = list.replace(&rest);
                let mut parts = tx.open_table(self.rest_parts).map_err(e)?;
                for (key, part) in change.write {
                    parts.insert(key, part).map_err(e)?;
                }
                state
                    .insert(REST_PARTS, list.to_bytes().as_slice())
                    .map_err(e)?;
            }
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
        let rest = read_rest(&tx, &table, self.rest_parts.name())?;
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
        Store::guarded(dir, || Store::partitions_unguarded(dir))
    }

    #[allow(clippy::type_complexity)]
    fn partitions_unguarded(dir: &Path) -> Result<Vec<(u32, Vec<u8>, Vec<Vec<u8>>)>> {
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
            let Some(rest) = read_rest(&tx, &table, &format!("p{number}/rest-parts"))? else {
                continue;
            };
            let name = format!("p{number}/case-log");
            let log: TableDefinition<'_, u64, &[u8]> = TableDefinition::new(&name);
            let name = format!("p{number}/cases");
            let cases: TableDefinition<'_, u128, &[u8]> = TableDefinition::new(&name);
            let mut kept = Vec::new();
            if let Ok(table) = tx.open_table(log) {
                kept = current_cases(&read_log(&table)?, &table)?;
            } else if let Ok(table) = tx.open_table(cases) {
                // A store of layout 2, not opened by this version yet.
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

    /// Commits one batch: all of it, or (after a crash) none of it. After a failed commit the
    /// store refuses to commit again (what it knows of its tables may be the batch's). Returns
    /// the bytes of the rest's parts it wrote (those that changed).
    pub fn commit(&self, batch: &Batch<'_>) -> Result<usize> {
        let mut book = self.book();
        if book.broken {
            return Err(StoreError(
                "an earlier commit failed: restart the service".to_string(),
            ));
        }
        book.broken = true;
        let committed = self.commit_in(batch, &mut book);
        book.broken = committed.is_err();
        committed
    }

    fn commit_in(&self, batch: &Batch<'_>, book: &mut Book) -> Result<usize> {
        let position = serde_json::to_vec(batch.position)
            .map_err(|err| StoreError(format!("cannot write the source position: {err}")))?;
        let tx = self.db.begin_write().map_err(e)?;
        let mut rest_written = 0;
        {
            let mut state = tx.open_table(self.state).map_err(e)?;
            // Only the parts of the rest that changed are written.
            let change = book.rest.replace(&batch.state.rest);
            let mut parts = tx.open_table(self.rest_parts).map_err(e)?;
            for (key, part) in change.write {
                rest_written += part.len();
                parts.insert(key, part).map_err(e)?;
            }
            for key in change.remove {
                parts.remove(key).map_err(e)?;
            }
            state
                .insert(REST_PARTS, book.rest.to_bytes().as_slice())
                .map_err(e)?;
            state.insert(POSITION, position.as_slice()).map_err(e)?;
            let mut log = tx.open_table(self.case_log).map_err(e)?;
            let done = book
                .log
                .commit(&batch.state.cases, &mut LogRows(&mut log))?;
            book.compacted += done.compacted;
            let mut kept = tx.open_table(self.kept).map_err(e)?;
            let appended = &batch.state.explained.appended;
            book.kept
                .append(&mut kept, appended.iter().map(|(n, b)| (*n, b)))
                .map_err(StoreError)?;
            let mut dropped = tx.open_table(self.dropped).map_err(e)?;
            let let_go = &batch.state.explained.dropped;
            if !let_go.is_empty() {
                // Listed first: a row rewritten without them is rewritten in this transaction.
                let next = dropped.last().map_err(e)?.map_or(0, |(k, _)| k.value() + 1);
                let bytes: Vec<u8> = let_go.iter().flat_map(|n| n.to_le_bytes()).collect();
                dropped.insert(next, bytes.as_slice()).map_err(e)?;
                book.kept.let_go(&mut kept, let_go).map_err(StoreError)?;
            }
            if let Some(waiting) = book.kept.relist() {
                dropped.retain(|_, _| false).map_err(e)?;
                let bytes: Vec<u8> = waiting.iter().flat_map(|n| n.to_le_bytes()).collect();
                if !bytes.is_empty() {
                    dropped.insert(0, bytes.as_slice()).map_err(e)?;
                }
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
        tx.commit().map_err(e)?;
        Ok(rest_written)
    }

    /// Every committed case as its bytes (each carries the numbers of its kept events), and
    /// the numbers of the kept events stored, in order.
    pub fn cases(&self) -> Result<(Vec<Vec<u8>>, Vec<u64>)> {
        let tx = self.db.begin_read().map_err(e)?;
        let cases = current_cases(&self.book().log, &tx.open_table(self.case_log).map_err(e)?)?;
        let rows = match self.book().opened.take() {
            Some(rows) => rows,
            None => read_kept(&tx, self.kept, self.dropped)?.1,
        };
        Ok((cases, rows))
    }

    /// The committed kept events numbered `numbers`, as their bytes (`None`: no such row).
    pub fn kept_events(&self, numbers: &[u64]) -> Result<Vec<Option<Vec<u8>>>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.kept).map_err(e)?;
        kept::find(&table, numbers).map_err(StoreError)
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

/// A kept event as layouts 1 to 3 wrote it: its instant as chrono's text.
#[derive(serde::Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct LegacyEvent {
    ticket: crate::inline_str::InlineStr,
    at: crate::event::Instant,
    kind: crate::inline_str::InlineStr,
    id: Option<crate::inline_str::InlineStr>,
    attrs: crate::value::Attrs,
    line: u64,
}

impl From<LegacyEvent> for Event {
    fn from(e: LegacyEvent) -> Event {
        Event {
            ticket: e.ticket,
            at: e.at,
            kind: e.kind,
            id: e.id,
            attrs: e.attrs,
            line: e.line,
        }
    }
}

/// A kept event of layouts 1 to 3 as this layout writes it.
fn reencoded(bytes: &[u8]) -> Result<Vec<u8>> {
    let event: LegacyEvent = postcard::from_bytes(bytes)
        .map_err(|err| StoreError(format!("cannot migrate a kept event: {err}")))?;
    postcard::to_stdvec(&Event::from(event)).map_err(|err| StoreError(err.to_string()))
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

    /// An instant of 2 March 2026, Beijing time.
    fn at(hm: &str) -> crate::event::Instant {
        format!("2026-03-02T{hm}:00+08:00")
            .parse()
            .expect("instant")
    }

    /// A store as an earlier version left it in `dir`: partition 0's rest, its position after
    /// two lines, its layout number (`None`: layout 1 had none), and whatever `fill` writes.
    fn old_store(
        dir: &Path,
        rest: &[u8],
        layout: Option<u32>,
        fill: impl FnOnce(&redb::WriteTransaction),
    ) {
        let position = serde_json::to_vec(&Position::Stdin { lines: 2 }).expect("position");
        let db = Database::create(dir.join("state.redb")).expect("db");
        let tx = db.begin_write().expect("tx");
        {
            let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("p0/state");
            let mut state = tx.open_table(def).expect("state");
            state.insert(REST, rest).expect("rest");
            state.insert(POSITION, position.as_slice()).expect("pos");
            if let Some(layout) = layout {
                state
                    .insert(LAYOUT_KEY, layout.to_le_bytes().as_slice())
                    .expect("layout");
            }
        }
        fill(&tx);
        tx.commit().expect("commit");
    }

    /// Events as layouts 1 to 3 wrote them.
    fn legacy(events: &[Event]) -> Vec<LegacyEvent> {
        events
            .iter()
            .map(|e| LegacyEvent {
                ticket: e.ticket.clone(),
                at: e.at,
                kind: e.kind.clone(),
                id: e.id.clone(),
                attrs: e.attrs.clone(),
                line: e.line,
            })
            .collect()
    }

    fn options() -> Options {
        Options::default()
            .reorder_window(chrono::Duration::hours(2))
            .retain(chrono::Duration::days(2))
            .explain(true)
    }

    /// Each case carries the numbers of the rows its kept events are stored under: an
    /// accepted event of a kept case is numbered once, in push order, and a case that settles
    /// hands its numbers to the next checkpoint to let go of, exactly once; the numbers held
    /// are always those of the cases still kept.
    #[test]
    fn cases_carry_their_rows_and_let_go_of_them_when_they_settle() {
        let (policies, lines) = setting();
        let mut engine = Engine::new(&policies, &options());
        engine.track_changes();
        let tickets: std::collections::BTreeSet<String> = lines
            .iter()
            .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
            .filter_map(|v| v["ticket"].as_str().map(str::to_string))
            .collect();
        let (mut appended, mut dropped) = (Vec::new(), Vec::new());
        let mut checkpoints = 0;
        for (i, line) in lines.iter().enumerate() {
            engine.push_json(line);
            if i % 250 == 249 || i + 1 == lines.len() {
                let state = engine.checkpoint_into(Vec::new()).expect("checkpoint");
                appended.extend(state.explained.appended.iter().map(|(n, _)| *n));
                dropped.extend(state.explained.dropped.iter().copied());
                engine.explained_stored();
                checkpoints += 1;
                // The rows held are those appended and not let go of.
                let mut held: Vec<u64> = tickets
                    .iter()
                    .flat_map(|t| engine.explained_rows(t))
                    .map(|(n, _)| n)
                    .collect();
                held.sort_unstable();
                let gone: std::collections::HashSet<u64> = dropped.iter().copied().collect();
                let live: Vec<u64> = appended
                    .iter()
                    .copied()
                    .filter(|n| !gone.contains(n))
                    .collect();
                assert_eq!(held, live, "after checkpoint {checkpoints}");
                assert_eq!(held.len(), engine.explained_row_count());
            }
        }
        // Numbers come once, in push order; none is let go of twice or before it came.
        assert!(appended.windows(2).all(|w| w[0] < w[1]));
        let mut sorted = dropped.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), dropped.len(), "a number let go of twice");
        let came: std::collections::HashSet<u64> = appended.iter().copied().collect();
        assert!(dropped.iter().all(|n| came.contains(n)));
        assert!(dropped.len() > 1000, "{} let go of", dropped.len());
    }

    /// Committing checkpoints (only the cases that changed) and restoring from the store at
    /// many points gives the records and summary of one uninterrupted engine, and the kept
    /// events that explain a case.
    #[test]
    fn restoring_from_committed_checkpoints_continues_exactly() {
        restores_continue_exactly(false);
    }

    /// The same with a case log compacted at every commit, in rows of 4 KiB, and the kept
    /// events in rows of 600 bytes, rewritten as they empty: what is stored still reads back
    /// as the cases kept and their events.
    #[test]
    fn restoring_from_a_compacted_log_continues_exactly() {
        restores_continue_exactly(true);
    }

    /// The store opened at `dir`, tuned to compact and rewrite as often as it can.
    fn tight(dir: &Path) -> Store {
        let store = Store::open(dir, 0).expect("store");
        {
            let mut book = store.book();
            book.log.slack = 0;
            book.log.row_bytes = 4096;
            book.kept.row_bytes = 600;
        }
        store
    }

    fn restores_continue_exactly(tightly: bool) {
        let (mut compacted, mut rewritten) = (0, 0);
        let (policies, lines) = setting();
        let mut whole = Engine::new(&policies, &options());
        let mut expected = Vec::new();
        for line in &lines {
            expected.extend(whole.push_json(line));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let open = |dir: &Path| match tightly {
            true => tight(dir),
            false => Store::open(dir, 0).expect("store"),
        };
        let mut store = open(dir.path());
        let mut engine = Engine::new(&policies, &options());
        engine.track_changes();
        let mut got = Vec::new();
        let (mut restores, mut partial_commits) = (0, 0);
        // Each checkpoint writes its rest into the previous one's buffer, as the service does.
        let mut room = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            got.extend(engine.push_json(line));
            if i % 97 == 96 {
                let state = engine
                    .checkpoint_into(std::mem::take(&mut room))
                    .expect("checkpoint");
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
                room = state.rest;
                if i % 3 == 0 {
                    if i % 2 == 0 {
                        compacted += store.book().compacted;
                        rewritten += store.book().kept.rewritten;
                        drop(store);
                        store = open(dir.path());
                    }
                    let committed = store.committed().expect("read").expect("committed");
                    let (cases, explained) = store.cases().expect("cases");
                    assert_eq!(cases.len(), engine.open_cases());
                    // Exactly the kept events of the cases kept come back.
                    assert_eq!(explained.len(), engine.explained_row_count());
                    engine =
                        Engine::restore_parts(&policies, &committed.rest, cases).expect("restore");
                    restores += 1;
                }
            }
        }
        assert!(restores > 10, "{restores}");
        if tightly {
            let book = store.book();
            let (bytes, current) = book.log.sizes();
            assert!(bytes <= 2 * current, "{bytes} {current}");
            let (events, waiting) = book.kept.counts();
            assert!(
                waiting <= events && events <= 2 * (events - waiting),
                "{events} {waiting}"
            );
            assert!(
                compacted > 10 && rewritten > 10,
                "{compacted} {rewritten} {book:?}"
            );
        }
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
        let events = vec![
            Event::new("T-1", at("09:00"), "opened").with_attr("project", "north"),
            Event::new("T-1", at("09:30"), "contacted"),
        ];
        old_store(dir.path(), b"the rest", None, |tx| {
            let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("p0/explained");
            let mut old = tx.open_table(def).expect("explained");
            let bytes = postcard::to_stdvec(&legacy(&events)).expect("bytes");
            old.insert("T-1", bytes.as_slice()).expect("row");
        });
        let store = Store::open(dir.path(), 0).expect("migrated");
        let committed = store.committed().expect("read").expect("committed");
        assert_eq!(committed.rest, b"the rest");
        let (cases, rows) = store.cases().expect("cases");
        assert!(cases.is_empty());
        assert_eq!(rows, [1, 2]);
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

    /// A store of layout 2 (each case a row of its own, each kept event too) is migrated when
    /// opened: its cases become entries of the case log and read back the same, for the
    /// service and for `pledge report --merge`; its kept events (but those let go of, in a
    /// store of layout 3) become rows of many, found by number.
    #[test]
    fn a_store_of_layout_2_is_migrated_to_a_case_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let events: Vec<Event> = ["09:00", "09:10", "09:20", "09:30"]
            .iter()
            .map(|hm| Event::new("T-1", at(hm), "noted"))
            .collect();
        let cases: Vec<(u128, Vec<u8>)> = (0..300u128)
            .map(|k| (k * 7919, vec![k as u8; 4000 + k as usize]))
            .collect();
        old_store(dir.path(), b"the rest", Some(2), |tx| {
            let def: TableDefinition<'_, u128, &[u8]> = TableDefinition::new("p0/cases");
            let mut table = tx.open_table(def).expect("cases");
            for (key, bytes) in &cases {
                table.insert(*key, bytes.as_slice()).expect("row");
            }
            let def: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("p0/why");
            let mut table = tx.open_table(def).expect("why");
            for (n, event) in (1..).zip(legacy(&events)) {
                let bytes = postcard::to_stdvec(&event).expect("bytes");
                table.insert(n, bytes.as_slice()).expect("row");
            }
            let def: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("p0/why-dropped");
            let mut table = tx.open_table(def).expect("dropped");
            table.insert(0, 2u64.to_le_bytes().as_slice()).expect("row");
        });
        let in_order: Vec<Vec<u8>> = cases.iter().map(|(_, b)| b.clone()).collect();
        let merged = Store::partitions(dir.path()).expect("layout 2 read by a merge");
        assert_eq!(merged[0].2, in_order);
        let store = Store::open(dir.path(), 0).expect("migrated");
        let (got, rows) = store.cases().expect("cases");
        assert_eq!(got, in_order);
        assert_eq!(rows, [1, 3, 4]);
        let kept: Vec<Option<Event>> = store
            .kept_events(&[1, 2, 3, 4])
            .expect("kept")
            .into_iter()
            .map(|b| b.map(|b| postcard::from_bytes(&b).expect("event")))
            .collect();
        let want = [Some(&events[0]), None, Some(&events[2]), Some(&events[3])];
        assert_eq!(kept.iter().map(Option::as_ref).collect::<Vec<_>>(), want);
        // The rows were cut at their size: more than one.
        assert!(store.book().log.sizes().0 > caselog::ROW_BYTES as u64);
        drop(store);
        let merged = Store::partitions(dir.path()).expect("merge");
        assert_eq!(merged[0].2, in_order);
        let tx = Database::open(dir.path().join("state.redb"))
            .expect("db")
            .begin_read()
            .expect("tx")
            .list_tables()
            .expect("tables")
            .map(|h| h.name().to_string())
            .collect::<Vec<_>>();
        for gone in ["p0/cases", "p0/why"] {
            assert!(!tx.contains(&gone.to_string()), "{tx:?}");
        }
    }

    /// A store whose engine state is of another snapshot layout is refused before anything in
    /// it is migrated: its tables and layout stay those of the version that wrote it.
    #[test]
    fn a_state_of_another_version_is_refused_before_the_store_is_migrated() {
        let dir = tempfile::tempdir().expect("tempdir");
        old_store(dir.path(), &Engine::rest_of_format(12), Some(2), |tx| {
            let def: TableDefinition<'_, u128, &[u8]> = TableDefinition::new("p0/cases");
            tx.open_table(def)
                .expect("cases")
                .insert(7, b"a case".as_slice())
                .expect("row");
        });
        let readable = |rest: &[u8]| Engine::rest_readable(rest).map_err(|e| e.to_string());
        let refused = Store::open_checked(dir.path(), 0, readable)
            .err()
            .expect("refused");
        assert!(refused.0.contains("layout 12"), "{refused}");
        assert!(refused.0.contains("left as it is"), "{refused}");
        // Untouched: still layout 2, with its table of cases.
        let db = Database::open(dir.path().join("state.redb")).expect("db");
        let tx = db.begin_read().expect("tx");
        let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("p0/state");
        let layout = tx
            .open_table(def)
            .expect("state")
            .get(LAYOUT_KEY)
            .expect("get")
            .map(|v| v.value().to_vec());
        assert_eq!(layout, Some(2u32.to_le_bytes().to_vec()));
        let def: TableDefinition<'_, u128, &[u8]> = TableDefinition::new("p0/cases");
        assert!(tx
            .open_table(def)
            .expect("cases")
            .get(7)
            .expect("get")
            .is_some());
        drop(tx);
        drop(db);
        // A state of this version's layout passes; so do a new store and another partition.
        assert!(
            Engine::rest_readable(&Engine::rest_of_format(crate::engine::SNAPSHOT_LAYOUT)).is_ok()
        );
        assert!(Store::refuse_unreadable(&dir.path().join("new"), 0, readable).is_ok());
        assert!(Store::refuse_unreadable(dir.path(), 1, readable).is_ok());
    }

    /// Records are written a row per batch: read back by number (from any record on, in pages
    /// that cut rows) and by ticket, as if each were a row of its own.
    /// The rest is committed in parts: a commit writes those that changed, the store keeps
    /// exactly the parts listed, and the rest reads back whole, after a reopening too.
    #[test]
    fn the_rest_is_committed_in_parts_and_a_commit_writes_those_that_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut noise = 1u64;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    noise = noise.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (noise >> 35) as u8
                })
                .collect()
        };
        let mut rest = bytes(3 << 20);
        let parts_kept = |store: &Store| {
            let tx = store.db.begin_read().expect("read");
            let table = tx.open_table(store.rest_parts).expect("parts");
            table.len().expect("len")
        };
        for round in 0..6u64 {
            let store = Store::open(dir.path(), 0).expect("store");
            if round > 0 {
                let committed = store.committed().expect("read").expect("committed");
                assert!(committed.rest == rest, "round {round}: the rest reads back");
            }
            // A few changes here and there, as a settling queue and new tickets make them.
            let at = (round as usize * 700_001) % rest.len();
            let inserted = bytes(3000);
            rest.splice(at..at + 500, inserted);
            let tail = bytes(20_000);
            rest.extend(tail);
            let state = EngineCheckpoint {
                rest: rest.clone(),
                cases: Vec::new(),
                explained: Default::default(),
            };
            let written = store
                .commit(&Batch {
                    state: &state,
                    position: &Position::Stdin { lines: round },
                    records: &[],
                    alerts: &[],
                    targets: &[],
                })
                .expect("commit");
            if round > 0 {
                assert!(
                    written < rest.len() / 4,
                    "round {round}: wrote {written} bytes"
                );
            } else {
                assert_eq!(written, rest.len());
            }
            let listed = store.book().rest.clone();
            let distinct: std::collections::HashSet<u128> = listed.keys().iter().copied().collect();
            assert_eq!(parts_kept(&store), distinct.len() as u64);
        }
    }

    /// A store of layout 4 holds the rest whole: opened, it holds it as parts, and reads the same.
    #[test]
    fn a_rest_written_whole_becomes_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rest: Vec<u8> = (0..1_000_000u32)
            .flat_map(|n| (n * 7).to_le_bytes())
            .collect();
        old_store(dir.path(), &rest, Some(4), |_| {});
        let store = Store::open(dir.path(), 0).expect("open");
        let committed = store.committed().expect("read").expect("committed");
        assert!(committed.rest == rest);
        let tx = store.db.begin_read().expect("read");
        let state = tx.open_table(store.state).expect("state");
        assert!(state.get(REST).expect("get").is_none());
        assert!(state.get(REST_PARTS).expect("get").is_some());
        drop((state, tx, store));
        let partitions = Store::partitions(dir.path()).expect("partitions");
        assert!(partitions[0].1 == rest);
    }

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
