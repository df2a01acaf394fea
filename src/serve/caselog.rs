//! The cases of the service's store as a log: each commit appends the cases that changed as
//! rows of its own, and old rows are let go of when nothing in them is current any more.
//!
//! Why a log: the cases were a table keyed by case, each changed case rewritten in place. A
//! case's key is a hash, so the cases a batch changes are spread over the whole table, and
//! the store (copy on write) wrote a whole page for each: on a dense stream every commit
//! rewrote about every page of the table, some 25 times the bytes that changed. Appended
//! rows are written once, at their size.
//!
//! A row holds entries, each a case's key and either its bytes or a tombstone (it settled).
//! Reading the rows in order, the last entry of a key is the case's state; a tombstone says
//! it is no longer kept. The log keeps in memory, per key, where its last entry is (not the
//! bytes): a row whose entries are all superseded is deleted, and when the rows hold more
//! than twice the bytes of the current entries (and [`CaseLog::slack`] more), the oldest row
//! is compacted: its current entries are copied to the row being written, and it is deleted.
//!
//! Tombstones: the entries a tombstone supersedes sit in rows up to the one of the entry it
//! replaced, and those rows may still be stored (for their other entries). So a tombstone
//! counts as current while a row that old is stored; once every such row is gone, it is let
//! go of (its row then holds less that is current). A row is deleted only when it holds no
//! current entry, so the last entry of every key outlives the entries it supersedes.

use crate::hashed::HashedMap;
use std::collections::BTreeMap;

/// Rows are cut at this size: a commit or a compaction holds at most one row in memory.
pub const ROW_BYTES: usize = 1 << 20;
/// The default slack: rows may hold this many bytes beyond twice the current ones before
/// the oldest is compacted (a small log is never compacted).
pub const SLACK: u64 = 16 << 20;
/// The length that marks a tombstone.
const TOMBSTONE: u32 = u32::MAX;
/// An entry's frame: the key (16 bytes) and the length (4), little-endian.
const FRAME: usize = 20;

/// Where a key's last entry is: 16 bytes, so that the index of half a million cases takes
/// 32 bytes a slot with its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    row: u64,
    /// Framed size in the row.
    size: u32,
    /// 0: the case's state. Else a tombstone, and one more than how many rows before its own
    /// is the row of the entry it replaced (see [`Entry::settles`]).
    gap: u32,
}

impl Entry {
    fn new(row: u64, size: u32, settles: Option<u64>) -> Entry {
        let gap = settles.map_or(0, |s| {
            u32::try_from(row.saturating_sub(s).saturating_add(1)).unwrap_or(u32::MAX)
        });
        Entry { row, size, gap }
    }

    /// A tombstone: the row it needs gone before it can be let go of. A gap too long to hold
    /// is read as the tombstone's own row, which is later: it is then kept longer, never
    /// less long.
    fn settles(&self) -> Option<u64> {
        match self.gap {
            0 => None,
            u32::MAX => Some(self.row),
            gap => Some(self.row - u64::from(gap - 1)),
        }
    }
}

/// What the log knows of one stored row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Entries of the row that are the last of their key.
    current: u32,
    bytes: u64,
}

/// The entries of a row: key, and the case's bytes (`None`: a tombstone).
pub fn entries(row: &[u8]) -> impl Iterator<Item = Result<(u128, Option<&[u8]>), String>> {
    let mut rest = row;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let frame = (rest.len() >= FRAME).then(|| rest.split_at(FRAME));
        let Some((head, tail)) = frame else {
            rest = &[];
            return Some(Err("a case row ends inside an entry".to_string()));
        };
        let key = u128::from_le_bytes(head[..16].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[16..].try_into().unwrap_or_default());
        if len == TOMBSTONE {
            rest = tail;
            return Some(Ok((key, None)));
        }
        match tail.split_at_checked(len as usize) {
            Some((bytes, tail)) => {
                rest = tail;
                Some(Ok((key, Some(bytes))))
            }
            None => {
                rest = &[];
                Some(Err("a case row ends inside an entry".to_string()))
            }
        }
    })
}

