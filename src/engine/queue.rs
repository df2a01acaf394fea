//! The reorder queue: accepted events wait out the reorder window, then are released an
//! instant at a time in canonical order (by ticket, then by type and attributes), so that
//! every case sees its events in the same order whatever order they arrived in.

use super::*;

/// An accepted event waiting to be applied: ordered by instant, then arrival.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Waiting {
    #[serde(with = "crate::event::compact_instant")]
    pub(super) at: Instant,
    pub(super) arrival: u64,
    pub(super) key: TicketKey,
    pub(super) event: Event,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.arrival) == (other.at, other.arrival)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.arrival).cmp(&(other.at, other.arrival))
    }
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Applies the waiting events strictly before `frontier` (all when `None`), an instant at a
    /// time, in canonical order.
    pub(super) fn release(&mut self, frontier: Option<Instant>) {
        let mut group: Vec<(TicketKey, Event)> = Vec::new();
        loop {
            let first = match (self.in_order.front(), self.waiting.peek()) {
                (Some(a), Some(Reverse(b))) => a.at.min(b.at),
                (Some(a), None) => a.at,
                (None, Some(Reverse(b))) => b.at,
                (None, None) => return,
            };
            if frontier.is_some_and(|f| first >= f) {
                return;
            }
            let at = first;
            group.clear();
            while self.in_order.front().is_some_and(|w| w.at == at) {
                if let Some(w) = self.in_order.pop_front() {
                    group.push((w.key, w.event));
                }
            }
            while self.waiting.peek().is_some_and(|Reverse(w)| w.at == at) {
                if let Some(Reverse(w)) = self.waiting.pop() {
                    group.push((w.key, w.event));
                }
            }
            group.sort_by(|a, b| {
                a.1.ticket
                    .cmp(&b.1.ticket)
                    .then_with(|| a.1.canonical_cmp(&b.1))
            });
            let mut events = group.drain(..).peekable();
            while let Some((key, first)) = events.next() {
                let mut batch = std::mem::take(&mut self.batch);
                batch.clear();
                batch.push(first);
                while let Some((_, next)) = events.next_if(|(k, _)| *k == key) {
                    batch.push(next);
                }
                self.apply(key, &mut batch);
                self.batch = batch;
            }
        }
    }
}
