//! The alert cases of other partitions, followed in a split check.
//!
//! An alert's periods are opened and lifted by events of other cases than the subjects whose
//! duties hold during them (`during typhoon`): in a check split by tickets, the alert case and
//! the subject may fall in different partitions. So each evaluator of the split also follows
//! the alert cases the others own: the dealer hands it their events ([`Evaluator::push_shadow`])
//! and it applies them in an evaluator of its own that records nothing (the shadow), moved
//! through stream time in step with it. The periods the shadow notes are taken into the
//! evaluator's book before its own events are applied and its cases settle, at every step:
//! so a subject settling in any partition sees the periods one evaluator over the whole stream
//! would have noted by then. The shadow, being the same evaluator, rejects what the owner
//! rejects (duplicates, late events, events after the retention).
//!
//! Only the events of a ticket from the first that names it an alert case on its own reach
//! the shadow ([`AlertWatch`]): alerts are followed only when their `when` reads one
//! attribute, so that the event that gives the case its kind is among them.
//!
//! The same shadow serves an instance of a service split by `--partition` (which is handed
//! every event and applies its own): there the evaluator watches the other partitions' events
//! itself, and the shadow is part of its snapshots.

use super::*;

/// A sink that takes nothing: the shadow's records are its owner's to give.
pub(super) struct Quiet;

impl Sink for Quiet {
    fn verdict(&mut self, _: &Verdict) {}
    fn action(&mut self, _: &Action) {}
    fn rejected(&mut self, _: &Rejected) {}
    fn unopened(&mut self, _: &Unopened) {}
    fn finding(&mut self, _: &Finding) {}
}

/// The shadow and how far its book has been followed.
pub(super) struct Shadow<'p> {
    evaluator: Box<Evaluator<'p, Quiet>>,
    /// [`AlertBook::progress`] of the shadow's book when last followed.
    followed: (usize, usize),
    /// Under `--partition`, where the evaluator is handed every event and applies its own:
    /// which of the others are alert cases. (In a split check, the dealer knows.)
    watch: Option<AlertWatch<'p>>,
}

/// Whether the alerts of `policies` can be followed from the event that names their case
/// ([`AlertWatch`]): every alert's `when` reads one attribute, and does not hold without it.
/// Otherwise the first event that names a ticket an alert case on its own may come after the
/// one that gave the case what its `when` is judged on.
pub(crate) fn alerts_followable(policies: &[Policy]) -> bool {
    policies.iter().flat_map(|p| &p.alerts).all(|alert| {
        let mut read = Vec::new();
        alert.applies.attributes(&mut read);
        read.sort_unstable();
        read.dedup();
        read.len() == 1 && !alert.applies.eval(&Attrs::new())
    })
}

/// Which tickets are alert cases, as the events show them: a ticket is one from its first
/// event that raises or lifts an alert (by its type), or whose attributes alone satisfy an
/// alert's `when`; from then on, each of its events is followed by every partition. With a
/// `when` reading one attribute ([`alerts_followable`]), the event that last set that
/// attribute is among them, so the shadows see the case as its owner does from that event on.
pub(crate) struct AlertWatch<'p> {
    types: Vec<&'p str>,
    whens: Vec<&'p crate::policy::Condition>,
    tickets: std::collections::HashSet<InlineStr>,
}

impl<'p> AlertWatch<'p> {
    /// The watch for the alerts of `policies`, if they declare any.
    pub(crate) fn new(policies: &'p [Policy]) -> Option<AlertWatch<'p>> {
        let alerts: Vec<&crate::policy::Alert> = policies.iter().flat_map(|p| &p.alerts).collect();
        if alerts.is_empty() {
            return None;
        }
        let mut types: Vec<&str> = alerts
            .iter()
            .flat_map(|a| a.from.matchers.iter().chain(&a.until.matchers))
            .map(|m| &*m.event)
            .collect();
        types.sort_unstable();
        types.dedup();
        Some(AlertWatch {
            types,
            whens: alerts.iter().map(|a| &a.applies).collect(),
            tickets: Default::default(),
        })
    }

    /// Whether `event` is of an alert case (and from now on, every event of its ticket).
    pub(crate) fn concerns(&mut self, event: &Event) -> bool {
        if self.tickets.contains(&event.ticket) {
            return true;
        }
        let names = self.types.iter().any(|t| *t == &*event.kind)
            || self.whens.iter().any(|when| when.eval(&event.attrs));
        if names {
            self.tickets.insert(event.ticket.clone());
        }
        names
    }

    /// The tickets named so far, sorted (for a snapshot).
    fn tickets(&self) -> Vec<InlineStr> {
        let mut tickets: Vec<InlineStr> = self.tickets.iter().cloned().collect();
        tickets.sort_unstable();
        tickets
    }
}

/// What a snapshot keeps of the shadow: its own snapshot, and under `--partition` the tickets
/// its watch has named.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct ShadowState {
    snapshot: Vec<u8>,
    watched: Option<Vec<InlineStr>>,
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Follows the alert cases of other partitions, as [`Evaluator::push_shadow`] hands them.
    pub(crate) fn follow_other_alerts(&mut self) {
        let evaluator = Evaluator::new(self.policies, self.opts.clone(), Quiet);
        self.shadow = Some(Box::new(Shadow {
            evaluator: Box::new(evaluator),
            followed: (0, 0),
            watch: None,
        }));
    }

