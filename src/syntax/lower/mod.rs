//! Lowering: the pest parse tree → the checked policy model.
//!
//! Every independent mistake is collected (unknown names, duplicate clauses, missing lines, bad
//! times), so a quality officer fixes a file in one round. Nothing after this module sees pest.

mod alert;
mod calendars;
mod common;
mod conditions;
mod deadline;
mod every;
mod include;
mod limits;
mod measure;
mod notify;
mod obligation;
mod record;
mod register;
mod repeat;
mod sample;
mod schema;
mod target;
mod window;

use super::diagnostics::PolicyDiagnostic;
use super::grammar::Rule;
use super::lint::{ClauseFacts, Facts};
use super::schema::Schema;
use crate::calendar::{Calendar, HolidaySchedule};
use crate::policy::*;
use chrono::Duration;
use chrono_tz::Tz;
pub(crate) use common::unescape;
use miette::NamedSource;
use pest::iterators::Pair;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use window::WindowParts;

/// The conventional event types of EVENTS.md. Others must be declared with `events ...`, so a
/// typo such as `resovled` is caught instead of silently never matching.
pub const CONVENTIONAL_EVENTS: &[&str] = &[
    "opened",
    "acknowledged",
    "contacted",
    "dispatched",
    "accepted",
    "arrived",
    "progress",
    "status",
    "updated",
    "escalated",
    "resolved",
    "revisited",
    "spot_checked",
    "rated",
    "notified",
    "reopened",
    "closed",
    "patrolled",
    "inspected",
    "maintained",
    "cleaned",
    "drilled",
];

/// The default zone of policies and calendars.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

pub(crate) struct Lowerer<'a> {
    source: Arc<NamedSource<String>>,
    base_dir: Option<&'a Path>,
    pub(crate) errors: Vec<PolicyDiagnostic>,
    zone: Tz,
    events: BTreeSet<String>,
    schedules: HashMap<String, HolidaySchedule>,
    /// Holiday schedules whose include failed (and said so): naming one is no error of its own.
    failed_schedules: std::collections::HashSet<String>,
    /// Alerts declared with a `from` or `until` that was refused (and said so): a `during`
    /// naming one is no error of its own.
    failed_alerts: std::collections::HashSet<String>,
    calendars: Vec<(String, Span, Arc<Calendar>)>,
    /// Name, name span and validity of every clause seen, for duplicate checks.
    headers: Vec<(String, Span, Effective)>,
    /// How many of `calendars` come from the context policy of a snippet: a snippet may
    /// redefine them (the REPL's what-if on a calendar) without a duplicate error.
    context_calendars: usize,
    /// Names of context calendars the snippet redefined.
    pub(crate) replaced_calendars: Vec<String>,
    /// Calendars declared with errors of their own: naming them is not a second error.
    broken_calendars: Vec<String>,
    /// The attribute schema: a shared one passed by the loader, extended by the policy's own
    /// `attributes` blocks.
    pub(crate) schema: Schema,
    /// The attributes the policy's own `attributes` blocks declared so far: of cases (`None`)
    /// or of an event type. A second declaration in any of its blocks is an error.
    own_attributes: BTreeSet<(Option<String>, String)>,
    /// The event whose filter is being lowered (`None`: a case condition).
    filter_event: Option<String>,
    /// What the lints look at, with the spans the model does not keep.
    pub(crate) facts: Facts,
    /// Filters and unknown event attributes of the clause being lowered.
    pending: ClauseFacts,
    /// Registers included by the policy, by name (see [`crate::register`]).
    /// `None`: included, but the file could not be read (a lookup is then no second error).
    registers: HashMap<String, Option<Arc<crate::register::Register>>>,
    /// The columns of the register whose row filter is being lowered: its attributes are
    /// checked against them, not the schema.
    register_columns: Option<Vec<String>>,
    /// Alerts declared so far (those of the context policy first), for `during`.
    pub(crate) alerts: Vec<Alert>,
    /// Names and name spans of the alerts declared here, for duplicate checks.
    alert_spans: Vec<(String, Span)>,
    /// Obligations lowered so far (clause name, span of the target's name), resolved once
    /// every clause is lowered.
    obligations: Vec<(String, Span)>,
    /// The targets of the context policy of a snippet, which an obligation may name.
    context_targets: Vec<obligation::KnownTarget>,
    /// The clauses `ratio STATUS of CLAUSE` targets name, with the name's span: checked once
    /// every clause is lowered.
    verdict_targets: Vec<(String, Span)>,
    /// The deadline clauses of the context policy of a snippet, which such a target may name.
    context_deadlines: Vec<String>,
}

