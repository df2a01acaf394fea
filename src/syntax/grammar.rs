//! The pest parser generated from `grammar/pledge.pest`. Nothing outside `syntax` sees its types.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/pledge.pest"]
pub(crate) struct PolicyParser;

/// How a grammar rule is named to a user: never `Rule::xyz`, always prose.
pub(crate) fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::file | Rule::policy | Rule::k_policy => "`policy \"name\" { ... }`",
        Rule::zone_decl | Rule::k_zone => "`zone \"Asia/Shanghai\"`",
        Rule::events_decl | Rule::k_events => "`events name, ...`",
        Rule::include_decl | Rule::k_include => "`include calendar \"file.toml\" as name`",
        Rule::calendar_decl | Rule::k_calendar => "a calendar (`calendar name { ... }`)",
        Rule::hours_item | Rule::k_hours => "`hours mon..fri 09:00-18:00`",
        Rule::day_set | Rule::day_range | Rule::weekday => {
            "a weekday (`mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`)"
        }
        Rule::time_range => "a time range (`09:00-18:00`)",
        Rule::holidays_item | Rule::k_holidays => "`holidays name`",
        Rule::holiday_item | Rule::k_holiday => "`holiday 2026-05-06`",
        Rule::workday_item | Rule::k_workday => "`workday`",
        Rule::workday_length_item | Rule::k_length => "`workday length 8 hours`",
        Rule::date_range => "a date or date range (`2026-05-01..2026-05-05`)",
        Rule::effective_range | Rule::effective_before => {
            "a date range (`2026-01-01..2026-07-01`, `2026-07-01..` or `..2026-07-01`)"
        }
        Rule::clause | Rule::clause_kind | Rule::clause_alone => {
            "a clause (`deadline`, `notify`, `sample`, `target`, `repeat`, `every`, `window`, `record`)"
        }
        Rule::snippet => "clauses or calendars",
        Rule::condition_alone => "a condition",
        Rule::cite_item | Rule::k_cite => "`cite row-id \"section\"`",
        Rule::effective_item | Rule::k_effective => "`effective 2026-01-01..`",
        Rule::when_item | Rule::k_when => "`when condition`",
        Rule::from_item | Rule::k_from => "`from event`",
        Rule::until_item | Rule::k_until => "`until event`",
        Rule::within_limit | Rule::k_within => "`within 8 hours`",
        Rule::same_day_limit | Rule::k_same => "`same day`",
        Rule::by_limit | Rule::k_by => "`by 08:00 next day`",
        Rule::k_next => "`next`",
        Rule::k_day => "`day`",
        Rule::on_calendar | Rule::k_on => "`on calendar`",
        Rule::workdays | Rule::k_workdays => "a number of workdays (`2 workdays`)",
        Rule::business_time | Rule::k_business => "business time (`4 business hours`)",
        Rule::pause_item | Rule::k_pause => "`pause while status in [...]`",
        Rule::k_while => "`while`",
        Rule::k_status => "`status`",
        Rule::stage_item | Rule::k_at | Rule::k_after => {
            "a stage (`at 80% warn role`, `after 48 hours escalate role`)"
        }
        Rule::action => "an action (`warn`, `escalate`, `notify`)",
        Rule::via | Rule::k_via => "`via [channel, ...]`",
        Rule::trigger | Rule::matcher => "an event type (`opened`, `resolved`, ...)",
        Rule::condition | Rule::conjunction | Rule::negation => "a condition",
        Rule::has_test | Rule::k_has => "`has attribute`",
        Rule::in_test | Rule::not_in_test | Rule::k_in => "`attribute in [...]`",
        Rule::comparison => "a comparison (`attribute == value`)",
        Rule::case_comparison => {
            "a comparison with a case attribute (`channel == case.preferred_channel`)"
        }
        Rule::case_ref | Rule::k_case => "a case attribute (`case.preferred_channel`)",
        Rule::include_register | Rule::k_register => "`include register \"staff.csv\" as staff`",
        Rule::k_for => "`for 15 days`",
        Rule::register_test => "a register lookup (`by in staff(document == \"x\")`)",
        Rule::truthy => "an attribute",
        Rule::cmp_op => "a comparison operator (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::list => "a list (`[\"a\", \"b\"]`)",
        Rule::name_list => "a name or a list of names (`[sms, app_push]`)",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::duration | Rule::duration_part => {
            "a duration (`30 seconds`, `15 minutes`, `8 hours`, `3 days`)"
        }
        Rule::time_unit => "a time unit (`seconds`, `minutes`, `hours`, `days`, `weeks`)",
        Rule::percent => "a percentage (`80%`)",
        Rule::number => "a number",
        Rule::clock_time => "a time of day (`08:00`)",
        Rule::date => "a date (`2026-05-01`)",
        Rule::row_id | Rule::plain_row_id => "a catalogue row id (`s000-complaint-contact-1h`)",
        Rule::name => "a name",
        Rule::reserved => "a reserved word",
        Rule::string | Rule::string_inner => "a string (`\"...\"`)",
        Rule::escape => "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\u{..}`)",
        Rule::declaration => "a declaration (`zone`, `events`, `include`, `calendar`) or a clause",
        Rule::calendar_item => {
            "a calendar line (`hours`, `holidays`, `holiday`, `workday`, `zone`)"
        }
        Rule::clause_item => {
            "a clause line (`cite`, `when`, `from`, `until`, `within`, `pause`, `at`, `after`, ...)"
        }
        Rule::limit_item => "a limit (`within`, `same day`, `by HH:MM next day`)",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::literal => "a value (string, number, `true`, `false`, `null`)",
        Rule::atom => "a condition",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::channels_item | Rule::k_channels => "`channels all [sms, app_push]`",
        Rule::audience_item | Rule::k_audience => "`audience all [ambulance_120]`",
        Rule::quantifier => "`all` or `any`",
        Rule::coverage_item | Rule::k_coverage => "`coverage at least 95%`",
        Rule::k_least | Rule::k_most => "`least` or `most`",
        Rule::first_item | Rule::k_first => "`first contacted via phone`",
        Rule::lead_item | Rule::k_before => "`at least 15 days before starts_at`",
        Rule::season_range => "a window of the year (`04-01..05-31`)",
        Rule::month_day => "a day of the year (`MM-DD`)",
        Rule::sample_ratio_item => "`ratio 10% by role per month`",
        Rule::target_ratio_item => "`ratio event among event per month`",
        Rule::k_ratio => "`ratio`",
        Rule::k_per => "`per`",
        Rule::period_unit => "a period (`day`, `week`, `month`, `quarter`, `year`)",
        Rule::evidence_item | Rule::k_evidence => "`evidence spot_checked`",
        Rule::lag_item | Rule::k_lag => "`lag 7 days`",
        Rule::group_item | Rule::k_group => "`group by attribute`",
        Rule::verdict_word => "a verdict (`met`, `breached`, `pending`)",
        Rule::k_of => "`of`",
        Rule::k_among => "`among`",
        Rule::bound_item => "`at least 90%` or `at most 2%`",
        Rule::repeat_item => "`same unit, topic 2 times within 30 days`",
        Rule::k_times => "`times`",
        Rule::then_item | Rule::k_then => "`then escalate role`",
        Rule::quota_item => "`event at least 1 per quarter`",
        Rule::duty_item | Rule::k_every => "`event every 2 hours`",
        Rule::window_item | Rule::k_only => "`event only 00:00-05:00`",
        Rule::window_each | Rule::k_each => "`each day` or `each year`",
        Rule::having_item | Rule::k_having => "`having event`",
        Rule::k_as => "`as`",
        Rule::attributes_decl | Rule::k_attributes | Rule::schema_file => {
            "an attribute schema (`attributes { kind: \"complaint\" | \"repair\" }`)"
        }
        Rule::attribute_decl => "an attribute (`project: string`)",
        Rule::attribute_type | Rule::type_name => {
            "a type (`string`, `number`, `bool`, `time`, `any`) or values (`\"a\" | \"b\"`)"
        }
        Rule::event_attributes | Rule::k_event => "`event name { attribute: type }`",
        Rule::allow_item | Rule::k_allow => "`allow lint_name`",
        Rule::k_or => "`or`",
        Rule::k_and => "`and`",
        Rule::k_not => "`not`",
        Rule::measure_item | Rule::k_measure => "`measure mean of resolved - opened per month`",
        Rule::statistic | Rule::k_count | Rule::k_mean | Rule::k_median | Rule::k_percentile => {
            "a statistic (`count`, `mean`, `median`, `percentile 90`)"
        }
        Rule::measure_bound_item => "`at most 24 hours` or `at least 12`",
        Rule::change_item | Rule::k_change => "`change at most -35% against previous year`",
        Rule::fields_item => "`EVENT has attr, ...`",
        Rule::value_item => "`EVENT has attr in [...]`",
        Rule::steps_item | Rule::k_steps => "`steps A, B, C`",
        Rule::order_item => "`B only after A`",
        Rule::count_item | Rule::k_distinct => "`EVENT at least N [distinct by] [after A]`",
        Rule::warranty_item | Rule::k_no => "`no EVENT within 90 days after A`",
        Rule::gap_item | Rule::k_apart => "`EVENT at most 15 minutes apart`",
        Rule::measure_each => "`each ATTR in [...]`",
        Rule::followed_item | Rule::k_followed => "`A followed by B [within D]`",
        Rule::before_item => "`EVENT before ATTR`",
        Rule::k_against => "`against`",
        Rule::k_previous | Rule::k_year => "`previous year`",
        Rule::alert_decl | Rule::k_alert => {
            "an alert (`alert typhoon { when ... from raised until lifted }`)"
        }
        Rule::during_item | Rule::k_during => "`during ALERT`",
        Rule::alert_quota_item => "`event at least 1 per alert`",
        Rule::cover_item | Rule::k_covered => "`covered from shift_started until shift_ended`",
        Rule::obligation_item | Rule::k_require | Rule::k_missed => {
            "`require EVENT within D after TARGET missed`"
        }
    }
}
