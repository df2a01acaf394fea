//! The events kept to explain cases (`GET /cases/{ticket}`), as rows of the store: each commit
//! appends its batch's kept events, numbered, in rows of up to [`ROW_BYTES`], each row keyed
//! by the number of its first event; a row holds the events numbered from its key up to the
//! next row's key. A number is found in the last row whose key is not above it.
//!
//! Why rows of many events: a row per event cost the store a tree insert per event, the
//! largest part of a commit (1.9 of 4.5 s of commits on the dense 1 M stream), and removing
//! the events of a settled case a page rewritten per event. Events let go of wait in their
//! rows until half of a row is let go of; then it is rewritten without them (under the same
//! key, so the rule above still finds every number), or removed when nothing is left in it
//! ([`KeptRows`]). The numbers waiting are listed in the store, so that a restart knows them.

use redb::{ReadableTable, Table};
use std::collections::BTreeMap;

/// Rows are cut at this size.
pub const ROW_BYTES: usize = 64 << 10;
/// An entry's frame: the number (8 bytes) and the length (4), little-endian.
const FRAME: usize = 12;

type Result<T> = std::result::Result<T, String>;

/// The entries of a row: number and the event's bytes.
pub fn entries(row: &[u8]) -> impl Iterator<Item = Result<(u64, &[u8])>> {
    let mut rest = row;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = || Some(Err("a row of kept events ends inside an entry".to_string()));
        let Some((head, tail)) = rest.split_at_checked(FRAME) else {
            rest = &[];
            return cut();
        };
        let number = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[8..].try_into().unwrap_or_default());
        let Some((bytes, tail)) = tail.split_at_checked(len as usize) else {
            rest = &[];
            return cut();
        };
        rest = tail;
        Some(Ok((number, bytes)))
    })
}

