"""Service-level arithmetic in business hours: properties over any start, any span, any time zone (hypothesis),
and the cases a person checks by hand: weekends, public holidays (the holidays library), clocks changing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cherish.cases import hours
from cherish.config import Settings

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]
CALENDARS = st.builds(
    lambda zone, hours_text, country: hours.Calendar.of(ZoneInfo(zone), hours_text, country),
    st.sampled_from(ZONES), st.sampled_from(["mon-fri 09:00-17:00", "mon-sat 08:30-20:00", "sun-thu 07:00-15:00",
                                             "mon 10:00-11:00"]),
    st.sampled_from(["", "US", "GB-ENG", "DE-BY"]))
STARTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
SPANS = st.integers(min_value=0, max_value=40 * 60)


def _working(calendar: hours.Calendar, moment: datetime) -> bool:
    for day in (moment.astimezone(calendar.zone).date() + timedelta(days=d) for d in (-1, 0)):
        window = calendar.window(day)
        if window and window[0] <= moment <= window[1]:
            return True
    return False


@settings(max_examples=150, deadline=None)
@given(CALENDARS, STARTS, SPANS)
def test_adding_working_minutes_counts_back_to_the_same_minutes(calendar, start, minutes):
    due = hours.add(calendar, start, minutes)
    assert due >= start
    assert hours.between(calendar, start, due) == pytest.approx(minutes, abs=1e-6)
    if minutes:
        assert _working(calendar, due)  # a target falls due in working time, never on a night or a holiday
        day = due.astimezone(calendar.zone).date()
        assert calendar.is_working_day(day) or calendar.is_working_day(day + timedelta(days=1))


@settings(max_examples=100, deadline=None)
@given(CALENDARS, STARTS, SPANS, SPANS)
def test_more_time_is_never_due_sooner_and_adding_in_two_steps_is_adding_once(calendar, start, a, b):
    first = hours.add(calendar, start, a)
    assert hours.add(calendar, start, a + b) >= first
    assert hours.add(calendar, first, b) == hours.add(calendar, start, a + b) or b == 0


def test_a_friday_afternoon_case_is_due_on_monday_and_holidays_are_skipped():
    new_york = ZoneInfo("America/New_York")
    calendar = hours.Calendar.of(new_york, "mon-fri 09:00-17:00", "US")
    friday = datetime(2026, 12, 4, 16, 30, tzinfo=new_york)
    assert hours.add(calendar, friday, 4 * 60) == datetime(2026, 12, 7, 12, 30, tzinfo=new_york)
    christmas_eve = datetime(2026, 12, 24, 15, 30, tzinfo=new_york)  # Christmas and the weekend lie between
    assert hours.add(calendar, christmas_eve, 4 * 60) == datetime(2026, 12, 28, 11, 30, tzinfo=new_york)
    saturday_night = datetime(2026, 12, 5, 23, 0, tzinfo=new_york)
    assert hours.add(calendar, saturday_night, 60) == datetime(2026, 12, 7, 10, 0, tzinfo=new_york)
    assert hours.between(calendar, friday, datetime(2026, 12, 7, 12, 30, tzinfo=new_york)) == 240
    plain = hours.Calendar.of(new_york, "mon-fri 09:00-17:00")  # without holidays, Christmas is a working day
    assert hours.add(plain, christmas_eve, 4 * 60) == datetime(2026, 12, 25, 11, 30, tzinfo=new_york)


def test_the_working_day_follows_the_wall_clock_when_clocks_change():
    london = ZoneInfo("Europe/London")
    calendar = hours.Calendar.of(london, "mon-sun 09:00-17:00")
    # 2026-03-29: clocks go forward overnight; the working day is still 09:00-17:00 on the wall
    saturday = datetime(2026, 3, 28, 16, 0, tzinfo=london)
    due = hours.add(calendar, saturday, 120)
    assert due.astimezone(london).time() == time(10, 0) and due.astimezone(london).date() == date(2026, 3, 29)
    assert due - saturday == timedelta(hours=17)  # 16:00 GMT to 10:00 BST: seventeen hours of real time


def test_around_the_clock_counts_every_minute():
    calendar = hours.Calendar(ZoneInfo("UTC"), always=True)
    start = datetime(2026, 12, 25, 23, 0, tzinfo=UTC)
    assert hours.add(calendar, start, 90) == start + timedelta(minutes=90)


@pytest.mark.parametrize(("text", "problem"), [
    ("weekdays 9-5", "are not business hours"), ("fri-mon 18:00-09:00", "closes after it opens"),
    ("mon-fri 09:00-25:00", "00:00 to 23:59"), ("xyz-fri 09:00-17:00", "days are written")])
def test_business_hours_that_make_no_sense_are_refused_with_the_reason(text, problem):
    with pytest.raises(ValueError, match=problem):
        Settings(business_hours=text, _env_file=None)  # type: ignore[call-arg]


def test_an_unknown_holiday_country_is_refused_and_a_known_one_kept_in_upper_case():
    with pytest.raises(ValueError, match="no holidays are known"):
        Settings(holidays="Atlantis", _env_file=None)  # type: ignore[call-arg]
    assert Settings(holidays="de-by", _env_file=None).holidays == "DE-BY"  # type: ignore[call-arg]