/// Names and spans of things already defined, for duplicate checks.
struct Seen(HashMap<String, Span>);
impl<'a> Lowerer<'a> {
    pub(crate) fn new(source: Arc<NamedSource<String>>, base_dir: Option<&'a Path>) -> Self {
        Lowerer {
            source,
            base_dir,
            errors: Vec::new(),
            zone: DEFAULT_ZONE,
            events: CONVENTIONAL_EVENTS.iter().map(|s| s.to_string()).collect(),
            schedules: HashMap::new(),
            failed_schedules: std::collections::HashSet::new(),
            failed_alerts: std::collections::HashSet::new(),
            calendars: Vec::new(),
            headers: Vec::new(),
            context_calendars: 0,
            replaced_calendars: Vec::new(),
            broken_calendars: Vec::new(),
            schema: Schema::default(),
            own_attributes: BTreeSet::new(),
            filter_event: None,
            facts: Facts::default(),
            pending: ClauseFacts::default(),
            registers: HashMap::new(),
            register_columns: None,
            alerts: Vec::new(),
            alert_spans: Vec::new(),
            obligations: Vec::new(),
            context_targets: Vec::new(),
            verdict_targets: Vec::new(),
            context_deadlines: Vec::new(),
        }
    }

    /// Starts from a shared schema (a schema file the loader read), which the policy's own
    /// `attributes` blocks extend.
    pub(crate) fn with_schema(mut self, schema: &Schema) -> Self {
        self.schema = schema.clone();
        self
    }

    /// Seeds the lowerer with an existing policy's zone and calendars, so a snippet (in the REPL)
    /// can name them.
    pub(crate) fn with_context(mut self, policy: &Policy, extra_events: &[String]) -> Self {
        self.zone = policy.zone;
        for cal in &policy.calendars {
            self.calendars
                .push((cal.name.clone(), Span::default(), Arc::clone(cal)));
        }
        self.context_calendars = self.calendars.len();
        self.alerts = policy.alerts.clone();
        self.context_targets = policy
            .clauses
            .iter()
            .filter_map(obligation::KnownTarget::of)
            .collect();
        self.context_deadlines = policy
            .clauses
            .iter()
            .filter(|c| matches!(c.body, ClauseBody::Deadline(_)))
            .map(|c| c.name.clone())
            .collect();
        self.events.extend(extra_events.iter().cloned());
        self
    }

    /// The calendars known after lowering: those of the context (redefined ones replaced in
    /// place) followed by new ones, in declaration order.
    pub(crate) fn calendars(&self) -> Vec<Arc<Calendar>> {
        self.calendars
            .iter()
            .map(|(_, _, c)| Arc::clone(c))
            .collect()
    }

    /// Lowers a whole `file`.
    pub(crate) fn policy(&mut self, file: Pair<'_, Rule>) -> Option<Policy> {
        let policy = file.into_inner().find(|p| p.as_rule() == Rule::policy)?;
        let mut inner = policy.into_inner();
        inner.next(); // k_policy
        let name = self.string(inner.next()?);
        let declarations: Vec<Pair<'_, Rule>> = inner.collect();
        let clauses = self.declarations(declarations);
        Some(Policy {
            name,
            zone: self.zone,
            calendars: self
                .calendars
                .iter()
                .map(|(_, _, c)| Arc::clone(c))
                .collect(),
            clauses,
            alerts: self.alerts.clone(),
        })
    }

