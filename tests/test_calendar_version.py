"""The calendar version changes exactly when the rules that produce effective times change."""

from __future__ import annotations

import json
from importlib.metadata import version

from gateway.calendar import Calendar
from tests.fixtures.calendar import vn

OVERRIDE = '[[day_off]]\ndate = "2026-12-31"\nname = "Nghỉ thêm"\n'


def test_same_rules_same_version(make_calendar) -> None:
    assert make_calendar().version.id == Calendar().version.id
    assert make_calendar(overrides=OVERRIDE).version.id == make_calendar(overrides=OVERRIDE).version.id


def test_comments_and_layout_do_not_change_the_version(make_calendar) -> None:
    plain = make_calendar(overrides=OVERRIDE).version.id
    commented = make_calendar(overrides="# announced 2026-11-20\n\n" + OVERRIDE.replace(" = ", "=")).version.id
    assert commented == plain


def test_rule_changes_change_the_version(make_calendar) -> None:
    base = make_calendar().version.id
    ids = {
        base,
        make_calendar({"profiles": {"standard": {"hours": ["07:30-11:30", "13:30-17:30"]}}}).version.id,
        make_calendar(overrides=OVERRIDE).version.id,
        make_calendar(overrides=OVERRIDE.replace("12-31", "12-30")).version.id,
        make_calendar({"agencies": {"000.00.15.H12": {"profile": "standard"}}}).version.id,
        make_calendar({"timezone": "Asia/Bangkok"}).version.id,
    }
    assert len(ids) == 6


def test_version_is_short_labelled_and_rederivable(default_calendar: Calendar) -> None:
    current = default_calendar.version
    assert len(current.id) == 16
    assert int(current.id, 16) >= 0
    assert f"holidays {version('holidays')}" in current.label
    basis = json.loads(current.basis)
    assert basis["holidays"] == version("holidays")
    assert basis["settings"]["timezone"] == "Asia/Ho_Chi_Minh"
    assert basis["overrides"] == []


def test_effective_time_carries_the_version_that_produced_it(make_calendar) -> None:
    plain = make_calendar()
    extra = make_calendar(overrides=OVERRIDE)
    instant = vn(2026, 12, 30, 17, 30)
    assert plain.effective(instant).calendar_version == plain.version.id
    assert extra.effective(instant).calendar_version == extra.version.id
    assert plain.effective(instant).effective_local != extra.effective(instant).effective_local
