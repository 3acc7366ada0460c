"""Working days: `holidays` VN, make-up Saturdays derived from its swap data, and the override file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from gateway.calendar import Calendar, OverrideFileError, load_overrides
from tests.fixtures.calendar import vn


@pytest.mark.parametrize(
    ("saturday", "day_off"),
    [
        (date(2026, 8, 22), date(2026, 8, 31)),
        (date(2025, 4, 26), date(2025, 5, 2)),
        (date(2024, 5, 4), date(2024, 4, 29)),
        (date(2014, 12, 27), date(2015, 1, 2)),  # the swap crosses New Year
    ],
)
def test_make_up_saturdays_are_working_days(default_calendar: Calendar, saturday: date, day_off: date) -> None:
    assert saturday.weekday() == 5
    special = default_calendar.special_day(saturday)
    assert special is not None
    assert (special.kind, special.source) == ("working_day", "holidays")
    assert day_off.strftime("%d/%m/%Y") in special.name
    assert len(default_calendar.periods_on(saturday)) == 2
    assert default_calendar.periods_on(day_off) == ()


def test_ordinary_saturday_and_tet_are_not_working_days(default_calendar: Calendar) -> None:
    assert default_calendar.periods_on(date(2026, 8, 29)) == ()
    for day in range(16, 21):
        assert default_calendar.periods_on(date(2026, 2, day)) == (), day
    assert default_calendar.periods_on(date(2026, 2, 23)) != ()


def test_year_listing_2026(default_calendar: Calendar) -> None:
    listed = {(s.day, s.kind) for s in default_calendar.days.year(2026)}
    days_off = {d for d, kind in listed if kind == "day_off"}
    assert {d for d, kind in listed if kind == "working_day"} == {date(2026, 8, 22)}
    expected_off = {date(2026, 1, 1), date(2026, 4, 26), date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)}
    expected_off |= {date(2026, 2, d) for d in range(16, 21)}
    expected_off |= {date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2), date(2026, 11, 24)}
    assert days_off == expected_off


OVERRIDES = """
[[day_off]]
date = "2026-12-31"
name = "Nghỉ thêm theo quyết định của tỉnh"

[[day_off]]
date = 2026-08-22
name = "Hủy làm bù"

[[working_day]]
date = "2026-11-24"
name = "Tỉnh làm việc ngày 24/11"

[[working_day]]
date = "2026-12-26"
name = "Làm bù cho 31/12"
"""


def test_override_file_adds_and_removes_days(make_calendar) -> None:
    calendar = make_calendar(overrides=OVERRIDES)
    assert calendar.periods_on(date(2026, 12, 31)) == ()  # a day off added on a Thursday
    assert calendar.periods_on(date(2026, 8, 22)) == ()  # the make-up Saturday removed
    assert len(calendar.periods_on(date(2026, 11, 24))) == 2  # a public holiday cancelled
    assert len(calendar.periods_on(date(2026, 12, 26))) == 2  # a Saturday added
    assert calendar.effective(vn(2026, 8, 21, 17, 30)).effective_local == vn(2026, 8, 24, 7)
    assert calendar.effective(vn(2026, 12, 30, 17, 30)).effective_local == vn(2027, 1, 4, 7)
    assert calendar.effective(vn(2026, 12, 25, 17, 30)).effective_local == vn(2026, 12, 26, 7)
    special = calendar.special_day(date(2026, 12, 31))
    assert special is not None
    assert (special.source, special.name) == ("override", "Nghỉ thêm theo quyết định của tỉnh")


def test_missing_override_file_means_no_overrides(tmp_path: Path) -> None:
    overrides = load_overrides(tmp_path / "absent.toml")
    assert overrides.entries == ()
    assert not overrides.present


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[day_off]]\ndate = "2026-13-01"\nname = "x"\n', "day_off[1].date = '2026-13-01': expected a date"),
        ('[[day_off]]\nname = "x"\n', "day_off[1].date: required field is missing"),
        (
            '[[working_day]]\ndate = "2026-01-03"\nname = "a"\n[[working_day]]\ndate = "2026-01-10"\n',
            "working_day[2].name = None: expected a non-empty text",
        ),
        ('[[day_off]]\ndate = "2026-12-31"\nname = "x"\nreason = "y"\n', "day_off[1].reason: unknown field"),
        ('[[holiday]]\ndate = "2026-12-31"\nname = "x"\n', "holiday: unknown table"),
        ('day_off = "2026-12-31"\n', "day_off: expected an array of tables"),
        (
            '[[day_off]]\ndate = 2026-12-31T10:00:00\nname = "x"\n',
            'day_off[1].date = 2026-12-31T10:00:00: expected a date such as "2026-12-31" (no time of day)',
        ),
        (
            '[[day_off]]\ndate = "2026-12-31"\nname = "x"\n[[working_day]]\ndate = "2026-12-31"\nname = "y"\n',
            "working_day[1].date = '2026-12-31': already listed as day_off[1]",
        ),
        ("[[day_off]\n", "invalid TOML"),
    ],
)
def test_invalid_override_file_names_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calendar-overrides.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OverrideFileError) as info:
        load_overrides(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_holiday_sets_are_cached_per_year(default_calendar: Calendar) -> None:
    day = date(2027, 1, 1)
    first = default_calendar.days.year(2027)
    assert default_calendar.days.special(day) is default_calendar.days.special(day)
    assert default_calendar.days.year(2027) == first
    assert 2027 in default_calendar.days._years  # built once, then read from the cache
    for offset in range(400):
        default_calendar.special_day(day + timedelta(days=offset))
    assert set(default_calendar.days._years) >= {2027, 2028}
