//! The worked examples of SEMANTICS.md ("Limits and calendars", "Fine print") on real calendars,
//! the shipped State Council schedules, and daylight-saving changes.
//!
//! Instants are written and compared as local wall-clock text with the weekday
//! (`2025-03-05 Wed 15:00`), so that each assertion reads like the rule it pins.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use pledge::calendar::*;

const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn period(text: &str) -> Period {
    text.parse().expect("test period")
}

/// A local wall-clock time of a zone; test inputs never fall in a gap.
fn at(zone: Tz, text: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test time");
    zone.from_local_datetime(&local)
        .earliest()
        .expect("test time exists")
        .with_timezone(&Utc)
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

/// How a quality officer reads an instant on the calendar's wall clock.
fn show(calendar: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&calendar.zone)
        .format("%Y-%m-%d %a %H:%M")
        .to_string()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn time(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").expect("test time")
}

/// 09:00–18:00, Monday to Friday, no holidays.
fn office() -> Calendar {
    Calendar::new(CalendarSpec::new("office", SHANGHAI).weekdays(&[period("09:00-18:00")]))
        .expect("valid calendar")
}

/// 08:30–12:00 and 13:30–18:00, Monday to Friday, with the State Council schedules.
fn property_office() -> Calendar {
    let schedule = builtin("cn").expect("shipped schedule");
    Calendar::new(
        CalendarSpec::new("property-office", SHANGHAI)
            .weekdays(&[period("08:30-12:00"), period("13:30-18:00")])
            .with_schedule(&schedule),
    )
    .expect("valid calendar")
}

// --- N workdays -------------------------------------------------------------------------------

#[test]
fn two_workdays_from_monday_afternoon_is_wednesday_same_time() {
    let calendar = office();
    assert_eq!(calendar.workday_length, Duration::hours(9));
    let start = at(SHANGHAI, "2025-03-03 15:00");
    let due = calendar.add_working(start, calendar.workday_amount(2));
    assert_eq!(show(&calendar, due), "2025-03-05 Wed 15:00");
}

#[test]
fn two_workdays_from_friday_evening_over_a_monday_holiday_is_wednesday() {
    let mut spec = CalendarSpec::new("office", SHANGHAI).weekdays(&[period("09:00-18:00")]);
    spec.holidays.insert(date("2025-03-10"));
    let calendar = Calendar::new(spec).expect("valid calendar");
    let start = at(SHANGHAI, "2025-03-07 17:00");
    let due = calendar.add_working(start, calendar.workday_amount(2));
    assert_eq!(show(&calendar, due), "2025-03-12 Wed 17:00");
}

#[test]
fn one_workday_from_opening_is_due_at_closing_the_same_day() {
    let calendar = office();
    let start = at(SHANGHAI, "2025-03-03 09:00");
    let due = calendar.add_working(start, calendar.workday_amount(1));
    assert_eq!(show(&calendar, due), "2025-03-03 Mon 18:00");
    assert_eq!(calendar.working_between(start, due), Duration::hours(9));
}

#[test]
fn closing_time_is_outside_working_hours() {
    let calendar = office();
    let closing = at(SHANGHAI, "2025-03-03 18:00");
    assert!(!calendar.is_working_moment(closing));
    assert!(calendar.is_working_moment(closing - Duration::seconds(1)));
    assert!(calendar.is_working_moment(at(SHANGHAI, "2025-03-03 09:00")));
    assert_eq!(
        show(&calendar, calendar.next_working_moment(closing)),
        "2025-03-04 Tue 09:00"
    );
    assert_eq!(
        show(&calendar, calendar.add_working(closing, Duration::hours(1))),
        "2025-03-04 Tue 10:00"
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(closing, calendar.workday_amount(1))
        ),
        "2025-03-04 Tue 18:00"
    );
}