    /// Lowers declarations in dependency order: zone, events, includes, calendars, clauses, so a
    /// clause may name a calendar declared below it.
    pub(crate) fn declarations(&mut self, declarations: Vec<Pair<'_, Rule>>) -> Vec<Clause> {
        let by_rule = |rule: Rule| {
            declarations
                .iter()
                .filter(move |p| p.as_rule() == rule)
                .cloned()
        };
        let zones: Vec<_> = by_rule(Rule::zone_decl).collect();
        for (i, z) in zones.iter().enumerate() {
            if i > 0 {
                self.err(
                    "pledge::policy::duplicate_zone",
                    Self::span(z),
                    "the policy names its zone twice",
                    "second zone",
                )
                .set_help("keep one `zone` line");
            }
            if let Some(tz) = self.zone_decl(z.clone()) {
                self.zone = tz;
            }
        }
        for e in by_rule(Rule::events_decl) {
            for n in e.into_inner().filter(|p| p.as_rule() == Rule::name) {
                self.events.insert(n.as_str().to_string());
            }
        }
        for inc in by_rule(Rule::include_decl) {
            self.include(inc);
        }
        for inc in by_rule(Rule::include_register) {
            self.include_register(inc);
        }
        for block in by_rule(Rule::attributes_decl) {
            self.attributes(block);
        }
        for allow in by_rule(Rule::allow_item) {
            let names = self.allow_names(allow);
            self.facts.allows.extend(names);
        }
        let mut seen_cal = Seen(
            self.calendars[self.context_calendars..]
                .iter()
                .map(|(n, s, _)| (n.clone(), *s))
                .collect(),
        );
        for cal in by_rule(Rule::calendar_decl) {
            self.calendar(cal, &mut seen_cal);
        }
        self.facts.calendars = self.calendars[self.context_calendars..]
            .iter()
            .map(|(n, s, _)| (n.clone(), *s))
            .collect();
        for a in by_rule(Rule::alert_decl) {
            self.alert_decl(a);
        }
        let mut clauses: Vec<Clause> = Vec::new();
        for c in by_rule(Rule::clause) {
            if let Some(clause) = self.clause(c) {
                clauses.push(clause);
            }
        }
        self.check_duplicate_clauses();
        self.resolve_obligations(&mut clauses);
        self.resolve_verdict_targets(&clauses);
        clauses
    }

    /// Two clauses may share a name only as versions with disjoint `effective` ranges. Checked on
    /// the headers of all clauses, including those with errors of their own.
    fn check_duplicate_clauses(&mut self) {
        let headers = std::mem::take(&mut self.headers);
        for (i, (name, span, effective)) in headers.iter().enumerate() {
            if let Some((_, first, _)) = headers[..i]
                .iter()
                .find(|(n, _, e)| n == name && overlaps(e, effective))
            {
                self.err(
                    "pledge::clause::duplicate_name",
                    *span,
                    format!("clause `{name}` is defined twice"),
                    "defined again here",
                )
                .set_help(
                    "rename one of them, or give both `effective` date ranges that do not overlap",
                );
                if let Some(last) = self.errors.last_mut() {
                    last.labels.push((*first, "first defined here".into()));
                }
            }
        }
    }

