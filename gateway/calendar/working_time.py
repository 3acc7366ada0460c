"""Deadline arithmetic on office time: working days and office hours elapsed.

Semantics (documented in docs/calendar.md):
- a *working day* is a date with at least one office period for the schedule in question;
- ``add_working_days(t, n)`` is the close of office hours on the n-th working day after the day on which ``t``
  takes effect (n = 0: the close of that day itself);
- ``same_day_or_next_working_day(t)`` (Decree 30/2020: "same day, at the latest the next working day") is
  ``add_working_days(t, 1)``: a document effective on day D is late after the close of the next working day;
- ``office_time_between(a, b)`` sums the overlap of [a, b) with office periods (negative if b < a);
- ``office_hours_later(t, d)`` is the earliest instant u >= t with ``office_time_between(t, u) == d``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Protocol

from gateway.calendar.errors import CalendarError, NoOfficeHoursError

_ONE_DAY = timedelta(days=1)
Period = tuple[datetime, datetime]


class OfficePeriods(Protocol):
    """What the arithmetic needs from a calendar: periods in UTC, day by day."""

    search_days: int

    def utc(self, instant: datetime) -> datetime: ...

    def local_date(self, instant: datetime) -> date: ...

    def periods_on(self, day: date, organ_id: str | None = None) -> tuple[Period, ...]: ...

    def periods_from(self, instant: datetime, organ_id: str | None = None) -> Iterator[Period]: ...


def effective_day(calendar: OfficePeriods, instant: datetime, organ_id: str | None) -> date:
    start, _ = next(calendar.periods_from(instant, organ_id))
    return calendar.local_date(max(calendar.utc(instant), start))


def close_of_working_day(calendar: OfficePeriods, day: date, n: int, organ_id: str | None) -> datetime:
    """The end of the last period of the n-th working day after ``day`` (``day`` itself when n == 0)."""
    if n < 0:
        raise CalendarError(f"number of working days = {n}: expected 0 or more")
    current = day
    periods = calendar.periods_on(current, organ_id)
    for _ in range(n):
        for _ in range(calendar.search_days):
            current += _ONE_DAY
            periods = calendar.periods_on(current, organ_id)
            if periods:
                break
        else:
            raise NoOfficeHoursError(current - calendar.search_days * _ONE_DAY, calendar.search_days)
    if not periods:
        raise CalendarError(f"{day.isoformat()} is not a working day")
    return periods[-1][1]


def office_time_between(calendar: OfficePeriods, a: datetime, b: datetime, organ_id: str | None) -> timedelta:
    start, end = calendar.utc(a), calendar.utc(b)
    if end < start:
        return -office_time_between(calendar, b, a, organ_id)
    total = timedelta(0)
    day, last = calendar.local_date(start), calendar.local_date(end)
    while day <= last:
        for period_start, period_end in calendar.periods_on(day, organ_id):
            low, high = max(period_start, start), min(period_end, end)
            if high > low:
                total += high - low
        day += _ONE_DAY
    return total


def office_hours_later(
    calendar: OfficePeriods, instant: datetime, duration: timedelta, organ_id: str | None
) -> datetime:
    if duration < timedelta(0):
        raise CalendarError(f"office time = {duration}: expected zero or more")
    now = calendar.utc(instant)
    remaining = duration
    if not remaining:
        return now
    for period_start, period_end in calendar.periods_from(now, organ_id):
        low = max(period_start, now)
        available = period_end - low
        if remaining <= available:
            return low + remaining
        remaining -= available
    raise AssertionError("periods_from never ends")  # pragma: no cover