#[test]
fn a_clock_started_outside_working_hours_begins_at_the_next_working_moment() {
    let calendar = office();
    let saturday = at(SHANGHAI, "2025-03-08 10:00");
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday, Duration::hours(2))
        ),
        "2025-03-10 Mon 11:00"
    );
    let early = at(SHANGHAI, "2025-03-03 07:00");
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(early, calendar.workday_amount(1))
        ),
        "2025-03-03 Mon 18:00"
    );
    assert_eq!(
        show(&calendar, calendar.next_working_moment(early)),
        "2025-03-03 Mon 09:00"
    );
    let working = at(SHANGHAI, "2025-03-03 10:15");
    assert_eq!(calendar.next_working_moment(working), working);
}

#[test]
fn zero_amount_is_due_at_the_start_even_outside_hours() {
    let calendar = office();
    let night = at(SHANGHAI, "2025-03-03 23:00");
    assert_eq!(calendar.add_working(night, Duration::zero()), night);
    assert_eq!(calendar.add_working(night, Duration::hours(-3)), night);
}

#[test]
fn large_amounts_skip_whole_days() {
    let calendar = office();
    let start = at(SHANGHAI, "2025-03-03 09:00");
    // 520 workdays are 104 weeks of five: due the Friday 103 weeks after the first one.
    let due = calendar.add_working(start, calendar.workday_amount(520));
    assert_eq!(show(&calendar, due), "2027-02-26 Fri 18:00");
    assert_eq!(
        calendar.working_between(start, due),
        Duration::hours(9 * 520)
    );
}

// --- Lunch breaks, make-up days and the Spring Festival ----------------------------------------

#[test]
fn the_lunch_break_is_not_working_time() {
    let calendar = property_office();
    assert_eq!(calendar.workday_length, Duration::hours(8));
    let monday = |t: &str| at(SHANGHAI, &format!("2025-03-03 {t}"));
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(monday("10:00"), Duration::hours(4))
        ),
        "2025-03-03 Mon 15:30"
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(monday("12:30"), Duration::hours(1))
        ),
        "2025-03-03 Mon 14:30"
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(monday("08:30"), calendar.workday_amount(1))
        ),
        "2025-03-03 Mon 18:00"
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(monday("11:00"), calendar.workday_amount(1))
        ),
        "2025-03-04 Tue 11:00"
    );
    // Reaching the lunch break exactly is due at 12:00, not at 13:30.
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(monday("11:00"), Duration::hours(1))
        ),
        "2025-03-03 Mon 12:00"
    );
    assert!(!calendar.is_working_moment(monday("12:00")));
    assert!(!calendar.is_working_moment(monday("13:00")));
    assert_eq!(
        calendar.working_between(monday("08:00"), monday("20:00")),
        Duration::hours(8)
    );
}

#[test]
fn a_makeup_saturday_is_worked_with_ordinary_hours() {
    let calendar = property_office();
    let makeup = date("2026-02-14");
    assert_eq!(makeup.format("%a").to_string(), "Sat");
    assert!(calendar.is_working_date(makeup));
    assert_eq!(
        calendar.hours_on(makeup),
        &[period("08:30-12:00"), period("13:30-18:00")]
    );
    assert!(
        !calendar.is_working_date(date("2026-02-07")),
        "an ordinary Saturday"
    );
    let friday = at(SHANGHAI, "2026-02-13 17:00");
    assert_eq!(
        show(&calendar, calendar.add_working(friday, Duration::hours(2))),
        "2026-02-14 Sat 09:30"
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(friday, calendar.workday_amount(1))
        ),
        "2026-02-14 Sat 17:00"
    );
}