    fn zone_decl(&mut self, pair: Pair<'_, Rule>) -> Option<Tz> {
        let s = pair.into_inner().find(|p| p.as_rule() == Rule::string)?;
        let span = Self::span(&s);
        let text = self.string(s);
        match text.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                let near = crate::syntax::closest(
                    &text,
                    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()),
                );
                self.err(
                    "pledge::zone::unknown",
                    span,
                    format!("unknown time zone `{text}`"),
                    "not an IANA zone",
                )
                .set_help(match near {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => "use an IANA zone name such as `Asia/Shanghai` or `Europe/Berlin`"
                        .to_string(),
                });
                None
            }
        }
    }

    fn clause(&mut self, pair: Pair<'_, Rule>) -> Option<Clause> {
        let span = Self::span(&pair);
        let mut inner = pair.into_inner();
        let kind_pair = inner.next()?;
        let kind = kind_pair.as_str().to_string();
        let name = inner.next()?.as_str().to_string();
        let mut title = None;
        let mut items: Vec<Pair<'_, Rule>> = Vec::new();
        for p in inner {
            if p.as_rule() == Rule::string && title.is_none() && items.is_empty() {
                title = Some(self.string(p));
            } else {
                items.push(p);
            }
        }
        let mut clause = ClauseParts::default();
        self.pending = ClauseFacts::default();
        for item in items {
            let rule = item.as_rule();
            let item_span = Self::span(&item);
            if let Some(first) = clause.seen.insert(rule, item_span) {
                if rule != Rule::stage_item && !record::is_record_line(rule) {
                    self.err(
                        "pledge::clause::duplicate_line",
                        item_span,
                        format!("clause `{name}` has two {} lines", item_word(rule)),
                        "second one",
                    )
                    .set_help(if rule == Rule::until_item {
                        "keep one; to stop at the first of several events write `until a or b`"
                    } else {
                        "keep one of them"
                    });
                    if let Some(last) = self.errors.last_mut() {
                        last.labels.push((first, "first one".into()));
                    }
                    continue;
                }
            }
            match rule {
                Rule::allow_item => {
                    let names = self.allow_names(item);
                    self.pending.allows = names;
                }
                Rule::cite_item => {
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::row_id => clause.cite.row = Some(p.as_str().to_string()),
                            Rule::plain_row_id => {
                                let id = p.as_str().to_string();
                                self.err(
                                    "pledge::clause::row_id",
                                    Self::span(&p),
                                    format!("`{id}` is not a catalogue row id"),
                                    "this id",
                                )
                                .set_help(
                                    "a row id names a row of the clause catalogue: words of \
                                     letters and digits joined by `-`, like \
                                     `s000-complaint-contact-1h`",
                                );
                            }
                            Rule::string => clause.cite.text = Some(self.string(p)),
                            _ => {}
                        }
                    }
                }
                Rule::effective_item => {
                    for part in item.into_inner() {
                        let dates: Vec<_> = part
                            .clone()
                            .into_inner()
                            .filter(|p| p.as_rule() == Rule::date)
                            .collect();
                        match part.as_rule() {
                            Rule::effective_range => {
                                clause.effective.from = dates.first().and_then(|d| self.date(d));
                                clause.effective.until = dates.get(1).and_then(|d| self.date(d));
                            }
                            Rule::effective_before => {
                                clause.effective.until = dates.first().and_then(|d| self.date(d));
                            }
                            _ => {}
                        }
                    }
                    if let (Some(a), Some(b)) = (clause.effective.from, clause.effective.until) {
                        if b <= a {
                            self.err("pledge::clause::empty_effective", item_span, "the clause is never effective", "`until` is not after `from`")
                                .set_help("write `effective FROM..UNTIL` with UNTIL after FROM (UNTIL is exclusive)");
                        }
                    }
                }
                Rule::when_item => {
                    if let Some(c) = item.into_inner().find(|p| p.as_rule() == Rule::condition) {
                        clause.when = self.condition(c, 0);
                    }
                }
                Rule::from_item => {
                    clause.from = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::until_item => {
                    clause.until = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::within_limit | Rule::same_day_limit | Rule::by_limit => {
                    clause.limit = self.limit(item);
                    clause.limit_span = Some(item_span);
                }
                Rule::group_item => {
                    clause.group_by = item
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| p.as_str().to_string())
                        .collect()
                }
                Rule::pause_item | Rule::stage_item => self.deadline_line(item, &mut clause),
                Rule::channels_item
                | Rule::audience_item
                | Rule::coverage_item
                | Rule::first_item
                | Rule::lead_item => self.notify_line(item, &mut clause),
                Rule::having_item
                | Rule::sample_ratio_item
                | Rule::evidence_item
                | Rule::lag_item => self.sample_line(item, item_span, &mut clause),
                Rule::target_ratio_item | Rule::bound_item => self.target_line(item, &mut clause),
                Rule::measure_item | Rule::measure_bound_item | Rule::change_item => {
                    self.measure_line(item, item_span, &mut clause)
                }
                Rule::repeat_item | Rule::then_item => {
                    self.repeat_line(item, item_span, &mut clause)
                }
                Rule::quota_item | Rule::duty_item => self.every_line(item, item_span, &mut clause),
                Rule::window_item => self.window_line(item, &mut clause),
                Rule::during_item | Rule::alert_quota_item | Rule::cover_item => {
                    self.alert_line(item, item_span, &mut clause)
                }
                r if record::is_record_line(r) => self.record_line(item, &mut clause),
                Rule::obligation_item => self.obligation_line(item, &mut clause),
                _ => {}
            }
        }
        for (rule, item_span) in &clause.seen {
            if !allowed(&kind, *rule) {
                self.err(
                    "pledge::clause::misplaced_line",
                    *item_span,
                    format!("a `{kind}` clause has no {} line", item_word(*rule)),
                    "not allowed here",
                )
                .set_help(format!("a `{kind}` clause takes: {}", allowed_words(&kind)));
            }
        }
        self.headers.push((
            name.clone(),
            name_span(span, &name, self.source.inner()),
            clause.effective.clone(),
        ));
        let body = match kind.as_str() {
            "deadline" => self.deadline_body(&name, span, &mut clause)?,
            "notify" => self.notify_body(&name, span, &mut clause)?,
            "sample" => self.sample_body(&name, span, &mut clause)?,
            "target" => self.target_body(&name, span, &mut clause)?,
            "repeat" => self.repeat_body(&name, span, &mut clause)?,
            "every" => self.every_body(&name, span, &mut clause)?,
            "window" => self.window_body(&name, span, &mut clause)?,
            "record" => self.record_body(&name, span, &mut clause)?,
            other => {
                self.err(
                    "pledge::clause::unsupported_kind",
                    Self::span(&kind_pair),
                    format!("`{other}` is not a clause kind"),
                    "unknown kind",
                );
                return None;
            }
        };
        let mut facts = std::mem::take(&mut self.pending);
        facts.name_span = name_span(span, &name, self.source.inner());
        facts.lines = clause.seen.clone();
        self.facts.clauses.push(facts);
        Some(Clause {
            name,
            title,
            cite: clause.cite,
            applies: clause.when.unwrap_or(Condition::Always),
            effective: clause.effective,
            body,
            span,
        })
    }

    /// Reports that a clause lacks a line, unless it has one whose value was refused (and
    /// reported) already: `ratio 200%` is one mistake, not also a missing `ratio` line.
    fn missing(
        &mut self,
        seen: &HashMap<Rule, Span>,
        (name, span): (&str, Span),
        kind: &str,
        what: &str,
        help: &str,
    ) {
        let lines: &[Rule] = match what {
            "channels" => &[Rule::channels_item, Rule::audience_item, Rule::first_item],
            "ratio" => &[Rule::sample_ratio_item, Rule::target_ratio_item],
            "having" => &[Rule::having_item],
            "bound" => &[
                Rule::bound_item,
                Rule::measure_bound_item,
                Rule::change_item,
            ],
            "same" => &[Rule::repeat_item],
            "then" => &[Rule::then_item],
            "duty" => &[
                Rule::quota_item,
                Rule::duty_item,
                Rule::cover_item,
                Rule::alert_quota_item,
            ],
            "record" => &[
                Rule::value_item,
                Rule::fields_item,
                Rule::steps_item,
                Rule::order_item,
                Rule::count_item,
                Rule::warranty_item,
                Rule::gap_item,
                Rule::followed_item,
                Rule::before_item,
            ],
            _ => &[Rule::window_item],
        };
        if lines.iter().any(|rule| seen.contains_key(rule)) {
            return;
        }
        let code = match what {
            "channels" => "pledge::clause::missing_channels",
            "ratio" => "pledge::clause::missing_ratio",
            "having" => "pledge::clause::missing_population",
            "bound" => "pledge::clause::missing_bound",
            "same" => "pledge::clause::missing_repeat",
            "then" => "pledge::clause::missing_action",
            "duty" => "pledge::clause::missing_duty",
            "record" => "pledge::clause::missing_record",
            _ => "pledge::clause::missing_window",
        };
        let ns = name_span(span, name, self.source.inner());
        self.err(
            code,
            ns,
            format!("{kind} `{name}` has no `{what}` line"),
            format!("this {kind}"),
        )
        .set_help(help);
    }
}

