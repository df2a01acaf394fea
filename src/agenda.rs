//! The duty desk's agenda: what is overdue and what falls due next, soonest first.
//!
//! `pledge agenda POLICY --events FILE [--now T] [--within 4h]` answers the question a duty desk
//! asks at the start of a shift: which cases have already broken a standard and are still open,
//! which escalations were due and not done, and what will fall due or fire in the next hours.
//!
//! The agenda is built by an [`AgendaSink`] over the streaming [`Evaluator`], so its memory
//! follows the open cases and the cycles still running, like any evaluation. It lists, as of
//! `now` and for a horizon `within`:
//!
//! - **overdue**: cycles of deadline clauses whose clock is still running and whose due time has
//!   passed (`breached` and not stopped), with how long they are overdue;
//! - **missed**: escalations (and `notify` stages) that fired on a clock still running and have no
//!   evidence by `now`: they can still be done. Missed actions of stopped clocks are history,
//!   for the report, not the desk;
//! - **stage**: stages (warn, escalate, notify) of running clocks that will fire in
//!   `(now, now + within]`;
//! - **due**: running cycles that fall due in `[now, now + within]`. A cycle due exactly at
//!   `now` is listed as due (with no time left), not overdue: SEMANTICS.md makes the due instant
//!   inclusive, so it is not breached yet.
//!
//! A clock paused at `now` is listed with `paused`: its due time and stage instants assume the
//! pause ends at `now`, so they are the earliest they can be.
//!
//! Closed cases are left out unless asked for ([`AgendaSink::including_closed`]): a clock that
//! never stopped on a ticket resolved, revisited and closed months ago is a breach for the
//! report, and nothing the desk can still act on.
//!
//! Items are sorted by instant (the due time for overdue and due items, the stage instant for
//! stages and missed actions), then ticket, clause, cycle and stage: overdue and missed items,
//! whose instants are past, come first, the longest overdue at the top.

use crate::engine::{EvalOptions, Evaluator, Sink};
use crate::eval::{
    format_duration, rfc3339, Action, ActionStatus, ClauseRef, Finding, Rejected, Status, Summary,
    Unopened, Verdict,
};
use crate::event::{Event, Instant};
use crate::policy::{ActionKind, Policy};
use chrono::Duration;
use chrono_tz::Tz;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What an agenda item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    /// A running cycle past its due time.
    Overdue,
    /// A fired stage of a running cycle without its evidence.
    Missed,
    /// A stage about to fire.
    Stage,
    /// A running cycle about to fall due.
    Due,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Overdue => "overdue",
            ItemKind::Missed => "missed",
            ItemKind::Stage => "stage",
            ItemKind::Due => "due",
        }
    }
}

/// The stage of a `stage` or `missed` item.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRef {
    /// 1-based position of the stage in the clause.
    pub stage: usize,
    pub action: ActionKind,
    pub role: Arc<str>,
    pub channels: Arc<[Box<str>]>,
    pub message: Option<Arc<str>>,
}

/// One line of the agenda.
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaItem {
    pub kind: ItemKind,
    /// The instant the item is about: the due time (overdue, due) or the stage instant (stage,
    /// missed).
    pub at: Instant,
    pub ticket: Arc<str>,
    pub policy: Arc<str>,
    pub clause: Arc<str>,
    pub clause_ref: ClauseRef,
    pub title: Option<Arc<str>>,
    pub cycle: u32,
    /// The cycle's due time.
    pub due: Instant,
    /// The clock is paused at `now`.
    pub paused: bool,
    pub stage: Option<StageRef>,
    /// The zone the clause counts in; instants are shown in it.
    pub zone: Tz,
    /// The case's `project` attribute, for the counts per project of a long agenda.
    pub project: Option<Arc<str>>,
}

impl AgendaItem {
    fn sort_key(&self) -> (Instant, &str, ClauseRef, u32, ItemKind, usize) {
        (
            self.at,
            &self.ticket,
            self.clause_ref,
            self.cycle,
            self.kind,
            self.stage.as_ref().map_or(0, |s| s.stage),
        )
    }
}

/// What is overdue and what falls due next, as of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Agenda {
    pub now: Instant,
    /// The horizon: items up to `now + within` are listed.
    pub within: Duration,
    /// The zone `now` is shown in: the first policy's.
    pub zone: Tz,
    /// Soonest first (see the module doc).
    pub items: Vec<AgendaItem>,
}