#[test]
fn the_2026_spring_festival_week_is_off_between_two_makeup_saturdays() {
    let calendar = property_office();
    let mut day = date("2026-02-15");
    while day <= date("2026-02-23") {
        assert!(!calendar.is_working_date(day), "{day} is off");
        day = day.succ_opt().expect("next date");
    }
    assert!(calendar.is_working_date(date("2026-02-24")));
    assert!(
        calendar.is_working_date(date("2026-02-28")),
        "make-up Saturday"
    );
    assert!(
        !calendar.is_working_date(date("2026-03-01")),
        "an ordinary Sunday"
    );

    let saturday_evening = at(SHANGHAI, "2026-02-14 17:00");
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday_evening, calendar.workday_amount(1))
        ),
        "2026-02-24 Tue 17:00"
    );
    assert_eq!(
        calendar.working_between(
            at(SHANGHAI, "2026-02-14 18:00"),
            at(SHANGHAI, "2026-02-24 08:30")
        ),
        Duration::zero()
    );
    // Two workdays from Thursday before the break: Friday, the make-up Saturday, done.
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(at(SHANGHAI, "2026-02-12 18:00"), calendar.workday_amount(2))
        ),
        "2026-02-14 Sat 18:00"
    );
}

// --- Same day (当天) --------------------------------------------------------------------------

#[test]
fn same_day_is_the_end_of_the_working_day_the_clock_started_on() {
    let calendar = property_office();
    let end = |t: &str| show(&calendar, calendar.end_of_working_day(at(SHANGHAI, t)));
    assert_eq!(end("2025-03-03 10:00"), "2025-03-03 Mon 18:00");
    assert_eq!(
        end("2025-03-03 07:00"),
        "2025-03-03 Mon 18:00",
        "before opening"
    );
    assert_eq!(
        end("2025-03-03 12:30"),
        "2025-03-03 Mon 18:00",
        "lunch break"
    );
    assert_eq!(end("2025-03-03 17:59"), "2025-03-03 Mon 18:00");
}

#[test]
fn same_day_after_hours_or_on_a_day_off_is_the_next_working_day() {
    let calendar = property_office();
    let end = |t: &str| show(&calendar, calendar.end_of_working_day(at(SHANGHAI, t)));
    assert_eq!(
        end("2025-03-03 18:00"),
        "2025-03-04 Tue 18:00",
        "at closing time"
    );
    assert_eq!(
        end("2025-03-03 19:00"),
        "2025-03-04 Tue 18:00",
        "after hours"
    );
    assert_eq!(
        end("2025-03-07 20:00"),
        "2025-03-10 Mon 18:00",
        "friday evening"
    );
    assert_eq!(end("2025-03-08 10:00"), "2025-03-10 Mon 18:00", "saturday");
    assert_eq!(
        end("2026-02-14 19:00"),
        "2026-02-24 Tue 18:00",
        "spring festival"
    );
    assert_eq!(
        end("2026-10-01 09:00"),
        "2026-10-08 Thu 18:00",
        "national day"
    );
    assert_eq!(
        end("2026-10-10 10:00"),
        "2026-10-10 Sat 18:00",
        "make-up saturday"
    );
}

// --- By HH:MM next day (次日8:00前) -----------------------------------------------------------

#[test]
fn by_eight_next_day_is_the_first_eight_strictly_after_the_start() {
    let calendar = office();
    let eight = time("08:00");
    let due = |t: &str| show(&calendar, calendar.next_at(at(SHANGHAI, t), eight, false));
    assert_eq!(
        due("2025-03-03 23:50"),
        "2025-03-04 Tue 08:00",
        "late monday night"
    );
    assert_eq!(
        due("2025-03-04 00:30"),
        "2025-03-04 Tue 08:00",
        "not 31 hours later"
    );
    assert_eq!(
        due("2025-03-04 08:00"),
        "2025-03-05 Wed 08:00",
        "strictly after"
    );
    assert_eq!(due("2025-03-04 07:59"), "2025-03-04 Tue 08:00");
    assert_eq!(
        due("2026-01-31 23:00"),
        "2026-02-01 Sun 08:00",
        "across a month end"
    );
    assert_eq!(
        due("2025-12-31 23:00"),
        "2026-01-01 Thu 08:00",
        "across a year end"
    );
    assert_eq!(due("2024-02-28 23:00"), "2024-02-29 Thu 08:00", "leap day");
}

