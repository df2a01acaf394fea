//! Applying the events of one case at one instant: the case's attributes, closing and
//! evidence first, then the clocks of the tracks the events touch, the statuses, the replay
//! log of a reclassified case, and the events kept for notification and period clauses.

use super::*;

/// The event types that change how a case's running clocks are judged without being one of
/// their start, stop or pause events.
const ALERTING_TYPES: [&str; 7] = [
    "opened",
    "updated",
    "closed",
    "reopened",
    "status",
    "escalated",
    "notified",
];

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Rejects events accepted when read, found after their case's retention as they are
    /// applied.
    fn reject_after_retention(&mut self, batch: &mut Vec<Event>, retention: Duration, idle: bool) {
        for e in batch.drain(..) {
            self.summary.expired += 1;
            self.summary.accepted -= 1;
            let reason = expired_reason(&e.ticket, retention, idle);
            self.reject_event(&e, reason);
        }
    }

    /// Applies the events of one case at one instant, sorted canonically.
    pub(super) fn apply(&mut self, key: TicketKey, batch: &mut Vec<Event>) {
        self.mark_changed(key);
        // The table leaves the evaluator while its case is worked on (the methods below borrow
        // the whole evaluator, and none of them reads the table): one lookup, the case worked
        // on where it lies, and the table moved back (a few words, no probe).
        let mut cases = std::mem::take(&mut self.cases);
        let Some(case) = cases.get_mut(&key).map(unshare) else {
            self.cases = cases;
            // Settled while these waited: they came after the retention.
            let idle = self.finished.contains(key.short()).unwrap_or(false);
            self.reject_after_retention(batch, self.opts.retain, idle);
            return;
        };
        let case: &mut CaseState = case;
        let at = batch[0].at;
        // Events past a closed case's retention are after it, as they are in a sorted stream
        // (where the case settles before they come), whatever the order the stream gave them:
        // one instant's events of two tickets in either order, a case kept a little longer
        // by the arrival of this very event.
        if let Some(retention) = self.after_retention(case, at) {
            self.cases = cases;
            self.reject_after_retention(batch, retention, false);
            return;
        }
        let first_seq = case.seq;
        case.seq = case.seq.saturating_add(batch.len() as u32);
        case.applied = Some(at);
        let kind_before = case.attrs.get(crate::eval::case::GUARD_ATTR).cloned();
        if self.alarms.is_some()
            && batch
                .iter()
                .any(|e| matches!(&*e.kind, "opened" | "updated") && !e.attrs.is_empty())
        {
            self.note_applicability(key, case);
        }
        // Attributes, closing, evidence: before the clocks, so that a record made final at
        // this instant sees the case as it is at the end of the instant.
        for e in batch.iter() {
            match &*e.kind {
                "opened" => {
                    case.opened = true;
                    self.merge_attrs(&mut case.attrs, &e.attrs);
                }
                "updated" => self.merge_attrs(&mut case.attrs, &e.attrs),
                "closed" => {
                    case.closed = Some(at);
                    // A closed case is kept for weeks: without the room its lists grew into.
                    case.tracks.shrink_to_fit();
                    case.stopped.shrink_to_fit();
                    if let Some(log) = case.log.as_mut() {
                        log.events.shrink_to_fit();
                    }
                    if let Some(d) = case.digest.as_mut() {
                        d.events.shrink_to_fit();
                    }
                    case.attrs.shrink_to_fit();
                    // The plain instant: a sample's hold, when there is one, is found when it comes up
                    // (see `Evaluator::settles`), so that a case is looked at for it once.
                    let settles = case.settles_at(&self.opts, self.retention(case));
                    if case.settle_queued != Some(settles) {
                        self.settling.push(settles, key);
                        case.settle_queued = Some(settles);
                    }
                }
                "reopened" => case.closed = None,
                "escalated" | "notified" => self.evidence(case, e),
                _ => {}
            }
        }
        // Alert periods are stream-wide: noted as their cases' events are applied.
        self.periods
            .note_alerts(&batch[0].ticket, &case.attrs, batch);
        // Clocks.
        if case.log.is_some()
            && case.attrs.get(crate::eval::case::GUARD_ATTR) != kind_before.as_ref()
        {
            self.replay(case);
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        for e in batch.iter() {
            if let Some(i) = self.clock_types.position(&e.kind) {
                touched.extend_from_slice(&self.type_tracks[i as usize]);
            }
            if &*e.kind == "reopened" {
                touched.extend(case.tracks.iter().map(|s| s.track));
            }
        }
        touched.sort_unstable();
        touched.dedup();
        // What a live host is told about a case changes only with its clocks, or with what
        // they are judged by: its attributes, closing, statuses and stage evidence. (Nearly
        // half of a busy desk's events are none of these: progress notes, ratings, checks.)
        if !touched.is_empty() || batch.iter().any(|e| ALERTING_TYPES.contains(&&*e.kind)) {
            self.touch(key);
        }
        let mut skipped = false;
        let kind = case.attrs.get(crate::eval::case::GUARD_ATTR).cloned();
        for &t in &touched {
            let spec = &self.tracks[t as usize];
            let may_start = !self.guard_tracks || !case.opened || self.may_apply(t, kind.as_ref());
            self.roles.clear();
            for (i, e) in batch.iter().enumerate() {
                let r = spec.roles(&e.kind, &e.attrs, &case.attrs, at);
                if !r.any() {
                    continue;
                }
                self.roles.push((first_seq + i as u32, r));
                let now = &self.roles[..];
                self.track_stops.clear();
                match case.track(t) {
                    Some(state) => state.step(at, now, &mut self.track_stops),
                    None if !may_start => skipped |= r.start(),
                    None => {
                        let paused = spec.pauses_on(case.status.as_deref());
                        if let Some(state) =
                            TrackState::start(spec, t, at, now, paused, &mut self.track_stops)
                        {
                            case.tracks.push(state);
                        }
                    }
                }
                case.stopped.append(&mut self.track_stops);
            }
        }
        self.touched = touched;
        // Statuses: where they fall among this instant's events changes no pause.
        let status_before = case.status.clone();
        for e in batch.iter().filter(|e| &*e.kind == "status") {
            let status = e.attrs.get("status").and_then(Value::as_str);
            for state in case.tracks.iter_mut() {
                let spec = &self.tracks[state.track as usize];
                if !spec.pausing.is_empty() {
                    state.status(at, spec.pauses_on(status));
                }
            }
            case.status = status.map(InlineStr::new);
        }
        if skipped && case.log.is_none() {
            case.log = Some(Box::new(ReplayLog {
                status: status_before,
                events: Vec::new(),
            }));
        }
        if let Some(log) = case.log.as_mut() {
            for (i, e) in batch.iter().enumerate() {
                if let Some(kind) = self.clock_types.position(&e.kind) {
                    let kind = kind as u16;
                    let keep_attrs = &*e.kind == "status" || self.filtered_types.contains(&*e.kind);
                    let attrs = keep_attrs.then(|| {
                        let mut kept = Attrs::new();
                        for (key, value) in e.attrs.iter() {
                            if self.log_attrs.iter().any(|k| &**k == key) {
                                kept.insert(key, value.clone());
                            }
                        }
                        for name in &self.track_case_refs {
                            if let Some(v) = case.attrs.get(name) {
                                kept.insert(&crate::policy::case_snapshot_key(name), v.clone());
                            }
                        }
                        Box::new(kept)
                    });
                    log.events.push(Logged {
                        at,
                        seq: first_seq + i as u32,
                        kind,
                        attrs,
                    });
                }
            }
        }
        // What notification and period clauses read waits for the case to settle.
        for e in batch.drain(..) {
            let Some(digest) = case.digest.as_mut() else {
                continue;
            };
            if self.digest.keeps_type(&e.kind)
                && self.keeps_in_digest(&mut digest.firsts, &e, &case.attrs)
            {
                let mut e = e;
                if &*e.kind == "opened" && !self.digest_reads_opened {
                    // Its attributes are the case's, kept once in `attrs`.
                    e.attrs = Attrs::new();
                }
                // The case's values its filters compare with, as they are at its instant.
                for name in &self.digest_case_refs {
                    if let Some(v) = case.attrs.get(name) {
                        let key = crate::policy::case_snapshot_key(name);
                        e.attrs.insert(&key, v.clone());
                    }
                }
                digest.events.push(Kept {
                    at: e.at,
                    kind: e.kind,
                    attrs: e.attrs,
                });
            }
        }
        self.cases = cases;
    }

    /// Whether a clause of track `t` may apply to a case with these attributes, by its
    /// `kind` alone: a clock is followed only for cases of a kind one of its clauses is for.
    pub(super) fn may_apply(&self, t: u16, kind: Option<&Value>) -> bool {
        self.track_plans[t as usize]
            .iter()
            .any(|&p| self.plans[p as usize].guard.may_hold(kind))
    }

    /// Merges an `opened` or `updated` event's attributes into the case's, keeping those the
    /// policies read.
    fn merge_attrs(&self, case: &mut Attrs, event: &Attrs) {
        match self.case_attrs.as_ref().and_then(Option::as_ref) {
            None => case.merge(event),
            Some(keep) => {
                for (key, value) in event.iter() {
                    if keep.iter().any(|k| crate::inline_str::eq_short(k, key)) {
                        case.insert(key, value.clone());
                    }
                }
            }
        }
    }

    /// An `escalated` or `notified` event: evidence for the stages that ask for it.
    fn evidence(&mut self, case: &mut CaseState, e: &Event) {
        for (k, sk) in self.stage_keys.iter().enumerate() {
            let stage = &self.plans[sk.plan as usize].deadline.stages[sk.stage as usize];
            if crate::eval::case::is_stage_evidence(stage, &e.kind, &e.attrs) {
                case.rare().evidence.push((k as u32, e.at));
            }
        }
    }
}
