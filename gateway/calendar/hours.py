"""Weekly office hours: which profile is in force on a date, for an agency, and its periods as offsets.

Periods are kept as offsets from local midnight so that an end of '24:00' is exactly the next midnight (the
settings parse it as ``time.max``) and every period is half-open: [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from gateway.config import CalendarSettings, HoursProfile, Schedule, Season

_DAY = timedelta(days=1)


def _offset(value: time) -> timedelta:
    if value == time.max:
        return _DAY
    return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond)


@dataclass(frozen=True)
class WeeklyHours:
    """A compiled profile: the weekdays it works (0 = Monday) and its periods as offsets from midnight."""

    name: str
    weekdays: frozenset[int]
    periods: tuple[tuple[timedelta, timedelta], ...]

    @classmethod
    def from_profile(cls, name: str, profile: HoursProfile) -> WeeklyHours:
        return cls(name, profile.weekday_numbers(), tuple((_offset(s), _offset(e)) for s, e in profile.periods()))


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


@dataclass(frozen=True)
class _CompiledSeason:
    start: tuple[int, int]
    end: tuple[int, int]
    hours: WeeklyHours

    def covers(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end  # wraps over New Year


class CompiledSchedule:
    """A default profile and its seasons; the first season covering a date wins."""

    def __init__(self, name: str, schedule: Schedule, profiles: dict[str, WeeklyHours]) -> None:
        self.name = name
        self.base = profiles[schedule.profile]
        self.seasons = tuple(_compile(season, profiles) for season in schedule.seasons)

    def hours_on(self, day: date) -> WeeklyHours:
        for season in self.seasons:
            if season.covers(day):
                return season.hours
        return self.base


def _compile(season: Season, profiles: dict[str, WeeklyHours]) -> _CompiledSeason:
    return _CompiledSeason(_month_day(season.start), _month_day(season.end), profiles[season.profile])


class Schedules:
    """Every schedule of the settings; agencies without their own hours follow the default."""

    def __init__(self, settings: CalendarSettings) -> None:
        profiles = {name: WeeklyHours.from_profile(name, p) for name, p in settings.profiles.items()}
        self.default = CompiledSchedule("default", settings.default, profiles)
        self.agencies = {
            organ_id: CompiledSchedule(organ_id, schedule, profiles) for organ_id, schedule in settings.agencies.items()
        }

    def for_agency(self, organ_id: str | None) -> CompiledSchedule:
        if organ_id is None:
            return self.default
        return self.agencies.get(organ_id, self.default)