#[test]
fn by_eight_next_workday_skips_days_off_and_counts_makeup_days() {
    let calendar = property_office();
    let eight = time("08:00");
    let due = |t: &str| show(&calendar, calendar.next_at(at(SHANGHAI, t), eight, true));
    assert_eq!(due("2025-03-03 23:50"), "2025-03-04 Tue 08:00");
    assert_eq!(
        due("2026-01-31 23:00"),
        "2026-02-02 Mon 08:00",
        "over a weekend"
    );
    assert_eq!(
        due("2025-09-30 20:00"),
        "2025-10-09 Thu 08:00",
        "over national day"
    );
    assert_eq!(
        due("2026-02-13 20:00"),
        "2026-02-14 Sat 08:00",
        "to a make-up saturday"
    );
    assert_eq!(
        due("2026-02-14 20:00"),
        "2026-02-24 Tue 08:00",
        "over spring festival"
    );
    assert_eq!(
        due("2025-12-31 20:00"),
        "2026-01-04 Sun 08:00",
        "to a make-up sunday"
    );
}

// --- Daylight saving (Europe/Berlin, 2026-03-29 and 2026-10-25) -------------------------------

/// Monday to Friday 09:00–17:00, Sunday 01:00–04:00: the Sunday hours straddle both changes.
fn berlin_night_shift() -> Calendar {
    Calendar::new(
        CalendarSpec::new("berlin", BERLIN)
            .weekdays(&[period("09:00-17:00")])
            .hours(Weekday::Sun, &[period("01:00-04:00")]),
    )
    .expect("valid calendar")
}

/// Every day 00:00–24:00 but a (far away) holiday, so it is not the plain wall clock.
fn berlin_round_the_clock() -> Calendar {
    let mut spec = CalendarSpec::new("berlin-24", BERLIN);
    spec.week = std::array::from_fn(|_| vec![Period::all_day()]);
    spec.holidays.insert(date("2030-12-25"));
    Calendar::new(spec).expect("valid calendar")
}

#[test]
fn spring_forward_shortens_working_hours_in_real_time() {
    let calendar = berlin_night_shift();
    let sunday = date("2026-03-29");
    // 01:00 CET to 04:00 CEST: two real hours.
    assert_eq!(
        calendar.working_intervals(sunday),
        vec![(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z"))]
    );
    let saturday = at(BERLIN, "2026-03-28 12:00");
    assert_eq!(
        calendar.working_between(saturday, at(BERLIN, "2026-03-29 12:00")),
        Duration::hours(2)
    );
    assert_eq!(
        calendar.add_working(saturday, Duration::hours(1)),
        utc("2026-03-29T01:00:00Z"),
        "one hour after 01:00 CET is 03:00 CEST"
    );
    assert_eq!(
        calendar.add_working(saturday, Duration::hours(2)),
        utc("2026-03-29T02:00:00Z")
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday, Duration::hours(3))
        ),
        "2026-03-30 Mon 10:00"
    );

    let round = berlin_round_the_clock();
    let midnight = at(BERLIN, "2026-03-29 00:00");
    let next_midnight = at(BERLIN, "2026-03-30 00:00");
    assert_eq!(
        round.working_between(midnight, next_midnight),
        Duration::hours(23)
    );
    assert_eq!(
        show(&round, round.add_working(midnight, round.workday_amount(1))),
        "2026-03-30 Mon 01:00"
    );
    assert_eq!(round.end_of_working_day(midnight), next_midnight);
}

