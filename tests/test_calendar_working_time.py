"""Deadline arithmetic on the default calendar (2026): working days, office time elapsed, office hours later."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gateway.calendar import Calendar, CalendarError
from tests.fixtures.calendar import vn

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("instant", "deadline"),
    [
        (vn(2026, 3, 2, 9, 15), vn(2026, 3, 3, 17, 0)),  # effective Mon: late after Tue's close
        (vn(2026, 3, 2, 17, 0), vn(2026, 3, 4, 17, 0)),  # effective Tue 07:00, so Wed
        (vn(2026, 2, 13, 10, 0), vn(2026, 2, 23, 17, 0)),  # Friday before Tết: the next working day is after it
        (vn(2026, 2, 13, 17, 30), vn(2026, 2, 24, 17, 0)),  # effective Mon 23 Feb
        (vn(2026, 8, 21, 10, 0), vn(2026, 8, 22, 17, 0)),  # the make-up Saturday counts
        (vn(2026, 8, 28, 10, 0), vn(2026, 9, 3, 17, 0)),  # over the weekend, the swap and National Day
    ],
)
def test_same_day_or_next_working_day(default_calendar: Calendar, instant: datetime, deadline: datetime) -> None:
    assert default_calendar.same_day_or_next_working_day(instant) == deadline


@pytest.mark.parametrize(
    ("instant", "n", "expected"),
    [
        (vn(2026, 3, 2, 9, 15), 0, vn(2026, 3, 2, 17, 0)),
        (vn(2026, 3, 2, 9, 15), 3, vn(2026, 3, 5, 17, 0)),
        (vn(2026, 3, 2, 9, 15), 5, vn(2026, 3, 9, 17, 0)),
        (vn(2026, 4, 29, 10, 0), 2, vn(2026, 5, 5, 17, 0)),
        (vn(2026, 4, 29, 18, 30), 0, vn(2026, 5, 4, 17, 0)),
    ],
)
def test_add_working_days(default_calendar: Calendar, instant: datetime, n: int, expected: datetime) -> None:
    assert default_calendar.add_working_days(instant, n) == expected


def test_negative_working_days_are_refused(default_calendar: Calendar) -> None:
    with pytest.raises(CalendarError, match="number of working days = -1: expected 0 or more"):
        default_calendar.add_working_days(vn(2026, 3, 2, 9), -1)


@pytest.mark.parametrize(
    ("a", "b", "elapsed"),
    [
        (vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 14, 0), 3 * H),  # lunch does not count
        (vn(2026, 3, 2, 11, 30), vn(2026, 3, 2, 12, 30), timedelta(0)),
        (vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 8, 0), 2 * H),  # over the weekend and Tết
        (vn(2026, 3, 2, 7, 0), vn(2026, 3, 9, 7, 0), 40 * H),  # one ordinary week: 40 hours
        (vn(2026, 8, 17, 7, 0), vn(2026, 8, 24, 7, 0), 48 * H),  # the week with the make-up Saturday
        (vn(2026, 3, 2, 14, 0), vn(2026, 3, 2, 9, 0), -3 * H),
    ],
)
def test_office_time_between(default_calendar: Calendar, a: datetime, b: datetime, elapsed: timedelta) -> None:
    assert default_calendar.office_time_between(a, b) == elapsed


def test_office_time_in_2026_matches_the_working_days(default_calendar: Calendar) -> None:
    total = default_calendar.office_time_between(vn(2026, 1, 1), vn(2027, 1, 1))
    weekdays = sum(1 for d in range(365) if (datetime(2026, 1, 1) + timedelta(days=d)).weekday() < 5)
    days_off_on_weekdays = 13  # 1 Jan, 16-20 Feb, 27 Apr, 30 Apr, 1 May, 31 Aug, 1-2 Sep, 24 Nov
    assert total == (weekdays - days_off_on_weekdays + 1) * 8 * H  # + the make-up Saturday


@pytest.mark.parametrize(
    ("instant", "duration", "expected"),
    [
        (vn(2026, 3, 2, 10, 30), 1 * H, vn(2026, 3, 2, 13, 30)),
        (vn(2026, 3, 2, 13, 0), 4 * H, vn(2026, 3, 2, 17, 0)),  # reached exactly at closing
        (vn(2026, 2, 13, 16, 0), 2 * H, vn(2026, 2, 23, 8, 0)),
        (vn(2026, 2, 13, 18, 0), 30 * timedelta(minutes=1), vn(2026, 2, 23, 7, 30)),
        (vn(2026, 3, 7, 10, 0), timedelta(0), vn(2026, 3, 7, 10, 0)),
        (vn(2026, 3, 2, 7, 0), 40 * H, vn(2026, 3, 6, 17, 0)),
    ],
)
def test_office_hours_later(default_calendar: Calendar, instant, duration, expected) -> None:
    result = default_calendar.office_hours_later(instant, duration)
    assert result == expected
    assert default_calendar.office_time_between(instant, result) == duration


def test_negative_office_time_is_refused(default_calendar: Calendar) -> None:
    with pytest.raises(CalendarError, match="expected zero or more"):
        default_calendar.office_hours_later(vn(2026, 3, 2, 9), -H)