impl Agenda {
    /// Builds the agenda of `events` (any order within the reorder window of `opts`) against
    /// `policies`, as of `opts.now` (default: the latest event). Returns the evaluation's
    /// summary too, for its counts of rejected and late events.
    pub fn from_events(
        policies: &[Policy],
        events: impl IntoIterator<Item = Event>,
        opts: EvalOptions,
        within: Duration,
    ) -> (Agenda, Summary) {
        let sink = AgendaSink::new(policies, opts.now, within);
        let mut evaluator = Evaluator::new(policies, opts, sink);
        for event in events {
            evaluator.push(event);
        }
        let (summary, sink) = evaluator.finish();
        let now = summary.now.unwrap_or_default();
        (sink.into_agenda(now), summary)
    }

    /// How many items of a kind.
    pub fn count(&self, kind: ItemKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }

    /// Per clause (policy and clause order), its items by kind: overdue, missed, stage, due.
    pub fn by_clause(&self) -> Vec<(Arc<str>, Arc<str>, [usize; 4])> {
        type Row = (ClauseRef, Arc<str>, Arc<str>, [usize; 4]);
        let mut rows: Vec<Row> = Vec::new();
        for item in &self.items {
            let k = match item.kind {
                ItemKind::Overdue => 0,
                ItemKind::Missed => 1,
                ItemKind::Stage => 2,
                ItemKind::Due => 3,
            };
            match rows.iter_mut().find(|r| r.0 == item.clause_ref) {
                Some(row) => row.3[k] += 1,
                None => {
                    let mut counts = [0; 4];
                    counts[k] = 1;
                    rows.push((
                        item.clause_ref,
                        item.policy.clone(),
                        item.clause.clone(),
                        counts,
                    ));
                }
            }
        }
        rows.sort_by_key(|r| r.0);
        rows.into_iter().map(|(_, p, c, n)| (p, c, n)).collect()
    }

    /// Per project (by name; cases without one last, as `None`), its items by kind: overdue,
    /// missed, stage, due.
    pub fn by_project(&self) -> Vec<(Option<Arc<str>>, [usize; 4])> {
        let mut rows: std::collections::BTreeMap<(bool, Option<Arc<str>>), [usize; 4]> =
            std::collections::BTreeMap::new();
        for item in &self.items {
            let k = match item.kind {
                ItemKind::Overdue => 0,
                ItemKind::Missed => 1,
                ItemKind::Stage => 2,
                ItemKind::Due => 3,
            };
            rows.entry((item.project.is_none(), item.project.clone()))
                .or_default()[k] += 1;
        }
        rows.into_iter().map(|((_, p), n)| (p, n)).collect()
    }
}

/// The running cycle whose verdict the evaluator emitted last: its actions follow it.
#[derive(Debug, Clone, PartialEq)]
struct Running {
    ticket: Arc<str>,
    clause_ref: ClauseRef,
    cycle: u32,
    due: Instant,
    paused: bool,
    project: Option<Arc<str>>,
}

/// A [`Sink`] that keeps what the agenda lists and drops everything else: feed it to an
/// [`Evaluator`], then call [`AgendaSink::into_agenda`] with the evaluation's `now`.
///
/// When `now` is known in advance, items beyond the horizon are dropped as they come; otherwise
/// they are kept until the end (they all belong to clocks still running, which the evaluator
/// keeps anyway).
pub struct AgendaSink<'p> {
    policies: &'p [Policy],
    now: Option<Instant>,
    within: Duration,
    items: Vec<AgendaItem>,
    running: Option<Running>,
    include_closed: bool,
    /// The `project` of the case whose verdicts come next ([`Sink::case_attrs`]).
    project: Option<(Arc<str>, Option<Arc<str>>)>,
    /// The `project` of each case whose running clocks are judged only at the end of the
    /// stream ([`Sink::case_attrs_at_end`]); a case without one is not listed.
    projects_at_end: HashMap<Arc<str>, Arc<str>>,
}