#[test]
fn fall_back_lengthens_working_hours_in_real_time() {
    let calendar = berlin_night_shift();
    let sunday = date("2026-10-25");
    // 01:00 CEST to 04:00 CET: four real hours.
    assert_eq!(
        calendar.working_intervals(sunday),
        vec![(utc("2026-10-24T23:00:00Z"), utc("2026-10-25T03:00:00Z"))]
    );
    let saturday = at(BERLIN, "2026-10-24 12:00");
    assert_eq!(
        calendar.working_between(saturday, at(BERLIN, "2026-10-25 12:00")),
        Duration::hours(4)
    );
    // Both 02:30s of the repeated hour are working time.
    assert!(calendar.is_working_moment(utc("2026-10-25T00:30:00Z")));
    assert!(calendar.is_working_moment(utc("2026-10-25T01:30:00Z")));
    assert_eq!(
        calendar.add_working(saturday, Duration::hours(3)),
        utc("2026-10-25T02:00:00Z")
    );
    assert_eq!(
        calendar.add_working(saturday, Duration::hours(4)),
        utc("2026-10-25T03:00:00Z")
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday, Duration::hours(5))
        ),
        "2026-10-26 Mon 10:00"
    );

    let round = berlin_round_the_clock();
    let midnight = at(BERLIN, "2026-10-25 00:00");
    let next_midnight = at(BERLIN, "2026-10-26 00:00");
    assert_eq!(
        round.working_between(midnight, next_midnight),
        Duration::hours(25)
    );
    assert_eq!(
        show(&round, round.add_working(midnight, round.workday_amount(1))),
        "2026-10-25 Sun 23:00"
    );
}

#[test]
fn periods_that_overlap_after_a_gap_are_counted_once() {
    // 02:45 does not exist on 2026-03-29 and becomes 03:45 CEST, past the next period's start.
    let calendar = Calendar::new(
        CalendarSpec::new("berlin-split", BERLIN)
            .weekdays(&[period("09:00-17:00")])
            .hours(
                Weekday::Sun,
                &[period("01:00-02:45"), period("03:00-04:00")],
            ),
    )
    .expect("valid calendar");
    assert_eq!(
        calendar.working_intervals(date("2026-03-29")),
        vec![(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z"))]
    );
    let saturday = at(BERLIN, "2026-03-28 12:00");
    assert_eq!(
        calendar.working_between(saturday, at(BERLIN, "2026-03-29 12:00")),
        Duration::hours(2)
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday, Duration::minutes(150))
        ),
        "2026-03-30 Mon 09:30"
    );
}

#[test]
fn a_date_the_zone_skipped_has_no_working_time() {
    // Samoa moved across the date line: 2011-12-30 never happened in Apia.
    let apia = chrono_tz::Pacific::Apia;
    let mut spec = CalendarSpec::new("apia", apia);
    spec.week = std::array::from_fn(|_| vec![period("09:00-17:00")]);
    let calendar = Calendar::new(spec).expect("valid calendar");
    assert!(calendar.working_intervals(date("2011-12-30")).is_empty());
    let thursday = at(apia, "2011-12-29 00:00");
    let saturday = at(apia, "2011-12-31 23:00");
    assert_eq!(
        calendar.working_between(thursday, saturday),
        Duration::hours(16)
    );
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(thursday, Duration::hours(9))
        ),
        "2011-12-31 Sat 10:00"
    );
}

#[test]
fn next_at_moves_a_time_in_the_gap_forward_and_takes_the_first_of_a_repeated_one() {
    let calendar = berlin_night_shift();
    let half_two = time("02:30");
    // 02:30 does not exist on 2026-03-29: it becomes 03:30 CEST.
    let night = at(BERLIN, "2026-03-29 00:30");
    assert_eq!(
        calendar.next_at(night, half_two, false),
        utc("2026-03-29T01:30:00Z")
    );
    assert_eq!(
        calendar.next_at(utc("2026-03-29T01:30:00Z"), half_two, false),
        utc("2026-03-30T00:30:00Z")
    );
    // 02:30 happens twice on 2026-10-25: the first one counts, and only once.
    let evening = at(BERLIN, "2026-10-24 23:00");
    assert_eq!(
        calendar.next_at(evening, half_two, false),
        utc("2026-10-25T00:30:00Z")
    );
    assert_eq!(
        calendar.next_at(utc("2026-10-25T00:30:00Z"), half_two, false),
        utc("2026-10-26T01:30:00Z")
    );
}