fn frame(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// What the store knows of its rows of kept events, to decide which to rewrite: per row,
/// how many events it holds and the numbers let go of among them. A row is rewritten without
/// them (or removed) once they are half of it, so the rows hold at most about twice the
/// events still kept, and an event is rewritten about once in all.
#[derive(Debug, Clone)]
pub struct KeptRows {
    rows: BTreeMap<u64, Row>,
    /// Numbers on the store's list of numbers let go of (some since removed).
    listed: u64,
    /// Rows are cut at this size ([`ROW_BYTES`]).
    pub row_bytes: usize,
    /// Rows rewritten or removed since the store opened.
    pub rewritten: u64,
}

#[derive(Debug, Clone, Default)]
struct Row {
    events: u32,
    gone: Vec<u64>,
}

impl Default for KeptRows {
    fn default() -> Self {
        KeptRows {
            rows: BTreeMap::new(),
            listed: 0,
            row_bytes: ROW_BYTES,
            rewritten: 0,
        }
    }
}

impl KeptRows {
    /// Takes in a stored row (opening the store) with the numbers let go of (sorted, the
    /// whole list): returns the events still kept in it.
    pub fn read<'r>(
        &mut self,
        key: u64,
        row: &'r [u8],
        let_go: &[u64],
    ) -> Result<Vec<(u64, &'r [u8])>> {
        let mut info = Row::default();
        let mut kept = Vec::new();
        for entry in entries(row) {
            let (number, bytes) = entry?;
            info.events += 1;
            if let_go.binary_search(&number).is_ok() {
                info.gone.push(number);
            } else {
                kept.push((number, bytes));
            }
        }
        self.rows.insert(key, info);
        Ok(kept)
    }

    /// The store's list of numbers let go of holds `count` numbers (opening the store).
    pub fn listed(&mut self, count: u64) {
        self.listed = count;
    }

    /// Events stored, and those let go of not removed yet.
    pub fn counts(&self) -> (u64, u64) {
        self.rows.values().fold((0, 0), |(events, gone), row| {
            (events + u64::from(row.events), gone + row.gone.len() as u64)
        })
    }

    /// Appends events (numbered above every stored one, in order of number) as rows.
    pub fn append(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
        events: impl IntoIterator<Item = (u64, impl AsRef<[u8]>)>,
    ) -> Result<()> {
        let mut row = Vec::new();
        let mut first: Option<(u64, u32)> = None;
        for (number, bytes) in events {
            let bytes = bytes.as_ref();
            if let Some((key, count)) =
                first.filter(|_| row.len() + FRAME + bytes.len() > self.row_bytes)
            {
                self.write(table, key, count, &row)?;
                row.clear();
                first = None;
            }
            first.get_or_insert((number, 0)).1 += 1;
            frame(&mut row, number, bytes);
        }
        if let Some((key, count)) = first {
            self.write(table, key, count, &row)?;
        }
        Ok(())
    }

    fn write(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
        key: u64,
        events: u32,
        row: &[u8],
    ) -> Result<()> {
        table.insert(key, row).map_err(|e| e.to_string())?;
        self.rows.insert(
            key,
            Row {
                events,
                gone: Vec::new(),
            },
        );
        Ok(())
    }

    /// Lets go of the events numbered `numbers` (all stored, listed by the store): a row
    /// half of whose events are let go of is rewritten without them, or removed.
    pub fn let_go(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
        numbers: &[u64],
    ) -> Result<()> {
        self.listed += numbers.len() as u64;
        let mut full = Vec::new();
        for &n in numbers {
            if let Some((&key, row)) = self.rows.range_mut(..=n).next_back() {
                row.gone.push(n);
                if row.gone.len() * 2 >= row.events as usize {
                    full.push(key);
                }
            }
        }
        full.sort_unstable();
        full.dedup();
        for key in full {
            let Some(mut info) = self.rows.remove(&key) else {
                continue;
            };
            info.gone.sort_unstable();
            let row = table
                .get(key)
                .map_err(|e| e.to_string())?
                .map(|v| v.value().to_vec());
            let mut kept = Vec::new();
            let mut events = 0;
            for entry in entries(row.as_deref().unwrap_or_default()) {
                let (number, bytes) = entry?;
                if info.gone.binary_search(&number).is_err() {
                    frame(&mut kept, number, bytes);
                    events += 1;
                }
            }
            self.rewritten += 1;
            if kept.is_empty() {
                table.remove(key).map_err(|e| e.to_string())?;
            } else {
                self.write(table, key, events, &kept)?;
            }
        }
        Ok(())
    }

    /// When the store's list of numbers let go of holds mostly numbers since removed: the
    /// numbers still waiting, for the store to write as the whole list.
    pub fn relist(&mut self) -> Option<Vec<u64>> {
        let (_, waiting) = self.counts();
        if self.listed <= 2 * waiting + RELIST_SLACK {
            return None;
        }
        let mut all: Vec<u64> = self
            .rows
            .values()
            .flat_map(|r| r.gone.iter().copied())
            .collect();
        all.sort_unstable();
        self.listed = all.len() as u64;
        Some(all)
    }
}

/// The list of numbers let go of may hold this many removed numbers beyond the waiting ones
/// before it is written anew.
const RELIST_SLACK: u64 = 65_536;

