"""Business hours: when the clock of a service-level target runs.

A :class:`Calendar` is the days of the week and the hours of a working day in the business time zone, less the
public holidays of a country (the ``holidays`` library). :func:`add` moves a time forward by working minutes (a
first response due "4 business hours" after a case opened at 16:30 on a Friday falls on Monday); :func:`between`
counts the working minutes between two times. Days are walked in local time and each day's window is converted to
UTC on its own, so a day on which clocks change has the hours its wall clock shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cherish.config import DAYS, check_holiday_country, holidays_of, parse_business_hours

LONGEST = 800  # days to look ahead for enough working time (two years, with room for a long list of holidays)


@dataclass(frozen=True)
class Calendar:
    """Working time: ``days`` of the week (0 = Monday) from ``opens`` to ``closes`` in ``zone``, not on the
    public holidays of ``country`` (none when empty) nor on the ``closed`` dates. ``always``: the clock never stops
    (24/7 targets)."""

    zone: ZoneInfo = ZoneInfo("UTC")
    days: frozenset[int] = frozenset(range(5))
    opens: time = time(9)
    closes: time = time(17)
    country: str = ""
    closed: frozenset[date] = field(default_factory=frozenset)
    always: bool = False

    @classmethod
    def of(cls, zone: ZoneInfo, hours: str, country: str = "", *, always: bool = False) -> Calendar:
        days, opens, closes = parse_business_hours(hours)
        return cls(zone, days, opens, closes, check_holiday_country(country) if country else "", always=always)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.days or day in self.closed:
            return False
        return not self.country or day not in holidays_of(self.country, (day.year,))

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working hours in UTC, or None on a day off."""
        if not self.is_working_day(day):
            return None
        start = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
        return (start, end) if end > start else None

    def describe(self) -> str:
        if self.always:
            return "around the clock"
        days = sorted(self.days)
        shown = (f"{DAYS[days[0]]}-{DAYS[days[-1]]}" if days == list(range(days[0], days[-1] + 1))
                 else ",".join(DAYS[d] for d in days))
        where = f", not on {self.country} holidays" if self.country else ""
        return f"{shown} {self.opens:%H:%M}-{self.closes:%H:%M} {self.zone.key}{where}"


def add(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    """The time ``minutes`` of working time after ``start`` (aware)."""
    if minutes < 0:
        raise ValueError("working time is added forward only")
    start = start.astimezone(UTC)
    if calendar.always:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)  # (a window may begin the local day before)
    for _ in range(LONGEST):
        window = calendar.window(day)
        day += timedelta(days=1)
        if window is None or window[1] <= start:
            continue
        begin = max(window[0], start)
        if begin + left <= window[1]:
            return begin + left
        left -= window[1] - begin
    raise ValueError(f"the calendar ({calendar.describe()}) has too little working time in {LONGEST} days")


def between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Minutes of working time from ``start`` to ``end`` (negative when ``end`` comes first)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end < start:
        return -between(calendar, end, start)
    if calendar.always:
        return (end - start).total_seconds() / 60
    total = timedelta()
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    while day <= end.astimezone(calendar.zone).date():
        window = calendar.window(day)
        day += timedelta(days=1)
        if window is not None:
            total += max(timedelta(), min(window[1], end) - max(window[0], start))
    return total.total_seconds() / 60


def as_json(calendar: Calendar) -> dict[str, Any]:
    return {"hours": calendar.describe(), "time_zone": calendar.zone.key, "holidays": calendar.country or None,
            "always": calendar.always}