#[test]
fn the_wall_clock_counts_plain_utc_time() {
    let always = Calendar::always(BERLIN);
    assert!(always.is_always());
    assert!(!berlin_round_the_clock().is_always());
    assert!(!office().is_always());
    assert_eq!(always.workday_amount(3), Duration::hours(72));
    let midnight = at(BERLIN, "2026-03-29 00:00");
    assert_eq!(
        always.add_working(midnight, Duration::days(1)),
        midnight + Duration::hours(24)
    );
    assert_eq!(
        always.working_between(midnight, midnight + Duration::hours(30)),
        Duration::hours(30)
    );
    assert!(always.is_working_moment(midnight));
    assert_eq!(always.next_working_moment(midnight), midnight);
    assert!(always.is_working_date(date("2026-12-25")));
}

// --- Coverage and construction ----------------------------------------------------------------

#[test]
fn coverage_follows_the_holiday_data() {
    let calendar = property_office();
    assert_eq!(calendar.covered_years, Some((2025, 2026)));
    assert!(calendar.covers(date("2025-01-01")));
    assert!(calendar.covers(date("2026-12-31")));
    assert!(!calendar.covers(date("2027-01-01")));
    assert!(!calendar.covers(date("2024-12-31")));
    assert!(
        office().covers(date("2099-06-01")),
        "no holiday data, nothing to warn about"
    );
}

#[test]
fn invalid_calendars_are_rejected_with_stable_codes() {
    let base = || CalendarSpec::new("x", SHANGHAI).weekdays(&[period("09:00-18:00")]);

    let overlapping = base().hours(
        Weekday::Tue,
        &[period("09:00-12:00"), period("11:30-18:00")],
    );
    let err = Calendar::new(overlapping).expect_err("overlap");
    assert_eq!(err.code(), "pledge::calendar::overlapping_hours");
    assert_eq!(
        err.to_string(),
        "working hours on Tuesday are empty, unsorted or overlapping"
    );

    let mut wednesday_makeup = base();
    wednesday_makeup.makeup_days.insert(date("2026-02-11"));
    let err = Calendar::new(wednesday_makeup).expect_err("weekday make-up");
    assert_eq!(err.code(), "pledge::calendar::makeup_not_weekend");
    assert_eq!(
        err.to_string(),
        "make-up working day 2026-02-11 is a Wednesday, not a Saturday or Sunday"
    );

    // Its help, as miette draws it under the message.
    let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
    assert_eq!(
        help.as_deref(),
        Some("a make-up working day (调休上班) is a weekend date; a weekday is already a working day")
    );

    let err = Calendar::new(CalendarSpec::new("x", SHANGHAI)).expect_err("no hours");
    assert_eq!(err.code(), "pledge::calendar::no_working_hours");
    assert!(miette::Diagnostic::help(&err).is_some_and(|h| h
        .to_string()
        .starts_with("give the hours of at least one weekday")));

    let short_friday = base().hours(Weekday::Fri, &[period("09:00-15:00")]);
    let err = Calendar::new(short_friday.clone()).expect_err("unequal");
    assert_eq!(err.code(), "pledge::calendar::unequal_workdays");
    let mut stated = short_friday;
    stated.workday_length = Some(Duration::hours(8));
    let calendar = Calendar::new(stated).expect("a stated workday length settles it");
    assert_eq!(calendar.workday_amount(2), Duration::hours(16));

    let mut zero = base();
    zero.workday_length = Some(Duration::zero());
    let err = Calendar::new(zero).expect_err("zero length");
    assert_eq!(err.code(), "pledge::calendar::bad_workday_length");

    let mut empty_makeup = base();
    empty_makeup.makeup_hours = Some(vec![]);
    let err = Calendar::new(empty_makeup).expect_err("empty make-up hours");
    assert_eq!(err.code(), "pledge::calendar::bad_makeup_hours");
}