    /// Under `--partition`: follows, among the other partitions' events it is handed, those
    /// of alert cases, when the policies' alerts can be followed so.
    pub(super) fn watch_other_alerts(&mut self) {
        let watch = AlertWatch::new(self.policies);
        if watch.is_some() && alerts_followable(self.policies) {
            self.follow_other_alerts();
            if let Some(shadow) = self.shadow.as_mut() {
                shadow.watch = watch;
            }
        }
    }

    /// Whether `event`, of another partition, is of an alert case this one follows.
    pub(super) fn watches(&mut self, event: &Event) -> bool {
        self.shadow
            .as_mut()
            .and_then(|s| s.watch.as_mut())
            .is_some_and(|w| w.concerns(event))
    }

    /// What a snapshot keeps of the shadow.
    pub(super) fn shadow_state(&self) -> Result<Option<ShadowState>, SnapshotError> {
        let Some(shadow) = self.shadow.as_ref() else {
            return Ok(None);
        };
        Ok(Some(ShadowState {
            snapshot: shadow.evaluator.snapshot()?,
            watched: shadow.watch.as_ref().map(AlertWatch::tickets),
        }))
    }

    /// The shadow as a snapshot kept it.
    pub(super) fn restore_shadow(&mut self, state: ShadowState) -> Result<(), SnapshotError> {
        let evaluator = Evaluator::restore(self.policies, Quiet, &state.snapshot)?;
        let watch = state.watched.and_then(|tickets| {
            let mut watch = AlertWatch::new(self.policies)?;
            watch.tickets.extend(tickets);
            Some(watch)
        });
        // Followed afresh at the next step: following is idempotent.
        self.shadow = Some(Box::new(Shadow {
            evaluator: Box::new(evaluator),
            followed: (0, 0),
            watch,
        }));
        Ok(())
    }

    /// A copy of the shadow for a fork of the evaluator.
    pub(super) fn fork_shadow<'q>(&self, policies: &'q [Policy]) -> Option<Box<Shadow<'q>>> {
        let shadow = self.shadow.as_ref()?;
        Some(Box::new(Shadow {
            evaluator: Box::new(shadow.evaluator.fork(policies, Quiet)),
            followed: shadow.followed,
            watch: shadow.watch.as_ref().and_then(|w| {
                let mut watch = AlertWatch::new(policies)?;
                watch.tickets = w.tickets.clone();
                Some(watch)
            }),
        }))
    }

    /// Stops following other partitions' alert cases: a merged evaluator owns them all.
    pub(super) fn drop_shadow(&mut self) {
        self.shadow = None;
    }

    /// An event of an alert case another partition owns: applied in the shadow, and moves
    /// stream time as any event does.
    pub(crate) fn push_shadow(&mut self, event: Event) {
        let at = event.at;
        if let Some(shadow) = self.shadow.as_mut() {
            shadow.evaluator.push(event);
        }
        self.follow_shadow();
        self.advance(at);
    }

    /// Moves the shadow to `at` (or to the end of the stream) and takes in what it noted.
    pub(super) fn shadow_to(&mut self, at: Option<Instant>) {
        if let Some(shadow) = self.shadow.as_mut() {
            match at {
                Some(at) => shadow.evaluator.advance(at),
                None => shadow.evaluator.release(None),
            }
            self.follow_shadow();
        }
    }

    fn follow_shadow(&mut self) {
        let Some(shadow) = self.shadow.as_mut() else {
            return;
        };
        let book = shadow.evaluator.periods.alerts();
        let progress = book.progress();
        if progress != shadow.followed {
            shadow.followed = progress;
            self.periods.follow_alerts(book);
        }
    }
}
