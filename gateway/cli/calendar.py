"""``lienthong calendar``: the Art. 11 effective time of an instant, and a year's special days and hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from gateway.calendar import Calendar
from gateway.calendar.hours import CompiledSchedule, WeeklyHours
from gateway.cli.output import emit_json, emit_mapping, emit_rows, json_option
from gateway.config import Settings
from gateway.errors import InputError
from gateway.home import Home

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FALLBACK_NOTE = (
    "Reads [calendar] from the home's lienthong.toml; if the home has none yet (before 'lienthong init'), the "
    "default calendar is used (Mon-Fri 07:00-11:00 and 13:00-17:00, Asia/Ho_Chi_Minh, holidays VN)."
)


def calendar_for(home: Home) -> Calendar:
    """The home's calendar, or the defaults when the home has no configuration file yet."""
    if home.exists():
        return Calendar.for_home(home)
    return Calendar.for_home(Home(home.root, Settings()))


def parse_instant(text: str, calendar: Calendar) -> datetime:
    """A naive input is local time of the calendar's zone; ISO 8601 with an offset or Z is taken as given."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"instant {text!r}: expected a date and time such as '2026-02-13 17:30' (Vietnam time) "
            "or ISO 8601 with an offset such as '2026-02-13T10:30:00Z'"
        ) from None
    return value.replace(tzinfo=calendar.zone) if value.tzinfo is None else value


def _hours(hours: WeeklyHours) -> str:
    weekdays = ",".join(_WEEKDAY_NAMES[d] for d in sorted(hours.weekdays)) or "no weekdays"
    periods = ", ".join(f"{_clock(s.total_seconds())}-{_clock(e.total_seconds())}" for s, e in hours.periods)
    return f"{weekdays} {periods}"


def _clock(seconds: float) -> str:
    minutes = int(seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _schedule(schedule: CompiledSchedule) -> dict[str, Any]:
    return {
        "profile": schedule.base.name,
        "hours": _hours(schedule.base),
        "seasons": [
            {
                "from": f"{s.start[0]:02d}-{s.start[1]:02d}",
                "to": f"{s.end[0]:02d}-{s.end[1]:02d}",
                "profile": s.hours.name,
                "hours": _hours(s.hours),
            }
            for s in schedule.seasons
        ],
    }


def _overrides_file(calendar: Calendar) -> str | None:
    overrides = calendar.overrides
    if not overrides.source:
        return None
    return overrides.source if overrides.present else f"{overrides.source} (absent: no overrides)"


@click.group("calendar", help=f"Office hours and the Article 11 effective time. {_FALLBACK_NOTE}")
def calendar_group() -> None:
    pass


@calendar_group.command(
    "effective", help=f"Effective time of INSTANT (naive input = Vietnam local time). {_FALLBACK_NOTE}"
)
@click.argument("instant")
@click.option("--agency", "organ_id", metavar="ORGID", default=None, help="Use this agency's own schedule, if any.")
@json_option
@click.pass_obj
def effective_command(home: Home, instant: str, organ_id: str | None, as_json: bool) -> None:
    calendar = calendar_for(home)
    moment = parse_instant(instant, calendar)
    result = calendar.effective(moment, organ_id)
    record: dict[str, Any] = {
        "instant": calendar.local(moment).isoformat(timespec="milliseconds"),
        **result.as_record(),
        "reason": calendar.explain(moment, organ_id),
        "schedule": calendar.schedule(organ_id).name,
        "calendar_label": calendar.version.label,
    }
    if as_json:
        emit_json(record)
    else:
        record["effective"] = result.effective_local.strftime("%a %d %b %Y %H:%M:%S")
        emit_mapping(record, as_json=False)


@calendar_group.command(
    "show", help=f"Days off on weekdays, make-up working days and office hours of YEAR. {_FALLBACK_NOTE}"
)
@click.argument("year", type=click.IntRange(1995, 2100))
@json_option
@click.pass_obj
def show_command(home: Home, year: int, as_json: bool) -> None:
    calendar = calendar_for(home)
    default = calendar.schedule(None)
    rows = []
    for special in calendar.days.year(year):
        normally_working = special.day.weekday() in default.hours_on(special.day).weekdays
        if special.kind == "day_off" and not normally_working:
            kind = "day off (already a non-working day)"
        else:
            kind = "day off" if special.kind == "day_off" else "working day"
        rows.append(
            {
                "date": special.day,
                "weekday": _WEEKDAY_NAMES[special.day.weekday()],
                "kind": kind,
                "name": special.name,
                "source": special.source,
            }
        )
    schedules = {"default": _schedule(default)}
    schedules.update({organ_id: _schedule(s) for organ_id, s in calendar.schedules.agencies.items()})
    header = {
        "year": year,
        "timezone": calendar.settings.timezone,
        "calendar_version": calendar.version.id,
        "calendar_label": calendar.version.label,
        "overrides_file": _overrides_file(calendar),
    }
    if as_json:
        emit_json({**header, "days": rows, "schedules": schedules})
        return
    emit_mapping(header, as_json=False)
    emit_rows(
        rows,
        [("date", "Date"), ("weekday", "Day"), ("kind", "Kind"), ("name", "Name"), ("source", "Source")],
        as_json=False,
        title=f"Special days {year}",
    )
    for name, schedule in schedules.items():
        seasons = "; ".join(f"{s['from']}..{s['to']}: {s['hours']}" for s in schedule["seasons"])
        click.echo(f"hours {name}: {schedule['hours']}" + (f" (seasons: {seasons})" if seasons else ""))


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(calendar_group)