impl<'p> AgendaSink<'p> {
    pub fn new(policies: &'p [Policy], now: Option<Instant>, within: Duration) -> AgendaSink<'p> {
        AgendaSink {
            policies,
            now,
            within,
            items: Vec::new(),
            running: None,
            include_closed: false,
            project: None,
            projects_at_end: HashMap::new(),
        }
    }

    /// Also lists the clocks of closed cases (left out by default).
    pub fn including_closed(mut self, yes: bool) -> AgendaSink<'p> {
        self.include_closed = yes;
        self
    }

    fn title(&self, r: ClauseRef) -> Option<Arc<str>> {
        let clause = self.policies.get(r.policy)?.clauses.get(r.clause)?;
        clause.title.as_deref().map(Arc::from)
    }

    fn stage_ref(&self, r: ClauseRef, stage: usize) -> Option<StageRef> {
        let clause = self.policies.get(r.policy)?.clauses.get(r.clause)?;
        let crate::policy::ClauseBody::Deadline(d) = &clause.body else {
            return None;
        };
        let s = d.stages.get(stage.checked_sub(1)?)?;
        Some(StageRef {
            stage,
            action: s.action,
            role: s.role.as_str().into(),
            channels: s.channels.iter().map(|c| c.as_str().into()).collect(),
            message: s.message.as_deref().map(Arc::from),
        })
    }

    /// Whether an item at `at` of this kind is listed as of `now`.
    fn keeps(kind: ItemKind, at: Instant, now: Instant, within: Duration) -> bool {
        let horizon = now.checked_add_signed(within).unwrap_or(now);
        match kind {
            ItemKind::Overdue | ItemKind::Missed => true,
            ItemKind::Due => at >= now && at <= horizon,
            ItemKind::Stage => at > now && at <= horizon,
        }
    }

    fn push(&mut self, item: AgendaItem) {
        if self
            .now
            .is_none_or(|now| Self::keeps(item.kind, item.at, now, self.within))
        {
            self.items.push(item);
        }
    }

    /// The agenda as of `now` (the evaluation's: [`Summary::now`]).
    pub fn into_agenda(self, now: Instant) -> Agenda {
        let within = self.within;
        let mut items: Vec<AgendaItem> = self
            .items
            .into_iter()
            .filter(|i| Self::keeps(i.kind, i.at, now, within))
            .collect();
        items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Agenda {
            now,
            within,
            zone: self.policies.first().map_or(chrono_tz::UTC, |p| p.zone),
            items,
        }
    }
}

impl Sink for AgendaSink<'_> {
    fn verdict(&mut self, v: &Verdict) {
        if v.stop.is_some() || (v.case_closed && !self.include_closed) {
            self.running = None;
            return;
        }
        let project = match &self.project {
            Some((ticket, project)) if *ticket == v.ticket => project.clone(),
            _ => self.projects_at_end.get(&v.ticket).cloned(),
        };
        self.running = Some(Running {
            ticket: v.ticket.clone(),
            clause_ref: v.clause_ref,
            cycle: v.cycle,
            due: v.due,
            paused: v.paused,
            project: project.clone(),
        });
        let title = self.title(v.clause_ref);
        let item = |kind, at, stage| AgendaItem {
            kind,
            at,
            ticket: v.ticket.clone(),
            policy: v.policy.clone(),
            clause: v.clause.clone(),
            clause_ref: v.clause_ref,
            title: title.clone(),
            cycle: v.cycle,
            due: v.due,
            paused: v.paused,
            stage,
            zone: v.zone,
            project: project.clone(),
        };
        match v.status {
            Status::Breached => self.push(item(ItemKind::Overdue, v.due, None)),
            Status::Pending => self.push(item(ItemKind::Due, v.due, None)),
            Status::Met => {}
        }
        for &(stage, at) in &v.next_stages {
            let stage = self.stage_ref(v.clause_ref, stage);
            self.push(item(ItemKind::Stage, at, stage));
        }
    }

    fn action(&mut self, a: &Action) {
        if a.status != ActionStatus::Missed {
            return;
        }
        let Some(running) = &self.running else {
            return;
        };
        if running.ticket != a.ticket
            || running.clause_ref != a.clause_ref
            || running.cycle != a.cycle
        {
            return;
        }
        let (due, paused, project) = (running.due, running.paused, running.project.clone());
        let item = AgendaItem {
            kind: ItemKind::Missed,
            at: a.at,
            ticket: a.ticket.clone(),
            policy: a.policy.clone(),
            clause: a.clause.clone(),
            clause_ref: a.clause_ref,
            title: self.title(a.clause_ref),
            cycle: a.cycle,
            due,
            paused,
            stage: Some(StageRef {
                stage: a.stage,
                action: a.kind,
                role: a.role.clone(),
                channels: a.channels.clone(),
                message: a.message.clone(),
            }),
            zone: a.zone,
            project,
        };
        self.push(item);
    }

    fn rejected(&mut self, _: &Rejected) {}

    fn wants_case_attributes(&self) -> &[&'static str] {
        &["project"]
    }

    fn case_attrs(&mut self, ticket: &Arc<str>, attrs: &crate::value::Attrs) {
        let project = attrs.get("project").and_then(|v| v.as_str()).map(Arc::from);
        self.project = Some((ticket.clone(), project));
    }

    fn case_attrs_at_end(&mut self, ticket: &Arc<str>, attrs: &crate::value::Attrs) {
        if let Some(project) = attrs.get("project").and_then(|v| v.as_str()) {
            self.projects_at_end
                .insert(ticket.clone(), Arc::from(project));
        }
    }

    fn unopened(&mut self, _: &Unopened) {}

    fn finding(&mut self, _: &Finding) {}
}

