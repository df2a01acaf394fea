//! The service's state in `DIR/state.redb`: one embedded, crash-safe database.
//!
//! One write transaction per batch commits together the engine's snapshot, the source's
//! position, the records that became final in the batch and the alerts it raised (the outbox).
//! After a crash the database holds exactly the last committed batch, so the service restores
//! the snapshot and re-reads its source from the stored position: a line before it is never
//! applied twice, a line after it is applied once.
//!
//! Every table and key is named after a partition (`p0` for the one partition of a single
//! instance, `pI` for `--partition I/N`), so that a scale-out over partitions of a source adds
//! partitions to the same store.
//!
//! `pledge report --merge` needs nothing but the snapshot ([`Store::snapshots`]): it carries the
//! partition and the period report the engine tallies, so they are committed in the same
//! transaction as the rest of the state by construction.

use super::source::Position;
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

/// The state of one partition as committed: the engine's snapshot and the source's position.
#[derive(Debug, Clone)]
pub struct Committed {
    pub snapshot: Vec<u8>,
    pub position: Position,
}

/// What one batch commits.
pub struct Batch<'a> {
    pub snapshot: &'a [u8],
    pub position: &'a Position,
    /// Final records as JSON lines, with the ticket each is about.
    pub records: &'a [(Option<String>, String)],
    /// Alerts to deliver: (idempotency key, JSON body).
    pub alerts: &'a [(String, String)],
}

/// The store of one partition.
pub struct Store {
    db: Database,
    state: TableDefinition<'static, &'static str, &'static [u8]>,
    records: TableDefinition<'static, u64, &'static str>,
    tickets: MultimapTableDefinition<'static, &'static str, u64>,
    outbox: TableDefinition<'static, &'static str, &'static str>,
}

const SNAPSHOT: &str = "snapshot";
const POSITION: &str = "position";

impl Store {
    /// Opens (or creates) `dir/state.redb` for partition `partition`.
    pub fn open(dir: &Path, partition: u32) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|err| StoreError(format!("cannot create `{}`: {err}", dir.display())))?;
        let db = Database::create(dir.join("state.redb")).map_err(e)?;
        // Table names must live as long as the process; there is one store per process.
        let name =
            |what: &str| -> &'static str { Box::leak(format!("p{partition}/{what}").into()) };
        let store = Store {
            db,
            state: TableDefinition::new(name("state")),
            records: TableDefinition::new(name("records")),
            tickets: MultimapTableDefinition::new(name("tickets")),
            outbox: TableDefinition::new(name("outbox")),
        };
        let tx = store.db.begin_write().map_err(e)?;
        tx.open_table(store.state).map_err(e)?;
        tx.open_table(store.records).map_err(e)?;
        tx.open_multimap_table(store.tickets).map_err(e)?;
        tx.open_table(store.outbox).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(store)
    }

    /// The last committed state, if any batch was ever committed.
    pub fn committed(&self) -> Result<Option<Committed>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.state).map_err(e)?;
        let snapshot = table.get(SNAPSHOT).map_err(e)?.map(|v| v.value().to_vec());
        let position = table.get(POSITION).map_err(e)?.map(|v| v.value().to_vec());
        match (snapshot, position) {
            (Some(snapshot), Some(position)) => {
                let position = serde_json::from_slice(&position)
                    .map_err(|err| StoreError(format!("unreadable source position: {err}")))?;
                Ok(Some(Committed { snapshot, position }))
            }
            _ => Ok(None),
        }
    }

    /// The committed engine snapshot of every partition held in `dir/state.redb`, by partition
    /// number (`pledge report --merge`). The store is opened read-only in effect: nothing is
    /// created, and a store still held by a running service is refused with its reason.
    pub fn snapshots(dir: &Path) -> Result<Vec<(u32, Vec<u8>)>> {
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
        let mut out = Vec::new();
        for handle in tx.list_tables().map_err(e)? {
            let name = handle.name();
            let Some(number) = name
                .strip_prefix('p')
                .and_then(|n| n.strip_suffix("/state"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new(name);
            let table = tx.open_table(def).map_err(e)?;
            if let Some(v) = table.get(SNAPSHOT).map_err(e)? {
                out.push((number, v.value().to_vec()));
            }
        }
        out.sort_by_key(|(n, _)| *n);
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
            state.insert(SNAPSHOT, batch.snapshot).map_err(e)?;
            state.insert(POSITION, position.as_slice()).map_err(e)?;
            let mut records = tx.open_table(self.records).map_err(e)?;
            let mut tickets = tx.open_multimap_table(self.tickets).map_err(e)?;
            let first = records.last().map_err(e)?.map_or(0, |(k, _)| k.value() + 1);
            for (seq, (ticket, line)) in (first..).zip(batch.records) {
                records.insert(seq, line.as_str()).map_err(e)?;
                if let Some(ticket) = ticket {
                    tickets.insert(ticket.as_str(), seq).map_err(e)?;
                }
            }
            let mut outbox = tx.open_table(self.outbox).map_err(e)?;
            for (key, body) in batch.alerts {
                outbox.insert(key.as_str(), body.as_str()).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    /// The committed records from number `since` on (at most `limit`), as JSON lines.
    pub fn records(&self, since: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.records).map_err(e)?;
        let mut out = Vec::new();
        for row in table.range(since..).map_err(e)?.take(limit) {
            let (k, v) = row.map_err(e)?;
            out.push((k.value(), v.value().to_string()));
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
            if let Some(line) = records.get(seq).map_err(e)? {
                out.push(line.value().to_string());
            }
        }
        Ok(out)
    }

    /// Alerts not yet delivered, in key order.
    pub fn outbox(&self, limit: usize) -> Result<Vec<(String, String)>> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.outbox).map_err(e)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(e)?.take(limit) {
            let (k, v) = row.map_err(e)?;
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    /// How many alerts wait for delivery.
    pub fn outbox_len(&self) -> Result<u64> {
        let tx = self.db.begin_read().map_err(e)?;
        let table = tx.open_table(self.outbox).map_err(e)?;
        table.len().map_err(e)
    }

    /// Removes a delivered alert.
    pub fn delivered(&self, key: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(e)?;
        {
            let mut outbox = tx.open_table(self.outbox).map_err(e)?;
            outbox.remove(key).map_err(e)?;
        }
        tx.commit().map_err(e)
    }
}