#[derive(Default)]
pub(crate) struct ClauseParts {
    seen: HashMap<Rule, Span>,
    cite: Citation,
    effective: Effective,
    when: Option<Condition>,
    from: Option<Trigger>,
    until: Option<Trigger>,
    limit: Option<Limit>,
    limit_span: Option<Span>,
    pause: Option<Pause>,
    stages: Vec<Stage>,
    channels: Option<Required>,
    audiences: Option<Required>,
    coverage: Option<u32>,
    first: Option<(Trigger, Vec<String>)>,
    having: Option<Trigger>,
    sample_ratio: Option<(u32, String, PeriodUnit)>,
    evidence: Option<Trigger>,
    lag: Option<Duration>,
    group_by: Vec<String>,
    target_ratio: Option<(Measure, PeriodUnit)>,
    bound: Option<(bool, u32)>,
    repeat: Option<(Vec<String>, u32, Duration)>,
    then: Option<Stage>,
    duty: Option<(Trigger, DutyRule)>,
    window: Option<WindowParts>,
    lead: Option<LeadTime>,
    measure: Option<measure::MeasureParts>,
    measure_bound: Option<(bool, measure::Amount, Span)>,
    change: Option<(bool, i32)>,
    record: Vec<RecordItem>,
    /// `during ALERT`: the alert's name and the line's span.
    during: Option<(String, Span)>,
    /// The span of a `... per alert` line.
    per_alert: Option<Span>,
    /// `require EVENT within D after TARGET missed`, with the span of the target's name.
    obligation: Option<(Obligation, Span)>,
}

