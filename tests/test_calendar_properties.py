"""Properties of the Art. 11 rule and of the arithmetic, 1000 examples each, over 2020-2030 and any UTC offset.

Run against the default calendar and against a configured one (seasons over New Year, a six-day agency, a
night desk whose period ends at 24:00, and an override file), so the properties hold for more than the demo.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.calendar import Calendar
from gateway.calendar.overrides import parse_overrides
from gateway.config import settings_from_mapping

CONFIGURED = Calendar(
    settings_from_mapping(
        {
            "calendar": {
                "profiles": {
                    "standard": {"hours": ["07:30-11:30", "13:30-17:30"]},
                    "winter": {"hours": ["07:00-11:00", "13:00-16:30"]},
                    "sixdays": {"hours": ["08:00-12:00"], "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]},
                    "nightdesk": {"hours": ["00:00-06:00", "18:00-24:00"]},
                },
                "default": {"seasons": [{"profile": "winter", "start": "11-15", "end": "02-15"}]},
                "agencies": {"A.SIX": {"profile": "sixdays"}, "A.NIGHT": {"profile": "nightdesk"}},
            }
        }
    ).calendar,
    overrides=parse_overrides(
        {
            "day_off": [{"date": "2026-12-31", "name": "extra"}, {"date": "2024-05-04", "name": "cancel make-up"}],
            "working_day": [{"date": "2027-02-06", "name": "make-up"}, {"date": "2025-09-02", "name": "work"}],
        },
        "inline",
    ),
)
CASES = [(Calendar(), None), (CONFIGURED, None), (CONFIGURED, "A.SIX"), (CONFIGURED, "A.NIGHT")]
IDS = ["default", "configured", "configured-six-days", "configured-night-desk"]

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59), timezones=offsets)
EXAMPLES = settings(max_examples=1000, deadline=None)


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants)
def test_effective_is_never_earlier(calendar: Calendar, organ_id: str | None, t: datetime) -> None:
    result = calendar.effective(t, organ_id)
    assert result.effective_local >= t
    assert result.technical_utc == t
    assert result.shifted == (result.effective_local != t)


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants)
def test_effective_is_idempotent(calendar: Calendar, organ_id: str | None, t: datetime) -> None:
    once = calendar.effective(t, organ_id).effective_local
    twice = calendar.effective(once, organ_id)
    assert twice.effective_local == once
    assert not twice.shifted


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants)
def test_effective_lies_inside_office_hours(calendar: Calendar, organ_id: str | None, t: datetime) -> None:
    effective = calendar.effective(t, organ_id).effective_local
    assert calendar.is_office_time(effective, organ_id)
    assert calendar.is_office_time(t, organ_id) == (effective == t)


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants, fraction=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_no_office_time_between_t_and_effective(
    calendar: Calendar, organ_id: str | None, t: datetime, fraction: float
) -> None:
    effective = calendar.effective(t, organ_id).effective_local
    assert calendar.office_time_between(t, effective, organ_id) == timedelta(0)
    if effective > t:
        sample = t + (effective - t) * fraction
        if sample < effective:
            assert not calendar.is_office_time(sample, organ_id)


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants, duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200)))
def test_office_hours_later_is_the_earliest_instant_with_that_much_office_time(
    calendar: Calendar, organ_id: str | None, t: datetime, duration: timedelta
) -> None:
    later = calendar.office_hours_later(t, duration, organ_id)
    assert later >= t
    assert calendar.office_time_between(t, later, organ_id) == duration
    if duration:
        assert calendar.office_time_between(t, later - timedelta(microseconds=1), organ_id) < duration


@pytest.mark.parametrize(("calendar", "organ_id"), CASES, ids=IDS)
@EXAMPLES
@given(t=instants, n=st.integers(min_value=0, max_value=30))
def test_working_day_deadlines_close_a_working_day(
    calendar: Calendar, organ_id: str | None, t: datetime, n: int
) -> None:
    effective = calendar.effective(t, organ_id).effective_local
    deadline = calendar.add_working_days(t, n, organ_id)
    assert deadline > effective
    day = deadline.date()
    # A period may end at 24:00, i.e. at 00:00 of the next date: look at the day before as well.
    periods = calendar.periods_on(day, organ_id) + calendar.periods_on(day - timedelta(days=1), organ_id)
    assert deadline in {end for _, end in periods}
    if n:
        assert calendar.add_working_days(t, n - 1, organ_id).date() < deadline.date()
        assert calendar.same_day_or_next_working_day(t, organ_id) == calendar.add_working_days(t, 1, organ_id)