fn stage_text(s: &StageRef) -> String {
    let mut out = format!("stage {}: {} {}", s.stage, s.action.as_str(), s.role);
    if !s.channels.is_empty() {
        let channels: Vec<&str> = s.channels.iter().map(|c| &**c).collect();
        out.push_str(&format!(" via {}", channels.join(", ")));
    }
    if let Some(m) = &s.message {
        out.push_str(&format!(" \"{m}\""));
    }
    out
}

/// What an item says about time, relative to `now`.
fn when_text(item: &AgendaItem, now: Instant) -> String {
    match item.kind {
        ItemKind::Overdue => format!("overdue by {}", format_duration(now - item.at)),
        ItemKind::Missed => format!(
            "not done, fired {} ago; due {}",
            format_duration(now - item.at),
            rfc3339(item.due, item.zone)
        ),
        ItemKind::Stage => format!("fires in {}", format_duration(item.at - now)),
        ItemKind::Due => format!("due in {}", format_duration(item.at - now)),
    }
}

/// The agenda as text for a terminal: a header line, then one line per item, at most `limit`
/// of them (the first, which are the most overdue); when there are more, the counts per clause
/// come first, so that a long agenda still reads on one screen.
pub fn render_human(agenda: &Agenda, color: bool, limit: usize) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "agenda as of {}, next {}: {} overdue, {} missed, {} stages, {} due\n",
        rfc3339(agenda.now, agenda.zone),
        format_duration(agenda.within),
        agenda.count(ItemKind::Overdue),
        agenda.count(ItemKind::Missed),
        agenda.count(ItemKind::Stage),
        agenda.count(ItemKind::Due),
    );
    if agenda.items.is_empty() {
        out.push_str("nothing overdue, missed or coming up\n");
        return out;
    }
    if agenda.items.len() > limit {
        let rows = agenda.by_clause();
        let width = rows
            .iter()
            .map(|(p, c, _)| p.chars().count() + c.chars().count() + 1)
            .max()
            .unwrap_or(0);
        out.push_str("by clause (overdue, missed, stages, due):\n");
        for (policy, clause, [o, m, s, d]) in &rows {
            let name = format!("{policy}/{clause}");
            out.push_str(&format!("  {name:<width$}  {o:>6} {m:>6} {s:>6} {d:>6}\n"));
        }
        let projects = agenda.by_project();
        if projects.iter().any(|(p, _)| p.is_some()) {
            let name = |p: &Option<Arc<str>>| p.as_deref().unwrap_or("-").to_string();
            let width = projects
                .iter()
                .map(|(p, _)| name(p).chars().count())
                .max()
                .unwrap_or(0);
            out.push_str("by project (overdue, missed, stages, due):\n");
            for (project, [o, m, s, d]) in &projects {
                let project = name(project);
                out.push_str(&format!(
                    "  {project:<width$}  {o:>6} {m:>6} {s:>6} {d:>6}\n"
                ));
            }
        }
        out.push_str(&format!(
            "the first {limit} of {} items (--limit to see more):\n",
            agenda.items.len()
        ));
    }
    let ticket_width = agenda
        .items
        .iter()
        .map(|i| i.ticket.chars().count())
        .max()
        .unwrap_or(0);
    let clause_width = agenda
        .items
        .iter()
        .map(|i| i.clause.chars().count())
        .max()
        .unwrap_or(0);
    for item in agenda.items.iter().take(limit) {
        let (code, label) = match item.kind {
            ItemKind::Overdue => ("1;31", "OVERDUE"),
            ItemKind::Missed => ("1;31", "MISSED "),
            ItemKind::Stage => ("33", "STAGE  "),
            ItemKind::Due => ("36", "DUE    "),
        };
        let mut line = format!(
            "{}  {}  {:<tw$}  {:<cw$}",
            paint(code, label),
            rfc3339(item.at, item.zone),
            item.ticket,
            item.clause,
            tw = ticket_width,
            cw = clause_width,
        );
        if item.cycle > 1 {
            line.push_str(&format!("  cycle {}", item.cycle));
        }
        if let Some(s) = &item.stage {
            line.push_str("  ");
            line.push_str(&stage_text(s));
        }
        line.push_str("  ");
        line.push_str(&when_text(item, agenda.now));
        if item.paused {
            line.push_str(" (paused)");
        }
        if let Some(title) = &item.title {
            line.push_str(&format!("  {}", paint("2", title)));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The agenda as JSON: `now`, `within_seconds`, `counts` and `items`. Instants are RFC 3339 in
/// the clause's zone; durations whole seconds.
pub fn to_json(agenda: &Agenda) -> Value {
    let items: Vec<Value> = agenda
        .items
        .iter()
        .map(|item| {
            let mut o = Map::new();
            o.insert("kind".into(), json!(item.kind.as_str()));
            o.insert("at".into(), json!(rfc3339(item.at, item.zone)));
            o.insert("ticket".into(), json!(&*item.ticket));
            o.insert("policy".into(), json!(&*item.policy));
            o.insert("clause".into(), json!(&*item.clause));
            o.insert("title".into(), json!(item.title.as_deref()));
            o.insert("cycle".into(), json!(item.cycle));
            o.insert("due".into(), json!(rfc3339(item.due, item.zone)));
            o.insert("paused".into(), json!(item.paused));
            o.insert("project".into(), json!(item.project.as_deref()));
            let (key, seconds) = match item.kind {
                ItemKind::Overdue => ("overdue_seconds", agenda.now - item.at),
                ItemKind::Missed => ("since_seconds", agenda.now - item.at),
                ItemKind::Stage | ItemKind::Due => ("in_seconds", item.at - agenda.now),
            };
            let exact = crate::report::records::Seconds(seconds);
            o.insert(key.into(), serde_json::to_value(exact).unwrap_or_default());
            if let Some(s) = &item.stage {
                o.insert("stage".into(), json!(s.stage));
                o.insert("action".into(), json!(s.action.as_str()));
                o.insert("role".into(), json!(&*s.role));
                let channels: Vec<&str> = s.channels.iter().map(|c| &**c).collect();
                o.insert("channels".into(), json!(channels));
                o.insert("message".into(), json!(s.message.as_deref()));
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "now": rfc3339(agenda.now, agenda.zone),
        "within_seconds": agenda.within.num_seconds(),
        "counts": {
            "overdue": agenda.count(ItemKind::Overdue),
            "missed": agenda.count(ItemKind::Missed),
            "stage": agenda.count(ItemKind::Stage),
            "due": agenda.count(ItemKind::Due),
        },
        "by_clause": agenda
            .by_clause()
            .iter()
            .map(|(policy, clause, [o, m, s, d])| json!({
                "policy": &**policy,
                "clause": &**clause,
                "overdue": o,
                "missed": m,
                "stage": s,
                "due": d,
            }))
            .collect::<Vec<_>>(),
        "by_project": agenda
            .by_project()
            .iter()
            .map(|(project, [o, m, s, d])| json!({
                "project": project.as_deref(),
                "overdue": o,
                "missed": m,
                "stage": s,
                "due": d,
            }))
            .collect::<Vec<_>>(),
        "items": items,
    })
}