fn item_word(rule: Rule) -> &'static str {
    match rule {
        Rule::stage_item => "stage (`at`/`after`)",
        Rule::channels_item => "`channels`",
        Rule::audience_item => "`audience`",
        Rule::coverage_item => "`coverage`",
        Rule::first_item => "`first`",
        Rule::lead_item => "lead time (`at least ... before`)",
        Rule::having_item => "`having`",
        Rule::sample_ratio_item | Rule::target_ratio_item => "`ratio`",
        Rule::evidence_item => "`evidence`",
        Rule::lag_item => "`lag`",
        Rule::group_item => "`group by`",
        Rule::bound_item => "`at least`/`at most`",
        Rule::repeat_item => "`same ... times within`",
        Rule::then_item => "`then`",
        Rule::quota_item | Rule::duty_item => "duty (`every`/`at least ... per`)",
        Rule::window_item => "`only`",
        Rule::cite_item => "`cite`",
        Rule::allow_item => "`allow`",
        Rule::effective_item => "`effective`",
        Rule::when_item => "`when`",
        Rule::from_item => "`from`",
        Rule::until_item => "`until`",
        Rule::within_limit => "`within`",
        Rule::same_day_limit => "`same day`",
        Rule::by_limit => "`by`",
        Rule::pause_item => "`pause`",
        Rule::measure_item => "`measure`",
        Rule::measure_bound_item => "`at least`/`at most`",
        Rule::change_item => "`change`",
        Rule::fields_item => "`has`",
        Rule::value_item => "`EVENT has ATTR in [...]`",
        Rule::steps_item => "`steps`",
        Rule::order_item => "`only after`",
        Rule::count_item => "`at least N`",
        Rule::warranty_item => "`no ... within ... after`",
        Rule::gap_item => "`at most ... apart`",
        Rule::followed_item => "`followed by`",
        Rule::before_item => "`... before ATTR`",
        Rule::during_item => "`during`",
        Rule::alert_quota_item | Rule::cover_item => "duty (`every`/`at least ... per`)",
        Rule::obligation_item => "`require ... after ... missed`",
        _ => "duplicate",
    }
}