fn frame(out: &mut Vec<u8>, key: u128, bytes: Option<&[u8]>) {
    out.extend_from_slice(&key.to_le_bytes());
    match bytes {
        Some(bytes) => {
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&TOMBSTONE.to_le_bytes()),
    }
}

/// What a commit does to the table of rows, in order: each call is a row written (number,
/// bytes), read (for compaction) or removed.
pub trait Rows {
    type Error;
    fn write(&mut self, number: u64, row: &[u8]) -> Result<(), Self::Error>;
    fn read(&mut self, number: u64) -> Result<Option<Vec<u8>>, Self::Error>;
    fn remove(&mut self, number: u64) -> Result<(), Self::Error>;
}

/// What the log knows of its rows (see the module's documentation).
#[derive(Debug, Clone)]
pub struct CaseLog {
    at: HashedMap<u128, Entry>,
    rows: BTreeMap<u64, Row>,
    /// Keys whose tombstone waits for the row it names to go, by that row.
    tombs: BTreeMap<u64, Vec<u128>>,
    /// Rows found to hold nothing current while the store was read: the next commit
    /// deletes them.
    doomed: Vec<u64>,
    /// The number of the next row.
    next: u64,
    /// Bytes of the current entries, and of every stored row.
    current_bytes: u64,
    bytes: u64,
    /// Bytes allowed beyond twice the current ones.
    pub slack: u64,
    /// Rows are cut at this size ([`ROW_BYTES`]).
    pub row_bytes: usize,
}

impl Default for CaseLog {
    fn default() -> Self {
        CaseLog {
            at: HashedMap::default(),
            rows: BTreeMap::new(),
            tombs: BTreeMap::new(),
            doomed: Vec::new(),
            next: 0,
            current_bytes: 0,
            bytes: 0,
            slack: SLACK,
            row_bytes: ROW_BYTES,
        }
    }
}

/// How many rows a commit wrote, compacted and removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub written: u64,
    pub compacted: u64,
    pub removed: u64,
}

impl CaseLog {
    /// Takes in a stored row, read in order of number (opening the store).
    pub fn read(&mut self, number: u64, row: &[u8]) -> Result<(), String> {
        for entry in entries(row) {
            let (key, bytes) = entry?;
            self.put(
                key,
                number,
                bytes.map_or(FRAME, |b| FRAME + b.len()),
                bytes.is_none(),
            );
        }
        self.rows.entry(number).or_default().bytes = row.len() as u64;
        self.bytes += row.len() as u64;
        self.next = self.next.max(number + 1);
        Ok(())
    }

    /// Done reading the stored rows: lets go of what they do not need.
    pub fn opened(&mut self) {
        let doomed = self.tidy();
        self.doomed.extend(doomed);
    }

    /// Whether the entry of `key` in row `number` is the case's current state (not a
    /// tombstone, not superseded).
    pub fn is_current(&self, number: u64, key: u128) -> bool {
        self.at
            .get(&key)
            .is_some_and(|e| e.row == number && e.settles().is_none())
    }

    /// How many cases are kept.
    pub fn cases(&self) -> usize {
        self.at.values().filter(|e| e.settles().is_none()).count()
    }

    /// How many tombstones are still needed.
    #[cfg(test)]
    pub fn tombstones(&self) -> usize {
        self.at.len() - self.cases()
    }

    /// Bytes of every stored row, and of the current entries in them.
    #[cfg(test)]
    pub fn sizes(&self) -> (u64, u64) {
        (self.bytes, self.current_bytes)
    }

    fn put(&mut self, key: u128, row: u64, size: usize, tombstone: bool) {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let old = self.at.remove(&key);
        if let Some(old) = old {
            self.release(old);
        }
        let settles = match (tombstone, old) {
            (false, _) => None,
            // What a tombstone replaced: its entry, or what an earlier tombstone waited for.
            (true, Some(old)) => Some(old.settles().unwrap_or(old.row)),
            // Nothing stored before it to supersede.
            (true, None) => return,
        };
        let entry = Entry::new(row, size, settles);
        if let Some(since) = entry.settles() {
            self.tombs.entry(since).or_default().push(key);
        }
        self.at.insert(key, entry);
        self.rows.entry(row).or_default().current += 1;
        self.current_bytes += u64::from(size);
    }

