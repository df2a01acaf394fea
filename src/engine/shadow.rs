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
//! the shadow (see `check::split`): the split is used only for alerts whose `when` reads one
//! attribute, so that the event that gives the case its kind is among them.

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
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Follows the alert cases of other partitions, as [`Evaluator::push_shadow`] hands them.
    pub(crate) fn follow_other_alerts(&mut self) {
        let evaluator = Evaluator::new(self.policies, self.opts.clone(), Quiet);
        self.shadow = Some(Box::new(Shadow {
            evaluator: Box::new(evaluator),
            followed: (0, 0),
        }));
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
