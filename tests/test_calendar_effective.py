"""Art. 11: every worked case of shared/reference/calendar.md, and the edges of a half-open period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.calendar import Calendar, CalendarError, NoOfficeHoursError
from tests.fixtures.calendar import VN, vn

WORKED_CASES = [
    (vn(2026, 3, 2, 9, 15), vn(2026, 3, 2, 9, 15), "inside office hours"),
    (vn(2026, 3, 2, 6, 15), vn(2026, 3, 2, 7, 0), "before opening"),
    (vn(2026, 3, 2, 11, 30), vn(2026, 3, 2, 13, 0), "lunch break"),
    (vn(2026, 3, 2, 17, 0, 0), vn(2026, 3, 3, 7, 0), "closing time is already outside"),
    (vn(2026, 2, 13, 16, 59, 59), vn(2026, 2, 13, 16, 59, 59), "last second inside"),
    (vn(2026, 2, 13, 17, 30), vn(2026, 2, 23, 7, 0), "weekend, then Tết 16-20 Feb, then weekend"),
    (vn(2026, 4, 29, 18, 30), vn(2026, 5, 4, 7, 0), "30 Apr and 1 May holidays, then weekend"),
    (vn(2026, 8, 21, 17, 30), vn(2026, 8, 22, 7, 0), "Saturday 22 Aug is a make-up working day"),
    (vn(2026, 8, 28, 18, 0), vn(2026, 9, 3, 7, 0), "weekend, 31 Aug swap, 1-2 Sep holidays"),
    (vn(2026, 4, 25, 10, 0), vn(2026, 4, 28, 7, 0), "weekend, 26 Apr holiday on Sunday, 27 Apr compensatory"),
    (vn(2026, 11, 24, 10, 0), vn(2026, 11, 25, 7, 0), "24 Nov holiday (from 2026)"),
    (datetime(2026, 3, 2, 2, 30, tzinfo=UTC), vn(2026, 3, 2, 9, 30), "UTC input is converted first"),
]


@pytest.mark.parametrize(("instant", "expected", "why"), WORKED_CASES, ids=[c[2] for c in WORKED_CASES])
def test_worked_case(default_calendar: Calendar, instant: datetime, expected: datetime, why: str) -> None:
    result = default_calendar.effective(instant)
    assert result.effective_local == expected
    assert result.effective_local.tzinfo == VN
    assert result.effective_local.utcoffset() == timedelta(hours=7)
    assert result.technical_utc == instant
    assert result.technical_utc.tzinfo == UTC
    assert result.shifted == (expected != instant)
    assert result.calendar_version == default_calendar.version.id


def test_period_is_half_open_to_the_millisecond(default_calendar: Calendar) -> None:
    last = vn(2026, 3, 2, 16, 59, 59, 999000)
    assert default_calendar.effective(last).effective_local == last
    assert not default_calendar.effective(last).shifted
    assert default_calendar.effective(vn(2026, 3, 2, 17)).effective_local == vn(2026, 3, 3, 7)
    assert default_calendar.effective(vn(2026, 3, 2, 11)).effective_local == vn(2026, 3, 2, 13)
    assert default_calendar.effective(vn(2026, 3, 2, 7)).effective_local == vn(2026, 3, 2, 7)
    assert default_calendar.effective(vn(2026, 3, 2, 10, 59, 59, 999999)).shifted is False


def test_other_offsets_are_converted_to_vietnam_time(default_calendar: Calendar) -> None:
    paris_evening = datetime(2026, 3, 2, 3, 30, tzinfo=timezone(timedelta(hours=1)))  # 09:30 in Vietnam
    result = default_calendar.effective(paris_evening)
    assert result.effective_local == vn(2026, 3, 2, 9, 30)
    assert result.technical_utc == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def test_naive_instant_is_refused(default_calendar: Calendar) -> None:
    with pytest.raises(CalendarError, match="has no time zone; give an aware datetime"):
        default_calendar.effective(datetime(2026, 3, 2, 9, 15))


def test_record_has_the_three_ledger_columns(default_calendar: Calendar) -> None:
    record = default_calendar.effective(vn(2026, 2, 13, 17, 30, 0, 123456)).as_record()
    assert record == {
        "technical_utc": "2026-02-13T10:30:00.123Z",
        "effective_local": "2026-02-23T07:00:00.000+07:00",
        "shifted": True,
        "calendar_version": default_calendar.version.id,
    }


@pytest.mark.parametrize(
    ("instant", "reason"),
    [
        (vn(2026, 3, 2, 9, 15), "inside office hours"),
        (vn(2026, 3, 2, 6, 15), "before opening"),
        (vn(2026, 3, 2, 11, 30), "break between office periods (lunch)"),
        (vn(2026, 3, 2, 17, 0), "after closing"),
        (vn(2026, 3, 7, 10, 0), "not a working weekday"),
        (vn(2026, 11, 24, 10, 0), "day off: Ngày Văn hóa Việt Nam"),
    ],
)
def test_explain(default_calendar: Calendar, instant: datetime, reason: str) -> None:
    assert default_calendar.explain(instant) == reason


def test_no_working_day_is_a_configuration_error(make_calendar) -> None:
    calendar = make_calendar({"profiles": {"standard": {"weekdays": []}}})
    # Only the make-up Saturday is left as a working day; after it nothing opens for more than a year.
    assert calendar.effective(vn(2026, 3, 2, 9)).effective_local == vn(2026, 8, 22, 7)
    with pytest.raises(NoOfficeHoursError, match="no office hours in the 366 days from 2026-08-23"):
        calendar.effective(vn(2026, 8, 23, 9))