/// The events numbered `numbers` (in any order), as their bytes (`None`: not stored).
pub fn find(
    table: &impl ReadableTable<u64, &'static [u8]>,
    numbers: &[u64],
) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = Vec::with_capacity(numbers.len());
    // A case's events are often in one row: the last row read is looked in first.
    let mut last: Option<Vec<u8>> = None;
    let in_row = |row: &[u8], n: u64| {
        entries(row)
            .flatten()
            .find(|(m, _)| *m == n)
            .map(|(_, b)| b.to_vec())
    };
    for &n in numbers {
        if let Some(bytes) = last.as_deref().and_then(|row| in_row(row, n)) {
            out.push(Some(bytes));
            continue;
        }
        let found = table
            .range(..=n)
            .map_err(|e| e.to_string())?
            .next_back()
            .transpose()
            .map_err(|e| e.to_string())?
            .map(|(_, v)| v.value().to_vec());
        out.push(found.as_deref().and_then(|row| in_row(row, n)));
        if found.is_some() {
            last = found;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, TableDefinition};

    const TABLE: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("kept");

    /// Events appended in rows, let go of in parts, are found by number exactly while kept,
    /// whatever rows they fell in; rows are rewritten as they empty, and the bookkeeping read
    /// back from the table matches the one kept while writing.
    #[test]
    fn events_are_found_by_number_until_let_go_of() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("db");
        let event = |n: u64| format!("event {n} {}", "x".repeat((n % 50) as usize)).into_bytes();
        let mut rows = KeptRows {
            row_bytes: 512,
            ..KeptRows::default()
        };
        let mut stored: Vec<u64> = Vec::new();
        let mut let_go: Vec<u64> = Vec::new();
        let mut number = 1;
        for batch in 0..40u64 {
            let tx = db.begin_write().expect("tx");
            {
                let mut table = tx.open_table(TABLE).expect("table");
                // Numbers with gaps, as the engine's count of events gives them.
                let events: Vec<(u64, Vec<u8>)> = (0..(batch * 13) % 70)
                    .map(|i| {
                        number += 1 + i % 3;
                        (number, event(number))
                    })
                    .collect();
                stored.extend(events.iter().map(|(n, _)| *n));
                rows.append(&mut table, events).expect("append");
                let gone: Vec<u64> = stored
                    .iter()
                    .copied()
                    .filter(|n| (n * 7 + batch) % 5 == 0 && !let_go.contains(n))
                    .collect();
                rows.let_go(&mut table, &gone).expect("let go");
                let_go.extend(gone);
            }
            tx.commit().expect("commit");
        }
        assert!(rows.rewritten > 10, "{}", rows.rewritten);
        let kept: Vec<u64> = stored
            .iter()
            .copied()
            .filter(|n| !let_go.contains(n))
            .collect();
        let tx = db.begin_read().expect("tx");
        let table = tx.open_table(TABLE).expect("table");
        let asked: Vec<u64> = (0..=number + 2).collect();
        let found = find(&table, &asked).expect("find");
        for (n, got) in asked.iter().zip(found) {
            if kept.contains(n) {
                assert_eq!(got, Some(event(*n)), "{n}");
            } else if !stored.contains(n) {
                assert_eq!(got, None, "{n}");
            }
        }
        // Rows hold at most about twice what is kept.
        let (events, waiting) = rows.counts();
        assert_eq!(events - waiting, kept.len() as u64);
        assert!(events <= 2 * kept.len() as u64, "{events} {}", kept.len());
        // Read back: the same counts, and exactly the events kept.
        let mut sorted = let_go.clone();
        sorted.sort_unstable();
        let mut again = KeptRows::default();
        let mut live = Vec::new();
        for row in table.iter().expect("rows") {
            let (k, v) = row.expect("row");
            live.extend(
                again
                    .read(k.value(), v.value(), &sorted)
                    .expect("read")
                    .iter()
                    .map(|(n, _)| *n),
            );
        }
        assert_eq!(live, kept);
        assert_eq!(again.counts(), rows.counts());
        // Asked out of order, as found in order.
        let backwards: Vec<u64> = kept.iter().rev().copied().collect();
        let found = find(&table, &backwards).expect("find");
        assert!(found.iter().all(Option::is_some));
    }

    /// The list of numbers let go of is written anew once it holds mostly numbers removed.
    #[test]
    fn the_list_of_numbers_let_go_of_is_written_anew_when_mostly_removed() {
        let mut rows = KeptRows::default();
        rows.rows.insert(
            1,
            Row {
                events: 10,
                gone: vec![3, 2],
            },
        );
        rows.listed(2 * 2 + RELIST_SLACK);
        assert_eq!(rows.relist(), None);
        rows.listed(2 * 2 + RELIST_SLACK + 1);
        assert_eq!(rows.relist(), Some(vec![2, 3]));
        assert_eq!(rows.relist(), None);
    }

    /// A row that ends inside an entry is refused, not misread.
    #[test]
    fn a_cut_row_is_refused() {
        let mut row = Vec::new();
        frame(&mut row, 7, b"abc");
        assert!(entries(&row).all(|e| e.is_ok()));
        for cut in 1..row.len() {
            assert!(entries(&row[..cut]).any(|e| e.is_err()), "{cut}");
        }
    }
}