#[test]
fn makeup_hours_default_to_the_first_weekday_with_hours_and_can_be_stated() {
    let mut spec = CalendarSpec::new("x", SHANGHAI)
        .hours(Weekday::Tue, &[period("10:00-19:00")])
        .hours(Weekday::Wed, &[period("10:00-19:00")]);
    spec.makeup_days.insert(date("2026-02-14"));
    let calendar = Calendar::new(spec.clone()).expect("valid");
    assert_eq!(calendar.makeup_hours, vec![period("10:00-19:00")]);
    spec.makeup_hours = Some(vec![period("09:00-12:00")]);
    let calendar = Calendar::new(spec).expect("valid");
    let saturday = at(SHANGHAI, "2026-02-14 08:00");
    assert_eq!(
        show(
            &calendar,
            calendar.add_working(saturday, Duration::hours(3))
        ),
        "2026-02-14 Sat 12:00"
    );
}

// --- Holiday files ----------------------------------------------------------------------------

const CN_2025: &str = include_str!("../calendars/cn-2025.toml");
const CN_2026: &str = include_str!("../calendars/cn-2026.toml");

fn dates(set: &std::collections::BTreeSet<NaiveDate>) -> Vec<String> {
    set.iter().map(|d| d.to_string()).collect()
}

#[test]
fn the_2025_schedule_parses_with_the_notice_dates() {
    let schedule = HolidaySchedule::parse(CN_2025).expect("shipped file parses");
    assert_eq!(schedule.name, "cn-2025");
    assert_eq!(schedule.years, (2025, 2025));
    assert!(schedule.source.contains("国办发明电〔2024〕12号"));
    assert_eq!(schedule.days_off.len(), 1 + 8 + 3 + 5 + 3 + 8);
    assert_eq!(
        dates(&schedule.makeup_days),
        [
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11"
        ]
    );
    for day in [
        "2025-01-01",
        "2025-01-28",
        "2025-02-04",
        "2025-06-02",
        "2025-10-08",
    ] {
        assert!(schedule.days_off.contains(&date(day)), "{day}");
    }
    assert!(!schedule.days_off.contains(&date("2025-02-05")));
    assert_eq!(schedule.labels[&date("2025-01-29")], "春节");
}

#[test]
fn the_2026_schedule_parses_with_the_notice_dates() {
    let schedule = HolidaySchedule::parse(CN_2026).expect("shipped file parses");
    assert_eq!(schedule.name, "cn-2026");
    assert_eq!(schedule.years, (2026, 2026));
    assert!(schedule.source.contains("国办发明电〔2025〕7号"));
    assert_eq!(schedule.days_off.len(), 3 + 9 + 3 + 5 + 3 + 3 + 7);
    assert_eq!(
        dates(&schedule.makeup_days),
        [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10"
        ]
    );
    for day in [
        "2026-01-03",
        "2026-02-15",
        "2026-02-23",
        "2026-06-19",
        "2026-09-27",
    ] {
        assert!(schedule.days_off.contains(&date(day)), "{day}");
    }
    assert_eq!(schedule.labels[&date("2026-02-28")], "春节调休");
}

#[test]
fn builtin_cn_merges_every_shipped_year() {
    let cn = builtin("cn").expect("cn");
    assert_eq!(cn.name, "cn");
    assert_eq!(cn.years, (2025, 2026));
    assert_eq!(cn.days_off.len(), 28 + 33);
    assert_eq!(cn.makeup_days.len(), 5 + 6);
    assert!(cn.source.contains("2024") && cn.source.contains("2025"));
    assert_eq!(builtin("cn-2026"), HolidaySchedule::parse(CN_2026).ok());
    assert_eq!(builtin("us"), None);

    let mut merged = builtin("cn-2025").expect("cn-2025");
    merged.merge(&builtin("cn-2026").expect("cn-2026"));
    assert_eq!(merged.days_off, cn.days_off);
    assert_eq!(merged.makeup_days, cn.makeup_days);
}

