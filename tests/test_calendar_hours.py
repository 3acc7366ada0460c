"""Weekly hours: seasonal profiles (also over New Year), per-agency schedules, periods up to midnight."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.config import settings_from_mapping
from gateway.errors import ConfigError
from tests.fixtures.calendar import vn

SEASONAL = {
    "profiles": {
        "standard": {"hours": ["07:00-11:00", "13:00-17:00"]},
        "summer": {"hours": ["06:30-10:30", "14:00-17:30"]},
        "winter": {"hours": ["07:30-11:30", "13:30-17:00"]},
        "sixdays": {"hours": ["08:00-12:00"], "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]},
        "nightdesk": {"hours": ["00:00-06:00", "18:00-24:00"], "weekdays": ["mon", "tue", "wed", "thu", "fri"]},
    },
    "default": {
        "profile": "standard",
        "seasons": [
            {"profile": "summer", "start": "05-01", "end": "09-30"},
            {"profile": "winter", "start": "12-01", "end": "02-15"},
        ],
    },
    "agencies": {
        "000.00.15.H12": {"profile": "sixdays"},
        "000.00.16.H12": {"profile": "nightdesk"},
    },
}


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (vn(2026, 3, 2, 6, 45), vn(2026, 3, 2, 7, 0)),  # standard in March
        (vn(2026, 5, 4, 6, 45), vn(2026, 5, 4, 6, 45)),  # summer from 05-01 (inclusive)
        (vn(2026, 5, 4, 13, 30), vn(2026, 5, 4, 14, 0)),
        (vn(2026, 9, 30, 17, 15), vn(2026, 9, 30, 17, 15)),  # summer up to 09-30 (inclusive)
        (vn(2026, 10, 1, 17, 15), vn(2026, 10, 2, 7, 0)),  # standard again on 10-01
        (vn(2026, 12, 1, 7, 15), vn(2026, 12, 1, 7, 30)),  # winter from 12-01
        (vn(2027, 1, 5, 11, 15), vn(2027, 1, 5, 11, 15)),  # winter wraps over New Year
        (vn(2027, 2, 15, 17, 0), vn(2027, 2, 16, 7, 0)),  # 02-15 last winter day; Feb 16 is standard
    ],
)
def test_seasonal_profiles(make_calendar, instant, expected) -> None:
    assert make_calendar(SEASONAL).effective(instant).effective_local == expected


def test_agency_schedule_differs_from_the_default(make_calendar) -> None:
    calendar = make_calendar(SEASONAL)
    friday_evening = vn(2026, 3, 6, 12, 30)
    assert calendar.effective(friday_evening).effective_local == vn(2026, 3, 6, 13, 0)
    assert calendar.effective(friday_evening, "000.00.15.H12").effective_local == vn(2026, 3, 7, 8, 0)
    # An agency without its own schedule follows the default, seasons included.
    assert calendar.effective(vn(2026, 5, 4, 6, 45), "000.00.99.H12").effective_local == vn(2026, 5, 4, 6, 45)
    assert calendar.schedule("000.00.99.H12").name == "default"
    # Public holidays and make-up days apply to every schedule.
    assert calendar.effective(vn(2026, 11, 23, 12, 0), "000.00.15.H12").effective_local == vn(2026, 11, 25, 8)


def test_period_ending_at_midnight_is_contiguous_with_the_next_day(make_calendar) -> None:
    calendar = make_calendar(SEASONAL)
    agency = "000.00.16.H12"
    assert calendar.effective(vn(2026, 3, 2, 23, 59, 59), agency).effective_local == vn(2026, 3, 2, 23, 59, 59)
    assert calendar.effective(vn(2026, 3, 3, 0, 0), agency).effective_local == vn(2026, 3, 3, 0, 0)
    assert calendar.effective(vn(2026, 3, 2, 12, 0), agency).effective_local == vn(2026, 3, 2, 18, 0)
    assert calendar.effective(vn(2026, 3, 6, 23, 0), agency).effective_local == vn(2026, 3, 6, 23, 0)
    assert calendar.effective(vn(2026, 3, 7, 0, 0), agency).effective_local == vn(2026, 3, 9, 0, 0)  # Saturday
    hours = calendar.periods_on(date(2026, 3, 2), agency)
    assert hours[-1][1] == vn(2026, 3, 3, 0, 0)


@pytest.mark.parametrize(
    ("season", "message"),
    [
        ({"profile": "standard", "start": "02-30", "end": "03-01"}, "calendar.default.seasons.0.start = '02-30'"),
        ({"profile": "standard", "start": "5-1", "end": "09-30"}, "expected MM-DD"),
        ({"profile": "rainy", "start": "05-01", "end": "09-30"}, "names profile 'rainy', which is not defined"),
    ],
)
def test_bad_season_names_the_key(season, message) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        settings_from_mapping({"calendar": {"default": {"seasons": [season]}}})


def test_leap_day_is_a_valid_season_bound(make_calendar) -> None:
    calendar = make_calendar(
        {
            "profiles": {"standard": {}, "late": {"hours": ["09:00-17:00"]}},
            "default": {"seasons": [{"profile": "late", "start": "02-29", "end": "02-29"}]},
        }
    )
    assert calendar.effective(vn(2028, 2, 29, 8, 0)).effective_local == vn(2028, 2, 29, 9, 0)
    assert calendar.effective(vn(2028, 2, 28, 8, 0)).effective_local == vn(2028, 2, 28, 8, 0)