    /// Deletes the rows with nothing current, and lets go of the tombstones no stored row
    /// needs, until neither is left. Returns the rows to delete.
    fn tidy(&mut self) -> Vec<u64> {
        let mut gone = Vec::new();
        loop {
            // (The row being written is not stored yet.)
            let empty: Vec<u64> = self
                .rows
                .range(..self.next)
                .filter(|(_, r)| r.current == 0)
                .map(|(n, _)| *n)
                .collect();
            for number in &empty {
                if let Some(row) = self.rows.remove(number) {
                    self.bytes = self.bytes.saturating_sub(row.bytes);
                }
            }
            gone.extend(empty);
            let oldest = self.rows.first_key_value().map_or(u64::MAX, |(n, _)| *n);
            let mut released = false;
            while let Some(entry) = self.tombs.first_entry() {
                if *entry.key() >= oldest {
                    break;
                }
                let (since, keys) = entry.remove_entry();
                for key in keys {
                    if self
                        .at
                        .get(&key)
                        .is_some_and(|e| e.settles() == Some(since))
                    {
                        if let Some(old) = self.at.remove(&key) {
                            self.release(old);
                            released = true;
                        }
                    }
                }
            }
            if !released {
                return gone;
            }
        }
    }

    fn release(&mut self, old: Entry) {
        if let Some(row) = self.rows.get_mut(&old.row) {
            row.current = row.current.saturating_sub(1);
        }
        self.current_bytes = self.current_bytes.saturating_sub(u64::from(old.size));
    }

    /// Commits the cases that changed (key and bytes, `None`: settled): appends them, then
    /// compacts the oldest rows while the log is too large, then removes the rows with no
    /// current entry. On an error the log no longer matches the table (the transaction is
    /// not committed): the store must not commit with it again.
    pub fn commit<R: Rows>(
        &mut self,
        cases: &[(u128, Option<Vec<u8>>)],
        rows: &mut R,
    ) -> Result<Committed, R::Error> {
        let first = self.next;
        let mut done = Committed::default();
        for number in std::mem::take(&mut self.doomed) {
            rows.remove(number)?;
            done.removed += 1;
        }
        let mut out = Vec::new();
        for (key, bytes) in cases {
            // A case born and settled between two commits was never stored.
            // (Or settled again: its tombstone stands.)
            if bytes.is_none() && self.at.get(key).is_none_or(|e| e.settles().is_some()) {
                continue;
            }
            self.append(&mut out, *key, bytes.as_deref(), rows, &mut done)?;
        }
        loop {
            for number in self.tidy() {
                rows.remove(number)?;
                done.removed += 1;
            }
            // The row being written counts: its entries are current already.
            if self.bytes + out.len() as u64 <= 2 * self.current_bytes + self.slack {
                break;
            }
            let Some((&oldest, _)) = self.rows.first_key_value() else {
                break;
            };
            if oldest >= first {
                break;
            }
            if let Some(row) = rows.read(oldest)? {
                for entry in entries(&row) {
                    let Ok((key, bytes)) = entry else { break };
                    match self.at.get(&key) {
                        Some(e) if e.row == oldest && e.settles().is_some() => {
                            // The oldest row: nothing older is left to supersede.
                            if let Some(old) = self.at.remove(&key) {
                                self.release(old);
                            }
                        }
                        Some(e) if e.row == oldest => {
                            self.append(&mut out, key, bytes, rows, &mut done)?;
                        }
                        _ => {}
                    }
                }
            }
            self.drop_row(oldest, rows)?;
            done.compacted += 1;
        }
        self.flush(&mut out, rows, &mut done)?;
        for number in self.tidy() {
            rows.remove(number)?;
            done.removed += 1;
        }
        Ok(done)
    }

    fn append<R: Rows>(
        &mut self,
        out: &mut Vec<u8>,
        key: u128,
        bytes: Option<&[u8]>,
        rows: &mut R,
        done: &mut Committed,
    ) -> Result<(), R::Error> {
        let size = bytes.map_or(FRAME, |b| FRAME + b.len());
        if !out.is_empty() && out.len() + size > self.row_bytes {
            self.flush(out, rows, done)?;
        }
        frame(out, key, bytes);
        self.put(key, self.next, size, bytes.is_none());
        Ok(())
    }