#[test]
fn a_makeup_day_on_a_wednesday_points_at_the_date() {
    let text = CN_2026.replace("date = 2026-02-28", "date = 2026-02-11");
    let err = HolidaySchedule::parse(&text).expect_err("wednesday make-up day");
    assert_eq!(err.code, "pledge::holidays::makeup_not_weekend");
    assert_eq!(
        err.message,
        "make-up working day 2026-02-11 is a Wednesday, not a Saturday or Sunday"
    );
    let span = err.span.expect("span");
    assert_eq!(&text[span.clone()], "2026-02-11");
    assert!(text[..span.start].ends_with("date = "));
}

#[test]
fn malformed_toml_is_a_syntax_error_with_a_span() {
    let text = "name = \"broken\"\nyears = [2026, 2026]\n[[holiday]\nfrom = 2026-01-01\n";
    let err = HolidaySchedule::parse(text).expect_err("broken toml");
    assert_eq!(err.code, "pledge::holidays::syntax");
    let span = err.span.expect("span");
    assert!(span.start >= text.find("[[holiday]").expect("table header"));
    assert!(span.start < text.find("from").expect("key"));
    assert!(!err.message.is_empty());
}

#[test]
fn a_range_that_runs_backwards_points_at_its_end() {
    let text = CN_2026.replace("to = 2026-02-23", "to = 2026-02-13");
    let err = HolidaySchedule::parse(&text).expect_err("backwards range");
    assert_eq!(err.code, "pledge::holidays::bad_range");
    assert_eq!(&text[err.span.expect("span")], "2026-02-13");
}

#[test]
fn errors_carry_their_codes_as_diagnostics() {
    use miette::Diagnostic;
    let err = Calendar::new(CalendarSpec::new("x", SHANGHAI)).expect_err("no hours");
    assert_eq!(
        Diagnostic::code(&err).map(|c| c.to_string()).as_deref(),
        Some("pledge::calendar::no_working_hours")
    );
    let err = HolidaySchedule::parse("name = 1\nyears = 2026\n").expect_err("wrong type");
    assert_eq!(err.code, "pledge::holidays::schema");
    assert_eq!(
        Diagnostic::code(&err).map(|c| c.to_string()).as_deref(),
        Some("pledge::holidays::schema")
    );
    assert_eq!(Diagnostic::labels(&err).map(|l| l.count()), Some(1));
}

/// `special_dates`, for explanations: weekends, named holidays (a weekend inside a holiday break
/// is named after it) and make-up working days, around the 2026 National Day holiday.
#[test]
fn special_dates_name_weekends_holidays_and_makeup_days() {
    let schedule = builtin("cn-2026").unwrap();
    let nine_to_six = Period::new(
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(18, 0, 0),
    );
    let cal = Calendar::new(
        CalendarSpec::new("office", chrono_tz::Asia::Shanghai)
            .weekdays(&[nine_to_six])
            .with_schedule(&schedule),
    )
    .unwrap()
    .with_labels(&schedule.labels);
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let got = cal.special_dates(d(9, 19), d(10, 11));
    let holiday = SpecialDate::Holiday(Some("国庆节".to_string()));
    assert_eq!(got[0], (d(9, 19), SpecialDate::Weekend));
    assert_eq!(
        got[1],
        (
            d(9, 20),
            SpecialDate::MakeupDay(Some("国庆节调休".to_string()))
        )
    );
    assert!(got.contains(&(d(9, 26), SpecialDate::Holiday(Some("中秋节".to_string())))));
    assert!(got.contains(&(d(10, 1), holiday.clone())));
    assert!(
        got.contains(&(d(10, 3), holiday.clone())),
        "a Saturday inside the break"
    );
    assert!(got.contains(&(
        d(10, 10),
        SpecialDate::MakeupDay(Some("国庆节调休".to_string()))
    )));
    assert!(got.contains(&(d(10, 11), SpecialDate::Weekend)));
    assert!(
        !got.iter().any(|(date, _)| *date == d(10, 8)),
        "an ordinary working day"
    );
}