/// Which lines each clause kind accepts.
fn allowed(kind: &str, rule: Rule) -> bool {
    use Rule::*;
    let common = matches!(rule, cite_item | allow_item | effective_item | when_item);
    common
        || match kind {
            "deadline" => matches!(
                rule,
                from_item
                    | until_item
                    | within_limit
                    | same_day_limit
                    | by_limit
                    | pause_item
                    | stage_item
            ),
            "notify" => matches!(
                rule,
                from_item
                    | within_limit
                    | same_day_limit
                    | by_limit
                    | channels_item
                    | audience_item
                    | coverage_item
                    | first_item
                    | lead_item
            ),
            "sample" => matches!(
                rule,
                having_item | sample_ratio_item | evidence_item | lag_item | group_item
            ),
            "target" => matches!(
                rule,
                target_ratio_item
                    | bound_item
                    | group_item
                    | measure_item
                    | measure_bound_item
                    | change_item
                    | obligation_item
            ),
            "repeat" => matches!(rule, repeat_item | then_item),
            "every" => matches!(
                rule,
                from_item
                    | until_item
                    | quota_item
                    | duty_item
                    | during_item
                    | alert_quota_item
                    | cover_item
            ),
            "window" => matches!(rule, window_item),
            "record" => record::is_record_line(rule),
            _ => false,
        }
}

fn allowed_words(kind: &str) -> &'static str {
    match kind {
        "deadline" => "`cite`, `allow`, `effective`, `when`, `from`, `until`, a limit (`within`, `same day`, `by`), `pause`, stages (`at`, `after`)",
        "notify" => "`cite`, `allow`, `effective`, `when`, `from`, a limit, `channels`, `audience`, `coverage`, `first`, a lead time (`at least 15 days before starts_at`)",
        "sample" => "`cite`, `allow`, `effective`, `when`, `having`, `ratio`, `evidence`, `lag`, `group by`",
        "target" => "`cite`, `allow`, `effective`, `when`, `ratio` or `measure`, `at least`/`at most`, `change`, `group by`, or `require EVENT within D after TARGET missed`",
        "repeat" => "`cite`, `allow`, `effective`, `when`, `same`, `then`",
        "every" => "`cite`, `allow`, `effective`, `when`, `from`, `until`, a duty (`event every 2 hours`, `event at least 1 per month`, `event at least 1 per alert` or `covered from START until END`), `during ALERT`",
        "record" => "`cite`, `allow`, `effective`, `when`, and items: `EVENT has a, b`, `EVENT has ATTR in [...]`, `steps A, B, C`, `B only after A`, `EVENT at least N [distinct by] [after A]`, `no EVENT within D after A`, `A followed by B [within D]`, `EVENT before ATTR`, `EVENT at most D apart`",
        _ => "`cite`, `allow`, `effective`, `when`, `event only HH:MM-HH:MM` or `event only MM-DD..MM-DD`",
    }
}

fn overlaps(a: &Effective, b: &Effective) -> bool {
    let a_before_b = matches!((a.until, b.from), (Some(u), Some(f)) if u <= f);
    let b_before_a = matches!((b.until, a.from), (Some(u), Some(f)) if u <= f);
    !(a_before_b || b_before_a)
}

/// The span of a clause's name inside the clause span, for precise labels.
fn name_span(clause: Span, name: &str, source: &str) -> Span {
    let text = source.get(clause.start..clause.end).unwrap_or("");
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    // The name is the first whole word equal to it after the keyword (a clause `a` must not
    // underline the `a` of `deadline`).
    let found = text.match_indices(name).map(|(i, _)| i).find(|&i| {
        i > 0
            && !text[..i].chars().next_back().is_some_and(ident)
            && !text[i + name.len()..].chars().next().is_some_and(ident)
    });
    match found {
        Some(i) => Span {
            start: clause.start + i,
            end: clause.start + i + name.len(),
        },
        None => clause,
    }
}