    fn flush<R: Rows>(
        &mut self,
        out: &mut Vec<u8>,
        rows: &mut R,
        done: &mut Committed,
    ) -> Result<(), R::Error> {
        if out.is_empty() {
            return Ok(());
        }
        rows.write(self.next, out)?;
        self.rows.entry(self.next).or_default().bytes = out.len() as u64;
        self.bytes += out.len() as u64;
        self.next += 1;
        done.written += 1;
        out.clear();
        Ok(())
    }

    fn drop_row<R: Rows>(&mut self, number: u64, rows: &mut R) -> Result<(), R::Error> {
        rows.remove(number)?;
        if let Some(row) = self.rows.remove(&number) {
            self.bytes = self.bytes.saturating_sub(row.bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Rows in memory, as the store's table holds them.
    #[derive(Default)]
    struct Table(BTreeMap<u64, Vec<u8>>);

    impl Rows for Table {
        type Error = String;
        fn write(&mut self, number: u64, row: &[u8]) -> Result<(), String> {
            match self.0.insert(number, row.to_vec()) {
                None => Ok(()),
                Some(_) => Err(format!("row {number} written twice")),
            }
        }
        fn read(&mut self, number: u64) -> Result<Option<Vec<u8>>, String> {
            Ok(self.0.get(&number).cloned())
        }
        fn remove(&mut self, number: u64) -> Result<(), String> {
            self.0
                .remove(&number)
                .map(drop)
                .ok_or(format!("no row {number}"))
        }
    }

    /// What reading the table gives: the last entry of each key, without tombstones.
    fn replay(table: &Table) -> BTreeMap<u128, Vec<u8>> {
        let mut cases = BTreeMap::new();
        for row in table.0.values() {
            for entry in entries(row) {
                match entry.expect("an entry") {
                    (key, Some(bytes)) => drop(cases.insert(key, bytes.to_vec())),
                    (key, None) => drop(cases.remove(&key)),
                }
            }
        }
        cases
    }

    /// A log read back from the table, as opening the store does.
    fn reopened(table: &Table, slack: u64) -> CaseLog {
        let mut log = CaseLog {
            slack,
            ..CaseLog::default()
        };
        for (number, row) in &table.0 {
            log.read(*number, row).expect("a row");
        }
        log.opened();
        log
    }

    fn case(key: u128, version: u32, len: usize) -> Vec<u8> {
        let mut bytes = version.to_le_bytes().to_vec();
        bytes.resize(len.max(4), key as u8);
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the commits (cases changed, settled, born again; with restarts that read
        /// the log back from the table), reading the table gives exactly the cases kept, and
        /// the rows hold at most twice the current bytes, the slack and one row more.
        #[test]
        fn the_table_always_reads_back_as_the_cases_kept(
            commits in proptest::collection::vec(
                (proptest::collection::vec((0u128..60, any::<bool>(), 1usize..3000), 0..40), any::<bool>()),
                1..60,
            ),
            slack in prop_oneof![Just(0u64), Just(4096u64), Just(1u64 << 20)],
            row_bytes in prop_oneof![Just(4096usize), Just(ROW_BYTES)],
        ) {
            let mut table = Table::default();
            let mut log = CaseLog { slack, row_bytes, ..CaseLog::default() };
            let mut kept: BTreeMap<u128, Vec<u8>> = BTreeMap::new();
            let (mut compacted, mut removed) = (0, 0);
            for (i, (changes, restart)) in commits.iter().enumerate() {
                let mut batch: BTreeMap<u128, Option<Vec<u8>>> = BTreeMap::new();
                for (key, settles, len) in changes {
                    let bytes = (!settles).then(|| case(*key, i as u32, *len));
                    batch.insert(*key, bytes);
                }
                let batch: Vec<_> = batch.into_iter().collect();
                for (key, bytes) in &batch {
                    match bytes {
                        Some(b) => drop(kept.insert(*key, b.clone())),
                        None => drop(kept.remove(key)),
                    }
                }
                let done = log.commit(&batch, &mut table).expect("commit");
                compacted += done.compacted;
                removed += done.removed;
                prop_assert_eq!(&replay(&table), &kept);
                prop_assert_eq!(log.cases(), kept.len());
                let (bytes, current) = log.sizes();
                prop_assert_eq!(bytes, table.0.values().map(|r| r.len() as u64).sum::<u64>());
                prop_assert!(bytes <= 2 * current + slack, "{} {}", bytes, current);
                // Every tombstone kept is still needed, and the counts are what the rows hold.
                let oldest = *log.rows.keys().next().unwrap_or(&u64::MAX);
                prop_assert!(log.at.values().all(|e| e.settles().is_none_or(|s| s >= oldest)));
                for (number, row) in &log.rows {
                    let current = log.at.values().filter(|e| e.row == *number).count();
                    prop_assert_eq!(row.current as usize, current);
                    prop_assert!(current > 0);
                }
                if *restart {
                    let mut again = reopened(&table, slack);
                    again.row_bytes = row_bytes;
                    prop_assert_eq!(again.cases(), log.cases());
                    log = again;
                }
            }
            if slack == 0 && commits.len() > 20 {
                prop_assert!(compacted + removed > 0);
            }
        }
    }

    /// A tombstone outlives every older row that holds an entry of its key: a case settled
    /// while its row is kept alive by another case does not come back when the store is read.
    /// Once that row is gone, the tombstone is let go of.
    #[test]
    fn a_settled_case_does_not_come_back_from_an_older_row() {
        let mut table = Table::default();
        let mut log = CaseLog {
            slack: u64::MAX / 4,
            ..CaseLog::default()
        };
        log.commit(
            &[(1, Some(case(1, 0, 10))), (2, Some(case(2, 0, 10)))],
            &mut table,
        )
        .expect("commit");
        log.commit(&[(1, None)], &mut table).expect("commit");
        // Row 0 still holds case 2, and the superseded entry of case 1.
        assert_eq!(table.0.keys().collect::<Vec<_>>(), [&0, &1]);
        assert_eq!(replay(&table).keys().collect::<Vec<_>>(), [&2]);
        let mut log = reopened(&table, 0);
        assert!(!log.is_current(0, 1));
        assert!(log.is_current(0, 2));
        assert_eq!((log.cases(), log.tombstones()), (1, 1));
        // Case 2 changes: row 0 holds nothing current, so it goes, and with it the need for
        // the tombstone, and so row 1.
        log.commit(&[(2, Some(case(2, 1, 10)))], &mut table)
            .expect("commit");
        assert_eq!(table.0.keys().collect::<Vec<_>>(), [&2]);
        assert_eq!((log.cases(), log.tombstones()), (1, 0));
        assert_eq!(replay(&table).keys().collect::<Vec<_>>(), [&2]);
        // Born and settled between two commits: nothing is written.
        log.commit(&[(9, None)], &mut table).expect("commit");
        assert_eq!(table.0.keys().collect::<Vec<_>>(), [&2]);
    }

    /// An entry is 16 bytes and gives back what it was made of; a tombstone too far from the
    /// row it waits for waits for its own row instead (later, never earlier).
    #[test]
    fn an_entry_is_small_and_keeps_what_a_tombstone_waits_for() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        assert_eq!(Entry::new(9, 3, None).settles(), None);
        assert_eq!(Entry::new(9, 3, Some(9)).settles(), Some(9));
        assert_eq!(Entry::new(9, 3, Some(0)).settles(), Some(0));
        let far = 1u64 << 40;
        assert_eq!(Entry::new(far, 3, Some(1)).settles(), Some(far));
        assert_eq!(Entry::new(far, 3, Some(far - 5)).settles(), Some(far - 5));
    }

    /// A row that ends inside an entry is refused, not misread.
    #[test]
    fn a_cut_row_is_refused() {
        let mut row = Vec::new();
        frame(&mut row, 7, Some(b"abc"));
        assert!(entries(&row).all(|e| e.is_ok()));
        for cut in 1..row.len() {
            assert!(entries(&row[..cut]).any(|e| e.is_err()), "{cut}");
        }
    }
}
